"""Synthetic slots and encounters for the demo region, beside its appointments. No Django.

* **Slots**: every Monday of the last 26 weeks, each clinic's feed lists five slots for each of
  four providers (an LCSW, an LMFT, a psychologist, a psychiatrist): three free, two busy. The
  first free slot is a few open days out (more for the psychiatrist); at the clinics whose
  follow-ups worsen it drifts later from the same day, so next available tells the same story.
* **Encounters**: psychiatric hospital stays and emergency visits (mental illness, substance
  use) of patients who have mental health appointments at the clinic, with outpatient
  follow-ups that come less often at the worsening clinics. The patients are the stored keyed
  codes (sampled from the staged ``incoming`` table): no raw id is involved.

Rows are in the stored layouts (``side.SLOT_COLUMNS``, ``side.ENCOUNTER_COLUMNS``), as the
tables ``incoming_slots`` and ``incoming_encounters`` that ``Store.merge`` takes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

from .side import ENCOUNTER_COLUMNS, SLOT_COLUMNS, TABLES

WEEKS = 26
PROVIDERS = (("lcsw", 5), ("lmft", 6), ("psychologist", 7), ("psychiatrist", 11))  # class, lag
WORSE_BY_DAYS = 9  # open days added to the first free slot at a worsening clinic, fully worse
# (measure, class, principal diagnoses, share of index events)
INDEX_KINDS = (
    ("FUH", "IMP", ("F32.2", "F20.9", "F31.4", "F33.2"), 0.45),
    ("FUM", "EMER", ("F41.1", "F32.9", "F43.10", "R45.851"), 0.35),
    ("FUA", "EMER", ("F10.20", "F11.20", "T40.1X1A"), 0.20),
)
FOLLOW_UP_7 = 0.55  # chance of a follow-up within 7 days (30 days: FOLLOW_UP_30)
FOLLOW_UP_30 = 0.78
WORSE_FOLLOW_UP_7 = 0.28
AGE_BANDS = ("18-25", "26-34", "35-44", "45-54", "55-64")


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: Sequence[str], rows: list) -> int:
    arrays = [pa.array([r[i] for r in rows], type=pa.string()) for i in range(len(columns))]
    data = pa.Table.from_arrays(arrays, names=list(columns))  # noqa: F841 - read by DuckDB
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM data")  # noqa: S608 - table name from code
    return len(rows)


def demo_slots(
    con: duckdb.DuckDBPyConnection,
    clinic_codes: Sequence[str],
    *,
    as_of: dt.date,
    worsening: Sequence[int],
    worsen_from: dt.date | None,
    holidays: Sequence[dt.date],
    weekmask: str,
    seed: int,
) -> int:
    """The table ``incoming_slots``; returns its rows."""
    rng = np.random.default_rng(seed + 11)
    cal = np.busdaycalendar(weekmask=weekmask, holidays=np.array(holidays, dtype="datetime64[D]"))
    last_monday = as_of - dt.timedelta(days=as_of.weekday())
    points = [last_monday - dt.timedelta(weeks=w) for w in range(WEEKS - 1, -1, -1)]
    rows = []
    for point in points:
        for c, code in enumerate(clinic_codes):
            worse = 0.0
            if c in worsening and worsen_from is not None and point >= worsen_from:
                worse = min(1.0, (point - worsen_from).days / 45) * WORSE_BY_DAYS
            for p, (cls, lag) in enumerate(PROVIDERS):
                first = max(0, round(rng.normal(lag + worse, 2.5)))
                gaps = rng.integers(1, 4, size=2)
                free = [first, first + int(gaps[0]), first + int(gaps[0] + gaps[1])]
                busy = [max(0, first - 1), first + 1]
                for k, (days, status) in enumerate(
                    [*((d, "free") for d in free), *((d, "busy") for d in busy)]
                ):
                    day = np.busday_offset(
                        np.datetime64(point), days, roll="forward", busdaycal=cal
                    ).astype(dt.date)
                    rows.append(
                        (
                            f"{point.isoformat()}|id:{code}-{p}-{point:%Y%m%d}-{k}",
                            point.isoformat(),
                            f"{code}-{p}-{point:%Y%m%d}-{k}",
                            f"{code}-schedule-{p}",
                            status,
                            f"{day.isoformat()}T{9 + k:02d}:00:00",
                            f"{day.isoformat()}T{9 + k:02d}:50:00",
                            code,
                            f"{code}-provider-{p}",
                            cls,
                            "MH",
                            "false",
                            "",  # feed: the demo's own
                            "true",  # from_export: each Monday's list is whole
                        )
                    )
    count = _table(con, TABLES["slots"].incoming, SLOT_COLUMNS, rows)
    con.execute(f"ALTER TABLE {TABLES['slots'].incoming} ADD COLUMN state_as_of TIMESTAMP")
    return count  # (undated, as the demo's encounters)


def demo_encounters(
    con: duckdb.DuckDBPyConnection,
    clinic_codes: Sequence[str],
    *,
    first: dt.date,
    as_of: dt.date,
    worsening: Sequence[int],
    worsen_from: dt.date | None,
    per_clinic_per_year: int,
    seed: int,
) -> int:
    """The table ``incoming_encounters`` from the staged ``incoming`` patients; its rows."""
    rng = np.random.default_rng(seed + 23)
    worse_codes = {clinic_codes[i] for i in worsening}
    span = (as_of - first).days
    wanted = max(1, round(per_clinic_per_year * span / 365))
    rows: list[tuple[str, ...]] = []
    for code in clinic_codes:
        patients = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT patient_key FROM incoming "
                "WHERE clinic_id = $code AND service_line = 'MH' ORDER BY 1 LIMIT $n",
                {"code": code, "n": wanted * 4},
            ).fetchall()
        ]
        if not patients:
            continue
        picks = rng.choice(len(patients), size=wanted, replace=len(patients) < wanted)
        kinds = rng.choice(len(INDEX_KINDS), size=wanted, p=[k[3] for k in INDEX_KINDS])
        days = rng.integers(0, span, size=wanted)
        for n in range(wanted):
            measure, cls, dxs, _ = INDEX_KINDS[int(kinds[n])]
            patient = patients[int(picks[n])]
            day = first + dt.timedelta(days=int(days[n]))
            dx = dxs[int(rng.integers(len(dxs)))]
            band = AGE_BANDS[int(rng.integers(len(AGE_BANDS)))]
            ident = f"DEMO-{code}-{n:05d}"
            start = day - dt.timedelta(days=int(rng.integers(2, 9))) if cls == "IMP" else day
            rows.append(_encounter(ident, patient, cls, start, day if cls == "IMP" else None,
                                   dx, "", band, code))  # fmt: skip
            worse = code in worse_codes and worsen_from is not None and day >= worsen_from
            within_7 = WORSE_FOLLOW_UP_7 if worse else FOLLOW_UP_7
            draw = rng.random()
            lowest = 1 if measure == "FUH" else 0  # a stay's discharge day does not count
            if draw < within_7:
                after = int(rng.integers(lowest, 8))
            elif draw < FOLLOW_UP_30:
                after = int(rng.integers(8, 31))
            else:
                continue
            follow = day + dt.timedelta(days=after)
            if follow <= as_of:
                rows.append(_encounter(f"{ident}-F", patient, "AMB", follow, None, dx, "lcsw",
                                       band, code))  # fmt: skip
    table = TABLES["encounters"]
    count = _table(con, table.incoming, ENCOUNTER_COLUMNS, rows)
    con.execute(f"ALTER TABLE {table.incoming} ADD COLUMN state_as_of TIMESTAMP")  # undated
    return count


def _encounter(
    ident: str,
    patient: str,
    cls: str,
    start: dt.date,
    end: dt.date | None,
    dx: str,
    provider_class: str,
    band: str,
    code: str,
) -> tuple[str, ...]:
    values = {
        "encounter_id": ident,
        "patient_key": patient,
        "status": "finished",
        "class": cls,
        "setting": "",
        "start": start.isoformat(),
        "end": end.isoformat() if end else "",
        "appointment_ids": "",
        "principal_dx": dx,
        "other_dx": "",
        "provider_class": provider_class,
        "discharge_disposition": "home" if cls == "IMP" else "",
        "age_band": band,
        "clinic_id": code,
    }
    return tuple(values[c] for c in ENCOUNTER_COLUMNS)
