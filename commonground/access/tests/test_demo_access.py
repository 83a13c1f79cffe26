"""The demo region's synthetic scheduling data: stored like an import, de-identified, closed on
holidays, deterministic, and with clinics whose follow-ups worsen for the dashboards to show."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from commonground.access import extract, ingest, metrics, synthetic
from commonground.access._db import one_row, quote, scalar
from commonground.access.calendars import alternate, calendar_version
from commonground.access.demo import demo_period, demo_shape, load_demo_access
from commonground.access.services import store_for
from commonground.core.business_days import preset_holidays
from commonground.improvement.watch import deterioration
from commonground.organizations.models import BusinessCalendar, Clinic, Holiday, Region

KEY = "demo-test-pseudonym-key-0123456789"
AS_OF = dt.date(2025, 10, 15)
ROWS = 20_000
SLUGS = ("oakland", "richmond", "berkeley", "alameda")


@pytest.fixture(autouse=True)
def private_files(settings: Any, tmp_path: Path) -> Path:
    """A private directory of this test's own for the store, and a fixed key."""
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    settings.COMMONGROUND_ACCESS_PSEUDONYM_KEY = KEY
    return tmp_path


@pytest.fixture
def region(db: Any) -> Region:
    region = Region.objects.create(name="Demo test region", slug="demo-test-region")
    calendar = BusinessCalendar.objects.create(name="Demo test calendar", weekend_days=[5, 6])
    Holiday.objects.bulk_create(
        Holiday(calendar=calendar, date=day, name=name)
        for day, name in preset_holidays("ca-state", range(2022, 2027)).items()
    )
    for slug in SLUGS:
        Clinic.objects.create(
            region=region, name=slug.title(), slug=slug, city=slug.title(), calendar=calendar
        )
    return region


def _load(region: Region, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("recompute", False)
    return load_demo_access(region, rows=ROWS, as_of=AS_OF, **kwargs)


def _stored(con: duckdb.DuckDBPyConnection, region: Region) -> Path:
    generation = store_for(region.pk).current()
    assert generation is not None
    extract.configure(con)
    extract.parquet_view(con, generation.path)
    return generation.path


def _holidays() -> list[dt.date]:
    return sorted(Holiday.objects.values_list("date", flat=True))


def test_demo_rows_land_in_the_store_keyed_by_clinic_slug_and_load_once(region: Region) -> None:
    result = _load(region)
    assert result["appointments"] == ROWS
    con = duckdb.connect()
    _stored(con, region)
    per_clinic = dict(con.execute("SELECT clinic_id, count(*) FROM appt GROUP BY 1").fetchall())
    assert set(per_clinic) == set(SLUGS)
    assert per_clinic["oakland"] > 1.5 * per_clinic["richmond"]  # a bigger clinic
    lines = {r[0] for r in con.execute("SELECT DISTINCT service_line FROM appt").fetchall()}
    assert {"MH", "SUD", "PC", "MS_SPECIALTY"} <= lines  # medical comparators for parity
    statuses = dict(
        con.execute(
            "SELECT coalesce(cancel_initiator, status), count(*) FROM appt GROUP BY 1"
        ).fetchall()
    )
    assert statuses["patient"] and statuses["provider"] and statuses["no_show"]
    assert statuses["scheduled"]  # booked ahead of the cut-off
    assert scalar(con, "SELECT max(booked_day) FROM appt") <= AS_OF
    # The store records the job: a second load (the demo command run again) adds nothing.
    assert _load(region)["appointments"] == 0
    generation = store_for(region.pk).current()
    assert generation is not None and generation.rows == ROWS


def test_stored_rows_carry_the_keyed_hmac_and_no_raw_patient_id(region: Region) -> None:
    _load(region)
    shape = demo_shape(
        list(Clinic.objects.filter(region=region).order_by("pk")), as_of=AS_OF, weekmask="1111100"
    )
    raw: set[str] = set()
    period = demo_period(AS_OF)
    for block in synthetic.blocks(ROWS, seed=2026, period=period, holidays=_holidays(),
                                  shape=shape):  # fmt: skip
        raw.update(f"P{p:08d}" for p in block.table["patient"].to_pylist())
    con = duckdb.connect()
    _stored(con, region)
    keys = {r[0] for r in con.execute("SELECT DISTINCT patient_key FROM appt").fetchall()}
    # Exactly the importer's pseudonyms: HMAC-SHA256 under the deployment key.
    assert keys == {extract.pseudonymise(p, KEY.encode()) for p in raw}
    con.execute("CREATE TABLE raw_ids AS SELECT unnest($ids::VARCHAR[]) AS id", {"ids": list(raw)})
    text = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM (DESCRIBE appt) WHERE column_type = 'VARCHAR'"
        ).fetchall()
    ]
    for column in text:
        found = scalar(
            con,
            f"SELECT count(*) FROM appt WHERE {column} IN (SELECT id FROM raw_ids) "  # noqa: S608 - names from DESCRIBE
            f"OR regexp_matches({column}, '^P[0-9]{{8}}$')",
        )
        assert found == 0, column
    assert "birth_year" not in {r[0] for r in con.execute("DESCRIBE appt").fetchall()}


def test_no_appointment_on_a_day_the_clinic_calendar_closes(region: Region) -> None:
    _load(region)
    closed = _holidays()
    con = duckdb.connect()
    _stored(con, region)
    con.execute("CREATE TABLE closed AS SELECT unnest($d::DATE[]) AS d", {"d": closed})
    in_period = [d for d in closed if AS_OF - dt.timedelta(days=730) <= d <= AS_OF]
    assert len(in_period) >= 20  # two years of state holidays
    for column in ("start_day", "offer_day"):
        on_closure, on_weekend = one_row(
            con,
            f"SELECT count(*) FILTER (WHERE {column} IN (SELECT d FROM closed)), "  # noqa: S608 - names from code
            f"count(*) FILTER (WHERE isodow({column}) > 5) FROM appt",
        )
        assert (on_closure, on_weekend) == (0, 0), column
    earliest, latest = one_row(con, "SELECT min(hour(start_ts)), max(hour(start_ts)) FROM appt")
    assert earliest >= 8 and latest < 18  # clinic hours


def _monthly_follow_up(con: duckdb.DuckDBPyConnection, clinic: str) -> list[tuple[dt.date, float]]:
    rows = con.execute(
        """
        SELECT date_trunc('month', start_date)::DATE AS month,
               count(*) FILTER (WHERE status = 'compliant')
                 / count(*) FILTER (WHERE status IN ('compliant', 'noncompliant'))
        FROM units WHERE metric = 'follow_up_sb221' AND clinic_id = ?
        GROUP BY 1 HAVING count(*) FILTER (WHERE status IN ('compliant', 'noncompliant')) > 0
        ORDER BY 1
        """,
        [clinic],
    ).fetchall()
    return [(month, 100.0 * rate) for month, rate in rows]


def test_the_worsening_clinic_follow_ups_fall_into_special_cause_over_eight_months(
    region: Region,
) -> None:
    _load(region)
    con = duckdb.connect()
    _stored(con, region)
    version = calendar_version("ca-state")
    first, last = one_row(
        con, "SELECT min(least(req_day, booked_day, start_day)), max(start_day) FROM appt"
    )
    metrics.build_calendar_table(con, version, alternate(version.name), first, last)
    metrics.compute_units(
        con, metrics.Options(calendar=version, as_of=AS_OF, alternate=alternate(version.name))
    )
    series = _monthly_follow_up(con, "oakland")
    recent = [rate for month, rate in series if month >= dt.date(2025, 3, 1)]
    earlier = [rate for month, rate in series if month < dt.date(2025, 2, 1)]
    assert len(recent) == 8 and len(earlier) >= 12
    mean = sum(earlier) / len(earlier)
    assert all(rate < mean for rate in recent), (mean, recent)
    assert sum(recent) / len(recent) < mean - 15
    found = deterioration(
        [m for m, _ in series], [v for _, v in series], direction="increase", label="Follow-up"
    )
    assert found is not None and found.points_in_run >= 7, found
    # The other clinics keep their usual level.
    steady = _monthly_follow_up(con, "richmond")
    assert (
        deterioration(
            [m for m, _ in steady], [v for _, v in steady], direction="increase", label="Follow-up"
        )
        is None
    )


def test_two_loads_give_identical_data(region: Region, private_files: Path) -> None:
    _load(region)
    root = store_for(region.pk).root
    first = private_files / "first-load"
    shutil.move(root, first)
    _load(region)
    con = duckdb.connect()
    path = _stored(con, region)
    earlier = next(first.glob("gen-*"))
    con.execute(
        "CREATE VIEW before AS SELECT * EXCLUDE (year, month) FROM "  # noqa: S608 - our tmp path
        f"read_parquet({quote(str(earlier / 'year=*' / 'month=*' / '*.parquet'))}, "
        "hive_partitioning = true)"
    )
    for a, b in (("appt", "before"), ("before", "appt")):
        assert scalar(con, f"SELECT count(*) FROM (FROM {a} EXCEPT ALL FROM {b})") == 0  # noqa: S608 - names from code
    for name in ("slots", "encounters"):  # the side tables too, row for row
        now, then = (quote(str(g / "side" / f"{name}.parquet")) for g in (path, earlier))
        assert scalar(con, f"SELECT count(*) FROM (FROM {now} EXCEPT ALL FROM {then})") == 0  # noqa: S608 - our tmp paths
        assert scalar(con, f"SELECT count(*) FROM {now}") > 0  # noqa: S608 - our tmp path
    assert sorted(p.relative_to(path) for p in path.rglob("*.parquet")) == sorted(
        p.relative_to(earlier) for p in earlier.rglob("*.parquet")
    )


def test_the_demo_rows_are_what_importing_the_same_extract_would_store(tmp_path: Path) -> None:
    """The demo skips the CSV for speed: its typed rows must equal the importer's reading of
    the same rows written as a canonical extract (daylight-saving changes included)."""
    as_of = dt.date(2025, 3, 20)  # the spring change falls in the last weeks
    period = synthetic.Period(as_of - dt.timedelta(days=400), as_of + dt.timedelta(days=90), as_of)
    holidays = sorted(preset_holidays("ca-state", range(2023, 2027)))
    shape = synthetic.Shape(
        clinic_codes=("oakland", "richmond", "vallejo"),
        clinic_weights=(2.0, 1.0, 1.0),
        clinic_patients=True,
        open_days_only=True,
        worsening=(0,),
        worsen_from=dt.date(2024, 12, 1),
        id_prefix="DEMO",
        stable_order=True,
    )
    args: dict[str, Any] = {"seed": 5, "period": period, "holidays": holidays, "shape": shape,
                            "block_rows": 3000}  # fmt: skip
    csv_path = tmp_path / "extract.csv"
    synthetic.write_csv(csv_path, 8000, **args)
    key = KEY.encode()
    spill = tmp_path / "spill"
    spill.mkdir()

    via_csv = ingest.connect(spill, timezone=extract.DEFAULT_TZ)
    loaded = ingest.validate(via_csv, csv_path, calendar_version("federal"))
    assert loaded.valid, loaded.errors[:5]
    ingest.stage_incoming(via_csv, key)
    direct = ingest.connect(spill, timezone=extract.DEFAULT_TZ)
    assert synthetic.load_appt(direct, 8000, **args) == 8000
    ingest.stage_incoming(direct, key)

    def table(con: duckdb.DuckDBPyConnection) -> tuple[list[Any], Any]:
        schema = con.execute("DESCRIBE incoming").fetchall()
        rows = con.sql("SELECT * FROM incoming ORDER BY appointment_id").to_arrow_table()
        return schema, rows

    schema_csv, rows_csv = table(via_csv)
    schema_direct, rows_direct = table(direct)
    assert schema_direct == schema_csv
    assert rows_direct.num_rows == rows_csv.num_rows == 8000
    differ = [c for c in rows_csv.column_names if not rows_direct[c].equals(rows_csv[c])]
    assert differ == []


def test_a_zero_size_skips_the_appointments(region: Region, settings: Any) -> None:
    settings.COMMONGROUND_DEMO_APPOINTMENTS = 0
    assert load_demo_access(region) == {"appointments": 0}
    assert store_for(region.pk).current() is None


def test_loading_recomputes_the_aggregates_and_oakland_gets_worse_on_slots_and_encounters(
    region: Region,
) -> None:
    """One load with its recompute (about ten seconds) for both: the aggregates are there
    after loading, and the demo's slots and encounters tell Oakland's story too."""
    from commonground.access.models import AccessAggregate

    result = _load(region, recompute=True)
    assert result["aggregates_state"] == "done", result
    oakland = Clinic.objects.get(slug="oakland")
    assert AccessAggregate.objects.filter(
        region=region, clinic=oakland, metric="follow_up_sb221", period="month"
    ).exists()
    generation = store_for(region.pk).current()
    assert generation is not None and set(generation.side) == {"slots", "encounters"}
    con = duckdb.connect()
    encounters = str(generation.side_path("encounters"))
    stored_keys = {r[0] for r in con.execute(
        f"SELECT DISTINCT patient_key FROM read_parquet('{encounters}')"  # noqa: S608 - test path
    ).fetchall()}  # fmt: skip
    _stored(con, region)
    appointment_keys = {
        r[0] for r in con.execute("SELECT DISTINCT patient_key FROM appt").fetchall()
    }
    assert stored_keys and stored_keys <= appointment_keys  # the same keyed patients

    def median_lag(slug: str, since: dt.date | None = None) -> float:
        rows = AccessAggregate.objects.filter(
            clinic__slug=slug, metric="supply_next_available", dimension="total"
        )
        rows = rows.filter(period_start__gte=since) if since else rows
        medians = [
            r.median_wait for r in rows.order_by("period_start") if r.median_wait is not None
        ]
        return medians[-1]

    # Oakland worsens over the last months; Richmond does not.
    assert median_lag("oakland") > median_lag("richmond") + 4
    fuh = AccessAggregate.objects.filter(metric="hedis_fuh_30", clinic__isnull=True)
    assert sum(r.denominator for r in fuh) > 50
