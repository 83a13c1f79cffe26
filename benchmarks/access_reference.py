"""Reference implementations of two access rates, for ``access_bench.py``.

    python benchmarks/access_reference.py duckdb FILE HOLIDAYS.json AS_OF
    python benchmarks/access_reference.py pandas FILE HOLIDAYS.json AS_OF

Both compute, straight from a canonical CSV extract (access-and-parity.md section 6.1) and
with the same rules as ``commonground.access.metrics`` but nothing else (no validation, no
other metrics, no calendar sensitivity, no report, no output file):

* the initial-access rate for non-physician MH/SUD requests (10 business days), and
* the SB 221 follow-up rate (next offered appointment within 10 business days),

each as compliant / (compliant + noncompliant), and print them as JSON. Self-contained: the
pandas mode runs in ``benchmarks/.venv-bench`` (pandas is not a project dependency), so this
file imports nothing from the project; holidays come from a JSON list of ISO dates.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

NPMH = ("psychologist", "lcsw", "lmft", "lpcc", "psych_np", "sud_counselor", "aba")
ATTENDED = ("completed", "arrived", "checked_in")
TZ = "America/Los_Angeles"


def duckdb_rates(path: str, holidays: list[str], as_of: str) -> dict[str, float]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{TZ}'")
    con.execute("CREATE TABLE hol AS SELECT unnest($h::DATE[]) AS d", {"h": holidays})
    con.execute(
        """
        CREATE TABLE cal AS
        SELECT d::DATE AS d,
               sum(CASE WHEN isodow(d) < 6 AND d NOT IN (SELECT d FROM hol) THEN 1 ELSE 0 END)
                 OVER (ORDER BY d) AS i
        FROM generate_series(DATE '2015-01-01', DATE '2030-12-31', INTERVAL 1 DAY) AS t(d)
        """
    )
    con.execute("CREATE TABLE bd AS SELECT i, min(d) AS d FROM cal GROUP BY i")
    npmh = ", ".join(f"'{c}'" for c in NPMH)
    attended = ", ".join(f"'{c}'" for c in ATTENDED)
    con.execute(
        f"""
        CREATE TABLE s AS
        SELECT *,
          max(CASE WHEN attended THEN s_day END) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING
                                                         AND 1 PRECEDING) AS prev_att,
          lead(appointment_id) OVER o AS n_id, lead(s_day) OVER o AS n_day,
          lead(kind) OVER o AS n_kind, lead(visit_new) OVER o AS n_new,
          lead(prl) OVER o AS n_prl, lead(episode_id) OVER o AS n_ep
        FROM (
          SELECT appointment_id, patient_id, service_line, appointment_kind AS kind,
                 coalesce(urgency = 'urgent', false) AS urgent,
                 coalesce(regexp_matches(visit_type, '(?i)\\b(new|intake)\\b'), false)
                   AS visit_new,
                 request_datetime AS r_ts, request_datetime::DATE AS r_day,
                 first_offered_start AS o_ts, first_offered_start::DATE AS o_day,
                 appointment_start AS s_ts, appointment_start::DATE AS s_day,
                 status IN ({attended}) AS attended,
                 NOT (status = 'cancelled' AND coalesce(cancel_initiator, '') <> 'patient')
                   AS offer,
                 episode_id, coalesce(longer_interval_documented, false) AS longer,
                 coalesce(patient_requested_later, false) AS prl,
                 provider_class IN ({npmh}) AS npmh
          FROM read_csv($path, header = true)
          WHERE status <> 'entered_in_error'
        )
        WINDOW w AS (PARTITION BY patient_id, service_line ORDER BY s_ts, appointment_id),
               o AS (PARTITION BY patient_id, service_line, offer
                     ORDER BY s_ts, appointment_id)
        """,  # noqa: S608 - SQL from schema constants; values bound or quoted
        {"path": path},
    )
    initial = con.execute(
        """
        WITH req AS (
          SELECT patient_id, arg_min(r_day, r_ts) AS r_day,
                 min(o_ts) FILTER (WHERE offer) AS fo_ts,
                 arg_min(o_day, o_ts) FILTER (WHERE offer) AS fo_day,
                 min(s_ts) FILTER (WHERE offer) AS bk_ts,
                 arg_min(s_day, s_ts) FILTER (WHERE offer) AS bk_day,
                 coalesce(bool_or(prl) FILTER (WHERE offer), false) AS prl,
                 coalesce(bool_or(longer), false) AS longer
          FROM s
          WHERE npmh AND NOT urgent AND coalesce(kind = 'initial',
                visit_new OR prev_att IS NULL OR s_day - prev_att > 180)
          GROUP BY patient_id, coalesce(episode_id, epoch_us(r_ts)::VARCHAR, appointment_id)
        ), st AS (
          SELECT CASE
            WHEN a_day IS NOT NULL THEN CASE WHEN a_day <= bd.d THEN 'compliant'
                 WHEN longer THEN 'exception' WHEN fo_ts IS NULL AND prl THEN 'preference'
                 ELSE 'noncompliant' END
            WHEN $as_of <= bd.d THEN 'pending' ELSE 'noncompliant' END AS status
          FROM (SELECT *, CASE WHEN fo_ts IS NOT NULL AND (bk_ts IS NULL OR fo_ts <= bk_ts)
                               THEN fo_day ELSE bk_day END AS a_day FROM req) q
          JOIN cal c ON c.d = q.r_day JOIN bd ON bd.i = c.i + 10
        )
        SELECT count(*) FILTER (WHERE status = 'compliant')
               / count(*) FILTER (WHERE status IN ('compliant', 'noncompliant'))
        FROM st
        """,
        {"as_of": as_of},
    ).fetchall()[0][0]
    follow = con.execute(
        """
        WITH st AS (
          SELECT CASE
            WHEN coalesce(n_kind = 'initial', n_new OR n_day - s_day > 180)
                 OR coalesce(episode_id <> n_ep, false) THEN 'ended'
            WHEN n_day <= bd.d THEN 'compliant'
            WHEN longer THEN 'exception' WHEN n_prl THEN 'preference'
            ELSE 'noncompliant' END AS status
          FROM s JOIN cal c ON c.d = s.s_day JOIN bd ON bd.i = c.i + 10
          WHERE npmh AND attended AND NOT urgent AND service_line IN ('MH', 'SUD')
            AND s_day >= DATE '2022-07-01' AND n_id IS NOT NULL
        )
        SELECT count(*) FILTER (WHERE status = 'compliant')
               / count(*) FILTER (WHERE status IN ('compliant', 'noncompliant'))
        FROM st
        """
    ).fetchall()[0][0]
    return {"initial_non_urgent_mh": float(initial), "follow_up_sb221": float(follow)}


def pandas_rates(path: str, holidays: list[str], as_of: str) -> dict[str, float]:
    import numpy as np
    import pandas as pd

    hol = np.array(holidays, dtype="datetime64[D]")
    cols = [
        "appointment_id", "patient_id", "provider_class", "service_line", "visit_type",
        "appointment_kind", "urgency", "request_datetime", "first_offered_start",
        "appointment_start", "status", "cancel_initiator", "episode_id",
        "longer_interval_documented", "patient_requested_later",
    ]  # fmt: skip
    df = pd.read_csv(path, usecols=cols, dtype=str, keep_default_na=False, na_values=[""])
    df = df[df["status"] != "entered_in_error"]

    def local(col: str) -> tuple[pd.Series, pd.Series]:
        ts = pd.to_datetime(df[col], utc=True, format="ISO8601").dt.tz_convert(TZ)
        return ts, ts.dt.tz_localize(None).dt.normalize()

    r_ts, r_day = local("request_datetime")
    o_ts, o_day = local("first_offered_start")
    s_ts, s_day = local("appointment_start")
    df = df.assign(r_ts=r_ts, r_day=r_day, o_ts=o_ts, o_day=o_day, s_ts=s_ts, s_day=s_day)
    df["urgent"] = df["urgency"].eq("urgent")
    df["visit_new"] = df["visit_type"].str.contains(r"(?i)\b(?:new|intake)\b", na=False)
    df["attended"] = df["status"].isin(ATTENDED)
    df["offer"] = ~(df["status"].eq("cancelled") & df["cancel_initiator"].ne("patient"))
    df["longer"] = df["longer_interval_documented"].eq("true")
    df["prl"] = df["patient_requested_later"].eq("true")
    df["npmh"] = df["provider_class"].isin(NPMH)
    df = df.sort_values(["patient_id", "service_line", "s_ts", "appointment_id"])
    key = [df["patient_id"], df["service_line"]]
    att_day = df["s_day"].where(df["attended"])
    running = att_day.groupby(key).cummax().groupby(key).ffill()
    df["prev_att"] = running.groupby(key).shift()

    def deadline(days: pd.Series, n: int) -> np.ndarray:
        d = days.to_numpy(dtype="datetime64[D]")
        return np.busday_offset(d, n, roll="backward", holidays=hol)

    # Initial requests.
    derived = (
        df["visit_new"] | df["prev_att"].isna() | ((df["s_day"] - df["prev_att"]).dt.days > 180)
    )
    kind_initial = (
        df["appointment_kind"].eq("initial").where(df["appointment_kind"].notna(), derived)
    )
    init = df[df["npmh"] & ~df["urgent"] & kind_initial.astype(bool)].copy()
    init["k"] = init["episode_id"].fillna(init["appointment_id"])
    off = init[init["offer"]]
    g_all = init.sort_values("r_ts").groupby(["patient_id", "k"], sort=False)
    req = pd.DataFrame({"r_day": g_all["r_day"].first(), "longer": g_all["longer"].any()})
    g_off = off.groupby(["patient_id", "k"], sort=False)
    fo = off.dropna(subset=["o_ts"]).sort_values("o_ts").groupby(["patient_id", "k"]).first()
    bk = off.sort_values("s_ts").groupby(["patient_id", "k"]).first()
    req["fo_ts"], req["fo_day"] = fo["o_ts"], fo["o_day"]
    req["bk_ts"], req["bk_day"] = bk["s_ts"], bk["s_day"]
    req["prl"] = g_off["prl"].any()
    req["prl"] = req["prl"].fillna(False).astype(bool)
    req = req[req["r_day"].notna()]
    use_fo = req["fo_ts"].notna() & (req["bk_ts"].isna() | (req["fo_ts"] <= req["bk_ts"]))
    a_day = req["fo_day"].where(use_fo, req["bk_day"])
    dl = deadline(req["r_day"], 10)
    has_a = a_day.notna().to_numpy()
    a = a_day.to_numpy(dtype="datetime64[D]")
    within = has_a & (a <= dl)
    excused = (
        has_a & ~within & (req["longer"].to_numpy() | (req["fo_ts"].isna() & req["prl"]).to_numpy())
    )
    pending = ~has_a & (np.datetime64(as_of) <= dl)
    compliant = within.sum()
    noncompliant = (~within & ~excused & ~pending).sum()
    initial_rate = compliant / (compliant + noncompliant)

    # SB 221 follow-up: next offer in the same patient and service line.
    offers = df[df["offer"]].copy()
    og = offers.groupby(["patient_id", "service_line"], sort=False)
    for col, src in (("n_id", "appointment_id"), ("n_day", "s_day"), ("n_kind", "appointment_kind"),
                     ("n_new", "visit_new"), ("n_prl", "prl"), ("n_ep", "episode_id")):  # fmt: skip
        offers[col] = og[src].shift(-1)
    v = offers[
        offers["npmh"] & offers["attended"] & ~offers["urgent"]
        & offers["service_line"].isin(["MH", "SUD"]) & (offers["s_day"] >= "2022-07-01")
        & offers["n_id"].notna()
    ]  # fmt: skip
    gap = (v["n_day"] - v["s_day"]).dt.days
    n_initial = (
        v["n_kind"].eq("initial").where(v["n_kind"].notna(), v["n_new"].astype(bool) | (gap > 180))
    )
    ended = n_initial.astype(bool) | (
        v["episode_id"].notna() & v["n_ep"].notna() & (v["episode_id"] != v["n_ep"])
    )
    within = v["n_day"].to_numpy(dtype="datetime64[D]") <= deadline(v["s_day"], 10)
    excused = ~within & (v["longer"].to_numpy() | v["n_prl"].astype(bool).to_numpy())
    ended = ended.to_numpy()
    compliant = (within & ~ended).sum()
    noncompliant = (~within & ~excused & ~ended).sum()
    follow_rate = compliant / (compliant + noncompliant)
    return {"initial_non_urgent_mh": float(initial_rate), "follow_up_sb221": float(follow_rate)}


def main(argv: list[str]) -> int:
    mode, path, holidays_file, as_of = argv
    holidays = json.loads(Path(holidays_file).read_text())
    rates = (duckdb_rates if mode == "duckdb" else pandas_rates)(path, holidays, as_of)
    print(json.dumps(rates))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
