"""The load's shortcuts give exactly what they replace.

* ``cg_local_day(ts)`` (arithmetic over the zone's offset changes) equals ICU's ``ts::DATE``,
  every second around each daylight-saving change included;
* the two GLOB patterns accept exactly the strings the strict ISO 8601 regex accepts;
* the formula-injection test by text comparisons flags exactly the cells whose first
  character is one of ``FORMULA_STARTS``.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commonground.access import extract

FIRST, LAST = dt.date(2015, 1, 1), dt.date(2031, 12, 31)
ZONES = (
    "America/Los_Angeles",
    "UTC",
    "Australia/Lord_Howe",  # a 30-minute daylight-saving shift
    "Asia/Kolkata",  # a half-hour offset, no daylight saving
    "America/St_Johns",
)


def _connect(zone: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{zone}'")
    extract.create_local_day_macro(con, FIRST, LAST)
    return con


_MISMATCHES = """
    SELECT count(*), count(*) FILTER (WHERE cg_local_day(x) IS DISTINCT FROM x::DATE)
    FROM (SELECT make_timestamptz($start) + to_seconds(s) AS x
          FROM generate_series($low, $high, $step) AS g(s))
"""


def _mismatches(
    con: duckdb.DuckDBPyConnection, start_us: int, low: int, high: int, step: int
) -> tuple[int, int]:
    """(instants checked, instants where the macro and ICU disagree) from ``start_us``."""
    params = {"start": start_us, "low": low, "high": high, "step": step}
    checked, differ = con.execute(_MISMATCHES, params).fetchall()[0]
    return int(checked), int(differ)


@pytest.mark.parametrize("zone", ZONES)
def test_local_day_equals_icu_across_the_calendar(zone):
    con = _connect(zone)
    # Every 61 minutes and 7 seconds for 17 years (and a little beyond each end), then
    # every second of the hour on either side of each offset change.
    start = int(dt.datetime(2014, 12, 20, tzinfo=dt.UTC).timestamp() * 1_000_000)
    checked, differ = _mismatches(con, start, 0, 17 * 366 * 86400, 3667)
    assert checked > 140_000
    assert differ == 0
    changes = con.execute(
        """
        SELECT epoch_us(t) FROM (
          SELECT t, epoch_us(t::TIMESTAMP) - epoch_us(t) AS o,
                 lag(epoch_us(t::TIMESTAMP) - epoch_us(t)) OVER (ORDER BY t) AS p
          FROM generate_series(TIMESTAMPTZ '2015-01-01 00:00:00+00',
                               TIMESTAMPTZ '2031-12-31 00:00:00+00', INTERVAL 15 MINUTE) AS g(t)
        ) WHERE o <> p
        """
    ).fetchall()
    if zone in ("UTC", "Asia/Kolkata"):
        assert changes == []
    else:
        assert len(changes) >= 30
    for (when,) in changes[:6] + changes[-2:]:
        assert _mismatches(con, when, -3600, 3600, 1) == (7201, 0)


def test_local_day_outside_the_calendar_falls_back_to_icu():
    con = _connect("America/Los_Angeles")
    for text, day in (
        ("1999-07-01T23:30:00-07:00", "1999-07-01"),
        ("2040-01-01T07:59:59Z", "2039-12-31"),
        ("2025-03-09T09:59:59Z", "2025-03-09"),  # 01:59:59 PST, just before the change
        ("2025-11-02T07:30:00Z", "2025-11-02"),  # 00:30 PDT
    ):
        got = con.execute("SELECT cg_local_day($t::TIMESTAMPTZ)::VARCHAR", {"t": text}).fetchall()
        assert got == [(day,)]
    assert con.execute("SELECT cg_local_day(NULL::TIMESTAMPTZ)").fetchall() == [(None,)]


_PLAIN = duckdb.connect()  # one connection for the many examples below


def _regex(con: duckdb.DuckDBPyConnection, text: str) -> bool:
    """The strict test as the load made it before: DuckDB's (RE2) regular expression."""
    got = con.execute("SELECT regexp_matches($t, $p)", {"t": text, "p": extract.ISO_PREFIX})
    return bool(got.fetchall()[0][0])


PIECES = st.sampled_from(
    ["2025", "-", "01", "06", "T", " ", "09", ":", "00", "Z", "+", "1", "a", "", "-08:00", "٣"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=9).map("".join) | st.text(max_size=20))
def test_glob_patterns_accept_what_the_regex_accepts(text):
    con = _PLAIN
    glob = con.execute(f"SELECT {extract.iso_prefix_sql('$t')}", {"t": text}).fetchall()[0][0]
    assert glob == _regex(con, text)


def test_glob_patterns_on_the_usual_forms():
    con = duckdb.connect()
    for text, ok in (
        ("2025-01-06", True),
        ("2025-01-06T09:00", True),
        ("2025-01-06 09:00:00-08:00", True),
        ("2025-1-6", False),
        (" 2025-01-06", False),
        ("2025-01-06T9:00", False),
        ("2025-01-06X", False),
        ("2025-01-06 ", False),
    ):
        got = con.execute(f"SELECT {extract.iso_prefix_sql('$t')}", {"t": text}).fetchall()
        assert got == [(ok,)], text
        assert _regex(con, text) is ok


# The parse before the usual-form shortcut: the regular expression, the cast, the offset test.
# After the date, the rest of the value is only a time: no zone name, no offset beyond 14
# hours, no offset minutes from 60.
_BAD_REST_RE = r"[^0-9T:.Z+ \-]|^.{16}.*[+-]([2-9]|1[5-9]|[0-9][0-9]:?[6-9])"
_BEFORE = (
    "SELECT (CASE WHEN regexp_matches(t, $p) AND NOT regexp_matches(t, '"  # noqa: S608 - constants
    + _BAD_REST_RE
    + "') THEN TRY_CAST(t AS TIMESTAMPTZ) END)::VARCHAR, "
    "t IS NOT NULL AND NOT (suffix(t, 'Z') OR contains(substr(t, 17), '+') "
    "OR contains(substr(t, 17), '-')) FROM (SELECT $t::VARCHAR AS t)"
)
_NOW = "SELECT ({})::VARCHAR, {} FROM (SELECT t, {} AS u FROM (SELECT $t::VARCHAR AS t))".format(  # noqa: S608 - SQL from module functions
    extract.timestamp_sql("t", "u"), extract.no_offset_sql("t", "u"), extract.usual_sql("t")
)
USUAL = "2025-01-06T09:00:00-08:00"
MUTATIONS = st.lists(
    st.tuples(st.integers(0, len(USUAL) - 1), st.sampled_from("0123456789 +-:TZ.a٣")),
    max_size=3,
)


def _mutate(edits: list[tuple[int, str]]) -> str:
    chars = list(USUAL)
    for position, char in edits:
        chars[position] = char
    return "".join(chars)


@settings(max_examples=400, deadline=None)
@given(MUTATIONS.map(_mutate) | st.lists(PIECES, max_size=9).map("".join))
def test_usual_form_shortcut_parses_as_before(text):
    before = _PLAIN.execute(_BEFORE, {"t": text, "p": extract.ISO_PREFIX}).fetchall()
    assert _PLAIN.execute(_NOW, {"t": text}).fetchall() == before


@pytest.mark.parametrize(
    "text",
    ["2025-03-25T08:30 EST", "2025-03-25 08:30:00 Europe/London", "2025-03-25T08:30+99:00",
     "2025-03-25T08:30:00.5+15:00", "2025-03-25T08:30-1500",
     # the usual form too: seconds and an offset
     "2025-03-25T08:30:00+15:00", "2025-03-25T08:30:00+99:00", "2025-03-25T08:30:00-19:30",
     "2025-03-25T08:30:00-08:60", "2025-03-25T08:30:00+05:99", "2025-03-25T08:30:00-0875"],
)  # fmt: skip
def test_a_zone_name_or_an_offset_beyond_14_hours_is_no_instant(text):
    assert _PLAIN.execute(_NOW, {"t": text}).fetchall()[0][0] is None


def test_offsets_up_to_14_hours_and_z_are_instants():
    for text in ("2025-03-25T08:30+14:00", "2025-03-25T08:30:00.5-12:00", "2025-03-25 08:30Z",
                 "2025-03-25T08:30:00-0800", "2025-03-25T08:30:00+05",
                 "2025-03-25T08:30:00+14:00", "2025-03-25T08:30:00+10:30",
                 "2025-03-25T08:30:00-08:00", "2025-03-25T08:30:00+05:45"):  # fmt: skip
        assert _PLAIN.execute(_NOW, {"t": text}).fetchall()[0][0] is not None, text


def test_usual_form_shortcut_on_null_and_usual_values():
    for text in (None, USUAL, "2025-01-06T09:00:00Z", "2025-01-06", "2025-01-06T09:00"):
        before = _PLAIN.execute(_BEFORE, {"t": text, "p": extract.ISO_PREFIX}).fetchall()
        assert _PLAIN.execute(_NOW, {"t": text}).fetchall() == before


def test_usual_form_pattern_with_the_cast_is_strict_for_every_pair_of_characters():
    # Two characters of the usual form replaced, at every pair of positions, by any of the
    # printable ASCII characters, whitespace and two non-ASCII digits (U+0663, U+FF10):
    # what the looser pattern and the cast let through, the strict expression accepts too.
    found = _PLAIN.execute(
        f"""
        WITH chars AS (
          SELECT chr(unnest(range(32, 127))::INTEGER) AS c
          UNION ALL SELECT unnest([chr(9), chr(10), chr(13), chr(1635), chr(65296)])
        ), positions AS (SELECT unnest(range(0, {len(USUAL)})) AS p),
        variants AS (
          SELECT left($u, a.p) || x.c || substr($u, a.p + 2, b.p - a.p - 1) || y.c
                 || substr($u, b.p + 2) AS t
          FROM positions a, positions b, chars x, chars y WHERE a.p < b.p
        )
        SELECT count(*), count(*) FILTER (
          WHERE {extract.usual_sql("t")} AND TRY_CAST(t AS TIMESTAMPTZ) IS NOT NULL
            AND NOT coalesce(regexp_matches(t, $p), false))
        FROM variants
        """,  # noqa: S608 - SQL from module functions; values bound
        {"u": USUAL, "p": extract.ISO_PREFIX},
    ).fetchall()
    assert found[0][0] > 2_500_000
    assert found[0][1] == 0


FORMULA_PIECES = st.sampled_from(
    ["=", "+", "-", "@", "\t", "\r", "\n", " ", ",", ".", "?", "A", "a", "0", "é", "\uff1d", "\x00"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(FORMULA_PIECES, max_size=4).map("".join) | st.text(max_size=6))
def test_formula_test_flags_exactly_the_formula_starts(text):
    got = _PLAIN.execute(f"SELECT {extract.formula_sql('$t')}", {"t": text}).fetchall()[0][0]
    assert got is (text[:1] in extract.FORMULA_STARTS and text != "")


def test_formula_test_on_the_usual_cells():
    con = duckdb.connect()
    for text, bad in (
        ('=HYPERLINK("http://x","y")', True),
        ("+cmd|' /C calc'!A0", True),
        ("-1", True),
        ("@SUM(1+1)", True),
        ("\tA", True),
        ("\r=1", True),
        ("A1001", False),
        ("1001", False),
        (",", False),
        ("NEW THERAPY INTAKE 60", False),
        ("\uff1d1", False),  # a full-width equals sign is not a formula start
    ):
        got = con.execute(f"SELECT {extract.formula_sql('$t')}", {"t": text}).fetchall()
        assert got == [(bad,)], text
    got = con.execute(f"SELECT {extract.formula_sql('NULL::VARCHAR')}").fetchall()
    assert got == [(None,)]
