"""Clinic closure calendars (access-and-parity.md 6.1, 8): the file is checked whole, and a
clinic's closure days are not business days for that clinic, on top of the holiday preset."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from commonground.access import closures, slots
from commonground.access.calendars import calendar_version, day_index
from commonground.access.cli import run_check
from commonground.access.tests.helpers import initial, row, write_csv
from commonground.core.business_days import Calendar

D = dt.date
NOT_A_DATE = "not a date (YYYY-MM-DD)"

# -- the file --------------------------------------------------------------------------------


def test_a_valid_file_gives_each_clinics_days():
    parsed = closures.parse_bytes(
        "\ufeffclinic_id,date,reason\n"
        "OAK,2024-10-09,Staff training\n"
        "\n"
        "OAK,2024-10-09,Listed twice\n"
        'SRF,2024-12-24,=HYPERLINK("x")\n'.encode()
    )
    assert parsed.valid and parsed.rows == 3
    assert parsed.closures.days == {
        "OAK": frozenset({D(2024, 10, 9)}),
        "SRF": frozenset({D(2024, 12, 24)}),
    }
    assert parsed.closures.clinics == ["OAK", "SRF"] and parsed.closures.day_count == 2
    # The reason is read past, never kept.
    assert "HYPERLINK" not in repr(parsed.closures)


def test_the_fingerprint_follows_the_content_not_the_order():
    a = closures.parse_bytes(b"clinic_id,date\nOAK,2024-10-09\nSRF,2024-12-24\n").closures
    b = closures.parse_bytes(b"date,clinic_id\n2024-12-24,SRF\n2024-10-09,OAK\n").closures
    c = closures.parse_bytes(b"clinic_id,date\nOAK,2024-10-10\nSRF,2024-12-24\n").closures
    assert a.fingerprint == b.fingerprint != c.fingerprint


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"clinic_id,date\nOAK,2024-13-01\n", [(2, "date", "2024-13-01", NOT_A_DATE)]),
        (b"clinic_id,date\nOAK,10/09/2024\n", [(2, "date", "10/09/2024", NOT_A_DATE)]),
        (b"clinic_id,date\n,2024-10-09\n", [(2, "clinic_id", "", "missing")]),
        (b"clinic_id,date\nO\x00K,2024-10-09\n",
         [(2, "clinic_id", "O\x00K", "holds a control character")]),
        (b"clinic_id,date\nOAK\n", [(2, "", "", "1 fields, the header has 2")]),
        (b"clinic_id,when\nOAK,2024-10-09\n",
         [(1, "date", "", "required column missing"), (1, "when", "when", "unknown column")]),
        (
            b"clinic_id,date,note\nOAK,2024-10-09,x\n",
            [(1, "note", "note", "unknown column")],
        ),
        (b"", [(1, "", "", "the file is empty")]),
        (b'clinic_id,date\nOAK,"2024-10-09\n',
         [(2, "", "", "malformed CSV (unexpected end of data)")]),
        (b"clinic_id,date\nOAK,2024-10-09\xff\n", [(0, "", "", "not UTF-8 text (byte 29)")]),
    ],
)  # fmt: skip
def test_each_bad_row_is_reported_and_nothing_is_used(content, expected):
    parsed = closures.parse_bytes(content)
    assert not parsed.valid and not parsed.closures
    assert [(e.line, e.column, e.value, e.reason) for e in parsed.errors] == expected


def test_a_bad_row_holding_a_quoted_line_break_is_reported_on_its_first_line():
    parsed = closures.parse_bytes(
        b'clinic_id,date,reason\nOAK,2024-13-01,"staff\nretreat"\n\nOAK,2024-02-30,x\n'
    )
    assert [(e.line, e.column) for e in parsed.errors] == [(2, "date"), (5, "date")]


def test_a_file_with_one_bad_row_among_good_ones_is_not_used():
    parsed = closures.parse_bytes(b"clinic_id,date\nOAK,2024-10-09\nOAK,2024-02-30\n")
    assert parsed.error_count == 1 and parsed.closures.days == {}


# -- business days ---------------------------------------------------------------------------


def test_a_closure_day_moves_the_deadline_by_one_business_day():
    """Federal calendar: from Tuesday 1 October 2024 the 10th business day is the 16th
    (Columbus Day, the 14th, is a holiday). Closed on Wednesday the 9th, it is the 17th."""
    federal = calendar_version("federal")
    plain = day_index(federal, D(2024, 9, 1), D(2024, 12, 31))
    closed = day_index(federal, D(2024, 9, 1), D(2024, 12, 31), [D(2024, 10, 9)])
    oct1 = (D(2024, 10, 1) - D(2024, 9, 1)).days
    assert plain.deadlines[10][oct1] == D(2024, 10, 16)
    assert closed.deadlines[10][oct1] == D(2024, 10, 17)
    assert closed.index[oct1 + 16] - closed.index[oct1] == 10  # 1 -> 17 October
    # A closure on a weekend or a holiday changes nothing.
    weekend = day_index(federal, D(2024, 9, 1), D(2024, 12, 31), [D(2024, 10, 12), D(2024, 10, 14)])
    assert (weekend.index == plain.index).all()


# -- the check -------------------------------------------------------------------------------


def _units(tmp_path, rows, *args: str) -> tuple[int, str, dict[tuple[str, str], dict[str, str]]]:
    extract = write_csv(tmp_path / "extract.csv", rows)
    out = tmp_path / "units.csv"
    stdout = io.StringIO()
    code = run_check([str(extract), "--out", str(out), *args], stdout=stdout)
    units = {}
    if out.exists():
        with out.open(newline="") as handle:
            for unit in csv.DictReader(handle):
                units[(unit["metric"], unit["start_appointment_id"])] = unit
    return code, stdout.getvalue(), units


def _closures(tmp_path, text: str) -> str:
    path = tmp_path / "closures.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


ROWS = [
    # The same request at two clinics: an offer on the 11th federal business day.
    initial("O1", "2024-10-01T09:00:00-07:00", "2024-10-17T10:00:00-07:00", patient_id="P1"),
    initial("S1", "2024-10-01T09:00:00-07:00", "2024-10-17T10:00:00-07:00", patient_id="P2",
            clinic_id="SRF"),
    # Follow-ups still pending at the cut-off (Friday 28 February 2025).
    row("O2", "2025-02-20T10:00:00-08:00", patient_id="P3"),
    row("S2", "2025-02-20T10:00:00-08:00", patient_id="P4", clinic_id="SRF"),
]  # fmt: skip


def test_a_clinics_closures_count_for_it_alone(tmp_path):
    as_of = ["--as-of", "2025-02-28", "--calendar", "federal"]
    code, _, before = _units(tmp_path, ROWS, *as_of)
    assert code == 0
    path = _closures(tmp_path, "clinic_id,date\nOAK,2024-10-09\nOAK,2025-02-25\nNOPE,2025-01-02\n")
    code, report, after = _units(tmp_path, ROWS, *as_of, "--closures", path)
    assert code == 0
    initial_mh = "initial_non_urgent_mh"
    assert (before[(initial_mh, "O1")]["status"], before[(initial_mh, "O1")]["business_days"]) == (
        "noncompliant", "11",
    )  # fmt: skip
    assert (after[(initial_mh, "O1")]["status"], after[(initial_mh, "O1")]["business_days"]) == (
        "compliant", "10",
    )  # fmt: skip
    assert after[(initial_mh, "O1")]["deadline"] == "2024-10-17"
    assert after[(initial_mh, "S1")] == before[(initial_mh, "S1")]  # Richmond stays open
    # A pending follow-up is censored at the cut-off: 6 business days, 5 with the 25th closed.
    assert before[("follow_up_sb221", "O2")]["business_days"] == "6"
    assert after[("follow_up_sb221", "O2")]["business_days"] == "5"
    assert after[("follow_up_sb221", "O2")]["deadline"] == "2025-03-07"
    assert after[("follow_up_sb221", "S2")] == before[("follow_up_sb221", "S2")]
    assert "closures: 3 day(s) of 2 clinic(s)" in report
    assert "warning: closures for clinic codes not in the file: NOPE" in report


def test_closures_hold_under_the_other_calendar_too(tmp_path):
    """CalHR: Columbus Day is a business day, so the 10th after 1 October is the 15th, and
    with the 9th closed the 16th: the offer on the 17th misses both."""
    path = _closures(tmp_path, "clinic_id,date\nOAK,2024-10-09\n")
    _, _, units = _units(tmp_path, ROWS, "--as-of", "2025-02-28", "--closures", path)
    unit = units[("initial_non_urgent_mh", "O1")]
    assert (unit["status"], unit["status_other_calendar"]) == ("compliant", "noncompliant")
    assert unit["business_days_other_calendar"] == "11"


def test_a_bad_closure_file_stops_the_check_with_its_report(tmp_path):
    path = _closures(tmp_path, "clinic_id,date\nOAK,2024-10-09\nOAK,9 October\n")
    errors = tmp_path / "errors.csv"
    code, report, units = _units(tmp_path, ROWS, "--closures", path, "--errors-out", str(errors))
    assert code == 2 and units == {}
    assert "INVALID: 1 problem(s) in the closure calendar" in report
    assert "line 3: date = '9 October': not a date (YYYY-MM-DD)" in report
    assert errors.read_text().splitlines() == [
        "line,column,value,reason",
        "3,date,9 October,not a date (YYYY-MM-DD)",
    ]


# -- next available appointment ------------------------------------------------------------


def test_next_available_skips_a_clinics_closure_days():
    def slot(clinic: str, day: dt.date) -> slots.Slot:
        return slots.Slot(day, day, clinic, "", "lcsw", None)

    data = slots.SlotData(open_slots=[slot("OAK", D(2024, 10, 10)), slot("SRF", D(2024, 10, 10))])
    shut = closures.from_rows([("OAK", D(2024, 10, 9))])
    units = slots.measure(data, [D(2024, 10, 7)], Calendar(), closures=shut)
    next_bd = {u.clinic_id: u.next_bd for u in units}
    assert next_bd == {"OAK": 2, "SRF": 3}  # Monday 7th -> Thursday 10th
