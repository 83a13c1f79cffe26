"""Reads for common-ground conversations. Every page makes a fixed number of queries,
whatever the number of statements, participants or votes."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from commonground.core.permissions import allowed, authorise
from commonground.deliberation.models import (
    Conversation,
    OpinionSnapshot,
    Participant,
    Statement,
    Vote,
)
from commonground.deliberation.results import Results, age_text, build_results
from commonground.deliberation.services import min_group_size
from commonground.organizations.models import Committee

VIEW = "deliberation.view"
TAKE_PART = "deliberation.take_part"
MODERATE = "deliberation.moderate"


def get_conversation_for_user(
    user: Any, conversation_id: uuid.UUID, perm: str = VIEW
) -> Conversation:
    """The conversation if ``user`` may use it with ``perm``: 404 when its committee is out of
    sight (the same answer as "does not exist"), 403 when seen but ``perm`` is missing."""
    conversation = (
        Conversation.objects.select_related("committee", "committee__clinic")
        .filter(public_id=conversation_id)
        .first()
    )
    if conversation is None:
        raise Http404
    authorise(
        user,
        conversation,
        view_perm=VIEW,
        perm=perm,
        clinic_id=conversation.committee.clinic_id,
    )
    return conversation


def get_statement(conversation: Conversation, number: int) -> Statement:
    statement = (
        Statement.objects.select_related("conversation", "conversation__committee")
        .filter(conversation=conversation, number=number)
        .first()
    )
    if statement is None:
        raise Http404
    return statement


def committee_conversations(committee: Committee) -> QuerySet[Conversation]:
    return (
        Conversation.objects.filter(committee=committee)
        .annotate(
            n_statements=Count("statements", filter=Q(statements__moderation="accepted")),
            n_pending=Count("statements", filter=Q(statements__moderation="pending")),
        )
        .order_by("-created_at")
    )


@dataclass
class VotingPage:
    conversation: Conversation
    can_take_part: bool
    can_moderate: bool
    statement: Statement | None
    total: int
    voted: int
    my_pending: int = 0

    @property
    def remaining(self) -> int:
        return self.total - self.voted


def _participant_of(user: Any, conversation: Conversation) -> Participant | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Participant.objects.filter(conversation=conversation, user=user).first()


def voting_page(user: Any, conversation: Conversation) -> VotingPage:
    """The next accepted statement the person has not voted on: highest engine priority
    first when a snapshot exists (statements newer than the snapshot come first, as they
    have no votes yet), else oldest first."""
    can_take_part = allowed(user, TAKE_PART, conversation)
    can_moderate = allowed(user, MODERATE, conversation)
    statements = list(
        Statement.objects.filter(
            conversation=conversation, moderation=Statement.Moderation.ACCEPTED
        )
        .only("pk", "number", "text", "is_meta", "conversation_id")
        .order_by("number")
    )
    participant = _participant_of(user, conversation) if can_take_part else None
    voted_ids: set[int] = set()
    my_pending = 0
    if participant is not None:
        voted_ids = set(
            Vote.objects.filter(participant=participant).values_list("statement_id", flat=True)
        )
        my_pending = Statement.objects.filter(
            author=participant, moderation=Statement.Moderation.PENDING
        ).count()
    unvoted = [s for s in statements if s.pk not in voted_ids]
    chosen: Statement | None = None
    if unvoted and can_take_part and conversation.is_open:
        priorities = (
            OpinionSnapshot.objects.filter(conversation=conversation)
            .values_list("priorities", flat=True)
            .first()
        ) or {}
        inf = float("inf")
        chosen = min(unvoted, key=lambda s: (-float(priorities.get(str(s.number), inf)), s.number))
    return VotingPage(
        conversation=conversation,
        can_take_part=can_take_part,
        can_moderate=can_moderate,
        statement=chosen,
        total=len(statements),
        voted=len(statements) - len(unvoted),
        my_pending=my_pending,
    )


@dataclass
class ResultsPage:
    conversation: Conversation
    results: Results
    snapshot: OpinionSnapshot | None
    updated: str = ""
    counting: bool = False  # votes arrived since the snapshot
    can_moderate: bool = False
    min_group: int = 5


def results_page(
    user: Any, conversation: Conversation, now: dt.datetime | None = None
) -> ResultsPage:
    now = now or timezone.now()
    snapshot = OpinionSnapshot.objects.filter(conversation=conversation).first()
    can_moderate = allowed(user, MODERATE, conversation)
    k = min_group_size()
    if snapshot is None:
        return ResultsPage(
            conversation=conversation,
            results=Results(
                ready=False,
                reason=f"Results appear once at least {k} people have voted.",
            ),
            snapshot=None,
            counting=conversation.revision > 0,
            can_moderate=can_moderate,
            min_group=k,
        )
    texts = dict(
        Statement.objects.filter(conversation=conversation)
        .exclude(moderation=Statement.Moderation.REJECTED)
        .values_list("number", "text")
    )
    participant = _participant_of(user, conversation)
    results = build_results(
        snapshot.result,
        texts,
        viewer=participant.number if participant is not None else None,
        min_group=k,
    )
    return ResultsPage(
        conversation=conversation,
        results=results,
        snapshot=snapshot,
        updated=age_text(snapshot.computed_at, now),
        counting=conversation.revision > snapshot.revision,
        can_moderate=can_moderate,
        min_group=k,
    )


@dataclass
class ModerationPage:
    conversation: Conversation
    pending: list[Statement]
    decided: list[Statement]


def moderation_page(conversation: Conversation) -> ModerationPage:
    """Every statement with its vote count (an aggregate); never its author."""
    rows = list(
        Statement.objects.filter(conversation=conversation)
        .annotate(n_votes=Count("votes"))
        .defer("author")
        .order_by("number")
    )
    return ModerationPage(
        conversation=conversation,
        pending=[s for s in rows if s.moderation == Statement.Moderation.PENDING],
        decided=[s for s in rows if s.moderation != Statement.Moderation.PENDING],
    )
