"""The import pipeline's pure steps: validate, measure data quality, de-identify. No Django.

``validate`` streams the canonical CSV through DuckDB (``extract.load``) with the raw patient
id kept, reporting progress from a side thread (DuckDB's query progress: the share of the file
scanned). ``stage_incoming`` then replaces the raw ids by the keyed HMAC at once and drops the
raw table, so the raw ids live only in the DuckDB session (memory, or its private spill
directory) for the length of validation. ``masked_errors`` makes the error report safe to keep:
no patient id, no free text, no raw record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from . import extract, metrics, side, suppression
from ._db import one_row, quote, scalar
from .calendars import CalendarVersion
from .store import FILE_COLUMNS, PARTITION_SQL

WITHHELD = "(withheld: may identify a patient)"
WITHHELD_ROW = "(record not shown: it may hold a patient id; see the line in your file)"
# Cells never copied into a report: the patient id and free text.
MASKED_COLUMNS = frozenset({"patient_id", *extract.FREE_TEXT})


def connect(
    spill_dir: Path, *, timezone: str, memory_limit: str = "1GB", threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB session that spills only to ``spill_dir`` (private) and tracks progress."""
    con = duckdb.connect(":memory:")
    extract.configure(
        con,
        timezone=timezone,
        memory_limit=memory_limit,
        temp_directory=str(spill_dir),
        threads=threads,
    )
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    return con


class _ProgressPoller(threading.Thread):
    """Reads DuckDB's progress of the running statement and hands it on (0..100)."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, report: Callable[[float], None], interval: float
    ) -> None:
        super().__init__(name="access-import-progress", daemon=True)
        self.con = con
        self.report = report
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        last = -1.0
        while not self.stopped.wait(self.interval):
            try:
                pct = float(self.con.query_progress())
            except duckdb.Error:
                continue
            if pct >= 0 and pct != last:
                last = pct
                self.report(pct)


def validate(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    calendar: CalendarVersion,
    *,
    max_errors: int = 100_000,
    on_progress: Callable[[float], None] | None = None,
    interval: float = 1.0,
    booking_time_optional: bool = False,
) -> extract.LoadResult:
    """Check the whole file into the table ``appt`` (raw patient ids kept for the HMAC)."""
    poller = _ProgressPoller(con, on_progress, interval) if on_progress else None
    if poller is not None:
        poller.start()
    try:
        return extract.load(
            con,
            path,
            calendar,
            max_errors=max_errors,
            keep_patient_id=True,
            booking_time_optional=booking_time_optional,
        )
    finally:
        if poller is not None:
            poller.stopped.set()
            poller.join()


def masked_errors(
    errors: Sequence[extract.ExtractError], header: extract.Header, *, has_header: bool = True
) -> list[extract.ExtractError]:
    """The errors as they may be kept and downloaded: no patient id, free text or raw row.

    Line 1 of a CSV is its header, whose values are column names and are kept; a FHIR file
    has no header (``has_header`` False), so its first line is masked like any other."""
    hidden = MASKED_COLUMNS | set(header.ignored)
    first_data_line = 2 if has_header else 1
    out = []
    for e in errors:
        value = e.value
        if e.line >= first_data_line and value:
            if e.whole_row:
                value = WITHHELD_ROW
            elif e.column in hidden:
                value = WITHHELD
        out.append(extract.ExtractError(e.line, e.column, value, e.reason, file=e.file))
    return out


def problem_summary(loaded: extract.LoadResult) -> list[list[Any]]:
    """[column, reason, count] per kind of problem, most frequent first."""
    items = sorted(loaded.error_summary.items(), key=lambda kv: (-kv[1], kv[0]))
    return [[column, reason, int(n)] for (column, reason), n in items]


def _share(part: int, total: int) -> dict[str, Any]:
    """A share with small-cell suppression: the part and the rest must both be publishable."""
    hide = suppression.is_small(part) or suppression.is_small(total - part)
    return {
        "count": None if hide else part,
        "of": suppression.count(total),
        "share": None if hide or not total else round(part / total, 4),
    }


def quality(con: duckdb.DuckDBPyConnection, loaded: extract.LoadResult) -> dict[str, Any]:
    """Data-quality figures of a valid load (counts of 1 to 10 suppressed)."""
    initial = "service_line IN ('MH', 'SUD') AND (kind = 'initial' OR (kind IS NULL AND visit_new))"
    n_initial, eq_booked, no_request = one_row(
        con,
        f"SELECT count(*) FILTER (WHERE {initial}), "  # noqa: S608 - SQL from schema constants
        f"count(*) FILTER (WHERE {initial} AND req_eq_booked), "
        f"count(*) FILTER (WHERE {initial} AND req_ts IS NULL) FROM appt",
    )
    cutoff = loaded.last_event_day
    rows = metrics.row_quality(con, cutoff) if cutoff is not None else {}
    codes = [r[0] for r in con.execute("SELECT DISTINCT clinic_id FROM appt ORDER BY 1").fetchall()]
    return {
        "timezone": loaded.timezone,
        "values_without_offset": int(loaded.tz_assumed_values),
        "first_day": _iso(loaded.first_day),
        "last_day": _iso(loaded.last_day),
        "cutoff": _iso(cutoff),
        "clinic_codes": codes[:200],
        "initial_requests": suppression.count(int(n_initial)),
        "request_equals_booking": _share(int(eq_booked), int(n_initial)),
        "request_missing": _share(int(no_request), int(n_initial)),
        "cancelled_without_initiator": suppression.count(
            int(rows.get("cancelled_without_initiator", 0))
        ),
        "initiator_without_cancellation": suppression.count(
            int(rows.get("initiator_without_cancellation", 0))
        ),
        "first_offer_after_start": suppression.count(int(rows.get("first_offer_after_start", 0))),
        "rows_with_padded_ids": suppression.count(loaded.padded_id_rows),
        "rows_in_repeated_hour": suppression.count(loaded.repeated_hour_rows),
        "warnings": list(loaded.header.warnings),
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def key_id(key: bytes) -> str:
    """A fingerprint of the pseudonymisation key (stored with the data; reveals nothing)."""
    return hmac.new(key, b"commonground.access.key-check", hashlib.sha256).hexdigest()[:16]


def _age_band_sql() -> str:
    """Age band at the appointment's year (per row, so a re-import gives the same band)."""
    age = f"(year({extract.PARTITION_DAY}) - birth_year)"
    parts = []
    for low, high, label in extract.AGE_BANDS:
        upper = f" AND {age} <= {high}" if high is not None else ""
        parts.append(f"WHEN {age} >= {low}{upper} THEN {extract._q(label)}")
    return "CASE " + " ".join(parts) + " END"


def stage_deleted(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    state_as_of: dt.datetime | None,
    snapshot: dt.date | None,
    feed: str = "",
) -> tuple[str | None, list[str]]:
    """What a Bulk Data export lists as deleted (``Type<TAB>id`` lines, as the FHIR reader
    writes them), dated like the export's rows: Appointments as the table
    ``incoming_deleted``, Encounters and Slots as their side tables' ``deleted_*``.

    A deleted slot leaves the export's own snapshot (``snapshot``) of its ``feed``, the only
    measurement point the export speaks for; with no snapshot day there is none to leave.
    Returns the appointments' table (None when the export deletes none) and the side tables
    with deletions."""
    as_of = extract.stored_instant(state_as_of)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE deleted_listed AS SELECT DISTINCT type, id FROM "
        "read_csv($p, header = false, delim = '\t', quote = '', escape = '', "
        "columns = {'type': 'VARCHAR', 'id': 'VARCHAR'})",
        {"p": str(path)},
    )
    snap = quote(str(snapshot)) if snapshot else "NULL"
    staged = {
        "incoming_deleted": "id AS appointment_id FROM deleted_listed WHERE type = 'Appointment'",
        side.TABLES["encounters"].deleted: "id AS encounter_id FROM deleted_listed "
        "WHERE type = 'Encounter'",
        side.TABLES["slots"].deleted: f"{snap} || '|id:' || {side.key_part_sql('id')} || "
        f"{quote(side.slot_key_suffix(feed))} AS slot_key FROM deleted_listed "
        f"WHERE type = 'Slot' AND {snap} IS NOT NULL",
    }
    found = []
    for table, select in staged.items():
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS "
            f"SELECT $as_of::TIMESTAMP AS state_as_of, {select}",
            {"as_of": as_of},
        )
        if scalar(con, f"SELECT count(*) FROM {table}"):  # noqa: S608 - table name from code
            found.append(table)
    con.execute("DROP TABLE deleted_listed")
    appointments = "incoming_deleted" if "incoming_deleted" in found else None
    sides = [n for n, t in side.TABLES.items() if t.deleted in found]
    return appointments, sides


def stage_incoming(
    con: duckdb.DuckDBPyConnection, key: bytes, *, state_as_of: dt.datetime | None = None
) -> int:
    """Replace ``appt`` (raw ids) by the de-identified table ``incoming`` with its partition.

    Enumerated columns become text so every partition file has the same schema.
    ``state_as_of``: the extract's data cut-off, stored with every row (UTC) so that a later
    import of an older extract does not bring back older states (``store`` module).
    """
    extract._check_key(key)
    ipad, opad = extract._hmac_pads(key)
    as_of = extract.stored_instant(state_as_of)
    casts = {
        "patient_key": f"{extract.hmac_sql('patient_key')}",
        "age_band": _age_band_sql(),
        "state_as_of": "$state_as_of::TIMESTAMP",
    }
    enum_like = {
        "provider_class",
        "service_line",
        "kind",
        "status",
        "cancel_initiator",
        "modality",
        "product_line",
    }
    select = ", ".join(
        f"{casts[c]} AS {c}" if c in casts else (f"{c}::VARCHAR AS {c}" if c in enum_like else c)
        for c in FILE_COLUMNS
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE incoming AS SELECT *, {PARTITION_SQL} AS part "  # noqa: S608 - SQL from schema constants; key pads bound
        f"FROM (SELECT {select} FROM appt) ORDER BY part",
        {"ipad": ipad, "opad": opad, "state_as_of": as_of},
    )
    extract.drop_appt(con)
    return int(one_row(con, "SELECT count(*) FROM incoming")[0])
