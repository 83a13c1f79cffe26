from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from commonground.notifications.services import remind_due


class Command(BaseCommand):
    help = (
        "Notify people about actions and response clocks that are due, from every registered "
        "reminder source. Safe to run several times a day: each reminder is sent once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = remind_due(now=timezone.now())
        self.stdout.write(
            f"{report.reminders} reminder(s) checked, {report.failed_sources} source(s) failed"
        )
        if report.failed_sources:
            raise SystemExit(1)
