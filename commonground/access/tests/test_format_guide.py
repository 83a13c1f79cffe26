"""The extract format guide says what the reader does: each example it gives runs through it.

The guide (page, ``commonground access format`` and the template CSV) is built from the
reader's own constants; these tests hold its examples and claims to ``extract.load``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import duckdb
import pytest
from django.urls import reverse
from django.utils.html import escape

from commonground.access import extract, format_guide, slots
from commonground.access.calendars import calendar_version
from commonground.access.cli import EXIT_INVALID, EXIT_OK, run_format
from commonground.access.tests.helpers import row, write_csv

UTC = dt.UTC


def _load(
    tmp_path: Path, rows: list[dict[str, str]]
) -> tuple[duckdb.DuckDBPyConnection, extract.LoadResult]:
    con = duckdb.connect()
    extract.configure(con, memory_limit="256MB")
    path = write_csv(tmp_path / "extract.csv", rows)
    return con, extract.load(con, path, calendar_version("federal"))


def test_every_column_has_a_meaning_and_every_meaning_a_column():
    assert set(format_guide.MEANINGS) == {c.name for c in extract.COLUMNS}
    guides = {g.name: g for g in format_guide.columns()}
    assert guides["provider_id"].required == "required, except on a requested row"
    assert guides["patient_id"].required == "required"
    assert guides["visit_type"].required == ""
    assert guides["service_line"].values == extract.SERVICE_LINES
    assert guides["duration_min"].type == "whole number, 0 to 1440"


# Stored columns that no one column gives: days and precision flags the load works out.
DERIVED = {"req_day", "req_dateonly", "req_eq_booked", "offer_day", "offer_dateonly"}
DERIVED |= {"start_day", "start_dateonly"}


def test_what_the_guide_says_is_kept_is_what_the_store_keeps():
    assert set(format_guide.KEPT) == {c.name for c in extract.COLUMNS}
    stored = {name for _, name in format_guide.KEPT.values() if name is not None}
    select, _params = extract.deidentified_select(b"k" * 32, 2025)
    kept = set(extract.STORED_COLUMNS) | {"patient_key", "age_band"}
    # Every column said to be kept becomes a stored column, and every stored column is
    # either one of them or worked out by the load.
    assert stored <= kept and kept - stored == DERIVED
    assert "AS age_band" in select and "AS patient_key" in select
    for column, (kept_as, name) in format_guide.KEPT.items():
        if kept_as == "no":
            assert name is None, column
            assert column not in extract.STORED_COLUMNS
    # The patient's id and the free text are never kept as written.
    for column in ("patient_id", "cancel_reason", "clinic_name", "patient_birth_year"):
        assert format_guide.KEPT[column][0] != format_guide.AS_WRITTEN


SPELLINGS = [
    (spelling, value)
    for words, value in ((extract.TRUE_SPELLINGS, True), (extract.FALSE_SPELLINGS, False))
    for word in words
    for spelling in {word, word.upper(), word.title()}
]


def test_every_yes_and_no_spelling_the_guide_gives_is_read_as_it_says(tmp_path):
    rows = [
        row(f"A{n}", "2025-02-03T10:00:00-08:00", is_group=spelling)
        for n, (spelling, _) in enumerate(SPELLINGS)
    ]
    rows.append(row("A-blank", "2025-02-03T10:00:00-08:00", is_group=""))
    con, loaded = _load(tmp_path, rows)
    assert loaded.valid, loaded.errors
    read = dict(con.execute("SELECT appointment_id, is_group FROM appt").fetchall())
    expected = {f"A{n}": value for n, (_, value) in enumerate(SPELLINGS)} | {"A-blank": False}
    assert read == expected
    # The side files' reader reads the same spellings the same way.
    assert all(extract.boolean_value(s) is v for s, v in SPELLINGS)
    assert extract.boolean_value("") is False


@pytest.mark.parametrize("value", ["on", "off", "2", "tru", "yess", "ja", " true", "-1"])
def test_any_other_yes_or_no_is_refused_with_the_spellings_in_the_reason(tmp_path, value):
    _con, loaded = _load(tmp_path, [row("A1", "2025-02-03T10:00:00-08:00", is_group=value)])
    assert [(e.line, e.column, e.value, e.reason) for e in loaded.errors] == [
        (2, "is_group", value, extract.BOOLEAN_REASON)
    ]
    assert "true" in extract.BOOLEAN_REASON and "y/1" in extract.BOOLEAN_REASON
    if value.strip() == value:  # a side file strips its cells first
        assert extract.boolean_value(value) is None


# What each accepted example reads as (the clinic's zone is Los Angeles, PST in January).
READ_AS = {
    "2025-01-06T09:14:00-08:00": dt.datetime(2025, 1, 6, 17, 14, tzinfo=UTC),
    "2025-01-06T17:14:00Z": dt.datetime(2025, 1, 6, 17, 14, tzinfo=UTC),
    "2025-01-06T09:14-08:00": dt.datetime(2025, 1, 6, 17, 14, tzinfo=UTC),
    "2025-01-06 09:14:00": dt.datetime(2025, 1, 6, 17, 14, tzinfo=UTC),
    "2025-01-06T09:14:00.250": dt.datetime(2025, 1, 6, 17, 14, 0, 250000, tzinfo=UTC),
    "2025-01-06": dt.datetime(2025, 1, 6, 8, 0, tzinfo=UTC),  # the day's start, clinic time
}


def test_every_accepted_date_time_example_is_read_as_the_guide_says(tmp_path):
    assert {value for value, _ in format_guide.DATETIME_ACCEPTED} == set(READ_AS)
    # The other offset spellings the guide names for the same instant.
    values = [*READ_AS, "2025-01-06T09:14:00-0800", "2025-01-06T09:14:00-08"]
    rows = [
        row(f"A{n}", value, booked="2025-01-02T08:00:00-08:00") for n, value in enumerate(values)
    ]
    con, loaded = _load(tmp_path, rows)
    assert loaded.valid, loaded.errors
    read = dict(con.execute("SELECT appointment_id, epoch_us(start_ts) FROM appt").fetchall())
    expected = [*READ_AS.values(), *[READ_AS["2025-01-06T09:14:00-08:00"]] * 2]
    got = [dt.datetime.fromtimestamp(read[f"A{n}"] / 1e6, UTC) for n in range(len(values))]
    assert got == expected
    assert loaded.tz_assumed_values == 3  # the space form, the fraction and the day alone


@pytest.mark.parametrize("value", [value for value, _ in format_guide.DATETIME_REFUSED])
def test_every_refused_date_time_example_is_refused_on_its_line(tmp_path, value):
    rows = [row("A1", "2025-02-03T10:00:00-08:00"), row("A2", value, booked="2025-01-02")]
    _con, loaded = _load(tmp_path, rows)
    assert [(e.line, e.column, e.value) for e in loaded.errors] == [(3, "appointment_start", value)]


def test_codes_are_read_in_the_case_the_guide_lists_only(tmp_path):
    _con, loaded = _load(tmp_path, [row("A1", "2025-02-03T10:00:00-08:00", service_line="mh")])
    assert [(e.column, e.value) for e in loaded.errors] == [("service_line", "mh")]


@pytest.mark.parametrize("name", format_guide.IDENTIFIER_EXAMPLES)
def test_each_identifier_the_guide_names_refuses_the_file(tmp_path, name):
    assert name in extract.DIRECT_IDENTIFIERS
    path = write_csv(tmp_path / "ids.csv", [], header=[*extract.REQUIRED, name])
    found = extract.read_header(path)
    assert [e.column for e in found.errors] == [name]
    assert "direct identifier" in found.errors[0].reason


def test_the_template_holds_every_column_and_loads_clean(tmp_path):
    text = format_guide.template_csv()
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [c.name for c in extract.COLUMNS]
    assert [line[0] for line in lines[1:]] == ["A1001", "A1002", "A1003"]
    # As written, and with the byte-order mark some editors add (the guide says it is fine).
    for name, encoding in (("template.csv", "utf-8"), ("with-bom.csv", "utf-8-sig")):
        path = tmp_path / name
        path.write_text(text, encoding=encoding)
        con = duckdb.connect()
        extract.configure(con, memory_limit="256MB")
        loaded = extract.load(con, path, calendar_version("federal"))
        assert loaded.valid, loaded.errors
        assert (loaded.rows, loaded.tz_assumed_values, loaded.header.ignored) == (3, 0, [])


def test_the_cli_prints_the_guide_and_writes_the_template_without_overwriting(tmp_path):
    out = io.StringIO()
    assert run_format([], stdout=out) == EXIT_OK
    printed = out.getvalue()
    for column in extract.COLUMNS:
        assert f"  {column.name}: " in printed
    for code in extract.STATUSES + extract.PROVIDER_CLASSES:
        assert code in printed
    target = tmp_path / "extract.csv"
    assert run_format(["--template", str(target)], stdout=io.StringIO()) == EXIT_OK
    assert target.read_bytes() == format_guide.template_csv().encode()
    target.write_text("mine", encoding="utf-8")
    refused = io.StringIO()
    assert run_format(["--template", str(target)], stdout=refused) == EXIT_INVALID
    assert "already exists" in refused.getvalue()
    assert target.read_text(encoding="utf-8") == "mine"


def test_the_management_command_and_the_console_script_give_the_same_guide(tmp_path):
    from django.core.management import call_command

    from commonground.__main__ import main

    out = io.StringIO()
    call_command("access", "format", stdout=out)
    assert out.getvalue() == format_guide.as_text()
    target = tmp_path / "template.csv"
    main(["commonground", "access", "format", "--template", str(target)])
    assert target.read_bytes() == format_guide.template_csv().encode()


def test_a_slot_files_overbooked_reads_the_same_spellings_and_refuses_others():
    header = "slot_id,status,start,clinic_id,provider_class,overbooked"
    lines = [
        "s1,free,2025-01-10T09:00:00-08:00,OAK,lcsw,Y",
        "s2,free,2025-01-10T10:00:00-08:00,OAK,lcsw,t",
        "s3,free,2025-01-10T11:00:00-08:00,OAK,lcsw,no",
        "s4,free,2025-01-10T12:00:00-08:00,OAK,lcsw,maybe",
        "s5,busy,2025-01-10T13:00:00-08:00,OAK,lcsw,",
    ]
    data = slots.parse_slots(csv.DictReader(io.StringIO("\n".join([header, *lines]) + "\n")))
    assert data.overbooked_free == 2  # Y and t: before, only true, 1 and yes were
    assert data.by_status == {"free": 3, "busy": 1}
    assert data.problems == [(5, "overbooked", "maybe", extract.BOOLEAN_REASON)]


def test_every_signed_in_person_reads_the_format_page(world, login, carmen, dana):
    page = login(carmen).get(reverse("access:extract-format"))
    assert page.status_code == 200
    html = page.content.decode()
    for column in extract.COLUMNS:
        assert f"<code>{column.name}</code>" in html
    for kept_as, _ in format_guide.KEPT.values():
        assert f"<td>{escape(kept_as)}</td>" in html
    for code in extract.PROVIDER_CLASSES + extract.STATUSES + extract.SERVICE_LINES:
        assert f"<code>{code}</code>" in html
    assert reverse("access:extract-template") in html
    imports = login(dana).get(reverse("access:import-list")).content.decode()
    assert reverse("access:extract-format") in imports


def test_the_template_download_is_the_guide_s_template(world, login, carmen):
    response = login(carmen).get(reverse("access:extract-template"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert response.content.decode() == format_guide.template_csv()
