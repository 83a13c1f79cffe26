"""In-app notifications, each person's email frequency, and the claim for every email sent."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Kind(models.TextChoices):
    CONCERN_RAISED = "concern_raised", "Concern raised"
    CONCERN_STATUS = "concern_status", "Concern status changed"
    CLOCK_DUE = "clock_due", "Response clock due"
    CLOCK_LAPSED = "clock_lapsed", "Response clock lapsed"
    ACTION_DUE = "action_due", "Action due"
    MEETING_SCHEDULED = "meeting_scheduled", "Meeting scheduled"
    MINUTES_TO_APPROVE = "minutes_to_approve", "Minutes to approve"
    MENTION = "mention", "Mention"
    ACCESS_SIGNAL = "access_signal", "Access figures need attention"
    SUMMIT_RESULTS = "summit_results", "Summit results"
    IDEA_STAGE = "idea_stage", "Idea moved to a new stage"
    DIGEST = "digest", "Digest"


class Frequency(models.TextChoices):
    IMMEDIATE = "immediate", "Immediately, one email each"
    DAILY = "daily", "Daily digest"
    WEEKLY = "weekly", "Weekly digest"
    OFF = "off", "Never: in Common Ground only"


class Notification(models.Model):
    """One thing one person should know about. Holds only what the caller of ``notify`` passed."""

    # Random, so that URLs reveal neither how many notifications exist nor their order.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    dedup_key = models.CharField(max_length=200)
    clinic = models.ForeignKey(
        "organizations.Clinic",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # The email that carried it (one of its own, or a digest); empty until emailed.
    email_delivery = models.ForeignKey(
        "EmailDelivery",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedup_key"], name="notification_once_per_key"
            ),
        ]
        indexes = [
            # Serves the person's list, newest first.
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
            # Serves the unread count in the page header.
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            # Serves digests and the pending-email sweep: not yet emailed, by time.
            models.Index(
                fields=["created_at"],
                condition=Q(email_delivery__isnull=True),
                name="notification_unsent_idx",
            ),
        ]

    def __str__(self) -> str:
        # No subject or body: this string reaches logs and the audit trail.
        return f"{self.get_kind_display()} notification"

    def get_absolute_url(self) -> str:
        return reverse("notifications:list")

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class NotificationPreference(models.Model):
    """How often one person is emailed. No row means the default, immediate."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_frequency = models.CharField(
        max_length=16, choices=Frequency.choices, default=Frequency.IMMEDIATE
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # Serves the digest runs: everyone on one frequency.
            models.Index(fields=["email_frequency"], name="notification_pref_freq_idx"),
        ]

    def __str__(self) -> str:
        return f"Email: {self.get_email_frequency_display()}"


class EmailDelivery(models.Model):
    """The claim for one email: inserted, then the email sent, in one transaction.

    Unique per (recipient, dedup_key): ``notification:<id>`` for an immediate email,
    ``daily:<date>`` or ``weekly:<ISO week>`` for a digest. A second run finds the row and
    sends nothing; a failed send rolls the row back.
    """

    class Kind(models.TextChoices):
        IMMEDIATE = "immediate", "Single notification"
        DAILY = "daily", "Daily digest"
        WEEKLY = "weekly", "Weekly digest"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_deliveries"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    dedup_key = models.CharField(max_length=200)
    sent_at = models.DateTimeField()
    # For digests: notifications created up to this moment were considered.
    covers_until = models.DateTimeField(null=True, blank=True)
    notification_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedup_key"], name="email_delivery_once_per_key"
            ),
        ]
        indexes = [
            # Serves "since their last digest": the latest digest of a kind per person.
            models.Index(
                fields=["recipient", "kind", "-covers_until"], name="email_digest_last_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} email ({self.dedup_key})"
