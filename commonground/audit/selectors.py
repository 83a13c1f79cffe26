from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from commonground.audit.models import AuditEvent
from commonground.audit.services import GENESIS_HASH


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_id: int | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.first_bad_id is None


def audit_chain_verify(*, batch_size: int = 2000) -> ChainReport:
    """Walk the trail oldest first; report the first event whose hash or link is wrong."""
    expected_prev = GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.pk, "link to the previous event is broken")
        if event.compute_hash() != event.hash:
            return ChainReport(checked, event.pk, "contents do not match the recorded hash")
        expected_prev = event.hash
        checked += 1
    return ChainReport(checked, None, "")


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    clinic_id: int | None = None
    actor: str = ""
    object_type: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


def audit_events(filters: AuditFilter) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.clinic_id is not None:
        events = events.filter(clinic_id=filters.clinic_id)
    if filters.actor:
        events = events.filter(actor_label__icontains=filters.actor)
    if filters.object_type:
        events = events.filter(object_type=filters.object_type)
    if filters.since:
        events = events.filter(occurred_at__date__gte=filters.since)
    if filters.until:
        events = events.filter(occurred_at__date__lte=filters.until)
    return events.order_by("-id")


def audit_object_types() -> list[str]:
    return list(
        AuditEvent.objects.order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct()
        .exclude(object_type="")
    )
