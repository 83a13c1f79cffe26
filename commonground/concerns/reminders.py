"""What the concerns app tells people, through the notifications app.

Messages name the concern and its clock, never its raiser: for anonymous and confidential
concerns nothing about the raiser is available here to leak.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from commonground.concerns.models import Concern, Status
from commonground.notifications.services import Reminder, notify
from commonground.organizations.models import Membership, Role

AWAITING_ACK = [Status.RAISED, Status.ESCALATED]
AWAITING_RESPONSE = [Status.RAISED, Status.ACKNOWLEDGED, Status.IN_DISCUSSION, Status.ESCALATED]


def _cochairs(committee_ids: set[int]) -> dict[int, list[Any]]:
    seats = Membership.objects.current().filter(committee_id__in=committee_ids, role=Role.CO_CHAIR)
    people = get_user_model().objects.in_bulk([s.person_id for s in seats])
    found: dict[int, list[Any]] = {}
    for seat in seats:
        found.setdefault(seat.committee_id, []).append(people[seat.person_id])
    return found


def notify_cochairs_of_new_concern(concern: Concern) -> None:
    owner = concern.escalated_to_id or concern.committee_id
    notify(
        recipients=_cochairs({owner}).get(owner, []),
        kind="concern_raised",
        subject=f"New concern: {concern.title}",
        body=(
            f"A concern was raised on {concern.raised_on:%B} {concern.raised_on.day}. "
            f"Both co-chairs acknowledge it by {concern.acknowledge_by.isoformat()}."
        ),
        link=concern.get_absolute_url(),
        dedup_key=f"concern-raised:{concern.pk}",
        clinic_id=concern.committee.clinic_id,
    )


def due_clocks(now: dt.datetime) -> Iterator[Reminder]:
    """Clocks due tomorrow or lapsed, once per concern, clock and day."""
    today = timezone.localdate(now)
    tomorrow = today + dt.timedelta(days=1)
    concerns = list(
        Concern.objects.filter(
            status__in=AWAITING_RESPONSE, paused_since__isnull=True
        ).select_related("committee")
    )
    cochairs = _cochairs({c.escalated_to_id or c.committee_id for c in concerns})
    for concern in concerns:
        owner = concern.escalated_to_id or concern.committee_id
        clocks = [("joint response", concern.respond_by)]
        if concern.status in AWAITING_ACK:
            clocks.insert(0, ("acknowledgement", concern.acknowledge_by))
        for name, due in clocks:
            if due == tomorrow:
                kind, subject = "clock_due", f"Due tomorrow: {name} of '{concern.title}'"
            elif due < today:
                kind, subject = "clock_lapsed", f"Overdue: {name} of '{concern.title}'"
            else:
                continue
            yield Reminder(
                recipients=cochairs.get(owner, []),
                kind=kind,
                subject=subject,
                body=f"The {name} was due by {due.isoformat()}.",
                link=concern.get_absolute_url(),
                dedup_key=f"clock:{concern.pk}:{name}:{today.isoformat()}",
                clinic_id=concern.committee.clinic_id,
            )
