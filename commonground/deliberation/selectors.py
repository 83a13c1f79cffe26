"""Reads for common-ground conversations. Every page makes a fixed number of queries,
whatever the number of statements, participants or votes."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from commonground.core.permissions import allowed, authorise
from commonground.deliberation import polls
from commonground.deliberation.models import (
    Conversation,
    OpinionSnapshot,
    Participant,
    Poll,
    PollOption,
    PollVote,
    Statement,
    Vote,
)
from commonground.deliberation.results import Results, age_text, build_results
from commonground.deliberation.services import min_group_size, poll_ballot
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


# --- decision polls --------------------------------------------------------------------------
#
# The poll list makes one query for any number of polls; the poll page a fixed number for
# any number of votes. An anonymous poll's votes are read without their voter.

VIEW_POLL = "deliberation.view_poll"
VOTE_POLL = "deliberation.vote_poll"
MANAGE_POLL = "deliberation.manage_poll"


def get_poll_for_user(user: Any, poll_id: uuid.UUID, perm: str = VIEW_POLL) -> Poll:
    """The poll if ``user`` may use it with ``perm``: 404 when its committee is out of sight,
    403 when seen but ``perm`` is missing."""
    poll = (
        Poll.objects.select_related("committee", "committee__clinic", "decision")
        .filter(public_id=poll_id)
        .first()
    )
    if poll is None:
        raise Http404
    authorise(user, poll, view_perm=VIEW_POLL, perm=perm, clinic_id=poll.committee.clinic_id)
    return poll


@dataclass
class PollListPage:
    open: list[Poll]
    closed: list[Poll]


def committee_polls(committee: Committee, now: dt.datetime | None = None) -> PollListPage:
    """A committee's polls, open ones (soonest closing first) then closed ones (newest
    first). A poll past its closing time counts as closed before the task marks it."""
    now = now or timezone.now()
    rows: list[Poll] = list(
        Poll.objects.filter(committee=committee)
        .select_related("decision")
        .annotate(n_voters=Count("votes"))
        .order_by("-created_at")
    )
    still_open = sorted((p for p in rows if p.is_open_at(now)), key=lambda p: p.closing_at)
    return PollListPage(open=still_open, closed=[p for p in rows if not p.is_open_at(now)])


@dataclass
class PollVoteShown:
    """One vote as a results page may show it: ``name`` is empty for anonymous polls."""

    name: str
    side: str
    answer: str
    reason: str


@dataclass
class IrvRoundShown:
    number: int
    counts: list[tuple[str, int]]
    exhausted: int
    eliminated: str
    tie_break: str


@dataclass
class PollPage:
    poll: Poll
    options: list[PollOption]
    is_open: bool
    can_vote: bool
    can_manage: bool
    my_vote: PollVote | None
    voters: int
    results_visible: bool
    tally: polls.Tally | None
    quorum: polls.Quorum
    by_side: dict[str, polls.Tally] = field(default_factory=dict)
    breakdown_reason: str = ""
    votes: list[PollVoteShown] = field(default_factory=list)
    irv_rounds: list[IrvRoundShown] = field(default_factory=list)
    draft: str = ""
    min_group: int = 5

    @property
    def awaiting_outcome(self) -> bool:
        return not self.is_open and self.poll.decision_id is None


def _answer_text(poll: Poll, labels: list[str], ballot: polls.Ballot) -> str:
    """A vote in words, for the non-anonymous list of votes."""
    if poll.kind in polls.CHOICES:
        return next(
            (label for key, label, _ in polls.CHOICES[poll.kind] if key == ballot.choice), ""
        )
    if poll.kind == Poll.Kind.RANKED:
        return ", then ".join(labels[i] for i in ballot.ranking if i < len(labels))
    if poll.kind == Poll.Kind.MEETING:
        answers = dict(polls.MEETING_ANSWERS)
        return "; ".join(
            f"{labels[i]}: {answers.get(v, '?').lower()}"
            for i, v in sorted(ballot.values.items())
            if i < len(labels)
        )
    unit = "dot" if poll.kind == Poll.Kind.DOT else "point"
    return "; ".join(
        f"{labels[i]}: {v} {unit}{'s' if v != 1 else ''}"
        for i, v in sorted(ballot.values.items())
        if i < len(labels)
    )


def poll_page(user: Any, poll: Poll, now: dt.datetime | None = None) -> PollPage:
    now = now or timezone.now()
    options = list(PollOption.objects.filter(poll=poll).order_by("position"))
    labels = [o.label for o in options]
    is_open = poll.is_open_at(now)
    can_vote = is_open and allowed(user, VOTE_POLL, poll)
    can_manage = allowed(user, MANAGE_POLL, poll)
    my_vote = (
        PollVote.objects.filter(poll=poll, voter=user).first()
        if allowed(user, VOTE_POLL, poll)
        else None
    )
    visible = poll.results_visible_at(now)
    shown: list[PollVoteShown] = []
    if poll.anonymous:
        rows = [
            (poll_ballot(poll.kind, side, choice, ballot), "", reason)
            for side, choice, ballot, reason in PollVote.objects.filter(poll=poll).values_list(
                "side", "choice", "ballot", "reason"
            )
        ]
    else:
        rows = [
            (
                poll_ballot(poll.kind, v.side, v.choice, v.ballot),
                v.voter.get_display_name(),
                v.reason,
            )
            for v in PollVote.objects.filter(poll=poll)
            .select_related("voter")
            .order_by("voter__last_name", "voter__first_name", "pk")
        ]
    ballots = [b for b, _, _ in rows]
    counts = polls.side_counts(ballots)
    q = polls.quorum(counts, poll.quorum_clinicians, poll.quorum_management)
    k = min_group_size()
    page = PollPage(
        poll=poll,
        options=options,
        is_open=is_open,
        can_vote=can_vote,
        can_manage=can_manage,
        my_vote=my_vote,
        voters=len(ballots),
        results_visible=visible,
        tally=None,
        quorum=q,
        min_group=k,
    )
    if not visible:
        return page
    page.tally = polls.tally(poll.kind, ballots, labels, score_max=poll.score_max)
    if page.tally.irv is not None:
        page.irv_rounds = [
            IrvRoundShown(
                r.number,
                [(labels[c], n) for c, n in r.counts.items()],
                r.exhausted,
                labels[r.eliminated] if r.eliminated is not None else "",
                r.tie_break,
            )
            for r in page.tally.irv.rounds
        ]
    if polls.breakdown_visible(counts, k):
        page.by_side = {
            side: polls.tally(
                poll.kind, [b for b in ballots if b.side == side], labels, score_max=poll.score_max
            )
            for side in polls.SIDES
        }
    else:
        page.breakdown_reason = (
            f"Results by side appear when clinicians and managers each number at least {k} "
            "voters (and any other voters too), so that no one's vote can be worked out."
        )
    for ballot, name, reason in rows:
        if poll.anonymous:
            if reason:
                shown.append(PollVoteShown("", "", _answer_text(poll, labels, ballot), reason))
        else:
            shown.append(
                PollVoteShown(name, ballot.side, _answer_text(poll, labels, ballot), reason)
            )
    if poll.anonymous:
        # No order that follows the order of voting.
        shown.sort(key=lambda v: (v.answer, v.reason))
    page.votes = shown
    if can_manage and poll.decision_id is None:
        page.draft = polls.draft_outcome(poll.title, page.tally, q)
    return page
