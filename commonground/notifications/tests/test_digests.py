"""Digests: one email per person per day or ISO week, listing what was not emailed yet."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from commonground.notifications import services
from commonground.notifications.models import EmailDelivery, Frequency, Notification

MONDAY = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def _digest(frequency, now):
    return services.digests_send(frequency=frequency, now=now)


def test_a_daily_digest_lists_each_persons_new_notifications_once(
    clock, maria, omar, carmen, send, prefer
):
    prefer(maria, Frequency.DAILY)
    prefer(omar, Frequency.DAILY)
    send([maria, omar], key="concern:1:raised", subject="Concern one")
    send([maria], key="concern:2:raised", subject="Concern two")
    send([carmen], key="concern:3:raised", subject="Concern three")  # immediate
    assert [m.to for m in mail.outbox] == [[carmen.email]]
    mail.outbox.clear()

    clock.shift(dt.timedelta(hours=20))
    report = _digest(Frequency.DAILY, MONDAY + dt.timedelta(hours=20))

    assert report.sent == 2
    by_person = {m.to[0]: m for m in mail.outbox}
    assert set(by_person) == {maria.email, omar.email}
    assert "2 notifications" in by_person[maria.email].subject
    assert "Concern one" in by_person[maria.email].body
    assert "Concern two" in by_person[maria.email].body
    assert "Concern two" not in by_person[omar.email].body
    assert "Concern three" not in by_person[maria.email].body
    assert Notification.objects.filter(email_delivery__isnull=True).count() == 0


def test_running_the_digest_twice_in_a_day_sends_once(clock, maria, send, prefer):
    prefer(maria, Frequency.DAILY)
    send([maria], key="a")
    now = MONDAY + dt.timedelta(hours=1)
    assert _digest(Frequency.DAILY, now).sent == 1
    # Stamped before today's digest but not in it (committed late): goes in tomorrow's.
    send([maria], key="b")
    again = _digest(Frequency.DAILY, now + dt.timedelta(hours=2))
    assert again.sent == 0
    assert again.already_sent == 1
    assert len(mail.outbox) == 1

    tomorrow = now + dt.timedelta(days=1)
    clock.move_to(tomorrow)
    assert _digest(Frequency.DAILY, tomorrow).sent == 1
    assert len(mail.outbox) == 2
    assert "1 notification)" in mail.outbox[1].subject
    assert EmailDelivery.objects.filter(kind=EmailDelivery.Kind.DAILY).count() == 2


def test_a_weekly_digest_is_sent_once_per_iso_week(clock, maria, send, prefer):
    prefer(maria, Frequency.WEEKLY)
    send([maria], key="a")
    assert _digest(Frequency.WEEKLY, MONDAY + dt.timedelta(hours=1)).sent == 1
    send([maria], key="b")
    assert _digest(Frequency.WEEKLY, MONDAY + dt.timedelta(days=3)).sent == 0
    next_week = MONDAY + dt.timedelta(days=7)
    clock.move_to(next_week)
    assert _digest(Frequency.WEEKLY, next_week).sent == 1
    assert len(mail.outbox) == 2
    assert "weekly digest (1 notification)" in mail.outbox[1].subject


def test_nobody_on_another_frequency_gets_a_digest(clock, maria, omar, carmen, send, prefer):
    prefer(maria, Frequency.WEEKLY)
    prefer(omar, Frequency.OFF)
    send([maria, omar, carmen])
    mail.outbox.clear()
    assert _digest(Frequency.DAILY, MONDAY + dt.timedelta(hours=1)).sent == 0
    assert mail.outbox == []


def test_an_empty_period_sends_nothing(clock, maria, prefer):
    prefer(maria, Frequency.DAILY)
    assert _digest(Frequency.DAILY, MONDAY).sent == 0
    assert mail.outbox == []
    assert EmailDelivery.objects.count() == 0


def test_a_digest_holds_nothing_from_before_the_person_chose_it(clock, maria, send, prefer):
    send([maria], key="old")  # emailed at once, before the switch
    prefer(maria, Frequency.OFF)
    send([maria], key="while-off")
    clock.shift(dt.timedelta(days=3))
    prefer(maria, Frequency.DAILY)
    send([maria], key="new", subject="The new one")
    mail.outbox.clear()
    now = MONDAY + dt.timedelta(days=3, hours=1)
    assert _digest(Frequency.DAILY, now).sent == 1
    assert "(1 notification)" in mail.outbox[0].subject
    assert "The new one" in mail.outbox[0].body


def test_a_failed_digest_is_rolled_back_and_sent_by_the_next_run(clock, maria, omar, send, prefer):
    prefer(maria, Frequency.DAILY)
    prefer(omar, Frequency.DAILY)
    send([maria, omar])
    now = MONDAY + dt.timedelta(hours=1)
    real_send = services._send

    def _flaky(to, subject, body):
        if to == maria.email:
            raise OSError("mail server down")
        real_send(to, subject, body)

    with mock.patch.object(services, "_send", side_effect=_flaky):
        report = _digest(Frequency.DAILY, now)
    assert (report.sent, report.failed) == (1, 1)
    assert Notification.objects.get(recipient=maria).email_delivery is None
    assert not EmailDelivery.objects.filter(recipient=maria).exists()

    retry = _digest(Frequency.DAILY, now + dt.timedelta(minutes=5))
    assert (retry.sent, retry.already_sent, retry.failed) == (1, 1, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([maria.email, omar.email])


def test_the_command_sends_the_digests(clock, maria, send, prefer, capsys):
    prefer(maria, Frequency.DAILY)
    send([maria])
    clock.shift(dt.timedelta(minutes=1))
    call_command("send_digests", "daily")
    call_command("send_digests", "daily")
    out = capsys.readouterr().out
    assert "daily digests: 1 sent" in out
    assert "daily digests: 0 sent, 1 already sent" in out
    assert len(mail.outbox) == 1


def test_the_digest_task_runs_the_same_service(clock, maria, send, prefer):
    from commonground.notifications.tasks import send_digests_task

    prefer(maria, Frequency.WEEKLY)
    send([maria])
    now = (MONDAY + dt.timedelta(hours=2)).isoformat()
    first = send_digests_task.enqueue("weekly", now)
    second = send_digests_task.enqueue("weekly", now)
    assert first.return_value == {"sent": 1, "already_sent": 0, "failed": 0}
    assert second.return_value == {"sent": 0, "already_sent": 1, "failed": 0}
    assert len(mail.outbox) == 1


def test_the_period_key_follows_local_days_and_iso_weeks():
    sunday_night = dt.datetime(2026, 5, 11, 5, 0, tzinfo=dt.UTC)  # 10 May, 22:00 in LA
    assert services.digest_period_key(Frequency.DAILY, sunday_night) == "daily:2026-05-10"
    assert services.digest_period_key(Frequency.WEEKLY, sunday_night) == "weekly:2026-W19"
    with pytest.raises(ValueError, match="no digest"):
        services.digest_period_key(Frequency.OFF, sunday_night)
