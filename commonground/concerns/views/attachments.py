"""Evidence files: add, remove, download. Every file is served through the concern's
permission, never from a public URL."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from commonground.concerns import selectors
from commonground.concerns.forms import EvidenceForm
from commonground.concerns.models import Concern
from commonground.concerns.selectors.attachments import evidence_panel, get_attachment_for_user
from commonground.concerns.services import attachments as services
from commonground.concerns.sniff import download_name

# A downloaded file is never run as a page of this site, whatever a browser makes of it.
DOWNLOAD_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"


def _panel(
    request: HttpRequest, concern: Concern, errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "concerns/_evidence.html",
        {
            "concern": concern,
            "evidence": evidence_panel(request.user, concern),
            "evidence_errors": errors or [],
        },
        status=status,
    )


@login_required
@require_POST
def evidence_upload(request: HttpRequest, concern_id: uuid.UUID) -> HttpResponse:
    concern = selectors.get_concern_for_user(request.user, concern_id, "concerns.add_evidence")
    form = EvidenceForm(request.POST, request.FILES)
    errors: list[str] = []
    if form.is_valid():
        try:
            stored = services.attachments_add(
                actor=request.user, concern=concern, uploads=form.cleaned_data["evidence"]
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            count = len(stored)
            messages.success(request, f"{count} file{'' if count == 1 else 's'} attached.")
            if request.htmx:  # type: ignore[attr-defined]
                return _panel(request, concern)
            return redirect(concern)
    else:
        errors = [str(error) for field_errors in form.errors.values() for error in field_errors]
    if request.htmx:  # type: ignore[attr-defined]
        # htmx swaps only successful responses: the fragment with its errors answers 200.
        return _panel(request, concern, errors)
    return render(
        request,
        "concerns/evidence_form.html",
        {
            "concern": concern,
            "evidence": evidence_panel(request.user, concern),
            "evidence_errors": errors,
        },
        status=422,
    )


@login_required
@require_POST
def evidence_remove(
    request: HttpRequest, concern_id: uuid.UUID, attachment_id: uuid.UUID
) -> HttpResponse:
    attachment = get_attachment_for_user(
        request.user, concern_id, attachment_id, "concerns.remove_evidence"
    )
    concern: Any = attachment.concern
    name = attachment.display_name
    services.attachment_remove(actor=request.user, attachment=attachment)
    messages.success(request, f"“{name}” removed.")
    if request.htmx:  # type: ignore[attr-defined]
        return _panel(request, concern)
    return redirect(concern)


@login_required
@require_GET
def evidence_download(
    request: HttpRequest, concern_id: uuid.UUID, attachment_id: uuid.UUID
) -> FileResponse:
    attachment = get_attachment_for_user(request.user, concern_id, attachment_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    services.attachment_download_record(actor=request.user, attachment=attachment)
    content_type = attachment.content_type
    if content_type == "text/csv":
        content_type += "; charset=utf-8"
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=download_name(attachment.display_name, attachment.content_type),
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
