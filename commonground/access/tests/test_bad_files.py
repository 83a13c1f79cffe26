"""A corpus of bad extracts: each is rejected (exit 2) with line, column, value and reason."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from commonground.access.cli import run_check
from commonground.access.tests.helpers import SPEC_ROWS

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
    ("boolean", _with(2, "is_group", "maybe"), ["line 2", "is_group", "'maybe'", "boolean"]),
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
