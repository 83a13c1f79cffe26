from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from commonground.meetings import services


@pytest.fixture
def meeting(world, diego):
    return services.meeting_schedule(
        actor=diego,
        committee=world.ppc_a,
        title="Regular meeting",
        starts_at=timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(17, 0))),
        duration_minutes=90,
        place="Room 2",
    )


@pytest.fixture
def quorate(meeting, world, diego, carmen, omar, maria):
    for person in (diego, carmen, omar, maria):
        services.attendance_set(actor=diego, meeting=meeting, person=person, present=True)
    return meeting


@pytest.fixture(autouse=True)
def _no_concern_suggestions(monkeypatch):
    """Agenda suggestions from concerns are tested on their own, with concerns of their own."""
    from commonground.concerns import selectors as concern_selectors

    monkeypatch.setattr(concern_selectors, "concerns_needing_attention", lambda c, on: [])
