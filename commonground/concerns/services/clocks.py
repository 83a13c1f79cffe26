"""Extensions and pauses of a concern's clocks.

Either co-chair proposes one with a reason; it takes effect only when the other side's
co-chair signs too, so neither side can stop the clock alone. A pause ends when either
co-chair resumes it (restarting a clock never needs consent), and pushes each deadline out
by the business days it lasted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.concerns.clocks import extended, paused_business_days
from commonground.concerns.models import ClockChange, Concern, Status
from commonground.concerns.selectors import calendar_for_clinic
from commonground.concerns.services import _cochair_side, _locked
from commonground.organizations.models import Side

MAX_EXTENSION_DAYS = 20
MIN_REASON_LENGTH = 10
# Clocks run until both sides have answered; later states have no deadline to move.
CLOCKED_STATUSES = (Status.RAISED, Status.ACKNOWLEDGED, Status.IN_DISCUSSION, Status.ESCALATED)


def _audit(actor: Any, concern: Concern, change: ClockChange, **changes: Any) -> None:
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        object_type="concerns.clockchange",
        object_id=str(change.pk),
        object_repr=str(change),
        clinic_id=concern.committee.clinic_id,
        changes={"concern": str(concern.pk), "kind": change.kind, **changes},
    )


def _side_of_cochair(actor: Any, concern: Concern) -> str:
    side = _cochair_side(actor, concern)
    if side not in (Side.CLINICIAN, Side.MANAGEMENT):
        raise ValidationError("Only the co-chairs change a concern's clocks.")
    return side


def _sign_as(change: ClockChange, side: str, actor: Any) -> None:
    if side == Side.CLINICIAN:
        change.clinician_signed_by = actor
    else:
        change.management_signed_by = actor


@transaction.atomic
def clock_change_propose(
    *,
    actor: Any,
    concern: Concern,
    kind: str,
    reason: str,
    business_days: int = 0,
    today: dt.date | None = None,
) -> ClockChange:
    """Propose an extension (``business_days`` more) or a pause, signed by the proposer's side."""
    concern = _locked(concern)
    side = _side_of_cochair(actor, concern)
    if concern.status not in CLOCKED_STATUSES:
        raise ValidationError("This concern's clocks have stopped: both sides have answered.")
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValidationError("Give the reason in a sentence: both sides and the region see it.")
    if kind == ClockChange.Kind.EXTEND:
        if not 1 <= business_days <= MAX_EXTENSION_DAYS:
            raise ValidationError(
                f"An extension is 1 to {MAX_EXTENSION_DAYS} business days; "
                "propose another later if needed."
            )
    elif kind == ClockChange.Kind.PAUSE:
        if concern.paused_since is not None:
            raise ValidationError("The clocks are already paused.")
        business_days = 0
    else:
        raise ValidationError("Choose an extension or a pause.")
    if concern.clock_changes.filter(state=ClockChange.State.PROPOSED).exists():
        raise ValidationError("A proposal is already waiting for a signature: settle it first.")
    change = ClockChange(
        concern=concern,
        kind=kind,
        reason=reason.strip(),
        business_days=business_days,
        proposed_by=actor,
        proposed_on=today or timezone.localdate(),
    )
    _sign_as(change, side, actor)
    change.save()
    _audit(actor, concern, change, state=change.state, business_days=business_days)
    return change


@transaction.atomic
def clock_change_sign(
    *, actor: Any, change: ClockChange, today: dt.date | None = None
) -> ClockChange:
    """The other side's co-chair signs; with both signatures the change takes effect."""
    concern = _locked(change.concern)
    change = ClockChange.objects.select_for_update().get(pk=change.pk)
    side = _side_of_cochair(actor, concern)
    if change.state != ClockChange.State.PROPOSED:
        raise ValidationError("This proposal has already been settled.")
    signed_by = (
        change.clinician_signed_by_id if side == Side.CLINICIAN else change.management_signed_by_id
    )
    if signed_by is not None:
        raise ValidationError("Your side has signed; the other co-chair signs next.")
    if concern.status not in CLOCKED_STATUSES:
        raise ValidationError("This concern's clocks have stopped: both sides have answered.")
    _sign_as(change, side, actor)
    day = today or timezone.localdate()
    calendar = calendar_for_clinic(concern.committee.clinic)
    change.started_on = day
    change.state = ClockChange.State.IN_EFFECT
    moved: dict[str, Any] = {}
    if change.kind == ClockChange.Kind.EXTEND:
        before = (concern.acknowledge_by, concern.respond_by)
        days = change.business_days
        if concern.status == Status.RAISED:
            concern.acknowledge_by = extended(concern.acknowledge_by, days, calendar)
        concern.respond_by = extended(concern.respond_by, days, calendar)
        change.state = ClockChange.State.ENDED
        change.ended_on = day
        moved = {
            "acknowledge_by": [str(before[0]), str(concern.acknowledge_by)],
            "respond_by": [str(before[1]), str(concern.respond_by)],
        }
    else:
        if concern.paused_since is not None:
            raise ValidationError("The clocks are already paused.")
        concern.paused_since = day
        moved = {"paused_since": str(day)}
    concern.version += 1
    concern.save(update_fields=["acknowledge_by", "respond_by", "paused_since", "version"])
    change.save()
    _audit(actor, concern, change, state=change.state, **moved)
    return change


@transaction.atomic
def clock_resume(*, actor: Any, change: ClockChange, today: dt.date | None = None) -> ClockChange:
    """End a pause: deadlines move out by the business days the pause lasted."""
    concern = _locked(change.concern)
    change = ClockChange.objects.select_for_update().get(pk=change.pk)
    _side_of_cochair(actor, concern)
    if change.kind != ClockChange.Kind.PAUSE or change.state != ClockChange.State.IN_EFFECT:
        raise ValidationError("Only a pause in effect can be resumed.")
    day = today or timezone.localdate()
    calendar = calendar_for_clinic(concern.committee.clinic)
    paused_since = concern.paused_since or change.started_on or day
    lost = paused_business_days(paused_since, day, calendar)
    if concern.status == Status.RAISED:
        concern.acknowledge_by = extended(concern.acknowledge_by, lost, calendar)
    concern.respond_by = extended(concern.respond_by, lost, calendar)
    concern.paused_since = None
    concern.version += 1
    concern.save(update_fields=["acknowledge_by", "respond_by", "paused_since", "version"])
    change.state = ClockChange.State.ENDED
    change.ended_on = day
    change.business_days = lost
    change.save(update_fields=["state", "ended_on", "business_days"])
    _audit(
        actor,
        concern,
        change,
        state=change.state,
        business_days=lost,
        respond_by=str(concern.respond_by),
    )
    return change


@transaction.atomic
def clock_change_withdraw(*, actor: Any, change: ClockChange) -> ClockChange:
    """Either co-chair withdraws a proposal that is still waiting (a refusal, in effect)."""
    concern = _locked(change.concern)
    change = ClockChange.objects.select_for_update().get(pk=change.pk)
    _side_of_cochair(actor, concern)
    if change.state != ClockChange.State.PROPOSED:
        raise ValidationError("Only a proposal still waiting for a signature can be withdrawn.")
    change.state = ClockChange.State.WITHDRAWN
    change.save(update_fields=["state"])
    _audit(actor, concern, change, state=change.state)
    return change
