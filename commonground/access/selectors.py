"""Reads for the import pages. Row-level data is never read here: jobs and their figures only."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from commonground.access.models import ImportJob
from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.core.permissions import allowed, authorise
from commonground.organizations.access import access_profile
from commonground.organizations.models import Clinic, Region

IMPORT_PERM = "access.import_extracts"


def require_data_steward(user: Any) -> None:
    """403 (audited) for anyone who is not a data steward."""
    if allowed(user, IMPORT_PERM):
        return
    audit_record(
        action=AuditEvent.Action.DENIED,
        actor=user,
        object_type="access.imports",
        changes={"permission": IMPORT_PERM},
    )
    raise PermissionDenied


def steward_regions(user: Any) -> QuerySet[Region]:
    return Region.objects.filter(pk__in=access_profile(user).steward_region_ids).order_by("name")


def steward_clinics(user: Any) -> QuerySet[Clinic]:
    regions = access_profile(user).steward_region_ids
    return Clinic.objects.filter(region_id__in=regions).select_related("region").order_by("name")


def import_jobs(user: Any) -> QuerySet[ImportJob]:
    """The jobs of the regions ``user`` is data steward of, newest first."""
    return (
        ImportJob.objects.filter(region_id__in=access_profile(user).steward_region_ids)
        .select_related("region", "clinic", "uploaded_by")
        .order_by("-created_at")
    )


def get_import_for_user(user: Any, job_id: uuid.UUID) -> ImportJob:
    """403 for anyone but a data steward; 404 for another region's job (or none)."""
    require_data_steward(user)
    job = (
        ImportJob.objects.select_related("region", "clinic", "uploaded_by")
        .filter(pk=job_id)
        .first()
    )
    if job is None:
        raise Http404
    authorise(user, job, view_perm="access.view_import", clinic_id=job.clinic_id)
    return job


SUPPRESSED = "fewer than 11"


def _count(value: Any) -> str:
    return SUPPRESSED if value is None else f"{int(value):,}"


def _share(item: Any) -> str:
    if not isinstance(item, dict):
        return "—"
    if item.get("of") is None:
        return f"{SUPPRESSED} initial requests"
    if item.get("share") is None:
        return f"not shown (a count below 11) of {int(item['of']):,}"
    return f"{100 * float(item['share']):.1f}% ({int(item['count']):,} of {int(item['of']):,})"


SIDE_LABELS = {"slots": "Slots (supply)", "encounters": "Encounters (HEDIS-like)"}


def side_counts(job: ImportJob) -> list[tuple[str, dict[str, int]]]:
    """What the job merged of the tables kept beside the appointments, by table."""
    recorded = (job.quality or {}).get("side", {})
    return [(label, recorded[name]) for name, label in SIDE_LABELS.items() if name in recorded]


def quality_lines(job: ImportJob) -> list[tuple[str, str]]:
    """The job's data-quality figures as label and text (counts of 1 to 10 suppressed)."""
    q = job.quality or {}
    if "cutoff" not in q:
        return []
    lines = [
        ("Dates in the file", f"{q.get('first_day') or '—'} to {q.get('last_day') or '—'}"),
        ("Inferred cut-off (latest booking or cancellation)", q.get("cutoff") or "—"),
        (
            "Date-times without a UTC offset",
            f"{int(q.get('values_without_offset', 0)):,}, read as {q.get('timezone', '')} time",
        ),
        ("Clinic codes", ", ".join(q.get("clinic_codes", [])) or "—"),
        ("Initial MH/SUD requests", _count(q.get("initial_requests"))),
        ("Request time equals booking time", _share(q.get("request_equals_booking"))),
        ("Initial requests without a request date", _share(q.get("request_missing"))),
        ("Cancellations without an initiator", _count(q.get("cancelled_without_initiator"))),
        ("Initiator on a row not cancelled", _count(q.get("initiator_without_cancellation"))),
        ("First offer later than the booked start", _count(q.get("first_offer_after_start"))),
    ]
    if "rows_with_padded_ids" in q:  # recorded since ids are read without spaces around them
        lines.append(
            (
                "Rows with an id between spaces (read without them)",
                _count(q["rows_with_padded_ids"]),
            )
        )
    if "rows_in_repeated_hour" in q:  # recorded since such local times are counted
        lines.append(
            (
                "Rows with a local time the clocks showed twice (read as standard time)",
                _count(q["rows_in_repeated_hour"]),
            )
        )
    return lines
