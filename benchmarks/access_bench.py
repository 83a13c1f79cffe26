"""Benchmark: `commonground access check` against a pandas and a DuckDB reference.

    .venv/bin/python benchmarks/access_bench.py [--rows 1000000] [--repeat 1]
        [--skip-pandas] [--workdir DIR] [--keep] [--cores N]

1. Generates a realistic synthetic canonical extract (``access_generate.py``; default
   1,000,000 rows, 10,000,000 is the target size) in a temporary folder, never in the repo.
2. Times, in one run and each as a whole process (interpreter start included), best of
   ``--repeat`` rounds, with the CPU time and peak resident memory of the process
   (``os.wait4``). A round runs (a), (c) and (a) with ``--out`` back to back, in reverse
   order every second round, so that a machine that is slower for a few minutes slows both
   sides of a ratio; the median of the rounds' ratios is printed beside the best times':
   (a) ``commonground access check FILE --as-of CUTOFF`` end to end (validation of every
       row, all six metrics under two calendars, Kaplan-Meier, parity, suppression, report);
       again with ``--out`` (one CSV row per measured unit) as a second figure;
   (b) a plain pandas implementation of the initial-access and SB 221 rates
       (``access_reference.py pandas``), run in ``benchmarks/.venv-bench`` (pandas is not a
       project dependency; installed there with pip on first use, or skipped with a message);
   (c) a reference DuckDB query computing the same two rates straight from the CSV
       (``access_reference.py duckdb``).
3. Checks that the three agree on both rates, prints wall times, ratios and peak memory.

``--cores N`` runs every timed process on N of the machine's CPUs, to see how each side's
time depends on the cores: pandas computes on one, DuckDB on all it is given.

Targets (issue): (a) <= 1.5x (c), (a) >= 20x faster than (b), peak RSS <= 2 GB.
If the access app is not in INSTALLED_APPS yet, (a) runs with a temporary settings shim.
This is a benchmark, not a test: nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_VENV = REPO / "benchmarks" / ".venv-bench"
sys.path.insert(0, str(REPO))

# Only light imports here: a child's peak RSS (``os.wait4``) includes the memory of this
# process at fork time, so the generator runs in a subprocess too.
from commonground.core.business_days import preset_holidays  # noqa: E402

AS_OF = "2025-10-31"  # the generator's cut-off


@dataclass
class Timing:
    label: str
    seconds: float  # best wall time
    cpu: float  # user + system time of that run
    peak_mb: float  # largest peak RSS of all runs
    output: str
    rounds: list[float] = field(default_factory=list)  # every run's wall time, in order


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# The CPUs every timed process may run on (``--cores``); None: all of the machine's.
CPUS: set[int] | None = None


def pin_to_cpus() -> None:  # runs in the child between fork and exec
    if CPUS is not None:
        os.sched_setaffinity(0, CPUS)


def run_once(
    label: str, cmd: list[str], env: dict[str, str] | None
) -> tuple[float, float, float, str]:
    """Wall time, CPU time (user + system), peak RSS (MB) and standard output of one run."""
    with tempfile.TemporaryFile() as out_file:
        start = time.perf_counter()
        proc = subprocess.Popen(  # noqa: S603
            cmd, env=env, stdout=out_file, stderr=subprocess.PIPE, preexec_fn=pin_to_cpus
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        out_file.seek(0)
        output = out_file.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{label} exited {code}:\n{output[-2000:]}\n{stderr[-2000:]}")
    peak_mb = usage.ru_maxrss / 1024  # KB on Linux
    return elapsed, usage.ru_utime + usage.ru_stime, peak_mb, output


Command = tuple[str, list[str], dict[str, str] | None]


def run_rounds(commands: list[Command], repeat: int) -> list[Timing]:
    """``repeat`` rounds of every command, in turns: reversed order in every second round."""
    timings = {label: Timing(label, float("inf"), 0.0, 0.0, "") for label, _, _ in commands}
    for round_ in range(repeat):
        for label, cmd, env in commands if round_ % 2 == 0 else commands[::-1]:
            elapsed, cpu, peak, output = run_once(label, cmd, env)
            t = timings[label]
            t.rounds.append(elapsed)
            if elapsed < t.seconds:
                t.seconds, t.cpu, t.output = elapsed, cpu, output
            t.peak_mb = max(t.peak_mb, peak)
    return [timings[label] for label, _, _ in commands]


def median_ratio(ours: Timing, reference: Timing) -> float:
    return statistics.median(a / b for a, b in zip(ours.rounds, reference.rounds, strict=True))


def extract_file(workdir: Path, rows: int) -> Path:
    """The generated extract of ``rows`` rows in ``workdir`` (generated once, then reused)."""
    csv_path = workdir / f"extract-{rows}.csv"
    if not csv_path.exists():
        generator = REPO / "benchmarks" / "access_generate.py"
        subprocess.run(  # noqa: S603
            [sys.executable, str(generator), str(csv_path), "--rows", str(rows)], check=True
        )
    return csv_path


def ours_command(csv_path: Path, workdir: Path) -> tuple[list[str], dict[str, str]]:
    """The console-script command, with a settings shim if the app is not installed yet."""
    script = REPO / ".venv" / "bin" / "commonground"
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    probe = subprocess.run(  # noqa: S603
        [str(script), "help", "access"], capture_output=True, text=True, env=env, check=False
    )
    if probe.returncode != 0:
        shim = workdir / "bench_settings.py"
        shim.write_text(
            "from config.settings import *  # noqa: F403\n"
            "INSTALLED_APPS = [*INSTALLED_APPS, 'commonground.access']  # noqa: F405\n",
            encoding="utf-8",
        )
        env["PYTHONPATH"] = os.pathsep.join([str(workdir), str(REPO), env.get("PYTHONPATH", "")])
        env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
        print("  (access app not in INSTALLED_APPS: timing with a settings shim)")
    return [str(script), "access", "check", str(csv_path), "--as-of", AS_OF], env


def ensure_pandas() -> Path | None:
    python = BENCH_VENV / "bin" / "python"
    try:
        if not python.exists():
            print(f"Creating {BENCH_VENV} ...", flush=True)
            subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)  # noqa: S603
        probe = subprocess.run(  # noqa: S603
            [str(python), "-c", "import pandas, numpy; print(pandas.__version__)"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if probe.returncode != 0:
            print("Installing pandas into benchmarks/.venv-bench ...", flush=True)
            subprocess.run(  # noqa: S603
                [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "pandas"],
                check=True,
            )  # fmt: skip
        return python
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"pandas unavailable ({exc}): skipping (b)")
        return None


def rates_from_units(path: Path) -> dict[str, float]:
    counts: dict[tuple[str, str], int] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            key = (row["metric"], row["status"])
            counts[key] = counts.get(key, 0) + 1
    out = {}
    for metric in ("initial_non_urgent_mh", "follow_up_sb221"):
        c = counts.get((metric, "compliant"), 0)
        n = counts.get((metric, "noncompliant"), 0)
        out[metric] = c / (c + n)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary dir")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument(
        "--cores", type=int, default=None,
        help="run every timed process on this many of the machine's CPUs (default: all)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    global CPUS
    available = sorted(os.sched_getaffinity(0))
    if args.cores is not None:
        if not 1 <= args.cores <= len(available):
            parser.error(f"--cores must be 1 to {len(available)}")
        CPUS = set(available[: args.cores])
    cores = len(CPUS or available)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="access-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if workdir.resolve().is_relative_to(REPO):
        parser.error("--workdir must be outside the repository")
    try:
        csv_path = extract_file(workdir, args.rows)
        holidays = workdir / "federal.json"
        holidays.write_text(
            json.dumps([d.isoformat() for d in preset_holidays("federal", range(2015, 2031))])
        )
        print(
            f"load average before: {load_average()}  ({cores} of {os.cpu_count()} CPUs; "
            "other load slows every side)"
        )
        cmd, env = ours_command(csv_path, workdir)
        units = workdir / "units.csv"
        ref = [str(REPO / "benchmarks" / "access_reference.py"), str(csv_path), str(holidays)]
        duck_cmd = [str(REPO / ".venv" / "bin" / "python"), ref[0], "duckdb", *ref[1:], AS_OF]
        results = run_rounds(
            [
                ("(a) commonground access check", cmd, env),
                ("(c) DuckDB reference query", duck_cmd, None),
                ("(a') ... with --out", [*cmd, "--out", str(units)], env),
            ],
            args.repeat,
        )
        pandas_python = None if args.skip_pandas else ensure_pandas()
        if pandas_python is not None:
            pd_cmd = [str(pandas_python), ref[0], "pandas", *ref[1:], AS_OF]
            results += run_rounds([("(b) pandas", pd_cmd, None)], 1)
        elif args.skip_pandas:
            print("(b) pandas skipped (--skip-pandas)")
        print(f"load average after: {load_average()}")

        ours_rates = rates_from_units(units)
        print(f"\n{'':34}{'wall s':>9}{'CPU s':>8}{'peak RSS MB':>13}   rates (initial MH, SB 221)")
        for t in results:
            if t.label.startswith("(a)"):
                rates = "(see the --out run)"
            elif t.label.startswith("(a')"):
                initial, follow = ours_rates["initial_non_urgent_mh"], ours_rates["follow_up_sb221"]
                rates = f"{initial:.6f}, {follow:.6f}"
            else:
                got = json.loads(t.output.strip().splitlines()[-1])
                rates = f"{got['initial_non_urgent_mh']:.6f}, {got['follow_up_sb221']:.6f}"
                agree = all(abs(got[k] - ours_rates[k]) < 1e-9 for k in ours_rates)
                rates += "  (agree)" if agree else "  (DIFFER)"
            print(f"{t.label:34}{t.seconds:>9.2f}{t.cpu:>8.1f}{t.peak_mb:>13,.0f}   {rates}")
        by = {t.label.split()[0]: t for t in results}
        ours, ours_out, duck = by["(a)"], by["(a')"], by["(c)"]
        print()
        if args.repeat > 1:
            rounds = " ".join(f"{a / c:.2f}" for a, c in zip(ours.rounds, duck.rounds, strict=True))
            print(f"check / DuckDB reference, round by round: {rounds}")
        print(
            f"check / DuckDB reference: {ours.seconds / duck.seconds:.2f}x best times, "
            f"{median_ratio(ours, duck):.2f}x median of rounds, "
            f"{ours.cpu / duck.cpu:.2f}x CPU time (target <= 1.5x)"
        )
        print(
            f"check --out / DuckDB reference: {ours_out.seconds / duck.seconds:.2f}x best times, "
            f"{median_ratio(ours_out, duck):.2f}x median of rounds"
        )
        if "(b)" in by:
            print(
                f"pandas / check: {by['(b)'].seconds / ours.seconds:.1f}x, "
                f"pandas / DuckDB reference: {by['(b)'].seconds / duck.seconds:.1f}x "
                f"on {cores} CPU(s) (target >= 20x)"
            )
        peak = max(t.peak_mb for t in results if t.label.startswith("(a"))
        print(f"check peak RSS: {peak:,.0f} MB (target <= 2048 MB)")
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
