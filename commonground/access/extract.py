"""The canonical appointment extract: schema, validation and de-identification. No Django.

Layout: ``shared/docs/access-and-parity.md`` section 6.1 (one row per appointment, every
status, UTF-8, header row, ISO 8601 date-times in local time or with an offset).

``load(con, path, ...)`` streams the CSV once through DuckDB into a compact typed table
``appt_rows``, read through the view ``appt`` (memory stays flat: above its memory limit
DuckDB spills to the private temporary directory set by ``configure``), and checks every row
on the way:

* types (ISO 8601 date-times, booleans, integers with ranges), required values;
* vocabularies: an unmapped provider class, service line, status, ... blocks the import;
* date order (request <= booking <= start, except same-day walk-ins; cancellation after
  booking; first offer not before the request);
* duplicate ``appointment_id``;
* calendar coverage: every date plus one year inside the holiday calendar's coverage;
* spreadsheet formula injection (a text cell starting with = + - @ tab or CR);
* structural problems (missing or extra cells, a truncated last line, bad UTF-8 or quotes).

Every bad row gets an ``ExtractError`` naming line, column, value and reason. Line numbers are
physical lines of the file (the header is line 1), exact also when quoted values contain line
breaks: rejected records come with their byte offset, and bad rows are found again by their
cells while the file is streamed with the csv module (DuckDB's parallel reader does not keep
row order). Values without an offset are read in the clinic time zone (default
America/Los_Angeles) and counted, so the report can show the assumption: such a local time
the clocks skipped is refused, and one they showed twice is read as standard time and its
row counted. Ids are read without spaces around them (a fixed-width export's padding), and
the rows that had some are counted too.

De-identification (for the importer; section 9 of the spec keeps dates, so it is
pseudonymisation, not Safe Harbor): patient ids become a keyed HMAC-SHA256 whose key the
caller passes in and which is never written with the data; direct identifiers are refused;
birth year becomes an age band; free text (``cancel_reason``) is not kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import duckdb

from commonground.core.exports import FORMULA_STARTS

from ._db import drop_relations, one_row, scalar
from ._db import in_list as _in
from .calendars import CalendarVersion

DEFAULT_TZ = "America/Los_Angeles"


def local_day(instant: dt.datetime, timezone: str = DEFAULT_TZ) -> dt.date:
    """The calendar day of an aware instant in a clinic's time zone (a data cut-off's day)."""
    return instant.astimezone(ZoneInfo(timezone)).date()


def stored_instant(instant: dt.datetime | None) -> dt.datetime | None:
    """A data cut-off as the store keeps it: UTC, without a zone (a Parquet TIMESTAMP)."""
    return instant.astimezone(dt.UTC).replace(tzinfo=None) if instant else None


Kind = Literal["id", "text", "enum", "bool", "int", "datetime"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    vocabulary: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None


PROVIDER_CLASSES = (
    "psychiatrist",
    "psychologist",
    "lcsw",
    "lmft",
    "lpcc",
    "psych_np",
    "sud_counselor",
    "aba",
    "pcp",
    "specialist_md",
    "ancillary",
    "other",
)
# Non-physician MH/SUD providers (10 business days initial; SB 221 follow-up). A psychiatric
# nurse practitioner is a non-physician; the spec's list (LCSW, LMFT, LPCC, psychologist, SUD
# counselor, ABA) does not name them: our choice, shown in the report.
NPMH_CLASSES = ("psychologist", "lcsw", "lmft", "lpcc", "psych_np", "sud_counselor", "aba")
SERVICE_LINES = ("MH", "SUD", "PC", "MS_SPECIALTY", "ANCILLARY")
APPOINTMENT_KINDS = ("initial", "follow_up")
URGENCIES = ("urgent", "non_urgent")
STATUSES = (
    "scheduled",
    "completed",
    "arrived",
    "checked_in",
    "cancelled",
    "no_show",
    "left_without_seen",
    "entered_in_error",
    # A request with no appointment yet (FHIR proposed / waitlist): its wait is still running.
    "requested",
)
# Columns a ``requested`` row may leave blank: it has no appointment, booking or provider yet.
# The day that files a row: its appointment's, else (a request not yet booked) its request's.
PARTITION_DAY = "coalesce(start_day, req_day)"
NOT_YET_FOR_REQUESTS = frozenset({"appointment_start", "booked_datetime", "provider_id"})
ATTENDED = ("completed", "arrived", "checked_in")
CANCEL_INITIATORS = ("patient", "provider", "clinic", "system")
MODALITIES = ("in_person", "video", "telephone")
PRODUCT_LINES = ("commercial", "medi_cal", "medicare", "individual")

COLUMNS: tuple[Column, ...] = (
    Column("appointment_id", "id", required=True),
    Column("patient_id", "id", required=True),
    Column("clinic_id", "id", required=True),
    Column("provider_id", "id", required=True),
    Column("provider_class", "enum", required=True, vocabulary=PROVIDER_CLASSES),
    Column("service_line", "enum", required=True, vocabulary=SERVICE_LINES),
    Column("visit_type", "text"),
    Column("appointment_kind", "enum", vocabulary=APPOINTMENT_KINDS),
    Column("urgency", "enum", vocabulary=URGENCIES),
    Column("prior_auth_required", "bool"),
    Column("request_datetime", "datetime"),
    Column("booked_datetime", "datetime", required=True),
    Column("first_offered_start", "datetime"),
    Column("appointment_start", "datetime", required=True),
    Column("duration_min", "int", low=0, high=1440),
    Column("status", "enum", required=True, vocabulary=STATUSES),
    Column("cancel_datetime", "datetime"),
    Column("cancel_initiator", "enum", vocabulary=CANCEL_INITIATORS),
    Column("cancel_reason", "text"),
    Column("modality", "enum", vocabulary=MODALITIES),
    Column("is_group", "bool"),
    Column("episode_id", "id"),
    Column("referral_id", "id"),
    Column("longer_interval_documented", "bool"),
    Column("patient_requested_later", "bool"),
    Column("recommended_return_days", "int", low=0, high=730),
    Column("out_of_network", "bool"),
    Column("product_line", "enum", vocabulary=PRODUCT_LINES),
    Column("patient_birth_year", "int", low=1900, high=2100),
    Column("clinic_name", "text"),
)
BY_NAME = {c.name: c for c in COLUMNS}
REQUIRED = tuple(c.name for c in COLUMNS if c.required)

# Header names (normalised: lower case, spaces and hyphens as underscores) that carry direct
# identifiers (HIPAA 164.514(b)(2) kinds). A file with one of them is refused, not trimmed: the
# data steward should not send them at all.
DIRECT_IDENTIFIERS = frozenset(
    {
        "name",
        "patient_name",
        "first_name",
        "last_name",
        "given_name",
        "family_name",
        "middle_name",
        "full_name",
        "mrn",
        "medical_record_number",
        "ssn",
        "social_security_number",
        "address",
        "street",
        "street_address",
        "address_line_1",
        "address_line_2",
        "city",
        "zip",
        "zip_code",
        "zipcode",
        "postal_code",
        "phone",
        "phone_number",
        "telephone",
        "mobile",
        "fax",
        "email",
        "email_address",
        "birth_date",
        "birthdate",
        "date_of_birth",
        "dob",
        "patient_dob",
        "member_id",
        "subscriber_id",
        "insurance_id",
        "health_plan_id",
        "account_number",
        "license_number",
        "ip_address",
        "url",
        "photo",
    }
)
FREE_TEXT = ("cancel_reason",)  # read (checked for formula injection) but never kept

VISIT_NEW = r"(?i)\b(new|intake)\b"


@dataclass(frozen=True)
class ExtractError:
    """One problem in one row (or in the file: ``line`` 0 for a header-level problem)."""

    line: int
    column: str
    value: str
    reason: str
    # True when ``value`` is the raw text of the whole record (the reader could not split it
    # into cells): the importer's error report withholds it, as it may hold a patient id.
    whole_row: bool = False
    # The file of a several-file input (a Bulk Data export) that ``line`` is a line of.
    file: str = ""


@dataclass(frozen=True)
class Check:
    bit: int
    column: str
    reason: str
    sql: str  # true when the row is bad (columns of the parsed sub-query)
    # Verified once the rows are stored, by aggregates over ``appt`` in ``load``, not by
    # the flag the load computes for every row: a count or a minimum costs far less.
    after_load: bool = False


# Required columns stored as read: a missing value is ``count(*) > count(column)``.
STORED_REQUIRED = ("appointment_id", "clinic_id", "provider_class", "service_line", "status")


@dataclass
class Header:
    columns: list[str]
    errors: list[ExtractError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    ends_with_newline: bool = True


def _normalise(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


MAX_HEADER_BYTES = 1 << 20


def without_carriage_returns(value: str) -> str:
    """A value's line breaks as LF alone, for a CSV this app writes and DuckDB reads: the
    CSV writer quotes a value holding LF, but not one holding a bare CR, which the reader
    then takes for a broken row."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value


def read_header(path: Path) -> Header:
    """The header row, checked: required columns, duplicates, direct identifiers."""
    with path.open("rb") as raw:
        first = raw.readline(MAX_HEADER_BYTES + 1)
        raw.seek(0, 2)
        size = raw.tell()
        ends = True
        if size:
            raw.seek(size - 1)
            ends = raw.read(1) in (b"\n", b"\r")
    text = first.decode("utf-8-sig", errors="replace").rstrip("\r\n")
    if len(first) > MAX_HEADER_BYTES or "\r" in text:
        # A line that long is no header; a bare CR inside it is a file whose lines end in
        # CR alone (classic Mac OS), which the CSV reader cannot take.
        reason = (
            "the lines end with a carriage return alone (CR): save the file with LF or CR LF "
            "line endings"
            if "\r" in text
            else f"the first line is longer than {MAX_HEADER_BYTES:,} bytes: not a CSV header"
        )
        header = Header(columns=[], ends_with_newline=ends)
        header.errors.append(ExtractError(1, "", "", reason))
        return header
    names = next(csv.reader([text])) if text else []
    header = Header(columns=[n.strip() for n in names], ends_with_newline=ends)
    if not names:
        header.errors.append(ExtractError(1, "", "", "the file is empty: no header row"))
        return header
    if "\ufffd" in text:
        header.errors.append(ExtractError(1, "", text[:80], "the header is not valid UTF-8"))
    seen: set[str] = set()
    for position, name in enumerate(header.columns, start=1):
        if not name:  # (a spreadsheet's trailing comma, say): no column to read it as
            reason = f"column {position} of the header has no name: name it or remove it"
            header.errors.append(ExtractError(1, "", "", reason))
            continue
        norm = _normalise(name)
        if norm in seen:
            header.errors.append(ExtractError(1, name, name, "duplicate column in the header"))
        seen.add(norm)
        if norm in DIRECT_IDENTIFIERS:
            header.errors.append(
                ExtractError(
                    1,
                    name,
                    name,
                    "direct identifier column refused: remove it from the extract "
                    "(patients are identified by a pseudonymous patient_id only)",
                )
            )
        elif name not in BY_NAME:
            header.ignored.append(name)
            if norm in BY_NAME:
                header.errors.append(
                    ExtractError(1, name, name, f"column names are exact: write {norm!r}")
                )
    for name in REQUIRED:
        if name not in header.columns:
            header.errors.append(ExtractError(1, name, "", "required column missing"))
    if header.ignored:
        header.warnings.append(
            "columns not in the canonical layout are ignored (not read, not kept): "
            + ", ".join(header.ignored)
        )
    if not ends:
        header.warnings.append(
            "the file does not end with a line break: check that it is not truncated"
        )
    return header


# -- the parse-and-check query -------------------------------------------------------------


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


DATETIME_COLUMNS = (
    "request_datetime",
    "booked_datetime",
    "first_offered_start",
    "appointment_start",
    "cancel_datetime",
)
_SHORT = {
    "request_datetime": "req",
    "booked_datetime": "booked",
    "first_offered_start": "offer",
    "appointment_start": "start",
    "cancel_datetime": "cancel",
}


# How yes and no may be written, in any case (a blank is no): the spellings the CSV reader's
# BOOLEAN takes, as the format guide says and a test holds them (any other value is refused).
TRUE_SPELLINGS = ("true", "t", "yes", "y", "1")
FALSE_SPELLINGS = ("false", "f", "no", "n", "0")
BOOLEAN_REASON = (
    f"not yes or no: write true or false (also {'/'.join(TRUE_SPELLINGS[1:])} and "
    f"{'/'.join(FALSE_SPELLINGS[1:])}, in any case)"
)


def boolean_value(text: str) -> bool | None:
    """A side file's yes/no cell (its cells are read stripped), by the extract's spellings:
    None when it is neither."""
    folded = text.strip().lower()
    if folded in TRUE_SPELLINGS:
        return True
    if folded in FALSE_SPELLINGS or not folded:
        return False
    return None


TYPES = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "datetime": "VARCHAR",
    "bool": "BOOLEAN",
    # Read as text and checked as ASCII digits: the CSV reader's BIGINT would round "60.7"
    # to 61 and read "1e1" as 10 without a word.
    "int": "VARCHAR",
}
ENUM_TYPES = {
    "provider_class": ("cg_provider_class", PROVIDER_CLASSES),
    "service_line": ("cg_service_line", SERVICE_LINES),
    "appointment_kind": ("cg_kind", APPOINTMENT_KINDS),
    "urgency": ("cg_urgency", URGENCIES),
    "status": ("cg_status", STATUSES),
    "cancel_initiator": ("cg_cancel_initiator", CANCEL_INITIATORS),
    "modality": ("cg_modality", MODALITIES),
    "product_line": ("cg_product_line", PRODUCT_LINES),
}


def create_types(con: duckdb.DuckDBPyConnection) -> None:
    """ENUM types the reader casts vocabularies to (an unmapped code is a rejected row)."""
    for type_name, values in ENUM_TYPES.values():
        con.execute(f"DROP TYPE IF EXISTS {type_name}")
        con.execute(f"CREATE TYPE {type_name} AS ENUM {_in(values)}")


def reader_type(column: str) -> str:
    if column in ENUM_TYPES:
        return ENUM_TYPES[column][0]
    if column in BY_NAME:
        return TYPES[BY_NAME[column].kind]
    return "VARCHAR"


def coverage(calendar: CalendarVersion) -> tuple[dt.date, dt.date]:
    """The days an extract may hold: the calendar's, less a year kept for deadlines."""
    return calendar.first_day, calendar.last_day - dt.timedelta(days=366)


def build_checks(
    present: Sequence[str], calendar: CalendarVersion, *, booking_time_optional: bool = False
) -> list[Check]:
    """Row checks (SQL over the parsed sub-query) for the columns present.

    ``booking_time_optional``: a scheduled appointment may lack its booking time (FHIR's
    booked appointments without ``created``; the canonical CSV itself always requires it).

    Types and vocabularies of enum, boolean and integer columns are checked by the CSV
    reader itself (a bad cell rejects its row, reported with its line).
    """
    checks: list[Check] = []

    def add(column: str, reason: str, sql: str, *, after_load: bool = False) -> None:
        checks.append(Check(len(checks), column, reason, sql, after_load))

    first, last = (day.isoformat() for day in coverage(calendar))
    for col in COLUMNS:
        name = col.name
        if name not in present:
            continue
        c = f'"{name}"'
        if col.required and name in NOT_YET_FOR_REQUESTS:
            waived = ["requested"]
            if name == "booked_datetime" and booking_time_optional:
                waived.append("scheduled")
            add(name, "required value missing", f"{c} IS NULL AND status NOT IN {_in(waived)}")
        elif col.required:
            add(
                name,
                "required value missing",
                f"{c} IS NULL",
                after_load=name in STORED_REQUIRED,
            )
        if name == "status" and "request_datetime" in present:
            add(
                "request_datetime",
                "a requested row (no appointment yet) needs its request time",
                "status = 'requested' AND \"request_datetime\" IS NULL",
            )
        elif name == "status":
            add("status", "requested rows need a request_datetime column", "status = 'requested'")
        if col.kind in ("id", "text"):
            add(
                name,
                "cell starts with = + - @ tab or CR (spreadsheet formula injection)",
                formula_sql(c),
            )
        elif col.kind == "int":
            add(
                name,
                f"not a whole number from {col.low} to {col.high}",
                f"{c} IS NOT NULL AND ({c} GLOB '*[!0-9]*' "
                f"OR coalesce(TRY_CAST({c} AS BIGINT) NOT BETWEEN {col.low} AND {col.high}, true))",
            )
        elif col.kind == "datetime":
            short = _SHORT[name]
            add(
                name,
                "not an ISO 8601 date or date-time (YYYY-MM-DD[THH:MM[:SS]][offset])",
                f"{c} IS NOT NULL AND {short}_ts IS NULL",
            )
            # A local time in the hour the clocks skip reads an hour later (02:30 as 03:30):
            # a clock that never showed it, so the value is wrong somewhere upstream. Its
            # hour changes; any other keeps it (24:00 reads as the next day's 00:00).
            add(
                name,
                "a local time the clinic's clocks skipped (they went forward an hour); "
                "give its UTC offset",
                f"CASE WHEN {short}_noffset AND NOT {short}_dateonly "
                f"THEN hour({short}_ts) <> TRY_CAST(substr({c}, 12, 2) AS INTEGER) % 24 END",
            )
            add(
                name,
                f"outside the coverage of calendar {calendar.label} "
                f"({first} to {last}, one year kept for deadlines)",
                f"{short}_day NOT BETWEEN DATE '{first}' AND DATE '{last}'",
                after_load=True,  # the first and last days of the load
            )
    has = set(present)
    if {"request_datetime", "booked_datetime"} <= has:
        add(
            "request_datetime",
            "request after booking (request_datetime > booked_datetime)",
            "CASE WHEN req_dateonly OR booked_dateonly THEN req_day > booked_day "
            "ELSE req_ts > booked_ts END",
        )
    add(
        "appointment_start",
        "appointment before its booking day (appointment_start < booked_datetime)",
        "start_day < booked_day",
    )
    if "cancel_datetime" in has:
        add(
            "cancel_datetime",
            "cancelled before it was booked (cancel_datetime < booked_datetime)",
            "CASE WHEN cancel_dateonly OR booked_dateonly THEN cancel_day < booked_day "
            "ELSE cancel_ts < booked_ts END",
        )
    if {"first_offered_start", "request_datetime"} <= has:
        add("first_offered_start", "first offer before the request day", "offer_day < req_day")
    if len(checks) > 63:  # pragma: no cover - the schema has fewer checks than bits
        raise RuntimeError("too many checks for one 64-bit mask")
    return checks


def formula_sql(column: str) -> str:
    """SQL true when ``column`` starts with one of ``FORMULA_STARTS`` (NULL stays NULL).

    A CASE tests a later branch only for the rows its earlier ones did not take: a cell
    starting with a letter (or any non-ASCII character) or a digit is settled by one or two
    comparisons of text, which compares byte by byte; ``ord()``, which decodes the first
    character and costs more, tests the rest. Two lists of three: DuckDB turns a list of
    six into a join.
    """
    codes = sorted(ord(c) for c in FORMULA_STARTS)
    low, high = _in_numbers(codes[:3]), _in_numbers(codes[3:])
    return (
        f"CASE WHEN {column} >= 'A' THEN false WHEN {column} >= '0' AND {column} < ':' "
        f"THEN false ELSE (ord({column}) IN {low} OR ord({column}) IN {high}) END"
    )


def _in_numbers(values: Sequence[int]) -> str:
    return "(" + ", ".join(str(v) for v in values) + ")"


# A strict ISO 8601 prefix: the cast below accepts looser forms ("2025-1-6", " 2025-...").
ISO_PREFIX = r"^\d{4}-\d\d-\d\d([T ]\d\d:\d\d|$)"
# The same test as two GLOB patterns, which cost less than the regular expression (five
# columns of ten million values); a property test holds them equal.
_DIGITS_DATE = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
ISO_DATETIME_GLOB = _DIGITS_DATE + "[T ][0-9][0-9]:[0-9][0-9]*"
ISO_DATE_GLOB = _DIGITS_DATE
# Seconds and an explicit offset (2025-01-06T09:00:00-08:00), not tz-assumed. Character
# classes are what a GLOB spends its time on, so only three positions are spelled out: in
# this shape the cast itself rejects a non-digit anywhere else the strict test looks (but
# not a space or sign before the year or the hour, nor a point in the seconds). Tested over
# every pair of characters at every pair of positions.
# The offset's hour starts with 0 and its minutes with 0 to 5: the cast reads any offset
# ("+99:00", four days away; "-08:75"). Offsets from 10 to 14 hours, rare here, take the
# strict path, which checks them (one pattern either way: no cost to every row).
ISO_WITH_OFFSET_GLOB = "[0-9]???-??-??T[0-9]?:??:?[0-9][+-]0?:[0-5]?"


def iso_prefix_sql(column: str) -> str:
    """SQL true when ``column`` starts like ISO_PREFIX says (NULL stays NULL)."""
    return f"({column} GLOB {_q(ISO_DATETIME_GLOB)} OR {column} GLOB {_q(ISO_DATE_GLOB)})"


def usual_sql(column: str) -> str:
    """True for the commonest form, seconds and an offset (2025-01-06T09:00:00-08:00).

    Only with the cast (``timestamp_sql``) is it as strict as ``iso_prefix_sql``.
    """
    return f"coalesce({column} GLOB {_q(ISO_WITH_OFFSET_GLOB)}, false)"


# A CASE evaluates a later branch only for the rows its earlier ones did not take, so the
# usual form skips the slower general tests below.
def timestamp_sql(column: str, usual: str) -> str:
    """The instant of a strictly ISO date or date-time (``usual``: ``usual_sql``), else NULL."""
    cast = f"TRY_CAST({column} AS TIMESTAMPTZ)"
    strict = f"{iso_prefix_sql(column)} AND {iso_rest_sql(column)}"
    return f"CASE WHEN {usual} THEN {cast} WHEN {strict} THEN {cast} END"


# After the prefix, the other forms hold only a time's digits, a fraction, Z or an offset up
# to 14 hours with minutes under 60: the cast would also read a zone's name ("08:30:00 EST",
# in that zone, while the row counted as "clinic time zone assumed") and any offset.
ISO_REST_BAD_GLOBS = ("*[!0-9T:.Z+ -]*",)
ISO_OFFSET_BAD_GLOBS = (  # from the 17th character on
    "*[+-][2-9]*", "*[+-]1[5-9]*", "*[+-]??:[6-9]*", "*[+-]??[6-9]*",
)  # fmt: skip


def iso_rest_sql(column: str) -> str:
    """SQL true unless the text after ``iso_prefix_sql``'s prefix is more than a time."""
    tests = [f"{column} GLOB {_q(g)}" for g in ISO_REST_BAD_GLOBS]
    tests += [f"substr({column}, 17) GLOB {_q(g)}" for g in ISO_OFFSET_BAD_GLOBS]
    return f"NOT ({' OR '.join(tests)})"


def no_offset_sql(column: str, usual: str) -> str:
    """True when a value has no UTC offset, so the clinic's time zone is assumed."""
    return (
        f"CASE WHEN {usual} OR {column} IS NULL THEN false "
        f"ELSE NOT (suffix({column}, 'Z') OR contains(substr({column}, 17), '+') "
        f"OR contains(substr({column}, 17), '-')) END"
    )


LOCAL_DAY_MACRO = "cg_local_day"
REPEATED_HOUR_MACRO = "cg_in_repeated_hour"


def create_local_day_macro(
    con: duckdb.DuckDBPyConnection, first_day: dt.date, last_day: dt.date
) -> None:
    """``cg_local_day(ts)``: the day of ``ts`` in the session's time zone, by arithmetic.

    ICU's ``ts::DATE`` converts every value through a calendar, a good share of the load at
    ten million rows, while a zone has only a few dozen offsets over a calendar's years. The
    offsets come from ICU itself (sampled every hour, then to the second around each
    change), so both give the same day; instants outside ``first_day``..``last_day`` still
    use ICU.
    """
    start = dt.datetime.combine(first_day - dt.timedelta(days=2), dt.time(), dt.UTC)
    stop = dt.datetime.combine(last_day + dt.timedelta(days=2), dt.time(), dt.UTC)
    timezone = str(scalar(con, "SELECT current_setting('TimeZone')"))
    key = (timezone, start, stop)
    if key not in _OFFSET_CHANGES:
        _OFFSET_CHANGES[key] = _offset_changes(con, start, stop)
    bounds, offsets = _OFFSET_CHANGES[key]

    def offset_at(lo: int, hi: int) -> str:  # binary search over the changes, as SQL
        if hi - lo == 1:
            return str(offsets[lo])
        mid = (lo + hi) // 2
        return (
            f"CASE WHEN epoch_us(ts) < {bounds[mid]} THEN {offset_at(lo, mid)} "
            f"ELSE {offset_at(mid, hi)} END"
        )

    def repeated_at(lo: int, hi: int) -> str:  # the same search: in a repeated hour?
        if hi - lo == 1:
            if lo == 0 or offsets[lo] >= offsets[lo - 1]:
                return "false"
            # The clocks went back at bounds[lo]: the wall times of the next (old - new
            # offset) were shown before, so a local time read then is one of two instants.
            return f"epoch_us(ts) < {bounds[lo] + offsets[lo - 1] - offsets[lo]}"
        mid = (lo + hi) // 2
        return (
            f"CASE WHEN epoch_us(ts) < {bounds[mid]} THEN {repeated_at(lo, mid)} "
            f"ELSE {repeated_at(mid, hi)} END"
        )

    low, high = bounds[0], int(stop.timestamp() * 1_000_000)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP MACRO {LOCAL_DAY_MACRO}(ts) AS
        CASE WHEN epoch_us(ts) >= {low} AND epoch_us(ts) < {high}
             THEN DATE '1970-01-01'
                  + ((epoch_us(ts) + ({offset_at(0, len(bounds))})) // 86400000000)::INTEGER
             ELSE ts::DATE END
        """
    )
    # ICU reads such a local time as the later instant (standard time); the load counts them.
    # The repeated hours fall at one or two times of the UTC day: a remainder and two
    # comparisons pass over most values before the search does (a file without offsets
    # tests all of them).
    day_us = 86_400_000_000
    repeated = [
        (bounds[i] % day_us, (bounds[i] + offsets[i - 1] - offsets[i]) % day_us)
        for i in range(1, len(bounds))
        if offsets[i] < offsets[i - 1]
    ]
    if not repeated:
        window = "false"
    elif all(start < end for start, end in repeated):  # none crosses midnight UTC
        first, last = min(a for a, _ in repeated), max(b for _, b in repeated)
        window = f"epoch_us(ts) % {day_us} >= {first} AND epoch_us(ts) % {day_us} < {last}"
    else:
        window = "true"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP MACRO {REPEATED_HOUR_MACRO}(ts) AS
        CASE WHEN epoch_us(ts) >= {low} AND epoch_us(ts) < {high} AND {window}
             THEN {repeated_at(0, len(bounds))} ELSE false END
        """
    )


# (time zone, start, stop) -> instants (epoch microseconds) where the UTC offset changes,
# the first being ``start``, and the offset from each. ICU's data is fixed for a process.
_OFFSET_CHANGES: dict[tuple[str, dt.datetime, dt.datetime], tuple[list[int], list[int]]] = {}


def _offset_changes(
    con: duckdb.DuckDBPyConnection, start: dt.datetime, stop: dt.datetime
) -> tuple[list[int], list[int]]:
    def offset(t: str) -> str:  # wall clock minus UTC, microseconds
        return f"epoch_us({t}::TIMESTAMP) - epoch_us({t})"

    # Hourly samples find the hours in which the offset changes; within each such hour the
    # change is the first second with the new offset (one query for all of them).
    rows = con.execute(
        f"""
        WITH hours AS (
          SELECT t, {offset("t")} AS offset_us, lag(t) OVER (ORDER BY t) AS before,
                 lag({offset("t")}) OVER (ORDER BY t) AS offset_before
          FROM generate_series($start::TIMESTAMPTZ, $stop::TIMESTAMPTZ, INTERVAL 1 HOUR)
            AS g(t)
        ), changes AS (
          SELECT t, offset_us, before FROM hours
          WHERE before IS NULL OR offset_us <> offset_before
        ), seconds AS (
          SELECT t, offset_us,
                 unnest(CASE WHEN before IS NULL THEN [t]
                             ELSE generate_series(before, t, INTERVAL 1 SECOND) END) AS s
          FROM changes
        )
        SELECT epoch_us(min(s) FILTER (WHERE {offset("s")} = offset_us)), offset_us
        FROM seconds GROUP BY t, offset_us ORDER BY t
        """,  # noqa: S608 - SQL from constants; values bound
        {"start": start.isoformat(), "stop": stop.isoformat()},
    ).fetchall()
    return [int(at) for at, _ in rows], [int(o) for _, o in rows]


# The ids the metrics or the store read. (provider_id is only checked.)
TRIMMED_IDS = ("appointment_id", "patient_id", "clinic_id", "episode_id", "referral_id")


def padded_sql(column: str) -> str:
    """SQL true when ``column`` starts or ends with a space (NULL stays NULL).

    A text starts with a space when it sorts from ' ' to just before '!': two comparisons
    of the first bytes, cheaper than ``prefix()``."""
    return f"({column} >= ' ' AND {column} < '!' OR suffix({column}, ' '))"


def _key(expr: str) -> str:
    """A 64-bit hash of a text id (NULL stays NULL): grouping and equality only."""
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE hash({expr}) END"


@dataclass(frozen=True)
class LoadSql:
    create: str  # CREATE TABLE appt_rows AS ...
    view: str  # CREATE VIEW appt AS ... (over appt_rows)
    bad_rows: str  # SELECT err, <text columns as read> ... of the rows failing a check
    text_columns: list[str]  # columns read as text: their raw value identifies a row
    checks: list[Check]


def load_sql(
    path_param: str,
    header: Header,
    calendar: CalendarVersion,
    *,
    keep_patient_id: bool = False,
    booking_time_optional: bool = False,
    trim_ids: bool = False,
) -> LoadSql:
    """The statements that make ``appt`` (a table and its view), the bad-row scan and the
    checks. Ids are read without spaces around them only with ``trim_ids`` (else such a row
    is flagged ``ids_padded``)."""
    present = [c for c in header.columns if c in BY_NAME]
    has = set(present)
    checks = build_checks(present, calendar, booking_time_optional=booking_time_optional)
    read_columns = ", ".join(f"{_q(name)}: {_q(reader_type(name))}" for name in header.columns)
    raw = (
        f"read_csv({path_param}, header = true, auto_detect = false, delim = ',', "
        f"quote = '\"', escape = '\"', strict_mode = true, store_rejects = true, "
        f"max_line_size = 1048576, columns = {{{read_columns}}})"
    )

    def col(name: str, default: str = "NULL") -> str:
        return f'"{name}"' if name in has else default

    # Ids are read without the spaces around them, as the slot and encounter files' are: a
    # fixed-width export pads "P9001" to "P9001 ", which must stay the same patient (and the
    # same appointment when extracts merge). Spaces alone are a missing id. Trimming costs
    # every row more than testing does, so ``load`` tests first and trims (reading the file
    # again) only if some id needs it (``trim_ids``).
    trimmed_ids = [n for n in TRIMMED_IDS if n in has]
    if trim_ids and trimmed_ids:  # each id tested once: the trim and the flag read the test
        tests = ", ".join(f"{padded_sql(col(n))} AS {n}_padded" for n in trimmed_ids)
        trimmed = ", ".join(
            f"CASE WHEN {n}_padded THEN nullif(trim({col(n)}), '') ELSE {col(n)} END AS {col(n)}"
            for n in trimmed_ids
        )
        ids = (
            f"SELECT * EXCLUDE ({', '.join(f'{n}_padded' for n in trimmed_ids)}) "  # noqa: S608 - SQL from schema constants
            f"REPLACE ({trimmed}), {' OR '.join(f'{n}_padded' for n in trimmed_ids)} AS ids_padded "
            f"FROM (SELECT *, {tests} FROM {raw})"
        )
    else:
        padded = " OR ".join(padded_sql(col(n)) for n in trimmed_ids) or "false"
        ids = f"SELECT *, {padded} AS ids_padded FROM {raw}"  # noqa: S608 - SQL from schema constants
    # Level 0: the commonest form settles both tests of level 1 at once (``usual_sql``).
    level0 = [f"{usual_sql(col(n))} AS {_SHORT[n]}_usual" for n in DATETIME_COLUMNS if n in has]
    # Level 1: parse each date-time once (strict prefix, then the cast).
    level1 = []
    for name in DATETIME_COLUMNS:
        short = _SHORT[name]
        c = col(name)
        if name in has:
            level1.append(f"{timestamp_sql(c, f'{short}_usual')} AS {short}_ts")
            level1.append(f"coalesce(strlen({c}) = 10, false) AS {short}_dateonly")
            level1.append(f"{no_offset_sql(c, f'{short}_usual')} AS {short}_noffset")
        else:
            level1.append(f"NULL::TIMESTAMPTZ AS {short}_ts")
            level1.append(f"false AS {short}_dateonly")
            level1.append(f"false AS {short}_noffset")
    # Level 2: local days (clinic time zone of the session).
    # (``create_local_day_macro`` defines the macro on the connection first.)
    level2 = ", ".join(
        f"{LOCAL_DAY_MACRO}({_SHORT[n]}_ts) AS {_SHORT[n]}_day" for n in DATETIME_COLUMNS
    )
    # The bit mask is built only for rows that fail some check (rare): cheap for valid files.
    any_bad = " OR ".join(f"coalesce({chk.sql}, false)" for chk in checks)
    bits = " | ".join(f"(coalesce({chk.sql}, false)::BIGINT << {chk.bit})" for chk in checks)
    mask = f"CASE WHEN {any_bad} THEN {bits} ELSE 0 END"
    # The stored flag: the checks not verified after the load (a projection evaluates every
    # test on every row, so each one left out here is ten million tests fewer).
    row_bad = (
        " OR ".join(f"coalesce({chk.sql}, false)" for chk in checks if not chk.after_load)
        or "false"
    )

    def flag(name: str) -> str:
        return f"coalesce({col(name)}::BOOLEAN, false)"

    # Only needed to derive a blank appointment_kind: evaluated for those rows only.
    kind_col = col("appointment_kind", "NULL")
    visit_new = (
        f"CASE WHEN {kind_col} IS NULL THEN "
        f"coalesce(regexp_matches({col('visit_type')}, {_q(VISIT_NEW)}), false) ELSE false END"
        if "visit_type" in has
        else "false"
    )
    tz_assumed = " + ".join(f"{_SHORT[n]}_noffset::UTINYINT" for n in DATETIME_COLUMNS)
    # A local time in the hour the clocks repeat (no offset says which of the two it was):
    # read as standard time, counted for the data quality. (CASE: the test runs only on the
    # values read in the clinic's time zone.)
    repeated_hour = (
        " OR ".join(
            f"CASE WHEN {_SHORT[n]}_noffset AND NOT {_SHORT[n]}_dateonly "
            f"THEN {REPEATED_HOUR_MACRO}({_SHORT[n]}_ts) ELSE false END"
            for n in DATETIME_COLUMNS
            if n in has
        )
        or "false"
    )
    source = f"""(
      SELECT *, {level2}
      FROM (SELECT *, {", ".join(level1)}
            FROM (SELECT *, {", ".join(level0) or "NULL AS no_datetime"} FROM ({ids}))) AS parsed
    ) AS src"""  # noqa: S608 - SQL from schema constants; the path is a bound parameter
    text_columns = [c for c in header.columns if reader_type(c) == "VARCHAR"]
    shown = ", ".join(f'"{c}"::VARCHAR AS "{c}"' for c in header.columns)
    bad_rows = f"SELECT * FROM (SELECT ({mask}) AS err, {shown} FROM {source}) WHERE err <> 0"  # noqa: S608
    # The rows of one request share a referral, else an episode: the episode's key, or a
    # key of the referral that no episode's can equal (a second argument to the hash).
    # (Joining 'r' or 'e' to the id first built ten million strings.)
    request_key = _key(col("episode_id"))
    if "referral_id" in has:
        request_key = (
            f"CASE WHEN {col('referral_id')} IS NOT NULL "
            f"THEN hash({col('referral_id')}, 'referral') ELSE {request_key} END"
        )
    # Birth year only feeds the age band of the de-identified store (kept with the raw id).
    birth_year = (
        f"TRY_CAST({col('patient_birth_year')} AS SMALLINT) AS birth_year,"
        if keep_patient_id
        else ""
    )
    flags = {
        "visit_new": visit_new,
        "urgent": f"coalesce({col('urgency', 'NULL::cg_urgency')} = 'urgent', false)",
        "prior_auth": flag("prior_auth_required"),
        "req_dateonly": "req_dateonly",
        "req_eq_booked": "coalesce(req_ts = booked_ts AND NOT req_dateonly "
        "AND NOT booked_dateonly, false)",
        "offer_dateonly": "offer_dateonly",
        "start_dateonly": "start_dateonly",
        "is_group": flag("is_group"),
        "longer": flag("longer_interval_documented"),
        "prl": flag("patient_requested_later"),
        "bad": f"({row_bad})",
        "ids_padded": "coalesce(ids_padded, false)",
        "repeated_hour": f"coalesce({repeated_hour}, false)",
    }
    # (CASE costs less here than casts and shifts.)
    packed = " + ".join(
        f"CASE WHEN {flags[name]} THEN {1 << bit} ELSE 0 END" for bit, name in enumerate(FLAGS)
    )
    sql = f"""
    CREATE OR REPLACE TABLE {ROWS_TABLE} AS
    SELECT
      appointment_id,
      {"patient_id" if keep_patient_id else "hash(patient_id)"} AS patient_key,
      clinic_id,
      provider_class,
      service_line,
      {col("appointment_kind", "NULL::cg_kind")} AS kind,
      req_ts,
      booked_day,
      offer_ts,
      start_ts,
      status,
      {col("cancel_initiator", "NULL::cg_cancel_initiator")} AS cancel_initiator,
      cancel_day,
      {col("modality", "NULL::cg_modality")} AS modality,
      {_key(col("episode_id"))} AS episode_key,
      {f"{request_key} AS request_key," if "referral_id" in has else ""}
      TRY_CAST({col("recommended_return_days")} AS SMALLINT) AS rec_days,
      {col("product_line", "NULL::cg_product_line")} AS product_line,
      {birth_year}
      ({packed} + ({tz_assumed})::INTEGER * {1 << TZ_ASSUMED_SHIFT})::USMALLINT AS flags
    FROM {source}
    """  # noqa: S608 - SQL from schema constants; values bound or quoted
    return LoadSql(
        create=sql,
        view=appt_view_sql(birth_year=keep_patient_id, referral="referral_id" in has),
        bad_rows=bad_rows,
        text_columns=text_columns,
        checks=checks,
    )


# The checked rows are kept compact, because the metrics after the load run under the same
# memory limit: yes/no columns packed as bits of ``flags`` (one byte each would be ten), the
# number of values read in the clinic's time zone (at most five) in its top bits, and no
# local days (the view works them out from the instants, cheaply: ``cg_local_day``).
ROWS_TABLE = "appt_rows"
FLAGS = (
    "visit_new",
    "urgent",
    "prior_auth",
    "req_dateonly",
    "req_eq_booked",
    "offer_dateonly",
    "start_dateonly",
    "is_group",
    "longer",
    "prl",
    "bad",  # fails a check made row by row (not those verified after the load)
    "ids_padded",  # an id had spaces around it (read without them)
    "repeated_hour",  # a local time in the hour the clocks repeat (read as standard time)
)
TZ_ASSUMED_SHIFT = len(FLAGS)


def appt_view_sql(*, birth_year: bool = False, referral: bool = True) -> str:
    """The view ``appt`` over ``appt_rows``: the columns the metrics read, unpacked.

    Without a ``referral_id`` column a request's key is its episode's, which the rows then
    do not store twice (``referral``: they store it)."""

    def bit(name: str) -> str:
        return f"(flags & {1 << FLAGS.index(name)}) <> 0 AS {name}"

    def day(short: str) -> str:
        return f"{LOCAL_DAY_MACRO}({short}_ts) AS {short}_day"

    return f"""
    CREATE OR REPLACE VIEW appt AS
    SELECT
      appointment_id, patient_key, clinic_id, provider_class, service_line, kind,
      {bit("visit_new")}, {bit("urgent")}, {bit("prior_auth")},
      req_ts, {day("req")}, {bit("req_dateonly")},
      booked_day, {bit("req_eq_booked")},
      offer_ts, {day("offer")}, {bit("offer_dateonly")},
      start_ts, {day("start")}, {bit("start_dateonly")},
      status, cancel_initiator, cancel_day, {bit("is_group")}, modality, episode_key,
      {"request_key" if referral else "episode_key AS request_key"},
      {bit("longer")}, {bit("prl")}, rec_days, product_line,
      {"birth_year," if birth_year else ""}
      (flags >> {TZ_ASSUMED_SHIFT})::UTINYINT AS tz_assumed, {bit("bad")}, {bit("ids_padded")},
      {bit("repeated_hour")}
    FROM {ROWS_TABLE}
    """  # noqa: S608 - SQL from schema constants


def drop_appt(con: duckdb.DuckDBPyConnection) -> None:
    """Drop ``appt`` whether the load made it (a view over ``appt_rows``) or a table."""
    drop_relations(con, "appt", ROWS_TABLE)


@dataclass
class LoadResult:
    path: Path
    rows: int  # rows read and checked (a valid file's every row)
    header: Header
    errors: list[ExtractError]
    error_count: int  # bad cells or rows in total (``errors`` may be a prefix)
    error_summary: dict[tuple[str, str], int]
    timezone: str
    tz_assumed_values: int
    first_day: dt.date | None
    last_day: dt.date | None
    # Latest booking, cancellation or waiting request: the inferred cut-off.
    last_event_day: dt.date | None
    padded_id_rows: int = 0  # rows with an id read without the spaces around it
    repeated_hour_rows: int = 0  # rows with a local time the clocks showed twice
    unread_rows: int = 0  # rows the CSV reader could not read (each one a problem)

    @property
    def valid(self) -> bool:
        return self.error_count == 0


def configure(
    con: duckdb.DuckDBPyConnection,
    *,
    timezone: str = DEFAULT_TZ,
    memory_limit: str = "1GB",
    temp_directory: str | None = None,
    threads: int | None = None,
) -> None:
    """Session settings the extract and metric queries rely on."""
    con.execute(f"SET TimeZone = {_q(timezone)}")
    # Row order is not needed (errors are located by content): let DuckDB write in parallel.
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET memory_limit = {_q(memory_limit)}")
    if temp_directory is not None:
        con.execute(f"SET temp_directory = {_q(temp_directory)}")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")


def load(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    calendar: CalendarVersion,
    *,
    max_errors: int = 1000,
    keep_patient_id: bool = False,
    booking_time_optional: bool = False,
) -> LoadResult:
    """Parse and check ``path`` into the table ``appt`` of ``con`` (see ``configure``).

    ``patient_key`` is a 64-bit hash of the patient id (grouping only; the chance that two
    of a million patients collide is about 3e-8), or the id itself with ``keep_patient_id``
    (the importer, which replaces it by the keyed HMAC before anything is stored).
    """
    timezone = str(scalar(con, "SELECT current_setting('TimeZone')"))
    header = read_header(path)
    empty = LoadResult(
        path=path,
        rows=0,
        header=header,
        errors=list(header.errors),
        error_count=len(header.errors),
        error_summary={},
        timezone=timezone,
        tz_assumed_values=0,
        first_day=None,
        last_day=None,
        last_event_day=None,
    )
    if header.errors:
        for err in header.errors:
            key = (err.column, err.reason)
            empty.error_summary[key] = empty.error_summary.get(key, 0) + 1
        return empty
    create_types(con)
    create_local_day_macro(con, calendar.first_day, calendar.last_day)
    # A local day never decreases as the instant grows: the first and last days are the
    # days of the first and last instants (one conversion, not one per row). The checks
    # made after the load (``Check.after_load``) come from the same aggregates.
    day = LOCAL_DAY_MACRO
    missing = " + ".join(f"(count(*) - count({name}))" for name in STORED_REQUIRED)
    for trim_ids in (False, True):
        con.execute("DROP TABLE IF EXISTS reject_errors")
        con.execute("DROP TABLE IF EXISTS reject_scans")
        statements = load_sql(
            "$path",
            header,
            calendar,
            keep_patient_id=keep_patient_id,
            booking_time_optional=booking_time_optional,
            trim_ids=trim_ids,
        )
        drop_appt(con)
        try:
            con.execute(statements.create, {"path": str(path)})
        except duckdb.InvalidInputException as exc:  # the CSV reader gave up on the file
            problem = _unreadable_csv(path, exc)
            empty.errors.append(problem)
            empty.error_count = 1
            empty.error_summary[(problem.column, problem.reason)] = 1
            return empty
        con.execute(statements.view)
        rows_ = con.execute(
            f"""
            SELECT count(*), count(*) FILTER (WHERE bad), {missing}, sum(tz_assumed),
                   count(*) FILTER (WHERE ids_padded),
                   count(*) FILTER (WHERE repeated_hour),
                   least({day}(least(min(req_ts), min(start_ts), min(offer_ts))),
                         min(booked_day)),
                   greatest({day}(greatest(max(req_ts), max(start_ts), max(offer_ts))),
                            max(booked_day), max(cancel_day)),
                   greatest(max(booked_day), max(cancel_day),
                            {day}(max(req_ts) FILTER (WHERE status = 'requested'))),
                   min(cancel_day)
            FROM appt
            """  # noqa: S608 - SQL from schema constants
        ).fetchall()
        if not rows_[0][4]:  # no id between spaces: the rows are as trimming would make them
            break
    (rows, bad_rows, missing_values, tz_assumed, padded_ids, repeated_hour, first_day, last_day,
     last_event, first_cancel) = rows_[0]  # fmt: skip
    covered_from, covered_to = coverage(calendar)
    # A year Python's dates cannot hold (0, or 10000 once in UTC) comes back as text: it is
    # outside every calendar, and its rows are found and reported as such.
    beyond = [d for d in (first_day, last_day, first_cancel) if not isinstance(d, dt.date | None)]
    first_day, last_day, first_cancel = (
        d if isinstance(d, dt.date) else None for d in (first_day, last_day, first_cancel)
    )
    if not isinstance(last_event, dt.date):
        last_event = None
    outside = (
        bool(beyond)
        or (first_day is not None and first_day < covered_from)
        or (first_cancel is not None and first_cancel < covered_from)
        or (last_day is not None and last_day > covered_to)
    )
    rows_failing = bool(bad_rows or missing_values or outside)
    # Equal ids have equal 64-bit hashes: sorting ten million hashes costs less than
    # grouping ten million texts. Equal hashes are then confirmed on the ids themselves.
    duplicates = scalar(
        con,
        "SELECT count(*) FROM (SELECT h, lag(h) OVER (ORDER BY h) AS before "
        "FROM (SELECT hash(appointment_id) AS h FROM appt WHERE appointment_id IS NOT NULL)) "
        "WHERE h = before",
    ) and scalar(
        con,
        "SELECT count(*) FROM (SELECT appointment_id FROM appt WHERE appointment_id IS NOT NULL "
        "GROUP BY appointment_id HAVING count(*) > 1)",
    )
    rejects = scalar(con, "SELECT count(*) FROM reject_errors")
    # A row the reader cannot read (an unmapped code, a cut-off record) may have more than one
    # problem; it is still one of the file's rows.
    unread = scalar(con, "SELECT count(DISTINCT line) FROM reject_errors") if rejects else 0
    result = LoadResult(
        path=path,
        rows=int(rows),
        header=header,
        errors=[],
        error_count=0,
        error_summary={},
        timezone=timezone,
        tz_assumed_values=int(tz_assumed or 0),
        first_day=first_day,
        last_day=last_day,
        last_event_day=last_event,
        padded_id_rows=int(padded_ids or 0),
        repeated_hour_rows=int(repeated_hour or 0),
        unread_rows=int(unread or 0),
    )
    if rows == 0 and not rejects:
        result.errors.append(ExtractError(2, "", "", "no data rows"))
        result.error_count = 1
        result.error_summary[("", "no data rows")] = 1
        return result
    if rows_failing or duplicates or rejects:
        _collect_errors(con, result, statements, max_errors, rows_failing=rows_failing)
    return result


def _unreadable_csv(path: Path, exc: Exception) -> ExtractError:
    """Why DuckDB's CSV reader could not read ``path``: most often lines that end in two
    ways (LF and CR LF) in one file, found here on the first line that differs; else the
    reader's own words."""
    with path.open("rb") as raw:
        first = raw.readline(MAX_HEADER_BYTES + 1)
        crlf = first.endswith(b"\r\n")
        line = 1
        for text in raw:  # (read only when the file is refused)
            line += 1
            if text.endswith(b"\n") and text.endswith(b"\r\n") != crlf:
                ending = "CR LF" if not crlf else "LF alone"
                reason = (
                    f"this line ends with {ending} and the header's does not: save the file "
                    "with one kind of line ending"
                )
                return ExtractError(line, "", "", reason)
    reason = str(exc).splitlines()[0][:300]
    return ExtractError(1, "", "", f"the file cannot be read as CSV ({reason})")


# -- error report --------------------------------------------------------------------------

_CAST_VALUE = re.compile(r'Could not convert string "(.*)" to')


def _reject_reason(column: str, kind: str, message: str) -> tuple[str, str | None]:
    """A reader rejection as (reason, value if the message names it)."""
    if kind == "cast":
        match = _CAST_VALUE.search(message)
        value = match.group(1) if match else None
        col = BY_NAME.get(column)
        if col is not None and col.kind == "enum":
            return "unmapped code: allowed " + " | ".join(col.vocabulary), value
        if col is not None and col.kind == "bool":
            return BOOLEAN_REASON, value
        if col is not None and col.kind == "int":
            return f"not a whole number from {col.low} to {col.high}", value
        return f"cast: {message}", value
    if kind == "missing columns":
        return f"missing cells (truncated row?): {message}", None
    if kind == "too many columns":
        return f"too many cells: {message}", None
    if kind == "invalid encoding":
        return "not valid UTF-8", None
    if kind == "unquoted value":
        return f"bad quoting (unterminated or stray quote): {message}", None
    return f"{kind}: {message}", None


def _collect_errors(
    con: duckdb.DuckDBPyConnection,
    result: LoadResult,
    statements: LoadSql,
    max_errors: int,
    *,
    rows_failing: bool,
) -> None:
    """Fill the error report: counts per check, then line, column, value and reason.

    Table row order is not file order (DuckDB reads in parallel), so bad rows are found
    again by a second, streaming scan that returns their cells as read, and their lines by
    matching those cells while streaming the file with the csv module.
    """
    # Rejections first: a second scan of the file appends to reject_errors again.
    rejects = con.execute(
        "SELECT line, line_byte_position, column_name, error_type, csv_line, error_message "
        "FROM reject_errors ORDER BY line, column_idx"
    ).fetchall()
    checks = statements.checks
    by_bit = {chk.bit: chk for chk in checks}
    summary: dict[tuple[str, str], int] = {}
    used: list[int] = []
    if rows_failing:
        # The table keeps one flag per row; which checks failed comes from a second scan.
        counts = one_row(
            con,
            "SELECT "  # noqa: S608 - SQL from schema constants
            + ", ".join(f"count(*) FILTER (WHERE (err >> {b}) & 1 = 1)" for b in by_bit)
            + f" FROM ({statements.bad_rows})",
            {"path": str(result.path)},
        )
        for b, n in zip(by_bit, counts, strict=True):
            if n:
                used.append(b)
                summary[(by_bit[b].column, by_bit[b].reason)] = int(n)
    dups = con.execute(
        "SELECT appointment_id, count(*) FROM appt WHERE appointment_id IS NOT NULL "  # noqa: S608
        f"GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT {int(max_errors)}"
    ).fetchall()
    n_dup = scalar(
        con,
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM appt "
        "WHERE appointment_id IS NOT NULL GROUP BY appointment_id HAVING count(*) > 1)",
    )
    if n_dup:
        summary[("appointment_id", "duplicate appointment_id")] = int(n_dup)
    errors: list[ExtractError] = []
    physical = _lines_at_bytes(result.path, sorted({int(r[1]) for r in rejects}))
    for _line, position, column, kind, csv_line, message in rejects:
        column = str(column or "")
        reason, value = _reject_reason(column, str(kind).lower(), str(message))
        key = (column, reason)
        summary[key] = summary.get(key, 0) + 1
        shown = value if value is not None else str(csv_line)[:200]
        errors.append(
            ExtractError(physical[int(position)], column, shown, reason, whole_row=value is None)
        )
    bad: list[tuple[int, dict[str, str]]] = []
    if used:
        rel = con.execute(
            statements.bad_rows + f" LIMIT {int(max_errors)}", {"path": str(result.path)}
        )
        names = [d[0] for d in rel.description][1:]
        for row in rel.fetchall():
            cells = {n: ("" if v is None else str(v)) for n, v in zip(names, row[1:], strict=True)}
            bad.append((int(row[0]), cells))
    keys: list[tuple[str, ...]] = [
        tuple(cells[c] for c in statements.text_columns) for _, cells in bad
    ]
    lines = _find_lines(
        result.path,
        result.header.columns,
        statements.text_columns,
        set(keys),
        {str(i): int(n) for i, n in dups},
    )
    for (err, cells), cells_key in zip(bad, keys, strict=True):
        for line in lines.rows.get(cells_key, [0]):
            for b in used:
                if err >> b & 1:
                    chk = by_bit[b]
                    errors.append(
                        ExtractError(line, chk.column, cells.get(chk.column, ""), chk.reason)
                    )
    for ident, _n in dups:
        found = sorted(lines.ids.get(str(ident), []))
        for line in found[1:]:
            reason = f"duplicate appointment_id (first on line {found[0]})"
            errors.append(ExtractError(line, "appointment_id", str(ident), reason))
    errors.sort(key=lambda e: (e.line, e.column))
    result.errors = errors[: max(max_errors, 1)]
    result.error_summary = summary
    result.error_count = sum(summary.values())


@dataclass
class _Lines:
    rows: dict[tuple[str, ...], list[int]]  # key of text cells -> lines
    ids: dict[str, list[int]]  # duplicated appointment_id -> lines


def _find_lines(
    path: Path,
    columns: list[str],
    key_columns: list[str],
    keys: set[tuple[str, ...]],
    duplicate_ids: dict[str, int],
) -> _Lines:
    """Physical start lines of the records with these text cells, and of duplicated ids.

    Streams the file with the csv module (exact lines also with quoted line breaks) and stops
    once everything was found.
    """
    found = _Lines(rows={}, ids={})
    if not keys and not duplicate_ids:
        return found
    at = {c: i for i, c in enumerate(columns)}
    key_at = [at[c] for c in key_columns]
    # The load reads these ids without the spaces around them (``TRIMMED_IDS``).
    trimmed_at = [i for i, c in enumerate(key_columns) if c in TRIMMED_IDS]
    id_at = at.get("appointment_id")
    by_id: dict[str, set[tuple[str, ...]]] = {}
    for key in keys:
        ident = key[key_columns.index("appointment_id")] if "appointment_id" in key_columns else ""
        by_id.setdefault(ident, set()).add(key)
    left_keys = len(keys)
    left_dups = sum(duplicate_ids.values())
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    width = len(columns)
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        start_line = reader.line_num + 1
        for record in reader:
            line = start_line
            start_line = reader.line_num + 1
            if len(record) != width:
                continue
            ident = record[id_at].strip(" ") if id_at is not None else ""
            if ident in by_id:
                cells = [record[i] for i in key_at]
                for i in trimmed_at:
                    cells[i] = cells[i].strip(" ")
                key = tuple(cells)
                if key in by_id[ident]:
                    if key not in found.rows:
                        left_keys -= 1
                    found.rows.setdefault(key, []).append(line)
            if ident in duplicate_ids:
                found.ids.setdefault(ident, []).append(line)
                left_dups -= 1
            if left_keys <= 0 and left_dups <= 0 and not (keys and "" in by_id):
                break
    return found


def _lines_at_bytes(path: Path, positions: list[int]) -> dict[int, int]:
    """Physical line number (1-based) of each byte offset of the file."""
    found: dict[int, int] = {}
    if not positions:
        return found
    lines = 1
    offset = 0
    pending = iter(sorted(positions))
    target = next(pending, None)
    with path.open("rb") as handle:
        while target is not None:
            chunk = handle.read(1 << 22)
            if not chunk:
                break
            while target is not None and target < offset + len(chunk):
                found[target] = lines + chunk.count(b"\n", 0, target - offset)
                target = next(pending, None)
            lines += chunk.count(b"\n")
            offset += len(chunk)
    while target is not None:
        found[target] = lines
        target = next(pending, None)
    return found


# -- de-identification ---------------------------------------------------------------------

MIN_KEY_BYTES = 16
AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 5, "0-5"),
    (6, 12, "6-12"),
    (13, 17, "13-17"),
    (18, 25, "18-25"),
    (26, 34, "26-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, None, "65+"),
)


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the pseudonymisation key must be at least {MIN_KEY_BYTES} bytes")


def pseudonymise(patient_id: str, key: bytes) -> str:
    """Keyed HMAC-SHA256 of a patient id, hex. The key is the caller's; never store it."""
    _check_key(key)
    return hmac.new(bytes(key), patient_id.encode("utf-8"), hashlib.sha256).hexdigest()


def _hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    block = bytes(key)
    if len(block) > 64:
        block = hashlib.sha256(block).digest()
    block = block.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def hmac_sql(column: str) -> str:
    """SQL for the HMAC-SHA256 (hex) of ``column`` with pads bound as $ipad / $opad."""
    return f"sha256($opad || unhex(sha256($ipad || encode({column}))))"


def age_band(birth_year: int | None, year: int) -> str | None:
    """Age band at ``year`` (age taken as year - birth year, so it may be one year high)."""
    if birth_year is None:
        return None
    age = year - birth_year
    if age < 0:
        return None
    for low, high, label in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    return None  # pragma: no cover


def age_band_sql(column: str, year: int) -> str:
    parts = []
    for low, high, label in AGE_BANDS:
        cond = f"{year} - {column} >= {low}" + (
            f" AND {year} - {column} <= {high}" if high is not None else ""
        )
        parts.append(f"WHEN {cond} THEN {_q(label)}")
    return "CASE " + " ".join(parts) + " END"


# Columns of ``appt`` kept in storage; patient_key becomes the HMAC, birth_year an age band.
STORED_COLUMNS = (
    "appointment_id",
    "clinic_id",
    "provider_class",
    "service_line",
    "kind",
    "visit_new",
    "urgent",
    "prior_auth",
    "req_ts",
    "req_day",
    "req_dateonly",
    "booked_day",
    "req_eq_booked",
    "offer_ts",
    "offer_day",
    "offer_dateonly",
    "start_ts",
    "start_day",
    "start_dateonly",
    "status",
    "cancel_initiator",
    "cancel_day",
    "is_group",
    "modality",
    "episode_key",
    "request_key",
    "longer",
    "prl",
    "rec_days",
    "product_line",
)


def deidentified_select(key: bytes, reference_year: int) -> tuple[str, dict[str, bytes]]:
    """SELECT over ``appt`` producing the de-identified rows, and its parameters."""
    _check_key(key)
    ipad, opad = _hmac_pads(key)
    cols = ", ".join(STORED_COLUMNS)
    sql = (
        f"SELECT {hmac_sql('patient_key')} AS patient_key, {cols}, "  # noqa: S608 - SQL from schema constants; values bound or quoted
        f"{age_band_sql('birth_year', reference_year)} AS age_band, "
        f"year({PARTITION_DAY}) AS year, month({PARTITION_DAY}) AS month FROM appt"
    )
    return sql, {"ipad": ipad, "opad": opad}


def write_parquet_partitions(
    con: duckdb.DuckDBPyConnection, out_dir: Path, key: bytes, reference_year: int
) -> None:
    """Write the validated ``appt`` rows, de-identified, as Parquet partitioned by year/month.

    Only call on a valid load made with ``keep_patient_id=True``. The key is used and
    forgotten: it is not written anywhere.
    """
    kind = scalar(con, "SELECT data_type FROM duckdb_columns() WHERE table_name = 'appt' "
                       "AND column_name = 'patient_key'")  # fmt: skip
    if kind != "VARCHAR":
        raise ValueError("load the extract with keep_patient_id=True before de-identifying")
    sql, params = deidentified_select(key, reference_year)
    con.execute(
        f"COPY ({sql}) TO {_q(str(out_dir))} "
        "(FORMAT parquet, PARTITION_BY (year, month), OVERWRITE_OR_IGNORE true)",
        params,
    )


def parquet_view(con: duckdb.DuckDBPyConnection, out_dir: Path) -> None:
    """Make stored partitions the ``appt`` the metrics read (a view; nothing is copied)."""
    # Partitions only: the side tables (``side/``) are not appointment rows.
    glob = str(out_dir / "year=*" / "month=*" / "*.parquet")
    con.execute(
        f"CREATE OR REPLACE VIEW appt AS SELECT * EXCLUDE (year, month) "  # noqa: S608 - SQL from schema constants; values bound or quoted
        # union_by_name: files written before rows were dated have no ``state_as_of``.
        f"FROM read_parquet({_q(glob)}, hive_partitioning = true, union_by_name = true)"
    )


def iter_errors_csv(errors: Sequence[ExtractError]) -> Iterator[list[str]]:
    """Error rows for a CSV report, with cells neutralised against formula injection."""
    several = any(e.file for e in errors)  # a Bulk Data export: the file comes first
    yield (
        ["file", "line", "column", "value", "reason"]
        if several
        else ["line", "column", "value", "reason"]
    )
    for e in errors:
        row = [str(e.line), safe_cell(e.column), safe_cell(e.value), safe_cell(e.reason)]
        yield [safe_cell(e.file), *row] if several else row


def safe_cell(value: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with an apostrophe."""
    if value and value.lstrip(" ")[:1] in FORMULA_STARTS:
        return "'" + value
    return value
