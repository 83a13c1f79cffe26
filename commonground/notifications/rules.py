"""Named permissions for notifications: each person sees and changes only their own."""

from __future__ import annotations

from typing import Any

import rules

from commonground.notifications.models import Notification


@rules.predicate
def is_recipient(user: Any, notification: Notification | None) -> bool:
    if notification is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(notification.recipient_id == user.pk)


rules.add_perm("notifications.view_notification", is_recipient)
rules.add_perm("notifications.set_preferences", rules.is_authenticated)
