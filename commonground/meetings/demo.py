"""Meetings for the demo region: at every clinic, three monthly meetings with attendance,
approved minutes, a decision and its action items, and the next meeting with an agenda that
carries the open concerns. Bulk-loaded: it is demo data, not a history of service calls."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

from django.db import transaction

from commonground.concerns.models import OPEN_STATUSES, Concern
from commonground.meetings.models import (
    ActionItem,
    AgendaItem,
    Attendance,
    Decision,
    Meeting,
    Minutes,
)
from commonground.organizations.models import Committee, Membership, Role, Side

SEED = 2029
PAST = [dt.date(2026, 8, 11), dt.date(2026, 9, 8), dt.date(2026, 10, 13)]
NEXT = dt.date(2026, 12, 8)
MINUTES = (
    "Meeting of the {committee}, {day}.\n\n"
    "Present: {present} members ({clinicians} clinician side, {managers} management side); "
    "quorum met. Co-chairs presiding: {cochairs}.\n\n"
    "1. Minutes of the previous meeting approved without changes.\n"
    "2. Open actions reviewed.\n"
    "3. Decision: {decision}\n"
    "4. Actions: {actions}.\n\n"
    "Adjourned at 7:00 pm."
)


@transaction.atomic
def load_meetings_demo() -> dict[str, int]:
    if Meeting.objects.exists():
        return {"meetings": 0}
    rng = random.Random(SEED)
    count = 0
    for committee in Committee.objects.filter(kind=Committee.Kind.CLINIC_PPC).select_related(
        "clinic"
    ):
        assert committee.clinic is not None
        zone = zoneinfo.ZoneInfo(committee.clinic.time_zone)
        seats = list(
            Membership.objects.current().filter(committee=committee).select_related("person")
        )
        voters = [s for s in seats if s.side in (Side.CLINICIAN, Side.MANAGEMENT)]
        cochairs = {s.side: s.person for s in seats if s.role == Role.CO_CHAIR}
        clinician = next(
            s.person for s in seats if s.side == Side.CLINICIAN and s.role == Role.MEMBER
        )
        manager = next(
            s.person for s in seats if s.side == Side.MANAGEMENT and s.role == Role.MEMBER
        )
        open_concerns = list(
            Concern.objects.filter(committee=committee, status__in=OPEN_STATUSES).order_by(
                "respond_by"
            )
        )
        for index, day in enumerate([*PAST, NEXT]):
            meeting = Meeting.objects.create(
                committee=committee,
                title="Regular meeting",
                starts_at=dt.datetime.combine(day, dt.time(17, 30), tzinfo=zone),
                duration_minutes=90,
                place=f"{committee.clinic.name}, conference room",
            )
            count += 1
            if day == NEXT:
                AgendaItem.objects.bulk_create(
                    [
                        AgendaItem(
                            meeting=meeting,
                            position=1,
                            title="Review of open actions",
                            duration_minutes=15,
                        )
                    ]
                    + [
                        AgendaItem(
                            meeting=meeting,
                            position=2 + i,
                            title=c.title,
                            duration_minutes=20,
                            concern=c,
                        )
                        for i, c in enumerate(open_concerns[:3])
                    ]
                )
                continue
            present = [s for s in voters if rng.random() < 0.85 or s.role == Role.CO_CHAIR]
            Attendance.objects.bulk_create(
                Attendance(
                    meeting=meeting,
                    person=s.person,
                    side=s.side,
                    is_cochair=s.role == Role.CO_CHAIR,
                )
                for s in present
            )
            n_clin = sum(s.side == Side.CLINICIAN for s in present)
            n_mgmt = sum(s.side == Side.MANAGEMENT for s in present)
            statement = [
                "Protect four return-visit slots per clinician per week.",
                "Hold a same-week intake huddle every Monday.",
                "Review caseloads above 100 at every meeting.",
            ][index]
            decision = Decision.objects.create(
                committee=committee,
                meeting=meeting,
                statement=statement,
                rationale="Waits for return visits are above the 10-business-day standard.",
                decided_on=day,
                review_on=day + dt.timedelta(days=90),
                clinician_for=n_clin,
                management_for=n_mgmt,
                recorded_by=cochairs[Side.CLINICIAN],
            )
            actions = [
                ActionItem(
                    committee=committee,
                    title=f"Draft the plan: {statement.lower()}",
                    clinician_owner=clinician,
                    management_owner=manager,
                    due_on=day + dt.timedelta(days=21),
                    status=ActionItem.Status.DONE if index < 2 else ActionItem.Status.IN_PROGRESS,
                    decision=decision,
                    meeting=meeting,
                ),
                ActionItem(
                    committee=committee,
                    title="Report the effect on return-visit waits",
                    management_owner=manager,
                    due_on=day + dt.timedelta(days=56),
                    status=ActionItem.Status.DONE if index == 0 else ActionItem.Status.OPEN,
                    decision=decision,
                    meeting=meeting,
                ),
            ]
            ActionItem.objects.bulk_create(actions)
            approved = dt.datetime.combine(day + dt.timedelta(days=7), dt.time(12), tzinfo=zone)
            Minutes.objects.create(
                meeting=meeting,
                text=MINUTES.format(
                    committee=committee.name,
                    day=f"{day:%B} {day.day}, {day.year}",
                    present=len(present),
                    clinicians=n_clin,
                    managers=n_mgmt,
                    cochairs=" and ".join(p.get_display_name() for p in cochairs.values()),
                    decision=statement,
                    actions="; ".join(a.title for a in actions),
                ),
                clinician_approved_by=cochairs[Side.CLINICIAN],
                clinician_approved_at=approved,
                management_approved_by=cochairs[Side.MANAGEMENT],
                management_approved_at=approved,
                approved_at=approved,
                amendments_close_at=approved + dt.timedelta(days=5),
            )
    return {"meetings": count}
