from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from commonground.concerns import services


class Command(BaseCommand):
    help = (
        "Daily concern jobs: `release` publishes the day's anonymous concerns and announces its "
        "confidential ones, in random order; "
        "`escalate` escalates concerns whose clocks lapsed. Both are safe to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job", choices=["release", "escalate"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["job"] == "release":
            count = services.release_anonymous_concerns()
            self.stdout.write(
                f"Released {count} anonymous concern(s) and announced the day's confidential ones."
            )
        else:
            count = services.escalate_overdue()
            self.stdout.write(f"Escalated {count} concern(s).")
