"""Meetings (schedule, agenda, attendance, minutes), the decisions log, action items and the
calendar feeds.

Each view makes one permission decision through a fetch-and-authorise selector and calls one
service or selector; htmx requests get the named partial of the same template.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commonground.core.permissions import allowed
from commonground.meetings import selectors, services
from commonground.meetings.forms import (
    ActionEditForm,
    ActionFilterForm,
    ActionForm,
    ActionStatusForm,
    AgendaItemForm,
    AmendmentDecisionForm,
    AmendmentForm,
    ApproveForm,
    AttendanceForm,
    DecisionForm,
    DecisionSearchForm,
    MeetingForm,
    MeetingSettingsForm,
    MinutesForm,
)
from commonground.meetings.models import Meeting
from commonground.organizations.models import Committee
from commonground.organizations.selectors import get_committee_for_user, memberships_for_home

MANAGE = "meetings.manage"
SESSION_NEW_TOKEN = "meetings_new_calendar_token"  # noqa: S105 - a session key, not a secret


def _errors(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


# --- committee level: /committees/<slug>/meetings/ ----------------------------------------


@login_required
@require_GET
def meeting_list(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug)
    return render(
        request,
        "meetings/meeting_list.html",
        {
            "committee": committee,
            "rows": selectors.committee_meetings(committee),
            "rules": selectors.meeting_settings(committee),
            "can_manage": allowed(request.user, MANAGE, committee),
            "now": timezone.now(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, MANAGE)
    form = MeetingForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_schedule(
                actor=request.user, committee=committee, **form.service_fields()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Meeting scheduled. Build its agenda below.")
            return redirect(meeting)
    return render(
        request,
        "meetings/meeting_form.html",
        {"committee": committee, "form": form, "heading": "Schedule a meeting"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_settings(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, MANAGE)
    current = selectors.meeting_settings(committee)
    form = MeetingSettingsForm(
        request.POST if request.method == "POST" else None, instance=copy.copy(current)
    )
    if request.method == "POST" and form.is_valid():
        services.meeting_settings_set(
            actor=request.user,
            committee=committee,
            **{name: form.cleaned_data[name] for name in services.SETTINGS_FIELDS},
        )
        messages.success(request, "Meeting rules saved.")
        return redirect("meetings:meeting-list", slug=committee.slug)
    return render(request, "meetings/meeting_settings.html", {"committee": committee, "form": form})


def _decision_form_page(
    request: HttpRequest, committee: Committee, meeting: Meeting | None
) -> HttpResponse:
    initial = {"decided_on": timezone.localdate()}
    if meeting is not None:
        initial["decided_on"] = timezone.localtime(meeting.starts_at).date()
    form = DecisionForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            decision = services.decision_record(
                actor=request.user, committee=committee, meeting=meeting, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if decision.without_quorum:
                messages.warning(request, "Decision recorded, flagged: the meeting lacks quorum.")
            else:
                messages.success(request, "Decision recorded.")
            return redirect(meeting or decision)
    return render(
        request,
        "meetings/decision_form.html",
        {"committee": committee, "meeting": meeting, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def decision_create(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, MANAGE)
    return _decision_form_page(request, committee, None)


def _action_filters(request: HttpRequest) -> tuple[ActionFilterForm, dict[str, Any]]:
    form = ActionFilterForm(request.GET or None)
    return form, form.filters()


@login_required
@require_GET
def committee_actions(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug)
    form, filters = _action_filters(request)
    return render(
        request,
        "meetings/action_list.html",
        {
            "committee": committee,
            "filter_form": form,
            "actions": selectors.committee_actions(committee, **filters),
            "can_manage": allowed(request.user, MANAGE, committee),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_create(request: HttpRequest, slug: str) -> HttpResponse:
    committee = get_committee_for_user(request.user, slug, MANAGE)
    form = ActionForm(
        request.POST if request.method == "POST" else None,
        committee=committee,
        prefill=request.GET,
    )
    if request.method == "POST" and form.is_valid():
        try:
            action = services.action_create(
                actor=request.user, committee=committee, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Action item recorded.")
            return redirect(action.meeting or action.decision or action)
    return render(request, "meetings/action_form.html", {"committee": committee, "form": form})


# --- meetings: /meetings/<uuid>/ ----------------------------------------------------------


def _meeting_page(
    request: HttpRequest,
    meeting: Meeting,
    *,
    partial: str = "",
    agenda_form: AgendaItemForm | None = None,
    amendment_form: AmendmentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    page = selectors.meeting_page(meeting)
    user = request.user
    can_manage = allowed(user, MANAGE, meeting)
    my_side = selectors.cochair_side(user, meeting.committee)
    context = {
        "meeting": meeting,
        "committee": meeting.committee,
        "page": page,
        "now": timezone.now(),
        "today": timezone.localdate(),
        "can_manage": can_manage,
        "can_approve": allowed(user, "meetings.approve_minutes", meeting),
        "my_side": my_side,
        "my_side_approved": bool(my_side) and page.minutes.approved_by_side(my_side or ""),
        "can_amend": allowed(user, "meetings.propose_amendment", meeting),
        "can_decide_amendment": allowed(user, "meetings.decide_amendment", meeting),
        "suggestions": (selectors.agenda_suggestions(meeting, page.agenda) if can_manage else []),
        "agenda_form": agenda_form or AgendaItemForm(committee=meeting.committee),
        "amendment_form": amendment_form or AmendmentForm(),
        "approve_form": ApproveForm(initial={"version": page.minutes.version}),
    }
    template = "meetings/meeting_detail.html"
    if partial and request.htmx:  # type: ignore[attr-defined]
        template += f"#{partial}"
    return render(request, template, context, status=status)


@login_required
@require_GET
def meeting_detail(request: HttpRequest, meeting_id: uuid.UUID) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, meeting_id)
    return _meeting_page(request, meeting)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, meeting_id: uuid.UUID) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, meeting_id, MANAGE)
    form = MeetingForm(
        request.POST if request.method == "POST" else None,
        initial=MeetingForm.initial_for(meeting),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_update(actor=request.user, meeting=meeting, **form.service_fields())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Meeting saved.")
            return redirect(meeting)
    return render(
        request,
        "meetings/meeting_form.html",
        {
            "committee": meeting.committee,
            "meeting": meeting,
            "form": form,
            "heading": "Change the meeting",
        },
    )


@login_required
@require_POST
def agenda_add(request: HttpRequest, meeting_id: uuid.UUID) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, meeting_id, MANAGE)
    form = AgendaItemForm(request.POST, committee=meeting.committee)
    if form.is_valid():
        try:
            services.agenda_item_add(
                actor=request.user,
                meeting=meeting,
                title=form.cleaned_data["title"],
                duration_minutes=form.cleaned_data["duration_minutes"],
                presenter=form.cleaned_data["presenter"],
                concern=form.cleaned_data["concern"],
                action_item=form.cleaned_data["action"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Agenda item added.")
            if not request.htmx:  # type: ignore[attr-defined]
                return redirect(meeting)
            return _meeting_page(request, meeting, partial="agenda")
    # htmx swaps only successful responses: its fragment with the errors answers 200.
    status = 200 if request.htmx else 422  # type: ignore[attr-defined]
    return _meeting_page(request, meeting, partial="agenda", agenda_form=form, status=status)


@login_required
@require_POST
def agenda_remove(request: HttpRequest, meeting_id: uuid.UUID, item_id: int) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, meeting_id, MANAGE)
    item = selectors.get_agenda_item(meeting, item_id)
    services.agenda_item_remove(actor=request.user, item=item)
    messages.success(request, f"“{item.title}” taken off the agenda.")
    if request.htmx:  # type: ignore[attr-defined]
        return _meeting_page(request, meeting, partial="agenda")
    return redirect(meeting)


@login_required
@require_POST
def attendance_set(request: HttpRequest, meeting_id: uuid.UUID) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, meeting_id, MANAGE)
    form = AttendanceForm(request.POST)
    status = 200
    if form.is_valid():
        person = get_user_model().objects.filter(pk=form.cleaned_data["person"]).first()
        try:
            if person is None:
                raise ValidationError("No such person.")
            services.attendance_set(
                actor=request.user,
                meeting=meeting,
                person=person,
                present=form.cleaned_data["present"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            status = 422
    else:
        messages.error(request, "Choose a person and whether they attended.")
        status = 422
    if request.htmx:  # type: ignore[attr-defined]
        return _meeting_page(request, meeting, partial="attendance")
    if status == 200:
        return redirect(f"{meeting.get_absolute_url()}#attendance")
    return _meeting_page(request, meeting, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def minutes_edit(request: HttpRequest, meeting_id: uuid.UUID) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, meeting_id, MANAGE)
    minutes = meeting.minutes
    form = MinutesForm(
        request.POST if request.method == "POST" else None,
        initial={"text": minutes.text, "version": minutes.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.minutes_save(
                actor=request.user,
                minutes=minutes,
                text=form.cleaned_data["text"],
                expected_version=form.cleaned_data["version"],
            )
        except services.StaleMinutes as stale:
            return render(
                request,
                "meetings/minutes_conflict.html",
                {
                    "meeting": meeting,
                    "current": stale.current,
                    "mine": form.cleaned_data["text"],
                    "form": MinutesForm(
                        initial={"text": stale.current.text, "version": stale.current.version}
                    ),
                },
                status=409,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Minutes saved.")
            return redirect(f"{meeting.get_absolute_url()}#minutes")
    return render(
        request,
        "meetings/minutes_form.html",
        {"meeting": meeting, "committee": meeting.committee, "minutes": minutes, "form": form},
    )


@login_required
@require_POST
def minutes_approve(request: HttpRequest, meeting_id: uuid.UUID) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, meeting_id, "meetings.approve_minutes")
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Reload the page and approve again.")
        return redirect(meeting)
    try:
        minutes = services.minutes_approve(
            actor=request.user,
            minutes=meeting.minutes,
            expected_version=form.cleaned_data["version"],
        )
    except services.StaleMinutes as stale:
        return render(
            request,
            "meetings/minutes_conflict.html",
            {"meeting": meeting, "current": stale.current, "approving": True},
            status=409,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if minutes.is_approved:
            messages.success(request, "Minutes approved by both co-chairs. Amendments are open.")
        else:
            messages.success(request, "Approved. The other co-chair's approval is still needed.")
    return redirect(f"{meeting.get_absolute_url()}#minutes")


@login_required
@require_POST
def amendment_propose(request: HttpRequest, meeting_id: uuid.UUID) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, meeting_id, "meetings.propose_amendment")
    form = AmendmentForm(request.POST)
    if form.is_valid():
        try:
            services.amendment_propose(
                actor=request.user, minutes=meeting.minutes, text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Amendment proposed to the co-chairs.")
    else:
        messages.error(request, _errors(form) or "Write the amendment.")
    return redirect(f"{meeting.get_absolute_url()}#minutes")


@login_required
@require_POST
def amendment_decide(request: HttpRequest, amendment_id: uuid.UUID) -> HttpResponse:
    amendment = selectors.get_amendment_for_user(
        request.user, amendment_id, "meetings.decide_amendment"
    )
    meeting = amendment.minutes.meeting
    form = AmendmentDecisionForm(request.POST)
    if form.is_valid():
        try:
            services.amendment_decide(
                actor=request.user,
                amendment=amendment,
                accept=form.cleaned_data["decision"] == "accept",
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Amendment {amendment.get_status_display().lower()}.")
    else:
        messages.error(request, "Accept or reject the amendment.")
    return redirect(f"{meeting.get_absolute_url()}#minutes")


@login_required
@require_http_methods(["GET", "POST"])
def meeting_decision_create(request: HttpRequest, meeting_id: uuid.UUID) -> HttpResponse:
    meeting = selectors.get_meeting_for_user(request.user, meeting_id, MANAGE)
    return _decision_form_page(request, meeting.committee, meeting)


# --- decisions ----------------------------------------------------------------------------


@login_required
@require_GET
def decision_log(request: HttpRequest) -> HttpResponse:
    form = DecisionSearchForm(request.GET or None, user=request.user)
    query, committee = "", None
    if form.is_valid():
        query = form.cleaned_data["q"]
        committee = form.cleaned_data["committee"]
    decisions = selectors.decision_log(request.user, query=query, committee=committee)
    page = Paginator(decisions, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "meetings/decision_log.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "params": params.urlencode(),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_GET
def decision_detail(request: HttpRequest, decision_id: uuid.UUID) -> HttpResponse:
    decision = selectors.get_decision_for_user(request.user, decision_id)
    return render(
        request,
        "meetings/decision_detail.html",
        {
            "decision": decision,
            "committee": decision.committee,
            "actions": selectors.decision_actions(decision),
            "can_manage": allowed(request.user, MANAGE, decision),
            "today": timezone.localdate(),
        },
    )


# --- action items -------------------------------------------------------------------------


@login_required
@require_GET
def my_actions(request: HttpRequest) -> HttpResponse:
    form, filters = _action_filters(request)
    return render(
        request,
        "meetings/action_list.html",
        {
            "filter_form": form,
            "actions": selectors.my_actions(request.user, **filters),
            "mine": True,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_edit(request: HttpRequest, action_id: uuid.UUID) -> HttpResponse:
    action = selectors.get_action_for_user(request.user, action_id, "meetings.edit_action")
    data = request.POST if request.method == "POST" else None
    form: ActionEditForm | ActionStatusForm
    if allowed(request.user, MANAGE, action):
        # The form edits a copy: the service compares against the stored values for the audit.
        form = ActionEditForm(data, instance=copy.copy(action), committee=action.committee)
    else:  # an owner updates the status of their action
        form = ActionStatusForm(data, initial={"status": action.status})
    if request.method == "POST" and form.is_valid():
        try:
            services.action_update(actor=request.user, action=action, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Action item saved.")
            return redirect("meetings:committee-actions", slug=action.committee.slug)
    return render(
        request,
        "meetings/action_form.html",
        {"committee": action.committee, "action": action, "form": form},
    )


# --- calendar feeds -----------------------------------------------------------------------


@login_required
@require_GET
@never_cache
def calendar_page(request: HttpRequest) -> HttpResponse:
    token = request.session.pop(SESSION_NEW_TOKEN, None)
    feeds: list[tuple[str, str]] = []
    if token:
        feeds.append(
            ("All my meetings and actions", _absolute(request, "meetings:feed-person", token))
        )
        for seat in memberships_for_home(request.user):
            url = _absolute(request, "meetings:feed-committee", token, seat.committee.slug)
            feeds.append((seat.committee.name, url))
    return render(
        request,
        "meetings/calendar.html",
        {"feeds": feeds, "has_token": selectors.has_calendar_token(request.user)},
    )


def _absolute(request: HttpRequest, name: str, *args: str) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


@login_required
@require_POST
def calendar_regenerate(request: HttpRequest) -> HttpResponse:
    token = services.calendar_token_regenerate(actor=request.user)
    request.session[SESSION_NEW_TOKEN] = token
    messages.success(request, "New feed links made. The old links no longer work.")
    return redirect("meetings:calendar")


def _ics(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@require_GET
def feed_person(request: HttpRequest, token: str) -> HttpResponse:
    """The person's calendar, authorised by the secret in its URL (no session cookie)."""
    person = selectors.person_for_token(token)
    return _ics(selectors.person_feed(person, base_url=_base_url(request)), "common-ground.ics")


@require_GET
def feed_committee(request: HttpRequest, token: str, slug: str) -> HttpResponse:
    person = selectors.person_for_token(token)
    committee = selectors.get_committee_for_feed(person, slug)
    text = selectors.committee_feed(committee, base_url=_base_url(request))
    return _ics(text, f"{committee.slug}.ics")
