"""Writes for notifications: notify, read marks, preferences, email delivery, digests, reminders.

``notify`` and ``register_reminder_source`` are the API other apps call; see the package
docstring. Email is sent only from tasks (``tasks.py``) and commands, never in a request.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.notifications.models import (
    EmailDelivery,
    Frequency,
    Kind,
    Notification,
    NotificationPreference,
)

logger = logging.getLogger(__name__)

SUBJECT_MAX = 200
DEDUP_KEY_MAX = 200
LINK_MAX = 500
# A digest never reaches further back than this.
DIGEST_MAX_LOOKBACK = dt.timedelta(days=31)
# Notifications this long before someone chose a digest still go in it (their immediate
# email may have been skipped by the task that saw the new choice).
DIGEST_SWITCH_GRACE = dt.timedelta(minutes=10)
DIGEST_FREQUENCIES = (Frequency.DAILY, Frequency.WEEKLY)
# The pending sweep re-queues immediate emails older than this and younger than the horizon.
PENDING_GRACE = dt.timedelta(minutes=10)
PENDING_HORIZON = dt.timedelta(days=2)


# --- notify: the API other apps call -------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _check_link(link: str) -> str:
    # Only paths inside Common Ground: no other site, no javascript: or data: URLs.
    if link and (not link.startswith("/") or link.startswith("//") or "\\" in link):
        raise ValidationError("A notification link must be a path inside Common Ground.")
    if len(link) > LINK_MAX:
        raise ValidationError("A notification link is at most 500 characters.")
    return link


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    subject: str,
    body: str,
    link: str = "",
    dedup_key: str,
    clinic_id: int | None = None,
) -> None:
    """Tell ``recipients`` in-app now and by email after commit, once per ``dedup_key``.

    Runs in the caller's transaction. There is deliberately no actor: a notification
    carries only what is passed here.
    """
    if kind not in Kind.values:
        raise ValidationError(f"Unknown notification kind {kind!r}.")
    subject = _one_line(subject)
    if not subject or len(subject) > SUBJECT_MAX:
        raise ValidationError("A notification subject is 1 to 200 characters on one line.")
    if not dedup_key or len(dedup_key) > DEDUP_KEY_MAX:
        raise ValidationError("A notification needs a dedup key of at most 200 characters.")
    link = _check_link(link)
    person_ids = list(
        dict.fromkeys(person.pk for person in recipients if getattr(person, "is_active", False))
    )
    if not person_ids:
        return
    with transaction.atomic():
        existing = set(
            Notification.objects.filter(
                recipient_id__in=person_ids, dedup_key=dedup_key
            ).values_list("recipient_id", flat=True)
        )
        new_ids = [pk for pk in person_ids if pk not in existing]
        if not new_ids:
            return
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient_id=pk,
                    kind=kind,
                    subject=subject,
                    body=body,
                    link=link,
                    dedup_key=dedup_key,
                    clinic_id=clinic_id,
                )
                for pk in new_ids
            ],
            # A concurrent call with the same key may have won the race: its rows stand.
            ignore_conflicts=True,
        )
        notification_ids = list(
            Notification.objects.filter(recipient_id__in=new_ids, dedup_key=dedup_key).values_list(
                "pk", flat=True
            )
        )
        transaction.on_commit(lambda: _enqueue_deliveries(notification_ids), robust=True)


def _enqueue_deliveries(notification_ids: list[int]) -> None:
    from commonground.notifications.tasks import deliver_notification

    for notification_id in notification_ids:
        deliver_notification.enqueue(notification_id)


# --- reading -------------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification) -> Notification:
    """Mark one notification read (no audit: reading your own notifications is not audited)."""
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notifications_mark_all_read(*, person: Any) -> int:
    return Notification.objects.filter(recipient_id=person.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --- preferences ---------------------------------------------------------------------------


@transaction.atomic
def preference_set(*, actor: Any, person: Any, email_frequency: str) -> NotificationPreference:
    """Set how often ``person`` is emailed; a change is audited."""
    preference, created = NotificationPreference.objects.select_for_update().get_or_create(
        person=person
    )
    before = None if created else preference.email_frequency
    preference.email_frequency = email_frequency
    preference.full_clean()
    if created or before != email_frequency:
        preference.save(update_fields=["email_frequency", "updated_at"])
        audit_record(
            action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
            actor=actor,
            obj=preference,
            changes={"email_frequency": [before, email_frequency]},
        )
    return preference


# --- email ---------------------------------------------------------------------------------


def _absolute(link: str) -> str:
    base = getattr(settings, "COMMONGROUND_SITE_URL", "").rstrip("/")
    return f"{base}{link}" if base and link.startswith("/") else link


def _footer() -> str:
    return (
        "\n-- \nCommon Ground. You get this email because of your notification settings: "
        f"{_absolute(reverse('notifications:preferences'))}\n"
    )


def _send(to: str, subject: str, body: str) -> None:
    message = EmailMessage(
        subject=subject,
        body=body,
        to=[to],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.send(fail_silently=False)


def _single_body(notification: Notification) -> str:
    parts = [notification.body.strip()] if notification.body.strip() else []
    if notification.link:
        parts.append(f"Open it in Common Ground: {_absolute(notification.link)}")
    return "\n\n".join(parts) + "\n" + _footer()


def _claim(*, person_id: int, kind: str, key: str, now: dt.datetime, **extra: Any) -> Any:
    """Insert the claim for one email, or return None when it is already claimed."""
    try:
        with transaction.atomic():
            return EmailDelivery.objects.create(
                recipient_id=person_id, kind=kind, dedup_key=key, sent_at=now, **extra
            )
    except IntegrityError:
        return None


def _frequency_of(person_id: int) -> str:
    found = (
        NotificationPreference.objects.filter(person_id=person_id)
        .values_list("email_frequency", flat=True)
        .first()
    )
    return found or Frequency.IMMEDIATE


def notification_deliver(*, notification_id: int) -> bool:
    """Email one notification if its recipient wants immediate email. True if sent now.

    Safe to run any number of times: the claim, the link to the notification and the send
    share one transaction, and a send that raises rolls the claim back for a later run.
    """
    notification = (
        Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    )
    if notification is None or notification.email_delivery_id is not None:
        return False
    person = notification.recipient
    if not person.is_active or not person.email:
        return False
    if _frequency_of(person.pk) != Frequency.IMMEDIATE:
        return False  # daily / weekly: the digest carries it; off: never emailed
    now = timezone.now()
    with transaction.atomic():
        delivery = _claim(
            person_id=person.pk,
            kind=EmailDelivery.Kind.IMMEDIATE,
            key=f"notification:{notification.pk}",
            now=now,
            notification_count=1,
        )
        if delivery is None:
            return False
        Notification.objects.filter(pk=notification.pk, email_delivery__isnull=True).update(
            email_delivery=delivery
        )
        _send(person.email, notification.subject, _single_body(notification))
    return True


def pending_redeliver(*, now: dt.datetime) -> int:
    """Queue again the immediate emails that were never sent (a failed or lost task)."""
    from commonground.notifications.tasks import deliver_notification

    not_immediate = NotificationPreference.objects.exclude(
        email_frequency=Frequency.IMMEDIATE
    ).values("person_id")
    pending = list(
        Notification.objects.filter(
            email_delivery__isnull=True,
            created_at__lte=now - PENDING_GRACE,
            created_at__gt=now - PENDING_HORIZON,
            recipient__is_active=True,
        )
        .exclude(recipient__email="")
        .exclude(recipient_id__in=not_immediate)
        .values_list("pk", flat=True)[:1000]
    )
    for notification_id in pending:
        deliver_notification.enqueue(notification_id)
    return len(pending)


# --- digests -------------------------------------------------------------------------------


def digest_period_key(frequency: str, now: dt.datetime) -> str:
    day = timezone.localtime(now).date()
    if frequency == Frequency.DAILY:
        return f"daily:{day.isoformat()}"
    if frequency == Frequency.WEEKLY:
        year, week, _ = day.isocalendar()
        return f"weekly:{year}-W{week:02d}"
    raise ValueError(f"no digest for frequency {frequency!r}")


@dataclass(frozen=True)
class DigestReport:
    sent: int = 0
    already_sent: int = 0
    failed: int = 0


def _digest_body(frequency: str, notifications: list[Notification]) -> str:
    lines = [
        f"{len(notifications)} new in Common Ground since your last "
        f"{'daily' if frequency == Frequency.DAILY else 'weekly'} digest:",
        "",
    ]
    for notification in notifications:
        day = timezone.localtime(notification.created_at).date()
        lines.append(f"* {notification.subject} ({day:%a %d %b})")
        if notification.body.strip():
            lines.extend(f"  {line}" for line in notification.body.strip().splitlines())
        if notification.link:
            lines.append(f"  {_absolute(notification.link)}")
        lines.append("")
    lines.append(f"All notifications: {_absolute(reverse('notifications:list'))}")
    return "\n".join(lines) + "\n" + _footer()


def digests_send(*, frequency: str, now: dt.datetime) -> DigestReport:
    """One digest email per person on ``frequency``, once per period (day or ISO week).

    A digest holds the person's notifications not emailed yet (so none is in two digests),
    created since they chose this frequency (nothing from before, when they were emailed at
    once or not at all) and at most 31 days back. No time window after the last digest: a
    notification stamped before a digest but committed after it goes in the next one.
    """
    if frequency not in DIGEST_FREQUENCIES:
        raise ValueError(f"no digest for frequency {frequency!r}")
    key = digest_period_key(frequency, now)
    chosen_at: dict[int, dt.datetime] = {}
    emails: dict[int, str] = {}
    for person_id, email, updated_at in (
        NotificationPreference.objects.filter(email_frequency=frequency, person__is_active=True)
        .exclude(person__email="")
        .values_list("person_id", "person__email", "updated_at")
    ):
        emails[person_id] = email
        chosen_at[person_id] = updated_at - DIGEST_SWITCH_GRACE
    done = set(
        EmailDelivery.objects.filter(recipient_id__in=emails, dedup_key=key).values_list(
            "recipient_id", flat=True
        )
    )
    floor = now - DIGEST_MAX_LOOKBACK
    by_person: dict[int, list[Notification]] = {}
    candidates = Notification.objects.filter(
        recipient_id__in=set(emails) - done,
        email_delivery__isnull=True,
        created_at__lte=now,
        created_at__gt=floor,
    ).order_by("created_at", "id")
    for notification in candidates:
        if notification.created_at > chosen_at[notification.recipient_id]:
            by_person.setdefault(notification.recipient_id, []).append(notification)
    sent = failed = 0
    already = len(done)
    subject_kind = "daily" if frequency == Frequency.DAILY else "weekly"
    for person_id, items in by_person.items():
        try:
            with transaction.atomic():
                delivery = _claim(
                    person_id=person_id,
                    kind=frequency,
                    key=key,
                    now=now,
                    covers_until=now,
                    notification_count=len(items),
                )
                if delivery is None:
                    already += 1
                    continue
                Notification.objects.filter(
                    pk__in=[n.pk for n in items], email_delivery__isnull=True
                ).update(email_delivery=delivery)
                count = len(items)
                _send(
                    emails[person_id],
                    f"Common Ground: your {subject_kind} digest "
                    f"({count} notification{'s' if count != 1 else ''})",
                    _digest_body(frequency, items),
                )
        except Exception:
            # The claim is rolled back: the next run sends this person's digest.
            logger.exception("digest to person %s failed", person_id)
            failed += 1
        else:
            sent += 1
    return DigestReport(sent=sent, already_sent=already, failed=failed)


# --- reminders -----------------------------------------------------------------------------


class Reminder(NamedTuple):
    recipients: Iterable[Any]
    kind: str
    subject: str
    body: str
    link: str
    dedup_key: str
    clinic_id: int | None = None


ReminderSource = Callable[[dt.datetime], Iterable[Any]]
_reminder_sources: list[ReminderSource] = []


def register_reminder_source(source: ReminderSource) -> ReminderSource:
    """Add ``source(now) -> Iterable[Reminder | tuple]``; usable as a decorator, idempotent."""
    if source not in _reminder_sources:
        _reminder_sources.append(source)
    return source


def unregister_reminder_source(source: ReminderSource) -> None:
    if source in _reminder_sources:
        _reminder_sources.remove(source)


def reminder_sources() -> tuple[ReminderSource, ...]:
    return tuple(_reminder_sources)


@dataclass(frozen=True)
class ReminderReport:
    reminders: int = 0
    failed_sources: int = 0


def remind_due(*, now: dt.datetime) -> ReminderReport:
    """Ask every registered source what is due at ``now`` and notify about each.

    Each source runs in its own transaction: one that fails leaves the others' reminders
    standing, and its own are all-or-nothing. Dedup keys make a second run a no-op.
    """
    reminders = failed = 0
    for source in reminder_sources():
        try:
            with transaction.atomic():
                count = 0
                for item in source(now):
                    reminder = item if isinstance(item, Reminder) else Reminder(*item)
                    notify(
                        recipients=reminder.recipients,
                        kind=reminder.kind,
                        subject=reminder.subject,
                        body=reminder.body,
                        link=reminder.link,
                        dedup_key=reminder.dedup_key,
                        clinic_id=reminder.clinic_id,
                    )
                    count += 1
        except Exception:
            logger.exception("reminder source %r failed", getattr(source, "__qualname__", source))
            failed += 1
        else:
            reminders += count
    return ReminderReport(reminders=reminders, failed_sources=failed)
