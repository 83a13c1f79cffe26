from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model

from commonground.organizations.models import Membership, Role, Side


class CommitteeForm(forms.Form):
    """A plain form, not a ModelForm: validation must not touch the committee before the
    service compares old and new values for the audit trail."""

    name = forms.CharField(max_length=160)
    purpose = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)


ADDABLE_ROLES = [(r.value, r.label) for r in Role if r != Role.CO_CHAIR]


class MembershipAddForm(forms.Form):
    email = forms.EmailField(
        label="Email of the person to add",
        help_text="They need a Common Ground account already.",
    )
    side = forms.ChoiceField(choices=Side.choices)
    role = forms.ChoiceField(choices=ADDABLE_ROLES, initial=Role.MEMBER)

    def clean_email(self) -> Any:
        email = self.cleaned_data["email"]
        person = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if person is None:
            raise forms.ValidationError("No active account uses that email address.")
        self.cleaned_data["person"] = person
        return email


class CochairAssignForm(forms.Form):
    side = forms.ChoiceField(
        choices=[(Side.CLINICIAN.value, "Clinician"), (Side.MANAGEMENT.value, "Management")]
    )
    membership = forms.ModelChoiceField(
        queryset=Membership.objects.none(), label="New co-chair", empty_label=None
    )

    def __init__(self, *args: Any, seats: list[Membership] | None = None, **kwargs: Any) -> None:
        # Shares the committee page with the add-member form: its own ids keep labels unique.
        kwargs.setdefault("auto_id", "id_cochair_%s")
        super().__init__(*args, **kwargs)
        ids = [seat.pk for seat in seats or []]
        field = cast(forms.ModelChoiceField, self.fields["membership"])
        field.queryset = Membership.objects.filter(pk__in=ids).select_related("person")
        field.label_from_instance = lambda seat: (  # type: ignore[method-assign,assignment]
            f"{seat.person.get_display_name()} ({seat.get_side_display()})"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        seat = data.get("membership")
        if seat is not None and data.get("side") and seat.side != data["side"]:
            raise forms.ValidationError(
                "A co-chair sits for their own side: choose a member of that side."
            )
        return data
