"""Improvement projects (Model for Improvement), their measures and PDSA cycles, and the
accountability ledger from recommendation to measured effect."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from commonground.organizations.models import Committee, Side


class RuleProfile(models.TextChoices):
    QI = "qi", "QI (Anhøj runs rules, qicharts2)"
    MDC = "mdc", "NHS Making Data Count (7-point rules)"
    MDC6 = "mdc6", "NHS Making Data Count (6-point rules)"


class CommitteeChartSettings(models.Model):
    """Which SPC rule profile a committee reads its charts with."""

    committee = models.OneToOneField(
        Committee, on_delete=models.CASCADE, related_name="chart_settings"
    )
    profile = models.CharField(max_length=8, choices=RuleProfile.choices, default=RuleProfile.QI)

    def __str__(self) -> str:
        return f"{self.committee}: {self.get_profile_display()}"


class Project(models.Model):
    class Status(models.TextChoices):
        PLANNING = "planning", "Planning"
        TESTING = "testing", "Testing changes"
        SUSTAINING = "sustaining", "Sustaining"
        COMPLETED = "completed", "Completed"
        ABANDONED = "abandoned", "Abandoned"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="projects")
    title = models.CharField(max_length=200)
    # The aim: what will improve, by how much, by when (Model for Improvement).
    aim_what = models.TextField("what will improve")
    aim_how_much = models.CharField("by how much", max_length=200)
    aim_by_when = models.DateField("by when")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNING)
    # What the project answers: the committee's concerns, decisions and ideas it follows through.
    concerns = models.ManyToManyField(
        "concerns.Concern", blank=True, related_name="improvement_projects"
    )
    decisions = models.ManyToManyField(
        "meetings.Decision", blank=True, related_name="improvement_projects"
    )
    # The ideas of the committee's board it grew from.
    ideas = models.ManyToManyField(
        "deliberation.Idea", blank=True, related_name="improvement_projects"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            # Serves the committee's project list, newest activity first.
            models.Index(fields=["committee", "-updated_at"], name="project_committee_recent_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("improvement:project-detail", kwargs={"project_id": self.public_id})

    def audit_fields(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "aim_what": self.aim_what,
            "aim_how_much": self.aim_how_much,
            "aim_by_when": self.aim_by_when.isoformat() if self.aim_by_when else None,
            "status": self.status,
        }


class ProjectMember(models.Model):
    """The project team: people from both sides, one of them leading for each side."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="team")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="improvement_teams"
    )
    side = models.CharField(max_length=20, choices=Side.choices)
    is_lead = models.BooleanField(default=False)

    class Meta:
        ordering = ["side", "-is_lead", "person__last_name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "person"], name="project_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_side_display()})"


# Access metrics a measure can follow (keys of commonground.access.metrics), with labels.
ACCESS_METRICS = [
    ("follow_up_sb221", "Follow-up within 10 business days (SB 221), % compliant"),
    ("initial_non_urgent_mh", "First appointment within 10 business days, % compliant"),
    ("initial_psychiatry", "First psychiatry appointment within 15 business days, % compliant"),
    ("urgent", "Urgent appointment within 48/96 hours, % compliant"),
]


class Measure(models.Model):
    class Kind(models.TextChoices):
        OUTCOME = "outcome", "Outcome"
        PROCESS = "process", "Process"
        BALANCING = "balancing", "Balancing"

    class Chart(models.TextChoices):
        RUN = "run", "Run chart"
        I = "i", "I chart (individuals)"  # noqa: E741
        P = "p", "P chart (proportion)"
        PP = "pp", "P-prime chart (Laney proportion)"
        U = "u", "U chart (rate)"
        UP = "up", "U-prime chart (Laney rate)"
        C = "c", "C chart (count)"
        G = "g", "G chart (opportunities between events)"
        T = "t", "T chart (time between events)"

    class Direction(models.TextChoices):
        INCREASE = "increase", "Higher is better"
        DECREASE = "decrease", "Lower is better"
        NEUTRAL = "neutral", "Neither"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="measures")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    operational_definition = models.TextField(
        help_text="Exactly what is counted, from which data, how often."
    )
    unit = models.CharField(max_length=60, blank=True, help_text="e.g. days, %, visits")
    chart = models.CharField(max_length=4, choices=Chart.choices, default=Chart.RUN)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    target = models.FloatField(null=True, blank=True)
    multiply = models.FloatField(
        default=1, help_text="Scale for rates and proportions, e.g. 100 for percent."
    )
    # Points in the frozen baseline (limits computed from the first N points only).
    baseline_points = models.PositiveIntegerField(null=True, blank=True)
    # A measure fed from the clinic's access figures: its monthly points are replaced each time
    # the region's aggregates are recomputed after an import (manual points stay manual).
    live_metric = models.CharField(
        "fed from the access metric",
        max_length=40,
        choices=ACCESS_METRICS,
        blank=True,
        help_text="Leave empty to enter or upload the data yourself.",
    )

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("improvement:measure-detail", kwargs={"measure_id": self.public_id})

    @property
    def needs_denominator(self) -> bool:
        return self.chart in {"p", "pp", "u", "up"}


class MeasurePoint(models.Model):
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="points")
    period = models.DateField(help_text="Start of the week or month the value covers.")
    value = models.FloatField(null=True, blank=True)
    denominator = models.FloatField(null=True, blank=True)
    excluded = models.BooleanField(default=False, help_text="Kept off the limits.")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["period"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "period"], name="measure_point_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.measure}: {self.period} = {self.value}"


class PdsaCycle(models.Model):
    """One test of change: plan (with a prediction), do, study against the prediction, act."""

    class Act(models.TextChoices):
        ADOPT = "adopt", "Adopt"
        ADAPT = "adapt", "Adapt"
        ABANDON = "abandon", "Abandon"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="cycles")
    number = models.PositiveIntegerField()
    change_idea = models.CharField(max_length=200)
    plan = models.TextField()
    prediction = models.TextField()
    started_on = models.DateField()
    do_notes = models.TextField("what happened", blank=True)
    study = models.TextField("result against the prediction", blank=True)
    act = models.CharField(max_length=10, choices=Act.choices, blank=True)
    act_reason = models.TextField(blank=True)
    ended_on = models.DateField(null=True, blank=True)
    # The measure whose chart shows this cycle; on "adopt" it starts a new phase there.
    measure = models.ForeignKey(
        Measure, on_delete=models.SET_NULL, null=True, blank=True, related_name="cycles"
    )

    class Meta:
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="pdsa_number_per_project"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="pdsa_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"PDSA {self.number}: {self.change_idea}"


class PhaseBreak(models.Model):
    """A new phase of a measure's chart from ``starts_on``, and why (usually an adopted PDSA)."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="phase_breaks")
    starts_on = models.DateField()
    reason = models.CharField(max_length=200)
    cycle = models.ForeignKey(
        PdsaCycle, on_delete=models.SET_NULL, null=True, blank=True, related_name="phase_breaks"
    )

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "starts_on"], name="phase_break_once"),
        ]

    def __str__(self) -> str:
        return f"{self.measure}: new phase from {self.starts_on}"


class Recommendation(models.Model):
    """What a committee recommends; followed through commitments to a measured effect."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    committee = models.ForeignKey(
        Committee, on_delete=models.PROTECT, related_name="recommendations"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    made_on = models.DateField()
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="recommendations"
    )

    class Meta:
        ordering = ["-made_on", "title"]

    def __str__(self) -> str:
        return self.title


class Commitment(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        COMMITTED = "committed", "Committed"
        DELIVERED = "delivered", "Delivered"
        NOT_DELIVERED = "not_delivered", "Not delivered"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.CASCADE, related_name="commitments"
    )
    what = models.CharField(max_length=200)
    # One owner per side: joint commitments are owned jointly.
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
    resources = models.CharField(max_length=200, blank=True, help_text="Money, FTE, time")
    money = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    fte = models.DecimalField("FTE", max_digits=6, decimal_places=2, null=True, blank=True)
    due_on = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    progress = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    delivered_on = models.DateField(null=True, blank=True)
    evidence = models.TextField(blank=True)

    class Meta:
        ordering = ["due_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100),
                name="commitment_progress_is_a_percentage",
            ),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_on__isnull=False),
                name="commitment_delivered_has_a_date",
            ),
        ]

    def __str__(self) -> str:
        return self.what

    @property
    def effective_progress(self) -> int:
        """Delivered counts as done; not delivered counts as nothing, whatever was logged."""
        if self.status == self.Status.DELIVERED:
            return 100
        if self.status == self.Status.NOT_DELIVERED:
            return 0
        return int(self.progress)


class AccessSignal(models.Model):
    """A special-cause deterioration in one of the clinic's access metrics, offered to its
    committee as a concern. A co-chair raises it (a named concern with the numbers attached)
    or dismisses it with a reason. One per run of concern points: ``began`` identifies it."""

    class State(models.TextChoices):
        OPEN = "open", "Waiting for the co-chairs"
        RAISED = "raised", "Raised as a concern"
        DISMISSED = "dismissed", "Dismissed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=40, choices=ACCESS_METRICS)
    began = models.DateField()
    latest = models.DateField()
    summary = models.TextField()
    # The monthly series the signal was read from: [[period, value], ...] (suppressed figures).
    series = models.JSONField(default=list)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    concern = models.ForeignKey(
        "concerns.Concern", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-latest", "metric"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "metric", "began"], name="access_signal_once_per_run"
            ),
        ]

    def __str__(self) -> str:
        return self.summary
