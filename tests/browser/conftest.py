"""Fixtures for the browser suite: a real demo server, Debian's Chromium and axe-core.

The suite drives ``/usr/bin/chromium`` through Playwright's sync API against
``commonground demo`` started as a subprocess on a free loopback port with a fresh data
directory, exactly as a person would run the demo. ``bash .ci/browser-setup`` installs
Chromium and the pinned axe-core (``tests/browser/package.json``).

Outside CI a missing browser or axe-core skips the suite; with CI=true it fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.browser.helpers import (
    AXE_PATH,
    CHROMIUM,
    CHROMIUM_ARGS,
    NON_BLOCKING,
    REPO_ROOT,
    DemoServer,
    NewContext,
    PageProblems,
    TourTab,
    sign_in,
    start_demo_server,
    watch,
)

# Tests far longer than the rest (the twenty voters take two minutes) start first: the
# other test process works through the short ones meanwhile, instead of one process
# finishing the run alone.
LONGEST_FIRST = ("test_twenty_people_vote_and_see_groups_consensus_and_bridges",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: getattr(item, "originalname", item.name) not in LONGEST_FIRST)


def _missing_prerequisite(message: str) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{message} (run `bash .ci/browser-setup`)", pytrace=False)
    pytest.skip(f"{message}: run `bash .ci/browser-setup` first")


@pytest.fixture(scope="session")
def prepared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the demo's data directories are prepared once for all the run's test processes
    (the base temporary folder that pytest-xdist's workers share)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def demo_server(
    tmp_path_factory: pytest.TempPathFactory, prepared_root: Path
) -> Iterator[DemoServer]:
    """The shared demo server. Tests that change data use ``fresh_demo_server`` instead."""
    server = start_demo_server(tmp_path_factory.mktemp("demo"), prepared_in=prepared_root)
    yield server
    server.stop()


@pytest.fixture
def fresh_demo_server(tmp_path: Path, prepared_root: Path) -> Iterator[DemoServer]:
    """A demo server of the test's own (it starts in seconds), for tests that change data:
    without the synthetic appointments, which only the dashboards read."""
    server = start_demo_server(tmp_path / "demo", appointments=0, prepared_in=prepared_root)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        _missing_prerequisite(f"Chromium not found at {CHROMIUM}")
    if not AXE_PATH.exists():
        _missing_prerequisite(f"axe-core not found at {AXE_PATH.relative_to(REPO_ROOT)}")
    browser = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


def open_context(
    browser: Browser, base_url: str, *, strict_csp: bool = False, axe: bool = True, **options: Any
) -> BrowserContext:
    """A browser context as every test opens one (see ``new_context`` for the options)."""
    options.setdefault("viewport", {"width": 1280, "height": 900})
    context = browser.new_context(
        base_url=base_url,
        bypass_csp=not strict_csp,
        locale="en-US",
        timezone_id="America/Los_Angeles",
        **options,
    )
    if strict_csp and axe:
        context.add_init_script(path=str(AXE_PATH))
    context.set_default_timeout(15_000)
    context.set_default_navigation_timeout(30_000)
    return context


@pytest.fixture
def new_context(browser: Browser) -> Iterator[NewContext]:
    """Open browser contexts for one test; all are closed at its end.

    By default the page's Content-Security-Policy is bypassed so that axe-core can be
    injected as a script tag. ``strict_csp=True`` keeps the app's real policy (axe-core
    then comes in as an init script, which CSP does not govern). ``axe=False`` leaves it out
    of a strict context whose pages are never checked: the init script is parsed again on
    every page the context loads.
    """
    contexts: list[BrowserContext] = []

    def _new(base_url: str, **options: Any) -> BrowserContext:
        context = open_context(browser, base_url, **options)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()


# Each person's tab in this test process: its context, the page and the page's problems.
TourTabs = dict[str, tuple[BrowserContext, Page, PageProblems]]


@pytest.fixture(scope="session")
def _tour_tabs(browser: Browser) -> Iterator[TourTabs]:
    tabs: TourTabs = {}
    yield tabs
    for context, _, _ in tabs.values():
        context.close()


@pytest.fixture
def tour_tab(
    request: pytest.FixtureRequest,
    browser: Browser,
    demo_server: DemoServer,
    signed_in_state: Callable[[str], Any],
    _tour_tabs: TourTabs,
) -> Iterator[TourTab]:
    """One signed-in tab per person, kept by the test process for all their page checks,
    as a person goes from page to page (read-only pages of the shared demo server only).

    A fresh context per page loaded the static files and compiled axe-core again every
    time: a page's check took twice as long. The tab's problems are cleared for each test;
    a test that fails closes the tabs it used, so that the next one starts clean.
    """
    used: list[str] = []

    def _tab(username: str) -> tuple[Page, PageProblems]:
        if username not in _tour_tabs:
            context = open_context(
                browser, demo_server.base_url, storage_state=signed_in_state(username)
            )
            page = context.new_page()
            _tour_tabs[username] = (context, page, watch(page))
        _, page, problems = _tour_tabs[username]
        problems.errors.clear()
        problems.csp.clear()
        used.append(username)
        return page, problems

    failed_before = request.session.testsfailed
    yield _tab
    if request.session.testsfailed > failed_before:
        for username in used:
            if username in _tour_tabs:
                _tour_tabs.pop(username)[0].close()


@pytest.fixture(scope="session")
def signed_in_state(demo_server: DemoServer, browser: Browser) -> Callable[[str], Any]:
    """Sign each person in once, through the login form, and reuse their cookies.

    Pass the result as ``storage_state`` to ``new_context`` (shared demo server only).
    """
    states: dict[str, Any] = {}

    def _state(username: str) -> Any:
        if username not in states:
            context = browser.new_context(base_url=demo_server.base_url, bypass_csp=True)
            try:
                sign_in(context.new_page(), username)
                states[username] = context.storage_state()
            finally:
                context.close()
        return states[username]

    return _state


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not NON_BLOCKING:
        return
    terminalreporter.section("axe-core: minor and moderate violations (not failing)")
    for (rule, impact), places in sorted(NON_BLOCKING.items()):
        shown = ", ".join(sorted(places)[:5])
        more = f" and {len(places) - 5} more" if len(places) > 5 else ""
        terminalreporter.write_line(f"{rule} ({impact}): {shown}{more}")
