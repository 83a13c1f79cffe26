"""Password policy (AU1): long passphrases, no common passwords, Argon2 at rest."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

import config.settings as production

ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"


def _problems(password: str, user=None) -> list[str]:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return [error.code for error in exc.error_list]
    return []


def test_an_eleven_character_password_is_too_short():
    assert "password_too_short" in _problems("tide-lanter")


def test_a_twelve_character_passphrase_is_accepted():
    assert _problems("tide-lantern") == []


def test_a_passphrase_of_more_than_sixty_four_characters_is_accepted():
    passphrase = "the river behind the oakland clinic floods every single spring, ok?"
    assert len(passphrase) > 64
    assert _problems(passphrase) == []


def test_a_common_password_is_rejected_even_when_long_enough():
    assert len("password1234") == 12
    assert "password_too_common" in _problems("password1234")


def test_a_password_resembling_the_persons_own_name_is_rejected(carmen):
    assert "password_too_similar" in _problems("carmen.reyes!", user=carmen)


def test_production_hashes_new_passwords_with_argon2_first():
    assert production.PASSWORD_HASHERS[0] == ARGON2


@pytest.mark.parametrize("name", ["MinimumLengthValidator", "CommonPasswordValidator"])
def test_production_configures_the_password_validator(name):
    configured = {v["NAME"].rsplit(".", 1)[-1]: v for v in production.AUTH_PASSWORD_VALIDATORS}
    assert name in configured
    if name == "MinimumLengthValidator":
        assert configured[name]["OPTIONS"]["min_length"] >= 12


def test_argon2_is_installed_and_produces_argon2_hashes(settings):
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    encoded = make_password("tide-lantern")
    assert encoded.startswith("argon2$")
    assert identify_hasher(encoded).algorithm == "argon2"
