from __future__ import annotations

from django import forms

from commonground.notifications.models import Frequency


class PreferenceForm(forms.Form):
    email_frequency = forms.ChoiceField(
        label="Email me about notifications",
        choices=Frequency.choices,
        widget=forms.RadioSelect,
        help_text="Notifications always appear in Common Ground; this sets only the email.",
    )
