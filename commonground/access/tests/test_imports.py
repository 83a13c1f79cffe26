"""Importing scheduling extracts: durable receipt, all-or-nothing merge, idempotence, crash
recovery, the data steward's pages and the ``access import`` command."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import duckdb
import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commonground.access import extract, services, store
from commonground.access.models import ImportJob
from commonground.access.tasks import run_import_task
from commonground.access.tests.helpers import SPEC_ROWS, initial, row, write_csv
from commonground.audit.models import AuditEvent
from tests.factories import ClinicFactory, CommitteeFactory, MembershipFactory, RegionFactory

State = ImportJob.State
KEY = "a-test-key-kept-outside-the-db-0123456789"


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    """A real private directory for the store, the uploads and the scratch space."""
    root = tmp_path / "private"
    settings.PRIVATE_FILES_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": None},
        },
    }
    settings.COMMONGROUND_ACCESS_PSEUDONYM_KEY = KEY
    settings.COMMONGROUND_ACCESS_MEMORY_LIMIT = "256MB"
    settings.COMMONGROUND_ACCESS_THREADS = 2
    return root


def _csv(tmp_path: Path, rows: list[dict[str, str]], name: str = "extract.csv") -> bytes:
    return write_csv(tmp_path / name, rows).read_bytes()


def receive(world, content: bytes, *, name: str = "extract.csv", clinic=None) -> ImportJob:
    return services.import_receive(
        actor=world.person("data_steward"),
        upload=ContentFile(content, name=name),
        original_name=name,
        region=world.region,
        clinic=clinic,
        enqueue=False,
    )


def run(world, content: bytes, **kwargs) -> ImportJob:
    job = receive(world, content, **kwargs)
    run_import_task.enqueue(str(job.pk))  # the immediate backend runs it now
    job.refresh_from_db()
    return job


def region_store(world) -> store.Store:
    return services.store_for(world.region.pk)


def stored_rows(world) -> list[tuple]:
    """Every stored row, sorted, as text (what "identical data" compares)."""
    files = region_store(world).files()
    if not files:
        return []
    con = duckdb.connect()
    rel = con.execute(
        "SELECT COLUMNS(*)::VARCHAR FROM read_parquet($f, hive_partitioning = false) "
        "ORDER BY appointment_id",
        {"f": [str(f) for f in files]},
    )
    return rel.fetchall()


def stored_by_id(world) -> dict[str, dict[str, str]]:
    files = region_store(world).files()
    con = duckdb.connect()
    rel = con.execute(
        "SELECT appointment_id, status::VARCHAR, start_day::VARCHAR, clinic_id "
        "FROM read_parquet($f, hive_partitioning = false)",
        {"f": [str(f) for f in files]},
    )
    return {r[0]: {"status": r[1], "start_day": r[2], "clinic_id": r[3]} for r in rel.fetchall()}


def upload_gone(job: ImportJob) -> bool:
    return job.upload == "" and not list(
        (Path(storages["private"].location) / "access" / "imports" / str(job.pk)).glob("upload*")
    )


# -- the pipeline ----------------------------------------------------------------------------


def test_a_valid_extract_is_stored_deidentified_with_counts(world):
    job = run(world, SPEC_ROWS.encode())
    assert job.state == State.DONE
    assert (job.rows, job.inserted, job.updated, job.unchanged, job.rejected) == (3, 3, 0, 0, 0)
    assert job.generation == 1 and job.attempts == 1 and job.finished_at is not None
    assert upload_gone(job) and len(job.sha256) == 64
    rows = stored_rows(world)
    assert [r[1] for r in rows] == ["A1001", "A1002", "A1003"]
    text = repr(rows)
    assert "P9001" not in text and "P9002" not in text  # keyed HMAC instead
    assert extract.pseudonymise("P9001", KEY.encode()) in text
    assert "PROVIDER ILL" not in text and "1988" not in text  # free text, birth year dropped
    assert job.quality["cutoff"] == "2025-03-20"
    assert job.quality["clinic_codes"] == ["OAK", "SRF"]
    assert job.quality["initial_requests"] is None  # 2 initial requests: a small cell
    actions = list(
        AuditEvent.objects.filter(object_id=str(job.pk)).values_list("action", flat=True)
    )
    assert sorted(actions) == ["create", "update"]
    assert not AuditEvent.objects.filter(object_repr__contains="extract.csv").exists()


def test_the_metrics_read_the_published_generation(world):
    from commonground.access import metrics
    from commonground.access.calendars import calendar_version

    run(world, SPEC_ROWS.encode())
    gen = region_store(world).current()
    con = duckdb.connect()
    extract.configure(con)
    extract.parquet_view(con, gen.path)
    version = calendar_version("federal")
    metrics.build_calendar_table(con, version, None, dt.date(2025, 1, 6), dt.date(2025, 3, 25))
    metrics.compute_units(con, metrics.Options(calendar=version, as_of=dt.date(2025, 3, 25)))
    follow_up = {u["start_appointment_id"]: u["status"] for u in metrics.unit_rows(con)
                 if u["metric"] == "follow_up_sb221"}  # fmt: skip
    assert follow_up["A1001"] == "noncompliant"  # 19 business days to A1002, as in the spec


def test_importing_the_same_file_three_times_leaves_identical_data(world):
    first = run(world, SPEC_ROWS.encode())
    before = stored_rows(world)
    files = {p: p.stat().st_ino for p in region_store(world).files()}
    for _ in range(3):
        again = run(world, SPEC_ROWS.encode())
        assert again.state == State.DONE
        assert (again.rows, again.inserted, again.updated, again.unchanged) == (3, 0, 0, 3)
        assert again.generation == first.generation  # nothing was rewritten
        assert stored_rows(world) == before
    assert {p: p.stat().st_ino for p in region_store(world).files()} == files


def test_an_overlapping_extract_merges_by_appointment_id_latest_wins(world, tmp_path):
    old = [
        row("A1", "2025-01-13T10:00:00-08:00", status="completed"),
        row("A2", "2025-02-10T10:00:00-08:00", status="scheduled", booked="2025-01-13T11:00:00"),
    ]
    run(world, _csv(tmp_path, old, "old.csv"))
    newer = [
        # A2 was rescheduled into March and attended: it moves partition.
        row("A2", "2025-03-03T10:00:00-08:00", status="completed", booked="2025-01-13T11:00:00"),
        row("A3", "2025-03-10T10:00:00-07:00", clinic_id="RIC"),
    ]
    job = run(world, _csv(tmp_path, newer, "new.csv"))
    assert (job.rows, job.inserted, job.updated, job.unchanged) == (2, 1, 1, 0)
    by_id = stored_by_id(world)
    assert sorted(by_id) == ["A1", "A2", "A3"]  # A2 once, not twice
    assert by_id["A2"] == {"status": "completed", "start_day": "2025-03-03", "clinic_id": "OAK"}
    parts = sorted(region_store(world).current().partitions)
    assert parts == [
        "year=2025/month=1/c_oak.parquet",
        "year=2025/month=3/c_oak.parquet",
        "year=2025/month=3/c_ric.parquet",
    ]  # February emptied and dropped


def test_a_bad_file_is_rejected_whole_with_a_report_and_nothing_stored(world, tmp_path):
    run(world, SPEC_ROWS.encode())
    before = stored_rows(world)
    gen = region_store(world).current().number
    rows = [
        row("B1", "2025-01-13T10:00:00-08:00"),
        row("B2", "2025-01-14T10:00:00-08:00", status="attended"),  # unmapped code
        row("B3", "2025-01-15T10:00:00-08:00", patient_id="=HYPERLINK(P777)"),
        row("B4", "2025-01-16T10:00:00-08:00", cancel_reason="-called by Mrs Smith"),
    ]
    content = _csv(tmp_path, rows) + b"B5,P4242,OAK,PR1\n"  # a truncated record
    job = run(world, content)
    assert job.state == State.INVALID
    assert job.rejected >= 4 and job.inserted is None
    assert job.rows == 5  # B2 and B5, which the reader cannot read, are rows of the file too
    assert upload_gone(job)
    assert stored_rows(world) == before and region_store(world).current().number == gen
    report = storages["private"].open(job.error_report).read().decode()
    lines = list(csv.reader(io.StringIO(report)))
    assert lines[0] == ["line", "column", "value", "reason"]
    by_line = {int(r[0]): r for r in lines[1:]}
    assert by_line[3][1] == "status" and by_line[3][2] == "attended"
    assert by_line[4][1] == "patient_id" and by_line[4][2] == services.ingest.WITHHELD
    assert by_line[5][1] == "cancel_reason" and "Smith" not in report
    assert by_line[6][2] == services.ingest.WITHHELD_ROW
    assert "P777" not in report and "P4242" not in report
    assert job.error_report_lines == len(lines) - 1
    reasons = {p[1] for p in job.quality["problems"]}
    assert any(r.startswith("unmapped code") for r in reasons)


def test_a_crash_after_staging_rolls_back_and_a_rerun_merges_once(world, tmp_path, monkeypatch):
    run(world, SPEC_ROWS.encode())
    before = stored_rows(world)
    extra = [row("C1", "2025-01-20T10:00:00-08:00"), row("A1001", "2025-01-21T10:00:00-08:00")]
    job = receive(world, _csv(tmp_path, extra))

    def crash(name: str) -> None:
        if name == "staged":
            raise OSError("worker killed")

    monkeypatch.setattr(store, "_checkpoint", crash)
    run_import_task.call(str(job.pk))
    job.refresh_from_db()
    assert job.state == State.MERGING and job.attempts == 1
    assert "OSError" in job.last_error and "killed" not in job.last_error
    assert stored_rows(world) == before  # nothing published
    assert (region_store(world).root / store.STAGING / str(job.pk)).exists()
    assert job.upload  # kept for the retry

    monkeypatch.setattr(store, "_checkpoint", lambda name: None)
    run_import_task.call(str(job.pk))
    job.refresh_from_db()
    assert job.state == State.DONE and job.attempts == 2
    assert (job.rows, job.inserted, job.updated, job.unchanged) == (2, 1, 1, 0)
    assert job.generation == 2
    assert not (region_store(world).root / store.STAGING).exists()
    ids = [r[1] for r in stored_rows(world)]
    assert ids == ["A1001", "A1002", "A1003", "C1"]
    run_import_task.call(str(job.pk))  # once more: nothing happens
    job.refresh_from_db()
    assert job.attempts == 2 and region_store(world).current().number == 2


def test_a_crash_after_publishing_is_finished_from_the_manifest(world, tmp_path, monkeypatch):
    run(world, SPEC_ROWS.encode())
    job = receive(world, _csv(tmp_path, [row("C1", "2025-01-20T10:00:00-08:00")]))

    def crash(name: str) -> None:
        if name == "published":
            raise OSError("worker killed")

    monkeypatch.setattr(store, "_checkpoint", crash)
    run_import_task.call(str(job.pk))
    job.refresh_from_db()
    assert job.state == State.MERGING
    assert region_store(world).current().number == 2  # the rows are in
    published = stored_rows(world)

    monkeypatch.setattr(store, "_checkpoint", lambda name: None)
    run_import_task.call(str(job.pk))
    job.refresh_from_db()
    # The counts of the merge that happened, not those of merging a second time.
    assert job.state == State.DONE
    assert (job.rows, job.inserted, job.updated, job.unchanged) == (1, 1, 0, 0)
    assert job.generation == 2 and region_store(world).current().number == 2
    assert stored_rows(world) == published
    assert upload_gone(job)


def test_a_job_that_keeps_failing_gives_up_and_deletes_the_upload(world, monkeypatch):
    job = receive(world, SPEC_ROWS.encode())

    def crash(name: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(store, "_checkpoint", crash)
    for _ in range(services.MAX_ATTEMPTS):
        run_import_task.call(str(job.pk))
    job.refresh_from_db()
    assert job.state == State.FAILED and job.attempts == services.MAX_ATTEMPTS
    assert upload_gone(job)
    assert region_store(world).current() is None


def test_rows_made_with_another_key_are_refused(world, settings):
    run(world, SPEC_ROWS.encode())
    before = stored_rows(world)
    settings.COMMONGROUND_ACCESS_PSEUDONYM_KEY = "another-key-another-key-another-key"
    job = run(world, SPEC_ROWS.encode())
    assert job.state == State.FAILED and "key" in job.last_error
    assert stored_rows(world) == before


def test_an_in_memory_private_storage_is_copied_to_scratch(world, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    job = run(world, SPEC_ROWS.encode())
    assert job.state == State.DONE and job.inserted == 3
    assert not storages["private"].exists(f"access/imports/{job.pk}/upload.csv")


def test_a_clinic_import_reads_times_without_offset_in_the_clinic_zone(world, tmp_path):
    world.clinic_a.time_zone = "America/New_York"
    world.clinic_a.save()
    rows = [initial("D1", "2025-01-06T09:00:00", "2025-01-06T23:30:00")]
    job = run(world, _csv(tmp_path, rows), clinic=world.clinic_a)
    assert job.state == State.DONE
    assert job.quality["timezone"] == "America/New_York"
    assert job.quality["values_without_offset"] == 3


# -- the pages -------------------------------------------------------------------------------


def test_the_data_steward_uploads_and_the_job_runs_after_commit(
    world, dana, login, django_capture_on_commit_callbacks
):
    client = login(dana)
    url = reverse("access:import-list")
    assert client.get(url).status_code == 200
    upload = ContentFile(SPEC_ROWS.encode(), name="spec.csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"file": upload, "region": world.region.pk, "clinic": world.clinic_a.pk}
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.state == State.DONE and job.clinic == world.clinic_a and job.uploaded_by == dana
    page = client.get(job.get_absolute_url())
    assert page.status_code == 200
    assert b"hx-trigger" not in page.content and b"Done" in page.content


def test_an_upload_without_a_file_re_renders_the_form(world, dana, login):
    response = login(dana).post(reverse("access:import-list"), {"region": world.region.pk})
    assert response.status_code == 422
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("persona", ["clinician_a", "manager_a", "regional_admin", "no_seat"])
def test_only_the_data_steward_reaches_imports(world, login, persona):
    job = receive(world, SPEC_ROWS.encode())
    client = login(world.person(persona))
    before = AuditEvent.objects.filter(action="denied").count()
    assert client.get(reverse("access:import-list")).status_code == 403
    assert client.get(job.get_absolute_url()).status_code == 403
    errors = reverse("access:import-errors", args=[job.pk])
    assert client.get(errors).status_code == 403
    assert AuditEvent.objects.filter(action="denied").count() == before + 3


def test_anonymous_people_are_sent_to_sign_in(world, client):
    response = client.get(reverse("access:import-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_another_regions_import_is_not_found(world, login):
    other = RegionFactory(name="Southern", slug="southern")
    committee = CommitteeFactory(
        clinic=None, region=other, kind="regional", slug="south-regional", name="South"
    )
    steward = world.person("no_seat")
    MembershipFactory(person=steward, committee=committee, side="neutral", role="data_steward")
    TOTP.activate(steward, generate_totp_secret())  # data stewards sign in with two steps
    job = receive(world, SPEC_ROWS.encode())
    client = login(steward)
    assert client.get(reverse("access:import-list")).status_code == 200
    assert client.get(job.get_absolute_url()).status_code == 404
    assert job.original_name.encode() not in client.get(reverse("access:import-list")).content


def test_the_progress_partial_polls_while_running_and_stops_when_finished(world, dana, login):
    job = receive(world, SPEC_ROWS.encode())
    ImportJob.objects.filter(pk=job.pk).update(
        state=State.MERGING, phase="merging", progress_done=3, progress_total=12
    )
    client = login(dana)
    views_before = AuditEvent.objects.filter(action="view").count()
    partial = client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    html = partial.content.decode()
    assert "<html" not in html and 'id="import-status"' in html
    assert 'hx-trigger="every 1s"' in html
    assert '<progress id="import-progress" max="12" value="3">' in html and "25%" in html
    assert AuditEvent.objects.filter(action="view").count() == views_before  # polls not logged
    services.import_run(job.pk)
    finished = client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in finished and "<progress" not in finished
    assert "Done" in finished


def test_the_import_pages_are_audited_and_show_the_data_quality_shares(
    world, dana, login, tmp_path
):
    """40 initial requests: 12 booked at the request time, 11 without a request date."""
    at, start, later = (
        "2025-01-06T09:00:00-08:00",
        "2025-01-14T10:00:00-08:00",
        "2025-01-07T09:00:00-08:00",
    )
    rows = [initial(f"E{i}", at, start) for i in range(12)]
    rows += [initial(f"L{i}", at, start, booked=later) for i in range(17)]
    rows += [initial(f"M{i}", "", start, booked=later) for i in range(11)]
    job = run(world, _csv(tmp_path, rows))
    assert job.state == State.DONE
    client = login(dana)
    assert client.get(reverse("access:import-list")).status_code == 200
    page = client.get(job.get_absolute_url()).content.decode()
    assert "30.0% (12 of 40)" in page  # request time equals booking time
    assert "27.5% (11 of 40)" in page  # without a request date
    views = AuditEvent.objects.filter(action="view", actor_id=dana.pk)
    assert views.filter(object_type="access.imports").count() == 1
    assert views.filter(object_id=str(job.pk)).count() == 1


def test_the_error_report_downloads_for_the_steward_and_is_audited(world, dana, login, tmp_path):
    job = run(world, _csv(tmp_path, [row("E1", "2025-01-13T10:00:00-08:00", status="nope")]))
    assert job.state == State.INVALID
    client = login(dana)
    page = client.get(job.get_absolute_url())
    errors_url = reverse("access:import-errors", args=[job.pk])
    assert errors_url.encode() in page.content
    # The row the reader could not read is still the file's one row.
    assert b"1 problem in a file of 1 row." in page.content
    response = client.get(errors_url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    assert "line,column,value,reason" in body and "nope" in body
    assert AuditEvent.objects.filter(action="export", object_id=str(job.pk)).count() == 1


def test_a_job_without_a_report_has_no_download(world, dana, login):
    job = run(world, SPEC_ROWS.encode())
    assert login(dana).get(reverse("access:import-errors", args=[job.pk])).status_code == 404


def test_the_import_list_query_count_does_not_grow(world, dana, login):
    client = login(dana)
    url = reverse("access:import-list")
    clinic = ClinicFactory(region=world.region, name="Extra", slug="extra", city="Extra")

    def make(n: int, start: int = 0) -> None:
        for i in range(start, start + n):
            ImportJob.objects.create(
                region=world.region,
                clinic=clinic if i % 2 else None,
                uploaded_by=dana,
                original_name=f"f{i}.csv",
                size=1,
                sha256="0" * 64,
            )

    make(2)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    make(10, start=2)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.content.count(b".csv</a>") == 12
    assert len(large) == len(small)


# -- the command line ------------------------------------------------------------------------


def test_cli_import_with_wait_runs_inline_and_exits_zero(world, dana, tmp_path):
    path = tmp_path / "spec.csv"
    path.write_text(SPEC_ROWS)
    out = io.StringIO()
    call_command(
        "access",
        "import",
        str(path),
        "--region",
        world.region.slug,
        "--user",
        dana.username,
        "--wait",
        stdout=out,
    )
    assert "state: done" in out.getvalue() and "new 3" in out.getvalue()
    assert ImportJob.objects.get().state == State.DONE
    assert path.exists()  # the steward's own file is not touched


def test_cli_import_of_a_bad_file_exits_two_with_the_report(world, dana, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [row("E1", "2025-01-13T10:00:00-08:00", status="x")])
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command(
            "access",
            "import",
            str(path),
            "--clinic",
            world.clinic_a.slug,
            "--user",
            dana.username,
            "--wait",
            stdout=out,
        )
    assert exit_.value.code == 2
    text = out.getvalue()
    assert "INVALID" in text and "line 2: status = 'x'" in text


def test_cli_import_without_wait_queues_the_job(world, dana, tmp_path):
    path = tmp_path / "spec.csv"
    path.write_text(SPEC_ROWS)
    out = io.StringIO()
    call_command(
        "access",
        "import",
        str(path),
        "--region",
        world.region.slug,
        "--user",
        dana.username,
        stdout=out,
    )
    job = ImportJob.objects.get()
    assert str(job.pk) in out.getvalue()
    assert job.state == State.RECEIVED and job.upload  # runs when the test transaction commits


def test_cli_import_refuses_someone_who_is_not_a_data_steward(world, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "spec.csv"
    path.write_text(SPEC_ROWS)
    with pytest.raises(CommandError, match="not a data steward"):
        call_command(
            "access",
            "import",
            str(path),
            "--region",
            world.region.slug,
            "--user",
            world.person("regional_admin").username,
            "--wait",
        )
    assert not ImportJob.objects.exists()


def test_a_job_whose_rows_were_published_is_done_even_when_attempts_run_out(world, monkeypatch):
    job = receive(world, SPEC_ROWS.encode())

    def crash(name: str) -> None:
        if name == "published":
            raise RuntimeError("boom")

    monkeypatch.setattr(store, "_checkpoint", crash)
    monkeypatch.setattr(services, "MAX_ATTEMPTS", 1)  # the crash is on the last attempt
    run_import_task.call(str(job.pk))
    job.refresh_from_db()
    assert job.state == State.DONE and job.inserted == 3 and job.attempts == 1
    assert job.quality["cutoff"] == "2025-03-20"
