"""A meeting from scheduling to approved minutes, in Chromium under the app's real CSP.

The Oakland clinician co-chair schedules a meeting, adds an agenda item and records
attendance (both with htmx, without reloading the page) until quorum is met, records a
decision and an action item that follows it, writes the minutes and approves them; the
management co-chair approves them too, which opens the amendment window. axe-core finds no
serious or critical violation on any page of the flow.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    DemoServer,
    NewContext,
    assert_accessible,
    mark_everyone_present,
    sign_in,
    watch,
)

pytestmark = pytest.mark.browser

COMMITTEE = "/committees/ppc-oakland/"
TITLE = "Quarterly practice review"


def test_a_meeting_from_schedule_to_approved_minutes(
    fresh_demo_server: DemoServer, new_context: NewContext
) -> None:
    page = new_context(fresh_demo_server.base_url, strict_csp=True).new_page()
    problems = watch(page)
    sign_in(page, "cochair-clinician.oakland")

    page.goto(f"{COMMITTEE}meetings/")
    assert_accessible(page, "meetings of the committee")
    page.get_by_role("link", name="Schedule a meeting").click()
    assert_accessible(page, "schedule a meeting")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Date").fill("2026-03-10")
    page.get_by_label("Time").fill("17:30")
    page.get_by_label("Duration (minutes)").fill("90")
    page.get_by_label("Place").fill("Conference room 2")
    page.get_by_role("button", name="Schedule meeting").click()
    page.get_by_role("heading", level=1, name=TITLE).wait_for()
    meeting_url = page.url
    assert_accessible(page, "a new meeting")

    # Agenda (htmx): the item appears without a reload.
    page.evaluate("() => { window.__sameDocument = true; }")
    agenda = page.locator("#agenda")
    agenda.get_by_label("Item").fill("Review of intake waits")
    agenda.get_by_role("spinbutton", name="Minutes").fill("20")
    agenda.get_by_role("button", name="Add item").click()
    page.locator("#agenda ol").get_by_text("Review of intake waits", exact=True).wait_for()

    # Attendance (htmx) until quorum is met.
    expect(page.locator("#attendance")).to_contain_text("No quorum yet")
    mark_everyone_present(page)
    expect(page.locator("#attendance")).to_contain_text("Quorum met")
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    assert_accessible(page, "meeting with agenda and attendance")

    # A decision, then an action item that follows from the meeting.
    page.get_by_role("link", name="Record a decision").click()
    assert_accessible(page, "record a decision")
    page.get_by_label("Statement").fill("Hold a Tuesday referral huddle for new patients")
    page.get_by_label("Rationale").fill("First-appointment waits are over the standard")
    page.get_by_label("Review date").fill("2026-06-30")
    page.get_by_role("button", name="Record decision").click()
    page.get_by_text("Decision recorded.").wait_for()
    assert "without quorum" not in page.locator("#decisions").inner_text()

    page.get_by_role("link", name="Add an action item").click()
    assert_accessible(page, "add an action item")
    page.get_by_label("Title").fill("Draft the huddle checklist")
    page.get_by_label("Clinician owner").select_option(index=1)
    page.get_by_label("Management owner").select_option(index=1)
    page.get_by_label("Due on").fill("2026-03-24")
    page.get_by_role("button", name="Record action item").click()
    page.get_by_text("Action item recorded.").wait_for()
    page.locator("#actions").get_by_text("Draft the huddle checklist").wait_for()

    # Minutes: written, then approved by the clinician co-chair.
    page.get_by_role("link", name="Edit the minutes").click()
    assert_accessible(page, "draft the minutes")
    page.get_by_label("Minutes").fill(
        "Called to order at 5:30 PM by the clinician co-chair.\n"
        "Moved and adopted: a Tuesday referral huddle for new patients."
    )
    page.get_by_role("button", name="Save minutes").click()
    page.get_by_text("Minutes saved.").wait_for()
    page.get_by_role("button", name="Approve the minutes as clinician co-chair").click()
    page.get_by_text("The other co-chair's approval is still needed.").wait_for()
    assert_accessible(page, "minutes approved by one co-chair")

    page.goto("/decisions/?q=huddle")
    page.get_by_role("link", name=re.compile("Tuesday referral huddle")).wait_for()
    assert_accessible(page, "decisions log")
    page.goto("/actions/mine/")
    assert_accessible(page, "my actions")
    assert not problems.errors, problems.errors
    assert not problems.csp, problems.csp

    # The management co-chair approves in a session of their own.
    manager = new_context(fresh_demo_server.base_url, strict_csp=True).new_page()
    manager_problems = watch(manager)
    sign_in(manager, "cochair-manager.oakland")
    manager.goto(meeting_url)
    manager.get_by_role("button", name="Approve the minutes as management co-chair").click()
    manager.get_by_text("Minutes approved by both co-chairs.").wait_for()
    expect(manager.locator("#minutes")).to_contain_text("Members may propose amendments until")
    assert_accessible(manager, "minutes approved by both co-chairs")
    assert not manager_problems.errors, manager_problems.errors
    assert not manager_problems.csp, manager_problems.csp
