"""Per-group statistics: tallies, repness, majority consensus, GIC, priority (sections 6-10)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Z_90 = 1.2816  # one-sided 90 % normal quantile (Pol.is z-sig-90)


def prop_test(successes: npt.ArrayLike, trials: npt.ArrayLike) -> FloatArray:
    """One-proportion test with +1/+1 pseudo-counts: 2·sqrt(n+1)·((s+1)/(n+1) - 0.5)."""
    s = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    return np.asarray(2.0 * np.sqrt(n + 1.0) * ((s + 1.0) / (n + 1.0) - 0.5))


def two_prop_test(
    s1: npt.ArrayLike, s2: npt.ArrayLike, n1: npt.ArrayLike, n2: npt.ArrayLike
) -> FloatArray:
    """Two-proportion z-test with 1 added to all four counts; 0 where the pooled rate is 1."""
    a1 = np.asarray(s1, dtype=np.float64) + 1.0
    a2 = np.asarray(s2, dtype=np.float64) + 1.0
    m1 = np.asarray(n1, dtype=np.float64) + 1.0
    m2 = np.asarray(n2, dtype=np.float64) + 1.0
    pooled = (a1 + a2) / (m1 + m2)
    var = pooled * (1.0 - pooled) * (1.0 / m1 + 1.0 / m2)
    ok = (pooled < 1.0) & (var > 0)
    z = np.divide(a1 / m1 - a2 / m2, np.sqrt(np.where(ok, var, 1.0)))
    return np.asarray(np.where(ok, z, 0.0))


@dataclass(frozen=True, eq=False)
class Tallies:
    """Counts per partition part and statement: agree, disagree, seen (non-nil incl. passes)."""

    agree: IntArray  # (k, m)
    disagree: IntArray  # (k, m)
    seen: IntArray  # (k, m)
    n_members: IntArray  # (k,)

    @property
    def passes(self) -> IntArray:
        return self.seen - self.agree - self.disagree


def tally(
    values: npt.NDArray[np.int8],
    voted: npt.NDArray[np.bool_],
    labels: npt.NDArray[np.integer],
    k: int,
) -> Tallies:
    """A, D, S per part (``labels`` in 0..k-1; negative = in no part)."""
    m = values.shape[1]
    agree = np.zeros((k, m), dtype=np.int64)
    disagree = np.zeros((k, m), dtype=np.int64)
    seen = np.zeros((k, m), dtype=np.int64)
    members = np.zeros(k, dtype=np.int64)
    for g in range(k):
        rows = np.flatnonzero(labels == g)
        members[g] = len(rows)
        if len(rows) == 0:
            continue
        v = values[rows]
        mask = voted[rows]
        agree[g] = np.count_nonzero((v == 1) & mask, axis=0)
        disagree[g] = np.count_nonzero((v == -1) & mask, axis=0)
        seen[g] = np.count_nonzero(mask, axis=0)
    return Tallies(agree, disagree, seen, members)


@dataclass(frozen=True)
class RepnessEntry:
    """One representative statement of a group (section 7); figures are for ``repful_for``."""

    statement: Hashable
    repful_for: str  # "agree" | "disagree"
    n_success: int
    n_trials: int
    p_success: float
    p_test: float
    repness: float
    repness_test: float
    n_agree: int  # raw counts, always shown next to smoothed scores (section 12)
    n_disagree: int
    best_agree: bool = False


@dataclass(frozen=True)
class ConsensusEntry:
    statement: Hashable
    n_success: int
    n_trials: int
    p_success: float
    p_test: float


@dataclass(frozen=True, eq=False)
class _GroupFigures:
    na: IntArray
    nd: IntArray
    ns: IntArray
    pa: FloatArray
    pd: FloatArray
    pat: FloatArray
    pdt: FloatArray
    ra: FloatArray
    rd: FloatArray
    rat: FloatArray
    rdt: FloatArray

    def entry(self, statements: Sequence[Hashable], j: int, best_agree: bool) -> RepnessEntry:
        """Pol.is "finalize": the agree figures if rat > rdt, else the disagree figures."""
        agree_side = bool(self.rat[j] > self.rdt[j])
        pick = 0 if agree_side else 1
        return RepnessEntry(
            statement=statements[j],
            repful_for="agree" if agree_side else "disagree",
            n_success=int((self.na, self.nd)[pick][j]),
            n_trials=int(self.ns[j]),
            p_success=float((self.pa, self.pd)[pick][j]),
            p_test=float((self.pat, self.pdt)[pick][j]),
            repness=float((self.ra, self.rd)[pick][j]),
            repness_test=float((self.rat, self.rdt)[pick][j]),
            n_agree=int(self.na[j]),
            n_disagree=int(self.nd[j]),
            best_agree=best_agree,
        )


def repness(
    tallies: Tallies,
    statements: Sequence[Hashable],
    mod_out: npt.NDArray[np.bool_],
    *,
    z: float = Z_90,
    top: int = 5,
) -> list[list[RepnessEntry]]:
    """Representative statements per group, selected and ordered as in section 7.

    ``tallies`` must come from the rating matrix (moderated-out columns zeroed and counted as
    passes) over the in-conv members of each group.
    """
    k = tallies.agree.shape[0]
    out: list[list[RepnessEntry]] = []
    tot_a = tallies.agree.sum(axis=0)
    tot_d = tallies.disagree.sum(axis=0)
    tot_s = tallies.seen.sum(axis=0)
    for g in range(k):
        na, nd, ns = tallies.agree[g], tallies.disagree[g], tallies.seen[g]
        ra_n, rd_n, rs_n = tot_a - na, tot_d - nd, tot_s - ns  # "rest" = all other groups
        pa = (na + 1.0) / (ns + 2.0)
        pd = (nd + 1.0) / (ns + 2.0)
        pat = prop_test(na, ns)
        pdt = prop_test(nd, ns)
        ra = pa / ((ra_n + 1.0) / (rs_n + 2.0))
        rd = pd / ((rd_n + 1.0) / (rs_n + 2.0))
        rat = two_prop_test(na, ra_n, ns, rs_n)
        rdt = two_prop_test(nd, rd_n, ns, rs_n)
        fig = _GroupFigures(na, nd, ns, pa, pd, pat, pdt, ra, rd, rat, rdt)

        sufficient_mask = ((rat > z) & (pat > z)) | ((rdt > z) & (pdt > z))
        sufficient: list[int] = []
        best: int | None = None
        best_agree: int | None = None
        for j in range(len(statements)):
            if mod_out[j]:
                continue
            if sufficient_mask[j]:
                sufficient.append(j)
            elif not sufficient and (
                best is None or max(rat[j], rdt[j]) > max(rat[best], rdt[best])
            ):
                best = j
            if na[j] == 0 and nd[j] == 0:
                continue
            if best_agree is not None:
                b = best_agree
                if ra[b] > 1.0:
                    if ra[j] * rat[j] * pa[j] * pat[j] > ra[b] * rat[b] * pa[b] * pat[b]:
                        best_agree = j
                elif pa[j] * pat[j] > pa[b] * pat[b]:
                    best_agree = j
            elif pat[j] > z or (ra[j] > 1.0 and pa[j] > 0.5):
                best_agree = j
        if not sufficient:
            if best_agree is not None:
                out.append([fig.entry(statements, best_agree, True)])
            elif best is not None:
                out.append([fig.entry(statements, best, False)])
            else:
                out.append([])
            continue
        entries = [fig.entry(statements, j, False) for j in sufficient if j != best_agree]
        entries.sort(
            key=lambda e: e.repness * e.repness_test * e.p_success * e.p_test, reverse=True
        )
        if best_agree is not None:
            entries.insert(0, fig.entry(statements, best_agree, True))
        entries = entries[:top]
        entries.sort(key=lambda e: e.repful_for != "agree")  # stable: agree before disagree
        out.append(entries)
    return out


def majority_consensus(
    agree: IntArray,
    disagree: IntArray,
    seen: IntArray,
    statements: Sequence[Hashable],
    mod_out: npt.NDArray[np.bool_],
    *,
    z: float = Z_90,
    top: int = 5,
) -> dict[str, list[ConsensusEntry]]:
    """Majority consensus over everyone (section 8): rate > 0.5 and test > z, top 5 by
    rate·test. Counts from the rating matrix over all participants."""
    out: dict[str, list[ConsensusEntry]] = {}
    for side, success in (("agree", agree), ("disagree", disagree)):
        p = (success + 1.0) / (seen + 2.0)
        t = prop_test(success, seen)
        ok = np.flatnonzero((p > 0.5) & (t > z) & ~mod_out)
        order = ok[np.argsort(-(p[ok] * t[ok]), kind="stable")][:top]
        out[side] = [
            ConsensusEntry(statements[j], int(success[j]), int(seen[j]), float(p[j]), float(t[j]))
            for j in order
        ]
    return out


def group_informed_consensus(tallies: Tallies) -> FloatArray:
    """GIC (section 9): product over groups of (A + 1) / (S + 2); raw tallies, in-conv."""
    m = tallies.agree.shape[1]
    if tallies.agree.shape[0] == 0:
        return np.zeros(m)
    return np.asarray(np.prod((tallies.agree + 1.0) / (tallies.seen + 2.0), axis=0))


def priority(tallies: Tallies, extremity: FloatArray, meta: npt.NDArray[np.bool_]) -> FloatArray:
    """Statement priority (section 10) from the current group tallies; meta statements 49."""
    a_sum = tallies.agree.sum(axis=0).astype(np.float64)
    d_sum = tallies.disagree.sum(axis=0).astype(np.float64)
    s_sum = tallies.seen.sum(axis=0).astype(np.float64)
    passes = s_sum - (a_sum + d_sum)
    p = (passes + 1.0) / (s_sum + 2.0)
    a = (a_sum + 1.0) / (s_sum + 2.0)
    importance = (1.0 - p) * (extremity + 1.0) * a
    value = (importance * (1.0 + 8.0 * np.power(2.0, -s_sum / 5.0))) ** 2
    return np.asarray(np.where(meta, 49.0, value))
