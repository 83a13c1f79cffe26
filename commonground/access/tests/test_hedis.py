"""HEDIS-like FUH / FUM / FUA, worked by hand from access-and-parity.md sections 5 and 7.

Measurement year 2025 (index events Jan 1 - Dec 1), data cut-off 2026-02-01 unless stated.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from commonground.access import hedis
from commonground.access.cli import run_check
from commonground.access.tests.helpers import SPEC_ROWS

HEADER = (
    "encounter_id,patient_id,status,class,start,end,setting,principal_dx,other_dx,"
    "provider_class,discharge_disposition,patient_birth_year"
)
AS_OF = dt.date(2026, 2, 1)


def enc(eid, pid, cls, start, end="", dx="", other="", provider="", disp="", birth="1980",
        status="finished", setting=""):  # fmt: skip
    return (
        f"{eid},{pid},{status},{cls},{start},{end},{setting},{dx},{other},{provider},{disp},{birth}"
    )


def run(*lines, as_of=AS_OF, year=2025):
    data = hedis.parse_encounters(csv.DictReader(io.StringIO("\n".join([HEADER, *lines]) + "\n")))
    return data, hedis.compute(data.encounters, year, as_of)


def event(results, measure, eid):
    return next(e for e in results[measure].events if e.encounter_id == eid)


@pytest.mark.parametrize(
    ("code", "category"),
    [("F32.9", "mh"), ("F10.20", "sud"), ("F17.210", "other"), ("T40.1X1A", "overdose"),
     ("T40.1X2A", "self_harm"), ("X78.9XXA", "self_harm"), ("I10", "other"), ("mh", "mh"),
     ("", "")],
)  # fmt: skip
def test_diagnosis_categories_from_icd10(code, category):
    assert hedis.dx_category(code) == category


@pytest.mark.parametrize(
    ("visit_day", "in_7", "in_30"),
    [
        ("2025-03-10", False, False),  # discharge day: does not count (0 < days)
        ("2025-03-17", True, True),  # day 7
        ("2025-03-18", False, True),  # day 8: 30-day only
        ("2025-04-09", False, True),  # day 30
        ("2025-04-10", False, False),  # day 31
    ],
)
def test_fuh_window_excludes_the_discharge_day(visit_day, in_7, in_30):
    _, results = run(
        enc("H1", "P1", "IMP", "2025-03-01", "2025-03-10T15:00:00-08:00", dx="F32.9"),
        enc("V1", "P1", "AMB", visit_day, dx="Z00", provider="lcsw"),  # MH provider: qualifies
    )
    e = event(results, "FUH", "H1")
    assert e.counted and e.index_date == dt.date(2025, 3, 10)
    assert (e.follow_up_7 is not None, e.follow_up_30 is not None) == (in_7, in_30)


def test_fuh_visit_needs_a_mh_provider_or_principal_mh_diagnosis():
    _, results = run(
        enc("H1", "P1", "IMP", "2025-03-01", "2025-03-10", dx="F20.9"),
        enc("V1", "P1", "AMB", "2025-03-12", dx="I10", provider="pcp"),  # neither: no
        enc("V2", "P1", "VR", "2025-03-20", dx="F20.9", provider="pcp"),  # principal MH: yes
    )
    e = event(results, "FUH", "H1")
    assert e.follow_up_7 is None and e.follow_up_30 == dt.date(2025, 3, 20)


def test_fuh_denominator_period_readmission_and_exclusions():
    _, results = run(
        # Dec 2 discharge: outside Jan 1 - Dec 1, not an index event.
        enc("DEC2", "P1", "IMP", "2025-11-28", "2025-12-02", dx="F32.9"),
        # Readmitted (acute, principal MH) 20 days later: only the last discharge counts.
        enc("R1", "P2", "IMP", "2025-05-01", "2025-05-05", dx="F31.0"),
        enc("R2", "P2", "ACUTE", "2025-05-25", "2025-06-01", dx="F31.0"),
        # Readmitted Nov 20 -> last discharge Dec 3: both dropped.
        enc("L1", "P3", "IMP", "2025-11-01", "2025-11-10", dx="F31.0"),
        enc("L2", "P3", "IMP", "2025-11-20", "2025-12-03", dx="F31.0"),
        # Transfer to non-acute care (any diagnosis) within 30 days: excluded.
        enc("N1", "P4", "IMP", "2025-02-01", "2025-02-05", dx="F32.9"),
        enc("N2", "P4", "NONAC", "2025-02-05", "2025-03-01", dx="I10"),
        # Hospice, age under 6 and not-MH principal diagnosis.
        enc("HO", "P5", "IMP", "2025-02-01", "2025-02-05", dx="F32.9", disp="hosp"),
        enc("AGE", "P6", "IMP", "2025-02-01", "2025-02-05", dx="F32.9", birth="2020"),
        enc("MED", "P7", "IMP", "2025-02-01", "2025-02-05", dx="I21.9"),
        # Discharged 2025-11-20 with cut-off 2025-12-15: the 30-day window is still open.
    )
    statuses = {e.encounter_id: e.status for e in results["FUH"].events}
    assert statuses == {
        "R1": "excluded:readmitted_keep_last",
        "R2": "counted",
        "L1": "excluded:readmitted_keep_last",
        "N1": "excluded:nonacute_admission",
        "HO": "excluded:hospice_or_death",
        "AGE": "excluded:age",
    }
    assert results["FUH"].denominator == 1


def test_index_events_whose_window_is_open_at_the_cut_off_are_pending():
    _, results = run(
        enc("H1", "P1", "IMP", "2025-11-15", "2025-11-20", dx="F32.9"),
        as_of=dt.date(2025, 12, 15),
    )
    assert event(results, "FUH", "H1").status == "pending"
    assert results["FUH"].denominator == 0


@pytest.mark.parametrize(
    ("visit_day", "in_7", "in_30"),
    [("2025-04-01", True, True), ("2025-04-08", True, True), ("2025-04-09", False, True)],
)
def test_fum_counts_the_ed_day(visit_day, in_7, in_30):
    # ED 2025-04-01: the ED day (day 0) counts, day 7 counts, day 8 is 30-day only.
    _, results = run(
        enc("ED1", "P1", "EMER", "2025-04-01T22:00:00-07:00", "2025-04-02", dx="F41.1"),
        enc("V1", "P1", "AMB", visit_day, dx="F41.1"),
    )
    e = event(results, "FUM", "ED1")
    assert (e.follow_up_7 is not None, e.follow_up_30 is not None) == (in_7, in_30)


def test_fum_keeps_the_first_ed_visit_in_31_days_and_drops_admissions():
    _, results = run(
        enc("E1", "P1", "EMER", "2025-04-01", dx="F41.1"),
        enc("E2", "P1", "EMER", "2025-05-01", dx="F41.1"),  # day 30 after E1: dropped
        enc("E3", "P1", "EMER", "2025-05-02", dx="F41.1"),  # day 31: a new index event
        enc("E4", "P2", "EMER", "2025-04-01", dx="F32.9"),
        enc("I4", "P2", "IMP", "2025-04-20", "2025-04-25", dx="I10"),  # admitted in 30 days
    )
    statuses = {e.encounter_id: e.status for e in results["FUM"].events}
    assert statuses == {
        "E1": "counted",
        "E2": "excluded:within_31_days_of_an_earlier_visit",
        "E3": "counted",
        "E4": "excluded:inpatient_admission",
    }


def test_fua_overdose_in_any_position_age_13_and_pharmacotherapy():
    _, results = run(
        # Principal diagnosis not SUD, but an overdose among the others: in the denominator.
        enc("E1", "P1", "EMER", "2025-06-02", dx="R41.82", other="T40.1X1A"),
        enc("M1", "P1", "AMB", "2025-06-05", setting="pharmacotherapy"),  # day 3: counts
        enc("E2", "P2", "EMER", "2025-06-02", dx="F11.20", birth="2013"),  # age 12: out
        enc("E3", "P3", "EMER", "2025-06-02", dx="F10.20"),
        enc("V3", "P3", "AMB", "2025-06-20", dx="I10", provider="lmft"),  # MH provider, day 18
        enc("E4", "P4", "EMER", "2025-06-02", dx="F17.210"),  # nicotine: not SUD here
    )
    assert event(results, "FUA", "E1").follow_up_7 == dt.date(2025, 6, 5)
    assert event(results, "FUA", "E2").status == "excluded:age"
    e3 = event(results, "FUA", "E3")
    assert e3.follow_up_7 is None and e3.follow_up_30 == dt.date(2025, 6, 20)
    assert {e.encounter_id for e in results["FUA"].events} == {"E1", "E2", "E3"}
    assert results["FUM"].events == []


def test_cancelled_encounters_and_inpatient_without_diagnosis_are_reported():
    data, results = run(
        enc("C1", "P1", "AMB", "2025-04-02", status="cancelled"),
        enc("H1", "P1", "IMP", "2025-04-01", "2025-04-03"),
    )
    assert data.not_happened == 1 and data.without_dx == 1
    assert results["FUH"].denominator == 0
    text = "".join(hedis.report_lines(data, results, AS_OF, 0))
    assert "HEDIS-like" in text and "not measurable: no index event" in text


def test_an_encounter_time_with_an_offset_past_14_hours_is_a_problem():
    data, _ = run(enc("H1", "P1", "IMP", "2025-02-01T10:00:00+16:00", "2025-02-03", dx="F33.1"))
    assert data.problems == [(2, "start", "2025-02-01T10:00:00+16:00", "not an ISO date-time")]


def test_a_bad_encounter_end_is_reported_on_the_end_column(tmp_path):
    # A bad end was once reported as the start (with the start's good value).
    data, _ = run(enc("H1", "P1", "IMP", "2025-02-01", "2025-02-31", dx="F33.1"))
    assert data.problems == [(2, "end", "2025-02-31", "not an ISO date-time")]
    path = tmp_path / "enc.csv"
    path.write_text("\n".join([HEADER, enc("H1", "P1", "IMP", "2025-02-01", "2025-02-31")]) + "\n")
    out = io.StringIO()
    assert run_check([str(path), "--as-of", "2025-03-31"], stdout=out) == 2
    assert "line 2: end = '2025-02-31'" in out.getvalue(), out.getvalue()


def test_an_unknown_encounter_status_is_a_problem_not_an_event_that_did_not_happen():
    data, _ = run(
        enc("H1", "P1", "IMP", "2025-02-01", "2025-02-05", dx="F33.1", status="finishd"),
        enc("H2", "P1", "AMB", "2025-02-08", dx="F33.1", status="cancelled"),
    )
    assert [(p[0], p[1], p[2]) for p in data.problems] == [(2, "status", "finishd")]
    assert data.not_happened == 1


def test_report_suppresses_counts_from_one_to_ten():
    lines = [enc(f"E{i}", f"P{i}", "EMER", "2025-04-01", dx="F32.9") for i in range(12)]
    lines += [enc(f"V{i}", f"P{i}", "AMB", "2025-04-03", dx="F32.9") for i in range(3)]
    data, results = run(*lines)
    p = hedis.published(results["FUM"])
    # 12 index events, 3 followed up: 3 is small, its complement 9 too; the total may show.
    assert p["den"] == 12 and p["h7"] is None and p["m7"] is None
    text = "".join(hedis.report_lines(data, results, AS_OF, 0))
    fum = next(line for line in text.splitlines() if line.strip().startswith("FUM"))
    assert fum.split()[:3] == ["FUM", "12", "hidden"]


def test_check_cli_reads_slots_and_encounters_and_uses_appointments_as_follow_ups(tmp_path):
    extract_csv = tmp_path / "spec.csv"
    extract_csv.write_text(SPEC_ROWS, encoding="utf-8")
    encounters = tmp_path / "encounters.csv"
    # P9001 visits the ED on 2025-01-15 for depression; the extract's attended LMFT visit
    # A1001 on 2025-01-21 (day 6, MH service line as the diagnosis proxy) is the follow-up.
    encounters.write_text(
        HEADER + "\n" + enc("ED1", "P9001", "EMER", "2025-01-15", dx="F32.9") + "\n",
        encoding="utf-8",
    )
    slot_file = tmp_path / "slots.csv"
    slot_file.write_text(
        "slot_id,status,start,clinic_id,provider_id,provider_class\n"
        "s1,free,2025-03-27T09:00:00-07:00,OAK,PR55,lmft\n",
        encoding="utf-8",
    )
    out = tmp_path / "measures.csv"
    stdout = io.StringIO()
    code = run_check(
        [str(extract_csv), "--as-of", "2025-03-25", "--slots", str(slot_file),
         "--encounters", str(encounters), "--measures-out", str(out)],
        stdout=stdout,
    )  # fmt: skip
    text = stdout.getvalue()
    assert code == 0, text
    assert "Next and third-next available from slots" in text
    assert "HEDIS-like follow-up measures" in text and "not HEDIS rates" in text
    # One unit, one index event: every count printed is suppressed.
    assert "hidden" in text
    rows = list(csv.reader(out.open(newline="")))
    assert rows[1][:3] == ["clinic_class", "2025-03-25", "OAK"]
    assert rows[1][6] == "2"  # 03-25 -> 03-27: Wed 26, Thu 27
    ed = next(r for r in rows if r[:2] == ["FUM", "ED1"])
    assert ed[3:] == ["counted", "2025-01-21", "2025-01-21"]


def test_check_cli_refuses_an_unreadable_encounter_file(tmp_path):
    extract_csv = tmp_path / "spec.csv"
    extract_csv.write_text(SPEC_ROWS, encoding="utf-8")
    bad = tmp_path / "enc.csv"
    bad.write_text("encounter_id\nX\n", encoding="utf-8")
    stdout = io.StringIO()
    code = run_check([str(extract_csv), "--as-of", "2025-03-25", "--encounters", str(bad)],
                     stdout=stdout)  # fmt: skip
    assert code == 2 and "missing column" in stdout.getvalue()
