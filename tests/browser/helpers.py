"""Helpers for the browser suite: the demo server, signing in and axe-core checks.

The fixtures that use them live in conftest.py beside this file.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from playwright.sync_api import Error as PlaywrightError

REPO_ROOT = Path(__file__).resolve().parents[2]
BROWSER_DIR = Path(__file__).resolve().parent
AXE_PATH = BROWSER_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling home, and this
# machine's closed network refuses every one of those connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DEMO_PASSWORD = "common-ground-demo"
DEMO_EMAIL_DOMAIN = "demo.commonground.invalid"
# The shared server computes its aggregates and region dashboard before it answers.
SERVER_START_TIMEOUT = 300.0
# The shared server keeps a tenth of them, so the dashboards still tell their story.
BROWSER_DEMO_APPOINTMENTS = 200_000
# The WCAG 2.0 and 2.1 success criteria at levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

# Settings the demo must not inherit from the shell or from pytest-django (which points
# DJANGO_SETTINGS_MODULE at the test settings): the demo decides them itself.
_SCRUBBED_ENV = {
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "EMAIL_BACKEND",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Never route requests for the local demo through a proxy from the environment.
_LOCAL_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _http_status(url: str) -> int | None:
    try:
        with _LOCAL_OPENER.open(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _commonground_command() -> list[str]:
    script = Path(sys.executable).with_name("commonground")
    if script.exists():
        return [str(script)]
    venv_script = REPO_ROOT / ".venv" / "bin" / "commonground"
    if venv_script.exists():
        return [str(venv_script)]
    return [sys.executable, "-m", "commonground"]


@dataclass
class DemoServer:
    """A running ``commonground demo`` subprocess."""

    base_url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    _log_file: Any = field(repr=False, default=None)

    def url(self, path: str) -> str:
        return self.base_url + path

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log_file is not None:
            self._log_file.close()


def _demo_env(appointments: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("COMMONGROUND_") and key not in _SCRUBBED_ENV
    }
    env["PYTHONUNBUFFERED"] = "1"
    # Fewer appointments than the demo's two million, so that each server starts in seconds.
    env["COMMONGROUND_DEMO_APPOINTMENTS"] = str(appointments)
    return env


_MARKER = shutil.ignore_patterns(".prepared")


def _prepared_data_dir(root: Path, env: dict[str, str], timeout: float) -> Path:
    """A data directory ``commonground demo --no-serve`` prepared once in ``root`` for every
    test process of the run (the first to need it prepares it; the others wait)."""
    appointments = env["COMMONGROUND_DEMO_APPOINTMENTS"]
    data_dir = root / f"demo-prepared-{appointments}"
    done = data_dir / ".prepared"
    with (root / f"demo-prepared-{appointments}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(data_dir, ignore_errors=True)  # a half-prepared one
            data_dir.mkdir()
            try:
                run = subprocess.run(
                    [*_commonground_command(), "demo", "--no-serve"],
                    cwd=REPO_ROOT,
                    env={**env, "COMMONGROUND_DATA_DIR": str(data_dir)},
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=timeout,
                )
            except subprocess.TimeoutExpired:
                pytest.fail(f"preparing the demo's data took over {timeout:.0f}s", pytrace=False)
            if run.returncode != 0:
                pytest.fail(
                    f"preparing the demo's data directory failed ({run.returncode}):\n"
                    f"{run.stdout[-4000:]}{run.stderr[-4000:]}",
                    pytrace=False,
                )
            done.touch()
    return data_dir


def start_demo_server(
    workdir: Path,
    timeout: float = SERVER_START_TIMEOUT,
    appointments: int = BROWSER_DEMO_APPOINTMENTS,
    prepared_in: Path | None = None,
) -> DemoServer:
    """Start ``commonground demo 127.0.0.1:PORT`` on a fresh data directory in workdir.

    With ``prepared_in`` the data directory is a copy of one prepared there once (migrating
    and seeding are most of a server's start-up); the server then finds it loaded.

    Returns once /healthz answers 200; fails with the server's log if it never does.
    """
    data_dir = workdir / "data"
    log_path = workdir / "server.log"
    port = free_port()
    env = _demo_env(appointments)
    if prepared_in is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        prepared = _prepared_data_dir(prepared_in, env, timeout)
        shutil.copytree(prepared, data_dir, ignore=_MARKER)
    else:
        data_dir.mkdir(parents=True)
    env["COMMONGROUND_DATA_DIR"] = str(data_dir)
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [*_commonground_command(), "demo", f"127.0.0.1:{port}"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    server = DemoServer(
        base_url=f"http://127.0.0.1:{port}",
        data_dir=data_dir,
        log_path=log_path,
        process=process,
        _log_file=log_file,
    )
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            server.stop()
            pytest.fail(
                f"the demo server exited with status {process.returncode} before it was "
                f"ready:\n{server.log_tail()}",
                pytrace=False,
            )
        if _http_status(server.url("/healthz")) == 200:
            return server
        if time.monotonic() > deadline:
            server.stop()
            pytest.fail(
                f"the demo server did not answer /healthz within {timeout:.0f}s:\n"
                f"{server.log_tail()}",
                pytrace=False,
            )
        time.sleep(0.25)


NewContext = Callable[..., BrowserContext]


@dataclass
class PageProblems:
    """Uncaught script errors and Content-Security-Policy refusals seen by a page."""

    errors: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)


# A person's signed-in tab and its problems, by username (the ``tour_tab`` fixture).
TourTab = Callable[[str], tuple[Page, PageProblems]]


def watch(page: Page) -> PageProblems:
    problems = PageProblems()
    page.on("pageerror", lambda exc: problems.errors.append(str(exc)))

    def on_console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.csp.append(message.text)

    page.on("console", on_console)
    return problems


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the real login form and land on "My committees"."""
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(username)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if urlsplit(page.url).path != "/":
        shown = page.locator(".form-errors, .error, .message").all_inner_texts()
        pytest.fail(
            f"signing in as {username} landed on {page.url}, not on My committees: {shown}",
            pytrace=False,
        )
    heading = page.get_by_role("heading", level=1).inner_text().strip()
    assert heading == "My committees", f"{username} signed in to a page headed {heading!r}"


AXE_SCRIPT = """
async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({
      target: n.target.join(" "),
      html: n.html,
      summary: n.failureSummary,
    })),
  }));
}
"""

# Violations below "serious" seen during the session, reported at the end without failing.
NON_BLOCKING: dict[tuple[str, str], set[str]] = {}


def run_axe(page: Page) -> list[dict[str, Any]]:
    """Run axe-core's WCAG 2.0/2.1 A and AA rules on the page; return every violation.

    A click that follows a link returns before the next page has loaded: axe started on the
    page being left finds no document. Then it runs again, on the page that arrived."""
    for attempt in range(2):
        page.wait_for_load_state("load")
        try:
            if not page.evaluate("() => typeof window.axe !== 'undefined'"):
                page.add_script_tag(path=str(AXE_PATH))
            violations: list[dict[str, Any]] = page.evaluate(AXE_SCRIPT, AXE_TAGS)
            return violations
        except PlaywrightError as exc:
            navigating = "documentElement" in str(exc) or "context was destroyed" in str(exc)
            if attempt or not navigating:
                raise
            page.wait_for_timeout(500)
    raise AssertionError("unreachable")


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:10]:
            lines.append(f"    at {node['target']}: {node['html'][:200]}")
            if node.get("summary"):
                summary = " ".join(node["summary"].split())
                lines.append(f"      {summary[:300]}")
        if len(v["nodes"]) > 10:
            lines.append(f"    ... and {len(v['nodes']) - 10} more nodes")
    return "\n".join(lines)


def assert_accessible(page: Page, where: str) -> None:
    """No axe-core violation of impact serious or critical on the page as it is now."""
    violations = run_axe(page)
    for v in violations:
        if v["impact"] not in BLOCKING_IMPACTS:
            key = (v["id"], str(v["impact"]))
            NON_BLOCKING.setdefault(key, set()).add(where)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, (
        f"axe-core found {len(blocking)} serious/critical WCAG 2.x A/AA violation(s) on "
        f"{where} ({page.url}):\n{format_violations(blocking)}"
    )


def mark_everyone_present(page: Page) -> None:
    """Click each "Mark present" button; each click swaps the attendance fragment in place."""
    buttons = page.locator("#attendance").get_by_role("button", name=re.compile(r"^Mark present"))
    remaining = buttons.count()
    assert remaining >= 4, "the demo PPC has at least two people on each side"
    while remaining:
        buttons.first.click()
        remaining -= 1
        expect(buttons).to_have_count(remaining)
