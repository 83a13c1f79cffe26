"""Pairwise ranking of ideas ("which would help patients more?"). Pure: numpy only, no Django.

Model (Bradley-Terry): idea *i* has a strength ``s_i`` on the logit scale and is chosen over
idea *j* with probability ``sigma(s_i - s_j)``, where ``sigma(x) = 1 / (1 + e^(-x))``.

Fit: the posterior mode under a weak normal prior ``s_i ~ N(0, prior_sd^2)``, found by
Newton's method on the log posterior (concave, and strictly so thanks to the prior). The prior
keeps every score finite, for an idea that has never lost, never been compared, or sits in a
part of the comparison graph cut off from the rest; with many comparisons its pull vanishes.
At the mode the scores average exactly zero (the gradient's sum is ``-sum(s_i) / prior_sd^2``),
so ``sigma(s_i)`` reads as "the chance this idea is chosen over an average one".

Uncertainty: the Laplace approximation. The covariance of the scores is the inverse of the
negative Hessian at the mode, ``(L + I / prior_sd^2)^-1``, where ``L`` is the Laplacian of the
comparison graph weighted by ``n_ij p_ij (1 - p_ij)`` (the Fisher information), projected
onto "score minus the average score" (the common level is not something comparisons can
tell). Standard errors are the square roots of its diagonal; "clearly ahead" compares a
difference of two scores with its own standard error, covariance included.

"Can't decide" answers are not comparisons: they carry no preference and are left out of the
fit (the caller keeps them so that the same person is not shown the same pair again).

Choosing the next pair: the pair whose answer is expected to teach most about the ranking,
``p_ij (1 - p_ij) · Var(s_i - s_j)``: ideas with few comparisons have a large variance, and
ideas with close scores have ``p`` near 1/2. Among the pairs within 5 % of the best, one is
drawn with a generator seeded by the caller (per person), so that people see different pairs
and the same person sees the same pair on a reload.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PRIOR_SD = 2.0
# Two-sided 95 % normal quantile: the intervals shown and "clearly ahead".
Z95 = 1.959963984540054
# Pairs whose expected information is within this share of the best are drawn at random.
NEAR_BEST = 0.95


def logistic(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sigmoid(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)))


@dataclass(frozen=True)
class Rated:
    """One idea's place in the ranking."""

    item: Hashable
    score: float  # logit-scale strength; the scores average zero
    se: float  # standard error of ``score``
    wins: int
    losses: int
    rank: int  # 1 = first

    @property
    def comparisons(self) -> int:
        return self.wins + self.losses

    @property
    def chance(self) -> float:
        """Chance (0-100) of being chosen over an average idea."""
        return 100.0 * logistic(self.score)

    @property
    def chance_low(self) -> float:
        return 100.0 * logistic(self.score - Z95 * self.se)

    @property
    def chance_high(self) -> float:
        return 100.0 * logistic(self.score + Z95 * self.se)


@dataclass(frozen=True)
class Ranking:
    """The fitted ranking: ``rated`` best first (ties in score broken by the items' order
    as given), and the covariance of the scores for comparisons between any two."""

    rated: list[Rated]
    n_comparisons: int
    cov: np.ndarray[Any, Any] = field(repr=False)
    index: dict[Hashable, int] = field(repr=False)
    prior_sd: float = PRIOR_SD
    by_item: dict[Hashable, Rated] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_item", {r.item: r for r in self.rated})

    def __getitem__(self, item: Hashable) -> Rated:
        return self.by_item[item]

    def difference(self, a: Hashable, b: Hashable) -> tuple[float, float]:
        """``s_a - s_b`` and its standard error."""
        i, j = self.index[a], self.index[b]
        var = self.cov[i, i] + self.cov[j, j] - 2.0 * self.cov[i, j]
        return self[a].score - self[b].score, math.sqrt(max(float(var), 0.0))

    def clearly_ahead(self, a: Hashable, b: Hashable) -> bool:
        """Whether ``a``'s lead over ``b`` is beyond chance at the 95 % level."""
        diff, se = self.difference(a, b)
        return diff > Z95 * se

    def too_close_to_call(self, a: Hashable) -> list[Hashable]:
        """The other ideas ``a`` is not clearly ahead of nor clearly behind."""
        return [
            r.item
            for r in self.rated
            if r.item != a
            and not self.clearly_ahead(a, r.item)
            and not self.clearly_ahead(r.item, a)
        ]

    def sentence(self, label: Mapping[Any, str] | None = None, people: int | None = None) -> str:
        """The ranking in plain words, for beside the list."""
        if not self.rated:
            return "There are no ideas to rank yet."
        if self.n_comparisons == 0:
            return "No one has compared these ideas yet: the order is not a ranking yet."
        names = label or {}
        top = self.rated[0]
        name = names.get(top.item, str(top.item))
        choices = f"{self.n_comparisons} choice{'s' if self.n_comparisons != 1 else ''}"
        if people is not None:
            choices += f" by {people} {'person' if people == 1 else 'people'}"
        text = (
            f"From {choices}, “{name}” comes first: it would be picked over an average idea "
            f"about {round(top.chance)} times in 100 (likely between {round(top.chance_low)} "
            f"and {round(top.chance_high)})."
        )
        others = len(self.rated) - 1
        if others == 0:
            return text
        close = self.too_close_to_call(top.item)
        ahead = sum(1 for r in self.rated[1:] if self.clearly_ahead(top.item, r.item))
        if not close:
            return text + " It is clearly ahead of every other idea."
        if ahead == 0:
            return text + (
                " But it is not clearly ahead of any other idea yet: more comparisons would "
                "tell them apart."
            )
        n_close = len(close)
        return text + (
            f" It is clearly ahead of {ahead} of the {others} other ideas; {n_close} "
            f"{'is' if n_close == 1 else 'are'} still too close to call."
        )


def _counts(
    items: Sequence[Hashable], outcomes: Iterable[tuple[Hashable, Hashable]]
) -> tuple[np.ndarray[Any, Any], dict[Hashable, int], int]:
    index = {item: k for k, item in enumerate(items)}
    if len(index) != len(items):
        raise ValueError("items must be distinct")
    wins = np.zeros((len(items), len(items)))
    n = 0
    for winner, loser in outcomes:
        i, j = index.get(winner), index.get(loser)
        if i is None or j is None or i == j:
            continue  # a comparison with an idea outside the set, or with itself, is ignored
        wins[i, j] += 1.0
        n += 1
    return wins, index, n


def _log_posterior(s: np.ndarray[Any, Any], wins: np.ndarray[Any, Any], prec: float) -> float:
    diff = s[:, None] - s[None, :]
    # log sigma(d) = -log(1 + e^(-d)), computed stably.
    return float(-(wins * np.logaddexp(0.0, -diff)).sum() - 0.5 * prec * (s @ s))


def fit(
    items: Sequence[Hashable],
    outcomes: Iterable[tuple[Hashable, Hashable]],
    *,
    prior_sd: float = PRIOR_SD,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> Ranking:
    """Bradley-Terry scores of ``items`` from ``(winner, loser)`` pairs.

    Outcomes naming an item not in ``items`` are ignored. Deterministic: the same input gives
    the same output; equal scores keep the order of ``items``.
    """
    if prior_sd <= 0:
        raise ValueError("prior_sd must be positive")
    items = list(items)
    wins, index, n_comparisons = _counts(items, outcomes)
    m = len(items)
    prec = 1.0 / (prior_sd * prior_sd)
    games = wins + wins.T
    s = np.zeros(m)
    eye = np.eye(m)

    def information(s: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        p = _sigmoid(s[:, None] - s[None, :])
        a = games * p * p.T
        return np.asarray(np.diag(a.sum(axis=1)) - a + prec * eye)

    if m and n_comparisons:
        current = _log_posterior(s, wins, prec)
        for _ in range(max_iter):
            p = _sigmoid(s[:, None] - s[None, :])
            grad = wins.sum(axis=1) - (games * p).sum(axis=1) - prec * s
            step = np.linalg.solve(information(s), grad)
            # Newton on a concave function; halve the step if it ever overshoots.
            t = 1.0
            while True:
                candidate = s + t * step
                value = _log_posterior(candidate, wins, prec)
                if value >= current - 1e-12 or t < 1e-6:
                    break
                t *= 0.5
            s, current = candidate, value
            if float(np.max(np.abs(t * step))) < tol:
                break
        # Remove the rounding drift: at the mode the scores sum to zero exactly.
        s = s - s.mean()
    cov = np.linalg.inv(information(s)) if m else np.zeros((0, 0))
    # Scores are read against the average idea (s_i - mean s): drop the uncertainty of the
    # common level, which only the prior pins down and which no comparison can inform.
    centre = np.eye(m) - np.full((m, m), 1.0 / m) if m else np.zeros((0, 0))
    cov = centre @ cov @ centre
    won = wins.sum(axis=1)
    lost = wins.sum(axis=0)
    order = sorted(range(m), key=lambda k: (-round(float(s[k]), 12), k))
    rated = [
        Rated(
            item=items[k],
            score=float(s[k]),
            se=math.sqrt(float(cov[k, k])),
            wins=int(won[k]),
            losses=int(lost[k]),
            rank=position + 1,
        )
        for position, k in enumerate(order)
    ]
    return Ranking(
        rated=rated, n_comparisons=n_comparisons, cov=cov, index=index, prior_sd=prior_sd
    )


def next_pair(
    ranking: Ranking,
    candidates: Sequence[Hashable],
    *,
    seen: Iterable[frozenset[Hashable]] = (),
    seed: int | str = 0,
) -> tuple[Hashable, Hashable] | None:
    """The next pair to show (left, right), or None when every pair of ``candidates`` is in
    ``seen`` (or fewer than two candidates). ``candidates`` must be items of ``ranking``."""
    pool = list(dict.fromkeys(c for c in candidates if c in ranking.index))
    if len(pool) < 2:
        return None
    done = {frozenset(pair) for pair in seen}
    idx = np.array([ranking.index[c] for c in pool])
    scores = np.array([ranking[c].score for c in pool])
    cov = ranking.cov[np.ix_(idx, idx)]
    var = np.diag(cov)[:, None] + np.diag(cov)[None, :] - 2.0 * cov
    p = _sigmoid(scores[:, None] - scores[None, :])
    utility = p * (1.0 - p) * var
    pairs = [
        (float(utility[a, b]), a, b)
        for a in range(len(pool))
        for b in range(a + 1, len(pool))
        if frozenset((pool[a], pool[b])) not in done
    ]
    if not pairs:
        return None
    best = max(u for u, _, _ in pairs)
    near = [(a, b) for u, a, b in pairs if u >= NEAR_BEST * best]
    rng = random.Random(seed)  # noqa: S311 - variety between people, not secrecy
    a, b = near[rng.randrange(len(near))]
    if rng.random() < 0.5:
        a, b = b, a
    return pool[a], pool[b]


__all__ = ["PRIOR_SD", "Z95", "Ranking", "Rated", "fit", "logistic", "next_pair"]
