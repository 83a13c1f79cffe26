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

A whole read beside its parts (a region's table beside its clinics', each cell the clinics'
sum) is audited as one system with them: ``suppress_with_parts`` hides more of the whole
until no hidden cell of any of the tables follows, and shows again the whole's hidden cells
that follow anyway (unless small: showing a value its reader works out tells nothing).

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
# One mark for every hidden count, saying nothing of its size: a complement is often 11 or
# more, so "<11" would misstate it, and a second mark for complements would tell a reader
# which hidden cells are 1 to 10 and which are not, bounds the audit does not allow for.
SUPPRESSED = "hidden"

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
        before = len(hidden)
        for cell in sorted(exposed, key=repr):
            _cover(cell, values, lines, totals, hidden | known, hidden)
        if len(hidden) == before:
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
    is one, and a direction scaled up raises its cells past 1). ``a_eq`` may be sparse: a
    region's system with its clinics' has thousands of cells."""
    import numpy as np
    from scipy import sparse  # type: ignore[import-untyped]
    from scipy.optimize import linprog  # type: ignore[import-untyped]

    a_eq = sparse.coo_array(a_eq)
    (m, n), k = a_eq.shape, len(at_bound)
    objective = np.concatenate([np.zeros(n), -np.ones(k)])
    a_eq_full = sparse.csr_array((a_eq.data, (a_eq.row, a_eq.col)), shape=(m, n + k))
    # y_j - d_i <= 0 for the j-th cell i of at_bound
    ys = np.arange(k)
    a_ub = sparse.csr_array(
        (
            np.concatenate([-np.ones(k), np.ones(k)]),
            (np.concatenate([ys, ys]), np.concatenate([np.asarray(at_bound, dtype=int), n + ys])),
        ),
        shape=(k, n + k),
    )
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


# -- a whole read beside its parts -----------------------------------------------------------
#
# A region's tables are read beside its clinics' own: every region cell is the sum of its
# clinics' cells (and of any units counted region-wide only). One system holds all of them:
# each table's lines, and a line per cell across the tables. The clinics' pages are settled
# first, each on its own; the region then hides what the whole system would give away.


@dataclass(frozen=True)
class Part:
    """One table of a whole's parts, as its reader sees it: its lines, and its hidden cells.
    Its cells are keyed as the whole's are; a cell it lacks counts 0 there."""

    values: Mapping[Cell, int]
    lines: Sequence[Line]
    hidden: frozenset[Cell]


def suppress_with_parts(
    values: Mapping[Any, int],
    lines: Sequence[Line],
    parts: Sequence[Part],
    *,
    forced: set[Cell] | frozenset[Cell] = frozenset(),
    known: set[Cell] | frozenset[Cell] = frozenset(),
) -> set[Cell]:
    """``suppress`` for a whole each of whose cells is the sum of its ``parts``' cells there,
    read beside them: more of the whole is hidden until no hidden cell, of the whole or of a
    part, follows from all that is shown and the sums across the tables. The parts' hidden
    cells are given (their pages are settled on their own). A part's exposed cell is covered
    by hiding the whole's cell where it lies, or a complement next to it when that is hidden.
    Where the whole's cell is not its parts' sum (units no part counts), the caller adds a
    part for the rest: a cell whose sum does not hold ties nothing."""
    forced = set(forced)
    known = set(known)
    totals = {line.total for line in lines}
    tied = {
        cell
        for cell, value in values.items()
        if value == sum(part.values.get(cell, 0) for part in parts)
    }
    memo: dict[tuple[int, tuple[int, ...]], Any] = {}
    while True:
        hidden = suppress(values, lines, forced=forced, known=known)
        if not hidden - known and not any(part.hidden for part in parts):
            return hidden
        own, theirs = determined_with_parts(values, lines, hidden, parts, memo)
        # The whole's cells that follow from what is shown are shown, unless small: showing
        # a value its reader works out anyway tells nothing. A part's cell where the whole's
        # is not the parts' sum (a row the whole does not show) is given away through the
        # part's own lines.
        exposed = {c for c in own if is_small(values[c])} | (theirs & tied)
        loose = theirs - tied
        if not exposed and not loose:
            return hidden - own
        before = len(forced)
        for cell in sorted(exposed, key=repr):
            _cover(cell, values, lines, totals, hidden | known, forced)
        if len(forced) == before:
            # Only cells of rows the whole does not show are given away, through the parts'
            # lines to rows it does: cover the whole's cells on those lines.
            for cell in sorted(loose, key=repr):
                for part in parts:
                    for line in part.lines if cell in part.hidden else ():
                        cells = (*line.members, line.total)
                        for near in cells if cell in cells else ():
                            if near in tied and values[near] > 0:
                                _cover(near, values, lines, totals, hidden | known, forced)
        if len(forced) == before:
            # Nothing left to hide next to them: hide every positive cell, and show again
            # what then still follows.
            everything = {c for c, v in values.items() if v > 0}
            if everything <= forced:
                return hidden | everything
            forced |= everything


def _cover(
    cell: Cell,
    values: Mapping[Any, int],
    lines: Sequence[Line],
    totals: set[Cell],
    hidden: set[Cell],
    forced: set[Cell],
) -> None:
    """Add to ``forced`` what keeps ``cell`` from being worked out: the cell itself when it is
    shown, else a complement on one of its lines."""
    if cell not in hidden:
        forced.add(cell)
        return
    for line in lines:
        cells = (*line.members, line.total)
        if cell in cells:
            extra = _complement(values, totals, hidden | forced, cells)
            if extra is not None:
                forced.add(extra)
                return


def with_rest(
    values: Mapping[Any, int], lines: Sequence[Line], parts: Sequence[Part]
) -> list[Part]:
    """``parts``, and where the whole counts more than they do (an extract's unmapped clinic
    code counts region-wide only), one more part for the rest: never shown itself, but the
    whole less the parts is it, so it is suppressed like a part. Its large cells are taken as
    known to the reader, which can only make the audit stricter."""
    rest = {
        cell: max(0, value - sum(part.values.get(cell, 0) for part in parts))
        for cell, value in values.items()
    }
    if not any(rest.values()):
        return list(parts)
    rest_lines = [line for line in lines if sum(rest[m] for m in line.members) == rest[line.total]]
    hidden = suppress(rest, rest_lines)
    return [*parts, Part(rest, rest_lines, frozenset(hidden))]


def determined_with_parts(
    values: Mapping[Any, int],
    lines: Sequence[Line],
    hidden: set[Cell],
    parts: Sequence[Part],
    memo: dict[tuple[int, tuple[int, ...]], Any] | None = None,
) -> tuple[set[Cell], set[Cell]]:
    """The hidden cells whose value follows from what the whole and its parts show: the
    whole's, and the parts' (by key: which part does not matter to the caller).

    The same method as ``determined_cells``, over the joint system, with its size in mind: a
    region of 26 clinics has thousands of hidden cells. The directions each table's hidden
    cells may move along are that table's null space (small, one per table); the sums across
    the tables then tie those together, a system as large as the whole's cells are many. A
    cell is fixed when its row of its table's null space lies in the row space of the ties.
    ``memo`` keeps the parts' null spaces for another call with the same parts."""
    import numpy as np
    from scipy import sparse

    memo = {} if memo is None else memo
    tables: list[tuple[Mapping[Any, int], Sequence[Line], list[Cell]]] = [
        (values, lines, sorted(hidden, key=repr))
    ]
    tables += [(part.values, part.lines, sorted(part.hidden, key=repr)) for part in parts]
    offsets = np.cumsum([0] + [len(order) for _, _, order in tables])
    n = int(offsets[-1])
    index = {
        (t, cell): int(offsets[t]) + i
        for t, (_, _, order) in enumerate(tables)
        for i, cell in enumerate(order)
    }
    # Each table's lines over its hidden cells, as (cell index, coefficient) pairs, and the
    # table each line belongs to.
    own: list[list[tuple[int, float]]] = []
    own_table: list[int] = []
    for t, (_, table_lines, _) in enumerate(tables):
        for line in table_lines:
            coeffs: dict[int, float] = {}
            for cell, sign in [*((m, 1.0) for m in line.members), (line.total, -1.0)]:
                if (i := index.get((t, cell))) is not None:
                    coeffs[i] = coeffs.get(i, 0.0) + sign
            if any(coeffs.values()):
                own.append(list(coeffs.items()))
                own_table.append(t)
    # A tie per cell of the whole that some table hides: the whole's cell less its parts'.
    ties: list[list[tuple[int, float]]] = []
    for cell in values:
        coeffs = {}
        if (i := index.get((0, cell))) is not None:
            coeffs[i] = 1.0
        for t in range(1, len(tables)):
            if (i := index.get((t, cell))) is not None:
                coeffs[i] = -1.0
        # Only a sum that holds ties anything (as with lines across a table's kinds).
        if not coeffs or values[cell] != sum(table[0].get(cell, 0) for table in tables[1:]):
            continue
        ties.append(list(coeffs.items()))

    def lower(t: int, cell: Cell) -> float:
        return min(1.0, float(tables[t][0][cell]))

    at_bound = [
        index[(t, cell)]
        for t, (table_values, _, order) in enumerate(tables)
        for cell in order
        if float(table_values[cell]) <= lower(t, cell)
    ]
    moving = _joint_moves(own, own_table, ties, offsets, [], memo)
    if any(moving[i] for i in at_bound):
        rows = own + ties
        a_eq = sparse.csr_array(
            (
                [c for row in rows for _, c in row],
                (
                    [r for r, row in enumerate(rows) for _ in row],
                    [i for row in rows for i, _ in row],
                ),
            ),
            shape=(len(rows), n),
        )
        rising = _can_rise(a_eq, at_bound)
        stuck = [i for i in at_bound if i not in rising]
        if stuck:
            moving = _joint_moves(own, own_table, ties, offsets, stuck, memo)
    found: tuple[set[Cell], set[Cell]] = (set(), set())
    for t, (_, _, order) in enumerate(tables):
        for i, cell in enumerate(order):
            if not moving[int(offsets[t]) + i]:
                found[min(t, 1)].add(cell)
    return found


def _joint_moves(
    own: Sequence[Sequence[tuple[int, float]]],
    own_table: Sequence[int],
    ties: Sequence[Sequence[tuple[int, float]]],
    offsets: Any,
    pinned: Sequence[int],
    memo: dict[tuple[int, tuple[int, ...]], Any],
) -> Any:
    """Per hidden cell of the joint system, whether some direction moves it (``_moves``),
    with the ``pinned`` cells held still."""
    import numpy as np
    from scipy.linalg import null_space, svd

    tolerance = 1e-9
    n_tables = len(offsets) - 1
    rows_of: list[list[Sequence[tuple[int, float]]]] = [[] for _ in range(n_tables)]
    for row, t in zip(own, own_table, strict=True):
        rows_of[t].append(row)
    table_of = np.searchsorted(offsets, np.arange(int(offsets[-1])), side="right") - 1
    for i in pinned:
        rows_of[int(table_of[i])].append([(i, 1.0)])
    pins_of: list[list[int]] = [[] for _ in range(n_tables)]
    for i in pinned:
        pins_of[int(table_of[i])].append(i - int(offsets[table_of[i]]))
    bases = []
    for t in range(n_tables):
        # A part's null space is the same on every round of suppress_with_parts (only the
        # whole changes), unless it pins other cells.
        key = (t, tuple(pins_of[t]))
        if t and key in memo:
            bases.append(memo[key])
            continue
        start, size = int(offsets[t]), int(offsets[t + 1] - offsets[t])
        a = np.zeros((len(rows_of[t]), size))
        for r, row in enumerate(rows_of[t]):
            for i, c in row:
                a[r, i - start] += c
        bases.append(null_space(a) if len(a) else np.eye(size))
        if t:
            memo[key] = bases[-1]
    widths = np.cumsum([0] + [b.shape[1] for b in bases])
    # The ties in the coordinates of the tables' null spaces.
    tie_matrix = np.zeros((len(ties), int(widths[-1])))
    for r, row in enumerate(ties):
        for i, c in row:
            t = int(table_of[i])
            tie_matrix[r, widths[t] : widths[t + 1]] += c * bases[t][i - int(offsets[t])]
    if len(tie_matrix) and tie_matrix.shape[1]:
        _, singular, vh = svd(tie_matrix, full_matrices=False)
        rank = int((singular > tolerance * max(1.0, singular[0] if len(singular) else 0)).sum())
        row_space = vh[:rank]
    else:
        row_space = np.zeros((0, int(widths[-1])))
    moving = np.zeros(int(offsets[-1]), dtype=bool)
    for t, basis in enumerate(bases):
        if not basis.shape[1]:
            continue
        # A cell's row of its table's null space, less its projection on the ties' row
        # space, is what no tie holds still; its squared length is the row's less the
        # projection's (the row space is orthonormal).
        projected = basis @ row_space[:, widths[t] : widths[t + 1]].T
        left = (basis**2).sum(axis=1) - (projected**2).sum(axis=1)
        start = int(offsets[t])
        moving[start : start + basis.shape[0]] = left > tolerance
    return moving


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
    parts: Sequence[Published] = (),
) -> Published:
    """Suppress a rows x cols table with the chosen margins (column ``TOTAL`` / row ``TOTAL``).
    ``forced`` cells are hidden whatever their value (and complemented like small ones);
    ``known`` cells protect nothing (``suppress``). ``parts`` are the same table's parts (the
    same rows and columns), each suppressed on its own, which its reader sees beside it
    (``suppress_with_parts``)."""
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
    forced = {cell for cell in forced if cell in values}
    known = {cell for cell in known if cell in values}
    if not parts:
        return Published(values=values, hidden=suppress(values, lines, forced=forced, known=known))
    tables = [Part(part.values, lines, frozenset(part.hidden)) for part in parts]
    hidden = suppress_with_parts(
        values, lines, with_rest(values, lines, tables), forced=forced, known=known
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
