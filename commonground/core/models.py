from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """A running ``commonground worker`` says it is alive every few seconds.

    The task backend records which worker claimed a task but never notices when that worker
    dies, so the reaper compares claimed tasks against these heartbeats.
    """

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.hostname} (pid {self.pid})"
