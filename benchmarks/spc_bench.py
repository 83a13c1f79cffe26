"""Timing of the SPC engine on long series: `python benchmarks/spc_bench.py [points ...]`.

Weekly QI measures have tens to hundreds of points; this checks that much longer series
(daily data over years, or a regional roll-up) stay interactive.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np

from commonground.improvement import spc


def bench(points: int, repeat: int = 3) -> None:
    rng = np.random.default_rng(20240601)
    y = [float(v) for v in rng.normal(20, 4, points).round(1)]
    counts = [int(v) for v in rng.binomial(200, 0.3, points)]
    sizes = [200] * points
    cases: dict[str, Callable[[], object]] = {
        "run": lambda: spc.compute_chart("run", y, parts=[points // 2]),
        "i": lambda: spc.compute_chart("i", y, freeze=points // 3),
        "pp": lambda: spc.compute_chart("pp", counts, n=sizes),
        "mdc": lambda: spc.compute_mdc(y, "decrease", target=18, rebase=[points // 2]),
    }
    for name, case in cases.items():
        best = min(_timed(case) for _ in range(repeat))
        per_point = best / points * 1e6
        print(f"{points:>8} points  {name:<4} {best * 1000:9.1f} ms  ({per_point:.2f} us/point)")


def _timed(case: Callable[[], object]) -> float:
    start = time.perf_counter()
    case()
    return time.perf_counter() - start


if __name__ == "__main__":
    sizes = [int(arg) for arg in sys.argv[1:]] or [52, 520, 5_200, 52_000]
    for size in sizes:
        bench(size)
