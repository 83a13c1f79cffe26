"""Ids are read without the spaces around them.

A fixed-width export pads ids ("P9001" becomes "P9001 "). Kept as written, the padded and
the plain id were two patients (a follow-up chain broken in two), two appointments (extracts
no longer merging by ``appointment_id``) and no match for the slot and encounter files,
whose readers strip their cells. The canonical CSV's ids now read as the encounter file's.
"""

from __future__ import annotations

import duckdb

from commonground.access import extract, hedis, metrics
from commonground.access.calendars import calendar_version
from commonground.access.tests.helpers import initial, row, run, write_csv


def _load(tmp_path, rows, **kwargs):
    con = duckdb.connect()
    extract.configure(con, memory_limit="256MB")
    path = write_csv(tmp_path / "extract.csv", rows)
    return con, extract.load(con, path, calendar_version("federal"), **kwargs)


def test_a_padded_patient_id_is_the_same_patient_and_keeps_the_follow_up_chain(tmp_path):
    rows = [
        row("A1", "2025-02-03T10:00:00-08:00", patient_id="P9001  ", episode_id="E7 "),
        row("A2", "2025-02-10T10:00:00-08:00", patient_id="P9001", episode_id="E7"),
    ]
    r = run(tmp_path, rows, as_of="2025-03-31")
    unit = r.unit(metrics.FOLLOW_UP, "A1")
    # One patient and one episode: the next visit stops the clock (not "episode ended").
    assert (unit["stop_appointment_id"], unit["status"]) == ("A2", "compliant")
    assert r.loaded.padded_id_rows == 1


def test_padded_ids_are_stored_without_their_spaces_and_counted_by_row(tmp_path):
    rows = [
        row(" A1", "2025-02-03T10:00:00-08:00", patient_id=" P1 ", clinic_id="OAK "),
        row("A2", "2025-02-04T10:00:00-08:00", patient_id="P 2"),  # a space inside stays
        row("A3", "2025-02-05T10:00:00-08:00"),
    ]
    con, loaded = _load(tmp_path, rows, keep_patient_id=True)
    assert loaded.valid, loaded.errors
    assert loaded.padded_id_rows == 1
    got = con.execute("SELECT appointment_id, patient_key, clinic_id FROM appt ORDER BY 1")
    assert got.fetchall() == [("A1", "P1", "OAK"), ("A2", "P 2", "OAK"), ("A3", "P1", "OAK")]


def test_an_id_of_spaces_only_is_a_missing_id_on_its_line(tmp_path):
    rows = [
        row("A1", "2025-02-03T10:00:00-08:00"),
        row("A2", "2025-02-04T10:00:00-08:00", patient_id="   "),
    ]
    _con, loaded = _load(tmp_path, rows)
    assert not loaded.valid
    assert [(e.line, e.column, e.reason) for e in loaded.errors] == [
        (3, "patient_id", "required value missing")
    ]


def test_a_padded_and_a_plain_appointment_id_are_duplicates_found_on_their_lines(tmp_path):
    rows = [
        row("A1", "2025-02-03T10:00:00-08:00"),
        row("A2", "2025-02-04T10:00:00-08:00", duration_min="x", episode_id=" E2"),
        row("A1 ", "2025-02-05T10:00:00-08:00"),
    ]
    _con, loaded = _load(tmp_path, rows)
    found = sorted((e.line, e.column, e.reason) for e in loaded.errors)
    assert found == [
        (3, "duration_min", "not a whole number from 0 to 1440"),
        (4, "appointment_id", "duplicate appointment_id (first on line 2)"),
    ]


def test_encounters_find_the_visits_of_a_padded_patient_id(tmp_path):
    rows = [
        initial(
            "A1", "2025-02-01T09:00:00-08:00", "2025-02-03T10:00:00-08:00", patient_id="P9001 "
        ),
    ]
    con, loaded = _load(tmp_path, rows)
    assert loaded.valid, loaded.errors
    # The encounter file's reader strips its cells: its patient is "P9001".
    visits = hedis.appointment_follow_ups(con, ["P9001"])
    assert [(v.patient_id, v.encounter_id) for v in visits] == [("P9001", "appointment:A1")]


def test_the_test_for_spaces_matches_python_on_awkward_ids():
    con = duckdb.connect()
    values = ["P1", " P1", "P1 ", "  ", " ", "P 1", "\tP1", "P1\t", "!P1", "\u00a0P1", "é ", ""]
    for value in values:
        got = con.execute(f"SELECT {extract.padded_sql('$v')}", {"v": value}).fetchone()
        assert got == (value != value.strip(" "),), repr(value)


def test_an_import_records_and_shows_its_rows_with_padded_ids(tmp_path):
    from commonground.access import ingest, selectors
    from commonground.access.models import ImportJob

    rows = [
        row(f"A{i}", f"2025-02-{3 + i:02}T10:00:00-08:00", patient_id="P1" + " " * (i < 12))
        for i in range(20)
    ]
    con, loaded = _load(tmp_path, rows, keep_patient_id=True)
    assert loaded.valid, loaded.errors
    recorded = ingest.quality(con, loaded)
    assert recorded["rows_with_padded_ids"] == 12
    label = "Rows with an id between spaces (read without them)"
    assert (label, "12") in selectors.quality_lines(ImportJob(quality=recorded))
    # An import recorded before ids were read this way shows no figure it did not keep.
    older = {k: v for k, v in recorded.items() if k != "rows_with_padded_ids"}
    assert label not in dict(selectors.quality_lines(ImportJob(quality=older)))
    few = ingest.quality(*_load(tmp_path, rows[8:], keep_patient_id=True))
    assert few["rows_with_padded_ids"] is None  # 4 rows: a count from 1 to 10 is suppressed


class _CountingConnection:
    """A connection that counts the statements reading the extract into ``appt_rows``."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con, self.reads = con, 0

    def execute(self, sql, *args, **kwargs):
        self.reads += f"TABLE {extract.ROWS_TABLE} AS" in str(sql)
        return self._con.execute(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_the_file_is_read_again_only_when_some_id_has_spaces_around_it(tmp_path):
    for patient, reads in (("P1", 1), ("P1 ", 2)):
        con = _CountingConnection(duckdb.connect())
        extract.configure(con, memory_limit="256MB")
        path = write_csv(tmp_path / "extract.csv", [row("A1", "2025-02-03", patient_id=patient)])
        loaded = extract.load(con, path, calendar_version("federal"), keep_patient_id=True)
        assert loaded.valid and (con.reads, loaded.padded_id_rows) == (reads, reads - 1)
        assert con.execute("SELECT patient_key FROM appt").fetchall() == [("P1",)]
