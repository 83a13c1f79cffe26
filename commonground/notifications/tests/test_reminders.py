"""Reminders come from sources other apps register; running them twice reminds once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from commonground.notifications import services
from commonground.notifications.models import Kind, Notification
from commonground.notifications.services import Reminder
from commonground.notifications.tasks import remind_due_task


@pytest.fixture
def source():
    """Register sources for one test only."""
    added = []

    def _register(fn):
        services.register_reminder_source(fn)
        added.append(fn)
        return fn

    yield _register
    for fn in added:
        services.unregister_reminder_source(fn)


def _due_actions(people):
    def fake_actions(now):
        day = timezone.localtime(now).date().isoformat()
        return [
            Reminder(
                recipients=people,
                kind=Kind.ACTION_DUE,
                subject="Action due today: book interpreter slots",
                body="Due today.",
                link="/actions/42/",
                dedup_key=f"action:42:due:{day}",
            )
        ]

    return fake_actions


def test_a_daily_run_twice_reminds_once(source, maria, omar, django_capture_on_commit_callbacks):
    source(_due_actions([maria, omar]))
    # Morning, local time: the second run three hours later is still the same day (from
    # the clock, a run after 21:00 would cross midnight and remind again, rightly).
    now = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(9)))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.remind_due(now=now)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.remind_due(now=now + dt.timedelta(hours=3))
    assert first.reminders == second.reminders == 1
    assert Notification.objects.filter(kind=Kind.ACTION_DUE).count() == 2
    assert len(mail.outbox) == 2


def test_the_next_day_reminds_again(source, maria, django_capture_on_commit_callbacks):
    source(_due_actions([maria]))
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        services.remind_due(now=now)
        services.remind_due(now=now + dt.timedelta(days=1))
    assert Notification.objects.count() == 2


def test_plain_tuples_and_clinic_ids_are_accepted(source, world, maria):
    @source
    def clocks(now):
        yield (
            [maria],
            Kind.CLOCK_DUE,
            "A response is due in 2 business days",
            "",
            "/concerns/x/",
            "clock:9:due:2",
            world.clinic_a.pk,
        )

    report = services.remind_due(now=timezone.now())
    assert report.reminders == 1
    assert Notification.objects.get().clinic_id == world.clinic_a.pk


def test_a_failing_source_is_rolled_back_and_others_still_run(source, maria, omar):
    @source
    def broken(now):
        yield Reminder([maria], Kind.CLOCK_LAPSED, "Lapsed", "", "", "clock:1:lapsed")
        raise RuntimeError("the concerns app is broken")

    source(_due_actions([omar]))
    report = services.remind_due(now=timezone.now())
    assert (report.reminders, report.failed_sources) == (1, 1)
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [omar.pk]


def test_registering_twice_runs_a_source_once(source, maria):
    fn = _due_actions([maria])
    source(fn)
    source(fn)
    assert services.reminder_sources().count(fn) == 1


def test_the_command_and_the_task_run_the_sources(source, maria, capsys):
    source(_due_actions([maria]))
    call_command("send_reminders")
    assert "1 reminder(s) checked, 0 source(s) failed" in capsys.readouterr().out
    result = remind_due_task.enqueue(timezone.now().isoformat())
    assert result.return_value == {"reminders": 1, "failed_sources": 0}
    assert Notification.objects.count() == 1
