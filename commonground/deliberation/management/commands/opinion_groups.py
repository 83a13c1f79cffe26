from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from commonground.deliberation.opinion_cli import DESCRIPTION, add_arguments, execute


class Command(BaseCommand):
    help = DESCRIPTION
    # Pure computation on files: no database, URLs or templates to check first (the system
    # checks would cost more than the computation itself).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        comments: Path | None = options["comments"]
        out: Path | None = options["out"]
        execute(options["participants_votes"], comments=comments, out=out, stdout=self.stdout)
