"""Keyboard use, the htmx roster, a phone-sized screen and the docs screenshot.

These pages keep the app's real Content-Security-Policy (``strict_csp=True``): htmx must
work under ``script-src 'self'`` with nothing refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Response

from tests.browser.helpers import (
    DEMO_EMAIL_DOMAIN,
    REPO_ROOT,
    DemoServer,
    NewContext,
    assert_accessible,
    sign_in,
    watch,
)

pytestmark = pytest.mark.browser

COMMITTEE = "/committees/ppc-oakland/"
SCREENSHOT = REPO_ROOT / "docs" / "screenshot-committee.png"


def _member_count(page: Page) -> int:
    text = page.locator("#roster-heading").inner_text()
    match = re.search(r"\((\d+)\)", text)
    assert match, f"no member count in {text!r}"
    return int(match.group(1))


def test_tab_first_focuses_skip_link(demo_server: DemoServer, new_context: NewContext) -> None:
    page = new_context(demo_server.base_url, strict_csp=True).new_page()
    problems = watch(page)
    page.goto("/accounts/login/")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => ({text: document.activeElement.textContent.trim(),"
        " href: document.activeElement.getAttribute('href')})"
    )
    assert focused == {"text": "Skip to main content", "href": "#main"}
    skip_link = page.get_by_role("link", name="Skip to main content")
    assert skip_link.is_visible(), "the skip link must show when it has focus"
    # Following it moves focus to the main content.
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    assert not problems.errors
    assert not problems.csp, problems.csp


def test_add_member_updates_roster_in_place(
    fresh_demo_server: DemoServer, new_context: NewContext
) -> None:
    """A co-chair adds the data steward to the Oakland PPC; htmx swaps the roster only."""
    page = new_context(fresh_demo_server.base_url, strict_csp=True).new_page()
    problems = watch(page)
    sign_in(page, "cochair-clinician.oakland")

    # The data steward's name, as the regional committee's roster shows it.
    page.goto("/committees/regional-committee/")
    steward_seat = page.locator("#roster li").filter(
        has=page.locator(".badge", has_text="Data steward")
    )
    steward_name = steward_seat.locator("> span").inner_text().replace("Data steward", "").strip()
    assert steward_name

    page.goto(COMMITTEE)
    before = _member_count(page)
    neutral = page.locator("#roster section").filter(
        has=page.get_by_role("heading", name=re.compile(r"^Neutral side"))
    )
    assert neutral.count() == 0, "the Oakland PPC has no neutral seat yet"

    navigations: list[str] = []
    page.on(
        "framenavigated",
        lambda frame: navigations.append(frame.url) if frame == page.main_frame else None,
    )
    page.evaluate("() => { window.__sameDocument = true; }")

    form = page.locator("form").filter(has=page.get_by_role("heading", name="Add a member"))
    form.get_by_label("Email of the person to add").fill(f"datasteward.region@{DEMO_EMAIL_DOMAIN}")
    form.get_by_label("Side").select_option(label="Neutral")
    form.get_by_label("Role").select_option(label="Member")

    def is_add(response: Response) -> bool:
        return response.url.endswith(f"{COMMITTEE}members/") and response.request.method == "POST"

    with page.expect_response(is_add) as response_info:
        form.get_by_role("button", name="Add member").click()
    response = response_info.value
    assert response.status == 200, response.text()[:500]
    assert response.request.headers.get("hx-request") == "true"

    neutral.get_by_text(steward_name, exact=True).wait_for()
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    assert navigations == [], f"the add caused navigation to {navigations}"
    assert page.url.endswith(COMMITTEE)
    assert _member_count(page) == before + 1
    assert page.locator("#roster .message-success").inner_text().strip() == "Member added."
    # Only one roster: the swap replaced it rather than nesting a second one.
    assert page.locator("#roster").count() == 1
    assert_accessible(page, f"{COMMITTEE} after adding a member with htmx")
    assert not problems.errors, problems.errors
    assert not problems.csp, problems.csp


PHONE_PAGES = [
    ("cochair-clinician.oakland", COMMITTEE),
    ("cochair-clinician.oakland", "/"),
    ("cochair-clinician.oakland", "/clinics/"),
    ("cochair-clinician.oakland", "/committees/summit/"),
    ("cochair-clinician.oakland", "/profile/"),
    ("cochair-clinician.oakland", "/committees/ppc-oakland/history/"),
    ("admin.region", "/audit/"),
]


@pytest.mark.parametrize(("username", "path"), PHONE_PAGES)
def test_page_fits_a_phone(
    username: str,
    path: str,
    demo_server: DemoServer,
    new_context: NewContext,
    signed_in_state: Callable[[str], Any],
) -> None:
    """On a 375px-wide screen the page reflows: no sideways scrolling, still accessible."""
    page = new_context(
        demo_server.base_url,
        strict_csp=True,
        viewport={"width": 375, "height": 812},
        storage_state=signed_in_state(username),
    ).new_page()
    problems = watch(page)
    page.goto(path)
    assert page.url.endswith(path)
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["inner"] == 375
    assert widths["scroll"] <= widths["inner"], (
        f"{path} scrolls sideways on a 375px screen: {widths}"
    )
    assert_accessible(page, f"{path} on a 375px screen as {username}")
    assert not problems.errors
    assert not problems.csp, problems.csp


def test_committee_page_screenshot(
    demo_server: DemoServer, new_context: NewContext, signed_in_state: Callable[[str], Any]
) -> None:
    """The committee page as its clinician co-chair sees it.

    With COMMONGROUND_SCREENSHOT=1 the picture is saved to docs/screenshot-committee.png.
    """
    page = new_context(
        demo_server.base_url,
        strict_csp=True,
        viewport={"width": 1280, "height": 900},
        storage_state=signed_in_state("cochair-clinician.oakland"),
    ).new_page()
    page.goto(COMMITTEE)
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Oakland Professional Practice Committee"
    )
    page.evaluate("() => document.fonts.ready")
    png = page.screenshot(full_page=True, animations="disabled", caret="hide")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    if os.environ.get("COMMONGROUND_SCREENSHOT") == "1":
        Path(SCREENSHOT).write_bytes(png)
