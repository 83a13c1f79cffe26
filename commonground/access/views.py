"""The data steward's import pages: upload, progress, counts and the error report.

No page shows row-level data: only jobs, counts and data-quality figures. Each view makes one
permission decision through a selector and calls one service or selector.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from commonground.access import selectors, services
from commonground.access.forms import ImportUploadForm

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
        )
        messages.success(request, "File received. It is checked, then merged, in the background.")
        return redirect(job)
    page = Paginator(selectors.import_jobs(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    services.import_viewed(actor=request.user)
    return render(
        request,
        "access/imports.html",
        {"form": form, "page": page},
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def import_detail(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    job = selectors.get_import_for_user(request.user, job_id)
    context = {"job": job, "quality": selectors.quality_lines(job)}
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
