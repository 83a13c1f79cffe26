"""Generator of a realistic synthetic canonical appointment extract (access-and-parity.md §6.1).

    .venv/bin/python benchmarks/access_generate.py OUT.csv [--rows 1000000] [--seed 7]

One row per appointment, every status, all 28 canonical columns, in the layout of section 6.1.
The rows come from ``commonground.access.synthetic`` (shared with the demo region): shapes
after section 10 of the spec, provider cancellations with a rebooked appointment, no-shows,
patient cancellations, future bookings after the cut-off, urgent requests, 3 % of requests
without a request date and 15 % whose request time equals the booking time, 5 % of rows with
a blank ``appointment_kind``. Timestamps are local clinic time with their UTC offset; federal
holidays. Generated in blocks (flat memory), each block sorted by appointment start. Seeded:
the same arguments give the same file. Synthetic only: no real person is described.

Never write large files into the repository; use a temporary directory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from commonground.access.synthetic import COLUMNS, Period, write_csv  # noqa: E402
from commonground.core.business_days import preset_holidays  # noqa: E402

__all__ = ["COLUMNS", "generate", "main"]


def generate(
    path: Path,
    rows: int,
    *,
    seed: int = 7,
    first: str = "2024-01-01",
    last: str = "2025-12-31",
    as_of: str = "2025-10-31",
    block_rows: int = 1_000_000,
) -> int:
    """Write exactly ``rows`` rows (plus a header) to ``path``; returns the row count."""
    period = Period(
        dt.date.fromisoformat(first), dt.date.fromisoformat(last), dt.date.fromisoformat(as_of)
    )
    years = range(period.first.year, period.last.year + 2)
    holidays = sorted(preset_holidays("federal", years))
    return write_csv(path, rows, seed=seed, period=period, holidays=holidays,
                     block_rows=block_rows)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    n = generate(args.out, args.rows, seed=args.seed)
    size = args.out.stat().st_size / 1e6
    print(f"wrote {n:,} rows, {size:,.0f} MB, in {time.perf_counter() - began:.1f} s: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
