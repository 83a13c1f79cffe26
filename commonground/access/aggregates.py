"""Region aggregates for the dashboards, recomputed from the current Parquet generation.

``recompute_aggregates(region)`` runs the metrics (``metrics.compute_units``) over the
region's published generation and replaces the region's extract aggregates in one
transaction: counts by status, rates and wait statistics per clinic (and region-wide), metric,
week and month, in total and by provider class, modality and product line. No patient-level
row reaches the database. Running it twice gives the same rows (safe after a worker died).

Extract clinic codes are matched to clinics by the region's explicit mapping
(``AccessSettings.clinic_codes``), then by the clinic of earlier clinic-scoped imports that
carried the code, then by slug (case-insensitive). Units of an unmapped code count in the
region-wide rows only; the run lists the codes so the data steward can map them.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Iterable
from functools import partial
from typing import Any

import duckdb
from django.db import connection, models, transaction
from django.utils import timezone

from commonground.access import extract, hedis, metrics, side, slots
from commonground.access.calendars import CalendarVersion, alternate, calendar_version
from commonground.access.closures import NONE as NO_CLOSURES
from commonground.access.closures import Closures
from commonground.access.models import (
    AccessAggregate,
    AccessSettings,
    AggregateRun,
    AggregateSource,
    ClosureCalendar,
    ImportJob,
)
from commonground.access.store import Generation
from commonground.organizations.models import Clinic, Region

logger = logging.getLogger(__name__)

Dimension = AccessAggregate.Dimension
STATUS_FIELDS = (
    "compliant",
    "noncompliant",
    "exception",
    "patient_preference",
    "pending",
    "unknown_request_date",
    "not_applicable",
)
# Breakdowns by month; weeks carry the total only (the week toggle shows totals).
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "month": (
        Dimension.TOTAL,
        Dimension.PROVIDER_CLASS,
        Dimension.MODALITY,
        Dimension.PRODUCT_LINE,
    ),
    "week": (Dimension.TOTAL,),
}


def settings_for(region: Region) -> AccessSettings:
    found, _ = AccessSettings.objects.get_or_create(region=region)
    return found


def known_codes(region: Region) -> dict[str, int]:
    """Every clinic code (lower case) the region can match to a clinic id (see module doc)."""
    by_slug = {c.slug.lower(): c.pk for c in Clinic.objects.filter(region=region).only("slug")}
    out = dict(by_slug)
    jobs = (
        ImportJob.objects.filter(region=region, clinic__isnull=False, state=ImportJob.State.DONE)
        .order_by("created_at")
        .values_list("clinic_id", "quality")
    )
    for job_clinic, quality in jobs:
        for code in (quality or {}).get("clinic_codes", []):
            out[str(code).lower()] = job_clinic  # the latest import wins over a slug
    for code, slug in (settings_for(region).clinic_codes or {}).items():
        mapped = by_slug.get(str(slug).lower())
        if mapped is not None:
            out[str(code).lower()] = mapped  # the explicit mapping wins over everything
    return out


def clinic_code_map(
    region: Region, codes: Iterable[str], known: dict[str, int] | None = None
) -> dict[str, int]:
    """Extract clinic code -> clinic id for the codes that can be matched (``known``: the
    region's ``known_codes``, when the caller already has them)."""
    known = known_codes(region) if known is None else known
    return {code: known[code.lower()] for code in codes if code.lower() in known}


# -- runs ----------------------------------------------------------------------------------


def current_closures(region: Region) -> ClosureCalendar | None:
    """The region's newest clinic closure calendar (the one figures are computed with)."""
    return (
        ClosureCalendar.objects.filter(region=region)
        .select_related("uploaded_by")
        .order_by("-number")
        .first()
    )


def calendar_label(version: CalendarVersion, closures: ClosureCalendar | None) -> str:
    """What the figures name as their calendar: the preset, and the closures if any."""
    if closures is None or not closures.day_count:
        return version.label
    return f"{version.label}+{closures.label}"


def enqueue_recompute(region_id: int, *, actor: Any = None) -> AggregateRun:
    """Queue a recompute (after commit); a run already queued for the region is reused."""
    queued = AggregateRun.objects.filter(
        region_id=region_id, source=AggregateSource.EXTRACT, state=AggregateRun.State.QUEUED
    ).first()
    if queued is not None:
        return queued
    run = AggregateRun.objects.create(
        region_id=region_id, source=AggregateSource.EXTRACT, requested_by=actor
    )
    transaction.on_commit(partial(_enqueue_task, run.pk), robust=True)
    return run


def _enqueue_task(run_id: int) -> None:
    from commonground.access.tasks import recompute_aggregates_task

    recompute_aggregates_task.enqueue(run_id)


def run_recompute(run_id: int) -> AggregateRun:
    """The task body: recompute for the run's region; a finished run is left alone."""
    run = AggregateRun.objects.select_related("region").get(pk=run_id)
    if run.state in (AggregateRun.State.DONE, AggregateRun.State.FAILED):
        return run
    return recompute_aggregates(run.region, run=run)


def _progress(run: AggregateRun, phase: str, done: int, total: int) -> None:
    AggregateRun.objects.filter(pk=run.pk).update(
        phase=phase, progress_done=done, progress_total=total
    )


def recompute_aggregates(region: Region, *, run: AggregateRun | None = None) -> AggregateRun:
    """Replace the region's extract aggregates from its current generation. Idempotent."""
    from commonground.access.services import store_for

    if run is None:
        run = AggregateRun.objects.create(region=region, source=AggregateSource.EXTRACT)
    AggregateRun.objects.filter(pk=run.pk).update(
        state=AggregateRun.State.RUNNING, started_at=timezone.now(), last_error=""
    )
    try:
        options = settings_for(region)
        generation = store_for(region.pk).current()
        rows: list[AccessAggregate] = []
        as_of: dt.date | None = None
        label = calendar_version(options.calendar).label
        unmapped: list[str] = []
        if generation is not None and (generation.rows or generation.side):
            _progress(run, "computing", 0, 3)
            rows, as_of, label, unmapped = _compute(region, options, generation, run)
        _progress(run, "saving", 2, 3)
        with transaction.atomic():
            AccessAggregate.objects.filter(region=region, source=AggregateSource.EXTRACT).delete()
            store_aggregates(rows)
            AggregateRun.objects.filter(pk=run.pk).update(
                state=AggregateRun.State.DONE,
                phase="",
                progress_done=3,
                progress_total=3,
                calendar=label,
                as_of=as_of,
                aggregates=len(rows),
                unmapped_codes=unmapped[:200],
                finished_at=timezone.now(),
            )
    except Exception as exc:
        # The class only: DuckDB messages can quote stored values.
        logger.warning("access aggregates for region %s failed: %s", region.pk, type(exc).__name__)
        AggregateRun.objects.filter(pk=run.pk).update(
            state=AggregateRun.State.FAILED,
            phase="",
            last_error=f"{type(exc).__name__}"[:300],
            finished_at=timezone.now(),
        )
    run.refresh_from_db()
    if run.state == AggregateRun.State.DONE:
        feed_improvement(region)
        warm_region_dashboard(region)
    return run


def store_aggregates(rows: Iterable[AccessAggregate]) -> None:
    """Insert the rows with one ``executemany``, as ``bulk_create`` would store them.

    ``bulk_create`` prepared each of the two dozen values of every row through its field
    and, on SQLite, in batches of 41 rows: 9.0-13.3 s of a recompute of the demo region
    (61,000 rows), against 3.2-4.5 s this way. Only dates and JSON need their field's
    conversion; the other columns hold plain numbers and strings."""
    fields = [f for f in AccessAggregate._meta.concrete_fields if not f.primary_key]
    convert = [isinstance(f, models.DateField | models.JSONField) for f in fields]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from the model
        quote(AccessAggregate._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    params = [
        tuple(
            f.get_db_prep_save(getattr(row, f.attname), connection)
            if needs
            else getattr(row, f.attname)
            for f, needs in zip(fields, convert, strict=True)
        )
        for row in rows
    ]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def warm_region_dashboard(region: Region) -> None:
    """Build the region dashboard once, here in the background, not in someone's request."""
    from commonground.access import dashboards

    try:
        dashboards.warm(region)
    except Exception as exc:
        logger.warning("region dashboard for region %s: %s", region.pk, type(exc).__name__)


def monthly_rates(region: Region) -> Any:
    """``(clinic, metric) -> (months, percent or None)``: each clinic's monthly compliance as
    the clinic dashboard shows it, so a suppressed month stays empty here too. Reads the
    region's clinic rows of the dashboard's metrics once (two queries): a month's table is
    suppressed together with the weeks and breakdowns of the same units."""
    from commonground.access import dashboards

    run = (
        AggregateRun.objects.filter(region=region, state=AggregateRun.State.DONE)
        .order_by("-created_at")
        .first()
    )
    options = settings_for(region)
    by_clinic: dict[int, list[AccessAggregate]] = {}
    if run is not None:
        rows = AccessAggregate.objects.filter(
            region=region,
            source=run.source,
            clinic__isnull=False,
            metric__in=dashboards.DASHBOARD_METRICS,
        )
        if run.source == AggregateSource.EXTRACT:
            rows = rows.filter(calendar=run.calendar)
        for row in rows.order_by("period_start"):
            by_clinic.setdefault(row.clinic_id or 0, []).append(row)

    def series(clinic: Any, metric: str) -> tuple[list[dt.date], list[float | None]]:
        data = dashboards.Data(
            dashboards.Scope(region, clinic), run, None, options, by_clinic.get(clinic.pk, [])
        )
        table = dashboards.over_time(data, metric, "month")
        shown = [row for row in table.rows if not row["is_total"]]
        months = [dt.date.fromisoformat(row["key"]) for row in shown]
        return months, [None if row["rate"] is None else 100 * row["rate"] for row in shown]

    return series


def feed_improvement(region: Region) -> None:
    """Live measures and access signals follow the new figures. Their failure never fails the
    recompute: the dashboards are right either way, and the next recompute tries again."""
    from commonground.improvement.services import refresh_from_access

    try:
        refresh_from_access(region_id=region.pk, monthly_series=monthly_rates(region))
    except Exception as exc:
        logger.warning("improvement feed for region %s failed: %s", region.pk, type(exc).__name__)


# -- the computation -------------------------------------------------------------------------


def _compute(
    region: Region, options: AccessSettings, generation: Generation, run: AggregateRun
) -> tuple[list[AccessAggregate], dt.date | None, str, list[str]]:
    version = calendar_version(options.calendar)
    stored = current_closures(region)
    shut = stored.as_closures() if stored is not None else NO_CLOSURES
    label = calendar_label(version, stored)
    with tempfile.TemporaryDirectory(prefix="cg-aggregates-") as spill:
        con = duckdb.connect(":memory:")
        try:
            extract.configure(con, memory_limit="1GB", temp_directory=spill)
            rows: list[AccessAggregate] = []
            as_of: dt.date | None = None
            codes: list[str] = []
            known = known_codes(region)  # once: it reads the region's settings and imports
            if generation.rows:
                rows, as_of, codes = _appointment_aggregates(
                    con, region, (version, shut, label), generation, run, known
                )
            side_rows, side_as_of, side_codes = _side_aggregates(
                con, region, (version, shut, label), generation, as_of, known
            )
            codes = sorted({*codes, *side_codes})
            unmapped = sorted(c for c in codes if c.lower() not in known)
            return [*rows, *side_rows], as_of or side_as_of, label, unmapped
        finally:
            con.close()


def _appointment_aggregates(
    con: duckdb.DuckDBPyConnection,
    region: Region,
    calendar: tuple[CalendarVersion, Closures, str],
    generation: Generation,
    run: AggregateRun,
    known: dict[str, int],
) -> tuple[list[AccessAggregate], dt.date | None, list[str]]:
    version, shut, label = calendar
    extract.parquet_view(con, generation.path)
    first, last, as_of = con.execute(
        """
        SELECT least(min(req_day), min(booked_day), min(start_day), min(offer_day)),
               greatest(max(req_day), max(booked_day), max(start_day), max(offer_day),
                        max(cancel_day)),
               greatest(max(booked_day), max(cancel_day),
                        max(req_day) FILTER (WHERE status = 'requested'))
        FROM appt
        """
    ).fetchall()[0]
    if first is None or as_of is None:
        return [], None, []
    taken = data_cutoff_day(region)
    if taken is not None and taken > as_of and version.covers(taken):
        as_of = taken  # the record as of the extract: what was still waiting then is pending
    if not (version.covers(first) and version.covers(last)):
        raise ValueError("the data fall outside the calendar's years")
    other = alternate(version.name)
    alt = other if other.covers(first) and other.covers(last) else None
    metrics.build_calendar_table(con, version, alt, first, max(last, as_of), shut)
    metrics.compute_units(con, metrics.Options(calendar=version, as_of=as_of, alternate=alt))
    _progress(run, "aggregating", 1, 3)
    codes = [r[0] for r in con.execute("SELECT DISTINCT clinic_id FROM appt").fetchall()]
    mapping = clinic_code_map(region, codes, known)
    con.execute("CREATE TEMP TABLE code_map (code VARCHAR, clinic BIGINT)")
    if mapping:
        con.executemany("INSERT INTO code_map VALUES (?, ?)", list(mapping.items()))
    rows = _aggregate(con, region, label)
    return rows, as_of, codes


def data_cutoff_day(region: Region) -> dt.date | None:
    """The latest data cut-off of the region's merged imports (a Bulk Data export's
    transactionTime, or the time a steward gave on upload), as a day of the deployment's
    time zone."""
    latest = (
        ImportJob.objects.filter(
            region=region, state=ImportJob.State.DONE, data_cutoff__isnull=False
        )
        .order_by("-data_cutoff")
        .values_list("data_cutoff", flat=True)
        .first()
    )
    if latest is None:
        return None
    return extract.local_day(latest)


def _side_aggregates(
    con: duckdb.DuckDBPyConnection,
    region: Region,
    calendar: tuple[CalendarVersion, Closures, str],
    generation: Generation,
    as_of: dt.date | None,
    known: dict[str, int],
) -> tuple[list[AccessAggregate], dt.date | None, list[str]]:
    """Supply (slots) and HEDIS-like (encounters) counts, when the store holds them."""
    version, shut, label = calendar
    tz = extract.DEFAULT_TZ
    found: list[side.SideAggregate] = []
    slot_path = generation.side_path("slots")
    if slot_path is not None:
        data = side.read_stored_slots(slot_path, timezone=tz)
        points = sorted(data.snapshots) or ([as_of] if as_of else [])
        seen = side.stored_slot_units(slot_path)
        units = []
        for point in points:
            keys = {(c, k, p) for snap, c, k, p in seen if snap == point.isoformat()}
            units += slots.measure(
                data, [point], version.calendar(), units_seen=keys, closures=shut
            )
        found += side.supply_aggregates(units)
    enc_path = generation.side_path("encounters")
    if enc_path is not None:
        enc = side.read_stored_encounters(enc_path, timezone=tz)
        cutoff = as_of or max((e.end or e.start for e in enc.encounters), default=None)
        if cutoff is not None:
            visits = (
                hedis.appointment_follow_ups(
                    con, (e.patient_id for e in enc.encounters), hashed=False
                )
                if generation.rows
                else []
            )
            found += side.hedis_aggregates(side.hedis_results([*enc.encounters, *visits], cutoff))
            as_of = as_of or cutoff
    codes = sorted({a.clinic_code for a in found if a.clinic_code is not None})
    mapping = clinic_code_map(region, codes, known)
    out = []
    for a in found:
        clinic = None
        if a.clinic_code is not None:
            clinic = mapping.get(a.clinic_code)
            if clinic is None:
                continue  # an unmapped code counts region-wide only
        observed, mean, median, p90 = side.wait_statistics(a.waits)
        out.append(
            AccessAggregate(
                region=region,
                clinic_id=clinic,
                source=AggregateSource.EXTRACT,
                calendar=label,
                metric=a.metric,
                period="month",
                period_start=a.period_start,
                dimension=a.dimension,
                value=a.value,
                compliant=a.compliant,
                noncompliant=a.noncompliant,
                exception=a.exception,
                pending=a.pending,
                not_applicable=a.not_applicable,
                denominator=a.denominator,
                rate=a.compliant / a.denominator if a.denominator else None,
                observed=observed,
                mean_wait=mean,
                median_wait=median,
                p90_wait=p90,
                waits=a.waits if a.dimension == "total" else {},
            )
        )
    return out, as_of, codes


# A unit is dated by its clock start (the request, or the visit a follow-up is counted from).
# One without a request date is dated by the day its earliest appointment was booked, which
# the request came no later than: its clock stop, the appointment's day, may be weeks after the
# data's cut-off, and would put the unit in a month the data do not reach yet.
_FACTS = f"""
CREATE TEMP TABLE facts AS
SELECT u.metric::VARCHAR AS metric, u.status::VARCHAR AS status, m.clinic AS clinic,
       coalesce(u.start_date, a.booked_day, u.stop_date) AS day,
       coalesce(u.provider_class, 'unknown') AS provider_class,
       coalesce(a.modality::VARCHAR, 'unknown') AS modality,
       coalesce(u.product_line, 'unknown') AS product_line,
       (u.status_other_calendar IS NOT NULL AND u.status_other_calendar <> u.status) AS changed,
       CASE WHEN u.censored OR u.status::VARCHAR NOT IN {metrics._in(metrics.WAIT_STATUSES)}
            THEN NULL
            WHEN u.metric = 'urgent' THEN floor(u.hours)
            ELSE u.business_days END AS wait
FROM units u
LEFT JOIN (SELECT appointment_id, modality, booked_day FROM appt) a
  ON a.appointment_id = u.start_appointment_id
LEFT JOIN code_map m ON m.code = u.clinic_id
WHERE coalesce(u.start_date, a.booked_day, u.stop_date) IS NOT NULL
"""  # noqa: S608 - SQL from constants


def _aggregate(con: duckdb.DuckDBPyConnection, region: Region, label: str) -> list[AccessAggregate]:
    con.execute(_FACTS)
    status_cols = ", ".join(f"count(*) FILTER (WHERE status = '{s}') AS {s}" for s in STATUS_FIELDS)
    out: list[AccessAggregate] = []
    for period, dims in BREAKDOWNS.items():
        for dim in dims:
            value = "''" if dim == Dimension.TOTAL else dim
            keys = f"metric, date_trunc('{period}', day)::DATE AS period_start, {value} AS value"
            grouping = (
                "GROUPING SETS ((metric, period_start, value, clinic), "
                "(metric, period_start, value))"
            )
            sql = f"""
                SELECT clinic, {keys}, {status_cols},
                       count(*) FILTER (WHERE changed) AS changed,
                       count(wait) AS observed, avg(wait) AS mean,
                       quantile_cont(wait, 0.5) AS median, quantile_cont(wait, 0.9) AS p90
                FROM facts
                GROUP BY {grouping}
                HAVING clinic IS NOT NULL OR grouping(clinic) = 1
            """  # noqa: S608 - SQL from constants
            histograms: dict[tuple[Any, ...], dict[str, int]] = {}
            if dim == Dimension.TOTAL:
                hist_sql = f"""
                    SELECT clinic, metric, date_trunc('{period}', day)::DATE AS period_start,
                           grouping(clinic) AS whole, wait, count(*)
                    FROM facts WHERE wait IS NOT NULL
                    GROUP BY GROUPING SETS ((clinic, metric, period_start, wait),
                                            (metric, period_start, wait))
                """  # noqa: S608 - SQL from constants
                for clinic, metric, start, whole, wait, n in con.execute(hist_sql).fetchall():
                    key = (None if whole else clinic, metric, start)
                    if whole == 0 and clinic is None:
                        continue  # unmapped codes: region-wide only
                    histograms.setdefault(key, {})[str(int(wait))] = int(n)
            for row in con.execute(sql).fetchall():
                (clinic, metric, start, val, *counts) = row
                statuses = dict(zip(STATUS_FIELDS, counts[: len(STATUS_FIELDS)], strict=True))
                changed, observed, mean, median, p90 = counts[len(STATUS_FIELDS) :]
                denominator = statuses["compliant"] + statuses["noncompliant"]
                out.append(
                    AccessAggregate(
                        region=region,
                        clinic_id=clinic,
                        source=AggregateSource.EXTRACT,
                        calendar=label,
                        metric=metric,
                        period=period,
                        period_start=start,
                        dimension=dim,
                        value=val or "",
                        changed_other_calendar=int(changed),
                        denominator=denominator,
                        rate=statuses["compliant"] / denominator if denominator else None,
                        observed=int(observed),
                        mean_wait=_num(mean),
                        median_wait=_num(median),
                        p90_wait=_num(p90),
                        waits=histograms.get((clinic, metric, start), {}),
                        **{k: int(v) for k, v in statuses.items()},
                    )
                )
    return out


def _num(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)
