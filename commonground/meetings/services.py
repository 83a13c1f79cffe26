"""Writes for meetings, minutes, decisions, action items and calendar tokens.

Each is atomic, validates, and appends one audit event per change with the clinic it
belongs to.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record, diff_fields
from commonground.meetings import selectors
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
from commonground.organizations.models import Committee, Membership, Role, Side

MINUTES_LOCKED = "These minutes are approved; propose an amendment instead."
WINDOW_CLOSED = "The amendment window for these minutes is closed; they are locked."
NOT_APPROVED_YET = "Amendments open once both co-chairs have approved the minutes."
ONLY_COCHAIRS_APPROVE = "Only the committee's co-chairs approve minutes."
EMPTY_MINUTES = "Write the minutes before approving them."
NEEDS_OWNER = "Name an owner for at least one side."
NEEDS_PLACE = "Give a place or a video link."


def _audit(
    actor: Any, action: str, obj: Any, committee: Committee, changes: dict[str, Any]
) -> None:
    audit_record(
        action=action, actor=actor, obj=obj, clinic_id=committee.clinic_id, changes=changes
    )


class StaleMinutes(Exception):
    """The minutes changed since the editor loaded them; nothing was saved."""

    def __init__(self, current: Minutes) -> None:
        super().__init__(f"minutes are at version {current.version}")
        self.current = current


# --- committee rules ----------------------------------------------------------------------


SETTINGS_FIELDS = (
    "amendment_window_days",
    "quorum_clinicians",
    "quorum_management",
    "quorum_needs_cochair",
)


@transaction.atomic
def meeting_settings_set(*, actor: Any, committee: Committee, **fields: Any) -> MeetingSettings:
    row, _ = MeetingSettings.objects.get_or_create(committee=committee)
    before = {name: getattr(row, name) for name in SETTINGS_FIELDS}
    for name, value in fields.items():
        if name not in SETTINGS_FIELDS:
            raise TypeError(name)
        setattr(row, name, value)
    row.full_clean()
    changes = diff_fields(before, {name: getattr(row, name) for name in SETTINGS_FIELDS})
    if changes:
        row.save(update_fields=list(fields))
        _audit(actor, AuditEvent.Action.UPDATE, row, committee, changes)
        for meeting in Meeting.objects.filter(committee=committee):
            _refresh_quorum_flags(meeting)
    return row


# --- meetings and agendas -----------------------------------------------------------------


def minutes_template(meeting: Meeting) -> str:
    """A "done, not said" skeleton (Robert's Rules): what was done, never a transcript."""
    start = timezone.localtime(meeting.starts_at)
    where = meeting.place or meeting.video_link or "(place)"
    return (
        f"{meeting.title} of the {meeting.committee.name}, {start:%B} {start.day}, "
        f"{start:%Y}, {where}.\n"
        "Called to order at (time) by (presiding co-chair). Minutes taken by (secretary).\n"
        "Attendance and quorum: see the attendance record.\n"
        "Minutes of the previous meeting: (approved / approved as amended).\n"
        "Motions and decisions (each as adopted, who moved it, the result):\n"
        "- \n"
        "Action items: see the action list.\n"
        "Adjourned at (time)."
    )


def _check_place(place: str, video_link: str) -> None:
    if not place.strip() and not video_link.strip():
        raise ValidationError(NEEDS_PLACE)


@transaction.atomic
def meeting_schedule(
    *,
    actor: Any,
    committee: Committee,
    title: str,
    starts_at: dt.datetime,
    duration_minutes: int,
    place: str = "",
    video_link: str = "",
) -> Meeting:
    _check_place(place, video_link)
    meeting = Meeting(
        committee=committee,
        title=title,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        place=place,
        video_link=video_link,
    )
    meeting.full_clean()
    meeting.save()
    Minutes.objects.create(meeting=meeting, text=minutes_template(meeting))
    _audit(actor, AuditEvent.Action.CREATE, meeting, committee, meeting.audit_fields())
    return meeting


@transaction.atomic
def meeting_update(*, actor: Any, meeting: Meeting, **fields: Any) -> Meeting:
    before = meeting.audit_fields()
    for name, value in fields.items():
        setattr(meeting, name, value)
    _check_place(meeting.place, meeting.video_link)
    meeting.full_clean()
    changes = diff_fields(before, meeting.audit_fields())
    if changes:
        meeting.sequence += 1
        meeting.save(update_fields=[*fields, "sequence", "updated_at"])
        _audit(actor, AuditEvent.Action.UPDATE, meeting, meeting.committee, changes)
        if "starts_at" in changes:
            _refresh_quorum_flags(meeting)
    return meeting


@transaction.atomic
def agenda_item_add(
    *,
    actor: Any,
    meeting: Meeting,
    title: str,
    duration_minutes: int,
    presenter: Any = None,
    concern: Any = None,
    action_item: ActionItem | None = None,
) -> AgendaItem:
    if concern is not None and concern.committee_id != meeting.committee_id:
        raise ValidationError("Link a concern of this committee.")
    if action_item is not None and action_item.committee_id != meeting.committee_id:
        raise ValidationError("Link an action item of this committee.")
    if (
        presenter is not None
        and not Membership.objects.current()
        .filter(committee_id=meeting.committee_id, person=presenter)
        .exists()
    ):
        raise ValidationError("The presenter must hold a seat on this committee.")
    locked = Meeting.objects.select_for_update().filter(pk=meeting.pk)
    last = locked.aggregate(n=Max("agenda_items__position"))["n"] or 0
    item = AgendaItem(
        meeting=meeting,
        position=last + 1,
        title=title,
        duration_minutes=duration_minutes,
        presenter=presenter,
        concern=concern,
        action_item=action_item,
    )
    item.full_clean()
    item.save()
    _audit(
        actor,
        AuditEvent.Action.CREATE,
        item,
        meeting.committee,
        {
            "meeting": str(meeting.public_id),
            "title": title,
            "duration_minutes": duration_minutes,
            "presenter": presenter.pk if presenter else None,
            "concern": str(concern.pk) if concern else None,
            "action_item": str(action_item.public_id) if action_item else None,
        },
    )
    return item


@transaction.atomic
def agenda_item_remove(*, actor: Any, item: AgendaItem) -> None:
    meeting = item.meeting
    _audit(
        actor,
        AuditEvent.Action.DELETE,
        item,
        meeting.committee,
        {"meeting": str(meeting.public_id), "title": item.title},
    )
    item.delete()


# --- attendance and quorum ----------------------------------------------------------------


def _refresh_quorum_flags(meeting: Meeting) -> None:
    """Decisions of a meeting without quorum are flagged; keep the flag in step."""
    without = not selectors.meeting_quorum(meeting).met
    meeting.decisions.exclude(without_quorum=without).update(without_quorum=without)


@transaction.atomic
def attendance_set(*, actor: Any, meeting: Meeting, person: Any, present: bool) -> bool:
    """Mark a person present or absent. Their side and co-chair role are those of the seat
    they held on the day of the meeting. Returns whether anything changed."""
    day = timezone.localtime(meeting.starts_at).date()
    seat = (
        Membership.objects.active_on(day)
        .filter(committee_id=meeting.committee_id, person=person)
        .first()
    )
    existing = Attendance.objects.filter(meeting=meeting, person=person).first()
    if present:
        if existing is not None:
            return False
        if seat is None:
            raise ValidationError("Only people with a seat on the committee that day attend.")
        row = Attendance(
            meeting=meeting, person=person, side=seat.side, is_cochair=seat.role == Role.CO_CHAIR
        )
        row.full_clean()
        row.save()
        _audit(
            actor,
            AuditEvent.Action.CREATE,
            row,
            meeting.committee,
            {"meeting": str(meeting.public_id), "person_id": person.pk, "side": seat.side},
        )
    else:
        if existing is None:
            return False
        _audit(
            actor,
            AuditEvent.Action.DELETE,
            existing,
            meeting.committee,
            {"meeting": str(meeting.public_id), "person_id": person.pk, "side": existing.side},
        )
        existing.delete()
    _refresh_quorum_flags(meeting)
    return True


# --- minutes ------------------------------------------------------------------------------


def _lock_minutes(minutes: Minutes) -> Minutes:
    return Minutes.objects.select_for_update().select_related("meeting").get(pk=minutes.pk)


def _approvals(minutes: Minutes) -> dict[str, Any]:
    return {
        "clinician_approved_by": minutes.clinician_approved_by_id,
        "management_approved_by": minutes.management_approved_by_id,
    }


@transaction.atomic
def minutes_save(*, actor: Any, minutes: Minutes, text: str, expected_version: int) -> Minutes:
    """Save a draft. A stale version raises StaleMinutes; an edit clears any approval."""
    current = _lock_minutes(minutes)
    committee = current.meeting.committee
    if current.version != expected_version:
        raise StaleMinutes(current)
    if current.is_approved:
        raise ValidationError(MINUTES_LOCKED)
    if text == current.text:
        return current
    before = {"text": current.text, **_approvals(current)}
    current.text = text
    current.version += 1
    current.clinician_approved_by = current.management_approved_by = None
    current.clinician_approved_at = current.management_approved_at = None
    current.full_clean()
    current.save(
        update_fields=[
            "text",
            "version",
            "clinician_approved_by",
            "clinician_approved_at",
            "management_approved_by",
            "management_approved_at",
            "updated_at",
        ]
    )
    changes = diff_fields(before, {"text": current.text, **_approvals(current)})
    changes["version"] = [expected_version, current.version]
    _audit(actor, AuditEvent.Action.UPDATE, current, committee, changes)
    return current


@transaction.atomic
def minutes_approve(*, actor: Any, minutes: Minutes, expected_version: int) -> Minutes:
    """One approval per side, by that side's co-chair. The second opens the amendment window.

    The approver names the version they read: a changed text is not approved unseen.
    """
    current = _lock_minutes(minutes)
    committee = current.meeting.committee
    side = selectors.cochair_side(actor, committee)
    if side not in (Side.CLINICIAN, Side.MANAGEMENT):
        raise ValidationError(ONLY_COCHAIRS_APPROVE)
    if current.version != expected_version:
        raise StaleMinutes(current)
    if current.is_approved:
        raise ValidationError("These minutes are already approved by both co-chairs.")
    if not current.text.strip():
        raise ValidationError(EMPTY_MINUTES)
    if current.approved_by_side(side):
        raise ValidationError(f"The {side} co-chair has already approved these minutes.")
    now = timezone.now()
    if side == Side.CLINICIAN:
        current.clinician_approved_by, current.clinician_approved_at = actor, now
    else:
        current.management_approved_by, current.management_approved_at = actor, now
    changes: dict[str, Any] = {f"{side}_approved_by": [None, actor.pk]}
    if current.clinician_approved_by_id and current.management_approved_by_id:
        window = selectors.meeting_settings(committee).amendment_window_days
        current.approved_at = now
        current.amendments_close_at = now + dt.timedelta(days=window)
        changes["amendments_close_at"] = [None, current.amendments_close_at.isoformat()]
    current.full_clean()
    current.save(
        update_fields=[
            f"{side}_approved_by",
            f"{side}_approved_at",
            "approved_at",
            "amendments_close_at",
            "updated_at",
        ]
    )
    _audit(actor, AuditEvent.Action.UPDATE, current, committee, changes)
    return current


@transaction.atomic
def amendment_propose(*, actor: Any, minutes: Minutes, text: str) -> Amendment:
    current = _lock_minutes(minutes)
    if not current.is_approved:
        raise ValidationError(NOT_APPROVED_YET)
    if not current.window_open():
        raise ValidationError(WINDOW_CLOSED)
    amendment = Amendment(minutes=current, proposed_by=actor, text=text.strip())
    amendment.full_clean()
    amendment.save()
    _audit(
        actor,
        AuditEvent.Action.CREATE,
        amendment,
        current.meeting.committee,
        {"minutes": current.pk, "text": amendment.text},
    )
    return amendment


@transaction.atomic
def amendment_decide(*, actor: Any, amendment: Amendment, accept: bool) -> Amendment:
    current = _lock_minutes(amendment.minutes)
    committee = current.meeting.committee
    if selectors.cochair_side(actor, committee) is None:
        raise ValidationError("Only the committee's co-chairs accept or reject amendments.")
    if not current.window_open():
        raise ValidationError(WINDOW_CLOSED)
    if amendment.status != Amendment.Status.PROPOSED:
        raise ValidationError("This amendment has already been decided.")
    amendment.status = Amendment.Status.ACCEPTED if accept else Amendment.Status.REJECTED
    amendment.decided_by = actor
    amendment.decided_at = timezone.now()
    amendment.save(update_fields=["status", "decided_by", "decided_at"])
    _audit(
        actor,
        AuditEvent.Action.UPDATE,
        amendment,
        committee,
        {"status": [Amendment.Status.PROPOSED, amendment.status]},
    )
    return amendment


# --- decisions ----------------------------------------------------------------------------


VOTE_FIELDS = (
    "clinician_for",
    "clinician_against",
    "clinician_abstain",
    "management_for",
    "management_against",
    "management_abstain",
)


@transaction.atomic
def decision_record(
    *,
    actor: Any,
    committee: Committee,
    statement: str,
    decided_on: dt.date,
    rationale: str = "",
    review_on: dt.date | None = None,
    meeting: Meeting | None = None,
    **votes: int,
) -> Decision:
    if meeting is not None and meeting.committee_id != committee.pk:
        raise ValidationError("Record the decision in a meeting of this committee.")
    unknown = set(votes) - set(VOTE_FIELDS)
    if unknown:
        raise TypeError(", ".join(sorted(unknown)))
    decision = Decision(
        committee=committee,
        meeting=meeting,
        statement=statement,
        rationale=rationale,
        decided_on=decided_on,
        review_on=review_on,
        recorded_by=actor,
        without_quorum=meeting is not None and not selectors.meeting_quorum(meeting).met,
        **{name: votes.get(name) or 0 for name in VOTE_FIELDS},
    )
    decision.full_clean()
    decision.save()
    _audit(actor, AuditEvent.Action.CREATE, decision, committee, decision.audit_fields())
    return decision


# --- action items -------------------------------------------------------------------------


def _check_action(action: ActionItem) -> None:
    if action.clinician_owner_id is None and action.management_owner_id is None:
        raise ValidationError(NEEDS_OWNER)
    for name, side in (("clinician_owner", Side.CLINICIAN), ("management_owner", Side.MANAGEMENT)):
        owner_id = getattr(action, f"{name}_id")
        if owner_id and not (
            Membership.objects.current()
            .filter(committee_id=action.committee_id, person_id=owner_id, side=side)
            .exists()
        ):
            raise ValidationError(
                f"The {side} owner must hold a {side}-side seat on this committee."
            )
    for link in ("concern", "decision", "meeting"):
        linked = getattr(action, link)
        if linked is not None and linked.committee_id != action.committee_id:
            raise ValidationError(f"Link a {link} of this committee.")


@transaction.atomic
def action_create(
    *,
    actor: Any,
    committee: Committee,
    title: str,
    due_on: dt.date,
    clinician_owner: Any = None,
    management_owner: Any = None,
    concern: Any = None,
    decision: Decision | None = None,
    meeting: Meeting | None = None,
) -> ActionItem:
    action = ActionItem(
        committee=committee,
        title=title,
        due_on=due_on,
        clinician_owner=clinician_owner,
        management_owner=management_owner,
        concern=concern,
        decision=decision,
        meeting=meeting,
    )
    _check_action(action)
    action.full_clean()
    action.save()
    _audit(actor, AuditEvent.Action.CREATE, action, committee, action.audit_fields())
    return action


@transaction.atomic
def action_update(*, actor: Any, action: ActionItem, **fields: Any) -> ActionItem:
    before = action.audit_fields()
    for name, value in fields.items():
        setattr(action, name, value)
    _check_action(action)
    action.full_clean()
    changes = diff_fields(before, action.audit_fields())
    if changes:
        action.save(update_fields=[*fields, "updated_at"])
        _audit(actor, AuditEvent.Action.UPDATE, action, action.committee, changes)
    return action


# --- calendar feed tokens -----------------------------------------------------------------


@transaction.atomic
def calendar_token_regenerate(*, actor: Any) -> str:
    """A new secret for the person's feed URLs; the old one stops working at once.

    Returns the token, which is shown once: only its SHA-256 hash is stored.
    """
    token = secrets.token_urlsafe(32)
    row, created = CalendarToken.objects.update_or_create(
        person=actor,
        defaults={"token_hash": selectors.hash_token(token), "created_at": timezone.now()},
    )
    audit_record(
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        actor=actor,
        obj=row,
        changes={"calendar_token": "created" if created else "regenerated"},
    )
    return token
