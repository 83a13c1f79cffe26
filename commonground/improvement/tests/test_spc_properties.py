"""Properties of the SPC engine that must hold for any data (hypothesis).

* Reordering points within a phase leaves the centre line of every chart unchanged, and for
  the attribute charts (P, U, C) each point keeps its own limits, which depend only on its
  denominator; moving-range charts (I, MR, T, P', U') legitimately depend on the order.
* A constant series never signals.
* A missing point is never read as zero: it is left out of centre lines and the runs analysis.
* The vectorised rule helpers agree with direct loops over the definitions of spc.md.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonground.improvement import spc

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

values = st.lists(
    st.floats(min_value=-1e3, max_value=1e3, allow_nan=False).map(lambda v: round(v, 3)),
    min_size=1,
    max_size=40,
)
positive = st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=40)


@st.composite
def counts_and_sizes(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    sizes = draw(st.lists(st.integers(min_value=1, max_value=400), min_size=2, max_size=40))
    counts = [draw(st.integers(min_value=0, max_value=size)) for size in sizes]
    return counts, sizes


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


# --------------------------------------------------------------------------------------------
# Reordering within a phase


@SETTINGS
@given(data=counts_and_sizes(), seed=st.randoms(use_true_random=False))
def test_attribute_limits_follow_their_point_when_reordered(
    data: tuple[list[int], list[int]], seed: Any
) -> None:
    counts, sizes = data
    order = list(range(len(counts)))
    seed.shuffle(order)
    for chart in ("p", "u"):
        before = spc.compute_chart(chart, counts, n=sizes)
        after = spc.compute_chart(chart, [counts[i] for i in order], n=[sizes[i] for i in order])
        for new, old in enumerate(order):
            assert close(after[new]["cl"], before[old]["cl"])
            for key in ("lcl", "ucl", "lcl95", "ucl95"):
                assert close(after[new][key], before[old][key])
            assert after[new]["sigma_signal"] == before[old]["sigma_signal"]
        assert after[0]["n_useful"] == before[0]["n_useful"]
        assert after[0]["longest_run_max"] == before[0]["longest_run_max"]
        assert after[0]["n_crossings_min"] == before[0]["n_crossings_min"]


@SETTINGS
@given(
    y=positive, cut=st.integers(min_value=1, max_value=39), seed=st.randoms(use_true_random=False)
)
def test_centre_lines_are_invariant_to_reordering_within_a_phase(
    y: list[int], cut: int, seed: Any
) -> None:
    cut = min(cut, len(y))
    first, second = y[:cut], y[cut:]
    shuffled = first[:]
    seed.shuffle(shuffled)
    for chart in ("run", "i", "c", "g", "t"):
        before = spc.compute_chart(chart, y, parts=[cut])
        after = spc.compute_chart(chart, shuffled + second, parts=[cut])
        assert close(after[0]["cl"], before[0]["cl"]), chart
        assert after[0]["n_useful"] == before[0]["n_useful"]
        # The other phase is untouched.
        assert after[cut:] == before[cut:]
        if chart in ("c", "g"):  # limits from the mean alone
            assert close(after[0]["ucl"], before[0]["ucl"])
    mdc_before = spc.compute_mdc(y, "increase", rebase=[cut] if cut < len(y) else [])
    mdc_after = spc.compute_mdc(shuffled + second, "increase", rebase=[cut] if cut < len(y) else [])
    assert close(mdc_after.points[0]["mean"], mdc_before.points[0]["mean"])


def test_moving_range_limits_do_depend_on_the_order() -> None:
    """Why the property above checks only centre lines for I charts."""
    ordered = spc.compute_chart("i", [1, 2, 3, 4, 5, 6, 7, 8])[0]
    zigzag = spc.compute_chart("i", [1, 8, 2, 7, 3, 6, 4, 5])[0]
    assert ordered["cl"] == zigzag["cl"] and ordered["ucl"] != zigzag["ucl"]


# --------------------------------------------------------------------------------------------
# Constant series


@SETTINGS
@given(
    value=st.floats(min_value=0.001, max_value=1e6, allow_nan=False),
    size=st.integers(min_value=1, max_value=60),
    screened=st.booleans(),
)
def test_no_signal_on_a_constant_series(value: float, size: int, screened: bool) -> None:
    y = [value] * size
    for chart in ("run", "i", "mr", "c", "g", "t"):
        points = spc.compute_chart(chart, y, screened_mr=screened)
        assert not any(p["sigma_signal"] or p["runs_signal"] for p in points), chart
    for chart in ("p", "pp", "u", "up"):
        count = min(value, 1000.0)
        points = spc.compute_chart(chart, [count] * size, n=[1000] * size, screened_mr=screened)
        assert not any(p["sigma_signal"] or p["runs_signal"] for p in points), chart
    result = spc.compute_mdc(y, "increase", screen_outliers=screened)
    assert {p["special_cause_type"] for p in result.points} == {"Common Cause"}
    assert result.variation_icon == "common_cause"


@SETTINGS
@given(
    value=st.floats(min_value=0.001, max_value=1e6, allow_nan=False),
    size=st.integers(min_value=1, max_value=30),
    n=st.lists(st.integers(min_value=1, max_value=10), min_size=30, max_size=30),
)
def test_no_signal_on_a_constant_rate_with_varying_denominators(
    value: float, size: int, n: list[int]
) -> None:
    sizes = n[:size]
    for chart in ("u", "up"):
        points = spc.compute_chart(chart, [value * k for k in sizes], n=sizes)
        assert not any(p["sigma_signal"] or p["runs_signal"] for p in points), chart


# --------------------------------------------------------------------------------------------
# Missing points


@st.composite
def with_gaps(draw: st.DrawFn) -> tuple[list[int], list[int | None]]:
    y = draw(st.lists(st.integers(min_value=1, max_value=100), min_size=2, max_size=40))
    gapped: list[int | None] = list(y)
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        gapped.insert(draw(st.integers(min_value=0, max_value=len(gapped))), None)
    return y, gapped


@SETTINGS
@given(data=with_gaps())
def test_missing_points_are_never_read_as_zero(data: tuple[list[int], list[int | None]]) -> None:
    y, gapped = data
    for chart in ("run", "i", "c", "g"):
        complete = spc.compute_chart(chart, y)
        holes = spc.compute_chart(chart, gapped)
        assert close(holes[0]["cl"], complete[0]["cl"]), chart  # same values, no zeros added
        for value, point in zip(gapped, holes, strict=True):
            if value is None:
                assert point["y"] is None and not point["sigma_signal"]
        assert holes[0]["n_obs"] == len(gapped)
    # The runs analysis skips missing points: the run chart's figures are unchanged.
    complete, holes = spc.compute_chart("run", y)[0], spc.compute_chart("run", gapped)[0]
    for key in ("n_useful", "longest_run", "n_crossings", "runs_signal"):
        assert holes[key] == complete[key]
    # A missing count with a known denominator drops the denominator too.
    sizes = [1000] * len(gapped)
    p_holes = spc.compute_chart("p", gapped, n=sizes)[0]
    assert close(p_holes["cl"], sum(y) / (1000 * len(y)))
    # MDC: the mean ignores missing points, which get no label.
    mdc = spc.compute_mdc(gapped, "increase")
    assert close(mdc.points[0]["mean"], spc.compute_mdc(y, "increase").points[0]["mean"])
    assert all(
        (p["special_cause_type"] is None) == (value is None)
        for value, p in zip(gapped, mdc.points, strict=True)
    )


def test_missing_point_breaks_the_moving_range() -> None:
    """spc.md section 4: both moving ranges touching a missing point are dropped."""
    points = spc.compute_chart("i", [10, 12, None, 30, 31], screened_mr=False)
    assert close(points[0]["ucl"], 20.75 + 3 * ((2 + 1) / 2) / 1.128)


# --------------------------------------------------------------------------------------------
# Other invariants


@SETTINGS
@given(data=counts_and_sizes(), factor=st.sampled_from([0.5, 100, 1000, 10000]))
def test_multiply_never_changes_a_signal(data: tuple[list[int], list[int]], factor: float) -> None:
    counts, sizes = data
    for chart in ("p", "pp", "u", "up"):
        plain = spc.compute_chart(chart, counts, n=sizes)
        scaled = spc.compute_chart(chart, counts, n=sizes, multiply=factor)
        assert [p["sigma_signal"] for p in plain] == [p["sigma_signal"] for p in scaled]
        assert [p["runs_signal"] for p in plain] == [p["runs_signal"] for p in scaled]


def naive_runs(y: list[float], cl: float) -> tuple[int, int | None, int | None]:
    signs = [1 if v > cl else -1 for v in y if v != cl]
    if not signs:
        return 0, None, None
    longest, current, crossings = 1, 1, 0
    for before, after in itertools.pairwise(signs):
        if after == before:
            current += 1
        else:
            crossings += 1
            current = 1
        longest = max(longest, current)
    return len(signs), longest, crossings


@SETTINGS
@given(y=values)
def test_runs_analysis_matches_a_direct_count(y: list[float]) -> None:
    cl = float(np.median(y))
    result = spc.runs_analysis(np.array(y), np.full(len(y), cl))
    assert (result.n_useful, result.longest_run, result.n_crossings) == naive_runs(y, cl)


def naive_trend_ends(y: list[float], length: int) -> list[int]:
    out = []
    for i in range(len(y)):
        steps = [y[j + 1] - y[j] for j in range(i - length + 1, i)] if i >= length - 1 else []
        if steps and all(s > 0 for s in steps):
            out.append(1)
        elif steps and all(s < 0 for s in steps):
            out.append(-1)
        else:
            out.append(0)
    return out


def naive_shift_ends(rtm: list[int], length: int) -> list[int]:
    return [
        int(i >= length - 1 and rtm[i] != 0 and all(v == rtm[i] for v in rtm[i - length + 1 : i]))
        for i in range(len(rtm))
    ]


def naive_part_of(ends: list[int], length: int) -> list[int]:
    return [int(any(ends[i : i + length])) for i in range(len(ends))]


@SETTINGS
@given(
    y=st.lists(st.integers(min_value=0, max_value=4), min_size=0, max_size=40),
    length=st.sampled_from([6, 7]),
)
def test_rule_helpers_match_their_definitions(y: list[int], length: int) -> None:
    floats = [float(v) for v in y]
    assert spc.trend_ends(floats, length).tolist() == naive_trend_ends(floats, length)
    rtm = [int(np.sign(v - 2)) for v in y]
    shifts = spc.shift_ends(rtm, length).tolist()
    assert shifts == naive_shift_ends(rtm, length)
    assert spc.part_of_run(shifts, length).tolist() == naive_part_of(shifts, length)
    close_ = [v in (0, 4) for v in y]
    windows = spc.two_in_three_windows(close_, rtm).tolist()
    expected = [0] * len(y)
    for j in range(len(y) - 2):
        if sum(close_[j : j + 3]) >= 2 and abs(sum(rtm[j : j + 3])) == 3:
            expected[j : j + 3] = [1, 1, 1]
    assert windows == expected


# --------------------------------------------------------------------------------------------
# Robustness: any input the API accepts gives JSON-safe output, without warnings.


@st.composite
def messy_inputs(draw: st.DrawFn) -> dict[str, Any]:
    size = draw(st.integers(min_value=0, max_value=30))
    y = draw(
        st.lists(
            st.one_of(st.none(), st.integers(min_value=0, max_value=50), st.just(0)),
            min_size=size,
            max_size=size,
        )
    )
    n = draw(
        st.lists(
            st.one_of(st.none(), st.integers(min_value=0, max_value=60)),
            min_size=size,
            max_size=size,
        )
    )
    n = [None if a is None or b is None else max(a, b) for a, b in zip(y, n, strict=True)]
    return {
        "y": y,
        "n": n,
        "freeze": draw(st.one_of(st.none(), st.integers(min_value=1, max_value=35))),
        "parts": draw(st.lists(st.integers(min_value=0, max_value=35), max_size=3)),
        "exclude": draw(st.sets(st.integers(min_value=0, max_value=max(size - 1, 0)), max_size=3))
        if size
        else set(),
        "screened_mr": draw(st.booleans()),
    }


def json_safe(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, bool | int | str)


@settings(max_examples=150, deadline=None)
@given(data=messy_inputs())
def test_any_input_gives_json_safe_output(data: dict[str, Any]) -> None:
    for chart in spc.CHARTS:
        kwargs = {k: data[k] for k in ("freeze", "parts", "exclude", "screened_mr")}
        y = data["y"]
        if chart == "t":
            y = [None if v is None or v == 0 else v for v in y]
        n = data["n"] if chart in ("p", "pp", "u", "up") else None
        points = spc.compute_chart(chart, y, n=n, **kwargs)
        assert len(points) == len(y)
        assert all(json_safe(v) for point in points for v in point.values()), chart
    result = spc.compute_mdc(data["y"], "decrease", target=5, screen_outliers=data["screened_mr"])
    assert all(json_safe(v) for point in result.points for v in point.values())
