"""Scope checks, audited exports and chart evidence for the access dashboards.

Dashboards show aggregates only (suppressed), so looking at one is not audited; a CSV export
is (``EXPORT``), as every export is. Another clinic's dashboard answers 404, like any other
object of a clinic one cannot see.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from commonground.access import dashboards
from commonground.access.evidence import evidence_put
from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.core.permissions import allowed, authorise
from commonground.organizations.models import Clinic, Committee, Region

CLINIC_PERM = "access.view_clinic_dashboard"
REGION_PERM = "access.view_region_dashboard"


def clinic_scope(user: Any, slug: str) -> dashboards.Scope:
    """404 for a clinic the user cannot see (or none)."""
    clinic = Clinic.objects.select_related("region").filter(slug=slug).first()
    if clinic is None:
        raise Http404
    authorise(user, clinic, view_perm=CLINIC_PERM, clinic_id=clinic.pk)
    return dashboards.Scope(region=clinic.region, clinic=clinic)


def region_scope(user: Any, region_slug: str | None = None) -> dashboards.Scope:
    """The user's region (or the named one); 403, audited, for anyone without one."""
    from commonground.concerns.selectors.region import viewable_region_ids

    ids = viewable_region_ids(user)
    regions = Region.objects.filter(pk__in=ids).order_by("name")
    region = regions.filter(slug=region_slug).first() if region_slug else regions.first()
    if region is None or not allowed(user, REGION_PERM, region):
        audit_record(
            action=AuditEvent.Action.DENIED,
            actor=user,
            object_type="access.dashboard",
            changes={"permission": REGION_PERM},
        )
        if region_slug and ids:
            raise Http404
        raise PermissionDenied
    return dashboards.Scope(region=region)


def raise_committee(user: Any, scope: dashboards.Scope) -> Committee | None:
    """Where a concern about this dashboard goes: the clinic's PPC or the regional committee,
    when the user may raise concerns there."""
    committees = Committee.objects.select_related("clinic", "region").filter(
        region=scope.region, is_active=True
    )
    if scope.clinic is not None:
        committee = committees.filter(clinic=scope.clinic, kind=Committee.Kind.CLINIC_PPC).first()
    else:
        committee = committees.filter(kind=Committee.Kind.REGIONAL, clinic__isnull=True).first()
    if committee is None or not allowed(user, "concerns.raise_concern", committee):
        return None
    return committee


def table_export(
    *, actor: Any, scope: dashboards.Scope, data: dashboards.Data, table: dashboards.Table
) -> bytes:
    """The suppressed table as CSV; audited as an export."""
    content = table.csv_bytes(scope, data)
    audit_record(
        action=AuditEvent.Action.EXPORT,
        actor=actor,
        object_type="access.dashboard",
        object_id=scope.slug,
        clinic_id=scope.clinic.pk if scope.clinic is not None else None,
        changes={"export": table.filename, "table": table.key, "rows": len(table.rows)},
    )
    return content


def evidence_create(
    *, actor: Any, scope: dashboards.Scope, data: dashboards.Data, table: dashboards.Table
) -> tuple[str, Committee]:
    """Keep the chart's numbers for the raise form; returns the reference and the committee."""
    committee = raise_committee(actor, scope)
    if committee is None:
        raise PermissionDenied
    content = table_export(actor=actor, scope=scope, data=data, table=table)
    reference = evidence_put(
        user=actor,
        name=table.title,
        filename=table.filename,
        content=content,
        title=f"Access at {scope.name}: {table.title}"[:200],
        category="access",
    )
    return reference, committee
