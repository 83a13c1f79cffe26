"""Business-day clocks against the worked examples of shared/docs/access-and-parity.md §2.1.

The figures below are that document's table ("Worked examples [computed]") and the examples
after it; the holiday lists follow its section 8 (OPM and CalHR).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commonground.core.business_days import (
    Calendar,
    california_state_holidays,
    federal_holidays,
)

D = dt.date.fromisoformat
YEARS = range(2023, 2028)
NONE = Calendar()
FEDERAL = Calendar.preset("federal", YEARS)
CA_STATE = Calendar.preset("ca-state", YEARS)

WORKED = [
    # request, N, deadline with no holidays, federal, California state
    ("2025-01-06", 10, "2025-01-20", "2025-01-21", "2025-01-21"),
    ("2025-01-04", 10, "2025-01-17", "2025-01-17", "2025-01-17"),
    ("2025-03-24", 10, "2025-04-07", "2025-04-07", "2025-04-08"),
    ("2025-06-12", 10, "2025-06-26", "2025-06-27", "2025-06-26"),
    ("2025-10-03", 15, "2025-10-24", "2025-10-27", "2025-10-24"),
    ("2025-11-20", 10, "2025-12-04", "2025-12-05", "2025-12-08"),
    ("2025-12-19", 10, "2026-01-02", "2026-01-06", "2026-01-06"),
    ("2024-12-20", 15, "2025-01-10", "2025-01-14", "2025-01-14"),
    ("2026-02-06", 10, "2026-02-20", "2026-02-23", "2026-02-23"),
]


@pytest.mark.parametrize(("request_day", "n", "plain", "federal", "state"), WORKED)
def test_worked_deadlines_under_each_calendar(request_day, n, plain, federal, state):
    assert NONE.deadline(D(request_day), n) == D(plain)
    assert FEDERAL.deadline(D(request_day), n) == D(federal)
    assert CA_STATE.deadline(D(request_day), n) == D(state)


def test_worked_counts_under_the_federal_calendar():
    assert FEDERAL.business_days_between(D("2025-01-06"), D("2025-01-21")) == 10
    assert FEDERAL.business_days_between(D("2025-01-06"), D("2025-01-22")) == 11
    assert FEDERAL.business_days_between(D("2025-03-03"), D("2025-03-24")) == 15
    assert FEDERAL.business_days_between(D("2025-03-03"), D("2025-03-25")) == 16
    assert FEDERAL.business_days_between(D("2025-01-21"), D("2025-02-18")) == 19
    assert FEDERAL.business_days_between(D("2025-01-21"), D("2025-02-04")) == 10


def test_same_day_is_zero_business_days():
    assert CA_STATE.business_days_between(D("2025-05-07"), D("2025-05-07")) == 0
    assert CA_STATE.deadline(D("2025-05-07"), 0) == D("2025-05-07")


def test_federal_observance_moves_weekend_holidays():
    days = federal_holidays(2021)
    assert days[D("2021-12-31")].startswith("New Year's Day")  # 2022-01-01 was a Saturday
    assert D("2021-06-18") in days  # Juneteenth 2021 fell on a Saturday
    assert D("2026-07-03") in federal_holidays(2026)  # July 4, 2026 is a Saturday


def test_california_saturday_holidays_close_no_weekday_except_veterans_day():
    days_2026 = california_state_holidays(2026)
    assert D("2026-07-03") not in days_2026  # Independence Day on a Saturday: holiday credit
    assert D("2026-11-27") in days_2026  # Day after Thanksgiving
    assert D("2026-06-19") not in days_2026  # Juneteenth is not a CalHR closure
    assert D("2023-11-10") in california_state_holidays(2023)  # Veterans Day on a Saturday
    assert D("2024-03-31") not in california_state_holidays(2024)  # Sunday ...
    assert D("2024-04-01") in california_state_holidays(2024)  # ... observed on Monday


@given(
    start=st.dates(min_value=D("2023-01-01"), max_value=D("2027-06-30")),
    n=st.integers(min_value=0, max_value=40),
)
def test_deadline_and_count_agree(start, n):
    end = CA_STATE.deadline(start, n)
    assert CA_STATE.business_days_between(start, end) == n
    assert end == start or CA_STATE.is_business_day(end)
    if n:
        assert CA_STATE.business_days_between(start, end - dt.timedelta(days=1)) == n - 1
