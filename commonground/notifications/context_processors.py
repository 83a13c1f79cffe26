from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from commonground.notifications.selectors import unread_count


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """``unread_notifications``: the signed-in person's unread count (0 when signed out).

    Lazy: the one COUNT query runs only on pages whose template uses the value, so htmx
    fragments and signed-out pages cost nothing.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
