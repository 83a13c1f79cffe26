"""Common-ground conversations (Pol.is style): a prompt, short statements, agree / disagree /
pass votes, and the opinion-group snapshot the background recompute stores.

Anonymity by design:

* A vote belongs to a ``Participant`` of the conversation, not directly to a user. A
  participant is either a person (``user`` set) or a pseudonymous row imported from a Pol.is
  export (``user`` NULL). Its ``number`` is the only participant id that ever leaves the
  database (engine input, snapshot JSON, Pol.is export).
* A statement keeps its author for the moderation audit, but no page shows it.
* The snapshot JSON holds participant numbers, never user ids; the browser receives only
  points with the viewer's own flag.

The summit uses the same models: a conversation of the summit committee with
``open_to_region`` lets everyone with a seat in the region take part.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from commonground.organizations.models import Committee, Side

STATEMENT_MAX_CHARS = 280


class Conversation(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="conversations")
    topic = models.CharField("prompt", max_length=200)
    description = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    allow_statements = models.BooleanField(
        "participants may add statements",
        default=True,
    )
    auto_accept = models.BooleanField(
        "accept participants' statements without moderation",
        default=False,
    )
    open_to_region = models.BooleanField(
        "everyone with a seat in the region may take part",
        default=False,
        help_text="For the regional committee and the summit.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    imported = models.BooleanField(default=False)
    # Bumped by every vote and moderation change (under the row lock, so it also serialises
    # a conversation's votes); a snapshot is current when it carries the same revision.
    revision = models.PositiveIntegerField(default=0)
    # Participant numbers are handed out from here (sequential per conversation).
    participant_count = models.PositiveIntegerField(default=0)
    # Set when a recompute is queued and cleared when it starts: while set, new votes do not
    # queue another one (the debounce).
    recompute_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Serves a committee's conversation list, newest first.
            models.Index(fields=["committee", "-created_at"], name="conversation_committee_idx"),
        ]

    def __str__(self) -> str:
        return self.topic

    def get_absolute_url(self) -> str:
        return reverse(
            "deliberation:conversation-detail", kwargs={"conversation_id": self.public_id}
        )

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN


class Participant(models.Model):
    """Someone taking part in one conversation: a person, or an imported pseudonymous row."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    # The pseudonymous id used by the engine, the snapshot and the Pol.is export.
    number = models.PositiveIntegerField()
    # The person's side on the committee when they joined in (kept up to date on each vote);
    # imported participants are neutral: Pol.is files carry no side.
    side = models.CharField(max_length=20, choices=Side.choices, default=Side.NEUTRAL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["conversation", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "number"], name="participant_number_unique"
            ),
            models.UniqueConstraint(
                fields=["conversation", "user"],
                condition=Q(user__isnull=False),
                name="participant_once_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"Participant {self.number}"


class Statement(models.Model):
    class Moderation(models.TextChoices):
        PENDING = "pending", "Waiting for a co-chair"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="statements"
    )
    # Pol.is "comment-id": sequential per conversation from 0.
    number = models.PositiveIntegerField()
    text = models.CharField(max_length=STATEMENT_MAX_CHARS)
    # Kept for the moderation audit only; never shown on a page or exported.
    author = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="statements",
        null=True,
        blank=True,
    )
    is_seed = models.BooleanField(default=False)
    moderation = models.CharField(
        max_length=10, choices=Moderation.choices, default=Moderation.PENDING
    )
    is_meta = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    moderated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["conversation", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "number"], name="statement_number_unique"
            ),
        ]
        indexes = [
            # Serves the voting page: a conversation's accepted statements.
            models.Index(fields=["conversation", "moderation"], name="statement_moderation_idx"),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def polis_moderated(self) -> int:
        """Pol.is ``moderated``: 1 accepted, 0 unmoderated, -1 rejected."""
        return {"accepted": 1, "rejected": -1}.get(self.moderation, 0)


class Vote(models.Model):
    class Value(models.IntegerChoices):
        AGREE = 1, "Agree"
        PASS = 0, "Pass / unsure"
        DISAGREE = -1, "Disagree"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="votes")
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="votes")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="votes")
    value = models.SmallIntegerField(choices=Value.choices)
    # The first vote's time fixes the engine's row order (spec section 1); a revote only
    # changes ``value`` and ``updated_at`` (latest wins).
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "participant"], name="vote_once_per_statement"
            ),
            models.CheckConstraint(condition=Q(value__in=[-1, 0, 1]), name="vote_value_valid"),
        ]
        indexes = [
            # Serves the recompute: every vote of a conversation in first-vote order.
            models.Index(fields=["conversation", "created_at", "id"], name="vote_conversation_idx"),
            # Serves "next unvoted statement": a participant's votes.
            models.Index(fields=["participant", "statement"], name="vote_participant_idx"),
        ]

    def __str__(self) -> str:
        return f"Vote {self.pk}"


class OpinionSnapshot(models.Model):
    """The latest engine result of a conversation (one row, replaced by each recompute)."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="snapshot"
    )
    computed_at = models.DateTimeField()
    revision = models.PositiveIntegerField()
    vote_count = models.PositiveIntegerField()
    participant_count = models.PositiveIntegerField()
    # Statement number (as a string) -> priority, read apart from ``result`` by the voting
    # page so that it need not load every projection.
    priorities = models.JSONField(default=dict)
    # Groups, projections by participant number, repness, consensus, bridges, tallies.
    result = models.JSONField(default=dict)

    class Meta:
        get_latest_by = "computed_at"

    def __str__(self) -> str:
        return f"Snapshot of {self.conversation_id} at revision {self.revision}"


# --- decision polls --------------------------------------------------------------------------
#
# Loomio-style polls with an outcome that goes into the committee's decisions log. The tally
# arithmetic lives in ``commonground.deliberation.polls`` (no Django).
#
# Anonymity: a vote row always names its voter, so that one vote per person can be enforced
# by the database; an anonymous poll never shows who voted what, and a vote's audit event
# never holds the choice.


class Poll(models.Model):
    class Kind(models.TextChoices):
        PROPOSAL = "proposal", "Proposal"
        CONSENT = "consent", "Consent or objection"
        GRADIENTS = "gradients", "Gradients of agreement"
        FIST_TO_FIVE = "fist_to_five", "Fist to five"
        SCORE = "score", "Score"
        RANKED = "ranked", "Ranked choice"
        DOT = "dot", "Dot vote"
        MEETING = "meeting", "Meeting time"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="polls")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField("question", max_length=200)
    details = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    anonymous = models.BooleanField(
        "anonymous votes", default=False, help_text="Results never show who voted what."
    )
    hide_results = models.BooleanField("hide results until the poll closes", default=False)
    closing_at = models.DateTimeField("closes at")
    score_max = models.PositiveSmallIntegerField("highest score", default=5)
    dots_per_voter = models.PositiveSmallIntegerField("dots per person", default=8)
    quorum_clinicians = models.PositiveSmallIntegerField("clinician-side voters needed", default=0)
    quorum_management = models.PositiveSmallIntegerField("management-side voters needed", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The outcome: recorded once, as a decision in the committee's decisions log.
    decision = models.OneToOneField(
        "meetings.Decision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="poll",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Serves a committee's poll list, newest first.
            models.Index(fields=["committee", "-created_at"], name="poll_committee_idx"),
            # Serves the closing task: open polls past their closing time.
            models.Index(fields=["state", "closing_at"], name="poll_closing_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(score_max__gte=1) & Q(score_max__lte=10), name="poll_score_max_range"
            ),
            models.CheckConstraint(
                condition=Q(dots_per_voter__gte=1) & Q(dots_per_voter__lte=100),
                name="poll_dots_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("deliberation:poll-detail", kwargs={"poll_id": self.public_id})

    def is_open_at(self, now: dt.datetime) -> bool:
        """Open and before its closing time: a poll past ``closing_at`` takes no votes even
        while the closing task has not yet marked it closed."""
        return self.state == self.State.OPEN and now < self.closing_at

    @property
    def is_open(self) -> bool:
        return self.is_open_at(timezone.now())

    def results_visible_at(self, now: dt.datetime) -> bool:
        return not self.hide_results or not self.is_open_at(now)

    @property
    def uses_options(self) -> bool:
        """Score, ranked-choice, dot and meeting-time polls vote on the poll's options."""
        return self.kind in (self.Kind.SCORE, self.Kind.RANKED, self.Kind.DOT, self.Kind.MEETING)

    @property
    def has_quorum_rule(self) -> bool:
        return bool(self.quorum_clinicians or self.quorum_management)


class PollOption(models.Model):
    """One option of a score, ranked-choice, dot or meeting-time poll. Ballots refer to
    options by ``position``; options do not change once the poll is open."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=200)
    starts_at = models.DateTimeField(null=True, blank=True)  # meeting-time polls

    class Meta:
        ordering = ["poll", "position"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "position"], name="poll_option_position"),
        ]

    def __str__(self) -> str:
        return self.label


class PollVote(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    # Always set (one vote per person is a database constraint); never shown when the poll
    # is anonymous.
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The voter's side on the poll's committee when they (last) voted: quorum and breakdown.
    side = models.CharField(max_length=20, choices=Side.choices, default=Side.NEUTRAL)
    # Proposal, consent, gradients and fist-to-five polls.
    choice = models.CharField(max_length=20, blank=True)
    # Option polls: {"position": value} for score, dot and meeting; [positions] for ranked.
    ballot = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["poll", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "voter"], name="poll_vote_once_per_person"),
        ]

    def __str__(self) -> str:
        return f"Poll vote {self.pk}"


# --- ideas board ------------------------------------------------------------------------------
#
# Each committee has one board of ideas: people propose ideas (linked to the committee's
# concerns), spread a fixed number of dots over them, and answer "which would help patients
# more?" for pairs of ideas; the co-chairs move ideas through the stages and merge
# duplicates. The ranking arithmetic lives in ``commonground.deliberation.pairwise``.
#
# Privacy: dots and comparisons always name their person (so the limits can be enforced by
# the database) but no page shows who gave them; totals by side follow the k rule. An idea
# posted without a name stores no author and its time is kept to the day.

IDEA_QUESTION = "Which would help patients more?"
IDEA_DOTS_DEFAULT = 5
IDEA_DOTS_MAX = 50


class IdeaBoard(models.Model):
    """A committee's board settings; created on its first write (pages read the defaults
    until then)."""

    committee = models.OneToOneField(Committee, on_delete=models.CASCADE, related_name="idea_board")
    dots_per_person = models.PositiveSmallIntegerField("dots per person", default=IDEA_DOTS_DEFAULT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(dots_per_person__gte=1) & Q(dots_per_person__lte=IDEA_DOTS_MAX),
                name="idea_board_dots_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Ideas of {self.committee_id}"


class Idea(models.Model):
    class Stage(models.TextChoices):
        NEW = "new", "New"
        SHORTLISTED = "shortlisted", "Shortlisted"
        PROJECT = "project", "Becoming a project"
        ADOPTED = "adopted", "Adopted"
        DECLINED = "declined", "Declined"
        MERGED = "merged", "Merged"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="ideas")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    # NULL when posted without a name: nothing then ties the idea to its author.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    concerns = models.ManyToManyField("concerns.Concern", blank=True, related_name="ideas")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.NEW)
    # Why the co-chairs adopted or declined it (required then), or a note on another move.
    stage_reason = models.TextField(blank=True)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_ideas"
    )
    # Midnight of the day for an idea posted without a name: a time would narrow who wrote it.
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "public_id"]
        indexes = [
            # Serves the board: a committee's ideas by stage.
            models.Index(fields=["committee", "stage"], name="idea_committee_stage_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(stage="merged") & Q(merged_into__isnull=False))
                | (~Q(stage="merged") & Q(merged_into__isnull=True)),
                name="idea_merged_has_target",
            ),
            models.CheckConstraint(
                condition=~Q(stage__in=["adopted", "declined"]) | ~Q(stage_reason=""),
                name="idea_decided_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("deliberation:idea-detail", kwargs={"idea_id": self.public_id})

    @property
    def is_open(self) -> bool:
        """Takes new dots and comparisons."""
        return self.stage in OPEN_IDEA_STAGES


OPEN_IDEA_STAGES = (Idea.Stage.NEW, Idea.Stage.SHORTLISTED, Idea.Stage.PROJECT)


class DotWallet(models.Model):
    """One person's dots on one board: the row locked while their dots change, so that two
    quick clicks cannot together spend more than the board allows."""

    board = models.ForeignKey(IdeaBoard, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["board", "person"], name="dot_wallet_once"),
        ]

    def __str__(self) -> str:
        return f"Dots of {self.person_id} on {self.board_id}"


class IdeaDot(models.Model):
    """The dots one person put on one idea (a row only while there is at least one)."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="dots")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The person's side on the committee when they last changed these dots: totals by side.
    side = models.CharField(max_length=20, choices=Side.choices, default=Side.NEUTRAL)
    count = models.PositiveSmallIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idea", "person"], name="idea_dot_once_per_person"),
            models.CheckConstraint(condition=Q(count__gte=1), name="idea_dot_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.count} dot(s) on {self.idea_id}"


class IdeaComparison(models.Model):
    """One person's answer for one pair of ideas (the latest answer wins). The pair is
    stored in id order; ``result`` says which of the two was chosen."""

    class Result(models.IntegerChoices):
        FIRST = 1, "The first"
        UNDECIDED = 0, "Can't decide"
        SECOND = -1, "The second"

    board = models.ForeignKey(IdeaBoard, on_delete=models.CASCADE, related_name="comparisons")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=20, choices=Side.choices, default=Side.NEUTRAL)
    idea_a = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="+")
    idea_b = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="+")
    result = models.SmallIntegerField(choices=Result.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "idea_a", "idea_b"], name="idea_comparison_once_per_pair"
            ),
            models.CheckConstraint(
                condition=Q(idea_a__lt=models.F("idea_b")), name="idea_comparison_pair_ordered"
            ),
            models.CheckConstraint(
                condition=Q(result__in=[-1, 0, 1]), name="idea_comparison_result_valid"
            ),
        ]
        indexes = [
            # Serves the ranking: every comparison of a board.
            models.Index(fields=["board", "result"], name="idea_comparison_board_idx"),
        ]

    def __str__(self) -> str:
        return f"Comparison {self.pk}"
