"""Special-cause deterioration in an access metric, read with the Making Data Count rules."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from commonground.improvement.watch import deterioration

MONTHS = [dt.date(2024 + (m // 12), m % 12 + 1, 1) for m in range(24)]
STEADY = [72, 74, 71, 73, 75, 72, 70, 74, 73, 71, 72, 74, 73, 72, 71, 74, 73, 72]


def test_a_fall_below_the_lower_limit_is_a_deterioration_dated_from_its_start():
    values = [*STEADY, 50]
    found = deterioration(MONTHS[: len(values)], values, direction="increase", label="Follow-up")
    assert found is not None
    assert found.began == found.latest == MONTHS[18]
    assert found.latest_value == 50
    assert "Follow-up: special-cause deterioration since July 2025" in found.summary
    assert "below the usual" in found.summary


def test_a_shift_of_seven_below_the_mean_counts_once_from_its_first_month():
    values = [*STEADY[:12], 66, 67, 65, 66, 67, 66, 65]
    found = deterioration(MONTHS[: len(values)], values, direction="increase", label="Access")
    assert found is not None and found.points_in_run == 7
    assert found.began == MONTHS[12]


def test_improvement_and_common_cause_are_not_flagged():
    assert deterioration(MONTHS[:19], [*STEADY, 95], direction="increase", label="x") is None
    assert deterioration(MONTHS[:18], STEADY, direction="increase", label="x") is None
    # A wait (lower is better) that jumps up is a deterioration.
    waits = [10, 11, 9, 10, 12, 10, 11, 9, 10, 11, 10, 12, 11, 10, 30]
    found = deterioration(MONTHS[:15], waits, direction="decrease", label="Median wait", unit="")
    assert found is not None and "above the usual" in found.summary


def test_too_few_points_are_never_called_special_cause():
    assert (
        deterioration(MONTHS[:8], [70, 71, 72, 70, 71, 72, 70, 20], direction="increase", label="x")
        is None
    )


@given(st.floats(min_value=0, max_value=100), st.integers(min_value=12, max_value=24))
def test_a_constant_series_never_signals(level, length):
    assert deterioration(MONTHS[:length], [level] * length, direction="increase", label="x") is None
