"""The clinic and region access dashboards: who sees them, suppressed numbers, plain-language
summaries, audited CSV exports, flat query counts, and raising a concern with a chart."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commonground.access import dashboards, suppression
from commonground.access.evidence import evidence_get
from commonground.access.models import AccessAggregate, AccessSettings, AggregateRun
from commonground.audit.models import AuditEvent
from commonground.concerns.models import Concern

CAL = "federal@opm-2021.1"


def month(i: int) -> dt.date:
    """The i-th month before November 2025 (0 = November 2025)."""
    year, m = divmod(2025 * 12 + 10 - i, 12)
    return dt.date(year, m + 1, 1)


def figures(
    world, *, months: int = 6, clinic="a", rates=None, small: bool = False, changed: int = 0
) -> None:
    """Follow-up figures: 100 units a month at the clinic (and the region), a finished run;
    ``changed`` of them a month would change status under the other holiday calendar."""
    run = AggregateRun.objects.create(
        region=world.region, state="done", calendar=CAL, as_of=dt.date(2025, 11, 30),
        finished_at=dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    target = world.clinic_a if clinic == "a" else world.clinic_b
    rows = []
    for i in range(months):
        start = month(months - 1 - i)
        rate = (rates or {}).get(start, 0.8)
        compliant = round(100 * rate)
        for where in (target, None):
            for period, dimension, value in (
                ("month", "total", ""),
                ("month", "provider_class", "lcsw"),
                ("week", "total", ""),
            ):
                rows.append(
                    AccessAggregate(
                        region=world.region,
                        clinic=where,
                        source="extract",
                        calendar=CAL,
                        metric="follow_up_sb221",
                        period=period,
                        period_start=start
                        if period == "month"
                        else start + dt.timedelta(days=(7 - start.weekday()) % 7),
                        dimension=dimension,
                        value=value,
                        compliant=compliant,
                        noncompliant=100 - compliant,
                        exception=3 if small else 0,
                        pending=20,
                        changed_other_calendar=changed,
                        denominator=100,
                        rate=rate,
                        observed=100,
                        mean_wait=12.0,
                        median_wait=11.0,
                        p90_wait=25.0,
                        waits={"11": 100},
                    )
                )
    AccessAggregate.objects.bulk_create(rows)
    assert run.pk


def dashboard(world, client, **params):
    return client.get(reverse("access:clinic-dashboard", args=[world.clinic_a.slug]), params)


# -- who sees what -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "own", "other", "region"),
    [
        ("clinician_a", 200, 404, 403),
        ("manager_a", 200, 404, 403),
        ("union_rep_a", 200, 404, 403),
        ("regional_admin", 200, 200, 200),
        ("data_steward", 404, 404, 200),
        ("no_seat", 404, 404, 403),
    ],
)
def test_who_sees_which_dashboard(world, login, persona, own, other, region):
    client = login(world.person(persona))
    assert client.get(reverse("access:clinic-dashboard", args=["oakland"])).status_code == own
    assert client.get(reverse("access:clinic-dashboard", args=["richmond"])).status_code == other
    assert client.get(reverse("access:region-dashboard")).status_code == region


def test_another_clinics_dashboard_is_not_found_and_the_refusal_audited(world, login):
    client = login(world.person("clinician_a"))
    assert client.get(reverse("access:clinic-dashboard", args=["richmond"])).status_code == 404
    csv_url = reverse("access:clinic-table-csv", args=["richmond", "month.follow_up_sb221"])
    assert client.get(csv_url).status_code == 404
    assert AuditEvent.objects.filter(action="denied", clinic_id=world.clinic_b.pk).count() == 2


def test_a_dashboard_without_figures_says_so(world, login):
    html = dashboard(world, login(world.person("clinician_a"))).content.decode()
    assert "No figures yet" in html


# -- what the page shows -------------------------------------------------------------------


def test_the_clinic_dashboard_shows_rates_the_70_line_and_a_summary(world, login):
    rates = {month(3): 0.8, month(2): 0.6, month(1): 0.65, month(0): 0.58}
    figures(world, months=4, rates=rates)
    AggregateRun.objects.create(region=world.region, state="running", progress_total=3,
                                progress_done=1)  # fmt: skip
    html = dashboard(world, login(world.person("clinician_a"))).content.decode()
    assert "Figures as of" in html and "30 November 2025" in html and "Recomputing (33%)" in html
    assert (
        "Follow-up within 10 business days: 58% in November 2025, below the 70% standard for "
        "the 3rd month running." in html
    )
    assert "DMHC 70% standard" in html  # the reference line in the chart spec
    assert 'data-chart-spec="chart-month.follow_up_sb221-spec"' in html
    assert "Lowest rate by provider class: LCSW, 66%." in html
    assert "half of the waits were 11 business days or less" in html


def test_the_week_toggle_shows_weeks(world, login):
    figures(world, months=3)
    html = dashboard(world, login(world.person("clinician_a")), period="week").content.decode()
    assert "Follow-up within 10 business days, by week" in html
    assert "Week of 3 November 2025" in html


def test_counts_under_11_never_reach_the_page_or_the_export(world, login):
    figures(world, months=3, small=True)  # 3 exceptions a month
    client = login(world.person("clinician_a"))
    html = dashboard(world, client).content.decode()
    assert "<td>hidden</td>" in html
    url = reverse("access:clinic-table-csv", args=["oakland", "month.follow_up_sb221"])
    rows = list(csv.reader(io.StringIO(client.get(url).content.decode())))
    header = rows[0]
    exceptions = [r[header.index("Documented exception")] for r in rows[1:4]]
    assert exceptions == ["hidden", "hidden", "hidden"]
    # Their column total (9) is small too; so every number is 0, 11+ or hidden.
    for r in rows[1:5]:
        for value in r[1:]:
            if value.replace(",", "").isdigit():
                assert int(value.replace(",", "")) == 0 or int(value.replace(",", "")) >= 11


def test_a_count_hidden_as_a_complement_is_not_called_small(world):
    """HEDIS-like FUH at one clinic, the demo's figures: 31 discharges; 7 days: 14 followed
    up, 17 not, 1 window open; 30 days: 28, 3, 1. The 1 and the 3 are hidden, and so, as a
    complement, is the 31 counted (or 31 - 28 gives the 3). Marked "<11", the demo's page
    said the 31 was under 11, beside a shown 17 not followed up."""
    AggregateRun.objects.create(
        region=world.region, state="done", calendar=CAL, as_of=dt.date(2025, 11, 30),
        finished_at=dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    for metric, followed, not_followed in (("hedis_fuh_7", 14, 17), ("hedis_fuh_30", 28, 3)):
        AccessAggregate.objects.create(
            region=world.region, clinic=world.clinic_a, source="extract", calendar=CAL,
            metric=metric, period="month", period_start=month(0), dimension="total",
            compliant=followed, noncompliant=not_followed, pending=1, denominator=31,
        )  # fmt: skip
    data = dashboards.load(dashboards.Scope(world.region, world.clinic_a))
    table = dashboards.hedis_table(data)
    cells = {r["key"]: r["cells"] for r in table.rows}
    week, month_ = cells["hedis_fuh_7"], cells["hedis_fuh_30"]
    # The 31 (a complement) and the 1 (under 11) carry one mark, which names no size.
    assert week["denominator"] == month_["denominator"] == suppression.SUPPRESSED
    assert week["pending"] == month_["noncompliant"] == suppression.SUPPRESSED
    assert not any(ch.isdigit() for ch in suppression.SUPPRESSED)
    assert table.summary == [
        "No rate can be shown (counts under 11, and counts they could be worked out from, "
        "are hidden)."
    ]
    assert table.spec is None  # no chart of nothing: the numbers open instead


def test_a_breakdown_with_every_rate_hidden_draws_no_chart(world):
    figures(world, months=1)
    data = dashboards.load(dashboards.Scope(world.region, world.clinic_a))
    shown = dashboards.breakdown(data, "follow_up_sb221", "provider_class")
    assert shown.spec is not None  # 80 of 100 compliant: a bar
    AccessAggregate.objects.filter(dimension="provider_class").update(compliant=5, noncompliant=4)
    cache.clear()  # the suppressed tables are cached per run
    data = dashboards.load(dashboards.Scope(world.region, world.clinic_a))
    hidden = dashboards.breakdown(data, "follow_up_sb221", "provider_class")
    assert all(r["rate"] is None for r in hidden.rows if not r["is_total"])
    assert hidden.spec is None
    assert hidden.summary == [
        "No rate by provider class can be shown (counts under 11, and counts they could be "
        "worked out from, are hidden)."
    ]


def test_a_clinic_whose_figures_end_earlier_shows_its_regions_periods(world):
    """Oakland's figures end in August 2025, the region's in November (the cut-off). Its
    tables count back from the cut-off as the region's do: 24 months from December 2023,
    not its own latest 24 from September 2023, which would make its totals sum periods the
    region's do not (and the region's audit of its clinics miss them)."""
    figures(world, months=30)
    AccessAggregate.objects.filter(
        clinic=world.clinic_a, period_start__gte=month(2), period="month"
    ).delete()
    cache.clear()
    for clinic in (world.clinic_a, None):
        data = dashboards.load(dashboards.Scope(world.region, clinic))
        keys = [r["key"] for r in dashboards.over_time(data, "follow_up_sb221", "month").rows]
        months = [k for k in keys if k != "total"]
        assert months[0] == "2023-12-01", clinic
        assert months[-1] == ("2025-08-01" if clinic else "2025-11-01")
        breakdown = dashboards.breakdown(data, "follow_up_sb221", "provider_class")
        assert breakdown.title.endswith("(December 2024 to November 2025)")


def test_a_clinics_hedis_like_months_are_its_regions(world):
    """Oakland's discharges end in August 2025, the region's in November (the cut-off): both
    pages sum December 2024 to November 2025, so the region's audit of its clinics reads the
    months Oakland's page shows."""
    AggregateRun.objects.create(
        region=world.region, state="done", calendar=CAL, as_of=dt.date(2025, 11, 30),
        finished_at=dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    for where, newest in ((world.clinic_a, 3), (None, 0)):
        for i in range(newest, 14):
            AccessAggregate.objects.create(
                region=world.region, clinic=where, source="extract", calendar=CAL,
                metric="hedis_fuh_7", period="month", period_start=month(i), dimension="total",
                compliant=20, noncompliant=20, denominator=40,
            )  # fmt: skip
    for clinic in (world.clinic_a, None):
        data = dashboards.load(dashboards.Scope(world.region, clinic))
        table = dashboards.hedis_table(data)
        assert table.title.endswith("(December 2024 to November 2025)"), clinic


def parity_rows(
    world,
    *,
    mh: tuple[int, dict[str, int]],
    medical: tuple[int, dict[str, int]],
    observed: int = 0,
) -> None:
    """This month's initial access of Oakland and the region, out of 100 requests each:
    (percent compliant, waits) for mental health and for its medical comparator."""
    AccessAggregate.objects.bulk_create(
        AccessAggregate(
            region=world.region,
            clinic=clinic,
            source="extract",
            calendar=CAL,
            metric=metric,
            period="month",
            period_start=month(0),
            dimension="total",
            compliant=compliant,
            noncompliant=100 - compliant,
            denominator=100,
            rate=compliant / 100,
            observed=observed,
            waits=waits,
        )
        for metric, (compliant, waits) in (
            ("initial_non_urgent_mh", mh),
            ("initial_primary_care", medical),
        )
        for clinic in (world.clinic_a, None)
    )


def test_the_region_dashboard_shows_region_wide_figures_and_parity(world, login):
    figures(world, months=3)
    parity_rows(world, mh=(40, {"5": 50, "15": 50}), medical=(80, {"5": 50, "15": 50}))
    html = login(world.person("regional_admin")).get(reverse("access:region-dashboard"))
    text = html.content.decode()
    assert "Timely access: Northern California" in text
    assert "Initial access, 10 business days: mental health 40% against medical 80%" in text
    assert "Flagged as a potential material difference" in text
    assert "not the law" in text


def test_the_sensitivity_rate_counts_exceptions_and_patient_choices_as_missed(world, login):
    figures(world, months=2)
    AccessAggregate.objects.update(exception=25, patient_preference=15)
    client = login(world.person("clinician_a"))
    url = reverse("access:clinic-table-csv", args=["oakland", "month.follow_up_sb221"])
    rows = list(csv.reader(io.StringIO(client.get(url).content.decode())))
    rate = rows[0].index("Rate")
    sensitivity = rows[0].index("Rate with exceptions and patient choices counted as missed")
    # 80 met, 20 missed, 25 exceptions, 15 patient choices: 80% and 80 / 140.
    assert [(r[rate], r[sensitivity]) for r in rows[1:4]] == [("80%", "57%")] * 3
    AccessAggregate.objects.update(exception=3)  # hidden: so is the sensitivity rate
    cache.clear()  # (figures change only by a recompute, whose new run the caches are keyed by)
    rows = list(csv.reader(io.StringIO(client.get(url).content.decode())))
    assert rows[1][sensitivity] == "not shown" and rows[1][rate] == "80%"


# -- where the other holiday calendar would change a result --------------------------------


def test_the_dashboard_says_where_the_other_calendar_would_change_a_result(world, login):
    figures(world, months=4, changed=12)
    client = login(world.person("clinician_a"))
    html = dashboard(world, client).content.decode()
    assert (
        "Counted with California state-employee holidays (CalHR) instead of US federal "
        "holidays (OPM), 48 results in these 4 months would change status." in html
    )
    url = reverse("access:clinic-table-csv", args=["oakland", "month.follow_up_sb221"])
    rows = list(csv.reader(io.StringIO(client.get(url).content.decode())))
    column = rows[0].index("Status differs under California state-employee holidays (CalHR)")
    assert [r[column] for r in rows[1:6]] == ["12", "12", "12", "12", "48"]


def test_a_few_changed_results_are_not_shown(world, login):
    figures(world, months=2, changed=4)
    client = login(world.person("clinician_a"))
    html = dashboard(world, client).content.decode()
    assert "the number of results in these 2 months whose status would change is not shown" in html
    url = reverse("access:clinic-table-csv", args=["oakland", "month.follow_up_sb221"])
    rows = list(csv.reader(io.StringIO(client.get(url).content.decode())))
    column = rows[0].index("Status differs under California state-employee holidays (CalHR)")
    assert [r[column] for r in rows[1:4]] == ["hidden", "hidden", "hidden"]  # 4, 4 and their 8


def test_no_result_changing_is_said_plainly(world, login):
    figures(world, months=2)
    html = dashboard(world, login(world.person("clinician_a"))).content.decode()
    assert "instead of US federal holidays (OPM), no result in these 2 months would change" in html


def test_the_region_hides_a_changed_count_that_would_give_one_clinic_away(world, login):
    """Oakland's 5 changed results are hidden on its page; Richmond's 20 are shown. The
    region's 25 (and its complement) must be hidden too, or 25 - 20 gives Oakland's 5."""
    run = AggregateRun.objects.create(
        region=world.region, state="done", calendar=CAL, as_of=dt.date(2025, 11, 30),
        finished_at=dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    assert run.pk
    rows = []
    for start, (oakland, richmond) in ((month(1), (5, 20)), (month(0), (30, 30))):
        for where, changed in ((world.clinic_a, oakland), (world.clinic_b, richmond),
                               (None, oakland + richmond)):  # fmt: skip
            units = 200 if where is None else 100
            rows.append(
                AccessAggregate(
                    region=world.region,
                    clinic=where,
                    source="extract",
                    calendar=CAL,
                    metric="follow_up_sb221",
                    period="month",
                    period_start=start,
                    dimension="total",
                    compliant=units // 2,
                    noncompliant=units // 2,
                    denominator=units,
                    rate=0.5,
                    changed_other_calendar=changed,
                )
            )
    AccessAggregate.objects.bulk_create(rows)
    client = login(world.person("regional_admin"))
    url = reverse("access:region-table-csv", args=["month.follow_up_sb221"])
    table = list(csv.reader(io.StringIO(client.get(url).content.decode())))
    column = table[0].index("Status differs under California state-employee holidays (CalHR)")
    region = [r[column] for r in table[1:4]]
    assert region[0] == "hidden"  # 25: hidden, or Oakland's 5 could be worked out
    assert "hidden" in region[1:]  # and a complement, or 85 - 60 gives the 25 back
    oakland = reverse("access:clinic-table-csv", args=["oakland", "month.follow_up_sb221"])
    table = list(csv.reader(io.StringIO(client.get(oakland).content.decode())))
    assert table[1][column] == "hidden"


@pytest.mark.parametrize(("median_ratio", "flagged"), [(None, False), (1.15, True)])
def test_the_regions_own_parity_threshold_decides_the_flag(world, login, median_ratio, flagged):
    """The same rates (80% each) and medians of 12 against 10 business days: a ratio of 1.2,
    under the default 1.25, over a region's 1.15."""
    if median_ratio is not None:
        AccessSettings.objects.create(region=world.region, parity_median_ratio=median_ratio)
    figures(world, months=1)
    parity_rows(world, mh=(80, {"12": 100}), medical=(80, {"10": 100}), observed=100)
    html = login(world.person("regional_admin")).get(reverse("access:region-dashboard"))
    text = html.content.decode()
    assert "Initial access, 10 business days: mental health 80% against medical 80%" in text
    assert ("Flagged as a potential material difference" in text) is flagged


# -- exports and queries -------------------------------------------------------------------


def test_a_table_export_is_audited(world, login):
    figures(world, months=2)
    client = login(world.person("clinician_a"))
    url = reverse("access:clinic-table-csv", args=["oakland", "provider_class.follow_up_sb221"])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "LCSW" in response.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.clinic_id == world.clinic_a.pk and event.changes["table"].startswith("provider")
    missing = reverse("access:clinic-table-csv", args=["oakland", "nonsense.x"])
    assert client.get(missing).status_code == 404


@pytest.mark.parametrize("view", ["clinic", "region"])
def test_dashboard_queries_do_not_grow_with_the_figures(world, login, view):
    client = login(world.person("regional_admin"))
    url = (
        reverse("access:clinic-dashboard", args=["oakland"])
        if view == "clinic"
        else reverse("access:region-dashboard")
    )
    figures(world, months=2)
    client.get(url)  # warm caches (sessions, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    AccessAggregate.objects.all().delete()
    figures(world, months=24)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


# -- raise a concern with a chart ----------------------------------------------------------


def test_raising_a_concern_with_a_chart_attaches_its_numbers(world, login):
    figures(world, months=3)
    carmen = world.person("clinician_a")
    client = login(carmen)
    page = dashboard(world, client).content.decode()
    assert "Raise a concern with this chart as evidence" in page
    response = client.post(
        reverse("access:clinic-evidence", args=["oakland"]), {"table": "month.follow_up_sb221"}
    )
    assert response.status_code == 302
    target = response["Location"]
    assert target.startswith(reverse("concerns:concern-raise", args=["ppc-oakland"]))
    reference = target.split("evidence=")[1].replace("%3A", ":")
    form = client.get(target).content.decode()
    assert "Attached: Follow-up within 10 business days, by month (CSV of the numbers)" in form
    assert 'value="access"' in form  # the category is prefilled
    response = client.post(
        target,
        {
            "title": "Follow-ups are too far out",
            "description": "See the attached chart.",
            "category": "access",
            "patient_impact": "Gaps between sessions.",
            "identity_mode": "named",
            "not_a_grievance": "on",
            "chart_evidence": reference,
        },
    )
    assert response.status_code == 302, response.content.decode().split("form-errors")[1][:600]
    concern = Concern.objects.get()
    attachment = concern.attachments.get()
    assert attachment.display_name.endswith(".csv") and attachment.content_type == "text/csv"
    content = attachment.file.read().decode()
    assert "Met the standard" in content and "Northern" not in content.split("\n")[0]
    assert evidence_get(carmen, reference) is None  # used once
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_someone_elses_chart_evidence_is_not_attached(world, login):
    figures(world, months=2)
    client = login(world.person("clinician_a"))
    response = client.post(reverse("access:clinic-evidence", args=["oakland"]), {"table": "parity"})
    target = response["Location"]
    other = login(world.person("cochair_clinician_a"))
    assert "Attached:" not in other.get(target).content.decode()


def test_only_people_who_may_raise_get_the_evidence_button(world, login):
    figures(world, months=2)
    html = login(world.person("regional_admin")).get(
        reverse("access:clinic-dashboard", args=["oakland"])
    )
    assert "Raise a concern with this chart" not in html.content.decode()
    response = login(world.person("regional_admin")).post(
        reverse("access:clinic-evidence", args=["oakland"]), {"table": "parity"}
    )
    assert response.status_code == 403


# -- the aggregate-only upload page --------------------------------------------------------


def test_the_data_steward_uploads_weekly_counts(world, login):
    client = login(world.person("data_steward"))
    url = reverse("access:counts-upload")
    assert client.get(url).status_code == 200
    good = (
        b"clinic_code,week_start,metric,provider_class,numerator,denominator,exceptions,pending\n"
        b"oakland,2025-10-06,follow_up_sb221,,25,50,1,3\n"
    )
    response = client.post(url, {"region": world.region.pk,
                                 "file": _file("counts.csv", good)})  # fmt: skip
    assert response.status_code == 302
    assert AccessAggregate.objects.filter(source="counts").exists()
    bad = good.replace(b"2025-10-06", b"2025-10-07")
    response = client.post(url, {"region": world.region.pk, "file": _file("counts.csv", bad)})
    assert response.status_code == 422
    assert "a week starts on a Monday" in response.content.decode()


def test_only_the_data_steward_uploads_counts(world, login):
    for persona in ("regional_admin", "clinician_a"):
        assert login(world.person(persona)).get(reverse("access:counts-upload")).status_code == 403


def _file(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")
