"""iCalendar (RFC 5545) text for the calendar feeds: pure computation, no Django.

Lines end with CRLF and are folded at 75 octets (a continuation line starts with one space and
never splits a UTF-8 character); TEXT values escape backslashes, semicolons, commas and
newlines (section 3.3.11). Every event has a UID and a DTSTAMP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

CRLF = "\r\n"
MAX_OCTETS = 75


def escape_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Split a content line into pieces of at most 75 octets, joined by CRLF and a space."""
    pieces: list[str] = []
    current = ""
    size = 0
    limit = MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size = "", 0
            limit = MAX_OCTETS - 1  # the leading space of a continuation line is an octet
        current += char
        size += width
    pieces.append(current)
    return (CRLF + " ").join(pieces)


def _utc(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class Event:
    uid: str
    summary: str
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    stamp: dt.datetime
    description: str = ""
    location: str = ""
    url: str = ""
    sequence: int = 0

    def lines(self) -> list[str]:
        out = ["BEGIN:VEVENT", f"UID:{self.uid}", f"DTSTAMP:{_utc(self.stamp)}"]
        if isinstance(self.start, dt.datetime):
            assert isinstance(self.end, dt.datetime)  # noqa: S101 - a type narrowing
            out += [f"DTSTART:{_utc(self.start)}", f"DTEND:{_utc(self.end)}"]
        else:
            out += [
                f"DTSTART;VALUE=DATE:{self.start:%Y%m%d}",
                f"DTEND;VALUE=DATE:{self.end:%Y%m%d}",
            ]
        out.append(f"SEQUENCE:{self.sequence}")
        out.append(f"SUMMARY:{escape_text(self.summary)}")
        if self.description:
            out.append(f"DESCRIPTION:{escape_text(self.description)}")
        if self.location:
            out.append(f"LOCATION:{escape_text(self.location)}")
        if self.url:
            out.append(f"URL:{self.url}")
        out.append("END:VEVENT")
        return out


def calendar(name: str, events: Iterable[Event]) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Common Ground//Meetings//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for event in events:
        lines += event.lines()
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
