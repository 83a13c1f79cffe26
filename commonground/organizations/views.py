"""Clinic directory, committee pages and roster management.

Each view makes one permission decision through a fetch-and-authorise selector and
calls one service or selector; htmx requests get the roster partial of the same template.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.core.exports import safe_cell
from commonground.core.permissions import allowed
from commonground.organizations import selectors, services
from commonground.organizations.forms import CochairAssignForm, CommitteeForm, MembershipAddForm
from commonground.organizations.models import Committee, Side


@login_required
@require_GET
def clinic_list(request: HttpRequest) -> HttpResponse:
    listings = selectors.clinic_directory(request.user)
    return render(request, "organizations/clinic_list.html", {"listings": listings})


@login_required
@require_GET
def clinic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    clinic = selectors.get_clinic_for_user(request.user, slug)
    committees = selectors.clinic_committees(clinic)
    return render(
        request, "organizations/clinic_detail.html", {"clinic": clinic, "committees": committees}
    )


def _committee_page(
    request: HttpRequest,
    committee: Committee,
    *,
    add_form: MembershipAddForm | None = None,
    cochair_form: CochairAssignForm | None = None,
    status: int = 200,
) -> HttpResponse:
    roster = selectors.committee_roster(committee)
    can_manage = allowed(request.user, "organizations.manage_committee", committee)
    context = {
        "committee": committee,
        "roster": roster,
        "can_manage": can_manage,
        "add_form": add_form or MembershipAddForm(),
        "cochair_form": cochair_form
        or CochairAssignForm(seats=[s for side in roster.by_side.values() for s in side]),
        "min_group_size": None,
    }
    template = "organizations/committee_detail.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#roster"
    return render(request, template, context, status=status)


@login_required
@require_GET
def committee_detail(request: HttpRequest, slug: str) -> HttpResponse:
    committee = selectors.get_committee_for_user(request.user, slug)
    return _committee_page(request, committee)


@login_required
@require_GET
def committee_history(request: HttpRequest, slug: str) -> HttpResponse:
    committee = selectors.get_committee_for_user(request.user, slug)
    past = selectors.committee_history(committee)
    return render(
        request, "organizations/committee_history.html", {"committee": committee, "past": past}
    )


@login_required
@require_http_methods(["GET", "POST"])
def committee_edit(request: HttpRequest, slug: str) -> HttpResponse:
    committee = selectors.get_committee_for_user(
        request.user, slug, "organizations.manage_committee"
    )
    form = CommitteeForm(
        request.POST if request.method == "POST" else None,
        initial={"name": committee.name, "purpose": committee.purpose},
    )
    if request.method == "POST" and form.is_valid():
        services.committee_update(
            actor=request.user,
            committee=committee,
            name=form.cleaned_data["name"],
            purpose=form.cleaned_data["purpose"],
        )
        messages.success(request, "Committee saved.")
        return redirect(committee)
    return render(
        request, "organizations/committee_edit.html", {"committee": committee, "form": form}
    )


@login_required
@require_POST
def membership_add(request: HttpRequest, slug: str) -> HttpResponse:
    committee = selectors.get_committee_for_user(
        request.user, slug, "organizations.manage_committee"
    )
    form = MembershipAddForm(request.POST)
    if form.is_valid():
        try:
            services.membership_add(
                actor=request.user,
                committee=committee,
                person=form.cleaned_data["person"],
                side=form.cleaned_data["side"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Member added.")
            if not request.htmx:  # type: ignore[attr-defined]
                return redirect(committee)
            return _committee_page(request, committee)
    return _committee_page(request, committee, add_form=form, status=422)


@login_required
@require_POST
def membership_end(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    committee = selectors.get_committee_for_user(
        request.user, slug, "organizations.manage_committee"
    )
    membership = selectors.get_membership_in_committee(committee, membership_id)
    try:
        services.membership_end(actor=request.user, membership=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        if request.htmx:  # type: ignore[attr-defined]
            return _committee_page(request, committee, status=422)
    else:
        messages.success(request, f"{membership.person.get_display_name()} has left the committee.")
    if request.htmx:  # type: ignore[attr-defined]
        return _committee_page(request, committee)
    return redirect(committee)


@login_required
@require_POST
def cochair_assign(request: HttpRequest, slug: str) -> HttpResponse:
    committee = selectors.get_committee_for_user(
        request.user, slug, "organizations.manage_committee"
    )
    roster = selectors.committee_roster(committee)
    form = CochairAssignForm(
        request.POST, seats=[s for side in roster.by_side.values() for s in side]
    )
    if form.is_valid():
        seat = form.cleaned_data["membership"]
        try:
            services.cochair_assign(
                actor=request.user, committee=committee, person=seat.person, side=seat.side
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            side_label = Side(seat.side).label.lower()
            messages.success(
                request, f"{seat.person.get_display_name()} is now the {side_label} co-chair."
            )
            if not request.htmx:  # type: ignore[attr-defined]
                return redirect(committee)
            return _committee_page(request, committee)
    return _committee_page(request, committee, cochair_form=form, status=422)


@login_required
@require_GET
def roster_export(request: HttpRequest, slug: str) -> HttpResponse:
    """The current roster as CSV: an identity-bearing export, so it is audited."""
    committee = selectors.get_committee_for_user(request.user, slug, "organizations.export_roster")
    roster = selectors.committee_roster(committee)
    audit_record(
        action=AuditEvent.Action.EXPORT,
        actor=request.user,
        obj=committee,
        clinic_id=committee.clinic_id,
        changes={"export": "roster.csv", "rows": roster.total},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="roster-{committee.slug}-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(["name", "email", "side", "role", "since"])
    for side in Side:
        for seat in roster.by_side.get(side.value, []):
            writer.writerow(
                [
                    safe_cell(seat.person.get_display_name()),
                    safe_cell(seat.person.email),
                    seat.get_side_display(),
                    seat.get_role_display(),
                    seat.start_date.isoformat(),
                ]
            )
    return response
