"""The checked rows are stored compact (``appt_rows``) and read through the view ``appt``.

Yes/no columns are bits of one ``flags`` column and local days are worked out from the
instants: the view must give back exactly what the row said, for every combination.
"""

from __future__ import annotations

import itertools
import re

import duckdb

from commonground.access import extract
from commonground.access.calendars import calendar_version
from commonground.access.tests.helpers import initial, row, write_csv

YES_NO = {
    "is_group": "is_group",
    "longer_interval_documented": "longer",
    "patient_requested_later": "prl",
    "prior_auth_required": "prior_auth",
}


def _rows() -> list[dict[str, str]]:
    rows = []
    combos = itertools.product([False, True], repeat=len(YES_NO) + 2)
    for i, (*answers, urgent, new_visit) in enumerate(combos):
        fields = {col: str(a).lower() for col, a in zip(YES_NO, answers, strict=True)}
        fields["urgency"] = "urgent" if urgent else "non_urgent"
        if new_visit:  # a blank kind with an intake visit type: visit_new
            fields |= {"appointment_kind": "", "visit_type": "NEW THERAPY INTAKE 60"}
        # Vary the time forms: date only, no offset (clinic time assumed), with offset.
        start = ("2025-03-10", "2025-03-10T09:30:00", "2025-03-09T23:30:00-07:00")[i % 3]
        request = ("2025-03-03", "2025-03-03T08:00:00", "2025-03-03T08:00:00-08:00")[i % 3]
        if i % 2:
            rows.append(initial(f"A{i:03}", request, start, patient_id=f"P{i}", **fields))
        else:
            rows.append(row(f"A{i:03}", start, patient_id=f"P{i}", **fields))
    return rows


def test_the_view_gives_back_every_yes_no_value_and_day(tmp_path):
    rows = _rows()
    path = write_csv(tmp_path / "flags.csv", rows)
    con = duckdb.connect()
    extract.configure(con)
    loaded = extract.load(con, path, calendar_version("federal"))
    assert loaded.valid, loaded.errors
    columns = [r[0] for r in con.execute("DESCRIBE appt_rows").fetchall()]
    assert "flags" in columns and not {"urgent", "is_group", "start_day"} & set(columns)

    got = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT appointment_id, is_group, longer, prl, prior_auth, urgent, visit_new, "
            "req_dateonly, start_dateonly, req_eq_booked, tz_assumed, bad, "
            "req_day = req_ts::DATE, start_day = start_ts::DATE, req_day, start_day "
            "FROM appt"
        ).fetchall()
    }
    assert len(got) == len(rows)
    for i, r in enumerate(rows):
        expected_flags = tuple(r[col] == "true" for col in YES_NO)
        request, start = r["request_datetime"], r["appointment_start"]
        request_dateonly = len(request) == 10
        tz_assumed = sum(
            1
            for col in extract.DATETIME_COLUMNS
            if r.get(col) and not re.search(r"([+-]\d\d:\d\d|Z)$", r[col])
        )
        values = got[r["appointment_id"]]
        assert values[:4] == expected_flags, r
        assert values[4:11] == (
            r["urgency"] == "urgent",
            r["appointment_kind"] == "",  # visit_new: only derived for a blank kind
            request_dateonly,
            len(start) == 10,
            bool(request) and not request_dateonly,  # initial() books at the request time
            tz_assumed,
            False,
        ), r
        # The arithmetic local day equals ICU's (the last start is 23:30 on 9 March, PDT).
        assert values[11:13] == ((True if request else None), True), r
        assert str(values[14]) == ("2025-03-09" if i % 3 == 2 else "2025-03-10")
