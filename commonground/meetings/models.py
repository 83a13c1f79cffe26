"""Committee meetings with their agendas, attendance by side and "done, not said" minutes;
the decisions log and the action items that follow from meetings and decisions.

Minutes are approved once by each co-chair (one per side). Once both have approved, an
amendment window opens (``MeetingSettings.amendment_window_days``); when it closes the
minutes are locked.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from commonground.organizations.models import Committee, Side

DEFAULT_AMENDMENT_WINDOW_DAYS = 5
DEFAULT_QUORUM_PER_SIDE = 2


class MeetingSettings(models.Model):
    """A committee's meeting rules: its quorum by side and its amendment window."""

    committee = models.OneToOneField(
        Committee, on_delete=models.CASCADE, related_name="meeting_settings"
    )
    amendment_window_days = models.PositiveSmallIntegerField(
        "amendment window (days)",
        default=DEFAULT_AMENDMENT_WINDOW_DAYS,
        help_text="Days after both co-chairs approve during which members may propose amendments.",
    )
    quorum_clinicians = models.PositiveSmallIntegerField(
        "clinician-side attendees needed", default=DEFAULT_QUORUM_PER_SIDE
    )
    quorum_management = models.PositiveSmallIntegerField(
        "management-side attendees needed", default=DEFAULT_QUORUM_PER_SIDE
    )
    quorum_needs_cochair = models.BooleanField(
        "a co-chair must attend", default=True, help_text="At least one co-chair, of either side."
    )

    class Meta:
        verbose_name_plural = "meeting settings"

    def __str__(self) -> str:
        return f"Meeting rules of {self.committee}"


class Meeting(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="meetings")
    title = models.CharField(max_length=200, default="Regular meeting")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=90)
    place = models.CharField(max_length=200, blank=True)
    video_link = models.URLField(blank=True)
    # RFC 5545 SEQUENCE: bumped on each change so calendar apps replace the event.
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1), name="meeting_lasts_at_least_a_minute"
            ),
        ]
        indexes = [
            # Serves the committee's meeting list and its calendar feed, by date.
            models.Index(fields=["committee", "starts_at"], name="meeting_committee_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title}, {timezone.localtime(self.starts_at):%b %d, %Y}"

    def get_absolute_url(self) -> str:
        return reverse("meetings:meeting-detail", kwargs={"meeting_id": self.public_id})

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)

    def audit_fields(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "duration_minutes": self.duration_minutes,
            "place": self.place,
            "video_link": self.video_link,
        }


class ActionItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="action_items")
    title = models.CharField(max_length=200)
    # One owner per side where the work is shared.
    clinician_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    management_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    due_on = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    concern = models.ForeignKey(
        "concerns.Concern",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="action_items",
    )
    decision = models.ForeignKey(
        "meetings.Decision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="action_items",
    )
    meeting = models.ForeignKey(
        Meeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="action_items"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(clinician_owner__isnull=False) | Q(management_owner__isnull=False),
                name="action_item_has_an_owner",
            ),
        ]
        indexes = [
            # Serves "My actions" (one per owner column) and the agenda's due-action suggestions.
            models.Index(fields=["clinician_owner", "status", "due_on"], name="action_clin_idx"),
            models.Index(fields=["management_owner", "status", "due_on"], name="action_mgmt_idx"),
            models.Index(fields=["committee", "status", "due_on"], name="action_committee_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("meetings:action-edit", kwargs={"action_id": self.public_id})

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.IN_PROGRESS)

    def is_overdue(self, today: dt.date | None = None) -> bool:
        return self.is_active and self.due_on < (today or timezone.localdate())

    def audit_fields(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "clinician_owner": self.clinician_owner_id,
            "management_owner": self.management_owner_id,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "status": self.status,
            "concern": str(self.concern_id) if self.concern_id else None,
            "decision": self.decision_id,
            "meeting": self.meeting_id,
        }


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    duration_minutes = models.PositiveSmallIntegerField(default=10)
    presenter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    concern = models.ForeignKey(
        "concerns.Concern",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="agenda_items",
    )
    action_item = models.ForeignKey(
        ActionItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="agenda_items",
    )

    class Meta:
        ordering = ["meeting", "position"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "position"], name="agenda_item_position"),
        ]

    def __str__(self) -> str:
        return self.title


class Attendance(models.Model):
    """Who attended, on which side, and whether they were a co-chair that day."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="meeting_attendance"
    )
    side = models.CharField(max_length=20, choices=Side.choices)
    is_cochair = models.BooleanField(default=False)

    class Meta:
        ordering = ["side", "person__last_name"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person"], name="attendance_once"),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_side_display()})"


class Minutes(models.Model):
    """What was done, not what was said. Edited with optimistic locking on ``version``."""

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="minutes")
    text = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    clinician_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    clinician_approved_at = models.DateTimeField(null=True, blank=True)
    management_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    management_approved_at = models.DateTimeField(null=True, blank=True)
    # Set when the second co-chair approves; the amendment window runs until amendments_close_at.
    approved_at = models.DateTimeField(null=True, blank=True)
    amendments_close_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "minutes"
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_at__isnull=True)
                | (
                    Q(clinician_approved_by__isnull=False)
                    & Q(management_approved_by__isnull=False)
                    & Q(amendments_close_at__isnull=False)
                ),
                name="minutes_approved_by_both_sides",
            ),
        ]

    def __str__(self) -> str:
        return f"Minutes of {self.meeting}"

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    def window_open(self, now: dt.datetime | None = None) -> bool:
        if self.amendments_close_at is None:
            return False
        return (now or timezone.now()) < self.amendments_close_at

    def is_locked(self, now: dt.datetime | None = None) -> bool:
        return self.is_approved and not self.window_open(now)

    def state(self, now: dt.datetime | None = None) -> str:
        if not self.is_approved:
            return "draft"
        return "amendment window" if self.window_open(now) else "locked"

    def approved_by_side(self, side: str) -> bool:
        if side == Side.CLINICIAN:
            return self.clinician_approved_by_id is not None
        if side == Side.MANAGEMENT:
            return self.management_approved_by_id is not None
        return False


class Amendment(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, related_name="amendments")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Amendment to {self.minutes.meeting}"


class Decision(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="decisions")
    meeting = models.ForeignKey(
        Meeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions"
    )
    statement = models.TextField()
    rationale = models.TextField(blank=True)
    decided_on = models.DateField()
    review_on = models.DateField("review date", null=True, blank=True)
    clinician_for = models.PositiveSmallIntegerField(default=0)
    clinician_against = models.PositiveSmallIntegerField(default=0)
    clinician_abstain = models.PositiveSmallIntegerField(default=0)
    management_for = models.PositiveSmallIntegerField(default=0)
    management_against = models.PositiveSmallIntegerField(default=0)
    management_abstain = models.PositiveSmallIntegerField(default=0)
    # Kept in step with the meeting's attendance by the attendance services.
    without_quorum = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_on", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(review_on__isnull=True) | Q(review_on__gte=models.F("decided_on")),
                name="decision_review_after_decided",
            ),
        ]
        indexes = [
            # Serves the decisions log, newest first, within the committees a person sees.
            models.Index(fields=["committee", "-decided_on"], name="decision_log_idx"),
        ]

    def __str__(self) -> str:
        return self.statement[:80]

    def get_absolute_url(self) -> str:
        return reverse("meetings:decision-detail", kwargs={"decision_id": self.public_id})

    @property
    def clinician_voters(self) -> int:
        return self.clinician_for + self.clinician_against + self.clinician_abstain

    @property
    def management_voters(self) -> int:
        return self.management_for + self.management_against + self.management_abstain

    @property
    def shows_vote_split(self) -> bool:
        """The split by side is shown only when each side is a big enough group."""
        smallest = settings.COMMONGROUND_MIN_GROUP_SIZE
        return self.clinician_voters >= smallest and self.management_voters >= smallest

    def is_due_for_review(self, today: dt.date | None = None) -> bool:
        return self.review_on is not None and self.review_on <= (today or timezone.localdate())

    def audit_fields(self) -> dict[str, Any]:
        return {
            "statement": self.statement,
            "rationale": self.rationale,
            "decided_on": self.decided_on.isoformat() if self.decided_on else None,
            "review_on": self.review_on.isoformat() if self.review_on else None,
            "meeting": self.meeting_id,
            "without_quorum": self.without_quorum,
            "votes": [
                self.clinician_for,
                self.clinician_against,
                self.clinician_abstain,
                self.management_for,
                self.management_against,
                self.management_abstain,
            ],
        }


class CalendarToken(models.Model):
    """The secret in a person's calendar-feed URLs. Only its SHA-256 hash is stored."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_token"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"calendar feed of {self.person}"
