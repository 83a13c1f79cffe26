"""Response clocks of a concern, in the clinic's business days. Pure; no Django."""

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


def clocks_for(raised_on: dt.date, calendar: Calendar) -> Clocks:
    return Clocks(
        acknowledge_by=calendar.deadline(raised_on, ACKNOWLEDGE_WITHIN),
        respond_by=calendar.deadline(raised_on, RESPOND_WITHIN),
    )
