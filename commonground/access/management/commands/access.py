"""``commonground access check FILE ...``: see ``commonground.access.cli``."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from commonground.access.cli import DESCRIPTION, run_check


class Command(BaseCommand):
    help = "Timely-access tools. check: " + DESCRIPTION
    # Pure computation on a file: no database, URLs or templates to check first.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subcommand", choices=["check"], help="check: validate and compute")
        parser.add_argument(
            "arguments",
            nargs=argparse.REMAINDER,
            help="FILE [--calendar federal|ca-state] [--as-of YYYY-MM-DD] [--out RESULTS.csv]",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code = run_check(options["arguments"], stdout=self.stdout)
        if code:
            raise SystemExit(code)
