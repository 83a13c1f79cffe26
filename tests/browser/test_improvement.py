"""An improvement project from start to chart, in Chromium under the app's real CSP.

A clinician co-chair starts a project, adds a measure, uploads weekly data with a clear shift,
plans and records a PDSA cycle that adopts the change, and reads the chart: an SVG drawn by
Vega without eval or inline styles, the sentences that say what it shows, and the data table.
axe-core finds no serious or critical violation on any page of the flow.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DemoServer, NewContext, assert_accessible, sign_in, watch

pytestmark = pytest.mark.browser

WEEKS = [dt.date(2026, 1, 5) + dt.timedelta(weeks=i) for i in range(30)]
VALUES = [16, 15, 17, 16, 15, 16, 17, 15, 16, 16, 15, 17, 16, 15, 16,
          10, 11, 10, 9, 10, 11, 10, 10, 9, 11, 10, 10, 11, 9, 10]  # fmt: skip


def test_a_project_from_aim_to_chart(
    fresh_demo_server: DemoServer, new_context: NewContext, tmp_path
) -> None:
    page = new_context(fresh_demo_server.base_url, strict_csp=True).new_page()
    problems = watch(page)
    sign_in(page, "cochair-clinician.oakland")

    page.goto("/committees/ppc-oakland/improvement/")
    assert_accessible(page, "committee projects")
    page.get_by_role("link", name="Start a project").click()
    assert_accessible(page, "start a project")
    page.get_by_label("Title").fill("Faster first appointments")
    page.get_by_label("What will improve").fill("Days from referral to a first appointment")
    page.get_by_label("By how much").fill("from 16 to 10 business days")
    page.get_by_label("By when").fill("2027-06-30")
    page.get_by_role("button", name="Start project").click()
    page.get_by_role("heading", level=1, name="Faster first appointments").wait_for()
    assert "No one from the management side" in page.content()

    page.get_by_role("link", name="Add a measure").click()
    assert_accessible(page, "add a measure")
    page.get_by_label("Name").fill("Median business days to a first appointment")
    page.get_by_label("Kind").select_option("outcome")
    page.get_by_label("Operational definition").fill("Weekly median from the scheduling extract.")
    page.get_by_label("Unit").fill("days")
    page.get_by_label("Chart").select_option("i")
    page.get_by_label("Direction").select_option("decrease")
    page.get_by_label("Target").fill("10")
    page.get_by_role("button", name="Add measure").click()
    page.get_by_role("heading", name="Upload a CSV").wait_for()
    measure_url = page.url

    data = tmp_path / "weeks.csv"
    data.write_text(
        "period,value\n"
        + "".join(f"{d.isoformat()},{v}\n" for d, v in zip(WEEKS, VALUES, strict=True))
    )
    page.get_by_label("CSV file").set_input_files(str(data))
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Imported 30 rows: 30 new").wait_for()
    page.locator("figure.chart svg").first.wait_for()
    summary = page.locator("figure.chart").first.inner_text()
    assert "Special-cause improvement" in summary, summary
    assert_accessible(page, "measure with chart")

    page.get_by_role("link", name="Faster first appointments").click()
    page.get_by_text("Plan a new PDSA cycle").click()
    page.get_by_label("Change to test").fill("Same-week intake huddle")
    page.get_by_label("Plan").fill("Both co-chairs, every Monday, four weeks")
    page.get_by_label("Prediction").fill("Median under 11 days")
    page.get_by_label("Started on").fill(WEEKS[10].isoformat())
    page.get_by_label("Show on the chart of").select_option(
        label="Median business days to a first appointment"
    )
    page.get_by_role("button", name="Plan cycle").click()
    page.get_by_text("PDSA cycle planned.").wait_for()
    page.get_by_role("link", name="Record do, study, act for PDSA 1").click()
    assert_accessible(page, "record a PDSA cycle")
    page.get_by_label("What happened").fill("Ran every Monday")
    page.get_by_label("Result against the prediction").fill("Median fell to 10 days")
    page.get_by_label("Decision").select_option("adopt")
    page.get_by_label("Why").fill("Sustained for 15 weeks")
    page.get_by_label("Ended on").fill(WEEKS[15].isoformat())
    page.get_by_role("button", name="Save").click()
    page.get_by_text("PDSA 1 saved.").wait_for()

    page.goto(measure_url)
    page.locator("figure.chart svg").first.wait_for()
    figure = page.locator("figure.chart").first
    text = figure.inner_text()
    assert "2 phases" in text, text
    assert "PDSA 1: Same-week intake huddle" in page.locator("figure.chart svg").first.inner_html()
    figure.get_by_text("Data").click()
    assert figure.locator("table tbody tr").count() == 30
    assert_accessible(page, "measure after an adopted change")
    assert not problems.errors, problems.errors
    assert not problems.csp, problems.csp


def test_demo_project_page_draws_every_chart(
    demo_server: DemoServer, new_context: NewContext
) -> None:
    """A demo project with an adopted change: its two weekly charts and the monthly one fed
    live from the access figures are drawn, with their summaries and tables."""
    page = new_context(demo_server.base_url, strict_csp=True).new_page()
    problems = watch(page)
    sign_in(page, "manager.oakland")
    page.goto("/committees/ppc-oakland/improvement/")
    page.get_by_role("link", name="Return visits within 10 business days").click()
    figures = page.locator("figure.chart")
    # (The click only starts the navigation: counting at once could count the list page.)
    expect(figures).to_have_count(3)
    for index in range(3):
        figures.nth(index).locator("svg").first.wait_for()
        assert figures.nth(index).locator("li").count() >= 1  # the sentences
    assert_accessible(page, "demo project page")
    assert not problems.errors, problems.errors
    assert not problems.csp, problems.csp
