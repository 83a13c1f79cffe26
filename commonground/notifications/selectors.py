"""Reads for notifications. Every query is scoped to the person asking."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.core.permissions import allowed
from commonground.notifications.models import Frequency, Notification, NotificationPreference

VIEW = "notifications.view_notification"


def notifications_for(user: Any) -> QuerySet[Notification]:
    """The person's notifications, newest first; one query per page whatever they hold."""
    return Notification.objects.filter(recipient_id=user.pk).order_by("-created_at", "-id")


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def get_notification_for_user(user: Any, notification_id: uuid.UUID) -> Notification:
    """The person's own notification; anyone else's answers 404, as a missing one does."""
    notification = Notification.objects.filter(public_id=notification_id).first()
    if notification is None:
        raise Http404
    if not allowed(user, VIEW, notification):
        audit_record(
            action=AuditEvent.Action.DENIED,
            actor=user,
            obj=notification,
            object_repr="notification",
            clinic_id=notification.clinic_id,
            changes={"permission": VIEW},
        )
        raise Http404
    return notification


def email_frequency(user: Any) -> str:
    found = (
        NotificationPreference.objects.filter(person_id=user.pk)
        .values_list("email_frequency", flat=True)
        .first()
    )
    return found or Frequency.IMMEDIATE
