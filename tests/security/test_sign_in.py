"""Signing in through allauth's real form, and what the audit trail keeps of it."""

from __future__ import annotations

import json
import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from commonground.audit.models import AuditEvent
from tests.factories import TEST_PASSWORD, UserFactory

LOGIN_URL = "/accounts/login/"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """allauth keeps its throttling counters in the cache; every test starts clean."""
    cache.clear()
    yield
    cache.clear()


def sign_in(client, login, password):
    return client.post(LOGIN_URL, {"login": login, "password": password})


def _stored_text(event: AuditEvent) -> str:
    """Everything the audit row holds, as one string."""
    return json.dumps({**event.payload(), "prev_hash": event.prev_hash, "hash": event.hash})


def test_the_login_page_is_allauths_form_with_login_and_password_fields(client, world):
    response = client.get(LOGIN_URL)
    assert response.status_code == 200
    assert b'name="login"' in response.content
    assert b'name="password"' in response.content


def test_carmen_signs_in_with_her_username_and_lands_on_home(client, carmen):
    response = sign_in(client, "carmen.reyes", TEST_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert client.session["_auth_user_id"] == str(carmen.pk)


def test_carmen_signs_in_with_her_email_address_too(client, carmen):
    response = sign_in(client, carmen.email.upper(), TEST_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(carmen.pk)


def test_a_successful_sign_in_is_audited_as_login_by_the_person(client, carmen):
    sign_in(client, "carmen.reyes", TEST_PASSWORD)
    event = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).get()
    assert event.actor_id == carmen.pk
    assert event.actor_label == "carmen.reyes"
    assert event.object_type == "accounts.user"
    assert event.object_id == str(carmen.pk)
    assert event.request_id  # ties the event to the request's X-Request-ID


def test_a_wrong_password_is_refused_and_audited_without_the_typed_password(client, carmen):
    typed = "Oakland-Spring-2025!"
    response = sign_in(client, "carmen.reyes", typed)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session

    event = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).get()
    assert event.actor_id is None
    assert event.object_type == "accounts.user"
    assert event.object_id == str(carmen.pk)
    assert typed not in _stored_text(event)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).exists()


def test_a_password_typed_into_the_login_box_is_not_stored_anywhere(client, carmen):
    typed = "Hunter2-Oakland-Secret"
    sign_in(client, typed, "whatever-else-12")
    event = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).get()
    stored = _stored_text(event)
    assert typed not in stored
    assert typed.lower() not in stored.lower()
    assert "whatever-else-12" not in stored
    assert event.object_id == ""
    assert event.object_repr == ""


def test_signing_out_is_audited(client, carmen):
    sign_in(client, "carmen.reyes", TEST_PASSWORD)
    client.post("/accounts/logout/")
    event = AuditEvent.objects.filter(action=AuditEvent.Action.LOGOUT).get()
    assert event.actor_id == carmen.pk


def test_nobody_can_sign_themselves_up(client, world):
    users_before = get_user_model().objects.count()
    response = client.post(
        "/accounts/signup/",
        {
            "email": "intruder@example.org",
            "username": "intruder",
            "password1": "tide-lantern-harbor",
            "password2": "tide-lantern-harbor",
        },
    )
    assert response.status_code in (200, 403)
    assert get_user_model().objects.count() == users_before
    assert not get_user_model().objects.filter(username="intruder").exists()
    assert "_auth_user_id" not in client.session


def test_an_unverified_email_address_must_be_confirmed_before_signing_in(client, world):
    newcomer = UserFactory(username="lena.ortiz", first_name="Lena", last_name="Ortiz")
    EmailAddress.objects.filter(user=newcomer).update(verified=False)
    response = sign_in(client, "lena.ortiz", TEST_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [newcomer.email]


def _reset_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_carmen_resets_her_password_by_email_under_the_same_policy(client, carmen):
    response = client.post("/accounts/password/reset/", {"email": carmen.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = _reset_link(mail.outbox[0])

    response = client.get(link, follow=True)
    set_password_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    assert response.status_code == 200

    too_short = client.post(
        set_password_url, {"password1": "tide-lanter", "password2": "tide-lanter"}
    )
    assert too_short.status_code == 200
    assert too_short.context["form"].errors

    common = client.post(
        set_password_url, {"password1": "password1234", "password2": "password1234"}
    )
    assert common.status_code == 200
    assert common.context["form"].errors

    done = client.post(
        set_password_url,
        {"password1": "harbor-lantern-tide", "password2": "harbor-lantern-tide"},
    )
    assert done.status_code == 302
    carmen.refresh_from_db()
    assert carmen.check_password("harbor-lantern-tide")

    client.logout()
    assert sign_in(client, "carmen.reyes", "harbor-lantern-tide").status_code == 302


def test_a_reset_request_for_an_unknown_address_sends_no_reset_link(client, world):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert all("/password/reset/key/" not in m.body for m in mail.outbox)
