"""Reads for improvement projects, measures, charts and the accountability ledger."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from commonground.core.permissions import authorise
from commonground.improvement.charts import ChartInput, ChartOutput, build_chart
from commonground.improvement.models import (
    AccessSignal,
    Commitment,
    CommitteeChartSettings,
    Measure,
    PdsaCycle,
    Project,
    ProjectMember,
    Recommendation,
    RuleProfile,
)
from commonground.organizations.models import Committee

VIEW = "improvement.view_project"


def _authorise(user: Any, project: Project, perm: str) -> None:
    authorise(user, project, view_perm=VIEW, perm=perm, clinic_id=project.committee.clinic_id)


def _projects() -> QuerySet[Project]:
    return Project.objects.select_related("committee", "committee__clinic")


def _with_team_ids(project: Project) -> Project:
    project.team_person_ids = set(  # type: ignore[attr-defined]
        project.team.values_list("person_id", flat=True)
    )
    return project


def get_project_for_user(user: Any, project_id: uuid.UUID, perm: str = VIEW) -> Project:
    project = _projects().filter(public_id=project_id).first()
    if project is None:
        raise Http404
    _authorise(user, _with_team_ids(project), perm)
    return project


def get_measure_for_user(user: Any, measure_id: uuid.UUID, perm: str = VIEW) -> Measure:
    measure = (
        Measure.objects.select_related(
            "project", "project__committee", "project__committee__clinic"
        )
        .filter(public_id=measure_id)
        .first()
    )
    if measure is None:
        raise Http404
    _authorise(user, _with_team_ids(measure.project), perm)
    return measure


def get_cycle_for_user(user: Any, cycle_id: uuid.UUID, perm: str = VIEW) -> PdsaCycle:
    cycle = (
        PdsaCycle.objects.select_related("project", "project__committee", "measure")
        .filter(public_id=cycle_id)
        .first()
    )
    if cycle is None:
        raise Http404
    _authorise(user, _with_team_ids(cycle.project), perm)
    return cycle


def get_team_member(project: Project, member_id: int) -> ProjectMember:
    member = project.team.select_related("person").filter(pk=member_id).first()
    if member is None:
        raise Http404
    return member


def _authorise_committee_object(user: Any, committee: Committee, obj: Any, perm: str) -> None:
    authorise(
        user,
        obj,
        view_perm="organizations.view_committee",
        perm=perm,
        checked=committee,
        clinic_id=committee.clinic_id,
    )


def get_recommendation_for_user(user: Any, rec_id: uuid.UUID, perm: str) -> Recommendation:
    rec = (
        Recommendation.objects.select_related("committee", "committee__clinic")
        .filter(public_id=rec_id)
        .first()
    )
    if rec is None:
        raise Http404
    _authorise_committee_object(user, rec.committee, rec, perm)
    return rec


def get_commitment_for_user(user: Any, commitment_id: uuid.UUID, perm: str) -> Commitment:
    commitment = (
        Commitment.objects.select_related(
            "recommendation", "recommendation__committee", "clinician_owner", "management_owner"
        )
        .filter(public_id=commitment_id)
        .first()
    )
    if commitment is None:
        raise Http404
    _authorise_committee_object(user, commitment.recommendation.committee, commitment, perm)
    return commitment


def committee_projects(committee: Committee) -> QuerySet[Project]:
    return (
        Project.objects.filter(committee=committee)
        .annotate(
            measure_count=Count("measures", distinct=True),
            cycle_count=Count("cycles", distinct=True),
        )
        .order_by("-updated_at")
    )


def chart_profile(committee: Committee) -> str:
    found = (
        CommitteeChartSettings.objects.filter(committee=committee)
        .values_list("profile", flat=True)
        .first()
    )
    return found or RuleProfile.QI


def project_page(project: Project) -> Project:
    """The project with its team, measures and cycles in three queries."""
    return (
        Project.objects.select_related("committee", "committee__clinic")
        .prefetch_related(
            Prefetch("team", queryset=ProjectMember.objects.select_related("person")),
            Prefetch(
                "measures",
                queryset=Measure.objects.order_by("kind", "name").prefetch_related(
                    "points", "phase_breaks", "cycles"
                ),
            ),
            Prefetch(
                "cycles", queryset=PdsaCycle.objects.select_related("measure").order_by("number")
            ),
        )
        .get(pk=project.pk)
    )


def measure_chart(measure: Measure, *, profile: str) -> ChartOutput:
    """The measure's chart: its points, phases after adopted changes, PDSA annotations."""
    # .all() and sorting here, not order_by(): a page with many measures prefetches them.
    points = sorted(measure.points.all(), key=lambda p: p.period)
    periods = [p.period for p in points]
    index_of = {period: i for i, period in enumerate(periods)}
    # A break before the first point or on it starts no new phase.
    starts = {
        _first_index_on_or_after(periods, brk.starts_on) for brk in measure.phase_breaks.all()
    }
    phase_starts = sorted(index for index in starts if index)
    annotations = [
        (
            cycle.started_on,
            f"PDSA {cycle.number}: {cycle.change_idea}"
            + (f" ({cycle.get_act_display().lower()})" if cycle.act else ""),
        )
        for cycle in sorted(measure.cycles.all(), key=lambda c: c.number)
    ]
    monthly = len(periods) > 1 and (periods[1] - periods[0]).days > 20
    return build_chart(
        ChartInput(
            title=measure.name,
            periods=periods,
            values=[p.value for p in points],
            denominators=[p.denominator for p in points] if measure.needs_denominator else None,
            chart=measure.chart,
            profile=profile,
            direction=measure.direction,
            target=measure.target,
            multiply=measure.multiply,
            baseline_points=measure.baseline_points,
            phase_starts=phase_starts,
            excluded=[index_of[p.period] for p in points if p.excluded],
            unit=measure.unit,
            annotations=annotations,
            period_label="month" if monthly else "week",
        )
    )


def _first_index_on_or_after(periods: list[Any], day: Any) -> int | None:
    for index, period in enumerate(periods):
        if period >= day:
            return index
    return None


@dataclass(frozen=True)
class LedgerRow:
    recommendation: Recommendation
    commitments: list[Commitment]

    @property
    def progress(self) -> int:
        if not self.commitments:
            return 0
        return round(sum(c.effective_progress for c in self.commitments) / len(self.commitments))


@dataclass(frozen=True)
class Ledger:
    rows: list[LedgerRow]

    @property
    def progress(self) -> int:
        """Mean of the recommendations' progress: each recommendation weighs the same."""
        if not self.rows:
            return 0
        return round(sum(row.progress for row in self.rows) / len(self.rows))

    @property
    def counts(self) -> dict[str, int]:
        tally = {status.value: 0 for status in Commitment.Status}
        for row in self.rows:
            for commitment in row.commitments:
                tally[commitment.status] += 1
        return tally


def committee_ledger(committee: Committee) -> Ledger:
    recommendations = (
        Recommendation.objects.filter(committee=committee)
        .select_related("project")
        .prefetch_related(
            Prefetch(
                "commitments",
                queryset=Commitment.objects.select_related("clinician_owner", "management_owner"),
            )
        )
    )
    return Ledger([LedgerRow(rec, list(rec.commitments.all())) for rec in recommendations])


@dataclass(frozen=True)
class RegionLedgerRow:
    committee: Committee
    ledger: Ledger
    can_open: bool = False


def region_ledger(region_ids: frozenset[int]) -> list[RegionLedgerRow]:
    """Every committee's ledger in the region, in two queries whatever the size."""
    committees = list(Committee.objects.filter(region_id__in=region_ids).select_related("clinic"))
    recommendations = (
        Recommendation.objects.filter(committee__in=committees)
        .prefetch_related("commitments")
        .order_by("-made_on")
    )
    by_committee: dict[int, list[LedgerRow]] = {c.pk: [] for c in committees}
    for rec in recommendations:
        by_committee[rec.committee_id].append(LedgerRow(rec, list(rec.commitments.all())))
    return [
        RegionLedgerRow(committee, Ledger(by_committee[committee.pk]))
        for committee in committees
        if by_committee[committee.pk]
    ]


def project_links(project: Project) -> dict[str, Any]:
    """The project's concerns, decisions and ideas, and those of its committee it could
    link."""
    from commonground.concerns.models import Concern
    from commonground.deliberation.models import Idea
    from commonground.meetings.models import Decision

    committee = project.committee
    linked_concerns = list(project.concerns.order_by("-raised_on", "id"))
    linked_decisions = list(project.decisions.order_by("-decided_on", "id"))
    # Concerns the committee has answered are the ones projects follow through; recent first,
    # capped so the choice stays readable on a committee with years of history.
    linkable_concerns = list(
        Concern.objects.filter(Q(committee=committee) | Q(escalated_to=committee))
        .exclude(pk__in=[c.pk for c in linked_concerns])
        .exclude(status="closed")
        .order_by("-raised_on", "id")[:LINKABLE_LIMIT]
    )
    linkable_decisions = list(
        Decision.objects.filter(committee=committee)
        .exclude(pk__in=[d.pk for d in linked_decisions])
        .order_by("-decided_on", "id")[:LINKABLE_LIMIT]
    )
    linked_ideas = list(project.ideas.order_by("title", "public_id"))
    # Ideas still on the board (merged duplicates live on in the idea they were merged into).
    linkable_ideas = list(
        Idea.objects.filter(committee=committee)
        .exclude(stage=Idea.Stage.MERGED)
        .exclude(pk__in=[i.pk for i in linked_ideas])
        .order_by("-created_at", "public_id")[:LINKABLE_LIMIT]
    )
    return {
        "concerns": linked_concerns,
        "decisions": linked_decisions,
        "ideas": linked_ideas,
        "linkable_concerns": linkable_concerns,
        "linkable_decisions": linkable_decisions,
        "linkable_ideas": linkable_ideas,
    }


LINKABLE_LIMIT = 100


def idea_for_project(committee: Any, idea_id: str) -> Any:
    """The idea of ``committee``'s board a new project starts from (``?idea=<uuid>``), or
    None: a malformed id, another committee's idea or a merged duplicate find nothing."""
    from commonground.deliberation.models import Idea

    try:
        public_id = uuid.UUID(idea_id)
    except (TypeError, ValueError):
        return None
    return (
        Idea.objects.filter(public_id=public_id, committee=committee)
        .exclude(stage=Idea.Stage.MERGED)
        .first()
    )


def get_signal_for_user(
    user: Any, signal_id: uuid.UUID, perm: str = "improvement.view_signal"
) -> AccessSignal:
    signal = (
        AccessSignal.objects.select_related("committee", "committee__clinic", "concern")
        .filter(public_id=signal_id)
        .first()
    )
    if signal is None:
        raise Http404
    authorise(
        user,
        signal,
        view_perm="improvement.view_signal",
        perm=perm,
        clinic_id=signal.committee.clinic_id,
    )
    return signal


def committee_signals(committee: Committee) -> list[AccessSignal]:
    """Open signals first, then the latest decided ones."""
    signals = AccessSignal.objects.filter(committee=committee).select_related("concern")
    return sorted(signals[:50], key=lambda s: (s.state != AccessSignal.State.OPEN, -s.pk))


def signal_chart(signal: AccessSignal) -> ChartOutput:
    from commonground.improvement.models import ACCESS_METRICS

    periods = [dt.date.fromisoformat(period) for period, _ in signal.series]
    return build_chart(
        ChartInput(
            title=dict(ACCESS_METRICS)[signal.metric],
            periods=periods,
            values=[value for _, value in signal.series],
            chart="i",
            profile="mdc",
            direction="increase",
            target=70.0,
            unit="%",
        )
    )
