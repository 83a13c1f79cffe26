"""Small-cell suppression for every count or rate that leaves the access modules. No Django.

Rule (access-and-parity.md section 9, CMS convention): a count from 1 to 10 is suppressed;
0 may be shown. Complementary suppression then hides more cells until no suppressed cell can
be recovered from the published cells and totals: every suppressed cell must still be able to
take at least two values consistent with what is shown (suppressed cells are known to be at
least 1, since zeros are shown).

A table is a set of cells and *lines*: a line says that some member cells add up to a total
cell. A two-way table with margins has a line per row and per column (and the grand total);
a list of counts with a published total has one line. Rows whose totals are not published
are simply not lines.

Method: primary suppression; then, until stable, (1) any line with exactly one suppressed
member gets a second one (its smallest positive published member, interior cells before
totals), and (2) an exact audit adds a complement next to any cell whose value follows from
the lines and the published values: whose minimum equals its maximum over the tables
consistent with what is shown (found from the directions the hidden cells can move along
together: ``determined_cells``). For these line systems (one-way lists and two-way tables
with margins) the constraint matrix is totally unimodular, so the bounds are attained at
integer points and "min < max" means at least two integer solutions.

Rates: a rate is published only when its numerator and denominator cells are both
published (``rate``); means, medians and other statistics over fewer than 11 units are
suppressed (``statistic``).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

THRESHOLD = 11  # counts 1 .. THRESHOLD - 1 are suppressed
SUPPRESSED = "<11"

Cell = Any  # any hashable key


@dataclass(frozen=True)
class Line:
    """``total`` = sum of ``members`` (cell keys)."""

    members: tuple[Cell, ...]
    total: Cell


# The audit's solvers are imported when a table first needs them: importing them takes about
# a third of a second, a cost the preflight of a small file should not pay up front.
SOLVER_MODULES = ("scipy.linalg", "scipy.optimize")


def import_solvers_in_background() -> threading.Thread:
    """Import ``SOLVER_MODULES`` on a thread, for a caller about to spend longer in work
    that releases the GIL (DuckDB's queries do): the import then costs it nothing. Join
    the thread before exiting (an import cut short at shutdown is not safe)."""
    thread = threading.Thread(
        target=lambda: [importlib.import_module(name) for name in SOLVER_MODULES],
        name="import-solvers",
    )
    thread.start()
    return thread


def is_small(value: int) -> bool:
    return 0 < value < THRESHOLD


def _sort_key(values: Mapping[Any, int], totals: set[Cell], cell: Cell) -> tuple[int, int, str]:
    return (1 if cell in totals else 0, values[cell], repr(cell))


def suppress(
    values: Mapping[Any, int],
    lines: Sequence[Line],
    *,
    audit: bool = True,
    forced: set[Cell] | frozenset[Cell] = frozenset(),
    known: set[Cell] | frozenset[Cell] = frozenset(),
) -> set[Cell]:
    """The set of cells to suppress (primary, forced and complementary).

    ``known`` cells are ones the reader works out elsewhere whatever this table hides (a
    region's cell where every clinic's is shown is their sum): hiding one protects nothing,
    so none is chosen as a complement, and the audit counts them as published."""
    for line in lines:
        got = sum(values[m] for m in line.members)
        if got != values[line.total]:
            raise ValueError(
                f"line total {line.total!r} is {values[line.total]}, members add to {got}"
            )
    totals = {line.total for line in lines}
    hidden: set[Cell] = {c for c, v in values.items() if is_small(v)} | set(forced)
    while True:
        changed = True
        while changed:
            changed = False
            for line in lines:
                cells = (*line.members, line.total)
                n_hidden = sum(1 for c in cells if c in hidden and c not in known)
                if n_hidden == 1:
                    extra = _complement(values, totals, hidden | known, cells)
                    if extra is not None:
                        hidden.add(extra)
                        changed = True
        if not audit or len(hidden - known) == 0:
            return hidden
        exposed = determined_cells(values, lines, hidden - known)
        if not exposed:
            return hidden
        grew = False
        for cell in sorted(exposed, key=repr):
            for line in lines:
                cells = (*line.members, line.total)
                if cell in cells:
                    extra = _complement(values, totals, hidden | known, cells)
                    if extra is not None:
                        hidden.add(extra)
                        grew = True
                        break
        if not grew:
            # Nothing left to hide next to the exposed cells: hide every positive cell.
            hidden |= {c for c, v in values.items() if v > 0}
            return hidden


def _complement(
    values: Mapping[Any, int], totals: set[Cell], hidden: set[Cell], cells: Sequence[Cell]
) -> Cell | None:
    candidates = [c for c in cells if c not in hidden and values[c] > 0]
    if not candidates:
        return None
    return min(candidates, key=lambda c: _sort_key(values, totals, c))


def determined_cells(
    values: Mapping[Any, int], lines: Sequence[Line], hidden: set[Cell]
) -> set[Cell]:
    """Suppressed cells whose value follows from the published cells (LP bounds meet)."""
    import numpy as np

    order = sorted(hidden, key=repr)
    index = {c: i for i, c in enumerate(order)}
    # Only the hidden cells' coefficients matter: the published ones fix where the lines
    # sit, not which ways the hidden cells can move together.
    rows: list[list[float]] = []
    for line in lines:
        coeffs = [0.0] * len(order)
        for cell, sign in [*((m, 1.0) for m in line.members), (line.total, -1.0)]:
            if cell in index:
                coeffs[index[cell]] += sign
        if any(coeffs):
            rows.append(coeffs)
    if not rows:
        # No line touches a hidden cell: each is free (only known to be >= 1).
        return set()
    a_eq = np.array(rows)
    # Hidden cells are known to be >= 1 (zeros are shown); a zero hidden only because another
    # table forced it is bounded at 0.
    bounds = [(min(1.0, float(values[c])), None) for c in order]
    # The published cells fix the hidden ones up to the null space of the line equations,
    # and a hidden cell at its lower bound cannot go below it. A cell is determined exactly
    # when no direction the hidden cells may move along together (the null space, never
    # lowering a cell at its bound) moves it: the polytope of consistent tables is convex, so
    # a second consistent value is a direction away from the true one. One LP finds which
    # cells at their bound can rise at all; the rest of them stay put, and a null space
    # with those pinned says which cells move. (This is what two LPs per cell, minimising
    # and maximising it, find: test_the_audits_shortcut_finds_exactly_what_the_lps_find.)
    from scipy.linalg import null_space  # type: ignore[import-untyped]

    tolerance = 1e-9
    moving = _moves(null_space(a_eq), tolerance)
    at_bound = [i for i, c in enumerate(order) if float(values[c]) <= bounds[i][0]]
    if any(moving[i] for i in at_bound):  # else no direction moves them: nothing to pin
        rising = _can_rise(a_eq, at_bound)
        stuck = [i for i in at_bound if i not in rising]
        if stuck:
            moving = _moves(null_space(_pinned(a_eq, stuck)), tolerance)
    return {cell for i, cell in enumerate(order) if not moving[i]}


def _pinned(a_eq: Any, pinned: Sequence[int]) -> Any:
    """``a_eq`` with a row per pinned cell, holding that cell still."""
    import numpy as np

    rows = np.zeros((len(pinned), a_eq.shape[1]))
    for row, i in enumerate(pinned):
        rows[row, i] = 1.0
    return np.vstack([a_eq, rows])


def _moves(basis: Any, tolerance: float) -> Any:
    """Per cell, whether some direction of the null space ``basis`` moves it."""
    import numpy as np

    return np.abs(basis).max(axis=1, initial=0.0) > tolerance


def _can_rise(a_eq: Any, at_bound: Sequence[int]) -> set[int]:
    """The cells of ``at_bound`` that some direction ``d`` (``a_eq d = 0``, never lowering a
    cell of ``at_bound``) raises. The directions form a cone: maximising the sum of ``y_j <=
    min(d_j, 1)`` reaches 1 for exactly the cells some direction raises (a sum of directions
    is one, and a direction scaled up raises its cells past 1)."""
    import numpy as np
    from scipy.optimize import linprog  # type: ignore[import-untyped]

    n, k = a_eq.shape[1], len(at_bound)
    objective = np.concatenate([np.zeros(n), -np.ones(k)])
    a_eq_full = np.hstack([a_eq, np.zeros((a_eq.shape[0], k))])
    a_ub = np.zeros((k, n + k))
    for j, i in enumerate(at_bound):
        a_ub[j, n + j] = 1.0  # y_j - d_i <= 0
        a_ub[j, i] = -1.0
    lower = set(at_bound)
    bounds: list[tuple[float | None, float | None]] = [
        ((0.0, None) if i in lower else (None, None)) for i in range(n)
    ]
    bounds += [(0.0, 1.0)] * k
    result = linprog(
        objective,
        A_ub=a_ub,
        b_ub=np.zeros(k),
        A_eq=a_eq_full,
        b_eq=np.zeros(a_eq.shape[0]),
        bounds=bounds,
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"suppression audit failed: {result.message}")
    return {i for j, i in enumerate(at_bound) if result.x[n + j] > 0.5}


# -- tables ----------------------------------------------------------------------------------

TOTAL = "total"


@dataclass
class Published:
    """A suppressed table: ``value(row, col)`` is an int or None (suppressed)."""

    values: dict[tuple[str, str], int]
    hidden: set[tuple[str, str]]

    def value(self, row: str, col: str) -> int | None:
        key = (row, col)
        return None if key in self.hidden else self.values.get(key, 0)

    def text(self, row: str, col: str) -> str:
        v = self.value(row, col)
        return SUPPRESSED if v is None else f"{v:,}"


def two_way(
    counts: Mapping[tuple[str, str], int],
    rows: Sequence[str],
    cols: Sequence[str],
    *,
    row_totals: bool = True,
    col_totals: bool = True,
    forced: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
    known: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
) -> Published:
    """Suppress a rows x cols table with the chosen margins (column ``TOTAL`` / row ``TOTAL``).
    ``forced`` cells are hidden whatever their value (and complemented like small ones);
    ``known`` cells protect nothing (``suppress``)."""
    values: dict[tuple[str, str], int] = {}
    for r in rows:
        for c in cols:
            values[(r, c)] = int(counts.get((r, c), 0))
    lines: list[Line] = []
    if row_totals:
        for r in rows:
            values[(r, TOTAL)] = sum(values[(r, c)] for c in cols)
            lines.append(Line(tuple((r, c) for c in cols), (r, TOTAL)))
    if col_totals:
        for c in cols:
            values[(TOTAL, c)] = sum(values[(r, c)] for r in rows)
            lines.append(Line(tuple((r, c) for r in rows), (TOTAL, c)))
    if row_totals and col_totals:
        values[(TOTAL, TOTAL)] = sum(values[(r, TOTAL)] for r in rows)
        lines.append(Line(tuple((TOTAL, c) for c in cols), (TOTAL, TOTAL)))
        lines.append(Line(tuple((r, TOTAL) for r in rows), (TOTAL, TOTAL)))
    hidden = suppress(
        values,
        lines,
        forced={cell for cell in forced if cell in values},
        known={cell for cell in known if cell in values},
    )
    return Published(values=values, hidden=hidden)


def across_parts(
    parts: Sequence[Published],
    rows: Sequence[str],
    cols: Sequence[str],
    whole: Mapping[tuple[str, str], int] | None = None,
) -> set[tuple[str, str]]:
    """Cells of a table that sums ``parts`` (a region over its clinics, all shown to the same
    reader) which must be hidden so that no part's hidden cell can be worked out: the whole
    minus the shown parts leaves the hidden parts' sum, which gives a cell away when only one
    part is hidden there, or is itself a small count.

    ``whole`` is the whole's own counts (rows x cols). Where it is more than its parts (an
    extract's unmapped clinic code counts region-wide only), the leftover is one more part:
    never shown itself, but the whole minus the parts gives it away, so it is suppressed like
    a part and counted among the hidden parts."""
    parts = list(parts)
    if whole is not None:
        leftover = {
            (r, c): max(0, int(whole.get((r, c), 0)) - sum(p.values.get((r, c), 0) for p in parts))
            for r in rows
            for c in cols
        }
        if any(leftover.values()):
            parts.append(two_way(leftover, rows, cols))
    forced: set[tuple[str, str]] = set()
    for r in [*rows, TOTAL]:
        for c in [*cols, TOTAL]:
            hidden = [
                part.values.get((r, c), 0)
                for part in parts
                if (r, c) in part.hidden and part.values.get((r, c), 0) > 0
            ]
            if len(hidden) == 1 or is_small(sum(hidden)):
                forced.add((r, c))
    return forced


def known_from_parts(
    parts: Sequence[Published],
    rows: Sequence[str],
    cols: Sequence[str],
    whole: Mapping[tuple[str, str], int],
) -> set[tuple[str, str]]:
    """Cells of a table that sums ``parts`` which its reader works out as the sum of the
    parts: every part shows its cell (a part without the row shows none: its zero), and
    nothing else counts there. Hiding such a cell protects nothing (``suppress``'s
    ``known``)."""
    full = {(r, c): int(whole.get((r, c), 0)) for r in rows for c in cols}
    for r in rows:
        full[(r, TOTAL)] = sum(full[(r, c)] for c in cols)
    for c in [*cols, TOTAL]:
        full[(TOTAL, c)] = sum(full[(r, c)] for r in rows)
    known: set[tuple[str, str]] = set()
    for cell, value in full.items():
        if any(cell in part.hidden for part in parts):
            continue
        if sum(part.values.get(cell, 0) for part in parts) == value:
            known.add(cell)
    return known


def rate(numerator: int | None, denominator: int | None) -> float | None:
    """A rate from published cells; None when either is suppressed or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def statistic(value: float | None, n: int) -> float | None:
    """A statistic over ``n`` units; suppressed (None) below the threshold."""
    if value is None or n < THRESHOLD:
        return None
    return value


def count(value: int) -> int | None:
    """A lone count with no published total: primary suppression only."""
    return None if is_small(value) else value


def fmt_count(value: int | None) -> str:
    return SUPPRESSED if value is None else f"{value:,}"
