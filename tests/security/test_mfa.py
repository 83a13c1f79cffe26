"""Two-step sign-in (AU5): required for regional admins, data stewards, managers and staff.

Clinicians may add a second factor; nobody in a required role may use the app without one.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import time_machine
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.conf import settings as django_settings
from django.core.cache import cache
from django.urls import reverse

import config.settings as production
from commonground.accounts.mfa import has_second_factor, mfa_required_for
from commonground.audit.models import AuditEvent
from commonground.organizations.models import Role, Side
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory

LOGIN_URL = "/accounts/login/"
SECOND_STEP_URL = "/accounts/2fa/authenticate/"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counters and used-code markers live in the cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def at_the_start_of_a_code_period():
    """Codes change every 30 s: start each test just after a change, with the clock running,
    so a code computed by the test is still the current one when the server checks it."""
    with time_machine.travel(dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC), tick=True):
        yield


@pytest.fixture
def lena(world):
    """Lena Ortiz, just appointed manager at Oakland: no authenticator yet."""
    person = UserFactory(username="lena.ortiz", first_name="Lena", last_name="Ortiz")
    MembershipFactory(person=person, committee=world.ppc_a, side=Side.MANAGEMENT, role=Role.MEMBER)
    return person


@pytest.fixture
def tomas(world):
    """Tomas Byrne, manager at Richmond, whose authenticator secret the test knows."""
    person = UserFactory(username="tomas.byrne", first_name="Tomas", last_name="Byrne")
    MembershipFactory(person=person, committee=world.ppc_b, side=Side.MANAGEMENT, role=Role.MEMBER)
    person.totp_secret = generate_totp_secret()
    TOTP.activate(person, person.totp_secret)
    return person


def current_code(secret: str) -> str:
    """The code an authenticator app shows right now for this secret."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


def sign_in(client, login, password=TEST_PASSWORD):
    return client.post(LOGIN_URL, {"login": login, "password": password})


def confirm_password(client, url=None, password=TEST_PASSWORD):
    """allauth asks for the password again before any change to authenticators."""
    response = client.post(url or reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response
    return response


def test_two_step_sign_in_is_enforced_in_production_and_in_the_tests():
    assert production.COMMONGROUND_ENFORCE_MFA is True
    assert django_settings.COMMONGROUND_ENFORCE_MFA is True


@pytest.mark.parametrize(
    "key",
    [
        "manager_a",
        "cochair_manager_a",
        "regional_admin",
        "data_steward",
        "regional_cochair_manager",
        "staff",
    ],
)
def test_management_regional_and_staff_roles_require_a_second_factor(world, key):
    assert mfa_required_for(world.person(key))


@pytest.mark.parametrize("key", ["clinician_a", "cochair_clinician_a", "union_rep_a", "no_seat"])
def test_clinician_side_and_seatless_people_may_choose_a_second_factor(world, key):
    assert not mfa_required_for(world.person(key))


def test_a_manager_without_an_authenticator_is_sent_to_set_one_up(client, lena, login):
    response = login(lena).get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_a_manager_without_an_authenticator_cannot_reach_committee_pages_either(
    client, lena, login
):
    response = login(lena).get(reverse("organizations:committee-detail", args=["ppc-oakland"]))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_a_manager_without_an_authenticator_can_still_sign_out(client, lena, login):
    response = login(lena).post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_clinician_without_an_authenticator_goes_straight_to_home(client, carmen, login):
    assert not has_second_factor(carmen)
    response = login(carmen).get(reverse("core:home"))
    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["maria", "omar", "ada", "dana"])
def test_a_person_with_an_authenticator_is_asked_for_the_second_step_after_the_password(
    db, client, persona, request
):
    person = request.getfixturevalue(persona)
    response = sign_in(client, person.username)
    assert response.status_code == 302
    assert response["Location"] == SECOND_STEP_URL
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).exists()
    # Not signed in yet: the app itself still sends them to the login page.
    home = client.get(reverse("core:home"))
    assert home.status_code == 302
    assert home["Location"].startswith(reverse("account_login"))


def test_tomas_completes_the_second_step_with_his_current_code_and_is_signed_in(client, tomas):
    assert sign_in(client, "tomas.byrne")["Location"] == SECOND_STEP_URL
    response = client.post(SECOND_STEP_URL, {"code": current_code(tomas.totp_secret)})
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert client.session["_auth_user_id"] == str(tomas.pk)
    assert client.get(reverse("core:home")).status_code == 200
    event = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).get()
    assert event.actor_id == tomas.pk


def test_a_wrong_code_does_not_sign_tomas_in_and_is_audited_without_the_code(client, tomas):
    sign_in(client, "tomas.byrne")
    wrong = "000000" if current_code(tomas.totp_secret) != "000000" else "111111"
    response = client.post(SECOND_STEP_URL, {"code": wrong})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).exists()
    event = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).get()
    assert event.object_id == str(tomas.pk)
    assert event.changes == {"step": "second factor"}
    assert wrong not in json.dumps(event.payload())


def test_a_code_cannot_be_replayed_for_a_second_sign_in(client, tomas):
    code = current_code(tomas.totp_secret)
    sign_in(client, "tomas.byrne")
    assert client.post(SECOND_STEP_URL, {"code": code}).status_code == 302
    client.post("/accounts/logout/")
    sign_in(client, "tomas.byrne")
    replay = client.post(SECOND_STEP_URL, {"code": code})
    assert replay.status_code == 200
    assert "_auth_user_id" not in client.session


def test_lena_signs_in_sets_up_an_authenticator_and_then_uses_the_app(client, lena):
    assert sign_in(client, "lena.ortiz")["Location"] == reverse("core:home")
    home = client.get(reverse("core:home"))
    assert home["Location"] == reverse("mfa_activate_totp")

    # Changing authenticators needs a fresh password confirmation, even right after login.
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("account_reauthenticate"))
    assert confirm_password(client, page["Location"])["Location"] == reverse("mfa_activate_totp")
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": current_code(secret)})
    assert response.status_code == 302
    assert has_second_factor(lena)

    assert client.get(reverse("core:home")).status_code == 200


def test_a_manager_cannot_switch_off_their_only_authenticator(client, tomas):
    sign_in(client, "tomas.byrne")
    client.post(SECOND_STEP_URL, {"code": current_code(tomas.totp_secret)})
    confirm_password(client)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Authenticator.objects.filter(user=tomas, type=Authenticator.Type.TOTP).exists()


def test_a_clinician_may_switch_off_an_authenticator_she_chose_to_add(client, carmen):
    secret = generate_totp_secret()
    TOTP.activate(carmen, secret)
    sign_in(client, "carmen.reyes")
    client.post(SECOND_STEP_URL, {"code": current_code(secret)})
    assert client.session["_auth_user_id"] == str(carmen.pk)
    confirm_password(client)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=carmen, type=Authenticator.Type.TOTP).exists()
