from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.db.models import QuerySet

from commonground.access.models import AccessSettings
from commonground.access.services import data_cutoff_problem
from commonground.organizations.models import Clinic, Region

# Large extracts are normal (two years of a region is millions of rows); the upload streams
# to a temporary file, never into memory.
DEFAULT_MAX_UPLOAD_BYTES = 8 * 1024**3
# The format is found from the content when the job runs (commonground.access.readers).
UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx", ".json", ".ndjson", ".jsonl", ".zip")


def max_upload_bytes() -> int:
    return int(getattr(settings, "COMMONGROUND_ACCESS_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Extract file (CSV, Excel .xlsx, or FHIR R4 .json / .ndjson / Bulk Data .zip)",
        help_text=(
            "One row per appointment, every status, with a header row (CSV in UTF-8, or the "
            "first worksheet of an .xlsx workbook); or FHIR R4 Appointment resources as JSON, "
            "a Bundle or Bulk Data ndjson (with Slot, Schedule and Encounter resources if you "
            "have them); a whole Bulk Data export as one .zip of its manifest and ndjson files "
            "(its transactionTime is taken as the data cut-off). A slot CSV or an encounter "
            "CSV on its own is recognised by its header "
            "and feeds next available and the HEDIS-like follow-up rates. Patient ids are "
            "replaced by a keyed code on arrival and the file is deleted after processing."
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
    data_cutoff = forms.DateTimeField(
        required=False,
        label="Data cut-off (optional)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=(
            "When the extract was taken, in Pacific time. Each appointment keeps the state "
            "of the extract with the latest cut-off, so importing an older extract later "
            "does not bring back older states; requests still waiting then count as pending. "
            "A Bulk Data export gives its own (its transactionTime). Without one, the extract "
            "imported last wins."
        ),
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
                "Upload the extract as .csv, .xlsx, or FHIR .json / .ndjson / .zip."
            )
        limit = max_upload_bytes()
        if upload.size > limit:
            raise forms.ValidationError(f"The file is over {limit:,} bytes.")
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload

    def clean_data_cutoff(self) -> Any:
        value = self.cleaned_data["data_cutoff"]
        if value is not None and (problem := data_cutoff_problem(value)):
            raise forms.ValidationError(problem)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        region, clinic = data.get("region"), data.get("clinic")
        if region is not None and clinic is not None and clinic.region_id != region.pk:
            self.add_error("clinic", "Choose a clinic of the region, or the whole region.")
        return data


# -- region access settings --------------------------------------------------------------------

CALENDAR_NOTES = {
    "federal": (
        "The eleven US federal holidays (OPM), Juneteenth and Columbus Day included; a "
        "Saturday holiday moves to Friday, a Sunday one to Monday."
    ),
    "ca-state": (
        "California state-employee paid holidays (CalHR): adds Cesar Chavez Day and the day "
        "after Thanksgiving, and has no Juneteenth or Columbus Day."
    ),
}
MAX_CODE_LENGTH = 64
MIN_RATE_POINTS, MAX_RATE_POINTS = Decimal("1"), Decimal("50")
MIN_MEDIAN_RATIO, MAX_MEDIAN_RATIO = Decimal("1.05"), Decimal("3.0")


def parse_clinic_codes(text: str, slugs: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """``CODE = clinic-slug`` lines -> (code map, errors naming their line).

    Blank lines and lines starting with ``#`` are skipped. Codes match case-insensitively (as
    the aggregates match them), so two codes differing only in case are duplicates.
    """
    known = {s.lower(): s for s in slugs}
    mapping: dict[str, str] = {}
    first_line: dict[str, int] = {}
    errors: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        code, sep, slug = (part.strip() for part in line.partition("="))
        if not sep:
            errors.append(f"Line {number}: write the line as CODE = clinic-slug.")
            continue
        if not code:
            errors.append(f"Line {number}: the code is empty.")
            continue
        if len(code) > MAX_CODE_LENGTH:
            errors.append(f"Line {number}: the code is longer than {MAX_CODE_LENGTH} characters.")
            continue
        clinic = known.get(slug.lower())
        if clinic is None:
            shown = slug or "(nothing)"
            errors.append(f"Line {number}: {shown} is not a clinic of this region.")
            continue
        if code.lower() in known and code.lower() != clinic.lower():
            # The code would take the other clinic's own slug away from it.
            errors.append(
                f"Line {number}: {code} is the slug of another clinic; "
                "a code may not be another clinic's slug."
            )
            continue
        seen = first_line.get(code.lower())
        if seen is not None:
            errors.append(f"Line {number}: the code {code} is already on line {seen}.")
            continue
        first_line[code.lower()] = number
        mapping[code] = clinic
    return mapping, errors


def format_clinic_codes(mapping: dict[str, str]) -> str:
    return "".join(f"{code} = {slug}\n" for code, slug in sorted(mapping.items()))


class AccessSettingsForm(forms.Form):
    calendar = forms.ChoiceField(
        label="Holiday calendar for business days",
        choices=AccessSettings.CalendarChoice.choices,
        widget=forms.RadioSelect,
        help_text=(
            "Which holidays are not business days when deadlines are counted. The dashboards "
            "also show where the other calendar would change a result."
        ),
    )
    parity_rate_points = forms.DecimalField(
        label="Parity flag: difference in percentage points",
        min_value=MIN_RATE_POINTS,
        max_value=MAX_RATE_POINTS,
        decimal_places=1,
        help_text=(
            "Flag a potential material difference when the mental-health and medical rates "
            "differ by this many percentage points or more (1 to 50), with a confidence "
            "interval excluding 0."
        ),
    )
    parity_median_ratio = forms.DecimalField(
        label="Parity flag: ratio of median waits",
        min_value=MIN_MEDIAN_RATIO,
        max_value=MAX_MEDIAN_RATIO,
        decimal_places=2,
        help_text="Or when the median mental-health wait is this many times the medical one "
        "or more (1.05 to 3.0).",
    )
    clinic_codes = forms.CharField(
        label="Clinic codes in the extracts",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocapitalize": "off"}),
        help_text=(
            "One line per code the scheduling system uses for a clinic: CODE = clinic-slug. A "
            "clinic's own slug needs no line. Lines starting with # are ignored."
        ),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, clinic_slugs: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic_slugs = list(clinic_slugs)
        self.fields["clinic_codes"].help_text += " Clinics of this region: " + (
            ", ".join(sorted(self.clinic_slugs)) or "none yet"
        )

    @classmethod
    def initial_for(cls, options: AccessSettings) -> dict[str, Any]:
        return {
            "calendar": options.calendar,
            "parity_rate_points": f"{options.parity_rate_points * 100:g}",
            "parity_median_ratio": f"{options.parity_median_ratio:g}",
            "clinic_codes": format_clinic_codes(options.clinic_codes or {}),
            "version": options.version,
        }

    def clean_clinic_codes(self) -> dict[str, str]:
        mapping, errors = parse_clinic_codes(self.cleaned_data["clinic_codes"], self.clinic_slugs)
        if errors:
            raise forms.ValidationError(errors)
        return mapping

    def values(self) -> dict[str, Any]:
        """The cleaned values as stored: the rate as a fraction, floats for the numbers."""
        data = self.cleaned_data
        return {
            "calendar": data["calendar"],
            "parity_rate_points": round(float(data["parity_rate_points"]) / 100, 4),
            "parity_median_ratio": round(float(data["parity_median_ratio"]), 4),
            "clinic_codes": data["clinic_codes"],
        }


class ClosuresUploadForm(forms.Form):
    file = forms.FileField(
        label="Clinic closure calendar (CSV)",
        help_text=(
            "Columns clinic_id (the clinic code used in the appointment extracts), date "
            "(YYYY-MM-DD) and, if you like, reason (not kept). The whole file replaces the "
            "current closures; a file with the header alone withdraws them."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
