"""Access-matrix entries for the notifications pages (merged into ``tests.access_matrix``).

Every page is for any signed-in person and shows only their own notifications. The
mark-read URL names one notification: Carmen's (the Oakland clinician) in scope "own",
Kenji's (a Richmond clinician, not a matrix role) in scope "other". Anyone but its
recipient gets 404, exactly as for a missing one, and the refusal is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.access_matrix import ANONYMOUS, LOGIN, Entry

# Scope -> the matrix role whose notification the URL names (None: no matrix role's).
RECIPIENT_ROLE = {"own": "clinician", "other": None}


@dataclass(frozen=True)
class RecipientEntry(Entry):
    """need "recipient": only the notification's recipient; every other account gets 404."""

    def expected(self, role: str, scope: str, method: str) -> int:
        if method not in self.ok:
            return LOGIN if role == ANONYMOUS else 405
        if role == ANONYMOUS:
            return LOGIN
        return self.ok[method] if RECIPIENT_ROLE[scope] == role else 404


def _notification(world: Any, scope: str) -> dict[str, Any]:
    cache = world.__dict__.setdefault("_notifications", {})
    if scope not in cache:
        from commonground.notifications.models import Kind, Notification

        person = {"own": world.person("clinician_a"), "other": world.person("clinician_b")}[scope]
        clinic = {"own": world.clinic_a, "other": world.clinic_b}[scope]
        cache[scope] = Notification.objects.create(
            recipient=person,
            kind=Kind.ACTION_DUE,
            subject=f"Action due ({scope})",
            dedup_key=f"matrix:{scope}",
            clinic=clinic,
        )
    return {"notification_id": cache[scope].public_id}


ENTRIES: dict[str, Entry] = {
    "notifications:list": Entry("signed_in", {"GET": 200}),
    "notifications:read-all": Entry("signed_in", {"POST": 302}),
    "notifications:preferences": Entry("signed_in", {"GET": 200, "POST": 200}),
    "notifications:read": RecipientEntry(
        "recipient", {"POST": 302}, ("own", "other"), _notification, object_scoped=True
    ),
}
