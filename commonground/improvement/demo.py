"""Improvement projects for the demo region: a dozen projects across clinics, with measures,
PDSA cycles (some adopted with a sustained shift, some abandoned), a few clinics whose
follow-up waits turn special-cause worse, and each committee's accountability ledger."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db import transaction

from commonground.improvement.models import (
    Commitment,
    Measure,
    MeasurePoint,
    PdsaCycle,
    PhaseBreak,
    Project,
    ProjectMember,
    Recommendation,
)
from commonground.organizations.models import Committee, Membership, Role, Side

SEED = 2027
WEEKS = 52
FIRST_WEEK = dt.date(2025, 11, 24)  # a Monday; 52 weeks end in November 2026

# (clinic slug, title, change idea, outcome: "adopted" | "abandoned" | "worsening")
PROJECTS = [
    (
        "oakland",
        "Return visits within 10 business days",
        "Book the next visit before the patient leaves",
        "adopted",
    ),
    ("richmond", "Shorter waits for a first appointment", "Same-week intake huddle", "adopted"),
    ("san-francisco", "Fewer no-shows at intake", "Text reminder two days before", "adopted"),
    (
        "fremont",
        "Group therapy only when clinically right",
        "Shared decision aid for group vs individual",
        "abandoned",
    ),
    (
        "hayward",
        "Interpreter booked for every visit that needs one",
        "Interpreter flag at scheduling",
        "adopted",
    ),
    (
        "san-jose",
        "Documentation time under 30 minutes a day",
        "Note templates for follow-up visits",
        "abandoned",
    ),
    (
        "sacramento",
        "Return visits within 10 business days",
        "Protected return slots per clinician",
        "worsening",
    ),
    (
        "stockton",
        "Return visits within 10 business days",
        "Waitlist call-backs every Friday",
        "worsening",
    ),
    ("santa-rosa", "Intake backlog under two weeks", "Extra intake block on Wednesdays", "adopted"),
    (
        "walnut-creek",
        "Caseloads within the agreed range",
        "Weekly caseload review by both co-chairs",
        "adopted",
    ),
    (
        "modesto",
        "Safety plan at every high-risk visit",
        "Safety-plan prompt in the visit note",
        "adopted",
    ),
    (
        "vallejo",
        "Return visits within 10 business days",
        "Move group slots to individual follow-ups",
        "abandoned",
    ),
]


def _series(rng: random.Random, outcome: str, change_week: int) -> list[float | None]:
    """Weekly median business days to the next return visit."""
    values: list[float | None] = []
    for week in range(WEEKS):
        base = 16.0
        if outcome == "adopted" and week >= change_week:
            base = 10.5
        if outcome == "worsening" and week >= WEEKS - 10:
            base = 16.0 + 0.6 * (week - (WEEKS - 10)) + 3
        value = max(1.0, rng.gauss(base, 1.6))
        values.append(None if rng.random() < 0.02 else round(value, 1))
    return values


def _team(committee: Committee) -> tuple[Any, Any]:
    seats = list(
        Membership.objects.filter(committee=committee, end_date__isnull=True)
        .exclude(role=Role.UNION_REP)
        .select_related("person")
        .order_by("role", "person__username")
    )
    clinician = next(s.person for s in seats if s.side == Side.CLINICIAN)
    manager = next(s.person for s in seats if s.side == Side.MANAGEMENT)
    return clinician, manager


@transaction.atomic
def load_improvement_demo() -> dict[str, int]:
    if Project.objects.exists():
        return {"projects": 0}
    rng = random.Random(SEED)
    committees = {
        c.clinic.slug: c
        for c in Committee.objects.filter(kind="clinic_ppc").select_related("clinic")
        if c.clinic is not None
    }
    points: list[MeasurePoint] = []
    for slug, title, change, outcome in PROJECTS:
        committee = committees[slug]
        clinician, manager = _team(committee)
        change_week = rng.randint(20, 30)
        change_day = FIRST_WEEK + dt.timedelta(weeks=change_week)
        status = {
            "adopted": Project.Status.SUSTAINING,
            "abandoned": Project.Status.TESTING,
            "worsening": Project.Status.TESTING,
        }[outcome]
        project = Project.objects.create(
            committee=committee,
            title=title,
            aim_what=f"{title} at {committee.clinic.name if committee.clinic else committee.name}",
            aim_how_much="from about 16 to 10 business days" if "visits" in title else "by half",
            aim_by_when=dt.date(2027, 6, 30),
            status=status,
        )
        ProjectMember.objects.bulk_create(
            [
                ProjectMember(project=project, person=clinician, side=Side.CLINICIAN, is_lead=True),
                ProjectMember(project=project, person=manager, side=Side.MANAGEMENT, is_lead=True),
            ]
        )
        outcome_measure = Measure.objects.create(
            project=project,
            name="Median business days to the next return visit",
            kind=Measure.Kind.OUTCOME,
            operational_definition=(
                "Each week, the median number of business days from an attended therapy "
                "visit to the next offered return visit, from the scheduling extract."
            ),
            unit="business days",
            chart=Measure.Chart.I,
            direction=Measure.Direction.DECREASE,
            target=10,
            baseline_points=change_week if outcome != "adopted" else None,
        )
        process = Measure.objects.create(
            project=project,
            name="Visits ending with the next visit booked",
            kind=Measure.Kind.PROCESS,
            operational_definition=(
                "Attended visits whose next visit was booked before the patient left."
            ),
            unit="%",
            chart=Measure.Chart.P,
            direction=Measure.Direction.INCREASE,
            multiply=100,
        )
        if title.startswith("Return visits"):
            # Fed from the clinic's access figures after each import (and by the demo's own).
            Measure.objects.create(
                project=project,
                name="Follow-up within 10 business days (SB 221)",
                kind=Measure.Kind.OUTCOME,
                operational_definition=(
                    "Each month, the share of attended therapy visits whose next visit was "
                    "offered within 10 business days, from the clinic's access figures."
                ),
                unit="%",
                chart=Measure.Chart.I,
                direction=Measure.Direction.INCREASE,
                target=70,
                live_metric="follow_up_sb221",
            )
        for week, value in enumerate(_series(rng, outcome, change_week)):
            period = FIRST_WEEK + dt.timedelta(weeks=week)
            points.append(MeasurePoint(measure=outcome_measure, period=period, value=value))
            visits = rng.randint(120, 220)
            rate = 0.35 if (outcome != "adopted" or week < change_week) else 0.7
            points.append(
                MeasurePoint(
                    measure=process,
                    period=period,
                    value=float(sum(rng.random() < rate for _ in range(visits))),
                    denominator=float(visits),
                )
            )
        first = PdsaCycle.objects.create(
            project=project,
            number=1,
            change_idea=change,
            plan="Two clinicians try it for four weeks; the scheduler counts the result weekly.",
            prediction="Half of the visits end with the next visit booked.",
            started_on=change_day - dt.timedelta(weeks=4),
            do_notes="Ran as planned, with one week lost to a staff shortage.",
            study="Bookings at the visit rose; waits for a return visit began to fall.",
            act=PdsaCycle.Act.ADAPT,
            act_reason="Worked; extend to the whole team with a shared script.",
            ended_on=change_day - dt.timedelta(days=3),
            measure=outcome_measure,
        )
        if outcome == "adopted":
            second = PdsaCycle.objects.create(
                project=project,
                number=2,
                change_idea=f"{change} (whole team)",
                plan="Everyone, with the script from cycle 1.",
                prediction="Median wait for a return visit under 11 business days.",
                started_on=first.ended_on or change_day,
                do_notes="All clinicians took part.",
                study="The median fell to about 10.5 days and held for eight weeks.",
                act=PdsaCycle.Act.ADOPT,
                act_reason="Sustained improvement: make it standard work.",
                ended_on=change_day,
                measure=outcome_measure,
            )
            PhaseBreak.objects.create(
                measure=outcome_measure,
                starts_on=change_day,
                reason=f"PDSA 2 adopted: {second.change_idea}"[:200],
                cycle=second,
            )
        elif outcome == "abandoned":
            PdsaCycle.objects.create(
                project=project,
                number=2,
                change_idea=f"{change} (second try)",
                plan="Repeat with the front desk leading.",
                prediction="A clear fall in waits within six weeks.",
                started_on=change_day,
                do_notes="Hard to keep up during the summer vacancies.",
                study="No change beyond normal variation.",
                act=PdsaCycle.Act.ABANDON,
                act_reason="No effect: the bottleneck is clinician capacity, not booking.",
                ended_on=change_day + dt.timedelta(weeks=6),
                measure=outcome_measure,
            )
        rec = Recommendation.objects.create(
            committee=committee,
            title=f"Fund the change behind '{title}'",
            description="Recommended jointly by both co-chairs after the first test of change.",
            made_on=change_day,
            project=project,
        )
        delivered = outcome == "adopted"
        Commitment.objects.bulk_create(
            [
                Commitment(
                    recommendation=rec,
                    what="Scheduler time for booking at the visit",
                    management_owner=manager,
                    resources="0.2 FTE scheduler",
                    fte=Decimal("0.2"),
                    due_on=change_day + dt.timedelta(weeks=8),
                    status=Commitment.Status.DELIVERED
                    if delivered
                    else Commitment.Status.COMMITTED,
                    progress=100 if delivered else 40,
                    delivered_on=change_day + dt.timedelta(weeks=7) if delivered else None,
                    evidence="Roster shows the scheduler hours." if delivered else "",
                ),
                Commitment(
                    recommendation=rec,
                    what="Train every clinician in the booking script",
                    clinician_owner=clinician,
                    management_owner=manager,
                    resources="1 hour per clinician",
                    due_on=change_day + dt.timedelta(weeks=12),
                    status=(
                        Commitment.Status.DELIVERED
                        if delivered
                        else Commitment.Status.NOT_DELIVERED
                        if outcome == "abandoned"
                        else Commitment.Status.PROPOSED
                    ),
                    progress=100 if delivered else 10,
                    delivered_on=change_day + dt.timedelta(weeks=10) if delivered else None,
                ),
            ]
        )
    MeasurePoint.objects.bulk_create(points)
    return {"projects": len(PROJECTS), "points": len(points)}
