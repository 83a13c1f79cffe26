"""Requests with no appointment yet (canonical status ``requested``; FHIR proposed and waitlist).

A request still waiting for an offer is the longest wait of all: it counts as pending while
its deadline is ahead and as noncompliant once the deadline passes with nothing offered
(access-and-parity.md 2, "pending (censored at the as-of date)").
"""

from __future__ import annotations

import datetime as dt

from commonground.access import extract
from commonground.access.tests.helpers import initial, row, run, write_csv

# Monday 6 January 2025, 09:14 (day 0): ten business days (federal calendar, MLK Day on the
# 20th) end on Tuesday the 21st.
REQUEST = "2025-01-06T09:14:00-08:00"


def waiting(appointment_id: str = "R1", **fields: str) -> dict[str, str]:
    out = initial(appointment_id, REQUEST, "", status="requested", booked="", **fields)
    out["provider_id"] = fields.get("provider_id", "")
    return out


def test_a_request_still_waiting_is_pending_before_its_deadline(tmp_path):
    unit = run(tmp_path, [waiting()], as_of="2025-01-17").unit("initial_non_urgent_mh", "R1")
    assert (unit["status"], unit["stop_appointment_id"], unit["deadline"]) == (
        "pending",
        None,
        "2025-01-21",
    )


def test_a_request_never_offered_is_noncompliant_after_its_deadline(tmp_path):
    unit = run(tmp_path, [waiting()], as_of="2025-02-28").unit("initial_non_urgent_mh", "R1")
    assert unit["status"] == "noncompliant" and unit["stop_date"] is None


def test_a_request_later_booked_keeps_its_request_time_and_stops_at_the_offer(tmp_path):
    # The waitlist entry and the appointment made for it share the episode.
    booked = initial("A7", "2025-01-13T10:00:00-08:00", "2025-01-27T10:00:00-08:00",
                     episode_id="E7")  # fmt: skip
    r = run(tmp_path, [waiting(episode_id="E7"), booked], as_of="2025-02-28")
    (unit,) = r.units("initial_non_urgent_mh")
    # Requested on the 6th (not the 13th, when it was booked): 14 business days to the 27th.
    # The unit is named by the request's first appointment, as for any request.
    assert (unit["start_date"], unit["stop_appointment_id"], unit["business_days"]) == (
        dt.date(2025, 1, 6),
        "A7",
        14,
    )
    assert unit["status"] == "noncompliant"


def test_a_requested_row_needs_its_request_time_and_nothing_else_it_cannot_have(tmp_path):
    import duckdb

    from commonground.access.calendars import calendar_version

    bad = waiting("R2")
    bad["request_datetime"] = ""
    path = write_csv(tmp_path / "x.csv", [waiting("R1"), bad, row("A1", "2025-01-08T09:00:00")])
    con = duckdb.connect()
    extract.configure(con)
    loaded = extract.load(con, path, calendar_version("federal"))
    assert [(e.line, e.column, e.reason) for e in loaded.errors] == [
        (3, "request_datetime", "a requested row (no appointment yet) needs its request time")
    ]
