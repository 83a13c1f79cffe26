"""Reads for meetings, minutes, decisions, action items and the calendar feeds."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import NoReverseMatch
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.concerns import selectors as concern_selectors
from commonground.core.permissions import allowed
from commonground.meetings import ics
from commonground.meetings.models import (
    ActionItem,
    AgendaItem,
    Amendment,
    Attendance,
    CalendarToken,
    Decision,
    Meeting,
    MeetingSettings,
    Minutes,
)
from commonground.meetings.quorum import QuorumResult, QuorumRule, check_quorum
from commonground.organizations.access import access_profile
from commonground.organizations.models import Committee, Membership, Role, Side
from commonground.organizations.selectors import committee_people

VIEW = "meetings.view"
FEED_PAST_DAYS = 90
PAGE_SIZE = 50


def _authorise(user: Any, obj: Any, committee: Committee, perm: str) -> None:
    """404 when the committee is out of sight, 403 when seen but ``perm`` is missing.

    Each refusal of an existing object is audited once.
    """
    for needed in dict.fromkeys((VIEW, perm)):
        if not allowed(user, needed, obj):
            audit_record(
                action=AuditEvent.Action.DENIED,
                actor=user,
                obj=obj,
                clinic_id=committee.clinic_id,
                changes={"permission": needed},
            )
            if needed == VIEW:
                raise Http404
            raise PermissionDenied


def get_meeting_for_user(user: Any, meeting_id: uuid.UUID, perm: str = VIEW) -> Meeting:
    meeting = (
        Meeting.objects.select_related("committee", "committee__clinic", "minutes")
        .filter(public_id=meeting_id)
        .first()
    )
    if meeting is None:
        raise Http404
    _authorise(user, meeting, meeting.committee, perm)
    return meeting


def get_decision_for_user(user: Any, decision_id: uuid.UUID, perm: str = VIEW) -> Decision:
    decision = (
        Decision.objects.select_related("committee", "committee__clinic", "meeting", "recorded_by")
        .filter(public_id=decision_id)
        .first()
    )
    if decision is None:
        raise Http404
    _authorise(user, decision, decision.committee, perm)
    return decision


def get_action_for_user(user: Any, action_id: uuid.UUID, perm: str = VIEW) -> ActionItem:
    action = (
        ActionItem.objects.select_related(
            "committee",
            "committee__clinic",
            "clinician_owner",
            "management_owner",
            "decision",
            "meeting",
            "concern",
        )
        .filter(public_id=action_id)
        .first()
    )
    if action is None:
        raise Http404
    _authorise(user, action, action.committee, perm)
    return action


def get_amendment_for_user(user: Any, amendment_id: uuid.UUID, perm: str) -> Amendment:
    amendment = (
        Amendment.objects.select_related(
            "minutes", "minutes__meeting", "minutes__meeting__committee"
        )
        .filter(public_id=amendment_id)
        .first()
    )
    if amendment is None:
        raise Http404
    _authorise(user, amendment, amendment.minutes.meeting.committee, perm)
    return amendment


def get_agenda_item(meeting: Meeting, item_id: int) -> AgendaItem:
    item = meeting.agenda_items.filter(pk=item_id).first()
    if item is None:
        raise Http404
    return item


# --- committee rules and quorum -----------------------------------------------------------


def meeting_settings(committee: Committee) -> MeetingSettings:
    """The committee's meeting rules, or the defaults (unsaved) when it has set none."""
    found = MeetingSettings.objects.filter(committee=committee).first()
    return found or MeetingSettings(committee=committee)


def quorum_rule(rules: MeetingSettings) -> QuorumRule:
    return QuorumRule(
        clinicians=rules.quorum_clinicians,
        management=rules.quorum_management,
        needs_cochair=rules.quorum_needs_cochair,
    )


def meeting_quorum(meeting: Meeting, rule: QuorumRule | None = None) -> QuorumResult:
    rule = rule or quorum_rule(meeting_settings(meeting.committee))
    rows = meeting.attendance.values_list("side", "is_cochair")
    return check_quorum(rule, rows)


# --- people -------------------------------------------------------------------------------


def committee_seats(committee: Committee, on: dt.date | None = None) -> QuerySet[Membership]:
    """Seats on the committee on a day (today by default), with their people."""
    day = on or timezone.localdate()
    return (
        Membership.objects.active_on(day)
        .filter(committee=committee)
        .select_related("person")
        .order_by("side", "person__last_name", "person__first_name")
    )


def committee_members(committee: Committee) -> QuerySet[Any]:
    return committee_people(committee)


def visible_committees(user: Any) -> QuerySet[Committee]:
    """The committees ``organizations.view_committee`` lets the person see, as one query."""
    profile = access_profile(user)
    if profile.user_id is None:
        return Committee.objects.none()
    return Committee.objects.filter(
        Q(region_id__in=profile.admin_region_ids)
        | Q(clinic_id__in=profile.clinic_ids)
        | Q(clinic__isnull=True, region_id__in=profile.region_ids)
    )


# --- meetings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingRow:
    meeting: Meeting
    quorum: QuorumResult | None


def committee_meetings(committee: Committee) -> list[MeetingRow]:
    """The committee's meetings, newest first, with quorum from attendance: two queries."""
    rule = quorum_rule(meeting_settings(committee))
    meetings = (
        Meeting.objects.filter(committee=committee)
        .annotate(
            clinicians=Count("attendance", filter=Q(attendance__side=Side.CLINICIAN)),
            managers=Count("attendance", filter=Q(attendance__side=Side.MANAGEMENT)),
            cochairs=Count(
                "attendance",
                filter=Q(attendance__is_cochair=True)
                & Q(attendance__side__in=[Side.CLINICIAN, Side.MANAGEMENT]),
            ),
            attendees=Count("attendance"),
            decision_count=Count("decisions", distinct=True),
        )
        .select_related("minutes")
        .order_by("-starts_at")
    )
    rows = []
    for meeting in meetings:
        quorum = None
        if meeting.attendees:
            quorum = QuorumResult(
                meeting.clinicians,
                meeting.managers,
                meeting.cochairs,
                rule,
            )
        rows.append(MeetingRow(meeting, quorum))
    return rows


def _safe_url(obj: Any) -> str:
    """An object's page, or "" while its app's pages are not wired in."""
    if obj is None:
        return ""
    try:
        return str(obj.get_absolute_url())
    except NoReverseMatch:
        return ""


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "concern" or "action"
    title: str
    reason: str
    url: str
    concern_id: uuid.UUID | None = None
    action_id: uuid.UUID | None = None


def agenda_suggestions(meeting: Meeting, agenda: Iterable[AgendaItem]) -> list[Suggestion]:
    """Concerns whose clocks have lapsed or fall due, and action items due by the meeting,
    less those already on its agenda."""
    on = timezone.localtime(meeting.starts_at).date()
    items = list(agenda)
    on_agenda_concerns = {item.concern_id for item in items if item.concern_id}
    on_agenda_actions = {item.action_item_id for item in items if item.action_item_id}
    suggestions = [
        Suggestion(
            kind="concern",
            title=attention.concern.title,
            reason=attention.reason,
            url=_safe_url(attention.concern),
            concern_id=attention.concern.pk,
        )
        for attention in concern_selectors.concerns_needing_attention(meeting.committee, on=on)
        if attention.concern.pk not in on_agenda_concerns
    ]
    due = (
        ActionItem.objects.filter(
            committee_id=meeting.committee_id,
            status__in=[ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS],
            due_on__lte=on,
        )
        .exclude(pk__in=on_agenda_actions)
        .order_by("due_on", "title")
    )
    for action in due:
        reason = f"overdue since {action.due_on:%b} {action.due_on.day}"
        if action.due_on == on:
            reason = "due on the day of the meeting"
        suggestions.append(
            Suggestion(
                kind="action",
                title=f"Review action: {action.title}",
                reason=reason,
                url=action.get_absolute_url(),
                action_id=action.public_id,
            )
        )
    return suggestions


@dataclass
class Attendee:
    seat: Membership
    present: bool


@dataclass
class MeetingPage:
    meeting: Meeting
    rules: MeetingSettings
    agenda: list[AgendaItem]
    attendees: list[Attendee]
    quorum: QuorumResult
    minutes: Minutes
    amendments: list[Amendment]
    decisions: list[Decision]
    actions: list[ActionItem]

    @property
    def agenda_minutes(self) -> int:
        return sum(item.duration_minutes for item in self.agenda)

    def attendees_by_side(self) -> list[tuple[str, list[Attendee]]]:
        groups: dict[str, list[Attendee]] = {}
        for attendee in self.attendees:
            groups.setdefault(attendee.seat.side, []).append(attendee)
        labels = dict(Side.choices)
        return [(str(labels[side]), groups[side]) for side in Side.values if side in groups]


def meeting_page(meeting: Meeting) -> MeetingPage:
    """Everything the meeting page shows, in a fixed number of queries."""
    rules = meeting_settings(meeting.committee)
    agenda = list(
        meeting.agenda_items.select_related("presenter", "concern", "action_item").order_by(
            "position"
        )
    )
    present = {
        row.person_id: row for row in Attendance.objects.filter(meeting=meeting).only("person_id")
    }
    day = timezone.localtime(meeting.starts_at).date()
    seats = list(committee_seats(meeting.committee, on=day))
    seated = {seat.person_id for seat in seats}
    attendees = [Attendee(seat, seat.person_id in present) for seat in seats]
    quorum = meeting_quorum(meeting, quorum_rule(rules))
    minutes = meeting.minutes
    amendments = list(minutes.amendments.select_related("proposed_by", "decided_by"))
    decisions = list(meeting.decisions.order_by("created_at"))
    actions = list(
        meeting.action_items.select_related("clinician_owner", "management_owner", "decision")
    )
    # People who attended but have since lost the seat they held that day stay listed.
    missing = set(present) - seated
    if missing:
        attendees.extend(
            Attendee(Membership(person=row.person, side=row.side), present=True)
            for row in Attendance.objects.filter(
                meeting=meeting, person_id__in=missing
            ).select_related("person")
        )
    for item in agenda:
        item.concern_url = _safe_url(item.concern)  # type: ignore[attr-defined]
    return MeetingPage(
        meeting=meeting,
        rules=rules,
        agenda=agenda,
        attendees=attendees,
        quorum=quorum,
        minutes=minutes,
        amendments=amendments,
        decisions=decisions,
        actions=actions,
    )


# --- decisions and actions ----------------------------------------------------------------


def decision_log(
    user: Any, *, query: str = "", committee: Committee | None = None
) -> QuerySet[Decision]:
    """Decisions of every committee the person may see, newest first, optionally searched."""
    decisions = Decision.objects.filter(committee__in=visible_committees(user))
    if committee is not None:
        decisions = decisions.filter(committee=committee)
    words = query.split()[:8]
    for word in words:
        decisions = decisions.filter(Q(statement__icontains=word) | Q(rationale__icontains=word))
    return decisions.select_related("committee", "meeting").order_by("-decided_on", "-created_at")


def decision_actions(decision: Decision) -> QuerySet[ActionItem]:
    return decision.action_items.select_related("clinician_owner", "management_owner")


ACTIVE = [ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS]


def _filter_actions(
    actions: QuerySet[ActionItem], *, status: str, overdue: bool
) -> QuerySet[ActionItem]:
    if status == "active":
        actions = actions.filter(status__in=ACTIVE)
    elif status in ActionItem.Status.values:
        actions = actions.filter(status=status)
    if overdue:
        actions = actions.filter(status__in=ACTIVE, due_on__lt=timezone.localdate())
    return actions.select_related(
        "committee", "clinician_owner", "management_owner", "decision", "meeting", "concern"
    ).order_by("due_on", "title")


def my_actions(user: Any, *, status: str = "active", overdue: bool = False) -> QuerySet[ActionItem]:
    """The person's action items (as either owner) in the committees they may see."""
    actions = ActionItem.objects.filter(
        Q(clinician_owner_id=user.pk) | Q(management_owner_id=user.pk),
        committee__in=visible_committees(user),
    )
    return _filter_actions(actions, status=status, overdue=overdue)


def committee_actions(
    committee: Committee, *, status: str = "active", overdue: bool = False
) -> QuerySet[ActionItem]:
    return _filter_actions(
        ActionItem.objects.filter(committee=committee), status=status, overdue=overdue
    )


def committee_decisions_for_form(committee: Committee) -> QuerySet[Decision]:
    return Decision.objects.filter(committee=committee).order_by("-decided_on")


def committee_meetings_for_form(committee: Committee) -> QuerySet[Meeting]:
    return Meeting.objects.filter(committee=committee).order_by("-starts_at")


def cochair_side(user: Any, committee: Committee) -> str | None:
    """The side on which the person co-chairs the committee, if they do."""
    profile = access_profile(user)
    if profile.role_by_committee.get(committee.pk) != Role.CO_CHAIR:
        return None
    return profile.side_by_committee.get(committee.pk)


# --- calendar feeds -----------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def person_for_token(token: str) -> Any:
    """The active person whose feed token this is; 404 for anything else."""
    found = (
        CalendarToken.objects.select_related("person")
        .filter(token_hash=hash_token(token), person__is_active=True)
        .first()
    )
    if found is None:
        raise Http404
    return found.person


def has_calendar_token(user: Any) -> bool:
    return CalendarToken.objects.filter(person_id=user.pk).exists()


def _meeting_event(meeting: Meeting, base_url: str, stamp: dt.datetime) -> ics.Event:
    lines = [f"{meeting.committee.name}: {meeting.title}"]
    if meeting.video_link:
        lines.append(f"Video: {meeting.video_link}")
    url = base_url + meeting.get_absolute_url()
    lines.append(f"Agenda and minutes: {url}")
    return ics.Event(
        uid=f"meeting-{meeting.public_id}@commonground",
        summary=f"{meeting.title} ({meeting.committee.name})",
        start=meeting.starts_at,
        end=meeting.ends_at,
        stamp=stamp,
        description="\n".join(lines),
        location=meeting.place or meeting.video_link,
        url=url,
        sequence=meeting.sequence,
    )


def _action_event(action: ActionItem, base_url: str, stamp: dt.datetime) -> ics.Event:
    url = base_url + action.get_absolute_url()
    return ics.Event(
        uid=f"action-{action.public_id}@commonground",
        summary=f"Due: {action.title}",
        start=action.due_on,
        end=action.due_on + dt.timedelta(days=1),
        stamp=stamp,
        description=f"{action.committee.name} action item ({action.get_status_display()}): {url}",
        url=url,
    )


def person_feed(person: Any, *, base_url: str) -> str:
    """The person's meetings (committees they sit on) and their open actions' due dates."""
    stamp = timezone.now()
    since = stamp - dt.timedelta(days=FEED_PAST_DAYS)
    seats = Membership.objects.current().filter(person=person).values("committee_id")
    meetings = (
        Meeting.objects.filter(committee_id__in=seats, starts_at__gte=since)
        .filter(committee__in=visible_committees(person))
        .select_related("committee")
        .order_by("starts_at")
    )
    actions = my_actions(person, status="active")
    events = [_meeting_event(m, base_url, stamp) for m in meetings]
    events += [_action_event(a, base_url, stamp) for a in actions]
    return ics.calendar(f"Common Ground: {person.get_display_name()}", events)


def committee_feed(committee: Committee, *, base_url: str) -> str:
    stamp = timezone.now()
    since = stamp - dt.timedelta(days=FEED_PAST_DAYS)
    meetings = Meeting.objects.filter(committee=committee, starts_at__gte=since).order_by(
        "starts_at"
    )
    actions = committee_actions(committee, status="active")
    events = []
    for meeting in meetings:
        meeting.committee = committee
        events.append(_meeting_event(meeting, base_url, stamp))
    events += [_action_event(a, base_url, stamp) for a in actions]
    return ics.calendar(f"Common Ground: {committee.name}", events)


def get_committee_for_feed(person: Any, slug: str) -> Committee:
    """The committee if the feed's owner may see it; 404 (audited) otherwise."""
    committee = Committee.objects.select_related("clinic").filter(slug=slug).first()
    if committee is None:
        raise Http404
    if not allowed(person, "organizations.view_committee", committee):
        audit_record(
            action=AuditEvent.Action.DENIED,
            actor=person,
            obj=committee,
            clinic_id=committee.clinic_id,
            changes={"permission": "organizations.view_committee", "via": "calendar feed"},
        )
        raise Http404
    return committee
