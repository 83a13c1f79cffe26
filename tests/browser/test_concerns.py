"""A concern from raising to a signed joint response, in Chromium under the real CSP."""

from __future__ import annotations

import pytest

from tests.browser.helpers import DemoServer, NewContext, assert_accessible, sign_in, watch

pytestmark = pytest.mark.browser


def _signed_in(new_context: NewContext, server: DemoServer, username: str):
    page = new_context(server.base_url, strict_csp=True).new_page()
    sign_in(page, username)
    return page


def test_a_concern_is_raised_acknowledged_and_answered_jointly(
    fresh_demo_server: DemoServer, new_context: NewContext
) -> None:
    clinician = _signed_in(new_context, fresh_demo_server, "clinician.oakland")
    problems = watch(clinician)
    clinician.goto("/committees/ppc-oakland/concerns/")
    assert_accessible(clinician, "concern list")
    clinician.get_by_role("link", name="Raise a concern").click()
    assert_accessible(clinician, "raise a concern")
    clinician.get_by_label("Title").fill("Evening slots for working patients")
    clinician.get_by_label("Description").fill("No therapy after 5 pm; patients miss work.")
    clinician.get_by_label("Category").select_option("access")
    clinician.get_by_label("Impact on patients").fill("Working patients drop out of care.")
    clinician.get_by_label("Named").check()
    clinician.get_by_label("This is about practice and care").check()
    clinician.get_by_role("button", name="Raise concern").click()
    clinician.get_by_role("heading", level=1, name="Evening slots for working patients").wait_for()
    concern_url = clinician.url
    assert_accessible(clinician, "concern page")
    assert not problems.errors and not problems.csp

    for username in ("cochair-clinician.oakland", "cochair-manager.oakland"):
        page = _signed_in(new_context, fresh_demo_server, username)
        page.goto(concern_url)
        page.get_by_role("button", name="Acknowledge for my side").click()
        page.get_by_text("Acknowledged for your side.").wait_for()

    cochair = _signed_in(new_context, fresh_demo_server, "cochair-clinician.oakland")
    cochair.goto(concern_url)
    cochair.get_by_text("Write the joint response").click()
    cochair.get_by_label("Agreed action").check()
    cochair.get_by_label("The joint response").fill("Two evening sessions a week from January.")
    cochair.get_by_role("button", name="Save joint response").click()
    cochair.get_by_text("Joint response saved").wait_for()
    assert_accessible(cochair, "concern with a draft response")
    for username in ("cochair-clinician.oakland", "cochair-manager.oakland"):
        page = _signed_in(new_context, fresh_demo_server, username)
        page.goto(concern_url)
        page.get_by_role("button", name="Sign the joint response for my side").click()
        page.get_by_text("Joint response signed for your side.").wait_for()
    clinician.goto(concern_url)
    assert "Joint response" in clinician.locator("main .badge").first.inner_text()
