from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from commonground.notifications.models import Frequency
from commonground.notifications.services import digests_send


class Command(BaseCommand):
    help = (
        "Email each person on the daily (or weekly) digest their notifications not yet "
        "emailed. Run once a day (once a week); running it twice in a period sends nothing new."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("frequency", choices=[Frequency.DAILY, Frequency.WEEKLY])

    def handle(self, *args: Any, **options: Any) -> None:
        report = digests_send(frequency=options["frequency"], now=timezone.now())
        self.stdout.write(
            f"{options['frequency']} digests: {report.sent} sent, "
            f"{report.already_sent} already sent this period, {report.failed} failed"
        )
        if report.failed:
            raise SystemExit(1)
