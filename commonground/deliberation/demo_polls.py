"""Decision polls for the demo region: at the Oakland PPC, four closed polls with their
outcomes in the decisions log (a proposal, an anonymous gradients-of-agreement round, a
ranked choice and a meeting-time poll) and one open dot vote.

Bulk-loaded demo data, not a replay of service calls: one audit event records the load. The
voters are the people seated on the committee today; their answers come from a fixed seed,
so every load gives the same polls.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import dateformat, timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.deliberation import polls
from commonground.deliberation.models import Poll, PollOption, PollVote
from commonground.meetings.models import Decision
from commonground.organizations.models import Committee, Membership, Role, Side

SEED = 4242
COMMITTEE_SLUG = "ppc-oakland"


@dataclass
class DemoPoll:
    kind: str
    title: str
    details: str
    days_ago: int  # closed this many days ago; negative: open, closing in that many days
    options: list[str] = field(default_factory=list)
    # Answer weights for fixed-answer kinds, by side.
    weights: dict[str, dict[str, int]] = field(default_factory=dict)
    anonymous: bool = False
    hide_results: bool = False
    quorum: tuple[int, int] = (0, 0)
    outcome: str = ""  # "{best}": the leading option's label
    review_days: int | None = None


DEMO_POLLS = [
    DemoPoll(
        kind=polls.PROPOSAL,
        title="Hold a same-week intake huddle every Monday",
        details="Ten minutes at 8:50, before the first appointments: who has room this week.",
        days_ago=60,
        weights={
            "clinician": {"agree": 7, "abstain": 1, "disagree": 1},
            "management": {"agree": 6, "abstain": 2},
        },
        quorum=(3, 2),
        outcome=(
            "We hold a ten-minute intake huddle every Monday at 8:50, starting next month. "
            "The concern about Monday double-bookings is taken up at the next meeting."
        ),
        review_days=120,
    ),
    DemoPoll(
        kind=polls.GRADIENTS,
        title="Adopt the shared return-visit note template",
        details="The draft template is in the last meeting's minutes.",
        days_ago=30,
        weights={
            "clinician": {"1": 2, "2": 3, "3": 3, "5": 1, "6": 1},
            "management": {"1": 3, "2": 2, "3": 1},
        },
        anonymous=True,
        outcome=(
            "We adopt the template for three months, then review it with the clinicians "
            "who use it most."
        ),
        review_days=90,
    ),
    DemoPoll(
        kind=polls.RANKED,
        title="Which access fix should we pilot first?",
        details="Rank as many as you like. Instant runoff.",
        days_ago=14,
        options=[
            "Protected return-visit slots",
            "Interpreter flag at booking",
            "Float clinician pool",
            "Group intake sessions",
        ],
        outcome="We pilot “{best}” first and report back in three months.",
    ),
    DemoPoll(
        kind=polls.MEETING,
        title="When should the caseload workshop be?",
        details="Ninety minutes, in person, room 2.",
        days_ago=45,
        options=["Tue 12:00", "Wed 16:00", "Thu 08:30"],
        outcome="The workshop is on {best}.",
    ),
    DemoPoll(
        kind=polls.DOT,
        title="Priorities for next quarter",
        details="Spread your 8 dots over what the committee should work on next.",
        days_ago=-5,
        options=[
            "Caseload limits",
            "Return-visit access",
            "Interpreter services",
            "New-clinician ramp-up",
            "Documentation time",
        ],
    ),
]


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    keys = sorted(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _ballot(rng: random.Random, spec: DemoPoll, side: str) -> tuple[str, Any, str]:
    """(choice, stored ballot, reason) of one demo voter."""
    if spec.kind in polls.CHOICES:
        table = spec.weights.get(side) or spec.weights.get("clinician") or {}
        choice = _weighted(rng, table)
        reason = ""
        if choice in polls.REASON_REQUIRED[spec.kind]:
            reason = "Mondays already run late; I would rather try Tuesdays."
        return choice, {}, reason
    n = len(spec.options)
    if spec.kind == polls.RANKED:
        # Sides lean differently, so the runoff takes a few rounds.
        order = list(range(n))
        rng.shuffle(order)
        if side == "clinician" and rng.random() < 0.4:
            order.remove(0)
            order.insert(0, 0)
        return "", order[: rng.randint(1, n)], ""
    if spec.kind == polls.MEETING:
        return "", {str(i): rng.choice([2, 2, 1, 0]) if i != 1 else 2 for i in range(n)}, ""
    # Dot vote: 8 dots.
    dots = [0] * n
    for _ in range(8):
        dots[min(int(rng.triangular(0, n, 1)), n - 1)] += 1
    return "", {str(i): d for i, d in enumerate(dots) if d}, ""


@transaction.atomic
def load_demo_polls(today: dt.date | None = None) -> dict[str, int]:
    committee = Committee.objects.filter(slug=COMMITTEE_SLUG).first()
    if committee is None or Poll.objects.filter(committee=committee).exists():
        return {"polls": 0}
    day = today or timezone.localdate()
    now = timezone.now() if today is None else dt.datetime.combine(day, dt.time(12), dt.UTC)
    seats = list(
        Membership.objects.active_on(day).filter(committee=committee).order_by("side", "person_id")
    )
    chair = next(
        (s.person_id for s in seats if s.role == Role.CO_CHAIR and s.side == Side.CLINICIAN), None
    )
    if chair is None or not seats:
        return {"polls": 0}
    rng = random.Random(SEED)  # noqa: S311 - a seeded demo: determinism, not security
    created: list[Poll] = []
    for spec in DEMO_POLLS:
        if spec.days_ago >= 0:
            closing = now - dt.timedelta(days=spec.days_ago)
            opened = closing - dt.timedelta(days=7)
        else:
            closing = now + dt.timedelta(days=-spec.days_ago)
            opened = now - dt.timedelta(days=2)
        created.append(
            Poll(
                committee=committee,
                kind=spec.kind,
                title=spec.title,
                details=spec.details,
                anonymous=spec.anonymous,
                hide_results=spec.hide_results,
                closing_at=closing,
                quorum_clinicians=spec.quorum[0],
                quorum_management=spec.quorum[1],
                created_by_id=chair,
                created_at=opened,
                state=Poll.State.CLOSED if spec.days_ago >= 0 else Poll.State.OPEN,
                closed_at=closing if spec.days_ago >= 0 else None,
            )
        )
    Poll.objects.bulk_create(created)
    options: list[PollOption] = []
    for poll, spec in zip(created, DEMO_POLLS, strict=True):
        labels = spec.options
        starts: list[dt.datetime | None] = [None] * len(labels)
        if spec.kind == polls.MEETING:
            base = timezone.localtime(poll.closing_at) + dt.timedelta(days=10)
            starts = [
                base.replace(hour=h, minute=m, second=0, microsecond=0) + dt.timedelta(days=i)
                for i, (h, m) in enumerate(((12, 0), (16, 0), (8, 30)))
            ]
            labels = [dateformat.format(t, "D M j, Y, H:i") for t in starts if t]
        options += [
            PollOption(poll=poll, position=i, label=label, starts_at=start)
            for i, (label, start) in enumerate(zip(labels, starts, strict=True))
        ]
    PollOption.objects.bulk_create(options)
    votes: list[PollVote] = []
    decisions: list[tuple[Poll, Decision]] = []
    for poll, spec in zip(created, DEMO_POLLS, strict=True):
        ballots: list[polls.Ballot] = []
        voters = [s for s in seats if rng.random() < 0.9] if spec.days_ago >= 0 else seats[::2]
        for seat in voters:
            choice, stored, reason = _ballot(rng, spec, seat.side)
            when = poll.created_at + dt.timedelta(hours=rng.randint(1, 140))
            votes.append(
                PollVote(
                    poll=poll,
                    voter_id=seat.person_id,
                    side=seat.side,
                    choice=choice,
                    ballot=stored,
                    reason=reason,
                    created_at=when,
                    updated_at=when,
                )
            )
            if spec.kind == polls.RANKED:
                ballots.append(polls.Ballot(side=seat.side, ranking=tuple(stored)))
            elif spec.kind in polls.OPTION_KINDS:
                ballots.append(
                    polls.Ballot(side=seat.side, values={int(k): v for k, v in stored.items()})
                )
            else:
                ballots.append(polls.Ballot(side=seat.side, choice=choice))
        if spec.days_ago < 0:
            continue
        labels = [o.label for o in options if o.poll is poll]
        result = polls.tally(spec.kind, ballots, labels, score_max=poll.score_max)
        counts = polls.side_counts(ballots)
        q = polls.quorum(counts, poll.quorum_clinicians, poll.quorum_management)
        split = polls.decision_split(spec.kind, ballots) or {}
        if spec.anonymous and not polls.breakdown_visible(counts, 5):
            split = {}
        decided = timezone.localdate(poll.closing_at)
        best = "a date to be set"
        if spec.kind in polls.OPTION_KINDS and result.leader is not None:
            best = labels[int(result.leader)]
        decisions.append(
            (
                poll,
                Decision(
                    committee=committee,
                    # Outcomes that name the chosen option follow the tally.
                    statement=spec.outcome.format(best=best),
                    rationale=" ".join(
                        [
                            f"Outcome of the poll “{poll.title}”.",
                            result.headline,
                            *result.lines,
                            f"Poll: {poll.get_absolute_url()}",
                        ]
                    )
                    + ("" if q.met else " Quorum not met."),
                    decided_on=decided,
                    review_on=(
                        decided + dt.timedelta(days=spec.review_days) if spec.review_days else None
                    ),
                    recorded_by_id=chair,
                    **split,
                ),
            )
        )
    PollVote.objects.bulk_create(votes, batch_size=500)
    Decision.objects.bulk_create([d for _, d in decisions])
    for poll, decision in decisions:
        poll.decision = decision
    Poll.objects.bulk_update([p for p, _ in decisions], ["decision"])
    # One event for the whole load, naming no one: these rows are demo data.
    audit_record(
        action=AuditEvent.Action.CREATE,
        object_type="deliberation.poll",
        object_repr="demo decision polls",
        clinic_id=committee.clinic_id,
        changes={"demo_seed": SEED, "polls": len(created), "votes": len(votes)},
    )
    return {"polls": len(created), "poll_votes": len(votes), "poll_decisions": len(decisions)}
