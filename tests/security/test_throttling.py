"""Login throttling (AU2): per account and, loosely, per address; a cool-off, never a lock.

A whole clinic sits behind one NAT address, so one attacked or mistyped account must not
lock out its colleagues.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache

from config import settings as production
from tests.factories import TEST_PASSWORD

LOGIN_URL = "/accounts/login/"
CLINIC_ADDRESS = "203.0.113.7"  # Oakland's one public NAT address
START = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


def clinic_morning():
    """Travel to a Monday morning with the clock running.

    The clock must tick: allauth tells attempts apart by their timestamps, and under a
    frozen clock rolling back one successful attempt would also drop the failures.
    Sessions expire on this clock too, so assertions about them stay inside the trip.
    """
    return time_machine.travel(START, tick=True)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """allauth keeps its throttling counters in the cache; every test starts clean."""
    cache.clear()
    yield
    cache.clear()


def sign_in(client, login, password, address=CLINIC_ADDRESS):
    client.logout()
    return client.post(LOGIN_URL, {"login": login, "password": password}, REMOTE_ADDR=address)


def signed_in_as(client, user) -> bool:
    return client.session.get("_auth_user_id") == str(user.pk)


def refused_as_throttled(response) -> bool:
    """allauth refuses with a form error (200) on the per-account limit, 429 per address."""
    if response.status_code == 429:
        return True
    if response.status_code != 200 or response.context is None:
        return False
    errors = " ".join(response.context["form"].non_field_errors())
    return "Too many failed login attempts" in errors


def fail_five_times(client, login):
    for attempt in range(5):
        response = sign_in(client, login, f"wrong-guess-number-{attempt}")
        assert response.status_code == 200
        assert not refused_as_throttled(response), f"throttled early, attempt {attempt + 1}"


def test_the_cache_that_counts_attempts_is_shared_by_every_worker_in_production():
    backend = production.CACHES["default"]["BACKEND"]
    assert "locmem" not in backend.lower()
    assert "dummy" not in backend.lower()


def test_after_five_failures_carmens_sixth_attempt_is_refused_even_with_the_right_password(
    client, carmen
):
    with clinic_morning():
        fail_five_times(client, "carmen.reyes")
        response = sign_in(client, "carmen.reyes", TEST_PASSWORD)
        assert refused_as_throttled(response)
        assert not signed_in_as(client, carmen)


def test_a_colleague_behind_the_same_address_still_signs_in_while_carmen_cools_off(
    client, carmen, diego
):
    with clinic_morning():
        fail_five_times(client, "carmen.reyes")
        assert refused_as_throttled(sign_in(client, "carmen.reyes", TEST_PASSWORD))

        response = sign_in(client, "diego.alvarez", TEST_PASSWORD)
        assert response.status_code == 302
        assert signed_in_as(client, diego)


def test_a_whole_clinic_of_mistyped_passwords_does_not_lock_out_the_address(client, world):
    clinicians = [
        world.person(key) for key in ("clinician_a", "cochair_clinician_a", "union_rep_a")
    ]
    with clinic_morning():
        for person in clinicians:
            for attempt in range(3):
                sign_in(client, person.username, f"mistyped-{attempt}-password")
        for person in clinicians:
            response = sign_in(client, person.username, TEST_PASSWORD)
            assert response.status_code == 302, person.username
            assert signed_in_as(client, person)


def test_carmen_can_sign_in_again_after_the_thirty_minute_cool_off(client, carmen):
    with clinic_morning() as traveller:
        fail_five_times(client, "carmen.reyes")
        traveller.shift(dt.timedelta(minutes=10))
        assert refused_as_throttled(sign_in(client, "carmen.reyes", TEST_PASSWORD))
        traveller.shift(dt.timedelta(minutes=21))  # 31 minutes after the first failure
        response = sign_in(client, "carmen.reyes", TEST_PASSWORD)
        assert response.status_code == 302
        assert signed_in_as(client, carmen)


def test_attempts_refused_during_the_cool_off_do_not_extend_it(client, carmen):
    with clinic_morning() as traveller:
        fail_five_times(client, "carmen.reyes")
        for _ in range(5):
            traveller.shift(dt.timedelta(minutes=5))
            assert refused_as_throttled(sign_in(client, "carmen.reyes", "still-guessing-1"))
        traveller.shift(dt.timedelta(minutes=6))  # 31 minutes after the first failure
        response = sign_in(client, "carmen.reyes", TEST_PASSWORD)
        assert response.status_code == 302


def test_nothing_locks_permanently_after_many_rounds_of_failures(client, carmen):
    with clinic_morning() as traveller:
        for _ in range(4):
            fail_five_times(client, "carmen.reyes")
            assert refused_as_throttled(sign_in(client, "carmen.reyes", TEST_PASSWORD))
            traveller.shift(dt.timedelta(minutes=31))
        response = sign_in(client, "carmen.reyes", TEST_PASSWORD)
        assert response.status_code == 302
        assert signed_in_as(client, carmen)
        carmen.refresh_from_db()
        assert carmen.is_active


def test_failures_by_username_and_by_email_count_against_the_same_account(client, carmen):
    with clinic_morning():
        for attempt in range(3):
            sign_in(client, "carmen.reyes", f"wrong-guess-number-{attempt}")
        for attempt in range(2):
            sign_in(client, carmen.email, f"another-wrong-guess-{attempt}")
        by_email = sign_in(client, carmen.email.upper(), TEST_PASSWORD)
        by_username = sign_in(client, "Carmen.Reyes", TEST_PASSWORD)
        assert refused_as_throttled(by_email)
        assert refused_as_throttled(by_username)
        assert not signed_in_as(client, carmen)


def test_a_successful_sign_in_does_not_wipe_earlier_failures(client, carmen):
    """Otherwise an attacker could interleave the owner's logins with guesses."""
    with clinic_morning():
        for attempt in range(4):
            sign_in(client, "carmen.reyes", f"wrong-guess-number-{attempt}")
        assert sign_in(client, "carmen.reyes", TEST_PASSWORD).status_code == 302
        sign_in(client, "carmen.reyes", "wrong-guess-number-5")
        assert refused_as_throttled(sign_in(client, "carmen.reyes", TEST_PASSWORD))


def test_a_second_factor_guessed_wrong_five_times_is_throttled_too(client, maria):
    with clinic_morning():
        response = sign_in(client, "maria.chen", TEST_PASSWORD)
        assert response["Location"] == "/accounts/2fa/authenticate/"
        for attempt in range(5):
            step = client.post("/accounts/2fa/authenticate/", {"code": f"00000{attempt}"})
            assert step.status_code == 200
        sixth = client.post("/accounts/2fa/authenticate/", {"code": "000009"})
        assert sixth.status_code == 200
        assert "Too many failed login attempts" in " ".join(sixth.context["form"].errors["code"])
        assert not signed_in_as(client, maria)


def test_a_password_reset_ends_carmens_cool_off(client, carmen):
    with clinic_morning():
        fail_five_times(client, "carmen.reyes")
        assert refused_as_throttled(sign_in(client, "carmen.reyes", TEST_PASSWORD))

        client.post("/accounts/password/reset/", {"email": carmen.email})
        link = re.search(r"(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body).group(1)
        set_password_url = client.get(link)["Location"]
        done = client.post(
            set_password_url,
            {"password1": "harbor-lantern-tide", "password2": "harbor-lantern-tide"},
        )
        assert done.status_code == 302

        response = sign_in(client, "carmen.reyes", "harbor-lantern-tide")
        assert response.status_code == 302
        assert signed_in_as(client, carmen)


def test_the_per_address_limit_is_loose_enough_for_a_busy_clinic(client, world):
    assert production.ACCOUNT_RATE_LIMITS["login"] == "60/m/ip"
    per_address, per_account = production.ACCOUNT_RATE_LIMITS["login_failed"].split(",")
    assert per_address == "60/m/ip"
    assert per_account == "5/30m/key"


def test_behind_a_proxy_each_clinic_is_its_own_address(client, world, settings):
    """Behind the reverse proxy every request comes from the proxy's address."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    with clinic_morning():
        for attempt in range(60):
            client.post(
                LOGIN_URL,
                {"login": f"nobody-{attempt}", "password": "guessing-guessing"},
                REMOTE_ADDR=proxy,
                HTTP_X_FORWARDED_FOR="198.51.100.66",  # one noisy address elsewhere
            )
        noisy = client.post(
            LOGIN_URL,
            {"login": "nobody-else", "password": "guessing-guessing"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="198.51.100.66",
        )
        assert noisy.status_code == 429

        response = client.post(
            LOGIN_URL,
            {"login": "carmen.reyes", "password": TEST_PASSWORD},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=CLINIC_ADDRESS,
        )
        assert response.status_code == 302
