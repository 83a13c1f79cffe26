"""MH/SUD vs medical/surgical parity on the same access metric. No Django.

access-and-parity.md section 4.2: compute the same metric with the same code for both
cohorts over the same clinics and period, and report the MH - M/S difference and the MH / M/S
ratio with 95 % confidence intervals (Wilson intervals for each rate, Newcombe's hybrid score
interval for the difference, the log (Katz) interval for the ratio, a bootstrap interval for
the difference of median waits). "Potential material difference" uses the committee's
configurable thresholds, not the law's (no numeric legal threshold exists).

Counts pass through small-cell suppression before they leave: when any cell behind a
comparison (compliant or noncompliant count of either cohort) is 1-10, the comparison's
rates and intervals are suppressed too.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np

from . import suppression
from ._db import quote

Z95 = 1.959963984540054

PAIRS: tuple[tuple[str, str, str], ...] = (
    ("initial access, 10 business days", "initial_non_urgent_mh", "initial_primary_care"),
    ("physician specialist, 15 business days", "initial_psychiatry", "initial_specialist"),
)

CAVEATS = (
    "Scheduling data cannot see benefit-design limits (prior authorisation, utilisation "
    "management, reimbursement).",
    "Case mix and visit types differ between MH/SUD and medical cohorts.",
    "MH may be routed to group or telehealth visits.",
    "Request-date capture may differ between departments.",
    "Material-difference thresholds are the committee's settings, not the law's.",
)


def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for x successes out of n."""
    if n <= 0:
        raise ValueError("n must be positive")
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(
    x1: int, n1: int, x2: int, n2: int, z: float = Z95
) -> tuple[float, float, float]:
    """p1 - p2 with Newcombe's hybrid score interval (method 10, 1998)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    lower = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lower, upper


def ratio_interval(
    x1: int, n1: int, x2: int, n2: int, z: float = Z95
) -> tuple[float, float, float] | None:
    """p1 / p2 with the log (Katz) interval; 0.5 added to each cell when a count is 0."""
    a, b, c, d = float(x1), float(n1 - x1), float(x2), float(n2 - x2)
    if 0 in (a, c):
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    p1, p2 = a / (a + b), c / (c + d)
    if p2 == 0:
        return None
    r = p1 / p2
    se = math.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
    return r, math.exp(math.log(r) - z * se), math.exp(math.log(r) + z * se)


def median_from_counts(values: np.ndarray, counts: np.ndarray) -> float:
    """Median (midpoint of the two middle values when even) of values with counts."""
    n = int(counts.sum())
    cum = np.cumsum(counts)
    lo = values[np.searchsorted(cum, (n - 1) // 2 + 1)]
    hi = values[np.searchsorted(cum, n // 2 + 1)]
    return float(lo + hi) / 2.0


def bootstrap_median_difference(
    hist1: Sequence[tuple[int, int]],
    hist2: Sequence[tuple[int, int]],
    *,
    reps: int = 2000,
    seed: int = 20250101,
    z: float = Z95,
) -> tuple[float, float, float]:
    """Difference of medians (1 - 2) with a percentile bootstrap interval (from histograms)."""
    rng = np.random.default_rng(seed)
    out = []
    arrays = []
    for hist in (hist1, hist2):
        values = np.array([v for v, _ in sorted(hist)], dtype=float)
        counts = np.array([c for _, c in sorted(hist)], dtype=np.int64)
        arrays.append((values, counts))
    point = median_from_counts(*arrays[0]) - median_from_counts(*arrays[1])
    alpha = 1 - math.erf(z / math.sqrt(2))
    for values, counts in arrays:
        n = int(counts.sum())
        draws = rng.multinomial(n, counts / n, size=reps)
        cum = np.cumsum(draws, axis=1)
        lo_idx = np.argmax(cum >= (n - 1) // 2 + 1, axis=1)
        hi_idx = np.argmax(cum >= n // 2 + 1, axis=1)
        out.append((values[lo_idx] + values[hi_idx]) / 2.0)
    diffs = out[0] - out[1]
    low, high = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    return point, float(low), float(high)


@dataclass
class Cohort:
    metric: str
    compliant: int
    noncompliant: int
    waits: list[tuple[int, int]]  # (business days, units) with an observed offer

    @property
    def n(self) -> int:
        return self.compliant + self.noncompliant

    @property
    def median(self) -> float | None:
        if not self.waits:
            return None
        values = np.array([v for v, _ in sorted(self.waits)], dtype=float)
        counts = np.array([c for _, c in sorted(self.waits)], dtype=np.int64)
        return median_from_counts(values, counts)


@dataclass
class Comparison:
    label: str
    mh: Cohort
    ms: Cohort
    clinics: list[str]
    period: tuple[dt.date, dt.date] | None
    suppressed: bool
    difference: tuple[float, float, float] | None = None  # MH - M/S rate, CI
    ratio: tuple[float, float, float] | None = None  # MH / M/S rate, CI
    median_difference: tuple[float, float, float] | None = None  # business days, CI
    median_ratio: float | None = None
    material: bool | None = None
    material_reason: str = ""


@dataclass(frozen=True)
class Thresholds:
    """The committee's "potential material difference" settings (not legal thresholds)."""

    rate_points: float = 0.10
    median_ratio: float = 1.25


def compare(
    label: str,
    mh: Cohort,
    ms: Cohort,
    clinics: list[str],
    period: tuple[dt.date, dt.date] | None,
    thresholds: Thresholds = Thresholds(),
) -> Comparison:
    cells = (mh.compliant, mh.noncompliant, ms.compliant, ms.noncompliant)
    hidden = any(suppression.is_small(c) for c in cells)
    result = Comparison(label, mh, ms, clinics, period, suppressed=hidden)
    if hidden or mh.n == 0 or ms.n == 0:
        return result
    result.difference = newcombe_difference(mh.compliant, mh.n, ms.compliant, ms.n)
    result.ratio = ratio_interval(mh.compliant, mh.n, ms.compliant, ms.n)
    n_mh = sum(c for _, c in mh.waits)
    n_ms = sum(c for _, c in ms.waits)
    if n_mh >= suppression.THRESHOLD and n_ms >= suppression.THRESHOLD:
        result.median_difference = bootstrap_median_difference(mh.waits, ms.waits)
        if mh.median is not None and ms.median:
            result.median_ratio = mh.median / ms.median
    d, lo, hi = result.difference
    reasons = []
    if abs(d) >= thresholds.rate_points and (lo > 0 or hi < 0):
        reasons.append(
            f"|difference| >= {thresholds.rate_points * 100:.0f} points and the CI excludes 0"
        )
    if result.median_ratio is not None and result.median_ratio >= thresholds.median_ratio:
        reasons.append(f"median wait ratio >= {thresholds.median_ratio}")
    result.material = bool(reasons)
    result.material_reason = "; ".join(reasons)
    return result


def parity(
    con: duckdb.DuckDBPyConnection,
    thresholds: Thresholds = Thresholds(),
) -> list[Comparison]:
    """Both comparisons over ``unit_summary``, restricted to shared clinics and period.

    Two passes over the units serve both pairs: each metric's clinics and period, then the
    counts and waits within each pair's shared clinics and period.
    """
    measured = [m for _, mh_metric, ms_metric in PAIRS for m in (mh_metric, ms_metric)]
    ranges = con.execute(
        f"""
        SELECT metric, min(start_date), max(start_date), list(DISTINCT clinic_id)
        FROM unit_summary WHERE metric IN ({", ".join(quote(m) for m in measured)})
          AND start_date IS NOT NULL AND status IN ('compliant', 'noncompliant')
        GROUP BY metric
        """  # noqa: S608 - SQL from schema constants; values bound or quoted
    ).fetchall()
    info = {m: (lo, hi, set(c)) for m, lo, hi, c in ranges}
    shared: dict[int, tuple[dt.date, dt.date, list[str]]] = {}
    for i, (_, mh_metric, ms_metric) in enumerate(PAIRS):
        if mh_metric in info and ms_metric in info:
            shared[i] = (
                max(info[mh_metric][0], info[ms_metric][0]),
                min(info[mh_metric][1], info[ms_metric][1]),
                sorted(info[mh_metric][2] & info[ms_metric][2]),
            )
    cohorts = {m: Cohort(m, 0, 0, []) for m in measured}
    if shared:
        within = " OR ".join(
            f"(metric IN ({quote(PAIRS[i][1])}, {quote(PAIRS[i][2])}) "
            f"AND start_date BETWEEN $first{i} AND $last{i} "
            f"AND list_contains($clinics{i}, clinic_id))"
            for i in shared
        )
        params: dict[str, object] = {}
        for i, (first, last, clinics) in shared.items():
            params |= {f"first{i}": first, f"last{i}": last, f"clinics{i}": clinics}
        rows = con.execute(
            f"""
            SELECT metric, status, CASE WHEN NOT censored THEN business_days END, count(*)
            FROM unit_summary
            WHERE status IN ('compliant', 'noncompliant') AND ({within})
            GROUP BY ALL
            """,  # noqa: S608 - SQL from schema constants; values bound or quoted
            params,
        ).fetchall()
        for metric, status, bd, n in rows:
            cohort = cohorts[metric]
            if status == "compliant":
                cohort.compliant += n
            else:
                cohort.noncompliant += n
            if bd is not None:
                cohort.waits.append((int(bd), int(n)))
    # Censored (no offer yet) noncompliant units have no observed wait: the medians use
    # observed waits only; Kaplan-Meier in the metric summary covers the censored ones.
    for cohort in cohorts.values():
        merged: dict[int, int] = {}
        for v, c in cohort.waits:
            merged[v] = merged.get(v, 0) + c
        cohort.waits = sorted(merged.items())
    out = []
    for i, (label, mh_metric, ms_metric) in enumerate(PAIRS):
        if i not in shared:
            out.append(
                Comparison(
                    label,
                    Cohort(mh_metric, 0, 0, []),
                    Cohort(ms_metric, 0, 0, []),
                    [],
                    None,
                    suppressed=False,
                )
            )
            continue
        first, last, clinics = shared[i]
        period = (first, last) if first <= last else None
        out.append(
            compare(label, cohorts[mh_metric], cohorts[ms_metric], clinics, period, thresholds)
        )
    return out
