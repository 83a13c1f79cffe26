"""FHIR Bulk Data exports (access-and-parity.md section 6.2): several ndjson files per type
behind a completion manifest, an error file, and the manifest's transactionTime as the data
cut-off T; zipped for an upload, or a manifest with its files beside it on the command line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from commonground.access import bulk, readers, side
from commonground.access.tests import bulk_files as cases
from commonground.access.tests.bulk_files import (
    BASE,
    export_folder,
    export_zip,
    files_of,
    manifest,
)
from commonground.access.tests.test_fhir import bundle, canonical, check, spec_resources, write
from commonground.access.tests.test_imports import private_files  # noqa: F401 - a fixture

FEED = side.SLOT_COLUMNS.index("feed")  # of a stored slot row


def spec_export(tmp_path: Path, **options: object) -> Path:
    files = files_of(spec_resources())
    return export_zip(tmp_path / "export.zip", files, manifest(files, **options))


# -- reading an export ---------------------------------------------------------------------------


def test_an_export_of_several_files_per_type_gives_the_rows_of_the_same_resources_in_a_bundle(
    tmp_path,
):
    path = spec_export(tmp_path)
    converted, rows = canonical(path, tmp_path / "w1")
    _, from_bundle = canonical(
        write(tmp_path, "b.json", bundle(*spec_resources())), tmp_path / "w2"
    )
    assert converted.kind == "fhir" and converted.problems == []
    assert rows == from_bundle and len(rows) == 3
    assert converted.cutoff == dt.datetime(2025, 4, 1, 6, tzinfo=dt.UTC)
    # The manifest lists two Appointment files, then Encounter, PractitionerRole,
    # ServiceRequest, Patient, Practitioner: seven files read on one line numbering, each
    # named in reports, the Appointment files last so each is mapped as it is read.
    assert converted.counts["files"] == 7 and converted.counts["Appointment"] == 3
    assert converted.sources is not None
    assert converted.sources.names[1:] == [
        "Encounter.000.ndjson", "PractitionerRole.000.ndjson", "ServiceRequest.000.ndjson",
        "Patient.000.ndjson", "Practitioner.000.ndjson",
        "Appointment.000.ndjson", "Appointment.001.ndjson",
    ]  # fmt: skip


def test_one_line_numbering_runs_through_the_files_and_is_turned_back_into_each_files_own():
    sources = bulk.Sources()
    for start, name in ((0, "manifest.json"), (31, "Appointment.000.ndjson"), (34, "A.001.ndjson")):
        sources.add(start, name)
    assert sources.locate(0) == ("manifest.json", 0)
    assert sources.locate(33) == ("Appointment.000.ndjson", 2)
    assert sources.locate(34) == ("A.001.ndjson", 0)  # line 0: the file as a whole
    assert sources.locate(36) == ("A.001.ndjson", 2)


def test_the_check_takes_the_exports_transaction_time_as_the_cut_off(tmp_path):
    path = spec_export(tmp_path)
    code, out = check(path)
    assert code == 0, out
    # 06:00 UTC on 1 April is 23:00 on 31 March in California: the cut-off day is 31 March.
    assert "as-of (data cut-off): 2025-03-31 (the export's transactionTime, 2025-04-01T06:00" in out
    code, out = check(path, "--as-of", "2025-03-25")
    assert code == 0 and "as-of (data cut-off): 2025-03-25\n" in out  # an explicit date wins


def test_the_cut_off_decides_what_is_still_pending(tmp_path):
    """A follow-up clock still running at T is pending at T, not at the data's last event."""
    visit = {
        "resourceType": "Appointment", "id": "A2001", "status": "fulfilled",
        "created": "2025-03-03T09:00:00-08:00", "start": "2025-03-19T10:00:00-07:00",
        "minutesDuration": 45,
        "participant": [
            {"actor": {"reference": "Patient/P9003"}, "status": "accepted"},
            {"actor": {"reference": "PractitionerRole/role55"}, "status": "accepted"},
            {"actor": {"reference": "Location/OAK"}, "status": "accepted"},
        ],
    }  # fmt: skip
    files = files_of([*spec_resources(), visit])
    # Attended on 19 March with nothing booked after it: 10 business days end on 2 April.
    # Still running on 21 March: pending. Over by 10 April with no next appointment at T:
    # "no follow-up scheduled", which section 3 says is not noncompliant (not applicable).
    for moment, as_of, expected in (
        ("2025-03-21T19:00:00Z", "2025-03-21", "pending"),
        ("2025-04-10T19:00:00Z", "2025-04-10", "not_applicable"),
    ):
        doc = manifest(files, transaction_time=moment)
        path = export_zip(tmp_path / f"{as_of}.zip", files, doc)
        out_csv = tmp_path / f"{as_of}.csv"
        code, out = check(path, "--out", str(out_csv))
        assert code == 0 and f"as-of (data cut-off): {as_of} (the export's" in out, out
        with out_csv.open(newline="") as handle:
            units = {(u["metric"], u["start_appointment_id"]): u for u in csv.DictReader(handle)}
        assert units[("follow_up_sb221", "A2001")]["status"] == expected, units


def test_a_manifest_with_its_files_beside_it_is_read_on_the_command_line(tmp_path):
    files = files_of(spec_resources())
    path = export_folder(tmp_path / "export", files, manifest(files))
    code, out = check(path)
    assert code == 0, out
    assert "rows: 3; valid: yes" in out and "(the export's transactionTime" in out


def test_a_manifest_uploaded_alone_never_reads_the_files_beside_it(tmp_path):
    """An upload's folder holds other files: only the command line may read beside it."""
    files = files_of(spec_resources())
    path = export_folder(tmp_path / "export", files, manifest(files))
    converted = readers.convert(path, tmp_path / "w", name="manifest.json")
    assert [p.reason for p in converted.problems] == [
        "a Bulk Data manifest without its files: upload one ZIP archive holding the manifest "
        "and the ndjson files it lists"
    ]
    assert converted.counts["rows"] == 0


def test_the_error_file_is_summarised_without_its_text_and_deletions_are_reported(tmp_path):
    files = files_of(spec_resources())
    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "processing", "diagnostics": "Patient/P9001 not exported"},
        {"severity": "warning", "code": "too-costly"},
    ]}  # fmt: skip
    files["errors.ndjson"] = [outcome]
    files["deleted.ndjson"] = [{"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "DELETE", "url": "Appointment/A0999"}},
    ]}]  # fmt: skip
    doc = manifest(files, errors=["errors.ndjson"], deleted=["deleted.ndjson"])
    converted, rows = canonical(export_zip(tmp_path / "e.zip", files, doc), tmp_path / "w")
    assert converted.problems == [] and len(rows) == 3
    text = " ".join(converted.warnings)
    assert (
        "the export's error file lists 2 problem(s) the server met while exporting "
        "(1 error processing, 1 warning too-costly)" in text
    )
    assert "P9001" not in text  # the diagnostics can name a patient's resources
    assert "lists 1 deleted resource(s), of which 1 Appointment(s): an import removes" in text


def test_a_zip_of_ndjson_files_without_a_manifest_is_read_with_a_warning(tmp_path):
    path = export_zip(tmp_path / "plain.zip", files_of(spec_resources()), None)
    converted, rows = canonical(path, tmp_path / "w")
    assert converted.problems == [] and len(rows) == 3 and converted.cutoff is None
    assert any("no Bulk Data manifest in the archive" in w for w in converted.warnings)


def test_a_zip_of_bundles_without_a_manifest_reads_each_json_file_whole(tmp_path):
    resources = spec_resources()
    files = {
        "part-1.json": json.dumps(bundle(*resources[:2]), indent=2),
        "part-2.json": json.dumps(bundle(*resources[2:]), indent=2),
    }
    converted, rows = canonical(export_zip(tmp_path / "b.zip", files, None), tmp_path / "w")
    _, from_one = canonical(write(tmp_path, "one.json", bundle(*resources)), tmp_path / "w2")
    assert converted.problems == [] and rows == from_one and len(rows) == 3


def test_a_zipped_bundles_delete_entries_are_counted_not_problems(tmp_path):
    doc = bundle(*spec_resources(), kind="transaction")
    doc["entry"].append({"request": {"method": "DELETE", "url": "Appointment/OLD1"}})
    path = export_zip(tmp_path / "d.zip", {"part-1.json": json.dumps(doc)}, None)
    converted, rows = canonical(path, tmp_path / "w")
    assert converted.problems == [] and len(rows) == 3
    assert any(w.startswith("1 Bundle entr(ies) asked to DELETE") for w in converted.warnings)


def scheduling_feed(*days: int) -> tuple[dict[str, object], list[dict[str, object]]]:
    """A Schedule of an LCSW at Oakland and its free 20-minute slots at 09:00 on ``days`` of
    April 2025."""
    schedule = {
        "resourceType": "Schedule", "id": "sch1", "actor": [{"reference": "Location/OAK"}],
        "serviceType": [{"coding": [{"system": "http://nucc.org/provider-taxonomy",
                                     "code": "1041C0700X"}]}],
    }  # fmt: skip
    slots = [
        {"resourceType": "Slot", "id": f"s{n}", "schedule": {"reference": "Schedule/sch1"},
         "status": "free", "start": f"2025-04-0{n}T09:00:00-07:00",
         "end": f"2025-04-0{n}T09:20:00-07:00"}
        for n in days
    ]  # fmt: skip
    return schedule, slots


def test_a_smart_scheduling_links_bulk_publish_manifest_feeds_next_available(tmp_path):
    """The $bulk-publish manifest of Slot / Schedule feeds: same shape, with extensions."""
    schedule, slots = scheduling_feed(2, 3, 4)
    files = {"schedules.ndjson": [schedule], "slots-2025-W14.ndjson": slots}
    doc = {
        "transactionTime": "2025-04-01T15:00:00Z",
        "request": "https://scheduling.example.org/$bulk-publish",
        "output": [
            {"type": "Schedule", "url": "https://scheduling.example.org/schedules.ndjson"},
            {"type": "Slot", "url": "https://scheduling.example.org/slots-2025-W14.ndjson",
             "extension": {"state": ["CA"]}},
        ],
        "error": [],
    }  # fmt: skip
    converted = readers.convert(export_zip(tmp_path / "p.zip", files, doc), tmp_path / "w")
    assert converted.problems == [] and converted.cutoff is not None
    with converted.outputs["slots"].open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 3


# -- bad exports: each refused whole, with the file and its line ------------------------------


BAD_EXPORTS = [
    ("listed file missing", cases.missing_file,
     ["manifest.json line 0", f"{BASE}/Encounter.000.ndjson",
      "a file the manifest lists is missing"]),
    ("short file", cases.short_file,
     ["Appointment.000.ndjson line 0", "gives 2 resources for this file and it holds 1"]),
    ("wrong type", cases.wrong_type,
     ["Appointment.000.ndjson line 1", "an Appointment in a file the manifest lists as Encounter"]),
    ("unlisted data file", cases.unlisted,
     ["manifest.json line 0", "Appointment.002.ndjson", "the manifest does not list"]),
    ("transactionTime without a zone", cases.no_zone,
     ["manifest.json line 0", "transactionTime must be an instant with its time zone"]),
    ("two manifests", cases.two_manifests,
     ["(archive) line 0", "manifest.json, again.json", "more than one Bulk Data manifest"]),
    ("truncated file", cases.truncated,
     ["Appointment.001.ndjson line 1", "the last line is cut short"]),
    ("duplicate id across files", cases.duplicate_across_files,
     ["Appointment.001.ndjson line 2", "appointment_id",
      "duplicate appointment_id (first on line 1 of Appointment.000.ndjson)"]),
    ("zip bomb", cases.zip_bomb,
     ["(archive) line 0", "Patient.001.ndjson: expands 1,029 times", "a possible zip bomb"]),
    ("file listed twice", cases.listed_twice,
     ["manifest.json line 0", "the manifest lists the same file twice"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "build", "fragments"), BAD_EXPORTS, ids=[c[0] for c in BAD_EXPORTS]
)
def test_a_bad_export_is_refused_whole_with_the_file_and_line_of_each_problem(
    tmp_path, name, build, fragments
):
    code, out = check(build(tmp_path))
    assert code == 2 and "INVALID" in out, out
    lines = [line.strip() for line in out.splitlines()]
    assert any(line.startswith(fragments[0]) and all(f in line for f in fragments[1:])
               for line in lines), out  # fmt: skip


def test_the_error_report_of_an_export_names_the_file_of_each_line(tmp_path):
    errors_csv = tmp_path / "errors.csv"
    code, _ = check(cases.duplicate_across_files(tmp_path), "--errors-out", str(errors_csv))
    assert code == 2
    with errors_csv.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["file", "line", "column", "value", "reason"]
    assert rows[1][:3] == ["Appointment.001.ndjson", "2", "appointment_id"]


# -- what the reader is told -----------------------------------------------------------------


def test_a_workbook_stays_a_workbook_and_an_export_is_found_whatever_its_name(tmp_path):
    from commonground.access.tests.test_bad_files import XLSX_ROWS, _xlsx

    book = tmp_path / "book.xlsx"
    book.write_bytes(_xlsx(tmp_path, XLSX_ROWS))
    assert readers.detect(book) == "xlsx"
    export = spec_export(tmp_path)
    renamed = export.rename(tmp_path / "download.bin")
    assert readers.detect(renamed) == "fhir"
    assert readers.detect_head(b"PK\x03\x04", "export.zip") == "fhir"
    assert readers.detect_head(b"PK\x03\x04", "sheet.xlsx") == "xlsx"


# -- through the importer --------------------------------------------------------------------


def _upload(world, content: bytes, filename: str):
    from django.core.files.base import ContentFile

    from commonground.access import services

    job = services.import_receive(
        actor=world.person("data_steward"), upload=ContentFile(content, name=filename),
        original_name=filename, region=world.region, enqueue=False,
    )  # fmt: skip
    return services.import_run(job.pk)


def test_an_uploaded_export_stores_what_the_bundle_stores_records_its_cut_off_and_reimports_change_nothing(  # noqa: E501
    world, tmp_path
):
    from commonground.access.models import ImportJob
    from commonground.access.tests.test_imports import stored_rows

    content = spec_export(tmp_path).read_bytes()
    first = _upload(world, content, "export.zip")
    assert first.state == ImportJob.State.DONE, (first.last_error, first.quality)
    assert first.kind == "fhir" and (first.rows, first.inserted) == (3, 3)
    assert first.data_cutoff == dt.datetime(2025, 4, 1, 6, tzinfo=dt.UTC)
    stored = stored_rows(world)
    for _ in range(3):
        again = _upload(world, content, "export.zip")
        assert (again.state, again.unchanged, again.generation) == ("done", 3, first.generation)
    same = json.dumps(bundle(*spec_resources())).encode()
    assert _upload(world, same, "bundle.json").unchanged == 3
    assert stored_rows(world) == stored


def test_an_export_uploaded_on_the_import_page_shows_its_cut_off(
    world, dana, login, tmp_path, django_capture_on_commit_callbacks
):
    from django.core.files.base import ContentFile
    from django.urls import reverse

    from commonground.access.models import ImportJob

    client = login(dana)
    upload = ContentFile(spec_export(tmp_path).read_bytes(), name="export.zip")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("access:import-list"), {"file": upload, "region": world.region.pk}
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.state == "done" and job.kind == "fhir"
    page = client.get(job.get_absolute_url()).content.decode()
    # Shown in the deployment's time zone: 06:00 UTC is 23:00 the evening before.
    assert (
        'Data cut-off: <time datetime="2025-03-31T23:00:00-07:00">March 31, 2025, 11 p.m.' in page
    )
    assert "(the export's transactionTime)" in page


def test_a_bad_uploaded_export_stores_nothing_and_its_report_names_files_and_masks_values(
    world, tmp_path
):
    from django.core.files.storage import storages

    from commonground.access import services
    from commonground.access.models import ImportJob

    good = _upload(world, spec_export(tmp_path).read_bytes(), "ok.zip")
    store = services.store_for(world.region.pk)
    before = (store.current().number, sorted(p.name for p in store.files()))
    files = cases.spec_files()
    bad = dict(files["Appointment.000.ndjson"][0])
    # A patient id a spreadsheet would run as a formula: refused, on line 1 of its file.
    bad["participant"] = [
        {"actor": {"reference": "Patient/=P7777"}, "status": "accepted"},
        *bad["participant"][1:],
    ]
    files["Appointment.000.ndjson"] = [bad, *files["Appointment.000.ndjson"][1:]]
    job = _upload(
        world, export_zip(tmp_path / "bad.zip", files, manifest(files)).read_bytes(), "bad.zip"
    )
    assert good.state == "done" and job.state == ImportJob.State.INVALID, job.quality
    assert (store.current().number, sorted(p.name for p in store.files())) == before
    assert job.upload == ""
    report = storages["private"].open(job.error_report).read().decode()
    assert report.startswith(
        "file,line,column,value,reason\r\nAppointment.000.ndjson,1,patient_id,"
    )
    assert "P7777" not in report  # line 1 of an ndjson file is data, masked like any other


def test_the_aggregates_count_pending_at_the_exports_cut_off(
    world, tmp_path, django_capture_on_commit_callbacks
):
    from django.core.files.base import ContentFile

    from commonground.access import services
    from commonground.access.models import AggregateRun
    from commonground.access.tasks import run_import_task
    from commonground.access.tests.helpers import SPEC_ROWS

    def import_file(content: bytes, name: str) -> None:
        job = services.import_receive(
            actor=world.person("data_steward"), upload=ContentFile(content, name=name),
            original_name=name, region=world.region, enqueue=False,
        )  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            run_import_task.enqueue(str(job.pk))

    import_file(SPEC_ROWS.encode(), "extract.csv")
    assert AggregateRun.objects.filter(region=world.region).latest("pk").as_of == dt.date(
        2025, 3, 20
    )  # the latest booking or cancellation of the spec rows
    import_file(spec_export(tmp_path).read_bytes(), "export.zip")
    assert AggregateRun.objects.filter(region=world.region).latest("pk").as_of == dt.date(
        2025, 3, 31
    )  # the export's transactionTime, as a California day


def test_open_slots_of_an_uploaded_scheduling_export_are_a_snapshot_at_its_cut_off(world, tmp_path):
    """Free slots say what was open when the feed was published: at its transactionTime."""
    from commonground.access import services, side

    schedule, free = scheduling_feed(3, 4)
    files = {"Schedule.000.ndjson": [schedule], "Slot.000.ndjson": free}
    # 15:00 UTC on 1 April is 08:00 in California: the snapshot is 1 April, not the first
    # slot's day (3 April), which a slot file without a cut-off is taken at.
    doc = manifest(files, transaction_time="2025-04-01T15:00:00Z")
    job = _upload(world, export_zip(tmp_path / "feed.zip", files, doc).read_bytes(), "feed.zip")
    assert job.state == "done", job.quality
    stored = services.store_for(world.region.pk).current()
    assert stored is not None
    path = stored.side_path("slots")
    assert path is not None
    data = side.read_stored_slots(path, timezone="America/Los_Angeles")
    assert data.snapshots == {dt.date(2025, 4, 1)}


def test_a_bulk_export_report_read_back_on_the_command_line_names_files(world, tmp_path):
    """The import command prints the kept report, whose first column is then the file."""
    from django.core.management import call_command

    path = cases.duplicate_across_files(tmp_path)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command(
            "access", "import", str(path), "--region", world.region.slug,
            "--user", world.person("data_steward").username, "--wait", stdout=out,
        )  # fmt: skip
    assert exited.value.code == 2
    text = out.getvalue()
    assert "Appointment.001.ndjson line 2: appointment_id" in text, text


def test_an_incremental_export_removes_the_appointments_it_lists_as_deleted(world, tmp_path):
    from commonground.access.tests.test_latest_state import stored_states

    def delete_bundle(*ids: str) -> list[dict[str, object]]:
        return [{"resourceType": "Bundle", "type": "transaction", "entry": [
            {"request": {"method": "DELETE", "url": f"Appointment/{i}"}} for i in ids
        ]}]  # fmt: skip

    def incremental(name: str, moment: str, keep: list[str], *gone: str) -> bytes:
        files = {
            **{k: v for k, v in files_of(spec_resources(), split=1).items()
               if not k.startswith("Appointment")},
            "Appointment.000.ndjson": [r for r in spec_resources()
                                       if r["resourceType"] == "Appointment" and r["id"] in keep],
            "del.ndjson": delete_bundle(*gone),
        }  # fmt: skip
        doc = manifest(files, transaction_time=moment, deleted=["del.ndjson"])
        return export_zip(tmp_path / name, files, doc).read_bytes()

    first = _upload(world, spec_export(tmp_path).read_bytes(), "full.zip")  # T: 1 April
    assert (first.state, first.inserted) == ("done", 3)
    # Ten days later A1002 was deleted; A1001 comes again unchanged.
    job = _upload(
        world, incremental("d1.zip", "2025-04-10T18:00:00Z", ["A1001"], "A1002"), "d1.zip"
    )
    assert job.state == "done", job.quality
    assert (job.unchanged, job.deleted, job.older) == (1, 1, 0)
    assert sorted(stored_states(world)) == ["A1001", "A1003"]
    # An export taken in March cannot delete what April's export stated.
    old = _upload(
        world, incremental("d2.zip", "2025-03-01T18:00:00Z", ["A1001"], "A1003"), "d2.zip"
    )
    assert (old.deleted, old.older) == (0, 1)
    assert sorted(stored_states(world)) == ["A1001", "A1003"]
    # An appointment the export both gives and lists as deleted keeps the state it gives.
    both = _upload(
        world, incremental("d3.zip", "2025-04-20T18:00:00Z", ["A1001"], "A1001"), "d3.zip"
    )
    assert (both.deleted, both.unchanged) == (0, 1)
    assert sorted(stored_states(world)) == ["A1001", "A1003"]


def test_an_export_of_deletions_only_removes_them_and_stores_nothing_else(world, tmp_path):
    from commonground.access.tests.test_latest_state import stored_states

    assert _upload(world, spec_export(tmp_path).read_bytes(), "full.zip").state == "done"
    files = {"del.ndjson": [{"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "DELETE", "url": "Appointment/A1003"}}]}]}  # fmt: skip
    doc = manifest(files, transaction_time="2025-04-10T18:00:00Z", deleted=["del.ndjson"])
    assert doc["output"] == []  # nothing changed since the last export but one deletion
    job = _upload(world, export_zip(tmp_path / "d.zip", files, doc).read_bytes(), "d.zip")
    assert (job.state, job.rows, job.deleted) == ("done", 0, 1), job.quality
    assert sorted(stored_states(world)) == ["A1001", "A1002"]
    # The check has nothing to compute, and says so rather than calling the file invalid.
    code, out = check(tmp_path / "d.zip")
    assert code == 0 and "valid: no appointment rows, only 1 deleted Appointment(s)" in out, out


def delete_bundle(*references: str) -> list[dict[str, object]]:
    """A deleted file's line: a Bundle of DELETE requests for ``Type/id`` references."""
    return [{"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "DELETE", "url": ref}} for ref in references
    ]}]  # fmt: skip


def test_an_incremental_export_removes_encounters_and_the_slots_of_its_own_snapshot(
    world, dana, login, tmp_path
):
    from commonground.access.tests.test_side import STAY, side_rows

    def export(name: str, moment: str, files: dict, gone: tuple[str, ...] = ()) -> bytes:
        if gone:
            files = {**files, "del.ndjson": delete_bundle(*gone)}
        doc = manifest(files, transaction_time=moment, deleted=["del.ndjson"] if gone else ())
        return export_zip(tmp_path / name, files, doc).read_bytes()

    def kept(name: str) -> list[str]:
        return [row[0] for row in side_rows(world, name)]

    schedule, free = scheduling_feed(3, 4)
    full = {**files_of([*spec_resources(), STAY]), "Schedule.000.ndjson": [schedule],
            "Slot.000.ndjson": free}  # fmt: skip
    # 18:00 UTC on 31 March is 11:00 in California: the slots' snapshot is 31 March.
    first = _upload(world, export("full.zip", "2025-03-31T18:00:00Z", full), "full.zip")
    assert first.state == "done", first.quality
    assert kept("encounters") == ["E1", "E2", "STAY1"]
    # A slot's key: its snapshot day, its id and its feed (the export's server).
    s3, s4 = (f"2025-03-31|id:{n}@https://ehr.example.org/fhir" for n in ("s3", "s4"))
    assert kept("slots") == [s3, s4]
    # Later the same day (23:00 in California): E1 and slot s3 are deleted, E2 comes again.
    patient, e2 = by_id("P9001"), by_id("E2")
    later = {"Patient.000.ndjson": [patient], "Encounter.000.ndjson": [e2]}
    deleting_e1_and_s3 = export(
        "d1.zip", "2025-04-01T06:00:00Z", later, ("Encounter/E1", "Slot/s3")
    )
    job = _upload(world, deleting_e1_and_s3, "d1.zip")
    assert job.state == "done", job.quality
    side_counts = job.quality["side"]
    assert (side_counts["encounters"]["unchanged"], side_counts["encounters"]["deleted"]) == (1, 1)
    assert (side_counts["slots"]["rows"], side_counts["slots"]["deleted"]) == (0, 1)
    assert kept("encounters") == ["E2", "STAY1"]
    assert kept("slots") == [s4]
    page = login(dana).get(job.get_absolute_url()).content.decode()
    assert (
        '<tr><th scope="row">Encounters (HEDIS-like)</th><td>1</td><td>0</td><td>0</td>'
        "<td>1</td><td>0</td><td>1</td></tr>" in page
    )
    assert '<tr><th scope="row">Slots (supply)</th><td>0</td>' in page
    # An export taken on 20 March neither deletes nor corrects what the later ones stated,
    # and its snapshot day holds no slot s4 to delete.
    wrong = {**e2, "status": "entered-in-error"}
    early = {"Patient.000.ndjson": [patient], "Encounter.000.ndjson": [wrong]}
    old = _upload(
        world,
        export("d2.zip", "2025-03-20T18:00:00Z", early, ("Encounter/STAY1", "Slot/s4")),
        "d2.zip",
    )
    assert old.state == "done", old.quality
    assert old.quality["side"]["encounters"]["older"] == 2  # E2's state and STAY1's deletion
    assert old.quality["side"]["slots"]["deleted"] == 0
    assert kept("encounters") == ["E2", "STAY1"] and kept("slots") == [s4]
    stored = (side_rows(world, "encounters"), side_rows(world, "slots"))
    assert next(r for r in stored[0] if r[0] == "E2")[2] == "finished"
    # The same deletions again change nothing.
    again = _upload(world, deleting_e1_and_s3, "d1.zip")
    assert again.generation == old.generation == job.generation
    assert (side_rows(world, "encounters"), side_rows(world, "slots")) == stored


def by_id(resource_id: str) -> dict[str, object]:
    return next(dict(r) for r in spec_resources() if r["id"] == resource_id)


def test_a_deleted_entry_whose_id_is_not_a_fhir_id_is_refused(tmp_path):
    """Ids are written one a line for the importer: a tab or line break must not pass."""
    files = {**files_of(spec_resources()), "del.ndjson": delete_bundle("Encounter/E1\tx")}
    doc = manifest(files, deleted=["del.ndjson"])
    converted = readers.convert(export_zip(tmp_path / "e.zip", files, doc), tmp_path / "w")
    assert any("whose id is not a FHIR id" in p.reason for p in converted.problems), (
        converted.problems
    )


def test_an_incremental_export_of_slots_changes_the_snapshot_before_it(
    world, dana, login, tmp_path
):
    """An export requested with ``_since`` gives the slots that changed; the others carry
    over from the stored snapshot before it (a free slot left out is not a slot gone)."""
    from commonground.access.tests.test_side import side_rows

    def snapshot(day: str) -> dict[str, str]:
        return {r[2]: r[4] for r in side_rows(world, "slots") if r[1] == day}  # id -> status

    schedule, free = scheduling_feed(2, 4, 5, 7)
    files = {"Schedule.000.ndjson": [schedule], "Slot.000.ndjson": free}
    doc = manifest(files, transaction_time="2025-04-01T15:00:00Z")  # 1 April in California
    full = _upload(world, export_zip(tmp_path / "f.zip", files, doc).read_bytes(), "f.zip")
    assert full.state == "done", full.quality
    assert snapshot("2025-04-01") == {"s2": "free", "s4": "free", "s5": "free", "s7": "free"}
    # On 4 April: s5 was booked and s7 withdrawn since the last export.
    changes = {
        "Schedule.000.ndjson": [schedule],
        "Slot.000.ndjson": [{**free[2], "status": "busy"}],
        "del.ndjson": delete_bundle("Slot/s7"),
    }
    doc = manifest(
        changes, transaction_time="2025-04-04T15:00:00Z", deleted=["del.ndjson"],
        request="https://ehr.example.org/fhir/$export?_type=Slot,Schedule"
                "&_since=2025-04-01T15:00:00Z",
    )  # fmt: skip
    content = export_zip(tmp_path / "i.zip", changes, doc).read_bytes()
    job = _upload(world, content, "i.zip")
    assert job.state == "done", job.quality
    # s4 carries over; s2 started before the day and is left behind, as a full export would.
    assert snapshot("2025-04-04") == {"s4": "free", "s5": "busy"}
    assert snapshot("2025-04-01") == {"s2": "free", "s4": "free", "s5": "free", "s7": "free"}
    slots = job.quality["side"]["slots"]
    assert (slots["rows"], slots["carried"], slots["inserted"]) == (1, 1, 2)
    assert slots["carried_from"] == "2025-04-01"
    assert any("gives only the slots that changed" in w for w in job.quality["warnings"])
    page = login(dana).get(job.get_absolute_url()).content.decode()
    assert (
        "1 of the new slots were carried from the stored snapshot of 2025-04-01 from the same "
        "feed" in page
    )
    assert "Feed: <code>https://ehr.example.org/fhir</code>" in page
    # The same export again, on the command line, changes nothing.
    from django.core.management import call_command

    from commonground.access.models import ImportJob

    (tmp_path / "again.zip").write_bytes(content)
    out = io.StringIO()
    call_command(
        "access", "import", str(tmp_path / "again.zip"), "--region", world.region.slug,
        "--user", world.person("data_steward").username, "--wait", stdout=out,
    )  # fmt: skip
    again = ImportJob.objects.latest("created_at")
    assert again.generation == job.generation
    assert again.quality["side"]["slots"]["unchanged"] == 2
    assert (
        "slots: 1; new 0, changed 0, unchanged 2, not applied 0, removed 0; 1 carried from "
        "the stored snapshot of 2025-04-04\nfeed: https://ehr.example.org/fhir\n"
    ) in out.getvalue(), out.getvalue()
    # A second incremental export the same evening builds on that day's snapshot, not on
    # 1 April's (where s5 was still free): s4 is booked too.
    evening = {
        "Schedule.000.ndjson": [schedule],
        "Slot.000.ndjson": [{**free[1], "status": "busy"}],
    }
    doc = manifest(
        evening, transaction_time="2025-04-05T02:00:00Z",
        request="https://ehr.example.org/fhir/$export?_type=Slot,Schedule"
                "&_since=2025-04-04T15:00:00Z",
    )  # fmt: skip
    later = _upload(world, export_zip(tmp_path / "e.zip", evening, doc).read_bytes(), "e.zip")
    assert later.state == "done", later.quality
    assert snapshot("2025-04-04") == {"s4": "busy", "s5": "busy"}


def test_an_export_imported_after_a_later_one_of_its_feed_says_so(world, tmp_path):
    """Incremental exports of 3 and 4 April, imported the wrong way round: 3 April's builds
    on 1 April's snapshot, as it should, but 4 April's snapshot was completed without its
    changes (s4 booked on 3 April still reads free there). The import says so; the 4 April
    import, in the right order, says nothing."""
    from commonground.access.tests.test_side import side_rows

    feed = "https://ehr.example.org/fhir"
    schedule, free = scheduling_feed(4, 5, 7)

    def export(name: str, slots: list, moment: str, since: str | None = None):
        files = {"Schedule.000.ndjson": [schedule], "Slot.000.ndjson": slots}
        query = f"_type=Slot,Schedule&_since={since}" if since else "_type=Slot,Schedule"
        doc = manifest(files, transaction_time=moment, request=f"{feed}/$export?{query}")
        job = _upload(world, export_zip(tmp_path / name, files, doc).read_bytes(), name)
        assert job.state == "done", job.quality
        return job

    def said(job) -> list[str]:
        return [w for w in job.quality["warnings"] if "a later snapshot" in w]

    assert said(export("full.zip", free, "2025-04-01T15:00:00Z")) == []
    fourth = export("i4.zip", [{**free[1], "status": "busy"}], "2025-04-04T15:00:00Z",
                    since="2025-04-03T15:00:00Z")  # fmt: skip
    assert said(fourth) == [] and "later_snapshot" not in fourth.quality["side"]["slots"]
    third = export("i3.zip", [{**free[0], "status": "busy"}], "2025-04-03T15:00:00Z",
                   since="2025-04-01T15:00:00Z")  # fmt: skip
    assert third.quality["side"]["slots"]["later_snapshot"] == "2025-04-04"
    assert said(third) and "(2025-04-04)" in said(third)[0], third.quality["warnings"]
    snapshots = {(r[1], r[2]): r[4] for r in side_rows(world, "slots")}
    assert snapshots[("2025-04-03", "s4")] == "busy"
    assert snapshots[("2025-04-04", "s4")] == "free"  # as it was completed: said, not mended


@pytest.mark.parametrize(
    ("request_url", "feed"),
    [
        ("https://EHR.example.org/fhir/Group/oakland/$export?_type=Slot&_since=2025-04-01",
         "https://ehr.example.org/fhir/Group/oakland"),
        ("https://steward:s3cret@ehr.example.org:8443/fhir/$export", "https://ehr.example.org:8443/fhir"),
        ("https://ehr.example.org/fhir/%24export/", "https://ehr.example.org/fhir"),
        ("https://ehr.example.org:443/fhir/$export", "https://ehr.example.org/fhir"),
        ("http://ehr.example.org:80/fhir/$export", "http://ehr.example.org/fhir"),
        ("https://scheduling.example.org/$bulk-publish", "https://scheduling.example.org"),
        ("https://[::1/fhir/$export", ""),
        ("", ""),
        (None, ""),
    ],
)  # fmt: skip
def test_an_exports_feed_is_where_it_was_requested_without_the_query_or_credentials(
    request_url, feed
):
    assert bulk.export_feed(request_url) == feed


def test_an_incremental_export_completes_its_own_feeds_snapshot_not_another_feeds(world, tmp_path):
    """Oakland's slots come as one export group and another system's as a feed of its own,
    each on its own days: an incremental Oakland export carries over Oakland's slots only,
    even when the other feed's snapshot is the later one."""
    from commonground.access.tests.test_side import side_rows

    oakland = "https://ehr.example.org/fhir/Group/oakland"
    other = "https://scheduling.example.net/fhir"

    def snapshot(day: str) -> dict[str, tuple[str, str]]:  # id -> (status, feed)
        return {r[2]: (r[4], r[FEED]) for r in side_rows(world, "slots") if r[1] == day}

    def run(name: str, files: dict, moment: str, request: str, deleted=()) -> None:
        doc = manifest(files, transaction_time=moment, deleted=deleted, request=request)
        job = _upload(world, export_zip(tmp_path / name, files, doc).read_bytes(), name)
        assert job.state == "done", job.quality

    schedule, free = scheduling_feed(2, 4, 5, 7)
    run("oak.zip", {"Schedule.000.ndjson": [schedule], "Slot.000.ndjson": free},
        "2025-04-01T15:00:00Z", f"{oakland}/$export?_type=Slot,Schedule")  # fmt: skip
    theirs = {**schedule, "id": "sch2"}
    their_slots = [{**slot, "id": f"x{slot['id']}", "schedule": {"reference": "Schedule/sch2"}}
                   for slot in free]  # fmt: skip
    run("net.zip", {"Schedule.000.ndjson": [theirs], "Slot.000.ndjson": their_slots},
        "2025-04-03T15:00:00Z", f"{other}/$export?_type=Slot,Schedule")  # fmt: skip
    # On 4 April Oakland's s5 was booked and s7 withdrawn since its export of 1 April.
    changes = {
        "Schedule.000.ndjson": [schedule],
        "Slot.000.ndjson": [{**free[2], "status": "busy"}],
        "del.ndjson": delete_bundle("Slot/s7"),
    }
    run("inc.zip", changes, "2025-04-04T15:00:00Z",
        f"{oakland}/$export?_type=Slot,Schedule&_since=2025-04-01T15:00:00Z",
        deleted=["del.ndjson"])  # fmt: skip
    assert snapshot("2025-04-04") == {"s4": ("free", oakland), "s5": ("busy", oakland)}
    assert snapshot("2025-04-03") == {f"xs{n}": ("free", other) for n in (2, 4, 5, 7)}


def test_an_incremental_export_with_no_snapshot_of_its_feed_stores_none_of_its_slots(
    world, tmp_path
):
    """Changes to a schedule the store has never seen (only another feed's) would say the rest
    of it had gone: they are not stored, the import says why, and the encounters of the same
    export still are."""
    from django.core.management import call_command

    from commonground.access.tests.test_side import STAY, side_rows

    ours, theirs = "https://ehr.example.org/fhir", "https://scheduling.example.net/fhir"
    schedule, free = scheduling_feed(4, 5)
    files = {
        "Schedule.000.ndjson": [{**schedule, "id": "sch2"}],
        "Slot.000.ndjson": [
            {**slot, "id": f"x{slot['id']}", "schedule": {"reference": "Schedule/sch2"}}
            for slot in free
        ],
    }
    doc = manifest(files, transaction_time="2025-04-01T15:00:00Z",
                   request=f"{theirs}/$export?_type=Slot,Schedule")  # fmt: skip
    assert _upload(world, export_zip(tmp_path / "b.zip", files, doc).read_bytes(), "b.zip")
    before = side_rows(world, "slots")
    changes = {"Schedule.000.ndjson": [schedule],
               "Slot.000.ndjson": [{**free[1], "status": "busy"}],
               "Encounter.000.ndjson": [STAY]}  # fmt: skip
    doc = manifest(changes, transaction_time="2025-04-02T15:00:00Z",
                   request=f"{ours}/$export?_since=2025-04-01T15:00:00Z")  # fmt: skip
    path = export_zip(tmp_path / "i.zip", changes, doc)
    out = io.StringIO()
    call_command(
        "access", "import", str(path), "--region", world.region.slug,
        "--user", world.person("data_steward").username, "--wait", stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "slots: 1; new 0, changed 0, unchanged 0" in text, text
    assert "note: 1 slot(s) of this incremental export were not stored" in text, text
    assert side_rows(world, "slots") == before
    assert [r[0] for r in side_rows(world, "encounters")] == ["STAY1"]


def store_slots_as_before_feeds(world, feed: str) -> None:
    """Rewrite the stored slot file as a store from before slots kept their feed (and the
    mark of an export) wrote it: no such columns, keys without the feed."""
    import duckdb

    from commonground.access import services

    gen = services.store_for(world.region.pk).current()
    path = gen.side_path("slots") if gen is not None else None
    assert path is not None
    # Files are never modified in place by the store; here the test makes an old one.
    duckdb.connect().execute(
        f"COPY (SELECT * EXCLUDE (feed, from_export) "  # noqa: S608 - test path
        f"REPLACE (replace(slot_key, '@{feed}', '') AS slot_key) "
        f"FROM read_parquet('{path}')) TO '{path}.old' (FORMAT parquet)"
    )
    path.unlink()
    path.with_name(path.name + ".old").rename(path)


def test_slots_stored_before_feeds_were_kept_stand_for_the_feed_until_it_has_a_snapshot(
    world, tmp_path
):
    """A store from before slots carried their feed (keys without it) or whether an export
    gave them: an incremental export completes the snapshot stored then, and the slots it
    carries are its feed's from then on. The old export imported again takes its slots over
    rather than doubling them."""
    from commonground.access.tests.test_side import side_rows

    feed = "https://ehr.example.org/fhir"
    schedule, free = scheduling_feed(4, 5)
    files = {"Schedule.000.ndjson": [schedule], "Slot.000.ndjson": free}
    doc = manifest(files, transaction_time="2025-04-01T15:00:00Z",
                   request=f"{feed}/$export?_type=Slot,Schedule")  # fmt: skip
    full = export_zip(tmp_path / "f.zip", files, doc).read_bytes()
    assert _upload(world, full, "f.zip").state == "done"
    store_slots_as_before_feeds(world, feed)

    def stored() -> dict[str, tuple[str, str]]:  # key -> (status, feed)
        return {r[0]: (r[4], r[FEED]) for r in side_rows(world, "slots")}

    assert [r[0] for r in side_rows(world, "slots")] == ["2025-04-01|id:s4", "2025-04-01|id:s5"]
    changes = {"Schedule.000.ndjson": [schedule],
               "Slot.000.ndjson": [{**free[1], "status": "busy"}]}  # fmt: skip
    since = f"{feed}/$export?_since=2025-04-01T15:00:00Z"
    doc = manifest(changes, transaction_time="2025-04-03T15:00:00Z", request=since)
    job = _upload(world, export_zip(tmp_path / "i.zip", changes, doc).read_bytes(), "i.zip")
    assert job.state == "done", job.quality
    assert (job.quality["side"]["slots"]["carried"], job.quality["feed"]) == (1, feed)
    assert stored() == {
        "2025-04-01|id:s4": ("free", ""),  # as stored before
        "2025-04-01|id:s5": ("free", ""),
        f"2025-04-03|id:s4@{feed}": ("free", feed),
        f"2025-04-03|id:s5@{feed}": ("busy", feed),
    }
    again = _upload(world, full, "f.zip")
    assert again.state == "done", again.quality
    slots = again.quality["side"]["slots"]
    assert (slots["inserted"], slots["updated"], slots["unchanged"]) == (0, 0, 2)
    assert stored() == {
        f"2025-04-01|id:s4@{feed}": ("free", feed),
        f"2025-04-01|id:s5@{feed}": ("free", feed),
        f"2025-04-03|id:s4@{feed}": ("free", feed),
        f"2025-04-03|id:s5@{feed}": ("busy", feed),
    }


def test_two_feeds_slots_of_the_same_id_and_day_are_two_slots(world, tmp_path):
    """Slot ids are unique on one server only: two systems exporting on the same day may
    both have a slot "s4"; each feed's deletions and changes touch its own."""
    from commonground.access.tests.test_side import side_rows

    ours, theirs = "https://ehr.example.org/fhir", "https://scheduling.example.net/fhir"
    schedule, free = scheduling_feed(4, 5)
    their_schedule = {**schedule, "id": "sch2"}
    their_slots = [{**slot, "schedule": {"reference": "Schedule/sch2"}} for slot in free]
    for name, feed, sched, slots_ in (("a.zip", ours, schedule, free),
                                      ("b.zip", theirs, their_schedule, their_slots)):  # fmt: skip
        files = {"Schedule.000.ndjson": [sched], "Slot.000.ndjson": slots_}
        doc = manifest(files, transaction_time="2025-04-01T15:00:00Z",
                       request=f"{feed}/$export?_type=Slot,Schedule")  # fmt: skip
        job = _upload(world, export_zip(tmp_path / name, files, doc).read_bytes(), name)
        assert job.state == "done", job.quality
        assert job.quality["side"]["slots"]["inserted"] == 2
    # Later that day the other system withdraws its s4 and books its s5.
    changes = {"Schedule.000.ndjson": [their_schedule],
               "Slot.000.ndjson": [{**their_slots[1], "status": "busy"}],
               "del.ndjson": delete_bundle("Slot/s4")}  # fmt: skip
    doc = manifest(changes, transaction_time="2025-04-01T23:00:00Z", deleted=["del.ndjson"],
                   request=f"{theirs}/$export?_since=2025-04-01T15:00:00Z")  # fmt: skip
    job = _upload(world, export_zip(tmp_path / "c.zip", changes, doc).read_bytes(), "c.zip")
    assert job.state == "done", job.quality
    stored = {(r[3], r[2]): r[4] for r in side_rows(world, "slots")}  # (schedule, id) -> status
    assert stored == {("sch1", "s4"): "free", ("sch1", "s5"): "free", ("sch2", "s5"): "busy"}


def test_an_incremental_export_completes_the_feeds_last_export_not_another_uploads_slots(
    world, tmp_path
):
    """Another kind of upload from the same server (a search Bundle, a slot CSV) may give
    only part of its slots: its day is no snapshot for the feed's incremental export to
    complete. A slot it gives again on an export's day stays in that export's snapshot."""
    from commonground.access.tests.test_side import side_rows, upload_csv

    feed = "https://ehr.example.org/fhir"
    schedule, free = scheduling_feed(4, 5, 6)

    def snapshot(day: str) -> dict[str, str]:  # id -> status
        return {r[2]: r[4] for r in side_rows(world, "slots") if r[1] == day}

    def export(name: str, files: dict, moment: str, since: str = ""):
        request = f"{feed}/$export?_type=Slot,Schedule" + (f"&_since={since}" if since else "")
        doc = manifest(files, transaction_time=moment, request=request)
        job = _upload(world, export_zip(tmp_path / name, files, doc).read_bytes(), name)
        assert job.state == "done", job.quality
        return job

    def slot_csv(day: str, *rows: str):
        text = "slot_id,schedule_id,status,start,end,clinic_id,provider_class,snapshot_date,feed\n"
        text += "".join(f"{row},OAK,lcsw,{day},{feed}\n" for row in rows)
        job = upload_csv(world, text, "slots.csv")
        assert job.state == "done", job.quality
        return job

    export("full.zip", {"Schedule.000.ndjson": [schedule], "Slot.000.ndjson": free},
           "2025-04-01T15:00:00Z")  # fmt: skip
    # The same day, a slot list of the same server shows s6 booked: the export's snapshot
    # keeps it, booked.
    s6_busy = "s6,sch1,busy,2025-04-06T09:00:00-07:00,2025-04-06T09:20:00-07:00"
    assert slot_csv("2025-04-01", s6_busy).quality["side"]["slots"]["updated"] == 1
    # The same list again changes nothing.
    assert slot_csv("2025-04-01", s6_busy).quality["side"]["slots"]["unchanged"] == 1
    # On 2 April a search of the server lists one new slot, and nothing else.
    slot_csv("2025-04-02", "s9,sch1,free,2025-04-09T09:00:00-07:00,2025-04-09T09:20:00-07:00")
    assert snapshot("2025-04-02") == {"s9": "free"}
    # On 3 April the incremental export books s5: it completes 1 April's export.
    changes = {"Schedule.000.ndjson": [schedule],
               "Slot.000.ndjson": [{**free[1], "status": "busy"}]}  # fmt: skip
    job = export("inc.zip", changes, "2025-04-03T15:00:00Z", since="2025-04-01T15:00:00Z")
    counts = job.quality["side"]["slots"]
    assert (counts["carried"], counts["carried_from"]) == (2, "2025-04-01")
    assert snapshot("2025-04-03") == {"s4": "free", "s5": "busy", "s6": "busy"}


def test_an_export_giving_a_listed_slot_again_takes_it_into_its_snapshot(world, tmp_path):
    """A slot list gave s4 first; the export of the same day gives it again, unchanged, and
    s5. Nothing changed in s4, but it is now part of the export's snapshot, so the next
    incremental export carries it."""
    from commonground.access.tests.test_side import side_rows, upload_csv

    feed = "https://ehr.example.org/fhir"
    schedule, free = scheduling_feed(4, 5)
    listed = (
        "slot_id,schedule_id,status,start,end,clinic_id,provider_class,service_line,"
        f"overbooked,snapshot_date,feed\ns4,sch1,free,{free[0]['start']},{free[0]['end']},OAK,"
        f"lcsw,MH,false,2025-04-01,{feed}\n"
    )
    assert upload_csv(world, listed, "slots.csv").state == "done"

    def export(name: str, files: dict, moment: str, query: str):
        doc = manifest(files, transaction_time=moment, request=f"{feed}/$export?{query}")
        job = _upload(world, export_zip(tmp_path / name, files, doc).read_bytes(), name)
        assert job.state == "done", job.quality
        return job.quality["side"]["slots"]

    full = export("full.zip", {"Schedule.000.ndjson": [schedule], "Slot.000.ndjson": free},
                  "2025-04-01T15:00:00Z", "_type=Slot")  # fmt: skip
    assert (full["inserted"], full["updated"], full["unchanged"]) == (1, 0, 1)
    changes = {"Schedule.000.ndjson": [schedule],
               "Slot.000.ndjson": [{**free[1], "status": "busy"}]}  # fmt: skip
    inc = export("inc.zip", changes, "2025-04-03T15:00:00Z", "_since=2025-04-01T15:00:00Z")
    assert (inc["carried"], inc["carried_from"]) == (1, "2025-04-01")
    assert {r[2]: r[4] for r in side_rows(world, "slots") if r[1] == "2025-04-03"} == {
        "s4": "free",
        "s5": "busy",
    }


def test_slots_of_an_upload_naming_no_system_do_not_stand_for_a_feeds_snapshot(world, tmp_path):
    """A Bundle whose entries name no server could hold any system's slots, and only some:
    an incremental export of a feed with no snapshot of its own does not build on it."""
    from commonground.access.tests.test_side import SCHEDULE, free_slots, side_rows, upload

    assert upload(world, [SCHEDULE, *free_slots("2025-04-02")]).state == "done"
    schedule, free = scheduling_feed(4)
    files = {"Schedule.000.ndjson": [schedule], "Slot.000.ndjson": free}
    request = "https://ehr.example.org/fhir/$export?_since=2025-04-01T00:00:00Z"
    doc = manifest(files, transaction_time="2025-04-03T15:00:00Z", request=request)
    job = _upload(world, export_zip(tmp_path / "inc.zip", files, doc).read_bytes(), "inc.zip")
    assert job.state == "done", job.quality
    assert job.quality["side"]["slots"]["without_snapshot"] == 1
    assert [r[2] for r in side_rows(world, "slots")] == ["SL-2025-04-02"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_full_export_then_the_incremental_one_leaves_what_the_next_full_export_gives(
    world, tmp_path, seed
):
    """The encounters, and the schedule next available reads (the slots from the export's
    day on), from a full export at T1 plus the changes since T1 (changed, new and deleted
    resources), are those a full export at T2 gives."""
    import random

    from commonground.access.tests.test_side import STAY, side_rows

    rng = random.Random(seed)
    schedule, _ = scheduling_feed()
    days = [f"2025-04-{d:02d}" for d in range(1, 29)]

    def slot(n: int, status: str) -> dict[str, object]:
        day = days[n % len(days)]
        return {"resourceType": "Slot", "id": f"s{n}", "schedule": {"reference": "Schedule/sch1"},
                "status": status, "start": f"{day}T09:00:00-07:00",
                "end": f"{day}T09:20:00-07:00"}  # fmt: skip

    def encounter(n: int, status: str) -> dict[str, object]:
        return {**STAY, "id": f"E{n}", "status": status}

    statuses = ("free", "busy")
    at_t1 = {n: rng.choice(statuses) for n in range(40)}
    # By T2: some slots booked or freed, some withdrawn, some new.
    at_t2 = {n: s for n, s in at_t1.items() if rng.random() > 0.2}
    at_t2 |= {n: rng.choice(statuses) for n in rng.sample(sorted(at_t2), 10)}
    at_t2 |= {n: rng.choice(statuses) for n in range(40, 50)}
    enc_t1 = dict.fromkeys(range(12), "finished")
    enc_t2 = {n: s for n, s in enc_t1.items() if rng.random() > 0.25}
    enc_t2 |= dict.fromkeys(rng.sample(sorted(enc_t2), 3), "entered-in-error")
    enc_t2 |= dict.fromkeys(range(12, 15), "finished")

    t1, t2 = "2025-04-05T18:00:00Z", "2025-04-12T18:00:00Z"  # 5 and 12 April in California
    full = {"Schedule.000.ndjson": [schedule],
            "Slot.000.ndjson": [slot(n, s) for n, s in at_t1.items()],
            "Encounter.000.ndjson": [encounter(n, s) for n, s in enc_t1.items()]}  # fmt: skip
    doc = manifest(full, transaction_time=t1)
    first = _upload(world, export_zip(tmp_path / "f.zip", full, doc).read_bytes(), "f.zip")
    assert first.state == "done", first.quality
    changed_slots = [slot(n, s) for n, s in at_t2.items() if at_t1.get(n) != s]
    changed_encounters = [encounter(n, s) for n, s in enc_t2.items() if enc_t1.get(n) != s]
    gone = [f"Slot/s{n}" for n in at_t1 if n not in at_t2]
    gone += [f"Encounter/E{n}" for n in enc_t1 if n not in enc_t2]
    delta = {
        "Schedule.000.ndjson": [schedule],
        "Slot.000.ndjson": changed_slots,
        "Encounter.000.ndjson": changed_encounters,
        "del.ndjson": delete_bundle(*gone),
    }
    doc = manifest(delta, transaction_time=t2, deleted=["del.ndjson"],
                   request=f"https://ehr.example.org/fhir/$export?_since={t1}")  # fmt: skip
    job = _upload(world, export_zip(tmp_path / "d.zip", delta, doc).read_bytes(), "d.zip")
    assert job.state == "done", job.quality

    assert job.quality["side"]["slots"]["rows"] == len(changed_slots)

    def measured(found: dict[str, str]) -> dict[str, str]:  # from 12 April on
        return {k: v for k, v in found.items() if days[int(k[1:]) % len(days)] >= "2025-04-12"}

    stored_t2 = {r[2]: r[4] for r in side_rows(world, "slots") if r[1] == "2025-04-12"}
    assert measured(stored_t2) == measured({f"s{n}": s for n, s in at_t2.items()})
    assert len(measured(stored_t2)) > 10  # the test measures something
    stored_encounters = {r[0]: r[2] for r in side_rows(world, "encounters")}
    assert stored_encounters == {f"E{n}": s for n, s in enc_t2.items()}


def test_a_crash_after_publishing_an_export_keeps_its_slot_counts_and_notes(
    world, tmp_path, monkeypatch
):
    """The resumed run finishes the job from the store's manifest: the slots' counts, the
    slots left out for want of a snapshot and the import's note stay in its report."""
    from django.core.files.base import ContentFile

    from commonground.access import services, store
    from commonground.access.tasks import run_import_task

    schedule, free = scheduling_feed(4, 5)
    files = {
        "Schedule.000.ndjson": [schedule], "Slot.000.ndjson": free,
        "Encounter.000.ndjson": [by_id("E2")], "Patient.000.ndjson": [by_id("P9001")],
    }  # fmt: skip
    since = "https://ehr.example.org/fhir/$export?_since=2025-04-01T00:00:00Z"
    doc = manifest(files, transaction_time="2025-04-03T15:00:00Z", request=since)
    content = export_zip(tmp_path / "i.zip", files, doc).read_bytes()
    job = services.import_receive(
        actor=world.person("data_steward"), upload=ContentFile(content, name="i.zip"),
        original_name="i.zip", region=world.region, enqueue=False,
    )  # fmt: skip

    def crash(name: str) -> None:
        if name == "published":
            raise OSError("worker killed")

    monkeypatch.setattr(store, "_checkpoint", crash)
    run_import_task.call(str(job.pk))
    monkeypatch.setattr(store, "_checkpoint", lambda name: None)
    run_import_task.call(str(job.pk))
    job.refresh_from_db()
    assert job.state == "done" and job.attempts == 2
    assert job.quality["side"]["slots"]["without_snapshot"] == 2
    assert job.quality["side"]["encounters"]["inserted"] == 1
    assert any("2 slot(s) of this incremental export were not stored" in w
               for w in job.quality["warnings"])  # fmt: skip
    assert job.quality["feed"] == "https://ehr.example.org/fhir"


def test_slot_counts_read_back_from_the_store_manifest_keep_their_days():
    from commonground.access import store

    counts = store.Counts(rows=3, inserted=1, carried=2, carried_from="2025-04-01",
                          without_snapshot=1, later_snapshot="2025-04-04")  # fmt: skip
    assert store._counts(counts.as_dict()) == counts


def test_an_export_naming_no_request_is_a_system_of_its_own_not_a_store_from_before_feeds(
    world, tmp_path
):
    """An export whose manifest names no request has no feed, as slots stored before feeds
    were kept have none; but it is some system's whole schedule, not an old store: no other
    feed's incremental export builds on it, and no other feed's slot of the same id and day
    takes its slot over."""
    from commonground.access.tests.test_side import side_rows

    ours = "https://ehr.example.org/fhir"
    schedule, free = scheduling_feed(4, 5)
    other = {**schedule, "id": "sch2"}
    theirs = [{**slot, "schedule": {"reference": "Schedule/sch2"}, "status": "busy"}
              for slot in free]  # fmt: skip

    def export(name: str, files: dict, moment: str, request: str | None):
        doc = manifest(files, transaction_time=moment, request=request)
        job = _upload(world, export_zip(tmp_path / name, files, doc).read_bytes(), name)
        assert job.state == "done", job.quality
        return job.quality["side"]["slots"]

    export("theirs.zip", {"Schedule.000.ndjson": [other], "Slot.000.ndjson": theirs},
           "2025-04-01T15:00:00Z", None)  # fmt: skip
    # Our first export is incremental: there is nothing of ours to complete.
    changes = {"Schedule.000.ndjson": [schedule],
               "Slot.000.ndjson": [{**free[1], "status": "busy"}]}  # fmt: skip
    counts = export("inc.zip", changes, "2025-04-03T15:00:00Z",
                    f"{ours}/$export?_since=2025-04-01T15:00:00Z")  # fmt: skip
    assert (counts["without_snapshot"], counts.get("carried", 0)) == (1, 0)
    # Our full export of 1 April: the same ids, another system's slots.
    export("ours.zip", {"Schedule.000.ndjson": [schedule], "Slot.000.ndjson": free},
           "2025-04-01T15:00:00Z", f"{ours}/$export?_type=Slot")  # fmt: skip
    assert sorted((r[3], r[2], r[4], r[FEED]) for r in side_rows(world, "slots")) == [
        ("sch1", "s4", "free", ours),
        ("sch1", "s5", "free", ours),
        ("sch2", "s4", "busy", ""),
        ("sch2", "s5", "busy", ""),
    ]


def test_a_slot_of_a_store_from_before_feeds_that_a_slot_list_gives_again_stays_in_it(
    world, tmp_path
):
    """The old store's export snapshot of 1 April; the same day a slot list of the server
    books s5. The next incremental export completes that snapshot, s5 booked."""
    from commonground.access.tests.test_side import side_rows, upload_csv

    feed = "https://ehr.example.org/fhir"
    schedule, free = scheduling_feed(4, 5)
    files = {"Schedule.000.ndjson": [schedule], "Slot.000.ndjson": free}
    doc = manifest(files, transaction_time="2025-04-01T15:00:00Z",
                   request=f"{feed}/$export?_type=Slot")  # fmt: skip
    assert _upload(world, export_zip(tmp_path / "f.zip", files, doc).read_bytes(), "f.zip")
    store_slots_as_before_feeds(world, feed)
    listed = (
        "slot_id,schedule_id,status,start,end,clinic_id,provider_class,service_line,"
        f"overbooked,snapshot_date,feed\ns5,sch1,busy,{free[1]['start']},{free[1]['end']},OAK,"
        f"lcsw,MH,false,2025-04-01,{feed}\n"
    )
    assert upload_csv(world, listed, "slots.csv").state == "done"
    _, more = scheduling_feed(6)
    changes = {"Schedule.000.ndjson": [schedule], "Slot.000.ndjson": more}
    doc = manifest(changes, transaction_time="2025-04-03T15:00:00Z",
                   request=f"{feed}/$export?_since=2025-04-01T15:00:00Z")  # fmt: skip
    job = _upload(world, export_zip(tmp_path / "i.zip", changes, doc).read_bytes(), "i.zip")
    assert job.state == "done", job.quality
    assert {r[2]: r[4] for r in side_rows(world, "slots") if r[1] == "2025-04-03"} == {
        "s4": "free",
        "s5": "busy",
        "s6": "free",
    }


def test_a_later_full_export_of_the_same_day_withdraws_the_slots_it_no_longer_gives(
    world, tmp_path
):
    """A full export is its feed's whole schedule: the evening's export no longer lists s4,
    so s4 was withdrawn since the morning's; the next incremental export does not carry it."""
    from commonground.access.tests.test_side import side_rows, upload_csv

    feed = "https://ehr.example.org/fhir"
    schedule, free = scheduling_feed(4, 5)

    def export(name: str, slots: list, moment: str, query: str = "_type=Slot"):
        files = {"Schedule.000.ndjson": [schedule], "Slot.000.ndjson": slots}
        doc = manifest(files, transaction_time=moment, request=f"{feed}/$export?{query}")
        job = _upload(world, export_zip(tmp_path / name, files, doc).read_bytes(), name)
        assert job.state == "done", job.quality
        return job.quality["side"]["slots"]

    def snapshot(day: str) -> dict[str, str]:
        return {r[2]: r[4] for r in side_rows(world, "slots") if r[1] == day}

    export("morning.zip", free, "2025-04-01T15:00:00Z")
    # A slot list of the same server that day: not the export's, so it stays.
    listed = (
        "slot_id,schedule_id,status,start,end,clinic_id,provider_class,snapshot_date,feed\n"
        f"s9,sch1,free,2025-04-09T09:00:00-07:00,,OAK,lcsw,2025-04-01,{feed}\n"
    )
    assert upload_csv(world, listed, "slots.csv").state == "done"
    evening = export("evening.zip", free[1:], "2025-04-02T02:00:00Z")
    assert (evening["unchanged"], evening["deleted"]) == (1, 1)
    assert snapshot("2025-04-01") == {"s5": "free", "s9": "free"}
    # The same export again changes nothing.
    assert export("evening.zip", free[1:], "2025-04-02T02:00:00Z")["deleted"] == 0
    changes = [{**free[1], "status": "busy"}]
    export("inc.zip", changes, "2025-04-03T15:00:00Z", "_since=2025-04-02T02:00:00Z")
    assert snapshot("2025-04-03") == {"s5": "busy"}


def test_an_earlier_export_of_the_same_day_imported_later_changes_nothing_newer(world, tmp_path):
    """Slots are dated by their export's transactionTime, as appointments and encounters
    are: the morning's export, imported after the evening's, neither books s4 free again
    nor withdraws s6, which the evening's export gave."""
    from commonground.access.tests.test_side import side_rows

    feed = "https://ehr.example.org/fhir"
    schedule, free = scheduling_feed(4, 5, 6)

    def export(name: str, slots: list, moment: str):
        files = {"Schedule.000.ndjson": [schedule], "Slot.000.ndjson": slots}
        doc = manifest(files, transaction_time=moment, request=f"{feed}/$export?_type=Slot")
        job = _upload(world, export_zip(tmp_path / name, files, doc).read_bytes(), name)
        assert job.state == "done", job.quality
        return job.quality["side"]["slots"]

    export("evening.zip", [{**free[0], "status": "busy"}, *free[1:]], "2025-04-02T02:00:00Z")
    morning = export("morning.zip", free[:2], "2025-04-01T15:00:00Z")
    # Not applied: s4's older state and s6's withdrawal; s5 is the same.
    assert (morning["older"], morning["unchanged"], morning["deleted"]) == (2, 1, 0)
    assert {r[2]: r[4] for r in side_rows(world, "slots")} == {
        "s4": "busy",
        "s5": "free",
        "s6": "free",
    }
