"""A task for the worker tests: records each start and finish in a file."""

from __future__ import annotations

import time
from pathlib import Path

from django_tasks import task


@task()
def record_run(path: str, seconds: float) -> str:
    log = Path(path)
    with log.open("a", encoding="utf-8") as handle:
        handle.write("start\n")
    time.sleep(seconds)
    with log.open("a", encoding="utf-8") as handle:
        handle.write("done\n")
    return "ok"
