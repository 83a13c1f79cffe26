"""Concerns for the demo region: a few open and answered ones at every clinic, and at Oakland
a confidential and an anonymous concern raised by clinician.oakland. (The two-year history
of about 3,000 concerns is still to come.)"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.db import transaction

from commonground.concerns import services
from commonground.concerns.models import Concern, Status
from commonground.organizations.models import Committee, Membership, Role, Side

SEED = 2028
THEMES = [
    (
        "access",
        "Return visits are offered four to six weeks out",
        "Most follow-up appointments are offered after 20 business days or more.",
        "Patients lose momentum in treatment and some end up in crisis care.",
        "Protect return slots in every clinician's week.",
    ),
    (
        "access",
        "Intake backlog keeps growing",
        "New patients wait more than three weeks for a first appointment.",
        "People who reached out at a hard moment stop answering our calls.",
        "Add an intake block on Wednesdays.",
    ),
    (
        "caseload",
        "Caseloads above what anyone can see regularly",
        "Several therapists carry more than 120 open patients.",
        "Individual therapy turns into check-ins months apart.",
        "Review caseloads monthly with both co-chairs.",
    ),
    (
        "clinical",
        "Group therapy offered when individual care is needed",
        "Patients are steered to groups because individual slots are full.",
        "Some patients need individual care and drop out of groups.",
        "A shared decision aid for group or individual care.",
    ),
    (
        "documentation",
        "Documentation takes more than an hour a day",
        "Note templates force duplicate entries.",
        "Less time for patients and for returning calls.",
        "Shorter templates for follow-up visits.",
    ),
    (
        "access",
        "Interpreters are hard to book for therapy",
        "Video interpreters are often unavailable at short notice.",
        "Patients with limited English wait longer for every visit.",
        "Flag interpreter needs when the appointment is booked.",
    ),
    (
        "safety",
        "No panic buttons in the new therapy rooms",
        "The rooms on the second floor have no alarm.",
        "Clinicians and patients are less safe during crises.",
        "Install alarms before the rooms are used for intakes.",
    ),
]


@transaction.atomic
def load_concerns_demo(today: dt.date | None = None) -> dict[str, int]:
    if Concern.objects.exists():
        return {"concerns": 0}
    day = today or dt.date(2026, 11, 2)
    rng = random.Random(SEED)
    user_model = get_user_model()
    count = 0
    for committee in Committee.objects.filter(kind=Committee.Kind.CLINIC_PPC).select_related(
        "clinic"
    ):
        seats = list(
            Membership.objects.current().filter(committee=committee).select_related("person")
        )
        clinicians = [
            s.person for s in seats if s.side == Side.CLINICIAN and s.role != Role.UNION_REP
        ]
        cochairs = {s.side: s.person for s in seats if s.role == Role.CO_CHAIR}
        for index, theme in enumerate(rng.sample(THEMES, k=3)):
            category, title, description, impact, idea = theme
            raised_on = day - dt.timedelta(days=rng.randint(3, 60))
            concern = services.concern_raise(
                actor=rng.choice(clinicians),
                committee=committee,
                identity_mode="named",
                title=title,
                description=description,
                category=category,
                patient_impact=impact,
                proposed_idea=idea,
                not_a_grievance=True,
                today=raised_on,
            )
            assert isinstance(concern, Concern)
            count += 1
            if index == 0:
                for side in (Side.CLINICIAN, Side.MANAGEMENT):
                    services.concern_acknowledge(actor=cochairs[side], concern=concern)
                services.response_draft(
                    actor=cochairs[Side.CLINICIAN],
                    concern=concern,
                    agreed=True,
                    text=f"Agreed: {idea.lower()} Review in three months.",
                )
                for side in (Side.CLINICIAN, Side.MANAGEMENT):
                    services.response_sign(actor=cochairs[side], concern=concern)
                services.concern_move(
                    actor=cochairs[Side.MANAGEMENT], concern=concern, to=Status.ACTION
                )
    clinician = user_model.objects.get(username="clinician.oakland")
    oakland = Committee.objects.get(slug="ppc-oakland")
    services.concern_raise(
        actor=clinician,
        committee=oakland,
        identity_mode="confidential",
        title="Pressure to close cases early",
        category="clinical",
        description="Some of us have been told to discharge patients after eight sessions.",
        patient_impact="Patients who still need care lose it.",
        proposed_idea="A joint rule for when treatment ends.",
        not_a_grievance=True,
        today=day - dt.timedelta(days=4),
    )
    services.concern_raise(
        actor=clinician,
        committee=oakland,
        identity_mode="anonymous",
        title="Afraid to speak up about waits",
        category="other",
        description="Raising wait times in team meetings has led to cold responses.",
        patient_impact="Problems with access stay hidden.",
        proposed_idea="Make raising access problems an agenda item every month.",
        not_a_grievance=True,
        today=day - dt.timedelta(days=2),
    )
    count += 1 + services.release_anonymous_concerns(today=day)
    return {"concerns": count}
