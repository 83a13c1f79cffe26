"""The demo server as a process: stopping it stops the background worker it started."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.browser.helpers import start_demo_server

pytestmark = pytest.mark.browser


def _children(pid: int) -> set[int]:
    children: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            listed = (task / "children").read_text()
        except FileNotFoundError:
            continue  # a request thread that ended after the listing: it has no children
        children.update(int(child) for child in listed.split())
    return children


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    # A zombie has exited; only its parent's wait is missing.
    return "\nState:\tZ" not in status


def _command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads Linux's /proc")
def test_a_demo_server_stopped_with_sigterm_stops_its_worker(
    tmp_path: Path, prepared_root: Path
) -> None:
    server = start_demo_server(tmp_path / "demo", appointments=0, prepared_in=prepared_root)
    try:
        workers = {pid for pid in _children(server.process.pid) if "worker" in _command_line(pid)}
        assert len(workers) == 1, "the demo serves with one background worker"
    finally:
        server.stop()  # SIGTERM, as service managers and this suite stop a server
    assert server.process.returncode != -9, "the server needed SIGKILL to stop"
    (worker,) = workers
    deadline = time.monotonic() + 30
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(worker):
        os.kill(worker, 9)
        pytest.fail("the worker outlived the demo server it belonged to")
