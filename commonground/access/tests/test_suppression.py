"""Small-cell suppression: counts 1-10 hidden, and nothing hidden can be derived back."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from commonground.access import suppression
from commonground.access.suppression import TOTAL, Line, two_way

CELL = st.one_of(st.just(0), st.integers(1, 10), st.integers(11, 80), st.integers(11, 2000))


def _feasible_range(
    values: dict[tuple[str, str], int],
    hidden: set[tuple[str, str]],
    rows: list[str],
    cols: list[str],
    row_totals: bool,
    col_totals: bool,
) -> dict[tuple[str, str], tuple[float, float]]:
    """Independent audit: every cell is a variable; published ones are fixed by bounds.

    Returns, per hidden cell, the smallest and largest value consistent with the published
    table (hidden cells are known to be >= 1 because zeros are shown).
    """
    cells = sorted(values)
    at = {c: i for i, c in enumerate(cells)}
    eqs = []

    def equation(members: list[tuple[str, str]], total: tuple[str, str]) -> None:
        coeffs = np.zeros(len(cells))
        for m in members:
            coeffs[at[m]] += 1
        coeffs[at[total]] -= 1
        eqs.append(coeffs)

    if row_totals:
        for r in rows:
            equation([(r, c) for c in cols], (r, TOTAL))
    if col_totals:
        for c in cols:
            equation([(r, c) for r in rows], (TOTAL, c))
    if row_totals and col_totals:
        equation([(TOTAL, c) for c in cols], (TOTAL, TOTAL))
    bounds = [(1.0, None) if c in hidden else (float(values[c]), float(values[c])) for c in cells]
    a_eq = np.array(eqs) if eqs else None
    b_eq = np.zeros(len(eqs)) if eqs else None
    out = {}
    for cell in hidden:
        obj = np.zeros(len(cells))
        obj[at[cell]] = 1
        low = linprog(obj, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-obj, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status == 0, low.message
        hi = float("inf") if high.status == 3 else -high.fun
        out[cell] = (low.fun, hi)
    return out


@settings(max_examples=60, deadline=None)
@given(
    n_rows=st.integers(1, 4),
    n_cols=st.integers(1, 5),
    data=st.data(),
    row_totals=st.booleans(),
    col_totals=st.booleans(),
)
def test_no_suppressed_cell_can_be_derived(n_rows, n_cols, data, row_totals, col_totals):
    rows = [f"r{i}" for i in range(n_rows)]
    cols = [f"c{j}" for j in range(n_cols)]
    counts = {(r, c): data.draw(CELL) for r in rows for c in cols}
    table = two_way(counts, rows, cols, row_totals=row_totals, col_totals=col_totals)
    for key, value in table.values.items():
        published = table.value(*key)
        if 0 < value < suppression.THRESHOLD:
            assert published is None, key  # primary suppression, totals included
        if value == 0:
            assert published == 0, key  # zeros may be (and are) shown
        if published is not None:
            assert published == value
    ranges = _feasible_range(table.values, table.hidden, rows, cols, row_totals, col_totals)
    for cell, (low, high) in ranges.items():
        assert high - low >= 1 - 1e-6, (cell, low, high, table.values, table.hidden)


@settings(max_examples=40, deadline=None)
@given(parts=st.lists(CELL, min_size=1, max_size=6), forced=st.booleans())
def test_a_list_with_its_total(parts, forced):
    values: dict[object, int] = dict(enumerate(parts))
    values["total"] = sum(parts)
    line = Line(tuple(range(len(parts))), "total")
    hidden = suppression.suppress(values, [line], forced={"total"} if forced else frozenset())
    assert all(k in hidden for k, v in values.items() if 0 < v < 11)
    shown = {k: v for k, v in values.items() if k not in hidden}
    n_hidden_members = sum(1 for i in range(len(parts)) if i in hidden)
    if "total" in shown:
        # With the total shown, a single hidden member would be its difference.
        assert n_hidden_members != 1
        hidden_sum = values["total"] - sum(v for k, v in shown.items() if k != "total")
        # Several hidden members must not all be forced to 1 (sum == count).
        assert n_hidden_members == 0 or hidden_sum > n_hidden_members


def test_rates_need_both_cells_published():
    table = two_way({("m", "yes"): 5, ("m", "no"): 300}, ["m"], ["yes", "no"], col_totals=False)
    assert table.value("m", "yes") is None
    assert table.value("m", "no") is None  # complement: otherwise total - no = yes
    assert table.value("m", TOTAL) == 305
    assert suppression.rate(table.value("m", "yes"), table.value("m", TOTAL)) is None
    assert suppression.rate(0, 12) == 0.0


def test_complement_prefers_the_smallest_interior_cell():
    table = two_way(
        {("m", "a"): 4, ("m", "b"): 500, ("m", "c"): 30}, ["m"], ["a", "b", "c"], col_totals=False
    )
    assert table.hidden == {("m", "a"), ("m", "c")}


def test_two_ones_with_a_shown_total_are_protected():
    # 1 + 1 = 2 would pin both cells: the total (2, itself small) is hidden too.
    table = two_way({("m", "a"): 1, ("m", "b"): 1, ("m", "c"): 90}, ["m"], ["a", "b", "c"],
                    col_totals=False)  # fmt: skip
    assert table.value("m", TOTAL) is None or table.value("m", "c") is None


def test_statistics_over_small_groups_are_suppressed():
    assert suppression.statistic(4.5, 10) is None
    assert suppression.statistic(4.5, 11) == 4.5
    assert suppression.count(0) == 0 and suppression.count(7) is None


def test_inconsistent_lines_are_refused():
    with pytest.raises(ValueError):
        suppression.suppress({"a": 1, "t": 5}, [Line(("a",), "t")])
