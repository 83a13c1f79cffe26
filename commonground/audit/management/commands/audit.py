from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from commonground.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Work with the audit trail. `audit verify` checks the hash chain for tampering."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify()
        if not report.ok:
            raise CommandError(
                f"Audit trail tampered: event {report.first_bad_id}: {report.reason} "
                f"({report.checked} events before it are intact)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {report.checked} events."))
