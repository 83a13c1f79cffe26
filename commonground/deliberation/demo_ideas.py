"""Ideas boards for the demo region: at Oakland and three other clinics, about fifteen ideas
each with dots, pairwise answers, a duplicate merged into its original, shortlisted ideas,
one becoming a project (linked to the clinic's demo improvement project when there is one),
one adopted and two declined with their reasons, and two ideas posted without a name.

Bulk-loaded demo data, not a replay of service calls: one audit event per board records the
load. People are those seated on each committee today; every choice comes from a fixed seed
(answers follow a hidden "true" appeal of each idea, so the ranking has a clear top and a
muddled middle), so every load gives the same boards. Rows obey what the services enforce:
no one has more dots than the board allows, the merged duplicate keeps no dots or answers,
and each person answers a pair once.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from django.db import transaction
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.concerns.models import Concern
from commonground.deliberation.models import (
    IDEA_DOTS_DEFAULT,
    Idea,
    IdeaBoard,
    IdeaComparison,
    IdeaDot,
)
from commonground.organizations.models import Committee, Membership, Role

SEED = 6161
CLINIC_SLUGS = ("oakland", "richmond", "san-francisco", "vallejo")
IDEAS_PER_BOARD = 15

# (title, description, appeal on the logit scale)
IDEA_POOL: list[tuple[str, str, float]] = [
    (
        "Protect two return-visit slots per clinician each day",
        "Hold two slots a day for follow-ups until noon the day before; release them to "
        "intake after that.",
        1.6,
    ),
    (
        "Book the next visit before the patient leaves",
        "End each session by booking the next one together, with a printed card.",
        1.4,
    ),
    (
        "Same-week intake huddle every Monday",
        "Ten minutes at 8:50 to match new patients to clinicians who have room this week.",
        1.1,
    ),
    (
        "Flag the need for an interpreter at scheduling",
        "A required field at booking, so the interpreter is arranged before the visit.",
        1.0,
    ),
    (
        "Text reminders two days before intake",
        "Automated texts in the patient's language, with a link to reschedule.",
        0.8,
    ),
    (
        "A float clinician shared by three teams",
        "One clinician who covers sick leave and vacancies so waits do not jump.",
        0.6,
    ),
    (
        "Group intake sessions for common first questions",
        "A weekly welcome group for new patients, run by two clinicians.",
        0.2,
    ),
    (
        "Note templates for follow-up visits",
        "Short structured templates that cut documentation time for routine follow-ups.",
        0.4,
    ),
    (
        "Protected documentation hour on Fridays",
        "No patients booked from 4 to 5 on Fridays: notes get finished the same week.",
        0.3,
    ),
    (
        "Caseload dashboard shared by both sides",
        "Each team sees its open caseload and waits, updated weekly, at every PPC meeting.",
        0.5,
    ),
    (
        "Warm handoff from primary care",
        "A named clinician answers the primary-care doctor's call the same day.",
        0.7,
    ),
    (
        "Evening clinic one day a week",
        "One late day for patients who cannot leave work.",
        -0.2,
    ),
    (
        "Peer consultation circle for new clinicians",
        "A fortnightly circle for the first year on the job.",
        -0.1,
    ),
    (
        "Shorter intake paperwork",
        "Cut the intake packet to what the first visit needs.",
        0.1,
    ),
    (
        "Walk-in hour for urgent follow-ups",
        "An hour each afternoon for patients who cannot wait for the next slot.",
        -0.4,
    ),
    (
        "Move the team meeting to late afternoon",
        "Keep the mornings free for patients.",
        -0.8,
    ),
]
DUPLICATE = (
    "Keep two slots a day free for return visits",
    "Same as protecting return slots, but posted the week after.",
)
REASONS = {
    Idea.Stage.ADOPTED: (
        "Piloted for eight weeks on two teams: the waits it aimed at fell on both, the run "
        "chart shows it, and both sides agreed to keep it."
    ),
}
DECLINED = {
    "Evening clinic one day a week": (
        "The building closes at 6 pm and the lease does not allow evening hours; we will "
        "revisit when the lease is renewed in 2028."
    ),
    "Move the team meeting to late afternoon": (
        "The team meeting time is set by the regional schedule; the regional committee has "
        "the request instead."
    ),
}


_COMMON = {"day", "days", "before", "within", "each", "with", "every", "week", "from", "business"}


def _words(text: str) -> set[str]:
    """Content words, crudely stemmed: enough to tell which idea a project title speaks of."""
    words = (w.strip(".,:;()").lower() for w in text.replace("-", " ").split())
    return {w.rstrip("s") for w in words if len(w) > 3 and w not in _COMMON}


def _seats(committee: Committee, day: dt.date) -> list[Membership]:
    return list(
        Membership.objects.active_on(day).filter(committee=committee).order_by("side", "person_id")
    )


def _board(
    committee: Committee,
    rng: random.Random,
    day: dt.date,
    now: dt.datetime,
    project: Any,
) -> dict[str, int]:
    seats = _seats(committee, day)
    authors = [s for s in seats if s.role != Role.UNION_REP] or seats
    if len(seats) < 2:
        return {}
    pool = list(IDEA_POOL)
    anchor = pool.pop(0)  # on every board: the original of the merged duplicate
    rng.shuffle(pool)
    chosen = sorted([anchor, *pool[: IDEAS_PER_BOARD - 1]], key=lambda spec: -spec[2])
    # The idea becoming a project: of the five strongest, the one that reads most like the
    # clinic's demo project when it has one (else the second strongest). The strongest of
    # the others was adopted, the next three are shortlisted.
    becoming = 1
    if project is not None:
        changes = list(project.cycles.values_list("change_idea", flat=True))
        words = _words(" ".join([project.title, project.aim_what, *changes]))
        becoming = max(range(5), key=lambda i: (len(_words(chosen[i][0]) & words), -i))
    others = [i for i in range(5) if i != becoming]
    stages: dict[int, tuple[str, str]] = {
        becoming: (Idea.Stage.PROJECT, ""),
        others[0]: (Idea.Stage.ADOPTED, REASONS[Idea.Stage.ADOPTED]),
        others[1]: (Idea.Stage.SHORTLISTED, "Shortlisted at the last meeting."),
        others[2]: (Idea.Stage.SHORTLISTED, "Shortlisted at the last meeting."),
        others[3]: (Idea.Stage.SHORTLISTED, ""),
    }
    for i, spec in enumerate(chosen):
        if spec[0] in DECLINED:
            stages[i] = (Idea.Stage.DECLINED, DECLINED[spec[0]])
    concerns = list(Concern.objects.filter(committee=committee).order_by("-raised_on", "id")[:12])
    ideas: list[Idea] = []
    appeal: dict[int, float] = {}
    for position, (title, description, _) in enumerate(chosen):
        anonymous = position in (6, 11)
        days_ago = rng.randint(5, 90)
        created = now - dt.timedelta(days=days_ago, hours=rng.randint(0, 8))
        if anonymous:
            created = timezone.make_aware(
                dt.datetime.combine(timezone.localdate(created), dt.time.min),
                timezone.get_current_timezone(),
            )
        ideas.append(
            Idea(
                committee=committee,
                title=title,
                description=description,
                author_id=None if anonymous else rng.choice(authors).person_id,
                created_at=created,
            )
        )
    for i, idea in enumerate(ideas):
        if i in stages:
            idea.stage, idea.stage_reason = stages[i]
            idea.stage_changed_at = now - dt.timedelta(days=rng.randint(1, 4))
    Idea.objects.bulk_create(ideas)
    for idea, spec in zip(ideas, chosen, strict=True):
        appeal[idea.pk] = spec[2]
    # The duplicate, merged into its original (its dots and answers already moved).
    original = ideas[chosen.index(anchor)]
    duplicate = Idea(
        committee=committee,
        title=DUPLICATE[0],
        description=DUPLICATE[1],
        author_id=rng.choice(authors).person_id,
        created_at=min(now, original.created_at + dt.timedelta(days=3)),
        stage=Idea.Stage.MERGED,
        merged_into=original,
        stage_changed_at=min(now, original.created_at + dt.timedelta(days=4)),
    )
    duplicate.save()
    links = []
    if concerns:
        through = Idea.concerns.through
        for i, idea in enumerate(ideas):
            if i % 3 != 2:
                links.append(through(idea_id=idea.pk, concern_id=concerns[i % len(concerns)].pk))
        links.append(through(idea_id=duplicate.pk, concern_id=concerns[0].pk))
        through.objects.bulk_create(links)
    board = IdeaBoard.objects.create(
        committee=committee, dots_per_person=IDEA_DOTS_DEFAULT, created_at=ideas[-1].created_at
    )
    open_ids = [i.pk for i in ideas if i.is_open or i.stage == Idea.Stage.ADOPTED]
    dots: list[IdeaDot] = []
    answers: list[IdeaComparison] = []
    for seat in seats:
        if rng.random() < 0.15:
            continue  # not everyone takes part
        # Dots: spend most of the allowance, drawn by appeal (several on one idea happen).
        weights = [math.exp(appeal[pk]) for pk in open_ids]
        mine: dict[int, int] = {}
        for _ in range(rng.randint(2, IDEA_DOTS_DEFAULT)):
            pk = rng.choices(open_ids, weights=weights)[0]
            mine[pk] = mine.get(pk, 0) + 1
        when = now - dt.timedelta(days=rng.randint(0, 20), minutes=rng.randint(0, 600))
        dots += [
            IdeaDot(idea_id=pk, person_id=seat.person_id, side=seat.side, count=n, updated_at=when)
            for pk, n in mine.items()
        ]
        # Pairwise: 8 to 20 pairs each, answered by the Bradley-Terry model itself.
        candidates = [i.pk for i in ideas if i.is_open]
        seen: set[tuple[int, int]] = set()
        for _ in range(rng.randint(8, 20)):
            a, b = sorted(rng.sample(candidates, 2))
            if (a, b) in seen:
                continue
            seen.add((a, b))
            p_first = 1.0 / (1.0 + math.exp(appeal[b] - appeal[a]))
            result = 0 if rng.random() < 0.08 else (1 if rng.random() < p_first else -1)
            answers.append(
                IdeaComparison(
                    board=board,
                    person_id=seat.person_id,
                    side=seat.side,
                    idea_a_id=a,
                    idea_b_id=b,
                    result=result,
                    created_at=when + dt.timedelta(minutes=len(seen)),
                )
            )
    IdeaDot.objects.bulk_create(dots, batch_size=500)
    IdeaComparison.objects.bulk_create(answers, batch_size=500)
    if project is not None:
        project.ideas.add(ideas[becoming])
    audit_record(
        action=AuditEvent.Action.CREATE,
        object_type="deliberation.ideaboard",
        object_id=str(board.pk),
        object_repr="demo ideas board",
        clinic_id=committee.clinic_id,
        changes={
            "demo_seed": SEED,
            "ideas": len(ideas) + 1,
            "dots": sum(d.count for d in dots),
            "answers": len(answers),
        },
    )
    return {"ideas": len(ideas) + 1, "idea_dots": len(dots), "idea_answers": len(answers)}


@transaction.atomic
def load_demo_ideas(today: dt.date | None = None) -> dict[str, int]:
    """Load the boards once; a second call (or a region without these clinics) adds
    nothing."""
    committees = list(
        Committee.objects.filter(
            kind=Committee.Kind.CLINIC_PPC, clinic__slug__in=CLINIC_SLUGS
        ).select_related("clinic")
    )
    if not committees or Idea.objects.filter(committee__in=committees).exists():
        return {"idea_boards": 0}
    day = today or timezone.localdate()
    now = timezone.now() if today is None else dt.datetime.combine(day, dt.time(12), dt.UTC)
    order = {slug: n for n, slug in enumerate(CLINIC_SLUGS)}
    committees.sort(key=lambda c: order[c.clinic.slug if c.clinic else ""])
    from commonground.improvement.models import Project

    projects = {p.committee_id: p for p in Project.objects.filter(committee__in=committees)}
    rng = random.Random(SEED)  # noqa: S311 - a seeded demo: determinism, not security
    totals = {"idea_boards": 0, "ideas": 0, "idea_dots": 0, "idea_answers": 0}
    for committee in committees:
        loaded = _board(committee, rng, day, now, projects.get(committee.pk))
        if loaded:
            totals["idea_boards"] += 1
            for key, value in loaded.items():
                totals[key] += value
    return totals


__all__ = ["load_demo_ideas"]
