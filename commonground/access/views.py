"""The data steward's import pages: upload, progress, counts and the error report.

No page shows row-level data: only jobs, counts and data-quality figures. Each view makes one
permission decision through a selector and calls one service or selector.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commonground.access import format_guide, selectors, services, settings_services
from commonground.access.forms import (
    CALENDAR_NOTES,
    AccessSettingsForm,
    ClosuresUploadForm,
    ImportUploadForm,
)
from commonground.access.models import AccessSettings
from commonground.organizations.models import Region

PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    selectors.require_data_steward(request.user)
    form = ImportUploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        regions=selectors.steward_regions(request.user),
        clinics=selectors.steward_clinics(request.user),
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = services.import_receive(
            actor=request.user,
            upload=upload,
            original_name=upload.name or "",
            region=form.cleaned_data["region"],
            clinic=form.cleaned_data["clinic"],
            data_cutoff=form.cleaned_data["data_cutoff"],
        )
        messages.success(request, "File received. It is checked, then merged, in the background.")
        return redirect(job)
    page = Paginator(selectors.import_jobs(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    services.import_viewed(actor=request.user)
    settings_regions = settings_services.settings_regions(
        request.user, selectors.steward_regions(request.user)
    )
    return render(
        request,
        "access/imports.html",
        {"form": form, "page": page, "settings_regions": settings_regions},
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def import_detail(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    job = selectors.get_import_for_user(request.user, job_id)
    context = {
        "job": job,
        "quality": selectors.quality_lines(job),
        "side_counts": selectors.side_counts(job),
    }
    if request.htmx:  # type: ignore[attr-defined]
        # The polled status section: the same figures as the page, not audited every second.
        return render(request, "access/import_detail.html#status", context)
    services.import_viewed(actor=request.user, job=job)
    return render(request, "access/import_detail.html", context)


@login_required
@require_GET
def import_errors(request: HttpRequest, job_id: uuid.UUID) -> HttpResponseBase:
    job = selectors.get_import_for_user(request.user, job_id)
    try:
        handle = services.error_report_open(actor=request.user, job=job)
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"import-{str(job.pk)[:8]}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def extract_format(request: HttpRequest) -> HttpResponse:
    """The canonical extract's columns, codes and rules: no data, so any account may read it
    (the analyst who builds the extract need not be the data steward)."""
    context = {
        "columns": format_guide.columns(),
        "rules": format_guide.rules(),
        "accepted": format_guide.DATETIME_ACCEPTED,
        "refused": format_guide.DATETIME_REFUSED,
        "other_files": format_guide.other_files(),
    }
    return render(request, "access/extract_format.html", context)


@login_required
@require_GET
def extract_template(request: HttpRequest) -> HttpResponse:
    """Every column's header and the spec's three synthetic example rows, as a CSV."""
    response = HttpResponse(format_guide.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="extract-template.csv"'
    return response


# -- region access settings --------------------------------------------------------------------

STALE_MESSAGE = (
    "Someone else saved these settings while you were editing, so yours were not saved. Their "
    "values are shown under “Saved meanwhile”; check the form and save again to replace them."
)


def _settings_page(
    request: HttpRequest,
    region: Region,
    form: AccessSettingsForm,
    *,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    context = {
        "region": region,
        "form": form,
        "closures_form": extra.pop("closures_form", None) or ClosuresUploadForm(),
        "closures": settings_services.current_closures(region),
        "notes": CALENDAR_NOTES,
        "run": settings_services.latest_recompute(region),
        "dashboard_url": reverse("access:region-dashboard") + f"?region={region.slug}",
        **extra,
    }
    return render(request, "access/settings.html", context, status=status)


def _stored_settings_form(options: AccessSettings, slugs: list[str]) -> AccessSettingsForm:
    """The settings form holding the stored values."""
    return AccessSettingsForm(initial=AccessSettingsForm.initial_for(options), clinic_slugs=slugs)


@login_required
@require_http_methods(["GET", "POST"])
def region_settings(request: HttpRequest) -> HttpResponse:
    region = settings_services.settings_region(request.user, request.GET.get("region"))
    options = settings_services.region_settings(region)
    slugs = settings_services.clinic_slugs(region)
    if request.method != "POST":
        return _settings_page(
            request, region, _stored_settings_form(options, slugs), options=options
        )
    form = AccessSettingsForm(request.POST, clinic_slugs=slugs)
    if not form.is_valid():
        return _settings_page(request, region, form, status=422, options=options)
    try:
        result = settings_services.settings_save(
            actor=request.user,
            region=region,
            values=form.values(),
            expected_version=form.cleaned_data["version"],
        )
    except settings_services.StaleSettings as stale:
        # Keep what this person typed, on top of the version now stored, and show what the
        # other save holds: saving again is then a choice made knowingly.
        data = request.POST.copy()
        data["version"] = str(stale.current.version)
        form = AccessSettingsForm(data, clinic_slugs=slugs)
        form.is_valid()
        form.add_error(None, STALE_MESSAGE)
        return _settings_page(
            request,
            region,
            form,
            status=409,
            options=stale.current,
            conflict=stale.current,
            conflict_values=AccessSettingsForm.initial_for(stale.current),
        )
    if not result.changed:
        messages.info(request, "Nothing changed: the settings are as they were.")
    elif result.recompute is not None:
        messages.success(
            request,
            "Settings saved. The figures are being recomputed with the new calendar or clinic "
            "codes; the progress shows below and on the region dashboard.",
        )
    else:
        messages.success(request, "Settings saved.")
    return redirect(reverse("access:region-settings") + f"?region={region.slug}")


@login_required
@require_POST
def region_closures(request: HttpRequest) -> HttpResponse:
    region = settings_services.settings_region(request.user, request.GET.get("region"))
    options = settings_services.region_settings(region)
    form = ClosuresUploadForm(request.POST, request.FILES)
    settings_form = _stored_settings_form(options, settings_services.clinic_slugs(region))
    if not form.is_valid():
        return _settings_page(
            request, region, settings_form, status=422, options=options, closures_form=form
        )
    # Never more than the limit and one byte: the service refuses a larger file.
    content = form.cleaned_data["file"].read(settings_services.CLOSURES_MAX_BYTES + 1)
    result = settings_services.closures_upload(actor=request.user, region=region, content=content)
    if not result.valid:
        return _settings_page(
            request,
            region,
            settings_form,
            status=422,
            options=options,
            closures_form=form,
            closure_errors=result.errors,
            closure_error_count=result.error_count,
        )
    if not result.changed:
        messages.info(request, "Nothing changed: the closure days are the ones already in use.")
    elif result.recompute is not None:
        messages.success(
            request,
            "Closure calendar saved. The figures are being recomputed with it; the progress "
            "shows below and on the region dashboard.",
        )
    else:
        messages.success(request, "Closure calendar saved.")
    return redirect(reverse("access:region-settings") + f"?region={region.slug}#closures-heading")
