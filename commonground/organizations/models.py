from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Region(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    # Concern clocks, in business days of each clinic's calendar.
    acknowledge_within_days = models.PositiveSmallIntegerField(default=5)
    respond_within_days = models.PositiveSmallIntegerField(default=20)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BusinessCalendar(models.Model):
    """Which days count as business days: weekends by weekday number plus named holidays."""

    name = models.CharField(max_length=120, unique=True)
    # Python weekday numbers (Monday=0); Saturday and Sunday by default.
    weekend_days = models.JSONField(default=list)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        days = self.weekend_days
        if not isinstance(days, list) or any(
            not isinstance(d, int) or not 0 <= d <= 6 for d in days
        ):
            raise ValidationError({"weekend_days": "Use weekday numbers 0 (Monday) to 6 (Sunday)."})


class Holiday(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"], name="holiday_once_per_calendar_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.date.isoformat()})"


class ServiceLine(models.TextChoices):
    ADULT = "adult", "Adult outpatient"
    CHILD_FAMILY = "child_family", "Child, adolescent and family"
    ADDICTION = "addiction", "Addiction medicine and recovery"
    INTENSIVE = "intensive", "Intensive outpatient"
    PSYCHIATRY = "psychiatry", "Psychiatry and medication management"
    EATING = "eating", "Eating disorders"


class Clinic(models.Model):
    """The tenant: every clinic-scoped object belongs to exactly one clinic."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="clinics")
    name = models.CharField(max_length=160)
    slug = models.SlugField(max_length=80, unique=True)
    city = models.CharField(max_length=120)
    service_lines = models.JSONField(default=list)
    time_zone = models.CharField(max_length=64, default="America/Los_Angeles")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="clinics")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="clinic_name_unique_in_region")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("organizations:clinic-detail", kwargs={"slug": self.slug})

    def clean(self) -> None:
        allowed = set(ServiceLine.values)
        lines = self.service_lines
        if not isinstance(lines, list) or any(line not in allowed for line in lines):
            raise ValidationError({"service_lines": "Choose service lines from the list."})
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError({"time_zone": "Unknown time zone."}) from exc

    def service_line_labels(self) -> list[str]:
        labels = dict(ServiceLine.choices)
        return [str(labels.get(line, line)) for line in self.service_lines]


class Committee(models.Model):
    class Kind(models.TextChoices):
        CLINIC_PPC = "clinic_ppc", "Clinic Professional Practice Committee"
        REGIONAL = "regional", "Regional committee"
        SUMMIT = "summit", "Regional summit"

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="committees")
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="committees", null=True, blank=True
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=160)
    slug = models.SlugField(max_length=80, unique=True)
    purpose = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="clinic_ppc") & Q(clinic__isnull=False))
                | (~Q(kind="clinic_ppc") & Q(clinic__isnull=True)),
                name="committee_clinic_only_for_clinic_ppc",
            ),
            # One PPC per clinic; the home page and roll-ups look a clinic's PPC up by clinic.
            models.UniqueConstraint(
                fields=["clinic"],
                condition=Q(kind="clinic_ppc"),
                name="committee_one_ppc_per_clinic",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("organizations:committee-detail", kwargs={"slug": self.slug})

    @property
    def is_clinic_scoped(self) -> bool:
        return self.kind == self.Kind.CLINIC_PPC


class Side(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    MANAGEMENT = "management", "Management"
    NEUTRAL = "neutral", "Neutral"


class Role(models.TextChoices):
    MEMBER = "member", "Member"
    CO_CHAIR = "co_chair", "Co-chair"
    UNION_REP = "union_rep", "Union representative (observer)"
    FACILITATOR = "facilitator", "Facilitator"
    DATA_STEWARD = "data_steward", "Data steward"
    REGIONAL_ADMIN = "regional_admin", "Regional admin"


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active_on(self, day: dt.date) -> MembershipQuerySet:
        return self.filter(Q(start_date__lte=day), Q(end_date__isnull=True) | Q(end_date__gt=day))

    def current(self) -> MembershipQuerySet:
        from django.utils import timezone

        return self.active_on(timezone.localdate())


class Membership(models.Model):
    """A person's seat on a committee. Ending a membership sets end_date; history stays."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="memberships")
    side = models.CharField(max_length=20, choices=Side.choices)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["committee", "side", "role", "person"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="membership_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=~Q(role="co_chair") | Q(side__in=["clinician", "management"]),
                name="membership_cochair_has_a_side",
            ),
            # At most one open co-chair seat per side; the service also requires one of each.
            models.UniqueConstraint(
                fields=["committee", "side"],
                condition=Q(role="co_chair", end_date__isnull=True),
                name="membership_one_open_cochair_per_side",
            ),
            # A person holds one open seat per committee; changing role ends it and opens another.
            models.UniqueConstraint(
                fields=["committee", "person"],
                condition=Q(end_date__isnull=True),
                name="membership_one_open_seat_per_person",
            ),
        ]
        indexes = [
            # Serves the per-request access profile: a person's open memberships.
            models.Index(fields=["person", "end_date"], name="membership_person_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_role_display()} · {self.committee}"

    def is_active_on(self, day: dt.date) -> bool:
        return self.start_date <= day and (self.end_date is None or self.end_date > day)

    def audit_fields(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "committee_id": self.committee_id,
            "side": self.side,
            "role": self.role,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
        }
