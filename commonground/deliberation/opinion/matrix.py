"""The vote matrix: latest vote per (participant, statement), rows and columns in a fixed order.

Conventions (spec section 0-1): agree = +1, disagree = -1, pass = 0. A cell that was never
voted is held apart in the boolean mask ``voted``, so that a pass (0, voted) and "not voted"
(0, not voted) are never confused.

* Rows are participants in the order of their first vote in the input (spec section 1: row
  order influences k-means initialisation, so it is fixed and kept).
* Columns are statements sorted by id, so that the order in which votes arrive never changes
  the columns (statement ids must be mutually comparable: all ints or all strings).
* Only statements with at least one vote and participants with at least one vote exist.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

AGREE = 1
DISAGREE = -1
PASS = 0
_VALID_VOTES = frozenset((AGREE, DISAGREE, PASS))

Vote = tuple[Hashable, Hashable, int]


@dataclass(frozen=True, eq=False)
class VoteMatrix:
    """Participants x statements. ``values`` int8 in {-1, 0, +1}; ``voted`` marks non-nil cells."""

    participants: tuple[Hashable, ...]
    statements: tuple[Hashable, ...]
    values: npt.NDArray[np.int8]
    voted: npt.NDArray[np.bool_]

    def __post_init__(self) -> None:
        shape = (len(self.participants), len(self.statements))
        if self.values.shape != shape or self.voted.shape != shape:
            raise ValueError(f"matrix shape {self.values.shape} does not match labels {shape}")
        if len(set(self.participants)) != shape[0] or len(set(self.statements)) != shape[1]:
            raise ValueError("participant and statement ids must be unique")

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.participants), len(self.statements))

    @classmethod
    def from_dense(
        cls,
        participants: Sequence[Hashable],
        statements: Sequence[Hashable],
        values: npt.ArrayLike,
        voted: npt.ArrayLike,
    ) -> VoteMatrix:
        """Build from dense arrays, keeping row order, sorting columns by statement id and
        dropping rows and columns without any vote."""
        vals = np.asarray(values, dtype=np.int8)
        mask = np.asarray(voted, dtype=bool)
        if vals.ndim != 2 or vals.shape != mask.shape:
            raise ValueError("values and voted must be 2-D arrays of the same shape")
        if vals.shape != (len(participants), len(statements)):
            raise ValueError("values shape does not match the participant and statement ids")
        if vals.size and (int(vals.min(initial=0)) < -1 or int(vals.max(initial=0)) > 1):
            raise ValueError("votes must be -1 (disagree), 0 (pass) or +1 (agree)")
        if vals.size and (vals * ~mask).any():
            vals = np.where(mask, vals, np.int8(0)).astype(np.int8)
        row_has_vote = np.asarray(mask.any(axis=1), dtype=bool)
        col_has_vote = np.asarray(mask.any(axis=0), dtype=bool)
        order = _sorted_order(statements)
        cols = [j for j in order if col_has_vote[j]]
        if row_has_vote.all() and cols == list(range(len(statements))):
            return cls(tuple(participants), tuple(statements), vals, mask)
        rows = np.flatnonzero(row_has_vote)
        col_idx = np.asarray(cols, dtype=np.intp)
        return cls(
            participants=tuple(participants[int(i)] for i in rows),
            statements=tuple(statements[j] for j in cols),
            values=np.ascontiguousarray(vals[np.ix_(rows, col_idx)]),
            voted=np.ascontiguousarray(mask[np.ix_(rows, col_idx)]),
        )


def _sorted_order(ids: Sequence[Hashable]) -> list[int]:
    """Indices of ``ids`` in ascending id order (ids must be mutually comparable)."""
    try:
        return sorted(range(len(ids)), key=lambda j: cast(Any, ids[j]))
    except TypeError as exc:
        raise TypeError("statement ids must be mutually comparable (all int or all str)") from exc


def build_vote_matrix(
    votes: Iterable[Vote], *, exclude_participants: Iterable[Hashable] = ()
) -> VoteMatrix:
    """Vote matrix from ``(participant, statement, vote)`` triples in chronological order.

    A later triple for the same (participant, statement) replaces an earlier one (latest vote
    wins). Row order = order of each participant's first vote in ``votes``. Participants in
    ``exclude_participants`` (e.g. removed or banned people; Pol.is quirk Q1 keeps them, we do
    not) are dropped before anything is computed.
    """
    excluded = set(exclude_participants)
    row_of: dict[Hashable, int] = {}
    latest: dict[tuple[int, Hashable], int] = {}
    statement_ids: set[Hashable] = set()
    for participant, statement, vote in votes:
        if participant in excluded:
            continue
        v = int(vote)
        if v != vote or v not in _VALID_VOTES:
            raise ValueError(f"vote must be -1, 0 or +1, got {vote!r}")
        row = row_of.setdefault(participant, len(row_of))
        latest[(row, statement)] = v
        statement_ids.add(statement)
    participants = list(row_of)
    try:
        statements = sorted(statement_ids)  # type: ignore[type-var]
    except TypeError as exc:
        raise TypeError("statement ids must be mutually comparable (all int or all str)") from exc
    col_of = {s: j for j, s in enumerate(statements)}
    values = np.zeros((len(participants), len(statements)), dtype=np.int8)
    voted = np.zeros(values.shape, dtype=bool)
    if latest:
        rows = np.fromiter((r for r, _ in latest), dtype=np.intp, count=len(latest))
        cols = np.fromiter((col_of[s] for _, s in latest), dtype=np.intp, count=len(latest))
        vals = np.fromiter(latest.values(), dtype=np.int8, count=len(latest))
        values[rows, cols] = vals
        voted[rows, cols] = True
    return VoteMatrix(tuple(participants), tuple(statements), values, voted)
