"""Watch an access metric for special-cause deterioration. Pure; no Django.

A clinic's monthly rate (say, follow-up within 10 business days) is read as an XmR chart with
the Making Data Count rules. When the latest point is special-cause *concern* — outside the
limits, in a run of 7 on the wrong side of the mean, a trend of 7 the wrong way, or two of
three near the limit — the committee is offered a concern with the chart's numbers. A run
of concern points counts once: it is identified by the period it began in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from commonground.improvement.spc import compute_mdc

# Fewer points give limits too unstable to call anything special cause.
MIN_POINTS = 12


@dataclass(frozen=True)
class Deterioration:
    began: dt.date  # the first period of the current run of concern points
    latest: dt.date
    latest_value: float
    mean: float
    points_in_run: int
    summary: str


def deterioration(
    periods: Sequence[dt.date],
    values: Sequence[float | None],
    *,
    direction: str,
    label: str,
    unit: str = "%",
) -> Deterioration | None:
    """The current special-cause deterioration of a series, or None.

    ``direction`` is where improvement lies (``increase`` for a compliance rate).
    """
    if len(periods) != len(values):
        raise ValueError("periods and values differ in length")
    if sum(v is not None for v in values) < MIN_POINTS:
        return None
    result = compute_mdc(list(values), direction)
    points = result.points
    last = max((i for i, v in enumerate(values) if v is not None), default=None)
    if last is None or points[last]["point_type"] != "special_cause_concern":
        return None
    first = last
    for i in range(last - 1, -1, -1):
        if values[i] is None:
            continue
        if points[i]["point_type"] != "special_cause_concern":
            break
        first = i
    run = sum(1 for i in range(first, last + 1) if values[i] is not None)
    value = float(values[last])  # type: ignore[arg-type]
    mean = float(points[last]["mean"])
    worse = "below" if direction == "increase" else "above"
    summary = (
        f"{label}: special-cause deterioration since {periods[first]:%B %Y}. "
        f"{periods[last]:%B %Y} was {value:.0f}{unit}, {worse} the usual "
        f"{mean:.0f}{unit}; {run} point{'s' if run != 1 else ''} in this run."
    )
    return Deterioration(
        began=periods[first],
        latest=periods[last],
        latest_value=value,
        mean=mean,
        points_in_run=run,
        summary=summary,
    )
