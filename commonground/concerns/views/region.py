"""The region view of concerns, and cross-clinic patterns. For regional admins and the
regional committee; merging is for regional admins and the regional committee's co-chairs.

Rows here show a concern's clinic, title, status and date, never who raised it. Each linked
concern keeps its own page and thread: links go there, for those who may open it.
"""

from __future__ import annotations

import csv
import uuid
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.concerns.models import Category, Concern, CrossClinicPattern
from commonground.concerns.selectors import region as selectors
from commonground.concerns.services import patterns as services
from commonground.core.exports import safe_cell
from commonground.core.permissions import allowed
from commonground.organizations.models import Region

# --- forms --------------------------------------------------------------------------------


class ConcernIdsField(forms.Field):
    """Several concern ids from checkboxes or hidden inputs."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": "Choose concerns from the list."}

    def to_python(self, value: Any) -> list[uuid.UUID]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            return [uuid.UUID(str(v)) for v in values]
        except ValueError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise ValidationError("Choose at least one concern.", code="required")


class PatternCreateForm(forms.Form):
    title = forms.CharField(max_length=200, label="Pattern title")
    category = forms.ChoiceField(choices=Category.choices)
    concerns = ConcernIdsField()
    # The group's concerns the page did not list, merged only when asked.
    rest = ConcernIdsField(required=False)
    include_rest = forms.BooleanField(required=False)

    def concern_ids(self) -> list[uuid.UUID]:
        extra = self.cleaned_data["rest"] if self.cleaned_data["include_rest"] else []
        return [*self.cleaned_data["concerns"], *extra]


class PatternConcernsForm(forms.Form):
    action = forms.ChoiceField(choices=[("add", "Add"), ("remove", "Remove")])
    concerns = ConcernIdsField()


# --- helpers ------------------------------------------------------------------------------


def _refuse(request: HttpRequest, what: str, perm: str) -> PermissionDenied:
    audit_record(
        action=AuditEvent.Action.DENIED,
        actor=request.user,
        object_type=what,
        changes={"permission": perm},
    )
    return PermissionDenied()


def _region_for(request: HttpRequest, query: QueryDict, perm: str) -> tuple[Region, list[Region]]:
    """The region the person asks for among those they are a region person of (the first
    by name when they name none); 403, audited, for everyone else."""
    regions = selectors.regions_for_user(request.user)
    slug = query.get("region", "")
    region = next((r for r in regions if r.slug == slug), regions[0] if regions else None)
    if region is None or not allowed(request.user, perm, region):
        raise _refuse(request, "concerns.region_view", perm)
    return region, regions


def _openable(user: Any, concerns: list[Concern]) -> set[uuid.UUID]:
    """Concerns whose own page this person may open (rules read the cached access profile,
    so this adds no queries)."""
    return {c.pk for c in concerns if allowed(user, "concerns.view_concern", c)}


COLUMNS = [
    ("clinic", "Clinic"),
    ("concerns", "Concerns raised"),
    ("ack", "Acknowledged on time"),
    ("respond", "Answered on time"),
    ("overdue", "Overdue now"),
    ("escalated", "Escalated"),
]


def _sort_headers(base: dict[str, str], sort: str, descending: bool) -> list[dict[str, str | None]]:
    """Header links that sort the compliance table; the current column says its order."""
    headers: list[dict[str, str | None]] = []
    for key, label in COLUMNS:
        current = key == sort
        flip = "asc" if current and descending else ("desc" if current else "asc")
        headers.append(
            {
                "key": key,
                "label": label,
                "url": "?" + urlencode({**base, "sort": key, "dir": flip}) + "#compliance",
                "aria_sort": ("descending" if descending else "ascending") if current else None,
            }
        )
    return headers


# --- views --------------------------------------------------------------------------------


@login_required
@require_GET
def region_concerns(request: HttpRequest) -> HttpResponse:
    region, regions = _region_for(request, request.GET, "concerns.view_region")
    filters = selectors.RegionFilters.from_query(request.GET, timezone.localdate())
    sort = request.GET.get("sort", "clinic")
    sort = sort if sort in selectors.COMPLIANCE_SORTS else "clinic"
    descending = request.GET.get("dir") == "desc"
    overview = selectors.region_overview(region, filters, sort=sort, descending=descending)
    base = {"region": region.slug, "period": filters.period}
    if filters.category:
        base["category"] = filters.category
    return render(
        request,
        "concerns/region_concerns.html",
        {
            "region": region,
            "regions": regions,
            "filters": filters,
            "periods": selectors.PERIODS.items(),
            "categories": Category.choices,
            "overview": overview,
            "headers": _sort_headers(base, sort, descending),
            "export_query": urlencode(
                {**base, "sort": sort, "dir": "desc" if descending else "asc"}
            ),
            "openable": _openable(
                request.user, [c for group in overview.clusters.groups for c in group.concerns]
            ),
            "can_merge": allowed(request.user, "concerns.merge_patterns", region),
        },
    )


@login_required
@require_GET
def region_compliance_csv(request: HttpRequest) -> HttpResponse:
    """The clock-compliance table as CSV: counts per clinic, no people. Audited as an export."""
    region, _ = _region_for(request, request.GET, "concerns.view_region")
    filters = selectors.RegionFilters.from_query(request.GET, timezone.localdate())
    sort = request.GET.get("sort", "clinic")
    rows = selectors.clock_compliance(
        region,
        selectors.active_clinics(region),
        filters,
        sort=sort if sort in selectors.COMPLIANCE_SORTS else "clinic",
        descending=request.GET.get("dir") == "desc",
    )
    audit_record(
        action=AuditEvent.Action.EXPORT,
        actor=request.user,
        obj=region,
        changes={
            "export": "clock-compliance.csv",
            "period": filters.period,
            "category": filters.category,
            "rows": len(rows),
        },
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = filters.today.isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="clock-compliance-{region.slug}-{stamp}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(
        [
            "clinic",
            "raised_since",
            "concerns_raised",
            "acknowledgements_due",
            "acknowledged_on_time",
            "acknowledged_on_time_pct",
            "responses_due",
            "answered_on_time",
            "answered_on_time_pct",
            "overdue_now",
            "escalated",
        ]
    )
    for row in rows:
        writer.writerow(
            [
                safe_cell(row.clinic.name),
                filters.since.isoformat(),
                row.concerns,
                row.ack_due,
                row.ack_on_time,
                "" if row.ack_rate is None else row.ack_rate,
                row.respond_due,
                row.respond_on_time,
                "" if row.respond_rate is None else row.respond_rate,
                row.overdue_now,
                row.escalated,
            ]
        )
    return response


@login_required
@require_POST
def pattern_create(request: HttpRequest) -> HttpResponse:
    """Merge a cluster's concerns into a new pattern."""
    region, _ = _region_for(request, request.POST, "concerns.merge_patterns")
    form = PatternCreateForm(request.POST)
    if form.is_valid():
        try:
            pattern = services.pattern_create(
                actor=request.user,
                region=region,
                title=form.cleaned_data["title"],
                category=form.cleaned_data["category"],
                concern_ids=form.concern_ids(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Merged into a cross-clinic pattern.")
            return redirect("concerns:pattern-detail", pattern_id=pattern.pk)
    return render(
        request,
        "concerns/pattern_form.html",
        {"region": region, "form": form},
        status=422,
    )


def _pattern_page(
    request: HttpRequest,
    pattern: CrossClinicPattern,
    form: PatternConcernsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    concerns = selectors.pattern_concerns(pattern)
    can_edit = allowed(request.user, "concerns.edit_pattern", pattern)
    suggestions = selectors.pattern_suggestions(pattern, concerns) if can_edit else []
    return render(
        request,
        "concerns/pattern_detail.html",
        {
            "pattern": pattern,
            "concerns": concerns,
            "clinic_count": len({c.committee.clinic_id for c in concerns}),
            "suggestions": suggestions,
            "openable": _openable(request.user, [*concerns, *suggestions]),
            "can_edit": can_edit,
            "form": form,
        },
        status=status,
    )


@login_required
@require_GET
def pattern_detail(request: HttpRequest, pattern_id: uuid.UUID) -> HttpResponse:
    pattern = selectors.get_pattern_for_user(request.user, pattern_id)
    return _pattern_page(request, pattern)


@login_required
@require_POST
def pattern_concerns(request: HttpRequest, pattern_id: uuid.UUID) -> HttpResponse:
    """Add concerns of the region to the pattern, or remove linked ones."""
    pattern = selectors.get_pattern_for_user(request.user, pattern_id, "concerns.edit_pattern")
    form = PatternConcernsForm(request.POST)
    if form.is_valid():
        change = (
            services.pattern_add
            if form.cleaned_data["action"] == "add"
            else services.pattern_remove
        )
        try:
            count = change(
                actor=request.user, pattern=pattern, concern_ids=form.cleaned_data["concerns"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            verb = "Added" if form.cleaned_data["action"] == "add" else "Removed"
            messages.success(request, f"{verb} {count} concern{'s' if count != 1 else ''}.")
            return redirect(reverse("concerns:pattern-detail", kwargs={"pattern_id": pattern.pk}))
    return _pattern_page(request, pattern, form=form, status=422)
