"""Generator of a realistic synthetic canonical appointment extract (access-and-parity.md §6.1).

    .venv/bin/python benchmarks/access_generate.py OUT.csv [--rows 1000000] [--seed 7]

One row per appointment, every status, all 28 canonical columns, in the layout of section 6.1.
Shapes follow section 10 of the spec loosely: most non-physician MH intakes within 10 business
days but a long tail, follow-up intervals that average around 15 business days under strain
(40 % of MH episodes never have a second visit), some provider cancellations with a rebooked
appointment, no-shows, patient cancellations, future bookings after the cut-off, urgent
requests (30 % needing prior authorisation) with waits in hours, 3 % of requests without a
request date and 15 % whose request time equals the booking time (the data-quality figure
of section 6.1), 5 % of rows with a blank ``appointment_kind`` (derived by the importer).

Timestamps are local clinic time with their UTC offset (-08:00 or -07:00 by the US DST rule).
Rows are generated in blocks of episodes (flat memory) and written with DuckDB; each block is
sorted by appointment start, as an EHR extract per period would be. Seeded: the same
arguments give the same file. Synthetic only: no real person is described.

Never write large files into the repository; use a temporary directory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from commonground.core.business_days import preset_holidays  # noqa: E402

COLUMNS = [
    "appointment_id",
    "patient_id",
    "clinic_id",
    "provider_id",
    "provider_class",
    "service_line",
    "visit_type",
    "appointment_kind",
    "urgency",
    "prior_auth_required",
    "request_datetime",
    "booked_datetime",
    "first_offered_start",
    "appointment_start",
    "duration_min",
    "status",
    "cancel_datetime",
    "cancel_initiator",
    "cancel_reason",
    "modality",
    "is_group",
    "episode_id",
    "longer_interval_documented",
    "patient_requested_later",
    "recommended_return_days",
    "out_of_network",
    "product_line",
    "patient_birth_year",
]

# Episode lines: provider classes, service line, share, visit types, follow-up shape.
LINES = {
    #        share  service line   initial visit type        return visit type
    "npmh": (0.45, "MH", "NEW THERAPY INTAKE 60", "RETURN THERAPY 45"),
    "psych": (0.10, "MH", "NEW PSYCH EVAL 60", "MED MGMT 30"),
    "sud": (0.05, "SUD", "SUD ASSESSMENT 60", "SUD COUNSELING 45"),
    "pc": (0.25, "PC", "NEW PATIENT 30", "OFFICE VISIT 20"),
    "spec": (0.15, "MS_SPECIALTY", "NEW CONSULT 40", "FOLLOW UP 20"),
}
NPMH_CLASSES = np.array(["psychologist", "lcsw", "lmft", "lpcc", "psych_np", "aba"])
NPMH_P = np.array([0.2, 0.3, 0.3, 0.12, 0.06, 0.02])
CLASS_OF_LINE = {"psych": "psychiatrist", "sud": "sud_counselor", "pc": "pcp",
                 "spec": "specialist_md"}  # fmt: skip
# Standard (business days) and the share of intakes meeting it, per line.
INITIAL_N = {"npmh": 10, "psych": 15, "sud": 10, "pc": 10, "spec": 15}
INITIAL_OK = {"npmh": 0.74, "psych": 0.7, "sud": 0.78, "pc": 0.86, "spec": 0.76}
# Follow-ups per episode: geometric mean, and (share <= 10 bd, low, high) intervals.
FOLLOW = {
    "npmh": (7.0, 0.55, (3, 10), (11, 32)),
    "psych": (3.0, 0.2, (5, 10), (11, 60)),
    "sud": (6.0, 0.6, (3, 10), (11, 25)),
    "pc": (1.2, 0.1, (5, 10), (20, 120)),
    "spec": (1.0, 0.1, (5, 10), (15, 90)),
}


def _offsets(first: np.datetime64, days: int) -> np.ndarray:
    """UTC offset string index per day (0: -08:00, 1: -07:00) for America/Los_Angeles."""
    zone = ZoneInfo("America/Los_Angeles")
    start = dt.date.fromisoformat(str(first))
    out = np.zeros(days, dtype=np.int8)
    for i in range(days):
        noon = dt.datetime.combine(start + dt.timedelta(days=i), dt.time(12), tzinfo=zone)
        out[i] = 1 if noon.utcoffset() == dt.timedelta(hours=-7) else 0
    return out


class _Block:
    """Columns of one block of rows (numpy arrays)."""

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {}

    def add(self, **arrays: np.ndarray) -> None:
        for name, arr in arrays.items():
            self.cols.setdefault(name, []).append(arr)

    def table(self) -> pa.Table:
        return pa.table({k: np.concatenate(v) for k, v in self.cols.items()})


def _block(
    rng: np.random.Generator,
    n_episodes: int,
    episode_base: int,
    n_patients: int,
    first_day: np.datetime64,
    n_days: int,
    as_of_day: int,
    holidays: np.ndarray,
) -> pa.Table:
    """Rows for ``n_episodes`` episodes; times are seconds since ``first_day`` local midnight."""
    names = list(LINES)
    shares = np.array([LINES[k][0] for k in names])
    line = rng.choice(len(names), size=n_episodes, p=shares)
    patient = rng.integers(0, n_patients, size=n_episodes)
    clinic = rng.integers(0, 25, size=n_episodes)
    provider = clinic * 40 + rng.integers(0, 40, size=n_episodes)
    product = rng.choice(4, size=n_episodes, p=[0.6, 0.3, 0.07, 0.03])
    birth = rng.integers(1940, 2016, size=n_episodes)
    urgent = rng.random(n_episodes) < 0.05
    prior_auth = urgent & (rng.random(n_episodes) < 0.3)
    npmh_class = rng.choice(len(NPMH_CLASSES), size=n_episodes, p=NPMH_P)

    # Request: a day in the period (leaving 90 days of runway), 08:00-17:00; 5 % at weekends.
    req_day = rng.integers(0, max(n_days - 90, 1), size=n_episodes)
    day0 = first_day.astype("datetime64[D]")
    req_date = day0 + req_day
    weekend = np.is_busday(req_date, weekmask="0000011")
    move = ~weekend & (rng.random(n_episodes) < 0.05)
    shift = (5 - (req_date.astype("datetime64[D]").view("int64") - 4) % 7) % 7
    req_day = np.where(move, req_day + shift, req_day)
    req_date = day0 + req_day
    req_sec = req_day * 86400 + rng.integers(8 * 3600, 17 * 3600, size=n_episodes)
    # Booking: minutes to 2 days after the request; 15 % at exactly the request time.
    lag = rng.integers(300, 2 * 86400, size=n_episodes)
    lag[rng.random(n_episodes) < 0.15] = 0
    booked_sec = req_sec + lag

    # Initial wait in business days (non-urgent) or hours (urgent).
    n_std = np.array([INITIAL_N[names[i]] for i in range(len(names))])[line]
    ok = rng.random(n_episodes) < np.array([INITIAL_OK[k] for k in names])[line]
    wait_bd = np.where(ok, rng.integers(0, n_std + 1), n_std + rng.integers(1, 25, n_episodes))
    start_date = np.busday_offset(req_date, wait_bd, roll="forward", holidays=holidays)
    start_date = np.maximum(start_date, (booked_sec // 86400) + day0)
    start_sec = (start_date - day0).astype("int64") * 86400 + rng.choice(
        np.arange(8, 17) * 3600, size=n_episodes
    )
    urgent_hours = rng.exponential(36, size=n_episodes).astype("int64") * 3600 + 3600
    start_sec = np.where(urgent, req_sec + urgent_hours, start_sec)
    start_sec = np.maximum(start_sec, booked_sec + 600)
    # First offer tracked for 40 % of requests; earlier than booked when the patient chose.
    tracked = rng.random(n_episodes) < 0.4
    chose_later = tracked & ~ok & (rng.random(n_episodes) < 0.4)
    offer_sec = np.where(
        chose_later,
        np.maximum(start_sec - rng.integers(3, 15, n_episodes) * 86400, booked_sec + 3600),
        start_sec,
    )
    no_request = rng.random(n_episodes) < 0.03

    # Follow-ups per episode.
    follow_mean = np.array([FOLLOW[k][0] for k in names])[line]
    n_follow = np.where(
        rng.random(n_episodes) < 0.4, 0, rng.geometric(1.0 / np.maximum(follow_mean, 1.0))
    )
    n_follow = np.minimum(np.where(urgent, 0, n_follow), 40)
    total_follow = int(n_follow.sum())
    f_ep = np.repeat(np.arange(n_episodes), n_follow)
    f_line = line[f_ep]
    short = rng.random(total_follow) < np.array([FOLLOW[k][1] for k in names])[f_line]
    low_s = np.array([FOLLOW[k][2][0] for k in names])[f_line]
    high_s = np.array([FOLLOW[k][2][1] for k in names])[f_line]
    low_l = np.array([FOLLOW[k][3][0] for k in names])[f_line]
    high_l = np.array([FOLLOW[k][3][1] for k in names])[f_line]
    lo = np.where(short, low_s, low_l)
    hi = np.where(short, high_s, high_l)
    interval = rng.integers(lo, hi + 1)
    # Cumulative business-day offsets from the episode's first appointment.
    cum = np.cumsum(interval)
    ep_first = np.concatenate(([0], np.cumsum(n_follow)[:-1]))
    cum_before = np.concatenate(([0], cum))[ep_first]
    offset_bd = cum - np.repeat(cum_before, n_follow)
    anchor = (start_sec[f_ep] // 86400).astype("int64")
    f_date = np.busday_offset(day0 + anchor, offset_bd, roll="forward", holidays=holidays)
    f_start = (f_date - day0).astype("int64") * 86400 + (start_sec[f_ep] % 86400)
    # Booked at the previous visit (or a few days after it).
    prev_start = np.concatenate(([0], f_start[:-1]))
    first_of_ep = np.zeros(total_follow, dtype=bool)
    first_of_ep[ep_first[n_follow > 0]] = True
    prev_start = np.where(first_of_ep, start_sec[f_ep], prev_start)
    f_booked = prev_start + rng.integers(1800, 4 * 86400, size=total_follow)
    f_booked = np.minimum(f_booked, f_start - 3600)

    # Assemble the base rows: initial then follow-ups.
    ep = np.concatenate([np.arange(n_episodes), f_ep])
    is_initial = np.concatenate([np.ones(n_episodes, bool), np.zeros(total_follow, bool)])
    start = np.concatenate([start_sec, f_start])
    booked = np.concatenate([booked_sec, f_booked])
    n = len(ep)
    offer = np.where(is_initial, np.concatenate([offer_sec, f_start]), -1)
    offer = np.where(is_initial & tracked[ep], offer, -1)
    request = np.where(is_initial & ~no_request[ep], np.concatenate([req_sec, f_start]), -1)

    # Status: future rows are scheduled; past rows mostly completed.
    as_of_sec = as_of_day * 86400 + 86399
    roll = rng.random(n)
    status = np.full(n, "completed", dtype=object)
    status[roll > 0.86] = "no_show"
    status[roll > 0.91] = "cancelled"  # by the patient
    status[(roll > 0.95) & (roll <= 0.955)] = "left_without_seen"
    status[(roll > 0.955) & (roll <= 0.965)] = "arrived"
    status[(roll > 0.965) & (roll <= 0.97)] = "checked_in"
    status[(roll > 0.97) & (roll <= 0.973)] = "entered_in_error"
    future = start > as_of_sec
    status[future & (status != "cancelled")] = "scheduled"
    cancel_init = np.where(status == "cancelled", "patient", "")
    cancel_time = np.where(
        status == "cancelled",
        np.maximum(booked + 3600, start - rng.integers(3600, 5 * 86400, n)),
        -1,
    )
    # Provider cancellations: an extra, earlier slot withdrawn by the provider (3 %).
    withdrawn = (rng.random(n) < 0.03) & (start > 8 * 86400)  # keep siblings in the period
    w_idx = np.flatnonzero(withdrawn)
    w_start = start[w_idx] - rng.integers(1, 6, size=len(w_idx)) * 86400
    w_booked = np.minimum(booked[w_idx], w_start - 3600)
    w_cancel = w_booked + (w_start - w_booked) // 2

    def pick(arr: np.ndarray) -> np.ndarray:
        return np.concatenate([arr, arr[w_idx]])

    ep = pick(ep)
    is_initial = pick(is_initial)
    start = np.concatenate([start, w_start])
    booked = np.concatenate([booked, w_booked])
    offer = pick(offer)
    request = pick(request)
    status = np.concatenate([status, np.full(len(w_idx), "cancelled", dtype=object)])
    cancel_init = np.concatenate([cancel_init, np.full(len(w_idx), "provider", dtype=object)])
    cancel_time = np.concatenate([cancel_time, w_cancel])
    cancel_reason = np.where(
        cancel_init == "provider",
        "PROVIDER UNAVAILABLE",
        np.where(cancel_init == "patient", "PATIENT REQUEST", ""),
    )
    n = len(ep)
    # The request and booking of a withdrawn slot must not come after it.
    booked = np.where(request >= 0, np.maximum(booked, request), booked)
    start = np.maximum(start, booked + 600)
    cancel_time = np.where(cancel_time >= 0, np.maximum(cancel_time, booked), -1)
    offer = np.where(offer >= 0, np.minimum(np.maximum(offer, booked), start), -1)

    # The extract is taken at the cut-off: nothing booked after it exists yet, and a later
    # cancellation has not happened yet.
    late_cancel = (cancel_time > as_of_sec) & (status == "cancelled")
    status = np.where(late_cancel, "scheduled", status)
    cancel_init = np.where(late_cancel, "", cancel_init)
    cancel_reason = np.where(late_cancel, "", cancel_reason)
    cancel_time = np.where(late_cancel, -1, cancel_time)
    keep = booked <= as_of_sec
    (ep, is_initial, start, booked, offer, request, status, cancel_init, cancel_time,
     cancel_reason) = (a[keep] for a in (ep, is_initial, start, booked, offer, request, status,
                                         cancel_init, cancel_time, cancel_reason))  # fmt: skip
    n = len(ep)

    e_line = line[ep]
    line_names = np.array(names, dtype=object)[e_line]
    pclass = np.empty(n, dtype=object)
    for key, cls in CLASS_OF_LINE.items():
        pclass[line_names == key] = cls
    npmh = line_names == "npmh"
    pclass[npmh] = NPMH_CLASSES[npmh_class[ep[npmh]]]
    sline = np.array([LINES[k][1] for k in names], dtype=object)[e_line]
    vtype = np.where(
        is_initial,
        np.array([LINES[k][2] for k in names], dtype=object)[e_line],
        np.array([LINES[k][3] for k in names], dtype=object)[e_line],
    )
    vtype = np.where(urgent[ep], "URGENT VISIT", vtype)
    kind = np.where(is_initial, "initial", "follow_up").astype(object)
    kind[rng.random(n) < 0.05] = ""
    is_group = ~is_initial & npmh & (rng.random(n) < 0.08)
    modality = rng.choice(np.array(["in_person", "video", "telephone"], dtype=object), n,
                          p=[0.45, 0.45, 0.1])  # fmt: skip
    longer = rng.random(n) < 0.03
    later = np.where(is_initial, chose_later[ep], rng.random(n) < 0.03)
    rec_days = np.where(npmh & (status == "completed"), rng.choice(np.array([7, 14, 28]), n), -1)
    return pa.table(
        {
            "ep": ep + episode_base,
            "patient": patient[ep],
            "clinic": clinic[ep],
            "provider": provider[ep],
            "provider_class": pclass.astype(str),
            "service_line": sline.astype(str),
            "visit_type": vtype.astype(str),
            "appointment_kind": kind.astype(str),
            "urgent": urgent[ep],
            "prior_auth": prior_auth[ep],
            "request": request,
            "booked": booked,
            "offer": offer,
            "start": start,
            "duration": np.where(is_initial, 60, 45),
            "status": status.astype(str),
            "cancel_time": cancel_time,
            "cancel_initiator": cancel_init.astype(str),
            "cancel_reason": cancel_reason.astype(str),
            "modality": modality.astype(str),
            "is_group": is_group,
            "longer": longer,
            "later": later,
            "rec_days": rec_days,
            "oon": rng.random(n) < 0.02,
            "product": np.array(["commercial", "medi_cal", "medicare", "individual"])[product[ep]],
            "birth": birth[ep],
        }
    )


def _ts(col: str) -> str:
    """SQL: seconds since the first day -> 'YYYY-MM-DDTHH:MM:SS-08:00' (blank when < 0)."""
    return (
        f"CASE WHEN {col} < 0 THEN NULL ELSE strftime(first_day + to_seconds({col}), "
        f"'%Y-%m-%dT%H:%M:%S') || CASE WHEN {col}_dst THEN '-07:00' ELSE '-08:00' END END"
    )


def _bool(col: str) -> str:
    return f"CASE WHEN {col} THEN 'true' ELSE 'false' END"


def generate(
    path: Path,
    rows: int,
    *,
    seed: int = 7,
    first: str = "2024-01-01",
    last: str = "2025-12-31",
    as_of: str = "2025-10-31",
    block_rows: int = 1_000_000,
) -> int:
    """Write exactly ``rows`` rows (plus a header) to ``path``; returns the row count."""
    rng = np.random.default_rng(seed)
    first_day = np.datetime64(first)
    n_days = int((np.datetime64(last) - first_day).astype(int)) + 1
    as_of_day = int((np.datetime64(as_of) - first_day).astype(int))
    years = range(first_day.astype(object).year, np.datetime64(last).astype(object).year + 2)
    holidays = np.array(sorted(preset_holidays("federal", years)), dtype="datetime64[D]")
    offsets = _offsets(first_day, n_days + 400)
    n_patients = max(rows // 14, 10)
    rows_per_episode = 3.0  # a first guess; refined from each block
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    written = 0
    episode_base = 0
    with tempfile.TemporaryDirectory(prefix="access-gen-") as tmp, path.open("wb") as out:
        out.write((",".join(COLUMNS) + "\n").encode())
        part = Path(tmp) / "part.csv"
        while written < rows:
            want = min(block_rows, rows - written)
            n_ep = max(int(want / rows_per_episode) + 1, 1)
            table = _block(
                rng, n_ep, episode_base, n_patients, first_day, n_days, as_of_day, holidays
            )
            rows_per_episode = max(table.num_rows / n_ep, 1.0)
            table = table.slice(0, want)
            for col in ("request", "booked", "offer", "start", "cancel_time"):
                days = np.clip(table[col].to_numpy() // 86400, 0, len(offsets) - 1)
                table = table.append_column(f"{col}_dst", pa.array(offsets[days] == 1))
            episode_base += n_ep
            con.register("blk", table)
            con.execute(
                f"""
                COPY (
                  SELECT
                    'A' || lpad(({written} + row_number() OVER (ORDER BY start, ep))::VARCHAR,
                                9, '0') AS appointment_id,
                    'P' || lpad(patient::VARCHAR, 8, '0') AS patient_id,
                    'CL' || lpad(clinic::VARCHAR, 2, '0') AS clinic_id,
                    'PR' || lpad(provider::VARCHAR, 4, '0') AS provider_id,
                    provider_class, service_line, visit_type,
                    NULLIF(appointment_kind, '') AS appointment_kind,
                    CASE WHEN urgent THEN 'urgent' ELSE 'non_urgent' END AS urgency,
                    {_bool("prior_auth")} AS prior_auth_required,
                    {_ts("request")} AS request_datetime,
                    {_ts("booked")} AS booked_datetime,
                    {_ts("offer")} AS first_offered_start,
                    {_ts("start")} AS appointment_start,
                    duration AS duration_min,
                    status,
                    {_ts("cancel_time")} AS cancel_datetime,
                    NULLIF(cancel_initiator, '') AS cancel_initiator,
                    NULLIF(cancel_reason, '') AS cancel_reason,
                    modality,
                    {_bool("is_group")} AS is_group,
                    'E' || lpad(ep::VARCHAR, 8, '0') AS episode_id,
                    {_bool("longer")} AS longer_interval_documented,
                    {_bool("later")} AS patient_requested_later,
                    CASE WHEN rec_days < 0 THEN NULL ELSE rec_days END AS recommended_return_days,
                    {_bool("oon")} AS out_of_network,
                    product AS product_line,
                    birth AS patient_birth_year
                  FROM blk, (SELECT ?::TIMESTAMP AS first_day)
                  ORDER BY start, ep
                ) TO '{part}' (HEADER false, DELIMITER ',')
                """,  # noqa: S608 - SQL from schema constants; values bound or quoted
                [str(first_day)],
            )
            con.unregister("blk")
            with part.open("rb") as chunk:
                shutil.copyfileobj(chunk, out, 1 << 22)
            written += table.num_rows
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    n = generate(args.out, args.rows, seed=args.seed)
    size = args.out.stat().st_size / 1e6
    print(f"wrote {n:,} rows, {size:,.0f} MB, in {time.perf_counter() - began:.1f} s: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
