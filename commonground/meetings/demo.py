"""Meetings for the demo region: two years of monthly meetings of every clinic PPC and of the
regional committee, and the next one of each.

Past meetings have their attendance (quorum met at most, missed at a few), an agenda that
takes up the concerns raised since the meeting before, minutes approved by both co-chairs
(the latest still waiting at some committees), decisions (some with a review date) and
action items owned per side, with statuses that fit their due dates: most done, some
overdue. The next meeting has an agenda with the open concerns and draft minutes.

Bulk-loaded demo data, not a replay of service calls: one audit event records the load.
Co-chairs are today's co-chairs throughout (the demo region keeps no earlier ones); the
other attendees are the people seated on the day.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.concerns.models import OPEN_STATUSES, Concern, Status
from commonground.concerns.selectors import calendar_for_clinic
from commonground.core.business_days import Calendar
from commonground.meetings.models import (
    DEFAULT_AMENDMENT_WINDOW_DAYS,
    ActionItem,
    AgendaItem,
    Attendance,
    Decision,
    Meeting,
    Minutes,
)
from commonground.meetings.quorum import QuorumRule, check_quorum
from commonground.meetings.services import minutes_template
from commonground.organizations.models import Committee, Membership, Role, Side

SEED = 2029
HISTORY_DAYS = 730
BATCH = 500
AWAITING = [Status.RAISED, Status.ACKNOWLEDGED, Status.IN_DISCUSSION, Status.ESCALATED]
TUESDAY, WEDNESDAY, THURSDAY = 1, 2, 3

DECISIONS: dict[str, list[tuple[str, str]]] = {
    "access": [
        (
            "Protect {n} return-visit slots per clinician per week.",
            "Return visits are offered beyond the 10-business-day standard.",
        ),
        (
            "Hold a same-week intake huddle every Monday.",
            "The intake queue has grown for three months in a row.",
        ),
        (
            "Flag interpreter needs at booking and report unfilled requests monthly.",
            "Sessions with interpreters start late or are rescheduled.",
        ),
        (
            "Report first-offered appointment dates at every meeting.",
            "The committee needs the same numbers on both sides.",
        ),
    ],
    "caseload": [
        (
            "Review caseloads above {n} open patients at every meeting.",
            "Several clinicians carry caseloads they cannot see as planned.",
        ),
        (
            "Adopt a three-month caseload ramp-up for new clinicians.",
            "New clinicians were given full caseloads in their first month.",
        ),
    ],
    "clinical": [
        (
            "Use the shared decision aid before referring a patient to group therapy.",
            "Patients were sent to groups because individual slots were full.",
        ),
    ],
    "documentation": [
        (
            "Pilot shorter follow-up note templates for six weeks.",
            "Clinicians report more than an hour of documentation a day.",
        ),
        (
            "Protect 30 minutes of documentation time a day.",
            "Notes are being finished after hours.",
        ),
    ],
    "safety": [
        (
            "Test the duress alarms monthly and post who responds.",
            "Nobody could say who answers an alarm.",
        ),
        (
            "No clinician sees patients alone in the building after 6 pm.",
            "Evening clinicians are often the last staff in the building.",
        ),
    ],
    "space": [
        (
            "Give individual therapy priority in the Tuesday room schedule.",
            "Sessions were moved to the phone for lack of rooms.",
        ),
    ],
    "training": [
        (
            "Protect four hours a quarter for training, with coverage arranged ahead.",
            "New protocols were introduced without time to learn them.",
        ),
    ],
}
REGIONAL_DECISIONS = [
    (
        "Ask joint leadership to fund standing interpreter blocks across the region.",
        "Interpreter access was escalated from several clinics.",
    ),
    (
        "Adopt a regional standard of protected return-visit slots.",
        "Return-visit waits are above the standard at most clinics.",
    ),
    (
        "Review escalated concerns by clinic at every meeting.",
        "Escalations rose after the winter surge.",
    ),
    (
        "Share the intake huddle checklist with every clinic committee.",
        "Two clinics cut their intake queue with it.",
    ),
]
ACTIONS = [
    "Draft the plan: {statement}",
    "Report the effect at the next meeting: {statement}",
    "Tell both sides' staff about the decision: {statement}",
    "Bring the scheduling report to the next meeting",
    "Write a one-page guide for schedulers",
    "Collect four weeks of data before the review",
]
MINUTES = (
    "{title} of the {committee}, {day}, {place}.\n"
    "Called to order at {start} by {presiding}. Minutes taken by {secretary}.\n"
    "Attendance and quorum: {present} members present; {quorum}.\n"
    "Minutes of the previous meeting: approved.\n"
    "Concerns taken up: {concerns}.\n"
    "Motions and decisions:\n"
    "{decisions}\n"
    "Action items: see the action list.\n"
    "Adjourned at {end}."
)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@dataclass(frozen=True)
class Seat:
    person_id: int
    side: str
    role: str
    start: dt.date
    end: dt.date | None

    def active_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or self.end > day)


@dataclass
class Rows:
    meetings: list[Meeting] = field(default_factory=list)
    attendance: list[Attendance] = field(default_factory=list)
    agenda: list[AgendaItem] = field(default_factory=list)
    minutes: list[Minutes] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    actions: list[ActionItem] = field(default_factory=list)


# The times of day the demo's meetings start (clinic time): the browser suite schedules a
# meeting of its own before the next of them.
CLINIC_MEETING_TIMES = (dt.time(12), dt.time(17, 30))
REGIONAL_MEETING_TIME = dt.time(10)


def _meeting_days(
    rng: random.Random, calendar: Calendar, first: dt.date, last: dt.date, regional: bool
) -> list[dt.date]:
    """The committee's monthly day (say, the second Tuesday), a week later on a holiday."""
    weekday = THURSDAY if regional else rng.choice([TUESDAY, WEDNESDAY, THURSDAY])
    week = 3 if regional else rng.choice([1, 2, 3])
    days = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        day = dt.date(year, month, 1)
        day += dt.timedelta(days=(weekday - day.weekday()) % 7 + 7 * (week - 1))
        if not calendar.is_business_day(day):
            day += dt.timedelta(days=7)
        if first <= day <= last:
            days.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return days


class _Loader:
    def __init__(self, today: dt.date, now: dt.datetime) -> None:
        self.today, self.now = today, now
        self.rng = random.Random(SEED)
        self.rows = Rows()
        self.names: dict[int, str] = {}

    def action_status(self, due: dt.date) -> str:
        roll, status = self.rng.random(), ActionItem.Status
        if due < self.today - dt.timedelta(days=30):
            return (
                status.DONE if roll < 0.9 else status.DROPPED if roll < 0.96 else status.IN_PROGRESS
            )
        if due < self.today:  # due recently: done, or now overdue
            return status.DONE if roll < 0.6 else status.IN_PROGRESS if roll < 0.85 else status.OPEN
        return status.DONE if roll < 0.1 else status.IN_PROGRESS if roll < 0.5 else status.OPEN

    def committee(
        self,
        committee: Committee,
        seats: list[Seat],
        calendar: Calendar,
        concerns: list[dict[str, Any]],
    ) -> None:
        rng, today = self.rng, self.today
        regional = committee.kind == Committee.Kind.REGIONAL
        clinic = committee.clinic
        zone = zoneinfo.ZoneInfo(clinic.time_zone if clinic else settings.TIME_ZONE)
        place = (
            f"{clinic.name}, conference room"
            if clinic
            else "Regional office, Oakland, and by video"
        )
        start = REGIONAL_MEETING_TIME if regional else rng.choice(CLINIC_MEETING_TIMES)
        duration = 120 if regional else 90
        current = [s for s in seats if s.end is None]
        cochairs = {s.side: s for s in current if s.role == Role.CO_CHAIR}
        days = _meeting_days(
            rng,
            calendar,
            today - dt.timedelta(days=HISTORY_DAYS),
            today + dt.timedelta(days=40),
            regional,
        )
        previous = today - dt.timedelta(days=HISTORY_DAYS + 30)
        for day in days:
            starts_at = dt.datetime.combine(day, start, tzinfo=zone)
            meeting = Meeting(
                public_id=_uuid(rng),
                committee=committee,
                title="Regular meeting",
                starts_at=starts_at,
                duration_minutes=duration,
                place=place,
            )
            self.rows.meetings.append(meeting)
            # The concerns raised since the last meeting (escalated ones at the region),
            # and those still open with the next meeting ahead.
            if starts_at > self.now:
                waiting = [c for c in reversed(concerns) if c["status"] in AWAITING]
                taken = (waiting + [c for c in concerns if c["status"] in OPEN_STATUSES])[:4]
            else:
                # Escalations reach the region some weeks after the concern was raised.
                lag = dt.timedelta(days=21 if regional else 0)
                taken = [c for c in concerns if previous < c["raised_on"] + lag <= day][:4]
            self.agenda(meeting, taken)
            previous = day
            if starts_at > self.now:
                # Only the next meeting is scheduled so far.
                self.rows.minutes.append(Minutes(meeting=meeting, text=minutes_template(meeting)))
                break
            fail = rng.random() < 0.015
            present = self.attendance(meeting, day, seats, cochairs, fail)
            quorum = check_quorum(
                QuorumRule(), [(s.side, s.role == Role.CO_CHAIR) for s in present]
            )
            decided = self.decisions(meeting, committee, day, present, cochairs, taken, quorum.met)
            self.minutes(meeting, committee, day, start, present, cochairs, taken, decided, quorum)

    def agenda(self, meeting: Meeting, concerns: list[dict[str, Any]]) -> None:
        items = [("Minutes of the previous meeting", 5, None), ("Review of open actions", 15, None)]
        items += [(c["title"], 15, c["id"]) for c in concerns]
        self.rows.agenda += [
            AgendaItem(
                meeting=meeting,
                position=position,
                title=title[:200],
                duration_minutes=minutes,
                concern_id=concern_id,
            )
            for position, (title, minutes, concern_id) in enumerate(items, start=1)
        ]

    def attendance(
        self,
        meeting: Meeting,
        day: dt.date,
        seats: list[Seat],
        cochairs: dict[str, Seat],
        fail: bool,
    ) -> list[Seat]:
        rng = self.rng
        chairs = {s.person_id for s in cochairs.values()}
        seated = [s for s in seats if s.active_on(day) and s.person_id not in chairs]
        present = [s for s in cochairs.values() if rng.random() < 0.95]
        present += [s for s in seated if rng.random() < 0.82]
        if fail:
            # A thin meeting: one person from the management side at most.
            managers = [s for s in present if s.side == Side.MANAGEMENT]
            present = [s for s in present if s.side != Side.MANAGEMENT] + managers[:1]
        self.rows.attendance += [
            Attendance(
                meeting=meeting,
                person_id=s.person_id,
                side=s.side,
                is_cochair=s.person_id in chairs,
            )
            for s in present
        ]
        return present

    def decisions(
        self,
        meeting: Meeting,
        committee: Committee,
        day: dt.date,
        present: list[Seat],
        cochairs: dict[str, Seat],
        concerns: list[dict[str, Any]],
        quorate: bool,
    ) -> list[Decision]:
        rng = self.rng
        regional = committee.kind == Committee.Kind.REGIONAL
        count = rng.choices([0, 1, 2], weights=[1, 14, 5])[0] if quorate else 0
        found = []
        for number in range(count):
            concern = concerns[number] if number < len(concerns) else None
            if regional:
                statement, rationale = rng.choice(REGIONAL_DECISIONS)
            else:
                category = concern["category"] if concern else "access"
                options = DECISIONS.get(category, DECISIONS["access"])
                statement, rationale = rng.choice(options)
            n = rng.choice([3, 4]) if "slots" in statement else rng.choice([100, 110])
            statement = statement.format(n=n)
            clinicians = sum(s.side == Side.CLINICIAN for s in present)
            managers = sum(s.side == Side.MANAGEMENT for s in present)
            against = 1 if clinicians > 3 and rng.random() < 0.2 else 0
            abstain = 1 if managers > 3 and rng.random() < 0.15 else 0
            decision = Decision(
                public_id=_uuid(rng),
                committee=committee,
                meeting=meeting,
                statement=statement,
                rationale=rationale,
                decided_on=day,
                review_on=day + dt.timedelta(days=rng.choice([60, 90, 90, 120]))
                if rng.random() < 0.6
                else None,
                clinician_for=clinicians - against,
                clinician_against=against,
                management_for=managers - abstain,
                management_abstain=abstain,
                recorded_by_id=rng.choice(list(cochairs.values())).person_id,
            )
            found.append(decision)
            self.rows.decisions.append(decision)
            for _ in range(rng.choice([1, 1, 2])):
                self.action(committee, meeting, decision, present, concern, day)
        return found

    def action(
        self,
        committee: Committee,
        meeting: Meeting,
        decision: Decision | None,
        present: list[Seat],
        concern: dict[str, Any] | None,
        day: dt.date,
        *,
        owners: tuple[int | None, int | None] | None = None,
        title: str = "",
        due: dt.date | None = None,
        status: str = "",
    ) -> None:
        rng = self.rng
        if owners is None:
            workers = [s for s in present if s.role != Role.UNION_REP]
            clin = [s.person_id for s in workers if s.side == Side.CLINICIAN]
            mgmt = [s.person_id for s in workers if s.side == Side.MANAGEMENT]
            shared = rng.random() < 0.7
            clinician = rng.choice(clin) if clin and (shared or not mgmt) else None
            manager = rng.choice(mgmt) if mgmt and (shared or clinician is None) else None
            owners = (clinician, manager)
        if owners == (None, None):
            return
        due = due or day + dt.timedelta(days=rng.choice([14, 21, 28, 42, 56]))
        statement = decision.statement.rstrip(".").lower() if decision else "the agreed change"
        self.rows.actions.append(
            ActionItem(
                public_id=_uuid(rng),
                committee=committee,
                title=(title or rng.choice(ACTIONS).format(statement=statement))[:200],
                clinician_owner_id=owners[0],
                management_owner_id=owners[1],
                due_on=due,
                status=status or self.action_status(due),
                concern_id=concern["id"] if concern else None,
                decision=decision,
                meeting=meeting,
            )
        )

    def minutes(
        self,
        meeting: Meeting,
        committee: Committee,
        day: dt.date,
        start: dt.time,
        present: list[Seat],
        cochairs: dict[str, Seat],
        concerns: list[dict[str, Any]],
        decisions: list[Decision],
        quorum: Any,
    ) -> None:
        rng = self.rng
        zone = meeting.starts_at.tzinfo
        chairs = [s for s in present if s.role == Role.CO_CHAIR] or list(cochairs.values())
        presiding = rng.choice(chairs)
        others = [s for s in present if s.role not in (Role.CO_CHAIR, Role.UNION_REP)]
        secretary = rng.choice(others) if others else presiding
        lines = [f"- Adopted: {d.statement}" for d in decisions] or [
            "- None." if quorum.met else "- None: without a quorum, the items were deferred."
        ]
        begin = dt.datetime.combine(day, start) + dt.timedelta(minutes=rng.randint(0, 6))
        end = begin + dt.timedelta(minutes=meeting.duration_minutes - rng.randint(0, 15))
        text = MINUTES.format(
            title=meeting.title,
            committee=committee.name,
            day=f"{day:%B} {day.day}, {day.year}",
            place=meeting.place,
            start=f"{begin:%I:%M %p}".lstrip("0"),
            end=f"{end:%I:%M %p}".lstrip("0"),
            presiding=self.names[presiding.person_id],
            secretary=self.names[secretary.person_id],
            present=len(present),
            quorum="quorum met"
            if quorum.met
            else "no quorum (" + ", ".join(quorum.shortfalls) + ")",
            concerns="; ".join(c["title"] for c in concerns) or "none new",
            decisions="\n".join(lines),
        )
        minutes = Minutes(meeting=meeting, text=text, version=rng.choice([1, 1, 2]))
        # Each co-chair approves within two weeks; the latest minutes may still wait.
        first = dt.datetime.combine(
            day + dt.timedelta(days=rng.randint(3, 14)), dt.time(rng.randint(9, 17)), tzinfo=zone
        )
        second = first + dt.timedelta(days=rng.randint(0, 4), hours=rng.randint(0, 5))
        sides = [Side.CLINICIAN, Side.MANAGEMENT]
        rng.shuffle(sides)
        for side, when in zip(sides, (first, second), strict=True):
            if when <= self.now:
                setattr(minutes, f"{side}_approved_by_id", cochairs[side].person_id)
                setattr(minutes, f"{side}_approved_at", when)
        if second <= self.now:
            minutes.approved_at = second
            minutes.amendments_close_at = second + dt.timedelta(days=DEFAULT_AMENDMENT_WINDOW_DAYS)
        self.rows.minutes.append(minutes)

    def oakland_actions(self, committee: Committee, people: dict[str, int]) -> None:
        """Open actions for clinician.oakland and both Oakland co-chairs, one of them overdue,
        so that "My actions" has something to show each of them."""
        meetings = [
            m
            for m in self.rows.meetings
            if m.committee_id == committee.pk and m.starts_at <= self.now
        ][-3:]
        plans = [
            (
                "Collect four weeks of return-visit data from the adult team",
                ("clinician.oakland", "cochair-manager.oakland"),
                -9,
                ActionItem.Status.IN_PROGRESS,
            ),
            (
                "Draft the intake huddle checklist",
                ("cochair-clinician.oakland", "manager.oakland"),
                12,
                ActionItem.Status.OPEN,
            ),
            (
                "Propose shorter follow-up note templates",
                ("clinician.oakland", None),
                20,
                ActionItem.Status.OPEN,
            ),
            (
                "Bring the interpreter booking figures to the next meeting",
                (None, "cochair-manager.oakland"),
                6,
                ActionItem.Status.IN_PROGRESS,
            ),
        ]
        for number, (title, (clin, mgmt), due_in, status) in enumerate(plans):
            meeting = meetings[min(number, len(meetings) - 1)]
            day = timezone.localtime(meeting.starts_at).date()
            self.action(
                committee,
                meeting,
                None,
                [],
                None,
                day,
                owners=(people[clin] if clin else None, people[mgmt] if mgmt else None),
                title=title,
                due=self.today + dt.timedelta(days=due_in),
                status=status,
            )


@transaction.atomic
def load_meetings_demo(today: dt.date | None = None) -> dict[str, int]:
    if Meeting.objects.exists():
        return {"meetings": 0}
    day = today or timezone.localdate()
    now = timezone.now() if today is None else dt.datetime.combine(day, dt.time(12), dt.UTC)
    loader = _Loader(day, now)
    committees = list(
        Committee.objects.filter(
            kind__in=[Committee.Kind.CLINIC_PPC, Committee.Kind.REGIONAL]
        ).select_related("clinic", "clinic__calendar")
    )
    if not committees:
        return {"meetings": 0}
    seats: dict[int, list[Seat]] = defaultdict(list)
    for m in Membership.objects.filter(committee__in=committees).order_by("pk"):
        seats[m.committee_id].append(Seat(m.person_id, m.side, m.role, m.start_date, m.end_date))
    people = get_user_model().objects.filter(
        pk__in={s.person_id for found in seats.values() for s in found}
    )
    loader.names = {p.pk: p.get_display_name() for p in people}
    usernames = {p.username: p.pk for p in people}
    # Each committee's concerns, oldest first (for the regional committee: those escalated to it).
    concerns: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in Concern.objects.order_by("raised_on", "id").values(
        "id", "title", "category", "status", "raised_on", "committee_id", "escalated_to_id"
    ):
        concerns[row["escalated_to_id"] or row["committee_id"]].append(dict(row))
    calendars: dict[int, Calendar] = {}
    for committee in committees:
        calendar = Calendar()
        if committee.clinic is not None:
            calendar_id = committee.clinic.calendar_id
            if calendar_id not in calendars:
                calendars[calendar_id] = calendar_for_clinic(committee.clinic)
            calendar = calendars[calendar_id]
        elif calendars:
            calendar = next(iter(calendars.values()))
        loader.committee(committee, seats[committee.pk], calendar, concerns[committee.pk])
        if committee.slug == "ppc-oakland" and "clinician.oakland" in usernames:
            loader.oakland_actions(committee, usernames)

    rows = loader.rows
    Meeting.objects.bulk_create(rows.meetings, batch_size=BATCH)
    Attendance.objects.bulk_create(rows.attendance, batch_size=BATCH)
    AgendaItem.objects.bulk_create(rows.agenda, batch_size=BATCH)
    Minutes.objects.bulk_create(rows.minutes, batch_size=BATCH)
    Decision.objects.bulk_create(rows.decisions, batch_size=BATCH)
    ActionItem.objects.bulk_create(rows.actions, batch_size=BATCH)
    # One event for the whole history, naming no one: these rows are demo data.
    audit_record(
        action=AuditEvent.Action.CREATE,
        object_type="meetings.meeting",
        object_repr="demo history of meetings",
        changes={
            "demo_seed": SEED,
            "meetings": len(rows.meetings),
            "decisions": len(rows.decisions),
            "action_items": len(rows.actions),
        },
    )
    return {
        "meetings": len(rows.meetings),
        "decisions": len(rows.decisions),
        "action_items": len(rows.actions),
    }
