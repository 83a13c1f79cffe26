from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from commonground.notifications.services import pending_redeliver


class Command(BaseCommand):
    help = (
        "Queue again immediate notification emails that were never sent (a failed or lost "
        "task). Run every few minutes; delivery is deduplicated, so nothing is sent twice."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = pending_redeliver(now=timezone.now())
        self.stdout.write(f"{count} email(s) queued again")
