from __future__ import annotations

from typing import Any, cast

from django import forms

from commonground.audit.models import AuditEvent
from commonground.audit.selectors import AuditFilter


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("", "Any action"), *AuditEvent.Action.choices], required=False
    )
    clinic = forms.ChoiceField(choices=[("", "Any clinic")], required=False)
    actor = forms.CharField(required=False, max_length=150, label="Person (username)")
    object_type = forms.ChoiceField(choices=[("", "Any kind")], required=False, label="Kind")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(
        self, *args: Any, clinics: list[tuple[int, str]], object_types: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        clinic_field = cast(forms.ChoiceField, self.fields["clinic"])
        clinic_field.choices = [("", "Any clinic"), *((str(pk), name) for pk, name in clinics)]
        kind_field = cast(forms.ChoiceField, self.fields["object_type"])
        kind_field.choices = [("", "Any kind"), *((t, t) for t in object_types)]

    def to_filter(self) -> AuditFilter:
        data = self.cleaned_data if self.is_valid() else {}
        clinic = data.get("clinic")
        return AuditFilter(
            action=data.get("action") or "",
            clinic_id=int(clinic) if clinic else None,
            actor=data.get("actor") or "",
            object_type=data.get("object_type") or "",
            since=data.get("since"),
            until=data.get("until"),
        )
