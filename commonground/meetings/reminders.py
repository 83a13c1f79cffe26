"""Reminders of action items due tomorrow or overdue, sent to their owners."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.urls import reverse
from django.utils import timezone

from commonground.meetings.models import ActionItem
from commonground.notifications.services import Reminder

OPEN = [ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS]


def due_actions(now: dt.datetime) -> Iterator[Reminder]:
    today = timezone.localdate(now)
    tomorrow = today + dt.timedelta(days=1)
    actions = ActionItem.objects.filter(status__in=OPEN, due_on__lte=tomorrow).select_related(
        "committee", "clinician_owner", "management_owner"
    )
    for action in actions:
        owners = [p for p in (action.clinician_owner, action.management_owner) if p is not None]
        due_tomorrow = action.due_on == tomorrow
        yield Reminder(
            recipients=owners,
            kind="action_due",
            subject=("Due tomorrow: " if due_tomorrow else "Overdue: ") + action.title,
            body=f"This action of the {action.committee.name} is due {action.due_on.isoformat()}.",
            link=reverse("meetings:action-edit", args=[action.public_id]),
            dedup_key=f"action:{action.public_id}:{today.isoformat()}",
            clinic_id=action.committee.clinic_id,
        )
