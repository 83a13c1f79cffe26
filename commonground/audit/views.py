from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from commonground.audit.forms import AuditFilterForm
from commonground.audit.models import AuditEvent
from commonground.audit.selectors import audit_events, audit_object_types
from commonground.audit.services import audit_record
from commonground.core.permissions import allowed
from commonground.organizations.models import Clinic

PAGE_SIZE = 50


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    if not allowed(request.user, "audit.view_trail"):
        audit_record(
            action=AuditEvent.Action.DENIED,
            actor=request.user,
            object_type="audit.trail",
            changes={"permission": "audit.view_trail"},
        )
        raise PermissionDenied
    clinics = list(Clinic.objects.order_by("name").values_list("pk", "name"))
    form = AuditFilterForm(request.GET or None, clinics=clinics, object_types=audit_object_types())
    filters = form.to_filter()
    page = Paginator(audit_events(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    # Reading the trail is itself a sensitive read.
    audit_record(
        action=AuditEvent.Action.VIEW,
        actor=request.user,
        object_type="audit.trail",
        changes={"filters": {k: str(v) for k, v in vars(filters).items() if v}},
    )
    clinic_names = dict(clinics)
    template = "audit/event_list.html#results" if request.htmx else "audit/event_list.html"  # type: ignore[attr-defined]
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "clinic_names": clinic_names,
            "query": _query_without_page(request),
        },
    )


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
