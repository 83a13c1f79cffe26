"""Dashboard aggregates: recomputed from the store after an import, idempotent, never holding
patient rows; the aggregate-only weekly counts input; suppression of every displayed table."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.base import ContentFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonground.access import dashboards, services, suppression
from commonground.access.aggregates import recompute_aggregates
from commonground.access.counts import counts_import, parse
from commonground.access.models import AccessAggregate, AccessSettings, AggregateRun
from commonground.access.tasks import run_import_task
from commonground.access.tests.helpers import SPEC_ROWS, initial, row, write_csv
from commonground.access.tests.test_imports import private_files  # noqa: F401 - fixture
from commonground.audit.models import AuditEvent

FIELDS = (
    "clinic_id", "source", "calendar", "metric", "period", "period_start", "dimension", "value",
    "compliant", "noncompliant", "exception", "patient_preference", "pending",
    "unknown_request_date", "not_applicable", "changed_other_calendar", "denominator", "rate",
    "observed", "mean_wait", "median_wait", "p90_wait", "waits",
)  # fmt: skip


def import_file(world, content: bytes, capture, *, clinic=None) -> None:
    job = services.import_receive(
        actor=world.person("data_steward"),
        upload=ContentFile(content, name="extract.csv"),
        original_name="extract.csv",
        region=world.region,
        clinic=clinic,
        enqueue=False,
    )
    with capture(execute=True):
        run_import_task.enqueue(str(job.pk))


def snapshot(world) -> list[tuple]:
    return sorted(
        AccessAggregate.objects.filter(region=world.region).values_list(*FIELDS),
        key=repr,
    )


def map_codes(world, **codes: str) -> None:
    AccessSettings.objects.update_or_create(region=world.region, defaults={"clinic_codes": codes})


def test_an_import_recomputes_the_aggregates_in_the_background(
    world, django_capture_on_commit_callbacks
):
    map_codes(world, OAK="oakland")
    import_file(world, SPEC_ROWS.encode(), django_capture_on_commit_callbacks)
    run = AggregateRun.objects.get(region=world.region)
    assert run.state == AggregateRun.State.DONE and run.as_of == dt.date(2025, 3, 20)
    assert run.calendar.startswith("federal@") and run.unmapped_codes == ["SRF"]
    oak = AccessAggregate.objects.get(
        clinic=world.clinic_a, metric="follow_up_sb221", period="month",
        period_start=dt.date(2025, 1, 1), dimension="total",
    )  # fmt: skip
    # A1001 -> A1002 is 19 business days: SB 221 noncompliant (access-and-parity.md 6.1).
    assert (oak.compliant, oak.noncompliant, oak.median_wait, oak.waits) == (0, 1, 19.0, {"19": 1})
    initial_mh = AccessAggregate.objects.get(
        clinic=world.clinic_a, metric="initial_non_urgent_mh", period="week", dimension="total"
    )
    assert initial_mh.period_start == dt.date(2025, 1, 6) and initial_mh.rate == 1.0
    # The psychiatry request of SRF (unmapped) counts region-wide only: pending at the cut-off.
    psych = AccessAggregate.objects.get(
        clinic=None, metric="initial_psychiatry", period="month", dimension="total"
    )
    assert psych.pending == 1
    assert not AccessAggregate.objects.filter(clinic=world.clinic_a, metric="initial_psychiatry")
    by_modality = AccessAggregate.objects.filter(
        clinic=world.clinic_a, dimension="modality", metric="follow_up_sb221"
    )
    assert {a.value for a in by_modality} == {"video"}


def test_no_patient_level_value_reaches_the_database(world, django_capture_on_commit_callbacks):
    map_codes(world, OAK="oakland", SRF="richmond")
    import_file(world, SPEC_ROWS.encode(), django_capture_on_commit_callbacks)
    text = repr(snapshot(world)) + repr(list(AggregateRun.objects.values()))
    for identifier in ("P9001", "P9002", "A1001", "A1002", "A1003", "PR55", "E77"):
        assert identifier not in text


def test_recomputing_twice_gives_identical_aggregates(world, django_capture_on_commit_callbacks):
    map_codes(world, OAK="oakland")
    import_file(world, SPEC_ROWS.encode(), django_capture_on_commit_callbacks)
    first = snapshot(world)
    assert first
    recompute_aggregates(world.region)
    recompute_aggregates(world.region)
    assert snapshot(world) == first
    assert AggregateRun.objects.filter(region=world.region, state="done").count() == 3


def test_a_clinic_scoped_import_maps_its_codes_to_the_clinic(
    world, tmp_path, django_capture_on_commit_callbacks
):
    rows = [
        initial("R1", "2025-01-06T09:00:00-08:00", "2025-01-13T10:00:00-08:00", clinic_id="RIC"),
    ]
    content = write_csv(tmp_path / "ric.csv", rows).read_bytes()
    import_file(world, content, django_capture_on_commit_callbacks, clinic=world.clinic_b)
    assert AccessAggregate.objects.filter(clinic=world.clinic_b, metric="initial_non_urgent_mh")
    assert AggregateRun.objects.get(region=world.region).unmapped_codes == []


def test_an_empty_store_clears_the_extract_aggregates(world):
    AccessAggregate.objects.create(
        region=world.region, source="extract", metric="urgent", period="month",
        period_start=dt.date(2025, 1, 1), dimension="total",
    )  # fmt: skip
    run = recompute_aggregates(world.region)
    assert run.state == "done" and run.aggregates == 0
    assert not AccessAggregate.objects.exists()


def test_a_changed_extract_updates_the_aggregates(
    world, tmp_path, django_capture_on_commit_callbacks
):
    map_codes(world, OAK="oakland")
    early = [row("V1", "2025-01-06T10:00:00-08:00"), row("V2", "2025-01-10T10:00:00-08:00")]
    import_file(world, write_csv(tmp_path / "a.csv", early).read_bytes(),
                django_capture_on_commit_callbacks)  # fmt: skip
    jan = {"clinic": world.clinic_a, "metric": "follow_up_sb221", "period": "month",
           "dimension": "total", "period_start": dt.date(2025, 1, 1)}  # fmt: skip
    assert AccessAggregate.objects.get(**jan).compliant == 1
    later = [row("V2", "2025-02-20T10:00:00-08:00", booked="2025-01-06T11:00:00")]
    import_file(world, write_csv(tmp_path / "b.csv", later).read_bytes(),
                django_capture_on_commit_callbacks)  # fmt: skip
    moved = AccessAggregate.objects.get(**jan)
    assert (moved.compliant, moved.noncompliant) == (0, 1)


def test_a_request_without_a_date_is_counted_in_the_month_it_was_booked(
    world, tmp_path, django_capture_on_commit_callbacks
):
    """Booked on 12 March for 15 April, with no request date: the data end on 12 March, so
    April is a month they do not reach. Dated by its appointment's day, the request made
    April the dashboard's newest month and moved every breakdown's twelve months on by one."""
    map_codes(world, OAK="oakland")
    rows = [
        initial("I1", "2025-03-03T09:00:00-08:00", "2025-03-10T10:00:00-07:00", patient_id="P1"),
        row("U1", "2025-04-15T10:00:00-07:00", booked="2025-03-12T09:00:00-07:00",
            status="scheduled", appointment_kind="initial", patient_id="P2"),
    ]  # fmt: skip
    import_file(world, write_csv(tmp_path / "u.csv", rows).read_bytes(),
                django_capture_on_commit_callbacks)  # fmt: skip
    assert AggregateRun.objects.get(region=world.region).as_of == dt.date(2025, 3, 12)
    march = AccessAggregate.objects.get(
        clinic=world.clinic_a, metric="initial_non_urgent_mh", period="month",
        period_start=dt.date(2025, 3, 1), dimension="total",
    )  # fmt: skip
    assert (march.compliant, march.unknown_request_date) == (1, 1)
    months = AccessAggregate.objects.filter(region=world.region, period="month")
    assert {r.period_start for r in months} == {dt.date(2025, 3, 1)}
    window = dashboards._breakdown_window(months)
    assert window == (dt.date(2024, 4, 1), dt.date(2025, 3, 1))


def test_results_the_other_calendar_would_change_are_counted(
    world, tmp_path, django_capture_on_commit_callbacks
):
    """Columbus Day (14 October 2024) is a federal holiday, not a CalHR one. A request on
    1 October has its 10th business day on 16 October under the federal calendar and on
    15 October under CalHR's: an offer on the 16th meets one and misses the other."""
    map_codes(world, OAK="oakland")
    rows = [
        initial("C1", "2024-10-01T09:00:00-07:00", "2024-10-16T10:00:00-07:00", patient_id="P1"),
        initial("C2", "2024-10-01T09:00:00-07:00", "2024-10-10T10:00:00-07:00", patient_id="P2"),
    ]
    import_file(world, write_csv(tmp_path / "c.csv", rows).read_bytes(),
                django_capture_on_commit_callbacks)  # fmt: skip
    october = {"clinic": world.clinic_a, "metric": "initial_non_urgent_mh", "period": "month",
               "dimension": "total", "period_start": dt.date(2024, 10, 1)}  # fmt: skip
    federal = AccessAggregate.objects.get(**october)
    assert (federal.compliant, federal.changed_other_calendar) == (2, 1)
    AccessSettings.objects.filter(region=world.region).update(calendar="ca-state")
    recompute_aggregates(world.region)
    calhr = AccessAggregate.objects.get(calendar__startswith="ca-state@", **october)
    assert (calhr.compliant, calhr.noncompliant, calhr.changed_other_calendar) == (1, 1, 1)


# -- aggregate-only input ------------------------------------------------------------------

GOOD = """clinic_code,week_start,metric,provider_class,numerator,denominator,exceptions,pending
oakland,2025-09-29,follow_up_sb221,lcsw,30,40,2,1
oakland,2025-09-29,follow_up_sb221,lmft,12,20,0,0
oakland,2025-10-06,follow_up_sb221,,25,50,1,3
richmond,2025-10-06,initial_non_urgent_mh,all,18,20,0,0
"""


def upload(world, text: str):
    return counts_import(
        actor=world.person("data_steward"),
        region=world.region,
        upload=io.BytesIO(text.encode()),
    )


def test_weekly_counts_are_stored_with_totals_and_roll_ups(world):
    result = upload(world, GOOD)
    assert result.valid and len(result.rows) == 4 and result.replaced == 0
    counts = AccessAggregate.objects.filter(source="counts")
    week = counts.get(clinic=world.clinic_a, period="week", period_start=dt.date(2025, 9, 29),
                      dimension="total")  # fmt: skip
    assert (week.compliant, week.noncompliant, week.exception, week.pending) == (42, 18, 2, 1)
    month = counts.get(clinic=world.clinic_a, period="month", period_start=dt.date(2025, 10, 1),
                       dimension="total", metric="follow_up_sb221")  # fmt: skip
    assert (month.compliant, month.denominator) == (25, 50)
    region = counts.get(clinic=None, period="week", period_start=dt.date(2025, 10, 6),
                        dimension="total", metric="initial_non_urgent_mh")  # fmt: skip
    assert region.rate == 0.9
    run = AggregateRun.objects.get(source="counts")
    assert run.state == "done" and run.as_of == dt.date(2025, 10, 12)
    assert AuditEvent.objects.filter(action="create", object_type="access.aggregaterun").exists()


def test_re_importing_counts_replaces_the_same_rows(world):
    upload(world, GOOD)
    before = snapshot(world)
    again = upload(world, GOOD)
    assert again.replaced == 5 and snapshot(world) == before  # with the derived total
    changed = upload(world, GOOD.replace("oakland,2025-10-06,follow_up_sb221,,25,50",
                                         "oakland,2025-10-06,follow_up_sb221,,45,50"))  # fmt: skip
    assert changed.valid
    week = AccessAggregate.objects.get(
        source="counts", clinic=world.clinic_a, period="week",
        period_start=dt.date(2025, 10, 6), dimension="total",
    )  # fmt: skip
    assert week.compliant == 45
    assert len(snapshot(world)) == len(before)


def test_a_bad_counts_file_is_reported_by_line_and_column_and_nothing_is_stored(world):
    bad = (
        "clinic_code,week_start,metric,provider_class,numerator,denominator,exceptions,pending\n"
        "oakland,2025-09-30,follow_up_sb221,,3,4,0,0\n"  # a Tuesday
        "nowhere,2025-09-29,follow_up_sb221,,3,4,0,0\n"
        "oakland,2025-09-29,waits,,3,4,0,0\n"
        "oakland,2025-09-29,urgent,surgeon,3,4,0,0\n"
        "oakland,2025-09-29,urgent,,9,4,0,0\n"
        "oakland,2025-09-29,urgent,,=1+1,4,-1,0\n"
        "oakland,2025-09-29,urgent,,1,4,0\n"
        "oakland,2025-10-06,urgent,,1,4,0,0\n"
        "oakland,2025-10-06,urgent,all,1,4,0,0\n"
    )
    result = upload(world, bad)
    assert not result.valid
    found = {(e.line, e.column, e.value, e.reason) for e in result.errors}
    assert (2, "week_start", "2025-09-30", "a week starts on a Monday") in found
    assert (3, "clinic_code", "nowhere", "no clinic of this region has this code") in found
    assert any(e.line == 4 and e.column == "metric" for e in result.errors)
    assert (5, "provider_class", "surgeon", "unknown provider class") in found
    assert (6, "numerator", "9", "larger than the denominator") in found
    assert {(e.line, e.column) for e in result.errors if e.line == 7} == {
        (7, "numerator"), (7, "exceptions"),
    }  # fmt: skip
    assert any(e.line == 8 and "fields" in e.reason for e in result.errors)
    assert any(e.line == 10 and "line 9" in e.reason for e in result.errors)
    assert not AccessAggregate.objects.exists()
    # The rejected upload is recorded (with its error report), and nothing else.
    assert list(AggregateRun.objects.values_list("state", "aggregates")) == [("invalid", 0)]


COUNTS_HEADER = (
    "clinic_code,week_start,metric,provider_class,numerator,denominator,exceptions,pending\n"
)


@pytest.mark.parametrize("value", ["\u00b2", "\u0661\u0662", "9" * 5000])
def test_a_count_of_digits_that_are_not_ascii_or_too_many_is_a_problem_not_a_crash(value):
    """ "²" and Arabic-Indic "١٢" are digits to ``str.isdigit`` (and ``int`` reads "١٢" as 12,
    but raised on "²" and on thousands of digits)."""
    text = COUNTS_HEADER + f"oak,2025-10-06,urgent,,1,{value},0,0\n"
    result = parse(io.StringIO(text, newline=""), {"oak": 1}, today=dt.date(2026, 1, 1))
    assert not result.valid
    assert [(e.line, e.column) for e in result.errors] == [(2, "denominator")]


def test_a_count_with_leading_zeros_is_read():
    text = COUNTS_HEADER + "oak,2025-10-06,urgent,,0000000001,00000000004,0,0\n"
    result = parse(io.StringIO(text, newline=""), {"oak": 1}, today=dt.date(2026, 1, 1))
    assert result.valid and (result.rows[0].numerator, result.rows[0].denominator) == (1, 4)


@pytest.mark.parametrize("week", ["2025-W41-1", "20251006"])
def test_a_week_start_is_written_yyyy_mm_dd_only(week):
    text = COUNTS_HEADER + f"oak,{week},urgent,,1,5,0,0\n"
    result = parse(io.StringIO(text, newline=""), {"oak": 1}, today=dt.date(2026, 1, 1))
    assert [(e.column, e.reason) for e in result.errors] == [
        ("week_start", "a date YYYY-MM-DD is required")
    ]


def test_a_counts_file_without_the_columns_is_refused_at_the_header():
    result = parse(io.StringIO("clinic,week\nx,y\n"), {}, today=dt.date(2026, 1, 1))
    assert not result.valid
    assert {e.column for e in result.errors if e.line == 1} >= {"clinic_code", "clinic", "week"}


# -- suppression at every exit -------------------------------------------------------------

cell = st.one_of(st.integers(0, 12), st.integers(0, 60))


@st.composite
def tables(draw):
    n_rows = draw(st.integers(1, 6))
    keys = [f"2025-{m:02d}-01" for m in range(1, n_rows + 1)]
    cols = [c for c, _ in dashboards.STATUS_COLUMNS]
    return keys, {k: {c: draw(cell) for c in cols} for k in keys}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_no_suppressed_cell_can_be_derived_from_the_displayed_totals(table):
    keys, counts = table
    cols = [c for c, _ in dashboards.STATUS_COLUMNS]
    pub = dashboards._status_table(counts, keys)
    rows = dashboards._status_rows(pub, keys, {k: k for k in keys})
    # No displayed count is 1-10.
    for r in rows:
        for name, text in r["cells"].items():
            if name in ("rate", dashboards.SENSITIVITY) or text in (
                suppression.SUPPRESSED,
                "not shown",
            ):
                continue
            assert not suppression.is_small(int(text.replace(",", ""))), (name, text)
    # Rebuild what is displayed: cells, row totals, column totals and the grand total.
    lines = [suppression.Line(tuple((k, c) for c in cols), (k, suppression.TOTAL)) for k in keys]
    lines += [suppression.Line(tuple((k, c) for k in keys), (suppression.TOTAL, c)) for c in cols]
    lines.append(
        suppression.Line(
            tuple((suppression.TOTAL, c) for c in cols), (suppression.TOTAL, suppression.TOTAL)
        )
    )
    lines.append(
        suppression.Line(
            tuple((k, suppression.TOTAL) for k in keys), (suppression.TOTAL, suppression.TOTAL)
        )
    )
    hidden = {key for key in pub.values if pub.value(*key) is None}
    assert suppression.determined_cells(pub.values, lines, hidden) == set()
    # A rate (and its denominator) is shown only with both of its cells: the shown rate and
    # denominator give back compliant and noncompliant, which must then be shown themselves.
    for r in rows:
        if r["cells"]["denominator"] != suppression.SUPPRESSED:
            assert r["cells"]["compliant"] != suppression.SUPPRESSED
            assert r["cells"]["noncompliant"] != suppression.SUPPRESSED
        # The sensitivity rate likewise needs all four of its cells shown.
        if r["cells"][dashboards.SENSITIVITY] != "not shown":
            for name in ("compliant", "noncompliant", "exception", "patient_preference"):
                assert r["cells"][name] != suppression.SUPPRESSED


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (
            [("2025-06-01", 0.8), ("2025-07-01", 0.6), ("2025-08-01", 0.65),
             ("2025-09-01", 0.5), ("2025-10-01", 0.58)],
            "Follow-up within 10 business days: 58% in October 2025, below the 70% standard "
            "for the 4th month running.",
        ),
        (
            [("2025-09-01", 0.5), ("2025-10-01", 0.75)],
            "Follow-up within 10 business days: 75% in October 2025, at or above the 70% "
            "standard.",
        ),
    ],
)  # fmt: skip
def test_the_summary_says_where_the_latest_rate_stands(series, expected):
    assert dashboards.over_time_summary("follow_up_sb221", "month", series)[-1] == expected


def test_the_summary_explains_a_hidden_latest_rate():
    words = dashboards.over_time_summary(
        "follow_up_sb221", "month", [("2025-09-01", 0.5), ("2025-10-01", None)]
    )
    assert words[0].startswith("Follow-up within 10 business days: no rate for October 2025")
    assert words[1].endswith("50% in September 2025, below the 70% standard.")
