"""Improvement projects, measures with their charts, PDSA cycles and the accountability ledger.

Each view makes one permission decision through a fetch-and-authorise selector and calls one
service or selector.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.core.permissions import allowed
from commonground.improvement import selectors, services
from commonground.improvement.forms import (
    ChartSettingsForm,
    CommitmentForm,
    MeasureForm,
    PdsaPlanForm,
    PdsaRecordForm,
    PointForm,
    ProjectEditForm,
    ProjectForm,
    ProjectLinkForm,
    RecommendationForm,
    TeamMemberForm,
    UploadForm,
)
from commonground.improvement.models import Measure
from commonground.organizations.access import access_profile
from commonground.organizations.models import Side
from commonground.organizations.selectors import committee_people, get_committee_for_user

EDIT = "improvement.edit_project"


# --- committee level: /committees/<slug>/improvement/ -------------------------------------


@login_required
@require_GET
def committee_projects(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug)
    return render(
        request,
        "improvement/committee_projects.html",
        {
            "committee": committee,
            "projects": selectors.committee_projects(committee),
            "can_start": allowed(request.user, "improvement.start_project", committee),
            "can_set_profile": allowed(request.user, "improvement.set_chart_profile", committee),
            "profile_form": ChartSettingsForm(
                initial={"profile": selectors.chart_profile(committee)}
            ),
            "ledger": selectors.committee_ledger(committee),
            "signals": selectors.committee_signals(committee),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, "improvement.start_project")
    # ?idea=<uuid>: started from an idea of the committee's board (prefilled, then linked).
    idea = selectors.idea_for_project(committee, request.GET.get("idea", ""))
    initial = {"title": idea.title, "aim_what": idea.description or idea.title} if idea else {}
    form = ProjectForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        side = access_profile(request.user).side_by_committee.get(committee.pk, Side.NEUTRAL)
        project = services.project_create(
            actor=request.user, committee=committee, lead_side=side, idea=idea, **form.cleaned_data
        )
        messages.success(request, "Project started. Add a measure and the other side's lead.")
        return redirect(project)
    return render(
        request,
        "improvement/project_form.html",
        {"committee": committee, "form": form, "idea": idea},
    )


@login_required
@require_POST
def chart_settings(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, "improvement.set_chart_profile")
    form = ChartSettingsForm(request.POST)
    if form.is_valid():
        services.chart_settings_set(
            actor=request.user, committee=committee, profile=form.cleaned_data["profile"]
        )
        messages.success(request, "Chart rules saved.")
    else:
        messages.error(request, "Choose one of the listed chart rules.")
    return redirect("improvement:committee-projects", slug=committee.slug)


@login_required
@require_GET
def committee_ledger(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug)
    return render(
        request,
        "improvement/committee_ledger.html",
        {
            "committee": committee,
            "ledger": selectors.committee_ledger(committee),
            "can_manage": allowed(request.user, "improvement.manage_ledger", committee),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def recommendation_create(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, "improvement.manage_ledger")
    form = RecommendationForm(
        request.POST if request.method == "POST" else None, committee=committee
    )
    if request.method == "POST" and form.is_valid():
        services.recommendation_create(actor=request.user, committee=committee, **form.cleaned_data)
        messages.success(request, "Recommendation recorded. Add the commitments that follow it.")
        return redirect("improvement:committee-ledger", slug=committee.slug)
    if request.method == "GET":
        form.initial["made_on"] = timezone.localdate()
    return render(
        request, "improvement/recommendation_form.html", {"committee": committee, "form": form}
    )


# --- projects: /improvement/projects/<uuid>/ ---------------------------------------------


@login_required
@require_GET
def project_detail(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    project = selectors.get_project_for_user(request.user, project_id)
    page = selectors.project_page(project)
    profile = selectors.chart_profile(project.committee)
    charts = [
        (measure, selectors.measure_chart(measure, profile=profile))
        for measure in page.measures.all()
    ]
    return render(
        request,
        "improvement/project_detail.html",
        {
            "project": page,
            "charts": charts,
            "can_edit": allowed(request.user, EDIT, project),
            "missing_sides": services.team_sides_missing(page),
            "member_form": TeamMemberForm(),
            "pdsa_form": PdsaPlanForm(project=page, initial={"started_on": timezone.localdate()}),
            "links": selectors.project_links(project),
            "chart_scripts": True,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    project = selectors.get_project_for_user(request.user, project_id, EDIT)
    initial = {
        "title": project.title,
        "aim_what": project.aim_what,
        "aim_how_much": project.aim_how_much,
        "aim_by_when": project.aim_by_when,
        "status": project.status,
    }
    form = ProjectEditForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.project_update(actor=request.user, project=project, **form.cleaned_data)
        messages.success(request, "Project saved.")
        return redirect(project)
    return render(
        request,
        "improvement/project_form.html",
        {"committee": project.committee, "project": project, "form": form},
    )


@login_required
@require_POST
def team_member_add(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    project = selectors.get_project_for_user(request.user, project_id, EDIT)
    form = TeamMemberForm(request.POST)
    if form.is_valid():
        try:
            services.project_member_add(
                actor=request.user,
                project=project,
                person=form.cleaned_data["person"],
                side=form.cleaned_data["side"],
                is_lead=form.cleaned_data["is_lead"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Added to the team.")
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect(project)


@login_required
@require_POST
def team_member_remove(request: HttpRequest, project_id: uuid.UUID, member_id: int) -> HttpResponse:
    project = selectors.get_project_for_user(request.user, project_id, EDIT)
    member = selectors.get_team_member(project, member_id)
    try:
        services.project_member_remove(actor=request.user, member=member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{member.person.get_display_name()} left the team.")
    return redirect(project)


@login_required
@require_http_methods(["GET", "POST"])
def measure_create(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    project = selectors.get_project_for_user(request.user, project_id, EDIT)
    form = MeasureForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        measure = services.measure_create(actor=request.user, project=project, **form.cleaned_data)
        messages.success(request, "Measure added. Enter its data or upload a CSV.")
        return redirect(measure)
    return render(request, "improvement/measure_form.html", {"project": project, "form": form})


def _measure_page(
    request: HttpRequest,
    measure: Measure,
    *,
    point_form: PointForm | None = None,
    upload_form: UploadForm | None = None,
    upload_errors: list[services.RowError] | None = None,
    status: int = 200,
) -> HttpResponse:
    profile = selectors.chart_profile(measure.project.committee)
    return render(
        request,
        "improvement/measure_detail.html",
        {
            "measure": measure,
            "project": measure.project,
            "chart": selectors.measure_chart(measure, profile=profile),
            "points": measure.points.order_by("-period"),
            "phase_breaks": measure.phase_breaks.select_related("cycle"),
            "can_edit": allowed(request.user, EDIT, measure.project),
            "point_form": point_form or PointForm(),
            "upload_form": upload_form or UploadForm(),
            "upload_errors": upload_errors or [],
            "chart_scripts": True,
        },
        status=status,
    )


@login_required
@require_GET
def measure_detail(request: HttpRequest, measure_id: uuid.UUID) -> HttpResponse:
    measure = selectors.get_measure_for_user(request.user, measure_id)
    return _measure_page(request, measure)


@login_required
@require_POST
def measure_point_add(request: HttpRequest, measure_id: uuid.UUID) -> HttpResponse:
    measure = selectors.get_measure_for_user(request.user, measure_id, EDIT)
    form = PointForm(request.POST)
    if form.is_valid():
        try:
            services.measure_point_set(actor=request.user, measure=measure, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Value saved.")
            return redirect(measure)
    return _measure_page(request, measure, point_form=form, status=422)


@login_required
@require_POST
def measure_upload(request: HttpRequest, measure_id: uuid.UUID) -> HttpResponse:
    measure = selectors.get_measure_for_user(request.user, measure_id, EDIT)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _measure_page(request, measure, upload_form=form, status=422)
    upload = form.cleaned_data["file"]
    if upload.size > services.MAX_UPLOAD_BYTES:
        errors = [services.RowError(0, "", "", "the file is over 1,000,000 bytes")]
        return _measure_page(request, measure, upload_errors=errors, status=422)
    try:
        result = services.measure_points_import(
            actor=request.user, measure=measure, raw=upload.read(), filename=upload.name or ""
        )
    except services.UploadRejected as rejected:
        return _measure_page(request, measure, upload_errors=rejected.errors, status=422)
    messages.success(
        request,
        f"Imported {result.rows} rows: {result.created} new, {result.updated} changed, "
        f"{result.unchanged} unchanged.",
    )
    return redirect(measure)


@login_required
@require_POST
def pdsa_create(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    project = selectors.get_project_for_user(request.user, project_id, EDIT)
    form = PdsaPlanForm(request.POST, project=project)
    if form.is_valid():
        services.pdsa_create(actor=request.user, project=project, **form.cleaned_data)
        messages.success(request, "PDSA cycle planned.")
    else:
        messages.error(request, "The cycle needs a change, a plan, a prediction and a start date.")
    return redirect(project)


@login_required
@require_http_methods(["GET", "POST"])
def pdsa_record(request: HttpRequest, cycle_id: uuid.UUID) -> HttpResponse:
    cycle = selectors.get_cycle_for_user(request.user, cycle_id, EDIT)
    initial = {
        "do_notes": cycle.do_notes,
        "study": cycle.study,
        "act": cycle.act,
        "act_reason": cycle.act_reason,
        "ended_on": cycle.ended_on,
    }
    form = PdsaRecordForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.pdsa_record(actor=request.user, cycle=cycle, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"PDSA {cycle.number} saved.")
            return redirect(cycle.project)
    return render(request, "improvement/pdsa_form.html", {"cycle": cycle, "form": form})


# --- ledger: recommendations and commitments ---------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def commitment_create(request: HttpRequest, rec_id: uuid.UUID) -> HttpResponse:
    rec = selectors.get_recommendation_for_user(request.user, rec_id, "improvement.manage_ledger")
    people = {
        side: committee_people(rec.committee, side) for side in (Side.CLINICIAN, Side.MANAGEMENT)
    }
    form = CommitmentForm(request.POST if request.method == "POST" else None, people_by_side=people)
    if request.method == "POST" and form.is_valid():
        try:
            services.commitment_create(actor=request.user, recommendation=rec, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Commitment recorded.")
            return redirect("improvement:committee-ledger", slug=rec.committee.slug)
    return render(
        request,
        "improvement/commitment_form.html",
        {"recommendation": rec, "committee": rec.committee, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def commitment_edit(request: HttpRequest, commitment_id: uuid.UUID) -> HttpResponse:
    commitment = selectors.get_commitment_for_user(
        request.user, commitment_id, "improvement.manage_ledger"
    )
    committee = commitment.recommendation.committee
    people = {side: committee_people(committee, side) for side in (Side.CLINICIAN, Side.MANAGEMENT)}
    # The form edits a copy: the service compares against the stored values for the audit.
    form = CommitmentForm(
        request.POST if request.method == "POST" else None,
        instance=copy.copy(commitment),
        people_by_side=people,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.commitment_update(
                actor=request.user, commitment=commitment, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Commitment updated.")
            return redirect("improvement:committee-ledger", slug=committee.slug)
    return render(
        request,
        "improvement/commitment_form.html",
        {
            "recommendation": commitment.recommendation,
            "committee": committee,
            "commitment": commitment,
            "form": form,
        },
    )


@login_required
@require_GET
def region_ledger(request: HttpRequest) -> HttpResponse:
    if not allowed(request.user, "improvement.view_region_ledger"):
        audit_record(
            action=AuditEvent.Action.DENIED,
            actor=request.user,
            object_type="improvement.region_ledger",
            changes={"permission": "improvement.view_region_ledger"},
        )
        raise PermissionDenied
    rows = [
        replace(row, can_open=allowed(request.user, "organizations.view_committee", row.committee))
        for row in selectors.region_ledger(access_profile(request.user).region_ids)
    ]
    return render(request, "improvement/region_ledger.html", {"rows": rows})


@login_required
@require_POST
def project_links(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Link or unlink a concern, a decision or an idea of the committee."""
    project = selectors.get_project_for_user(request.user, project_id, EDIT)
    form = ProjectLinkForm(request.POST)
    target = form.chosen(project.committee) if form.is_valid() else None
    if target is None:
        messages.error(request, "Choose a concern, a decision or an idea of this committee.")
        return redirect(project)
    try:
        services.project_link(
            actor=request.user,
            project=project,
            kind=form.cleaned_data["kind"],
            target=target,
            unlink=form.cleaned_data["unlink"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Link removed." if form.cleaned_data["unlink"] else "Linked.")
    return redirect(project)


# --- access signals -----------------------------------------------------------------------


@login_required
@require_GET
def signal_detail(request: HttpRequest, signal_id: uuid.UUID) -> HttpResponse:
    signal = selectors.get_signal_for_user(request.user, signal_id)
    return render(
        request,
        "improvement/signal_detail.html",
        {
            "signal": signal,
            "chart": selectors.signal_chart(signal),
            "can_decide": allowed(request.user, "improvement.decide_signal", signal),
            "chart_scripts": True,
        },
    )


@login_required
@require_POST
def signal_decide(request: HttpRequest, signal_id: uuid.UUID) -> HttpResponse:
    signal = selectors.get_signal_for_user(request.user, signal_id, "improvement.decide_signal")
    try:
        if request.POST.get("decision") == "raise":
            concern = services.access_signal_raise(actor=request.user, signal=signal)
            messages.success(request, "Raised as a concern, with the monthly figures attached.")
            return redirect(concern)
        services.access_signal_dismiss(
            actor=request.user, signal=signal, reason=request.POST.get("reason", "")
        )
        messages.success(request, "Dismissed; the reason is kept with the signal.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("improvement:signal-detail", signal_id=signal.public_id)
