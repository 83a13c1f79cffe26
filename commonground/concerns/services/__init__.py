"""Writes for concerns. Each is atomic and audited, except what would identify an
anonymous raiser: that is never written anywhere."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.concerns.models import (
    Concern,
    CoSign,
    IdentityMode,
    JointResponse,
    PendingAnonymousConcern,
    Receipt,
    Signoff,
    Status,
)
from commonground.concerns.phi import find_patient_identifiers
from commonground.concerns.reminders import notify_cochairs_of_new_concern
from commonground.concerns.selectors import clocks_for_committee
from commonground.concerns.services.attachments import (
    attachments_add,
    attachments_announce,
    attachments_for_pending,
    attachments_release,
)
from commonground.organizations.access import access_profile
from commonground.organizations.models import Committee, Membership, Side

ANONYMOUS_PER_DAY = 5
NOT_A_GRIEVANCE = (
    "Confirm that this is about practice and care, not an individual grievance: "
    "grievances go to your union steward."
)
SMALL_UNIT = (
    "Anonymous raising needs at least {k} clinicians on this committee, so that a concern "
    "cannot be traced to one of a few people. Raise it as confidential instead."
)


def _text_fields(fields: dict[str, Any]) -> str:
    return "\n".join(
        str(fields.get(name, ""))
        for name in ("title", "description", "patient_impact", "proposed_idea")
    )


def check_patient_identifiers(fields: dict[str, Any]) -> None:
    findings = find_patient_identifiers(_text_fields(fields))
    if findings:
        kinds = sorted({f.kind for f in findings})
        raise ValidationError(
            "This looks like patient information ("
            + ", ".join(kinds)
            + "). Remove it: describe the practice problem without identifying anyone."
        )


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _rate_key(user: Any, day: dt.date) -> str:
    # Keyed hash of (person, day), kept only in the cache: it limits abuse without leaving
    # a readable link between a person and an anonymous submission.
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{user.pk}:{day}".encode(), hashlib.sha256)
    return f"anon-rate:{digest.hexdigest()}"


def receipt_rate_key(address: str) -> str:
    """Cache key counting receipt look-ups per address, as a keyed hash: the cache is a
    database table in production, and a plain address there would record who followed up
    an anonymous concern, and when."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"receipt:{address}".encode(), hashlib.sha256)
    return f"receipt-tries:{digest.hexdigest()}"


def _clinician_seats(committee: Committee) -> int:
    return Membership.objects.current().filter(committee=committee, side=Side.CLINICIAN).count()


@transaction.atomic
def concern_raise(
    *,
    actor: Any,
    committee: Committee,
    identity_mode: str,
    title: str,
    description: str,
    category: str,
    patient_impact: str,
    proposed_idea: str = "",
    not_a_grievance: bool,
    today: dt.date | None = None,
    evidence: list[Any] | None = None,
) -> Concern | str:
    """Raise a concern. Returns the Concern, or for an anonymous one the receipt token.

    1. Refuse text with patient identifiers, and concerns not confirmed as non-grievances.
    2. Named and confidential concerns are stored with their raiser and audited.
    3. An anonymous concern is stored without any reference to the raiser, waiting for the
       daily release; the raiser gets a one-time receipt token, of which only a hash is kept.
    """
    fields = {
        "title": title,
        "description": description,
        "category": category,
        "patient_impact": patient_impact,
        "proposed_idea": proposed_idea,
    }
    if not not_a_grievance:
        raise ValidationError(NOT_A_GRIEVANCE)
    check_patient_identifiers(fields)
    day = today or timezone.localdate()
    side = access_profile(actor).side_by_committee.get(committee.pk, "")
    if identity_mode == IdentityMode.ANONYMOUS:
        k = settings.COMMONGROUND_MIN_GROUP_SIZE
        if _clinician_seats(committee) < k:
            raise ValidationError(SMALL_UNIT.format(k=k))
        key = _rate_key(actor, day)
        if cache.get(key, 0) >= ANONYMOUS_PER_DAY:
            raise ValidationError("You have raised the most anonymous concerns allowed today.")
        cache.set(key, cache.get(key, 0) + 1, timeout=36 * 3600)
        token = secrets.token_urlsafe(24)
        pending = PendingAnonymousConcern(
            committee=committee, submitted_on=day, receipt_hash=_hash_token(token), **fields
        )
        pending.full_clean()
        pending.save()
        if evidence:
            attachments_for_pending(pending, evidence, day)
        return token
    if identity_mode == IdentityMode.CONFIDENTIAL and side != Side.CLINICIAN:
        raise ValidationError("Confidential raising protects clinicians; raise it as named.")
    clocks = clocks_for_committee(committee, day)
    concern = Concern(
        committee=committee,
        identity_mode=identity_mode,
        raised_by=actor,
        raiser_side=side,
        raised_on=day,
        acknowledge_by=clocks.acknowledge_by,
        respond_by=clocks.respond_by,
        not_a_grievance=True,
        **fields,
    )
    # A confidential concern is announced (audited, co-chairs told) in the daily batch: an
    # event timed to the minute beside the raiser's sign-in would name them to an auditor.
    concern.announced = identity_mode == IdentityMode.NAMED
    concern.full_clean()
    concern.save()
    if evidence:
        attachments_add(actor=actor, concern=concern, uploads=evidence, today=day)
    if concern.announced:
        audit_record(
            action=AuditEvent.Action.CREATE,
            actor=actor,
            object_type="concerns.concern",
            object_id=str(concern.pk),
            object_repr=title[:200],
            clinic_id=committee.clinic_id,
            changes={"identity_mode": identity_mode, "category": category},
        )
        notify_cochairs_of_new_concern(concern)
    return concern


@transaction.atomic
def release_anonymous_concerns(*, today: dt.date | None = None) -> int:
    """Publish the waiting anonymous concerns and announce the day's confidential ones,
    together in random order, dated by day only.

    Run once a day (``commonground release_concerns``); safe to run twice: each pending row
    is released once and then deleted, inside one transaction.
    """
    day = today or timezone.localdate()
    # Lock the rows first, then read them with their committees: PostgreSQL cannot lock
    # through the outer join to a committee's (optional) clinic.
    ids = list(
        PendingAnonymousConcern.objects.select_for_update()
        .filter(submitted_on__lte=day)
        .values_list("pk", flat=True)
    )
    pending = list(
        PendingAnonymousConcern.objects.filter(pk__in=ids)
        .select_related("committee", "committee__clinic", "committee__clinic__calendar")
        .order_by("pk")
    )
    confidential_ids = list(
        Concern.all_objects.select_for_update()
        .filter(announced=False, raised_on__lte=day)
        .values_list("pk", flat=True)
    )
    confidential = list(
        Concern.all_objects.filter(pk__in=confidential_ids)
        .select_related("committee")
        .order_by("pk")
    )
    batch: list[PendingAnonymousConcern | Concern] = [*pending, *confidential]
    secrets.SystemRandom().shuffle(batch)
    for item in batch:
        if isinstance(item, Concern):
            _announce_confidential(item, day)
            continue
        row = item
        clocks = clocks_for_committee(row.committee, row.submitted_on)
        concern = Concern.objects.create(
            committee=row.committee,
            identity_mode=IdentityMode.ANONYMOUS,
            raised_by=None,
            raiser_side="",
            raised_on=row.submitted_on,
            acknowledge_by=clocks.acknowledge_by,
            respond_by=clocks.respond_by,
            not_a_grievance=True,
            title=row.title,
            description=row.description,
            category=row.category,
            patient_impact=row.patient_impact,
            proposed_idea=row.proposed_idea,
        )
        Receipt.objects.create(token_hash=row.receipt_hash, concern=concern)
        audit_record(
            action=AuditEvent.Action.CREATE,
            actor=None,
            object_type="concerns.concern",
            object_id=str(concern.pk),
            object_repr="anonymous concern",
            clinic_id=row.committee.clinic_id,
            changes={"identity_mode": "anonymous", "released": day.isoformat()},
        )
        notify_cochairs_of_new_concern(concern)
        attachments_release(row, concern)
        row.delete()
    return len(pending)


def _announce_confidential(concern: Concern, day: dt.date) -> None:
    concern.announced = True
    concern.save(update_fields=["announced"])
    audit_record(
        action=AuditEvent.Action.CREATE,
        actor=None,
        object_type="concerns.concern",
        object_id=str(concern.pk),
        object_repr="confidential concern",
        clinic_id=concern.committee.clinic_id,
        changes={"identity_mode": "confidential", "announced": day.isoformat()},
    )
    notify_cochairs_of_new_concern(concern)
    attachments_announce(concern)  # its files are audited with it, in the batch


def concern_for_receipt(token: str) -> Concern | str | None:
    """The raiser's anonymous concern, "pending" before its release, or None."""
    digest = _hash_token(token.strip())
    receipt = Receipt.objects.select_related("concern").filter(token_hash=digest).first()
    if receipt is not None:
        return receipt.concern
    if PendingAnonymousConcern.objects.filter(receipt_hash=digest).exists():
        return "pending"
    return None


@transaction.atomic
def concern_cosign(*, actor: Any, concern: Concern, today: dt.date | None = None) -> CoSign:
    side = access_profile(actor).side_by_committee.get(concern.committee_id, Side.NEUTRAL)
    if CoSign.objects.filter(concern=concern, person=actor).exists():
        raise ValidationError("You have already co-signed this concern.")
    cosign = CoSign.objects.create(
        concern=concern, person=actor, side=side, signed_on=today or timezone.localdate()
    )
    audit_record(
        action=AuditEvent.Action.CREATE,
        actor=actor,
        object_type="concerns.cosign",
        object_id=str(cosign.pk),
        clinic_id=concern.committee.clinic_id,
        changes={"concern": str(concern.pk)},
    )
    return cosign


def _cochair_side(actor: Any, concern: Concern) -> str:
    """The side ``actor`` co-chairs the responsible committee for, or "" if they do not."""
    owner = concern.escalated_to_id or concern.committee_id
    profile = access_profile(actor)
    if owner not in profile.cochair_committee_ids:
        return ""
    return profile.side_by_committee.get(owner, "")


def _locked(concern: Concern) -> Concern:
    return Concern.all_objects.select_for_update().select_related("committee").get(pk=concern.pk)


def _set_status(actor: Any, concern: Concern, status: str, **extra: Any) -> None:
    before = concern.status
    concern.status = status
    concern.version += 1
    for name, value in extra.items():
        setattr(concern, name, value)
    concern.save(update_fields=["status", "version", *extra])
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        object_type="concerns.concern",
        object_id=str(concern.pk),
        clinic_id=concern.committee.clinic_id,
        changes={"status": [before, status], **{k: str(v) for k, v in extra.items()}},
    )


def _sign(actor: Any, concern: Concern, step: str, version: int = 0) -> bool:
    """Record this co-chair's side; True once both sides have signed."""
    side = _cochair_side(actor, concern)
    if side not in (Side.CLINICIAN, Side.MANAGEMENT):
        raise ValidationError("Only the co-chairs sign for their sides.")
    Signoff.objects.get_or_create(
        concern=concern,
        step=step,
        side=side,
        response_version=version,
        defaults={"person": actor, "signed_on": timezone.localdate()},
    )
    sides = set(
        Signoff.objects.filter(concern=concern, step=step, response_version=version).values_list(
            "side", flat=True
        )
    )
    return {Side.CLINICIAN, Side.MANAGEMENT} <= sides


@transaction.atomic
def concern_acknowledge(*, actor: Any, concern: Concern) -> Concern:
    concern = _locked(concern)
    if concern.status not in (Status.RAISED, Status.ESCALATED):
        raise ValidationError("This concern has already been acknowledged.")
    if _sign(actor, concern, Signoff.Step.ACKNOWLEDGE):
        _set_status(actor, concern, Status.ACKNOWLEDGED)
    return concern


@transaction.atomic
def concern_start_discussion(*, actor: Any, concern: Concern) -> Concern:
    concern = _locked(concern)
    if concern.status != Status.ACKNOWLEDGED:
        raise ValidationError("Both co-chairs acknowledge a concern before discussion starts.")
    _set_status(actor, concern, Status.IN_DISCUSSION)
    return concern


@transaction.atomic
def response_draft(
    *,
    actor: Any,
    concern: Concern,
    agreed: bool,
    text: str,
    clinician_reasons: str = "",
    management_reasons: str = "",
    version: int | None = None,
) -> JointResponse:
    """Write or change the joint response. Any change voids earlier signatures; a stale edit
    (``version`` older than the stored one) is refused rather than overwriting."""
    concern = _locked(concern)
    if concern.status not in (Status.ACKNOWLEDGED, Status.IN_DISCUSSION):
        raise ValidationError("A joint response follows acknowledgement and discussion.")
    if not agreed and not (clinician_reasons.strip() and management_reasons.strip()):
        raise ValidationError("Without agreement, each side gives its reasons.")
    response = JointResponse.objects.select_for_update().filter(concern=concern).first()
    if response is None:
        response = JointResponse(concern=concern, version=0)
    elif version is not None and version != response.version:
        raise ValidationError(
            "Someone changed the response while you were editing. Review their version first."
        )
    response.agreed, response.text = agreed, text
    response.clinician_reasons, response.management_reasons = clinician_reasons, management_reasons
    response.version += 1
    response.full_clean(exclude=["concern"])
    response.save()
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        object_type="concerns.jointresponse",
        object_id=str(concern.pk),
        clinic_id=concern.committee.clinic_id,
        changes={"version": response.version, "agreed": agreed},
    )
    return response


@transaction.atomic
def response_sign(*, actor: Any, concern: Concern) -> Concern:
    concern = _locked(concern)
    response = JointResponse.objects.filter(concern=concern).first()
    if response is None:
        raise ValidationError("There is no joint response to sign yet.")
    if _sign(actor, concern, Signoff.Step.RESPONSE, response.version):
        _set_status(actor, concern, Status.JOINT_RESPONSE)
    return concern


NEXT_STEPS = {
    Status.JOINT_RESPONSE: [Status.ACTION, Status.RESOLVED, Status.CLOSED],
    Status.ACTION: [Status.RESOLVED],
    Status.RESOLVED: [Status.CLOSED],
}


@transaction.atomic
def concern_move(*, actor: Any, concern: Concern, to: str) -> Concern:
    concern = _locked(concern)
    if to not in NEXT_STEPS.get(Status(concern.status), []):
        raise ValidationError(
            f"A {concern.get_status_display().lower()} concern cannot move there."
        )
    _set_status(actor, concern, to)
    return concern


@transaction.atomic
def escalate_overdue(*, today: dt.date | None = None) -> int:
    """Escalate concerns whose clocks lapsed to the region's committee. Safe to run twice."""
    day = today or timezone.localdate()
    lapsed = (
        Concern.objects.select_for_update()
        .select_related("committee")
        .filter(escalated_to__isnull=True, committee__kind=Committee.Kind.CLINIC_PPC)
        .filter(paused_since__isnull=True)  # a pause both co-chairs signed stops the clocks
        .filter(
            Q(status=Status.RAISED, acknowledge_by__lt=day)
            | Q(
                status__in=[Status.RAISED, Status.ACKNOWLEDGED, Status.IN_DISCUSSION],
                respond_by__lt=day,
            )
        )
    )
    count = 0
    regional = {
        c.region_id: c
        for c in Committee.objects.filter(kind=Committee.Kind.REGIONAL, is_active=True)
    }
    for concern in Concern.objects.filter(pk__in=[c.pk for c in lapsed]).select_related(
        "committee"
    ):
        target = regional.get(concern.committee.region_id)
        if target is None:
            continue
        _set_status(None, concern, Status.ESCALATED, escalated_to=target)
        count += 1
    return count
