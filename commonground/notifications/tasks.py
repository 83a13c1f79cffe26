"""Background tasks. Arguments are ids and plain values only, never content.

Every task is safe to run twice (the worker runs tasks at least once): delivery and digests
claim an ``EmailDelivery`` row before sending, reminders dedupe on their keys.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from commonground.notifications import services


def _when(now_iso: str | None) -> dt.datetime:
    return dt.datetime.fromisoformat(now_iso) if now_iso else timezone.now()


@task()
def deliver_notification(notification_id: int) -> bool:
    return services.notification_deliver(notification_id=notification_id)


@task()
def send_digests_task(frequency: str, now_iso: str | None = None) -> dict[str, int]:
    report = services.digests_send(frequency=frequency, now=_when(now_iso))
    return {"sent": report.sent, "already_sent": report.already_sent, "failed": report.failed}


@task()
def remind_due_task(now_iso: str | None = None) -> dict[str, int]:
    report = services.remind_due(now=_when(now_iso))
    return {"reminders": report.reminders, "failed_sources": report.failed_sources}


@task()
def send_pending_emails_task(now_iso: str | None = None) -> int:
    return services.pending_redeliver(now=_when(now_iso))
