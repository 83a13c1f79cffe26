"""Projects follow concerns and decisions through: links within the committee only, audited,
and shown on both sides (the project page and the concern page)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from commonground.audit.models import AuditEvent
from commonground.concerns import services as concern_services
from commonground.improvement import services
from commonground.improvement.models import Project
from commonground.meetings.models import Decision

FIELDS = {
    "title": "Return visits are booked six weeks out",
    "description": "Follow-ups come after 30 business days.",
    "category": "access",
    "patient_impact": "Patients wait too long between sessions.",
    "not_a_grievance": True,
}


def _project(world, person):
    return services.project_create(
        actor=person,
        committee=world.ppc_a,
        title="Protected return slots",
        aim_what="Follow-up within 10 business days",
        aim_how_much="from 40% to 70%",
        aim_by_when=dt.date(2027, 6, 30),
        lead_side="clinician",
    )


def test_a_project_links_the_committees_concerns_and_decisions(world, carmen, diego, login):
    project = _project(world, diego)
    concern = concern_services.concern_raise(
        actor=carmen, committee=world.ppc_a, identity_mode="named", **FIELDS
    )
    decision = Decision.objects.create(
        committee=world.ppc_a,
        statement="Protect four return slots per clinician",
        decided_on=dt.date(2026, 11, 10),
        recorded_by=diego,
    )
    client = login(diego)
    url = reverse("improvement:project-links", args=[project.public_id])
    assert client.post(url, {"kind": "concern", "target": concern.pk}).status_code == 302
    assert client.post(url, {"kind": "decision", "target": decision.public_id}).status_code == 302
    assert list(project.concerns.all()) == [concern]
    assert list(project.decisions.all()) == [decision]
    assert AuditEvent.objects.filter(object_id=str(project.pk), action="update").count() == 2
    page = client.get(project.get_absolute_url()).content.decode()
    assert concern.title in page and "Protect four return slots" in page
    concern_page = client.get(concern.get_absolute_url()).content.decode()
    assert "Improvement project" in concern_page and "Protected return slots" in concern_page
    client.post(url, {"kind": "concern", "target": concern.pk, "unlink": "on"})
    assert not project.concerns.exists()


def test_another_clinics_concern_cannot_be_linked(world, diego, login):
    project = _project(world, diego)
    kenji = world.person("clinician_b")
    theirs = concern_services.concern_raise(
        actor=kenji, committee=world.ppc_b, identity_mode="named", **FIELDS
    )
    response = login(diego).post(
        reverse("improvement:project-links", args=[project.public_id]),
        {"kind": "concern", "target": theirs.pk},
    )
    assert response.status_code == 302
    assert not Project.objects.get(pk=project.pk).concerns.exists()


def test_only_the_team_or_managers_link(world, diego, ruth, login):
    project = _project(world, diego)
    response = login(ruth).post(
        reverse("improvement:project-links", args=[project.public_id]),
        {"kind": "concern", "target": "00000000-0000-0000-0000-000000000000"},
    )
    assert response.status_code == 403
