"""Bridge statements: common ground across the clinician / manager partition and every
opinion group (spec section 12; beyond Pol.is).

A statement is a bridge statement when

* it is not moderated out;
* each required side (default: clinician and manager) has at least ``min_side_voters``
  participants who voted on it (passes count as voters);
* each side **and** each opinion group agrees with it: ``pa = (A + 1) / (S + 2) > 0.5`` and
  ``prop_test(A, S) > z`` (the majority-consensus rule of section 8 applied per part).

Sides are tallied from the raw votes of every participant with a side (in-conv or not);
opinion groups from their in-conv members, as in section 6. Ranking: by the weakest side's
agreement, measured by the Wilson score lower bound of A / S at the same one-sided z
(90 %); ties by group-informed consensus, then statement order. Every part is reported with
raw counts next to the smoothed figures.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .engine import OpinionResult
from .stats import Tallies, prop_test, tally

CLINICIAN = "clinician"
MANAGER = "manager"
DEFAULT_SIDES: tuple[str, str] = (CLINICIAN, MANAGER)
MIN_SIDE_VOTERS = 5


def wilson_lower_bound(successes: int, trials: int, z: float) -> float:
    """Lower end of the Wilson score interval for successes / trials (0 when trials = 0)."""
    if trials <= 0:
        return 0.0
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    spread = z * np.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return float(max(0.0, (centre - spread) / (1 + z2 / trials)))


@dataclass(frozen=True)
class PartFigures:
    """One part (a side or an opinion group) on one statement."""

    agree: int
    disagree: int
    passes: int
    seen: int  # voters incl. passes
    p_agree: float  # (A + 1) / (S + 2)
    p_test: float  # prop_test(A, S)
    lower_bound: float  # Wilson lower bound of A / S


@dataclass(frozen=True)
class BridgeStatement:
    statement: Hashable
    score: float  # the weakest side's Wilson lower bound
    sides: dict[str, PartFigures]
    groups: dict[Hashable, PartFigures]  # by group label
    group_informed_consensus: float


def _figures(t: Tallies, part: int, j: int, z: float) -> PartFigures:
    a, d, s = int(t.agree[part, j]), int(t.disagree[part, j]), int(t.seen[part, j])
    return PartFigures(
        agree=a,
        disagree=d,
        passes=s - a - d,
        seen=s,
        p_agree=(a + 1.0) / (s + 2.0),
        p_test=float(prop_test(a, s)),
        lower_bound=wilson_lower_bound(a, s, z),
    )


def bridge_statements(
    result: OpinionResult,
    sides: Mapping[Hashable, str],
    *,
    required_sides: Sequence[str] = DEFAULT_SIDES,
    min_side_voters: int = MIN_SIDE_VOTERS,
    z: float | None = None,
) -> list[BridgeStatement]:
    """Bridge statements of an analysed conversation, best first.

    ``sides`` maps participant id -> side (from committee membership); participants whose
    side is not in ``required_sides`` and unknown participants are left out of the side
    partition (they still count in their opinion group).
    """
    zz = result.config.z if z is None else z
    matrix = result.matrix
    side_index = {s: i for i, s in enumerate(required_sides)}
    labels = np.fromiter(
        (side_index.get(sides.get(p, ""), -1) for p in matrix.participants),
        dtype=np.intp,
        count=len(matrix.participants),
    )
    side_tallies = tally(matrix.values, matrix.voted, labels, len(required_sides))
    groups = result.group_votes
    out: list[tuple[float, float, int, BridgeStatement]] = []
    for j, statement in enumerate(matrix.statements):
        if result.mod_out[j]:
            continue
        side_figs = {s: _figures(side_tallies, i, j, zz) for s, i in side_index.items()}
        if any(f.seen < min_side_voters for f in side_figs.values()):
            continue
        group_figs = {result.group_labels[g]: _figures(groups, g, j, zz) for g in range(result.k)}
        parts = [*side_figs.values(), *group_figs.values()]
        if not all(f.p_agree > 0.5 and f.p_test > zz for f in parts):
            continue
        score = min(f.lower_bound for f in side_figs.values())
        gic = float(result.group_informed_consensus[j])
        out.append((score, gic, j, BridgeStatement(statement, score, side_figs, group_figs, gic)))
    out.sort(key=lambda item: (-item[0], -item[1], item[2]))
    return [item[3] for item in out]
