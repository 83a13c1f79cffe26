"""The worker re-runs tasks of a worker that died; live workers keep theirs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from commonground.core.models import WorkerHeartbeat
from commonground.core.tests.sample_tasks import record_run
from commonground.core.worker import heartbeat, reap_orphaned_tasks

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _claimed(tmp_path, worker_id, started_ago=60):
    result = record_run.enqueue(str(tmp_path / "log"), 0)
    row = DBTaskResult.objects.get(pk=result.id)
    row.claim(worker_id)
    DBTaskResult.objects.filter(pk=row.pk).update(
        started_at=timezone.now() - timedelta(seconds=started_ago)
    )
    return row.pk


def test_reaper_requeues_tasks_of_dead_workers_only(db, settings, tmp_path):
    settings.TASKS = DB_TASKS
    heartbeat("alive")
    heartbeat("gone-quiet")
    WorkerHeartbeat.objects.filter(worker_id="gone-quiet").update(
        last_seen=timezone.now() - timedelta(minutes=5)
    )
    alive = _claimed(tmp_path, "alive")
    quiet = _claimed(tmp_path, "gone-quiet")
    vanished = _claimed(tmp_path, "never-beat")
    just_claimed = _claimed(tmp_path, "starting-up", started_ago=1)

    requeued = set(reap_orphaned_tasks(stale_after=30))

    assert requeued == {str(quiet), str(vanished)}
    status = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert status[alive] == TaskResultStatus.RUNNING
    assert status[just_claimed] == TaskResultStatus.RUNNING
    assert status[quiet] == status[vanished] == TaskResultStatus.READY
    # Running the reaper again changes nothing.
    assert reap_orphaned_tasks(stale_after=30) == []


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DJANGO_"))}
    env.update(
        COMMONGROUND_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_killed_workers_task_runs_again_on_another_worker(tmp_path):
    """R3 in small: SIGKILL a worker mid-task; a second worker finishes the task."""
    env = _env(tmp_path / "data")
    log = tmp_path / "runs.log"
    # The workers read and write only the task and heartbeat tables: migrating just those
    # two apps takes a second, the whole project about thirteen.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.core.management import call_command;"
            "call_command('migrate', 'django_tasks_database', verbosity=0);"
            "call_command('migrate', 'core', verbosity=0)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    enqueue = (
        "import django; django.setup();"
        "from commonground.core.tests.sample_tasks import record_run;"
        f"print(record_run.enqueue({str(log)!r}, 2.0).id)"
    )
    task_id = subprocess.run(
        [sys.executable, "-c", enqueue], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    worker_args = [
        sys.executable,
        "-m",
        "commonground",
        "worker",
        "--interval",
        "0.2",
        "--heartbeat",
        "0.3",
        "--stale-after",
        "1.5",
    ]
    first = subprocess.Popen(
        worker_args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        assert _wait_for(lambda: log.exists() and "start" in log.read_text(), 60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    second = subprocess.Popen(
        [*worker_args, "--max-tasks", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        second.wait(timeout=60)
    finally:
        if second.poll() is None:
            second.kill()
    assert log.read_text().splitlines() == ["start", "start", "done"]
    check = (
        "import django; django.setup();"
        "from django_tasks_db.models import DBTaskResult;"
        f"print(DBTaskResult.objects.get(pk={task_id!r}).status)"
    )
    status = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert status == "SUCCESSFUL"
