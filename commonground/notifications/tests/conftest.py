from __future__ import annotations

from typing import Any

import pytest

from commonground.notifications import services
from commonground.notifications.models import Kind, Notification


@pytest.fixture
def send(django_capture_on_commit_callbacks: Any) -> Any:
    """notify() as a committed request would: the on-commit email tasks run (eagerly)."""

    def _send(recipients: list[Any], key: str = "concern:1:raised", **extra: Any) -> None:
        fields = {
            "kind": Kind.CONCERN_RAISED,
            "subject": "A concern was raised at Oakland",
            "body": "Waits for first appointments are too long.",
            "link": "/concerns/abc/",
            **extra,
        }
        with django_capture_on_commit_callbacks(execute=True):
            services.notify(recipients=recipients, dedup_key=key, **fields)

    return _send


@pytest.fixture
def prefer() -> Any:
    def _prefer(person: Any, frequency: str) -> None:
        services.preference_set(actor=person, person=person, email_frequency=frequency)

    return _prefer


def rows_for(person: Any) -> list[Notification]:
    return list(Notification.objects.filter(recipient=person))
