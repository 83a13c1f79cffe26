"""Import jobs for scheduling extracts. The appointment rows themselves live in the Parquet
store (``commonground.access.store``), never in the database."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from commonground.access import closures
from commonground.access.closures import Closures
from commonground.organizations.models import Clinic, Region


class ImportJob(models.Model):
    """One uploaded extract, from durable receipt to merged (or rejected) data.

    The upload is written to the private storage and this row committed before any
    processing; the background task gets only the id. ``upload`` is emptied once the file is
    deleted (after processing: only its sha256 and the error report are kept).
    """

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        VALIDATING = "validating", "Validating"
        INVALID = "invalid", "Invalid: nothing stored"
        MERGING = "merging", "Merging"
        DONE = "done", "Done"
        FAILED = "failed", "Failed: nothing stored"

    class Kind(models.TextChoices):
        # One per reader in ``commonground.access.readers``; the upload is sniffed on arrival.
        CSV = "csv", "Canonical CSV extract"
        XLSX = "xlsx", "Canonical extract as an Excel workbook (.xlsx)"
        FHIR = "fhir", "FHIR R4 resources, Bundle or Bulk Data ndjson"
        SLOTS = "slots", "Slot CSV (open and booked slots: next available)"
        ENCOUNTERS = "encounters", "Encounter CSV (HEDIS-like follow-up after acute care)"

    FINISHED = frozenset({State.INVALID, State.DONE, State.FAILED})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CSV)
    upload = models.CharField(max_length=255, blank=True)  # name in the private storage
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    state = models.CharField(max_length=20, choices=State.choices, default=State.RECEIVED)
    phase = models.CharField(max_length=40, blank=True)
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(default=0)
    rows = models.BigIntegerField(null=True, blank=True)
    inserted = models.BigIntegerField(null=True, blank=True)
    updated = models.BigIntegerField(null=True, blank=True)
    unchanged = models.BigIntegerField(null=True, blank=True)
    # Not applied: the store already holds a state of these appointments from a later cut-off.
    older = models.BigIntegerField(null=True, blank=True)
    # Stored appointments removed: a Bulk Data export lists them as deleted.
    deleted = models.BigIntegerField(null=True, blank=True)
    rejected = models.BigIntegerField(null=True, blank=True)  # problems found (cells or rows)
    error_report = models.CharField(max_length=255, blank=True)  # name in the private storage
    error_report_lines = models.IntegerField(default=0)
    quality = models.JSONField(default=dict, blank=True)
    generation = models.IntegerField(null=True, blank=True)  # store generation with its rows
    # When the extract was taken (a Bulk Data export's transactionTime, or what the data steward
    # gave on upload): the data describe the record as of this instant.
    data_cutoff = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["region", "-created_at"], name="access_import_region_idx"),
            models.Index(fields=["state"], name="access_import_state_idx"),
        ]

    def __str__(self) -> str:
        # Never the uploaded file name in logs or the audit trail: it could name a patient.
        return f"Import {str(self.id)[:8]}"

    def get_absolute_url(self) -> str:
        return reverse("access:import-detail", kwargs={"job_id": self.pk})

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED

    @property
    def scope_label(self) -> str:
        return self.clinic.name if self.clinic_id and self.clinic else self.region.name

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))


# -- aggregates and dashboards ---------------------------------------------------------------


class AccessSettings(models.Model):
    """A region's choices for the access dashboards (the law sets no parity threshold)."""

    class CalendarChoice(models.TextChoices):
        FEDERAL = "federal", "US federal holidays (OPM)"
        CA_STATE = "ca-state", "California state-employee holidays (CalHR)"

    region = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="+")
    calendar = models.CharField(
        max_length=20, choices=CalendarChoice.choices, default=CalendarChoice.FEDERAL
    )
    # "Potential material difference": |MH - M/S| in rate points (with a CI excluding 0), or
    # a median-wait ratio at or above this. The committee's thresholds, not the law's.
    parity_rate_points = models.FloatField(default=0.10)
    parity_median_ratio = models.FloatField(default=1.25)
    # Extract clinic codes -> clinic slugs, for codes that are not the clinic's slug.
    clinic_codes = models.JSONField(default=dict, blank=True)
    # Optimistic concurrency for the settings page: a save names the version it was read at.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Access settings of region {self.region_id}"


class ClosureCalendar(models.Model):
    """One version of a region's clinic closure calendar (access-and-parity.md 6.1 and 8).

    Each upload that changes the days is a new, numbered version; a version is never edited,
    so the figures name the one they were computed with (``label``). ``days`` maps an
    extract's clinic code to its closure days (ISO dates); the reasons are not kept.
    """

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    days = models.JSONField(default=dict, blank=True)
    fingerprint = models.CharField(max_length=12)
    clinic_count = models.PositiveIntegerField(default=0)
    day_count = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "number"], name="closure_calendar_version_once"
            )
        ]

    def __str__(self) -> str:
        return f"Closure calendar {self.number} of region {self.region_id}"

    @property
    def label(self) -> str:
        return f"closures.{self.number}"

    def per_clinic(self) -> list[tuple[str, int]]:
        return [(code, len(days)) for code, days in sorted((self.days or {}).items())]

    def as_closures(self) -> Closures:
        """The days for the computation."""
        return closures.from_rows(
            (code, dt.date.fromisoformat(day))
            for code, days in (self.days or {}).items()
            for day in days
        )


class AggregateSource(models.TextChoices):
    EXTRACT = "extract", "Appointment extracts"
    COUNTS = "counts", "Weekly counts (aggregate-only)"


class AggregateRun(models.Model):
    """One recompute of a region's aggregates (or one aggregate-only upload), with progress."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Recomputing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        # A weekly counts upload that was rejected whole (it has an error report).
        INVALID = "invalid", "Invalid: nothing stored"

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(
        max_length=20, choices=AggregateSource.choices, default=AggregateSource.EXTRACT
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    phase = models.CharField(max_length=40, blank=True)
    progress_done = models.IntegerField(default=0)
    progress_total = models.IntegerField(default=0)
    calendar = models.CharField(max_length=40, blank=True)  # label, e.g. federal@opm-2021.1
    as_of = models.DateField(null=True, blank=True)  # data cut-off of the figures
    aggregates = models.IntegerField(default=0)
    unmapped_codes = models.JSONField(default=list, blank=True)  # clinic codes (no patient data)
    # Weekly counts uploads: data rows read, problems found, and the error report's name in
    # the private storage (line, column, value, reason; counts only, never patient data).
    rows = models.IntegerField(null=True, blank=True)
    rejected = models.IntegerField(null=True, blank=True)
    error_report = models.CharField(max_length=255, blank=True)
    error_report_lines = models.IntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["region", "-created_at"], name="access_run_region_idx")]

    def __str__(self) -> str:
        return f"Aggregate run {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))


class AccessAggregate(models.Model):
    """Counts for one region or clinic, metric, period and breakdown. Never patient rows.

    ``clinic`` NULL is the whole region. ``dimension`` is ``total`` (``value`` blank) or a
    breakdown (provider class, modality, product line) with its ``value``. Rates and waits are
    stored unsuppressed: suppression is applied where a number leaves (pages, exports).
    ``waits`` (total rows only) is the histogram of observed waits (business days; hours for
    urgent), so medians over several periods and the parity bootstrap can be computed.
    """

    class Period(models.TextChoices):
        WEEK = "week", "Week"
        MONTH = "month", "Month"

    class Dimension(models.TextChoices):
        TOTAL = "total", "Total"
        PROVIDER_CLASS = "provider_class", "Provider class"
        MODALITY = "modality", "Modality"
        PRODUCT_LINE = "product_line", "Product line"

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=20, choices=AggregateSource.choices)
    calendar = models.CharField(max_length=40, blank=True)
    metric = models.CharField(max_length=40)
    period = models.CharField(max_length=10, choices=Period.choices)
    period_start = models.DateField()
    dimension = models.CharField(max_length=20, choices=Dimension.choices)
    value = models.CharField(max_length=40, blank=True)
    compliant = models.PositiveIntegerField(default=0)
    noncompliant = models.PositiveIntegerField(default=0)
    exception = models.PositiveIntegerField(default=0)
    patient_preference = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0)
    unknown_request_date = models.PositiveIntegerField(default=0)
    not_applicable = models.PositiveIntegerField(default=0)
    changed_other_calendar = models.PositiveIntegerField(default=0)
    denominator = models.PositiveIntegerField(default=0)  # compliant + noncompliant
    rate = models.FloatField(null=True, blank=True)
    observed = models.PositiveIntegerField(default=0)  # waits behind mean / median / p90
    mean_wait = models.FloatField(null=True, blank=True)
    median_wait = models.FloatField(null=True, blank=True)
    p90_wait = models.FloatField(null=True, blank=True)
    waits = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["region", "source", "clinic", "period", "metric"],
                name="access_agg_read_idx",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "region",
                    "clinic",
                    "source",
                    "calendar",
                    "metric",
                    "period",
                    "period_start",
                    "dimension",
                    "value",
                ],
                condition=models.Q(clinic__isnull=False),
                name="access_agg_clinic_uniq",
            ),
            models.UniqueConstraint(
                fields=[
                    "region",
                    "source",
                    "calendar",
                    "metric",
                    "period",
                    "period_start",
                    "dimension",
                    "value",
                ],
                condition=models.Q(clinic__isnull=True),
                name="access_agg_region_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.period} {self.period_start} {self.dimension}={self.value}"
