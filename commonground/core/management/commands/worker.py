from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from commonground.core.worker import (
    HEARTBEAT_SECONDS,
    STALE_AFTER_SECONDS,
    HeartbeatWorker,
    new_worker_id,
)


class Command(BaseCommand):
    help = (
        "Run background tasks. Re-queues the tasks of workers that died, so run at least one "
        "worker at all times; every task is safe to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue-name", default="default", help="Comma-separated, or *.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls.")
        parser.add_argument("--batch", action="store_true", help="Exit when the queue is empty.")
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument("--heartbeat", type=float, default=HEARTBEAT_SECONDS)
        parser.add_argument("--stale-after", type=float, default=STALE_AFTER_SECONDS)
        parser.add_argument("--worker-id", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        worker = HeartbeatWorker(
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            batch=options["batch"],
            backend_name="default",
            startup_delay=not options["batch"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"] or new_worker_id(),
            excluded_queue_names=[],
            heartbeat_interval=options["heartbeat"],
            stale_after=options["stale_after"],
        )
        worker.configure_signals()
        worker.run()
