"""``commonground access check`` through ``run_check`` and the management command."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys

import pytest

from commonground.access import synthetic
from commonground.access.cli import main, run_check
from commonground.access.tests.helpers import SPEC_ROWS, initial, row, write_csv
from commonground.core.business_days import preset_holidays

REQUIRED_COLUMNS = [
    "metric",
    "start_appointment_id",
    "start_date",
    "stop_appointment_id",
    "stop_date",
    "business_days",
    "hours",
    "deadline",
    "status",
]
METRICS = {
    "initial_non_urgent_mh",
    "initial_psychiatry",
    "initial_primary_care",
    "initial_specialist",
    "follow_up_sb221",
    "urgent",
}
STATUSES = {
    "compliant",
    "noncompliant",
    "exception",
    "patient_preference",
    "pending",
    "unknown_request_date",
    "not_applicable",
}


def _spec(tmp_path):
    path = tmp_path / "spec.csv"
    path.write_text(SPEC_ROWS, encoding="utf-8")
    return path


def test_check_writes_one_row_per_unit(tmp_path):
    out = tmp_path / "results.csv"
    stdout = io.StringIO()
    code = run_check(
        [str(_spec(tmp_path)), "--as-of", "2025-03-25", "--out", str(out)], stdout=stdout
    )
    assert code == 0, stdout.getvalue()
    with out.open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames is not None
        assert reader.fieldnames[: len(REQUIRED_COLUMNS)] == REQUIRED_COLUMNS
        rows = list(reader)
    got = {(r["metric"], r["start_appointment_id"]): r for r in rows}
    assert set(got) == {
        ("initial_non_urgent_mh", "A1001"),
        ("initial_psychiatry", "A1003"),
        ("follow_up_sb221", "A1001"),
        ("follow_up_sb221", "A1002"),
    }
    a1001 = got[("initial_non_urgent_mh", "A1001")]
    assert (a1001["start_date"], a1001["stop_appointment_id"], a1001["stop_date"]) == (
        "2025-01-06",
        "A1001",
        "2025-01-21",
    )
    assert (a1001["business_days"], a1001["hours"], a1001["deadline"], a1001["status"]) == (
        "10",
        "",
        "2025-01-21",
        "compliant",
    )
    a1003 = got[("initial_psychiatry", "A1003")]
    assert (a1003["stop_appointment_id"], a1003["status"]) == ("", "noncompliant")
    assert got[("follow_up_sb221", "A1001")]["business_days"] == "19"
    assert {r["metric"] for r in rows} <= METRICS
    assert {r["status"] for r in rows} <= STATUSES


def test_summary_names_its_choices_and_suppresses_small_counts(tmp_path):
    stdout = io.StringIO()
    code = run_check([str(_spec(tmp_path)), "--calendar", "ca-state"], stdout=stdout)
    report = stdout.getvalue()
    assert code == 0
    assert "calendar: ca-state@calhr-2010.1" in report
    assert "sensitivity calendar: federal@opm-2021.1" in report
    assert "as-of (data cut-off): 2025-03-20 (inferred" in report
    assert "read as clinic-local time" in report
    # Every count here is 1-10: nothing but zeros may be shown.
    table = report.split("Metrics")[1].split("Waits")[0]
    for line in table.splitlines()[2:]:
        if line.strip():
            cells = line.split()[1:9]
            assert all(c in ("hidden", "0") for c in cells), line
            assert line.split()[-2:] == ["-", "-"]  # rates from hidden cells are hidden
    assert "Parity" in report and "not enough data" in report


def test_the_report_is_the_same_with_and_without_unit_rows(tmp_path):
    """Without ``--out`` only the columns the summaries read are computed (a shortcut)."""
    as_of = dt.date(2025, 10, 31)
    period = synthetic.Period(dt.date(2024, 1, 1), dt.date(2025, 12, 31), as_of)
    holidays = sorted(preset_holidays("federal", range(2024, 2027)))
    path = tmp_path / "extract.csv"
    synthetic.write_csv(path, 30_000, seed=3, period=period, holidays=holidays)
    reports = []
    for extra in ([], ["--out", str(tmp_path / "units.csv")]):
        stdout = io.StringIO()
        assert run_check([str(path), "--as-of", as_of.isoformat(), *extra], stdout=stdout) == 0
        reports.append(stdout.getvalue().split("\nwrote ")[0])
    # Every section is filled: counts, waits, calendar sensitivity, data quality, parity.
    for shown in ("initial_non_urgent_mh        4,", "no follow-up scheduled (patient still",
                  "initial_non_urgent_mh          31", "equals the booking time: 15.",
                  "25 shared clinic(s)", "95% bootstrap CI"):  # fmt: skip
        assert shown in reports[0]
    assert reports[0] == reports[1]


def test_solvers_imported_alongside_a_large_file_give_the_same_report(tmp_path, monkeypatch):
    import threading

    from commonground.access import cli

    reports = []
    for threshold in (10**15, 0):  # never, then always in the background
        monkeypatch.setattr(cli, "IMPORT_SOLVERS_FROM_BYTES", threshold)
        stdout = io.StringIO()
        assert run_check([str(_spec(tmp_path))], stdout=stdout) == 0
        reports.append(stdout.getvalue())
        assert not [t for t in threading.enumerate() if t.name == "import-solvers"]
    assert "hidden" in reports[0]  # the spec's counts are suppressed: the solvers were used
    assert reports[0] == reports[1]
    bad = tmp_path / "bad.csv"
    bad.write_text(SPEC_ROWS.replace(",completed,", ",done,", 1))
    assert run_check([str(bad)], stdout=io.StringIO()) == 2
    assert not [t for t in threading.enumerate() if t.name == "import-solvers"]


def test_large_enough_counts_are_shown_with_rates(tmp_path):
    rows = [
        initial(f"I{i}", "2025-01-06T09:00:00",
                "2025-01-13T10:00:00" if i < 15 else "2025-02-13T10:00:00", patient_id=f"P{i}")
        for i in range(30)
    ]  # fmt: skip
    rows += [row(f"F{i}", "2025-02-20T10:00:00", patient_id=f"P{i}") for i in range(30)]
    path = write_csv(tmp_path / "many.csv", rows)
    stdout = io.StringIO()
    assert run_check([str(path), "--as-of", "2025-03-31"], stdout=stdout) == 0
    line = next(x for x in stdout.getvalue().splitlines() if x.strip().startswith("initial_non"))
    assert line.split()[1:4] == ["30", "15", "15"]
    assert "50.0%" in line


def test_invalid_file_exits_2_and_writes_no_results(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(SPEC_ROWS.replace(",completed,", ",done,", 1))
    out = tmp_path / "results.csv"
    stdout = io.StringIO()
    assert run_check([str(path), "--out", str(out)], stdout=stdout) == 2
    assert not out.exists()
    assert "line 2: status = 'done'" in stdout.getvalue()


def test_standalone_entry_point(tmp_path, capsys):
    assert main(["check", str(_spec(tmp_path))]) == 0
    assert "valid: yes" in capsys.readouterr().out
    assert main(["import", "x"]) == 2


def test_management_command_forwards_to_run_check(tmp_path, capsys):
    from commonground.access.management.commands.access import Command

    Command().run_from_argv(["commonground", "access", "check", str(_spec(tmp_path))])
    assert "valid: yes" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(SPEC_ROWS.replace(",lmft,", ",therapist,", 1))
    with pytest.raises(SystemExit) as exc:
        Command().run_from_argv(["commonground", "access", "check", str(bad)])
    assert exc.value.code == 2


def test_console_script_checks_without_django_and_says_the_same(tmp_path, capsys):
    """``commonground access check`` skips Django's start-up: same report, same exit status."""
    from commonground.__main__ import main as console
    from commonground.access.management.commands.access import Command

    bad = tmp_path / "bad.csv"
    bad.write_text(SPEC_ROWS.replace(",lmft,", ",therapist,", 1))
    for path, status in ((_spec(tmp_path), None), (bad, 2)):
        said = []
        for run in (console, Command().run_from_argv):
            try:
                run(["commonground", "access", "check", str(path), "--as-of", "2025-03-25"])
                code = None
            except SystemExit as exc:
                code = exc.code
            assert code == status
            said.append(capsys.readouterr())
        assert said[0].out == said[1].out and said[0].out.startswith("Common Ground access check")
        assert said[0].err == said[1].err


def test_console_script_check_imports_no_django(tmp_path):
    code = (
        "import sys\n"
        "from commonground.__main__ import main\n"
        f"main(['commonground', 'access', 'check', {str(_spec(tmp_path))!r}])\n"
        "print('django' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert "valid: yes" in done.stdout
    assert done.stdout.splitlines()[-1] == "False"


def test_the_report_gives_the_sensitivity_rate(tmp_path):
    """access-and-parity.md 4: rate = met / (met + missed); the sensitivity rate also counts
    documented exceptions and patient preferences as missed. 12 met, 11 of each other."""
    kinds = ["met"] * 12 + ["missed"] * 11 + ["exception"] * 11 + ["preference"] * 11
    rows = []
    for i, kind in enumerate(kinds):
        longer = "true" if kind == "exception" else "false"
        later = "true" if kind == "preference" else "false"
        follow_up = "2025-01-13T10:00:00" if kind == "met" else "2025-02-20T10:00:00"
        rows.append(
            row(
                f"V{i}",
                "2025-01-06T10:00:00",
                patient_id=f"P{i}",
                longer_interval_documented=longer,
            )
        )
        rows.append(row(f"N{i}", follow_up, patient_id=f"P{i}", patient_requested_later=later))
    path = write_csv(tmp_path / "sens.csv", rows)
    stdout = io.StringIO()
    assert run_check([str(path), "--as-of", "2025-03-31"], stdout=stdout) == 0
    line = next(
        x for x in stdout.getvalue().splitlines() if x.strip().startswith("follow_up_sb221")
    )
    cells = line.split()
    assert cells[2:6] == ["12", "11", "11", "11"]  # met, missed, exception, preference
    assert cells[-2:] == ["52.2%", "26.7%"]  # 12 / 23 and 12 / 45
