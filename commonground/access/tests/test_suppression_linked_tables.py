"""A metric's month, week and breakdown tables count the same units and are read together: a
month is the sum of its weeks (weekly counts uploads), a breakdown's "All" row the sum of its
twelve months. No hidden cell of one may be worked out from the others (issue 5, item 6)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonground.access import dashboards, suppression
from commonground.access.models import AccessAggregate, AccessSettings
from commonground.access.tests.test_suppression_across_clinics import _determined_by_lp

METRIC = "follow_up_sb221"
COLS = [c for c, _ in dashboards.STATUS_COLUMNS]
TOTAL = suppression.TOTAL


def _row(world, period, start, cells, dimension="total", value="", source="counts"):
    cells = {c: cells.get(c, 0) for c in COLS}
    return AccessAggregate(
        region=world.region,
        clinic=world.clinic_a,
        source=source,
        calendar="",
        metric=METRIC,
        period=period,
        period_start=start,
        dimension=dimension,
        value=value,
        denominator=cells["compliant"] + cells["noncompliant"],
        **cells,
    )


def _data(world, rows):
    return dashboards.Data(
        dashboards.Scope(world.region, world.clinic_a),
        None,
        None,
        AccessSettings(region=world.region),
        sorted(rows, key=lambda r: r.period_start),
    )


def _summed(rows_cells):
    out = dict.fromkeys(COLS, 0)
    for cells in rows_cells:
        for c, v in cells.items():
            out[c] += v
    return out


def _weeks(*mondays):
    """Weeks of 60 units from the given Mondays; their exceptions 12 (the cheapest complement
    of the next), 5 (hidden), then 20 each."""
    exceptions = (12, 5, 20, 20, 20)
    return {
        dt.date.fromisoformat(monday): {"compliant": 40, "noncompliant": 20, "exception": n}
        for monday, n in zip(mondays, exceptions, strict=True)
    }


def _weeks_and_months(world, weeks, source):
    rows = [_row(world, "week", start, cells, source=source) for start, cells in weeks.items()]
    for month in sorted({start.replace(day=1) for start in weeks}):
        cells = _summed(c for s, c in weeks.items() if s.replace(day=1) == month)
        rows.append(_row(world, "month", month, cells, source=source))
    data = _data(world, rows)
    return dashboards.over_time(data, METRIC, "week"), dashboards.over_time(data, METRIC, "month")


SEPTEMBER = ("2026-08-24", "2026-09-07", "2026-09-14", "2026-09-21", "2026-09-28")


def test_a_hidden_week_is_not_recovered_from_its_month(world):
    # August's week of 12 exceptions was the cheapest complement for September's first week
    # (5, hidden): the month (65) minus its other three weeks (60) gave the 5 away.
    week, month = _weeks_and_months(world, _weeks(*SEPTEMBER), "counts")
    september_weeks = [r for r in week.rows if r["key"].startswith("2026-09")]
    assert september_weeks[0]["cells"]["exception"] == suppression.SUPPRESSED
    september = next(r for r in month.rows if r["key"] == "2026-09-01")
    others = [r["cells"]["exception"] for r in september_weeks[1:]]
    hidden = [september["cells"]["exception"], *others].count(suppression.SUPPRESSED)
    assert hidden >= 1, "the month less its shown weeks would be the hidden week"


@pytest.mark.parametrize(
    ("month", "as_of", "holds"),
    [
        ("2026-02-01", None, True),  # Sunday 1 to Saturday 28: the weeks of 2 to 23 February
        ("2025-11-01", None, True),  # Saturday to Sunday
        ("2026-06-01", None, False),  # Monday to Tuesday 30: its last week runs to 5 July
        ("2026-09-01", None, False),  # Tuesday: 1 to 4 September are in the week of 31 August
        # Sunday 1 to Monday 30: its last week's 1 to 6 December hold nothing after a cut-off
        # on the 30th, but 1 December's figures after a cut-off on 1 December.
        ("2026-11-01", dt.date(2026, 11, 30), True),
        ("2026-11-01", dt.date(2026, 12, 1), False),
    ],
)
def test_an_extract_month_is_its_weeks_only_where_they_differ_by_empty_days(month, as_of, holds):
    assert dashboards._month_is_its_weeks(month, as_of) is holds


def test_an_extract_month_is_not_taken_as_the_sum_of_weeks_that_straddle_it(world):
    """The figures of the test above, from an extract: its September counts 1 to 30
    September, and its weeks starting in September run from 7 September to 4 October. That
    they add up to the month is chance, which no reader can know, so the month less its
    shown weeks gives nothing away: with the 5 and its complement (August's 12) hidden, the
    month and the other weeks stay shown."""
    week, month = _weeks_and_months(world, _weeks(*SEPTEMBER), "extract")
    exceptions = {r["key"]: r["cells"]["exception"] for r in week.rows if not r["is_total"]}
    assert exceptions == {
        "2026-08-24": suppression.SUPPRESSED,
        "2026-09-07": suppression.SUPPRESSED,
        "2026-09-14": "20",
        "2026-09-21": "20",
        "2026-09-28": "20",
    }
    september = next(r for r in month.rows if r["key"] == "2026-09-01")
    assert september["cells"]["exception"] == "65"


def test_an_extract_month_its_weeks_hold_but_for_a_weekend_is_their_sum(world):
    """February 2026 runs from Sunday 1 to Saturday 28: its weeks hold all its weekdays, and
    a reader may take it that nothing was counted on the Sunday and on 1 March, a Sunday."""
    weeks = _weeks("2026-01-26", "2026-02-02", "2026-02-09", "2026-02-16", "2026-02-23")
    week, month = _weeks_and_months(world, weeks, "extract")
    february_weeks = [r for r in week.rows if r["key"].startswith("2026-02")]
    assert february_weeks[0]["cells"]["exception"] == suppression.SUPPRESSED
    february = next(r for r in month.rows if r["key"] == "2026-02-01")
    shown = [february["cells"]["exception"], *(r["cells"]["exception"] for r in february_weeks)]
    assert shown.count(suppression.SUPPRESSED) >= 2, "the month less its shown weeks: the 5"


def test_a_hidden_month_is_not_recovered_from_the_breakdowns_twelve_month_total(world):
    # August 2025 (outside the breakdowns' twelve months) holds the cheapest complement for
    # September 2026's 5 exceptions; a breakdown's "All" (35) less October (30) gave it away.
    months = {
        dt.date(2025, 8, 1): {"compliant": 60, "noncompliant": 30, "exception": 12},
        dt.date(2026, 9, 1): {"compliant": 60, "noncompliant": 30, "exception": 5},
        dt.date(2026, 10, 1): {"compliant": 60, "noncompliant": 30, "exception": 30},
    }
    rows = []
    for start, cells in months.items():
        rows.append(_row(world, "month", start, cells))
        rows += [_row(world, "month", start, cells, d, "unknown") for d in dashboards.DIMENSIONS]
    data = _data(world, rows)
    month = dashboards.over_time(data, METRIC, "month")
    assert next(r for r in month.rows if r["key"] == "2026-09-01")["cells"]["exception"] == (
        suppression.SUPPRESSED
    )
    october = next(r for r in month.rows if r["key"] == "2026-10-01")["cells"]["exception"]
    for dimension in dashboards.DIMENSIONS:
        table = dashboards.breakdown(data, METRIC, dimension)
        everything = next(r for r in table.rows if r["is_total"])["cells"]["exception"]
        assert suppression.SUPPRESSED in (october, everything), (
            f"{dimension}: All {everything} - October {october} is September's hidden count"
        )


# -- the property: what a reader can work out from every table shown --------------------------

SMALL = st.sampled_from([0, 0, 1, 2, 3, 7, 11, 15, 30])
MONTHS = (dt.date(2026, 9, 1), dt.date(2026, 10, 1))
WEEKS = {  # Mondays, by their month
    MONTHS[0]: (dt.date(2026, 9, 7), dt.date(2026, 9, 14)),
    MONTHS[1]: (dt.date(2026, 10, 5), dt.date(2026, 10, 12)),
}
VALUES = {"provider_class": ("lcsw", "lmft"), "modality": ("video", "in_person")}


def _split(total, parts, data):
    cuts = sorted(data.draw(st.integers(min_value=0, max_value=total)) for _ in range(parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _reader_system(tables):
    """The cells and lines a reader of every table knows: each table's margins, each
    month as the sum of its weeks, each breakdown's total as the sum of the months."""
    values, hidden, lines = {}, set(), []
    for kind, pub in tables.items():
        keys = sorted({r for r, _ in pub.values if r != TOTAL})
        for (r, c), v in pub.values.items():
            values[(kind, r, c)] = v
            if (r, c) in pub.hidden:
                hidden.add((kind, r, c))
        lines += [
            suppression.Line(tuple((kind, r, c) for c in COLS), (kind, r, TOTAL)) for r in keys
        ]
        lines += [
            suppression.Line(tuple((kind, r, c) for r in keys), (kind, TOTAL, c))
            for c in [*COLS, TOTAL]
        ]
    for c in [*COLS, TOTAL]:
        for month, weeks in WEEKS.items():
            members = tuple(("week", w.isoformat(), c) for w in weeks)
            lines.append(suppression.Line(members, ("month", month.isoformat(), c)))
        for dimension in dashboards.DIMENSIONS:
            members = tuple(("month", m.isoformat(), c) for m in MONTHS)
            lines.append(suppression.Line(members, (dimension, TOTAL, c)))
    return values, hidden, lines


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.data())
def test_linked_tables_give_no_hidden_cell_away(world, data):
    rows = []
    for month, weeks in WEEKS.items():
        week_cells = [{c: data.draw(SMALL) for c in COLS} for _ in weeks]
        rows += [_row(world, "week", w, cells) for w, cells in zip(weeks, week_cells, strict=True)]
        month_cells = _summed(week_cells)
        rows.append(_row(world, "month", month, month_cells))
        for dimension in dashboards.DIMENSIONS:
            values = VALUES.get(dimension, ("unknown",))
            split = {c: _split(month_cells[c], len(values), data) for c in COLS}
            for i, value in enumerate(values):
                cells = {c: split[c][i] for c in COLS}
                rows.append(_row(world, "month", month, cells, dimension, value))
    tables = dashboards.linked(_data(world, rows), METRIC)
    values, hidden, lines = _reader_system(tables)
    for line in lines:  # the reader's lines hold in the figures
        assert sum(values[m] for m in line.members) == values[line.total]
    assert _determined_by_lp(values, lines, hidden) == set()
