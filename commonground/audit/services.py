from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from commonground.audit.context import current_request_id
from commonground.audit.models import AuditEvent

GENESIS_HASH = "0" * 64
# Serialises appends on PostgreSQL so that every event chains to exactly one predecessor.
_CHAIN_LOCK_KEY = 0x436F6D6D6F6E  # "Common"


def _actor_fields(actor: Any) -> tuple[int | None, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, ""
    return actor.pk, actor.get_username()


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    clinic_id: int | None = None,
    changes: dict[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> AuditEvent:
    """Append one event to the hash-chained trail, inside the caller's transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    actor_id, actor_label = _actor_fields(actor)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            occurred_at=occurred_at or timezone.now(),
            actor_id=actor_id,
            actor_label=actor_label,
            clinic_id=clinic_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr[:200],
            request_id=current_request_id.get(),
            changes=changes or {},
            prev_hash=last or GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
    return event


def diff_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """A change summary: each changed field as [old, new]."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }
