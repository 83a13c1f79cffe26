"""Concerns raised in a committee, with the identity rules that protect the raiser.

Anonymity is a storage rule, not a display rule: an anonymous concern has no column, row or
event that points at the person who raised it. Its primary key is random (UUIDv4), it carries
only the date it was released (never a time), and it is released to the committee in a
daily batch in random order, so neither order nor timing ties it to a person's session.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from commonground.organizations.models import Committee, Side


class Category(models.TextChoices):
    ACCESS = "access", "Access and wait times"
    CASELOAD = "caseload", "Caseload and staffing"
    CLINICAL = "clinical", "Clinical practice"
    SAFETY = "safety", "Safety"
    DOCUMENTATION = "documentation", "Documentation and administrative burden"
    SPACE = "space", "Space and equipment"
    TRAINING = "training", "Training"
    OTHER = "other", "Other"


class IdentityMode(models.TextChoices):
    NAMED = "named", "Named"
    CONFIDENTIAL = "confidential", "Confidential"
    ANONYMOUS = "anonymous", "Anonymous"


class Status(models.TextChoices):
    RAISED = "raised", "Raised"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    IN_DISCUSSION = "in_discussion", "In discussion"
    JOINT_RESPONSE = "joint_response", "Joint response"
    ACTION = "action_in_progress", "Action in progress"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    ESCALATED = "escalated", "Escalated"


OPEN_STATUSES = [
    Status.RAISED,
    Status.ACKNOWLEDGED,
    Status.IN_DISCUSSION,
    Status.JOINT_RESPONSE,
    Status.ACTION,
    Status.ESCALATED,
]


class Concern(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="concerns")
    title = models.CharField(max_length=200)
    description = models.TextField(help_text="Markdown.")
    category = models.CharField(max_length=20, choices=Category.choices)
    patient_impact = models.TextField("impact on patients")
    proposed_idea = models.TextField(blank=True)
    identity_mode = models.CharField(max_length=20, choices=IdentityMode.choices)
    # NULL for every anonymous concern, by construction (see services.concern_raise).
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The side the raiser sits on, for named and confidential concerns only.
    raiser_side = models.CharField(max_length=20, choices=Side.choices, blank=True)
    # A date, never a time: a time of day narrows who could have raised it.
    raised_on = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RAISED)
    acknowledge_by = models.DateField()
    respond_by = models.DateField()
    escalated_to = models.ForeignKey(
        Committee, on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
    )
    not_a_grievance = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        # Random ids make this order meaningless as a sequence; the date is what readers see.
        ordering = ["-raised_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(identity_mode="anonymous")
                | (Q(raised_by__isnull=True) & Q(raiser_side="")),
                name="concern_anonymous_stores_no_raiser",
            ),
            models.CheckConstraint(
                condition=Q(identity_mode="anonymous") | Q(raised_by__isnull=False),
                name="concern_named_or_confidential_has_a_raiser",
            ),
        ]
        indexes = [
            # Serves each committee's concern list and its clocks.
            models.Index(fields=["committee", "status", "-raised_on"], name="concern_list_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("concerns:concern-detail", kwargs={"concern_id": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class PendingAnonymousConcern(models.Model):
    """An anonymous concern waiting for the daily release.

    Holds the content only; it is turned into a Concern by the release task, in random order
    with the day's others, and then deleted. Nothing here names the person either.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    description = models.TextField()
    category = models.CharField(max_length=20, choices=Category.choices)
    patient_impact = models.TextField()
    proposed_idea = models.TextField(blank=True)
    submitted_on = models.DateField()
    receipt_hash = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return "pending anonymous concern"


class Receipt(models.Model):
    """The raiser's way back to an anonymous concern: only a hash of the token is kept."""

    token_hash = models.CharField(max_length=64, unique=True)
    concern = models.OneToOneField(Concern, on_delete=models.CASCADE, related_name="receipt")

    def __str__(self) -> str:
        return "receipt"


class CoSign(models.Model):
    """A "me too". One per person and concern; counts by side are shown only at k or more."""

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="cosigns")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=20, choices=Side.choices)
    signed_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["concern", "person"], name="cosign_once_per_person"),
        ]

    def __str__(self) -> str:
        return "co-sign"


class Signoff(models.Model):
    """A co-chair's agreement to a step that needs both sides."""

    class Step(models.TextChoices):
        ACKNOWLEDGE = "acknowledge", "Acknowledged"
        RESPONSE = "response", "Joint response"

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="signoffs")
    step = models.CharField(max_length=20, choices=Step.choices)
    side = models.CharField(max_length=20, choices=Side.choices)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_on = models.DateField()
    # The response version signed: editing the response voids earlier signatures.
    response_version = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["concern", "step", "side", "response_version"], name="signoff_once_per_side"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} by the {self.side} co-chair"


class JointResponse(models.Model):
    """What both sides answer: an agreed action, or no agreement with each side's reasons."""

    concern = models.OneToOneField(Concern, on_delete=models.CASCADE, related_name="response")
    agreed = models.BooleanField()
    text = models.TextField("the joint response")
    clinician_reasons = models.TextField(blank=True)
    management_reasons = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return "joint response"
