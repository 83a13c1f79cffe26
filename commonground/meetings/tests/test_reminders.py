"""Owners of action items hear about them the day before they are due and while overdue."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from commonground.meetings.models import ActionItem
from commonground.notifications.models import Notification
from commonground.notifications.services import remind_due


def test_action_owners_are_reminded_once_a_day(
    world, carmen, maria, django_capture_on_commit_callbacks
):
    action = ActionItem.objects.create(
        committee=world.ppc_a,
        title="Draft the huddle checklist",
        clinician_owner=carmen,
        management_owner=maria,
        due_on=dt.date(2026, 12, 2),
    )
    ActionItem.objects.create(
        committee=world.ppc_a,
        title="Finished",
        clinician_owner=carmen,
        due_on=dt.date(2026, 12, 1),
        status=ActionItem.Status.DONE,
    )
    day_before = dt.datetime(2026, 12, 1, 16, tzinfo=dt.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        remind_due(now=day_before)
        remind_due(now=day_before)
    notes = Notification.objects.filter(kind="action_due")
    assert {n.recipient for n in notes} == {carmen, maria}
    assert notes.count() == 2
    assert notes.first().link == reverse("meetings:action-edit", args=[action.public_id])
    with django_capture_on_commit_callbacks(execute=True):
        remind_due(now=day_before + dt.timedelta(days=3))
    assert (
        Notification.objects.filter(kind="action_due", subject__startswith="Overdue").count() == 2
    )
