"""The clock rules and worked examples of access-and-parity.md sections 2, 2.1 and 6.1."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from commonground.access.calendars import CALENDARS, day_index
from commonground.access.tests.helpers import SPEC_ROWS, Run, initial, row, run
from commonground.core.business_days import Calendar
from commonground.core.tests.test_business_days import WORKED

D = dt.date.fromisoformat


# -- section 2.1 table: the vectorised day index agrees with the core module -----------------


@pytest.mark.parametrize(("request_day", "n", "plain", "federal", "state"), WORKED)
def test_worked_deadlines_in_the_vectorised_index(request_day, n, plain, federal, state):
    """The table of section 2.1 (tested in core) through the arrays the metrics use."""
    start = D(request_day)
    for name, expected in (("federal", federal), ("ca-state", state)):
        index = day_index(CALENDARS[name], D("2024-12-01"), D("2026-03-31"))
        i = (start - index.first).days
        assert index.deadlines[n][i] == np.datetime64(expected)
        core = CALENDARS[name].calendar()
        target = index.index[(D(expected) - index.first).days]
        assert target - index.index[i] == n == core.business_days_between(start, D(expected))
    weekends_only = Calendar()
    assert weekends_only.deadline(start, n) == D(plain)


def test_day_index_agrees_with_the_core_calendar_every_day():
    for name, version in CALENDARS.items():
        core = version.calendar()
        index = day_index(version, D("2024-11-01"), D("2026-02-28"))
        for i, day in enumerate(index.days.astype(object)):
            for n in (10, 15):
                assert index.deadlines[n][i].astype(object) == core.deadline(day, n), (name, day)
        a, b = D("2024-12-20"), D("2025-01-14")
        ia, ib = (a - index.first).days, (b - index.first).days
        assert index.index[ib] - index.index[ia] == core.business_days_between(a, b)


# -- section 6.1 rows A1001-A1003 ------------------------------------------------------------


def _spec(tmp_path: Path, **kwargs: str) -> Run:
    path = tmp_path / "spec.csv"
    path.write_text(SPEC_ROWS, encoding="utf-8")
    return Run(path, **kwargs)


def test_a1001_initial_is_ten_business_days_and_compliant(tmp_path):
    r = _spec(tmp_path, as_of="2025-03-24")
    u = r.unit("initial_non_urgent_mh", "A1001")
    assert u["start_date"] == D("2025-01-06")
    assert u["stop_appointment_id"] == "A1001"
    assert u["stop_date"] == D("2025-01-21")
    assert u["business_days"] == 10
    assert u["deadline"] == "2025-01-21"  # MLK Day 2025-01-20 pushes it a day
    assert u["status"] == "compliant"
    assert u["clock_stop"] == "first_offered"


def test_a1002_follow_up_interval_is_19_business_days_and_noncompliant(tmp_path):
    r = _spec(tmp_path, as_of="2025-03-24")
    u = r.unit("follow_up_sb221", "A1001")
    assert u["stop_appointment_id"] == "A1002"
    assert u["business_days"] == 19
    assert u["deadline"] == "2025-02-04"
    assert u["status"] == "noncompliant"  # the clinician's 14 days is not an exception


def test_a1002_itself_has_no_next_visit_and_the_patient_is_still_active(tmp_path):
    r = _spec(tmp_path, as_of="2025-03-24")
    u = r.unit("follow_up_sb221", "A1002")
    assert u["stop_appointment_id"] is None
    assert u["status"] == "not_applicable"
    assert u["status_detail"] == "no_follow_up_scheduled"  # a return was recommended
    early = _spec(tmp_path, as_of="2025-03-04")
    pending = early.unit("follow_up_sb221", "A1002")
    assert pending["status"] == "pending"
    assert pending["censored"] is True
    assert pending["business_days"] == 10


@pytest.mark.parametrize(
    ("as_of", "status", "days"),
    [
        ("2025-03-20", "pending", 13),
        ("2025-03-24", "pending", 15),
        ("2025-03-25", "noncompliant", 16),
    ],
)
def test_a1003_provider_cancellation_leaves_the_request_open(tmp_path, as_of, status, days):
    r = _spec(tmp_path, as_of=as_of)
    u = r.unit("initial_psychiatry", "A1003")
    assert u["stop_appointment_id"] is None
    assert u["deadline"] == "2025-03-24"
    assert u["status"] == status
    assert u["censored"] is True
    assert u["business_days"] == days  # censored at the cut-off


def test_spec_rows_under_the_california_calendar(tmp_path):
    r = _spec(tmp_path, calendar="ca-state", as_of="2025-03-25")
    assert r.unit("initial_non_urgent_mh", "A1001")["status"] == "compliant"
    assert r.unit("follow_up_sb221", "A1001")["business_days"] == 19
    assert r.unit("initial_psychiatry", "A1003")["status"] == "noncompliant"
    assert r.unit("initial_psychiatry", "A1003")["calendar"] == "ca-state@calhr-2010.1"


# -- section 2.1 "more" examples, weekends, calendars ----------------------------------------


def test_boundary_days_under_the_federal_calendar(tmp_path):
    r = run(
        tmp_path,
        [
            initial("N1", "2025-01-06T09:00:00", "2025-01-21T10:00:00", patient_id="P1"),
            initial("N2", "2025-01-06T09:00:00", "2025-01-22T10:00:00", patient_id="P2"),
            initial("S1", "2025-03-03T09:00:00", "2025-03-24T10:00:00", patient_id="P3",
                    provider_class="psychiatrist"),
            initial("S2", "2025-03-03T09:00:00", "2025-03-25T10:00:00", patient_id="P4",
                    provider_class="psychiatrist"),
        ],
        as_of="2025-04-30",
    )  # fmt: skip
    assert r.unit("initial_non_urgent_mh", "N1")["business_days"] == 10
    assert r.unit("initial_non_urgent_mh", "N1")["status"] == "compliant"
    assert r.unit("initial_non_urgent_mh", "N2")["business_days"] == 11
    assert r.unit("initial_non_urgent_mh", "N2")["status"] == "noncompliant"
    assert r.unit("initial_psychiatry", "S1")["business_days"] == 15
    assert r.unit("initial_psychiatry", "S1")["status"] == "compliant"
    assert r.unit("initial_psychiatry", "S2")["business_days"] == 16
    assert r.unit("initial_psychiatry", "S2")["status"] == "noncompliant"


def test_follow_up_examples_of_section_2_1(tmp_path):
    r = run(
        tmp_path,
        [
            row("V1", "2025-01-21T10:00:00", patient_id="P1"),
            row("V2", "2025-02-18T10:00:00", patient_id="P1"),
            row("W1", "2025-01-21T10:00:00", patient_id="P2"),
            row("W2", "2025-02-04T10:00:00", patient_id="P2"),
        ],
        as_of="2025-02-18",
    )
    assert r.unit("follow_up_sb221", "V1")["business_days"] == 19
    assert r.unit("follow_up_sb221", "V1")["status"] == "noncompliant"
    assert r.unit("follow_up_sb221", "W1")["business_days"] == 10
    assert r.unit("follow_up_sb221", "W1")["status"] == "compliant"


def test_weekend_request_counts_business_days_after_the_request_day(tmp_path):
    r = run(
        tmp_path,
        [
            initial("SAT1", "2025-01-04T11:00:00", "2025-01-17T10:00:00", patient_id="P1"),
            initial("SAT2", "2025-01-04T11:00:00", "2025-01-21T10:00:00", patient_id="P2"),
            initial("SAME", "2025-01-08T08:00:00", "2025-01-08T15:00:00", patient_id="P3"),
        ],
        as_of="2025-02-28",
    )
    first = r.unit("initial_non_urgent_mh", "SAT1")
    assert (first["deadline"], first["business_days"], first["status"]) == (
        "2025-01-17",
        10,
        "compliant",
    )
    late = r.unit("initial_non_urgent_mh", "SAT2")  # Monday 2025-01-20 is MLK Day
    assert (late["business_days"], late["status"]) == (11, "noncompliant")
    same_day = r.unit("initial_non_urgent_mh", "SAME")
    assert same_day["business_days"] == 0
    assert same_day["status"] == "compliant"


def test_the_other_calendar_is_reported_where_it_changes_a_result(tmp_path):
    # 2025-03-24 + 10 business days: 2025-04-07 federal, 2025-04-08 CalHR (Cesar Chavez Day).
    r = run(
        tmp_path,
        [initial("C1", "2025-03-24T09:00:00", "2025-04-08T10:00:00")],
        as_of="2025-04-30",
    )
    u = r.unit("initial_non_urgent_mh", "C1")
    assert (u["status"], u["business_days"], u["deadline"]) == ("noncompliant", 11, "2025-04-07")
    assert u["status_other_calendar"] == "compliant"
    assert u["business_days_other_calendar"] == 10
    state = run(
        tmp_path,
        [initial("C1", "2025-03-24T09:00:00", "2025-04-08T10:00:00")],
        as_of="2025-04-30",
        calendar="ca-state",
    )
    v = state.unit("initial_non_urgent_mh", "C1")
    assert (v["status"], v["status_other_calendar"]) == ("compliant", "noncompliant")


# -- time zones and DST ----------------------------------------------------------------------


def test_utc_timestamps_are_converted_to_clinic_local_time_before_taking_the_date(tmp_path):
    # 06:30 UTC on Jan 7 is 22:30 on Jan 6 in California: the request day is Jan 6.
    r = run(
        tmp_path,
        [initial("Z1", "2025-01-07T06:30:00Z", "2025-01-21T10:00:00-08:00",
                 booked="2025-01-07T06:40:00Z")],
        as_of="2025-02-28",
    )  # fmt: skip
    u = r.unit("initial_non_urgent_mh", "Z1")
    assert u["start_date"] == D("2025-01-06")
    assert u["business_days"] == 10


def _urgent(appointment_id: str, request: str, start: str, **fields: str) -> dict[str, str]:
    fields.setdefault("urgency", "urgent")
    fields.setdefault("visit_type", "URGENT VISIT")
    return initial(appointment_id, request, start, **fields)


def test_urgent_hours_are_elapsed_time_across_dst_changes(tmp_path):
    r = run(
        tmp_path,
        [
            # Spec example: spans July 4, still 47 clock hours.
            _urgent("J4", "2025-07-03T16:00:00-07:00", "2025-07-05T15:00:00-07:00",
                    patient_id="P1"),
            # Spring forward (Mar 9): 48.5 h on the wall clock, 47.5 h elapsed -> compliant.
            _urgent("SPR", "2025-03-08T10:00:00", "2025-03-10T10:30:00", patient_id="P2"),
            # Fall back (Nov 2): 47.5 h on the wall clock, 48.5 h elapsed -> noncompliant.
            _urgent("FAL", "2025-11-01T10:00:00", "2025-11-03T09:30:00", patient_id="P3"),
        ],
        as_of="2025-12-31",
    )  # fmt: skip
    j4 = r.unit("urgent", "J4")
    assert j4["hours"] == pytest.approx(47.0)
    assert j4["status"] == "compliant"
    assert j4["precision"] == "datetime"
    assert j4["deadline"] == "2025-07-05T16:00:00-07:00"
    assert j4["business_days"] is None
    spring = r.unit("urgent", "SPR")
    assert spring["hours"] == pytest.approx(47.5)
    assert spring["status"] == "compliant"
    fall = r.unit("urgent", "FAL")
    assert fall["hours"] == pytest.approx(48.5)
    assert fall["status"] == "noncompliant"
    assert fall["deadline"] == "2025-11-03T09:00:00-08:00"


def test_urgent_prior_authorisation_allows_96_hours(tmp_path):
    r = run(
        tmp_path,
        [
            _urgent("PA", "2025-07-03T16:00:00", "2025-07-07T15:00:00", patient_id="P1",
                    prior_auth_required="true"),
            _urgent("NP", "2025-07-03T16:00:00", "2025-07-07T15:00:00", patient_id="P2"),
        ],
        as_of="2025-07-31",
    )  # fmt: skip
    assert r.unit("urgent", "PA")["hours"] == pytest.approx(95.0)
    assert r.unit("urgent", "PA")["status"] == "compliant"
    assert r.unit("urgent", "NP")["status"] == "noncompliant"


def test_urgent_falls_back_to_calendar_days_without_a_time_of_day(tmp_path):
    r = run(
        tmp_path,
        [
            _urgent("D2", "2025-07-03", "2025-07-05T15:00:00", patient_id="P1",
                    booked="2025-07-03"),
            _urgent("D3", "2025-07-03", "2025-07-06T08:00:00", patient_id="P2",
                    booked="2025-07-03"),
            _urgent("D4", "2025-07-03", "2025-07-07T08:00:00", patient_id="P3",
                    booked="2025-07-03", prior_auth_required="true"),
        ],
        as_of="2025-07-31",
    )  # fmt: skip
    d2 = r.unit("urgent", "D2")
    assert (d2["precision"], d2["hours"], d2["status"], d2["deadline"]) == (
        "date",
        None,
        "compliant",
        "2025-07-05",
    )
    assert r.unit("urgent", "D3")["status"] == "noncompliant"
    assert r.unit("urgent", "D4")["status"] == "compliant"


def test_urgent_request_without_an_offer_is_pending_until_its_deadline(tmp_path):
    rows = [
        _urgent("U1", "2025-07-03T16:00:00", "2025-07-04T10:00:00", status="cancelled",
                cancel_initiator="clinic", cancel_datetime="2025-07-03T18:00:00"),
    ]  # fmt: skip
    assert run(tmp_path, rows, as_of="2025-07-05").unit("urgent", "U1")["status"] == "pending"
    assert run(tmp_path, rows, as_of="2025-07-06").unit("urgent", "U1")["status"] == (
        "noncompliant"
    )
