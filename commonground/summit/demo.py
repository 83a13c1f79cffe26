"""The demo summit: today's annual summit of the demo region, with its program, about 200
registrations, a finished common-ground conversation of about 250 people and 120
statements (its snapshot computed here, synchronously), a live conversation, and live Q&A.

Deterministic (a fixed seed, the same people every time) and bulk-loaded so that it adds
about a second to ``commonground seed_demo``.

Predictable logins for browser tests and demos: twenty registered summit members are renamed
``summit-01`` … ``summit-20`` (password as every demo login). ``summit-01`` … ``summit-10``
sit on the summit for the clinician side, ``summit-11`` … ``summit-20`` for management. None
of them has voted in the live conversation yet.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.deliberation.models import Conversation, Participant, Statement, Vote
from commonground.deliberation.services import conversation_recompute
from commonground.organizations.models import Committee, Membership, Role, Side
from commonground.summit.models import (
    Question,
    QuestionVote,
    Registration,
    Room,
    Session,
    Summit,
)

SEED = 4242
SUMMIT_SLUG = "summit"
PREDICTABLE_LOGINS = 10  # per side
REGISTRATIONS = 200
FINISHED_TOPIC = "What would most improve timely, consistent care across our clinics?"
LIVE_TOPIC = "What should the clinic committees work on together next year?"

# Statements of the finished conversation, by how the three latent opinion groups lean:
# "common" (every group agrees), "clinician" (the clinician-leaning group agrees, the
# management-leaning group disagrees), "management" (the reverse) and "split" (the third,
# mixed group disagrees with both others).
COMMON = [
    "Every new patient should be offered a follow-up appointment before leaving the first visit.",
    "Follow-up visits for non-urgent care should happen within 10 business days, as the law "
    "requires.",
    "Interpreters should be booked at the same time as the appointment, not on the day.",
    "Patients who need an interpreter should never wait longer than other patients.",
    "Wait times for follow-ups should be reported to the committee every month.",
    "Clinicians and managers should look at the same access data at committee meetings.",
    "Safety plans should be reviewed at every visit after a crisis.",
    "Front-desk staff need a clear script for patients who call in crisis.",
    "Every clinic should have a quiet room for patients who are overwhelmed.",
    "Group therapy should be offered as an addition to individual care, not a replacement.",
    "Patients should be told how long they are likely to wait before they are booked.",
    "New clinicians should get a mentor for their first six months.",
    "Documentation templates should be shorter and fit the visit type.",
    "The committee should follow up on every recommendation until it is done or declined.",
    "Cancelled appointments should be offered first to patients waiting longest.",
    "Patients discharged from hospital should be seen within seven days.",
    "Clinicians should be able to flag a patient who is at risk of falling through the cracks.",
    "Staff who are assaulted at work should get paid time to recover.",
    "Each clinic should share what worked with the other clinics once a year.",
    "Telehealth should remain an option for patients who prefer it.",
    "Children and families should have evening appointment slots.",
    "Language access should be measured the same way at every clinic.",
    "The summit's recommendations should be tracked on a public list.",
    "Crisis follow-up calls should happen within one business day.",
    "Patients should be able to see the same therapist for their whole course of care.",
    "Waiting-list patients should get a check-in call at least every two weeks.",
    "Every clinic should have a safety drill at least once a year.",
    "Managers and clinicians should design new scheduling rules together.",
    "Group therapy rooms should be big enough and private enough for the group size.",
    "Interpreters should be trained in mental-health vocabulary.",
]
CLINICIAN = [
    "Caseloads should be capped so that every patient can be seen at least every two weeks.",
    "Clinicians need protected time every week for documentation.",
    "Return-visit slots should be reserved and not used for new intakes.",
    "Productivity targets push clinicians to see patients less often than they need.",
    "Clinicians should decide the frequency of visits, not the scheduling system.",
    "Group therapy should not be used to cut individual therapy waits.",
    "Hiring more therapists matters more than new scheduling software.",
    "Clinicians should not be asked to double-book to meet access targets.",
    "Documentation requirements take too much time away from patients.",
    "Vacant positions should be filled before new programs are started.",
    "Clinicians should have a say in which patients are assigned to them.",
    "Caseload numbers should be visible to every clinician on the team.",
    "Time spent with interpreters should count as double time on the schedule.",
    "Intake appointments should not be added to full schedules without asking.",
    "Unpaid overtime for charting should be tracked and reported.",
    "Burnout is the main reason clinicians leave our clinics.",
    "Clinicians should be able to refuse unsafe caseloads without penalty.",
    "Follow-up waits will not improve until staffing improves.",
    "Every clinician should get one administrative afternoon per week.",
    "Clinicians should not have to document the same thing in two systems.",
    "Group therapy sessions need two facilitators for safety.",
    "Managers underestimate how long complex patients take.",
    "Access targets should measure care quality, not just visit counts.",
    "Clinicians should be consulted before any change to visit length.",
    "Per-diem clinicians should be used to clear backlogs, not to replace hires.",
    "Crisis visits should not be squeezed into regular schedules.",
    "Clinicians should set their own template of new and return slots.",
    "Safety incidents are under-reported because reporting takes too long.",
    "Our clinic does not have enough therapists who speak patients' languages.",
    "Clinicians should receive caseload data before managers discuss it.",
    "Documentation audits should focus on safety, not on billing detail.",
    "Waits for individual therapy are longer than the data shows.",
    "Clinicians are discouraged from booking weekly visits.",
    "The number of new intakes per week should be agreed with the team.",
    "The clinic should hire before it expands telehealth hours.",
]
MANAGEMENT = [
    "Group therapy can shorten waits for many patients without lowering quality.",
    "Scheduling templates should be standard across clinics.",
    "Unused appointment slots should be released to the central schedule after 48 hours.",
    "Clinicians should aim for a minimum number of visits per day.",
    "Productivity data helps us spot clinics that need more staff.",
    "New scheduling software would reduce no-shows.",
    "Telehealth hours should be extended to clear the backlog.",
    "Patients should be routed to the first available clinician, not a specific one.",
    "Documentation must be completed within 24 hours of each visit.",
    "Managers need weekly access reports to plan staffing.",
    "Intake should be centralised across the region.",
    "Short-term group programs should be the first offer for mild symptoms.",
    "No-show patients should be discharged after three missed visits.",
    "Per-diem clinicians are a good way to clear backlogs quickly.",
    "Visit lengths should be standard for each visit type.",
    "Caseload caps would make new-patient waits longer.",
    "Access targets should be part of each clinic's annual goals.",
    "Clinicians should use the same documentation template across the region.",
    "Patients can be seen by any clinician on the team for follow-ups.",
    "Digital self-help tools should be offered while patients wait.",
    "Evening telehealth shifts should be staffed by volunteers first.",
    "Each clinic should meet the same visits-per-clinician benchmark.",
    "Appointment reminders by text message would fix most no-shows.",
    "Hiring is limited by budget, so we must use current staff better.",
    "Group therapy should be offered to every patient at intake.",
    "Scheduling decisions should stay with the clinic manager.",
    "Waiting-list data is accurate enough to set targets.",
    "Managers should approve changes to a clinician's slot template.",
    "Regional benchmarks make clinics compete in a healthy way.",
    "Interpreters by video are as good as in person for most visits.",
]
SPLIT = [
    "The summit should focus on one region-wide project instead of many small ones.",
    "Every clinic should run the same pilot at the same time.",
    "Patient surveys should decide the committee's priorities.",
    "Safety training should be online rather than in person.",
    "Clinics should be allowed to opt out of regional projects.",
    "Access data should be shared with patients on the clinic's website.",
    "Committee meetings should be held after clinic hours.",
    "Union representatives should chair the summit sessions.",
    "Each clinic should hire its own interpreter coordinator.",
    "Group therapy should be run by a central regional team.",
    "Committees should vote instead of seeking consensus.",
    "The summit should be held twice a year.",
    "Peer support workers should run the waiting-list check-ins.",
    "Each clinic should choose its own access measures.",
    "Documentation should be done with patients during the visit.",
    "Safety incidents should be discussed at every committee meeting.",
    "Students and trainees should carry a share of the caseload.",
    "Walk-in hours should replace some booked intake slots.",
    "The region should pay for a single shared crisis line.",
    "Telehealth should be the default for follow-ups.",
    "Clinics should close one afternoon a month for team training.",
    "Group therapy attendance should count toward access targets.",
    "Interpreters should be employees rather than contractors.",
    "The summit should invite patient advocates to speak.",
    "Care coordinators should book all follow-ups.",
]

# The live conversation's statements and their stance (the browser test votes by stance):
# "common" for everyone, "clinician" / "management" for one side.
LIVE_STATEMENTS: list[tuple[str, str]] = [
    ("Each clinic should reserve return-visit slots every week.", "common"),
    ("Caseloads should be capped at a number the team agrees.", "clinician"),
    ("Scheduling templates should be the same in every clinic.", "management"),
    ("Interpreter bookings should be made when the visit is booked.", "common"),
    ("Clinicians need a protected documentation hour each day.", "clinician"),
    ("Group programs should be the first offer for mild symptoms.", "management"),
    ("The committee should review follow-up waits every month.", "common"),
    ("Intake numbers per week should be agreed with the team.", "clinician"),
    ("Unused slots should go back to the central schedule after two days.", "management"),
    ("Patients on the waiting list should get a call every two weeks.", "common"),
    ("Vacant positions should be filled before new programs start.", "clinician"),
    ("Telehealth evening shifts should be extended to clear backlogs.", "management"),
    ("Safety plans should be reviewed at each visit after a crisis.", "common"),
    ("Clinicians should set their own mix of new and return slots.", "clinician"),
    ("Managers need weekly access reports to plan staffing.", "management"),
    ("Every recommendation should be tracked until it is done or declined.", "common"),
    ("Productivity targets should not count visits alone.", "clinician"),
    ("Regional benchmarks help clinics learn from each other.", "management"),
    ("New clinicians should have a mentor for six months.", "common"),
    ("Double-booking to meet targets should stop.", "clinician"),
    ("Text reminders should be sent for every appointment.", "management"),
    ("Hospital discharges should be seen within seven days.", "common"),
    ("Crisis visits should have their own slots.", "clinician"),
    ("Intake should be centralised across the region.", "management"),
    ("Clinics should share what worked at next year's summit.", "common"),
    ("Charting overtime should be tracked and reported.", "clinician"),
    ("Visit lengths should be standard for each visit type.", "management"),
    ("Language access should be measured the same way everywhere.", "common"),
    ("Managers and clinicians should design schedule changes together.", "common"),
    ("Group therapy needs two facilitators for safety.", "clinician"),
]

QUESTIONS = [
    ("How will the summit's recommendations be funded?", False),
    ("Can the access data be broken down by language spoken?", False),
    ("What happens to a recommendation that a clinic cannot afford?", True),
    ("Will clinicians get time to take part in the regional pilots?", True),
    ("How do other clinics protect return-visit slots?", False),
    ("Who decides which pilots run first?", False),
    ("Can we hear from a clinic that cut its follow-up wait?", True),
    ("How will we know if group therapy is working for patients?", False),
]

ROOMS = [
    ("Main hall", 260, "Step-free; hearing loop; live captions on screen"),
    ("Redwood room", 70, "Step-free; hearing loop"),
    ("Bay room", 60, "Step-free"),
    ("Delta room", 50, "Step-free; Spanish interpretation"),
]
# (title, kind, room index, start, end (local time), description)
PROGRAM = [
    (
        "Opening plenary: common ground on access to care",
        Session.Kind.PLENARY,
        0,
        (9, 0),
        (10, 30),
        "What the pre-summit conversation found, and a live conversation for everyone in "
        "the hall: vote on your phone.",
    ),
    (
        "Protecting return visits",
        Session.Kind.BREAKOUT,
        1,
        (11, 0),
        (12, 15),
        "Slot templates that keep follow-ups within 10 business days.",
    ),
    (
        "Caseloads that clinicians and managers can both live with",
        Session.Kind.BREAKOUT,
        2,
        (11, 0),
        (12, 15),
        "",
    ),
    (
        "Interpreters and language access",
        Session.Kind.BREAKOUT,
        3,
        (11, 0),
        (12, 15),
        "Booking interpreters with the visit; measuring language access.",
    ),
    (
        "Group therapy done well",
        Session.Kind.BREAKOUT,
        0,
        (13, 30),
        (14, 45),
        "When groups add to care, and when they replace it.",
    ),
    (
        "Documentation without the overtime",
        Session.Kind.BREAKOUT,
        1,
        (13, 30),
        (14, 45),
        "",
    ),
    (
        "Safety after a crisis",
        Session.Kind.BREAKOUT,
        2,
        (13, 30),
        (14, 45),
        "Safety plans, follow-up calls and staff safety.",
    ),
]

# How each latent group votes on each kind of statement: (P(agree), P(disagree)).
LEANING = {
    "common": ((0.85, 0.05), (0.85, 0.05), (0.8, 0.05)),
    "clinician": ((0.85, 0.08), (0.1, 0.8), (0.45, 0.3)),
    "management": ((0.1, 0.8), (0.85, 0.08), (0.45, 0.3)),
    "split": ((0.7, 0.15), (0.65, 0.2), (0.1, 0.8)),
}


def _latent_group(side: str, rng: random.Random) -> int:
    """Group 0 leans clinician, group 1 management, group 2 is a mixed middle group."""
    if side == Side.CLINICIAN:
        return 0 if rng.random() < 0.65 else 2
    if side == Side.MANAGEMENT:
        return 1 if rng.random() < 0.65 else 2
    return 2


def _vote_value(kind: str, group: int, rng: random.Random) -> int:
    p_agree, p_disagree = LEANING[kind][group]
    draw = rng.random()
    if draw < p_agree:
        return 1
    if draw < p_agree + p_disagree:
        return -1
    return 0


def _rename_predictable(members: list[Membership]) -> list[Membership]:
    """Give ten clinician-side and ten management-side members logins summit-01 … 20."""
    clinicians = [m for m in members if m.side == Side.CLINICIAN and m.role == Role.MEMBER]
    managers = [m for m in members if m.side == Side.MANAGEMENT and m.role == Role.MEMBER]
    chosen = clinicians[:PREDICTABLE_LOGINS] + managers[:PREDICTABLE_LOGINS]
    users = []
    for index, seat in enumerate(chosen, start=1):
        user = seat.person
        user.username = f"summit-{index:02d}"
        user.email = f"summit-{index:02d}@demo.commonground.invalid"
        users.append(user)
    get_user_model().objects.bulk_update(users, ["username", "email"])
    addresses = {a.user_id: a for a in EmailAddress.objects.filter(user__in=users)}
    for user in users:
        if user.pk in addresses:
            addresses[user.pk].email = user.email
    EmailAddress.objects.bulk_update(list(addresses.values()), ["email"])
    return chosen


def _insert_votes(rows: list[tuple[Any, ...]]) -> None:
    """About 17,000 votes in one executemany: building that many model instances for
    bulk_create took most of the loader's time."""
    fields = ["conversation", "statement", "participant", "value", "created_at", "updated_at"]
    qn = connection.ops.quote_name
    column_of = {f.name: f.column for f in Vote._meta.concrete_fields}
    columns = ", ".join(qn(column_of[name]) for name in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {qn(Vote._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _finished_conversation(
    summit_committee: Committee,
    members: list[Membership],
    cochair: Any,
    rng: random.Random,
    opened: dt.datetime,
) -> Conversation:
    closed = opened + dt.timedelta(days=14)
    conversation = Conversation.objects.create(
        committee=summit_committee,
        topic=FINISHED_TOPIC,
        description="The pre-summit conversation: every summit member was invited to vote "
        "and add statements in the two weeks before the summit.",
        state=Conversation.State.CLOSED,
        open_to_region=True,
        created_by=cochair,
        created_at=opened,
        opened_at=opened,
        closed_at=closed,
    )
    participants = Participant.objects.bulk_create(
        Participant(
            conversation=conversation,
            user=seat.person,
            number=i,
            side=seat.side,
            created_at=opened,
        )
        for i, seat in enumerate(members)
    )
    groups = [_latent_group(seat.side, rng) for seat in members]
    kinds = (
        [("common", t) for t in COMMON]
        + [("clinician", t) for t in CLINICIAN]
        + [("management", t) for t in MANAGEMENT]
        + [("split", t) for t in SPLIT]
    )
    rng.shuffle(kinds)
    statements = Statement.objects.bulk_create(
        Statement(
            conversation=conversation,
            number=n,
            text=text,
            # The first twelve were the co-chairs' starting statements; the rest came from
            # participants (authors are kept for the moderation audit only).
            author=None if n < 12 else participants[rng.randrange(len(participants))],
            is_seed=n < 12,
            moderation=Statement.Moderation.ACCEPTED,
            created_at=opened,
            moderated_at=opened,
        )
        for n, (_kind, text) in enumerate(kinds)
    )
    rows = []
    for p_index, participant in enumerate(participants):
        share = rng.uniform(0.35, 0.8)
        when = connection.ops.adapt_datetimefield_value(opened + dt.timedelta(minutes=p_index * 5))
        for s_index, (kind, _text) in enumerate(kinds):
            if rng.random() > share:
                continue
            value = _vote_value(kind, groups[p_index], rng)
            rows.append(
                (conversation.pk, statements[s_index].pk, participant.pk, value, when, when)
            )
    _insert_votes(rows)
    Conversation.objects.filter(pk=conversation.pk).update(
        participant_count=len(participants), revision=1
    )
    conversation_recompute(conversation_id=conversation.pk)
    conversation.refresh_from_db()
    return conversation


def _live_conversation(
    summit_committee: Committee,
    members: list[Membership],
    cochair: Any,
    rng: random.Random,
    opened: dt.datetime,
) -> Conversation:
    conversation = Conversation.objects.create(
        committee=summit_committee,
        topic=LIVE_TOPIC,
        description="Live in the opening plenary: vote on your phone, watch the map on the screen.",
        state=Conversation.State.OPEN,
        open_to_region=True,
        created_by=cochair,
        created_at=opened,
        opened_at=opened,
    )
    statements = Statement.objects.bulk_create(
        Statement(
            conversation=conversation,
            number=n,
            text=text,
            is_seed=True,
            moderation=Statement.Moderation.ACCEPTED,
            created_at=opened,
            moderated_at=opened,
        )
        for n, (text, _stance) in enumerate(LIVE_STATEMENTS)
    )
    # A few early voters: a dozen people, a handful of votes each.
    early = rng.sample(members, k=12)
    participants = Participant.objects.bulk_create(
        Participant(conversation=conversation, user=seat.person, number=i, side=seat.side)
        for i, seat in enumerate(early)
    )
    votes = []
    for p_index, (participant, seat) in enumerate(zip(participants, early, strict=True)):
        group = _latent_group(seat.side, rng)
        when = opened + dt.timedelta(minutes=1 + p_index)
        for s_index in rng.sample(range(len(statements)), k=5):
            stance = LIVE_STATEMENTS[s_index][1]
            votes.append(
                Vote(
                    conversation=conversation,
                    statement=statements[s_index],
                    participant=participant,
                    value=_vote_value(stance, group, rng),
                    created_at=when,
                    updated_at=when,
                )
            )
    Vote.objects.bulk_create(votes)
    Conversation.objects.filter(pk=conversation.pk).update(
        participant_count=len(participants), revision=1
    )
    conversation_recompute(conversation_id=conversation.pk)
    conversation.refresh_from_db()
    return conversation


@transaction.atomic
def load_demo_summit() -> dict[str, int]:
    """Load the demo summit into the demo region. Safe to call twice."""
    committee = (
        Committee.objects.filter(slug=SUMMIT_SLUG, kind=Committee.Kind.SUMMIT)
        .select_related("region")
        .first()
    )
    if committee is None or Summit.objects.filter(committee=committee).exists():
        return {"summits": 0}
    rng = random.Random(SEED)  # noqa: S311 (demo data, not security)
    today = timezone.localdate()
    tz = zoneinfo.ZoneInfo("America/Los_Angeles")
    seats = list(
        Membership.objects.filter(committee=committee, end_date__isnull=True)
        .select_related("person")
        .order_by("pk")
    )
    cochairs = [s.person for s in seats if s.role == Role.CO_CHAIR]
    members = [s for s in seats if s.role != Role.CO_CHAIR]
    organiser = cochairs[0] if cochairs else None

    predictable = _rename_predictable(members)
    predictable_ids = {seat.person_id for seat in predictable}
    others = [s for s in members if s.person_id not in predictable_ids]

    summit = Summit.objects.create(
        region=committee.region,
        committee=committee,
        title=f"{committee.region.name} PPC Summit {today.year}",
        description=(
            "The yearly summit of the clinic Professional Practice Committees: what worked "
            "this year, where clinicians and managers agree, and what the region works on "
            "next.\n\nBring your phone: the opening plenary votes live."
        ),
        starts_on=today,
        ends_on=today,
        venue="Oakland Marriott City Center, 1001 Broadway, Oakland",
        capacity=220,
        state=Summit.State.OPEN,
    )
    rooms = Room.objects.bulk_create(
        Room(summit=summit, name=name, capacity=capacity, access_notes=notes)
        for name, capacity, notes in ROOMS
    )

    opened = dt.datetime.combine(today - dt.timedelta(days=21), dt.time(9), tzinfo=tz)
    finished = _finished_conversation(committee, seats, organiser, rng, opened)
    live = _live_conversation(
        committee,
        others,
        organiser,
        rng,
        dt.datetime.combine(today, dt.time(8, 30), tzinfo=tz),
    )

    sessions = Session.objects.bulk_create(
        Session(
            summit=summit,
            title=title,
            kind=kind,
            room=rooms[room],
            starts_at=dt.datetime.combine(today, dt.time(*start), tzinfo=tz),
            ends_at=dt.datetime.combine(today, dt.time(*end), tzinfo=tz),
            description=description,
            conversation=live if kind == Session.Kind.PLENARY else None,
        )
        for title, kind, room, start, end, description in PROGRAM
    )

    registered = (predictable + others)[:REGISTRATIONS]
    registered_at = dt.datetime.combine(today - dt.timedelta(days=60), dt.time(9), tzinfo=tz)
    Registration.objects.bulk_create(
        Registration(
            summit=summit,
            person=seat.person,
            status=Registration.Status.CONFIRMED,
            registered_at=registered_at + dt.timedelta(minutes=7 * i),
            updated_at=registered_at + dt.timedelta(minutes=7 * i),
        )
        for i, seat in enumerate(registered)
    )

    asked_at = dt.datetime.combine(today, dt.time(9, 5), tzinfo=tz)
    questions = Question.objects.bulk_create(
        Question(
            session=sessions[i % 3],
            text=text,
            author=None if anonymous else others[20 + i].person,
            status=Question.Status.APPROVED if i < 6 else Question.Status.PENDING,
            created_at=asked_at + dt.timedelta(minutes=i),
            updated_at=asked_at + dt.timedelta(minutes=i),
        )
        for i, (text, anonymous) in enumerate(QUESTIONS)
    )
    upvotes = [
        QuestionVote(question=question, person=seat.person)
        for q_index, question in enumerate(questions[:6])
        for seat in rng.sample(others, k=3 + 4 * (6 - q_index))
    ]
    QuestionVote.objects.bulk_create(upvotes)

    audit_record(
        action=AuditEvent.Action.CREATE,
        obj=summit,
        changes={
            "demo_seed": SEED,
            "sessions": len(sessions),
            "registrations": len(registered),
            "finished_conversation": str(finished.public_id),
            "live_conversation": str(live.public_id),
        },
    )
    return {
        "summits": 1,
        "summit_sessions": len(sessions),
        "summit_registrations": len(registered),
        "summit_questions": len(questions),
    }
