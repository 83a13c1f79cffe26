"""The one-shot pipeline (spec "Pipeline per recompute"): votes in, opinion groups and
statement statistics out. Pure and deterministic: the same input gives the same output, bit
for bit on a given machine and BLAS thread setting (fixed row order, exact eigendecomposition
with a sign rule, first-k-distinct initialisation, fixed tie-breaks, no randomness); another
BLAS build or thread count may change the last bits of floating-point sums.

Choices where Pol.is is undefined or quirky (spec section 11) are documented in the modules:
``matrix`` (row/column order, removed participants), ``pca`` (rank rule instead of Q16, edge
cases), ``clustering`` (k-means ties and stop rule, group iterations, k-selection ties and
collapsed candidates), ``stats``. Priorities use the current tallies (not Q2). No subgroups
(Q7), no sticky in-conv, no k smoother, no warm start, no mini-batch PCA (Q10/Q12).
Degenerate inputs are not clustered (not Q4/Q5): with fewer than two distinct base-cluster
centres (e.g. one participant, identical voters, all passes) every in-conv participant is in
group 0 and k = 1; with no votes k = 0. Repness needs at least two groups (else empty).
Removed/banned participants are excluded by the caller (``build_vote_matrix(...,
exclude_participants=...)``), not kept as Pol.is does (Q1).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .clustering import Clustering, cluster_participants, in_conv_mask
from .matrix import VoteMatrix
from .pca import PCAResult, compute_pca
from .stats import (
    Z_90,
    ConsensusEntry,
    RepnessEntry,
    Tallies,
    group_informed_consensus,
    majority_consensus,
    priority,
    repness,
    tally,
)

MAX_PARTICIPANTS = 100_000  # Pol.is caps; a guard far above committee and summit scale
MAX_STATEMENTS = 10_000


@dataclass(frozen=True)
class OpinionConfig:
    """Every number the engine uses. Defaults reproduce Pol.is ("legacy" mode)."""

    min_votes: int = 7  # in-conv: at least min(min_votes, n_statements) votes
    min_in_conv: int = 15  # greedy top-up to this many in-conv participants
    base_k: int = 100
    base_max_iter: int = 100
    group_max_iter: int = 20  # Pol.is passes 100 but really runs 20 (quirk Q3)
    max_groups: int = 5
    base_per_extra_group: int = 12  # max_k = min(max_groups, 2 + n_base // 12)
    kmeans_tol: float = 0.01
    z: float = Z_90
    repness_top: int = 5
    consensus_top: int = 5
    meta_priority: float = 49.0


@dataclass(frozen=True, eq=False)
class OpinionResult:
    matrix: VoteMatrix
    config: OpinionConfig
    mod_out: npt.NDArray[np.bool_]  # (m,) rejected or meta
    meta: npt.NDArray[np.bool_]  # (m,)
    user_vote_counts: npt.NDArray[np.int64]  # (n,) from raw
    in_conv: npt.NDArray[np.bool_]  # (n,)
    pca: PCAResult
    clustering: Clustering | None  # None when groups were given
    k: int
    group_of: npt.NDArray[np.intp]  # (n,) group index, -1 = not clustered
    group_labels: tuple[Hashable, ...]  # label of each group index (0..k-1 unless given)
    group_votes: Tallies  # raw, in-conv members
    repness: list[list[RepnessEntry]]  # per group index
    consensus: dict[str, list[ConsensusEntry]]
    group_informed_consensus: npt.NDArray[np.float64]  # (m,)
    priority: npt.NDArray[np.float64]  # (m,)

    @property
    def participants(self) -> tuple[Hashable, ...]:
        return self.matrix.participants

    @property
    def statements(self) -> tuple[Hashable, ...]:
        return self.matrix.statements

    def group_of_participant(self) -> dict[Hashable, int | None]:
        return {
            p: (int(g) if g >= 0 else None)
            for p, g in zip(self.matrix.participants, self.group_of.tolist(), strict=True)
        }


def _rating(
    matrix: VoteMatrix, mod_out: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.bool_]]:
    """``raw`` with every moderated-out column set to 0 for every row, marked voted."""
    if not mod_out.any():
        return matrix.values, matrix.voted
    values = matrix.values.copy()
    voted = matrix.voted.copy()
    values[:, mod_out] = 0
    voted[:, mod_out] = True
    return values, voted


def _moderated(tallies: Tallies, mod_out: npt.NDArray[np.bool_]) -> Tallies:
    """Tallies of ``rating`` from tallies of ``raw``: a moderated-out column counts as a pass
    by every member (A = D = 0, S = members)."""
    if not mod_out.any():
        return tallies
    agree, disagree, seen = tallies.agree.copy(), tallies.disagree.copy(), tallies.seen.copy()
    agree[:, mod_out] = 0
    disagree[:, mod_out] = 0
    seen[:, mod_out] = tallies.n_members[:, None]
    return Tallies(agree, disagree, seen, tallies.n_members)


def analyse(
    matrix: VoteMatrix,
    *,
    rejected: Collection[Hashable] = (),
    meta: Collection[Hashable] = (),
    config: OpinionConfig | None = None,
    groups: Mapping[Hashable, Hashable] | None = None,
    in_conv: Collection[Hashable] | None = None,
) -> OpinionResult:
    """Run the whole pipeline.

    ``rejected``: statements a moderator rejected; ``meta``: meta statements. Both are
    moderated out (zeroed in ``rating``); meta statements get priority 49. Unmoderated
    statements are not moderated out.

    ``groups`` (optional): participant -> group label, to compute the statistics for given
    groups (e.g. Pol.is's exported ones) instead of clustering; the in-conv set is then the
    participants in ``groups`` and group indices follow the sorted labels.

    ``in_conv`` (optional, ignored with ``groups``): the participants to cluster, instead of
    the vote-count rule (e.g. Pol.is's sticky in-conv set, for comparisons).
    """
    cfg = config or OpinionConfig()
    n, m = matrix.shape
    if n > MAX_PARTICIPANTS or m > MAX_STATEMENTS:
        raise ValueError(
            f"{n} participants x {m} statements exceeds the engine's caps "
            f"({MAX_PARTICIPANTS} x {MAX_STATEMENTS})"
        )
    rejected_set, meta_set = set(rejected), set(meta)
    meta_mask = np.fromiter((s in meta_set for s in matrix.statements), dtype=bool, count=m)
    rejected_mask = np.fromiter((s in rejected_set for s in matrix.statements), dtype=bool, count=m)
    mod_out = meta_mask | rejected_mask

    user_vote_counts = np.count_nonzero(matrix.voted, axis=1).astype(np.int64)
    rating_values, rating_voted = _rating(matrix, mod_out)
    pca = compute_pca(rating_values, rating_voted)

    group_of = np.full(n, -1, dtype=np.intp)
    clustering: Clustering | None = None
    if groups is None:
        if in_conv is None:
            in_conv_arr = in_conv_mask(user_vote_counts, m, cfg.min_votes, cfg.min_in_conv)
        else:
            wanted = set(in_conv)
            in_conv_arr = np.fromiter(
                (p in wanted for p in matrix.participants), dtype=bool, count=n
            )
        members = np.flatnonzero(in_conv_arr)
        clustering = cluster_participants(
            pca.participant_projections[members],
            base_k=cfg.base_k,
            base_max_iter=cfg.base_max_iter,
            group_max_iter=cfg.group_max_iter,
            max_groups=cfg.max_groups,
            base_per_extra_group=cfg.base_per_extra_group,
            tol=cfg.kmeans_tol,
        )
        group_of[members] = clustering.labels
        k = clustering.k
        group_labels: tuple[Hashable, ...] = tuple(range(k))
    else:
        try:
            group_labels = tuple(sorted(set(groups.values())))  # type: ignore[type-var]
        except TypeError as exc:
            raise TypeError("group labels must be mutually comparable") from exc
        index_of = {label: g for g, label in enumerate(group_labels)}
        for i, p in enumerate(matrix.participants):
            if p in groups:
                group_of[i] = index_of[groups[p]]
        in_conv_arr = group_of >= 0
        k = len(group_labels)

    group_votes = tally(matrix.values, matrix.voted, group_of, k)
    rating_tallies = _moderated(group_votes, mod_out)
    rep = (
        repness(rating_tallies, matrix.statements, mod_out, z=cfg.z, top=cfg.repness_top)
        if k >= 2
        else [[] for _ in range(k)]
    )
    everyone = _moderated(
        tally(matrix.values, matrix.voted, np.zeros(n, dtype=np.intp), 1), mod_out
    )
    consensus = majority_consensus(
        everyone.agree[0],
        everyone.disagree[0],
        everyone.seen[0],
        matrix.statements,
        mod_out,
        z=cfg.z,
        top=cfg.consensus_top,
    )
    gic = group_informed_consensus(group_votes)
    prio = priority(group_votes, pca.statement_extremity, meta_mask)
    if cfg.meta_priority != 49.0:
        prio = np.where(meta_mask, cfg.meta_priority, prio)
    return OpinionResult(
        matrix=matrix,
        config=cfg,
        mod_out=mod_out,
        meta=meta_mask,
        user_vote_counts=user_vote_counts,
        in_conv=in_conv_arr,
        pca=pca,
        clustering=clustering,
        k=k,
        group_of=group_of,
        group_labels=group_labels,
        group_votes=group_votes,
        repness=rep,
        consensus=consensus,
        group_informed_consensus=gic,
        priority=prio,
    )
