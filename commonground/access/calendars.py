"""Versioned holiday calendars for the access clocks, on top of ``core.business_days``. No Django.

``commonground.core.business_days`` generates the federal (OPM) and California state-employee
(CalHR) presets by rule for any year. A rule set is only vouched for over the years it was
checked against (access-and-parity.md section 8: "make the calendar an uploadable, versioned
object; ship presets; show which one produced each figure"), so each preset here carries a
version label and a coverage range; imports whose dates (plus one year for deadlines) fall
outside it are refused.

``day_index_table`` turns a calendar into the arrays the vectorised clocks use:

* ``index[d]`` = number of business days on or before ``d`` (from the table's first day), so
  ``bd(R, A) = index[A] - index[R]`` (days d with R < d <= A; same day -> 0);
* ``deadline_n[d]`` = the n-th business day after ``d`` (``Calendar.deadline(d, n)``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from commonground.core.business_days import Calendar, preset_holidays

STANDARD_DAYS = (10, 15)


@dataclass(frozen=True)
class CalendarVersion:
    """A holiday preset, the rule version that produced it and the years it covers."""

    name: str
    version: str
    first_year: int
    last_year: int
    description: str

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def holidays(self) -> dict[dt.date, str]:
        return preset_holidays(self.name, range(self.first_year, self.last_year + 1))

    def calendar(self) -> Calendar:
        return Calendar(holidays=frozenset(self.holidays()))

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.first_year, 1, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.last_year, 12, 31)

    def covers(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day


CALENDARS: dict[str, CalendarVersion] = {
    "federal": CalendarVersion(
        name="federal",
        version="opm-2021.1",
        # Juneteenth (2021) is generated from 2021 on; the other rules predate 2000.
        first_year=2000,
        last_year=2030,
        description=(
            "US federal holidays (OPM), Saturday observed on Friday, Sunday on Monday; "
            "Juneteenth from 2021"
        ),
    ),
    "ca-state": CalendarVersion(
        name="ca-state",
        version="calhr-2010.1",
        # CalHR dropped Columbus Day and Lincoln's Birthday in 2009; rules as coded from 2010.
        first_year=2010,
        last_year=2030,
        description=(
            "California state-employee paid holidays (CalHR, Gov. Code 19853): Sunday observed "
            "on Monday, Saturday holidays are a holiday credit except Veterans Day (Friday)"
        ),
    ),
}


def calendar_version(name: str) -> CalendarVersion:
    try:
        return CALENDARS[name]
    except KeyError:
        raise ValueError(f"unknown calendar {name!r}; choose from {sorted(CALENDARS)}") from None


def alternate(name: str) -> CalendarVersion:
    """The other preset, for the "would the other calendar change this result" report."""
    others = [c for key, c in CALENDARS.items() if key != name]
    return others[0]


@dataclass(frozen=True)
class DayIndex:
    """Business-day index and deadlines for every day of ``[first, last]`` (numpy arrays)."""

    first: dt.date
    days: np.ndarray  # datetime64[D]
    index: np.ndarray  # int32: business days on or before the day
    deadlines: dict[int, np.ndarray]  # n -> datetime64[D]: n-th business day after the day


def day_index(
    version: CalendarVersion,
    first: dt.date,
    last: dt.date,
    closures: Iterable[dt.date] = (),
) -> DayIndex:
    """Index over ``[first, last]``; deadlines past ``last`` are extrapolated safely.

    ``last`` should be at least the latest date of the data plus the longest standard.
    ``closures`` are a clinic's own closure days, not business days on top of the preset's.
    """
    closed = {d for d in closures if d >= first}
    holidays = np.array(sorted(set(version.holidays()) | closed), dtype="datetime64[D]")
    # Extend by 60 calendar days (and one per closure day) so that the n-th business day
    # after ``last`` is inside the table.
    span = (last - first).days + 1
    days = np.datetime64(first, "D") + np.arange(span + 60 + len(closed))
    is_bd = np.is_busday(days, holidays=holidays)
    index = np.cumsum(is_bd, dtype=np.int64).astype(np.int32)
    business = days[is_bd]
    deadlines = {}
    for n in STANDARD_DAYS:
        # The business day with index index[d] + n is business[index[d] + n - 1].
        deadlines[n] = business[index[:span] + n - 1]
    return DayIndex(first=first, days=days[:span], index=index[:span], deadlines=deadlines)
