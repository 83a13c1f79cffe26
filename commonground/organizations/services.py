"""Writes for committees and memberships. Each one is atomic and audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record, diff_fields
from commonground.organizations.access import forget_access_profile
from commonground.organizations.models import Committee, Membership, Role, Side

COCHAIR_SIDES = (Side.CLINICIAN, Side.MANAGEMENT)
MISSING_COCHAIR = (
    "An active committee needs one clinician co-chair and one management co-chair; "
    "missing: {sides}."
)
CANNOT_END_COCHAIR = (
    "{name} is the {side} co-chair. Name a new {side} co-chair first; "
    "a committee is never left without one."
)
ALREADY_SEATED = "{name} already holds a seat on this committee."
COCHAIR_NEEDS_SIDE = "A co-chair sits for the clinician side or the management side."


def committee_cochair_problems(committee: Committee, *, on: dt.date | None = None) -> list[str]:
    """Sides that lack exactly one current co-chair (empty when the rule holds)."""
    day = on or timezone.localdate()
    counts = {side.value: 0 for side in COCHAIR_SIDES}
    for side in (
        Membership.objects.active_on(day)
        .filter(committee=committee, role=Role.CO_CHAIR)
        .values_list("side", flat=True)
    ):
        if side in counts:
            counts[side] += 1
    return [str(Side(side).label).lower() for side, n in counts.items() if n != 1]


def _raise_if_missing_cochairs(committee: Committee) -> None:
    missing = committee_cochair_problems(committee)
    if missing:
        raise ValidationError(MISSING_COCHAIR.format(sides=" and ".join(missing)))


def _require_cochairs(committee: Committee) -> None:
    """The co-chair rule binds active committees; a forming one may lack a co-chair."""
    if committee.is_active:
        _raise_if_missing_cochairs(committee)


@transaction.atomic
def committee_create(
    *,
    actor: Any,
    kind: str,
    name: str,
    slug: str,
    region_id: int,
    clinic_id: int | None = None,
    purpose: str = "",
) -> Committee:
    """A new committee starts inactive; it becomes active once both co-chairs are named."""
    committee = Committee(
        kind=kind,
        name=name,
        slug=slug,
        region_id=region_id,
        clinic_id=clinic_id,
        purpose=purpose,
        is_active=False,
    )
    committee.full_clean()
    committee.save()
    audit_record(
        action=AuditEvent.Action.CREATE,
        actor=actor,
        obj=committee,
        clinic_id=clinic_id,
        changes={"kind": kind, "name": name},
    )
    return committee


@transaction.atomic
def committee_activate(*, actor: Any, committee: Committee) -> Committee:
    _raise_if_missing_cochairs(committee)
    committee.is_active = True
    committee.save(update_fields=["is_active"])
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=committee,
        clinic_id=committee.clinic_id,
        changes={"is_active": [False, True]},
    )
    return committee


@transaction.atomic
def committee_update(*, actor: Any, committee: Committee, name: str, purpose: str) -> Committee:
    before = {"name": committee.name, "purpose": committee.purpose}
    committee.name = name
    committee.purpose = purpose
    committee.full_clean()
    changes = diff_fields(before, {"name": name, "purpose": purpose})
    if changes:
        committee.save(update_fields=["name", "purpose"])
        audit_record(
            action=AuditEvent.Action.UPDATE,
            actor=actor,
            obj=committee,
            clinic_id=committee.clinic_id,
            changes=changes,
        )
    return committee


def _open_seat(committee: Committee, person_id: int) -> Membership | None:
    return (
        Membership.objects.select_for_update()
        .filter(committee=committee, person_id=person_id, end_date__isnull=True)
        .first()
    )


@transaction.atomic
def membership_add(
    *,
    actor: Any,
    committee: Committee,
    person: Any,
    side: str,
    role: str = Role.MEMBER,
    start_date: dt.date | None = None,
) -> Membership:
    """Seat a person. Co-chairs go through ``cochair_assign`` so a side is never doubled."""
    if _open_seat(committee, person.pk) is not None:
        raise ValidationError(ALREADY_SEATED.format(name=person.get_display_name()))
    if role == Role.CO_CHAIR:
        raise ValidationError("Use the co-chair change to seat a co-chair.")
    return _open(actor, committee, person, side, role, start_date or timezone.localdate())


def _open(
    actor: Any, committee: Committee, person: Any, side: str, role: str, day: dt.date
) -> Membership:
    """Open a seat, record it, and let the person's new access apply at once."""
    seat = Membership(committee=committee, person=person, side=side, role=role, start_date=day)
    # The open-seat constraints are checked by the database inside this transaction.
    seat.full_clean(validate_constraints=False)
    seat.save()
    audit_record(
        action=AuditEvent.Action.CREATE,
        actor=actor,
        obj=seat,
        clinic_id=committee.clinic_id,
        changes=seat.audit_fields(),
    )
    forget_access_profile(person)
    return seat


def _end(actor: Any, membership: Membership, day: dt.date) -> None:
    before = membership.audit_fields()
    membership.end_date = max(day, membership.start_date)
    membership.save(update_fields=["end_date"])
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=membership,
        clinic_id=membership.committee.clinic_id,
        changes=diff_fields(before, membership.audit_fields()),
    )


@transaction.atomic
def membership_end(
    *, actor: Any, membership: Membership, end_date: dt.date | None = None
) -> Membership:
    """End a seat (the row stays, so the committee's history stays)."""
    membership = (
        Membership.objects.select_for_update()
        .select_related("committee", "person")
        .get(pk=membership.pk)
    )
    if membership.end_date is not None:
        return membership
    if membership.role == Role.CO_CHAIR and membership.committee.is_active:
        raise ValidationError(
            CANNOT_END_COCHAIR.format(
                name=membership.person.get_display_name(),
                side=membership.get_side_display().lower(),
            )
        )
    _end(actor, membership, end_date or timezone.localdate())
    forget_access_profile(membership.person)
    return membership


@transaction.atomic
def cochair_assign(
    *, actor: Any, committee: Committee, person: Any, side: str, on: dt.date | None = None
) -> Membership:
    """Make ``person`` the ``side`` co-chair, in one step.

    1. The current co-chair of that side, if any, steps down to a member seat.
    2. The person's current seat, if any, ends.
    3. A co-chair seat opens for the person.
    All or nothing; the co-chair rule is checked on the result.
    """
    if side not in {s.value for s in COCHAIR_SIDES}:
        raise ValidationError(COCHAIR_NEEDS_SIDE)
    day = on or timezone.localdate()
    outgoing = (
        Membership.objects.select_for_update()
        .select_related("committee", "person")
        .filter(committee=committee, side=side, role=Role.CO_CHAIR, end_date__isnull=True)
        .first()
    )
    if outgoing is not None and outgoing.person_id == person.pk:
        return outgoing
    if outgoing is not None:
        _end(actor, outgoing, day)
        _open(actor, committee, outgoing.person, side, Role.MEMBER, day)
    current = _open_seat(committee, person.pk)
    if current is not None:
        current.committee = committee
        _end(actor, current, day)
    seat = _open(actor, committee, person, side, Role.CO_CHAIR, day)
    _require_cochairs(committee)
    return seat
