"""``commonground access check FILE [--calendar C] [--as-of YYYY-MM-DD] [--out RESULTS.csv]``

Preflight for data stewards: validates a canonical appointment extract
(access-and-parity.md section 6.1) and computes the timely-access metrics without storing
anything (DuckDB works in memory and spills only to a private temporary directory that is
removed on exit), then prints a summary. With ``--out`` it writes one row per measured unit.

Exit status: 0 when the file is valid, 2 (with the error report) when it is not.

Pure (no Django): the management command ``access`` forwards ``check`` here; this module also
runs standalone as ``python -m commonground.access.cli check FILE``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import duckdb

from . import (
    bulk,
    closures,
    extract,
    format_guide,
    hedis,
    metrics,
    parity,
    readers,
    side,
    slots,
    suppression,
)
from .calendars import CALENDARS, alternate, calendar_version
from .suppression import SUPPRESSED, Line, fmt_count

EXIT_OK = 0
EXIT_INVALID = 2
# From this size (about 50,000 rows) reading the file outlasts importing the solvers.
IMPORT_SOLVERS_FROM_BYTES = 10_000_000

DESCRIPTION = (
    "Validate a canonical appointment extract and compute timely-access metrics without "
    "storing anything; exit status 0 when the file is valid, 2 with an error report when not."
)


class Writer(Protocol):
    def write(self, text: str, /) -> object: ...


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        type=Path,
        help="appointment extract: canonical CSV, the same as .xlsx, or FHIR R4 JSON / ndjson",
    )
    parser.add_argument(
        "--calendar",
        choices=sorted(CALENDARS),
        default="federal",
        help="holiday calendar for business days (default federal; the report also shows "
        "where the other calendar would change a result)",
    )
    parser.add_argument(
        "--as-of",
        type=_date,
        default=None,
        help="data cut-off YYYY-MM-DD (default: a Bulk Data export's transactionTime, else the "
        "latest booking or cancellation date)",
    )
    parser.add_argument(
        "--closures", type=Path, default=None, metavar="CLOSURES.csv",
        help="clinic closure calendar (clinic_id,date[,reason]): days a clinic is closed, "
        "not business days for it on top of the holiday calendar",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="write one row per measured unit")
    parser.add_argument(
        "--errors-out", type=Path, default=None, help="write every error (line, column, ...)"
    )
    parser.add_argument(
        "--max-errors", type=int, default=50, help="errors listed on screen (default 50)"
    )
    parser.add_argument(
        "--timezone",
        default=extract.DEFAULT_TZ,
        help="clinic time zone for values without an offset (default America/Los_Angeles)",
    )
    parser.add_argument(
        "--clinic", default=None, metavar="CODE",
        help="clinic code for FHIR appointments that name no clinic (as an import made for "
        "one clinic does)",
    )  # fmt: skip
    parser.add_argument(
        "--memory-limit",
        default="1600MB",
        help="DuckDB memory limit before it spills to a private temporary folder (1600MB; "
        "the whole process stays under 2 GB)",
    )
    parser.add_argument(
        "--slots", type=Path, default=None,
        help="slot CSV (see commonground/access/slots.py): next and third-next available",
    )  # fmt: skip
    parser.add_argument(
        "--encounters", type=Path, default=None,
        help="encounter CSV (see commonground/access/hedis.py): HEDIS-like FUH/FUM/FUA",
    )  # fmt: skip
    parser.add_argument(
        "--measurement-year", type=int, default=None,
        help="HEDIS-like measurement year (default: the year of the as-of date)",
    )  # fmt: skip
    parser.add_argument(
        "--measures-out", type=Path, default=None,
        help="write the slot units and HEDIS-like index events (data steward only)",
    )  # fmt: skip


FORMAT_DESCRIPTION = (
    "Print the canonical extract's columns, codes and rules; with --template, write a CSV of "
    "every column and three example rows to start from."
)


def add_format_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--template", type=Path, default=None, metavar="FILE.csv", help="write the template here"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="commonground access", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help=DESCRIPTION, description=DESCRIPTION)
    add_check_arguments(check)
    add_format_arguments(
        sub.add_parser("format", help=FORMAT_DESCRIPTION, description=FORMAT_DESCRIPTION)
    )
    return parser


def run_format(argv: Sequence[str], stdout: Writer | None = None) -> int:
    """Run ``format`` with arguments after the subcommand; returns the exit status."""
    out: Writer = sys.stdout if stdout is None else stdout
    parser = argparse.ArgumentParser(
        prog="commonground access format", description=FORMAT_DESCRIPTION
    )
    add_format_arguments(parser)
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:
        return EXIT_INVALID if exc.code else EXIT_OK
    if args.template is None:
        out.write(format_guide.as_text())
        return EXIT_OK
    try:
        with args.template.open("x", encoding="utf-8", newline="") as handle:
            handle.write(format_guide.template_csv())
    except FileExistsError:
        out.write(f"access format: {args.template}: already exists (not overwritten)\n")
        return EXIT_INVALID
    except OSError as exc:
        out.write(f"access format: {args.template}: {exc.strerror}\n")
        return EXIT_INVALID
    out.write(f"wrote {args.template}: every column and three example rows\n")
    return EXIT_OK


def run_check(argv: Sequence[str], stdout: Writer | None = None) -> int:
    """Run ``check`` with arguments after the subcommand; returns the exit status."""
    out: Writer = sys.stdout if stdout is None else stdout
    parser = argparse.ArgumentParser(prog="commonground access check", description=DESCRIPTION)
    add_check_arguments(parser)
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:  # argparse printed the usage error
        return EXIT_INVALID if exc.code else EXIT_OK
    path: Path = args.file
    if not path.is_file():
        out.write(f"access check: {path}: no such file\n")
        return EXIT_INVALID
    version = calendar_version(args.calendar)
    args.stdout = out
    args.closures_found = closures.NONE
    if args.closures is not None:
        found = _read_closures(args.closures, args, out)
        if found is None:
            return EXIT_INVALID
        args.closures_found = found
    # A large file takes seconds to read and check: the report's solvers import meanwhile.
    solvers = (
        suppression.import_solvers_in_background()
        if path.stat().st_size >= IMPORT_SOLVERS_FROM_BYTES
        else None
    )
    try:
        return _run(args, version, out)
    finally:
        if solvers is not None:
            solvers.join()


def _run(args: argparse.Namespace, version: extract.CalendarVersion, out: Writer) -> int:
    with tempfile.TemporaryDirectory(prefix="cg-access-") as spill:
        args.workdir = Path(spill)
        con = duckdb.connect(":memory:")
        try:
            extract.configure(
                con,
                timezone=args.timezone,
                memory_limit=args.memory_limit,
                temp_directory=spill,
            )
        except duckdb.Error as exc:
            out.write(f"access check: {exc}\n")
            con.close()
            return EXIT_INVALID
        try:
            return _check(con, args, version, out)
        finally:
            con.close()


def _check(
    con: duckdb.DuckDBPyConnection,
    args: argparse.Namespace,
    version: extract.CalendarVersion,
    out: Writer,
) -> int:
    path: Path = args.file
    max_errors = 10**7 if args.errors_out is not None else max(args.max_errors, 1)
    # XLSX and FHIR uploads become the canonical CSV first; lines are mapped back.
    converted = readers.convert(
        path,
        args.workdir / "input",
        name=path.name,
        max_errors=max_errors,
        default_clinic=args.clinic or "",
        files_beside=True,  # a Bulk Data manifest names the ndjson files beside it
    )
    if converted.side_file:
        return _side_check(con, args, converted, version, out)
    loaded = converted.finish(
        extract.load(
            con,
            converted.path,
            version,
            max_errors=max_errors,
            booking_time_optional=converted.booking_time_optional,
        )
    )
    w = out.write
    w(f"Common Ground access check: {path}\n")
    for warning in loaded.header.warnings:
        w(f"  warning: {warning}\n")
    deleted = ", ".join(
        f"{converted.counts[k]:,} deleted {kind}(s)"
        for kind in bulk.APPLIED_DELETIONS
        if converted.counts.get(k := f"deleted_{kind.lower()}s")
    )
    if deleted and readers.only_no_rows(loaded):  # an incremental export of deletions only
        w(
            f"  valid: no appointment rows, only {deleted}: nothing to compute; an import "
            "removes them from the store\n"
        )
        return EXIT_OK
    if not loaded.valid:
        _error_report(loaded, args, out)
        return EXIT_INVALID
    # A Bulk Data export says when it was taken: its transactionTime is the cut-off.
    args.export_cutoff = converted.cutoff
    exported = extract.local_day(converted.cutoff, args.timezone) if converted.cutoff else None
    as_of: dt.date | None = args.as_of or exported or loaded.last_event_day
    if as_of is None:  # pragma: no cover - a valid load has at least one booking date
        w("  no date in the file to infer the cut-off from: pass --as-of\n")
        return EXIT_INVALID
    if not version.covers(as_of):
        w(f"  invalid --as-of {as_of}: outside calendar {version.label}\n")
        return EXIT_INVALID
    other = alternate(version.name)
    first = min(d for d in (loaded.first_day, as_of) if d is not None)
    last = max(d for d in (loaded.last_day, as_of) if d is not None)
    alt = other if other.covers(first) and other.covers(last) else None
    metrics.build_calendar_table(con, version, alt, first, last, args.closures_found)
    args.closures_unmatched = []
    if args.closures_found:
        codes = {str(c) for (c,) in con.execute("SELECT DISTINCT clinic_id FROM appt").fetchall()}
        args.closures_unmatched = [c for c in args.closures_found.clinics if c not in codes]
    options = metrics.Options(calendar=version, as_of=as_of, alternate=alt)
    rows_quality = metrics.row_quality(con, as_of)
    # FHIR inputs bring their own slots.csv / encounters.csv; explicit options win.
    extra = _extra_measures(con, args, converted.outputs, version, alt, as_of)
    if isinstance(extra, int):
        return extra
    metrics.compute_units(con, options, drop_source=True, keep_units=args.out is not None)
    summary = metrics.summarise(con)
    quality = metrics.data_quality(con, rows_quality)
    comparisons = parity.parity(con)
    _summary_report(loaded, args, version, alt, as_of, summary, quality, comparisons, out)
    for text in extra():
        w(text)
    if args.out is not None:
        n = metrics.write_units_csv(con, str(args.out))
        w(
            f"\nwrote {n:,} rows (one per measured unit) to {args.out}: unit-level data for "
            "the data steward, not for sharing\n"
        )
    return EXIT_OK


def _side_check(
    con: duckdb.DuckDBPyConnection,
    args: argparse.Namespace,
    converted: readers.Converted,
    version: extract.CalendarVersion,
    out: Writer,
) -> int:
    """A slot or encounter file on its own: every row checked, then its measures."""
    w = out.write
    w(f"Common Ground access check: {args.file} ({readers.LABELS[converted.side_file]})\n")
    name, path = converted.side_file, converted.outputs[converted.side_file]
    found = side.problems(name, path, timezone=args.timezone)
    if found:
        loaded = extract.LoadResult(
            path=path, rows=0, errors=[], error_count=0, error_summary={},
            timezone=args.timezone, header=extract.Header(columns=[]), tz_assumed_values=0,
            first_day=None, last_day=None, last_event_day=None,
        )  # fmt: skip
        side.add_problems(loaded, found, keep=len(found))
        _error_report(loaded, args, out)
        return EXIT_INVALID
    as_of = args.as_of or side.file_cutoff(name, path, timezone=args.timezone)
    if as_of is None or not version.covers(as_of):
        w(f"  no cut-off inside calendar {version.label}: pass --as-of\n")
        return EXIT_INVALID
    # No appointments here: the HEDIS-like follow-ups come from the encounters alone.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE appt (patient_key UBIGINT, appointment_id VARCHAR, "
        "start_day DATE, service_line VARCHAR, provider_class VARCHAR, modality VARCHAR, "
        "status VARCHAR)"
    )
    other = alternate(version.name)
    alt = other if other.covers(as_of) else None
    extra = _extra_measures(con, args, {name: path}, version, alt, as_of)
    if isinstance(extra, int):
        return extra
    for text in extra():
        w(text)
    return EXIT_OK


def _extra_measures(
    con: duckdb.DuckDBPyConnection,
    args: argparse.Namespace,
    outputs: dict[str, Path],
    version: extract.CalendarVersion,
    alt: extract.CalendarVersion | None,
    as_of: dt.date,
) -> int | Callable[[], Iterator[str]]:
    """Slots and HEDIS-like measures; returns the report lines, or an exit status on error."""
    slot_path: Path | None = args.slots or outputs.get("slots")
    enc_path: Path | None = args.encounters or outputs.get("encounters")
    lines: list[str] = []
    csv_rows: list[list[str]] = []
    try:
        if slot_path is not None:
            data = slots.read_slots(slot_path, timezone=args.timezone)
            points = slots.measurement_points(data, as_of)
            units = slots.measure(
                data, points, version.calendar(), alt.calendar() if alt else None,
                units_seen=slots.known_units(slot_path), closures=args.closures_found,
            )  # fmt: skip
            lines += slots.report_lines(
                data, units, points, version.label, alt.label if alt else None
            )
            csv_rows += slots.unit_rows(units)
        if enc_path is not None:
            enc = hedis.read_encounters(enc_path, timezone=args.timezone)
            visits = hedis.appointment_follow_ups(con, (e.patient_id for e in enc.encounters))
            year = args.measurement_year or hedis.default_year(as_of)
            results = hedis.compute([*enc.encounters, *visits], year, as_of)
            lines += hedis.report_lines(enc, results, as_of, len(visits))
            csv_rows += hedis.event_rows(results)
    except (ValueError, OSError) as exc:
        args_out: Writer = args.stdout
        args_out.write(f"access check: {exc}\n")
        return EXIT_INVALID
    if args.measures_out is not None and csv_rows:
        with args.measures_out.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(csv_rows)
        lines.append(
            f"\nwrote slot units and index events to {args.measures_out} (data steward only)\n"
        )

    def report() -> Iterator[str]:
        yield from lines

    return report


def _read_closures(path: Path, args: argparse.Namespace, out: Writer) -> closures.Closures | None:
    """The closure calendar, or None after reporting why it cannot be used."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        out.write(f"access check: {path}: {exc.strerror or exc}\n")
        return None
    parsed = closures.parse_bytes(content)
    if parsed.valid:
        return parsed.closures
    write = out.write
    write(f"Common Ground access check: {path} (clinic closure calendar)\n")
    write(
        f"  INVALID: {parsed.error_count:,} problem(s) in the closure calendar; nothing was "
        "computed or stored\n"
    )
    shown = parsed.errors[: max(args.max_errors, 1)]
    write(f"\nFirst {len(shown)} problem(s): line, column, value, reason\n")
    for e in shown:
        write(f"  line {e.line}: {e.column or '(row)'} = {e.value!r}: {e.reason}\n")
    if args.errors_out is not None:
        with args.errors_out.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(extract.iter_errors_csv(parsed.errors))
        write(f"\nwrote {len(parsed.errors):,} problem(s) to {args.errors_out}\n")
    return None


def _error_report(loaded: extract.LoadResult, args: argparse.Namespace, out: Writer) -> None:
    write = out.write
    write(f"  INVALID: {loaded.error_count:,} problem(s); nothing was computed or stored\n")
    write("\nProblems by column and reason:\n")
    for (column, reason), n in sorted(loaded.error_summary.items(), key=lambda kv: -kv[1]):
        write(f"  {n:>9,}  {column or '(row)'}: {reason}\n")
    shown = loaded.errors[: max(args.max_errors, 1)]
    write(f"\nFirst {len(shown)} problem(s): line, column, value, reason\n")
    for e in shown:
        value = e.value if len(e.value) <= 60 else e.value[:57] + "..."
        where = f"{e.file} line {e.line}" if e.file else f"line {e.line}"
        write(f"  {where}: {e.column or '(row)'} = {value!r}: {e.reason}\n")
    if args.errors_out is not None:
        with args.errors_out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerows(extract.iter_errors_csv(loaded.errors))
        write(f"\nwrote {len(loaded.errors):,} problem(s) to {args.errors_out}\n")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _line(
    parts: dict[str, int], total: int, forced_total_hidden: bool = False
) -> dict[str, int | None]:
    """Counts that add up to a published total: primary and complementary suppression."""
    values: dict[object, int] = {}
    values.update(parts)
    values["__total__"] = total
    hidden = suppression.suppress(
        values,
        [Line(tuple(parts), "__total__")],
        forced={"__total__"} if forced_total_hidden else frozenset(),
    )
    return {k: (None if k in hidden else v) for k, v in values.items()}  # type: ignore[misc]


def _summary_report(
    loaded: extract.LoadResult,
    args: argparse.Namespace,
    version: extract.CalendarVersion,
    alt: extract.CalendarVersion | None,
    as_of: dt.date,
    summary: dict[str, metrics.MetricSummary],
    quality: metrics.DataQuality,
    comparisons: list[parity.Comparison],
    out: Writer,
) -> None:
    write = out.write
    inferred = "" if args.as_of else " (inferred: latest booking or cancellation; set --as-of)"
    if not args.as_of and args.export_cutoff is not None:
        inferred = f" (the export's transactionTime, {args.export_cutoff.isoformat()})"
    write(f"  rows: {loaded.rows:,}; valid: yes, nothing stored\n")
    write(f"  calendar: {version.label}: {version.description}\n")
    found: closures.Closures = args.closures_found
    if found:
        write(
            f"  closures: {found.day_count:,} day(s) of {len(found.clinics)} clinic(s) from "
            f"{args.closures} are not business days for those clinics (either calendar)\n"
        )
        if args.closures_unmatched:
            write(
                "  warning: closures for clinic codes not in the file: "
                f"{', '.join(args.closures_unmatched)}\n"
            )
    if alt is not None:
        write(f"  sensitivity calendar: {alt.label}\n")
    else:
        write("  sensitivity calendar: none (the other preset does not cover these dates)\n")
    write(f"  as-of (data cut-off): {as_of}{inferred}\n")
    write(
        f"  time zone: {loaded.timezone}; {loaded.tz_assumed_values:,} date-time value(s) had "
        "no UTC offset and were read as clinic-local time\n"
    )
    write(
        "  rules: the request day is day 0 (same day = 0 business days); a psychiatric NP "
        "counts as a non-physician MH provider; urgent waits are clock hours\n"
    )
    write(
        f"  counts from 1 to 10, and counts they could be worked out from, are shown as "
        f"{SUPPRESSED!r}\n"
    )

    # Metric table: rows = metrics, columns = statuses, row totals published.
    statuses = list(metrics.STATUSES)
    counts = {(m, st): s.counts.get(st, 0) for m, s in summary.items() for st in statuses}
    table = suppression.two_way(counts, list(summary), statuses, col_totals=False)
    heads = ["units", "compliant", "noncompl.", "exception", "pt.pref.", "pending",
             "no req.dt", "n/a", "rate", "sens.rate"]  # fmt: skip
    write("\nMetrics (rate = compliant / (compliant + noncompliant); sens.rate also counts "
          "exceptions and patient preferences as noncompliant)\n")  # fmt: skip
    write(f"  {'metric':<23}" + "".join(f"{h:>11}" for h in heads) + "\n")
    for m in summary:
        cells = [table.text(m, suppression.TOTAL)] + [table.text(m, st) for st in statuses]
        c = table.value(m, "compliant")
        n = table.value(m, "noncompliant")
        e = table.value(m, "exception")
        p = table.value(m, "patient_preference")
        rate = suppression.rate(c, None if c is None or n is None else c + n)
        sens_den = None if None in (c, n, e, p) else c + n + e + p  # type: ignore[operator]
        sens = suppression.rate(c, sens_den)
        write(f"  {m:<23}" + "".join(f"{x:>11}" for x in [*cells, _pct(rate), _pct(sens)]) + "\n")

    write("\nWaits (observed offers; business days, urgent in hours)\n")
    write(f"  {'metric':<23}{'standard':>40}{'mean':>8}{'median':>8}{'p90':>8}"
          f"{'KM med.':>9}{'KM <=std':>10}  clock stop\n")  # fmt: skip
    for m, s in summary.items():
        mean = suppression.statistic(s.mean, s.observed)
        med = suppression.statistic(s.median, s.observed)
        p90 = suppression.statistic(s.p90, s.observed)
        km_med = km_within = None
        if s.km is not None and s.km.n >= suppression.THRESHOLD:
            q = s.km.quantile(0.5)
            km_med = float(q) if q is not None else None
            n_std = metrics.INITIAL_METRICS.get(m, ((), 10))[1]
            km_within = s.km.share_within(n_std)
        stops = _line({"proxy": s.proxy_units, "offered": s.offered_units},
                      s.proxy_units + s.offered_units)  # fmt: skip
        if m == metrics.FOLLOW_UP:
            stop_label = "next appointment"
        elif s.proxy_units == 0 and s.offered_units == 0:
            stop_label = "-"
        else:
            share = suppression.rate(stops["proxy"], stops["__total__"])
            stop_label = f"booked-date proxy for {_pct(share)}" if share else "first offers"
        write(
            f"  {m:<23}{s.standard:>40}{_num(mean):>8}{_num(med):>8}{_num(p90):>8}"
            f"{_num(km_med, 0):>9}{_pct(km_within):>10}  {stop_label}\n"
        )

    fu = summary[metrics.FOLLOW_UP]
    na_hidden = table.value(metrics.FOLLOW_UP, "not_applicable") is None
    details = _line(
        {k: fu.detail_counts.get(k, 0)
         for k in ("episode_ended", "no_follow_up_scheduled", "before_sb221")},
        fu.counts.get("not_applicable", 0),
        forced_total_hidden=na_hidden,
    )  # fmt: skip
    write("\nSB 221 follow-up detail (not_applicable is not noncompliant)\n")
    scheduled = fmt_count(details["no_follow_up_scheduled"])
    write(
        f"  no follow-up scheduled (patient still active): {scheduled}"
        f"; episode ended: {fmt_count(details['episode_ended'])}"
        f"; visits before 2022-07-01: {fmt_count(details['before_sb221'])}\n"
    )
    measured = fu.counts.get("compliant", 0) + fu.counts.get("noncompliant", 0)
    group_c = fu.group_counts.get("compliant", 0)
    group_n = fu.group_counts.get("noncompliant", 0)
    indiv_c = fu.counts.get("compliant", 0) - group_c
    indiv_n = fu.counts.get("noncompliant", 0) - group_n
    groups = suppression.two_way(
        {("group", "c"): group_c, ("group", "n"): group_n,
         ("individual", "c"): indiv_c, ("individual", "n"): indiv_n},
        ["group", "individual"], ["c", "n"], row_totals=False,
    )  # fmt: skip
    g_rate = suppression.rate(groups.value("group", "c"), _sum(groups, "group"))
    i_rate = suppression.rate(groups.value("individual", "c"), _sum(groups, "individual"))
    write(f"  rate for group visits: {_pct(g_rate)}; individual visits: {_pct(i_rate)}\n")
    over = _line({"over": fu.over_20, "rest": fu.observed - fu.over_20}, fu.observed)
    write(
        "  intervals over 20 business days: "
        f"{_pct(suppression.rate(over['over'], over['__total__']))} of observed intervals"
        f" (measured intervals: {fmt_count(suppression.count(measured))})\n"
    )
    urgent = summary[metrics.URGENT]
    write(
        f"\nUrgent: {fmt_count(suppression.count(urgent.date_precision))} unit(s) measured in "
        "calendar days (a request or offer without a time of day)\n"
    )

    write(f"\nCalendar sensitivity: units whose status would change under "
          f"{alt.label if alt else '(none)'}\n")  # fmt: skip
    for m, s in summary.items():
        if m == metrics.URGENT or alt is None:  # urgent clocks are hours: no calendar
            continue
        total = sum(s.changed_by_calendar.values())
        parts = {f"{a} -> {b}": n for (a, b), n in sorted(s.changed_by_calendar.items())}
        shown = _line(parts, total, forced_total_hidden=suppression.is_small(total))
        text = ", ".join(f"{k} {fmt_count(v)}" for k, v in shown.items() if k != "__total__")
        write(f"  {m:<23} {fmt_count(shown['__total__']):>9}  {text}\n")

    write("\nData quality\n")
    dq = _line(
        {"eq": quality.request_equals_booking,
         "ne": quality.initial_requests - quality.request_equals_booking},
        quality.initial_requests,
    )  # fmt: skip
    write(
        "  initial requests whose request time equals the booking time: "
        f"{_pct(suppression.rate(dq['eq'], dq['__total__']))}"
        f" of {fmt_count(dq['__total__'])}\n"
    )
    write(
        f"  initial units without a request date: "
        f"{fmt_count(suppression.count(quality.initial_without_request))}\n"
        f"  rows booked after the as-of date: "
        f"{fmt_count(suppression.count(quality.booked_after_as_of))}\n"
        f"  cancellations without an initiator (treated as withdrawn by the clinic): "
        f"{fmt_count(suppression.count(quality.cancelled_without_initiator))}\n"
        f"  cancel_initiator on a row that is not cancelled: "
        f"{fmt_count(suppression.count(quality.initiator_without_cancellation))}\n"
        f"  first offer later than the booked start: "
        f"{fmt_count(suppression.count(quality.first_offer_after_start))}\n"
        f"  rows with an id between spaces (read without them): "
        f"{fmt_count(suppression.count(loaded.padded_id_rows))}\n"
        f"  rows with a local time the clocks showed twice (read as standard time): "
        f"{fmt_count(suppression.count(loaded.repeated_hour_rows))}\n"
    )

    write("\nParity (MH/SUD vs medical comparator; same clinics and period)\n")
    for comp in comparisons:
        _parity_lines(comp, out)
    write("  caveats: " + " ".join(parity.CAVEATS) + "\n")


def _sum(table: suppression.Published, row: str) -> int | None:
    c, n = table.value(row, "c"), table.value(row, "n")
    return None if c is None or n is None else c + n


def _parity_lines(comp: parity.Comparison, writer: Writer) -> None:
    out = writer.write
    mh, ms = comp.mh, comp.ms
    if mh.n == 0 or ms.n == 0:
        out(f"  {comp.label}: not enough data in both cohorts\n")
        return
    period = f"{comp.period[0]} to {comp.period[1]}" if comp.period else "-"
    out(f"  {comp.label}: {mh.metric} vs {ms.metric}; {len(comp.clinics)} shared clinic(s), "
        f"{period}\n")  # fmt: skip
    if comp.suppressed or comp.difference is None:
        out(f"    suppressed: a count behind the comparison is below {suppression.THRESHOLD}\n")
        return
    d, lo, hi = comp.difference
    # One write per line: Django's command output ends every write with a newline.
    line = (
        f"    rate {_pct(mh.compliant / mh.n)} vs {_pct(ms.compliant / ms.n)} "
        f"(n {mh.n:,} vs {ms.n:,}); difference {100 * d:+.1f} points "
        f"(95% CI {100 * lo:+.1f} to {100 * hi:+.1f})"
    )
    if comp.ratio is not None:
        r, rl, rh = comp.ratio
        line += f"; ratio {r:.3f} (95% CI {rl:.3f} to {rh:.3f})"
    out(line + "\n")
    if comp.median_difference is not None:
        md, ml, mh_ = comp.median_difference
        out(
            f"    median wait {_num(mh.median)} vs {_num(ms.median)} business days; difference "
            f"{md:+.1f} (95% bootstrap CI {ml:+.1f} to {mh_:+.1f})"
            + (f"; ratio {comp.median_ratio:.2f}" if comp.median_ratio is not None else "")
            + "\n"
        )
    flag = "yes: " + comp.material_reason if comp.material else "no"
    out(f"    potential material difference (committee thresholds): {flag}\n")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "format":
        return run_format(args[1:])
    if not args or args[0] != "check":
        build_parser().print_help()
        return EXIT_INVALID
    return run_check(args[1:])


if __name__ == "__main__":
    sys.exit(main())
