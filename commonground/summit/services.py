"""Writes for the summit: the event, registration, rooms and sessions, live Q&A and the
results report. Each write is atomic and audited, except that nothing audited, logged or
notified names the asker of an anonymous question.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.concerns.phi import find_patient_identifiers
from commonground.deliberation.models import Conversation
from commonground.notifications.models import Kind
from commonground.notifications.services import notify
from commonground.organizations.models import Committee, Membership, Role
from commonground.summit.models import (
    QUESTION_MAX_CHARS,
    Question,
    QuestionVote,
    Registration,
    ResultsReport,
    Room,
    Session,
    Summit,
)
from commonground.summit.rules import forget_registrations

# The notification kind for results reports; falls back to an existing kind until the
# notifications app has a kind of its own for it (see the report to the lead).
REPORT_KIND = str(getattr(Kind, "SUMMIT_RESULTS", Kind.MENTION))
# Questions one person may ask per session and day (the key is a keyed hash: it limits
# flooding without writing a readable person-to-anonymous-question link anywhere).
QUESTIONS_PER_DAY = 10
MODERATION_DECISIONS = ("approve", "hide", "answered")


# --- the event ----------------------------------------------------------------------------


SUMMIT_FIELDS = ("title", "description", "starts_on", "ends_on", "venue", "capacity", "state")


@transaction.atomic
def summit_create(*, actor: Any, committee: Committee, **fields: Any) -> Summit:
    summit = Summit(region_id=committee.region_id, committee=committee, **fields)
    summit.full_clean()
    summit.save()
    audit_record(
        action=AuditEvent.Action.CREATE,
        actor=actor,
        obj=summit,
        changes={"title": summit.title, "starts_on": summit.starts_on.isoformat()},
    )
    return summit


@transaction.atomic
def summit_update(*, actor: Any, summit: Summit, **fields: Any) -> Summit:
    locked = Summit.objects.select_for_update().get(pk=summit.pk)
    before = {name: getattr(locked, name) for name in SUMMIT_FIELDS}
    for name, value in fields.items():
        if name not in SUMMIT_FIELDS:
            raise ValueError(f"not a summit field: {name}")
        setattr(locked, name, value)
    locked.full_clean()
    locked.save()
    changes = {
        name: [str(before[name]), str(getattr(locked, name))]
        for name in SUMMIT_FIELDS
        if before[name] != getattr(locked, name)
    }
    if changes:
        audit_record(action=AuditEvent.Action.UPDATE, actor=actor, obj=locked, changes=changes)
    # More places may let people in from the waiting list.
    _promote_waitlist(locked)
    return locked


# --- registration -------------------------------------------------------------------------


def _confirmed_count(summit: Summit) -> int:
    return Registration.objects.filter(summit=summit, status=Registration.Status.CONFIRMED).count()


def _promote_waitlist(locked: Summit) -> None:
    """Give free places to the waiting list, first come first served (summit row locked)."""
    if locked.capacity is None:
        free = None
    else:
        free = locked.capacity - _confirmed_count(locked)
        if free <= 0:
            return
    waiting = Registration.objects.filter(
        summit=locked, status=Registration.Status.WAITLISTED
    ).order_by("registered_at", "id")
    if free is not None:
        waiting = waiting[:free]
    now = timezone.now()
    for row in list(waiting):
        row.status = Registration.Status.CONFIRMED
        row.updated_at = now
        row.save(update_fields=["status", "updated_at"])
        audit_record(
            action=AuditEvent.Action.UPDATE,
            obj=row,
            changes={"status": ["waitlisted", "confirmed"], "promoted": True},
        )


@transaction.atomic
def register(*, actor: Any, summit: Summit) -> Registration:
    """Register the actor: a confirmed place while places last, else the waiting list.

    Race-safe: the summit row lock serialises registrations of one summit (so the capacity
    holds), and the one-row-per-person constraint makes a double submit a no-op."""
    locked = Summit.objects.select_for_update().get(pk=summit.pk)
    if not locked.registration_open:
        raise ValidationError("Registration for this summit is not open.")
    row = Registration.objects.filter(summit=locked, person=actor).first()
    if row is not None and row.status != Registration.Status.CANCELLED:
        return row
    full = locked.capacity is not None and _confirmed_count(locked) >= locked.capacity
    status = Registration.Status.WAITLISTED if full else Registration.Status.CONFIRMED
    now = timezone.now()
    if row is None:
        row = Registration.objects.create(
            summit=locked, person=actor, status=status, registered_at=now, updated_at=now
        )
    else:
        row.status = status
        row.registered_at = now  # the back of the queue again
        row.updated_at = now
        row.save(update_fields=["status", "registered_at", "updated_at"])
    audit_record(action=AuditEvent.Action.CREATE, actor=actor, obj=row, changes={"status": status})
    forget_registrations(actor)
    return row


@transaction.atomic
def unregister(*, actor: Any, summit: Summit) -> Registration | None:
    locked = Summit.objects.select_for_update().get(pk=summit.pk)
    if locked.state == Summit.State.FINISHED:
        raise ValidationError("This summit has finished.")
    row = Registration.objects.filter(summit=locked, person=actor).first()
    if row is None or row.status == Registration.Status.CANCELLED:
        return row
    before = row.status
    row.status = Registration.Status.CANCELLED
    row.updated_at = timezone.now()
    row.save(update_fields=["status", "updated_at"])
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=row,
        changes={"status": [before, row.status]},
    )
    forget_registrations(actor)
    if before == Registration.Status.CONFIRMED:
        _promote_waitlist(locked)
    return row


# --- rooms and sessions -------------------------------------------------------------------


@transaction.atomic
def room_save(*, actor: Any, summit: Summit, room: Room | None = None, **fields: Any) -> Room:
    created = room is None
    row = room or Room(summit=summit)
    for name, value in fields.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    audit_record(
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        actor=actor,
        obj=row,
        changes={name: str(value) for name, value in fields.items()},
    )
    return row


def _check_conversation(summit: Summit, conversation: Conversation | None) -> None:
    if conversation is not None and conversation.committee_id != summit.committee_id:
        raise ValidationError({"conversation": "Choose a conversation of the summit committee."})


@transaction.atomic
def session_save(
    *, actor: Any, summit: Summit, session: Session | None = None, **fields: Any
) -> Session:
    created = session is None
    row = session or Session(summit=summit)
    for name, value in fields.items():
        setattr(row, name, value)
    if row.room is not None and row.room.summit_id != summit.pk:
        raise ValidationError({"room": "Choose a room of this summit."})
    _check_conversation(summit, row.conversation)
    if row.starts_at and row.ends_at and row.ends_at <= row.starts_at:
        raise ValidationError({"ends_at": "A session ends after it starts."})
    row.full_clean()
    row.save()
    audit_record(
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        actor=actor,
        obj=row,
        changes={name: str(value) for name, value in fields.items()},
    )
    return row


# --- live Q&A -----------------------------------------------------------------------------


def _clean_question(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise ValidationError("Write a question.")
    if len(text) > QUESTION_MAX_CHARS:
        raise ValidationError(f"Keep a question to {QUESTION_MAX_CHARS} characters.")
    findings = find_patient_identifiers(text)
    if findings:
        kinds = ", ".join(sorted({f.kind for f in findings}))
        raise ValidationError(
            f"This looks like patient information ({kinds}). Remove it: questions are about "
            "practice, never about a patient."
        )
    return text


def _question_rate_key(actor: Any, session: Session, day: dt.date) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"q:{actor.pk}:{session.pk}:{day}".encode(), hashlib.sha256
    )
    return f"summit-questions:{digest.hexdigest()}"


@transaction.atomic
def question_ask(*, actor: Any, session: Session, text: str, anonymous: bool) -> Question:
    """A question for the session, waiting for a moderator. An anonymous question keeps no
    author and leaves no audit event."""
    clean = _clean_question(text)
    if not session.questions_open:
        raise ValidationError("This session is not taking questions.")
    key = _question_rate_key(actor, session, timezone.localdate())
    asked = int(cache.get(key, 0))
    if asked >= QUESTIONS_PER_DAY:
        raise ValidationError("You have asked the most questions allowed in this session.")
    cache.set(key, asked + 1, timeout=36 * 3600)
    now = timezone.now()
    question = Question.objects.create(
        session=session,
        text=clean,
        author=None if anonymous else actor,
        created_at=now,
        updated_at=now,
    )
    if not anonymous:
        # An anonymous question is not audited when asked (as with anonymous concerns): an
        # event timed to the second, with the request's id, beside the asker's other events
        # would point at them. Its moderation is audited like any other.
        audit_record(action=AuditEvent.Action.CREATE, actor=actor, obj=question)
    return question


def question_upvote(*, actor: Any, question: Question) -> bool:
    """Upvote once. Returns False when the person had already upvoted. Race-safe: the unique
    (question, person) constraint decides between two simultaneous clicks."""
    if question.status not in (Question.Status.APPROVED, Question.Status.ANSWERED):
        raise ValidationError("Only questions on show take upvotes.")
    try:
        with transaction.atomic():
            QuestionVote.objects.create(question=question, person=actor)
    except IntegrityError:
        return False
    # Who upvoted what stays private, like conversation votes: the event names the session.
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        object_type="summit.session",
        object_id=str(question.session_id),
        object_repr=str(question.session)[:200],
        changes={"upvote": "recorded"},
    )
    return True


@transaction.atomic
def question_moderate(*, actor: Any, question: Question, decision: str) -> Question:
    if decision not in MODERATION_DECISIONS:
        raise ValidationError("Choose approve, hide or answered.")
    row = Question.objects.select_for_update().get(pk=question.pk)
    status = {
        "approve": Question.Status.APPROVED,
        "hide": Question.Status.HIDDEN,
        "answered": Question.Status.ANSWERED,
    }[decision]
    if row.status == status:
        return row
    before = row.status
    row.status = status
    row.updated_at = timezone.now()
    row.save(update_fields=["status", "updated_at"])
    audit_record(
        action=AuditEvent.Action.UPDATE,
        actor=actor,
        obj=row,
        changes={"status": [before, status]},
    )
    return row


# --- results report -----------------------------------------------------------------------


def report_dedup_key(summit: Summit, conversation: Conversation, committee: Committee) -> str:
    return f"summit-report:{summit.pk}:{conversation.pk}:{committee.pk}"


@transaction.atomic
def report_send(*, actor: Any, summit: Summit, conversation: Conversation) -> ResultsReport:
    """Tell each clinic committee's co-chairs that the conversation's results are ready,
    with a link to the report. Sending again never notifies anyone twice (one dedup key
    per summit, conversation and committee)."""
    if conversation.committee_id != summit.committee_id:
        raise ValidationError("That conversation is not one of this summit's.")
    if conversation.is_open:
        raise ValidationError("Close the conversation before sending its results.")
    link = reverse(
        "summit:report", kwargs={"summit_id": summit.pk, "conversation_id": conversation.public_id}
    )
    committees = list(
        Committee.objects.filter(
            region_id=summit.region_id, kind=Committee.Kind.CLINIC_PPC, is_active=True
        ).order_by("pk")
    )
    cochairs: dict[int, list[Any]] = {c.pk: [] for c in committees}
    seats = (
        Membership.objects.current()
        .filter(committee__in=committees, role=Role.CO_CHAIR)
        .select_related("person")
    )
    for seat in seats:
        cochairs[seat.committee_id].append(seat.person)
    for committee in committees:
        notify(
            recipients=cochairs[committee.pk],
            kind=REPORT_KIND,
            subject=f"Summit results: {conversation.topic}"[:200],
            body=(
                f"The results of “{conversation.topic}” at {summit.title} are ready for your "
                "committee: the statements both sides agreed on and your clinic's participation."
            ),
            link=link,
            dedup_key=report_dedup_key(summit, conversation, committee),
            clinic_id=committee.clinic_id,
        )
    now = timezone.now()
    report, created = ResultsReport.objects.update_or_create(
        summit=summit,
        conversation=conversation,
        defaults={"sent_at": now, "sent_by": actor, "committees_notified": len(committees)},
    )
    audit_record(
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        actor=actor,
        obj=report,
        changes={"conversation": str(conversation.public_id), "committees": len(committees)},
    )
    return report
