from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms

from commonground.deliberation import polls
from commonground.deliberation.models import (
    STATEMENT_MAX_CHARS,
    Conversation,
    Poll,
    PollOption,
    PollVote,
)
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


# --- decision polls --------------------------------------------------------------------------

ORDINALS = ("1st", "2nd", "3rd")


def _ordinal(n: int) -> str:
    return ORDINALS[n - 1] if n <= len(ORDINALS) else f"{n}th"


class PollForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of poll", choices=polls.KINDS)
    title = forms.CharField(label="Question", max_length=200)
    details = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The proposal in full, or the background people need. No patient information.",
    )
    options = forms.CharField(
        label="Options",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=(
            f"Score, ranked-choice and dot polls: one option per line, "
            f"{polls.MIN_OPTIONS} to {polls.MAX_OPTIONS}."
        ),
    )
    times = forms.CharField(
        label="Meeting times",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Meeting-time polls: one date and time per line, e.g. 2025-03-04 12:30.",
    )
    closing_at = forms.DateTimeField(
        label="Closes at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Votes are taken until this time.",
    )
    anonymous = forms.BooleanField(
        label="Anonymous votes",
        required=False,
        help_text=(
            "Results never show who voted what, and stay hidden until the poll closes. "
            "This cannot be changed later."
        ),
    )
    hide_results = forms.BooleanField(
        label="Hide results until the poll closes",
        required=False,
        help_text="Nobody, co-chairs included, sees results while it is open.",
    )
    score_max = forms.IntegerField(
        label="Highest score",
        min_value=1,
        max_value=polls.SCORE_MAX_LIMIT,
        initial=5,
        help_text="Score polls only.",
    )
    dots_per_voter = forms.IntegerField(
        label="Dots per person",
        min_value=1,
        max_value=polls.DOTS_LIMIT,
        initial=8,
        help_text="Dot votes only.",
    )
    quorum_clinicians = forms.IntegerField(
        label="Clinician-side voters needed",
        min_value=0,
        max_value=500,
        initial=0,
        help_text="Quorum per side: the outcome says when it was not met. 0 for none.",
    )
    quorum_management = forms.IntegerField(
        label="Management-side voters needed", min_value=0, max_value=500, initial=0
    )

    def clean_times(self) -> list[dt.datetime]:
        parsed = []
        field = forms.DateTimeField()
        for number, line in enumerate(self.cleaned_data["times"].splitlines(), start=1):
            if not line.strip():
                continue
            try:
                parsed.append(field.clean(line.strip()))
            except forms.ValidationError as exc:
                raise forms.ValidationError(
                    f"Line {number} is not a date and time (e.g. 2025-03-04 12:30)."
                ) from exc
        return parsed

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "title": data["title"],
            "details": data["details"],
            "options": [line for line in data["options"].splitlines() if line.strip()],
            "times": data["times"],
            "closing_at": data["closing_at"],
            "anonymous": data["anonymous"],
            "hide_results": data["hide_results"],
            "score_max": data["score_max"],
            "dots_per_voter": data["dots_per_voter"],
            "quorum_clinicians": data["quorum_clinicians"],
            "quorum_management": data["quorum_management"],
        }


class PollVoteForm(forms.Form):
    """The ballot of one poll, built from its kind and options. Choices are radio groups
    (a fieldset with a legend each); a ranked ballot is numbered selects, so it works
    without JavaScript."""

    def __init__(
        self,
        *args: Any,
        poll: Poll,
        options: Sequence[PollOption],
        vote: PollVote | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.poll = poll
        self.option_count = len(options)
        kind = poll.kind
        if kind in polls.CHOICES:
            self.fields["choice"] = forms.ChoiceField(
                label="Your answer",
                choices=[(key, f"{label}: {hint}") for key, label, hint in polls.CHOICES[kind]],
                widget=forms.RadioSelect,
            )
            needs = ", ".join(
                label for key, label, _ in polls.CHOICES[kind] if key in polls.REASON_REQUIRED[kind]
            )
            self.fields["reason"] = forms.CharField(
                label="Your reason",
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=f"Needed for: {needs}. No patient information.",
            )
        elif kind == Poll.Kind.SCORE:
            for o in options:
                self.fields[f"score_{o.position}"] = forms.TypedChoiceField(
                    label=o.label,
                    coerce=int,
                    choices=[("", "Choose a score")]
                    + [(str(n), str(n)) for n in range(poll.score_max + 1)],
                )
        elif kind == Poll.Kind.DOT:
            for o in options:
                self.fields[f"dots_{o.position}"] = forms.IntegerField(
                    label=o.label,
                    min_value=0,
                    max_value=poll.dots_per_voter,
                    required=False,
                    initial=0,
                )
        elif kind == Poll.Kind.MEETING:
            for o in options:
                self.fields[f"time_{o.position}"] = forms.TypedChoiceField(
                    label=o.label,
                    coerce=int,
                    choices=[(str(v), label) for v, label in polls.MEETING_ANSWERS],
                    widget=forms.RadioSelect,
                )
        elif kind == Poll.Kind.RANKED:
            for n in range(1, len(options) + 1):
                self.fields[f"rank_{n}"] = forms.TypedChoiceField(
                    label=f"{_ordinal(n)} choice",
                    coerce=int,
                    required=n == 1,
                    empty_value=None,
                    choices=[("", "No choice")] + [(str(o.position), o.label) for o in options],
                )
        if kind in polls.OPTION_KINDS:
            self.fields["reason"] = forms.CharField(
                label="Comment (optional)",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="No patient information.",
            )
        if vote is not None and not self.is_bound:
            self.initial.update(self._initial_from(vote))

    def _initial_from(self, vote: PollVote) -> dict[str, Any]:
        initial: dict[str, Any] = {"choice": vote.choice, "reason": vote.reason}
        if self.poll.kind == Poll.Kind.RANKED:
            for n, position in enumerate(vote.ballot or [], start=1):
                initial[f"rank_{n}"] = str(position)
        else:
            prefix = {"score": "score", "dot": "dots", "meeting": "time"}.get(self.poll.kind)
            if prefix and isinstance(vote.ballot, dict):
                for position, value in vote.ballot.items():
                    initial[f"{prefix}_{position}"] = str(value)
        return initial

    def option_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in ("choice", "reason")]

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields: dict[str, Any] = {"reason": data.get("reason", "")}
        kind = self.poll.kind
        if kind in polls.CHOICES:
            fields["choice"] = data["choice"]
        elif kind == Poll.Kind.RANKED:
            fields["ranking"] = [
                data[f"rank_{n}"]
                for n in range(1, self.option_count + 1)
                if data.get(f"rank_{n}") is not None
            ]
        else:
            prefix = {"score": "score", "dot": "dots", "meeting": "time"}[kind]
            fields["values"] = {
                int(name.split("_", 1)[1]): value
                for name, value in data.items()
                if name.startswith(prefix + "_") and value is not None
            }
        return fields


class PollCloseForm(forms.Form):
    action = forms.ChoiceField(choices=[("close", "Close")], widget=forms.HiddenInput)
    statement = forms.CharField(
        label="Outcome",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=(
            "What the committee decided and why; it goes into the decisions log. It need not "
            "follow the majority. Left empty, a summary of the tally is recorded."
        ),
    )
    review_on = forms.DateField(
        label="Review date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional: when the committee looks at this decision again.",
    )
