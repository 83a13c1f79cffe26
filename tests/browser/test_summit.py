"""The summit's live conversation, in Chromium under the app's real CSP: twenty people vote.

Twenty demo people (``summit-01`` … ``summit-20``: clinicians 01 to 10, managers 11 to 20, see
``commonground/summit/demo.py``) each sign in in a browser context of their own and vote
through the one-statement-at-a-time htmx flow on every statement of the live summit
conversation: everyone agrees with the statements the demo marks as common ground, and each
side agrees with its own side's statements and disagrees with the other's. The demo server's
background worker recomputes the conversation as votes arrive; once it has counted them all,
the results page shows opinion groups, consensus and bridge statements, and the projector view
shows the participation count. axe-core finds no serious or critical violation on the vote page,
the results page or the projector view.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from commonground.summit.demo import LIVE_STATEMENTS, LIVE_TOPIC
from tests.browser.helpers import (
    DemoServer,
    NewContext,
    assert_accessible,
    sign_in,
    watch,
)

pytestmark = pytest.mark.browser

VOTERS = [f"summit-{i:02d}" for i in range(1, 21)]
STANCE = dict(LIVE_STATEMENTS)


def _choice(username: str, text: str) -> str:
    stance = STANCE[text]
    if stance == "common":
        return "Agree"
    clinician = int(username.rsplit("-", 1)[1]) <= 10
    return "Agree" if (stance == "clinician") == clinician else "Disagree"


def _vote(page: Page, username: str) -> None:
    """Vote on every statement, in the order the page serves them.

    The order follows the engine's priorities, which the background recompute changes while
    people vote: a voter who answered only some statements made the number of clinicians and
    managers behind each common statement (five or more a side for a bridge) a matter of
    timing. Everyone answering everything makes the outcome the same on every run."""
    voting = page.locator("#voting")
    meta = voting.locator(".meta").first
    expect(meta).to_contain_text("Statement 1 of")
    total = int(re.search(r"Statement 1 of (\d+)", meta.inner_text()).group(1))  # type: ignore[union-attr]
    for done in range(total):
        expect(meta).to_contain_text(f"Statement {done + 1} of")
        text = page.locator("#statement-text").inner_text().strip()
        voting.get_by_role("button", name=_choice(username, text), exact=True).click()
    expect(voting).to_contain_text(f"You have voted on all {total} statements")


def _wait_for_results(page: Page, url: str, timeout: float = 120.0) -> None:
    """Reload the results until the demo's background worker has counted every vote."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        counted = "New votes are being counted" not in page.content()
        if counted and page.get_by_role("table", name="Opinion groups and their sizes").count():
            return
        assert time.monotonic() < deadline, "the worker never counted the votes"
        time.sleep(2)


def test_twenty_people_vote_and_see_groups_consensus_and_bridges(
    fresh_demo_server: DemoServer, new_context: NewContext
) -> None:
    base = fresh_demo_server.base_url

    # Find the live conversation from the summit's program, as an attendee would.
    page = new_context(base, strict_csp=True).new_page()
    problems = watch(page)
    sign_in(page, VOTERS[0])
    page.get_by_role("link", name="Summit", exact=True).first.click()
    page.get_by_role("link", name=re.compile(r"PPC Summit")).first.click()
    assert_accessible(page, "the summit's event page")
    live_link = page.get_by_role("link", name=f"Vote in “{LIVE_TOPIC}”").first
    conversation_url = live_link.get_attribute("href")
    projector_url = page.get_by_role(
        "link", name=re.compile("^Projector view")
    ).first.get_attribute("href")
    assert conversation_url and projector_url
    page.goto(conversation_url)
    assert_accessible(page, "the live conversation's vote page")
    _vote(page, VOTERS[0])
    page.context.close()

    for username in VOTERS[1:]:
        # No axe-core here: these pages are not checked, and it is parsed on each of them.
        voter = new_context(base, strict_csp=True, axe=False).new_page()
        voter_problems = watch(voter)
        sign_in(voter, username)
        voter.goto(conversation_url)
        _vote(voter, username)
        assert not voter_problems.errors and not voter_problems.csp
        voter.context.close()

    page = new_context(base, strict_csp=True).new_page()
    problems = watch(page)
    sign_in(page, VOTERS[-1])
    _wait_for_results(page, conversation_url + "results/")
    groups = page.get_by_role("table", name="Opinion groups and their sizes")
    expect(groups.get_by_role("rowheader", name=re.compile(r"^Group A"))).to_be_visible()
    expect(groups.get_by_role("rowheader", name=re.compile(r"^Group B"))).to_be_visible()
    bridges = page.locator("section[aria-labelledby=bridges-heading] ol.card-list > li.card")
    expect(bridges.first).to_be_visible()
    common = {text for text, stance in LIVE_STATEMENTS if stance == "common"}
    bridge_texts = {
        bridges.nth(i).locator("p").first.inner_text().strip() for i in range(bridges.count())
    }
    assert bridge_texts & common, bridge_texts
    consensus = page.locator("section[aria-labelledby=consensus-heading] ol.card-list > li.card")
    expect(consensus.first).to_be_visible()
    expect(page.locator("#opinion-map[data-chart-rendered=true]")).to_have_count(1)
    assert_accessible(page, "the live conversation's results")

    page.goto(projector_url)
    expect(page.locator(".projector-counts")).to_contain_text(re.compile(r"\d+ voters"))
    expect(page.locator("#projector-map[data-chart-rendered=true]")).to_have_count(1)
    expect(page.locator("#live")).to_contain_text("Common ground across sides")
    assert "summit-" not in page.content()
    assert_accessible(page, "the projector view")
    assert not problems.errors, problems.errors
    assert not problems.csp, problems.csp
