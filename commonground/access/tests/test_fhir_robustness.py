"""Bad FHIR input and damaged exports get a problem on their line, never a crash, and no
report keeps a password or an access token. (Each case here once crashed the reader, read
what it should not, or kept a secret.)"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import pytest

from commonground.access import bulk, fhir
from commonground.access.tests.bulk_files import (
    _bytes,
    export_folder,
    export_zip,
    manifest,
    spec_files,
)
from commonground.access.tests.test_fhir import appointment, bundle, canonical, check, write
from commonground.access.tests.test_imports import private_files  # noqa: F401 - a fixture

MALFORMED = "an element does not have the shape FHIR R4 gives it"

BAD_APPOINTMENTS = [
    ("participant a number", {"participant": 5}),
    ("basedOn a number", {"basedOn": 5}),
    ("slot a number", {"slot": 5}),
    ("requestedPeriod a number", {"requestedPeriod": 5}),
    ("specialty coding a number", {"specialty": [{"coding": 5}]}),
    ("appointmentType coding a number", {"appointmentType": {"coding": 5}}),
    ("identifier a number and no id", {"id": None, "identifier": 5}),
]


@pytest.mark.parametrize(("name", "fields"), BAD_APPOINTMENTS, ids=[c[0] for c in BAD_APPOINTMENTS])
def test_an_appointment_of_the_wrong_shape_is_a_problem_on_its_line(tmp_path, name, fields):
    path = write(tmp_path, "a.ndjson", [appointment("A1"), appointment("A2", **fields)])
    code, report = check(path)
    # Refused with a problem on its line (no patient, no class, or malformed), or read past
    # where the element is not needed (a requestedPeriod of a booked visit); never a crash.
    refused = code == 2 and "line 2:" in report
    read = code == 0 and "rows: 2; valid: yes" in report
    assert refused or read, report


BAD_ENCOUNTERS = [
    ("period a text", {"period": "2025-01-01"}),
    ("hospitalization a list", {"hospitalization": [1]}),
    ("location texts", {"location": ["x"]}),
    ("appointment a number", {"appointment": 5}),
]


@pytest.mark.parametrize(("name", "fields"), BAD_ENCOUNTERS, ids=[c[0] for c in BAD_ENCOUNTERS])
def test_an_encounter_of_the_wrong_shape_is_a_problem_on_its_line(tmp_path, name, fields):
    encounter = {"resourceType": "Encounter", "id": "E1", "status": "finished",
                 "subject": {"reference": "Patient/P1"}, **fields}  # fmt: skip
    code, report = check(write(tmp_path, "e.ndjson", [appointment("A1"), encounter]))
    assert code == 2 and f"line 2: (row) = '': a malformed Encounter: {MALFORMED}" in report, report


def test_a_schedule_of_the_wrong_shape_is_a_problem_on_its_slots_line(tmp_path):
    schedule = {"resourceType": "Schedule", "id": "S1", "actor": 5}
    slot = {"resourceType": "Slot", "id": "sl1", "schedule": {"reference": "Schedule/S1"},
            "status": "free", "start": "2025-01-21T10:00:00-08:00",
            "end": "2025-01-21T11:00:00-08:00"}  # fmt: skip
    code, report = check(write(tmp_path, "s.ndjson", [appointment("A1"), schedule, slot]))
    assert code == 2 and f"line 3: (row) = '': a malformed Slot: {MALFORMED}" in report, report


def test_a_bundle_whose_entry_is_not_a_list_is_a_problem(tmp_path):
    line = {"resourceType": "Bundle", "type": "collection", "entry": 5}
    code, report = check(write(tmp_path, "b.ndjson", [appointment("A1"), line]))
    assert code == 2 and "line 2: (row) = '': Bundle.entry must be a list" in report, report
    inner = {"resourceType": "Bundle", "type": "collection", "entry": True}
    code, report = check(write(tmp_path, "b.json", bundle(appointment("A1"), inner)))
    assert code == 2 and "Bundle.entry must be a list of entries" in report, report


@pytest.mark.parametrize(
    "resource",
    [
        appointment("A\ud800"),
        {"resourceType": "Patient", "id": "P\udc00", "birthDate": "1988-01-01"},
        appointment("A2", appointmentType={"text": "INTAKE \ud83d"}),
    ],
    ids=["appointment id", "patient id", "visit type"],
)
@pytest.mark.parametrize("name", ["s.ndjson", "s.json"])
def test_an_unpaired_surrogate_escape_is_a_problem_not_a_crash(tmp_path, resource, name):
    """JSON allows "\\ud800"; no UTF-8 output can hold it."""
    content = [appointment("A1"), resource]
    code, report = check(write(tmp_path, name, content if name.endswith(".ndjson") else
                               bundle(*content)))  # fmt: skip
    assert code == 2 and "not valid Unicode (an unpaired surrogate escape" in report, report


def test_an_emoji_escaped_as_a_surrogate_pair_is_read(tmp_path):
    path = write(tmp_path, "a.ndjson", [appointment("A1", appointmentType={"text": "\U0001f600"})])
    assert "\\ud83d\\ude00" in path.read_text(encoding="utf-8")  # as json.dumps wrote it
    code, report = check(path)
    assert code == 0, report


def test_the_earliest_requested_period_is_the_earliest_instant(tmp_path):
    res = appointment(
        "Q1", status="proposed", start=None, end=None, created=None,
        requestedPeriod=[{"start": "2025-03-05T08:00:00-08:00"},
                         {"start": "2025-03-05T09:00:00-05:00"}],
    )  # fmt: skip
    _, (row,) = canonical(write(tmp_path, "q.json", res), tmp_path / "w")
    assert row["request_datetime"] == "2025-03-05T09:00:00-05:00"  # 14:00 UTC, not 16:00


# -- damaged exports -------------------------------------------------------------------------


def _damage(path: Path, member: str, how: str) -> Path:
    """Damage one member of a ZIP archive: its deflate stream, its local header, its CRC or
    its compression method (in both headers)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    head = info.header_offset
    name_length = int.from_bytes(data[head + 26 : head + 28], "little")
    extra_length = int.from_bytes(data[head + 28 : head + 30], "little")
    body = head + 30 + name_length + extra_length

    def central(offset: int, value: int) -> None:
        at = bytes(data).find(b"PK\x01\x02")
        while at != -1:
            length = int.from_bytes(data[at + 28 : at + 30], "little")
            if bytes(data[at + 46 : at + 46 + length]).decode() == member:
                data[at + offset] = value
            at = bytes(data).find(b"PK\x01\x02", at + 4)

    if how == "deflate":
        for i in range(body, body + min(info.compress_size, 64)):
            data[i] = 0xFF
    elif how == "crc":
        data[head + 14] ^= 0xFF
        central(16, data[head + 14])
    elif how == "header":
        data[head] = ord("X")
    elif how == "method":  # 9: Deflate64, which zipfile cannot read
        data[head + 8] = 9
        central(10, 9)
    path.write_bytes(bytes(data))
    return path


def _spec_zip(tmp_path: Path) -> Path:
    files = spec_files()
    return export_zip(tmp_path / "x.zip", files, manifest(files))


@pytest.mark.parametrize("how", ["deflate", "header", "method"])
def test_a_damaged_data_file_in_an_export_is_a_problem_not_a_crash(tmp_path, how):
    code, report = check(_damage(_spec_zip(tmp_path), "Appointment.000.ndjson", how))
    assert code == 2 and "cannot be read from the archive" in report, report


@pytest.mark.parametrize("how", ["deflate", "crc", "method"])
def test_a_damaged_manifest_is_a_problem_not_a_crash(tmp_path, how):
    code, report = check(_damage(_spec_zip(tmp_path), "manifest.json", how))
    assert code == 2 and "manifest.json" in report and "cannot be read" in report, report


SECRET_URL = "https://exporter:s3cr3t-pw@ehr.example.org/bulk/4f2a/Encounter.000.ndjson?sig=t0k3n"


def _export_naming_a_missing_file_by_a_secret_url(tmp_path: Path) -> Path:
    files = spec_files()
    doc = manifest(files)
    for entry in doc["output"]:
        if entry["url"].endswith("Encounter.000.ndjson"):
            entry["url"] = SECRET_URL
    del files["Encounter.000.ndjson"]
    return export_zip(tmp_path / "x.zip", files, doc)


def test_a_password_or_token_in_a_manifest_url_is_neither_printed_nor_kept(world, tmp_path):
    from django.core.files.storage import storages

    from commonground.access.tests.test_bulk import _upload

    path = _export_naming_a_missing_file_by_a_secret_url(tmp_path)
    code, report = check(path)
    assert code == 2 and "ehr.example.org/bulk/4f2a/Encounter.000.ndjson" in report, report
    assert "s3cr3t" not in report and "t0k3n" not in report
    job = _upload(world, path.read_bytes(), "x.zip")
    assert job.state == "invalid", job.quality
    kept = storages["private"].open(job.error_report).read().decode()
    assert "Encounter.000.ndjson" in kept and "s3cr3t" not in kept and "t0k3n" not in kept


def test_a_feed_named_without_a_scheme_never_keeps_a_password():
    assert bulk.export_feed("exporter:s3cr3t@ehr.example.org/fhir/$export") == ""
    assert "s3cr3t" not in fhir.entry_feed("exporter:s3cr3t@ehr.example.org/fhir/Slot/1", "Slot")


def test_a_very_long_line_of_a_deleted_file_is_refused_not_read_whole(tmp_path):
    files = spec_files()
    delete = {"request": {"method": "DELETE", "url": "Appointment/OLD1"}}
    text = json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": [delete]})
    files["del.ndjson"] = text[:-1] + " " * (fhir.MAX_LINE_CHARS + 10) + "}\n"
    path = export_folder(tmp_path / "e", files, manifest(files, deleted=["del.ndjson"]))
    code, report = check(path)
    assert code == 2 and f"a line longer than {fhir.MAX_LINE_CHARS:,} characters" in report


@pytest.mark.parametrize("where", ["output url", "request"])
def test_a_manifest_url_that_is_no_url_is_not_a_crash(tmp_path, where):
    files = spec_files()
    broken = "https://[ehr.example.org/bulk/Appointment.000.ndjson"
    doc = manifest(files, request=broken if where == "request" else None)
    if where == "output url":
        doc["output"][0]["url"] = broken
    code, report = check(export_zip(tmp_path / "x.zip", files, doc))
    assert code == (2 if where == "output url" else 0), report


def test_a_file_beside_a_manifest_that_links_out_of_its_folder_is_not_read(tmp_path):
    files = spec_files()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = tmp_path / "export"
    path = export_folder(folder, files, manifest(files))
    target = elsewhere / "Encounter.000.ndjson"
    (folder / "Encounter.000.ndjson").rename(target)
    (folder / "Encounter.000.ndjson").symlink_to(target)
    code, report = check(path)
    assert code == 2 and "a link to a file elsewhere" in report, report


def test_an_export_zipped_by_macos_finder_is_read(tmp_path):
    files = spec_files()
    path = export_zip(tmp_path / "x.zip", files, manifest(files))
    with zipfile.ZipFile(path, "a") as archive:
        for name in ["manifest.json", *files]:
            archive.writestr(f"__MACOSX/._{name}", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    code, report = check(path)
    assert code == 0, report


def test_two_files_of_the_same_name_in_an_archive_are_refused(tmp_path):
    files = spec_files()
    first, second = files["Appointment.000.ndjson"], files["Appointment.001.ndjson"]
    doc = manifest(files)
    del doc["output"][1]
    doc["output"][0]["count"] = len(second)
    others = {k: v for k, v in files.items() if not k.startswith("Appointment")}
    path = export_zip(tmp_path / "x.zip", others, doc)
    with warnings.catch_warnings(), zipfile.ZipFile(path, "a") as archive:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name, as it should
        archive.writestr("Appointment.000.ndjson", _bytes(first))
        archive.writestr("Appointment.000.ndjson", _bytes(second))
    code, report = check(path)
    assert code == 2 and "two files of the same name" in report, report


def test_a_carriage_return_in_a_value_is_a_line_break_not_a_broken_row(tmp_path):
    """The CSV writer quotes a value holding LF but not one holding a bare CR, which the
    reader of the canonical CSV then took for a broken row."""
    path = write(tmp_path, "a.ndjson", [appointment("A1", appointmentType={"text": "INTAKE\r60"})])
    code, report = check(path, "--as-of", "2025-03-31")
    assert code == 0, report
    _, (row,) = canonical(path, tmp_path / "w")
    assert row["visit_type"] == "INTAKE\n60"


def test_a_csv_whose_lines_end_in_a_bare_carriage_return_is_refused_with_a_reason(tmp_path):
    path = tmp_path / "classic-mac.csv"
    path.write_bytes(b"appointment_id,patient_id\rA1,P1\r")
    code, report = check(path)
    assert code == 2 and "the lines end with a carriage return alone (CR)" in report, report


@pytest.mark.parametrize("kind", ["Appointment", "Bundle"])
def test_a_document_of_many_small_members_is_bounded_as_one_value(kind):
    """Each value was bounded, but not a resource of thousands of small members: read whole."""
    members = ", ".join(f'"m{i}": "{"x" * 50}"' for i in range(2000))
    text = f'{{"resourceType": "{kind}", "type": "collection", {members}, "entry": []}}'
    items = list(fhir.iter_document(io.StringIO(text), max_value=1000))
    assert [(i.resource, i.problem) for i in items] == [
        (None, "a JSON value longer than 1,000 characters")
    ]


def test_a_boolean_duration_is_not_a_number_of_minutes(tmp_path):
    res = appointment("A1", minutesDuration=True)
    _, (row,) = canonical(write(tmp_path, "a.json", res), tmp_path / "w")
    assert row["duration_min"] == "60"  # from start and end, as when none is given


def test_an_encounter_entered_in_error_gives_no_modality(tmp_path):
    encounter = {"resourceType": "Encounter", "id": "E1", "status": "entered-in-error",
                 "class": {"system": fhir.V3_ACTCODE, "code": "VR"},
                 "subject": {"reference": "Patient/P1"},
                 "appointment": [{"reference": "Appointment/A1"}]}  # fmt: skip
    _, (row,) = canonical(
        write(tmp_path, "a.ndjson", [encounter, appointment("A1")]), tmp_path / "w"
    )
    assert row["modality"] == ""


def test_a_local_cancelation_reason_is_said(tmp_path):
    local = {"coding": [{"system": "urn:local:cancel", "code": "X1"}]}
    res = appointment("A1", status="cancelled", cancelationReason=local)
    converted, _ = canonical(write(tmp_path, "a.json", res), tmp_path / "w")
    assert any("a cancelationReason in a local code system only" in w for w in converted.warnings)
