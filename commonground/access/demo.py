"""The demo region's scheduling data: two years of synthetic appointments for its clinics.

``load_demo_access(region)`` generates about two million appointments ending today
(``commonground.access.synthetic``: follow-up chains, patient and provider cancellations with
rebooking, no-shows, primary care and specialist visits as parity's comparators, nothing on a
day the clinic calendar closes) and takes them through the importer's own steps: the keyed
HMAC of patient ids (``ingest.stage_incoming``) and one merge into the region's Parquet store
(``Store.merge``), so the dashboards read them as they read imported data. Extract clinic codes
are the clinics' slugs, which the aggregates match without a mapping.

The story: bigger clinics see more patients, and at three clinics (Oakland among them, so the
demo logins see it) timely follow-ups fall away over the last eight months — a sustained shift
below the mean on the monthly SB 221 chart.

Loaded once per store (the merge job is named), then the region's aggregates are recomputed.
``COMMONGROUND_DEMO_APPOINTMENTS`` (setting or environment) sets the size; 0 skips it (the
test settings do, so tests that load the demo stay fast and write no store).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from django.utils import timezone

from commonground.access import extract, ingest, synthetic, synthetic_side
from commonground.access.services import private_root, pseudonym_key, store_for
from commonground.audit.models import AuditEvent
from commonground.audit.services import audit_record
from commonground.organizations.demo import HOLIDAY_PRESET
from commonground.organizations.models import Clinic, Holiday, Region

logger = logging.getLogger(__name__)

JOB = "demo-appointments"  # the store records it: a second load finds it and stops
SEED = 2026
ROWS_SETTING = "COMMONGROUND_DEMO_APPOINTMENTS"
DEFAULT_ROWS = 2_000_000
YEARS = 2
WARM_UP_DAYS = 180
WORSEN_MONTHS = 8
ENCOUNTERS_PER_CLINIC_YEAR = 70  # index events (stays, emergency visits) per clinic and year
# Clinics whose follow-ups worsen (slugs; those present in the region are used).
WORSENING = ("oakland", "stockton", "vallejo")
# Relative sizes (patients seen) of the bigger and smaller demo clinics; others are 1.
SIZES = {
    "san-francisco": 2.4,
    "oakland": 2.2,
    "san-jose": 2.2,
    "sacramento": 2.0,
    "fremont": 1.5,
    "hayward": 1.4,
    "stockton": 1.4,
    "santa-rosa": 1.3,
    "walnut-creek": 1.2,
    "modesto": 1.2,
    "vallejo": 1.1,
    "napa": 0.6,
    "union-city": 0.6,
    "folsom": 0.7,
    "campbell": 0.7,
    "south-san-francisco": 0.8,
}


def demo_rows() -> int:
    """How many appointments the demo loads (0: none)."""
    value: Any = getattr(settings, ROWS_SETTING, None)
    if value is None:
        value = os.environ.get(ROWS_SETTING) or DEFAULT_ROWS
    return max(int(value), 0)


def _calendar(clinics: list[Clinic]) -> tuple[list[dt.date], str]:
    """Closure days and open weekdays of the clinics' calendars (their union: the generator
    takes one calendar, and a day closed anywhere is then closed everywhere)."""
    holidays = sorted(
        set(
            Holiday.objects.filter(calendar__in={c.calendar_id for c in clinics}).values_list(
                "date", flat=True
            )
        )
    )
    weekend: set[int] = set()
    for clinic in clinics:
        weekend.update(int(d) for d in clinic.calendar.weekend_days or [])
    mask = "".join("0" if day in weekend else "1" for day in range(7))
    return holidays, mask if "1" in mask else "1111100"


def _months_before(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 - months
    year = day.year + month // 12
    return dt.date(year, month % 12 + 1, 1)


def demo_period(as_of: dt.date) -> synthetic.Period:
    """Episodes from half a year before the two years kept, so that the first months hold
    follow-ups of patients already in care, as a real extract would."""
    return synthetic.Period(
        first=as_of - dt.timedelta(days=365 * YEARS + WARM_UP_DAYS),
        last=as_of + dt.timedelta(days=90),  # requests run up to the cut-off
        as_of=as_of,
    )


def demo_shape(clinics: list[Clinic], *, as_of: dt.date, weekmask: str) -> synthetic.Shape:
    slugs = [c.slug for c in clinics]
    worsening = tuple(i for i, slug in enumerate(slugs) if slug in WORSENING)
    if not worsening and slugs:  # a region without the demo's cities: its first clinic
        worsening = (0,)
    return synthetic.Shape(
        clinic_codes=tuple(slugs),
        clinic_weights=tuple(SIZES.get(slug, 1.0) for slug in slugs),
        clinic_patients=True,
        open_days_only=True,
        weekmask=weekmask,
        worsening=worsening,
        worsen_from=_months_before(as_of, WORSEN_MONTHS - 1),
        id_prefix="DEMO",
        stable_order=True,
        keep_from=as_of - dt.timedelta(days=365 * YEARS),
    )


def load_demo_access(
    region: Region,
    *,
    rows: int | None = None,
    as_of: dt.date | None = None,
    seed: int = SEED,
    recompute: bool = True,
) -> dict[str, Any]:
    """Load the region's synthetic appointments into its store, once; recompute aggregates.

    Returns ``appointments`` (rows merged: 0 when skipped or already loaded) and timings.
    """
    rows = demo_rows() if rows is None else max(int(rows), 0)
    if rows == 0:
        return {"appointments": 0}
    store = store_for(region.pk)
    if store.committed(JOB) is not None:
        return {"appointments": 0}
    clinics = list(Clinic.objects.filter(region=region).select_related("calendar").order_by("pk"))
    if not clinics:
        return {"appointments": 0}
    began = time.perf_counter()
    as_of = as_of or timezone.localdate()
    holidays, weekmask = _calendar(clinics)
    tz = clinics[0].time_zone or extract.DEFAULT_TZ
    period = demo_period(as_of)
    shape = demo_shape(clinics, as_of=as_of, weekmask=weekmask)
    key = pseudonym_key()
    # Raw (synthetic) patient ids may spill to disk before the HMAC: a private directory.
    base = private_root() / "tmp" / "access"
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="demo-", dir=base))
    try:
        spill = work / "spill"
        spill.mkdir()
        con = ingest.connect(
            spill,
            timezone=tz,
            memory_limit=str(getattr(settings, "COMMONGROUND_ACCESS_MEMORY_LIMIT", "1GB")),
            threads=getattr(settings, "COMMONGROUND_ACCESS_THREADS", None),
        )
        try:
            generated = synthetic.load_appt(
                con, rows, seed=seed, period=period, holidays=holidays, shape=shape, timezone=tz
            )
            stored = time.perf_counter()
            ingest.stage_incoming(con, key)
            side_rows = _stage_side(con, shape, as_of=as_of, holidays=holidays, seed=seed)
            outcome = store.merge(
                con,
                job=JOB,
                key_id=ingest.key_id(key),
                incoming=_prunable(con, "incoming"),
                side=sorted(side_rows),
            )
        finally:
            con.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    merged = time.perf_counter()
    worsening = [clinics[i].slug for i in shape.worsening]
    audit_record(
        action=AuditEvent.Action.CREATE,
        object_type="access.store",
        object_repr="demo scheduling data",
        changes={
            "demo_seed": seed,
            "from": period.first.isoformat(),
            "as_of": as_of.isoformat(),
            "rows": outcome.counts.rows,
            "generation": outcome.generation,
            "worsening": worsening,
            "calendar": HOLIDAY_PRESET,
            "side": {n: c.rows for n, c in outcome.side.items()},
        },
    )
    result: dict[str, Any] = {
        "appointments": outcome.counts.rows,
        "appointment_partitions": len(outcome.partitions),
        "appointments_generated": generated,
        "seconds_generate": round(stored - began, 2),
        "seconds_store": round(merged - stored, 2),
    }
    _count_closures_as_the_clinics_do(region)
    if recompute:
        result.update(_recompute(region))
    logger.info("demo appointments for %s: %s", region.slug, result)
    return result


def _count_closures_as_the_clinics_do(region: Region) -> None:
    """The demo clinics close on California state holidays (organizations.demo): the region's
    business days follow them, or a wait over the day after Thanksgiving would count one day
    more than the clinics' own calendar and November would dip every year."""
    from commonground.access.models import AccessSettings

    AccessSettings.objects.update_or_create(region=region, defaults={"calendar": HOLIDAY_PRESET})


def _stage_side(
    con: duckdb.DuckDBPyConnection,
    shape: synthetic.Shape,
    *,
    as_of: dt.date,
    holidays: list[dt.date],
    seed: int,
) -> dict[str, int]:
    """Slots and encounters for the supply and HEDIS-like tables (``synthetic_side``)."""
    slots = synthetic_side.demo_slots(
        con, shape.clinic_codes, as_of=as_of, holidays=holidays, weekmask=shape.weekmask,
        worsening=shape.worsening, worsen_from=shape.worsen_from, seed=seed,
    )  # fmt: skip
    encounters = synthetic_side.demo_encounters(
        con, shape.clinic_codes, first=as_of - dt.timedelta(days=365 * YEARS), as_of=as_of,
        worsening=shape.worsening, worsen_from=shape.worsen_from,
        per_clinic_per_year=ENCOUNTERS_PER_CLINIC_YEAR, seed=seed,
    )  # fmt: skip
    return {"slots": slots, "encounters": encounters}


def _prunable(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The staged rows with ``part`` as an ENUM, in the same (partition) order.

    The merge writes each partition with ``WHERE part = ...``: on text, DuckDB keeps only an
    8-byte prefix as row-group statistics ("year=202"), so every one of the ~800 partitions
    would scan all rows; an ENUM's statistics let each scan skip the other row groups. The
    files written are the same (``part`` is not stored).
    """
    con.execute(f"CREATE TYPE demo_part AS ENUM (SELECT DISTINCT part FROM {table} ORDER BY 1)")  # noqa: S608 - table name from code
    con.execute("SET preserve_insertion_order = true")  # keep the staged partition order
    try:
        con.execute(
            f"CREATE TEMP TABLE demo_incoming AS SELECT * REPLACE (part::demo_part AS part) "  # noqa: S608 - table name from code
            f"FROM {table}"
        )
    finally:
        con.execute("SET preserve_insertion_order = false")
    con.execute(f"DROP TABLE {table}")
    return "demo_incoming"


def _recompute(region: Region) -> dict[str, Any]:
    """The dashboards' aggregates from the new generation (where the aggregates exist)."""
    try:
        from commonground.access.aggregates import recompute_aggregates
    except ImportError:  # pragma: no cover - an older checkout without aggregates
        return {}
    began = time.perf_counter()
    run = recompute_aggregates(region)
    return {
        "aggregates": int(getattr(run, "aggregates", 0) or 0),
        "aggregates_state": str(getattr(run, "state", "")),
        "seconds_aggregates": round(time.perf_counter() - began, 2),
    }
