"""The regional summit: one event a year for about 250 people of a region.

Its own bounded context: the event, registration, rooms, the program of sessions and the live
Q&A of each session. Common-ground conversations stay in the deliberation app: a session may
point at one (a conversation of the summit committee, open to the region) and the projector
and the results report read it, but nothing here copies votes or statements.

Anonymity: an anonymous question has ``author`` NULL and nothing else (no audit actor, no
upvote by its author made on its behalf) ties it to the person who asked.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from commonground.organizations.models import Committee, Region

QUESTION_MAX_CHARS = 280


class Summit(models.Model):
    class State(models.TextChoices):
        PLANNING = "planning", "Being planned"
        OPEN = "open", "Registration open"
        CLOSED = "closed", "Registration closed"
        FINISHED = "finished", "Finished"

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="summits")
    # The summit committee: its co-chairs organise, its conversations are the summit's.
    committee = models.ForeignKey(
        Committee,
        on_delete=models.PROTECT,
        related_name="summits",
        limit_choices_to={"kind": Committee.Kind.SUMMIT},
    )
    title = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    venue = models.CharField(max_length=200)
    # Confirmed places; NULL means no limit. People beyond it join the waiting list.
    capacity = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PLANNING)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_on", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="summit_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("summit:summit-detail", kwargs={"summit_id": self.pk})

    def clean(self) -> None:
        if self.committee_id and self.region_id:
            committee = self.committee
            if committee.kind != Committee.Kind.SUMMIT or committee.region_id != self.region_id:
                raise ValidationError({"committee": "Choose the summit committee of the region."})
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The summit ends on or after its first day."})

    @property
    def registration_open(self) -> bool:
        return self.state == self.State.OPEN


class Registration(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        WAITLISTED = "waitlisted", "On the waiting list"
        CANCELLED = "cancelled", "Cancelled"

    summit = models.ForeignKey(Summit, on_delete=models.CASCADE, related_name="registrations")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="summit_registrations"
    )
    status = models.CharField(max_length=12, choices=Status.choices)
    # The waiting list is served in order of (re)registration.
    registered_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["summit", "registered_at", "id"]
        constraints = [
            # One row per person and summit: unregistering cancels it, registering again
            # reuses it, so double submits can never hold two places.
            models.UniqueConstraint(fields=["summit", "person"], name="registration_once"),
        ]
        indexes = [
            models.Index(
                fields=["summit", "status", "registered_at"], name="registration_list_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.summit} · {self.status}"


class Room(models.Model):
    summit = models.ForeignKey(Summit, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=120)
    capacity = models.PositiveIntegerField(null=True, blank=True)
    access_notes = models.CharField(
        "access notes",
        max_length=200,
        blank=True,
        help_text="Step-free access, hearing loop, interpreters, and so on.",
    )

    class Meta:
        ordering = ["summit", "name"]
        constraints = [
            models.UniqueConstraint(fields=["summit", "name"], name="room_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Session(models.Model):
    class Kind(models.TextChoices):
        PLENARY = "plenary", "Plenary"
        BREAKOUT = "breakout", "Breakout"

    summit = models.ForeignKey(Summit, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BREAKOUT)
    room = models.ForeignKey(
        Room, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    description = models.TextField(blank=True)
    # A common-ground conversation of the summit committee run in this session.
    conversation = models.ForeignKey(
        "deliberation.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    questions_open = models.BooleanField("take questions", default=True)

    class Meta:
        ordering = ["summit", "starts_at", "room__name", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["summit", "starts_at"], name="session_program_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "summit:session-detail", kwargs={"summit_id": self.summit_id, "session_id": self.pk}
        )


class Question(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a moderator"
        APPROVED = "approved", "Shown"
        ANSWERED = "answered", "Answered"
        HIDDEN = "hidden", "Hidden"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(max_length=QUESTION_MAX_CHARS)
    # NULL for an anonymous question: nothing is kept of who asked it.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["session", "created_at", "id"]
        indexes = [
            models.Index(fields=["session", "status"], name="question_session_idx"),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def is_anonymous(self) -> bool:
        return self.author_id is None


class QuestionVote(models.Model):
    """One upvote: one per person and question (the constraint settles double clicks)."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="upvotes")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "person"], name="question_upvote_once"),
        ]

    def __str__(self) -> str:
        return f"Upvote {self.pk}"


class ResultsReport(models.Model):
    """That a summit conversation's results were sent to the clinic committees, and when.
    Sending again refreshes ``sent_at``; the notifications themselves are deduplicated."""

    summit = models.ForeignKey(Summit, on_delete=models.CASCADE, related_name="reports")
    conversation = models.ForeignKey(
        "deliberation.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    sent_at = models.DateTimeField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    committees_notified = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["summit", "conversation"], name="results_report_once"),
        ]

    def __str__(self) -> str:
        return f"Report of {self.conversation_id} for {self.summit_id}"
