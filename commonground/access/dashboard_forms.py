from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from commonground.organizations.models import Region

MAX_COUNTS_BYTES = 50 * 1024 * 1024


class CountsUploadForm(forms.Form):
    file = forms.FileField(
        label="Weekly counts file (CSV)",
        help_text=(
            "One row per clinic, week, metric and provider class: clinic_code, week_start, "
            "metric, provider_class, numerator, denominator, exceptions, pending."
        ),
    )
    region = forms.ModelChoiceField(queryset=Region.objects.none(), empty_label=None)

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["region"]).queryset = regions

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith((".csv", ".txt")):
            raise forms.ValidationError("Upload the counts as a .csv file.")
        if upload.size > MAX_COUNTS_BYTES:
            raise forms.ValidationError(f"The file is over {MAX_COUNTS_BYTES:,} bytes.")
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload
