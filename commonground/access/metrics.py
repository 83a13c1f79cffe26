"""Timely-access metrics over a typed appointment table. No Django; DuckDB does the work.

Input: a DuckDB relation ``appt`` with the columns that ``extract.load`` produces (a table
checked from a CSV) or that ``extract.parquet_view`` exposes (stored Parquet partitions).
Rules: ``shared/docs/access-and-parity.md`` sections 2 and 3. Business days come from a
small per-day table (``build_calendar_table``: index and deadlines under the chosen and the
other calendar), so every clock is a join and a subtraction.

Measured units (one row each in the ``units`` view; ``UNIT_COLUMNS`` is the CSV layout):

* ``initial_non_urgent_mh`` (non-physician MH/SUD, 10 business days), ``initial_psychiatry``
  (15), ``initial_primary_care`` (10) and ``initial_specialist`` (15): one unit per request
  for a new non-urgent episode. Rows of one request share ``referral_id``, else
  ``episode_id``, else the request date-time; the clock starts at the earliest request
  date-time and stops at the earliest offer: ``first_offered_start`` when tracked, otherwise
  the earliest booked appointment of the request (labelled ``booked_proxy``), counting
  patient cancellations and no-shows as offered and excluding appointments cancelled by the
  provider, clinic or system (or with no initiator): a withdrawn offer does not meet the
  standard.
* ``follow_up_sb221``: one unit per attended non-urgent visit with a non-physician MH/SUD
  provider; the clock stops at the patient's next offered appointment in the same service
  line (any provider; patient cancellations and no-shows count as offered).
* ``urgent``: one unit per urgent request (any service line): clock hours to the earliest
  offer, 48 h (96 h with prior authorisation); calendar days (2 or 4) when either side has
  no time of day (``precision = date``).

Statuses: compliant, noncompliant, exception (longer wait documented as not detrimental),
patient_preference (the patient asked for a later date; only where offers are not tracked),
pending (no offer yet and the cut-off is on or before the deadline: censored),
unknown_request_date, not_applicable (``status_detail``: before_sb221, episode_ended,
no_follow_up_scheduled).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import duckdb

from ._db import drop_relations, one_row, scalar
from ._db import in_list as _in
from .calendars import CalendarVersion, day_index
from .closures import NONE as NO_CLOSURES
from .closures import Closures
from .extract import ATTENDED, NPMH_CLASSES, drop_appt

SB221_EFFECTIVE = dt.date(2022, 7, 1)
NEW_EPISODE_LOOKBACK_DAYS = 180
ACTIVE_CONTACT_DAYS = 90

INITIAL_METRICS: dict[str, tuple[tuple[str, ...], int]] = {
    "initial_non_urgent_mh": (NPMH_CLASSES, 10),
    "initial_psychiatry": (("psychiatrist",), 15),
    "initial_primary_care": (("pcp",), 10),
    "initial_specialist": (("specialist_md",), 15),
}
FOLLOW_UP = "follow_up_sb221"
URGENT = "urgent"
METRICS = (*INITIAL_METRICS, FOLLOW_UP, URGENT)
STATUSES = (
    "compliant",
    "noncompliant",
    "exception",
    "patient_preference",
    "pending",
    "unknown_request_date",
    "not_applicable",
)
UNIT_COLUMNS = (
    "metric",
    "start_appointment_id",
    "start_date",
    "stop_appointment_id",
    "stop_date",
    "business_days",
    "hours",
    "deadline",
    "status",
    "status_detail",
    "censored",
    "clock_stop",
    "precision",
    "calendar",
    "status_other_calendar",
    "business_days_other_calendar",
    "clinic_id",
    "service_line",
    "provider_class",
    "product_line",
    "is_group",
)
# What the summaries read (``summarise``, ``data_quality``, ``parity``): table
# ``unit_summary``.
SUMMARY_COLUMNS = (
    "metric",
    "start_date",
    "business_days",
    "hours",
    "status",
    "status_detail",
    "censored",
    "clock_stop",
    "precision",
    "status_other_calendar",
    "clinic_id",
    "is_group",
    "request_equals_booking",
)


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


DETAILS = ("before_sb221", "episode_ended", "no_follow_up_scheduled")
CLOCK_STOPS = ("first_offered", "booked_proxy", "next_appointment")
PRECISIONS = ("date", "datetime")  # of an urgent clock: a time of day on both ends, or not


def _enum(values: Iterable[str]) -> str:
    return "ENUM " + _in(values)


def _typed(values: Sequence[str]) -> dict[str, str]:
    """Each value as a literal of the enum of ``values``: a CASE of these yields the enum
    itself, where a CASE of text would be cast value by value (nine million units)."""
    enum = _enum(values)
    return {value: f"{_q(value)}::{enum}" for value in values}


ST = _typed(STATUSES)
DETAIL = _typed(DETAILS)
CLOCK_STOP = _typed(CLOCK_STOPS)
PRECISION = _typed(PRECISIONS)


WITHDRAWN = "(status = 'cancelled' AND coalesce(cancel_initiator::VARCHAR, '') <> 'patient')"
# A requested row (no appointment yet) is no offer: it only starts a request's clock.
OFFER = f"(status NOT IN ('entered_in_error', 'requested') AND NOT {WITHDRAWN})"
IS_ATTENDED = f"(status IN {_in(ATTENDED)})"


def _metric_case() -> str:
    parts = [
        f"WHEN provider_class IN {_in(classes)} THEN {_q(name)}"
        for name, (classes, _) in INITIAL_METRICS.items()
    ]
    return "CASE " + " ".join(parts) + " END"


@dataclass(frozen=True)
class Options:
    calendar: CalendarVersion
    as_of: dt.date
    alternate: CalendarVersion | None = None


def build_calendar_table(
    con: duckdb.DuckDBPyConnection,
    calendar: CalendarVersion,
    alternate: CalendarVersion | None,
    first: dt.date,
    last: dt.date,
    closures: Closures = NO_CLOSURES,
) -> None:
    """Table ``cal``: per calendar key and day, the business-day index and the 10 and 15-day
    deadlines under both presets. Key ``''`` is the preset alone; a clinic with closure days
    has its own key (its code), the preset less those days."""
    columns: dict[str, list[object]] = {
        name: [] for name in ("k", "d", "i_p", "dl10_p", "dl15_p", "i_a", "dl10_a", "dl15_a")
    }

    def days(values: object) -> list[dt.date]:
        return list(values.astype("datetime64[D]").astype(object))  # type: ignore[attr-defined]

    for key in ["", *closures.clinics]:
        closed = closures.of(key) if key else frozenset()
        primary = day_index(calendar, first, last, closed)
        other = day_index(alternate, first, last, closed) if alternate is not None else None
        n = len(primary.days)
        blank: list[object] = [None] * n
        columns["k"] += [key] * n
        columns["d"] += days(primary.days)
        columns["i_p"] += primary.index.tolist()
        columns["dl10_p"] += days(primary.deadlines[10])
        columns["dl15_p"] += days(primary.deadlines[15])
        columns["i_a"] += other.index.tolist() if other else blank
        columns["dl10_a"] += days(other.deadlines[10]) if other else blank
        columns["dl15_a"] += days(other.deadlines[15]) if other else blank
    con.execute(
        """
        CREATE OR REPLACE TABLE cal AS
        SELECT unnest($k::VARCHAR[]) AS k, unnest($d::DATE[]) AS d,
               unnest($i_p::INTEGER[]) AS i_p,
               unnest($dl10_p::DATE[]) AS dl10_p, unnest($dl15_p::DATE[]) AS dl15_p,
               unnest($i_a::INTEGER[]) AS i_a,
               unnest($dl10_a::DATE[]) AS dl10_a, unnest($dl15_a::DATE[]) AS dl15_a
        """,
        columns,
    )


@dataclass(frozen=True)
class _CalendarKeys:
    """How the units find their clinic's rows of ``cal``, and the as-of day's index there."""

    index: dict[str, tuple[int, int | None]]  # key -> as-of index (preset, other preset)

    def key(self, clinic: str) -> str:
        """The ``cal`` key of a row's clinic code column: its own, or the preset's ''."""
        own = [k for k in self.index if k]
        if not own:
            return "''"
        return f"CASE WHEN {clinic} IN ({', '.join(_q(k) for k in own)}) THEN {clinic} ELSE '' END"

    def as_of(self, side: str, clinic: str) -> str:
        """The as-of index under one preset (``p`` or ``a``) for a row's clinic."""
        values = {k: (p if side == "p" else a) for k, (p, a) in self.index.items()}
        default = values[""]
        if default is None:
            return "NULL"
        own = {k: v for k, v in values.items() if k and v != default}
        if not own:
            return str(default)
        cases = " ".join(f"WHEN {_q(k)} THEN {v}" for k, v in own.items())
        return f"CASE {clinic} {cases} ELSE {default} END"


def _calendar_keys(con: duckdb.DuckDBPyConnection, day: dt.date) -> _CalendarKeys:
    rows = con.execute("SELECT k, i_p, i_a FROM cal WHERE d = ? ORDER BY k", [day]).fetchall()
    if not rows or rows[0][0] != "":
        raise ValueError(f"{day} is outside the calendar table")
    return _CalendarKeys(
        {str(k): (int(p), (int(a) if a is not None else None)) for k, p, a in rows}
    )


# One request's columns: (name, aggregate over its rows, the same for a request of one row).
# ``arg_min`` ignores rows whose key or value is NULL, hence the CASEs of the one-row form;
# CASE WHEN offer ... makes the offer columns pick among offers only.
_REQUEST_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("r_ts", "min(req_ts)", "req_ts"),
    ("r_day", "min(req_day)", "req_day"),
    (
        "r_dateonly",
        "arg_min(req_dateonly, req_ts)",
        "CASE WHEN req_ts IS NOT NULL THEN req_dateonly END",
    ),
    ("r_eq_booked", "bool_or(req_eq_booked)", "req_eq_booked"),
    (
        "start_id",
        "coalesce(arg_min(appointment_id, start_ts), arg_min(appointment_id, req_ts))",
        "CASE WHEN start_ts IS NOT NULL OR req_ts IS NOT NULL THEN appointment_id END",
    ),
    ("fo_ts", "min(CASE WHEN offer THEN offer_ts END)", "CASE WHEN offer THEN offer_ts END"),
    (
        "fo_id",
        "arg_min(appointment_id, CASE WHEN offer THEN offer_ts END)",
        "CASE WHEN offer AND offer_ts IS NOT NULL THEN appointment_id END",
    ),
    ("fo_day", "min(CASE WHEN offer THEN offer_day END)", "CASE WHEN offer THEN offer_day END"),
    (
        "fo_dateonly",
        "arg_min(offer_dateonly, CASE WHEN offer THEN offer_ts END)",
        "CASE WHEN offer AND offer_ts IS NOT NULL THEN offer_dateonly END",
    ),
    ("bk_ts", "min(CASE WHEN offer THEN start_ts END)", "CASE WHEN offer THEN start_ts END"),
    (
        "bk_id",
        "arg_min(appointment_id, CASE WHEN offer THEN start_ts END)",
        "CASE WHEN offer AND start_ts IS NOT NULL THEN appointment_id END",
    ),
    ("bk_day", "min(CASE WHEN offer THEN start_day END)", "CASE WHEN offer THEN start_day END"),
    (
        "bk_dateonly",
        "arg_min(start_dateonly, CASE WHEN offer THEN start_ts END)",
        "CASE WHEN offer AND start_ts IS NOT NULL THEN start_dateonly END",
    ),
    ("prl", "coalesce(bool_or(offer AND prl), false)", "coalesce(offer AND prl, false)"),
    ("longer", "coalesce(bool_or(longer), false)", "coalesce(longer, false)"),
    ("prior_auth", "coalesce(bool_or(prior_auth), false)", "coalesce(prior_auth, false)"),
    ("clinic_id", "min(clinic_id)", "clinic_id"),
    ("service_line", "min(service_line)", "service_line"),
    ("provider_class", "min(provider_class)", "provider_class"),
    ("product_line", "min(product_line)", "product_line"),
    ("modality", "min(modality)", "modality"),
)


# The columns of ``req_rows`` the request aggregates (``_REQUEST_COLUMNS``) read.
_REQUEST_ROW_COLUMNS = (
    "appointment_id", "req_ts", "req_day", "req_dateonly", "req_eq_booked", "offer",
    "offer_ts", "offer_day", "offer_dateonly", "start_ts", "start_day", "start_dateonly",
    "prl", "longer", "prior_auth", "clinic_id", "service_line", "provider_class",
    "product_line", "modality",
)  # fmt: skip


def _request_columns(*, aggregate: bool) -> str:
    return ", ".join(
        f"{many if aggregate else one} AS {name}" for name, many, one in _REQUEST_COLUMNS
    )


def compute_units(
    con: duckdb.DuckDBPyConnection,
    options: Options,
    *,
    drop_source: bool = False,
    keep_units: bool = True,
) -> None:
    """Build the units (the view ``units`` over the table ``units_t``) from ``appt``.

    One window pass (each patient's offers per service line in start order) gives the
    follow-ups and the history that derives blank appointment kinds; one aggregate pass gives
    the requests. The calendar table must cover every date of ``appt`` and
    ``options.as_of`` (``build_calendar_table``). ``drop_source`` drops ``appt`` (and the
    rows under it) once it is no longer needed: before the requests are grouped (less to
    spill to disk).

    The summaries (``summarise``, ``data_quality``, ``parity``) read ``unit_summary``, the
    columns they need. Without ``keep_units`` only that table is built: no ``units`` (and
    no identifiers or deadlines) for a check that writes no unit rows.
    """
    as_of = options.as_of
    keys = _calendar_keys(con, as_of)
    need_kinds = bool(scalar(con, "SELECT count(*) FROM appt WHERE kind IS NULL"))
    lookback = NEW_EPISODE_LOOKBACK_DAYS
    # The day of the last attended visit before the row. Start days never decrease in the
    # window's order, so this is the latest of them: the lag over non-NULL values finds it
    # without the running maximum's frame (1.5 s less at ten million rows, same rows).
    prev_att = (
        f"lag(CASE WHEN {IS_ATTENDED} THEN start_day END IGNORE NULLS) OVER w"
        if need_kinds
        else "NULL::DATE"
    )
    # Follow-ups need every MH/SUD offer; other lines only where a blank kind is derived
    # (the offers of those patients and lines: a smaller sort).
    derive_lines = (
        f"SELECT patient_key, service_line FROM appt WHERE kind IS NULL AND {OFFER} "  # noqa: S608 - SQL from schema constants
        "AND service_line NOT IN ('MH', 'SUD')"
    )
    line_filter = (
        f"AND (service_line IN ('MH', 'SUD') OR (patient_key, service_line) IN ({derive_lines}))"
        if need_kinds
        else "AND service_line IN ('MH', 'SUD')"
    )
    vi = (
        f"(provider_class IN {_in(NPMH_CLASSES)} AND service_line IN ('MH', 'SUD') "
        f"AND {IS_ATTENDED} AND NOT urgent)"
    )
    # One sort: the offers of each patient and service line in start order. It gives the next
    # offer of every attended NPMH visit and, when appointment_kind is blank, the last
    # attended visit before each row (new episode: none within the look-back).
    con.execute(
        f"""
        CREATE OR REPLACE TABLE seq AS
        SELECT appointment_id, patient_key, service_line, provider_class, start_ts, start_day,
               kind, visit_new, is_group, longer, rec_days, clinic_id, product_line, is_vi,
               prev_att_day, next_id, next_day, next_prl,
               next_id IS NOT NULL AND (
                 coalesce(next_kind = 'initial',
                          next_visit_new OR next_day - start_day > {lookback})
                 OR coalesce(episode_key <> next_episode, false)) AS next_initial
        FROM (
          SELECT appointment_id, patient_key, service_line, provider_class, start_ts, start_day,
                 kind, visit_new, is_group, longer, rec_days, episode_key, clinic_id,
                 product_line, {vi} AS is_vi,
                 {prev_att} AS prev_att_day,
                 lead(appointment_id) OVER w AS next_id,
                 lead(start_day) OVER w AS next_day,
                 lead(kind) OVER w AS next_kind,
                 lead(visit_new) OVER w AS next_visit_new,
                 lead(prl) OVER w AS next_prl,
                 lead(episode_key) OVER w AS next_episode
          FROM appt
          WHERE {OFFER} {line_filter}
          WINDOW w AS (PARTITION BY patient_key, service_line ORDER BY start_ts, appointment_id)
        ) WHERE is_vi OR kind IS NULL
        """  # noqa: S608 - SQL from schema constants; values bound or quoted
    )
    # Derived kinds: offers from the window; withdrawn rows by an as-of join on the attended
    # visits of the same patient and line (few rows).
    if need_kinds:
        con.execute(
            f"""
            CREATE OR REPLACE TABLE derived AS
            SELECT appointment_id,
                   visit_new OR prev_att_day IS NULL
                     OR start_day - prev_att_day > {lookback} AS initial
            FROM seq WHERE kind IS NULL
            UNION ALL
            SELECT w.appointment_id,
                   w.visit_new OR a.start_day IS NULL OR w.start_day - a.start_day > {lookback}
            FROM (SELECT appointment_id, patient_key, service_line, start_ts, start_day, visit_new
                  FROM appt WHERE kind IS NULL AND NOT {OFFER}
                    AND status <> 'entered_in_error') AS w
            ASOF LEFT JOIN (
                SELECT patient_key, service_line, start_ts, start_day FROM appt
                WHERE {IS_ATTENDED} AND patient_key IN (
                    SELECT patient_key FROM appt WHERE kind IS NULL AND NOT {OFFER})
            ) AS a
              ON w.patient_key = a.patient_key AND w.service_line = a.service_line
             AND w.start_ts > a.start_ts
            """  # noqa: S608 - SQL from schema constants; values bound or quoted
        )
        derived_join = "LEFT JOIN derived d USING (appointment_id)"
        initial = "coalesce(r.kind = 'initial', d.initial, false)"
    else:
        derived_join = ""
        initial = "coalesce(r.kind = 'initial', false)"
    # Visits with no next offer: still in treatment if a clinician asked for a return, or a
    # later MH/SUD contact (necessarily withdrawn) falls within 90 days.
    con.execute(
        f"""
        CREATE OR REPLACE TABLE fu_active AS
        SELECT s.appointment_id
        FROM seq s
        WHERE s.is_vi AND s.next_id IS NULL AND (coalesce(s.rec_days, 0) > 0 OR EXISTS (
            SELECT 1 FROM appt w
            WHERE {WITHDRAWN} AND w.service_line IN ('MH', 'SUD')
              AND w.patient_key = s.patient_key AND w.start_ts > s.start_ts
              AND w.start_day <= s.start_day + {ACTIVE_CONTACT_DAYS}))
        """  # noqa: S608 - SQL from schema constants; values bound or quoted
    )
    # Requests: initial non-urgent rows of a measured class, and urgent rows. Rows of one
    # request share referral_id, else episode_id, else the request date-time. Their rows
    # are stored with only the columns the requests read, so that the rows of the whole
    # extract can go before the requests are grouped (less to spill to disk).
    con.execute(
        f"""
        CREATE OR REPLACE TABLE req_rows AS
        SELECT metric, patient_key, request_group,
               hash(metric, patient_key, request_group) AS key_hash,
               {", ".join(_REQUEST_ROW_COLUMNS)}
        FROM (
          SELECT r.*, {OFFER} AS offer,
                 CASE WHEN r.urgent THEN 'urgent' ELSE {_metric_case()} END AS metric,
                 coalesce(r.request_key,
                          CASE WHEN r.req_ts IS NOT NULL THEN hash(epoch_us(r.req_ts)) END,
                          hash(r.appointment_id)) AS request_group
          FROM (SELECT appointment_id, patient_key, request_key, kind, urgent, provider_class,
                       service_line, clinic_id, product_line, modality, status, cancel_initiator,
                       req_ts, req_day, req_dateonly, req_eq_booked, offer_ts, offer_day,
                       offer_dateonly, start_ts, start_day, start_dateonly, prl, longer,
                       prior_auth
                FROM appt WHERE status <> 'entered_in_error'
                AND (urgent OR kind IS NULL OR kind = 'initial')) AS r
          {derived_join}
          WHERE (r.urgent OR {initial}) AND metric IS NOT NULL
        )
        """  # noqa: S608 - SQL from schema constants; values bound or quoted
    )
    if drop_source:  # free the rows before the requests and units are built (peak memory)
        drop_appt(con)
    # Nearly every request is one row: only the keys shared by several rows are aggregated
    # (wide aggregate states are what makes a grouping of millions slow); the others are the
    # row (test_request_groups holds the two forms equal). Shared keys are found by sorting
    # a hash of the key, cheaper than grouping three columns; rows whose hashes are equal
    # are then grouped by the key itself, so a collision only aggregates a row on its own.
    con.execute(
        f"""
        CREATE OR REPLACE TABLE req AS
        WITH shared AS (
          SELECT DISTINCT key_hash FROM (
            SELECT key_hash, lag(key_hash) OVER (ORDER BY key_hash) AS before FROM req_rows)
          WHERE key_hash = before
        )
        SELECT metric, patient_key, {_request_columns(aggregate=True)}
        FROM req_rows SEMI JOIN shared USING (key_hash)
        GROUP BY metric, patient_key, request_group
        UNION ALL
        SELECT metric, patient_key, {_request_columns(aggregate=False)}
        FROM req_rows ANTI JOIN shared USING (key_hash)
        """  # noqa: S608 - SQL from schema constants; values bound or quoted
    )
    con.execute("DROP TABLE IF EXISTS req_rows")
    units_sql = _units_sql(options, as_of, keys)
    summary = ", ".join(SUMMARY_COLUMNS)
    drop_relations(con, "units", "unit_summary", "units_t")  # an earlier run's
    if keep_units:
        con.execute(f"CREATE TABLE units_t AS {units_sql}")
        con.execute(_units_view_sql(options.calendar.label))
        con.execute(f"CREATE VIEW unit_summary AS SELECT {summary} FROM units_t")  # noqa: S608
    else:  # only the columns of the summaries are computed (nine million rows)
        con.execute(f"CREATE TABLE unit_summary AS SELECT {summary} FROM ({units_sql})")  # noqa: S608
    for name in ("seq", "req", "fu_active"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute("DROP TABLE IF EXISTS derived")


def _units_view_sql(label: str) -> str:
    """The ``units`` view: ``UNIT_COLUMNS`` as text over the narrower table ``units_t``.

    The table keeps codes as enums, the deadline as a day or an instant and no calendar
    label (the same for every row): writing nine million rows of text was a good share of
    the check.
    """
    deadline = (
        "CASE WHEN deadline_ts IS NOT NULL THEN strftime(deadline_ts, '%Y-%m-%dT%H:%M:%S') "
        "|| printf('%+03d:%02d', date_part('timezone_hour', deadline_ts), "
        "abs(date_part('timezone_minute', deadline_ts))) ELSE deadline_day::VARCHAR END"
    )
    formatted = {
        "deadline": deadline,
        "calendar": _q(label),
        "service_line": "service_line::VARCHAR",
        "provider_class": "provider_class::VARCHAR",
        "product_line": "product_line::VARCHAR",
    }
    columns = ", ".join(
        f"{formatted[name]} AS {name}" if name in formatted else name
        for name in (*UNIT_COLUMNS, "request_equals_booking")
    )
    return f"""
    CREATE OR REPLACE VIEW units AS SELECT {columns} FROM units_t
    """  # noqa: S608 - SQL from schema constants; the label is quoted


def _status(
    *,
    req_missing: str,
    has_stop: str,
    within: str,
    proxy: str,
    prl: str,
    longer: str,
    pending: str,
    extra_first: str = "",
    no_stop: str = ST["noncompliant"],
) -> str:
    return f"""CASE {extra_first}
        WHEN {req_missing} THEN {ST["unknown_request_date"]}
        WHEN {has_stop} THEN CASE WHEN {within} THEN {ST["compliant"]}
                                  WHEN {longer} THEN {ST["exception"]}
                                  WHEN {proxy} AND {prl} THEN {ST["patient_preference"]}
                                  ELSE {ST["noncompliant"]} END
        WHEN {pending} THEN {ST["pending"]}
        ELSE {no_stop} END"""


def _units_sql(options: Options, as_of: dt.date, keys: _CalendarKeys) -> str:
    asof = f"DATE '{as_of.isoformat()}'"
    initial_n = (
        "CASE q.metric "
        + " ".join(f"WHEN {_q(m)} THEN {n}" for m, (_, n) in INITIAL_METRICS.items())
        + " END"
    )

    def dl(side: str) -> str:
        return f"CASE WHEN {initial_n} = 10 THEN c1.dl10_{side} ELSE c1.dl15_{side} END"

    def initial_status(side: str) -> str:
        return _status(
            req_missing="q.r_day IS NULL",
            has_stop="a_day IS NOT NULL",
            within=f"a_day <= {dl(side)}",
            proxy="q.fo_ts IS NULL",
            prl="q.prl",
            longer="q.longer",
            pending=f"{asof} <= {dl(side)}",
        )

    def initial_bd(side: str, asof_idx: str) -> str:
        return (
            f"CASE WHEN q.r_day IS NULL THEN NULL WHEN a_day IS NOT NULL "
            f"THEN c2.i_{side} - c1.i_{side} ELSE greatest({asof_idx} - c1.i_{side}, 0) END"
        )

    def fu_status(side: str) -> str:
        return f"""CASE
        WHEN s.start_day < DATE '{SB221_EFFECTIVE.isoformat()}' THEN {ST["not_applicable"]}
        WHEN s.next_id IS NOT NULL AND s.next_initial THEN {ST["not_applicable"]}
        WHEN s.next_id IS NOT NULL THEN CASE WHEN s.next_day <= c1.dl10_{side}
                                              THEN {ST["compliant"]}
                                            WHEN s.longer THEN {ST["exception"]}
                                            WHEN coalesce(s.next_prl, false)
                                              THEN {ST["patient_preference"]}
                                            ELSE {ST["noncompliant"]} END
        WHEN {asof} <= c1.dl10_{side} THEN {ST["pending"]}
        ELSE {ST["not_applicable"]} END"""

    def fu_bd(side: str, asof_idx: str) -> str:
        # Censored at the cut-off while pending; none when the course ended or no visit came.
        return (
            f"CASE WHEN s.next_id IS NOT NULL THEN c2.i_{side} - c1.i_{side} "
            f"WHEN {asof} <= c1.dl10_{side} THEN greatest({asof_idx} - c1.i_{side}, 0) END"
        )

    urgent_limit = "CASE WHEN q.prior_auth THEN 96 ELSE 48 END"
    urgent_dateonly = "(q.r_dateonly OR coalesce(a_dateonly, false))"
    urgent_hours = (
        f"CASE WHEN a_ts IS NOT NULL AND NOT {urgent_dateonly} "
        "THEN (epoch(a_ts) - epoch(q.r_ts)) / 3600.0 END"
    )
    urgent_deadline_day = (
        f"CASE WHEN {urgent_dateonly} THEN q.r_day + ({urgent_limit} // 24)::INT "
        f"ELSE (q.r_ts + to_hours({urgent_limit}))::DATE END"
    )
    # The deadline is a day, or an instant for urgent clocks with times (text in the view).
    urgent_deadline = (
        f"CASE WHEN {urgent_dateonly} THEN q.r_day + ({urgent_limit} // 24)::INT END, "
        f"CASE WHEN NOT {urgent_dateonly} THEN q.r_ts + to_hours({urgent_limit}) END"
    )
    urgent_status = _status(
        req_missing="q.r_ts IS NULL",
        has_stop="a_ts IS NOT NULL",
        within=(
            f"CASE WHEN {urgent_dateonly} THEN a_day - q.r_day <= {urgent_limit} // 24 "
            f"ELSE (epoch(a_ts) - epoch(q.r_ts)) <= {urgent_limit} * 3600 END"
        ),
        proxy="q.fo_ts IS NULL",
        prl="q.prl",
        longer="q.longer",
        pending=f"{asof} <= {urgent_deadline_day}",
    )
    stop = f"""
        CASE WHEN q.fo_ts IS NOT NULL AND (q.bk_ts IS NULL OR q.fo_ts <= q.bk_ts)
             THEN {CLOCK_STOP["first_offered"]}
             WHEN q.bk_ts IS NOT NULL THEN {CLOCK_STOP["booked_proxy"]} END"""
    # q0 and q1 are read twice (initial and urgent units): NOT MATERIALIZED, as working them
    # out twice costs less than storing three million rows between the two reads.
    return f"""
    WITH q0 AS NOT MATERIALIZED (
      SELECT q.*, {stop} AS clock_stop
      FROM req q
    ), q1 AS NOT MATERIALIZED (
      SELECT q0.*,
        CASE clock_stop WHEN 'first_offered' THEN fo_ts WHEN 'booked_proxy' THEN bk_ts END
          AS a_ts,
        CASE clock_stop WHEN 'first_offered' THEN fo_day WHEN 'booked_proxy' THEN bk_day END
          AS a_day,
        CASE clock_stop WHEN 'first_offered' THEN fo_dateonly
             WHEN 'booked_proxy' THEN bk_dateonly END AS a_dateonly,
        CASE clock_stop WHEN 'first_offered' THEN fo_id WHEN 'booked_proxy' THEN bk_id END
          AS a_id
      FROM q0
    ), initial_units AS (
      SELECT q.metric, q.start_id AS start_appointment_id, q.r_day AS start_date,
        q.a_id AS stop_appointment_id, q.a_day AS stop_date,
        {initial_bd("p", keys.as_of("p", "q.clinic_id"))} AS business_days,
        NULL::DOUBLE AS hours,
        {dl("p")} AS deadline_day, NULL::TIMESTAMPTZ AS deadline_ts,
        {initial_status("p")} AS status,
        NULL::{_enum(DETAILS)} AS status_detail,
        (q.r_day IS NOT NULL AND a_day IS NULL) AS censored,
        q.clock_stop, NULL::{_enum(PRECISIONS)} AS precision,
        CASE WHEN c1.i_a IS NOT NULL THEN {initial_status("a")} END
          AS status_other_calendar,
        {initial_bd("a", keys.as_of("a", "q.clinic_id"))} AS business_days_other_calendar,
        q.clinic_id, q.service_line, q.provider_class, q.product_line,
        false AS is_group, q.r_eq_booked AS request_equals_booking
      FROM q1 q
      LEFT JOIN cal c1 ON c1.k = {keys.key("q.clinic_id")} AND c1.d = q.r_day
      LEFT JOIN cal c2 ON c2.k = {keys.key("q.clinic_id")} AND c2.d = q.a_day
      WHERE q.metric <> 'urgent'
    ), urgent_units AS (
      SELECT q.metric, q.start_id, q.r_day, q.a_id, q.a_day,
        NULL::INTEGER, {urgent_hours}, {urgent_deadline},
        {urgent_status}, NULL::{_enum(DETAILS)},
        (q.r_ts IS NOT NULL AND a_ts IS NULL),
        q.clock_stop,
        CASE WHEN q.r_ts IS NULL THEN NULL WHEN {urgent_dateonly} THEN {PRECISION["date"]}
             ELSE {PRECISION["datetime"]} END,
        NULL::{_enum(STATUSES)}, NULL::INTEGER,
        q.clinic_id, q.service_line, q.provider_class, q.product_line, false, q.r_eq_booked
      FROM q1 q
      WHERE q.metric = 'urgent'
    ), fu AS (
      SELECT s.*, s.appointment_id IN (SELECT appointment_id FROM fu_active) AS active
      FROM seq s WHERE s.is_vi
    ), fu_units AS (
      SELECT '{FOLLOW_UP}', s.appointment_id, s.start_day, s.next_id, s.next_day,
        {fu_bd("p", keys.as_of("p", "s.clinic_id"))}, NULL::DOUBLE, c1.dl10_p, NULL::TIMESTAMPTZ,
        {fu_status("p")} AS st,
        CASE WHEN s.start_day < DATE '{SB221_EFFECTIVE.isoformat()}'
               THEN {DETAIL["before_sb221"]}
             WHEN s.next_id IS NOT NULL AND s.next_initial THEN {DETAIL["episode_ended"]}
             WHEN s.next_id IS NULL AND {asof} > c1.dl10_p AND s.active
               THEN {DETAIL["no_follow_up_scheduled"]}
             WHEN s.next_id IS NULL AND {asof} > c1.dl10_p THEN {DETAIL["episode_ended"]} END,
        (s.next_id IS NULL AND {asof} <= c1.dl10_p),
        CASE WHEN s.next_id IS NOT NULL THEN {CLOCK_STOP["next_appointment"]} END,
        NULL::{_enum(PRECISIONS)},
        CASE WHEN c1.i_a IS NOT NULL THEN {fu_status("a")} END,
        CASE WHEN c1.i_a IS NOT NULL THEN {fu_bd("a", keys.as_of("a", "s.clinic_id"))} END,
        s.clinic_id, s.service_line, s.provider_class, s.product_line, s.is_group, false
      FROM fu s
      LEFT JOIN cal c1 ON c1.k = {keys.key("s.clinic_id")} AND c1.d = s.start_day
      LEFT JOIN cal c2 ON c2.k = {keys.key("s.clinic_id")} AND c2.d = s.next_day
    )
    SELECT metric::{_enum(METRICS)} AS metric,
      start_appointment_id, start_date, stop_appointment_id, stop_date,
      CASE WHEN status = 'not_applicable' AND stop_appointment_id IS NULL THEN NULL
           ELSE business_days END AS business_days,
      hours, deadline_day, deadline_ts,
      status::{_enum(STATUSES)} AS status,
      status_detail::{_enum(DETAILS)} AS status_detail,
      censored,
      clock_stop::{_enum(CLOCK_STOPS)} AS clock_stop,
      precision::{_enum(PRECISIONS)} AS precision,
      status_other_calendar::{_enum(STATUSES)} AS status_other_calendar,
      business_days_other_calendar,
      clinic_id, service_line, provider_class, product_line, is_group, request_equals_booking
    FROM (
      SELECT * FROM initial_units
      UNION ALL SELECT * FROM urgent_units
      UNION ALL SELECT * FROM fu_units
    )
    """  # noqa: S608 - SQL from schema constants; values bound or quoted


# -- summaries -----------------------------------------------------------------------------


@dataclass
class KaplanMeier:
    """Kaplan-Meier estimate of the time to an offer (business days), censoring pending."""

    times: list[int]
    survival: list[float]  # share still without an offer after each time
    n: int
    events: int

    def share_within(self, days: int) -> float | None:
        if not self.n:
            return None
        s = 1.0
        for t, value in zip(self.times, self.survival, strict=True):
            if t <= days:
                s = value
        return 1.0 - s

    def quantile(self, q: float) -> int | None:
        """Smallest time by which a share ``q`` had an offer (None if never reached)."""
        for t, value in zip(self.times, self.survival, strict=True):
            if 1.0 - value >= q - 1e-12:
                return t
        return None


def kaplan_meier(observations: Iterable[tuple[int, bool, int]]) -> KaplanMeier:
    """Product-limit estimate from (time, event, count); censored at a time are at risk there."""
    by_time: dict[int, list[int]] = {}
    total = 0
    events_total = 0
    for time, event, count in observations:
        slot = by_time.setdefault(int(time), [0, 0])
        slot[0 if event else 1] += int(count)
        total += int(count)
        events_total += int(count) if event else 0
    at_risk = total
    s = 1.0
    times: list[int] = []
    surv: list[float] = []
    for t in sorted(by_time):
        d, c = by_time[t]
        if d and at_risk:
            s *= 1.0 - d / at_risk
            times.append(t)
            surv.append(s)
        at_risk -= d + c
    return KaplanMeier(times=times, survival=surv, n=total, events=events_total)


def _quantile(histogram: Sequence[tuple[float, int]], q: float) -> float | None:
    """Linear-interpolated quantile (numpy's default) of values given as (value, count)."""
    items = sorted((v, c) for v, c in histogram if c)
    n = sum(c for _, c in items)
    if not n:
        return None
    pos = q * (n - 1)
    lo_i, hi_i = math.floor(pos), math.ceil(pos)
    lo = hi = None
    seen = 0
    for value, count in items:
        if lo is None and lo_i < seen + count:
            lo = value
        if hi_i < seen + count:
            hi = value
            break
        seen += count
    if lo is None or hi is None:  # pragma: no cover - unreachable with n > 0
        raise RuntimeError("quantile out of range")
    return float(lo + (hi - lo) * (pos - lo_i))


@dataclass
class MetricSummary:
    metric: str
    standard: str
    counts: dict[str, int] = field(default_factory=dict)
    detail_counts: dict[str, int] = field(default_factory=dict)
    proxy_units: int = 0  # clock stopped at a booked appointment (offers not tracked)
    offered_units: int = 0  # clock stopped at a tracked first offer
    group_counts: dict[str, int] = field(default_factory=dict)  # follow-up: group visits
    mean: float | None = None
    median: float | None = None
    p90: float | None = None
    observed: int = 0  # units with a clock stop (the waits behind mean / median / p90)
    over_20: int = 0  # follow-up: intervals > 20 business days
    km: KaplanMeier | None = None
    changed_by_calendar: dict[tuple[str, str], int] = field(default_factory=dict)
    date_precision: int = 0  # urgent units measured in calendar days

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def rate(self) -> float | None:
        c, n = self.counts.get("compliant", 0), self.counts.get("noncompliant", 0)
        return c / (c + n) if c + n else None


STANDARDS = {
    "initial_non_urgent_mh": "10 business days",
    "initial_psychiatry": "15 business days",
    "initial_primary_care": "10 business days",
    "initial_specialist": "15 business days",
    FOLLOW_UP: "10 business days from the prior visit",
    URGENT: "48 h (96 h with prior authorisation)",
}
WAIT_STATUSES = ("compliant", "noncompliant", "exception", "patient_preference", "pending")


def summarise(con: duckdb.DuckDBPyConnection) -> dict[str, MetricSummary]:
    """Per-metric counts, rates, waits and Kaplan-Meier (one pass over the units)."""
    cube = con.execute(
        """
        SELECT metric, status, status_detail, status_other_calendar,
               is_group, clock_stop, censored, business_days, count(*)
        FROM unit_summary WHERE metric <> 'urgent'
        GROUP BY ALL
        """
    ).fetchall()
    out = {m: MetricSummary(metric=m, standard=STANDARDS[m]) for m in METRICS}
    hist: dict[str, list[tuple[float, int]]] = {m: [] for m in METRICS}
    km_obs: dict[str, list[tuple[int, bool, int]]] = {m: [] for m in METRICS}
    for metric, status, detail, other, group, stop, censored, bd, n in cube:
        s = out[metric]
        s.counts[status] = s.counts.get(status, 0) + n
        if detail:
            s.detail_counts[detail] = s.detail_counts.get(detail, 0) + n
        if other and other != status:
            s.changed_by_calendar[(status, other)] = (
                s.changed_by_calendar.get((status, other), 0) + n
            )
        if group and metric == FOLLOW_UP:
            s.group_counts[status] = s.group_counts.get(status, 0) + n
        if stop == "booked_proxy":
            s.proxy_units += n
        elif stop == "first_offered":
            s.offered_units += n
        if status in WAIT_STATUSES and bd is not None:
            km_obs[metric].append((int(bd), not censored, n))
            if not censored:
                hist[metric].append((float(bd), n))
                if metric == FOLLOW_UP and bd > 20:
                    s.over_20 += n
    urgent = con.execute(
        """
        SELECT status, clock_stop, precision, hours, count(*)
        FROM unit_summary WHERE metric = 'urgent' GROUP BY ALL
        """
    ).fetchall()
    for status, stop, precision, hours, n in urgent:
        s = out[URGENT]
        s.counts[status] = s.counts.get(status, 0) + n
        if stop == "booked_proxy":
            s.proxy_units += n
        elif stop == "first_offered":
            s.offered_units += n
        if precision == "date":
            s.date_precision += n
        if hours is not None and status in WAIT_STATUSES:
            hist[URGENT].append((float(hours), n))
    for metric, s in out.items():
        values = hist[metric]
        s.observed = sum(c for _, c in values)
        if s.observed:
            s.mean = sum(v * c for v, c in values) / s.observed
            s.median = _quantile(values, 0.5)
            s.p90 = _quantile(values, 0.9)
        if metric != URGENT and km_obs[metric]:
            s.km = kaplan_meier(km_obs[metric])
    return out


@dataclass
class DataQuality:
    initial_requests: int  # with a request date
    request_equals_booking: int
    initial_without_request: int
    booked_after_as_of: int
    cancelled_without_initiator: int
    initiator_without_cancellation: int
    first_offer_after_start: int


def row_quality(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, int]:
    """Row-level data-quality counts from ``appt``."""
    rows = one_row(
        con,
        """
        SELECT count(*) FILTER (WHERE booked_day > $as_of),
               count(*) FILTER (WHERE status = 'cancelled' AND cancel_initiator IS NULL),
               count(*) FILTER (WHERE status <> 'cancelled' AND cancel_initiator IS NOT NULL),
               count(*) FILTER (WHERE offer_ts > start_ts)
        FROM appt
        """,
        {"as_of": as_of},
    )
    return {
        "booked_after_as_of": int(rows[0]),
        "cancelled_without_initiator": int(rows[1]),
        "initiator_without_cancellation": int(rows[2]),
        "first_offer_after_start": int(rows[3]),
    }


def data_quality(con: duckdb.DuckDBPyConnection, rows: dict[str, int]) -> DataQuality:
    """Request-level figures from the units, with the row-level counts of ``row_quality``."""
    units = one_row(
        con,
        """
        SELECT count(*) FILTER (WHERE start_date IS NOT NULL),
               count(*) FILTER (WHERE start_date IS NOT NULL AND request_equals_booking),
               count(*) FILTER (WHERE status = 'unknown_request_date')
        FROM unit_summary WHERE metric::VARCHAR LIKE 'initial%'
        """,
    )
    return DataQuality(
        initial_requests=int(units[0]),
        request_equals_booking=int(units[1]),
        initial_without_request=int(units[2]),
        booked_after_as_of=rows["booked_after_as_of"],
        cancelled_without_initiator=rows["cancelled_without_initiator"],
        initiator_without_cancellation=rows["initiator_without_cancellation"],
        first_offer_after_start=rows["first_offer_after_start"],
    )


def write_units_csv(con: duckdb.DuckDBPyConnection, path: str) -> int:
    """One row per measured unit, columns ``UNIT_COLUMNS``, in no particular order (a sort of
    millions of rows would cost more than the rest of the output); returns the row count."""
    cols = ", ".join(f"round({c}, 2) AS {c}" if c == "hours" else c for c in UNIT_COLUMNS)
    con.execute(
        f"COPY (SELECT {cols} FROM units) TO {_q(path)} "  # noqa: S608 - columns are constants
        "(HEADER true, DELIMITER ',', DATEFORMAT '%Y-%m-%d')"
    )
    return int(scalar(con, "SELECT count(*) FROM units"))


def unit_rows(con: duckdb.DuckDBPyConnection, metric: str | None = None) -> list[dict[str, object]]:
    """Units as dicts (tests and small files)."""
    where = "" if metric is None else f"WHERE metric = {_q(metric)}"
    rel = con.execute(f"SELECT * FROM units {where} ORDER BY metric, start_appointment_id")  # noqa: S608 - SQL from schema constants; values bound or quoted
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]
