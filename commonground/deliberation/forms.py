from __future__ import annotations

from typing import Any

from django import forms

from commonground.deliberation.models import STATEMENT_MAX_CHARS, Conversation
from commonground.deliberation.services import MODERATION_DECISIONS, read_archive

IMPORT_MAX_BYTES = 20 * 1024 * 1024


class ConversationForm(forms.Form):
    topic = forms.CharField(
        label="Prompt",
        max_length=200,
        help_text="The question people respond to, e.g. “How could we protect return visits?”",
    )
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Optional background."
    )
    seed_statements = forms.CharField(
        label="Starting statements",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=f"One per line, up to {STATEMENT_MAX_CHARS} characters each. Accepted at once.",
    )
    allow_statements = forms.BooleanField(
        label="Participants may add statements", required=False, initial=True
    )
    auto_accept = forms.BooleanField(
        label="Accept participants' statements without moderation", required=False
    )
    open_to_region = forms.BooleanField(
        label="Everyone with a seat in the region may take part",
        required=False,
        help_text="For the regional committee and the summit only.",
    )

    def __init__(self, *args: Any, region_wide: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not region_wide:
            del self.fields["open_to_region"]

    def clean_seed_statements(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["seed_statements"].splitlines()]
        lines = [line for line in lines if line]
        too_long = [i + 1 for i, line in enumerate(lines) if len(line) > STATEMENT_MAX_CHARS]
        if too_long:
            raise forms.ValidationError(
                f"Line {too_long[0]} is longer than {STATEMENT_MAX_CHARS} characters."
            )
        return lines

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "topic": data["topic"],
            "description": data["description"],
            "seed_statements": data["seed_statements"],
            "allow_statements": data["allow_statements"],
            "auto_accept": data["auto_accept"],
            "open_to_region": data.get("open_to_region", False),
        }


class StatementForm(forms.Form):
    text = forms.CharField(
        label="Your statement",
        max_length=STATEMENT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": STATEMENT_MAX_CHARS}),
        help_text=(
            f"One idea others can agree or disagree with, up to {STATEMENT_MAX_CHARS} "
            "characters. It is shown without your name. No patient information."
        ),
    )


class VoteForm(forms.Form):
    statement = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    vote = forms.ChoiceField(
        choices=[("agree", "Agree"), ("disagree", "Disagree"), ("pass", "Pass")]
    )


class ModerateForm(forms.Form):
    decision = forms.ChoiceField(choices=[(d, d) for d in MODERATION_DECISIONS])


class StateForm(forms.Form):
    state = forms.ChoiceField(choices=Conversation.State.choices)


class ImportForm(forms.Form):
    topic = forms.CharField(label="Prompt", max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    archive = forms.FileField(
        label="Pol.is export (zip)",
        required=False,
        help_text="A zip holding participants-votes.csv and comments.csv.",
    )
    participants_votes = forms.FileField(
        label="participants-votes.csv", required=False, help_text="Or give the two files."
    )
    comments = forms.FileField(label="comments.csv", required=False)

    def _read(self, name: str) -> bytes | None:
        upload = self.cleaned_data.get(name)
        if upload is None:
            return None
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(f"{upload.name} is larger than 20 MB.")
        return bytes(upload.read())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        archive = self._read("archive")
        if archive is not None:
            data["files"] = read_archive(archive)
            return data
        votes, comments = self._read("participants_votes"), self._read("comments")
        if votes is None or comments is None:
            raise forms.ValidationError(
                "Give the zip, or both participants-votes.csv and comments.csv."
            )
        data["files"] = (votes, comments)
        return data
