"""Statuses per unit: offers vs bookings, exceptions, preferences, follow-ups, new episodes."""

from __future__ import annotations

import datetime as dt

from commonground.access import metrics
from commonground.access.tests.helpers import initial, row, run

D = dt.date.fromisoformat
REQ = "2025-01-06T09:00:00"  # deadline (federal, 10 bd): 2025-01-21


# -- initial access: what stops the clock ------------------------------------------------


def test_booked_date_is_a_labelled_proxy_when_offers_are_missing(tmp_path):
    r = run(tmp_path, [initial("B1", REQ, "2025-01-15T10:00:00")], as_of="2025-02-28")
    u = r.unit("initial_non_urgent_mh", "B1")
    assert (u["clock_stop"], u["status"], u["business_days"]) == ("booked_proxy", "compliant", 7)


def test_patient_cancellation_and_no_show_count_as_offered(tmp_path):
    r = run(
        tmp_path,
        [
            initial("C1", REQ, "2025-01-10T10:00:00", status="cancelled",
                    cancel_initiator="patient", cancel_datetime="2025-01-08T10:00:00"),
            initial("C2", REQ, "2025-02-03T10:00:00"),
            initial("N1", REQ, "2025-01-13T10:00:00", patient_id="P2", status="no_show"),
            initial("N2", REQ, "2025-02-03T10:00:00", patient_id="P2"),
        ],
        as_of="2025-02-28",
    )  # fmt: skip
    units = r.units("initial_non_urgent_mh")
    assert len(units) == 2  # one request each: rows share the request date-time
    cancelled = r.unit("initial_non_urgent_mh", "C1")
    assert (cancelled["stop_appointment_id"], cancelled["status"]) == ("C1", "compliant")
    no_show = r.unit("initial_non_urgent_mh", "N1")
    assert (no_show["stop_appointment_id"], no_show["status"]) == ("N1", "compliant")


def test_provider_clinic_system_or_unknown_cancellations_are_withdrawn_offers(tmp_path):
    rows = []
    for i, initiator in enumerate(("provider", "clinic", "system", "")):
        patient = f"P{i}"
        rows += [
            initial(f"W{i}", REQ, "2025-01-10T10:00:00", patient_id=patient, status="cancelled",
                    cancel_initiator=initiator, cancel_datetime="2025-01-08T10:00:00"),
            initial(f"R{i}", REQ, "2025-02-03T10:00:00", patient_id=patient),
        ]  # fmt: skip
    r = run(tmp_path, rows, as_of="2025-02-28")
    for i in range(4):
        u = r.unit("initial_non_urgent_mh", f"W{i}")
        assert (u["stop_appointment_id"], u["status"]) == (f"R{i}", "noncompliant")
        assert u["business_days"] == 19


def test_first_offer_within_the_standard_is_compliant_even_if_booked_later(tmp_path):
    r = run(
        tmp_path,
        [initial("F1", REQ, "2025-02-03T10:00:00", first_offered_start="2025-01-14T10:00:00",
                 patient_requested_later="true")],
        as_of="2025-02-28",
    )  # fmt: skip
    u = r.unit("initial_non_urgent_mh", "F1")
    assert (u["clock_stop"], u["stop_date"], u["status"]) == (
        "first_offered",
        D("2025-01-14"),
        "compliant",
    )


def test_patient_preference_and_exception_only_beyond_the_standard(tmp_path):
    r = run(
        tmp_path,
        [
            initial("PP", REQ, "2025-02-03T10:00:00", patient_id="P1",
                    patient_requested_later="true"),
            initial("EX", REQ, "2025-02-03T10:00:00", patient_id="P2",
                    longer_interval_documented="true"),
            initial("OK", REQ, "2025-01-10T10:00:00", patient_id="P3",
                    patient_requested_later="true", longer_interval_documented="true"),
            # With a tracked first offer the patient's choice does not matter.
            initial("FO", REQ, "2025-02-03T10:00:00", patient_id="P4",
                    first_offered_start="2025-01-28T10:00:00", patient_requested_later="true"),
        ],
        as_of="2025-02-28",
    )  # fmt: skip
    assert r.unit("initial_non_urgent_mh", "PP")["status"] == "patient_preference"
    assert r.unit("initial_non_urgent_mh", "EX")["status"] == "exception"
    assert r.unit("initial_non_urgent_mh", "OK")["status"] == "compliant"
    assert r.unit("initial_non_urgent_mh", "FO")["status"] == "noncompliant"


def test_unknown_request_date_and_entered_in_error(tmp_path):
    r = run(
        tmp_path,
        [
            initial("U1", "", "2025-01-15T10:00:00", booked="2025-01-06T09:00:00"),
            initial("E1", REQ, "2025-01-10T10:00:00", patient_id="P2", status="entered_in_error"),
            initial("E2", REQ, "2025-02-10T10:00:00", patient_id="P2"),
        ],
        as_of="2025-02-28",
    )  # fmt: skip
    u = r.unit("initial_non_urgent_mh", "U1")
    assert (u["status"], u["business_days"], u["start_date"], u["stop_appointment_id"]) == (
        "unknown_request_date",
        None,
        None,
        "U1",
    )
    e = r.unit("initial_non_urgent_mh", "E2")  # the entered-in-error row does not exist
    assert (e["stop_appointment_id"], e["status"]) == ("E2", "noncompliant")


def test_metric_by_provider_class_with_its_standard(tmp_path):
    late = "2025-01-27T10:00:00"  # 14 business days after REQ
    r = run(
        tmp_path,
        [
            initial("M", REQ, late, patient_id="P1", provider_class="psychologist"),
            initial("S", REQ, late, patient_id="P2", provider_class="psychiatrist"),
            initial("P", REQ, late, patient_id="P3", provider_class="pcp", service_line="PC"),
            initial("X", REQ, late, patient_id="P4", provider_class="specialist_md",
                    service_line="MS_SPECIALTY"),
            initial("A", REQ, late, patient_id="P5", provider_class="ancillary",
                    service_line="ANCILLARY"),
        ],
        as_of="2025-02-28",
    )  # fmt: skip
    assert r.unit("initial_non_urgent_mh", "M")["status"] == "noncompliant"
    assert r.unit("initial_psychiatry", "S")["status"] == "compliant"
    assert r.unit("initial_primary_care", "P")["status"] == "noncompliant"
    assert r.unit("initial_specialist", "X")["status"] == "compliant"
    assert not [u for u in r.units() if u["start_appointment_id"] == "A"]


def test_referral_id_groups_rows_and_the_earliest_request_starts_the_clock(tmp_path):
    header_rows = [
        initial("R1", "2025-01-06T09:00:00", "2025-01-10T10:00:00", referral_id="REF1",
                status="cancelled", cancel_initiator="provider",
                cancel_datetime="2025-01-08T10:00:00"),
        initial("R2", "2025-01-08T09:00:00", "2025-01-22T10:00:00", referral_id="REF1"),
    ]  # fmt: skip
    from commonground.access.tests.helpers import HEADER, Run, write_csv

    path = write_csv(tmp_path / "ref.csv", header_rows, header=[*HEADER, "referral_id"])
    r = Run(path, as_of="2025-02-28")
    [u] = r.units("initial_non_urgent_mh")
    assert (u["start_date"], u["stop_appointment_id"], u["business_days"]) == (
        D("2025-01-06"),
        "R2",
        11,
    )


def test_a_referral_and_an_episode_with_the_same_id_are_two_requests(tmp_path):
    from commonground.access.tests.helpers import HEADER, Run, write_csv

    rows = [
        initial("R1", "2025-01-06T09:00:00", "2025-01-10T10:00:00", referral_id="X7",
                episode_id="E1"),
        initial("R2", "2025-01-08T09:00:00", "2025-01-22T10:00:00", episode_id="X7"),
    ]  # fmt: skip
    path = write_csv(tmp_path / "same.csv", rows, header=[*HEADER, "referral_id"])
    units = Run(path, as_of="2025-02-28").units("initial_non_urgent_mh")
    assert sorted((u["start_appointment_id"], u["stop_appointment_id"]) for u in units) == [
        ("R1", "R1"),
        ("R2", "R2"),
    ]


# -- SB 221 follow-up ------------------------------------------------------------------------


def test_follow_up_offers_and_withdrawals(tmp_path):
    r = run(
        tmp_path,
        [
            row("V1", "2025-01-06T10:00:00", patient_id="P1"),
            row("V2", "2025-01-10T10:00:00", patient_id="P1", status="no_show"),
            row("A1", "2025-01-06T10:00:00", patient_id="P2"),
            row("A2", "2025-01-10T10:00:00", patient_id="P2", status="cancelled",
                cancel_initiator="provider", cancel_datetime="2025-01-08T10:00:00",
                booked="2025-01-06T11:00:00"),
            row("A3", "2025-02-20T10:00:00", patient_id="P2"),
        ],
        as_of="2025-02-28",
    )  # fmt: skip
    assert r.unit("follow_up_sb221", "V1")["status"] == "compliant"
    assert r.unit("follow_up_sb221", "V1")["stop_appointment_id"] == "V2"
    u = r.unit("follow_up_sb221", "A1")
    assert (u["stop_appointment_id"], u["status"], u["business_days"]) == ("A3", "noncompliant", 31)
    # The no-show and the provider-cancelled visit are not attended: no unit of their own.
    ids = {u["start_appointment_id"] for u in r.units("follow_up_sb221")}
    assert ids == {"V1", "A1", "A3"}


def test_follow_up_exception_and_patient_preference(tmp_path):
    r = run(
        tmp_path,
        [
            row("E1", "2025-01-06T10:00:00", patient_id="P1", longer_interval_documented="true"),
            row("E2", "2025-02-20T10:00:00", patient_id="P1"),
            row("L1", "2025-01-06T10:00:00", patient_id="P2"),
            row("L2", "2025-02-20T10:00:00", patient_id="P2", patient_requested_later="true"),
        ],
        as_of="2025-02-21",
    )  # fmt: skip
    assert r.unit("follow_up_sb221", "E1")["status"] == "exception"
    assert r.unit("follow_up_sb221", "L1")["status"] == "patient_preference"


def test_no_follow_up_scheduled_versus_episode_ended(tmp_path):
    r = run(
        tmp_path,
        [
            # Pending: the cut-off is within 10 business days of the visit.
            row("P", "2025-02-20T10:00:00", patient_id="P1"),
            # Ended: nothing later, no return recommended.
            row("E", "2025-01-06T10:00:00", patient_id="P2"),
            # Active: a return was recommended.
            row("R", "2025-01-06T10:00:00", patient_id="P3", recommended_return_days="14"),
            # Active: a later visit (within 90 days) was cancelled by the clinic.
            row("C", "2025-01-06T10:00:00", patient_id="P4"),
            row("C2", "2025-01-13T10:00:00", patient_id="P4", status="cancelled",
                cancel_initiator="clinic", cancel_datetime="2025-01-09T10:00:00",
                booked="2025-01-06T11:00:00"),
            # A new intake: the course ended.
            row("N", "2025-01-06T10:00:00", patient_id="P5"),
            row("N2", "2025-02-03T10:00:00", patient_id="P5", appointment_kind="initial",
                visit_type="NEW THERAPY INTAKE 60"),
        ],
        as_of="2025-02-28",
    )  # fmt: skip

    def status(start: str) -> tuple[str, str | None]:
        u = r.unit("follow_up_sb221", start)
        return u["status"], u["status_detail"]

    assert status("P") == ("pending", None)
    assert r.unit("follow_up_sb221", "P")["business_days"] == 6
    assert status("E") == ("not_applicable", "episode_ended")
    assert status("R") == ("not_applicable", "no_follow_up_scheduled")
    assert status("C") == ("not_applicable", "no_follow_up_scheduled")
    assert status("N") == ("not_applicable", "episode_ended")


def test_follow_up_population_and_next_offer_scope(tmp_path):
    r = run(
        tmp_path,
        [
            # A psychiatrist's visit is a next offer for an NPMH visit (same service line) ...
            row("T1", "2025-01-06T10:00:00", patient_id="P1"),
            row("T2", "2025-01-09T10:00:00", patient_id="P1", provider_class="psychiatrist"),
            # ... but a SUD appointment is not the next MH offer.
            row("M1", "2025-01-06T10:00:00", patient_id="P2"),
            row("M2", "2025-01-09T10:00:00", patient_id="P2", service_line="SUD",
                provider_class="sud_counselor"),
            # Group visits are measured and flagged; urgent and future visits are not units.
            row("G1", "2025-01-06T10:00:00", patient_id="P3", is_group="true"),
            row("U1", "2025-01-06T10:00:00", patient_id="P4", urgency="urgent"),
            row("F1", "2025-03-10T10:00:00", patient_id="P5", status="scheduled",
                booked="2025-02-01T10:00:00"),
            # SB 221 applies from 2022-07-01.
            row("O1", "2022-06-15T10:00:00", patient_id="P6"),
            row("O2", "2022-06-20T10:00:00", patient_id="P6"),
        ],
        as_of="2025-02-28",
    )  # fmt: skip
    assert r.unit("follow_up_sb221", "T1")["stop_appointment_id"] == "T2"
    assert r.unit("follow_up_sb221", "M1")["stop_appointment_id"] is None
    assert r.unit("follow_up_sb221", "G1")["is_group"] is True
    ids = {u["start_appointment_id"] for u in r.units("follow_up_sb221")}
    assert "T2" not in ids and "U1" not in ids and "F1" not in ids
    old = r.unit("follow_up_sb221", "O1")
    assert (old["status"], old["status_detail"]) == ("not_applicable", "before_sb221")


# -- appointment kind derived when blank -----------------------------------------------------


PC = {"service_line": "PC", "provider_class": "pcp"}


def test_blank_kinds_are_derived_from_visit_type_and_history(tmp_path):
    r = run(
        tmp_path,
        [
            # Coded "new": initial.
            row("K1", "2025-01-20T10:00:00", patient_id="P1", appointment_kind="",
                visit_type="NEW PATIENT 30", request_datetime=REQ, booked=REQ),
            # First appointment in the line: initial.
            row("K2", "2025-01-20T10:00:00", patient_id="P2", appointment_kind="",
                request_datetime=REQ, booked=REQ),
            # An attended visit 30 days before: follow-up (no initial unit).
            row("H1", "2024-12-09T10:00:00", patient_id="P3"),
            row("K3", "2025-01-08T10:00:00", patient_id="P3", appointment_kind="",
                booked="2024-12-09T11:00:00"),
            # Last attended visit more than 180 days before: a new episode.
            row("H2", "2024-06-03T10:00:00", patient_id="P4"),
            row("K4", "2025-01-20T10:00:00", patient_id="P4", appointment_kind="",
                request_datetime=REQ, booked=REQ),
            # A withdrawn row with a blank kind and no history: initial, no offer.
            row("K5", "2025-01-20T10:00:00", patient_id="P5", appointment_kind="",
                request_datetime=REQ, booked=REQ, status="cancelled", cancel_initiator="provider",
                cancel_datetime="2025-01-10T10:00:00"),
            # Primary care keeps its own history: a PC visit 30 days before makes K6 a
            # follow-up; K7's only history is in MH, so it starts primary care.
            row("H6", "2024-12-09T10:00:00", patient_id="P6", **PC),
            row("K6", "2025-01-08T10:00:00", patient_id="P6", appointment_kind="",
                booked="2024-12-09T11:00:00", **PC),
            row("H7", "2024-12-09T10:00:00", patient_id="P7"),
            row("K7", "2025-01-20T10:00:00", patient_id="P7", appointment_kind="",
                request_datetime=REQ, booked=REQ, **PC),
        ],
        as_of="2025-02-28",
    )  # fmt: skip
    starts = {u["start_appointment_id"] for u in r.units("initial_non_urgent_mh")}
    assert starts == {"K1", "K2", "K4", "K5"}  # not K3; H1 and H2 are coded follow-ups
    assert {u["start_appointment_id"] for u in r.units("initial_primary_care")} == {"K7"}
    assert r.unit("initial_non_urgent_mh", "K5")["status"] == "noncompliant"
    assert r.unit("initial_non_urgent_mh", "K1")["status"] == "compliant"


# -- summaries -------------------------------------------------------------------------------


def test_kaplan_meier_censors_pending_requests():
    km = metrics.kaplan_meier([(2, True, 1), (4, False, 1), (5, True, 1), (7, True, 1)])
    # At 2: 1 - 1/4; censored at 4; at 5: * (1 - 1/2); at 7: * 0.
    assert km.times == [2, 5, 7]
    assert km.survival == [0.75, 0.375, 0.0]
    assert km.quantile(0.5) == 5
    assert km.share_within(4) == 0.25
    assert km.share_within(10) == 1.0


def test_summary_rates_means_and_quantiles(tmp_path):
    rows = [
        initial(f"S{i}", REQ, start, patient_id=f"P{i}")
        for i, start in enumerate(
            ["2025-01-07T10:00:00", "2025-01-10T10:00:00", "2025-01-21T10:00:00",
             "2025-01-28T10:00:00"]
        )
    ]  # fmt: skip
    rows.append(initial("PEND", "2025-02-24T09:00:00", "2025-03-20T10:00:00", patient_id="Q",
                        status="cancelled", cancel_initiator="provider",
                        cancel_datetime="2025-02-25T10:00:00"))  # fmt: skip
    r = run(tmp_path, rows, as_of="2025-02-28")
    s = metrics.summarise(r.con)["initial_non_urgent_mh"]
    assert s.counts == {"compliant": 3, "noncompliant": 1, "pending": 1}
    assert s.rate == 0.75
    assert s.observed == 4
    assert s.mean == (1 + 4 + 10 + 15) / 4
    assert s.median == 7.0
    assert s.p90 is not None and 13 < s.p90 < 15
    assert s.km is not None and s.km.n == 5 and s.km.events == 4
