"""Chart view model: SPC engine output plus a Vega-Lite spec and plain-language sentences.

Pure Python with no Django import, like :mod:`commonground.improvement.spc`. A view turns a
measure into a :class:`ChartInput`, calls :func:`build_chart` and hands the
:class:`ChartOutput` to ``improvement/includes/chart.html``, which shows the sentences and a
data table as text (the accessible version) and the Vega-Lite spec for ``static/js/charts.js``
to draw.

* Numbers, limits and signals come from the engine only (:func:`spc.compute_chart` for the QI
  profile, :func:`spc.compute_mdc` for the MDC profiles); this module never re-derives a rule.
  It only *locates* what the engine reports: the run behind an Anhøj shift signal (the engine
  gives its length, this module finds where it is) and the stretches of MDC special-cause
  points.
* The MDC profiles chart the values on an XmR chart: with denominators the value is
  ``value / denominator``, and ``multiply`` is applied before the engine runs (a positive
  scale changes no limit or rule, only the units). The MDC profiles have no excluded points;
  exclusions are ignored there and the summary says so.
* Everything is deterministic: dates are written with fixed English month names and numbers
  with fixed rules, so the same input always gives the same spec and sentences.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from commonground.improvement import spc

__all__ = [
    "ASSURANCE_LABELS",
    "CHART_NAMES",
    "COLOURS",
    "VARIATION_LABELS",
    "ChartInput",
    "ChartOutput",
    "build_chart",
    "format_date",
]

#: Chart types :func:`build_chart` accepts (the MR chart is not charted on its own).
CHART_NAMES: dict[str, str] = {
    "run": "Run chart",
    "i": "I chart",
    "p": "P chart",
    "pp": "P\u2032 chart (Laney)",
    "u": "U chart",
    "up": "U\u2032 chart (Laney)",
    "c": "C chart",
    "g": "G chart",
    "t": "T chart",
}

#: MDC variation icons (spc.md 7.4) in words.
VARIATION_LABELS: dict[str, str] = {
    "common_cause": "Common-cause variation",
    "improvement_high": "Special-cause improvement (higher values)",
    "improvement_low": "Special-cause improvement (lower values)",
    "concern_high": "Special-cause concern (higher values)",
    "concern_low": "Special-cause concern (lower values)",
    "neutral_high": "Special-cause variation (higher values)",
    "neutral_low": "Special-cause variation (lower values)",
}

#: MDC assurance icons (spc.md 7.5) in words.
ASSURANCE_LABELS: dict[str, str] = {
    "consistent_pass": "Consistently meets the target",
    "consistent_fail": "Consistently misses the target",
    "inconsistent": "Hit and miss: may or may not meet the target",
}

#: Chart colours; every one has at least 3:1 contrast against white (WCAG 1.4.11). The MDC
#: blue and grey (#00B0F0, #A6A6A6) do not, so darker shades of the same hues are used.
COLOURS: dict[str, str] = {
    "series": "#52606d",  # 6.5:1, also common-cause points
    "centre": "#1f2933",  # 14.8:1
    "limit": "#52606d",  # 6.5:1, dashed
    "target": "#0b6b45",  # 6.6:1, dash-dot
    "annotation": "#8a4b08",  # 6.8:1, dotted
    "improvement": "#0072b2",  # 5.2:1
    "concern": "#c2410c",  # 5.2:1
    "neutral": "#490092",  # 12.4:1 (the MDC purple)
    "excluded": "#1f2933",
}

#: Signal categories: legend text, colour and shape (never colour alone).
_CATEGORIES: dict[str, tuple[str, str, str]] = {
    "common": ("Common cause", COLOURS["series"], "circle"),
    "improvement": ("Special cause: improvement", COLOURS["improvement"], "diamond"),
    "concern": ("Special cause: concern", COLOURS["concern"], "square"),
    "neutral": ("Special cause", COLOURS["neutral"], "triangle-up"),
}

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

_PERIODS = ("week", "month")
TRIAL_POINTS = 13  # spc.md 7.6 / 8: fewer points than this give trial limits
MDC_MIN_BASELINE = spc.MIN_FIX_AFTER
_VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
_ANNOTATION_CHARS = 28


@dataclass(frozen=True)
class ChartInput:
    """One measure's series and chart settings (see the module docstring)."""

    title: str
    periods: Sequence[datetime.date]  # one per point, ascending
    values: Sequence[float | None]
    denominators: Sequence[float | None] | None = None
    chart: str = "run"  # run, i, p, pp, u, up, c, g, t
    profile: str = "qi"  # qi, mdc, mdc6
    direction: str = "neutral"  # increase, decrease, neutral
    target: float | None = None
    multiply: float = 1
    baseline_points: int | None = None  # frozen baseline (QI freeze / MDC fix_after_n_points)
    phase_starts: Sequence[int] = ()  # zero-based indices of points that start a new phase
    excluded: Sequence[int] = ()  # zero-based
    unit: str = ""
    annotations: Sequence[tuple[datetime.date, str]] = ()  # e.g. (date, "PDSA 2: adopt")
    period_label: str = "week"  # week or month


@dataclass
class ChartOutput:
    """Everything a page needs to show one chart, as text and as a Vega-Lite spec."""

    title: str
    profile: str
    profile_label: str
    chart: str
    chart_label: str
    points: list[dict[str, Any]]
    spec: dict[str, Any]
    summary: list[str]
    trial_limits: bool
    n_points: int
    n_values: int
    n_phases: int
    unit: str = ""
    period_label: str = "week"
    variation_icon: str | None = None
    variation_label: str | None = None
    assurance_icon: str | None = None
    assurance_label: str | None = None
    has_limits: bool = True
    centre_label: str = "Centre line"  # column heading: Median, Centre line or Mean
    limits_label: str = "Limits"  # Limits or Process limits
    lower_label: str = "Lower limit"  # column headings
    upper_label: str = "Upper limit"
    notes: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        """The summary as one text, as in the spec's ``description``."""
        return " ".join(self.summary)


# ---------------------------------------------------------------------------------------------
# Words


def format_date(day: datetime.date) -> str:
    """``3 March 2025`` (no leading zero, English month names whatever the locale)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _month(day: datetime.date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.year}"


def _when(day: datetime.date, period: str) -> str:
    """``the week of 3 March 2025`` or ``March 2025``."""
    return f"the week of {format_date(day)}" if period == "week" else _month(day)


def _period_text(day: datetime.date, period: str) -> str:
    return f"Week of {format_date(day)}" if period == "week" else _month(day)


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _when_list(days: Sequence[datetime.date], period: str) -> str:
    """``the week of A`` / ``the weeks of A, B and C`` / ``A and B`` (months)."""
    if period == "week":
        if len(days) == 1:
            return _when(days[0], period)
        return f"the weeks of {_join([format_date(day) for day in days])}"
    return _join([_month(day) for day in days])


def _count(number: int, noun: str) -> str:
    """``one point``, ``8 points``, ``1 week`` is written ``one week``."""
    return f"one {noun}" if number == 1 else f"{number} {noun}s"


def _number(value: float) -> str:
    """A short, stable rendering: at most two decimals below 100, none from 1,000."""
    size = abs(value)
    decimals = 2 if size < 100 else (1 if size < 1000 else 0)
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _with_unit(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    number = _number(value)
    if not unit:
        return number
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


_KIND_WORDS = {
    "improvement": "Special-cause improvement",
    "concern": "Special-cause concern",
    "neutral": "Special-cause variation",
}


def _kind(sign: int, direction: int) -> str:
    """improvement / concern / neutral for a signal on the high (+1) or low (-1) side."""
    if direction == 0:
        return "neutral"
    return "improvement" if sign * direction > 0 else "concern"


def _span(days: Sequence[datetime.date], ongoing: bool, period: str) -> str:
    """``since the week of A`` (still running at the last value) or ``from A to B``."""
    if ongoing or len(days) == 1:
        word = "since" if ongoing else "in"
        return f"{word} {_when(days[0], period)}"
    return f"from {_when(days[0], period)} to {_when(days[-1], period)}"


# ---------------------------------------------------------------------------------------------
# Input checks


def _check(data: ChartInput) -> None:
    size = len(data.values)
    if len(data.periods) != size:
        raise ValueError(f"{len(data.periods)} periods but {size} values")
    if data.denominators is not None:
        if len(data.denominators) != size:
            raise ValueError(f"{size} values but {len(data.denominators)} denominators")
        if any(n is not None and n < 0 for n in data.denominators):
            raise ValueError("denominators must not be negative")
    if data.chart not in CHART_NAMES:
        raise ValueError(f"unknown chart {data.chart!r}; expected one of {', '.join(CHART_NAMES)}")
    if data.profile not in spc.PROFILES:
        raise ValueError(f"unknown profile {data.profile!r}; expected {', '.join(spc.PROFILES)}")
    if data.direction not in spc.DIRECTIONS:
        raise ValueError(f"unknown direction {data.direction!r}")
    if data.period_label not in _PERIODS:
        raise ValueError(f"period_label must be week or month, got {data.period_label!r}")
    for earlier, later in zip(data.periods, data.periods[1:], strict=False):
        if not later > earlier:
            raise ValueError(f"periods must be strictly ascending ({earlier} then {later})")
    for name, indices in (("phase_starts", data.phase_starts), ("excluded", data.excluded)):
        for index in indices:
            if isinstance(index, bool) or int(index) != index or not 0 <= int(index) < size:
                raise ValueError(f"{name} holds zero-based indices 0..{size - 1}, got {index!r}")
    if data.target is not None and not math.isfinite(float(data.target)):
        raise ValueError("target must be a finite number")
    if data.baseline_points is not None and (
        isinstance(data.baseline_points, bool) or int(data.baseline_points) < 1
    ):
        raise ValueError("baseline_points must be a positive number of points")


# ---------------------------------------------------------------------------------------------
# Engine calls and the per-point model


@dataclass
class _Event:
    """A signal to put into words: where it is and what it is."""

    first: int  # index of its first point, for ordering
    sentence: str


@dataclass
class _Model:
    points: list[dict[str, Any]]
    events: list[_Event]
    notes: list[str]
    phase_trial: list[int]  # phase numbers (1-based) whose limits are trial limits
    variation_icon: str | None = None
    assurance_icon: str | None = None
    has_limits: bool = True


def _blank_point(day: datetime.date, period: str) -> dict[str, Any]:
    return {
        "period": day.isoformat(),
        "period_text": _period_text(day, period),
        "value": None,
        "cl": None,
        "lcl": None,
        "ucl": None,
        "phase": 1,
        "excluded": False,
        "baseline": True,
        "sigma_signal": None,
        "runs_signal": None,
        "special_cause_type": None,
        "point_type": None,
        "signal": None,
        "signal_label": "",
    }


def _side(value: float, line: float) -> int:
    """Which side of a line a value is on, 0 when on it (the engine's tolerance)."""
    if math.isclose(value, line, rel_tol=spc.ON_LINE_RTOL, abs_tol=0.0):
        return 0
    return 1 if value > line else -1


def _qi_model(data: ChartInput) -> _Model:
    size = len(data.values)
    period = data.period_label
    direction = spc.DIRECTIONS[data.direction]
    parts = sorted({int(i) for i in data.phase_starts if int(i) > 0})
    freeze = data.baseline_points
    if freeze is not None and freeze >= size:
        freeze = None  # a baseline of every point is no baseline
    engine = spc.compute_chart(
        data.chart,
        list(data.values),
        n=None if data.denominators is None else list(data.denominators),
        freeze=freeze,
        parts=parts or None,
        exclude=[int(i) for i in data.excluded],
        multiply=data.multiply,
    )
    centre = _centre_words(data, mdc=False)[0]
    points: list[dict[str, Any]] = []
    for day, result in zip(data.periods, engine, strict=True):
        point = _blank_point(day, period)
        point.update(
            value=result["y"],
            cl=result["cl"],
            lcl=result["lcl"],
            ucl=result["ucl"],
            phase=result["part"],
            excluded=not result["include"],
            baseline=result["baseline"],
            sigma_signal=result["sigma_signal"],
            runs_signal=result["runs_signal"],
        )
        points.append(point)

    events: list[_Event] = []
    # Points outside the limits, grouped by side (and so by improvement / concern).
    for sign, where in ((1, "above the upper limit"), (-1, "below the lower limit")):
        indices = [
            i
            for i, (p, r) in enumerate(zip(points, engine, strict=True))
            if r["sigma_signal"] and p["value"] is not None and _outside_sign(p) == sign
        ]
        if not indices:
            continue
        kind = _kind(sign, direction)
        for i in indices:
            _mark(points[i], kind, where)
        days = [data.periods[i] for i in indices]
        if len(indices) <= 3:
            detail = f"{_count(len(indices), 'point')} {where} in {_when_list(days, period)}"
        else:
            detail = (
                f"{len(indices)} points {where}, the first in {_when(days[0], period)} "
                f"and the latest in {_when(days[-1], period)}"
            )
        events.append(_Event(indices[0], f"{_KIND_WORDS[kind]}: {detail}."))

    # Anhøj runs signals, one per phase.
    notes: list[str] = []
    phase_trial: list[int] = []
    phases = sorted({p["phase"] for p in points})
    for phase in phases:
        members = [i for i, p in enumerate(points) if p["phase"] == phase]
        first = engine[members[0]]
        base = [
            i
            for i in members
            if points[i]["value"] is not None and engine[i]["baseline"] and engine[i]["include"]
        ]
        if len(base) < TRIAL_POINTS:
            phase_trial.append(phase)
        if not first["runs_signal"]:
            continue
        longest, longest_max = first["longest_run"], first["longest_run_max"]
        latest = phase == phases[-1]
        if longest is not None and longest_max is not None and longest > longest_max:
            events.append(_shift_event(data, points, members, longest, centre, direction, latest))
        else:
            days = [data.periods[members[0]], data.periods[members[-1]]]
            n_values = sum(1 for i in members if points[i]["value"] is not None)
            where = (
                f"from {_when(days[0], period)} to {_when(days[1], period)}"
                if len(phases) > 1
                else f"over {_count(n_values, period)}"
            )
            events.append(
                _Event(
                    members[0],
                    f"Special-cause variation {where}: too few crossings of the {centre} "
                    f"({first['n_crossings']}; at least {first['n_crossings_min']} expected "
                    f"for {first['n_useful']} points off the {centre}).",
                )
            )

    if data.baseline_points is not None and parts:
        notes.append(
            "The frozen baseline does not apply because the chart has phases: "
            "each phase has its own centre line and limits."
        )
    elif freeze is not None:
        run = data.chart == "run"
        lines = "median comes" if run else f"{centre} and limits come"
        notes.append(
            f"The {lines} from the first {_count(freeze, period)} (the baseline) "
            f"and {'is' if run else 'are'} extended to later points."
        )
    excluded = sorted({int(i) for i in data.excluded})
    if excluded:
        notes.append(
            f"{_capital(_count(len(excluded), 'point'))} "
            f"{'is' if len(excluded) == 1 else 'are'} excluded: shown, but kept off the "
            f"{centre}{'' if data.chart == 'run' else ', the limits'} and the runs analysis."
        )
    return _Model(points, events, notes, phase_trial, has_limits=data.chart != "run")


def _outside_sign(point: dict[str, Any]) -> int:
    value = point["value"]
    if point["ucl"] is not None and value > point["ucl"]:
        return 1
    if point["lcl"] is not None and value < point["lcl"]:
        return -1
    return 0


def _mark(point: dict[str, Any], kind: str, label: str) -> None:
    """Highlight a point; a point outside the limits keeps that label over a run's."""
    if point["signal"] is None:
        point["signal"] = kind
        words = {"improvement": "Improvement", "concern": "Concern", "neutral": "Special cause"}
        point["signal_label"] = f"{words[kind]}: {label}"


def _shift_event(
    data: ChartInput,
    points: list[dict[str, Any]],
    members: list[int],
    longest: int,
    centre: str,
    direction: int,
    latest_phase: bool,
) -> _Event:
    """Locate the longest run the engine reports (the latest one of that length)."""
    period = data.period_label
    useful = []
    for i in members:
        point = points[i]
        if point["excluded"] or point["value"] is None or point["cl"] is None:
            continue
        sign = _side(point["value"], point["cl"])
        if sign:
            useful.append((i, sign))
    runs: list[list[tuple[int, int]]] = []
    for item in useful:
        if runs and runs[-1][-1][1] == item[1]:
            runs[-1].append(item)
        else:
            runs.append([item])
    matching = [run for run in runs if len(run) == longest]
    if not matching:  # should not happen: the engine counted these same points
        return _Event(
            members[0],
            f"Special-cause variation: a shift of {longest} points in a row on one side "
            f"of the {centre}.",
        )
    run = matching[-1]
    sign = run[0][1]
    kind = _kind(sign, direction)
    side = f"{'above' if sign > 0 else 'below'} the {centre}"
    for i, _ in run:
        _mark(points[i], kind, f"part of a shift {side}")
    ongoing = latest_phase and run[-1][0] == useful[-1][0]
    days = [data.periods[run[0][0]], data.periods[run[-1][0]]]
    return _Event(
        run[0][0],
        f"{_KIND_WORDS[kind]} {_span(days, ongoing, period)}: "
        f"a shift of {longest} points in a row {side}.",
    )


def _mdc_model(data: ChartInput) -> _Model:
    size = len(data.values)
    period = data.period_label
    direction = spc.DIRECTIONS[data.direction]
    factor = float(data.multiply)
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"multiply must be a positive number, got {data.multiply!r}")
    y: list[float | None] = []
    for i, value in enumerate(data.values):
        denominator = None if data.denominators is None else data.denominators[i]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            y.append(None)
        elif data.denominators is None:
            y.append(float(value) * factor)
        elif denominator is None or math.isnan(float(denominator)) or float(denominator) == 0:
            y.append(None)
        else:
            y.append(float(value) / float(denominator) * factor)

    notes: list[str] = []
    fix = data.baseline_points
    if fix is not None and fix < MDC_MIN_BASELINE:
        notes.append(
            f"The baseline of {_count(fix, period)} is shorter than the {MDC_MIN_BASELINE} "
            "points Making Data Count needs, so the limits use every point."
        )
        fix = None
    elif fix is not None and fix >= size:
        fix = None
    elif fix is not None:
        notes.append(
            f"The mean and limits come from the first {_count(fix, period)} of each phase "
            "(the baseline) and are extended to later points."
        )
    if data.excluded:
        notes.append(
            "Making Data Count charts have no excluded points: every point is used for the "
            "mean and limits."
        )
    rule_length = 6 if data.profile == "mdc6" else 7
    result = spc.compute_mdc(
        y,
        data.direction,
        target=data.target,
        rebase=sorted({int(i) for i in data.phase_starts}),
        fix_after_n_points=fix,
        rule_length=rule_length,
    )
    points: list[dict[str, Any]] = []
    group_start = 0
    for i, (day, res) in enumerate(zip(data.periods, result.points, strict=True)):
        if i and res["rebase_group"] != result.points[i - 1]["rebase_group"]:
            group_start = i
        point = _blank_point(day, period)
        point.update(
            value=res["y"],
            cl=res["mean"],
            lcl=res["lpl"],
            ucl=res["upl"],
            phase=res["rebase_group"] + 1,
            baseline=fix is None or i - group_start < fix,
            special_cause_type=res["special_cause_type"],
            point_type=res["point_type"],
        )
        points.append(point)

    events = _mdc_events(data, points, direction, rule_length)
    phase_trial = sorted(
        {p["phase"] for p, r in zip(points, result.points, strict=True) if r["short_group_warning"]}
    )
    model = _Model(points, events, notes, phase_trial)
    model.variation_icon = result.variation_icon
    model.assurance_icon = result.assurance_icon
    return model


_POINT_KINDS = {
    "special_cause_improvement": ("improvement", 0),
    "special_cause_concern": ("concern", 0),
    "special_cause_neutral_high": ("neutral", 1),
    "special_cause_neutral_low": ("neutral", -1),
}


def _rule(label: str) -> str:
    if label in ("Above UCL", "Below LCL"):
        return "outside"
    if "Trend" in label:
        return "trend"
    if label.startswith("2 in 3"):
        return "two_in_three"
    return "shift"


def _label_sign(label: str) -> int:
    return 1 if ("Above" in label or "Increasing" in label) else -1


def _mdc_label(label: str, rule_length: int) -> str:
    sign = _label_sign(label)
    rule = _rule(label)
    if rule == "outside":
        return "above the upper limit" if sign > 0 else "below the lower limit"
    if rule == "trend":
        return f"part of a {rule_length}-point {'rising' if sign > 0 else 'falling'} trend"
    if rule == "two_in_three":
        return f"2 of 3 points near the {'upper' if sign > 0 else 'lower'} limit"
    return f"part of {rule_length} points in a row {'above' if sign > 0 else 'below'} the mean"


def _mdc_events(
    data: ChartInput, points: list[dict[str, Any]], direction: int, rule_length: int
) -> list[_Event]:
    """One sentence per stretch of consecutive special-cause points of one kind and side.

    Missing points are skipped (as by the rules). Two stretches of points near a limit that
    are one common-cause point apart belong to the same "2 of 3" pattern and are merged.
    """
    observed = [i for i, point in enumerate(points) if point["point_type"] is not None]
    stretches: list[list[int]] = []
    previous: tuple[int, str] | None = None  # (phase, point_type) of the last observed point
    for position, i in enumerate(observed):
        point = points[i]
        kind = point["point_type"]
        key = (point["phase"], kind)
        if kind in _POINT_KINDS:
            label = point["special_cause_type"]
            _mark(point, _POINT_KINDS[kind][0], _mdc_label(label, rule_length))
            gap_ok = (
                position >= 2
                and stretches
                and stretches[-1][-1] == observed[position - 2]
                and points[observed[position - 2]]["point_type"] == kind
                and points[observed[position - 2]]["phase"] == point["phase"]
                and _rule(label) == "two_in_three"
                and _rule(points[observed[position - 2]]["special_cause_type"]) == "two_in_three"
            )
            if previous == key or gap_ok:
                stretches[-1].append(i)
            else:
                stretches.append([i])
        previous = key

    last_observed = observed[-1] if observed else -1
    return [_mdc_event(data, points, stretch, direction, last_observed) for stretch in stretches]


def _mdc_event(
    data: ChartInput,
    points: list[dict[str, Any]],
    stretch: list[int],
    direction: int,
    last_observed: int,
) -> _Event:
    period = data.period_label
    labels = [points[i]["special_cause_type"] for i in stretch]
    rules = {_rule(label) for label in labels}
    kind, sign = _POINT_KINDS[points[stretch[0]]["point_type"]]
    if kind != "neutral":
        sign = direction if kind == "improvement" else -direction
    days = [data.periods[i] for i in stretch]
    n_outside = sum(1 for label in labels if _rule(label) == "outside")
    limit = "upper" if sign > 0 else "lower"
    where = f"{'above' if sign > 0 else 'below'} the {limit} limit"
    if rules == {"outside"}:
        if len(stretch) == 1:
            text = f"one point {where} in {_when(days[0], period)}"
        else:
            text = f"{len(stretch)} points {where}, {_span(days, False, period)}"
        return _Event(stretch[0], f"{_KIND_WORDS[kind]}: {text}.")
    one_side = all(
        points[i]["value"] is not None
        and points[i]["cl"] is not None
        and _side(points[i]["value"], points[i]["cl"]) == sign
        for i in stretch
    )
    if "shift" in rules and one_side:
        text = f"{len(stretch)} points in a row {'above' if sign > 0 else 'below'} the mean"
    elif rules <= {"trend", "outside"}:
        text = f"{len(stretch)} points in a row {'rising' if sign > 0 else 'falling'}"
    elif rules <= {"two_in_three", "outside"}:
        text = f"{_count(len(stretch), 'point')} near the {limit} limit (2 of 3 in a row)"
        if n_outside:
            text = f"{_count(len(stretch), 'point')} near or beyond the {limit} limit"
        n_outside = 0
    else:  # a mix of rules, e.g. a trend running into a shift
        names = {
            "trend": "rising" if sign > 0 else "falling",
            "two_in_three": f"near the {limit} limit",
            "shift": f"{'above' if sign > 0 else 'below'} the mean",
        }
        found = [names[rule] for rule in ("trend", "two_in_three", "shift") if rule in rules]
        text = f"{len(stretch)} points in a row {' or '.join(found)}"
    if n_outside:
        text += f", {'one' if n_outside == 1 else n_outside} of them {where}"
    ongoing = stretch[-1] == last_observed and len(stretch) > 1
    return _Event(stretch[0], f"{_KIND_WORDS[kind]} {_span(days, ongoing, period)}: {text}.")


# ---------------------------------------------------------------------------------------------
# Assembly


def build_chart(data: ChartInput) -> ChartOutput:
    """Run the engine for ``data`` and describe the result in words and as a Vega-Lite spec."""
    _check(data)
    mdc = data.profile != "qi"
    model = _mdc_model(data) if mdc else _qi_model(data)
    points = model.points
    n_values = sum(1 for point in points if point["value"] is not None)
    phases = sorted({point["phase"] for point in points})
    trial = bool(points) and (n_values < TRIAL_POINTS or bool(model.phase_trial))
    chart_label = "XmR chart" if mdc else CHART_NAMES[data.chart]
    summary = _summary(data, model, n_values, phases, mdc)
    centre, limits = _centre_words(data, mdc)
    for point in points:
        _add_texts(point, data.unit, mdc)
    output = ChartOutput(
        title=data.title,
        profile=data.profile,
        profile_label=spc.PROFILES[data.profile],
        chart=data.chart,
        chart_label=chart_label,
        points=points,
        spec={},
        summary=summary,
        trial_limits=trial,
        n_points=len(points),
        n_values=n_values,
        n_phases=len(phases),
        unit=data.unit,
        period_label=data.period_label,
        variation_icon=model.variation_icon,
        variation_label=VARIATION_LABELS.get(model.variation_icon or ""),
        assurance_icon=model.assurance_icon,
        assurance_label=ASSURANCE_LABELS.get(model.assurance_icon or ""),
        has_limits=model.has_limits,
        centre_label=_capital(centre),
        limits_label=_capital(limits) if limits else "",
        lower_label="Lower process limit" if mdc else "Lower limit",
        upper_label="Upper process limit" if mdc else "Upper limit",
        notes=model.notes,
    )
    output.spec = _spec(data, output, mdc)
    return output


def _add_texts(point: dict[str, Any], unit: str, mdc: bool) -> None:
    """Display texts shared by the data table and the tooltips (so they always agree)."""
    for name in ("value", "cl", "lcl", "ucl"):
        value = point[name]
        point[f"{name}_text"] = "" if value is None else _number(value)
    note = point["signal_label"]
    if point["excluded"] and not mdc:
        note = f"{note}; excluded from the limits" if note else "Excluded from the limits"
    point["note"] = note


def _centre_words(data: ChartInput, mdc: bool) -> tuple[str, str]:
    """What the centre line and the limits are called on this chart."""
    if mdc:
        return "mean", "process limits"
    if data.chart == "run":
        return "median", ""
    return ("median" if data.chart == "g" else "centre line"), "limits"


def _summary(
    data: ChartInput, model: _Model, n_values: int, phases: list[int], mdc: bool
) -> list[str]:
    period = data.period_label
    points = model.points
    if n_values == 0:
        return [f"No values yet: there is nothing to chart for {data.title}."]
    sentences = [event.sentence for event in sorted(model.events, key=lambda e: e.first)]
    if not sentences:
        sentences.append(f"Common-cause variation only: no signals in {_count(n_values, period)}.")
    if mdc and data.target is not None:
        sentences.append(_assurance_sentence(data, model))

    centre, limits = _centre_words(data, mdc)
    has_limits = model.has_limits
    if n_values < TRIAL_POINTS:
        sentences.append(
            f"Fewer than {TRIAL_POINTS} points: the limits are trial limits."
            if has_limits
            else f"Fewer than {TRIAL_POINTS} points: the {centre} is provisional."
        )
    elif model.phase_trial:
        what = f"The {limits}" if has_limits else f"The {centre}"
        come = "come" if has_limits else "comes"
        verb = "they are trial limits" if has_limits else "it is provisional"
        if len(phases) == 1:
            sentences.append(f"{what} {come} from fewer than {TRIAL_POINTS} points: {verb}.")
        else:
            starts = [
                data.periods[next(i for i, p in enumerate(points) if p["phase"] == phase)]
                for phase in model.phase_trial
            ]
            plural = len(starts) > 1
            sentences.append(
                f"{what} of the phase{'s' if plural else ''} starting in "
                f"{_when_list(starts, period)} {come} from fewer than {TRIAL_POINTS} points: "
                f"{verb}."
            )
    if len(phases) > 1:
        latest = next(i for i, p in enumerate(points) if p["phase"] == phases[-1])
        own = f"{centre} and {limits}" if has_limits else centre
        sentences.append(
            f"The chart has {len(phases)} phases, each with its own {own}; the latest "
            f"started in {_when(data.periods[latest], period)}."
        )
    if not mdc and data.chart in ("p", "pp", "u", "up") and data.denominators is not None:
        sizes = {
            data.denominators[i] for i, point in enumerate(points) if point["value"] is not None
        }
        if len(sizes) > 1:
            sentences.append(
                f"The limits step with each {period}'s denominator: the bigger the "
                "denominator, the narrower the limits."
            )
    sentences.extend(model.notes)
    missing = len(points) - n_values
    if missing:
        sentences.append(
            f"{_capital(_count(missing, period))} {'has' if missing == 1 else 'have'} no "
            "value: shown as a gap, never as zero."
        )
    return sentences


def _assurance_sentence(data: ChartInput, model: _Model) -> str:
    target = f"The target of {_with_unit(data.target, data.unit)}"
    if data.direction == "neutral":
        return f"{target} cannot be assessed: the measure has no direction of improvement."
    last = next((p for p in reversed(model.points) if p["value"] is not None), None)
    if last is None or last["lcl"] is None or last["ucl"] is None:
        return f"{target} cannot be assessed: the process limits are not defined."
    icon = model.assurance_icon
    if icon == "inconsistent":
        return f"{target} lies between the process limits: it may or may not be met."
    above = data.target is not None and data.target > last["ucl"]
    place = "above the upper process limit" if above else "below the lower process limit"
    if icon == "consistent_pass":
        return f"{target} lies {place}: the process meets it consistently."
    return f"{target} lies {place}: the process will not meet it without a change."


# ---------------------------------------------------------------------------------------------
# Vega-Lite spec


def _iso_local(day: datetime.date) -> str:
    # A date-time without an offset is local time in JavaScript, so the axis shows the same
    # calendar day in every time zone (a bare date would be read as UTC midnight).
    return f"{day.isoformat()}T00:00:00"


def _shorten(text: str, limit: int = _ANNOTATION_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _x(period: str) -> dict[str, Any]:
    return {
        "field": "date",
        "type": "temporal",
        "title": None,
        "axis": {
            "format": "%-d %b %Y" if period == "week" else "%b %Y",
            "labelOverlap": "greedy",
            "labelAngle": 0,
            "grid": False,
            "tickCount": 6,
        },
    }


def _y(name: str, title: str) -> dict[str, Any]:
    return {
        "field": name,
        "type": "quantitative",
        "title": title,
        "scale": {"zero": False, "nice": True, "padding": 6},
    }


def _line(name: str, title: str, period: str, **mark: Any) -> dict[str, Any]:
    return {
        "mark": {
            "type": "line",
            "interpolate": "step",
            "invalid": "break-paths-show-domains",
            **mark,
        },
        "encoding": {
            "x": _x(period),
            "y": _y(name, title),
            "detail": {"field": "phase", "type": "nominal"},
        },
    }


def _labels(text: dict[str, Any], x: dict[str, Any], y: dict[str, Any]) -> list[dict[str, Any]]:
    """A text layer drawn twice: a white outline first, so the label stays readable over lines."""
    encoding = {"x": x, "y": y, "text": {"field": "label", "type": "nominal"}}
    halo = {**text, "color": "#ffffff", "stroke": "#ffffff", "strokeWidth": 4, "opacity": 0.9}
    return [
        {"mark": {"type": "text", **halo}, "encoding": encoding},
        {"mark": {"type": "text", **text}, "encoding": encoding},
    ]


def _target_layer(target: float, unit: str, y_title: str) -> dict[str, Any]:
    label = f"Target: {_with_unit(target, unit)}"
    return {
        "data": {"values": [{"target": float(target), "label": label}]},
        "layer": [
            {
                "mark": {
                    "type": "rule",
                    "color": COLOURS["target"],
                    "strokeWidth": 1.6,
                    "strokeDash": [8, 3, 2, 3],
                },
                "encoding": {
                    "y": _y("target", y_title),
                    "tooltip": [{"field": "label", "type": "nominal", "title": "Target"}],
                },
            },
            *_labels(
                {
                    "color": COLOURS["target"],
                    "align": "right",
                    "baseline": "bottom",
                    "dy": -3,
                    "fontSize": 11,
                },
                x={"value": "width"},
                y=_y("target", y_title),
            ),
        ],
    }


def _annotation_layer(data: ChartInput) -> dict[str, Any]:
    """PDSA cycles and other notes: a dotted vertical rule with a short rotated label."""
    notes = [
        {
            "date": _iso_local(day),
            "label": _shorten(text),
            "text": " ".join(text.split()),
            "date_text": format_date(day),
        }
        for day, text in sorted(data.annotations, key=lambda item: item[0])
    ]
    x = _x(data.period_label)
    return {
        "data": {"values": notes},
        "layer": [
            {
                "mark": {
                    "type": "rule",
                    "color": COLOURS["annotation"],
                    "strokeWidth": 1.5,
                    "strokeDash": [2, 3],
                },
                "encoding": {
                    "x": x,
                    "tooltip": [
                        {"field": "date_text", "type": "nominal", "title": "Date"},
                        {"field": "text", "type": "nominal", "title": "Note"},
                    ],
                },
            },
            *_labels(
                {
                    "color": COLOURS["annotation"],
                    "angle": 270,
                    "align": "right",
                    "baseline": "bottom",
                    "dx": -4,
                    "dy": -3,
                    "fontSize": 11,
                },
                x=x,
                y={"value": 0},
            ),
        ],
    }


def _row(point: dict[str, Any], unit: str, mdc: bool) -> dict[str, Any]:
    """One data row of the spec: the numbers plus the texts the tooltip shows."""
    value = point["value"]
    lower, upper = _with_unit(point["lcl"], unit), _with_unit(point["ucl"], unit)
    return {
        "date": _iso_local(datetime.date.fromisoformat(point["period"])),
        "period_text": point["period_text"],
        "value": value,
        "cl": point["cl"],
        "lcl": point["lcl"],
        "ucl": point["ucl"],
        "phase": point["phase"],
        "excluded": bool(point["excluded"]) and not mdc,
        "signal": point["signal"],
        "category": None if value is None else _CATEGORIES[point["signal"] or "common"][0],
        "value_text": _with_unit(value, unit) or "no value",
        "cl_text": _with_unit(point["cl"], unit) or "none",
        "limits_text": f"{lower} to {upper}" if lower and upper else (lower or upper or "none"),
        "note": point["note"],
    }


def _points_layer(output: ChartOutput, y_title: str, centre: str, limits: str) -> dict[str, Any]:
    """The values as symbols: colour AND shape tell common cause from each kind of signal."""
    signals = {point["signal"] for point in output.points if point["value"] is not None}
    present = [key for key in _CATEGORIES if (None if key == "common" else key) in signals]
    present = present or ["common"]
    legend: dict[str, Any] | None = None
    if present != ["common"]:
        legend = {"orient": "bottom", "title": None, "direction": "horizontal"}
    domain = [_CATEGORIES[key][0] for key in present]
    period = output.period_label
    tooltip = [
        {"field": "period_text", "type": "nominal", "title": _capital(period)},
        {"field": "value_text", "type": "nominal", "title": "Value"},
        {"field": "cl_text", "type": "nominal", "title": _capital(centre)},
    ]
    if output.has_limits:
        tooltip.append({"field": "limits_text", "type": "nominal", "title": _capital(limits)})
    tooltip.append({"field": "note", "type": "nominal", "title": "Signal"})
    return {
        "mark": {"type": "point", "filled": True, "opacity": 1, "strokeWidth": 1},
        "encoding": {
            "x": _x(period),
            "y": _y("value", y_title),
            "color": {
                "field": "category",
                "type": "nominal",
                "scale": {"domain": domain, "range": [_CATEGORIES[k][1] for k in present]},
                "legend": legend,
            },
            "shape": {
                "field": "category",
                "type": "nominal",
                "scale": {"domain": domain, "range": [_CATEGORIES[k][2] for k in present]},
                "legend": legend,
            },
            "size": {"condition": {"test": "datum.signal != null", "value": 90}, "value": 40},
            "tooltip": tooltip,
        },
    }


def _spec(data: ChartInput, output: ChartOutput, mdc: bool) -> dict[str, Any]:
    period = data.period_label
    centre, limits = _centre_words(data, mdc)
    y_title = data.unit or "Value"
    rows = [_row(point, data.unit, mdc) for point in output.points]
    dashed = {"color": COLOURS["limit"], "strokeWidth": 1.2, "strokeDash": [6, 4]}

    layers = [
        _line(name, y_title, period, **dashed)
        for name in ("ucl", "lcl")
        if any(point[name] is not None for point in output.points)
    ]
    layers.append(_line("cl", y_title, period, color=COLOURS["centre"], strokeWidth=1.6))
    if data.target is not None:
        layers.append(_target_layer(data.target, data.unit, y_title))
    if data.annotations:
        layers.append(_annotation_layer(data))
    layers.append(
        {
            "mark": {
                "type": "line",
                "color": COLOURS["series"],
                "strokeWidth": 1.6,
                "invalid": "break-paths-show-domains",  # a missing value is a gap, not a zero
            },
            "encoding": {"x": _x(period), "y": _y("value", y_title)},
        }
    )
    if any(row["excluded"] for row in rows):
        layers.append(
            {
                "transform": [{"filter": {"field": "excluded", "equal": True}}],
                "mark": {
                    "type": "point",
                    "shape": "circle",
                    "filled": False,
                    "size": 240,
                    "strokeWidth": 1.5,
                    "color": COLOURS["excluded"],
                },
                "encoding": {"x": _x(period), "y": _y("value", y_title)},
            }
        )
    layers.append(_points_layer(output, y_title, centre, limits))

    # The page shows the title and rule profile as text (figcaption); the spec's own title is a
    # key to the lines, plus the same facts for a chart shown on its own.
    key = f"Solid line: {centre}"
    if output.has_limits:
        key += f"; dashed lines: {'trial ' if output.trial_limits else ''}{limits}"
    if data.target is not None:
        key += "; dash-dot line: target"
    if data.annotations:
        key += "; dotted lines: notes"
    if any(row["excluded"] for row in rows):
        key += "; circled: excluded"
    return {
        "$schema": _VEGA_LITE_SCHEMA,
        "description": output.description,
        "title": {"text": key, "subtitle": f"{output.chart_label} · {output.profile_label}"},
        "usermeta": {"title": data.title},
        "width": "container",
        "height": 260,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"values": rows},
        "layer": layers,
        "config": {
            "font": 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
            "view": {"stroke": None},
            "title": {
                "anchor": "start",
                "fontSize": 11,
                "fontWeight": "normal",
                "color": "#4b5563",
                "subtitleColor": "#4b5563",
                "subtitleFontSize": 11,
            },
            "axis": {
                "labelColor": "#1f2933",
                "titleColor": "#1f2933",
                "domainColor": "#6b7280",
                "tickColor": "#6b7280",
                "gridColor": "#e5e7eb",
                "labelFontSize": 11,
                "titleFontSize": 11,
            },
            "legend": {"labelColor": "#1f2933", "labelFontSize": 11, "symbolStrokeWidth": 1},
        },
    }
