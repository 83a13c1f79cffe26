from __future__ import annotations

from django import forms

from commonground.concerns.models import Category, IdentityMode

TEXT = forms.Textarea(attrs={"rows": 4})


class ConcernForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What happens, where, how often. Markdown works. No patient details.",
    )
    category = forms.ChoiceField(choices=Category.choices)
    patient_impact = forms.CharField(label="Impact on patients", widget=TEXT)
    proposed_idea = forms.CharField(label="Your idea (optional)", widget=TEXT, required=False)
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
