from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from commonground.concerns.models import OPEN_STATUSES, Concern
from commonground.meetings import selectors
from commonground.meetings.models import ActionItem, Decision, Meeting, MeetingSettings
from commonground.organizations.models import Committee, Side

DATE = forms.DateInput(attrs={"type": "date"})
TIME = forms.TimeInput(attrs={"type": "time"})
TEXT = forms.Textarea(attrs={"rows": 3})


class MeetingForm(forms.Form):
    title = forms.CharField(max_length=200, initial="Regular meeting")
    date = forms.DateField(widget=DATE)
    time = forms.TimeField(widget=TIME, help_text="Local time of the clinic.")
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", min_value=5, max_value=600, initial=90
    )
    place = forms.CharField(max_length=200, required=False, help_text="Room and building.")
    video_link = forms.URLField(
        required=False, assume_scheme="https", help_text="For people joining by video."
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("place") or "").strip() and not (data.get("video_link") or "").strip():
            raise forms.ValidationError("Give a place or a video link.")
        return data

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        starts_at = timezone.make_aware(dt.datetime.combine(data["date"], data["time"]))
        return {
            "title": data["title"],
            "starts_at": starts_at,
            "duration_minutes": data["duration_minutes"],
            "place": data["place"],
            "video_link": data["video_link"],
        }

    @staticmethod
    def initial_for(meeting: Meeting) -> dict[str, Any]:
        start = timezone.localtime(meeting.starts_at)
        return {
            "title": meeting.title,
            "date": start.date(),
            "time": start.time().replace(second=0, microsecond=0),
            "duration_minutes": meeting.duration_minutes,
            "place": meeting.place,
            "video_link": meeting.video_link,
        }


class MeetingSettingsForm(forms.ModelForm):
    class Meta:
        model = MeetingSettings
        fields = [
            "quorum_clinicians",
            "quorum_management",
            "quorum_needs_cochair",
            "amendment_window_days",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amendment_window_days"].widget.attrs["max"] = 60
        for name in ("quorum_clinicians", "quorum_management"):
            self.fields[name].widget.attrs["max"] = 50

    def clean_amendment_window_days(self) -> int:
        days = int(self.cleaned_data["amendment_window_days"])
        if not 1 <= days <= 60:
            raise forms.ValidationError("Between 1 and 60 days.")
        return days


class AgendaItemForm(forms.Form):
    title = forms.CharField(max_length=200, label="Item")
    duration_minutes = forms.IntegerField(label="Minutes", min_value=1, max_value=240, initial=10)
    presenter = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False)
    concern = forms.UUIDField(required=False, widget=forms.HiddenInput)
    action = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, committee: Committee, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.committee = committee
        cast(
            forms.ModelChoiceField, self.fields["presenter"]
        ).queryset = selectors.committee_members(committee)

    def clean_concern(self) -> Concern | None:
        concern_id = self.cleaned_data.get("concern")
        if concern_id is None:
            return None
        concern = Concern.objects.filter(pk=concern_id, committee=self.committee).first()
        if concern is None:
            raise forms.ValidationError("Link a concern of this committee.")
        return concern

    def clean_action(self) -> ActionItem | None:
        action_id = self.cleaned_data.get("action")
        if action_id is None:
            return None
        action = ActionItem.objects.filter(public_id=action_id, committee=self.committee).first()
        if action is None:
            raise forms.ValidationError("Link an action item of this committee.")
        return action


class AttendanceForm(forms.Form):
    person = forms.IntegerField(widget=forms.HiddenInput)
    present = forms.TypedChoiceField(
        choices=[("1", "present"), ("0", "absent")], coerce=lambda v: v == "1"
    )


class MinutesForm(forms.Form):
    text = forms.CharField(
        label="Minutes",
        widget=forms.Textarea(attrs={"rows": 16}),
        required=False,
        help_text="What was done, not what was said: motions as adopted, who moved them, "
        "the result. Decisions and actions recorded below are part of the minutes.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ApproveForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class AmendmentForm(forms.Form):
    text = forms.CharField(
        label="Proposed amendment", widget=TEXT, max_length=4000, help_text="What should change."
    )


class AmendmentDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject")])


class DecisionForm(forms.ModelForm):
    class Meta:
        model = Decision
        fields = [
            "statement",
            "rationale",
            "decided_on",
            "review_on",
            "clinician_for",
            "clinician_against",
            "clinician_abstain",
            "management_for",
            "management_against",
            "management_abstain",
        ]
        widgets = {
            "statement": TEXT,
            "rationale": TEXT,
            "decided_on": DATE,
            "review_on": DATE,
        }
        labels = {
            "clinician_for": "Clinician side: for",
            "clinician_against": "Clinician side: against",
            "clinician_abstain": "Clinician side: abstain",
            "management_for": "Management side: for",
            "management_against": "Management side: against",
            "management_abstain": "Management side: abstain",
        }
        help_texts = {
            "review_on": "When the committee looks at this decision again.",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        decided, review = data.get("decided_on"), data.get("review_on")
        if decided and review and review < decided:
            self.add_error("review_on", "The review date comes after the decision.")
        return data


class DecisionSearchForm(forms.Form):
    q = forms.CharField(label="Search decisions", required=False, max_length=200)
    committee = forms.ModelChoiceField(
        queryset=Committee.objects.none(),
        required=False,
        to_field_name="slug",
        empty_label="All my committees",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["committee"]
        ).queryset = selectors.visible_committees(user).order_by("kind", "name")


STATUS_FILTERS = [
    ("active", "Open or in progress"),
    *ActionItem.Status.choices,
    ("all", "All"),
]


class ActionFilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_FILTERS, required=False, initial="active")
    overdue = forms.BooleanField(required=False, label="Overdue only")

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {"status": "active", "overdue": False}
        return {
            "status": self.cleaned_data.get("status") or "active",
            "overdue": bool(self.cleaned_data.get("overdue")),
        }


class ActionForm(forms.ModelForm):
    class Meta:
        model = ActionItem
        fields = [
            "title",
            "clinician_owner",
            "management_owner",
            "due_on",
            "concern",
            "decision",
            "meeting",
        ]
        widgets = {"due_on": DATE}
        labels = {"meeting": "From meeting", "decision": "Follows decision"}

    def __init__(
        self, *args: Any, committee: Committee, prefill: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        fields = {name: cast(forms.ModelChoiceField, self.fields[name]) for name in self.fields}
        fields["clinician_owner"].queryset = selectors.committee_people(committee, Side.CLINICIAN)
        fields["management_owner"].queryset = selectors.committee_people(committee, Side.MANAGEMENT)
        fields["concern"].queryset = Concern.objects.filter(
            committee=committee, status__in=OPEN_STATUSES
        ).order_by("title")
        fields["decision"].queryset = selectors.committee_decisions_for_form(committee)
        fields["meeting"].queryset = selectors.committee_meetings_for_form(committee)
        # ?meeting=<uuid> or ?decision=<uuid>: start from a meeting or a decision of this
        # committee (the choices above hold nothing else).
        for key in ("meeting", "decision"):
            try:
                public_id = uuid.UUID((prefill or {}).get(key, ""))
            except ValueError:
                continue
            choices = cast(QuerySet[Any], fields[key].queryset)
            found = choices.filter(public_id=public_id).first()
            if found is not None:
                self.initial[key] = found.pk

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("clinician_owner") and not data.get("management_owner"):
            raise forms.ValidationError("Name an owner for at least one side.")
        return data


class ActionEditForm(ActionForm):
    class Meta(ActionForm.Meta):
        fields = [*ActionForm.Meta.fields[:4], "status", *ActionForm.Meta.fields[4:]]


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionItem.Status.choices)
