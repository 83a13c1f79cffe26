from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from commonground.core.worker import STALE_AFTER_SECONDS, reap_orphaned_tasks


class Command(BaseCommand):
    help = "Re-queue tasks left RUNNING by workers that stopped sending heartbeats."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stale-after", type=float, default=STALE_AFTER_SECONDS)

    def handle(self, *args: Any, **options: Any) -> None:
        requeued = reap_orphaned_tasks(stale_after=options["stale_after"])
        self.stdout.write(f"Re-queued {len(requeued)} task(s).")
