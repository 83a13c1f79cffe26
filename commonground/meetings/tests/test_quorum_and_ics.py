"""Quorum by side and the iCalendar text: pure functions, no database."""

from __future__ import annotations

import datetime as dt

from commonground.meetings import ics
from commonground.meetings.quorum import QuorumRule, check_quorum

C, M, N = "clinician", "management", "neutral"


def test_the_default_quorum_is_two_from_each_side_including_a_cochair():
    rule = QuorumRule()
    assert check_quorum(rule, [(C, True), (C, False), (M, False), (M, False)]).met is True
    assert check_quorum(rule, [(C, False), (C, False), (M, False), (M, True)]).met is True


def test_a_missing_side_or_cochair_is_named():
    rule = QuorumRule()
    result = check_quorum(rule, [(C, False), (C, False), (C, True), (M, False)])
    assert result.met is False
    assert result.shortfalls == ["1 more from the management side"]
    no_chair = check_quorum(rule, [(C, False), (C, False), (M, False), (M, False)])
    assert no_chair.shortfalls == ["a co-chair"]


def test_neutral_seats_never_count_towards_quorum():
    rule = QuorumRule(clinicians=1, management=1, needs_cochair=False)
    result = check_quorum(rule, [(N, True), (C, False)])
    assert (result.clinicians, result.management, result.cochairs) == (1, 0, 0)
    assert result.met is False


def test_a_committee_may_set_its_own_rule():
    rule = QuorumRule(clinicians=3, management=1, needs_cochair=False)
    assert check_quorum(rule, [(C, False)] * 3 + [(M, False)]).met is True
    assert check_quorum(rule, [(C, False)] * 2 + [(M, False)]).met is False


STAMP = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def _event(**extra):
    fields = {
        "uid": "meeting-1@commonground",
        "summary": "PPC",
        "start": dt.datetime(2026, 3, 10, 17, 0, tzinfo=dt.UTC),
        "end": dt.datetime(2026, 3, 10, 18, 30, tzinfo=dt.UTC),
        "stamp": STAMP,
    }
    fields.update(extra)
    return ics.Event(**fields)


def test_text_values_escape_backslashes_semicolons_commas_and_newlines():
    assert ics.escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"


def test_every_line_ends_with_crlf_and_none_is_longer_than_75_octets():
    text = ics.calendar("Oakland PPC", [_event(description="Ünïcödé, " * 40)])
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    for line in text.split("\r\n")[:-1]:
        assert len(line.encode("utf-8")) <= 75, line


def test_folding_keeps_multibyte_characters_whole_and_unfolds_to_the_original():
    line = "DESCRIPTION:" + "é" * 100
    folded = ics.fold(line)
    pieces = folded.split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in pieces)
    assert all(p.startswith(" ") for p in pieces[1:])
    pieces[0].encode("utf-8").decode("utf-8")  # no split character
    assert folded.replace("\r\n ", "") == line


def test_a_short_line_is_not_folded():
    assert ics.fold("SUMMARY:PPC") == "SUMMARY:PPC"
    exactly = "X" * 75
    assert ics.fold(exactly) == exactly
    assert ics.fold(exactly + "Y") == exactly + "\r\n Y"


def test_events_carry_uid_dtstamp_and_utc_times():
    text = ics.calendar("Feed", [_event(location="Room 2, Oakland; 3rd floor", sequence=2)])
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert "UID:meeting-1@commonground\r\n" in text
    assert "DTSTAMP:20260302T120000Z\r\n" in text
    assert "DTSTART:20260310T170000Z\r\nDTEND:20260310T183000Z\r\n" in text
    assert "SEQUENCE:2\r\n" in text
    assert "LOCATION:Room 2\\, Oakland\\; 3rd floor\r\n" in text
    assert text.endswith("END:VEVENT\r\nEND:VCALENDAR\r\n")


def test_all_day_events_use_date_values():
    day = dt.date(2026, 4, 1)
    text = ics.calendar("Feed", [_event(start=day, end=day + dt.timedelta(days=1))])
    assert "DTSTART;VALUE=DATE:20260401\r\nDTEND;VALUE=DATE:20260402\r\n" in text
