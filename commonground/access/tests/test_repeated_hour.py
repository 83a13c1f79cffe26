"""A local time in the hour the clocks repeat is read as standard time, and counted.

On 2 November 2025 Los Angeles went from 01:59:59 PDT back to 01:00:00 PST, so a clock read
01:30 twice (08:30 and 09:30 UTC). A value without an offset cannot say which: the reader
takes the later (standard time), as PostgreSQL does, and the rows holding such a value are
counted in the check's data quality and on the import page, so the steward knows an urgent
wait there may be an hour off.
"""

from __future__ import annotations

import datetime as dt
import io

import duckdb
import pytest

from commonground.access import extract, ingest, selectors
from commonground.access.calendars import calendar_version
from commonground.access.cli import run_check
from commonground.access.models import ImportJob
from commonground.access.tests.helpers import row, write_csv

UTC = dt.UTC


def _load(tmp_path, rows, *, timezone="America/Los_Angeles", **kwargs):
    con = duckdb.connect()
    extract.configure(con, memory_limit="256MB", timezone=timezone)
    path = write_csv(tmp_path / "extract.csv", rows)
    return con, extract.load(con, path, calendar_version("federal"), **kwargs)


def _start(value: str, **fields: str) -> dict[str, str]:
    return row("A1", value, booked="2025-01-02T08:00:00-08:00", **fields)


@pytest.mark.parametrize(
    ("value", "repeated", "read_as"),
    [
        ("2025-11-02T01:30:00", True, dt.datetime(2025, 11, 2, 9, 30, tzinfo=UTC)),
        ("2025-11-02 01:00", True, dt.datetime(2025, 11, 2, 9, 0, tzinfo=UTC)),
        ("2025-11-02T01:59:59", True, dt.datetime(2025, 11, 2, 9, 59, 59, tzinfo=UTC)),
        # Either instant given with its offset is not in doubt.
        ("2025-11-02T01:30:00-07:00", False, dt.datetime(2025, 11, 2, 8, 30, tzinfo=UTC)),
        ("2025-11-02T01:30:00-08:00", False, dt.datetime(2025, 11, 2, 9, 30, tzinfo=UTC)),
        ("2025-11-02T09:30:00Z", False, dt.datetime(2025, 11, 2, 9, 30, tzinfo=UTC)),
        # The minutes either side, the same time another day, a day alone.
        ("2025-11-02T00:59:59", False, dt.datetime(2025, 11, 2, 7, 59, 59, tzinfo=UTC)),
        ("2025-11-02T02:00:00", False, dt.datetime(2025, 11, 2, 10, 0, tzinfo=UTC)),
        ("2025-11-03T01:30:00", False, dt.datetime(2025, 11, 3, 9, 30, tzinfo=UTC)),
        ("2025-03-09T01:30:00", False, dt.datetime(2025, 3, 9, 9, 30, tzinfo=UTC)),
        ("2025-11-02", False, dt.datetime(2025, 11, 2, 7, 0, tzinfo=UTC)),
    ],
)
def test_only_a_local_time_the_clocks_showed_twice_is_counted(tmp_path, value, repeated, read_as):
    con, loaded = _load(tmp_path, [_start(value)])
    assert loaded.valid, loaded.errors
    assert loaded.repeated_hour_rows == int(repeated)
    (start,) = con.execute("SELECT epoch_us(start_ts) FROM appt").fetchone()
    assert dt.datetime.fromtimestamp(start / 1e6, UTC) == read_as


def test_every_date_time_column_is_tested_and_a_row_counts_once(tmp_path):
    rows = [
        row("A1", "2025-11-04T10:00:00-08:00", booked="2025-11-02T01:15:00"),
        row(
            "A2",
            "2025-11-02T01:45:00",
            booked="2025-11-02T01:10:00",
            request_datetime="2025-11-02T01:05:00",
            appointment_kind="initial",
        ),
        row(
            "A3",
            "2025-11-05T10:00:00-08:00",
            booked="2025-10-30T08:00:00-07:00",
            status="cancelled",
            cancel_datetime="2025-11-02T01:20:00",
            cancel_initiator="patient",
        ),
        row("A4", "2025-11-06T10:00:00-08:00", first_offered_start="2025-11-02T01:40:00"),
        row("A5", "2025-11-06T10:00:00-08:00"),
    ]
    _con, loaded = _load(tmp_path, rows)
    assert loaded.valid, loaded.errors
    assert loaded.repeated_hour_rows == 4


def test_the_clinic_s_own_zone_decides_which_hour_repeats(tmp_path):
    # New York went back at 02:00 EDT, three hours of UTC earlier than Los Angeles; Phoenix
    # keeps no daylight time at all.
    value = "2025-11-02T01:30:00"
    assert _load(tmp_path, [_start(value)], timezone="America/New_York")[1].repeated_hour_rows
    assert not _load(tmp_path, [_start(value)], timezone="America/Phoenix")[1].repeated_hour_rows


def test_the_check_reports_the_count_suppressed_as_every_count(tmp_path):
    rows = [
        row(f"A{i}", f"2025-11-02T01:{i:02}:00", booked="2025-10-20T08:00:00-07:00")
        for i in range(12)
    ]
    path = write_csv(tmp_path / "extract.csv", rows)
    out = io.StringIO()
    assert run_check([str(path), "--as-of", "2025-12-31"], stdout=out) == 0
    line = "rows with a local time the clocks showed twice (read as standard time): 12"
    assert line in out.getvalue()
    few = write_csv(tmp_path / "few.csv", rows[:3])
    out = io.StringIO()
    assert run_check([str(few), "--as-of", "2025-12-31"], stdout=out) == 0
    assert "rows with a local time the clocks showed twice (read as standard time): hidden" in (
        out.getvalue()
    )


def test_an_import_records_and_shows_its_rows_in_the_repeated_hour(tmp_path):
    rows = [
        row(f"A{i}", f"2025-11-0{2 + (i >= 12)}T01:{i:02}:00", booked="2025-10-20T08:00:00-07:00")
        for i in range(20)
    ]
    con, loaded = _load(tmp_path, rows, keep_patient_id=True)
    assert loaded.valid, loaded.errors
    recorded = ingest.quality(con, loaded)
    assert recorded["rows_in_repeated_hour"] == 12
    label = "Rows with a local time the clocks showed twice (read as standard time)"
    assert (label, "12") in selectors.quality_lines(ImportJob(quality=recorded))
    # An import recorded before these were counted shows no figure it did not keep.
    older = {k: v for k, v in recorded.items() if k != "rows_in_repeated_hour"}
    assert label not in dict(selectors.quality_lines(ImportJob(quality=older)))
