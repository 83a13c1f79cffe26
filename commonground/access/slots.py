"""Next available and third-next available appointment, from slots (metric M5). No Django.

Survey-style supply measure (access-and-parity.md section 3, M5): for a measurement point
``s`` (a date) and each clinic x provider class (and each provider, for the network rate of
compliance)::

    next_avail       = the earliest start of a free slot with start.date() >= s
    third_next_avail = the start of the third free slot in start order (ties count as
                       separate slots: two free slots at 09:00 are two appointments)
    wait             = bd(s, slot.start.date())   # section 2: s is day 0, same day = 0

A unit with no free slot on or after ``s`` is **not measurable** (not noncompliant: the feed
may simply not reach that far); a unit with one or two free slots has a next available but
no third-next available. The standard for the provider class is the non-urgent initial one
(10 business days for non-physician MH/SUD and primary care, 15 for psychiatrists, specialist
physicians and ancillary); ``other`` has none. This **emulates** the DMHC survey concept; it
is not DMHC's sampled telephone survey.

Measurement points. Slot statuses describe the moment the feed was exported, so a slot file
can only say what was open at that moment: one measurement point, the data cut-off (the
check's ``--as-of``, default the export date), unless the file carries a ``snapshot_date``
column, in which case every distinct snapshot date is its own measurement point and only the
rows of that snapshot are read for it (weekly exports appended into one file).

Canonical slot CSV (header row, UTF-8; the FHIR reader writes ``slots.csv`` in this layout)::

    column          required  meaning
    slot_id         no        FHIR Slot.id or the EHR availability row id
    schedule_id     no        FHIR Schedule.id; the provider key when provider_id is blank
    status          yes       free | busy | busy-unavailable | busy-tentative |
                              entered-in-error (FHIR Slot.status); only ``free`` counts
    start           yes       ISO 8601 date-time (offset or clinic-local) or date
    end             no        ISO 8601 date-time
    clinic_id       yes*      department / facility (*blank is reported as "(no clinic)")
    provider_id     no        rendering provider
    provider_class  no        the canonical classes (psychiatrist, lcsw, ... other); blank
                              = "unknown" (no standard)
    service_line    no        MH, SUD, PC, MS_SPECIALTY, ANCILLARY
    overbooked      no        yes or no, as in the extract (true/false ...); an overbooked
                              free slot is not counted as open
    snapshot_date   no        YYYY-MM-DD the availability was captured (see above)
    feed            no        the system the slots come from (say its FHIR base URL; no
                              user name or password), at most 500 characters: slot ids are
                              unique within one system only, so an import keeps two
                              systems' slots of the same id apart (the FHIR reader writes a
                              Bundle entry's server). A URL is kept as an export of that
                              server names it: host in lower case, without a default port,
                              query or trailing "/" (``side.slot_feed_name``).

Times are converted to the clinic time zone before ``.date()`` (section 2).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from commonground.core.business_days import Calendar

from . import suppression
from .closures import NONE as NO_CLOSURES
from .closures import Closures, iso_day
from .extract import BOOLEAN_REASON, boolean_value
from .suppression import SUPPRESSED, Line, fmt_count

DEFAULT_TZ = "America/Los_Angeles"
SLOT_STATUSES = ("busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error")
REQUIRED = ("status", "start")
OPTIONAL = (
    "slot_id", "schedule_id", "end", "clinic_id", "provider_id", "provider_class",
    "service_line", "overbooked", "snapshot_date", "feed",
)  # fmt: skip
NOT_MEASURABLE = "not_measurable"
MAX_FEED_LENGTH = 500  # a feed's name (a server's URL): the FHIR reader caps it alike
UNKNOWN_CLASS = "unknown"

# Non-urgent initial-appointment standard (business days) by provider class (section 1.2).
STANDARD_BY_CLASS: dict[str, int] = {
    "psychologist": 10, "lcsw": 10, "lmft": 10, "lpcc": 10, "psych_np": 10,
    "sud_counselor": 10, "aba": 10, "pcp": 10,
    "psychiatrist": 15, "specialist_md": 15, "ancillary": 15,
}  # fmt: skip
PROVIDER_CLASSES = (*STANDARD_BY_CLASS, "other", UNKNOWN_CLASS)


class SlotFileError(ValueError):
    """The slot file cannot be read (missing required columns); ``problems`` lists rows."""

    def __init__(self, message: str, problems: list[tuple[int, str, str, str]] | None = None):
        super().__init__(message)
        self.problems = problems or []


@dataclass(frozen=True)
class Slot:
    start: dt.datetime | dt.date
    day: dt.date  # clinic-local date of the start
    clinic_id: str
    provider_key: str
    provider_class: str
    snapshot: dt.date | None


@dataclass
class SlotData:
    open_slots: list[Slot]
    rows: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    overbooked_free: int = 0
    problems: list[tuple[int, str, str, str]] = field(default_factory=list)  # line, col, val, why
    snapshots: set[dt.date] = field(default_factory=set)


MAX_UTC_OFFSET = dt.timedelta(hours=14)  # ISO 8601 and every zone in use: -12:00 to +14:00


def iso_datetime(text: str) -> dt.datetime:
    """An ISO 8601 date-time, with or without its offset; ValueError if not one, or if its
    offset is beyond 14 hours (Python takes up to 24: "+23:00" is no zone's)."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValueError(f"UTC offset beyond 14 hours: {text!r}")
    return value


def _parse_start(text: str, tz: ZoneInfo) -> tuple[dt.datetime | dt.date, dt.date]:
    text = text.strip()
    if len(text) == 10:
        day = dt.date.fromisoformat(text)
        return day, day
    value = iso_datetime(text)
    value = value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
    return value, value.date()


# -- reading a slot or encounter CSV -----------------------------------------------------------

MAX_CELL = 131_072  # characters of one cell (the csv module's default limit, whatever is set)
MAX_RECORD = 4 * 1024 * 1024  # characters of one record: an unclosed quote stops reading here
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # the bytes "surrogateescape" could not decode
_ENDINGS = {"\r\n": "CR LF", "\n": "LF", "\r": "CR", "": "nothing"}
Problem = tuple[int, str, str, str]  # line, column, value, reason


class CsvFileError(ValueError):
    """A slot or encounter CSV whose header cannot be read (``line``: where)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class _TooLong(Exception):
    pass


class CsvRows:
    """The records of a slot or encounter CSV, read in the one dialect the import stores them
    in (``side.read_csv_sql``: comma, double quote, a header, one line ending throughout).

    ``handle`` is opened with ``newline=""``, ``encoding="utf-8-sig"`` and
    ``errors="surrogateescape"``. Iterating gives (line, row) of each well-formed record, line
    being the physical line the record starts on; a record of the wrong width, a malformed or
    unclosed quote, bytes that are not UTF-8, a cell longer than ``MAX_CELL`` characters or a
    line ending unlike the header's is a problem of its line in ``problems`` instead. Blank
    lines are skipped (as the store's reader skips them).
    """

    def __init__(self, handle: IO[str]) -> None:
        self.problems: list[Problem] = []
        self._handle = handle
        self._line = 0  # physical lines read
        self._taken = 0  # characters of the record being read
        self._last = ""  # the last line read
        # The limit is the process's (another reader may have raised it): this reader's own
        # limits are MAX_CELL and MAX_RECORD, the same whatever ran before.
        csv.field_size_limit(2**31 - 1)
        self._reader = csv.reader(self._lines(), strict=True)
        self.fieldnames: list[str] = []
        try:
            header = next(self._reader, None)
        except csv.Error as exc:
            raise CsvFileError(1, f"the header is not CSV ({exc})") from exc
        except _TooLong:
            raise CsvFileError(1, f"the header is longer than {MAX_RECORD:,} characters") from None
        self._header_ending = self._ending
        for name in header or []:
            if name in self.fieldnames:
                raise CsvFileError(1, f"the column {name!r} appears twice in the header")
            self.fieldnames.append(name)

    def _lines(self) -> Iterator[str]:
        readline = self._handle.readline
        while True:
            left = MAX_RECORD - self._taken
            if left <= 0:
                raise _TooLong
            text = readline(left + 1)
            if not text:
                return
            if len(text) > left:
                raise _TooLong
            self._taken += len(text)
            self._line += 1
            if not text.isascii() and _NOT_UTF8.search(text):
                self.problems.append((self._line, "", "", "not UTF-8 text"))
                text = _NOT_UTF8.sub("\ufffd", text)
            self._last = text
            yield text

    @property
    def _ending(self) -> str:
        """The line ending of the last line read ("" at the end of a file without one)."""
        last = self._last
        if last.endswith("\n"):
            return "\r\n" if last.endswith("\r\n") else "\n"
        return "\r" if last.endswith("\r") else ""

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        names, width = self.fieldnames, len(self.fieldnames)
        bad = self.problems.append
        while True:
            start = self._line + 1
            self._taken = 0
            try:
                values = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                bad((start, "", "", f"malformed CSV ({exc})"))
                continue
            except _TooLong:
                why = f"a record longer than {MAX_RECORD:,} characters (a quote not closed?)"
                bad((start, "", "", why + ": the rest of the file is not read"))
                return
            if self._ending not in ("", self._header_ending):
                why = (
                    f"the line ends with {_ENDINGS[self._ending]}, the header with "
                    f"{_ENDINGS[self._header_ending]}: one line ending throughout, please"
                )
                bad((start, "", "", why))
                continue
            if not values:  # a blank line
                continue
            if len(values) != width:
                bad((start, "", "", f"{len(values)} cells, the header has {width}"))
                continue
            row = dict(zip(names, values, strict=True))
            if self._taken > MAX_CELL:  # else no cell can be longer
                long = [(n, v) for n, v in row.items() if len(v) > MAX_CELL]
                for name, value in long:
                    bad((start, name, value[:40] + "...", f"longer than {MAX_CELL:,} characters"))
                if long:
                    continue
            yield start, row


def open_csv(path: Path) -> IO[str]:
    """A slot or encounter CSV opened for ``CsvRows``."""
    return path.open(newline="", encoding="utf-8-sig", errors="surrogateescape")


def numbered(rows: Iterable[dict[str, str]] | CsvRows) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) of each row: a ``CsvRows``'s own lines, else counted from line 2."""
    if isinstance(rows, CsvRows):
        return iter(rows)
    return enumerate(rows, start=2)


def read_slots(
    path: Path,
    *,
    timezone: str = DEFAULT_TZ,
    feed_name: Callable[[str], str] | None = None,
) -> SlotData:
    """Read a canonical slot CSV; bad rows are listed in ``problems`` and skipped. With
    ``feed_name`` (the name a feed is stored under), two different rows of one slot (one
    snapshot, feed and id) are problems too: the import would keep only one of them."""
    with open_csv(path) as handle:
        rows = CsvRows(handle)
        data = parse_slots(rows, timezone=timezone, feed_name=feed_name)
    data.problems.extend(rows.problems)
    return data


def _feed_problem(feed: str) -> tuple[str, str] | None:
    """(the value to report, why) when a slot CSV's ``feed`` cannot be kept."""
    if len(feed) > MAX_FEED_LENGTH:
        return feed, f"longer than {MAX_FEED_LENGTH} characters"
    try:
        parts = urlsplit(feed)
    except ValueError:  # not a URL: a name of the steward's choosing
        return None
    if "@" in parts.netloc:  # reported without them: the report is kept
        masked = parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[-1]).geturl()
        return masked, "holds a user name or password: give the server's address without them"
    return None


def parse_slots(
    rows: csv.DictReader[str] | CsvRows,
    *,
    timezone: str = DEFAULT_TZ,
    feed_name: Callable[[str], str] | None = None,
) -> SlotData:
    header = rows.fieldnames or []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise SlotFileError(f"slot file: missing column(s) {', '.join(missing)}")
    tz = ZoneInfo(timezone)
    data = SlotData(open_slots=[])
    # A slot (its snapshot, feed and identity) -> the line it is first on and a hash of it.
    seen: dict[tuple[str, str, str], tuple[int, int]] = {}
    if feed_name is not None:  # a file has few feeds: each is named once
        feed_name = functools.cache(feed_name)
    for line, row in numbered(rows):
        data.rows += 1
        status = (row.get("status") or "").strip()
        if status not in SLOT_STATUSES:
            data.problems.append((line, "status", status, "not a FHIR Slot.status"))
            continue
        try:
            start, day = _parse_start(row.get("start") or "", tz)
        except ValueError:
            data.problems.append((line, "start", row.get("start") or "", "not an ISO date-time"))
            continue
        snapshot: dt.date | None = None
        if (row.get("snapshot_date") or "").strip():
            snapshot = iso_day((row.get("snapshot_date") or "").strip())
            if snapshot is None:
                data.problems.append(
                    (line, "snapshot_date", row.get("snapshot_date") or "", "not YYYY-MM-DD")
                )
                continue
            data.snapshots.add(snapshot)
        if problem := _feed_problem((row.get("feed") or "").strip()):
            data.problems.append((line, "feed", *problem))
            continue
        if feed_name is not None and (twice := _given_twice(row, line, seen, feed_name)):
            data.problems.append(twice)
            continue
        overbooked = boolean_value(row.get("overbooked") or "")
        if overbooked is None:  # as the extract's yes/no columns: not silently "no"
            data.problems.append((line, "overbooked", row.get("overbooked") or "", BOOLEAN_REASON))
            continue
        data.by_status[status] = data.by_status.get(status, 0) + 1
        if status != "free":
            continue
        if overbooked:
            data.overbooked_free += 1
            continue
        cls = (row.get("provider_class") or "").strip() or UNKNOWN_CLASS
        if cls not in PROVIDER_CLASSES:
            data.problems.append((line, "provider_class", cls, "not a canonical provider class"))
            continue
        provider = (row.get("provider_id") or "").strip() or (
            "schedule:" + (row.get("schedule_id") or "").strip()
            if (row.get("schedule_id") or "").strip()
            else ""
        )
        data.open_slots.append(
            Slot(
                start=start,
                day=day,
                clinic_id=(row.get("clinic_id") or "").strip() or "(no clinic)",
                provider_key=provider,
                provider_class=cls,
                snapshot=snapshot,
            )
        )
    return data


def _given_twice(
    row: dict[str, str],
    line: int,
    seen: dict[tuple[str, str, str], tuple[int, int]],
    feed_name: Callable[[str], str],
) -> Problem | None:
    """The problem of a row that gives a slot (one snapshot, feed and identity, as
    ``side.stage_slots`` keys it) an earlier row gave otherwise: the import would keep one
    of them. The same row given twice is one slot."""
    get = row.get
    slot_id = (get("slot_id") or "").strip()
    if slot_id:
        identity = "id:" + slot_id
    else:
        at = ("schedule_id", "provider_id", "start", "end")
        identity = "at:" + "|".join((get(c) or "").strip() for c in at)
    snapshot = (get("snapshot_date") or "").strip()
    key = (snapshot, feed_name((get("feed") or "").strip()), identity)
    content = hash(tuple(row.values()))
    first_line, first_content = seen.setdefault(key, (line, content))
    if first_line == line or first_content == content:
        return None
    why = f"duplicate slot (first on line {first_line}, given otherwise)"
    if slot_id:
        return line, "slot_id", slot_id, why
    return line, "start", get("start") or "", why


@dataclass(frozen=True)
class Unit:
    """One measured unit: a clinic x provider class, or a provider, at a measurement point."""

    level: str  # "clinic_class" or "provider"
    point: dt.date
    clinic_id: str
    provider_class: str
    provider_key: str  # "" for clinic_class units
    next_day: dt.date | None
    third_day: dt.date | None
    next_bd: int | None
    third_bd: int | None
    standard: int | None
    status: str  # compliant | noncompliant | not_measurable | no_standard
    next_bd_alt: int | None = None  # under the sensitivity calendar
    status_alt: str | None = None


def _sort_key(slot: Slot) -> tuple[dt.date, float]:
    start = slot.start
    if isinstance(start, dt.datetime):
        return slot.day, start.timestamp()
    # A date-only slot sorts before the timed slots of that day (its time is unknown).
    return slot.day, float("-inf")


def _status(bd: int | None, standard: int | None) -> str:
    if bd is None:
        return NOT_MEASURABLE
    if standard is None:
        return "no_standard"
    return "compliant" if bd <= standard else "noncompliant"


def _unit(
    level: str,
    point: dt.date,
    key: tuple[str, str, str],
    slots: list[Slot],
    calendar: Calendar,
    alt: Calendar | None,
) -> Unit:
    clinic, cls, provider = key
    ordered = sorted((s for s in slots if s.day >= point), key=_sort_key)
    first = ordered[0].day if ordered else None
    third = ordered[2].day if len(ordered) >= 3 else None
    standard = STANDARD_BY_CLASS.get(cls)
    next_bd = calendar.business_days_between(point, first) if first else None
    third_bd = calendar.business_days_between(point, third) if third else None
    alt_bd = alt.business_days_between(point, first) if (alt and first) else None
    return Unit(
        level=level,
        point=point,
        clinic_id=clinic,
        provider_class=cls,
        provider_key=provider,
        next_day=first,
        third_day=third,
        next_bd=next_bd,
        third_bd=third_bd,
        standard=standard,
        status=_status(next_bd, standard),
        next_bd_alt=alt_bd,
        status_alt=_status(alt_bd, standard) if alt else None,
    )


def measurement_points(data: SlotData, as_of: dt.date) -> list[dt.date]:
    """Every snapshot date in the file, else the single data cut-off."""
    return sorted(data.snapshots) if data.snapshots else [as_of]


def measure(
    data: SlotData,
    points: Iterable[dt.date],
    calendar: Calendar,
    alt: Calendar | None = None,
    *,
    units_seen: Iterable[tuple[str, str, str]] = (),
    closures: Closures = NO_CLOSURES,
) -> list[Unit]:
    """Units per measurement point: clinic x provider class, then each provider.

    ``units_seen`` adds (clinic, class, provider) keys known to exist (e.g. from busy slots)
    so a unit with no free slot is reported as not measurable rather than silently missing.
    A clinic's ``closures`` are not business days for it under either calendar.
    """
    own = {  # the calendars of each clinic with closure days (none without closures)
        code: (
            replace(calendar, holidays=calendar.holidays | closures.of(code)),
            replace(alt, holidays=alt.holidays | closures.of(code)) if alt else None,
        )
        for code in closures.clinics
    }
    units: list[Unit] = []
    for point in points:
        snap = [s for s in data.open_slots if s.snapshot in (None, point)]
        by_cc: dict[tuple[str, str, str], list[Slot]] = defaultdict(list)
        by_prov: dict[tuple[str, str, str], list[Slot]] = defaultdict(list)
        for s in snap:
            by_cc[(s.clinic_id, s.provider_class, "")].append(s)
            if s.provider_key:
                by_prov[(s.clinic_id, s.provider_class, s.provider_key)].append(s)
        for key in units_seen:
            by_cc.setdefault((key[0], key[1], ""), [])
            if key[2]:
                by_prov.setdefault(key, [])
        units.extend(
            _unit("clinic_class", point, key, by_cc[key], *own.get(key[0], (calendar, alt)))
            for key in sorted(by_cc)
        )
        units.extend(
            _unit("provider", point, key, by_prov[key], *own.get(key[0], (calendar, alt)))
            for key in sorted(by_prov)
        )
    return units


def known_units(path: Path) -> set[tuple[str, str, str]]:
    """(clinic, class, provider) of every slot row, whatever its status (for not-measurable)."""
    keys: set[tuple[str, str, str]] = set()
    with open_csv(path) as handle:
        for _line, row in CsvRows(handle):
            cls = (row.get("provider_class") or "").strip() or UNKNOWN_CLASS
            if cls not in PROVIDER_CLASSES:
                continue
            provider = (row.get("provider_id") or "").strip()
            if not provider and (row.get("schedule_id") or "").strip():
                provider = "schedule:" + (row.get("schedule_id") or "").strip()
            keys.add(((row.get("clinic_id") or "").strip() or "(no clinic)", cls, provider))
    return keys


# -- summary ---------------------------------------------------------------------------------


@dataclass
class ClassSummary:
    provider_class: str
    standard: int | None
    units: int  # clinic x class units (all measurement points)
    counts: dict[str, int]  # status -> units
    next_bds: list[int]
    third_bds: list[int]
    providers: dict[str, int]  # provider-level status -> providers
    changed_by_calendar: int


def summarise(units: list[Unit]) -> list[ClassSummary]:
    out: list[ClassSummary] = []
    classes = sorted({u.provider_class for u in units})
    for cls in classes:
        cc = [u for u in units if u.provider_class == cls and u.level == "clinic_class"]
        pv = [u for u in units if u.provider_class == cls and u.level == "provider"]
        counts: dict[str, int] = defaultdict(int)
        for u in cc:
            counts[u.status] += 1
        providers: dict[str, int] = defaultdict(int)
        for u in pv:
            providers[u.status] += 1
        out.append(
            ClassSummary(
                provider_class=cls,
                standard=STANDARD_BY_CLASS.get(cls),
                units=len(cc),
                counts=dict(counts),
                next_bds=[u.next_bd for u in cc if u.next_bd is not None],
                third_bds=[u.third_bd for u in cc if u.third_bd is not None],
                providers=dict(providers),
                changed_by_calendar=sum(
                    1 for u in cc if u.status_alt is not None and u.status_alt != u.status
                ),
            )
        )
    return out


STATUS_KEYS = ("compliant", "noncompliant", NOT_MEASURABLE, "no_standard")


def _published(parts: dict[str, int]) -> dict[str, int | None]:
    """Counts with their total: primary (1-10) and complementary suppression."""
    values: dict[str, int] = dict(parts)
    values["__total__"] = sum(parts.values())
    hidden = suppression.suppress(values, [Line(tuple(parts), "__total__")])
    return {k: (None if k in hidden else v) for k, v in values.items()}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _median(values: list[int]) -> str:
    if not values:
        return "-"
    shown = suppression.statistic(float(statistics.median(values)), len(values))
    return "-" if shown is None else f"{shown:.1f}"


def report_lines(
    data: SlotData, units: list[Unit], points: list[dt.date], calendar_label: str,
    alt_label: str | None,
) -> Iterator[str]:  # fmt: skip
    """The check's printed summary; every count is suppressed from 1 to 10."""
    yield (
        "\nNext and third-next available from slots (emulates the DMHC survey concept; "
        "not DMHC's telephone survey)\n"
    )
    first, last = points[0], points[-1]
    span = f"{first}" if first == last else f"{first} to {last} ({len(points)} snapshots)"
    yield (
        f"  measurement point(s): {span}; business days from the point (day 0) to the 1st / "
        f"3rd free slot, calendar {calendar_label}\n"
    )
    free = data.by_status.get("free", 0)
    yield (
        f"  slot rows: {fmt_count(suppression.count(data.rows))}; free: "
        f"{fmt_count(suppression.count(free))}; overbooked free slots not counted: "
        f"{fmt_count(suppression.count(data.overbooked_free))}; rows skipped: "
        f"{fmt_count(suppression.count(len(data.problems)))}\n"
    )
    heads = ["units", "compliant", "noncompl.", "not meas.", "next med", "3rd med",
             "rate", "providers", "prov.rate"]  # fmt: skip
    yield f"  {'provider class':<16}{'std':>5}" + "".join(f"{h:>11}" for h in heads) + "\n"
    for s in summarise(units):
        cells = _published({k: s.counts.get(k, 0) for k in STATUS_KEYS})
        rate = suppression.rate(
            cells["compliant"],
            None
            if cells["compliant"] is None or cells["noncompliant"] is None
            else cells["compliant"] + cells["noncompliant"],
        )
        prov = _published({k: s.providers.get(k, 0) for k in STATUS_KEYS})
        prov_rate = suppression.rate(
            prov["compliant"],
            None
            if prov["compliant"] is None or prov["noncompliant"] is None
            else prov["compliant"] + prov["noncompliant"],
        )
        std = "-" if s.standard is None else str(s.standard)
        row = [
            fmt_count(cells["__total__"]),
            fmt_count(cells["compliant"]),
            fmt_count(cells["noncompliant"]),
            fmt_count(cells[NOT_MEASURABLE]),
            _median(s.next_bds),
            _median(s.third_bds),
            _pct(rate),
            fmt_count(prov["__total__"]),
            _pct(prov_rate),
        ]
        yield f"  {s.provider_class:<16}{std:>5}" + "".join(f"{x:>11}" for x in row) + "\n"
    yield (
        "  units = clinic x provider class per measurement point; rate = compliant / "
        "(compliant + noncompliant) by the next available; prov.rate = network rate of "
        "compliance (share of providers whose next available meets the standard; DMHC "
        "threshold 70 %); not meas. = no free slot on or after the point\n"
    )
    if alt_label is not None:
        changed = sum(s.changed_by_calendar for s in summarise(units))
        yield (
            f"  clinic x class units whose status would change under {alt_label}: "
            f"{fmt_count(suppression.count(changed))}\n"
        )
    if not units:
        yield "  not measurable: no slot rows\n"


UNIT_COLUMNS = (
    "level", "measurement_date", "clinic_id", "provider_class", "provider_key",
    "next_available_date", "next_available_bd", "third_next_available_date",
    "third_next_available_bd", "standard_bd", "status", "next_available_bd_alternate",
    "status_alternate",
)  # fmt: skip


def unit_rows(units: Iterable[Unit]) -> Iterator[list[str]]:
    """Rows for a unit-level CSV (data steward only: provider keys are not for sharing)."""
    yield list(UNIT_COLUMNS)
    for u in units:
        yield [
            u.level, u.point.isoformat(), u.clinic_id, u.provider_class, u.provider_key,
            u.next_day.isoformat() if u.next_day else "",
            "" if u.next_bd is None else str(u.next_bd),
            u.third_day.isoformat() if u.third_day else "",
            "" if u.third_bd is None else str(u.third_bd),
            "" if u.standard is None else str(u.standard), u.status,
            "" if u.next_bd_alt is None else str(u.next_bd_alt), u.status_alt or "",
        ]  # fmt: skip


__all__ = [
    "NOT_MEASURABLE",
    "SUPPRESSED",
    "CsvFileError",
    "CsvRows",
    "SlotData",
    "SlotFileError",
    "Unit",
    "iso_datetime",
    "known_units",
    "measure",
    "measurement_points",
    "parse_slots",
    "read_slots",
    "report_lines",
    "summarise",
    "unit_rows",
]
