"""Reads for the summit. Program, Q&A, projector and report pages make a fixed number of
queries whatever the number of sessions, questions, upvotes, participants or votes."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from commonground.core.permissions import allowed, authorise
from commonground.deliberation.models import (
    Conversation,
    OpinionSnapshot,
    Participant,
    Statement,
    Vote,
)
from commonground.deliberation.results import Results, build_results
from commonground.organizations.access import access_profile
from commonground.organizations.models import Clinic, Committee, Membership
from commonground.summit.models import (
    Question,
    QuestionVote,
    Registration,
    ResultsReport,
    Room,
    Session,
    Summit,
)

VIEW = "summit.view"
REGISTER = "summit.register"
ATTEND = "summit.attend"
ORGANISE = "summit.organise"


def min_group_size() -> int:
    return int(settings.COMMONGROUND_MIN_GROUP_SIZE)


# --- fetch and authorise ------------------------------------------------------------------


def get_summit_for_user(user: Any, summit_id: int, perm: str = VIEW) -> Summit:
    """404 when the summit's region is out of sight (as for one that does not exist), 403
    when seen but ``perm`` is missing."""
    summit = Summit.objects.select_related("committee", "region").filter(pk=summit_id).first()
    if summit is None:
        raise Http404
    authorise(user, summit, view_perm=VIEW, perm=perm)
    return summit


def get_session(summit: Summit, session_id: int) -> Session:
    session = (
        Session.objects.select_related("room", "conversation")
        .filter(summit=summit, pk=session_id)
        .first()
    )
    if session is None:
        raise Http404
    session.summit = summit
    return session


def get_room(summit: Summit, room_id: int) -> Room:
    room = Room.objects.filter(summit=summit, pk=room_id).first()
    if room is None:
        raise Http404
    return room


def get_question(summit: Summit, question_id: int) -> Question:
    question = (
        Question.objects.select_related("session")
        .filter(session__summit=summit, pk=question_id)
        .first()
    )
    if question is None:
        raise Http404
    question.session.summit = summit
    return question


def get_summit_conversation(summit: Summit, conversation_id: uuid.UUID) -> Conversation:
    """A conversation of the summit committee (404 for any other)."""
    conversation = (
        Conversation.objects.select_related("committee")
        .filter(public_id=conversation_id, committee_id=summit.committee_id)
        .first()
    )
    if conversation is None:
        raise Http404
    return conversation


# --- event and program --------------------------------------------------------------------


def summits_for_user(user: Any) -> QuerySet[Summit]:
    profile = access_profile(user)
    regions = profile.region_ids | profile.admin_region_ids
    return (
        Summit.objects.filter(region_id__in=regions).select_related("region").order_by("-starts_on")
    )


@dataclass
class Slot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    sessions: list[Session]


def program(summit: Summit) -> list[Slot]:
    """The sessions grouped by start time, plenaries first, then by room (one query)."""
    rows = list(
        Session.objects.filter(summit=summit)
        .select_related("room", "conversation")
        .order_by("starts_at", "kind", "room__name", "title")
    )
    slots: list[Slot] = []
    for session in rows:
        session.summit = summit
        if slots and slots[-1].starts_at == session.starts_at:
            slots[-1].sessions.append(session)
            slots[-1].ends_at = max(slots[-1].ends_at, session.ends_at)
        else:
            slots.append(Slot(session.starts_at, session.ends_at, [session]))
    return slots


@dataclass
class RegistrationBox:
    registration: Registration | None
    confirmed: int
    waitlisted: int
    waitlist_position: int | None = None

    @property
    def is_registered(self) -> bool:
        return self.registration is not None and self.registration.status in (
            Registration.Status.CONFIRMED,
            Registration.Status.WAITLISTED,
        )


def registration_box(user: Any, summit: Summit) -> RegistrationBox:
    counts = Registration.objects.filter(summit=summit).aggregate(
        confirmed=Count("id", filter=Q(status=Registration.Status.CONFIRMED)),
        waitlisted=Count("id", filter=Q(status=Registration.Status.WAITLISTED)),
    )
    mine = Registration.objects.filter(summit=summit, person_id=user.pk).first()
    position = None
    if mine is not None and mine.status == Registration.Status.WAITLISTED:
        position = (
            Registration.objects.filter(
                summit=summit,
                status=Registration.Status.WAITLISTED,
                registered_at__lte=mine.registered_at,
            )
            .exclude(registered_at=mine.registered_at, id__gt=mine.id)
            .count()
        )
    return RegistrationBox(mine, counts["confirmed"], counts["waitlisted"], position)


def summit_conversations(summit: Summit) -> list[Conversation]:
    return list(
        Conversation.objects.filter(committee_id=summit.committee_id).order_by("-created_at")
    )


# --- live Q&A -----------------------------------------------------------------------------


@dataclass
class QuestionList:
    shown: list[Question]
    answered: list[Question]
    pending: list[Question]
    hidden: list[Question]
    version: str


def questions(user: Any, session: Session, *, can_moderate: bool) -> QuestionList:
    """The session's questions, most upvoted first, with the viewer's own upvote flag. The
    ``version`` changes whenever anything on the list would: the poll answers 204 while it
    stays the same, so the list is not re-drawn under someone's keyboard focus."""
    statuses = [Question.Status.APPROVED, Question.Status.ANSWERED]
    if can_moderate:
        statuses += [Question.Status.PENDING, Question.Status.HIDDEN]
    rows = list(
        Question.objects.filter(session=session, status__in=statuses)
        .select_related("author")
        .annotate(
            n_votes=Count("upvotes"),
            upvoted=Exists(QuestionVote.objects.filter(question=OuterRef("pk"), person=user.pk)),
        )
        .order_by("-n_votes", "created_at", "id")
    )
    digest = hashlib.sha256(
        repr([(q.pk, q.status, q.n_votes, q.upvoted) for q in rows]).encode()
    ).hexdigest()[:16]
    by_status: dict[str, list[Question]] = {s: [] for s in Question.Status.values}
    for question in rows:
        by_status[question.status].append(question)
    return QuestionList(
        shown=by_status[Question.Status.APPROVED],
        answered=by_status[Question.Status.ANSWERED],
        pending=by_status[Question.Status.PENDING],
        hidden=by_status[Question.Status.HIDDEN],
        version=digest,
    )


# --- projector and report -----------------------------------------------------------------


@dataclass
class Participation:
    voters: int
    votes: int


def participation(conversation: Conversation) -> Participation:
    counts = Vote.objects.filter(conversation=conversation).aggregate(
        votes=Count("id"), voters=Count("participant", distinct=True)
    )
    return Participation(voters=counts["voters"], votes=counts["votes"])


def _results(conversation: Conversation) -> tuple[OpinionSnapshot | None, Results]:
    """The conversation's results as everyone sees them, without a viewer: no point is
    marked as anyone's, and the k-rules of deliberation's results apply."""
    k = min_group_size()
    snapshot = OpinionSnapshot.objects.filter(conversation=conversation).first()
    if snapshot is None:
        return None, Results(
            ready=False, reason=f"Results appear once at least {k} people have voted."
        )
    texts = dict(
        Statement.objects.filter(conversation=conversation)
        .exclude(moderation=Statement.Moderation.REJECTED)
        .values_list("number", "text")
    )
    return snapshot, build_results(snapshot.result, texts, viewer=None, min_group=k)


PROJECTOR_TOP = 3


@dataclass
class ProjectorPage:
    summit: Summit
    conversation: Conversation
    results: Results
    participation: Participation
    snapshot: OpinionSnapshot | None
    version: str
    spec: dict[str, Any] = field(default_factory=dict)


def projector_page(summit: Summit, conversation: Conversation) -> ProjectorPage:
    snapshot, results = _results(conversation)
    counts = participation(conversation)
    spec: dict[str, Any] = {}
    if results.ready:
        # The same map, bigger and in large type for a room.
        spec = dict(results.spec)
        spec["height"] = 420
        config = dict(spec.get("config", {}))
        config["legend"] = {**config.get("legend", {}), "labelFontSize": 20, "titleFontSize": 20}
        spec["config"] = config
        for layer in spec.get("layer", []):
            mark = layer.get("mark", {})
            if mark.get("type") == "point" and mark.get("filled"):
                layer["mark"] = {**mark, "size": 140}
    version = f"{conversation.revision}-{snapshot.revision if snapshot else 'none'}"
    version += f"-{conversation.state}-{counts.votes}"
    return ProjectorPage(
        summit=summit,
        conversation=conversation,
        results=results,
        participation=counts,
        snapshot=snapshot,
        version=version,
        spec=spec,
    )


@dataclass
class ClinicLine:
    clinic: str
    participants: int | None  # None: fewer than k, not shown


@dataclass
class ReportPage:
    summit: Summit
    conversation: Conversation
    results: Results
    participation: Participation
    clinics: list[ClinicLine]
    not_placed: int | None
    min_group: int
    sent: ResultsReport | None
    can_send: bool


def clinic_participation(conversation: Conversation) -> tuple[list[ClinicLine], int | None]:
    """Voters per clinic, from each voter's clinic committee seat (current, else the most
    recent). A clinic with fewer than k voters shows no figure. Three queries."""
    k = min_group_size()
    voter_ids = set(
        Participant.objects.filter(conversation=conversation, user__isnull=False)
        .filter(Exists(Vote.objects.filter(participant=OuterRef("pk"))))
        .values_list("user_id", flat=True)
    )
    seats = Membership.objects.filter(
        person_id__in=voter_ids, committee__kind=Committee.Kind.CLINIC_PPC
    ).values_list("person_id", "committee__clinic_id", "end_date", "start_date")
    best: dict[int, tuple[tuple[bool, dt.date], int]] = {}
    for person_id, clinic_id, end_date, start_date in seats:
        rank = (end_date is None, start_date)  # an open seat first, then the latest
        if person_id not in best or rank > best[person_id][0]:
            best[person_id] = (rank, clinic_id)
    clinic_of = {person_id: clinic_id for person_id, (_rank, clinic_id) in best.items()}
    per_clinic = Counter(clinic_of.values())
    names = dict(
        Clinic.objects.filter(region_id=conversation.committee.region_id).values_list("pk", "name")
    )
    lines = [
        ClinicLine(name, per_clinic[pk] if per_clinic[pk] >= k else None)
        for pk, name in sorted(names.items(), key=lambda item: item[1])
    ]
    unplaced = len(voter_ids) - len(clinic_of)
    return lines, (unplaced if unplaced >= k or unplaced == 0 else None)


def report_page(user: Any, summit: Summit, conversation: Conversation) -> ReportPage:
    _snapshot, results = _results(conversation)
    clinics, not_placed = clinic_participation(conversation)
    return ReportPage(
        summit=summit,
        conversation=conversation,
        results=results,
        participation=participation(conversation),
        clinics=clinics,
        not_placed=not_placed,
        min_group=min_group_size(),
        sent=ResultsReport.objects.filter(summit=summit, conversation=conversation).first(),
        can_send=allowed(user, ORGANISE, summit),
    )
