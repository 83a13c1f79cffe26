"""A concern followed from raising to a completed action, in Chromium under the real CSP.

A clinician raises a concern; both co-chairs acknowledge it and sign a joint response; the
clinician co-chair schedules a meeting and puts the concern on its agenda from the concern's
page; the meeting records a decision and an action item for the concern, owned by the
clinician who raised it; she marks it done from "My actions", and the concern is resolved.
axe-core finds no serious or critical violation on any page of the flow.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from commonground.meetings.demo import CLINIC_MEETING_TIMES
from tests.browser.helpers import (
    DemoServer,
    NewContext,
    assert_accessible,
    mark_everyone_present,
    sign_in,
    watch,
)

pytestmark = pytest.mark.browser

TITLE = "Interpreter bookings fall through for return visits"


def _before_the_demos_next_meeting() -> dt.datetime:
    """A start three minutes from now, so the concern's page offers this meeting as the next.

    The demo's own meetings begin days apart at fixed times of day (a few days from now,
    or later today): when one of those times is due before this start, wait for it to pass
    (three minutes at most)."""
    zone = ZoneInfo("America/Los_Angeles")
    while True:
        now = dt.datetime.now(tz=zone)
        starts = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=3)
        due = [
            mark
            for day in (now.date(), starts.date())
            for at in CLINIC_MEETING_TIMES
            if now <= (mark := dt.datetime.combine(day, at, tzinfo=zone)) <= starts
        ]
        if not due:
            return starts
        time.sleep((max(due) - now).total_seconds() + 1)


def _signed_in(new_context: NewContext, server: DemoServer, username: str) -> Page:
    page = new_context(server.base_url, strict_csp=True).new_page()
    sign_in(page, username)
    return page


def _display_name(page: Page) -> str:
    label = page.get_by_role("button", name=re.compile(r"^Sign out")).text_content() or ""
    return label.replace("Sign out", "").strip()


def test_a_concern_goes_through_a_meeting_to_a_completed_action(
    fresh_demo_server: DemoServer, new_context: NewContext
) -> None:
    clinician = _signed_in(new_context, fresh_demo_server, "clinician.oakland")
    problems = watch(clinician)
    owner_name = _display_name(clinician)
    clinician.goto("/committees/ppc-oakland/concerns/new/")
    assert_accessible(clinician, "raise a concern")
    clinician.get_by_label("Title").fill(TITLE)
    clinician.get_by_label("Description").fill(
        "Interpreters booked for first visits are not rebooked for follow-ups."
    )
    clinician.get_by_label("Category").select_option("access")
    clinician.get_by_label("Impact on patients").fill("Patients miss sessions or go without.")
    clinician.get_by_label("Named").check()
    clinician.get_by_label("This is about practice and care").check()
    clinician.get_by_role("button", name="Raise concern").click()
    clinician.get_by_role("heading", level=1, name=TITLE).wait_for()
    concern_url = clinician.url
    assert_accessible(clinician, "the new concern")

    cochairs = {
        name: _signed_in(new_context, fresh_demo_server, name)
        for name in ("cochair-clinician.oakland", "cochair-manager.oakland")
    }
    for page in cochairs.values():
        page.goto(concern_url)
        page.get_by_role("button", name="Acknowledge for my side").click()
        page.get_by_text("Acknowledged for your side.").wait_for()
    lead = cochairs["cochair-clinician.oakland"]
    lead_problems = watch(lead)
    lead.goto(concern_url)  # both sides have acknowledged since this page loaded
    lead.get_by_text("Write the joint response").click()
    lead.get_by_label("Agreed action").check()
    lead.get_by_label("The joint response").fill("Book interpreters for the whole episode.")
    lead.get_by_role("button", name="Save joint response").click()
    lead.get_by_text("Joint response saved").wait_for()
    for page in cochairs.values():
        page.goto(concern_url)
        page.get_by_role("button", name="Sign the joint response for my side").click()
        page.get_by_text("Joint response signed for your side.").wait_for()
    assert_accessible(lead, "a concern with a signed joint response")

    # A meeting, then the concern onto its agenda from the concern's own page.
    starts = _before_the_demos_next_meeting()
    meeting_day = starts.date()
    lead.goto("/committees/ppc-oakland/meetings/new/")
    lead.get_by_label("Title").fill("Interpreter access review")
    lead.get_by_label("Date").fill(meeting_day.isoformat())
    lead.get_by_label("Time").fill(f"{starts:%H:%M}")
    lead.get_by_label("Place").fill("Conference room 2")
    lead.get_by_role("button", name="Schedule meeting").click()
    lead.get_by_role("heading", level=1, name="Interpreter access review").wait_for()
    meeting_url = lead.url
    lead.goto(concern_url)
    followup = lead.locator("#followup-heading").locator("xpath=..")
    expect(followup).to_contain_text("Interpreter access review")
    assert_accessible(lead, "a concern ready for a meeting")
    followup.get_by_role("button", name="Put on the next meeting's agenda").click()
    lead.get_by_text("Agenda item added.").wait_for()
    assert lead.url.rstrip("/") == meeting_url.rstrip("/")
    expect(lead.locator("#agenda")).to_contain_text(TITLE)
    assert_accessible(lead, "the meeting with the concern on its agenda")

    # The meeting, quorate, decides and assigns an action for the concern to the clinician.
    mark_everyone_present(lead)
    expect(lead.locator("#attendance")).to_contain_text("Quorum met")
    lead.get_by_role("link", name="Record a decision").click()
    lead.get_by_label("Statement").fill("Interpreters are booked for every visit of an episode")
    lead.get_by_label("Rationale").fill("Follow-ups without interpreters are missed")
    lead.get_by_role("button", name="Record decision").click()
    lead.get_by_text("Decision recorded.").wait_for()
    lead.get_by_role("link", name="Add an action item").click()
    lead.get_by_label("Clinician owner").wait_for()
    assert_accessible(lead, "add an action item")
    lead.get_by_label("Title").fill("Rebook interpreters for open episodes")
    lead.get_by_label("Clinician owner").select_option(label=owner_name)
    lead.get_by_label("Due on").fill((meeting_day + dt.timedelta(days=14)).isoformat())
    lead.get_by_label("Concern").select_option(label=TITLE)
    lead.get_by_role("button", name="Record action item").click()
    lead.get_by_text("Action item recorded.").wait_for()
    lead.goto(concern_url)
    lead.get_by_role("button", name="Mark action in progress").click()
    lead.get_by_text("Status changed.").wait_for()
    expect(lead.locator("#followup-heading").locator("xpath=..")).to_contain_text(
        "Rebook interpreters for open episodes"
    )

    # The owner completes the action from her own list.
    clinician.goto("/actions/mine/")
    assert_accessible(clinician, "my actions")
    clinician.get_by_role("link", name="Rebook interpreters for open episodes").click()
    clinician.get_by_label("Status").wait_for()
    assert_accessible(clinician, "update an action")
    clinician.get_by_label("Status").select_option("done")
    clinician.get_by_role("button", name=re.compile("Save")).click()
    clinician.get_by_text("Action item saved.").wait_for()
    clinician.goto(concern_url)
    expect(clinician.locator("#followup-heading").locator("xpath=..")).to_contain_text("done")

    lead.goto(concern_url)
    lead.get_by_role("button", name="Mark resolved").click()
    lead.get_by_text("Status changed.").wait_for()
    expect(lead.locator("main .badge").first).to_have_text("Resolved")
    assert_accessible(lead, "the resolved concern")
    for watched in (problems, lead_problems):
        assert not watched.errors, watched.errors
        assert not watched.csp, watched.csp
