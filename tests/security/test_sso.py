"""Optional single sign-on (OIDC), configured from the environment.

SSO signs people in to the account they already have, matched by an email address the
identity provider vouches for; it never creates accounts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.core import context
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware

from commonground.audit.models import AuditEvent

REPO = Path(__file__).resolve().parents[2]
OIDC_ENV = {
    "COMMONGROUND_OIDC_CLIENT_ID": "common-ground",
    "COMMONGROUND_OIDC_CLIENT_SECRET": "oidc-client-secret-value",
    "COMMONGROUND_OIDC_SERVER_URL": "https://login.health.example.org/realms/staff",
}


def providers_from_env(data_dir: Path, extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COMMONGROUND_", "DJANGO_"))
    }
    env.update({"COMMONGROUND_DATA_DIR": str(data_dir), **extra})
    script = "import json, config.settings as s\nprint(json.dumps(s.SOCIALACCOUNT_PROVIDERS))\n"
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def oidc_providers(tmp_path_factory) -> dict:
    """SOCIALACCOUNT_PROVIDERS exactly as config.settings builds it from OIDC_ENV."""
    result = providers_from_env(tmp_path_factory.mktemp("data"), OIDC_ENV)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def with_sso(settings, oidc_providers):
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers
    return oidc_providers


def test_the_oidc_environment_variables_configure_an_openid_connect_provider(oidc_providers):
    config = oidc_providers["openid_connect"]
    assert config["OAUTH_PKCE_ENABLED"] is True
    [app] = config["APPS"]
    assert app["client_id"] == "common-ground"
    assert app["secret"] == "oidc-client-secret-value"
    assert app["settings"]["server_url"] == OIDC_ENV["COMMONGROUND_OIDC_SERVER_URL"]
    assert app["provider_id"] == "health-system"
    assert app["name"] == "Health system sign-in"


def test_the_provider_name_and_id_can_be_set_from_the_environment(tmp_path):
    result = providers_from_env(
        tmp_path,
        {
            **OIDC_ENV,
            "COMMONGROUND_OIDC_PROVIDER_ID": "alameda-health",
            "COMMONGROUND_OIDC_NAME": "Alameda Health",
        },
    )
    [app] = json.loads(result.stdout.strip().splitlines()[-1])["openid_connect"]["APPS"]
    assert (app["provider_id"], app["name"]) == ("alameda-health", "Alameda Health")


def test_without_the_oidc_environment_there_is_no_sso(tmp_path):
    result = providers_from_env(tmp_path, {})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}


def test_a_client_id_without_a_server_url_stops_the_settings_from_loading(tmp_path):
    result = providers_from_env(tmp_path, {"COMMONGROUND_OIDC_CLIENT_ID": "common-ground"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "COMMONGROUND_OIDC_SERVER_URL" in result.stderr


def test_the_login_page_offers_continue_with_the_health_system(client, world, with_sso):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"Continue with Health system sign-in" in response.content
    assert b'action="/accounts/oidc/health-system/login/' in response.content
    # The password form stays available alongside SSO.
    assert b'name="password"' in response.content


def test_the_login_page_has_no_sso_button_when_sso_is_not_configured(client, world, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    response = client.get("/accounts/login/")
    assert b"Continue with" not in response.content


def _callback_request(rf):
    request = rf.get("/accounts/oidc/health-system/login/callback/")
    SessionMiddleware(lambda r: None).process_request(request)
    MessageMiddleware(lambda r: None).process_request(request)
    request.user = AnonymousUser()
    return request


def _return_from_the_identity_provider(rf, *, email: str, verified: bool, uid: str = "sub-1"):
    """What allauth has once the health system's identity provider sends someone back."""
    request = _callback_request(rf)
    with context.request_context(request):
        provider = get_adapter().get_provider(request, "health-system")
        sociallogin = SocialLogin(
            provider=provider,
            user=get_user_model()(email=email),
            account=SocialAccount(provider="health-system", uid=uid),
            email_addresses=[EmailAddress(email=email, verified=verified, primary=True)],
        )
        response = complete_social_login(request, sociallogin)
    return request, response


def test_carmen_signs_in_through_the_health_system_to_her_own_account(rf, carmen, with_sso):
    request, response = _return_from_the_identity_provider(rf, email=carmen.email, verified=True)
    assert response.status_code == 302
    assert request.session.get("_auth_user_id") == str(carmen.pk)
    assert SocialAccount.objects.filter(user=carmen, provider="health-system").exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN, actor_id=carmen.pk).exists()


def test_an_address_the_identity_provider_has_not_verified_signs_nobody_in(rf, carmen, with_sso):
    request, _ = _return_from_the_identity_provider(rf, email=carmen.email, verified=False)
    assert "_auth_user_id" not in request.session
    assert not SocialAccount.objects.exists()


def test_sso_never_creates_an_account_for_an_unknown_person(rf, world, with_sso):
    users_before = get_user_model().objects.count()
    request, _ = _return_from_the_identity_provider(
        rf, email="stranger@health.example.org", verified=True
    )
    assert get_user_model().objects.count() == users_before
    assert "_auth_user_id" not in request.session


def test_a_manager_signing_in_through_sso_still_needs_her_second_factor(rf, maria, with_sso):
    request, response = _return_from_the_identity_provider(rf, email=maria.email, verified=True)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in request.session
