"""A region's table and its clinics' tables are read by the same people (regional admins):
the region must hide what would let a clinic's hidden cell be worked out by subtraction."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from commonground.access import dashboards, suppression
from commonground.access.models import AccessAggregate

ROWS = ["2026-09-01", "2026-10-01"]
COLS = ["compliant", "noncompliant", "exception"]


def _table(cells):
    return suppression.two_way(
        {(r, c): cells.get((r, c), 0) for r in ROWS for c in COLS}, ROWS, COLS
    )


def _region(parts):
    cells = {}
    for part in parts:
        for key, value in part.items():
            cells[key] = cells.get(key, 0) + value
    return cells


def test_one_hidden_clinic_cell_hides_the_region_cell():
    oakland = {
        ("2026-09-01", "compliant"): 40,
        ("2026-09-01", "noncompliant"): 30,
        ("2026-09-01", "exception"): 3,
        ("2026-10-01", "compliant"): 50,
        ("2026-10-01", "noncompliant"): 25,
        ("2026-10-01", "exception"): 12,
    }
    richmond = {
        ("2026-09-01", "compliant"): 60,
        ("2026-09-01", "noncompliant"): 20,
        ("2026-09-01", "exception"): 20,
        ("2026-10-01", "compliant"): 45,
        ("2026-10-01", "noncompliant"): 35,
        ("2026-10-01", "exception"): 14,
    }
    parts = [_table(oakland), _table(richmond)]
    forced = suppression.across_parts(parts, ROWS, COLS)
    assert ("2026-09-01", "exception") in forced  # 23 - 20 would give Oakland's 3 away
    region = suppression.two_way(
        {(r, c): _region([oakland, richmond]).get((r, c), 0) for r in ROWS for c in COLS},
        ROWS,
        COLS,
        forced=forced,
    )
    assert region.value("2026-09-01", "exception") is None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from([(r, c) for r in ROWS for c in COLS]),
            st.integers(min_value=0, max_value=40),
        ),
        min_size=2,
        max_size=4,
    )
)
def test_no_clinic_cell_hidden_on_its_own_page_is_given_away_by_the_region(clinics):
    parts = [_table(cells) for cells in clinics]
    forced = suppression.across_parts(parts, ROWS, COLS)
    region_cells = _region(clinics)
    region = suppression.two_way(
        {(r, c): region_cells.get((r, c), 0) for r in ROWS for c in COLS},
        ROWS,
        COLS,
        forced=forced,
    )
    for r in ROWS:
        for c in COLS:
            hidden = [p for p in parts if p.value(r, c) is None and p.values[(r, c)] > 0]
            if region.value(r, c) is None or not hidden:
                continue
            # Region shown: the hidden clinic cells' sum is derivable, so it must neither be
            # a single cell nor a small count.
            assert len(hidden) >= 2
            assert not suppression.is_small(sum(p.values[(r, c)] for p in hidden))


def test_the_region_dashboard_applies_it(world):
    from commonground.access.models import AccessSettings

    def row(clinic, month, compliant, noncompliant, exception):
        return AccessAggregate(
            region=world.region,
            clinic=clinic,
            source="extract",
            calendar="ca-state",
            metric="follow_up_sb221",
            period="month",
            period_start=month,
            dimension="total",
            compliant=compliant,
            noncompliant=noncompliant,
            exception=exception,
            denominator=compliant + noncompliant,
        )

    sept, octo = dt.date(2026, 9, 1), dt.date(2026, 10, 1)
    clinic_rows = [
        row(world.clinic_a, sept, 40, 30, 3),
        row(world.clinic_a, octo, 50, 25, 12),
        row(world.clinic_b, sept, 60, 20, 20),
        row(world.clinic_b, octo, 45, 35, 14),
    ]
    region_rows = [row(None, sept, 100, 50, 23), row(None, octo, 95, 60, 26)]
    data = dashboards.Data(
        dashboards.Scope(world.region),
        None,
        None,
        AccessSettings(region=world.region),
        region_rows,
        clinic_rows=clinic_rows,
    )
    table = dashboards.over_time(data, "follow_up_sb221", "month")
    september = next(r for r in table.rows if r["key"] == "2026-09-01")
    assert september["cells"]["exception"] == suppression.SUPPRESSED
