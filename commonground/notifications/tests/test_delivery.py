"""Email delivery runs in a task that is safe to run twice, and follows each person's choice."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from commonground.notifications import services
from commonground.notifications.models import EmailDelivery, Frequency, Kind, Notification
from commonground.notifications.tasks import deliver_notification


def _record(person, key="meeting:7:scheduled"):
    """A notification whose email was not sent yet (as if the task has not run)."""
    with mock.patch.object(services, "_enqueue_deliveries"):
        services.notify(
            recipients=[person],
            kind=Kind.MEETING_SCHEDULED,
            subject="Oakland PPC meets on 12 May",
            body="Agenda to follow.",
            link="/meetings/7/",
            dedup_key=key,
        )
    return Notification.objects.get(recipient=person, dedup_key=key)


def test_immediate_email_carries_subject_body_and_link(maria, send):
    send([maria])
    [message] = mail.outbox
    assert message.to == [maria.email]
    assert message.subject == "A concern was raised at Oakland"
    assert "Waits for first appointments are too long." in message.body
    assert "/concerns/abc/" in message.body
    assert "/notifications/preferences/" in message.body
    notification = Notification.objects.get()
    assert notification.email_delivery is not None
    assert notification.email_delivery.kind == EmailDelivery.Kind.IMMEDIATE


def test_running_the_delivery_task_twice_sends_once(maria):
    notification = _record(maria)
    first = deliver_notification.enqueue(notification.pk)
    second = deliver_notification.enqueue(notification.pk)
    assert first.return_value is True
    assert second.return_value is False
    assert len(mail.outbox) == 1
    assert EmailDelivery.objects.count() == 1


def test_a_second_run_that_finds_the_claim_sends_nothing(maria):
    """As when the reaper re-queues a task whose first run committed just before it died."""
    notification = _record(maria)
    assert services.notification_deliver(notification_id=notification.pk) is True
    Notification.objects.filter(pk=notification.pk).update(email_delivery=None)
    assert services.notification_deliver(notification_id=notification.pk) is False
    assert len(mail.outbox) == 1


def test_a_failed_send_rolls_the_claim_back_and_the_retry_sends_once(maria):
    notification = _record(maria)
    with (
        mock.patch.object(services, "_send", side_effect=OSError("mail server down")),
        pytest.raises(OSError),
    ):
        services.notification_deliver(notification_id=notification.pk)
    assert EmailDelivery.objects.count() == 0
    notification.refresh_from_db()
    assert notification.email_delivery is None
    assert mail.outbox == []

    assert services.notification_deliver(notification_id=notification.pk) is True
    assert services.notification_deliver(notification_id=notification.pk) is False
    assert len(mail.outbox) == 1


def test_a_failed_task_is_recorded_failed_and_sent_by_the_pending_sweep(maria):
    notification = _record(maria)
    with mock.patch.object(services, "_send", side_effect=OSError("mail server down")):
        result = deliver_notification.enqueue(notification.pk)
    assert result.status == "FAILED"
    assert mail.outbox == []
    later = timezone.now() + dt.timedelta(minutes=15)
    assert services.pending_redeliver(now=later) == 1
    assert len(mail.outbox) == 1
    assert services.pending_redeliver(now=later) == 0
    assert len(mail.outbox) == 1


def test_the_pending_sweep_leaves_digest_and_off_people_alone(maria, omar, prefer):
    prefer(maria, Frequency.DAILY)
    prefer(omar, Frequency.OFF)
    _record(maria)
    _record(omar)
    assert services.pending_redeliver(now=timezone.now() + dt.timedelta(minutes=15)) == 0
    assert mail.outbox == []


@pytest.mark.parametrize("frequency", [Frequency.DAILY, Frequency.WEEKLY, Frequency.OFF])
def test_only_immediate_people_are_emailed_at_once(maria, send, prefer, frequency):
    prefer(maria, frequency)
    send([maria])
    assert mail.outbox == []
    assert Notification.objects.get().email_delivery is None
    assert EmailDelivery.objects.count() == 0


def test_people_without_an_email_address_are_not_emailed(maria, send):
    maria.email = ""
    maria.save()
    send([maria])
    assert mail.outbox == []
    assert Notification.objects.count() == 1


def test_a_deleted_notification_is_skipped(maria):
    notification = _record(maria)
    notification.delete()
    assert services.notification_deliver(notification_id=notification.pk) is False
    assert mail.outbox == []


def test_the_pending_command_queues_what_was_never_sent(maria, capsys):
    _record(maria)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=15)):
        call_command("send_pending_emails")
        call_command("send_pending_emails")
    out = capsys.readouterr().out
    assert "1 email(s) queued again" in out
    assert "0 email(s) queued again" in out
    assert len(mail.outbox) == 1
