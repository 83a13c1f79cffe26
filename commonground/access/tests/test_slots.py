"""Next and third-next available from slots (M5), worked by hand from the spec's clock rules.

Clock (access-and-parity.md section 2): bd(s, d) counts business days d' with s < d' <= d, so
the measurement day is day 0. Calendars: F = federal (OPM), C = California state (CalHR).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from commonground.access import slots
from commonground.access.calendars import CALENDARS

F = CALENDARS["federal"].calendar()
C = CALENDARS["ca-state"].calendar()
HEADER = (
    "slot_id,schedule_id,status,start,end,clinic_id,provider_id,provider_class,service_line,"
    "overbooked"
)


def _data(*lines: str, header: str = HEADER) -> slots.SlotData:
    return slots.parse_slots(csv.DictReader(io.StringIO("\n".join([header, *lines]) + "\n")))


def _slot(sid: str, start: str, *, status: str = "free", clinic: str = "OAK",
          provider: str = "PR1", cls: str = "lcsw", overbooked: str = "false") -> str:  # fmt: skip
    return f"{sid},SCH1,{status},{start},,{clinic},{provider},{cls},MH,{overbooked}"


def _unit(units, level="clinic_class", clinic="OAK", cls="lcsw", provider=""):
    return next(
        u for u in units
        if u.level == level and u.clinic_id == clinic and u.provider_class == cls
        and u.provider_key == provider
    )  # fmt: skip


def test_next_and_third_next_count_tied_slots_separately_and_skip_busy_and_overbooked():
    # Point Mon 2025-01-06. Free LCSW slots: two at Wed 01-08 09:00 (two providers: a tie),
    # then Tue 01-21. The busy slot on 01-09 and the overbooked free one on 01-10 do not count.
    # next = 01-08: bd = 2 (Tue 7, Wed 8).
    # third = 01-21 (the tie fills 1st and 2nd): under F, Mon 01-20 is MLK Day, so
    # 7,8,9,10,13,14,15,16,17,21 = 10 business days -> within the 10-day NPMH standard.
    data = _data(
        _slot("s1", "2025-01-08T09:00:00-08:00", provider="PR1"),
        _slot("s2", "2025-01-08T09:00:00-08:00", provider="PR2"),
        _slot("s3", "2025-01-09T09:00:00-08:00", status="busy"),
        _slot("s4", "2025-01-10T09:00:00-08:00", overbooked="true"),
        _slot("s5", "2025-01-21T10:00:00-08:00", provider="PR1"),
    )
    units = slots.measure(data, [dt.date(2025, 1, 6)], F)
    u = _unit(units)
    assert (u.next_day, u.next_bd) == (dt.date(2025, 1, 8), 2)
    assert (u.third_day, u.third_bd) == (dt.date(2025, 1, 21), 10)
    assert u.standard == 10 and u.status == "compliant"
    assert data.overbooked_free == 1 and data.by_status == {"free": 4, "busy": 1}
    # Provider level: PR2 has one free slot -> next available but no third-next.
    pr2 = _unit(units, level="provider", provider="PR2")
    assert pr2.next_bd == 2 and pr2.third_day is None and pr2.third_bd is None


def test_no_free_slot_is_not_measurable_rather_than_noncompliant(tmp_path):
    path = tmp_path / "slots.csv"
    path.write_text(
        "\n".join([HEADER, _slot("s1", "2025-01-08T09:00:00-08:00", status="busy",
                                 clinic="SRF", cls="psychiatrist")]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    data = slots.read_slots(path)
    units = slots.measure(data, [dt.date(2025, 1, 6)], F, units_seen=slots.known_units(path))
    u = _unit(units, clinic="SRF", cls="psychiatrist")
    assert u.status == slots.NOT_MEASURABLE and u.next_bd is None
    assert _unit(
        units, level="provider", clinic="SRF", cls="psychiatrist", provider="PR1"
    ).status == (slots.NOT_MEASURABLE)
    # The summary says so too, and never prints a count from 1 to 10.
    text = "".join(slots.report_lines(data, units, [dt.date(2025, 1, 6)], "federal", None))
    assert "not meas." in text and "hidden" in text


def test_slots_before_the_measurement_day_are_ignored_and_same_day_is_zero():
    # Point Tue 2025-01-07. A slot on 01-06 is in the past. 01-07 at 23:30 Los Angeles time
    # (07:30Z on 01-08) is the same clinic-local day: 0 business days.
    data = _data(
        _slot("s0", "2025-01-06T09:00:00-08:00"),
        _slot("s1", "2025-01-08T07:30:00Z"),
    )
    u = _unit(slots.measure(data, [dt.date(2025, 1, 7)], F))
    assert (u.next_day, u.next_bd) == (dt.date(2025, 1, 7), 0)


def test_weekend_measurement_point_counts_from_the_weekend_day():
    # Point Sat 2025-01-04: a Saturday slot is day 0; Mon 01-06 is 1 business day.
    data = _data(_slot("s1", "2025-01-06T08:00:00-08:00"))
    assert _unit(slots.measure(data, [dt.date(2025, 1, 4)], F)).next_bd == 1
    data = _data(_slot("s1", "2025-01-04T10:00:00-08:00"))
    assert _unit(slots.measure(data, [dt.date(2025, 1, 4)], F)).next_bd == 0


def test_cesar_chavez_day_changes_the_status_under_the_state_calendar():
    # Point Mon 2025-03-24, next free LMFT slot Tue 04-08. Spec table: the 10th business day
    # after 03-24 is 04-07 under F and 04-08 under C (Mar 31 is a C holiday only).
    # F: bd = 11 -> noncompliant; C: bd = 10 -> compliant.
    data = _data(_slot("s1", "2025-04-08T09:00:00-07:00", cls="lmft"))
    u = _unit(slots.measure(data, [dt.date(2025, 3, 24)], F, C), cls="lmft")
    assert (u.next_bd, u.status) == (11, "noncompliant")
    assert (u.next_bd_alt, u.status_alt) == (10, "compliant")


def test_juneteenth_changes_the_status_under_the_federal_calendar():
    # Point Thu 2025-06-12, slot Fri 06-27: the 10th business day is 06-27 under F (Juneteenth)
    # and 06-26 under C. C: bd = 11 -> noncompliant; F: bd = 10 -> compliant.
    data = _data(_slot("s1", "2025-06-27T09:00:00-07:00"))
    u = _unit(slots.measure(data, [dt.date(2025, 6, 12)], C, F))
    assert (u.next_bd, u.status, u.next_bd_alt, u.status_alt) == (
        11,
        "noncompliant",
        10,
        "compliant",
    )


def test_psychiatrist_standard_is_fifteen_business_days():
    # Spec: request 2025-03-03 -> 2025-03-24 = 15 bd (compliant); 2025-03-25 = 16.
    ok = _unit(slots.measure(_data(_slot("s", "2025-03-24T09:00:00-07:00", cls="psychiatrist")),
                             [dt.date(2025, 3, 3)], F), cls="psychiatrist")  # fmt: skip
    late = _unit(slots.measure(_data(_slot("s", "2025-03-25T09:00:00-07:00", cls="psychiatrist")),
                               [dt.date(2025, 3, 3)], F), cls="psychiatrist")  # fmt: skip
    assert (ok.next_bd, ok.status) == (15, "compliant")
    assert (late.next_bd, late.status) == (16, "noncompliant")


def test_snapshot_dates_are_separate_measurement_points():
    # Weekly exports in one file: each snapshot reads only its own rows.
    header = HEADER + ",snapshot_date"
    data = _data(
        _slot("a", "2025-01-08T09:00:00-08:00") + ",2025-01-06",
        _slot("b", "2025-01-15T09:00:00-08:00") + ",2025-01-13",
        header=header,
    )
    points = slots.measurement_points(data, dt.date(2025, 2, 1))
    assert points == [dt.date(2025, 1, 6), dt.date(2025, 1, 13)]
    units = [u for u in slots.measure(data, points, F) if u.level == "clinic_class"]
    assert [(u.point, u.next_day, u.next_bd) for u in units] == [
        (dt.date(2025, 1, 6), dt.date(2025, 1, 8), 2),
        (dt.date(2025, 1, 13), dt.date(2025, 1, 15), 2),
    ]


def test_bad_rows_are_reported_and_missing_columns_refused():
    data = _data(_slot("s1", "not-a-date"), _slot("s2", "2025-01-08", status="open"))
    assert [(p[1], p[3]) for p in data.problems] == [
        ("start", "not an ISO date-time"),
        ("status", "not a FHIR Slot.status"),
    ]
    try:
        _data("x", header="slot_id")
    except slots.SlotFileError as exc:
        assert "status" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("missing columns accepted")


def test_a_start_with_an_offset_past_14_hours_is_not_a_date_time():
    # Python reads offsets up to 24 hours; no zone is past +14:00 or -12:00.
    data = _data(_slot("s1", "2025-01-08T09:00:00+15:00"), _slot("s2", "2025-01-08T09:00:00-23:59"))
    assert [(p[1], p[2], p[3]) for p in data.problems] == [
        ("start", "2025-01-08T09:00:00+15:00", "not an ISO date-time"),
        ("start", "2025-01-08T09:00:00-23:59", "not an ISO date-time"),
    ]
    assert not _data(_slot("s3", "2025-01-08T09:00:00+14:00")).problems


def test_summary_suppresses_small_counts_and_shows_large_ones():
    # 12 clinics with one LCSW slot 2 bd out: 12 units, all compliant, median 2.0.
    lines = [_slot(f"s{i}", "2025-01-08T09:00:00-08:00", clinic=f"C{i:02}") for i in range(12)]
    data = _data(*lines)
    units = slots.measure(data, [dt.date(2025, 1, 6)], F)
    text = "".join(slots.report_lines(data, units, [dt.date(2025, 1, 6)], "federal", None))
    row = next(line for line in text.splitlines() if line.strip().startswith("lcsw"))
    assert row.split()[:5] == ["lcsw", "10", "12", "12", "0"]
    assert "100.0%" in row and "2.0" in row


def test_check_of_a_fhir_bundle_measures_its_slots_without_options(tmp_path):
    from commonground.access.cli import run_check
    from commonground.access.tests.test_fhir import NUCC, appointment, bundle, write

    schedule = {"resourceType": "Schedule", "id": "SCH1",
                "actor": [{"reference": "Location/RIC"}, {"reference": "Practitioner/PR1"}],
                "specialty": [{"coding": [{"system": NUCC, "code": "106H00000X"}]}]}  # fmt: skip
    free = [
        {"resourceType": "Slot", "id": f"SL{i}", "schedule": {"reference": "Schedule/SCH1"},
         "status": "free", "start": f"2025-01-2{i}T10:00:00-08:00",
         "end": f"2025-01-2{i}T11:00:00-08:00"}
        for i in range(1, 4)
    ]  # fmt: skip
    path = write(tmp_path, "s.json", bundle(appointment("A1"), schedule, *free))
    out = tmp_path / "m.csv"
    stdout = io.StringIO()
    code = run_check([str(path), "--as-of", "2025-01-17", "--measures-out", str(out)], stdout)
    assert code == 0, stdout.getvalue()
    assert "Next and third-next available from slots" in stdout.getvalue()
    rows = list(csv.DictReader(out.open(newline="")))
    unit = next(r for r in rows if r["level"] == "clinic_class")
    # Point Fri 01-17; free LMFT slots Tue 21, Wed 22, Thu 23; Mon 01-20 is MLK Day (F):
    # next = 01-21 -> 1 business day; third = 01-23 -> 3.
    assert (unit["clinic_id"], unit["provider_class"]) == ("RIC", "lmft")
    assert (unit["next_available_bd"], unit["third_next_available_bd"]) == ("1", "3")
