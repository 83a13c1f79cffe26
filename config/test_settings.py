"""Test settings: the production settings with fast hashing and in-memory services."""

from __future__ import annotations

import os

os.environ.setdefault("COMMONGROUND_DATA_DIR", os.path.join("var", "test"))

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; never in prod
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "private": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The test client speaks plain HTTP; cookie flags are checked separately with HTTPS on.
SECURE_SSL_REDIRECT = False
# whitenoise warns about a missing STATIC_ROOT; tests serve static files through finders.
WHITENOISE_USE_FINDERS = True
# Look static files up per request instead of listing every app's files up front: each
# test client builds its own middleware, and that listing took most of a short test's time.
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Tests that load the demo skip its two million synthetic appointments (and write no store);
# commonground/access/tests/test_demo_access.py loads a small set on purpose.
COMMONGROUND_DEMO_APPOINTMENTS = 0
