"""Slots and encounters kept by imports, and the supply and HEDIS-like figures they feed.

The appointments are the spec's A1001-A1003 (access-and-parity.md 6.1) as FHIR; around them a
schedule of free slots at Oakland and an inpatient stay of A1001's patient, whose follow-up
is A1001 itself eleven days after discharge (HEDIS-like FUH: missed at 7 days, met at 30).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import statistics
from pathlib import Path

import duckdb
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from commonground.access import extract, fhir, services, side, slots
from commonground.access.aggregates import recompute_aggregates
from commonground.access.models import AccessAggregate, AccessSettings, ImportJob
from commonground.access.tests.test_fhir import NUCC, bundle, spec_resources
from commonground.access.tests.test_imports import KEY, private_files, stored_rows  # noqa: F401

STAY = {
    "resourceType": "Encounter", "id": "STAY1", "status": "finished",
    "class": {"system": fhir.V3_ACTCODE, "code": "IMP"},
    "subject": {"reference": "Patient/P9001"},
    "period": {"start": "2025-01-06T22:00:00-08:00", "end": "2025-01-10T11:00:00-08:00"},
    "reasonCode": [{"coding": [{"system": fhir.ICD10CM, "code": "F32.2"}]}],
    "location": [{"location": {"reference": "Location/OAK"}}],
}  # fmt: skip
SCHEDULE = {
    "resourceType": "Schedule", "id": "SCH55",
    "actor": [{"reference": "Location/OAK"}, {"reference": "Practitioner/PR55"}],
    "specialty": [{"coding": [{"system": NUCC, "code": "106H00000X"}]}],
}  # fmt: skip


def free_slots(*days: str, status: str = "free") -> list[dict[str, object]]:
    return [
        {"resourceType": "Slot", "id": f"SL-{day}", "schedule": {"reference": "Schedule/SCH55"},
         "status": status, "start": f"{day}T10:00:00-07:00", "end": f"{day}T10:50:00-07:00"}
        for day in days
    ]  # fmt: skip


def upload(world, resources: list[dict[str, object]], name: str = "export.json") -> ImportJob:
    return upload_bundle(world, bundle(*resources, kind="searchset"), name)


def upload_bundle(world, doc: dict[str, object], name: str = "export.json") -> ImportJob:
    content = json.dumps(doc).encode()
    job = services.import_receive(
        actor=world.person("data_steward"), upload=ContentFile(content, name=name),
        original_name=name, region=world.region, enqueue=False,
    )  # fmt: skip
    return services.import_run(job.pk)


def side_rows(world, name: str) -> list[tuple]:
    gen = services.store_for(world.region.pk).current()
    path = gen.side_path(name) if gen is not None else None
    if path is None:
        return []
    table = side.TABLES[name]
    con = duckdb.connect()
    return con.execute(
        f"SELECT * FROM read_parquet('{path}') ORDER BY {table.key}"  # noqa: S608 - test paths
    ).fetchall()


EVERYTHING = [
    *spec_resources(),
    STAY,
    SCHEDULE,
    *free_slots("2025-03-24", "2025-03-25", "2025-04-14"),
]


def test_an_import_keeps_slots_and_de_identified_encounters_beside_the_appointments(world):
    job = upload(world, EVERYTHING)
    assert job.state == ImportJob.State.DONE, (job.last_error, job.quality)
    assert job.quality["side"]["slots"]["inserted"] == 3
    assert job.quality["side"]["encounters"]["inserted"] == 3  # E1, E2 and the stay
    encounters = side_rows(world, "encounters")
    text = repr(encounters)
    assert "P9001" not in text and extract.pseudonymise("P9001", KEY.encode()) in text
    assert "1988" not in text  # the birth year became an age band at the encounter's year
    stay = next(r for r in encounters if r[0] == "STAY1")
    columns = dict(zip(side.TABLES["encounters"].stored_columns, stay, strict=True))
    assert columns["state_as_of"] is None  # a Bundle gives no data cut-off: undated
    assert (columns["age_band"], columns["clinic_id"], columns["principal_dx"]) == (
        "35-44",
        "OAK",
        "F32.2",
    )
    # The slots' snapshot is the data cut-off of the appointments in the same upload.
    slots_stored = side_rows(world, "slots")
    assert {r[1] for r in slots_stored} == {job.quality["cutoff"]} == {"2025-03-20"}
    # The appointments read from the store are still only appointments.
    assert len(stored_rows(world)) == 3


def test_the_same_upload_three_more_times_changes_nothing_and_a_new_state_wins(world):
    first = upload(world, EVERYTHING)
    before = (stored_rows(world), side_rows(world, "slots"), side_rows(world, "encounters"))
    for _ in range(3):
        again = upload(world, EVERYTHING)
        assert again.generation == first.generation
        assert again.quality["side"]["slots"]["unchanged"] == 3
    assert (stored_rows(world), side_rows(world, "slots"), side_rows(world, "encounters")) == before
    # The stay corrected in a later export replaces the stored one (same id).
    corrected = {**STAY, "status": "entered-in-error"}
    later = upload(world, [*spec_resources(), corrected])
    assert later.quality["side"]["encounters"]["updated"] == 1
    stay = next(r for r in side_rows(world, "encounters") if r[0] == "STAY1")
    assert stay[2] == "entered-in-error"


def test_encounters_stored_before_they_were_dated_merge_as_undated(world, tmp_path):
    """A store from before encounters carried ``state_as_of``: read as undated, so a dated
    export's state replaces them, and is dated from then on."""
    from commonground.access.tests.bulk_files import export_zip, files_of, manifest

    upload(world, EVERYTHING)
    gen = services.store_for(world.region.pk).current()
    path = gen.side_path("encounters") if gen is not None else None
    assert path is not None
    con = duckdb.connect()
    # Files are never modified in place by the store; here the test makes an old one.
    con.execute(
        f"COPY (SELECT * EXCLUDE (state_as_of) FROM read_parquet('{path}')) "  # noqa: S608 - test path
        f"TO '{path}.old' (FORMAT parquet)"
    )
    path.unlink()
    path.with_name(path.name + ".old").rename(path)
    corrected = {**STAY, "status": "entered-in-error"}
    files = files_of([*spec_resources(), corrected])
    doc = manifest(files, transaction_time="2025-04-01T06:00:00Z")
    content = export_zip(tmp_path / "e.zip", files, doc).read_bytes()
    received = services.import_receive(
        actor=world.person("data_steward"), upload=ContentFile(content, name="e.zip"),
        original_name="e.zip", region=world.region, enqueue=False,
    )  # fmt: skip
    job = services.import_run(received.pk)
    encounters = job.quality["side"]["encounters"]
    assert (encounters["updated"], encounters["unchanged"], encounters["older"]) == (1, 2, 0)
    stored = {r[0]: (r[2], r[-1]) for r in side_rows(world, "encounters")}
    april = dt.datetime(2025, 4, 1, 6, tzinfo=dt.UTC).replace(tzinfo=None)  # stored in UTC
    assert stored == {
        "E1": ("finished", april),  # the same state, now dated
        "E2": ("finished", april),
        "STAY1": ("entered-in-error", april),
    }


def test_an_upload_of_slots_alone_is_accepted(world):
    job = upload(world, [SCHEDULE, *free_slots("2025-05-05", "2025-05-06")], name="slots.json")
    assert job.state == ImportJob.State.DONE, (job.last_error, job.quality)
    assert job.rows == 0 and job.quality["side"]["slots"]["inserted"] == 2
    # With no appointments the snapshot is the first day of the slots the feed published.
    assert {r[1] for r in side_rows(world, "slots")} == {"2025-05-05"}


def test_the_recompute_counts_next_available_and_hedis_like_follow_up_by_clinic(world):
    AccessSettings.objects.update_or_create(
        region=world.region, defaults={"clinic_codes": {"OAK": world.clinic_a.slug}}
    )
    upload(world, EVERYTHING)
    run = recompute_aggregates(world.region)
    assert run.state == "done", run.last_error

    def get(metric: str, clinic=world.clinic_a, **kw: object) -> AccessAggregate:
        return AccessAggregate.objects.get(
            region=world.region, clinic=clinic, metric=metric, dimension="total", **kw
        )

    # Snapshot Thursday 2025-03-20: the next free slot, Monday 24, is 2 business days out;
    # the third, 14 April, is 17. An LMFT's standard is 10 business days.
    nxt = get("supply_next_available", period_start=dt.date(2025, 3, 1))
    third = get("supply_third_next_available", period_start=dt.date(2025, 3, 1))
    assert (nxt.compliant, nxt.noncompliant, nxt.waits) == (1, 0, {"2": 1})
    assert (third.compliant, third.noncompliant, third.waits) == (0, 1, {"17": 1})
    by_class = AccessAggregate.objects.get(
        clinic=world.clinic_a, metric="supply_next_available", dimension="provider_class"
    )
    assert by_class.value == "lmft"
    # FUH: discharged 10 January; A1001 (an attended MH visit) on the 21st is day 11.
    fuh7 = get("hedis_fuh_7", period_start=dt.date(2025, 1, 1))
    fuh30 = get("hedis_fuh_30", period_start=dt.date(2025, 1, 1))
    assert (fuh7.compliant, fuh7.noncompliant, fuh30.compliant, fuh30.noncompliant) == (0, 1, 1, 0)
    region_fuh30 = get("hedis_fuh_30", clinic=None, period_start=dt.date(2025, 1, 1))
    assert region_fuh30.rate == 1.0
    # Idempotent: a second recompute gives the same rows.
    first = sorted(AccessAggregate.objects.values_list("metric", "clinic", "compliant"), key=repr)
    recompute_aggregates(world.region)
    assert (
        sorted(AccessAggregate.objects.values_list("metric", "clinic", "compliant"), key=repr)
        == first
    )


# -- the pure parts --------------------------------------------------------------------------


def unit(point: dt.date, provider: str, next_bd: int | None, cls: str = "lcsw") -> slots.Unit:
    standard = slots.STANDARD_BY_CLASS.get(cls)
    return slots.Unit(
        level="provider" if provider else "clinic_class", point=point, clinic_id="oak",
        provider_class=cls, provider_key=provider, next_day=None, third_day=None,
        next_bd=next_bd, third_bd=None, standard=standard,
        status=slots._status(next_bd, standard),
    )  # fmt: skip


def test_supply_counts_providers_at_the_last_point_of_each_month():
    early, late = dt.date(2025, 3, 3), dt.date(2025, 3, 24)
    units = [
        unit(early, "p1", 30),  # superseded by the month's later snapshot
        unit(late, "p1", 4),
        unit(late, "p2", 12),
        unit(late, "p3", None),  # no free slot in the feed: not measurable
        unit(late, "", 4),  # the clinic x class unit: providers are named, so not used
    ]
    found = {
        (a.clinic_code, a.dimension): a
        for a in side.supply_aggregates(units)
        if a.metric == "supply_next_available"
    }
    total = found[("oak", "total")]
    assert (total.compliant, total.noncompliant, total.not_applicable) == (1, 1, 1)
    assert total.waits == {"4": 1, "12": 1}
    assert found[(None, "total")].denominator == 2


@given(st.dictionaries(st.integers(0, 60), st.integers(1, 20), min_size=1, max_size=15))
def test_wait_statistics_from_a_histogram_match_the_values_themselves(hist):
    values = sorted(v for v, n in hist.items() for _ in range(n))
    observed, mean, median, p90 = side.wait_statistics({str(k): n for k, n in hist.items()})
    con = duckdb.connect()
    con.execute("CREATE TABLE w (v INTEGER)")
    con.executemany("INSERT INTO w VALUES (?)", [(v,) for v in values])
    ref_median, ref_p90 = con.execute(
        "SELECT quantile_cont(v, 0.5), quantile_cont(v, 0.9) FROM w"
    ).fetchone()
    assert observed == len(values)
    assert mean == round(statistics.fmean(values), 3)
    assert (median, p90) == (round(ref_median, 3), round(ref_p90, 3))


def test_stored_partitions_do_not_read_side_files_as_appointments(tmp_path: Path):
    (tmp_path / "side").mkdir()
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 1 AS x) TO '{tmp_path / 'side' / 'slots.parquet'}' (FORMAT parquet)")
    part = tmp_path / "year=2025" / "month=1"
    part.mkdir(parents=True)
    con.execute(
        f"COPY (SELECT 'A1' AS appointment_id) TO '{part / 'c_oak.parquet'}' (FORMAT parquet)"
    )
    extract.parquet_view(con, tmp_path)
    assert con.execute("SELECT appointment_id FROM appt").fetchall() == [("A1",)]


def test_the_dashboards_show_supply_and_hedis_like_tables_suppressed_with_csv(world, login):
    from django.urls import reverse

    from commonground.access import dashboards

    AccessSettings.objects.update_or_create(
        region=world.region, defaults={"clinic_codes": {"OAK": world.clinic_a.slug}}
    )
    upload(world, EVERYTHING)
    recompute_aggregates(world.region)
    client = login(world.person("clinician_a"))
    page = client.get(reverse("access:clinic-dashboard", args=[world.clinic_a.slug]))
    html = page.content.decode()
    assert "Days to the next available appointment, by provider class (March 2025)" in html
    assert "HEDIS-like follow-up after acute care" in html
    # One provider and one discharge: every count is under 11, so none is shown.
    data = dashboards.load(dashboards.Scope(world.region, world.clinic_a))
    hedis_rows = dashboards.hedis_table(data).rows
    cells = {v for r in hedis_rows for v in r["cells"].values()}
    assert "1" not in cells and "hidden" in cells
    assert all(r["rate"] is None for r in hedis_rows)
    csv_url = reverse("access:clinic-table-csv", args=[world.clinic_a.slug, "supply.third"])
    body = client.get(csv_url).content.decode()
    assert body.startswith("Provider class,") and "LMFT" in body and ",1," not in body
    assert (
        client.get(
            reverse("access:clinic-table-csv", args=[world.clinic_a.slug, "hedis"])
        ).status_code
        == 200
    )


# -- slot and encounter CSV files uploaded on their own ----------------------------------------

SLOT_CSV = """\
slot_id,schedule_id,status,start,end,clinic_id,provider_id,provider_class,snapshot_date
S1,SCH1,free,2025-06-03T09:00:00-07:00,2025-06-03T09:50:00-07:00,OAK,PR1,lcsw,2025-06-02
S2,SCH1,busy,2025-06-03T10:00:00-07:00,2025-06-03T10:50:00-07:00,OAK,PR1,lcsw,2025-06-02
"""
ENCOUNTER_CSV = """\
encounter_id,patient_id,status,class,start,end,principal_dx,patient_birth_year,clinic_id
IP1,P77,finished,IMP,2025-02-01,2025-02-05,F33.1,1990,OAK
OP1,P77,finished,AMB,2025-02-08,,F33.1,1990,OAK
OP2,P77,finished,AMB,2025-04-01,,F33.1,1990,OAK
"""


def upload_csv(world, text: str, name: str) -> ImportJob:
    job = services.import_receive(
        actor=world.person("data_steward"), upload=ContentFile(text.encode(), name=name),
        original_name=name, region=world.region, enqueue=False,
    )  # fmt: skip
    return services.import_run(job.pk)


def test_a_slot_csv_and_an_encounter_csv_import_on_their_own_and_again_change_nothing(world):
    slots_job = upload_csv(world, SLOT_CSV, "slots.csv")
    assert (slots_job.kind, slots_job.state) == ("slots", "done"), slots_job.quality
    enc_job = upload_csv(world, ENCOUNTER_CSV, "encounters.csv")
    assert (enc_job.kind, enc_job.state) == ("encounters", "done"), enc_job.quality
    stored = (side_rows(world, "slots"), side_rows(world, "encounters"))
    assert {r[1] for r in stored[0]} == {"2025-06-02"}  # the file's own snapshot date
    assert "P77" not in repr(stored[1]) and "1990" not in repr(stored[1])
    for _ in range(3):
        assert upload_csv(world, SLOT_CSV, "slots.csv").generation == enc_job.generation
        assert upload_csv(world, ENCOUNTER_CSV, "e.csv").generation == enc_job.generation
    assert (side_rows(world, "slots"), side_rows(world, "encounters")) == stored
    recompute_aggregates(world.region)
    fuh7 = AccessAggregate.objects.get(clinic=None, metric="hedis_fuh_7", dimension="total")
    # Day 3 after discharge; the cut-off (the last encounter, 1 April) closed the window.
    assert (fuh7.compliant, fuh7.noncompliant, fuh7.pending) == (1, 0, 0)


def test_a_bad_slot_csv_is_refused_whole_with_a_report_and_nothing_stored(world):
    bad = SLOT_CSV + "S3,SCH1,open,2025-06-04T09:00:00-07:00,,OAK,PR1,lcsw,2025-06-02\n"
    bad += "S4,SCH1,free,tomorrow,,OAK,PR1,lcsw,2025-06-02\n"
    job = upload_csv(world, bad, "slots.csv")
    assert job.state == ImportJob.State.INVALID and job.rejected == 2
    report = job_report(job)
    assert "4,status,open,not a FHIR Slot.status" in report
    assert "5,start,tomorrow,not an ISO date-time" in report
    assert services.store_for(world.region.pk).current() is None


def job_report(job: ImportJob) -> str:
    from commonground.access.services import private_storage

    with private_storage().open(job.error_report, "rb") as handle:
        return handle.read().decode()


def test_access_check_takes_a_slot_or_encounter_file_on_its_own(tmp_path: Path):
    import io

    from commonground.access.cli import run_check

    def check(text: str, name: str, *args: str) -> tuple[int, str]:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        out = io.StringIO()
        return run_check([str(path), *args], out), out.getvalue()

    code, report = check(SLOT_CSV, "slots.csv")
    assert code == 0, report
    assert "measurement point(s): 2025-06-02" in report
    code, report = check(ENCOUNTER_CSV, "encounters.csv")
    assert code == 0 and "FUH" in report, report
    bad = SLOT_CSV.replace("busy,", "open,")
    code, report = check(bad, "bad.csv")
    assert code == 2 and "line 3: status = 'open': not a FHIR Slot.status" in report


# -- slots of two systems: kept apart by the system that published them ------------------------

OURS, THEIRS = "https://ehr.example.org/fhir", "https://scheduling.example.net/fhir"
FEED = side.SLOT_COLUMNS.index("feed")  # of a stored slot row


def served_bundle(server: str, resources: list[dict[str, object]]) -> dict[str, object]:
    """A search result of ``server``: each entry's ``fullUrl`` is the resource's address."""
    return {
        "resourceType": "Bundle", "type": "searchset",
        "entry": [{"fullUrl": f"{server}/{r['resourceType']}/{r['id']}", "resource": r}
                  for r in resources],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("full_url", "feed"),
    [
        ("https://ehr.example.org/fhir/Slot/SL-1", OURS),
        ("https://EHR.example.org:443/fhir/Slot/SL-1/_history/3", OURS),
        ("https://steward:s3cret@ehr.example.org/fhir/Slot/SL-1", OURS),
        ("http://localhost:8080/Slot/SL-1", "http://localhost:8080"),
        ("urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", ""),  # no server named
        ("Slot/SL-1", ""),  # relative
        ("https://ehr.example.org/fhir/Schedule/SCH55", ""),  # not the Slot's own address
        ("https://ehr.example.org/fhir/Slot/", ""),
        (None, ""),
    ],
)  # fmt: skip
def test_a_bundle_entrys_server_is_its_full_url_without_the_type_and_id(full_url, feed):
    assert fhir.entry_feed(full_url, "Slot") == feed


def test_two_servers_bundles_with_slots_of_the_same_id_and_day_keep_both(world, dana, login):
    """Slot ids are unique on one server only: two systems' search results may both hold a
    slot "SL-2025-06-03" of the same day. Each is kept; each Bundle again changes nothing."""
    theirs = [{**slot, "status": "busy"} for slot in free_slots("2025-06-03")]
    for server, slots_ in ((OURS, free_slots("2025-06-03")), (THEIRS, theirs)):
        job = upload_bundle(world, served_bundle(server, [SCHEDULE, *slots_]))
        assert job.state == ImportJob.State.DONE, (job.last_error, job.quality)
        assert job.quality["side"]["slots"]["inserted"] == 1
        assert job.quality["slot_feeds"] == {"names": [server], "more": 0}
    stored = side_rows(world, "slots")
    assert {(r[0], r[4], r[FEED]) for r in stored} == {
        (f"2025-06-03|id:SL-2025-06-03@{OURS}", "free", OURS),
        (f"2025-06-03|id:SL-2025-06-03@{THEIRS}", "busy", THEIRS),
    }
    again = upload_bundle(world, served_bundle(OURS, [SCHEDULE, *free_slots("2025-06-03")]))
    assert again.generation == job.generation and side_rows(world, "slots") == stored
    page = login(dana).get(job.get_absolute_url()).content.decode()
    assert (
        "kept apart by the system that published them (a slot id is unique within one system "
        f"only): <code>{THEIRS}</code>." in page
    )


def test_a_bundle_whose_entries_name_no_server_keeps_its_slots_without_a_feed(world):
    job = upload(world, [SCHEDULE, *free_slots("2025-06-03")])  # fullUrl "urn:x:<n>"
    assert job.state == ImportJob.State.DONE, (job.last_error, job.quality)
    assert "slot_feeds" not in job.quality
    assert [(r[0], r[FEED]) for r in side_rows(world, "slots")] == [
        ("2025-06-03|id:SL-2025-06-03", "")
    ]


SLOT_CSV_OF_TWO_SYSTEMS = f"""\
slot_id,status,start,clinic_id,provider_class,snapshot_date,feed
S1,free,2025-06-03T09:00:00-07:00,OAK,lcsw,2025-06-02,{OURS}
S1,busy,2025-06-03T09:00:00-07:00,OAK,lcsw,2025-06-02,{THEIRS}
S1,free,2025-06-03T09:00:00-07:00,OAK,lcsw,2025-06-02,{OURS}
"""


def test_a_slot_csv_with_a_feed_column_keeps_two_systems_slots_of_one_id_apart(world, tmp_path):
    job = upload_csv(world, SLOT_CSV_OF_TWO_SYSTEMS, "slots.csv")
    assert (job.kind, job.state) == ("slots", "done"), job.quality
    # The row given twice by one system is one slot; the other system's is another.
    assert [(r[0], r[4]) for r in side_rows(world, "slots")] == [
        (f"2025-06-02|id:S1@{OURS}", "free"),
        (f"2025-06-02|id:S1@{THEIRS}", "busy"),
    ]
    (tmp_path / "slots.csv").write_text(SLOT_CSV_OF_TWO_SYSTEMS, encoding="utf-8")
    out = io.StringIO()
    call_command(
        "access", "import", str(tmp_path / "slots.csv"),
        "--region", world.region.slug, "--user", world.person("data_steward").username,
        "--wait", stdout=out,
    )  # fmt: skip
    assert (
        f"unchanged 2, not applied 0, removed 0\nslot feeds: {OURS}, {THEIRS}\n" in out.getvalue()
    )


def test_a_slot_csv_feed_longer_than_500_characters_is_refused_with_its_line(world):
    long_feed = "https://ehr.example.org/" + "x" * 500
    bad = (
        SLOT_CSV_OF_TWO_SYSTEMS
        + f"S2,free,2025-06-04T09:00:00-07:00,OAK,lcsw,2025-06-02,{long_feed}\n"
    )
    job = upload_csv(world, bad, "slots.csv")
    assert job.state == ImportJob.State.INVALID and job.rejected == 1
    assert f"5,feed,{long_feed},longer than 500 characters" in job_report(job)
    assert services.store_for(world.region.pk).current() is None


def test_a_slot_csv_feed_with_a_password_is_refused_and_the_report_withholds_it(world):
    with_password = "https://steward:s3cret@ehr.example.org/fhir"
    bad = SLOT_CSV_OF_TWO_SYSTEMS.replace(f",{THEIRS}\n", f",{with_password}\n")
    job = upload_csv(world, bad, "slots.csv")
    assert job.state == ImportJob.State.INVALID and job.rejected == 1
    report = job_report(job)
    assert "3,feed,https://***@ehr.example.org/fhir,holds a user name or password" in report
    assert "s3cret" not in report and "s3cret" not in repr(job.quality)


@pytest.mark.parametrize(
    "written",
    [f"{OURS}/", "https://EHR.example.org:443/fhir", "HTTPS://ehr.example.org/fhir?_count=50"],
)
def test_a_slot_csv_feed_is_named_as_an_export_of_its_server_names_it(world, written):
    job = upload_csv(world, SLOT_CSV_OF_TWO_SYSTEMS.replace(f",{OURS}\n", f",{written}\n"), "s.csv")
    assert job.state == ImportJob.State.DONE, job.quality
    assert sorted(r[FEED] for r in side_rows(world, "slots")) == [OURS, THEIRS]


def test_a_slot_csv_feed_that_is_not_a_url_is_kept_as_given():
    assert side.slot_feed_name("Epic Cadence, north/") == "Epic Cadence, north"


def test_a_slot_csv_snapshot_date_is_refused_unless_written_yyyy_mm_dd(world):
    """Python reads "20250401" as 1 April too, but the import keys a slot by the text: it
    would be a second snapshot of the same day."""
    bad = SLOT_CSV.replace(",2025-06-02\n", ",20250602\n", 1)
    job = upload_csv(world, bad, "slots.csv")
    assert job.state == ImportJob.State.INVALID and job.rejected == 1
    assert "2,snapshot_date,20250602,not YYYY-MM-DD" in job_report(job)


def test_an_id_holding_the_keys_separators_never_shares_a_key_with_another_slot(world):
    """A slot CSV's ids are free text: "s4@clinicA" of no feed and "s4" of the feed
    "clinicA" are two slots, and the file again changes nothing."""
    text = (
        "slot_id,status,start,clinic_id,provider_class,snapshot_date,feed\n"
        "s4@clinicA,busy,2025-04-04T09:00:00-07:00,OAK,lcsw,2025-04-01,\n"
        "s4,free,2025-04-04T09:00:00-07:00,OAK,lcsw,2025-04-01,clinicA\n"
        "s5|x,free,2025-04-04T10:00:00-07:00,OAK,lcsw,2025-04-01,\n"
    )
    first = upload_csv(world, text, "slots.csv")
    assert first.state == ImportJob.State.DONE, first.quality
    stored = side_rows(world, "slots")
    assert [r[0] for r in stored] == [
        "2025-04-01|id:s4%40clinicA",
        "2025-04-01|id:s4@clinicA",
        "2025-04-01|id:s5%7Cx",
    ]
    again = upload_csv(world, text, "slots.csv")
    assert (again.generation, side_rows(world, "slots")) == (first.generation, stored)


# -- a slot or encounter CSV is stored as it was checked ----------------------------------------


def check_side_file(tmp_path: Path, data: str | bytes, name: str) -> tuple[int, str]:
    from commonground.access.cli import run_check

    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    out = io.StringIO()
    return run_check([str(path), "--as-of", "2025-03-31"], stdout=out), out.getvalue()


@pytest.mark.parametrize(
    "extra",
    [
        "S9,SCH1,free,2025-06-03T09:00:00-07:00\n",  # cut short
        "S9,SCH1,free,2025-06-03T09:00:00-07:00,,OAK,PR1,lcsw,2025-06-02,X,Y\n",  # too wide
        'S9,SCH1,free,2025-06-03T09:00:00-07:00,,"OAK,PR1,lcsw,2025-06-02\n',  # open quote
        "S9,SCH1,free,2025-06-03T09:00:00-07:00,,OAK,PR1,lcsw,2025-06-02\r\n",  # CR LF among LF
    ],
    ids=["short-row", "long-row", "unclosed-quote", "another-line-ending"],
)
def test_a_slot_row_of_the_wrong_shape_is_refused(tmp_path, extra):
    # A reader that pads a short row, keeps a long row's extra cells aside or reads an open
    # quote to the end of the file would check rows the store then reads otherwise.
    code, report = check_side_file(tmp_path, SLOT_CSV + extra, "slots.csv")
    assert code == 2, report
    assert "line 4:" in report, report


def test_an_imported_slot_file_stores_what_was_validated(world, private_files):  # noqa: F811
    # A short row once passed the check, and the store's CSV sniffer then read the whole file
    # as one column: the import was "done" with one blank slot, and S1 and S2 were lost.
    job = upload_csv(world, SLOT_CSV + "S9,SCH1,free,2025-06-03T09:00:00-07:00\n", "s.csv")
    assert job.state == ImportJob.State.INVALID, side_rows(world, "slots")
    assert '4,,,"4 cells, the header has 9"' in job_report(job)
    assert side_rows(world, "slots") == []
    done = upload_csv(world, SLOT_CSV.replace("OAK", '"OAK, the annex"', 1), "s.csv")
    assert done.state == ImportJob.State.DONE, done.quality
    assert [(r[2], r[7]) for r in side_rows(world, "slots")] == [
        ("S1", "OAK, the annex"),
        ("S2", "OAK"),
    ]


@pytest.mark.parametrize(
    ("name", "data", "line"),
    [
        ("slots.csv",
         SLOT_CSV.encode() + b"S9,SCH1,free,2025-06-03,,OAK,PR\xff1,lcsw,2025-06-02\n", 4),
        ("enc.csv", ENCOUNTER_CSV.encode().replace(b"OP2", b"OP\xff2"), 4),
        ("slots.csv", (SLOT_CSV + "S9,SCH1,free,2025-06-03,,OAK," + "P" * 200_000 + ",lcsw,\n")
         .encode(), 4),
        ("slots.csv", (SLOT_CSV + 'S9,SCH1,free,2025-06-03,,"OAK,PR1,lcsw,\n'
                       + "S10,SCH1,free,2025-06-03,,OAK,PR1,lcsw,\n" * 80_000).encode(), 4),
    ],
    ids=["slots-not-utf8", "encounters-not-utf8", "slots-field-over-128k", "quote-left-open"],
)  # fmt: skip
@pytest.mark.parametrize("limit", [131_072, 2**31 - 1], ids=["csv-default", "raised"])
def test_an_unreadable_side_file_is_reported_not_a_crash(tmp_path, name, data, line, limit):
    # Bytes that are not UTF-8 and a cell above the csv module's field limit once crashed the
    # check (and failed an import three times without a report); whether a long cell did
    # depended on what had raised that process-wide limit before.
    import csv

    before = csv.field_size_limit(limit)
    try:
        code, report = check_side_file(tmp_path, data, name)
    finally:
        csv.field_size_limit(before)
    assert code == 2, report
    assert f"line {line}:" in report, report


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("enc.csv", ENCOUNTER_CSV.replace("OP1,", "\nOP1,").replace(
            "OP2,P77,finished,AMB,2025-04-01", "OP2,P77,finished,AMB,yesterday"), 5),
        ("enc.csv", ENCOUNTER_CSV.replace(
            "OP1,P77,finished,AMB,2025-02-08,,F33.1", 'OP1,P77,finished,AMB,2025-02-08,,"F33.1\nx"'
        ).replace("OP2,P77,finished,AMB,2025-04-01", "OP2,P77,finished,AMB,yesterday"), 5),
        ("slots.csv", SLOT_CSV.replace("S2,", "\nS2,").replace("busy", "open"), 4),
    ],
    ids=["encounters-blank-line", "encounters-quoted-line-break", "slots-blank-line"],
)  # fmt: skip
def test_side_file_problems_name_the_physical_line(tmp_path, name, text, expected):
    # Records were once counted rather than lines: a blank line or a quoted line break
    # above a bad row put its problem on the line before.
    code, report = check_side_file(tmp_path, text, name)
    assert code == 2
    assert f"line {expected}:" in report, report


def test_a_duplicate_encounter_id_is_refused_not_silently_collapsed(world, private_files):  # noqa: F811
    # Two different visits under one id: the import once kept one (the first in column
    # order) and dropped the other, without a word.
    job = upload_csv(world, ENCOUNTER_CSV.replace("OP2,", "OP1,"), "enc.csv")
    assert job.state == ImportJob.State.INVALID, side_rows(world, "encounters")
    assert "4,encounter_id,OP1,duplicate encounter_id (first on line 3)" in job_report(job)
    assert side_rows(world, "encounters") == []


def test_one_slot_given_twice_otherwise_is_refused(world, private_files, tmp_path):  # noqa: F811
    # One slot (snapshot, feed and id) given twice alike is one slot; given otherwise, the
    # import would keep one of the two states at random.
    twice = SLOT_CSV.replace("S2,SCH1,busy", "S1,SCH1,busy")
    code, report = check_side_file(tmp_path, twice, "slots.csv")
    assert code == 2
    assert "line 3: slot_id = 'S1': duplicate slot (first on line 2, given otherwise)" in report
    job = upload_csv(world, twice, "slots.csv")
    assert job.state == ImportJob.State.INVALID
    assert side_rows(world, "slots") == []
    # Another snapshot's, or another feed's, S1 is another slot.
    other_day = twice[: twice.rindex("2025-06-02")] + "2025-06-09\n"
    job = upload_csv(world, other_day, "slots.csv")
    assert job.state == ImportJob.State.DONE, job_report(job)
    assert [r[0] for r in side_rows(world, "slots")] == ["2025-06-02|id:S1", "2025-06-09|id:S1"]


def test_cells_are_stored_stripped_as_they_were_checked(world, private_files):  # noqa: F811
    # The check strips a cell as Python does (tabs, no-break spaces ...); the store once
    # stripped spaces only, and kept "\tOAK" for the clinic the check had read as "OAK".
    text = SLOT_CSV.replace(",OAK,", ",\tOAK\u00a0,").replace("S1,", "S1\u3000,")
    job = upload_csv(world, text, "slots.csv")
    assert job.state == ImportJob.State.DONE, job.quality
    assert [(r[0], r[7]) for r in side_rows(world, "slots")] == [
        ("2025-06-02|id:S1", "OAK"),
        ("2025-06-02|id:S2", "OAK"),
    ]


def test_a_long_row_the_check_reads_is_stored(world, private_files):  # noqa: F811
    # Twenty notes of 100,000 characters: 4 MB of UTF-8 in one row, within the check's
    # limits (a cell of 131,072 characters, a record of 4 Mi) but over DuckDB's default 2 MB.
    notes = ",".join(f"note{i}" for i in range(20))
    long = ",".join(["\u00e9" * 100_000] * 20)
    lines = SLOT_CSV.splitlines()
    text = "\n".join([f"{lines[0]},{notes}", *(f"{line},{long}" for line in lines[1:])]) + "\n"
    job = upload_csv(world, text, "slots.csv")
    assert job.state == ImportJob.State.DONE, job.quality
    assert [r[2] for r in side_rows(world, "slots")] == ["S1", "S2"]


def test_the_stored_cells_strip_what_python_strips():
    from commonground.access import side

    every = {chr(c) for c in range(0x110000) if chr(c).isspace()}
    assert set(side._WHITESPACE) == every
