"""Concerns for the demo region: two years of history at the 26 clinics.

About 3,000 concerns on the themes clinicians raise most (return-visit waits, the intake
backlog, caseloads, reliance on groups, documentation time, interpreter access, safety),
more at the big clinics and after the winter holidays, named, confidential or anonymous.
Each one's clocks come from its clinic's business calendar, and its history agrees with
them: acknowledgements signed by both co-chairs, joint responses (agreed, or each side's
reasons), escalations to the regional committee where a clock lapsed, co-signs, a few
discussion threads, clock extensions and pauses, and links between clinics with the same
problem.

It is bulk-loaded demo data, not a replay of service calls: no audit event per row (the
trail gets one event saying the history was loaded, naming no one), but the rules the
services keep still hold: an anonymous concern stores no raiser and has only a receipt hash;
confidential concerns are raised by clinicians; nobody co-signs their own concern.

At Oakland, clinician.oakland has raised a confidential concern ("Pressure to close cases
early") and an anonymous one ("Afraid to speak up about waits"), whose receipt is
``DEMO_RECEIPT`` below.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import random
import secrets
import struct
import uuid
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.concerns.clocks import clocks_for, extended, paused_business_days
from commonground.concerns.models import (
    Attachment,
    Category,
    ClockChange,
    Comment,
    CommentRevision,
    Concern,
    CoSign,
    CrossClinicPattern,
    IdentityMode,
    JointResponse,
    Receipt,
    Signoff,
    Status,
)
from commonground.concerns.reminders import notify_cochairs_of_new_concern
from commonground.concerns.selectors import calendar_for_clinic
from commonground.core.business_days import Calendar, preset_holidays
from commonground.organizations.models import Committee, Holiday, Membership, Role, Side

SEED = 2028
HISTORY_DAYS = 730
TARGET_CONCERNS = 3000
BATCH = 500

# The receipt of clinician.oakland's anonymous demo concern, so that the follow-up page
# ("Follow up an anonymous concern") can be tried. Only its hash is stored, as for any
# receipt; the receipts of the other anonymous demo concerns were thrown away.
DEMO_RECEIPT = "demo-oakland-7Qk2-anonymous-receipt"

TEAMS = {
    "adult": "the adult team",
    "child_family": "the child and family team",
    "psychiatry": "psychiatry",
    "intensive": "the intensive outpatient program",
    "addiction": "addiction medicine",
    "eating": "the eating disorders program",
}
WEEKS = ["three", "four", "five", "six", "seven"]


@dataclass(frozen=True)
class Theme:
    key: str
    category: str
    weight: float
    titles: tuple[str, ...]
    descriptions: tuple[str, ...]
    impacts: tuple[str, ...]
    ideas: tuple[str, ...]
    numbers: tuple[int, int]  # the range {n} is drawn from
    management_raises: float = 0.1  # share of named concerns raised from the management side


THEMES: tuple[Theme, ...] = (
    Theme(
        "return_waits",
        Category.ACCESS,
        0.20,
        (
            "Return visits offered {weeks} weeks out in {team}",
            "No return slots within 10 business days in {team}",
            "Follow-up visits pushed back after intake",
            "Patients wait {weeks} weeks between therapy sessions",
            "Cancelled sessions rebooked {weeks} weeks later",
            "Return-visit waits over the standard again",
        ),
        (
            "In {team} the first return visit we can offer is usually {weeks} weeks away. The "
            "schedule templates leave almost no follow-up slots once new intakes are booked.",
            "When a session is cancelled, the earliest open slot is {weeks} weeks out, and "
            "clinicians are asked to double-book or to offer a group instead.",
            "Our weekly templates hold {n} return slots per full-time clinician, and they are "
            "gone before the week opens.",
        ),
        (
            "Patients lose momentum in treatment between sessions, and some come back in crisis.",
            "People told to expect weekly therapy go a month or more without a session.",
            "Some patients stop coming because the gaps make therapy feel pointless.",
        ),
        (
            "Protect {n} return slots in every clinician's week and release them two days ahead "
            "if unused.",
            "Book the next visit before the patient leaves the session.",
            "Review return-visit waits at every meeting using the timely-access report.",
        ),
        (2, 6),
    ),
    Theme(
        "intake_backlog",
        Category.ACCESS,
        0.15,
        (
            "Intake backlog in {team} keeps growing",
            "New patients wait {weeks} weeks for a first appointment",
            "Intake calls not returned within the week",
            "Intake slots taken over by crisis visits",
            "Referral queue of {n} people in {team}",
        ),
        (
            "The intake queue for {team} has grown to about {n} people waiting for a first "
            "appointment.",
            "Intake coordinators cannot return calls within two business days; voicemails pile "
            "up over weekends and holidays.",
            "Scheduled intakes are converted to crisis visits, and the people waiting for a "
            "first appointment are pushed back again.",
        ),
        (
            "People who reached out at a hard moment stop answering our calls.",
            "Families wait weeks for a first assessment of their child.",
            "People go to the emergency department because they cannot get a first visit.",
        ),
        (
            "Add an intake block on Wednesday afternoons.",
            "Hold a same-week intake huddle to triage the queue.",
            "Report the first-offered appointment dates weekly to the committee.",
        ),
        (40, 260),
    ),
    Theme(
        "caseload",
        Category.CASELOAD,
        0.15,
        (
            "Caseloads above {n} open patients in {team}",
            "No caseload ramp-up for new therapists",
            "Caseloads not rebalanced after two departures",
            "Caseloads too large to see patients as planned",
            "Vacant positions in {team} unfilled for months",
        ),
        (
            "Several therapists in {team} carry more than {n} open patients; nobody can see "
            "them more often than once a month.",
            "Two positions in {team} have been vacant since spring, and their patients were "
            "spread across the remaining staff.",
            "New graduates receive full caseloads in their first month, with no ramp-up.",
        ),
        (
            "Individual therapy turns into brief check-ins months apart.",
            "Patients with complex needs do not get the frequency of care their plan calls for.",
            "Clinicians burn out and leave, and waits grow longer for everyone.",
        ),
        (
            "Review caseloads monthly with both co-chairs and rebalance above an agreed level.",
            "Agree a ramp-up schedule for new clinicians.",
            "Fill vacant positions before reassigning their patients.",
        ),
        (100, 160),
    ),
    Theme(
        "group_reliance",
        Category.CLINICAL,
        0.10,
        (
            "Patients steered to groups when individual care is needed",
            "Group therapy used to cover the shortage of individual slots",
            "Groups offered as the only option after intake",
            "Groups in {team} have grown past {n} people",
        ),
        (
            "Because individual slots are full, patients are told that a group is the only "
            "option in the next month.",
            "Groups in {team} now regularly have {n} or more participants, which makes it hard "
            "to attend to each person.",
            "The scheduling script offers a group first, whatever the treatment plan says.",
        ),
        (
            "Some patients need individual care, do not feel safe in a group, and drop out.",
            "Patients with trauma histories are placed in groups that are not right for them.",
            "The kind of treatment is decided by what is free, not by what is indicated.",
        ),
        (
            "A shared decision aid for group or individual care.",
            "Let the treating clinician choose the format, with the reason documented.",
            "Track group referrals by reason and review them every quarter.",
        ),
        (12, 16),
    ),
    Theme(
        "documentation",
        Category.DOCUMENTATION,
        0.14,
        (
            "Documentation takes more than an hour a day",
            "Note templates force duplicate entries",
            "New assessment form adds twenty minutes per intake",
            "Charting after hours to keep up with notes",
            "Questionnaires re-entered by hand in {team}",
        ),
        (
            "The note template for follow-up visits asks for the same information in three places.",
            "Clinicians in {team} finish notes in the evening several times a week.",
            "Outcome questionnaires filled in on paper have to be typed into the record by the "
            "clinician.",
        ),
        (
            "Less time for patients and for returning their calls.",
            "Sessions start late because the previous note is still open.",
            "Fatigue from charting after hours affects the care given the next day.",
        ),
        (
            "Shorter templates for follow-up visits.",
            "Protected documentation time of {n} minutes a day.",
            "Let patients fill in questionnaires on a tablet that feeds the record.",
        ),
        (20, 45),
        management_raises=0.25,
    ),
    Theme(
        "interpreter",
        Category.ACCESS,
        0.09,
        (
            "Interpreters hard to book for therapy",
            "Video interpreters unavailable at short notice",
            "Interpreter needs not flagged at booking",
            "Sessions cut short while waiting for an interpreter",
            "Too few bilingual clinicians in {team}",
        ),
        (
            "Video interpreters are often unavailable for same-week visits, so sessions are "
            "rescheduled.",
            "Interpreter needs are not flagged when appointments are booked, so the clinician "
            "finds out at the start of the session.",
            "Sessions in {team} start 10 to 15 minutes late while we wait for the interpreter "
            "line to connect.",
        ),
        (
            "Patients with limited English wait longer for every visit.",
            "Families are asked to bring relatives to interpret, which is not right for therapy.",
            "Patients who need an interpreter get shorter sessions than everyone else.",
        ),
        (
            "Flag interpreter needs when the appointment is booked.",
            "Book standing interpreter blocks for the most common languages.",
            "Recruit and keep bilingual clinicians with a language differential.",
        ),
        (2, 5),
    ),
    Theme(
        "safety",
        Category.SAFETY,
        0.07,
        (
            "No panic buttons in the new therapy rooms",
            "Front desk cannot see the waiting room",
            "Working alone in the building after 6 pm",
            "Duress alarms not tested since the move",
            "No safety plan for home visits in {team}",
        ),
        (
            "The therapy rooms on the second floor have no panic alarm.",
            "Evening clinicians in {team} are often the only staff left in the building.",
            "The duress alarms have not been tested since the move, and nobody knows who responds.",
        ),
        (
            "Clinicians and patients are less safe during a crisis.",
            "Staff avoid booking high-acuity patients in the evening, which limits access.",
            "A slow response to an emergency could put a patient at risk.",
        ),
        (
            "Install alarms before the rooms are used for intakes.",
            "Require two staff in the building whenever patients are seen.",
            "Test the alarms every month and post who responds.",
        ),
        (2, 4),
        management_raises=0.3,
    ),
    Theme(
        "space",
        Category.SPACE,
        0.05,
        (
            "Not enough therapy rooms on Tuesdays",
            "Telehealth rooms are not soundproof",
            "Shared offices make confidential calls impossible",
        ),
        (
            "On Tuesdays {n} clinicians share fewer rooms than they have sessions.",
            "Conversations can be heard through the walls of the telehealth rooms.",
            "Clinicians in shared offices take crisis calls in the hallway.",
        ),
        (
            "Sessions are cancelled or moved to the phone when no room is free.",
            "Patients hold back in sessions they fear others can hear.",
        ),
        (
            "A shared room schedule with priority for individual therapy.",
            "Soundproof two rooms and book them for telehealth first.",
        ),
        (3, 6),
        management_raises=0.3,
    ),
    Theme(
        "training",
        Category.TRAINING,
        0.05,
        (
            "No training time for new evidence-based protocols",
            "Supervision hours cut for associate clinicians",
            "No refresher on suicide risk assessment this year",
        ),
        (
            "The new protocols were introduced without any protected time to learn them.",
            "Associate clinicians in {team} now get {n} hours of supervision a month.",
            "The yearly refresher on risk assessment was cancelled for lack of coverage.",
        ),
        (
            "Treatments are delivered inconsistently from one clinician to the next.",
            "Less experienced clinicians carry complex patients without enough support.",
        ),
        (
            "Protect four hours a quarter for training, with coverage arranged ahead.",
            "Restore weekly supervision for associates.",
        ),
        (2, 4),
    ),
)
THEME_BY_KEY = {theme.key: theme for theme in THEMES}
# The themes the committees asked the demo to show; the others add variety.
MAIN_THEMES = (
    "return_waits",
    "intake_backlog",
    "caseload",
    "group_reliance",
    "documentation",
    "interpreter",
    "safety",
)

CONTEXT = (
    "It has been like this since {month}.",
    "It is worst on Mondays and after holiday weekends.",
    "Colleagues on both sides have noticed it.",
    "We raised it informally at a team meeting first.",
    "It got noticeably worse after {month}.",
    "",
    "",
)
AGREED = (
    "Agreed: {idea} Management reports progress at the next two meetings, and both "
    "co-chairs review the effect in three months.",
    "Agreed as a three-month pilot: {idea} The committee checks the timely-access report "
    "before deciding whether to keep it.",
    "Agreed: {idea} A clinician and a manager own the plan together and bring a draft to "
    "the next meeting.",
)
NOT_AGREED = "No agreement on this proposal: {idea} Each side's reasons are recorded below."
CLINICIAN_REASONS = (
    "The problem affects patients every week; a smaller step would not change that.",
    "A pilot without protected time only moves the work to the evenings.",
    "The data we collected shows the gap is growing, not shrinking.",
)
MANAGEMENT_REASONS = (
    "The change needs positions that are not in this year's budget; we offered a smaller pilot.",
    "We want a month of data from the new schedule before changing it again.",
    "The proposal conflicts with a regional standard we cannot change locally.",
)
COMMENTS = (
    "We see the same in {team}: the earliest slot I could offer this week was a month out.",
    "Management side: we can bring the scheduling report to the next meeting so we are all "
    "looking at the same numbers.",
    "Could we pilot this for four weeks before deciding? I can help draft the plan.",
    "Adding to this: it is worse on Mondays after a holiday weekend.",
    "The timely-access report for last quarter supports this. I will bring the chart.",
    "Thanks for raising this. The co-chairs will put it on the agenda for the next meeting.",
    "Two of us tried the proposed idea informally last month and it helped.",
)
EXTENSION_REASONS = (
    "Waiting for the staffing figures from regional finance before answering.",
    "The proposal needs a view from the facilities team, who meet next month.",
)
PAUSE_REASONS = (
    "Paused while the clinic moves to its new building.",
    "Paused during the records-system upgrade, when nobody can pull the data.",
)
PATTERNS = (
    ("return_waits", "Return visits booked beyond 10 business days at several clinics"),
    ("intake_backlog", "Intake backlog after the winter surge"),
    ("interpreter", "Interpreters hard to book for therapy across the region"),
    ("safety", "Therapy rooms without duress alarms"),
)
# Seasons: fewer concerns in the summer and over the holidays, more after New Year and when
# school starts (child and family referrals rise).
MONTH_WEIGHT = {
    1: 1.3,
    2: 1.2,
    3: 1.1,
    4: 1.0,
    5: 0.95,
    6: 0.85,
    7: 0.75,
    8: 1.0,
    9: 1.2,
    10: 1.05,
    11: 0.95,
    12: 0.7,
}
ESCALATE_ACK, ESCALATE_RESPONSE = 0.03, 0.045  # shares whose clock lapses


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _hash(token: str) -> str:
    # The same hash as services.concern_for_receipt checks.
    return hashlib.sha256(token.encode()).hexdigest()


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
class Place:
    """One committee with what the demo needs to know about it."""

    committee: Committee
    calendar: Calendar
    seats: list[Seat]
    cochairs: dict[str, int]  # side -> person id (today's co-chairs)
    teams: list[str]
    anonymous_allowed: bool

    def seated(self, day: dt.date) -> list[Seat]:
        found = [seat for seat in self.seats if seat.active_on(day)]
        return found or [seat for seat in self.seats if seat.end is None]


@dataclass
class Story:
    """What happened to one concern up to today."""

    status: str = Status.RAISED
    version: int = 1
    escalated: bool = False
    closed_on: dt.date | None = None
    signoffs: list[Signoff] = field(default_factory=list)
    response: JointResponse | None = None
    changes: list[ClockChange] = field(default_factory=list)
    paused_since: dt.date | None = None


class _Loader:
    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.rng = random.Random(SEED)
        self.start = today - dt.timedelta(days=HISTORY_DAYS)
        self.concerns: list[Concern] = []
        self.stories: dict[uuid.UUID, Story] = {}
        self.themes: dict[uuid.UUID, Theme] = {}
        self.cosigns: list[CoSign] = []
        self.receipts: list[Receipt] = []
        self.places: dict[int, Place] = {}
        self.regional: Place | None = None

    # --- setting up -------------------------------------------------------------------

    def cover_holidays(self) -> None:
        """The clinics' calendar must know the holidays of every year the history spans, or
        the clocks would run through them. Years it already has are left as they are."""
        clinic_calendars = {
            c.clinic.calendar_id
            for c in Committee.objects.filter(kind=Committee.Kind.CLINIC_PPC).select_related(
                "clinic"
            )
            if c.clinic is not None
        }
        years = range(self.start.year, self.today.year + 2)
        for calendar_id in clinic_calendars:
            known = {
                d.year for d in Holiday.objects.filter(calendar_id=calendar_id).dates("date", "day")
            }
            missing = [year for year in years if year not in known]
            Holiday.objects.bulk_create(
                Holiday(calendar_id=calendar_id, date=day, name=name)
                for day, name in preset_holidays("ca-state", missing).items()
            )

    def load_places(self) -> None:
        committees = list(
            Committee.objects.filter(
                kind__in=[Committee.Kind.CLINIC_PPC, Committee.Kind.REGIONAL]
            ).select_related("clinic", "region")
        )
        seats: dict[int, list[Seat]] = defaultdict(list)
        for m in Membership.objects.filter(committee__in=committees).order_by("pk"):
            seats[m.committee_id].append(
                Seat(m.person_id, m.side, m.role, m.start_date, m.end_date)
            )
        calendars: dict[int, Calendar] = {}
        k = settings.COMMONGROUND_MIN_GROUP_SIZE
        for committee in committees:
            clinic = committee.clinic
            calendar = Calendar()
            if clinic is not None:
                if clinic.calendar_id not in calendars:
                    calendars[clinic.calendar_id] = calendar_for_clinic(clinic)
                calendar = calendars[clinic.calendar_id]
            current = [s for s in seats[committee.pk] if s.active_on(self.today)]
            place = Place(
                committee=committee,
                calendar=calendar,
                seats=seats[committee.pk],
                cochairs={s.side: s.person_id for s in current if s.role == Role.CO_CHAIR},
                teams=[TEAMS[line] for line in (clinic.service_lines if clinic else [])],
                # The same count the service checks before it accepts an anonymous concern.
                anonymous_allowed=sum(s.side == Side.CLINICIAN for s in current) >= k,
            )
            if committee.kind == Committee.Kind.REGIONAL:
                self.regional = place
            else:
                self.places[committee.pk] = place
        # Regional clocks follow the first clinic's calendar (all share one in the demo).
        if self.regional is not None and calendars:
            self.regional.calendar = next(iter(calendars.values()))

    # --- dates ------------------------------------------------------------------------

    def bday(self, calendar: Calendar, day: dt.date, low: int, high: int) -> dt.date:
        """A business day ``low`` to ``high`` business days after ``day``."""
        return calendar.deadline(day, self.rng.randint(low, high))

    def clocks(self, place: Place, day: dt.date) -> tuple[dt.date, dt.date]:
        region = place.committee.region
        clocks = clocks_for(
            day, place.calendar, region.acknowledge_within_days, region.respond_within_days
        )
        return clocks.acknowledge_by, clocks.respond_by

    def raise_days(self, count: int) -> list[dt.date]:
        days = [self.start + dt.timedelta(days=i) for i in range(1, HISTORY_DAYS + 1)]
        calendar = next(iter(self.places.values())).calendar
        weights = []
        for i, day in enumerate(days):
            weight = MONTH_WEIGHT[day.month] * (0.8 + 0.4 * i / HISTORY_DAYS)  # use grows
            if not calendar.is_business_day(day):
                weight *= 0.05
            weights.append(weight)
        return sorted(self.rng.choices(days, weights=weights, k=count))

    # --- one concern ------------------------------------------------------------------

    def text(self, theme: Theme, place: Place, day: dt.date) -> dict[str, str]:
        rng = self.rng
        month = (day - dt.timedelta(days=rng.randint(30, 120))).strftime("%B")
        values = {
            "team": rng.choice(place.teams or ["the adult team"]),
            "weeks": rng.choice(WEEKS),
            "n": str(rng.randint(*theme.numbers)),
            "month": month,
        }
        title = rng.choice(theme.titles).format(**values)
        description = rng.choice(theme.descriptions).format(**values)
        context = rng.choice(CONTEXT).format(**values)
        return {
            "title": title[0].upper() + title[1:],
            "description": f"{description} {context}".strip(),
            "patient_impact": rng.choice(theme.impacts),
            "proposed_idea": rng.choice(theme.ideas).format(**values),
            "category": theme.category,
        }

    def identity(self, place: Place) -> str:
        roll = self.rng.random()
        if place.anonymous_allowed:
            if roll < 0.19:
                return IdentityMode.ANONYMOUS
            return IdentityMode.CONFIDENTIAL if roll < 0.45 else IdentityMode.NAMED
        return IdentityMode.CONFIDENTIAL if roll < 0.26 else IdentityMode.NAMED

    def raiser(self, place: Place, day: dt.date, mode: str, theme: Theme) -> Seat:
        seated = place.seated(day)
        clinicians = [s for s in seated if s.side == Side.CLINICIAN] or [
            s for s in place.seats if s.side == Side.CLINICIAN and s.end is None
        ]
        managers = [s for s in seated if s.side == Side.MANAGEMENT]
        if mode == IdentityMode.NAMED and managers and self.rng.random() < theme.management_raises:
            return self.rng.choice(managers)
        # Confidential raising is for clinicians only, as the service insists.
        return self.rng.choice(clinicians)

    def add(
        self,
        place: Place,
        day: dt.date,
        theme: Theme,
        mode: str,
        raiser: Seat | None,
        text: dict[str, str] | None = None,
    ) -> Concern:
        acknowledge_by, respond_by = self.clocks(place, day)
        concern = Concern(
            id=_uuid(self.rng),
            committee=place.committee,
            identity_mode=mode,
            raised_by_id=None if raiser is None else raiser.person_id,
            raiser_side="" if raiser is None else raiser.side,
            raised_on=day,
            acknowledge_by=acknowledge_by,
            respond_by=respond_by,
            not_a_grievance=True,
            **(text or self.text(theme, place, day)),
        )
        self.concerns.append(concern)
        self.themes[concern.pk] = theme
        if mode == IdentityMode.ANONYMOUS:
            # A receipt whose token nobody keeps: the raiser's way back, unknown to the demo.
            self.receipts.append(
                Receipt(token_hash=_hash(secrets.token_urlsafe(24)), concern=concern)
            )
        return concern

    def sign(
        self, story: Story, concern: Concern, step: str, side: str, person: int, day: dt.date
    ) -> None:
        version = 0 if step == Signoff.Step.ACKNOWLEDGE else 1
        story.signoffs.append(
            Signoff(
                concern=concern,
                step=step,
                side=side,
                person_id=person,
                signed_on=day,
                response_version=version,
            )
        )

    def story(self, place: Place, concern: Concern) -> Story:
        """Walk the concern through its steps, keeping those that happened by today."""
        rng, today, calendar = self.rng, self.today, place.calendar
        assert self.regional is not None
        story = Story()
        events: list[tuple[dt.date, str]] = []
        raised, ack_by = concern.raised_on, concern.acknowledge_by
        sides = (Side.CLINICIAN, Side.MANAGEMENT)
        ack = Signoff.Step.ACKNOWLEDGE
        fate = rng.random()
        handler = place  # whose co-chairs act: the clinic's, or the region's once escalated
        if fate < ESCALATE_ACK:
            # Not acknowledged in time: at most one side signed, and the escalation run of
            # the next business day sent it to the regional committee.
            if rng.random() < 0.5:
                side = rng.choice(sides)
                day = self.bday(calendar, raised, 1, 4)
                if day <= today:
                    self.sign(story, concern, ack, side, place.cochairs[side], day)
            escalated_on = calendar.deadline(ack_by, 1)
            if escalated_on > today:
                return self._finish(story, events)
            events.append((escalated_on, Status.ESCALATED))
            story.escalated, handler = True, self.regional
            acked = self.bday(calendar, escalated_on, 1, 8)
            signed = {s.side for s in story.signoffs}
            for side in sides:
                if side not in signed and acked <= today:
                    self.sign(story, concern, ack, side, handler.cochairs[side], acked)
        else:
            # Each co-chair signs within the acknowledgement clock.
            span = max(calendar.business_days_between(raised, ack_by), 1)
            low = 0 if calendar.is_business_day(raised) else 1
            days = [calendar.deadline(raised, rng.randint(low, min(span, 4))) for _ in sides]
            for side, day in zip(sides, days, strict=True):
                if day <= today:
                    self.sign(story, concern, ack, side, place.cochairs[side], day)
            acked = max(days)
        if acked > today:
            return self._finish(story, events)
        events.append((acked, Status.ACKNOWLEDGED))
        discussed = self.bday(calendar, acked, 1, 3)
        events.append((discussed, Status.IN_DISCUSSION))
        if not story.escalated and discussed <= today and rng.random() < 0.015:
            # Now and then both co-chairs agree to give themselves more time, or to pause.
            self._clock_change(story, place, concern, discussed)
            if story.paused_since is not None:
                return self._finish(story, events)
        if not story.escalated and fate < ESCALATE_ACK + ESCALATE_RESPONSE:
            # No joint response in time: escalated on the business day after the clock.
            escalated_on = calendar.deadline(concern.respond_by, 1)
            if escalated_on > today:
                return self._finish(story, events)  # overdue, not yet escalated
            events.append((escalated_on, Status.ESCALATED))
            story.escalated, handler = True, self.regional
            # Both sides had acknowledged, so the region's acknowledgement is immediate.
            discussed = self.bday(calendar, escalated_on, 1, 5)
            events += [(discussed, Status.ACKNOWLEDGED), (discussed, Status.IN_DISCUSSION)]
        if story.escalated:
            first = self.bday(calendar, discussed, 5, 20)
            second = self.bday(calendar, first, 0, 3)
        else:
            respond_by = concern.respond_by
            span = max(calendar.business_days_between(discussed, respond_by), 1)
            first = min(self.bday(calendar, discussed, 1, span), respond_by)
            second = min(self.bday(calendar, first, 0, 3), respond_by)
        drafted = max(discussed, first - dt.timedelta(days=rng.randint(0, 4)))
        if drafted > today:
            return self._finish(story, events)
        agreed = rng.random() < (0.62 if story.escalated else 0.8)
        story.response = JointResponse(
            concern=concern,
            agreed=agreed,
            text=(rng.choice(AGREED) if agreed else NOT_AGREED).format(idea=concern.proposed_idea),
            clinician_reasons="" if agreed else rng.choice(CLINICIAN_REASONS),
            management_reasons="" if agreed else rng.choice(MANAGEMENT_REASONS),
            version=1,
        )
        order = list(sides)
        rng.shuffle(order)
        for side, day in zip(order, (first, second), strict=True):
            if day <= today:
                self.sign(story, concern, Signoff.Step.RESPONSE, side, handler.cochairs[side], day)
        answered = max(first, second)
        events.append((answered, Status.JOINT_RESPONSE))

        def later(low: int, high: int) -> dt.timedelta:
            return dt.timedelta(days=rng.randint(low, high))

        if agreed:
            path = rng.random()
            if path < 0.75:
                acting = answered + later(1, 14)
                resolved = acting + later(30, 160)
                events.append((acting, Status.ACTION))
                if rng.random() < 0.9:
                    events.append((resolved, Status.RESOLVED))
                    if rng.random() < 0.7:
                        events.append((resolved + later(14, 60), Status.CLOSED))
            elif path < 0.9:
                resolved = answered + later(5, 30)
                events += [(resolved, Status.RESOLVED), (resolved + later(14, 60), Status.CLOSED)]
            else:
                events.append((answered + later(2, 10), Status.CLOSED))
        elif rng.random() < 0.8:
            events.append((answered + later(10, 40), Status.CLOSED))
        return self._finish(story, events)

    def _finish(self, story: Story, events: list[tuple[dt.date, str]]) -> Story:
        happened = [(day, status) for day, status in events if day <= self.today]
        if happened:
            story.status = happened[-1][1]
            story.version = 1 + len(happened)
            story.closed_on = next(
                (day for day, s in happened if s in (Status.RESOLVED, Status.CLOSED)), None
            )
        story.escalated = any(s == Status.ESCALATED for _, s in happened)
        return story

    def _clock_change(self, story: Story, place: Place, concern: Concern, day: dt.date) -> None:
        rng, calendar = self.rng, place.calendar
        signed = min(self.bday(calendar, day, 1, 3), concern.respond_by)
        if signed > self.today:
            return
        proposer = rng.choice(list(place.cochairs.values()))
        change = ClockChange(
            concern=concern,
            proposed_by_id=proposer,
            proposed_on=day,
            clinician_signed_by_id=place.cochairs[Side.CLINICIAN],
            management_signed_by_id=place.cochairs[Side.MANAGEMENT],
            started_on=signed,
        )
        if rng.random() < 0.65:
            # An extension is settled once both have signed (as services.clocks records it).
            change.kind = ClockChange.Kind.EXTEND
            change.state = ClockChange.State.ENDED
            change.ended_on = signed
            change.reason = rng.choice(EXTENSION_REASONS)
            change.business_days = rng.choice([5, 10, 10, 15])
            concern.respond_by = extended(concern.respond_by, change.business_days, calendar)
        else:
            change.kind = ClockChange.Kind.PAUSE
            change.reason = rng.choice(PAUSE_REASONS)
            resumed = signed + dt.timedelta(days=rng.randint(7, 21))
            if resumed > self.today:
                # Still paused: the clocks stand still until both co-chairs resume them.
                change.state = ClockChange.State.IN_EFFECT
                story.paused_since = signed
            else:
                change.state = ClockChange.State.ENDED
                change.ended_on = resumed
                change.business_days = paused_business_days(signed, resumed, calendar)
                concern.respond_by = extended(concern.respond_by, change.business_days, calendar)
        story.changes.append(change)

    def cosign(self, place: Place, concern: Concern, story: Story, exclude: set[int]) -> None:
        rng = self.rng
        roll = rng.random()
        wanted = 0 if roll < 0.35 else rng.randint(1, 3) if roll < 0.75 else rng.randint(3, 9)
        if not wanted:
            return
        last = min(story.closed_on or self.today, self.today)
        pool = [s for s in place.seated(concern.raised_on) if s.person_id not in exclude]
        for seat in rng.sample(pool, k=min(wanted, len(pool))):
            day = concern.raised_on + dt.timedelta(days=rng.randint(0, 20))
            self.cosigns.append(
                CoSign(
                    concern=concern,
                    person_id=seat.person_id,
                    side=seat.side,
                    signed_on=min(day, last),
                )
            )

    # --- the whole history ------------------------------------------------------------

    def generate(self) -> None:
        rng = self.rng
        places = sorted(self.places.values(), key=lambda p: p.committee.slug)
        weights = []
        for place in places:
            size = sum(s.end is None for s in place.seats)
            weight = 1 + 0.35 * len(place.teams) + 0.05 * size
            if place.committee.slug == "ppc-oakland":
                weight *= 1.6  # the flagship: the demo logins work here
            elif place.committee.slug in ("ppc-san-francisco", "ppc-san-jose", "ppc-sacramento"):
                weight *= 1.25
            weights.append(weight)
        total = sum(weights)
        history = TARGET_CONCERNS - 2  # the two Oakland concerns written by hand below
        counts = [int(history * w / total) for w in weights]
        for index in sorted(range(len(places)), key=lambda i: -weights[i])[: history - sum(counts)]:
            counts[index] += 1
        theme_weights = [theme.weight for theme in THEMES]
        for place, count in zip(places, counts, strict=True):
            for day in self.raise_days(count):
                theme = rng.choices(THEMES, weights=theme_weights)[0]
                mode = self.identity(place)
                raiser = (
                    None if mode == IdentityMode.ANONYMOUS else self.raiser(place, day, mode, theme)
                )
                self.add(place, day, theme, mode, raiser)

    def oakland(self, username_ids: dict[str, int]) -> tuple[Concern, Concern]:
        """clinician.oakland's own: a few of Oakland's confidential concerns, and two recent
        ones written by hand, one confidential and one anonymous with a known receipt."""
        place = next(p for p in self.places.values() if p.committee.slug == "ppc-oakland")
        clinician = username_ids["clinician.oakland"]
        seat = next(s for s in place.seats if s.person_id == clinician and s.end is None)
        theirs = [
            c
            for c in self.concerns
            if c.committee_id == place.committee.pk
            and c.identity_mode == IdentityMode.CONFIDENTIAL
            and seat.active_on(c.raised_on)
        ]
        for concern in theirs[-12::4]:
            concern.raised_by_id, concern.raiser_side = clinician, Side.CLINICIAN
        confidential = self.add(
            place,
            self.today - dt.timedelta(days=4),
            THEME_BY_KEY["caseload"],
            IdentityMode.CONFIDENTIAL,
            seat,
            {
                "title": "Pressure to close cases early",
                "category": Category.CLINICAL,
                "description": "Some of us have been told to discharge patients after eight "
                "sessions.",
                "patient_impact": "Patients who still need care lose it.",
                "proposed_idea": "A joint rule for when treatment ends.",
            },
        )
        anonymous = self.add(
            place,
            self.today - dt.timedelta(days=2),
            THEME_BY_KEY["intake_backlog"],
            IdentityMode.ANONYMOUS,
            None,
            {
                "title": "Afraid to speak up about waits",
                "category": Category.OTHER,
                "description": "Raising wait times in team meetings has led to cold responses.",
                "patient_impact": "Problems with access stay hidden.",
                "proposed_idea": "Make raising access problems an agenda item every month.",
            },
        )
        self.receipts[-1].token_hash = _hash(DEMO_RECEIPT)
        return confidential, anonymous

    def patterns(self, admin_id: int) -> list[CrossClinicPattern]:
        """Link recent concerns about the same problem at four to six clinics."""
        assert self.regional is not None
        found = []
        recent = self.today - dt.timedelta(days=150)
        for key, title in PATTERNS:
            theme = THEME_BY_KEY[key]
            by_clinic: dict[int, Concern] = {}
            for concern in reversed(self.concerns):
                if (
                    self.themes[concern.pk] is theme
                    and concern.raised_on >= recent
                    and self.stories[concern.pk].status not in (Status.CLOSED,)
                ):
                    by_clinic.setdefault(concern.committee_id, concern)
            chosen = sorted(by_clinic.values(), key=lambda c: (c.raised_on, str(c.pk)))
            chosen = chosen[: self.rng.randint(4, 6)]
            if len(chosen) < 3:
                continue
            pattern = CrossClinicPattern(
                id=_uuid(self.rng),
                region=self.regional.committee.region,
                title=title,
                category=theme.category,
                created_by_id=admin_id,
                created_on=min(max(c.raised_on for c in chosen) + dt.timedelta(days=3), self.today),
            )
            for concern in chosen:
                concern.pattern = pattern
            found.append(pattern)
        return found

    def comments(self, exclude: dict[uuid.UUID, set[int]]) -> tuple[list[Comment], list[Any]]:
        """A few discussion threads: on Oakland's open concerns and here and there elsewhere."""
        rng = self.rng
        comments: list[Comment] = []
        revisions: list[CommentRevision] = []
        is_open = {Status.ACKNOWLEDGED, Status.IN_DISCUSSION, Status.JOINT_RESPONSE, Status.ACTION}
        candidates = [c for c in self.concerns if self.stories[c.pk].status in is_open]
        oakland = [c for c in candidates if c.committee.slug == "ppc-oakland"][-10:]
        others = rng.sample([c for c in candidates if c not in oakland], k=15)
        zone = timezone.get_current_timezone()
        now = timezone.now()
        for concern in oakland + others:
            place = self.places[concern.committee_id]
            pool = [
                s for s in place.seated(concern.raised_on) if s.person_id not in exclude[concern.pk]
            ]
            parent: Comment | None = None
            day = concern.raised_on
            for _ in range(rng.randint(1, 4)):
                day = min(day + dt.timedelta(days=rng.randint(1, 6)), self.today)
                at = dt.datetime.combine(
                    day, dt.time(rng.randint(8, 17), rng.choice([0, 10, 25, 40, 55])), tzinfo=zone
                )
                at = min(at, now - dt.timedelta(hours=1))
                seat = rng.choice(pool)
                body = rng.choice(COMMENTS).format(team=rng.choice(place.teams or ["our team"]))
                comment = Comment(
                    id=_uuid(rng),
                    concern=concern,
                    parent=parent if parent is not None and rng.random() < 0.5 else None,
                    author_id=seat.person_id,
                    author_side=seat.side,
                    body=body,
                    created_at=at,
                )
                if rng.random() < 0.12:
                    # Edited once: the first wording is kept as a revision.
                    revisions.append(
                        CommentRevision(comment=comment, version=1, body=body, written_at=at)
                    )
                    comment.body = body + "\n\n(Edited to add: the report is on the shared drive.)"
                    comment.version = 2
                    comment.edited_at = min(at + dt.timedelta(minutes=rng.randint(5, 90)), now)
                comments.append(comment)
                parent = parent or comment
        # At least one edited comment, so the revision history can be shown.
        if not revisions and comments:
            first = comments[0]
            revisions.append(
                CommentRevision(
                    comment=first, version=1, body=first.body, written_at=first.created_at
                )
            )
            first.body += "\n\n(Edited to add: the report is on the shared drive.)"
            first.version = 2
            first.edited_at = first.created_at + dt.timedelta(minutes=20)
        return comments, revisions


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def _png_bars(values: list[int]) -> bytes:
    """A tiny grey-scale bar chart, drawn by hand so the demo needs no imaging library."""
    width, height = 8 * len(values), 40
    top = max(values) or 1
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter byte: none
        for value in values:
            bar = height - round(value * (height - 4) / top)
            row += bytes([60] * 6 + [255] * 2) if y >= bar else bytes([255] * 8)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def _evidence(loader: _Loader) -> list[Attachment]:
    """Three small evidence files on named Oakland concerns: aggregate figures only."""
    rng = random.Random(SEED + 1)
    oakland = [
        c
        for c in loader.concerns
        if c.committee.slug == "ppc-oakland"
        and c.identity_mode == IdentityMode.NAMED
        and c.raised_on < loader.today - dt.timedelta(days=10)
    ]
    files = [
        (
            "return_waits",
            "return-visit-waits-by-week.csv",
            "text/csv",
            _csv(
                [["week starting", "median business days to return visit", "visits"]]
                + [
                    [f"week {i + 1}", str(rng.randint(11, 24)), str(rng.randint(180, 260))]
                    for i in range(8)
                ]
            ),
        ),
        (
            "documentation",
            "documentation-minutes-per-day.csv",
            "text/csv",
            _csv(
                [["note type", "median minutes per day", "clinicians asked"]]
                + [
                    [kind, str(rng.randint(15, 70)), "14"]
                    for kind in ("intake", "follow-up", "group")
                ]
            ),
        ),
        (
            "intake_backlog",
            "intake-queue-by-month.png",
            "image/png",
            _png_bars([rng.randint(40, 220) for _ in range(6)]),
        ),
    ]
    attachments = []
    for key, name, content_type, data in files:
        concern = next((c for c in reversed(oakland) if loader.themes[c.pk].key == key), None)
        if concern is None:
            continue
        attachment = Attachment(
            id=_uuid(loader.rng),
            concern=concern,
            display_name=name,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by_id=concern.raised_by_id,
            uploaded_on=concern.raised_on + dt.timedelta(days=1),
        )
        attachment.file.save(name, ContentFile(data), save=False)
        attachments.append(attachment)
    return attachments


@transaction.atomic
def load_concerns_demo(today: dt.date | None = None) -> dict[str, int]:
    if Concern.objects.exists():
        return {"concerns": 0}
    loader = _Loader(today or timezone.localdate())
    loader.cover_holidays()
    loader.load_places()
    if not loader.places or loader.regional is None:
        return {"concerns": 0}
    people = dict(
        get_user_model()
        .objects.filter(username__in=["clinician.oakland", "admin.region"])
        .values_list("username", "pk")
    )
    loader.generate()
    confidential, anonymous = loader.oakland(people)
    exclude: dict[uuid.UUID, set[int]] = {}
    for concern in loader.concerns:
        place = loader.places[concern.committee_id]
        story = loader.story(place, concern)
        loader.stories[concern.pk] = story
        concern.status, concern.version = story.status, story.version
        concern.paused_since = story.paused_since
        if story.escalated:
            concern.escalated_to = loader.regional.committee
        # Nobody co-signs or comments on their own concern; clinician.oakland keeps off the
        # anonymous concern the demo knows to be theirs.
        mine = {concern.raised_by_id} if concern.raised_by_id else set()
        if concern is anonymous:
            mine = {people["clinician.oakland"]}
        exclude[concern.pk] = mine
        if concern not in (confidential, anonymous):
            loader.cosign(place, concern, story, mine)
    patterns = loader.patterns(people["admin.region"])
    comments, revisions = loader.comments(exclude)
    stories = loader.stories.values()

    CrossClinicPattern.objects.bulk_create(patterns)
    Concern.objects.bulk_create(loader.concerns, batch_size=BATCH)
    Receipt.objects.bulk_create(loader.receipts, batch_size=BATCH)
    Signoff.objects.bulk_create([s for story in stories for s in story.signoffs], batch_size=BATCH)
    JointResponse.objects.bulk_create(
        [story.response for story in stories if story.response is not None], batch_size=BATCH
    )
    ClockChange.objects.bulk_create([c for story in stories for c in story.changes])
    CoSign.objects.bulk_create(loader.cosigns, batch_size=BATCH)
    Comment.objects.bulk_create(comments, batch_size=BATCH)
    CommentRevision.objects.bulk_create(revisions)
    attachments = _evidence(loader)
    Attachment.objects.bulk_create(attachments)

    # The two newest Oakland concerns reach the co-chairs as they would after the daily release.
    for concern in (confidential, anonymous):
        notify_cochairs_of_new_concern(concern)
    modes: dict[str, int] = defaultdict(int)
    for concern in loader.concerns:
        modes[concern.identity_mode] += 1
    # One event for the whole history, naming no one: the rows above are demo data, not
    # things people did, and an event per anonymous concern would be noise at best.
    audit_record(
        action=AuditEvent.Action.CREATE,
        object_type="concerns.concern",
        object_repr="demo history of concerns",
        changes={
            "demo_seed": SEED,
            "from": loader.start.isoformat(),
            "to": loader.today.isoformat(),
            "concerns": len(loader.concerns),
            "identity_modes": dict(sorted(modes.items())),
            "patterns": len(patterns),
        },
    )
    return {
        "concerns": len(loader.concerns),
        "cosigns": len(loader.cosigns),
        "comments": len(comments),
        "attachments": len(attachments),
    }
