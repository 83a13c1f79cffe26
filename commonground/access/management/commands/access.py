"""``commonground access check|format|import|resume ...``

* ``check FILE ...``: see ``commonground.access.cli`` (pure, stores nothing).
* ``format [--template FILE]``: the extract's format, or a CSV to start from (pure).
* ``import FILE (--clinic SLUG | --region SLUG) --user USERNAME [--wait]``: creates an import
  job through the same service as the upload page and runs it inline with ``--wait`` (else
  queues it for the worker and prints the job id). Exit status 0 when done, 2 with the error
  report when the file is invalid (as ``check``), 1 when the import failed.
* ``resume JOB_ID``: runs a job that is not finished (after a failed attempt), inline.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import itertools
import uuid
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.utils import timezone

from commonground.access import services
from commonground.access.cli import DESCRIPTION, EXIT_INVALID, EXIT_OK, run_check, run_format
from commonground.access.models import ImportJob
from commonground.core.permissions import allowed
from commonground.organizations.models import Clinic, Region

EXIT_FAILED = 1


def _import_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commonground access import",
        description="Import an appointment extract (canonical CSV, .xlsx, FHIR R4 JSON / "
        "ndjson, or a Bulk Data export as a .zip) into the region's store.",
    )
    parser.add_argument("file", type=Path)
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument("--clinic", help="slug of the clinic the extract covers")
    scope.add_argument("--region", help="slug of the region (a region-wide extract)")
    parser.add_argument(
        "--user", required=True, help="username of the data steward the import is made for"
    )
    parser.add_argument(
        "--wait", action="store_true", help="run the import here instead of on the worker"
    )
    parser.add_argument("--max-errors", type=int, default=50, help="problems listed on screen")
    parser.add_argument(
        "--cutoff",
        type=_instant,
        default=None,
        metavar="YYYY-MM-DDTHH:MM[+HH:MM]",
        help="when the extract was taken (without an offset: the deployment's time zone); a "
        "later import of an older extract then leaves these states alone. A Bulk Data "
        "export gives its own (transactionTime).",
    )
    return parser


def _instant(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date and time: {text!r}") from None
    if value.tzinfo is None:
        value = timezone.make_aware(value)
    if problem := services.data_cutoff_problem(value):
        raise argparse.ArgumentTypeError(problem)
    return value


class Command(BaseCommand):
    help = (
        "Timely-access tools. check: "
        + DESCRIPTION
        + " import: load an extract (0 done, 2 invalid). resume: run an unfinished import."
    )
    # check is pure computation on a file: no database, URLs or templates to check first.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "subcommand",
            choices=["check", "format", "import", "resume"],
            help="check: validate and compute; format: the extract's format; import: load a "
            "file; resume: finish a job",
        )
        parser.add_argument(
            "arguments",
            nargs=argparse.REMAINDER,
            help="check FILE [--calendar federal|ca-state] [--as-of YYYY-MM-DD] "
            "[--out RESULTS.csv]; format [--template FILE.csv]; "
            "import FILE (--clinic SLUG | --region SLUG) --user NAME "
            "[--wait]; resume JOB_ID",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        command = options["subcommand"]
        if command == "check":
            code = run_check(options["arguments"], stdout=self.stdout)
        elif command == "format":
            code = run_format(options["arguments"], stdout=self.stdout)
        elif command == "import":
            code = self._import(options["arguments"])
        else:
            code = self._resume(options["arguments"])
        if code:
            raise SystemExit(code)

    def _import(self, argv: list[str]) -> int:
        try:
            args = _import_parser().parse_args(argv)
        except SystemExit as exc:
            return EXIT_INVALID if exc.code else EXIT_OK
        path: Path = args.file
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        user = get_user_model().objects.filter(username=args.user, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {args.user!r}")
        clinic = None
        if args.clinic:
            clinic = Clinic.objects.select_related("region").filter(slug=args.clinic).first()
            if clinic is None:
                raise CommandError(f"no clinic {args.clinic!r}")
            region = clinic.region
        else:
            found = Region.objects.filter(slug=args.region).first()
            if found is None:
                raise CommandError(f"no region {args.region!r}")
            region = found
        if not allowed(user, "access.import_extracts", region):
            raise CommandError(f"{args.user} is not a data steward of {region.name}")
        with path.open("rb") as handle:
            job = services.import_receive(
                actor=user,
                upload=File(handle, name=path.name),
                original_name=path.name,
                region=region,
                clinic=clinic,
                enqueue=not args.wait,
                data_cutoff=args.cutoff,
            )
        if not args.wait:
            self.stdout.write(f"import {job.pk} received and queued for the worker")
            return EXIT_OK
        self.stdout.write(f"import {job.pk} received; running it here")
        return _report(services.import_run(job.pk), self.stdout, args.max_errors)

    def _resume(self, argv: list[str]) -> int:
        if len(argv) != 1:
            raise CommandError("usage: commonground access resume JOB_ID")
        try:
            job_id = uuid.UUID(argv[0])
        except ValueError:
            raise CommandError(f"not a job id: {argv[0]!r}") from None
        if not ImportJob.objects.filter(pk=job_id).exists():
            raise CommandError(f"no import {job_id}")
        return _report(services.import_run(job_id), self.stdout, 50)


def _report(job: ImportJob, out: OutputWrapper, max_errors: int) -> int:
    """Print the outcome; the exit status: 0 done, 2 invalid, 1 failed or unfinished."""
    w = out.write
    w(f"state: {job.state}")
    if job.state == ImportJob.State.DONE:
        w(
            f"rows: {job.rows:,}; new {job.inserted:,}, changed {job.updated:,}, "
            f"unchanged {job.unchanged:,}; store version {job.generation}"
        )
        if job.deleted:
            w(f"removed: {job.deleted:,} stored appointment(s) the export lists as deleted")
        if job.older:
            w(
                f"not applied: {job.older:,} row(s) whose stored state is from a later data "
                "cut-off than this extract's"
            )
        for name, c in (job.quality or {}).get("side", {}).items():
            w(
                f"{name}: {c['rows']:,}; new {c['inserted']:,}, changed {c['updated']:,}, "
                f"unchanged {c['unchanged']:,}, not applied {c.get('older', 0):,}, "
                f"removed {c.get('deleted', 0):,}"
                + (
                    f"; {c['carried']:,} carried from the stored snapshot of {c['carried_from']}"
                    if c.get("carried")
                    else ""
                )
            )
        if feed := (job.quality or {}).get("feed"):
            w(f"feed: {feed}")
        if slot_feeds := (job.quality or {}).get("slot_feeds"):
            more = f" and {slot_feeds['more']:,} more" if slot_feeds.get("more") else ""
            w(f"slot feeds: {', '.join(slot_feeds['names'])}{more}")
        for warning in (job.quality or {}).get("warnings", []):
            w(f"note: {warning}")
        return EXIT_OK
    if job.state == ImportJob.State.INVALID:
        w(f"INVALID: {job.rejected:,} problem(s); nothing was stored")
        w("Problems by column and reason:")
        for column, reason, n in job.quality.get("problems", []):
            w(f"  {n:>9,}  {column or '(row)'}: {reason}")
        if job.error_report:
            with services.private_storage().open(job.error_report, "rb") as handle:
                text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
                reader = csv.reader(text)
                header = next(reader, [])
                rows = list(itertools.islice(reader, max(max_errors, 1)))
            w(f"First {len(rows)} problem(s): line, column, value, reason")
            several = header[:1] == ["file"]  # a Bulk Data export: the file of each line
            for row in rows:
                name, (line, column, value, reason) = (row[0], row[1:]) if several else ("", row)
                where = f"{name} line {line}" if name else f"line {line}"
                shown = value if len(value) <= 60 else value[:57] + "..."
                w(f"  {where}: {column or '(row)'} = {shown!r}: {reason}")
            w(f"the full report is on the import page (/access/imports/{job.pk}/)")
        return EXIT_INVALID
    if job.state == ImportJob.State.FAILED:
        w(f"FAILED: {job.last_error}; nothing was stored")
        return EXIT_FAILED
    w(f"not finished ({job.last_error}); run: commonground access resume {job.pk}")
    return EXIT_FAILED
