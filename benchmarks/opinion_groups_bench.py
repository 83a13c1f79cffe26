"""Benchmark: `commonground opinion-groups` against red-dwarf 0.4.0 on one synthetic file.

    .venv/bin/python benchmarks/opinion_groups_bench.py [--participants 10000]
        [--statements 1000] [--density 0.2] [--repeat 3] [--skip-red-dwarf]

1. Generates a synthetic Pol.is ``participants-votes.csv`` (default 10,000 participants x
   1,000 statements, 20 % of cells voted, three latent opinion groups; seeded, so every run
   uses the same file) in a temporary folder.
2. Times ``commonground opinion-groups FILE --out OUT.json`` as a whole process (interpreter
   start, Django start-up, reading, computing, writing JSON), best of ``--repeat`` runs. If the
   deliberation app is not in INSTALLED_APPS yet, the same command runs with a temporary
   settings module that adds it.
3. Times red-dwarf 0.4.0 (the Python reimplementation of Pol.is, MPL-2.0) on the same file in
   the same run, also as a whole process: a driver reads the file with pandas, turns it into
   red-dwarf's vote records and calls ``reddwarf.implementations.polis.run_pipeline``.
   red-dwarf is installed only in ``benchmarks/.venv-bench`` (created on first use with
   ``pip install red-dwarf==0.4.0``), never in the project's .venv.
4. Prints both times and the ratio, plus the in-process engine time for the file and for a
   250 x 300 committee/summit-scale file.

Targets (issue): <= 1.5 s for ours, >= 8x faster than red-dwarf, 250 x 300 in <= 0.1 s.
This is a benchmark, not a test: nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
BENCH_VENV = REPO / "benchmarks" / ".venv-bench"
RED_DWARF = "red-dwarf==0.4.0"

_CELL = ("", "1", "-1", "0")  # code 0 = not voted, 1 agree, 2 disagree, 3 pass


def generate(
    path: Path,
    n_participants: int,
    n_statements: int,
    *,
    density: float = 0.2,
    n_groups: int = 3,
    seed: int = 2024,
) -> np.ndarray:
    """Write a synthetic participants-votes.csv; returns the latent group of each row.

    Each latent group has its own agree / disagree / pass probabilities per statement; each
    participant votes on a random ``density`` share of the statements. The exported
    ``group-id`` column carries the latent group, so agreement can be checked.
    """
    rng = np.random.default_rng(seed)
    latent = rng.integers(0, n_groups, size=n_participants)
    # Per group and statement: a leaning in [-1, 1]; votes follow it with some noise.
    leaning = rng.uniform(-1.0, 1.0, size=(n_groups, n_statements))
    p_pass = rng.uniform(0.05, 0.25, size=(n_groups, n_statements))
    p_agree = (1.0 - p_pass) * (0.5 + 0.45 * leaning)
    u = rng.random((n_participants, n_statements))
    pa = p_agree[latent]
    pp = p_pass[latent]
    codes = np.where(u < pa, 1, np.where(u < pa + pp, 3, 2)).astype(np.int8)
    codes[rng.random((n_participants, n_statements)) >= density] = 0
    header = "participant,xid,group-id,n-comments,n-votes,n-agree,n-disagree," + ",".join(
        str(j) for j in range(n_statements)
    )
    lines = [header]
    for i in range(n_participants):
        row = codes[i]
        cells = ",".join(_CELL[c] for c in row.tolist())
        n_votes = int((row > 0).sum())
        lines.append(
            f"{i},,{latent[i]},0,{n_votes},{int((row == 1).sum())},{int((row == 2).sum())},{cells}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return latent


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _time_process(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
    return time.perf_counter() - start


def _ours_command(csv_path: Path, out: Path, workdir: Path) -> tuple[list[str], dict[str, str]]:
    """The console-script command, with a settings shim if the app is not installed yet."""
    script = REPO / ".venv" / "bin" / "commonground"
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    probe = subprocess.run(  # noqa: S603
        [str(script), "help", "opinion_groups"], capture_output=True, text=True, env=env
    )
    if probe.returncode != 0:
        shim = workdir / "bench_settings.py"
        shim.write_text(
            "from config.settings import *  # noqa: F403\n"
            "INSTALLED_APPS = [*INSTALLED_APPS, 'commonground.deliberation']  # noqa: F405\n",
            encoding="utf-8",
        )
        env["PYTHONPATH"] = os.pathsep.join([str(workdir), str(REPO), env.get("PYTHONPATH", "")])
        env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
        print("  (deliberation app not in INSTALLED_APPS: timing with a settings shim)")
    # The issue names the command `opinion-groups`; Django's module name is opinion_groups.
    name = "opinion_groups"
    return [str(script), name, str(csv_path), "--out", str(out)], env


RED_DWARF_DRIVER = textwrap.dedent(
    """
    import sys, time
    import pandas as pd
    from reddwarf.implementations.polis import run_pipeline

    t0 = time.perf_counter()
    df = pd.read_csv(sys.argv[1], dtype={"participant": int})
    meta = ["participant", "xid", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"]
    cells = df.drop(columns=[c for c in meta if c in df.columns and c != "participant"])
    long = cells.melt(id_vars="participant", var_name="statement_id", value_name="vote")
    long = long.rename(columns={"participant": "participant_id"})
    long = long.dropna(subset=["vote"])  # empty cell = not voted
    long["statement_id"] = long["statement_id"].astype(int)
    long["vote"] = long["vote"].astype(int)
    long["modified"] = 0
    votes = long.to_dict("records")
    t1 = time.perf_counter()
    result = run_pipeline(votes=votes, random_state=0)
    t2 = time.perf_counter()
    k = len(set(int(x) for x in result.clusterer.labels_)) if result.clusterer else 0
    print(f"{t1 - t0:.3f} {t2 - t1:.3f} {k}")
    """
)


def ensure_red_dwarf() -> Path:
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        print(f"Creating {BENCH_VENV} with {RED_DWARF} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)  # noqa: S603
    check = subprocess.run(  # noqa: S603
        [str(python), "-c", "import reddwarf, importlib.metadata as m; "
         "print(m.version('red-dwarf'))"],
        capture_output=True, text=True,
    )  # fmt: skip
    if check.returncode != 0 or check.stdout.strip() != "0.4.0":
        subprocess.run(  # noqa: S603
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             RED_DWARF],
            check=True,
        )  # fmt: skip
    return python


def engine_seconds(csv_path: Path, repeat: int) -> tuple[float, float, int, np.ndarray]:
    """In-process: (read seconds, analyse seconds, k, group of each row) best of ``repeat``."""
    sys.path.insert(0, str(REPO))
    from commonground.deliberation.opinion import analyse
    from commonground.deliberation.polis_io import read_participants_votes

    reads, runs = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        export = read_participants_votes(csv_path)
        matrix = export.vote_matrix()
        t1 = time.perf_counter()
        result = analyse(matrix)
        t2 = time.perf_counter()
        reads.append(t1 - t0)
        runs.append(t2 - t1)
    groups = result.group_of_participant()
    labels = np.array([groups.get(p, None) for p in export.participants], dtype=object)
    return min(reads), min(runs), result.k, labels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--statements", type=int, default=1_000)
    parser.add_argument("--density", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-red-dwarf", action="store_true")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from commonground.deliberation.opinion import adjusted_rand_index

    print(f"load average before: {_load()}; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="opinion-bench-") as tmp:
        work = Path(tmp)
        big = work / "participants-votes.csv"
        small = work / "small-participants-votes.csv"
        print(
            f"Generating {args.participants} x {args.statements}, {args.density:.0%} voted, "
            "3 latent groups ...",
            flush=True,
        )
        latent = generate(big, args.participants, args.statements, density=args.density)
        generate(small, 250, 300, density=args.density, seed=7)
        print(f"  file: {big.stat().st_size / 1e6:.1f} MB")

        read_s, run_s, k, labels = engine_seconds(big, args.repeat)
        clustered = [i for i, g in enumerate(labels) if g is not None]
        ari = adjusted_rand_index([labels[i] for i in clustered], [latent[i] for i in clustered])
        print(
            f"ours, in process: read {read_s:.3f} s + analyse {run_s:.3f} s; k = {k}, "
            f"ARI vs latent groups = {ari:.4f} over {len(clustered)} clustered"
        )
        s_read, s_run, s_k, _ = engine_seconds(small, max(args.repeat, 5))
        print(f"ours, in process, 250 x 300: read {s_read:.4f} s + analyse {s_run:.4f} s (k={s_k})")

        cmd, env = _ours_command(big, work / "out.json", work)
        ours = [_time_process(cmd, env) for _ in range(args.repeat)]
        print(
            f"ours, whole process `{' '.join(Path(c).name for c in cmd[:2])}`: "
            f"best {min(ours):.3f} s, median {statistics.median(ours):.3f} s "
            f"over {args.repeat} runs"
        )
        small_cmd, _ = _ours_command(small, work / "small.json", work)
        small_runs = [_time_process(small_cmd, env) for _ in range(args.repeat)]
        print(f"ours, whole process, 250 x 300: best {min(small_runs):.3f} s")
        pure = [
            str(REPO / ".venv" / "bin" / "python"),
            "-m",
            "commonground.deliberation.opinion_cli",
        ]
        pure_runs = [
            _time_process([*pure, str(big), "--out", str(work / "pure.json")])
            for _ in range(args.repeat)
        ]
        print(
            "ours, whole process without Django (python -m ...opinion_cli): "
            f"best {min(pure_runs):.3f} s"
        )

        if args.skip_red_dwarf:
            return 0
        python = ensure_red_dwarf()
        driver = work / "red_dwarf_driver.py"
        driver.write_text(RED_DWARF_DRIVER, encoding="utf-8")
        start = time.perf_counter()
        proc = subprocess.run(  # noqa: S603
            [str(python), str(driver), str(big)], check=True, capture_output=True, text=True
        )
        rd_total = time.perf_counter() - start
        rd_load, rd_pipeline, rd_k = proc.stdout.split()
        print(
            f"red-dwarf 0.4.0, whole process: {rd_total:.3f} s "
            f"(load+convert {float(rd_load):.3f} s, run_pipeline {float(rd_pipeline):.3f} s; "
            f"k = {rd_k})"
        )
        print(
            f"ratio red-dwarf / ours (whole process, best): {rd_total / min(ours):.1f}x; "
            f"run_pipeline alone / our in-process read+analyse: "
            f"{float(rd_pipeline) / (read_s + run_s):.1f}x"
        )
    print(f"load average after: {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
