"""Sessions (AU3): a new id at sign-in, dead after sign-out, 30 min idle, 12 h at most."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.urls import reverse

import config.settings as production
from commonground.audit.models import AuditEvent
from tests.factories import TEST_PASSWORD

LOGIN_URL = "/accounts/login/"
MONDAY_9AM = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, login="carmen.reyes", password=TEST_PASSWORD):
    response = client.post(LOGIN_URL, {"login": login, "password": password})
    assert response.status_code == 302
    return response


def session_cookie(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def sent_to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_production_sessions_expire_after_thirty_idle_minutes_and_slide_with_activity():
    assert production.SESSION_COOKIE_AGE == 1800
    assert production.SESSION_SAVE_EVERY_REQUEST is True
    assert production.SESSION_ABSOLUTE_SECONDS == 12 * 3600
    assert production.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_production_sessions_end_with_the_browser():
    """No "remember me": the cookie has no expiry date and dies with the browser."""
    assert production.ACCOUNT_SESSION_REMEMBER is False


def test_the_session_id_changes_when_carmen_signs_in(client, carmen):
    session = client.session
    session["visited_before_signing_in"] = True
    session.save()
    before = session_cookie(client)

    sign_in(client)

    after = session_cookie(client)
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert client.session["_auth_user_id"] == str(carmen.pk)


def test_the_session_id_changes_again_when_maria_completes_the_second_step(client, maria):
    """Only the final step of a two-step sign-in grants the signed-in session."""
    Authenticator.objects.filter(user=maria).delete()
    secret = generate_totp_secret()
    TOTP.activate(maria, secret)

    # Just after a 30 s code period starts, so the code stays current for the test.
    with time_machine.travel(MONDAY_9AM, tick=True):
        sign_in(client, "maria.chen")
        halfway = session_cookie(client)
        assert "_auth_user_id" not in client.session

        counter = int(time.time()) // mfa_settings.TOTP_PERIOD
        code = format_hotp_value(hotp_value(secret, counter))
        assert client.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302
        assert client.session["_auth_user_id"] == str(maria.pk)
        assert session_cookie(client) != halfway
        assert not Session.objects.filter(session_key=halfway).exists()


def test_after_signing_out_the_old_session_cookie_is_refused(client, carmen):
    sign_in(client)
    old_cookie = session_cookie(client)
    assert client.get(reverse("core:home")).status_code == 200

    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=old_cookie).exists()

    client.cookies[settings.SESSION_COOKIE_NAME] = old_cookie  # replay the stolen cookie
    assert sent_to_login(client.get(reverse("core:home")))


def test_signing_out_needs_a_post_so_a_link_cannot_sign_carmen_out(client, carmen):
    sign_in(client)
    client.get("/accounts/logout/")
    assert client.get(reverse("core:home")).status_code == 200


def test_thirty_one_idle_minutes_end_the_session(client, carmen):
    with time_machine.travel(MONDAY_9AM, tick=False) as traveller:
        sign_in(client)
        traveller.shift(dt.timedelta(minutes=29))
        assert client.get(reverse("core:home")).status_code == 200
        traveller.shift(dt.timedelta(minutes=31))
        assert sent_to_login(client.get(reverse("core:home")))


def test_an_active_session_still_ends_twelve_hours_after_sign_in(client, carmen):
    with time_machine.travel(MONDAY_9AM, tick=False) as traveller:
        sign_in(client)
        # Busy all day: a request every 24 minutes keeps the idle timer from firing.
        for _ in range(30):
            traveller.shift(dt.timedelta(minutes=24))
            assert client.get(reverse("core:home")).status_code == 200
        # Exactly 12 h after sign-in; one more minute is one too many.
        traveller.shift(dt.timedelta(minutes=1))
        response = client.get(reverse("core:home"))
        assert sent_to_login(response)
        assert "_auth_user_id" not in client.session
        assert sent_to_login(client.get(reverse("core:home")))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGOUT, actor_id=carmen.pk).exists()


def test_the_twelve_hour_limit_also_ends_sessions_started_without_the_login_form(
    client, carmen, login
):
    with time_machine.travel(MONDAY_9AM, tick=False) as traveller:
        login(carmen)
        for _ in range(31):
            traveller.shift(dt.timedelta(minutes=24))
            response = client.get(reverse("core:home"))
        assert sent_to_login(response)
