"""``manage.py close_polls``: close every open poll past its closing time.

Each poll's own closing task normally does this at the closing time; this command is the
safety net for a lost task (run it from cron). Votes past the closing time are refused
either way.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from commonground.deliberation.services import poll_close_due


class Command(BaseCommand):
    help = "Close open polls whose closing time has passed."

    def handle(self, *args: Any, **options: Any) -> None:
        closed = poll_close_due()
        self.stdout.write(f"Closed {len(closed)} poll(s).")
