"""Every demo login signs in through the real form and tours the main pages.

Each page is checked with axe-core against WCAG 2.0 and 2.1, levels A and AA: a violation
of impact serious or critical fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser

from tests.browser.helpers import (
    DemoServer,
    NewContext,
    TourTab,
    assert_accessible,
    run_axe,
    sign_in,
    watch,
)

pytestmark = pytest.mark.browser

CLINIC_LOGINS = [
    "clinician.oakland",
    "cochair-clinician.oakland",
    "manager.oakland",
    "cochair-manager.oakland",
    "unionrep.oakland",
]
REGIONAL_LOGINS = ["datasteward.region", "admin.region"]
DEMO_LOGINS = CLINIC_LOGINS + REGIONAL_LOGINS

NOT_FOUND = "Page not found"
COMMITTEE = "/committees/ppc-oakland/"
# path -> h1 of the page when the person may see it
PAGES = {
    "/": "My committees",
    "/clinics/": "Clinics",
    "/clinics/oakland/": "Oakland Mental Health Center",
    "/committees/ppc-oakland/": "Oakland Professional Practice Committee",
    "/committees/regional-committee/": "Northern California Regional Practice Committee",
    "/committees/summit/": "Northern California PPC Summit",
    "/profile/": "Your profile",
    "/audit/": "Audit trail",
    "/committees/ppc-oakland/improvement/": "Improvement projects",
    "/committees/ppc-oakland/accountability/": "Accountability",
    "/improvement/accountability/": "Regional accountability",
    "/committees/ppc-oakland/concerns/": "Concerns",
    "/concerns/receipt/": "Follow up an anonymous concern",
    "/committees/ppc-oakland/meetings/": "Meetings",
    "/decisions/": "Decisions log",
    "/actions/mine/": "My actions",
    "/calendar/": "Calendar feeds",
    "/notifications/": "Notifications",
    "/notifications/preferences/": "Notification settings",
    "/search/": "Search",
    "/access/clinics/oakland/": "Timely access at Oakland Mental Health Center",
    "/access/region/": "Timely access: Northern California",
    "/access/region/settings/": "Access settings: Northern California",
    "/access/imports/": "Scheduling extract imports",
    "/access/imports/counts/": "Weekly counts (aggregate-only)",
    "/access/extract-format/": "Scheduling extract format",
    "/region/concerns/": "Concerns across Northern California",
    "/committees/ppc-oakland/conversations/": "Conversations",
    "/committees/ppc-oakland/polls/": "Polls",
    "/committees/ppc-oakland/ideas/": "Ideas",
    "/summit/": "Regional summit",
}
# Region-wide pages: the audit trail for regional admins; the regional ledger for them and
# the regional committee.
ONLY_FOR = {
    "/audit/": {"admin.region"},
    "/improvement/accountability/": {"admin.region", "datasteward.region"},
    "/access/region/": {"admin.region", "datasteward.region"},
    "/access/region/settings/": {"admin.region", "datasteward.region"},
    "/access/imports/": {"datasteward.region"},
    "/access/imports/counts/": {"datasteward.region"},
    # Everyone signed in may read it (the matrix holds that); its readers are these two.
    "/access/extract-format/": {"datasteward.region", "clinician.oakland"},
    "/region/concerns/": {"admin.region", "datasteward.region"},
}


def _expected(username: str, path: str) -> tuple[int, str]:
    """The status and h1 the person should get on the page."""
    # The data steward has a regional seat only: Oakland's clinic pages are not theirs.
    if username == "datasteward.region" and path.startswith(
        ("/clinics/oakland/", "/committees/ppc-oakland/", "/access/clinics/oakland/")
    ):
        return 404, NOT_FOUND
    return 200, PAGES[path]


TOUR = [
    (username, path)
    for username in DEMO_LOGINS
    for path in PAGES
    if username in ONLY_FOR.get(path, {username})
]


def test_login_page_is_accessible(demo_server: DemoServer, new_context: NewContext) -> None:
    page = new_context(demo_server.base_url).new_page()
    problems = watch(page)
    response = page.goto("/accounts/login/")
    assert response is not None and response.status == 200
    assert page.title().startswith("Sign in")
    assert_accessible(page, "the login page")
    assert not problems.errors


def test_login_error_is_accessible(demo_server: DemoServer, new_context: NewContext) -> None:
    """A failed sign-in shows its error accessibly (for an account that does not exist)."""
    page = new_context(demo_server.base_url).new_page()
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill("nobody.here")
    page.locator("input[name=password]").fill("not-the-password")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert urlsplit(page.url).path == "/accounts/login/"
    assert page.locator(".form-errors, .error").count() >= 1
    assert_accessible(page, "the login page after a failed sign-in")


def test_anonymous_visitor_is_sent_to_login(
    demo_server: DemoServer, new_context: NewContext
) -> None:
    page = new_context(demo_server.base_url).new_page()
    page.goto("/committees/ppc-oakland/")
    assert urlsplit(page.url).path == "/accounts/login/"


@pytest.mark.parametrize("username", DEMO_LOGINS)
def test_sign_in_lands_on_my_committees(
    username: str, demo_server: DemoServer, new_context: NewContext
) -> None:
    page = new_context(demo_server.base_url).new_page()
    problems = watch(page)
    sign_in(page, username)
    assert page.get_by_role("navigation", name="Main").is_visible()
    # Everyone sits somewhere in the demo region.
    assert page.locator("main .card-list .card").count() >= 1
    assert_accessible(page, f"My committees as {username}")
    assert not problems.errors


@pytest.mark.parametrize(("username", "path"), TOUR)
def test_page_is_accessible(username: str, path: str, tour_tab: TourTab) -> None:
    page, problems = tour_tab(username)
    response = page.goto(path)
    assert response is not None
    status, heading = _expected(username, path)
    assert urlsplit(page.url).path == path, f"{path} redirected to {page.url}"
    assert response.status == status, f"{path} answered {response.status} to {username}"
    h1 = page.get_by_role("heading", level=1)
    assert h1.count() == 1, f"{path} has {h1.count()} h1 headings"
    if status == 404:
        # The demo runs with DEBUG on, so this is Django's technical 404 page
        # ("Page not found (404)"); in production it is the app's 404.html.
        assert h1.inner_text().strip().startswith(heading)
    else:
        assert h1.inner_text().strip() == heading
        assert page.locator("main#main").count() == 1
    assert_accessible(page, f"{path} as {username}")
    assert not problems.errors, problems.errors


FORM_PAGES = [
    pytest.param(None, "/accounts/login/", id="anonymous-/accounts/login/"),
    pytest.param("clinician.oakland", "/profile/", id="clinician.oakland-/profile/"),
    pytest.param(
        "clinician.oakland", "/accounts/password/change/", id="clinician.oakland-password"
    ),
    pytest.param("clinician.oakland", COMMITTEE, id=f"clinician.oakland-{COMMITTEE}"),
    *[
        pytest.param(
            username,
            COMMITTEE,
            id=f"{username}-{COMMITTEE}",
        )
        for username in ("cochair-clinician.oakland", "cochair-manager.oakland", "admin.region")
    ],
    pytest.param(
        "cochair-clinician.oakland", f"{COMMITTEE}edit/", id="cochair-clinician.oakland-edit"
    ),
    pytest.param("admin.region", "/audit/", id="admin.region-/audit/"),
]

CONTROLS_SCRIPT = """
() => {
  const counts = {};
  for (const el of document.querySelectorAll("[id]")) counts[el.id] = (counts[el.id] || 0) + 1;
  const problems = Object.keys(counts)
    .filter((id) => counts[id] > 1)
    .map((id) => `id "${id}" is used ${counts[id]} times`);
  for (const el of document.querySelectorAll("input, select, textarea, button")) {
    if (el.type === "hidden") continue;
    const labels = el.labels ? el.labels.length : 0;
    const aria = el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    const text = el.tagName === "BUTTON" && el.textContent.trim();
    const where = el.outerHTML.slice(0, el.outerHTML.indexOf(">") + 1);
    if (!labels && !aria && !text) problems.push(`no label: ${where}`);
    if (labels > 1) problems.push(`${labels} labels: ${where}`);
  }
  return problems;
}
"""


@pytest.mark.parametrize(("username", "path"), FORM_PAGES)
def test_every_form_control_has_its_own_label(
    username: str | None,
    path: str,
    demo_server: DemoServer,
    new_context: NewContext,
    signed_in_state: Callable[[str], Any],
) -> None:
    """Ids are unique and each control has exactly one label, as the browser sees it.

    axe-core misses a label whose ``for`` points at a duplicated id; Chromium then names
    only the first control with that id.
    """
    state = signed_in_state(username) if username else None
    page = new_context(demo_server.base_url, storage_state=state).new_page()
    response = page.goto(path)
    assert response is not None and response.status == 200
    problems = page.evaluate(CONTROLS_SCRIPT)
    assert not problems, f"{path} as {username or 'anonymous'}:\n" + "\n".join(problems)


def test_axe_reports_known_violations(browser: Browser) -> None:
    """The checker itself works: axe-core flags a page built to break the rules."""
    page = browser.new_page()
    try:
        page.set_content(
            "<html><head><title>Broken</title></head><body>"
            '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
            '<input type="text">'
            '<p style="color:#bbb;background:#fff">Faint text</p>'
            "</body></html>"
        )
        found = {v["id"] for v in run_axe(page)}
    finally:
        page.close()
    assert {"html-has-lang", "image-alt", "label", "color-contrast"} <= found, found
