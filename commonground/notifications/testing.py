"""Helpers for tests in any app: check an output channel for a person's identity."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def identities_of(person: Any) -> list[str]:
    """The identifiers a leak would show: username, email, names, display name."""
    values = [
        person.get_username(),
        getattr(person, "email", ""),
        getattr(person, "first_name", ""),
        getattr(person, "last_name", ""),
        person.get_display_name() if hasattr(person, "get_display_name") else "",
        getattr(person, "display_name", ""),
    ]
    return [value for value in dict.fromkeys(values) if value and len(value) >= 3]


def assert_no_identity(text: str, identities: Iterable[str]) -> None:
    """Fail if ``text`` contains any of ``identities`` (case-insensitive)."""
    lowered = text.lower()
    found = [identity for identity in identities if identity and identity.lower() in lowered]
    if found:
        raise AssertionError(f"output carries identity {found!r}")
