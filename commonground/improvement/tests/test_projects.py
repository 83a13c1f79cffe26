"""Improvement projects through their services and pages: aims, teams, measures, data,
PDSA cycles, phases after an adopted change, and the accountability ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commonground.audit.models import AuditEvent
from commonground.improvement import selectors, services
from commonground.improvement.models import Commitment, MeasurePoint, PhaseBreak, Project

MONDAY = dt.date(2026, 1, 5)


def _weeks(n):
    return [MONDAY + dt.timedelta(weeks=i) for i in range(n)]


@pytest.fixture
def project(world, carmen):
    return services.project_create(
        actor=carmen,
        committee=world.ppc_a,
        title="Return visits within 10 business days",
        aim_what="Patients see their therapist again within 10 business days",
        aim_how_much="from 60% to 85%",
        aim_by_when=dt.date(2027, 6, 30),
        lead_side="clinician",
    )


@pytest.fixture
def measure(project, carmen):
    return services.measure_create(
        actor=carmen,
        project=project,
        name="Median business days to the next visit",
        kind="outcome",
        operational_definition="Weekly median from the scheduling extract.",
        unit="business days",
        chart="i",
        direction="decrease",
        target=10,
        multiply=1,
        baseline_points=None,
    )


def _csv(rows, header="period,value"):
    return (header + "\n" + "\n".join(rows) + "\n").encode()


def test_starting_a_project_makes_its_starter_the_lead_and_asks_for_the_other_side(project, carmen):
    lead = project.team.get()
    assert (lead.person, lead.side, lead.is_lead) == (carmen, "clinician", True)
    assert services.team_sides_missing(project) == ["Management"]
    assert AuditEvent.objects.filter(object_type="improvement.project", action="create").exists()


def test_an_upload_is_checked_whole_and_reports_every_bad_row(measure, carmen):
    raw = _csv(["2026-01-05,12", "2026-13-01,11", "2026-01-19,eleven", "2026-01-05,9"])
    with pytest.raises(services.UploadRejected) as rejected:
        services.measure_points_import(actor=carmen, measure=measure, raw=raw, filename="w.csv")
    problems = [(e.line, e.column, e.reason) for e in rejected.value.errors]
    assert problems == [
        (3, "period", "not a date (use YYYY-MM-DD)"),
        (4, "value", "not a number"),
        (5, "period", "repeats line 2"),
    ]
    assert MeasurePoint.objects.count() == 0  # nothing stored from a bad file


def test_importing_the_same_file_again_changes_nothing(measure, carmen):
    raw = _csv([f"{day.isoformat()},{10 + i % 3}" for i, day in enumerate(_weeks(20))])
    first = services.measure_points_import(actor=carmen, measure=measure, raw=raw, filename="w.csv")
    snapshot = list(MeasurePoint.objects.order_by("period").values_list("period", "value"))
    again = services.measure_points_import(actor=carmen, measure=measure, raw=raw, filename="w.csv")
    assert (first.created, again.created, again.updated, again.unchanged) == (20, 0, 0, 20)
    assert list(MeasurePoint.objects.order_by("period").values_list("period", "value")) == snapshot


def test_a_p_chart_needs_denominators(project, carmen):
    rate = services.measure_create(
        actor=carmen,
        project=project,
        name="Booked at visit",
        kind="process",
        operational_definition="Share booked before leaving.",
        unit="%",
        chart="p",
        direction="increase",
        target=None,
        multiply=100,
        baseline_points=None,
    )
    with pytest.raises(services.UploadRejected, match="1 problem"):
        services.measure_points_import(
            actor=carmen, measure=rate, raw=_csv(["2026-01-05,12"]), filename="r.csv"
        )
    with pytest.raises(ValidationError, match="cannot exceed"):
        services.measure_point_set(
            actor=carmen, measure=rate, period=MONDAY, value=30, denominator=20
        )


def test_missing_weeks_stay_missing_on_the_chart(measure, carmen):
    raw = _csv(["2026-01-05,12", "2026-01-12,", "2026-01-19,11"])
    services.measure_points_import(actor=carmen, measure=measure, raw=raw, filename="w.csv")
    chart = selectors.measure_chart(measure, profile="qi")
    assert [p["value"] for p in chart.points] == [12.0, None, 11.0]


def test_adopting_a_change_starts_a_new_phase_on_its_measure(project, measure, carmen):
    weeks = _weeks(30)
    values = [
        16,
        15,
        17,
        16,
        15,
        16,
        17,
        15,
        16,
        16,
        15,
        17,
        16,
        15,
        16,
        10,
        11,
        10,
        9,
        10,
        11,
        10,
        10,
        9,
        11,
        10,
        10,
        11,
        9,
        10,
    ]
    raw = _csv([f"{d.isoformat()},{v}" for d, v in zip(weeks, values, strict=True)])
    services.measure_points_import(actor=carmen, measure=measure, raw=raw, filename="w.csv")
    cycle = services.pdsa_create(
        actor=carmen,
        project=project,
        change_idea="Book before leaving",
        plan="Whole team",
        prediction="Median under 11 days",
        started_on=weeks[10],
        measure=measure,
    )
    project.refresh_from_db()
    assert project.status == Project.Status.TESTING
    with pytest.raises(ValidationError, match="Study the result"):
        services.pdsa_record(
            actor=carmen,
            cycle=cycle,
            do_notes="",
            study="",
            act="adopt",
            act_reason="",
            ended_on=weeks[15],
        )
    services.pdsa_record(
        actor=carmen,
        cycle=cycle,
        do_notes="Done",
        study="Median fell to 10",
        act="adopt",
        act_reason="Sustained",
        ended_on=weeks[15],
    )
    assert PhaseBreak.objects.get(measure=measure).starts_on == weeks[15]
    chart = selectors.measure_chart(measure, profile="qi")
    centre_lines = sorted({p["cl"] for p in chart.points if p["cl"] is not None})
    assert len(centre_lines) == 2  # one centre line per phase
    assert centre_lines[0] < 11 < centre_lines[1]
    # The cycle is annotated on the chart.
    assert "PDSA 1: Book before leaving" in str(chart.spec)


def test_the_ledger_rolls_progress_up(world, omar, carmen, maria):
    rec = services.recommendation_create(
        actor=omar,
        committee=world.ppc_a,
        title="Protect return slots",
        description="",
        made_on=dt.date(2026, 9, 1),
    )
    services.commitment_create(
        actor=omar,
        recommendation=rec,
        what="Hold four return slots",
        clinician_owner=carmen,
        management_owner=maria,
        resources="",
        money=None,
        fte=None,
        due_on=dt.date(2026, 12, 1),
        status="delivered",
        progress=30,
        delivered_on=dt.date(2026, 11, 2),
        evidence="Template",
    )
    services.commitment_create(
        actor=omar,
        recommendation=rec,
        what="Scheduler hours",
        clinician_owner=None,
        management_owner=maria,
        resources="0.2 FTE",
        money=None,
        fte=Decimal("0.2"),
        due_on=dt.date(2027, 1, 1),
        status="committed",
        progress=40,
        delivered_on=None,
        evidence="",
    )
    ledger = selectors.committee_ledger(world.ppc_a)
    assert ledger.rows[0].progress == 70  # delivered counts 100, the other its 40
    assert ledger.counts["delivered"] == 1 and ledger.counts["committed"] == 1
    with pytest.raises(ValidationError, match="at least one side"):
        services.commitment_create(
            actor=omar,
            recommendation=rec,
            what="Nobody's",
            clinician_owner=None,
            management_owner=None,
            resources="",
            money=None,
            fte=None,
            due_on=dt.date(2027, 1, 1),
            status="proposed",
            progress=0,
            delivered_on=None,
            evidence="",
        )
    commitment = Commitment.objects.get(what="Scheduler hours")
    with pytest.raises(ValidationError, match="date it was delivered"):
        services.commitment_update(actor=omar, commitment=commitment, status="delivered")


def test_project_page_shows_the_chart_summary_and_data_table(measure, carmen, login):
    raw = _csv([f"{d.isoformat()},{12 + (i % 2)}" for i, d in enumerate(_weeks(16))])
    services.measure_points_import(actor=carmen, measure=measure, raw=raw, filename="w.csv")
    response = login(carmen).get(measure.project.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "data-chart-spec" in html
    chart = selectors.measure_chart(measure, profile="qi")
    assert chart.summary and chart.summary[0] in html
    assert "<details" in html


def test_upload_through_the_page_reports_rows_and_keeps_nothing(measure, carmen, login):
    bad = SimpleUploadedFile("w.csv", _csv(["2026-01-05,12", "yesterday,3"]), "text/csv")
    response = login(carmen).post(
        reverse("improvement:measure-upload", args=[measure.public_id]), {"file": bad}
    )
    assert response.status_code == 422
    assert "Nothing was stored" in response.content.decode()
    assert "yesterday" in response.content.decode()
    assert MeasurePoint.objects.count() == 0


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_project_page_queries_do_not_grow_with_measures_points_or_cycles(
    project, measure, carmen, login
):
    client = login(carmen)
    url = project.get_absolute_url()
    client.get(url)
    small = _count(client, url)
    for index in range(4):
        extra = services.measure_create(
            actor=carmen,
            project=project,
            name=f"Extra {index}",
            kind="balancing",
            operational_definition="x",
            unit="",
            chart="run",
            direction="neutral",
            target=None,
            multiply=1,
            baseline_points=None,
        )
        raw = _csv([f"{d.isoformat()},{i}" for i, d in enumerate(_weeks(30))])
        services.measure_points_import(actor=carmen, measure=extra, raw=raw, filename="x.csv")
        services.pdsa_create(
            actor=carmen,
            project=project,
            change_idea=f"Idea {index}",
            plan="p",
            prediction="q",
            started_on=MONDAY,
            measure=extra,
        )
    assert _count(client, url) == small


def _project_with_ledger(committee, carmen, omar, index):
    project = services.project_create(
        actor=carmen,
        committee=committee,
        title=f"P{index}",
        aim_what="a",
        aim_how_much="b",
        aim_by_when=dt.date(2027, 1, 1),
        lead_side="clinician",
    )
    rec = services.recommendation_create(
        actor=omar,
        committee=committee,
        title=f"R{index}",
        description="",
        made_on=MONDAY,
        project=project,
    )
    services.commitment_create(
        actor=omar,
        recommendation=rec,
        what="c",
        clinician_owner=carmen,
        management_owner=None,
        resources="",
        money=None,
        fte=None,
        due_on=MONDAY,
        status="proposed",
        progress=0,
        delivered_on=None,
        evidence="",
    )


def test_committee_projects_and_ledger_queries_do_not_grow(world, carmen, omar, login):
    client = login(carmen)
    urls = [
        reverse("improvement:committee-projects", args=["ppc-oakland"]),
        reverse("improvement:committee-ledger", args=["ppc-oakland"]),
    ]
    _project_with_ledger(world.ppc_a, carmen, omar, 0)
    for url in urls:
        client.get(url)
    small = [_count(client, url) for url in urls]
    for index in range(1, 6):
        _project_with_ledger(world.ppc_a, carmen, omar, index)
    assert [_count(client, url) for url in urls] == small


def test_region_ledger_queries_do_not_grow(world, ada, omar, login):
    client = login(ada)
    url = reverse("improvement:region-ledger")
    services.recommendation_create(
        actor=ada, committee=world.ppc_a, title="First", description="", made_on=MONDAY
    )
    client.get(url)
    small = _count(client, url)
    for committee in (world.ppc_a, world.ppc_b):
        for index in range(3):
            services.recommendation_create(
                actor=ada, committee=committee, title=f"R{index}", description="", made_on=MONDAY
            )
    assert _count(client, url) == small
