"""Synthetic canonical appointment rows (access-and-parity.md section 6.1). No Django.

One generator feeds both the benchmark's CSV (``write_csv``; ``benchmarks/access_generate.py``)
and the demo region (``load_appt``: a table ``appt`` with exactly the columns and types that
``extract.load`` gives a checked extract, there a view over compact rows, raw patient ids kept
for the importer's keyed HMAC).

Shapes follow section 10 of the spec loosely: most non-physician MH intakes within 10 business
days but a long tail, follow-up intervals that average around 15 business days under strain
(40 % of MH episodes never have a second visit), some provider cancellations with a rebooked
appointment, no-shows, patient cancellations, future bookings after the cut-off, urgent
requests (30 % needing prior authorisation) with waits in hours, 3 % of requests without a
request date and 15 % whose request time equals the booking time, 5 % of rows with a blank
``appointment_kind`` (derived by the importer). Primary care and specialist lines give parity
its medical comparators.

``Shape`` holds what the demo adds; its defaults reproduce the benchmark's file byte for byte
(the random draws happen in the same order): weighted clinic sizes with patients who stay with
one clinic, no appointment outside clinic hours or on a closure day, and clinics whose
follow-up intervals lengthen from a given day (a special-cause deterioration to find).

Rows are generated in blocks of episodes (flat memory); times are seconds since the first
day's local midnight, written with their UTC offset by the US DST rule of the time zone.
Seeded: the same arguments give the same rows. Synthetic only: no real person is described.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

from .extract import DEFAULT_TZ, VISIT_NEW, _q, drop_appt

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

# Episode lines: share, service line, initial visit type, return visit type.
LINES = {
    "npmh": (0.45, "MH", "NEW THERAPY INTAKE 60", "RETURN THERAPY 45"),
    "psych": (0.10, "MH", "NEW PSYCH EVAL 60", "MED MGMT 30"),
    "sud": (0.05, "SUD", "SUD ASSESSMENT 60", "SUD COUNSELING 45"),
    "pc": (0.25, "PC", "NEW PATIENT 30", "OFFICE VISIT 20"),
    "spec": (0.15, "MS_SPECIALTY", "NEW CONSULT 40", "FOLLOW UP 20"),
}
NAMES = list(LINES)
NPMH, SUD = NAMES.index("npmh"), NAMES.index("sud")
NPMH_CLASSES = ["psychologist", "lcsw", "lmft", "lpcc", "psych_np", "aba"]
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

# Vocabularies of the coded columns (dictionary-encoded: no Python string per row).
PROVIDER_CLASSES = [*NPMH_CLASSES, *CLASS_OF_LINE.values()]
LINE_CLASS = np.array([-1] + [PROVIDER_CLASSES.index(CLASS_OF_LINE[k]) for k in NAMES[1:]])
SERVICE_LINES = list(dict.fromkeys(v[1] for v in LINES.values()))
LINE_SERVICE = np.array([SERVICE_LINES.index(LINES[k][1]) for k in NAMES])
VISIT_TYPES = [t for k in NAMES for t in (LINES[k][2], LINES[k][3])] + ["URGENT VISIT"]
URGENT_VISIT = len(VISIT_TYPES) - 1
KINDS = ["initial", "follow_up"]
STATUSES = ["completed", "no_show", "cancelled", "left_without_seen", "arrived", "checked_in",
            "entered_in_error", "scheduled"]  # fmt: skip
COMPLETED, NO_SHOW, CANCELLED, SCHEDULED = 0, 1, 2, 7
INITIATORS = ["patient", "provider"]
REASONS = ["PATIENT REQUEST", "PROVIDER UNAVAILABLE"]
MODALITIES = ["in_person", "video", "telephone"]
PRODUCTS = ["commercial", "medi_cal", "medicare", "individual"]
TIME_COLUMNS = ("request", "booked", "offer", "start", "cancel_time")

DAY = 86400
OPEN_FROM, OPEN_UNTIL = 8 * 3600, 18 * 3600  # clinic hours, for Shape.open_days_only


@dataclass(frozen=True)
class Shape:
    """What the demo changes; the defaults are the benchmark's extract."""

    clinic_codes: tuple[str, ...] = tuple(f"CL{i:02d}" for i in range(25))
    clinic_weights: tuple[float, ...] | None = None  # relative sizes (None: equal)
    clinic_patients: bool = False  # each patient is seen at one clinic only
    open_days_only: bool = False  # appointments only on open days, 08:00-18:00
    weekmask: str = "1111100"  # open weekdays, Monday first (numpy's busday mask)
    worsening: tuple[int, ...] = ()  # clinic indexes whose follow-ups lengthen
    worsen_from: dt.date | None = None  # from visits on this day on
    worsen_share: float = 0.6  # share of timely follow-ups made late, once fully worse
    worsen_ramp_days: int = 45  # days from the first change to the full share
    id_prefix: str = "A"  # appointment ids: prefix and 9 digits
    # Only appointments from this day on, as an extract of a period cuts into episodes
    # already under way (generate from earlier so the first months are not a warm-up).
    keep_from: dt.date | None = None
    # Rows of equal start and episode (a withdrawn slot moved onto its rebooking) in the
    # order they were generated; the benchmark's file keeps DuckDB's order of such ties, as
    # first published. The typed table (``load_appt``) always uses the stable order.
    stable_order: bool = False


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date  # requests fall on days up to 90 days before this one
    as_of: dt.date  # the extract's cut-off: nothing booked after it exists

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _offsets(first: dt.date, days: int, timezone: str) -> np.ndarray:
    """1 where the day's noon is in daylight saving time (UTC-7 in California), else 0."""
    zone = ZoneInfo(timezone)
    standard = dt.datetime(first.year, 1, 15, 12, tzinfo=zone).utcoffset()
    out = np.zeros(days, dtype=np.int8)
    for i in range(days):
        noon = dt.datetime.combine(first + dt.timedelta(days=i), dt.time(12), tzinfo=zone)
        out[i] = 1 if noon.utcoffset() != standard else 0
    return out


class _Clock:
    """Open days and hours of the clinics (for ``Shape.open_days_only``)."""

    def __init__(self, day0: np.datetime64, weekmask: str, holidays: np.ndarray) -> None:
        self.day0 = day0
        self.cal = np.busdaycalendar(weekmask=weekmask, holidays=holidays)

    def open(self, sec: np.ndarray) -> np.ndarray:
        """The first open instant at or after each time (-1 stays -1). Monotone and idempotent,
        so order between times is kept and an open time is left alone."""
        day, tod = sec // DAY, sec % DAY
        date = self.day0 + day
        is_open = np.is_busday(date, busdaycal=self.cal)
        inside = is_open & (tod >= OPEN_FROM) & (tod < OPEN_UNTIL)
        early = is_open & (tod < OPEN_FROM)
        step = np.where(is_open, 1, 0)  # after hours: the next open day; closed: the first
        nxt = np.busday_offset(date, step, roll="forward", busdaycal=self.cal)
        later = (nxt - self.day0).astype("int64") * DAY + OPEN_FROM
        out = np.where(inside, sec, np.where(early, day * DAY + OPEN_FROM, later))
        return np.where(sec < 0, sec, out)


def _dict(codes: np.ndarray, names: Sequence[str]) -> pa.DictionaryArray:
    """A dictionary-encoded text column (code -1: null)."""
    idx = pa.array(codes.astype(np.int8 if len(names) < 128 else np.int32), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(idx, pa.array(list(names)))


def _block(
    rng: np.random.Generator,
    n_episodes: int,
    episode_base: int,
    n_patients: int,
    first_day: np.datetime64,
    n_days: int,
    as_of_day: int,
    holidays: np.ndarray,
    shape: Shape,
) -> pa.Table:
    """Rows for ``n_episodes`` episodes; times are seconds since ``first_day`` local midnight."""
    wm = shape.weekmask
    shares = np.array([LINES[k][0] for k in NAMES])
    line = rng.choice(len(NAMES), size=n_episodes, p=shares)
    patient = rng.integers(0, n_patients, size=n_episodes)
    n_clinics = len(shape.clinic_codes)
    if shape.clinic_weights is None:
        clinic = rng.integers(0, n_clinics, size=n_episodes)
    else:
        weights = np.asarray(shape.clinic_weights, dtype=float)
        clinic = rng.choice(n_clinics, size=n_episodes, p=weights / weights.sum())
    if shape.clinic_patients:  # a clinic's patients come back to it
        patient = (patient // n_clinics) * n_clinics + clinic
    provider = clinic * 40 + rng.integers(0, 40, size=n_episodes)
    product = rng.choice(4, size=n_episodes, p=[0.6, 0.3, 0.07, 0.03])
    birth = rng.integers(1940, 2016, size=n_episodes)
    urgent = rng.random(n_episodes) < 0.05
    prior_auth = urgent & (rng.random(n_episodes) < 0.3)
    npmh_class = rng.choice(len(NPMH_CLASSES), size=n_episodes, p=NPMH_P)
    clock = _Clock(first_day, wm, holidays) if shape.open_days_only else None

    # Request: a day in the period (leaving 90 days of runway), 08:00-17:00; 5 % at weekends.
    req_day = rng.integers(0, max(n_days - 90, 1), size=n_episodes)
    day0 = first_day.astype("datetime64[D]")
    req_date = day0 + req_day
    weekend = np.is_busday(req_date, weekmask="0000011")
    move = ~weekend & (rng.random(n_episodes) < 0.05)
    shift = (5 - (req_date.astype("datetime64[D]").view("int64") - 4) % 7) % 7
    req_day = np.where(move, req_day + shift, req_day)
    req_date = day0 + req_day
    req_sec = req_day * DAY + rng.integers(8 * 3600, 17 * 3600, size=n_episodes)
    # Booking: minutes to 2 days after the request; 15 % at exactly the request time.
    lag = rng.integers(300, 2 * DAY, size=n_episodes)
    lag[rng.random(n_episodes) < 0.15] = 0
    booked_sec = req_sec + lag

    # Initial wait in business days (non-urgent) or hours (urgent).
    n_std = np.array([INITIAL_N[k] for k in NAMES])[line]
    ok = rng.random(n_episodes) < np.array([INITIAL_OK[k] for k in NAMES])[line]
    wait_bd = np.where(ok, rng.integers(0, n_std + 1), n_std + rng.integers(1, 25, n_episodes))
    start_date = np.busday_offset(req_date, wait_bd, roll="forward", weekmask=wm,
                                  holidays=holidays)  # fmt: skip
    start_date = np.maximum(start_date, (booked_sec // DAY) + day0)
    start_sec = (start_date - day0).astype("int64") * DAY + rng.choice(
        np.arange(8, 17) * 3600, size=n_episodes
    )
    urgent_hours = rng.exponential(36, size=n_episodes).astype("int64") * 3600 + 3600
    start_sec = np.where(urgent, req_sec + urgent_hours, start_sec)
    start_sec = np.maximum(start_sec, booked_sec + 600)
    if clock is not None:
        start_sec = clock.open(start_sec)
    # First offer tracked for 40 % of requests; earlier than booked when the patient chose.
    tracked = rng.random(n_episodes) < 0.4
    chose_later = tracked & ~ok & (rng.random(n_episodes) < 0.4)
    offer_sec = np.where(
        chose_later,
        np.maximum(start_sec - rng.integers(3, 15, n_episodes) * DAY, booked_sec + 3600),
        start_sec,
    )
    no_request = rng.random(n_episodes) < 0.03

    # Follow-ups per episode.
    follow_mean = np.array([FOLLOW[k][0] for k in NAMES])[line]
    n_follow = np.where(
        rng.random(n_episodes) < 0.4, 0, rng.geometric(1.0 / np.maximum(follow_mean, 1.0))
    )
    n_follow = np.minimum(np.where(urgent, 0, n_follow), 40)
    total_follow = int(n_follow.sum())
    f_ep = np.repeat(np.arange(n_episodes), n_follow)
    f_line = line[f_ep]
    short = rng.random(total_follow) < np.array([FOLLOW[k][1] for k in NAMES])[f_line]
    low_s = np.array([FOLLOW[k][2][0] for k in NAMES])[f_line]
    high_s = np.array([FOLLOW[k][2][1] for k in NAMES])[f_line]
    low_l = np.array([FOLLOW[k][3][0] for k in NAMES])[f_line]
    high_l = np.array([FOLLOW[k][3][1] for k in NAMES])[f_line]
    lo = np.where(short, low_s, low_l)
    hi = np.where(short, high_s, high_l)
    interval = rng.integers(lo, hi + 1)
    ep_first = np.concatenate(([0], np.cumsum(n_follow)[:-1]))
    anchor = (start_sec[f_ep] // DAY).astype("int64")

    def follow_dates(interval: np.ndarray) -> np.ndarray:
        # Cumulative business-day offsets from the episode's first appointment.
        cum = np.cumsum(interval)
        cum_before = np.concatenate(([0], cum))[ep_first]
        offset_bd = cum - np.repeat(cum_before, n_follow)
        return np.busday_offset(day0 + anchor, offset_bd, roll="forward", weekmask=wm,
                                holidays=holidays)  # fmt: skip

    f_date = follow_dates(interval)
    first_of_ep = np.zeros(total_follow, dtype=bool)
    first_of_ep[ep_first[n_follow > 0]] = True
    if shape.worsening and shape.worsen_from is not None and total_follow:
        # Timely follow-ups of the worsening clinics' MH/SUD therapy become late, more of
        # them as time goes on, counted from the visit that starts the clock.
        prev_day = np.where(
            first_of_ep, anchor, np.concatenate(([0], (f_date - day0).astype("int64")[:-1]))
        )
        since = prev_day - (np.datetime64(shape.worsen_from) - day0).astype("int64")
        share = shape.worsen_share * np.clip(since / max(shape.worsen_ramp_days, 1), 0.0, 1.0)
        hit = (
            np.isin(clinic[f_ep], shape.worsening)
            & ((f_line == NPMH) | (f_line == SUD))
            & short
            & (since >= 0)
        )
        flip = hit & (rng.random(total_follow) < share)
        interval = np.where(flip, rng.integers(low_l, high_l + 1), interval)
        f_date = follow_dates(interval)
    f_start = (f_date - day0).astype("int64") * DAY + (start_sec[f_ep] % DAY)
    # Booked at the previous visit (or a few days after it).
    prev_start = np.concatenate(([0], f_start[:-1]))
    prev_start = np.where(first_of_ep, start_sec[f_ep], prev_start)
    f_booked = prev_start + rng.integers(1800, 4 * DAY, size=total_follow)
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
    as_of_sec = as_of_day * DAY + DAY - 1
    roll = rng.random(n)
    status = np.zeros(n, dtype=np.int8)  # completed
    status[roll > 0.86] = NO_SHOW
    status[roll > 0.91] = CANCELLED  # by the patient
    status[(roll > 0.95) & (roll <= 0.955)] = 3  # left_without_seen
    status[(roll > 0.955) & (roll <= 0.965)] = 4  # arrived
    status[(roll > 0.965) & (roll <= 0.97)] = 5  # checked_in
    status[(roll > 0.97) & (roll <= 0.973)] = 6  # entered_in_error
    future = start > as_of_sec
    status[future & (status != CANCELLED)] = SCHEDULED
    cancel_init = np.where(status == CANCELLED, 0, -1)  # 0: patient, 1: provider
    cancel_time = np.where(
        status == CANCELLED,
        np.maximum(booked + 3600, start - rng.integers(3600, 5 * DAY, n)),
        -1,
    )
    # Provider cancellations: an extra, earlier slot withdrawn by the provider (3 %).
    withdrawn = (rng.random(n) < 0.03) & (start > 8 * DAY)  # keep siblings in the period
    w_idx = np.flatnonzero(withdrawn)
    w_start = start[w_idx] - rng.integers(1, 6, size=len(w_idx)) * DAY
    if clock is not None:
        w_start = clock.open(w_start)
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
    status = np.concatenate([status, np.full(len(w_idx), CANCELLED, dtype=np.int8)])
    cancel_init = np.concatenate([cancel_init, np.ones(len(w_idx), dtype=cancel_init.dtype)])
    cancel_time = np.concatenate([cancel_time, w_cancel])
    n = len(ep)
    # The request and booking of a withdrawn slot must not come after it.
    booked = np.where(request >= 0, np.maximum(booked, request), booked)
    start = np.maximum(start, booked + 600)
    cancel_time = np.where(cancel_time >= 0, np.maximum(cancel_time, booked), -1)
    if clock is not None:
        start = clock.open(start)
        offer = np.where(offer >= 0, np.minimum(clock.open(np.maximum(offer, booked)), start), -1)
    else:
        offer = np.where(offer >= 0, np.minimum(np.maximum(offer, booked), start), -1)

    # The extract is taken at the cut-off: nothing booked after it exists yet, and a later
    # cancellation has not happened yet.
    late_cancel = (cancel_time > as_of_sec) & (status == CANCELLED)
    status = np.where(late_cancel, SCHEDULED, status)
    cancel_init = np.where(late_cancel, -1, cancel_init)
    cancel_time = np.where(late_cancel, -1, cancel_time)
    keep = booked <= as_of_sec
    if shape.keep_from is not None:
        keep &= start >= (np.datetime64(shape.keep_from) - day0).astype("int64") * DAY
    (ep, is_initial, start, booked, offer, request, status, cancel_init, cancel_time) = (
        a[keep] for a in (ep, is_initial, start, booked, offer, request, status, cancel_init,
                          cancel_time)
    )  # fmt: skip
    n = len(ep)

    e_line = line[ep]
    npmh = e_line == NPMH
    pclass = np.where(npmh, npmh_class[ep], LINE_CLASS[e_line])
    vtype = np.where(is_initial, 2 * e_line, 2 * e_line + 1)
    vtype = np.where(urgent[ep], URGENT_VISIT, vtype)
    kind = np.where(is_initial, 0, 1)
    kind[rng.random(n) < 0.05] = -1  # blank: derived by the importer
    is_group = ~is_initial & npmh & (rng.random(n) < 0.08)
    modality = rng.choice(len(MODALITIES), n, p=[0.45, 0.45, 0.1])
    longer = rng.random(n) < 0.03
    later = np.where(is_initial, chose_later[ep], rng.random(n) < 0.03)
    rec_days = np.where(npmh & (status == COMPLETED), rng.choice(np.array([7, 14, 28]), n), -1)
    return pa.table(
        {
            "ep": ep + episode_base,
            "patient": patient[ep],
            "clinic": _dict(clinic[ep], shape.clinic_codes),
            "provider": provider[ep],
            "provider_class": _dict(pclass, PROVIDER_CLASSES),
            "service_line": _dict(LINE_SERVICE[e_line], SERVICE_LINES),
            "visit_type": _dict(vtype, VISIT_TYPES),
            "appointment_kind": _dict(kind, KINDS),
            "urgent": urgent[ep],
            "prior_auth": prior_auth[ep],
            "request": request,
            "booked": booked,
            "offer": offer,
            "start": start,
            "duration": np.where(is_initial, 60, 45),
            "status": _dict(status, STATUSES),
            "cancel_time": cancel_time,
            "cancel_initiator": _dict(cancel_init, INITIATORS),
            "cancel_reason": _dict(cancel_init, REASONS),
            "modality": _dict(modality, MODALITIES),
            "is_group": is_group,
            "longer": longer,
            "later": later,
            "rec_days": rec_days,
            "oon": rng.random(n) < 0.02,
            "product": _dict(product[ep], PRODUCTS),
            "birth": birth[ep],
        }
    )


@dataclass
class Block:
    table: pa.Table  # rows of ``_block``; ``<time>_dst``, ``<time>_utc``, ``seq`` (1, 2, ...)
    row_base: int  # rows of earlier blocks: appointment ids continue from here


def blocks(
    rows: int,
    *,
    seed: int,
    period: Period,
    holidays: Sequence[dt.date],
    shape: Shape | None = None,
    block_rows: int = 1_000_000,
    timezone: str = DEFAULT_TZ,
) -> Iterator[Block]:
    """Exactly ``rows`` rows in blocks of at most ``block_rows`` (each sliced from whole
    episodes, so a block's last episode may be cut short)."""
    shape = shape or Shape()
    rng = np.random.default_rng(seed)
    first_day = np.datetime64(period.first)
    n_days = period.days
    as_of_day = (period.as_of - period.first).days
    hol = np.array(sorted(holidays), dtype="datetime64[D]")
    offsets = _offsets(period.first, n_days + 400, timezone)
    # The UTC time of the first day's local midnight at the standard offset.
    zone = ZoneInfo(timezone)
    standard = dt.datetime(period.first.year, 1, 15, 12, tzinfo=zone).utcoffset()
    base_epoch = int(first_day.astype("datetime64[s]").astype("int64")) - int(
        standard.total_seconds() if standard is not None else 0
    )
    n_patients = max(rows // 14, 10)
    rows_per_episode = 3.0  # a first guess; refined from each block
    written = 0
    episode_base = 0
    while written < rows:
        want = min(block_rows, rows - written)
        n_ep = max(int(want / rows_per_episode) + 1, 1)
        table = _block(
            rng, n_ep, episode_base, n_patients, first_day, n_days, as_of_day, hol, shape
        )
        rows_per_episode = max(table.num_rows / n_ep, 1.0)
        table = table.slice(0, want)
        # Position in (start, episode, generation) order: the rows' order in the file and
        # their appointment ids, the same on every run (a stable sort; equal start and
        # episode happen when a withdrawn slot is moved to the rebooked one's open hour).
        order = np.lexsort((table["ep"].to_numpy(), table["start"].to_numpy()))
        seq = np.empty(len(order), dtype=np.int64)
        seq[order] = np.arange(1, len(order) + 1)
        table = table.append_column("seq", pa.array(seq))
        for col in TIME_COLUMNS:
            sec = table[col].to_numpy()
            dst = offsets[np.clip(sec // DAY, 0, len(offsets) - 1)] == 1
            table = table.append_column(f"{col}_dst", pa.array(dst))
            utc = (base_epoch + sec - dst.astype("int64") * 3600) * 1_000_000
            table = table.append_column(
                f"{col}_utc", pa.array(utc, type=pa.timestamp("us", tz="UTC"), mask=sec < 0)
            )
        episode_base += n_ep
        yield Block(table, written)
        written += table.num_rows


# -- the canonical CSV (the benchmark) -----------------------------------------------------


def _ts(col: str) -> str:
    """SQL: seconds since the first day -> 'YYYY-MM-DDTHH:MM:SS-08:00' (blank when < 0)."""
    return (
        f"CASE WHEN {col} < 0 THEN NULL ELSE strftime(first_day + to_seconds({col}), "
        f"'%Y-%m-%dT%H:%M:%S') || CASE WHEN {col}_dst THEN dst ELSE std END END"
    )


def _bool(col: str) -> str:
    return f"CASE WHEN {col} THEN 'true' ELSE 'false' END"


def _appointment_id(shape: Shape, row_base: int, position: str) -> str:
    return f"{_q(shape.id_prefix)} || lpad(({int(row_base)} + {position})::VARCHAR, 9, '0')"


_PATIENT_ID = "'P' || lpad(patient::VARCHAR, 8, '0')"
_EPISODE_ID = "'E' || lpad(ep::VARCHAR, 8, '0')"


def _offset_text(timezone: str, first: dt.date, dst: bool) -> str:
    zone = ZoneInfo(timezone)
    month = 7 if dst else 1
    offset = dt.datetime(first.year, month, 15, 12, tzinfo=zone).utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def csv_select(shape: Shape, row_base: int) -> str:
    """SELECT of the canonical columns, as text, over the block table ``blk``."""
    order = "seq" if shape.stable_order else "start, ep"
    position = "seq" if shape.stable_order else f"row_number() OVER (ORDER BY {order})"
    return f"""
      SELECT
        {_appointment_id(shape, row_base, position)} AS appointment_id,
        {_PATIENT_ID} AS patient_id,
        clinic AS clinic_id,
        'PR' || lpad(provider::VARCHAR, 4, '0') AS provider_id,
        provider_class, service_line, visit_type,
        appointment_kind,
        CASE WHEN urgent THEN 'urgent' ELSE 'non_urgent' END AS urgency,
        {_bool("prior_auth")} AS prior_auth_required,
        {_ts("request")} AS request_datetime,
        {_ts("booked")} AS booked_datetime,
        {_ts("offer")} AS first_offered_start,
        {_ts("start")} AS appointment_start,
        duration AS duration_min,
        status,
        {_ts("cancel_time")} AS cancel_datetime,
        cancel_initiator,
        cancel_reason,
        modality,
        {_bool("is_group")} AS is_group,
        {_EPISODE_ID} AS episode_id,
        {_bool("longer")} AS longer_interval_documented,
        {_bool("later")} AS patient_requested_later,
        CASE WHEN rec_days < 0 THEN NULL ELSE rec_days END AS recommended_return_days,
        {_bool("oon")} AS out_of_network,
        product AS product_line,
        birth AS patient_birth_year
      FROM blk, (SELECT $first_day::TIMESTAMP AS first_day, $std AS std, $dst AS dst)
      ORDER BY {order}
    """  # noqa: S608 - SQL from schema constants; values bound or quoted


def write_csv(
    path: Path,
    rows: int,
    *,
    seed: int,
    period: Period,
    holidays: Sequence[dt.date],
    shape: Shape | None = None,
    block_rows: int = 1_000_000,
    timezone: str = DEFAULT_TZ,
) -> int:
    """Write exactly ``rows`` rows (plus a header) to ``path``; returns the row count.

    Each block is sorted by appointment start, as an EHR extract per period would be.
    """
    shape = shape or Shape()
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    params = {
        "first_day": str(np.datetime64(period.first)),
        "std": _offset_text(timezone, period.first, dst=False),
        "dst": _offset_text(timezone, period.first, dst=True),
    }
    written = 0
    try:
        with tempfile.TemporaryDirectory(prefix="access-gen-") as tmp, path.open("wb") as out:
            out.write((",".join(COLUMNS) + "\n").encode())
            part = Path(tmp) / "part.csv"
            for block in blocks(
                rows,
                seed=seed,
                period=period,
                holidays=holidays,
                shape=shape,
                block_rows=block_rows,
                timezone=timezone,
            ):
                con.register("blk", block.table)
                con.execute(
                    f"COPY ({csv_select(shape, block.row_base)}) TO {_q(str(part))} "
                    "(HEADER false, DELIMITER ',')",
                    params,
                )
                con.unregister("blk")
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out, 1 << 22)
                written += block.table.num_rows
    finally:
        con.close()
    return written


# -- the typed table (the demo) ------------------------------------------------------------


def _at(col: str) -> str:
    return f"{col}_utc"


def appt_select(shape: Shape, row_base: int) -> str:
    """SELECT over ``blk`` of the typed rows ``extract.load(..., keep_patient_id=True)`` makes
    of the same rows written as CSV (the test compares the two)."""
    kind = "appointment_kind::VARCHAR"
    return f"""
      SELECT
        {_appointment_id(shape, row_base, "seq")} AS appointment_id,
        {_PATIENT_ID} AS patient_key,
        clinic::VARCHAR AS clinic_id,
        provider_class::VARCHAR AS provider_class,
        service_line::VARCHAR AS service_line,
        {kind} AS kind,
        CASE WHEN {kind} IS NULL
             THEN coalesce(regexp_matches(visit_type::VARCHAR, {_q(VISIT_NEW)}), false)
             ELSE false END AS visit_new,
        urgent,
        prior_auth,
        {_at("request")} AS req_ts, {_at("request")}::DATE AS req_day, false AS req_dateonly,
        {_at("booked")}::DATE AS booked_day,
        coalesce({_at("request")} = {_at("booked")}, false) AS req_eq_booked,
        {_at("offer")} AS offer_ts, {_at("offer")}::DATE AS offer_day, false AS offer_dateonly,
        {_at("start")} AS start_ts, {_at("start")}::DATE AS start_day,
        false AS start_dateonly,
        status::VARCHAR AS status,
        cancel_initiator::VARCHAR AS cancel_initiator,
        {_at("cancel_time")}::DATE AS cancel_day,
        is_group,
        modality::VARCHAR AS modality,
        hash({_EPISODE_ID}) AS episode_key,
        hash({_EPISODE_ID}) AS request_key,  -- as a loaded file's (it has no referrals)
        longer,
        later AS prl,
        CASE WHEN rec_days < 0 THEN NULL ELSE rec_days END::SMALLINT AS rec_days,
        product::VARCHAR AS product_line,
        birth::SMALLINT AS birth_year
      FROM blk
    """  # noqa: S608 - SQL from schema constants; values quoted


def load_appt(
    con: duckdb.DuckDBPyConnection,
    rows: int,
    *,
    seed: int,
    period: Period,
    holidays: Sequence[dt.date],
    shape: Shape | None = None,
    block_rows: int = 500_000,
    timezone: str = DEFAULT_TZ,
) -> int:
    """Create the table ``appt`` in ``con`` (its TimeZone set to ``timezone``) with ``rows``
    generated rows, typed as a checked extract with raw patient ids (for
    ``ingest.stage_incoming``). Returns the row count."""
    shape = shape or Shape()
    created = False
    written = 0
    for block in blocks(
        rows,
        seed=seed,
        period=period,
        holidays=holidays,
        shape=shape,
        block_rows=block_rows,
        timezone=timezone,
    ):
        con.register("blk", block.table)
        select = appt_select(shape, block.row_base)
        if created:
            con.execute(f"INSERT INTO appt {select}")
        else:
            drop_appt(con)  # a load's view, say
            con.execute(f"CREATE TABLE appt AS {select}")
            created = True
        con.unregister("blk")
        written += block.table.num_rows
    return written
