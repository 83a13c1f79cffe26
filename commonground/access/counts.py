"""Aggregate-only input: weekly per-clinic counts, for deployments that share no row-level data.

Format (UTF-8 CSV with a header row; reliability-security.md 3.4 option (a), "aggregate at
source"), one row per clinic, week, metric and provider class:

==============  ===========================================================================
clinic_code     the clinic's code (its slug, or a code mapped in the region's settings)
week_start      ISO date of the week's Monday
metric          initial_non_urgent_mh, initial_psychiatry, initial_primary_care,
                initial_specialist, follow_up_sb221 or urgent
provider_class  blank or ``all`` for the clinic's total, else a canonical provider class
numerator       units meeting the standard (compliant)
denominator     compliant + noncompliant units (the rate's denominator)
exceptions      units with a documented exception (not in the denominator)
pending         units still open at the cut-off, within their deadline (not in it either)
==============  ===========================================================================

The whole file is checked before anything is stored; every bad cell is reported with its
line, column, value and reason, on the page (the first ones) and in a downloadable error report
(all of them, up to ``MAX_ERRORS``) kept in the private storage. Every upload, valid or not, is
recorded as an ``AggregateRun`` of source ``counts``, so the page lists recent uploads.

An import replaces the stored rows with the same clinic, week, metric and provider class
(idempotent: the same file again changes nothing), all in one transaction, and rebuilds the
month and region-wide roll-ups. A clinic total missing from the file is the sum of its
provider-class rows.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from commonground.access import extract, metrics, services
from commonground.access.aggregates import known_codes
from commonground.access.closures import iso_day
from commonground.access.csvfile import CheckedRows
from commonground.access.models import AccessAggregate, AggregateRun, AggregateSource
from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.core.permissions import allowed, authorise
from commonground.organizations.access import access_profile
from commonground.organizations.models import Region

COLUMNS = (
    "clinic_code",
    "week_start",
    "metric",
    "provider_class",
    "numerator",
    "denominator",
    "exceptions",
    "pending",
)
TOTAL_CLASSES = ("", "all")
MAX_COUNT = 10_000_000
MAX_ROWS = 500_000
MAX_ERRORS = 100_000  # kept for the error report (the count goes on beyond it)
SHOWN_ERRORS = 200  # on the page; the report has the rest
RECENT_UPLOADS = 20
Dimension = AccessAggregate.Dimension


@dataclass(frozen=True)
class CountError:
    line: int
    column: str
    value: str
    reason: str


@dataclass(frozen=True)
class CountRow:
    clinic_id: int
    week_start: dt.date
    metric: str
    provider_class: str  # "" for the total
    numerator: int
    denominator: int
    exceptions: int
    pending: int


@dataclass
class CountsResult:
    rows: list[CountRow] = field(default_factory=list)
    errors: list[CountError] = field(default_factory=list)
    error_count: int = 0
    data_rows: int = 0  # non-blank rows after the header, good or bad
    run: AggregateRun | None = None
    replaced: int = 0

    @property
    def valid(self) -> bool:
        return self.error_count == 0


def parse(handle: IO[str], codes: Mapping[str, int], *, today: dt.date) -> CountsResult:
    """Check a whole counts file. ``codes``: clinic code (lower case) -> clinic id."""
    result = CountsResult()

    def bad(line: int, column: str, value: str, reason: str) -> None:
        result.error_count += 1
        if len(result.errors) < MAX_ERRORS:
            result.errors.append(CountError(line, column, value[:80], reason))

    rows = CheckedRows(handle, bad, columns=COLUMNS, max_rows=MAX_ROWS, fold_case=True)
    seen: dict[tuple[int, dt.date, str, str], int] = {}
    for line, cell in rows:
        parsed = _row(cell, codes, today, _at_line(bad, line))
        if parsed is None:
            continue
        key = (parsed.clinic_id, parsed.week_start, parsed.metric, parsed.provider_class)
        if key in seen:
            bad(line, "", "", f"the same clinic, week, metric and class as line {seen[key]}")
            continue
        seen[key] = line
        result.rows.append(parsed)
    result.data_rows = rows.data_rows
    if not result.rows and not result.error_count:
        bad(2, "", "", "the file has no data rows")
    return result


def _at_line(fn: Any, line: int) -> Any:
    return lambda column, value, reason: fn(line, column, value, reason)


def _count(cell: Mapping[str, str], name: str, bad: Any) -> int | None:
    text = cell[name]
    # ASCII digits only: "²" and "١٢" are digits to ``str.isdigit`` but no count.
    if not (text.isascii() and text.isdigit()):
        bad(name, text, "a whole number of 0 or more is required")
        return None
    # (The length first: ``int`` refuses a text of thousands of digits.)
    if len(text.lstrip("0")) > len(str(MAX_COUNT)) or int(text) > MAX_COUNT:
        bad(name, text, f"more than {MAX_COUNT:,}")
        return None
    return int(text)


def _row(
    cell: Mapping[str, str], codes: Mapping[str, int], today: dt.date, bad: Any
) -> CountRow | None:
    ok = True
    clinic_id = codes.get(cell["clinic_code"].lower())
    if clinic_id is None:
        bad("clinic_code", cell["clinic_code"], "no clinic of this region has this code")
        ok = False
    week = iso_day(cell["week_start"])
    if week is None:
        bad("week_start", cell["week_start"], "a date YYYY-MM-DD is required")
        ok = False
    if week is not None:
        if week.weekday() != 0:
            bad("week_start", cell["week_start"], "a week starts on a Monday")
            ok = False
        elif week > today:
            bad("week_start", cell["week_start"], "the week is in the future")
            ok = False
    metric = cell["metric"].lower()
    if metric not in metrics.METRICS:
        bad("metric", cell["metric"], f"unknown metric; use one of {', '.join(metrics.METRICS)}")
        ok = False
    provider_class = cell["provider_class"].lower()
    if provider_class in TOTAL_CLASSES:
        provider_class = ""
    elif provider_class not in extract.PROVIDER_CLASSES:
        bad("provider_class", cell["provider_class"], "unknown provider class")
        ok = False
    numbers = {
        n: _count(cell, n, bad) for n in ("numerator", "denominator", "exceptions", "pending")
    }
    if any(v is None for v in numbers.values()):
        ok = False
    elif numbers["numerator"] > numbers["denominator"]:  # type: ignore[operator]
        bad("numerator", cell["numerator"], "larger than the denominator")
        ok = False
    if not ok or clinic_id is None or week is None:
        return None
    return CountRow(
        clinic_id=clinic_id,
        week_start=week,
        metric=metric,
        provider_class=provider_class,
        numerator=int(numbers["numerator"] or 0),
        denominator=int(numbers["denominator"] or 0),
        exceptions=int(numbers["exceptions"] or 0),
        pending=int(numbers["pending"] or 0),
    )


# -- the service ---------------------------------------------------------------------------


def counts_import(*, actor: Any, region: Region, upload: Any) -> CountsResult:
    """Check and store a weekly counts file for ``region`` (data steward only); atomic."""
    if not allowed(actor, "access.import_extracts", region):
        raise PermissionDenied
    upload.seek(0)
    text = io.TextIOWrapper(upload, encoding="utf-8-sig", newline="")
    codes = known_codes(region)
    try:
        result = parse(text, codes, today=timezone.localdate())
    finally:
        text.detach()
    if not result.valid:
        result.run = _record_invalid(actor, region, result)
        return result
    with transaction.atomic():
        result.replaced = _store(region, result.rows)
        run = AggregateRun.objects.create(
            region=region,
            source=AggregateSource.COUNTS,
            state=AggregateRun.State.DONE,
            requested_by=actor,
            rows=result.data_rows,
            rejected=0,
            as_of=max(r.week_start for r in result.rows) + dt.timedelta(days=6),
            aggregates=AccessAggregate.objects.filter(
                region=region, source=AggregateSource.COUNTS
            ).count(),
            started_at=timezone.now(),
            finished_at=timezone.now(),
        )
        audit_record(
            action=AuditEvent.Action.CREATE,
            actor=actor,
            obj=run,
            changes={
                "region": region.slug,
                "state": "done",
                "rows": len(result.rows),
                "replaced": result.replaced,
            },
        )
    result.run = run
    return result


def _record_invalid(actor: Any, region: Region, result: CountsResult) -> AggregateRun:
    """Record a rejected upload with its error report (nothing of the file is stored)."""
    errors = [extract.ExtractError(e.line, e.column, e.value, e.reason) for e in result.errors]
    now = timezone.now()
    report = ""
    try:
        with transaction.atomic():
            run = AggregateRun.objects.create(
                region=region,
                source=AggregateSource.COUNTS,
                state=AggregateRun.State.INVALID,
                requested_by=actor,
                rows=result.data_rows,
                rejected=result.error_count,
                started_at=now,
                finished_at=now,
            )
            report = services.save_error_report(f"access/counts/{run.pk}/errors.csv", errors)
            run.error_report, run.error_report_lines = report, len(errors)
            run.save(update_fields=["error_report", "error_report_lines"])
            audit_record(
                action=AuditEvent.Action.CREATE,
                actor=actor,
                obj=run,
                changes={
                    "region": region.slug,
                    "state": "invalid",
                    "rows": result.data_rows,
                    "problems": result.error_count,
                    "report_lines": len(errors),
                },
            )
    except BaseException:
        if report:  # the run is gone with the transaction: so goes its report
            services.private_storage().delete(report)
        raise
    return run


# -- reads for the counts page ---------------------------------------------------------------


def recent_uploads(user: Any, limit: int = RECENT_UPLOADS) -> QuerySet[AggregateRun]:
    """The latest counts uploads of the regions ``user`` is data steward of."""
    return (
        AggregateRun.objects.filter(
            source=AggregateSource.COUNTS,
            region_id__in=access_profile(user).steward_region_ids,
        )
        .select_related("region", "requested_by")
        .order_by("-created_at")[:limit]
    )


def get_counts_run_for_user(user: Any, run_id: int) -> AggregateRun:
    """403 for anyone but a data steward (checked by the caller); 404 for another region's
    upload, or none."""
    run = (
        AggregateRun.objects.select_related("region")
        .filter(pk=run_id, source=AggregateSource.COUNTS)
        .first()
    )
    if run is None:
        raise Http404
    authorise(user, run, view_perm="access.view_counts_run")
    return run


def _base(region: Region) -> Any:
    """The stored uploaded rows: clinic, week (the roll-ups are derived from them)."""
    return AccessAggregate.objects.filter(
        region=region,
        source=AggregateSource.COUNTS,
        clinic__isnull=False,
        period=AccessAggregate.Period.WEEK,
    )


def _store(region: Region, rows: list[CountRow]) -> int:
    """Replace the rows of the same keys, then rebuild every roll-up. Returns rows replaced."""
    totals: dict[tuple[int, dt.date, str], list[CountRow]] = defaultdict(list)
    given_totals = set()
    for r in rows:
        key = (r.clinic_id, r.week_start, r.metric)
        if r.provider_class:
            totals[key].append(r)
        else:
            given_totals.add(key)
    items = list(rows)
    for key, parts in totals.items():
        if key not in given_totals:
            items.append(
                CountRow(
                    clinic_id=key[0],
                    week_start=key[1],
                    metric=key[2],
                    provider_class="",
                    numerator=sum(p.numerator for p in parts),
                    denominator=sum(p.denominator for p in parts),
                    exceptions=sum(p.exceptions for p in parts),
                    pending=sum(p.pending for p in parts),
                )
            )
    new = [_aggregate(region, r) for r in items]
    by_clinic_week: dict[tuple[int | None, dt.date], list[AccessAggregate]] = defaultdict(list)
    for a in new:
        by_clinic_week[(a.clinic_id, a.period_start)].append(a)
    existing = {
        (a.clinic_id, a.period_start, a.metric, a.dimension, a.value): a.pk
        for a in _base(region).filter(
            clinic_id__in={k[0] for k in by_clinic_week},
            period_start__in={k[1] for k in by_clinic_week},
        )
    }
    doomed = [
        existing[k]
        for k in ((a.clinic_id, a.period_start, a.metric, a.dimension, a.value) for a in new)
        if k in existing
    ]
    replaced = len(doomed)
    AccessAggregate.objects.filter(pk__in=doomed).delete()
    AccessAggregate.objects.bulk_create(new, batch_size=2000)
    _rebuild_rollups(region)
    return replaced


def _aggregate(region: Region, r: CountRow, **extra: Any) -> AccessAggregate:
    return AccessAggregate(
        region=region,
        clinic_id=r.clinic_id,
        source=AggregateSource.COUNTS,
        calendar="",
        metric=r.metric,
        period=AccessAggregate.Period.WEEK,
        period_start=r.week_start,
        dimension=Dimension.PROVIDER_CLASS if r.provider_class else Dimension.TOTAL,
        value=r.provider_class,
        compliant=r.numerator,
        noncompliant=r.denominator - r.numerator,
        exception=r.exceptions,
        pending=r.pending,
        denominator=r.denominator,
        rate=r.numerator / r.denominator if r.denominator else None,
        **extra,
    )


SUMMED = ("compliant", "noncompliant", "exception", "pending", "denominator")


def _rebuild_rollups(region: Region) -> None:
    """Month rows per clinic, and week and month rows for the region, from the base rows."""
    AccessAggregate.objects.filter(region=region, source=AggregateSource.COUNTS).exclude(
        pk__in=_base(region).values("pk")
    ).delete()
    sums: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(SUMMED, 0))
    for row in _base(region).values(
        "clinic_id", "period_start", "metric", "dimension", "value", *SUMMED
    ):
        week = row["period_start"]
        month = week.replace(day=1)
        ident = (row["metric"], row["dimension"], row["value"])
        for key in (
            (row["clinic_id"], "month", month, *ident),
            (None, "week", week, *ident),
            (None, "month", month, *ident),
        ):
            bucket = sums[key]
            for name in SUMMED:
                bucket[name] += row[name]
    rollups = []
    for (clinic_id, period, start, metric, dimension, value), c in sums.items():
        rollups.append(
            AccessAggregate(
                region=region,
                clinic_id=clinic_id,
                source=AggregateSource.COUNTS,
                calendar="",
                metric=metric,
                period=period,
                period_start=start,
                dimension=dimension,
                value=value,
                rate=c["compliant"] / c["denominator"] if c["denominator"] else None,
                **c,
            )
        )
    AccessAggregate.objects.bulk_create(rollups, batch_size=2000)
