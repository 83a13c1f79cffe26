"""Concerns raised in a committee, with the identity rules that protect the raiser.

Anonymity is a storage rule, not a display rule: an anonymous concern has no column, row or
event that points at the person who raised it. Its primary key is random (UUIDv4), it carries
only the date it was released (never a time), and it is released to the committee in a
daily batch in random order, so neither order nor timing ties it to a person's session.
"""

from __future__ import annotations

import uuid
from typing import Any

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

AWAITING_ANSWER = [Status.RAISED, Status.ACKNOWLEDGED, Status.IN_DISCUSSION, Status.ESCALATED]


class AnnouncedConcerns(models.Manager["Concern"]):
    """Concerns the committee may know of: a confidential concern stays out of every list,
    search, count and suggestion until the daily batch announces it, so that no one can learn
    the time it was raised by watching a page. Its raiser reaches it through ``all_objects``
    (see selectors.get_concern_for_user)."""

    def get_queryset(self) -> models.QuerySet[Concern]:
        return super().get_queryset().filter(announced=True)


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
    # False for a confidential concern until the daily batch announces it: its audit event and
    # the co-chairs' notifications are then written with the day's anonymous concerns, in random
    # order, so no timestamp sits next to the raiser's sign-in.
    announced = models.BooleanField(default=True)
    # While a pause agreed by both co-chairs runs, the clocks stand still (see ClockChange).
    paused_since = models.DateField(null=True, blank=True)
    # Concerns about the same problem at several clinics, linked by the region; each keeps
    # its own thread, clocks and history.
    pattern = models.ForeignKey(
        "CrossClinicPattern",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="concerns",
    )

    objects = AnnouncedConcerns()
    all_objects: models.Manager[Concern] = models.Manager()

    class Meta:
        default_manager_name = "objects"
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

    @property
    def awaiting_answer(self) -> bool:
        """Whether the response clock still runs: no joint response signed yet."""
        return self.status in AWAITING_ANSWER


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


def _private_storage() -> Any:
    from django.core.files.storage import storages

    return storages["private"]


def _attachment_path(instance: Attachment, filename: str) -> str:
    # A random name: the uploaded name is kept only as display text.
    return f"attachments/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """Evidence on a concern: a PDF, image, CSV or XLSX whose type was sniffed from its bytes.

    Stored in the private storage, outside the web root, and served only through a view that
    checks the concern's permission. Before an anonymous concern is released, its files hang
    on the pending row; the release moves them. No uploader is kept for an anonymous concern.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    concern = models.ForeignKey(
        Concern, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    pending = models.ForeignKey(
        PendingAnonymousConcern,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    file = models.FileField(upload_to=_attachment_path, storage=_private_storage, max_length=200)
    display_name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # NULL on anonymous concerns, by construction.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_on = models.DateField()

    class Meta:
        ordering = ["uploaded_on", "display_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(concern__isnull=False) | Q(pending__isnull=False),
                name="attachment_belongs_somewhere",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name


class Comment(models.Model):
    """A post in a concern's discussion thread; replies point at their parent.

    Edits keep every earlier text in CommentRevision; ``version`` makes a stale edit a
    conflict rather than a silent overwrite.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_side = models.CharField(max_length=20, choices=Side.choices, blank=True)
    body = models.TextField(help_text="Markdown.")
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["concern", "created_at"], name="comment_thread_idx")]

    def __str__(self) -> str:
        return "comment"


class CommentRevision(models.Model):
    """An earlier text of a comment, kept when it was edited."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    body = models.TextField()
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["comment", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "version"], name="revision_once_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"version {self.version}"


class ClockChange(models.Model):
    """An extension or a pause of a concern's clocks. Takes effect only when both co-chairs
    have signed; until then it is proposed and the clocks run as before."""

    class Kind(models.TextChoices):
        EXTEND = "extend", "Extension"
        PAUSE = "pause", "Pause"

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        IN_EFFECT = "in_effect", "In effect"
        ENDED = "ended", "Ended"
        WITHDRAWN = "withdrawn", "Withdrawn"

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="clock_changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    reason = models.TextField()
    # Business days added by an extension; for a pause, the business days it lasted.
    business_days = models.PositiveIntegerField(default=0)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_on = models.DateField()
    clinician_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    management_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["proposed_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display().lower()})"


class CrossClinicPattern(models.Model):
    """Concerns about one problem at several clinics, merged by the regional committee or a
    regional admin. Merging links them; it moves nothing, so each clinic keeps its thread."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    region = models.ForeignKey(
        "organizations.Region", on_delete=models.PROTECT, related_name="concern_patterns"
    )
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=Category.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_on = models.DateField()

    class Meta:
        ordering = ["-created_on", "title"]

    def __str__(self) -> str:
        return self.title
