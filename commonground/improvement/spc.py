"""Statistical process control (SPC) engine: run charts, control charts and Making Data Count.

Pure functions with no Django import, usable from views, tasks, the CLI and tests alike. The
arithmetic follows ``shared/docs/spc.md`` (the project's SPC spec), which pins it to two
open-source references; this module is an independent implementation of that text.

Two rule profiles, selectable per committee:

* **QI (Anhøj)**, :func:`compute_chart` — qicharts2 semantics: run, I, MR, P, P' (Laney), U,
  U', C, G and T charts with 3-sigma limits (I chart: CL ± 3·AMR/1.128), frozen baselines,
  phases, excluded points and the Anhøj runs rules (longest run, number of crossings).
* **NHS Making Data Count**, :func:`compute_mdc` — NHSRplotthedots semantics: XmR limits
  mean ± 2.66·AMR, the outside-limits / trend / two-in-three / shift rules with their
  precedence, rebasing, and the variation and assurance icons.

Conventions:

* Inputs are sequences in time order; ``None`` (or a float NaN) is a missing point. A missing
  point is never read as zero: it is left out of centre lines, limits and the runs analysis,
  it breaks moving ranges (both of its moving ranges are dropped) and it never signals.
* All indices in this API (``exclude``, ``rebase``) are **zero-based**. ``freeze`` and
  ``parts`` are point *counts*, as in qicharts2: ``freeze=24`` means "the first 24 points are
  the baseline", ``parts=[24]`` means "a new phase starts after the 24th point".
* Outputs are plain dicts / lists with ``None`` where a value is undefined, so they serialise
  to JSON directly.
* A value within a relative 1e-12 (:data:`ON_LINE_RTOL`) of a centre line or limit counts as
  on it. The references compare exactly; the tolerance only absorbs floating-point noise (a
  rate c/n against the pooled Σc/Σn), so that a constant series never signals.
* Deliberate difference from qicharts2 (Xbar/S only): an empty subgroup is missing and adds no
  degrees of freedom to the pooled standard deviation (qicharts2 counts it as -1).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "CHARTS",
    "DIRECTIONS",
    "PROFILES",
    "SUBGROUP_CHARTS",
    "MdcResult",
    "RunsResult",
    "anhoej_thresholds",
    "average_moving_range",
    "compute_chart",
    "compute_mdc",
    "compute_subgroup_chart",
    "part_of_run",
    "point_types",
    "runs_analysis",
    "shift_ends",
    "special_cause_types",
    "summarize_parts",
    "trend_ends",
    "two_in_three_windows",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
MaybeNumber = float | int | None

#: Chart types of :func:`compute_chart`.
CHARTS: tuple[str, ...] = ("run", "i", "mr", "p", "pp", "u", "up", "c", "g", "t")
#: Charts whose y is a count over a denominator ``n`` (required).
_NEEDS_N = frozenset({"p", "pp", "u", "up"})

#: Rule profiles and their labels, to be shown on every chart (spec section 8).
PROFILES: dict[str, str] = {
    "qi": "Anhøj (qicharts2)",
    "mdc": "MDC 7-point",
    "mdc6": "MDC 6-point",
}

#: Improvement directions of :func:`compute_mdc` and their sign.
DIRECTIONS: dict[str, int] = {"increase": 1, "decrease": -1, "neutral": 0}

D2 = 1.128  # d2 for moving ranges of two: sigma = AMR / d2
D4 = 3.267  # D4 for moving ranges of two: MR upper limit, and the screening limit
MDC_LIMIT = 2.66  # MDC: process limits mean ± 2.66·AMR (not 3/1.128, see spec section 4)
MDC_NEAR = 2 * MDC_LIMIT / 3  # MDC: "close to the limits" beyond mean ± 1.77333·AMR
T_POWER = 3.6  # T chart: y^(1/3.6) is roughly normal for Weibull-distributed times
SHORT_GROUP = 13  # MDC: a rebase group with fewer points has trial limits
MIN_FIX_AFTER = 12  # MDC: fix_after_n_points must be at least 12


# ---------------------------------------------------------------------------------------------
# Small numeric helpers


def _to_array(values: Sequence[MaybeNumber], name: str) -> FloatArray:
    """Floats with NaN for missing values; rejects strings and infinities."""
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        if value is None:
            out[i] = np.nan
            continue
        if isinstance(value, str | bytes):
            raise TypeError(f"{name}[{i}] is a string ({value!r}); convert it to a number first")
        number = float(value)
        if math.isinf(number):
            raise ValueError(f"{name}[{i}] is infinite")
        out[i] = number
    return out


def _present(values: FloatArray) -> FloatArray:
    return values[~np.isnan(values)]


def _mean(values: FloatArray) -> float:
    """Mean of the non-missing values, NaN when there are none.

    A constant series returns its value exactly (a floating-point sum could land one ulp off
    and put every point on one side of the centre line); otherwise the sum is correctly
    rounded (``math.fsum``).
    """
    values = _present(values)
    if values.size == 0:
        return math.nan
    first = float(values[0])
    if bool(np.all(values == first)):
        return first
    return math.fsum(values.tolist()) / values.size


def _median(values: FloatArray) -> float:
    values = _present(values)
    if values.size == 0:
        return math.nan
    return float(np.median(values))


def _ratio_of_sums(numerator: FloatArray, denominator: FloatArray) -> float:
    keep = ~(np.isnan(numerator) | np.isnan(denominator))
    total = math.fsum(denominator[keep].tolist())
    if total == 0:
        return math.nan
    return math.fsum(numerator[keep].tolist()) / total


def average_moving_range(values: FloatArray, screened: bool) -> float:
    """Average moving range of consecutive values, NaN when there is none.

    A missing value is not skipped: both moving ranges that touch it are missing and dropped.
    With ``screened`` (Nelson 1982), moving ranges not strictly below ``3.267·AMR`` are dropped
    and the average is taken once more. A constant series then has no moving range left and
    the result is NaN, as in both reference packages.
    """
    ranges = np.abs(np.diff(values))
    ranges = ranges[~np.isnan(ranges)]
    amr = _mean(ranges)
    if screened and not math.isnan(amr):
        amr = _mean(ranges[ranges < D4 * amr])
    return amr


def _none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else value


#: Points within this relative distance of a line count as on it. Values that are equal
#: mathematically can differ in the last bits once computed (a rate c/n against the pooled
#: Σc/Σn), which would otherwise put every point of a constant series on one side.
ON_LINE_RTOL = 1e-12


def _side(values: FloatArray, line: FloatArray | float) -> FloatArray:
    """sign(values - line) with NaN kept and floating-point noise read as 0 (on the line)."""
    with np.errstate(invalid="ignore"):
        difference = values - line
        side = np.sign(difference)
        noise = np.abs(difference) <= ON_LINE_RTOL * np.maximum(np.abs(values), np.abs(line))
    side[noise] = 0.0
    return side


# ---------------------------------------------------------------------------------------------
# Anhøj runs analysis


@dataclass(frozen=True)
class RunsResult:
    """Anhøj runs analysis of one phase; figures are None when no point is useful."""

    n_useful: int
    longest_run: int | None
    longest_run_max: int | None
    n_crossings: int | None
    n_crossings_min: int | None
    signal: bool


_EXACT_BINOMIAL_LIMIT = 20_000


@lru_cache(maxsize=2048)
def _binomial_half_quantile_05(trials: int) -> int:
    """qbinom(0.05, trials, 0.5): the smallest k with P(Binomial(trials, 1/2) <= k) >= 0.05."""
    if trials <= 0:
        return 0
    if trials <= _EXACT_BINOMIAL_LIMIT:
        # Exact: P(X <= k) >= 1/20  <=>  20 * sum_{i<=k} C(trials, i) >= 2**trials.
        # Equality is impossible (5 does not divide a power of two), so no rounding question.
        target = 1 << trials
        term = 1
        cumulative = 0
        for k in range(trials + 1):
            cumulative += term
            if 20 * cumulative >= target:
                return k
            term = term * (trials - k) // (k + 1)
        return trials
    return _binomial_half_quantile_05_float(trials)


def _binomial_half_quantile_05_float(trials: int) -> int:
    """As above for very long series, in floating point from ten standard deviations below the
    mean (the probability mass below that is under 1e-23)."""
    k = max(0, int(trials / 2 - 5 * math.sqrt(trials)))
    log_probability = (
        math.lgamma(trials + 1) - math.lgamma(k + 1) - math.lgamma(trials - k + 1)
    ) - trials * math.log(2)
    probability = math.exp(log_probability)
    cumulative = probability
    while cumulative < 0.05:
        probability *= (trials - k) / (k + 1)
        k += 1
        cumulative += probability
    return k


def anhoej_thresholds(n_useful: int) -> tuple[int | None, int | None]:
    """Anhøj critical values ``(longest_run_max, n_crossings_min)`` for ``n_useful`` points.

    ``longest_run_max = round(log2(n)) + 3`` (Schilling 2012) and
    ``n_crossings_min = qbinom(0.05, n - 1, 0.5)`` (Chen 2010); both None when n is 0.
    """
    if n_useful <= 0:
        return None, None
    # log2(n) is never exactly k + 0.5 for an integer n, so rounding mode does not matter.
    return round(math.log2(n_useful)) + 3, _binomial_half_quantile_05(n_useful - 1)


def runs_analysis(
    y: Sequence[MaybeNumber] | FloatArray, cl: Sequence[MaybeNumber] | FloatArray
) -> RunsResult:
    """Anhøj runs analysis of ``y`` against the centre line ``cl`` (point by point).

    Points that are missing or exactly on the centre line are not useful and are skipped.
    """
    y_arr = np.asarray(y if isinstance(y, np.ndarray) else _to_array(list(y), "y"), dtype=float)
    cl_arr = np.asarray(
        cl if isinstance(cl, np.ndarray) else _to_array(list(cl), "cl"), dtype=float
    )
    signs = _side(y_arr, cl_arr)
    signs = signs[~np.isnan(signs) & (signs != 0)]
    useful = int(signs.size)
    if useful == 0:
        return RunsResult(0, None, None, None, None, False)
    changes = np.flatnonzero(signs[1:] != signs[:-1]) + 1
    crossings = int(changes.size)
    run_lengths = np.diff(np.concatenate(([0], changes, [useful])))
    longest = int(run_lengths.max())
    longest_max = round(math.log2(useful)) + 3
    crossings_min = _binomial_half_quantile_05(useful - 1)
    signal = longest > longest_max or crossings < crossings_min
    return RunsResult(useful, longest, longest_max, crossings, crossings_min, signal)


# ---------------------------------------------------------------------------------------------
# Control charts (QI profile, qicharts2 semantics)


@dataclass
class _Limits:
    """One phase of a chart, on the evaluation scale (y^(1/3.6) for T charts)."""

    y: FloatArray  # plotted value on the evaluation scale (moving ranges for MR charts)
    cl: FloatArray
    lcl: FloatArray
    ucl: FloatArray
    lcl95: FloatArray
    ucl95: FloatArray


def _constant(value: float, size: int) -> FloatArray:
    return np.full(size, value, dtype=np.float64)


def _symmetric(cl: FloatArray, sigma: FloatArray | float, y: FloatArray) -> _Limits:
    return _Limits(y, cl, cl - 3 * sigma, cl + 3 * sigma, cl - 2 * sigma, cl + 2 * sigma)


def _clamp(limits: _Limits, lower: float | None, upper: float | None) -> _Limits:
    # np.maximum / np.minimum keep NaN, so undefined limits stay undefined.
    if lower is not None:
        limits.lcl = np.maximum(limits.lcl, lower)
        limits.lcl95 = np.maximum(limits.lcl95, lower)
    if upper is not None:
        limits.ucl = np.minimum(limits.ucl, upper)
        limits.ucl95 = np.minimum(limits.ucl95, upper)
    return limits


def _limits_run(value: FloatArray, base: BoolArray) -> _Limits:
    nan = _constant(math.nan, value.size)
    return _Limits(value, _constant(_median(value[base]), value.size), nan, nan, nan, nan)


def _limits_i(value: FloatArray, base: BoolArray, screened: bool) -> _Limits:
    cl = _mean(value[base])
    sigma = average_moving_range(value[base], screened) / D2
    return _symmetric(_constant(cl, value.size), sigma, value)


def _limits_mr(value: FloatArray, base: BoolArray) -> _Limits:
    ranges = np.concatenate(([math.nan], np.abs(np.diff(value))))
    cl = _mean(ranges[base])
    size = value.size
    zero = _constant(0.0, size)
    return _Limits(
        ranges, _constant(cl, size), zero, _constant(D4 * cl, size), zero.copy(),
        _constant(D4 / 3 * 2 * cl, size),
    )  # fmt: skip


def _limits_proportion(
    chart: str, value: FloatArray, count: FloatArray, n: FloatArray, base: BoolArray,
    screened: bool,
) -> _Limits:  # fmt: skip
    cl = _ratio_of_sums(count[base], n[base])
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt((cl * (1 - cl) if chart in ("p", "pp") else cl) / n)
        if chart in ("pp", "up"):
            # Laney: scale by the moving-range sigma of the standardised values z_i.
            # Rates equal to the centre line up to rounding noise have z = 0 exactly.
            on_line = _side(value[base], cl) == 0
            z = np.where(on_line, 0.0, value[base] - cl) / sigma[base]
            sigma = sigma * (average_moving_range(z, screened) / D2)
    limits = _symmetric(_constant(cl, value.size), sigma, value)
    return _clamp(limits, 0.0, 1.0 if chart in ("p", "pp") else None)


def _limits_c(value: FloatArray, base: BoolArray) -> _Limits:
    cl = _mean(value[base])
    sigma = math.sqrt(cl) if cl >= 0 else math.nan
    return _clamp(_symmetric(_constant(cl, value.size), sigma, value), 0.0, None)


def _limits_g(value: FloatArray, base: BoolArray) -> _Limits:
    mean = _mean(value[base])
    sigma = math.sqrt(mean * (mean + 1)) if mean >= 0 else math.nan
    limits = _clamp(_symmetric(_constant(mean, value.size), sigma, value), 0.0, None)
    # Limits from the mean of the (geometric) counts; the displayed centre line is the median.
    limits.cl = _constant(_median(value[base]), value.size)
    return limits


def _phase_limits(
    chart: str, value: FloatArray, count: FloatArray, n: FloatArray | None, base: BoolArray,
    screened: bool,
) -> _Limits:  # fmt: skip
    if chart == "run":
        return _limits_run(value, base)
    if chart in ("i", "t"):  # the T chart's value is already on the y^(1/3.6) scale
        return _limits_i(value, base, screened)
    if chart == "mr":
        return _limits_mr(value, base)
    if chart in _NEEDS_N and n is not None:  # compute_chart insists on n for these
        return _limits_proportion(chart, value, count, n, base, screened)
    if chart == "c":
        return _limits_c(value, base)
    return _limits_g(value, base)


def _phase_ids(size: int, parts: Iterable[int]) -> IntArray:
    """0-based phase number per point; a part k starts a new phase after the k-th point."""
    cuts = sorted({int(k) for k in parts if 0 < int(k) < size})
    phase = np.zeros(size, dtype=np.int64)
    for cut in cuts:
        phase[cut:] += 1
    return phase


def _normalise_parts(parts: Sequence[int] | int | None) -> list[int]:
    if parts is None:
        return []
    if isinstance(parts, int):
        return [parts]
    out = []
    for k in parts:
        if isinstance(k, bool) or int(k) != k:
            raise ValueError(f"parts must be whole point counts, got {k!r}")
        if k < 0:
            raise ValueError(f"parts must not be negative, got {k!r}")
        out.append(int(k))
    return out


def _normalise_indices(indices: Iterable[int], size: int, name: str) -> set[int]:
    out = set()
    for index in indices:
        if isinstance(index, bool) or int(index) != index:
            raise ValueError(f"{name} holds zero-based point indices, got {index!r}")
        if not 0 <= int(index) < size:
            raise ValueError(f"{name} index {index} is outside 0..{size - 1}")
        out.add(int(index))
    return out


def compute_chart(
    chart: str,
    y: Sequence[MaybeNumber],
    n: Sequence[MaybeNumber] | None = None,
    freeze: int | None = None,
    parts: Sequence[int] | int | None = None,
    exclude: Iterable[int] = (),
    multiply: float = 1,
    screened_mr: bool = True,
) -> list[dict[str, Any]]:
    """Centre line, limits and Anhøj/sigma signals for each point of a run or control chart.

    ``chart`` is one of :data:`CHARTS`. ``y`` holds the values (counts for P, P', U, U', C);
    ``n`` the denominators, required for P, P', U, U', optional for run, I, MR, G, T (which
    then chart ``y/n``) and refused for C. ``None`` in ``y`` or ``n`` is a missing point: both
    are then treated as missing (never as zero).

    ``freeze`` is the number of points in the baseline: centre line and limits come from
    them and extend to every later point. ``parts`` are the point counts after which a new
    phase starts; each phase has its own centre line, limits and runs analysis. As in
    qicharts2, ``freeze`` is ignored when ``parts`` are given. ``exclude`` holds zero-based
    indices of points kept off the centre line, the limits and the runs analysis; they are
    still plotted and still get a sigma signal. ``multiply`` scales y, the centre line and the
    limits after all calculations and never changes a signal. ``screened_mr`` drops moving
    ranges of 3.267·AMR or more before computing the I (and T, P', U') chart sigma.

    Returns one dict per point with ``y`` (the plotted value: ``y/n`` where there is a
    denominator, the moving range for MR charts; times ``multiply``), ``cl``, ``lcl``,
    ``ucl``, ``lcl95``, ``ucl95`` (2-sigma limits), ``sigma_signal``, ``runs_signal``,
    ``n_obs``, ``n_useful``, ``longest_run``, ``longest_run_max``, ``n_crossings``,
    ``n_crossings_min``, ``part`` (1-based phase number), ``baseline`` and ``include``;
    undefined values are None. The runs figures belong to the whole phase. MR charts carry
    the runs figures but never a runs signal.
    """
    if chart not in CHARTS:
        raise ValueError(f"unknown chart {chart!r}; expected one of {', '.join(CHARTS)}")
    size = len(y)
    count = _to_array(y, "y")
    denominator: FloatArray | None = None
    if n is not None:
        if chart == "c":
            raise ValueError("a C chart takes no denominator: use a U chart for rates")
        if len(n) != size:
            raise ValueError(f"y has {size} points but n has {len(n)}")
        denominator = _to_array(n, "n")
        if bool(np.any(denominator < 0)):
            raise ValueError("denominators must not be negative")
        # A missing y or n makes the whole point missing; a zero denominator gives no rate.
        missing = np.isnan(count) | np.isnan(denominator) | (denominator == 0)
        count[missing] = np.nan
        denominator[missing] = np.nan
    elif chart in _NEEDS_N:
        raise ValueError(f"a {chart.upper()} chart needs denominators n")
    if chart == "t" and bool(np.any(count <= 0)):
        raise ValueError("a T chart needs times between events greater than zero")

    with np.errstate(divide="ignore", invalid="ignore"):
        value = count / denominator if denominator is not None else count.copy()
    evaluated = value ** (1 / T_POWER) if chart == "t" else value

    def phase_limits(part: slice, base: BoolArray) -> _Limits:
        return _phase_limits(
            chart,
            evaluated[part],
            count[part],
            denominator[part] if denominator is not None else None,
            base,
            screened_mr,
        )

    return _assemble(
        chart,
        size,
        phase_limits,
        freeze=freeze,
        parts=parts,
        exclude=exclude,
        multiply=multiply,
        display_y=value if chart == "t" else None,
    )


#: Subgroup chart types of :func:`compute_subgroup_chart` (optional in the spec).
SUBGROUP_CHARTS: tuple[str, ...] = ("xbar", "s")


def _c4(size: FloatArray) -> FloatArray:
    """Bias correction c4(n) of the sample standard deviation; NaN for n <= 1."""
    out = np.full(size.shape, np.nan)
    for i, n in enumerate(size):
        if n > 1:
            out[i] = math.sqrt(2 / (n - 1)) * math.exp(
                math.lgamma(n / 2) - math.lgamma((n - 1) / 2)
            )
    return out


def _subgroup_limits(
    chart: str, means: FloatArray, sds: FloatArray, sizes: FloatArray, base: BoolArray
) -> _Limits:
    """Xbar or S chart of one phase (Montgomery 6.29-6.31, c4 from the gamma function)."""
    present = sizes > 0
    varying = np.unique(sizes[present]).size > 1
    b_sizes, b_sds = sizes[base & present], sds[base & present]
    if varying:
        # Pooled: sqrt(sum((n_i - 1) s_i^2) / sum(n_i - 1)) over subgroups with observations;
        # a subgroup of one observation adds nothing, an empty one is missing (not n_i = 0).
        weights = b_sizes - 1
        degrees = math.fsum(weights.tolist())
        pooled = math.fsum((weights[weights > 0] * b_sds[weights > 0] ** 2).tolist())
        sigma = math.sqrt(pooled / degrees) if degrees > 0 else math.nan
    else:
        sigma = _mean(b_sds)
    c4 = _c4(sizes)
    size = means.size
    with np.errstate(divide="ignore", invalid="ignore"):
        if chart == "xbar":
            weights = sizes[base & present]
            cl = math.fsum((weights * means[base & present]).tolist()) / math.fsum(weights.tolist())
            a3 = 3 / (c4 * np.sqrt(sizes))
            centre = _constant(cl, size)
            return _Limits(
                means, centre, centre - a3 * sigma, centre + a3 * sigma,
                centre - 2 / 3 * a3 * sigma, centre + 2 / 3 * a3 * sigma,
            )  # fmt: skip
        spread = np.sqrt(1 - c4**2) / c4  # c5 / c4
        centre = _constant(sigma, size)
        return _Limits(
            sds, centre, np.maximum(0, 1 - 3 * spread) * sigma, (1 + 3 * spread) * sigma,
            np.maximum(0, 1 - 2 * spread) * sigma, (1 + 2 * spread) * sigma,
        )  # fmt: skip


def compute_subgroup_chart(
    chart: str,
    subgroups: Sequence[Sequence[MaybeNumber]],
    freeze: int | None = None,
    parts: Sequence[int] | int | None = None,
    exclude: Iterable[int] = (),
    multiply: float = 1,
) -> list[dict[str, Any]]:
    """Xbar or S chart of subgroups of raw observations (``chart`` is ``xbar`` or ``s``).

    ``subgroups`` holds one sequence of observations per point, in time order; ``None`` is a
    missing observation, and a subgroup with none left is a missing point. Centre line and
    sigma come from the baseline, included subgroups: the size-weighted grand mean, and the
    mean of the subgroup standard deviations (constant size) or their pooled value (varying
    size). Limits use A3 (Xbar) or B3/B4 (S) for each subgroup's own size. ``freeze``,
    ``parts``, ``exclude`` and ``multiply`` and the returned dicts are as for
    :func:`compute_chart` (``y`` is the subgroup mean or standard deviation).
    """
    if chart not in SUBGROUP_CHARTS:
        raise ValueError(f"unknown chart {chart!r}; expected one of {', '.join(SUBGROUP_CHARTS)}")
    count = len(subgroups)
    means = np.full(count, np.nan)
    sds = np.full(count, np.nan)
    sizes = np.zeros(count)
    for i, group in enumerate(subgroups):
        values = _present(_to_array(list(group), f"subgroups[{i}]"))
        sizes[i] = values.size
        if values.size:
            means[i] = _mean(values)
        if values.size > 1:
            sds[i] = float(np.std(values, ddof=1))

    def phase_limits(part: slice, base: BoolArray) -> _Limits:
        return _subgroup_limits(chart, means[part], sds[part], sizes[part], base)

    return _assemble(
        chart,
        count,
        phase_limits,
        freeze=freeze,
        parts=parts,
        exclude=exclude,
        multiply=multiply,
        display_y=None,
    )


_LIMIT_NAMES = ("y", "cl", "lcl", "ucl", "lcl95", "ucl95")


def _assemble(
    chart: str,
    size: int,
    phase_limits: Callable[[slice, BoolArray], _Limits],
    *,
    freeze: int | None,
    parts: Sequence[int] | int | None,
    exclude: Iterable[int],
    multiply: float,
    display_y: FloatArray | None,
) -> list[dict[str, Any]]:
    """Phases, baseline, exclusions, runs analysis, sigma signals and output, for any chart."""
    if freeze is not None and (isinstance(freeze, bool) or int(freeze) != freeze or freeze < 1):
        raise ValueError(f"freeze is a number of baseline points (>= 1), got {freeze!r}")
    if not (isinstance(multiply, int | float) and math.isfinite(multiply) and multiply > 0):
        raise ValueError(f"multiply must be a positive number, got {multiply!r}")
    part_list = _normalise_parts(parts)
    excluded = _normalise_indices(exclude, size, "exclude")
    phase = _phase_ids(size, part_list)
    include = np.ones(size, dtype=bool)
    include[list(excluded)] = False
    baseline = np.ones(size, dtype=bool)
    if freeze is not None and not part_list:
        baseline[int(freeze) :] = False
    base = baseline & include

    columns = {name: np.full(size, np.nan) for name in _LIMIT_NAMES}
    runs_by_point: list[RunsResult] = [RunsResult(0, None, None, None, None, False)] * size
    n_obs = np.zeros(size, dtype=np.int64)
    for p in range(int(phase.max()) + 1 if size else 0):
        rows = np.flatnonzero(phase == p)
        part = slice(int(rows[0]), int(rows[-1]) + 1)
        limits = phase_limits(part, base[part])
        for name in _LIMIT_NAMES:
            columns[name][part] = getattr(limits, name)
        keep = include[part]
        runs = runs_analysis(limits.y[keep], limits.cl[keep])
        if chart == "mr":
            runs = replace(runs, signal=False)
        runs_by_point[part] = [runs] * (part.stop - part.start)
        n_obs[part] = int(keep.sum())

    sigma_signal = (_side(columns["y"], columns["ucl"]) > 0) | (
        _side(columns["y"], columns["lcl"]) < 0
    )

    display = columns
    if chart == "t":
        display = {name: _from_t_scale(name, columns[name]) for name in _LIMIT_NAMES}
    if display_y is not None:
        display["y"] = display_y
    factor = float(multiply)
    points: list[dict[str, Any]] = []
    for i in range(size):
        runs = runs_by_point[i]
        point: dict[str, Any] = {
            name: _none_if_nan(float(display[name][i]) * factor) for name in _LIMIT_NAMES
        }
        point.update(
            sigma_signal=bool(sigma_signal[i]),
            runs_signal=runs.signal,
            n_obs=int(n_obs[i]),
            n_useful=runs.n_useful,
            longest_run=runs.longest_run,
            longest_run_max=runs.longest_run_max,
            n_crossings=runs.n_crossings,
            n_crossings_min=runs.n_crossings_min,
            part=int(phase[i]) + 1,
            baseline=bool(baseline[i]),
            include=bool(include[i]),
        )
        points.append(point)
    return points


def _from_t_scale(name: str, values: FloatArray) -> FloatArray:
    """Back-transform T-chart values; a negative lower limit becomes 0."""
    with np.errstate(invalid="ignore"):
        out = np.where(values < 0, np.nan, values) ** T_POWER
    if name in ("lcl", "lcl95"):
        out = np.where((values < 0) & ~np.isnan(values), 0.0, out)
    return out


def summarize_parts(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per phase, like qicharts2 ``summary.qic()``.

    ``lcl``/``cl``/``ucl`` are means of the per-point values (missing ones left out; with a
    denominator the limits vary per point), ``runs_signal`` is the phase's flag and
    ``sigma_signal`` the number of points with a sigma signal.
    """
    rows: list[dict[str, Any]] = []
    for part in sorted({point["part"] for point in points}):
        members = [point for point in points if point["part"] == part]
        first = members[0]

        def average(key: str, members: list[dict[str, Any]] = members) -> float | None:
            values = [point[key] for point in members if point[key] is not None]
            return math.fsum(values) / len(values) if values else None

        rows.append(
            {
                "part": part,
                "n_obs": first["n_obs"],
                "n_useful": first["n_useful"],
                "longest_run": first["longest_run"],
                "longest_run_max": first["longest_run_max"],
                "n_crossings": first["n_crossings"],
                "n_crossings_min": first["n_crossings_min"],
                "runs_signal": any(point["runs_signal"] for point in members),
                "lcl": average("lcl"),
                "cl": average("cl"),
                "ucl": average("ucl"),
                "sigma_signal": sum(1 for point in members if point["sigma_signal"]),
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Making Data Count rules (NHSRplotthedots semantics)


def _sliding_all(flags: BoolArray, width: int) -> BoolArray:
    """out[i] = flags[i - width + 1 .. i] are all true (False for the first width - 1)."""
    size = flags.size
    out = np.zeros(size, dtype=bool)
    if width <= 0 or size < width:
        return out
    sums = np.concatenate(([0], np.cumsum(flags.astype(np.int64))))
    out[width - 1 :] = (sums[width:] - sums[:-width]) == width
    return out


def shift_ends(relative_to_mean: Sequence[int] | IntArray, length: int = 7) -> IntArray:
    """1 where a point ends a shift: it and the ``length - 1`` before it share a side."""
    rtm = np.asarray(relative_to_mean, dtype=np.int64)
    ends = _sliding_all(rtm == 1, length) | _sliding_all(rtm == -1, length)
    return ends.astype(np.int64)


def trend_ends(y: Sequence[float] | FloatArray, length: int = 7) -> IntArray:
    """+1 / -1 where a point ends a rising / falling run of ``length`` points, else 0.

    Every one of the ``length - 1`` steps must go the same way; a tie breaks the trend.
    """
    values = np.asarray(y, dtype=np.float64)
    out = np.zeros(values.size, dtype=np.int64)
    if values.size < length or length < 2:
        return out
    steps = _side(values[1:], values[:-1])
    up = _sliding_all(steps == 1, length - 1)
    down = _sliding_all(steps == -1, length - 1)
    out[1:][up] = 1
    out[1:][down] = -1
    return out


def part_of_run(ends: Sequence[int] | IntArray, length: int = 7) -> IntArray:
    """1 on every point of a run of ``length`` points that ends at a non-zero ``ends``."""
    marks = np.asarray(ends, dtype=np.int64) != 0
    padded = np.concatenate((marks, np.zeros(length - 1, dtype=bool)))
    sums = np.concatenate(([0], np.cumsum(padded.astype(np.int64))))
    size = marks.size
    return ((sums[length : length + size] - sums[:size]) > 0).astype(np.int64)


def two_in_three_windows(
    close: Sequence[bool] | BoolArray, relative_to_mean: Sequence[int] | IntArray
) -> IntArray:
    """1 on every point of a qualifying window of three consecutive points.

    A window qualifies when at least two of its points are close to the limits and all three
    are strictly on the same side of the mean.
    """
    near = np.asarray(close, dtype=np.int64)
    rtm = np.asarray(relative_to_mean, dtype=np.int64)
    size = near.size
    out = np.zeros(size, dtype=np.int64)
    if size < 3:
        return out
    near_sum = near[:-2] + near[1:-1] + near[2:]
    side_sum = rtm[:-2] + rtm[1:-1] + rtm[2:]
    qualifies = (near_sum >= 2) & (np.abs(side_sum) == 3)
    for offset in range(3):
        out[offset : size - 2 + offset] |= qualifies
    return out


def special_cause_types(
    y: Sequence[float] | FloatArray,
    relative_to_mean: Sequence[int] | IntArray,
    close_to_limits: Sequence[bool] | BoolArray,
    outside_limits: Sequence[bool] | BoolArray,
    rule_length: int = 7,
) -> list[str]:
    """MDC label per point, by precedence: outside limits, trend, two in three, shift.

    The inputs describe one rebase group with no missing points.
    """
    values = np.asarray(y, dtype=np.float64)
    rtm = np.asarray(relative_to_mean, dtype=np.int64)
    close = np.asarray(close_to_limits, dtype=bool)
    outside = np.asarray(outside_limits, dtype=bool)
    size = values.size
    trend = part_of_run(trend_ends(values, rule_length), rule_length).astype(bool)
    two_in_three = two_in_three_windows(close, rtm).astype(bool) & close
    shift = part_of_run(shift_ends(rtm, rule_length), rule_length).astype(bool)

    steps = _side(values[1:], values[:-1])
    labels: list[str] = []
    for i in range(size):
        side = "Above" if rtm[i] > 0 else "Below"
        if outside[i]:
            labels.append("Above UCL" if rtm[i] == 1 else "Below LCL")
        elif trend[i]:
            # A point in a trend takes the direction of the step to the next point when that
            # one is in a trend too, otherwise the direction of the step that reached it.
            step = steps[i] if i + 1 < size and trend[i + 1] else (steps[i - 1] if i else 0)
            way = "Increasing" if step == 1 else "Decreasing"
            labels.append(f"{rule_length} Point Trend ({way})")
        elif two_in_three[i]:
            labels.append(f"2 in 3 {side} CL")
        elif shift[i]:
            labels.append(f"{rule_length} Points {side} CL")
        else:
            labels.append("Common Cause")
    return labels


def _label_sign(label: str) -> int:
    if "Above" in label or "Increasing" in label:
        return 1
    if "Below" in label or "Decreasing" in label:
        return -1
    return 0


def point_types(special_cause_type: Sequence[str], improvement_direction: int) -> list[str]:
    """``special_cause_improvement`` / ``_concern`` (or ``_neutral_high`` / ``_low``)."""
    out: list[str] = []
    for label in special_cause_type:
        sign = _label_sign(label)
        if improvement_direction == 0:
            kinds = {1: "special_cause_neutral_high", -1: "special_cause_neutral_low"}
        else:
            sign *= improvement_direction
            kinds = {1: "special_cause_improvement", -1: "special_cause_concern"}
        out.append(kinds.get(sign, "common_cause"))
    return out


@dataclass(frozen=True)
class MdcResult:
    """Result of :func:`compute_mdc`."""

    points: list[dict[str, Any]]
    variation_icon: str | None
    assurance_icon: str | None
    profile: str = field(default="mdc")

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "points": self.points,
            "variation_icon": self.variation_icon,
            "assurance_icon": self.assurance_icon,
        }


_VARIATION_ICONS = {
    ("special_cause_improvement", 1): "improvement_high",
    ("special_cause_improvement", -1): "improvement_low",
    ("special_cause_concern", 1): "concern_low",
    ("special_cause_concern", -1): "concern_high",
}


def _variation_icon(last_point_type: str | None, direction: int) -> str | None:
    if last_point_type is None:
        return None
    if last_point_type == "special_cause_neutral_high":
        return "neutral_high"
    if last_point_type == "special_cause_neutral_low":
        return "neutral_low"
    return _VARIATION_ICONS.get((last_point_type, direction), "common_cause")


def _assurance_icon(target: float | None, direction: int, lpl: float, upl: float) -> str | None:
    if target is None or direction == 0:
        return None
    if target > upl:
        return "consistent_fail" if direction == 1 else "consistent_pass"
    if target < lpl:
        return "consistent_pass" if direction == 1 else "consistent_fail"
    return "inconsistent"


def compute_mdc(
    y: Sequence[MaybeNumber],
    improvement_direction: str,
    target: float | None = None,
    rebase: Iterable[int] = (),
    fix_after_n_points: int | None = None,
    screen_outliers: bool = True,
    rule_length: int = 7,
) -> MdcResult:
    """Making Data Count XmR chart: limits, special-cause rules, variation and assurance icons.

    ``improvement_direction`` is ``increase``, ``decrease`` or ``neutral``. ``rebase`` holds
    zero-based indices of points that start a new group (each group has its own mean and
    limits; rules never cross a group boundary). ``fix_after_n_points`` (at least 12) computes
    each group's mean and limits from its first n points only. ``screen_outliers`` drops
    moving ranges of 3.267·AMR or more before the limits are computed. ``rule_length`` is the
    length of the trend and shift rules (7; 6 is the other common choice).

    Each point holds ``y``, ``mean``, ``lpl``, ``upl`` (mean ∓ 2.66·AMR), ``near_lpl``,
    ``near_upl`` (mean ∓ (2/3)·2.66·AMR), ``special_cause_type`` and ``point_type`` (the
    NHSRplotthedots labels), ``short_group_warning`` (the group has fewer than 13 points: trial
    limits) and ``rebase_group`` (0-based). Missing points get None labels and are skipped by
    the rules, which run over the remaining points of the group. The variation icon comes
    from the last non-missing point; the assurance icon compares ``target`` with the limits of
    the last group.
    """
    if improvement_direction not in DIRECTIONS:
        raise ValueError(
            f"improvement_direction must be one of {', '.join(DIRECTIONS)}, "
            f"got {improvement_direction!r}"
        )
    direction = DIRECTIONS[improvement_direction]
    if isinstance(rule_length, bool) or int(rule_length) != rule_length or rule_length < 3:
        raise ValueError(f"rule_length must be a whole number of at least 3, got {rule_length!r}")
    rule_length = int(rule_length)
    if fix_after_n_points is not None and (
        isinstance(fix_after_n_points, bool)
        or int(fix_after_n_points) != fix_after_n_points
        or fix_after_n_points < MIN_FIX_AFTER
    ):
        raise ValueError(f"fix_after_n_points must be at least {MIN_FIX_AFTER}")
    if target is not None and not math.isfinite(float(target)):
        raise ValueError("target must be a finite number")

    values = _to_array(y, "y")
    size = values.size
    starts = sorted(_normalise_indices(rebase, size, "rebase") | ({0} if size else set()))
    bounds = [*starts, size]

    points: list[dict[str, Any]] = []
    last_limits = (math.nan, math.nan)
    for group, (start, stop) in enumerate(itertools.pairwise(bounds)):
        segment = values[start:stop]
        fixed = segment if fix_after_n_points is None else segment[: int(fix_after_n_points)]
        mean = _mean(fixed)
        amr = average_moving_range(fixed, screen_outliers)
        lpl, upl = mean - MDC_LIMIT * amr, mean + MDC_LIMIT * amr
        near_lpl, near_upl = mean - MDC_NEAR * amr, mean + MDC_NEAR * amr
        last_limits = (lpl, upl)

        present = ~np.isnan(segment)
        observed = segment[present]
        outside = (_side(observed, upl) > 0) | (_side(observed, lpl) < 0)
        close = ~outside & ((_side(observed, near_lpl) < 0) | (_side(observed, near_upl) > 0))
        rtm = np.nan_to_num(_side(observed, mean)).astype(np.int64)
        labels = special_cause_types(observed, rtm, close, outside, rule_length)
        kinds = point_types(labels, direction)
        label_at: list[str | None] = [None] * segment.size
        kind_at: list[str | None] = [None] * segment.size
        for position, label, kind in zip(np.flatnonzero(present), labels, kinds, strict=True):
            label_at[position] = label
            kind_at[position] = kind
        short = bool(segment.size < SHORT_GROUP)
        points.extend(
            {
                "y": _none_if_nan(float(segment[offset])),
                "mean": _none_if_nan(mean),
                "lpl": _none_if_nan(lpl),
                "upl": _none_if_nan(upl),
                "near_lpl": _none_if_nan(near_lpl),
                "near_upl": _none_if_nan(near_upl),
                "special_cause_type": label_at[offset],
                "point_type": kind_at[offset],
                "short_group_warning": short,
                "rebase_group": group,
            }
            for offset in range(segment.size)
        )

    last_kind = next(
        (point["point_type"] for point in reversed(points) if point["point_type"] is not None),
        None,
    )
    return MdcResult(
        points=points,
        variation_icon=_variation_icon(last_kind, direction),
        assurance_icon=_assurance_icon(
            None if target is None else float(target), direction, *last_limits
        ),
        profile="mdc" if rule_length == 7 else f"mdc{rule_length}",
    )
