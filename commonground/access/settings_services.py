"""A region's access settings page: who may change them, and the audited save.

The settings hold no patient data (a holiday calendar, two thresholds, clinic codes), so the
audit trail keeps their before and after values. A save names the version it was read at: a
save over someone else's newer one is refused (``StaleSettings``), not silently merged.
The clinic closure calendar is uploaded here too: checked whole, kept as numbered versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from commonground.access import closures
from commonground.access.aggregates import current_closures as current_closures
from commonground.access.aggregates import enqueue_recompute
from commonground.access.extract import ExtractError
from commonground.access.models import (
    AccessSettings,
    AggregateRun,
    AggregateSource,
    ClosureCalendar,
    ImportJob,
)
from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record, diff_fields
from commonground.core.permissions import allowed
from commonground.organizations.access import access_profile
from commonground.organizations.models import Clinic, Region

SETTINGS_PERM = "access.change_settings"
FIELDS = ("calendar", "parity_rate_points", "parity_median_ratio", "clinic_codes")
# What the figures are computed with; the thresholds are applied when a page is drawn.
RECOMPUTE_FIELDS = ("calendar", "clinic_codes")


class StaleSettings(Exception):
    """Someone else saved the settings after the form was read."""

    def __init__(self, current: AccessSettings) -> None:
        super().__init__("the settings changed meanwhile")
        self.current = current


@dataclass(frozen=True)
class SaveResult:
    settings: AccessSettings
    changed: bool
    recompute: AggregateRun | None = None


def settings_region(user: Any, region_slug: str | None = None) -> Region:
    """The region whose settings ``user`` may change (the named one, else their first).

    403 (audited) for someone who may change no region's settings; 404 for a named region
    that is not theirs, as for any object one cannot see.
    """
    profile = access_profile(user)
    ids = profile.admin_region_ids | profile.steward_region_ids
    regions = Region.objects.filter(pk__in=ids).order_by("name")
    region = regions.filter(slug=region_slug).first() if region_slug else regions.first()
    if region is None or not allowed(user, SETTINGS_PERM, region):
        audit_record(
            action=AuditEvent.Action.DENIED,
            actor=user,
            object_type="access.settings",
            changes={"permission": SETTINGS_PERM},
        )
        if region_slug and ids:
            raise Http404
        raise PermissionDenied
    return region


def settings_regions(user: Any, regions: Any) -> list[Region]:
    """Those of ``regions`` whose settings ``user`` may change (for links)."""
    return [r for r in regions if allowed(user, SETTINGS_PERM, r)]


def region_settings(region: Region) -> AccessSettings:
    found, _ = AccessSettings.objects.get_or_create(region=region)
    return found


def clinic_slugs(region: Region) -> list[str]:
    return list(
        Clinic.objects.filter(region=region).order_by("slug").values_list("slug", flat=True)
    )


def latest_recompute(region: Region) -> AggregateRun | None:
    """The newest recompute of the region's extract figures (its progress shows here)."""
    return (
        AggregateRun.objects.filter(region=region, source=AggregateSource.EXTRACT)
        .order_by("-created_at")
        .first()
    )


def _values(options: AccessSettings) -> dict[str, Any]:
    return {name: getattr(options, name) for name in FIELDS}


@transaction.atomic
def settings_save(
    *, actor: Any, region: Region, values: dict[str, Any], expected_version: int
) -> SaveResult:
    """Save the region's settings; audited, and a recompute queued when the figures depend on
    what changed. An unchanged save writes nothing. Raises ``StaleSettings`` when the stored
    version is not ``expected_version``."""
    if not allowed(actor, SETTINGS_PERM, region):
        raise PermissionDenied
    AccessSettings.objects.get_or_create(region=region)
    current = AccessSettings.objects.select_for_update().get(region=region)
    if current.version != expected_version:
        raise StaleSettings(current)
    before = _values(current)
    after = {**before, **{k: v for k, v in values.items() if k in FIELDS}}
    changes = diff_fields(before, after)
    if not changes:
        return SaveResult(current, changed=False)
    for name in FIELDS:
        setattr(current, name, after[name])
    current.version += 1
    current.updated_at = timezone.now()
    current.updated_by = actor
    current.save(update_fields=[*FIELDS, "version", "updated_at", "updated_by"])
    recompute = None
    if any(name in changes for name in RECOMPUTE_FIELDS) and _has_extract_data(region):
        recompute = enqueue_recompute(region.pk, actor=actor)
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=current,
        changes={
            **changes,
            "region": region.slug,
            "version": [expected_version, current.version],
            "recompute": recompute.pk if recompute is not None else None,
        },
    )
    return SaveResult(current, changed=True, recompute=recompute)


def _has_extract_data(region: Region) -> bool:
    """Whether extract figures exist to recompute. A region that sends weekly counts only has
    none: a recompute there would replace its figures with an empty extract run."""
    return ImportJob.objects.filter(region=region, state=ImportJob.State.DONE).exists()


# -- the clinic closure calendar -------------------------------------------------------------

CLOSURES_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class ClosuresResult:
    calendar: ClosureCalendar | None  # the region's current version after the upload
    changed: bool
    errors: list[ExtractError]
    error_count: int = 0
    recompute: AggregateRun | None = None

    @property
    def valid(self) -> bool:
        return self.error_count == 0


def closures_upload(*, actor: Any, region: Region, content: bytes) -> ClosuresResult:
    """Check a closure calendar whole and keep it as the region's next version.

    A file with any bad row stores nothing and returns every problem (line, column, value,
    reason). The same days as the current version store nothing either (idempotent). A new
    version is audited and queues a recompute when the region has extract figures. A file
    with a header and no rows is a version without closures (how closures are withdrawn).
    """
    if not allowed(actor, SETTINGS_PERM, region):
        raise PermissionDenied
    if len(content) > CLOSURES_MAX_BYTES:
        limit = f"{CLOSURES_MAX_BYTES // (1024 * 1024)} MB"
        error = ExtractError(0, "", "", f"the file is larger than {limit}")
        return ClosuresResult(current_closures(region), False, [error], 1)
    parsed = closures.parse_bytes(content)
    if not parsed.valid:
        return ClosuresResult(current_closures(region), False, parsed.errors, parsed.error_count)
    found = parsed.closures
    with transaction.atomic():
        # One version at a time per region: the settings row is the lock.
        AccessSettings.objects.get_or_create(region=region)
        AccessSettings.objects.select_for_update().get(region=region)
        latest = current_closures(region)
        if (latest.fingerprint if latest else closures.NONE.fingerprint) == found.fingerprint:
            return ClosuresResult(latest, False, [])
        calendar = ClosureCalendar.objects.create(
            region=region,
            number=(latest.number + 1) if latest else 1,
            days={code: sorted(d.isoformat() for d in found.of(code)) for code in found.clinics},
            fingerprint=found.fingerprint,
            clinic_count=len(found.clinics),
            day_count=found.day_count,
            uploaded_by=actor,
        )
        recompute = enqueue_recompute(region.pk, actor=actor) if _has_extract_data(region) else None
        audit_record(
            action=AuditEvent.Action.CREATE,
            actor=actor,
            obj=calendar,
            changes={
                "region": region.slug,
                "version": calendar.number,
                "clinics": calendar.clinic_count,
                "days": calendar.day_count,
                "recompute": recompute.pk if recompute is not None else None,
            },
        )
    return ClosuresResult(calendar, True, [], recompute=recompute)
