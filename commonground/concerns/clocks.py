"""Response clocks of a concern, in the clinic's business days. Pure; no Django.

The lengths are region settings (5 and 20 business days by default). Extensions add
business days to a running clock; a pause stops it and, when it ends, pushes each deadline
out by the business days it lasted, so a paused concern loses no working time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from commonground.core.business_days import Calendar

ACKNOWLEDGE_WITHIN = 5
RESPOND_WITHIN = 20


@dataclass(frozen=True)
class Clocks:
    acknowledge_by: dt.date
    respond_by: dt.date


def clocks_for(
    raised_on: dt.date,
    calendar: Calendar,
    acknowledge_within: int = ACKNOWLEDGE_WITHIN,
    respond_within: int = RESPOND_WITHIN,
) -> Clocks:
    return Clocks(
        acknowledge_by=calendar.deadline(raised_on, acknowledge_within),
        respond_by=calendar.deadline(raised_on, respond_within),
    )


def extended(deadline: dt.date, business_days: int, calendar: Calendar) -> dt.date:
    """A deadline moved out by ``business_days``; a deadline on a closed day first rolls to
    the next business day, so an extension of n always buys n working days."""
    return calendar.deadline(deadline, business_days)


def paused_business_days(paused_since: dt.date, resumed_on: dt.date, calendar: Calendar) -> int:
    """Business days lost to a pause from ``paused_since`` up to and including
    ``resumed_on - 1``: the day of resumption counts as a working day again. A pause that
    starts and ends on the same day costs nothing."""
    if resumed_on <= paused_since:
        return 0
    lost = calendar.business_days_between(paused_since, resumed_on - dt.timedelta(days=1))
    return lost + (1 if calendar.is_business_day(paused_since) else 0)
