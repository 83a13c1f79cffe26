from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model

from commonground.improvement.models import Commitment, Measure, PdsaCycle, Project, RuleProfile
from commonground.organizations.models import Side

DATE = forms.DateInput(attrs={"type": "date"})
TEXT = forms.Textarea(attrs={"rows": 3})
SIDES = [(Side.CLINICIAN.value, "Clinician"), (Side.MANAGEMENT.value, "Management")]


class ProjectForm(forms.Form):
    title = forms.CharField(max_length=200)
    aim_what = forms.CharField(label="What will improve", widget=TEXT)
    aim_how_much = forms.CharField(
        label="By how much", max_length=200, help_text="e.g. from 19 to 10 business days"
    )
    aim_by_when = forms.DateField(label="By when", widget=DATE)


class ProjectEditForm(ProjectForm):
    status = forms.ChoiceField(choices=Project.Status.choices)


class TeamMemberForm(forms.Form):
    email = forms.EmailField(label="Email of the person to add")
    side = forms.ChoiceField(choices=SIDES)
    is_lead = forms.BooleanField(label="Leads for this side", required=False)

    def clean_email(self) -> Any:
        email = self.cleaned_data["email"]
        person = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if person is None:
            raise forms.ValidationError("No active account uses that email address.")
        self.cleaned_data["person"] = person
        return email


class MeasureForm(forms.ModelForm):
    class Meta:
        model = Measure
        fields = [
            "name",
            "kind",
            "operational_definition",
            "unit",
            "chart",
            "direction",
            "target",
            "multiply",
            "baseline_points",
            "live_metric",
        ]
        widgets = {"operational_definition": TEXT}


class PointForm(forms.Form):
    period = forms.DateField(widget=DATE, help_text="First day of the week or month.")
    value = forms.FloatField(required=False, help_text="Leave empty for a missing period.")
    denominator = forms.FloatField(required=False)
    excluded = forms.BooleanField(required=False, label="Keep off the limits")
    note = forms.CharField(max_length=200, required=False)


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: period (YYYY-MM-DD), value, and denominator for P and U charts.",
    )


class PdsaPlanForm(forms.Form):
    change_idea = forms.CharField(max_length=200, label="Change to test")
    plan = forms.CharField(widget=TEXT, help_text="Who, what, where, when.")
    prediction = forms.CharField(widget=TEXT, help_text="What do you expect to happen?")
    started_on = forms.DateField(widget=DATE)
    measure = forms.ModelChoiceField(
        queryset=Measure.objects.none(), required=False, label="Show on the chart of"
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["measure"]).queryset = project.measures.all()


class PdsaRecordForm(forms.Form):
    do_notes = forms.CharField(label="What happened", widget=TEXT, required=False)
    study = forms.CharField(label="Result against the prediction", widget=TEXT, required=False)
    act = forms.ChoiceField(
        choices=[("", "Not decided yet"), *PdsaCycle.Act.choices], required=False, label="Decision"
    )
    act_reason = forms.CharField(label="Why", widget=TEXT, required=False)
    ended_on = forms.DateField(widget=DATE, required=False)


class ChartSettingsForm(forms.Form):
    profile = forms.ChoiceField(choices=RuleProfile.choices, label="Chart rules")


class RecommendationForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=TEXT, required=False)
    made_on = forms.DateField(widget=DATE)
    project = forms.ModelChoiceField(queryset=Project.objects.none(), required=False)

    def __init__(self, *args: Any, committee: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["project"]).queryset = committee.projects.all()


class CommitmentForm(forms.ModelForm):
    class Meta:
        model = Commitment
        fields = [
            "what",
            "clinician_owner",
            "management_owner",
            "resources",
            "money",
            "fte",
            "due_on",
            "status",
            "progress",
            "delivered_on",
            "evidence",
        ]
        widgets = {"due_on": DATE, "delivered_on": DATE, "evidence": TEXT}

    def __init__(self, *args: Any, people_by_side: dict[Any, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["clinician_owner"]).queryset = people_by_side[
            Side.CLINICIAN
        ]
        cast(forms.ModelChoiceField, self.fields["management_owner"]).queryset = people_by_side[
            Side.MANAGEMENT
        ]


class ProjectLinkForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("concern", "Concern"), ("decision", "Decision"), ("idea", "Idea")]
    )
    target = forms.UUIDField()
    unlink = forms.BooleanField(required=False)

    def chosen(self, committee: Any) -> Any:
        """The chosen concern, decision or idea, if it belongs to (or was escalated to) the
        committee; None otherwise, so another clinic's ids find nothing."""
        from django.db.models import Q

        from commonground.concerns.models import Concern
        from commonground.deliberation.models import Idea
        from commonground.meetings.models import Decision

        target_id = self.cleaned_data["target"]
        if self.cleaned_data["kind"] == "idea":
            return (
                Idea.objects.filter(public_id=target_id, committee=committee)
                .exclude(stage=Idea.Stage.MERGED)
                .first()
            )
        if self.cleaned_data["kind"] == "concern":
            return (
                Concern.objects.filter(pk=target_id)
                .filter(Q(committee=committee) | Q(escalated_to=committee))
                .first()
            )
        return Decision.objects.filter(public_id=target_id, committee=committee).first()
