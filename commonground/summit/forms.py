from __future__ import annotations

from typing import Any

from django import forms

from commonground.deliberation.models import Conversation
from commonground.summit.models import QUESTION_MAX_CHARS, Room, Session, Summit
from commonground.summit.services import MODERATION_DECISIONS

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class SummitForm(forms.ModelForm):
    class Meta:
        model = Summit
        fields = ["title", "description", "starts_on", "ends_on", "venue", "capacity", "state"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "starts_on": _DATE,
            "ends_on": _DATE,
        }
        help_texts = {"capacity": "Confirmed places. Leave empty for no limit."}


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name", "capacity", "access_notes"]


class SessionForm(forms.ModelForm):
    class Meta:
        model = Session
        fields = [
            "title",
            "kind",
            "room",
            "starts_at",
            "ends_at",
            "description",
            "conversation",
            "questions_open",
        ]
        widgets = {
            "starts_at": _DATETIME,
            "ends_at": _DATETIME,
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"conversation": "Common-ground conversation"}
        help_texts = {
            "conversation": "Optional: a conversation of the summit committee run in this "
            "session. Start one from the committee's conversations page.",
        }

    def __init__(self, *args: Any, summit: Summit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = Room.objects.filter(summit=summit)  # type: ignore[attr-defined]
        self.fields["conversation"].queryset = Conversation.objects.filter(  # type: ignore[attr-defined]
            committee_id=summit.committee_id
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "A session ends after it starts.")
        return data


class RegistrationForm(forms.Form):
    action = forms.ChoiceField(choices=[("register", "Register"), ("unregister", "Unregister")])


class QuestionForm(forms.Form):
    text = forms.CharField(
        label="Your question",
        max_length=QUESTION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": QUESTION_MAX_CHARS}),
        help_text=f"Up to {QUESTION_MAX_CHARS} characters. About practice, never about a "
        "patient. A moderator puts it on show.",
    )
    anonymous = forms.BooleanField(
        label="Ask anonymously",
        required=False,
        help_text="Nothing is kept of who asked: not even the moderators can find out.",
    )


class ModerateForm(forms.Form):
    decision = forms.ChoiceField(choices=[(d, d) for d in MODERATION_DECISIONS])
