"""Benchmark: `commonground access import` time and peak memory as the extract grows.

    .venv/bin/python benchmarks/access_import_bench.py [--rows 1000000 --rows 10000000]
        [--workdir DIR] [--keep]

For each ``--rows`` (default 1,000,000 and 10,000,000):

1. Generates the seeded canonical extract (``access_generate.py``, as ``access_bench.py``
   does; reused from ``--workdir`` when it is there) outside the repository.
2. Makes a throwaway deployment in its own data directory: an SQLite database, migrated, the
   demo region without appointments (``COMMONGROUND_DEMO_APPOINTMENTS=0``), a generated
   pseudonym key. Nothing touches the developer's database.
3. Times ``commonground access import FILE --region northern-california --user
   datasteward.region --wait`` as a whole process with its peak resident memory
   (``os.wait4``): validation of every row, de-identification, the Parquet store and the
   aggregates. Then imports the same file again, which must change nothing.
4. Checks the job's counts (every row new the first time, every row unchanged the second)
   and prints wall times, peak memory and the store's size on disk.

What the issue asks of imports: streaming with flat memory, idempotent re-imports. DuckDB
runs the import under ``COMMONGROUND_ACCESS_MEMORY_LIMIT`` (default 1 GB) and spills to the
job's private directory beyond it. This is a benchmark, not a test: nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from access_bench import REPO, Timing, extract_file, load_average, run_timed

REGION = "northern-california"  # the demo region (commonground.organizations.demo)
STEWARD = "datasteward.region"
COUNTS = re.compile(r"rows: ([\d,]+); new ([\d,]+), changed ([\d,]+), unchanged ([\d,]+)")
# Settings a throwaway deployment must not inherit from the shell.
SCRUBBED_ENV = ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "SECRET_KEY_FILE")


def deployment_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["COMMONGROUND_DATA_DIR"] = str(data_dir)
    env["COMMONGROUND_DEMO_APPOINTMENTS"] = "0"
    return env


def counts(timing: Timing) -> dict[str, int]:
    found = COUNTS.search(timing.output)
    if found is None:
        raise RuntimeError(f"{timing.label}: no job counts in\n{timing.output[-2000:]}")
    values = [int(v.replace(",", "")) for v in found.groups()]
    return dict(zip(("rows", "new", "changed", "unchanged"), values, strict=True))


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def bench_size(workdir: Path, rows: int) -> list[tuple[Timing, dict[str, int]]]:
    csv_path = extract_file(workdir, rows)
    data_dir = workdir / f"deployment-{rows}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir()
    env = deployment_env(data_dir)
    script = str(REPO / ".venv" / "bin" / "commonground")
    subprocess.run([script, "migrate", "-v0"], env=env, check=True)  # noqa: S603
    subprocess.run([script, "seed_demo"], env=env, check=True, capture_output=True)  # noqa: S603
    cmd = [script, "access", "import", str(csv_path), "--region", REGION, "--user", STEWARD,
           "--wait"]  # fmt: skip
    first = run_timed(f"import {rows:,} rows", cmd, env, 1)
    again = run_timed("  the same file again", cmd, env, 1)
    results = [(first, counts(first)), (again, counts(again))]
    expected = [{"rows": rows, "new": rows}, {"rows": rows, "new": 0, "changed": 0,
                                                "unchanged": rows}]  # fmt: skip
    for (timing, got), want in zip(results, expected, strict=True):
        wrong = {k: got[k] for k in want if got[k] != want[k]}
        if wrong:
            raise RuntimeError(f"{timing.label}: expected {want}, got {got}")
    print(f"  store on disk after {rows:,} rows: {size_mb(data_dir / 'private'):,.0f} MB")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, action="append", help="repeatable")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary dir")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args(argv)
    sizes = args.rows or [1_000_000, 10_000_000]

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="access-import-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if workdir.resolve().is_relative_to(REPO):
        parser.error("--workdir must be outside the repository")
    try:
        print(f"load average before: {load_average()}  (2 cores; other load slows every run)")
        results = [r for rows in sizes for r in bench_size(workdir, rows)]
        print(f"load average after: {load_average()}")
        print(f"\n{'':34}{'wall s':>9}{'peak RSS MB':>13}{'rows/s':>12}   new / unchanged")
        for timing, got in results:
            rate = got["rows"] / timing.seconds
            print(
                f"{timing.label:34}{timing.seconds:>9.2f}{timing.peak_mb:>13,.0f}"
                f"{rate:>12,.0f}   {got['new']:,} / {got['unchanged']:,}"
            )
    finally:
        if not args.keep:
            for rows in sizes:
                shutil.rmtree(workdir / f"deployment-{rows}", ignore_errors=True)
            if args.workdir is None:
                shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
