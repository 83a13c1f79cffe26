"""The region's clinic closure calendar on the settings page: checked whole, kept as numbered
versions (audited, idempotent), and used by the recomputed figures."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from commonground.access import settings_services
from commonground.access.aggregates import recompute_aggregates
from commonground.access.models import AccessAggregate, AccessSettings, ClosureCalendar
from commonground.access.tests.helpers import initial, write_csv
from commonground.access.tests.test_aggregates import import_file
from commonground.access.tests.test_imports import private_files  # noqa: F401 - fixture
from commonground.access.tests.test_settings_page import queued, with_extract  # noqa: F401
from commonground.audit.models import AuditEvent

URL = reverse("access:region-closures")
SETTINGS = reverse("access:region-settings")


def upload(client, content: bytes):
    return client.post(URL, {"file": SimpleUploadedFile("closures.csv", content, "text/csv")})


def test_the_data_steward_uploads_closures_and_the_figures_are_recomputed(
    world,
    login,
    queued,  # noqa: F811 - fixture
    django_capture_on_commit_callbacks,
):
    with_extract(world)
    client = login(world.person("data_steward"))
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(
            client, b"clinic_id,date,reason\nOAK,2024-10-09,Training\nOAK,2024-12-24,\n"
        )
    assert response.status_code == 302 and response["Location"].startswith(SETTINGS)
    calendar = ClosureCalendar.objects.get(region=world.region)
    assert calendar.number == 1 and calendar.days == {"OAK": ["2024-10-09", "2024-12-24"]}
    assert (calendar.clinic_count, calendar.day_count) == (1, 2)
    assert "Training" not in repr(calendar.days)  # the reason is not kept
    event = AuditEvent.objects.get(action="create", object_type="access.closurecalendar")
    assert event.changes["version"] == 1 and event.changes["days"] == 2
    assert len(queued) == 1
    page = client.get(SETTINGS).content.decode()
    assert "In use: version 1, 2 days at 1 clinic" in page
    assert '<th scope="row">OAK</th><td>2</td>' in page


def test_the_same_days_again_change_nothing(
    world,
    login,
    queued,  # noqa: F811 - fixture
    django_capture_on_commit_callbacks,
):
    with_extract(world)
    client = login(world.person("data_steward"))
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, b"clinic_id,date\nOAK,2024-10-09\nSRF,2024-12-24\n")
        response = upload(client, b"date,clinic_id,reason\n2024-12-24,SRF,x\n2024-10-09,OAK,y\n")
    assert response.status_code == 302
    assert ClosureCalendar.objects.filter(region=world.region).count() == 1
    assert AuditEvent.objects.filter(object_type="access.closurecalendar").count() == 1
    assert len(queued) == 1
    assert "Nothing changed" in client.get(SETTINGS).content.decode()


def test_a_bad_file_is_reported_by_line_and_nothing_changes(world, login, queued):  # noqa: F811
    client = login(world.person("regional_admin"))
    upload(client, b"clinic_id,date\nOAK,2024-10-09\n")
    response = upload(client, b"clinic_id,date\nOAK,2024-10-10\nOAK,9 October\n,2024-10-11\n")
    assert response.status_code == 422
    html = response.content.decode()
    assert "The file was not used, and nothing changed: 2 problems" in html
    assert "<td>3</td><td>date</td><td><code>9 October</code></td>" in html
    assert "<td>4</td><td>clinic_id</td><td><code></code></td><td>missing</td>" in html
    assert list(ClosureCalendar.objects.values_list("number", "days")) == [
        (1, {"OAK": ["2024-10-09"]})
    ]
    assert upload(client, b"").status_code == 422  # an empty upload is refused by the form
    too_big = b"clinic_id,date\n" + b"OAK,2024-10-09\n" * 400_000  # 6 MB
    response = upload(client, too_big)
    assert (
        response.status_code == 422 and "the file is larger than 5 MB" in response.content.decode()
    )
    assert ClosureCalendar.objects.count() == 1


def test_a_file_with_the_header_alone_withdraws_the_closures(world, login, queued):  # noqa: F811
    client = login(world.person("data_steward"))
    upload(client, b"clinic_id,date\nOAK,2024-10-09\n")
    assert upload(client, b"clinic_id,date\n").status_code == 302
    latest = settings_services.current_closures(world.region)
    assert latest is not None and (latest.number, latest.day_count) == (2, 0)
    assert "version 2 withdrew them" in client.get(SETTINGS).content.decode()


def test_people_who_may_not_change_the_settings_cannot_upload(world, login, queued):  # noqa: F811
    for persona in ("manager_a", "regional_cochair_clinician"):
        client = login(world.person(persona))
        assert upload(client, b"clinic_id,date\nOAK,2024-10-09\n").status_code == 403
    assert not ClosureCalendar.objects.exists()
    assert AuditEvent.objects.filter(action="denied", object_type="access.settings").count() == 2


def test_the_recomputed_figures_count_a_clinics_closures(
    world, tmp_path, django_capture_on_commit_callbacks
):
    """An offer on the 11th federal business day after 1 October 2024 misses the standard;
    with Oakland closed on the 9th it is the 10th, and meets it."""
    AccessSettings.objects.update_or_create(
        region=world.region, defaults={"clinic_codes": {"OAK": "oakland"}}
    )
    rows = [initial("O1", "2024-10-01T09:00:00-07:00", "2024-10-17T10:00:00-07:00")]
    import_file(world, write_csv(tmp_path / "x.csv", rows).read_bytes(),
                django_capture_on_commit_callbacks)  # fmt: skip
    october = {"clinic": world.clinic_a, "metric": "initial_non_urgent_mh", "period": "month",
               "dimension": "total", "period_start": dt.date(2024, 10, 1)}  # fmt: skip
    assert AccessAggregate.objects.get(**october).noncompliant == 1
    steward = world.person("data_steward")
    content = b"clinic_id,date\nOAK,2024-10-09\n"
    settings_services.closures_upload(actor=steward, region=world.region, content=content)
    run = recompute_aggregates(world.region)
    assert run.calendar == "federal@opm-2021.1+closures.1"
    figures = AccessAggregate.objects.get(**october)
    assert (figures.compliant, figures.noncompliant, figures.calendar) == (1, 0, run.calendar)
