"""Weekly counts uploads: every upload is recorded, a rejected one keeps a downloadable error
report (line, column, value, reason; formula-safe) that only its region's data steward may
read, audited, and the page lists recent uploads with a flat query count."""

from __future__ import annotations

import csv
import io

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commonground.access import counts
from commonground.access.models import AggregateRun
from commonground.audit.models import AuditEvent
from tests.factories import CommitteeFactory, MembershipFactory, RegionFactory

URL = reverse("access:counts-upload")
HEADER = "clinic_code,week_start,metric,provider_class,numerator,denominator,exceptions,pending\n"
GOOD = HEADER + "oakland,2025-10-06,follow_up_sb221,,25,50,1,3\n"


def upload(client, world, text: str):
    content = SimpleUploadedFile("counts.csv", text.encode(), content_type="text/csv")
    return client.post(URL, {"region": world.region.pk, "file": content})


def report_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def bad_upload(world, login):
    """A rejected upload by the data steward: three bad cells on two lines."""
    text = (
        GOOD + "oakland,2025-10-07,follow_up_sb221,,25,50,1,3\nnowhere,2025-10-13,urgent,,x,5,0,0\n"
    )
    response = upload(login(world.person("data_steward")), world, text)
    assert response.status_code == 422
    return response, AggregateRun.objects.get(state="invalid")


def test_a_rejected_upload_keeps_a_report_of_every_problem(world, login):
    response, run = bad_upload(world, login)
    assert (run.source, run.rows, run.rejected, run.error_report_lines) == ("counts", 3, 3, 3)
    assert run.requested_by == world.person("data_steward")
    errors_url = reverse("access:counts-errors", args=[run.pk])
    assert errors_url.encode() in response.content
    download = login(world.person("data_steward")).get(errors_url)
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    assert "no-store" in download["Cache-Control"]
    assert report_rows(download) == [
        ["line", "column", "value", "reason"],
        ["3", "week_start", "2025-10-07", "a week starts on a Monday"],
        ["4", "clinic_code", "nowhere", "no clinic of this region has this code"],
        ["4", "numerator", "x", "a whole number of 0 or more is required"],
    ]
    export = AuditEvent.objects.get(action="export", object_id=str(run.pk))
    assert export.object_type == "access.aggregaterun"
    created = AuditEvent.objects.get(action="create", object_id=str(run.pk))
    assert created.changes["state"] == "invalid" and created.changes["problems"] == 3
    assert not counts.AccessAggregate.objects.exists()  # nothing of the file is stored


def test_report_cells_cannot_run_as_spreadsheet_formulas(world, login):
    text = HEADER + (
        '"=HYPERLINK(""http://x"")",2025-10-06,urgent,,1,2,0,0\n'
        "oakland,@SUM(1),urgent,,1,2,0,0\n"
        "oakland,2025-10-06,+urgent,,1,2,0,0\n"
        "oakland,2025-10-13,urgent,,-1,2,0,0\n"
    )
    client = login(world.person("data_steward"))
    upload(client, world, text)
    run = AggregateRun.objects.get(state="invalid")
    rows = report_rows(client.get(reverse("access:counts-errors", args=[run.pk])))
    assert [r[2] for r in rows[1:]] == [
        '\'=HYPERLINK("http://x")',
        "'@SUM(1)",
        "'+urgent",
        "'-1",
    ]


def test_the_report_writer_neutralises_tabs_and_carriage_returns_too(world):
    from django.core.files.storage import storages

    from commonground.access import extract, services

    name = services.save_error_report(
        "access/counts/test/errors.csv",
        [extract.ExtractError(2, "\tcol", "\rvalue", "=reason")],
    )
    with storages["private"].open(name, "rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode(), newline="")))
    assert rows[1] == ["2", "'\tcol", "'\rvalue", "'=reason"]


def test_a_valid_upload_is_listed_with_its_rows(world, login):
    client = login(world.person("data_steward"))
    assert upload(client, world, GOOD).status_code == 302
    run = AggregateRun.objects.get()
    assert (run.state, run.rows, run.rejected, run.error_report) == ("done", 1, 0, "")
    page = client.get(URL).content.decode()
    assert "Recent counts uploads" in page and "Dana Lee" in page and "Done" in page
    assert reverse("access:counts-errors", args=[run.pk]) not in page
    assert client.get(reverse("access:counts-errors", args=[run.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["regional_admin", "clinician_a", "manager_a", "no_seat"])
def test_only_the_data_steward_downloads_a_report(world, login, persona):
    _, run = bad_upload(world, login)
    denied = AuditEvent.objects.filter(action="denied").count()
    url = reverse("access:counts-errors", args=[run.pk])
    assert login(world.person(persona)).get(url).status_code == 403
    assert AuditEvent.objects.filter(action="denied").count() == denied + 1
    assert not AuditEvent.objects.filter(action="export").exists()


def test_another_regions_steward_gets_not_found(world, login):
    _, run = bad_upload(world, login)
    other = RegionFactory(name="Southern", slug="southern")
    committee = CommitteeFactory(
        clinic=None, region=other, kind="regional", slug="south-regional", name="South"
    )
    steward = world.person("no_seat")
    MembershipFactory(person=steward, committee=committee, side="neutral", role="data_steward")
    TOTP.activate(steward, generate_totp_secret())
    client = login(steward)
    assert client.get(reverse("access:counts-errors", args=[run.pk])).status_code == 404
    page = client.get(URL)
    assert page.status_code == 200
    assert reverse("access:counts-errors", args=[run.pk]).encode() not in page.content
    assert not AuditEvent.objects.filter(action="export").exists()


def test_anonymous_people_are_sent_to_sign_in(world, client):
    run = AggregateRun.objects.create(region=world.region, source="counts", state="invalid")
    response = client.get(reverse("access:counts-errors", args=[run.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_an_extract_recompute_is_not_a_counts_upload(world, login):
    run = AggregateRun.objects.create(region=world.region, source="extract", error_report="x")
    client = login(world.person("data_steward"))
    assert client.get(reverse("access:counts-errors", args=[run.pk])).status_code == 404


def test_the_page_lists_the_first_problems_and_the_report_has_them_all(world, login):
    lines = "".join(f"oakland,2025-10-{d:02d},urgent,,1,2,0,0\n" for d in range(1, 29) if d != 6)
    many = HEADER + lines * 10  # over 250 bad rows (wrong weekdays, repeated weeks)
    response = upload(login(world.person("data_steward")), world, many)
    run = AggregateRun.objects.get(state="invalid")
    assert run.rejected == run.error_report_lines > counts.SHOWN_ERRORS
    html = response.content.decode()
    assert html.count("a week starts on a Monday") <= counts.SHOWN_ERRORS
    assert f"The first {counts.SHOWN_ERRORS} problems are listed here" in html


def test_the_counts_page_query_count_does_not_grow_with_the_uploads(world, login):
    dana = world.person("data_steward")
    client = login(dana)

    def make(n: int) -> None:
        for i in range(n):
            AggregateRun.objects.create(
                region=world.region,
                source="counts",
                state="invalid" if i % 2 else "done",
                requested_by=dana,
                rows=10,
                rejected=i % 2,
                error_report="access/counts/x/errors.csv" if i % 2 else "",
            )

    make(2)
    client.get(URL)
    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    make(10)
    with CaptureQueriesContext(connection) as large:
        response = client.get(URL)
    assert response.content.count(b">errors.csv<") == 6
    assert len(large) == len(small)
