"""Writes for cross-clinic patterns: merging concerns about one problem at several clinics.

Merging only links: each concern keeps its committee, thread, clocks and history, and its own
page. Every link and unlink is audited on the concern (who merged, never who raised it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.concerns.models import Category, Concern, CrossClinicPattern
from commonground.concerns.selectors.region import forget_clusters
from commonground.organizations.models import Committee, Region


def _concerns_to_link(pattern_region_id: int, concern_ids: Iterable[Any]) -> list[Concern]:
    """The concerns, locked; refused unless every one is a clinic concern of the region."""
    ids = list(dict.fromkeys(concern_ids))
    if not ids:
        raise ValidationError("Choose at least one concern.")
    concerns = list(
        Concern.objects.select_for_update(of=("self",))
        .select_related("committee")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if len(concerns) != len(ids) or any(
        c.committee.region_id != pattern_region_id or c.committee.kind != Committee.Kind.CLINIC_PPC
        for c in concerns
    ):
        raise ValidationError("Only concerns raised at the region's clinics can be merged.")
    return concerns


def _link(actor: Any, concern: Concern, pattern: CrossClinicPattern | None) -> None:
    before = concern.pattern_id
    concern.pattern = pattern
    concern.save(update_fields=["pattern"])
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        object_type="concerns.concern",
        object_id=str(concern.pk),
        clinic_id=concern.committee.clinic_id,
        changes={
            "pattern": [
                str(before) if before else None,
                str(pattern.pk) if pattern is not None else None,
            ]
        },
    )


@transaction.atomic
def pattern_create(
    *,
    actor: Any,
    region: Region,
    title: str,
    category: str,
    concern_ids: Iterable[Any],
    today: dt.date | None = None,
) -> CrossClinicPattern:
    """Merge concerns from at least two clinics of ``region`` into a new pattern."""
    title = title.strip()
    if not title:
        raise ValidationError("Give the pattern a title.")
    if category not in Category.values:
        raise ValidationError("Choose a category.")
    concerns = _concerns_to_link(region.pk, concern_ids)
    if len({c.committee.clinic_id for c in concerns}) < 2:
        raise ValidationError("A cross-clinic pattern links concerns from at least two clinics.")
    taken = [c for c in concerns if c.pattern_id is not None]
    if taken:
        raise ValidationError(
            "Some of these concerns are already part of a pattern: add them from there, "
            "or remove them from it first."
        )
    pattern = CrossClinicPattern.objects.create(
        region=region,
        title=title[:200],
        category=category,
        created_by=actor,
        created_on=today or timezone.localdate(),
    )
    audit_record(
        action=AuditEvent.Action.CREATE,
        actor=actor,
        obj=pattern,
        changes={"category": category, "concerns": len(concerns)},
    )
    for concern in concerns:
        _link(actor, concern, pattern)
    forget_clusters(region.pk)
    return pattern


@transaction.atomic
def pattern_add(*, actor: Any, pattern: CrossClinicPattern, concern_ids: Iterable[Any]) -> int:
    """Link more of the region's concerns; those already in this pattern are left alone."""
    concerns = _concerns_to_link(pattern.region_id, concern_ids)
    elsewhere = [c for c in concerns if c.pattern_id not in (None, pattern.pk)]
    if elsewhere:
        raise ValidationError(
            "Some of these concerns are part of another pattern: remove them from it first."
        )
    added = [c for c in concerns if c.pattern_id is None]
    for concern in added:
        _link(actor, concern, pattern)
    forget_clusters(pattern.region_id)
    return len(added)


@transaction.atomic
def pattern_remove(*, actor: Any, pattern: CrossClinicPattern, concern_ids: Iterable[Any]) -> int:
    """Unlink concerns from the pattern; their threads and history are untouched."""
    concerns = _concerns_to_link(pattern.region_id, concern_ids)
    if any(c.pattern_id != pattern.pk for c in concerns):
        raise ValidationError("Only concerns linked to this pattern can be removed from it.")
    for concern in concerns:
        _link(actor, concern, None)
    forget_clusters(pattern.region_id)
    return len(concerns)
