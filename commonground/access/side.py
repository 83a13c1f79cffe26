"""Slots and encounters kept beside the appointment rows, for the supply and HEDIS-like
measures of the dashboards. No Django.

An import that brings slots (FHIR ``Slot`` / ``Schedule``, or a canonical slot CSV) or
encounters (FHIR ``Encounter``, or a canonical encounter CSV) stages them here as DuckDB
tables in the store's stored layout; ``Store.merge`` keeps them in each generation as
``side/slots.parquet`` and ``side/encounters.parquet``. Layouts: ``slots.py`` and
``hedis.py`` module docs.

De-identification is the appointments' own: the encounter's patient id becomes the same keyed
HMAC (so encounters still meet the patient's appointments), the birth year becomes the age
band at the encounter's year, and nothing else about the patient is kept. Slots hold no
patient data.

**Keys and "latest state wins".** An encounter is keyed by its id and dated, as appointment
rows are, by the data cut-off of the extract it came from (``state_as_of``): an older state
imported later is not applied, and undated extracts win in import order. A slot's status describes
the moment the feed was exported, so a slot is keyed by its snapshot date and its id (or, with
no id, its schedule, provider, start and end): each export is a measurement point of its own.
The snapshot date is the file's ``snapshot_date`` column when it has one, else the data
cut-off of the appointments in the same upload, else the first day of the file's slots (feeds
publish from the moment of export onwards). All three come from the file's content, so the same
file imported again lands on the same keys and changes nothing. Slots are dated as
encounters are: of two exports of the same day, the one imported later does not bring back
the earlier one's states.

**Feeds.** Slot ids are unique on one server only, so a slot also keeps the feed it came
from, which ends its key too. A Bulk Data export's slots are of the export's feed
(``bulk.export_feed``: the system, or the group of a system, it was requested from); a
Bundle's Slot, of the server its entry's ``fullUrl`` names (``fhir.entry_feed``); a slot
CSV's row, of its ``feed`` column when the file has one. A slot with none (a Bundle entry
without a server's ``fullUrl``, a slot CSV without the column) has no feed. An incremental
export gives only what changed since the run before it, so its snapshot is completed from
its own feed's latest stored snapshot (``carry_slots_forward``), never from another feed's:
a region may receive one feed per clinic or per scheduling system, each on its own days.
Only an export's snapshot is whole: a search Bundle or a slot CSV may list part of a
system's slots, so a slot keeps whether an export gave it (``from_export``), and a day
that only such uploads gave is never completed. A slot of an export's snapshot that such
an upload gives again stays in the snapshot (``keep_export_snapshots``). Slots stored
before feeds were kept have no feed and keys without one; the same slot given again by its
feed replaces them. An export imported after a later one of its feed does not reach that
later snapshot, which an incremental export may have completed without its changes: the
import says so (``later_export_snapshot``).

**Deletions.** A Bulk Data export's deleted Encounters are removed unless the stored state is
dated after the export; its deleted Slots leave the export's own snapshot
(``ingest.stage_deleted``). A full export is its feed's whole schedule on its day: the slots
an earlier export of the feed stored for that day and this one no longer gives were
withdrawn since, and leave too (``withdraw_slots_not_given``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from . import extract, fhir, hedis, slots
from ._db import parquet_columns, quote, scalar

SIDE_DIR = "side"

SLOT_COLUMNS = (
    "slot_key", "snapshot_date", "slot_id", "schedule_id", "status", "start", "end",
    "clinic_id", "provider_id", "provider_class", "service_line", "overbooked", "feed",
    "from_export",
)  # fmt: skip


def slot_key_suffix(feed: str) -> str:
    """The end of a slot's key that names its feed: slot ids are unique on one server only,
    so two feeds' slots of the same id and day must not share a key. Slots of no feed (and
    those stored before feeds were kept) have none."""
    return f"@{_key_part(feed)}" if feed else ""


def slot_key_suffix_sql(feed: str) -> str:
    """``slot_key_suffix`` of the SQL text expression ``feed``, row by row."""
    return f"CASE WHEN {feed} = '' THEN '' ELSE '@' || {key_part_sql(feed)} END"


# A key's parts are joined by "|" and "@": in an id or a feed they are written as in a URL
# (and "%" too), so that no two slots share a key ("s4@a" of no feed, "s4" of feed "a").
# An id or feed without them, as FHIR ids and URLs without credentials are, is unchanged.
_KEY_ESCAPES = (("%", "%25"), ("|", "%7C"), ("@", "%40"))


def _key_part(text: str) -> str:
    for char, written in _KEY_ESCAPES:
        text = text.replace(char, written)
    return text


def key_part_sql(expr: str) -> str:
    """``_key_part`` of the SQL text expression ``expr``."""
    for char, written in _KEY_ESCAPES:
        expr = f"replace({expr}, {quote(char)}, {quote(written)})"
    return expr


# Columns added after files were first stored, and what a file written before reads for them.
SLOT_FEED_UNKNOWN = ""  # slots stored before feeds were kept, and uploads naming none
# Whether a slot belongs to the snapshot a Bulk Data export of its feed made: only such a
# snapshot is whole, so only such a snapshot is completed by the feed's incremental exports.
FROM_EXPORT, NOT_FROM_EXPORT, FROM_EXPORT_UNKNOWN = "true", "false", ""
ADDED_COLUMNS = {"feed": quote(SLOT_FEED_UNKNOWN), "from_export": quote(FROM_EXPORT_UNKNOWN)}
# Kept as provenance: a change to it alone rewrites a row but is not counted as a change.
PROVENANCE_COLUMNS = ("from_export",)
ENCOUNTER_COLUMNS = (
    "encounter_id", "patient_key", "status", "class", "setting", "start", "end",
    "appointment_ids", "principal_dx", "other_dx", "provider_class", "discharge_disposition",
    "age_band", "clinic_id",
)  # fmt: skip


STATE_AS_OF = "state_as_of"  # the data cut-off of the extract a dated row's state came from


@dataclass(frozen=True)
class SideTable:
    name: str
    key: str  # the column rows merge by
    columns: tuple[str, ...]  # the data; a dated table also stores ``state_as_of``
    dated: bool = False  # whether the latest state wins by cut-off (else by import order)

    @property
    def stored_columns(self) -> tuple[str, ...]:
        return (*self.columns, STATE_AS_OF) if self.dated else self.columns

    @property
    def incoming(self) -> str:
        return f"incoming_{self.name}"

    @property
    def deleted(self) -> str:
        """The staged deletions: (key, state_as_of)."""
        return f"deleted_{self.name}"

    @property
    def relative_path(self) -> str:
        return f"{SIDE_DIR}/{self.name}.parquet"


TABLES = {
    # A slot's key holds its snapshot day: a later day's export is a new measurement point.
    # Two exports of the same day are dated: the earlier one, imported later, changes
    # nothing the later one stated.
    "slots": SideTable("slots", "slot_key", SLOT_COLUMNS, dated=True),
    "encounters": SideTable("encounters", "encounter_id", ENCOUNTER_COLUMNS, dated=True),
}


def _csv_header(path: Path) -> list[str]:
    """The header of the slot or encounter CSV at ``path``."""
    with slots.open_csv(path) as handle:
        return slots.CsvRows(handle).fieldnames


def _present(header: list[str]) -> dict[str, str]:
    """Each column of ``header`` and the name ``read_csv_sql`` reads it under (its place:
    the header's names are the file's, whatever they are)."""
    return {name: f"c{i}" for i, name in reversed(list(enumerate(header)))}


def read_csv_sql(header: list[str]) -> str:
    """A slot or encounter CSV (``$p``) read by DuckDB in the dialect it was checked in
    (``slots.CsvRows``): comma, double quote, a header, every cell text, nothing guessed, and
    a row that does not fit is an error rather than a row read otherwise."""
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
    # The longest record the check reads, in bytes (DuckDB's default is 2 MB).
    max_bytes = 4 * slots.MAX_RECORD + 2
    return (
        f"read_csv($p, columns = {{{columns}}}, header = true, auto_detect = false, "
        "delim = ',', quote = '\"', escape = '\"', strict_mode = true, null_padding = false, "
        f"max_line_size = {max_bytes})"
    )


# What Python's str.strip() strips (the check strips cells so): DuckDB's trim() alone strips
# only spaces, and would store "\tOAK" for the clinic the check read as "OAK".
# (Written out: finding them among all code points costs every process 40 ms at start.)
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _col(present: dict[str, str], name: str) -> str:
    if name not in present:
        return "''"
    return f"coalesce(trim({quote_ident(present[name])}, {quote(_WHITESPACE)}), '')"


def _slot_identity_sql(columns: dict[str, str]) -> str:
    """A slot's identity within a snapshot and feed: its id, else a hash of its schedule,
    provider, start and end (``columns``: SQL of each, trimmed text)."""
    return (
        f"CASE WHEN {columns['slot_id']} <> '' THEN 'id:' || {key_part_sql(columns['slot_id'])} "
        "ELSE 'at:' || "
        f"sha256({columns['schedule_id']} || '|' || {columns['provider_id']} || '|' || "
        f"{columns['start']} || '|' || {columns['end']}) END"
    )


def slot_feed_name(value: str) -> str:
    """A slot CSV's feed as an export or a Bundle of the same server names it: a URL's
    scheme and host in lower case, without a default port, credentials, query or a
    trailing "/" (``fhir.url_parts``); any other name as given, without a trailing "/"."""
    parts = fhir.url_parts(value)
    if parts is None or not parts[0]:
        return value.rstrip("/")
    return fhir.feed_name(*parts)


def _feed_names_sql(con: duckdb.DuckDBPyConnection, column: str) -> str:
    """The SQL of ``slot_feed_name`` of the staged slots' ``column``: the file's few
    distinct feeds are named in Python and looked up."""
    given = [r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM raw_slots").fetchall()]  # noqa: S608 - column from code
    con.execute("CREATE OR REPLACE TEMP TABLE slot_feed_names (given VARCHAR, name VARCHAR)")
    con.executemany("INSERT INTO slot_feed_names VALUES (?, ?)",
                    [(g, slot_feed_name(g)) for g in given])  # fmt: skip
    return f"(SELECT name FROM slot_feed_names WHERE given = {column})"  # noqa: S608 - SQL from code


def stage_slots(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    default_snapshot: dt.date | None,
    feed: str = SLOT_FEED_UNKNOWN,
    export: bool = False,
    state_as_of: dt.datetime | None = None,
) -> int:
    """The canonical slot CSV at ``path`` as the table ``incoming_slots`` (see module doc),
    dated by the upload's data cut-off ``state_as_of`` (None: undated). A Bulk Data
    export's slots (``export``) are all of its ``feed`` (``bulk.export_feed``); those of
    other uploads are of the feed their file's ``feed`` column names, if any."""
    header = _csv_header(path)
    present = _present(header)
    table = TABLES["slots"]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE raw_slots AS SELECT * FROM {read_csv_sql(header)}",  # noqa: S608 - SQL from code
        {"p": str(path)},
    )
    first = con.execute(
        f"SELECT min(try_cast(left({_col(present, 'start')}, 10) AS DATE)) FROM raw_slots"  # noqa: S608 - column names from code
    ).fetchone()
    fallback = default_snapshot or (first[0] if first else None)
    snapshot = (
        f"coalesce(nullif({_col(present, 'snapshot_date')}, ''), {quote(str(fallback or ''))})"
    )
    parts = {c: _col(present, c) for c in SLOT_COLUMNS[2:]}
    if feed:  # a Bulk Data export's slots are all of its feed, whatever the file says
        parts["feed"] = quote(feed)
    elif "feed" in present:
        parts["feed"] = _feed_names_sql(con, parts["feed"])
    parts["from_export"] = quote(FROM_EXPORT if export else NOT_FROM_EXPORT)
    identity = _slot_identity_sql(parts)
    select = ", ".join(f"{expr} AS {quote_ident(c)}" for c, expr in parts.items())
    order = ", ".join(quote_ident(c) for c in parts)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table.incoming} AS "  # noqa: S608 - SQL from code
        f"SELECT snap || '|' || ident || {slot_key_suffix_sql('feed')} AS slot_key, "
        "snap AS snapshot_date, * EXCLUDE (snap, ident), "
        f"$as_of::TIMESTAMP AS {STATE_AS_OF} "
        f"FROM (SELECT {snapshot} AS snap, {identity} AS ident, {select} FROM raw_slots) "
        # An upload listing a slot twice keeps one, the same one every time.
        f"QUALIFY row_number() OVER (PARTITION BY snap, ident, feed ORDER BY {order}) = 1",
        {"as_of": extract.stored_instant(state_as_of)},
    )
    con.execute("DROP TABLE raw_slots")
    return int(con.execute(f"SELECT count(*) FROM {table.incoming}").fetchone()[0])  # type: ignore[index]  # noqa: S608


SHOWN_FEEDS = 3  # the feeds an import names; the rest are counted


def incoming_slot_feeds(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The feeds of the staged slots, for the import's report: the first ``SHOWN_FEEDS``
    by name and how many more ({} when the slots name none)."""
    table = TABLES["slots"]
    names = [
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT feed FROM {table.incoming} WHERE feed <> '' ORDER BY feed"  # noqa: S608 - table name from code
        ).fetchall()
    ]
    if not names:
        return {}
    return {
        "names": names[:SHOWN_FEEDS],
        "more": len(names) - SHOWN_FEEDS if len(names) > SHOWN_FEEDS else 0,
    }


def stage_encounters(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    key: bytes,
    *,
    state_as_of: dt.datetime | None = None,
) -> int:
    """The canonical encounter CSV at ``path``, de-identified, as ``incoming_encounters``,
    dated by the extract's data cut-off ``state_as_of`` (None: undated)."""
    extract._check_key(key)
    ipad, opad = extract._hmac_pads(key)
    header = _csv_header(path)
    present = _present(header)
    table = TABLES["encounters"]
    cols = {c: _col(present, c) for c in ENCOUNTER_COLUMNS}
    start_year = f"try_cast(left({cols['start']}, 4) AS INTEGER)"
    birth = f"try_cast(nullif({_col(present, 'patient_birth_year')}, '') AS INTEGER)"
    age = f"({start_year} - {birth})"
    bands = " ".join(
        f"WHEN {age} >= {low}"
        + (f" AND {age} <= {high}" if high is not None else "")
        + f" THEN {quote(label)}"
        for low, high, label in extract.AGE_BANDS
    )
    cols["age_band"] = f"coalesce(CASE {bands} END, '')"
    patient = _col(present, "patient_id")
    cols["patient_key"] = f"CASE WHEN {patient} = '' THEN '' ELSE {extract.hmac_sql(patient)} END"
    select = ", ".join(f"{expr} AS {quote_ident(c)}" for c, expr in cols.items())
    order = ", ".join(quote_ident(c) for c in cols)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table.incoming} AS SELECT *, "  # noqa: S608 - SQL from code; key pads bound
        f"$as_of::TIMESTAMP AS {STATE_AS_OF} FROM (SELECT {select} "
        f"FROM {read_csv_sql(header)}) WHERE encounter_id <> '' "
        f"QUALIFY row_number() OVER (PARTITION BY encounter_id ORDER BY {order}) = 1",
        {"p": str(path), "ipad": ipad, "opad": opad,
         "as_of": extract.stored_instant(state_as_of)},
    )  # fmt: skip
    return int(con.execute(f"SELECT count(*) FROM {table.incoming}").fetchone()[0])  # type: ignore[index]  # noqa: S608


@dataclass(frozen=True)
class Carried:
    """What completing an incremental export's slot snapshot took from the stored one."""

    slots: int = 0
    snapshot: str = ""  # the stored snapshot day completed ('' when there was none)


def carry_slots_forward(
    con: duckdb.DuckDBPyConnection,
    stored: Path | None,
    snapshot: dt.date,
    *,
    deleting: bool,
    feed: str = SLOT_FEED_UNKNOWN,
    state_as_of: dt.datetime | None = None,
) -> Carried:
    """Complete the snapshot of an incremental export's slots.

    Such an export gives only the slots that changed since its ``_since`` (and those deleted),
    so on its own it would say the rest of the schedule had gone. Its snapshot is the latest
    stored snapshot of its own ``feed`` up to its day (that day's own, when an earlier run of
    the feed made one) with those changes applied: the stored slots that the export neither
    gives again nor deletes are added to ``incoming_slots`` under its snapshot day and feed.
    Until the feed has a stored snapshot, the slots stored without a feed stand for it (the
    snapshots stored before feeds were kept). Only slots an export gave count
    (``from_export``): what other uploads gave may be part of a schedule. Slots that start
    before the export's day are left behind, as a full export leaves them (a day's margin
    for the time zone: the measure reads local days). With no snapshot to complete, nothing
    is carried and ``Carried.snapshot`` is ''."""
    if stored is None:
        return Carried()
    table = TABLES["slots"]
    day = str(snapshot)
    source = f"read_parquet({quote(str(stored))})"
    stored_feed, mark = _stored_feed_and_mark(con, stored)
    # The feed's own export snapshots (not what another kind of upload gave: a search, say,
    # gives part of a schedule), or the slots stored before feeds and marks were kept.
    # (Slots of no feed stored since are not: an export naming no request is a system of
    # its own, and another upload naming no system may be any system's, and part of it.)
    eligible = (
        f"(({stored_feed} = $feed AND {mark} <> {quote(NOT_FROM_EXPORT)}) "
        f"OR ({stored_feed} = $unknown AND {mark} = {quote(FROM_EXPORT_UNKNOWN)}))"
    )
    found = con.execute(
        f"""
        SELECT from_feed, max(snapshot_date) FROM (
          SELECT {stored_feed} AS from_feed, snapshot_date FROM {source}
          WHERE snapshot_date <= $day AND {eligible})
        GROUP BY from_feed ORDER BY from_feed = $feed DESC LIMIT 1
        """,  # noqa: S608 - SQL from code; values bound
        {"day": day, "feed": feed, "unknown": SLOT_FEED_UNKNOWN},
    ).fetchone()
    if found is None:  # neither the feed nor the store before feeds has a snapshot yet
        return Carried()
    # That day's slots of the feed, and those stored on it before feeds were kept (part of
    # the same snapshot, when a store from then took some of them over since).
    from_day = found[1]
    rest = ", ".join(quote_ident(c) for c in table.columns[2:] if c not in ("feed", "from_export"))
    # The key of the same slot under the export's day and feed, but for the day.
    identity = _slot_identity_sql({c: quote_ident(c) for c in table.columns[2:]})
    ident = f"'|' || {identity} || {quote(slot_key_suffix(feed))}"
    not_deleted = (
        f"AND $day || {ident} NOT IN (SELECT slot_key FROM {table.deleted})"  # noqa: S608 - SQL from code
        if deleting
        else ""
    )
    before = con.execute(f"SELECT count(*) FROM {table.incoming}").fetchone()  # noqa: S608 - table name from code
    con.execute(
        f"""
        INSERT INTO {table.incoming}
          (slot_key, snapshot_date, {rest}, "feed", from_export, {STATE_AS_OF})
        SELECT $day || {ident}, $day, {rest}, $feed, $from_export, $as_of::TIMESTAMP
        FROM {source}
        WHERE snapshot_date = $from_day AND {eligible}
          AND {ident} NOT IN (SELECT substr(slot_key, strpos(slot_key, '|'))
                              FROM {table.incoming})
          AND coalesce(try_cast(left("start", 10) AS DATE) >= $day::DATE - 1, true)
          {not_deleted}
        """,  # noqa: S608 - SQL from code; values bound
        {"day": day, "feed": feed, "from_day": from_day, "from_export": FROM_EXPORT,
         "unknown": SLOT_FEED_UNKNOWN, "as_of": extract.stored_instant(state_as_of)},
    )  # fmt: skip
    after = con.execute(f"SELECT count(*) FROM {table.incoming}").fetchone()  # noqa: S608 - table name from code
    carried = int(after[0]) - int(before[0]) if after and before else 0
    return Carried(carried, str(from_day))


def later_export_snapshot(
    con: duckdb.DuckDBPyConnection, stored: Path | None, snapshot: dt.date, feed: str
) -> str:
    """The latest day after ``snapshot`` on which the store holds an export snapshot of
    ``feed`` ('' when none). An export imported after a later one of its feed does not reach
    that later snapshot: if an incremental export made it, it was completed without this
    export's changes (the store keeps no trace of which slots were carried, so it is said,
    not mended)."""
    if stored is None:
        return ""
    stored_feed, mark = _stored_feed_and_mark(con, stored)
    found = con.execute(
        f"""
        SELECT max(snapshot_date) FROM read_parquet({quote(str(stored))})
        WHERE snapshot_date > $day AND {stored_feed} = $feed AND {mark} <> $no
        """,  # noqa: S608 - SQL from code; values bound, the path quoted
        {"day": str(snapshot), "feed": feed, "no": NOT_FROM_EXPORT},
    ).fetchone()
    return str(found[0]) if found and found[0] else ""


def keep_export_snapshots(con: duckdb.DuckDBPyConnection, stored: Path | None) -> None:
    """A slot of an export's snapshot stays in it when another kind of upload (a search
    Bundle of the same server, say) gives it again: that upload updates the slot, and the
    snapshot stays whole for the feed's next incremental export to complete."""
    if stored is None:
        return
    incoming = TABLES["slots"].incoming
    stored_feed, mark = _stored_feed_and_mark(con, stored)
    con.execute(
        f"""
        UPDATE {incoming} SET from_export = o.from_export
        FROM (SELECT slot_key, {stored_feed} AS feed, {mark} AS from_export
              FROM read_parquet({quote(str(stored))}) WHERE {mark} <> $no) AS o
        WHERE {incoming}.from_export = $no AND (
          {incoming}.slot_key = o.slot_key
          -- or the same slot stored before feeds were kept, under a key without one
          OR (o.feed = $unknown AND o.from_export = $unknown_mark
              AND {incoming}.slot_key = o.slot_key || {slot_key_suffix_sql(f"{incoming}.feed")}))
        """,  # noqa: S608 - SQL from code; the path is quoted
        {"no": NOT_FROM_EXPORT, "unknown": SLOT_FEED_UNKNOWN, "unknown_mark": FROM_EXPORT_UNKNOWN},
    )


def withdraw_slots_not_given(
    con: duckdb.DuckDBPyConnection,
    stored: Path | None,
    snapshot: dt.date,
    feed: str,
    state_as_of: dt.datetime | None = None,
) -> int:
    """A full export's snapshot is whole: the slots an earlier export of the same ``feed``
    stored for the same day that this one does not give again were withdrawn since, and
    leave (staged as deletions). Slots other uploads gave, and those stored before feeds,
    stay. Returns how many leave."""
    if stored is None or not feed:
        return 0
    table = TABLES["slots"]
    stored_feed, mark = _stored_feed_and_mark(con, stored)
    con.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {table.deleted} (state_as_of TIMESTAMP, slot_key VARCHAR)"
    )
    before = int(scalar(con, f"SELECT count(*) FROM {table.deleted}"))  # noqa: S608 - table name from code
    con.execute(
        f"""
        INSERT INTO {table.deleted} (state_as_of, slot_key)
        SELECT $as_of::TIMESTAMP, slot_key FROM read_parquet({quote(str(stored))})
        WHERE snapshot_date = $day AND {stored_feed} = $feed AND {mark} <> $no
          AND slot_key NOT IN (SELECT slot_key FROM {table.incoming})
        """,  # noqa: S608 - SQL from code; values bound
        {
            "day": str(snapshot),
            "feed": feed,
            "no": NOT_FROM_EXPORT,
            "as_of": extract.stored_instant(state_as_of),
        },
    )
    return int(scalar(con, f"SELECT count(*) FROM {table.deleted}")) - before  # noqa: S608 - table name from code


def _stored_feed_and_mark(con: duckdb.DuckDBPyConnection, stored: Path) -> tuple[str, str]:
    """The SQL of a stored slot file's ``feed`` and ``from_export``, or of what a file
    written before the column reads for it."""
    present = parquet_columns(con, [str(stored)])

    def column(name: str) -> str:
        return quote_ident(name) if name in present else ADDED_COLUMNS[name]

    return column("feed"), column("from_export")


def stage_nothing(con: duckdb.DuckDBPyConnection, table: SideTable) -> None:
    """An empty ``incoming`` table for a side table an upload only deletes from."""
    columns = ", ".join(f"{quote_ident(c)} VARCHAR" for c in table.columns)
    dated = f", {STATE_AS_OF} TIMESTAMP" if table.dated else ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table.incoming} ({columns}{dated})")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- reading the stored tables back ----------------------------------------------------------


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[dict[str, str]]:
    con = duckdb.connect(":memory:")
    try:
        source = f"read_parquet({quote(str(path))})"
        present = parquet_columns(con, [str(path)])
        select = ", ".join(
            quote_ident(c) if c in present else f"{ADDED_COLUMNS[c]} AS {quote_ident(c)}"
            for c in columns
        )
        cursor = con.execute(f"SELECT {select} FROM {source}")  # noqa: S608 - columns from code
        while batch := cursor.fetchmany(10_000):
            for row in batch:
                yield dict(zip(columns, row, strict=True))
    finally:
        con.close()


class _Rows:
    """What ``slots.parse_slots`` and ``hedis.parse_encounters`` read: a DictReader's shape."""

    def __init__(self, fieldnames: list[str], rows: Iterator[dict[str, str]]) -> None:
        self.fieldnames = fieldnames
        self._rows = rows

    def __iter__(self) -> Iterator[dict[str, str]]:
        return self._rows


def read_stored_slots(path: Path, *, timezone: str) -> slots.SlotData:
    return slots.parse_slots(
        _Rows(list(SLOT_COLUMNS), _rows(path, SLOT_COLUMNS)),  # type: ignore[arg-type]
        timezone=timezone,
    )


def stored_slot_units(path: Path) -> set[tuple[str, str, str, str]]:
    """(snapshot, clinic, class, provider) of every stored slot, whatever its status."""
    keys: set[tuple[str, str, str, str]] = set()
    for row in _rows(path, SLOT_COLUMNS):
        cls = row["provider_class"] or slots.UNKNOWN_CLASS
        if cls not in slots.PROVIDER_CLASSES:
            continue
        provider = row["provider_id"] or (
            "schedule:" + row["schedule_id"] if row["schedule_id"] else ""
        )
        keys.add((row["snapshot_date"], row["clinic_id"] or "(no clinic)", cls, provider))
    return keys


def _stored_encounter_rows(path: Path) -> Iterator[dict[str, str]]:
    low_by_band = {label: low for low, _, label in extract.AGE_BANDS}
    for row in _rows(path, ENCOUNTER_COLUMNS):
        out = dict(row)
        out["patient_id"] = row["patient_key"]
        # The age limits (6, 13) are band edges, so the band's lower age decides them exactly.
        low = low_by_band.get(row["age_band"])
        year = row["start"][:4]
        out["patient_birth_year"] = str(int(year) - low) if low is not None and year else ""
        yield out


def read_stored_encounters(path: Path, *, timezone: str) -> hedis.EncounterData:
    columns = [*ENCOUNTER_COLUMNS, "patient_id", "patient_birth_year"]
    return hedis.parse_encounters(
        _Rows(columns, _stored_encounter_rows(path)),  # type: ignore[arg-type]
        timezone=timezone,
    )


def side_path(generation_path: Path, name: str) -> Path | None:
    path = generation_path / TABLES[name].relative_path
    return path if path.exists() else None


def add_problems(
    loaded: extract.LoadResult, found: list[tuple[int, str, str, str]], *, keep: int
) -> None:
    """Record a side file's bad rows on ``loaded`` as errors of the file (the first ``keep``
    in full, all of them in the count and the summary)."""
    for _line, column, _value, reason in found:
        loaded.error_summary[(column, reason)] = loaded.error_summary.get((column, reason), 0) + 1
    loaded.errors.extend(extract.ExtractError(*problem) for problem in found[: max(keep, 0)])
    loaded.error_count += len(found)


def file_cutoff(name: str, path: Path, *, timezone: str) -> dt.date | None:
    """The measurement date a side file implies on its own (as the importer takes it): a
    slot file's first slot day (unless it has snapshot dates), an encounter file's last day."""
    if name == "slots":
        data = slots.read_slots(path, timezone=timezone)
        if data.snapshots:
            return max(data.snapshots)
        return min((s.day for s in data.open_slots), default=None)
    enc = hedis.read_encounters(path, timezone=timezone)
    return max((e.end or e.start for e in enc.encounters), default=None)


def problems(name: str, path: Path, *, timezone: str) -> list[tuple[int, str, str, str]]:
    """Every bad row of a side file (line, column, value, reason), read whole before storing.

    The measures' own readers decide what a bad row is, so an import refuses exactly what the
    measures would otherwise skip."""
    try:
        if name == "slots":
            data = slots.read_slots(path, timezone=timezone, feed_name=slot_feed_name)
            return sorted(data.problems)
        return sorted(hedis.read_encounters(path, timezone=timezone, check_ids=True).problems)
    except slots.CsvFileError as exc:
        return [(exc.line, "", "", str(exc))]
    except (slots.SlotFileError, hedis.EncounterFileError) as exc:
        return [(1, "", "", str(exc))]


# -- the measures, as aggregate counts -------------------------------------------------------

SUPPLY_METRICS = {"supply_next_available": "next_bd", "supply_third_next_available": "third_bd"}
HEDIS_METRICS = tuple(f"hedis_{m.lower()}_{d}" for m in hedis.MEASURES for d in (7, 30))


@dataclass
class SideAggregate:
    """Counts of one clinic code (None: the whole region), metric, month and breakdown."""

    clinic_code: str | None
    metric: str
    period_start: dt.date
    dimension: str  # total | provider_class
    value: str
    compliant: int = 0
    noncompliant: int = 0
    exception: int = 0
    pending: int = 0
    not_applicable: int = 0
    waits: dict[str, int] = field(default_factory=dict)

    @property
    def denominator(self) -> int:
        return self.compliant + self.noncompliant


NO_CLINIC = "(no clinic)"


def _scopes(code: str) -> tuple[str | None, ...]:
    """The clinic's own row and the region's (a unit with no clinic counts region-wide only)."""
    return (None,) if code in ("", NO_CLINIC) else (code, None)


def supply_aggregates(units: list[slots.Unit]) -> list[SideAggregate]:
    """Next and third-next available by month of the measurement point (the month's last
    point), clinic and provider class: the units are providers where the feed names them
    (the network rate of compliance, metric 8), else clinic x provider class."""
    last_point: dict[dt.date, dt.date] = {}
    for point in sorted({u.point for u in units}):
        last_point[point.replace(day=1)] = point
    chosen = set(last_point.values())
    named = {(u.point, u.clinic_id) for u in units if u.level == "provider"}
    used = [
        u
        for u in units
        if u.point in chosen and (u.level == "provider") == ((u.point, u.clinic_id) in named)
    ]
    out: dict[tuple[str | None, str, dt.date, str, str], SideAggregate] = {}
    for metric, attr in SUPPLY_METRICS.items():
        for u in used:
            wait: int | None = getattr(u, attr)
            status = slots._status(wait, u.standard)
            month = u.point.replace(day=1)
            for code in _scopes(u.clinic_id):
                for dim, value in (("total", ""), ("provider_class", u.provider_class)):
                    key = (code, metric, month, dim, value)
                    agg = out.get(key) or out.setdefault(key, SideAggregate(*key))
                    if status == "compliant":
                        agg.compliant += 1
                    elif status == "noncompliant":
                        agg.noncompliant += 1
                    else:  # no free slot in the feed, or a class with no standard
                        agg.not_applicable += 1
                    if wait is not None:
                        agg.waits[str(wait)] = agg.waits.get(str(wait), 0) + 1
    return list(out.values())


def hedis_aggregates(results: list[hedis.MeasureResult]) -> list[SideAggregate]:
    """HEDIS-like 7- and 30-day follow-up by month of the index event and clinic."""
    out: dict[tuple[str | None, str, dt.date, str, str], SideAggregate] = {}
    for result in results:
        for event in result.events:
            month = event.index_date.replace(day=1)
            for days, found in ((7, event.follow_up_7), (30, event.follow_up_30)):
                metric = f"hedis_{result.measure.lower()}_{days}"
                for code in _scopes(event.clinic_id):
                    key = (code, metric, month, "total", "")
                    agg = out.get(key) or out.setdefault(key, SideAggregate(*key))
                    if event.counted:
                        if found is not None:
                            agg.compliant += 1
                        else:
                            agg.noncompliant += 1
                    elif event.status == "pending":
                        agg.pending += 1
                    else:  # excluded (readmission, hospice, age ...): not in the denominator
                        agg.exception += 1
    return list(out.values())


def hedis_results(encounters: list[hedis.Encounter], as_of: dt.date) -> list[hedis.MeasureResult]:
    """Every measurement year the encounters reach, up to the data cut-off's."""
    if not encounters:
        return []
    first = min(e.start for e in encounters).year
    return [
        result
        for year in range(first, as_of.year + 1)
        for result in hedis.compute(encounters, year, as_of).values()
    ]


def wait_statistics(waits: dict[str, int]) -> tuple[int, float | None, float | None, float | None]:
    """(observed, mean, median, p90) of a histogram, as the aggregates store them."""
    values = sorted((int(k), n) for k, n in waits.items() if n)
    total = sum(n for _, n in values)
    if not total:
        return 0, None, None, None

    def quantile(q: float) -> float:
        # Linear interpolation between order statistics (DuckDB's quantile_cont).
        pos = q * (total - 1)
        low, frac = int(pos), pos - int(pos)
        return (1 - frac) * _nth(values, low) + frac * _nth(values, min(low + 1, total - 1))

    mean = sum(v * n for v, n in values) / total
    return total, round(mean, 3), round(quantile(0.5), 3), round(quantile(0.9), 3)


def _nth(values: list[tuple[int, int]], index: int) -> float:
    seen = 0
    for value, n in values:
        seen += n
        if index < seen:
            return float(value)
    return float(values[-1][0])
