"""Access dashboards (clinic and region), their CSV exports, chart evidence for a concern,
and the data steward's aggregate-only upload. Aggregates only; every number is suppressed."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commonground.access import (
    counts,
    dashboard_services,
    dashboards,
    selectors,
    services,
    settings_services,
)
from commonground.access.dashboard_forms import CountsUploadForm
from commonground.access.dashboards import Scope
from commonground.core.permissions import allowed


def _period(request: HttpRequest) -> str:
    return "week" if request.GET.get("period") == "week" else "month"


def _page(request: HttpRequest, scope: Scope) -> HttpResponse:
    data = dashboards.load(scope)
    period = _period(request)
    committee = dashboard_services.raise_committee(request.user, scope)
    if scope.clinic is not None:
        evidence_url = reverse("access:clinic-evidence", kwargs={"slug": scope.clinic.slug})
    else:
        evidence_url = reverse("access:region-evidence") + f"?region={scope.region.slug}"
    context = {
        "scope": scope,
        "data": data,
        "period": period,
        "panels": dashboards.panels(data, period) if data.run else [],
        "parity": dashboards.parity_table(data) if data.run else None,
        "extra_tables": dashboards.side_tables(data) if data.run else [],
        "raise_committee": committee,
        "evidence_url": evidence_url,
        "region_query": f"?region={scope.region.slug}" if scope.clinic is None else "",
        # The settings link is on the region dashboard only, for who may use it.
        "can_change_settings": scope.clinic is None
        and allowed(request.user, settings_services.SETTINGS_PERM, scope.region),
    }
    return render(request, "access/dashboard.html", context)


@login_required
@require_GET
def clinic_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, dashboard_services.clinic_scope(request.user, slug))


@login_required
@require_GET
def region_dashboard(request: HttpRequest) -> HttpResponse:
    return _page(request, dashboard_services.region_scope(request.user, request.GET.get("region")))


def _csv(request: HttpRequest, scope: Scope, key: str) -> HttpResponse:
    data = dashboards.load(scope)
    table = dashboards.build_table(data, key)
    if table is None:
        raise Http404
    content = dashboard_services.table_export(
        actor=request.user, scope=scope, data=data, table=table
    )
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{scope.slug}-{table.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def clinic_table_csv(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    return _csv(request, dashboard_services.clinic_scope(request.user, slug), key)


@login_required
@require_GET
def region_table_csv(request: HttpRequest, key: str) -> HttpResponse:
    scope = dashboard_services.region_scope(request.user, request.GET.get("region"))
    return _csv(request, scope, key)


def _evidence(request: HttpRequest, scope: Scope) -> HttpResponse:
    if dashboard_services.raise_committee(request.user, scope) is None:
        raise PermissionDenied  # no seat on the committee the concern would go to
    data = dashboards.load(scope)
    table = dashboards.build_table(data, request.POST.get("table", ""))
    if table is None:
        raise Http404
    reference, committee = dashboard_services.evidence_create(
        actor=request.user, scope=scope, data=data, table=table
    )
    target = reverse("concerns:concern-raise", kwargs={"slug": committee.slug})
    return redirect(f"{target}?{urlencode({'evidence': reference})}")


@login_required
@require_POST
def clinic_evidence(request: HttpRequest, slug: str) -> HttpResponse:
    return _evidence(request, dashboard_services.clinic_scope(request.user, slug))


@login_required
@require_POST
def region_evidence(request: HttpRequest) -> HttpResponse:
    scope = dashboard_services.region_scope(request.user, request.GET.get("region"))
    return _evidence(request, scope)


@login_required
@require_http_methods(["GET", "POST"])
def counts_upload(request: HttpRequest) -> HttpResponse:
    selectors.require_data_steward(request.user)
    posted = request.method == "POST"
    form = CountsUploadForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        regions=selectors.steward_regions(request.user),
    )
    result = None
    if posted and form.is_valid():
        result = counts.counts_import(
            actor=request.user, region=form.cleaned_data["region"], upload=form.cleaned_data["file"]
        )
        if result.valid:
            messages.success(
                request,
                f"{len(result.rows):,} rows stored ({result.replaced:,} replaced earlier rows).",
            )
            return redirect("access:counts-upload")
    context = {
        "form": form,
        "result": result,
        "shown_errors": result.errors[: counts.SHOWN_ERRORS] if result else [],
        "columns": counts.COLUMNS,
        "uploads": counts.recent_uploads(request.user),
    }
    return render(request, "access/counts_upload.html", context, status=422 if posted else 200)


@login_required
@require_GET
def counts_errors(request: HttpRequest, run_id: int) -> HttpResponseBase:
    selectors.require_data_steward(request.user)
    run = counts.get_counts_run_for_user(request.user, run_id)
    try:
        handle = services.counts_report_open(actor=request.user, run=run)
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"counts-{run.pk}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )
    response["Cache-Control"] = "private, no-store"
    return response
