from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from commonground.improvement import cli, spc


class Command(BaseCommand):
    help = (
        "Run or control chart of a CSV series, printed as JSON. The CSV holds one value per "
        "row in a column named y, value, values, count or numerator (or its only column), "
        "and optionally denominators in a column named n, denominator or size. Empty cells "
        "and NA are missing points. Examples: `commonground spc waits.csv --chart i "
        "--freeze 12`, `commonground spc offered.csv --chart p --parts 24`, "
        "`commonground spc waits.csv --chart i --profile mdc --direction decrease`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv", help="CSV file, or - for standard input")
        parser.add_argument("--chart", choices=spc.CHARTS, default="i", help="default: i")
        parser.add_argument(
            "--freeze",
            type=int,
            help="number of baseline points (MDC: fix the limits after this many points)",
        )
        parser.add_argument(
            "--parts",
            help="comma-separated point counts after which a new phase starts "
            "(MDC: rebase points), e.g. 24,36",
        )
        parser.add_argument(
            "--exclude", help="comma-separated zero-based indices of points kept off the limits"
        )
        parser.add_argument("--multiply", type=float, default=1.0, help="scale y and limits")
        parser.add_argument(
            "--no-screen",
            action="store_true",
            help="keep moving ranges above 3.267 x AMR (screening is on by default)",
        )
        parser.add_argument("--profile", choices=cli.PROFILE_CHOICES, default="qi")
        parser.add_argument(
            "--direction", choices=tuple(spc.DIRECTIONS), help="MDC: improvement direction"
        )
        parser.add_argument("--target", type=float, help="MDC: target for the assurance icon")
        parser.add_argument(
            "--rule-length", type=int, default=7, help="MDC: trend and shift length (7 or 6)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["csv"]
        try:
            text = (
                sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8-sig")
            )
        except OSError as error:
            raise CommandError(f"cannot read {source}: {error}") from error
        try:
            result = cli.run(
                cli.read_series(text),
                chart=options["chart"],
                freeze=options["freeze"],
                parts=cli.parse_int_list(options["parts"], "--parts"),
                exclude=cli.parse_int_list(options["exclude"], "--exclude"),
                multiply=options["multiply"],
                screen=not options["no_screen"],
                profile=options["profile"],
                direction=options["direction"],
                target=options["target"],
                rule_length=options["rule_length"],
            )
        except cli.SpcInputError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(cli.to_json(result))
