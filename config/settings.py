"""Settings for Common Ground, read from the environment (see README "Configuration").

Production is the default: DEBUG is off and every cookie and header is locked down.
``commonground demo`` switches DEBUG on for a local, plain-HTTP demo.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_secret, env_str, secret_key_from

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("COMMONGROUND_DATA_DIR", "var")).resolve()

DEBUG = env_bool("COMMONGROUND_DEBUG", False)
# Served over HTTPS unless this is a local demo: drives Secure cookies, HSTS and redirects.
HTTPS = env_bool("COMMONGROUND_HTTPS", not DEBUG)

SECRET_KEY = secret_key_from(DATA_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Project apps first, so their templates override allauth's and the admin's.
    "commonground.core",
    "commonground.accounts",
    "commonground.organizations",
    "commonground.audit",
    "commonground.improvement",
    "commonground.deliberation",
    "commonground.summit",
    "commonground.access",
    "commonground.concerns",
    "commonground.notifications",
    "commonground.meetings",
    "commonground.search",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "rules.apps.AutodiscoverRulesConfig",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "commonground.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before our session and MFA middleware: both tell the person why they were sent
    # elsewhere with a message, which fails (500) unless messages are already set up.
    "django.contrib.messages.middleware.MessageMiddleware",
    "commonground.accounts.middleware.AbsoluteSessionTimeoutMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "commonground.accounts.middleware.RequireMfaMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "commonground.core.middleware.NoStoreForAuthenticatedMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "commonground.core.context_processors.site",
                "commonground.notifications.context_processors.unread_notifications",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'commonground.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time: wait for the lock instead of failing, and start write
    # transactions immediately so two requests never deadlock upgrading a read lock.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

CACHES = {
    # A shared cache: login throttling must count across every gunicorn worker.
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "commonground_cache",
    }
}

TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}

AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 3600

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "account_login"

# --- Sessions: 30 min sliding idle timeout, 12 h absolute (ASVS L2) ---
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("COMMONGROUND_SESSION_IDLE_SECONDS", 1800)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = env_int("COMMONGROUND_SESSION_ABSOLUTE_SECONDS", 12 * 3600)

# --- Transport and cookies ---
BEHIND_PROXY = env_bool("COMMONGROUND_BEHIND_PROXY", False)
# Login throttling counts per client address. Behind a reverse proxy REMOTE_ADDR is the
# proxy's own, which would put every clinic behind one address and one limit; take the
# address the proxy appends to X-Forwarded-For instead (the proxy must always set it).
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("COMMONGROUND_TRUSTED_PROXY_COUNT", 1 if BEHIND_PROXY else 0)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
if HTTPS:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_SSL_REDIRECT = env_bool("COMMONGROUND_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("COMMONGROUND_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading commits the whole registrable domain (often a health system's) to
        # HTTPS in browsers, hard to undo: the domain's owner opts in with the setting
        # above. Until then, `check --deploy` must not warn about a deliberate choice.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    if BEHIND_PROXY:
        # Only behind a proxy that always overwrites this header.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# --- Static files (whitenoise, hashed names in production) ---
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# Uploaded evidence lives outside the web root and is served only through permission checks.
PRIVATE_FILES_ROOT = DATA_DIR / "private"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_FILES_ROOT, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Email ---
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Common Ground <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)

# --- Accounts (django-allauth) ---
ACCOUNT_ADAPTER = "commonground.accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# Throttle failed logins per account (5 per 30 min, then a cool-off) and, far more
# loosely, per address: a whole clinic sits behind one NAT address and must not be
# locked out by one attacked or mistyped account. Nothing locks permanently.
ACCOUNT_RATE_LIMITS = {
    "login": "60/m/ip",
    "login_failed": "60/m/ip,5/30m/key",
    "reset_password": "20/m/ip,5/h/key",
    "reset_password_from_key": "20/m/ip",
}
MFA_ADAPTER = "commonground.accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Common Ground"
# Roles whose members must have a second factor before using the app.
COMMONGROUND_ENFORCE_MFA = env_bool("COMMONGROUND_ENFORCE_MFA", True)

SOCIALACCOUNT_ADAPTER = "commonground.accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, object]] = {}
_oidc_client_id = env_str("COMMONGROUND_OIDC_CLIENT_ID")
if _oidc_client_id and not env_str("COMMONGROUND_OIDC_SERVER_URL"):
    # Fail at start-up, not with a crash on the first person who clicks the SSO button.
    raise ImproperlyConfigured(
        "COMMONGROUND_OIDC_CLIENT_ID is set but COMMONGROUND_OIDC_SERVER_URL is not"
    )
if _oidc_client_id:
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": env_str("COMMONGROUND_OIDC_PROVIDER_ID", "health-system"),
                "name": env_str("COMMONGROUND_OIDC_NAME", "Health system sign-in"),
                "client_id": _oidc_client_id,
                "secret": env_secret("COMMONGROUND_OIDC_CLIENT_SECRET") or "",
                "settings": {
                    "server_url": env_str("COMMONGROUND_OIDC_SERVER_URL"),
                    # Sign in to the existing account whose address the identity provider
                    # vouches for (email_verified); accounts are never created by SSO.
                    # Without this, SSO found no account to use and showed "signup closed".
                    "email_authentication": True,
                },
            }
        ],
    }
# ...and remember the link, so a later change of address at either end keeps working.
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True

# --- Product rules ---
# Where people reach the app, for absolute links in emails (paths only when unset).
COMMONGROUND_SITE_URL = env_str("COMMONGROUND_SITE_URL")
# Smallest group whose counts by side or group may be shown (never below 3).
COMMONGROUND_MIN_GROUP_SIZE = max(3, env_int("COMMONGROUND_MIN_GROUP_SIZE", 5))
# Large uploads (scheduling extracts hold raw patient ids until de-identified) are buffered
# in the private data folder, never in the system's shared temporary directory.
FILE_UPLOAD_TEMP_DIR = PRIVATE_FILES_ROOT / "tmp" / "uploads"
FILE_UPLOAD_TEMP_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
# Keyed hash of patient ids at ingest; kept outside the database (env or *_FILE), else one is
# generated into the data folder on first import.
COMMONGROUND_ACCESS_PSEUDONYM_KEY = env_secret("COMMONGROUND_ACCESS_PSEUDONYM_KEY")
# Largest evidence file accepted on a concern.
COMMONGROUND_ATTACHMENT_MAX_BYTES = env_int("COMMONGROUND_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)

# --- i18n ---
LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/Los_Angeles"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("COMMONGROUND_LOG_LEVEL", "INFO")},
}
