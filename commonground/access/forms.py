from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.db.models import QuerySet

from commonground.organizations.models import Clinic, Region

# Large extracts are normal (two years of a region is millions of rows); the upload streams
# to a temporary file, never into memory.
DEFAULT_MAX_UPLOAD_BYTES = 8 * 1024**3
# The format is found from the content when the job runs (commonground.access.readers).
UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx", ".json", ".ndjson", ".jsonl")


def max_upload_bytes() -> int:
    return int(getattr(settings, "COMMONGROUND_ACCESS_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Extract file (CSV, Excel .xlsx, or FHIR R4 .json / .ndjson)",
        help_text=(
            "One row per appointment, every status, with a header row (CSV in UTF-8, or the "
            "first worksheet of an .xlsx workbook); or FHIR R4 Appointment resources as JSON, "
            "a Bundle or Bulk Data ndjson. Patient ids are replaced by a keyed code on arrival "
            "and the file is deleted after processing."
        ),
    )
    region = forms.ModelChoiceField(queryset=Region.objects.none(), empty_label=None)
    clinic = forms.ModelChoiceField(
        queryset=Clinic.objects.none(),
        required=False,
        empty_label="The whole region",
        label="Clinic",
        help_text="The clinic the extract covers, or the whole region.",
    )

    def __init__(
        self, *args: Any, regions: QuerySet[Region], clinics: QuerySet[Clinic], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["region"]).queryset = regions
        cast(forms.ModelChoiceField, self.fields["clinic"]).queryset = clinics

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith(UPLOAD_SUFFIXES):
            raise forms.ValidationError(
                "Upload the extract as .csv, .xlsx, or FHIR .json / .ndjson."
            )
        limit = max_upload_bytes()
        if upload.size > limit:
            raise forms.ValidationError(f"The file is over {limit:,} bytes.")
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        region, clinic = data.get("region"), data.get("clinic")
        if region is not None and clinic is not None and clinic.region_id != region.pk:
            self.add_error("clinic", "Choose a clinic of the region, or the whole region.")
        return data
