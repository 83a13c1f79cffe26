"""De-identification at ingest, and the metrics over stored Parquet partitions."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pytest

from commonground.access import extract, metrics
from commonground.access.tests.helpers import SPEC_ROWS, Run

KEY = b"a-key-held-by-the-caller-only-32b"


def test_pseudonym_is_a_keyed_hmac_sha256():
    expected = hmac.new(KEY, b"P9001", hashlib.sha256).hexdigest()
    assert extract.pseudonymise("P9001", KEY) == expected
    assert extract.pseudonymise("P9001", KEY + b"x") != expected
    with pytest.raises(ValueError):
        extract.pseudonymise("P9001", b"short")


def test_sql_hmac_matches_python_for_short_and_long_keys():
    con = duckdb.connect()
    for key in (KEY, b"k" * 100):
        ipad, opad = extract._hmac_pads(key)
        got = con.execute(
            f"SELECT {extract.hmac_sql('x')} FROM (VALUES ('P9001'), ('é-ü')) t(x)",  # noqa: S608 - SQL from schema constants; values bound or quoted
            {"ipad": ipad, "opad": opad},
        ).fetchall()
        assert [g[0] for g in got] == [
            hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in ("P9001", "é-ü")
        ]


@pytest.mark.parametrize(
    ("birth", "band"),
    [(2025, "0-5"), (2019, "6-12"), (2010, "13-17"), (2007, "18-25"), (1960, "65+"),
     (None, None), (2030, None)],
)  # fmt: skip
def test_birth_year_becomes_an_age_band(birth, band):
    assert extract.age_band(birth, 2025) == band


def test_stored_partitions_are_deidentified_and_give_the_same_units(tmp_path):
    path = tmp_path / "spec.csv"
    path.write_text(SPEC_ROWS)
    direct = Run(path, as_of="2025-03-25", keep_patient_id=True)
    store = tmp_path / "store"
    extract.write_parquet_partitions(direct.con, store, KEY, 2025)
    files = sorted(p.relative_to(store).as_posix() for p in store.rglob("*.parquet"))
    assert files and all(f.startswith("year=2025/month=") for f in files)
    con = duckdb.connect()
    extract.configure(con)
    stored = con.execute(
        "SELECT COLUMNS(*)::VARCHAR FROM read_parquet($glob, hive_partitioning = true)",
        {"glob": f"{store}/**/*.parquet"},
    )
    names = [d[0] for d in stored.description]
    rows = stored.fetchall()
    text = repr(rows)
    assert "P9001" not in text and "P9002" not in text  # patient ids replaced
    assert "PROVIDER ILL" not in text  # free text not kept
    assert "1988" not in text and "birth_year" not in names  # age band instead
    assert extract.pseudonymise("P9001", KEY) in text
    assert KEY.decode() not in text
    assert "age_band" in names
    # The metrics run on the stored partitions as on the CSV.
    extract.parquet_view(con, store)
    metrics.build_calendar_table(
        con, direct.version, None, direct.loaded.first_day, direct.loaded.last_day
    )
    metrics.compute_units(con, metrics.Options(calendar=direct.version, as_of=direct.as_of))
    strip = ("status_other_calendar", "business_days_other_calendar")
    from_csv = [{k: v for k, v in u.items() if k not in strip} for u in direct.units()]
    from_parquet = [{k: v for k, v in u.items() if k not in strip} for u in metrics.unit_rows(con)]
    assert from_parquet == from_csv
