"""Overlapping extracts merge by appointment_id and the latest state wins: the state of the
extract with the later data cut-off (a Bulk Data export's transactionTime, or the time the
data steward gives on upload), whatever the order of the imports; undated extracts fall back
to the order of the imports."""

from __future__ import annotations

import datetime as dt
import io

import duckdb
from django.core.files.base import ContentFile

from commonground.access import services
from commonground.access.models import ImportJob
from commonground.access.tasks import run_import_task
from commonground.access.tests.helpers import SPEC_ROWS
from commonground.access.tests.test_imports import (  # noqa: F401 - private_files: a fixture
    private_files,
    region_store,
)

UTC = dt.UTC
MARCH = dt.datetime(2025, 3, 31, 18, tzinfo=UTC)
FEBRUARY = dt.datetime(2025, 2, 28, 18, tzinfo=UTC)
APRIL = dt.datetime(2025, 4, 15, 18, tzinfo=UTC)
# The same three rows, A1002 now a no-show instead of completed.
NO_SHOW = SPEC_ROWS.replace(",45,completed,", ",45,no_show,").encode()


def run(world, content: bytes, cutoff: dt.datetime | None) -> ImportJob:
    job = services.import_receive(
        actor=world.person("data_steward"), upload=ContentFile(content, name="extract.csv"),
        original_name="extract.csv", region=world.region, enqueue=False, data_cutoff=cutoff,
    )  # fmt: skip
    run_import_task.enqueue(str(job.pk))
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE, (job.last_error, job.quality)
    return job


def stored_states(world) -> dict[str, tuple[str, dt.datetime | None]]:
    """appointment_id -> (status, state_as_of) as stored."""
    files = [str(f) for f in region_store(world).files()]
    con = duckdb.connect()
    rows = con.execute(
        "SELECT appointment_id, status, state_as_of FROM read_parquet($f, "
        "hive_partitioning = false, union_by_name = true)",
        {"f": files},
    ).fetchall()
    return {a: (s, t) for a, s, t in rows}


def counts(job: ImportJob) -> tuple[int | None, ...]:
    return (job.inserted, job.updated, job.unchanged, job.older)


def test_an_older_extract_imported_later_does_not_bring_back_older_states(world):
    first = run(world, SPEC_ROWS.encode(), MARCH)
    assert counts(first) == (3, 0, 0, 0)
    march = MARCH.replace(tzinfo=None)
    assert stored_states(world)["A1002"] == ("completed", march)
    generation = region_store(world).current().number

    # Taken in February, imported after March's: A1002's no-show is the older state.
    older = run(world, NO_SHOW, FEBRUARY)
    assert counts(older) == (0, 0, 2, 1)
    assert stored_states(world)["A1002"] == ("completed", march)
    assert region_store(world).current().number == generation  # not even a file rewritten

    # Taken in April: its state is the latest; the two same rows move on to April.
    newer = run(world, NO_SHOW, APRIL)
    assert counts(newer) == (0, 1, 2, 0)
    april = APRIL.replace(tzinfo=None)
    assert stored_states(world) == {
        "A1001": ("completed", april),
        "A1002": ("no_show", april),
        "A1003": ("cancelled", april),
    }

    # March's extract once more: nothing of it is newer than April's.
    again = run(world, SPEC_ROWS.encode(), MARCH)
    assert counts(again) == (0, 0, 2, 1)
    assert stored_states(world)["A1002"] == ("no_show", april)


def test_an_extract_without_a_cut_off_falls_back_to_the_order_of_the_imports(world):
    run(world, NO_SHOW, APRIL)
    undated = run(world, SPEC_ROWS.encode(), None)
    # Nothing says it is older: the extract imported last wins, as without any dates.
    assert counts(undated) == (0, 1, 2, 0)
    assert stored_states(world)["A1002"] == ("completed", None)
    assert stored_states(world)["A1001"] == ("completed", APRIL.replace(tzinfo=None))
    # And a dated extract after an undated state replaces it.
    dated = run(world, NO_SHOW, FEBRUARY)
    assert counts(dated) == (0, 1, 2, 0)
    assert stored_states(world)["A1002"] == ("no_show", FEBRUARY.replace(tzinfo=None))


def test_re_importing_the_same_dated_file_three_times_changes_nothing(world):
    first = run(world, SPEC_ROWS.encode(), MARCH)
    stored = stored_states(world)
    for _ in range(3):
        again = run(world, SPEC_ROWS.encode(), MARCH)
        assert counts(again) == (0, 0, 3, 0) and again.generation == first.generation
    assert stored_states(world) == stored


def test_partitions_written_before_rows_were_dated_still_merge(world):
    """A store from before ``state_as_of``: its rows read as undated, and merge as such."""
    run(world, SPEC_ROWS.encode(), None)
    con = duckdb.connect()
    for path in region_store(world).files():
        # Files are never modified in place by the store; here the test makes an old one.
        text = str(path)
        con.execute(
            f"COPY (SELECT * EXCLUDE (state_as_of) FROM read_parquet('{text}')) "  # noqa: S608 - test path
            f"TO '{text}.old' (FORMAT parquet)"
        )
        path.unlink()
        path.with_name(path.name + ".old").rename(path)
    described = con.execute(
        "DESCRIBE SELECT * FROM read_parquet($f)", {"f": str(region_store(world).files()[0])}
    ).fetchall()
    assert "state_as_of" not in {r[0] for r in described}
    newer = run(world, NO_SHOW, APRIL)
    assert counts(newer) == (0, 1, 2, 0)
    assert stored_states(world) == {
        "A1001": ("completed", APRIL.replace(tzinfo=None)),
        "A1002": ("no_show", APRIL.replace(tzinfo=None)),
        "A1003": ("cancelled", APRIL.replace(tzinfo=None)),
    }


def test_the_cut_off_given_on_upload_is_shown_and_sets_the_figures_as_of_day(
    world, dana, login, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from commonground.access.models import AggregateRun

    client = login(dana)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("access:import-list"),
            {
                "file": ContentFile(SPEC_ROWS.encode(), name="extract.csv"),
                "region": world.region.pk,
                "data_cutoff": "2025-04-02T17:30",  # Pacific time
            },
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.state == "done"
    assert job.data_cutoff == dt.datetime(2025, 4, 3, 0, 30, tzinfo=UTC)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Data cut-off: <time" in page and "(as given on upload)" in page
    assert AggregateRun.objects.filter(region=world.region).latest("pk").as_of == dt.date(
        2025, 4, 2
    )


def test_the_command_line_import_takes_a_cut_off_and_reports_rows_not_applied(world, tmp_path):
    from django.core.management import call_command

    run(world, SPEC_ROWS.encode(), APRIL)
    out = io.StringIO()
    path = tmp_path / "older.csv"
    path.write_bytes(NO_SHOW)
    call_command(
        "access", "import", str(path), "--region", world.region.slug,
        "--user", world.person("data_steward").username, "--wait",
        "--cutoff", "2025-02-28T10:00", stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "new 0, changed 0, unchanged 2" in text
    assert "not applied: 1 row(s) whose stored state is from a later data cut-off" in text
    job = ImportJob.objects.latest("created_at")
    assert job.data_cutoff == dt.datetime(2025, 2, 28, 18, tzinfo=UTC)  # 10:00 Pacific


def test_a_cut_off_in_the_future_is_refused_on_the_page_and_the_command_line(
    world, dana, login, tmp_path, capsys
):
    """A cut-off is when the extract was taken. 9999-12-31 23:59 Pacific is past the last
    instant Python holds in UTC, and saving it was a server error; any cut-off far ahead
    would also win every later merge of the same rows."""
    import pytest
    from django.core.management import call_command
    from django.urls import reverse

    client = login(dana)
    for cutoff in ("9999-12-31T23:59", "2099-01-01T00:00"):
        response = client.post(
            reverse("access:import-list"),
            {
                "file": ContentFile(SPEC_ROWS.encode(), name="extract.csv"),
                "region": world.region.pk,
                "data_cutoff": cutoff,
            },
        )
        assert response.status_code == 422, cutoff
        assert "The data cut-off is in the future" in response.content.decode()
    path = tmp_path / "x.csv"
    path.write_bytes(SPEC_ROWS.encode())
    with pytest.raises(SystemExit):  # the command's own argument parser refuses it
        call_command(
            "access", "import", str(path), "--region", world.region.slug,
            "--user", world.person("data_steward").username, "--cutoff", "2099-01-01T00:00",
        )  # fmt: skip
    assert "The data cut-off is in the future" in capsys.readouterr().err
    assert not ImportJob.objects.exists()
