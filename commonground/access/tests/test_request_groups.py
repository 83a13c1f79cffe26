"""A request of one row takes its values straight from the row: the same as aggregating it.

``compute_units`` aggregates only the requests made of several rows (that is what keeps the
10-million-row check fast) and reads the others off their row. This test proves the two
forms of every request column agree on a row, over every combination of missing values.
"""

from __future__ import annotations

import datetime as dt
import itertools

import duckdb

from commonground.access import metrics

TS = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2025, 1, 6)


def _rows() -> list[tuple[object, ...]]:
    rows = []
    maybe_bool = (None, False, True)
    for n, (req, start, offer_at, offer, prl, longer, prior_auth, eq) in enumerate(
        itertools.product(
            (None, TS),
            (None, TS + dt.timedelta(days=3)),
            (None, TS + dt.timedelta(days=2)),
            (False, True),
            maybe_bool,
            maybe_bool,
            maybe_bool,
            maybe_bool,
        )
    ):
        rows.append(
            (
                n,
                f"A{n}",
                req,
                DAY if req else None,
                n % 2 == 0,  # date-only flags vary independently of the values
                eq,
                start,
                start.date() if start else None,
                n % 3 == 0,
                offer,
                offer_at,
                offer_at.date() if offer_at else None,
                n % 5 == 0,
                prl,
                longer,
                prior_auth,
                "CL01",
                "MH",
                "lcsw",
                "commercial",
                "video",
            )
        )
    return rows


def test_one_row_form_equals_the_aggregate_of_that_row():
    con = duckdb.connect()  # timestamps come back as text: no pytz needed
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        """
        CREATE TABLE rows (
          n INTEGER, appointment_id VARCHAR, req_ts TIMESTAMPTZ, req_day DATE,
          req_dateonly BOOLEAN, req_eq_booked BOOLEAN, start_ts TIMESTAMPTZ, start_day DATE,
          start_dateonly BOOLEAN, offer BOOLEAN, offer_ts TIMESTAMPTZ, offer_day DATE,
          offer_dateonly BOOLEAN, prl BOOLEAN, longer BOOLEAN, prior_auth BOOLEAN,
          clinic_id VARCHAR, service_line VARCHAR, provider_class VARCHAR,
          product_line VARCHAR, modality VARCHAR
        )
        """
    )
    rows = _rows()
    marks = ", ".join("?" * len(rows[0]))
    con.executemany(f"INSERT INTO rows VALUES ({marks})", rows)  # noqa: S608 - placeholders only
    many = metrics._request_columns(aggregate=True)
    one = metrics._request_columns(aggregate=False)
    as_text = "SELECT COLUMNS(*)::VARCHAR FROM ({}) ORDER BY n::INTEGER"
    aggregated = con.execute(as_text.format(f"SELECT n, {many} FROM rows GROUP BY n")).fetchall()  # noqa: S608 - module constants
    one_row = con.execute(as_text.format(f"SELECT n, {one} FROM rows")).fetchall()  # noqa: S608 - module constants
    assert len(aggregated) == len(rows) == 1296
    assert aggregated == one_row
    # The grid reaches the cases that matter: no request time, no offer, offers without times.
    names = [name for name, _, _ in metrics._REQUEST_COLUMNS]
    values = {name: {r[1 + i] is None for r in one_row} for i, name in enumerate(names)}
    assert values["start_id"] == values["fo_id"] == values["bk_id"] == {True, False}
