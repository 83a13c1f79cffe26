"""A corpus of bad extracts: each is rejected (exit 2) with line, column, value and reason."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from commonground.access.cli import run_check
from commonground.access.tests import bulk_files as bulk_cases
from commonground.access.tests.helpers import SPEC_ROWS
from commonground.access.tests.test_imports import private_files  # noqa: F401 - a fixture
from commonground.access.tests.xlsx_files import Date, Formula, write_xlsx

LINES = SPEC_ROWS.splitlines()
HEADER = LINES[0].split(",")


def _with(line_no: int, column: str, value: str) -> str:
    """The spec rows with one cell replaced (``line_no`` is the file line, header = 1)."""
    lines = list(LINES)
    cells = next(csv.reader([lines[line_no - 1]]))
    cells[HEADER.index(column)] = value
    lines[line_no - 1] = _row(cells)
    return "\n".join(lines) + "\n"


def _row(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()[:-1]


def check(tmp_path: Path, text: str | bytes, *args: str) -> tuple[int, str]:
    path = tmp_path / "bad.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    code = run_check([str(path), "--as-of", "2025-03-31", *args], stdout=out)
    return code, out.getvalue()


CORPUS = [
    # name, file text, expected fragments of one report line
    ("boolean", _with(2, "is_group", "maybe"), ["line 2", "is_group", "'maybe'", "not yes or no"]),
    ("integer", _with(3, "duration_min", "abc"),
     ["line 3", "duration_min", "'abc'", "whole number"]),
    ("integer range", _with(4, "patient_birth_year", "1850"),
     ["line 4", "patient_birth_year", "'1850'", "from 1900 to 2100"]),
    ("date-time", _with(3, "appointment_start", "yesterday"),
     ["line 3", "appointment_start", "'yesterday'", "ISO 8601"]),
    ("loose date", _with(2, "request_datetime", "2025-1-6"),
     ["line 2", "request_datetime", "'2025-1-6'", "ISO 8601"]),
    ("impossible date", _with(2, "booked_datetime", "2025-02-30T10:00:00"),
     ["line 2", "booked_datetime", "ISO 8601"]),
    ("skipped local time", _with(4, "appointment_start", "2025-03-09T02:30:00"),
     ["line 4", "appointment_start", "'2025-03-09T02:30:00'", "clocks skipped"]),
    ("unknown status", _with(4, "status", "done"), ["line 4", "status", "'done'", "unmapped code"]),
    ("unknown class", _with(2, "provider_class", "therapist"),
     ["line 2", "provider_class", "'therapist'", "unmapped code"]),
    ("unknown line", _with(3, "service_line", "BH"), ["line 3", "service_line", "unmapped code"]),
    ("unknown initiator", _with(4, "cancel_initiator", "weather"),
     ["line 4", "cancel_initiator", "unmapped code"]),
    ("required", _with(3, "patient_id", ""), ["line 3", "patient_id", "required value missing"]),
    ("request after booking", _with(2, "request_datetime", "2025-01-06T09:30:00-08:00"),
     ["line 2", "request_datetime", "request after booking"]),
    ("start before booking", _with(3, "appointment_start", "2025-01-20T10:00:00-08:00"),
     ["line 3", "appointment_start", "before its booking day"]),
    ("cancel before booking", _with(4, "cancel_datetime", "2025-03-01T10:00:00-08:00"),
     ["line 4", "cancel_datetime", "cancelled before it was booked"]),
    ("offer before request", _with(2, "first_offered_start", "2025-01-03T10:00:00-08:00"),
     ["line 2", "first_offered_start", "first offer before the request day"]),
    ("duplicate id", _with(3, "appointment_id", "A1001"),
     ["line 3", "appointment_id", "'A1001'", "duplicate appointment_id (first on line 2)"]),
    ("formula id", _with(2, "patient_id", '=HYPERLINK("http://x","y")'),
     ["line 2", "patient_id", "formula injection"]),
    ("formula free text", _with(4, "cancel_reason", "+cmd|' /C calc'!A0"),
     ["line 4", "cancel_reason", "formula injection"]),
    ("formula visit type", _with(3, "visit_type", "@SUM(1+1)"),
     ["line 3", "visit_type", "formula injection"]),
    ("outside calendar", _with(3, "appointment_start", "2035-02-18T10:00:00-08:00"),
     ["line 3", "appointment_start", "outside the coverage of calendar federal"]),
    # Checked after the load from the stored rows (a count, a first and a last day):
    ("required stored", _with(2, "clinic_id", ""), ["line 2", "clinic_id", "required value"]),
    ("status missing", _with(3, "status", ""), ["line 3", "status", "required value missing"]),
    ("request before calendar", _with(2, "request_datetime", "1999-12-30T09:14:00-08:00"),
     ["line 2", "request_datetime", "outside the coverage of calendar federal"]),
    ("cancel before calendar", _with(4, "cancel_datetime", "1999-03-20"),
     ["line 4", "cancel_datetime", "outside the coverage of calendar federal"]),
    ("cancel after calendar", _with(4, "cancel_datetime", "2031-03-20"),
     ["line 4", "cancel_datetime", "outside the coverage of calendar federal"]),
    ("truncated", SPEC_ROWS[: SPEC_ROWS.index("PROVIDER ILL")],
     ["line 4", "missing cells"]),
    ("extra cells", SPEC_ROWS.replace("1975\n", "1975,EXTRA\n"), ["line 4", "too many cells"]),
    ("bad quote", SPEC_ROWS.replace("NEW PSYCH EVAL 60", '"NEW PSYCH EVAL 60'),
     ["line 4", "bad quoting"]),
    ("direct identifier", SPEC_ROWS.replace("patient_birth_year", "patient_birth_year,patient_name")
     .replace(",1988\n", ",1988,Jane Doe\n").replace(",1975\n", ",1975,John Roe\n"),
     ["line 1", "patient_name", "direct identifier column refused"]),
    ("date of birth", SPEC_ROWS.replace("patient_birth_year", "DOB"),
     ["line 1", "DOB", "direct identifier"]),
    ("missing column", SPEC_ROWS.replace("status,", "state,"),
     ["line 1", "status", "required column missing"]),
    ("column case", SPEC_ROWS.replace(",status,", ",Status,"),
     ["line 1", "Status", "column names are exact"]),
    ("empty", "", ["line 1", "empty"]),
    ("header only", LINES[0] + "\n", ["line 2", "no data rows"]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "fragments"), CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_file_is_rejected_with_a_clear_report(tmp_path, name, text, fragments):
    code, report = check(tmp_path, text)
    assert code == 2, report
    assert "INVALID" in report
    lines = [line for line in report.splitlines() if fragments[0] + ":" in line]
    assert any(all(f in line for f in fragments[1:]) for line in lines), report


def test_invalid_utf8_is_rejected_with_its_line(tmp_path):
    data = SPEC_ROWS.encode().replace(b"PROVIDER ILL", b"PROVIDER \xff\xfe ILL")
    code, report = check(tmp_path, data)
    assert code == 2
    assert "line 4" in report and "not valid UTF-8" in report


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (LINES[0] + "\n" + "\r\n".join(LINES[1:]) + "\r\n", 2),  # LF header, CR LF rows
        ("\n".join(LINES[:3]) + "\n" + LINES[3] + "\r\n", 4),  # one CR LF row among LF
        ("\r\n".join(LINES[:3]) + "\r\n" + LINES[3] + "\n", 4),  # one LF row among CR LF
    ],
    ids=["lf-header-crlf-rows", "one-crlf-row", "one-lf-row"],
)
def test_lines_that_end_in_two_ways_are_a_problem_on_the_first_that_differs(tmp_path, text, line):
    """DuckDB's CSV reader gives up on such a file ("invalid state"): that was a crash."""
    code, report = check(tmp_path, text)
    assert code == 2 and f"line {line}: " in report and "one kind of line ending" in report, report


def test_a_file_of_crlf_lines_only_is_read(tmp_path):
    code, report = check(tmp_path, "\r\n".join(LINES) + "\r\n")
    assert code == 0, report


def test_a_header_column_without_a_name_is_refused_not_a_crash(tmp_path):
    """A trailing comma (as spreadsheets write) gave DuckDB a column named ''."""
    code, report = check(tmp_path, "\n".join(line + "," for line in LINES) + "\n")
    assert code == 2 and f"column {len(HEADER) + 1} of the header has no name" in report, report


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("2025-01-06T09:14:00-08:00", "0000-01-06T09:14:00-08:00", 2),  # year 0
        ("2025-03-20T16:00:00-07:00", "9999-12-31T23:00:00-12:00", 4),  # year 10000 in UTC
    ],
)
def test_a_year_python_cannot_hold_is_outside_the_calendar_not_a_crash(tmp_path, old, new, line):
    assert old in SPEC_ROWS
    code, report = check(tmp_path, SPEC_ROWS.replace(old, new, 1))
    assert code == 2 and f"line {line}: " in report and "outside the coverage" in report, report


@pytest.mark.parametrize(
    "value",
    ["2025-03-25 08:30:00 EST", "2025-03-25T08:30+99:00", "2025-03-25T08:30:00+15:00",
     "2025-03-25T08:30:00-07:75"],
)  # fmt: skip
def test_a_time_zones_name_or_an_impossible_offset_is_not_iso_8601(tmp_path, value):
    assert "2025-03-25T08:30:00-07:00" in SPEC_ROWS
    code, report = check(tmp_path, SPEC_ROWS.replace("2025-03-25T08:30:00-07:00", value))
    assert code == 2 and "appointment_start" in report and "ISO 8601" in report, report


@pytest.mark.parametrize(
    "value",
    [
        "2025-03-09T01:59:59",  # the last second before the clocks go forward (PST)
        "2025-03-09T03:00:00",  # the first after (PDT)
        "2025-03-09 03:15",
        "2025-03-09T02:30:00-08:00",  # with its offset an instant, whatever the wall clock
        "2025-03-09",  # a day alone
        "2025-11-02T01:30:00",  # the hour the clocks repeat: read once, as before
        "2025-03-25T24:00:00",  # the end of a day, read as the next day's 00:00
    ],
)
def test_only_a_local_time_the_clocks_skipped_is_refused(tmp_path, value):
    """2025-03-09 02:00-02:59 never happened in Los Angeles: DuckDB read it an hour later."""
    code, report = check(tmp_path, SPEC_ROWS.replace("2025-03-25T08:30:00-07:00", value))
    assert code == 0, report


@pytest.mark.parametrize(
    ("old", "new", "column", "value"),
    [
        (",60,completed", ",60.7,completed", "duration_min", "60.7"),
        (",commercial,1988", ",commercial,1988.6", "patient_birth_year", "1988.6"),
        (",false,false,14,false", ",false,false,1e1,false", "recommended_return_days", "1e1"),
        (",60,completed", ",0x3C,completed", "duration_min", "0x3C"),
        (",60,completed", ",+60,completed", "duration_min", "+60"),
        (",60,completed", ",99999999999999999999,completed", "duration_min", "9" * 20),
    ],
)
def test_a_whole_number_column_takes_digits_only(tmp_path, old, new, column, value):
    """DuckDB's BIGINT reading rounded 60.7 to 61 and read 1e1 as 10, without a word."""
    assert old in SPEC_ROWS
    code, report = check(tmp_path, SPEC_ROWS.replace(old, new, 1))
    assert code == 2 and f"{column} = '{value}': not a whole number" in report, report


def test_the_spec_rows_are_valid(tmp_path):
    code, report = check(tmp_path, SPEC_ROWS)
    assert code == 0, report
    assert "valid: yes" in report


def test_line_numbers_count_line_breaks_inside_quoted_values(tmp_path):
    text = _with(2, "cancel_reason", "first line\nsecond line\nthird")
    lines = text.splitlines()
    cells = next(csv.reader([lines[-1]]))
    cells[HEADER.index("status")] = "done"
    text = "\n".join([*lines[:-1], _row(cells)]) + "\n"
    code, report = check(tmp_path, text)
    assert code == 2
    # A1003 starts on line 6: A1001 spans lines 2-4 (two quoted line breaks).
    assert "line 6: status = 'done'" in report, report


def test_every_bad_row_is_reported_and_the_csv_report_is_safe(tmp_path):
    body = LINES[1].split(",", 1)[1].replace("P9001", "=1+2")
    rows = [LINES[0], *(f"X{i}," + body for i in range(30))]
    code, report = check(tmp_path, "\n".join(rows) + "\n", "--errors-out",
                         str(tmp_path / "errors.csv"), "--max-errors", "5")  # fmt: skip
    assert code == 2
    assert "30  patient_id: cell starts with" in report
    with (tmp_path / "errors.csv").open(newline="") as handle:
        got = list(csv.reader(handle))
    assert got[0] == ["line", "column", "value", "reason"]
    assert len(got) == 31
    assert {r[0] for r in got[1:]} == {str(n) for n in range(2, 32)}
    assert all(r[2] == "'=1+2" for r in got[1:])  # neutralised for spreadsheets


def test_several_problems_in_one_row_are_all_named(tmp_path):
    text = _with(3, "service_line", "")
    text = text.replace("A1002,P9001", "A1002,")
    code, report = check(tmp_path, text)
    assert code == 2
    assert "line 3: patient_id" in report and "line 3: service_line" in report


def test_missing_file_and_bad_arguments_exit_2(tmp_path):
    out = io.StringIO()
    assert run_check([str(tmp_path / "nope.csv")], stdout=out) == 2
    assert "no such file" in out.getvalue()
    path = tmp_path / "ok.csv"
    path.write_text(SPEC_ROWS)
    assert run_check([str(path), "--as-of", "31/03/2025"], stdout=io.StringIO()) == 2
    assert run_check([str(path), "--calendar", "moon"], stdout=io.StringIO()) == 2


# -- the same corpus in the other formats: XLSX and FHIR R4 ------------------------------------
# Binary files are generated here (small, except the zip bomb, which is small compressed).

XLSX_ROWS = [list(next(csv.reader([line]))) for line in LINES]


def _xlsx_with(row_no: int, column: str, value: object) -> list[list[object]]:
    rows = [list(r) for r in XLSX_ROWS]
    rows[row_no - 1][HEADER.index(column)] = value
    return rows


def _xlsx(tmp_path: Path, rows: list[list[object]]) -> bytes:
    return write_xlsx(tmp_path / "made.xlsx", rows).read_bytes()


def _zip_bomb(tmp_path: Path) -> bytes:
    """A valid workbook whose sheet is 64 MB of one repeated row, a few dozen KB zipped."""
    path = write_xlsx(tmp_path / "bomb-base.xlsx", XLSX_ROWS[:2])
    out = tmp_path / "bomb.xlsx"
    row_xml = b'<row><c t="inlineStr"><is><t>A</t></is></c></row>'
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info.filename, src.read(info))
        with dst.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                        b'2006/main"><sheetData>')  # fmt: skip
            block = row_xml * 20_000
            for _ in range(64 * 1024 * 1024 // len(block)):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
    return out.read_bytes()


def _truncated_sheet(tmp_path: Path) -> bytes:
    """The ZIP is whole but the worksheet XML inside stops in the middle of a row."""
    path = write_xlsx(tmp_path / "t.xlsx", XLSX_ROWS)
    out = tmp_path / "t2.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: data.index(b'<row r="4">') + 40]
            dst.writestr(info.filename, data)
    return out.read_bytes()


def _appt(ident: str, **fields: object) -> dict[str, object]:
    res: dict[str, object] = {
        "resourceType": "Appointment", "id": ident, "status": "booked",
        "specialty": [{"coding": [{"system": "http://nucc.org/provider-taxonomy",
                                   "code": "106H00000X"}]}],
        "created": "2025-01-06T09:20:00-08:00", "start": "2025-01-21T10:00:00-08:00",
        "participant": [{"actor": {"reference": "Patient/P1"}},
                        {"actor": {"reference": "Practitioner/PR1"}},
                        {"actor": {"reference": "Location/OAK"}}],
    }  # fmt: skip
    res.update(fields)
    return res


def _ndjson(*resources: dict[str, object]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in resources).encode()


def _bundle(*resources: dict[str, object]) -> bytes:
    doc = {"resourceType": "Bundle", "type": "collection",
           "entry": [{"resource": r} for r in resources]}  # fmt: skip
    return json.dumps(doc, indent=1).encode()


OTHER_FORMATS = [
    # name, file name, builder(tmp_path) -> bytes, expected fragments of one report line
    ("xlsx wrong type", "w.xlsx", lambda t: _xlsx(t, _xlsx_with(3, "duration_min", "abc")),
     ["line 3", "duration_min", "'abc'", "whole number"]),
    ("xlsx unknown code", "c.xlsx", lambda t: _xlsx(t, _xlsx_with(4, "status", "done")),
     ["line 4", "status", "'done'", "unmapped code"]),
    ("xlsx reversed dates", "r.xlsx",
     lambda t: _xlsx(t, _xlsx_with(3, "appointment_start", Date(45677.5))),  # 2025-01-20
     ["line 3", "appointment_start", "before its booking day"]),
    ("xlsx duplicate id", "d.xlsx", lambda t: _xlsx(t, _xlsx_with(4, "appointment_id", "A1001")),
     ["line 4", "appointment_id", "duplicate appointment_id (first on line 2)"]),
    ("xlsx formula cell", "f.xlsx",
     lambda t: _xlsx(t, _xlsx_with(2, "duration_min", Formula("10*6", 60))),
     ["line 2", "duration_min", "'=10*6'", "cell O2: holds a formula"]),
    ("xlsx formula injection", "i.xlsx",
     lambda t: _xlsx(t, _xlsx_with(3, "visit_type", '=HYPERLINK("http://x","y")')),
     ["line 3", "visit_type", "formula injection"]),
    ("xlsx truncated upload", "t.xlsx",
     lambda t: _xlsx(t, XLSX_ROWS)[: len(_xlsx(t, XLSX_ROWS)) // 2],
     ["line 0", "not a complete XLSX workbook", "truncated"]),
    ("xlsx truncated sheet", "s.xlsx", _truncated_sheet,
     ["line 0", "xl/worksheets/sheet1.xml", "damaged XML"]),
    ("xlsx zip bomb", "bomb.xlsx", _zip_bomb, ["line 0", "refused as a zip bomb"]),
    ("legacy xls", "old.xls", lambda t: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
     ["line 0", "legacy Excel .xls"]),
    ("fhir wrong type", "w.ndjson", lambda t: _ndjson(_appt("F1"), _appt("F2", created="soon")),
     ["line 2", "booked_datetime", "'soon'", "ISO 8601"]),
    ("fhir unknown code", "c.ndjson", lambda t: _ndjson(_appt("F1", status="completed")),
     ["line 1", "status", "'completed'", "unmapped Appointment.status"]),
    ("fhir reversed dates", "r.ndjson",
     lambda t: _ndjson(_appt("F1"), _appt("F2", created="2025-02-01T10:00:00-08:00")),
     ["line 2", "appointment_start", "before its booking day"]),
    ("fhir duplicate id", "d.ndjson", lambda t: _ndjson(_appt("F1"), _appt("F2"), _appt("F1")),
     ["line 3", "appointment_id", "duplicate appointment_id (first on line 1)"]),
    ("fhir formula injection", "i.ndjson",
     lambda t: _ndjson(_appt("F1", appointmentType={"text": "@SUM(1+1)"})),
     ["line 1", "visit_type", "formula injection"]),
    ("fhir truncated bundle", "t.json",
     lambda t: _bundle(_appt("F1"), _appt("F2"))[:-60], ["line", "truncated"]),
    ("fhir truncated ndjson", "t.ndjson", lambda t: _ndjson(_appt("F1"), _appt("F2"))[:-40],
     ["line 2", "the last line is cut short"]),
    ("fhir not json", "n.json", lambda t: b'{"resourceType": "Appointment", "id": ',
     ["line 1", "truncated"]),
    # Bulk Data exports (a ZIP of a manifest and its ndjson files): lines of the file named.
    ("bulk short file", "s.zip", lambda t: bulk_cases.short_file(t).read_bytes(),
     ["Appointment.000.ndjson line 0", "gives 2 resources for this file and it holds 1"]),
    ("bulk duplicate id", "d.zip", lambda t: bulk_cases.duplicate_across_files(t).read_bytes(),
     ["Appointment.001.ndjson line 2", "appointment_id",
      "duplicate appointment_id (first on line 1 of Appointment.000.ndjson)"]),
    ("bulk zip bomb", "b.zip", lambda t: bulk_cases.zip_bomb(t).read_bytes(),
     ["(archive) line 0", "a possible zip bomb"]),
    ("bulk truncated file", "t.zip", lambda t: bulk_cases.truncated(t).read_bytes(),
     ["Appointment.001.ndjson line 1", "the last line is cut short"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "filename", "build", "fragments"), OTHER_FORMATS, ids=[c[0] for c in OTHER_FORMATS]
)
def test_bad_xlsx_and_fhir_files_are_rejected_with_a_clear_report(
    tmp_path, name, filename, build, fragments
):
    path = tmp_path / filename
    path.write_bytes(build(tmp_path))
    out = io.StringIO()
    code = run_check([str(path), "--as-of", "2025-03-31"], stdout=out)
    report = out.getvalue()
    assert code == 2, report
    assert "INVALID" in report
    lines = [line for line in report.splitlines() if line.strip().startswith(fragments[0])]
    assert any(all(f in line for f in fragments[1:]) for line in lines), report


# -- and through the importer: nothing is stored -------------------------------------------------


def _as_bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode()


IMPORTED = {c[0]: c for c in OTHER_FORMATS}
# Every CSV case of the corpus too, uploaded as extract.csv.
IMPORTED.update(
    {
        f"csv {name}": (f"csv {name}", "extract.csv", lambda _tmp, t=text: _as_bytes(t), found)
        for name, text, found in CORPUS
    }
)


@pytest.mark.parametrize(
    "name",
    ["xlsx formula cell", "xlsx zip bomb", "xlsx truncated upload", "fhir unknown code",
     "fhir truncated bundle", "fhir duplicate id", "bulk short file", "bulk duplicate id",
     "bulk zip bomb", "bulk truncated file", *(f"csv {c[0]}" for c in CORPUS)],
)  # fmt: skip
def test_a_bad_upload_is_rejected_whole_and_nothing_is_stored(world, tmp_path, name):
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    from commonground.access import services
    from commonground.access.models import ImportJob
    from commonground.access.tests.helpers import SPEC_ROWS as GOOD

    def upload(content: bytes, filename: str) -> ImportJob:
        job = services.import_receive(
            actor=world.person("data_steward"),
            upload=ContentFile(content, name=filename),
            original_name=filename,
            region=world.region,
            enqueue=False,
        )
        return services.import_run(job.pk)

    assert upload(GOOD.encode(), "good.csv").state == ImportJob.State.DONE
    store = services.store_for(world.region.pk)
    before = (store.current().number, sorted(p.name for p in store.files()))
    _, filename, build, _fragments = IMPORTED[name]
    job = upload(build(tmp_path), filename)
    assert job.state == ImportJob.State.INVALID, job.last_error
    assert job.inserted is None and job.rejected and job.rejected > 0
    assert (store.current().number, sorted(p.name for p in store.files())) == before
    assert job.upload == ""  # the upload is deleted after processing
    report = storages["private"].open(job.error_report).read().decode()
    # An export of several files names the file of each line first.
    header = (
        "file,line,column,value,reason" if name.startswith("bulk") else "line,column,value,reason"
    )
    assert report.startswith(header)
    assert "P1," not in report  # no patient id copied into the kept report
