from __future__ import annotations

from django import forms


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        max_length=150, required=False, help_text="How your name appears on rosters."
    )
    job_title = forms.CharField(max_length=150, required=False)
