from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import lazy

from commonground.concerns.models import Category, IdentityMode
from commonground.concerns.services.attachments import (
    MAX_PER_UPLOAD,
    max_size_label,
    prepare_uploads,
)
from commonground.concerns.sniff import ACCEPT_ATTRIBUTE, ACCEPTED_LABELS

TEXT = forms.Textarea(attrs={"rows": 4})


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


def _evidence_help() -> str:
    return (
        f"Up to {MAX_PER_UPLOAD} files ({ACCEPTED_LABELS}), each at most {max_size_label()}. "
        "No patient details. Pictures lose their camera data when stored; a PDF or workbook "
        "keeps its author field, so check it first if you raise anonymously or confidentially."
    )


class EvidenceField(forms.FileField):
    """Several files in one field. Every file is checked (size, real type, patient
    identifiers in a CSV) during validation, so a bad file refuses the whole form before
    anything is stored; the cleaned value is the list of checked files."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", lazy(_evidence_help, str)())
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", ACCEPT_ATTRIBUTE)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        cleaned = [super(EvidenceField, self).clean(f, initial) for f in files]
        # Checked files, ready for the service: nothing is stored unless all pass.
        return prepare_uploads(cleaned)


class ConcernForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What happens, where, how often. Markdown works. No patient details.",
    )
    category = forms.ChoiceField(choices=Category.choices)
    patient_impact = forms.CharField(label="Impact on patients", widget=TEXT)
    proposed_idea = forms.CharField(label="Your idea (optional)", widget=TEXT, required=False)
    evidence = EvidenceField(label="Evidence files (optional)")
    identity_mode = forms.ChoiceField(
        choices=IdentityMode.choices,
        widget=forms.RadioSelect,
        label="Who can see that you raised it",
        initial=IdentityMode.NAMED,
        help_text=(
            "Named: everyone on the committee. Confidential: only you, the clinician co-chair "
            "and the union representative; managers see 'a clinician'. Anonymous: nobody, not "
            "even the system; you get a receipt code to follow it up."
        ),
    )
    not_a_grievance = forms.BooleanField(
        label="This is about practice and care, not an individual grievance",
        required=True,
    )


class ResponseForm(forms.Form):
    agreed = forms.TypedChoiceField(
        choices=[("yes", "Agreed action"), ("no", "Not agreed")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        label="Outcome",
    )
    text = forms.CharField(label="The joint response", widget=TEXT)
    clinician_reasons = forms.CharField(
        label="Clinician side's reasons", widget=TEXT, required=False
    )
    management_reasons = forms.CharField(
        label="Management side's reasons", widget=TEXT, required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ReceiptForm(forms.Form):
    token = forms.CharField(label="Receipt code", max_length=64, strip=True)


class ClockChangeForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("extend", "Extend the clocks"), ("pause", "Pause the clocks")],
        widget=forms.RadioSelect,
        label="Change",
    )
    business_days = forms.IntegerField(
        label="Business days to add (extensions only)",
        min_value=0,
        max_value=20,
        required=False,
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Both co-chairs sign; the reason is kept with the concern's history.",
    )


class EvidenceForm(forms.Form):
    evidence = EvidenceField(label="Add evidence files", required=True)
