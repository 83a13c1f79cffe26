"""The background worker: django-tasks-db's worker loop plus heartbeats and a reaper.

django-tasks-db claims a task (status RUNNING, worker id recorded), commits, then runs it.
If the worker is killed the task stays RUNNING forever. Here every worker writes a
heartbeat; ``reap_orphaned_tasks`` puts RUNNING tasks whose worker has gone silent back to
READY so another worker runs them again. Tasks are therefore run at least once, and every
task in Common Ground is written to be safe to run twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime, timedelta

from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from commonground.core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
# A worker silent for this long is taken for dead. Several missed beats, so a busy
# database or a long GC pause does not re-run a task that is still running.
STALE_AFTER_SECONDS = 30.0


def heartbeat(worker_id: str, *, started_at: datetime | None = None) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "last_seen": now,
        },
        create_defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "last_seen": now,
            "started_at": started_at or now,
        },
    )


def reap_orphaned_tasks(*, stale_after: float = STALE_AFTER_SECONDS) -> list[str]:
    """Re-queue RUNNING tasks whose worker stopped beating; return their ids."""
    cutoff = timezone.now() - timedelta(seconds=stale_after)
    alive = set(
        WorkerHeartbeat.objects.filter(last_seen__gte=cutoff).values_list("worker_id", flat=True)
    )
    requeued: list[str] = []
    with transaction.atomic():
        running = DBTaskResult.objects.select_for_update(skip_locked=True).filter(
            status=TaskResultStatus.RUNNING
        )
        for result in running:
            owner = result.worker_ids[-1] if result.worker_ids else None
            if owner in alive:
                continue
            # A task claimed moments ago by a worker whose first beat is not in yet is
            # left alone until it is itself older than the stale window.
            if result.started_at and result.started_at > cutoff and owner is not None:
                continue
            result.status = TaskResultStatus.READY
            result.started_at = None
            result.save(update_fields=["status", "started_at"])
            requeued.append(str(result.id))
    if requeued:
        logger.warning("Re-queued %d task(s) of dead workers: %s", len(requeued), requeued)
    WorkerHeartbeat.objects.filter(last_seen__lt=cutoff - timedelta(hours=1)).delete()
    return requeued


class _Beat(threading.Thread):
    """Writes the heartbeat (and reaps) on its own connection while tasks run."""

    def __init__(self, worker_id: str, interval: float, stale_after: float) -> None:
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.interval = interval
        self.stale_after = stale_after
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                try:
                    close_old_connections()
                    heartbeat(self.worker_id)
                    reap_orphaned_tasks(stale_after=self.stale_after)
                except Exception:  # keep beating through a passing database error
                    logger.exception("heartbeat failed")
                self.stopped.wait(self.interval)
        finally:
            connection.close()


class HeartbeatWorker(Worker):
    def __init__(self, *, heartbeat_interval: float, stale_after: float, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.heartbeat_interval = heartbeat_interval
        self.stale_after = stale_after

    def run(self) -> None:
        heartbeat(self.worker_id)
        reap_orphaned_tasks(stale_after=self.stale_after)
        beat = _Beat(self.worker_id, self.heartbeat_interval, self.stale_after)
        beat.start()
        try:
            super().run()
        finally:
            beat.stopped.set()
            beat.join(timeout=self.heartbeat_interval + 1)
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{int(time.time())}"
