"""Clinic closure calendars: days a clinic is closed, on top of the holiday preset. No Django.

access-and-parity.md 6.1 ("optional second file") and 8: a plan's own operating calendar is
the most defensible basis for "offered within N business days". The file is a CSV with the
columns ``clinic_id`` (the extract's clinic code) and ``date`` (YYYY-MM-DD), and optionally
``reason``, which is read past and never kept. A closure day is not a business day for that
clinic under either holiday preset, so the comparison of the two presets still isolates the
preset. The whole file is checked before any of it is used: each bad row is reported by line,
column, value and reason, and a file with a bad row is not used at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .csvfile import CheckedRows
from .extract import ExtractError

REQUIRED = ("clinic_id", "date")
OPTIONAL = ("reason",)
MAX_ROWS = 100_000  # ten years of every day for 27 clinics; more is not a closure calendar
MAX_ERRORS = 1000
MAX_CODE_LENGTH = 64


@dataclass(frozen=True)
class Closures:
    """Closure days per clinic code."""

    days: Mapping[str, frozenset[dt.date]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.days.values())

    def of(self, clinic: str | None) -> frozenset[dt.date]:
        return self.days.get(clinic or "", frozenset())

    @property
    def clinics(self) -> list[str]:
        return sorted(code for code, days in self.days.items() if days)

    @property
    def day_count(self) -> int:
        return sum(len(days) for days in self.days.values())

    @property
    def fingerprint(self) -> str:
        """A short digest of the content: the same closures give the same fingerprint."""
        digest = hashlib.sha256()
        for code in self.clinics:
            digest.update(code.encode() + b"\0")
            digest.update(",".join(d.isoformat() for d in sorted(self.days[code])).encode())
            digest.update(b"\n")
        return digest.hexdigest()[:12]

    def as_rows(self) -> list[tuple[str, dt.date]]:
        return [(code, day) for code in self.clinics for day in sorted(self.days[code])]


NONE = Closures()


@dataclass
class Parsed:
    closures: Closures
    errors: list[ExtractError]
    error_count: int
    rows: int

    @property
    def valid(self) -> bool:
        return self.error_count == 0


def from_rows(rows: Iterable[tuple[str, dt.date]]) -> Closures:
    days: dict[str, set[dt.date]] = {}
    for code, day in rows:
        days.setdefault(code, set()).add(day)
    return Closures({code: frozenset(found) for code, found in days.items()})


def parse_bytes(content: bytes) -> Parsed:
    """Check a closure calendar CSV whole; ``closures`` is empty unless it is valid."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _refused(0, "", f"not UTF-8 text (byte {exc.start})")
    return parse_lines(io.StringIO(text, newline=""))


def parse_lines(handle: Iterable[str]) -> Parsed:
    errors: list[ExtractError] = []
    count = 0

    def problem(line: int, column: str, value: str, reason: str) -> None:
        nonlocal count
        count += 1
        if len(errors) < MAX_ERRORS:
            errors.append(ExtractError(line, column, value[:200], reason))

    rows = CheckedRows(handle, problem, columns=REQUIRED, optional=OPTIONAL, max_rows=MAX_ROWS)
    found: list[tuple[str, dt.date]] = []
    for line, cells in rows:
        code, text = cells["clinic_id"], cells["date"]
        day = iso_day(text)
        if not code:
            problem(line, "clinic_id", code, "missing")
        elif len(code) > MAX_CODE_LENGTH:
            problem(line, "clinic_id", code, f"longer than {MAX_CODE_LENGTH} characters")
        elif not code.isprintable():
            problem(line, "clinic_id", code, "holds a control character")
        elif day is not None:
            found.append((code, day))
        if day is None:
            problem(line, "date", text, "not a date (YYYY-MM-DD)")
    if count:
        return Parsed(NONE, errors, count, rows.data_rows)
    return Parsed(from_rows(found), [], 0, rows.data_rows)


def iso_day(text: str) -> dt.date | None:
    """A YYYY-MM-DD date, else None. Only that form: ``date.fromisoformat`` also reads
    "20250401" and "2025-W14-2", which a file keyed by the text would take for other days."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _refused(line: int, column: str, reason: str) -> Parsed:
    return Parsed(NONE, [ExtractError(line, column, "", reason)], 1, 0)
