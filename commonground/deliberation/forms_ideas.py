from __future__ import annotations

from typing import Any

from django import forms

from commonground.concerns.models import OPEN_STATUSES, Concern
from commonground.deliberation.models import IDEA_DOTS_MAX, Idea
from commonground.deliberation.services_ideas import (
    IDEA_DESCRIPTION_MAX_CHARS,
    IDEA_TITLE_MAX_CHARS,
    STAGE_REASON_MAX_CHARS,
)
from commonground.organizations.models import Committee

CONCERN_CHOICES_MAX = 100


class ConcernChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.title} (raised {obj.raised_on:%b} {obj.raised_on.day}, {obj.raised_on:%Y})"


class IdeaForm(forms.Form):
    title = forms.CharField(
        max_length=IDEA_TITLE_MAX_CHARS,
        help_text="What would change, in a line, e.g. “Hold two return slots per clinician a day”.",
    )
    description = forms.CharField(
        label="How it would work and why it would help patients",
        required=False,
        max_length=IDEA_DESCRIPTION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Optional. Markdown works. Never name or describe a patient.",
    )
    concerns = ConcernChoices(
        label="Concerns this idea answers",
        queryset=Concern.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    anonymous = forms.BooleanField(
        label="Post without my name",
        required=False,
        help_text=(
            "Nothing then records that you wrote it, not even for the co-chairs, and you "
            "cannot edit it or be told when it moves. If you raised an anonymous concern, post "
            "ideas about it this way too."
        ),
    )

    def __init__(self, *args: Any, committee: Committee, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        queryset = Concern.objects.filter(committee=committee, status__in=OPEN_STATUSES).order_by(
            "-raised_on", "id"
        )
        chosen = self.initial.get("concerns") or []
        ids = list(queryset.values_list("pk", flat=True)[:CONCERN_CHOICES_MAX])
        ids += [c.pk for c in Concern.objects.filter(committee=committee, pk__in=chosen)]
        field = self.fields["concerns"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101 - narrows the type
        field.queryset = Concern.objects.filter(pk__in=ids).order_by("-raised_on", "id")
        if not ids:
            del self.fields["concerns"]

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "concerns": list(data.get("concerns") or []),
            "anonymous": data["anonymous"],
        }


class DotForm(forms.Form):
    action = forms.ChoiceField(choices=[("add", "Add a dot"), ("remove", "Take a dot off")])

    @property
    def delta(self) -> int:
        return 1 if self.cleaned_data["action"] == "add" else -1


class CompareForm(forms.Form):
    left = forms.UUIDField()
    right = forms.UUIDField()
    choice = forms.ChoiceField(
        choices=[("first", "The first"), ("second", "The second"), ("none", "Can't decide")]
    )


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=[c for c in Idea.Stage.choices if c[0] != "merged"])
    reason = forms.CharField(
        required=False,
        max_length=STAGE_REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to adopt or decline: the reason is shown with the idea.",
    )


class MergeForm(forms.Form):
    into = forms.UUIDField(label="Merge this idea into")


class ConcernLinkForm(forms.Form):
    concern = forms.UUIDField()
    unlink = forms.BooleanField(required=False)


class BoardSettingsForm(forms.Form):
    dots_per_person = forms.IntegerField(
        label="Dots per person", min_value=1, max_value=IDEA_DOTS_MAX
    )
