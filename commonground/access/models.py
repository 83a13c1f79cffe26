"""Import jobs for scheduling extracts. The appointment rows themselves live in the Parquet
store (``commonground.access.store``), never in the database."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

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
        # Room for xlsx, fhir and aggregate readers (``commonground.access.readers``).
        CSV = "csv", "Canonical CSV extract"

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
    rejected = models.BigIntegerField(null=True, blank=True)  # problems found (cells or rows)
    error_report = models.CharField(max_length=255, blank=True)  # name in the private storage
    error_report_lines = models.IntegerField(default=0)
    quality = models.JSONField(default=dict, blank=True)
    generation = models.IntegerField(null=True, blank=True)  # store generation with its rows
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
