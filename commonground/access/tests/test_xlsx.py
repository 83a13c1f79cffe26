"""The canonical extract as an Excel workbook: streaming reader, dates, refusals, line numbers."""

from __future__ import annotations

import csv
import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from commonground.access import metrics, readers, xlsx
from commonground.access.cli import run_check
from commonground.access.tests.helpers import HEADER, SPEC_ROWS, Run, initial, row, write_csv
from commonground.access.tests.test_imports import private_files  # noqa: F401 - a fixture
from commonground.access.tests.xlsx_files import (
    Date,
    Error,
    Formula,
    csv_to_xlsx_rows,
    write_xlsx,
)


def canonical_rows(path: Path, work: Path, name: str = "") -> list[dict[str, str]]:
    converted = readers.convert(path, work, name=name or path.name)
    assert not converted.problems, converted.problems
    with converted.path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def check(path: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = run_check([str(path), "--as-of", "2025-03-31", *args], stdout=out)
    return code, out.getvalue()


# -- Excel serial dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, "1900-01-01"),
        (59, "1900-02-28"),
        (61, "1900-03-01"),  # after the phantom 1900-02-29
        (45658, "2025-01-01"),
        (45663.385416666664, "2025-01-06T09:15:00"),
        (45663.5, "2025-01-06T12:00:00"),
        (45663.99999999, "2025-01-07T00:00:00"),  # rounds to the second, into the next day
        (2958465, "9999-12-31"),
    ],
)
def test_serials_in_the_1900_system(serial, expected):
    assert xlsx.serial_to_iso(serial) == expected


def test_serial_60_is_the_1900_leap_year_bug_and_is_refused():
    with pytest.raises(xlsx.CellError, match=r"1900-02-29.*does not exist"):
        xlsx.serial_to_iso(60)
    with pytest.raises(xlsx.CellError, match="without a date"):
        xlsx.serial_to_iso(0.5)
    with pytest.raises(xlsx.CellError, match="negative"):
        xlsx.serial_to_iso(-3)


def test_serials_in_the_1904_system_are_1462_days_apart():
    assert xlsx.serial_to_iso(0, date1904=True) == "1904-01-01"
    assert xlsx.serial_to_iso(45658 - 1462, date1904=True) == "2025-01-01"
    assert xlsx.serial_to_iso(45663.385416666664 - 1462, date1904=True) == "2025-01-06T09:15:00"


@pytest.mark.parametrize(
    ("code", "is_date"),
    [("yyyy\\-mm\\-dd", True), ("h:mm", True), ('"Day "0', False), ("[Red]0.00", False),
     ("#,##0", False), ("General", False), ("[$-409]mmm d, yyyy", True)],
)  # fmt: skip
def test_custom_number_formats_are_recognised_as_dates(code, is_date):
    assert xlsx.is_date_format(code) is is_date


# -- cells -----------------------------------------------------------------------------------


def test_shared_inline_boolean_number_and_empty_cells_become_canonical_text(tmp_path):
    head = ["appointment_id", "visit_type", "is_group", "duration_min", "booked_datetime",
            "episode_id", "cancel_reason"]  # fmt: skip
    cells = ["A1", " RETURN  45 ", True, 45, Date(45663.385416666664), None, "two\nlines"]
    for inline in (False, True):
        path = write_xlsx(tmp_path / f"c{inline}.xlsx", [head, cells], inline=inline)
        (got,) = canonical_rows(path, tmp_path / f"w{inline}")
        assert got == {
            "appointment_id": "A1",
            "visit_type": " RETURN  45 ",  # kept exactly, spaces and all
            "is_group": "true",
            "duration_min": "45",  # not 45.0
            "booked_datetime": "2025-01-06T09:15:00",
            "episode_id": "",
            "cancel_reason": "two\nlines",
        }


def test_a_number_in_a_date_time_column_is_a_serial_even_without_a_date_style(tmp_path):
    path = write_xlsx(tmp_path / "d.xlsx", [["appointment_start", "request_datetime"],
                                            [45663.5, 45663]])  # fmt: skip
    (got,) = canonical_rows(path, tmp_path / "w")
    assert got == {"appointment_start": "2025-01-06T12:00:00", "request_datetime": "2025-01-06"}


def test_a_1904_workbook_is_converted_with_its_own_epoch(tmp_path):
    path = write_xlsx(
        tmp_path / "mac.xlsx", [["appointment_start"], [Date(45663.5 - 1462)]], date1904=True
    )
    converted = readers.convert(path, tmp_path / "w")
    assert "2025-01-06T12:00:00" in converted.path.read_text()
    assert any("1904 date system" in w for w in converted.warnings)


def test_only_the_first_worksheet_is_read_and_blank_rows_are_skipped(tmp_path):
    rows = [(3, ["appointment_id", "patient_id"]), (4, [None, None]), (6, ["A1", "P1"])]
    path = write_xlsx(tmp_path / "s.xlsx", rows)
    converted = readers.convert(path, tmp_path / "w")
    assert converted.path.read_text() == "appointment_id,patient_id\nA1,P1\n"
    assert converted.source_lines([1, 2]) == {1: 3, 2: 6}


def test_long_ids_stored_as_numbers_are_refused_because_excel_rounds_them(tmp_path):
    path = write_xlsx(tmp_path / "n.xlsx", [["appointment_id"], [1234567890123456789]])
    converted = readers.convert(path, tmp_path / "w")
    (problem,) = converted.problems
    assert problem.line == 2 and problem.column == "appointment_id"
    assert "store ids as text" in problem.reason


# -- same rows, same results -----------------------------------------------------------------


def _typed_cells(row_: dict[str, str]) -> list[object]:
    """A CSV row as a steward's workbook holds it: numbers, booleans and serial dates."""
    out: list[object] = []
    for name in HEADER:
        value = row_.get(name, "")
        if value == "":
            out.append(None)
        elif value in ("true", "false"):
            out.append(value == "true")
        elif name in ("duration_min", "patient_birth_year", "recommended_return_days"):
            out.append(int(value))
        elif name.endswith(("_datetime", "_start")):
            out.append(Date(_serial(value)))
        else:
            out.append(value)
    return out


def _serial(text: str) -> float:
    import datetime as dt

    moment = dt.datetime.fromisoformat(text)
    delta = moment - dt.datetime(1899, 12, 30, tzinfo=moment.tzinfo)
    return delta.days + delta.seconds / 86400


def _rows() -> list[dict[str, str]]:
    return [
        initial("X1", "2025-01-06T09:14:00", "2025-01-21T10:00:00", provider_class="lmft",
                recommended_return_days="14"),
        row("X2", "2025-02-18T10:00:00", booked="2025-01-21T10:55:00"),
        initial("X3", "2025-03-03T13:02:00", "2025-03-25T08:30:00", patient_id="P2",
                provider_class="psychiatrist", status="cancelled", cancel_initiator="provider",
                cancel_datetime="2025-03-20T16:00:00"),
        initial("X4", "2025-01-06T09:00:00", "2025-01-10T09:00:00", patient_id="P3",
                service_line="PC", provider_class="pcp"),
    ]  # fmt: skip


def test_an_xlsx_and_a_csv_with_the_same_rows_give_the_same_canonical_rows_and_metrics(
    tmp_path,
):
    rows = _rows()
    csv_path = write_csv(tmp_path / "same.csv", rows)
    book = write_xlsx(tmp_path / "same.xlsx", [HEADER, *(_typed_cells(r) for r in rows)])
    from_csv = canonical_rows(csv_path, tmp_path / "w1")
    from_xlsx = canonical_rows(book, tmp_path / "w2")
    assert from_xlsx == from_csv
    units_csv = Run(csv_path, as_of="2025-03-31").units()
    converted = readers.convert(book, tmp_path / "w3")
    units_xlsx = Run(converted.path, as_of="2025-03-31").units()
    assert units_xlsx == units_csv
    assert {u["metric"] for u in units_csv} >= {metrics.FOLLOW_UP, "initial_primary_care"}


def test_the_spec_rows_as_an_xlsx_pass_the_check_like_the_csv(tmp_path):
    book = write_xlsx(tmp_path / "spec.xlsx", csv_to_xlsx_rows(SPEC_ROWS))
    spec = tmp_path / "spec.csv"
    spec.write_text(SPEC_ROWS)
    code_x, report_x = check(book)
    code_c, report_c = check(spec)
    assert code_x == code_c == 0, report_x
    assert report_x.split("\n", 1)[1] == report_c.split("\n", 1)[1]  # all but the file name


# -- refusals, each with the sheet row ---------------------------------------------------------


def test_a_formula_cell_is_refused_naming_the_cell(tmp_path):
    cells = csv_to_xlsx_rows(SPEC_ROWS)
    cells[2][HEADER.index("duration_min")] = Formula("SUM(O2,-15)", 45)
    code, report = check(write_xlsx(tmp_path / "f.xlsx", cells))
    assert code == 2
    assert "line 3: duration_min = '=SUM(O2,-15)': cell O3: holds a formula" in report, report


def test_an_error_value_is_refused(tmp_path):
    cells = csv_to_xlsx_rows(SPEC_ROWS)
    cells[1][HEADER.index("duration_min")] = Error("#DIV/0!")
    code, report = check(write_xlsx(tmp_path / "e.xlsx", cells))
    assert code == 2 and "line 2: duration_min = '#DIV/0!': cell O2: holds an Excel error" in report


def test_validation_errors_name_the_sheet_row(tmp_path):
    cells = csv_to_xlsx_rows(SPEC_ROWS)
    numbered = [(5, cells[0]), (6, cells[1]), (9, cells[2]), (12, cells[3])]
    numbered[2][1][HEADER.index("status")] = "done"
    numbered[3][1][HEADER.index("visit_type")] = "=cmd|' /C calc'!A0"
    code, report = check(write_xlsx(tmp_path / "v.xlsx", numbered))
    assert code == 2
    assert "line 9: status = 'done': unmapped code" in report, report
    assert "line 12: visit_type" in report and "formula injection" in report


@pytest.mark.parametrize(
    "numbers", [(2, 1, 3), (1, 2, 2), (1, 2, 5_000_000_000), (1, 2, 1_048_577)]
)  # fmt: skip
def test_rows_out_of_order_or_past_excels_last_row_are_refused(tmp_path, numbers):
    """A row number past 4,294,967,295 crashed the line map; a data row numbered 1 below
    the header was reported on "line 1", which the kept report takes for the header row
    and does not mask."""
    cells = csv_to_xlsx_rows(SPEC_ROWS)
    numbered = list(zip(numbers, cells[:3], strict=True))
    code, report = check(write_xlsx(tmp_path / "o.xlsx", numbered))
    assert code == 2 and "INVALID" in report, report
    assert "out of order" in report or "past Excel's last row" in report, report


def test_a_patient_id_of_a_row_numbered_before_the_header_is_never_kept(
    world,
    tmp_path,
    private_files,  # noqa: F811 - a fixture
):
    from django.core.files.base import ContentFile

    from commonground.access import services

    cells = csv_to_xlsx_rows(SPEC_ROWS)
    cells[1][HEADER.index("patient_id")] = "=P9001SECRET"
    book = write_xlsx(tmp_path / "a.xlsx", [(2, cells[0]), (1, cells[1]), (3, cells[2])])
    job = services.import_receive(
        actor=world.person("data_steward"), upload=ContentFile(book.read_bytes(), name="a.xlsx"),
        original_name="a.xlsx", region=world.region, enqueue=False,
    )  # fmt: skip
    job = services.import_run(job.pk)
    assert job.state == "invalid"
    with services.private_storage().open(job.error_report, "rb") as handle:
        assert b"P9001SECRET" not in handle.read()


def test_a_direct_identifier_column_in_the_sheet_is_refused_on_the_header_row(tmp_path):
    cells = csv_to_xlsx_rows(SPEC_ROWS)
    cells[0][-1] = "patient_name"
    code, report = check(write_xlsx(tmp_path / "h.xlsx", [(4, c) for c in cells[:1]]
                                    + [(5 + i, c) for i, c in enumerate(cells[1:])]))  # fmt: skip
    assert code == 2 and "line 4: patient_name" in report and "direct identifier" in report


def test_a_value_outside_the_header_is_refused(tmp_path):
    cells = csv_to_xlsx_rows(SPEC_ROWS)
    cells[3].append("stray")
    code, report = check(write_xlsx(tmp_path / "x.xlsx", cells))
    assert code == 2 and "line 4" in report and "column without a header" in report


def test_a_doctype_in_a_part_is_refused(tmp_path):
    path = write_xlsx(tmp_path / "dtd.xlsx", csv_to_xlsx_rows(SPEC_ROWS))
    patched = tmp_path / "dtd2.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b"<worksheet", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet', 1
                )
            dst.writestr(info, data)
    code, report = check(patched)
    assert code == 2 and "document type or entity declaration is refused" in report


def test_limits_are_checked_on_the_declared_and_the_read_sizes(tmp_path):
    path = write_xlsx(tmp_path / "l.xlsx", csv_to_xlsx_rows(SPEC_ROWS))
    small = xlsx.Limits(max_total=2000)
    with pytest.raises(xlsx.XlsxError, match="zip bomb"):
        xlsx.Workbook(path, tmp_path, small).__enter__()
    few = xlsx.Limits(max_entries=3)
    with pytest.raises(xlsx.XlsxError, match="parts"):
        xlsx.Workbook(path, tmp_path, few).__enter__()


def test_memory_stays_flat_as_the_sheet_grows(tmp_path):
    def peak(n: int) -> int:
        rows = [HEADER] + [
            _typed_cells(row(f"M{i}", "2025-02-18T10:00:00", patient_id=f"P{i}")) for i in range(n)
        ]
        book = write_xlsx(tmp_path / f"m{n}.xlsx", rows)
        tracemalloc.start()
        try:
            converted = readers.convert(book, tmp_path / f"w{n}")
            _, top = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert converted.counts["rows"] == n
        return top

    small, large = peak(300), peak(3000)
    assert large < small * 2, (small, large)  # ten times the rows, not ten times the memory


# -- through the importer and the command line -------------------------------------------------


def test_an_xlsx_import_stores_what_the_csv_import_stores_and_reimports_change_nothing(
    world, tmp_path
):
    from django.core.files.base import ContentFile

    from commonground.access import services
    from commonground.access.models import ImportJob
    from commonground.access.tests.test_imports import stored_rows

    def upload(content: bytes, filename: str) -> ImportJob:
        job = services.import_receive(
            actor=world.person("data_steward"), upload=ContentFile(content, name=filename),
            original_name=filename, region=world.region, enqueue=False,
        )  # fmt: skip
        return services.import_run(job.pk)

    book = write_xlsx(tmp_path / "spec.xlsx", csv_to_xlsx_rows(SPEC_ROWS)).read_bytes()
    first = upload(book, "spec.xlsx")
    assert first.state == ImportJob.State.DONE, first.last_error
    assert (first.rows, first.inserted) == (3, 3)
    from_xlsx = stored_rows(world)
    for _ in range(3):
        again = upload(book, "spec.xlsx")
        assert (again.state, again.unchanged, again.generation) == ("done", 3, first.generation)
    csv_job = upload(SPEC_ROWS.encode(), "spec.csv")  # the same rows as CSV: nothing new
    assert (csv_job.inserted, csv_job.updated, csv_job.unchanged) == (0, 0, 3)
    assert stored_rows(world) == from_xlsx


def test_the_import_command_reads_an_xlsx_and_reports_sheet_rows(world, tmp_path):
    from django.core.management import call_command

    cells = csv_to_xlsx_rows(SPEC_ROWS)
    good = write_xlsx(tmp_path / "good.xlsx", cells)
    out = io.StringIO()
    steward = world.person("data_steward").username
    scope = ["--region", world.region.slug, "--user", steward, "--wait"]
    call_command("access", "import", str(good), *scope, stdout=out)
    assert "state: done" in out.getvalue() and "new 3" in out.getvalue()
    cells[3][HEADER.index("status")] = "done"
    bad = write_xlsx(tmp_path / "bad.xlsx", [(r + 7, c) for r, c in enumerate(cells)])
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("access", "import", str(bad), *scope, stdout=out)
    assert exit_.value.code == 2
    assert "line 10: status = 'done'" in out.getvalue(), out.getvalue()
