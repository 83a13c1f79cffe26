"""In-conv participants, k-means, base clusters, opinion groups and k selection (sections 2, 5).

k-means here is Lloyd's algorithm as Pol.is runs it, one-shot (no warm start):

* cold start from the first k *distinct* points in the given order;
* each step assigns every point to the nearest centre by the directly computed Euclidean
  distance (not the cancellation-prone expansion, quirk Q11); exact ties go to the later
  cluster, as in Pol.is, for any number of clusters (not hash-map order, quirk Q17); points
  that provably keep their centre (Hamerly's distance bounds) are not re-measured, which
  changes the speed, never the result;
* clusters left empty are dropped (k can shrink); centres are (weighted) member means;
* at most ``max_iter`` steps (base: 100; groups: 20, the number Pol.is really runs, quirk Q3,
  stated in the configuration); stop early when, with both centre lists sorted, every centre
  moved less than ``tol`` (0.01) and no cluster was dropped.

Group k selection: candidates k = 2..max_k, ``max_k = min(5, 2 + n_base // 12)``; silhouette
over the base-cluster centres (unweighted); argmax, ties -> the smaller k; a candidate whose
k-means collapsed to a single cluster is not a candidate. If no candidate exists (fewer than
two distinct base centres), all in-conv participants form one group (k = 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def in_conv_mask(
    user_vote_counts: npt.NDArray[np.integer], n_cmts: int, min_votes: int, min_in_conv: int
) -> npt.NDArray[np.bool_]:
    """``count >= min(min_votes, n_cmts)``; if fewer than ``min_in_conv`` qualify, the others
    with the most votes are added until there are ``min_in_conv`` (vote-count ties: row
    order). One-shot: no sticky membership."""
    counts = np.asarray(user_vote_counts)
    mask = (counts >= min(min_votes, n_cmts)) & (counts > 0)
    missing = min(min_in_conv, int((counts > 0).sum())) - int(mask.sum())
    if missing > 0:
        rest = np.flatnonzero(~mask & (counts > 0))
        order = rest[np.argsort(-counts[rest], kind="stable")]
        mask[order[:missing]] = True
    return mask


def first_distinct_rows(points: FloatArray, k: int) -> IntArray:
    """Indices of the first ``k`` distinct rows, in row order."""
    if len(points) == 0 or k <= 0:
        return np.zeros(0, dtype=np.intp)
    _, first = np.unique(points, axis=0, return_index=True)
    return np.sort(first)[:k].astype(np.intp)


def _nearest_later_on_ties(
    points: FloatArray, centers: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Nearest centre of each point (exact ties -> the later centre), the distance to it and
    the distance to the nearest other centre (inf if there is none).

    Squared distances are computed directly per coordinate (never by the |x|² - 2x·c + |c|²
    expansion, quirk Q11); centres are scanned in reverse so that argmin's first hit is the
    later centre."""
    k = centers.shape[0]
    rev = centers[::-1]
    dist = np.subtract.outer(points[:, 0], rev[:, 0])
    np.square(dist, out=dist)
    dy = np.subtract.outer(points[:, 1], rev[:, 1])
    np.square(dy, out=dy)
    dist += dy
    rows = np.arange(len(points))
    pick = np.argmin(dist, axis=1)
    nearest = np.sqrt(dist[rows, pick])
    if k > 1:
        dist[rows, pick] = np.inf
        second = np.sqrt(dist.min(axis=1))
    else:
        second = np.full(len(points), np.inf)
    return (k - 1 - pick).astype(np.intp), nearest, second


def _assign(
    points: FloatArray, centers: FloatArray, labels: IntArray, lower: FloatArray
) -> tuple[IntArray, FloatArray]:
    """One assignment step, exact, with Hamerly's bounds to skip settled points.

    ``lower`` bounds the distance from each point to every centre but its own. A point whose
    exact distance to its own centre is below that bound (with a relative margin far above
    rounding error) keeps its centre: it is strictly the nearest, so no tie can arise. Every
    other point is compared with all centres, exactly as without bounds."""
    own = points - centers[labels]
    own_dist = np.sqrt((own * own).sum(axis=1))
    settled = own_dist + 1e-9 * (1.0 + own_dist) < lower
    todo = np.flatnonzero(~settled)
    if len(todo):
        new_labels, _, second = _nearest_later_on_ties(points[todo], centers)
        labels = labels.copy()
        labels[todo] = new_labels
        lower = lower.copy()
        lower[todo] = second
    return labels, lower


def _same_clustering(old: FloatArray, new: FloatArray, tol: float) -> bool:
    if old.shape != new.shape:
        return False
    a = old[np.lexsort(old.T[::-1])]
    b = new[np.lexsort(new.T[::-1])]
    return bool(np.all(np.sqrt(((a - b) ** 2).sum(axis=1)) < tol))


@dataclass(frozen=True, eq=False)
class KMeansResult:
    centers: FloatArray  # (k, 2)
    labels: IntArray  # (n,) index into centers
    iterations: int


def kmeans(
    points: FloatArray,
    k: int,
    *,
    max_iter: int,
    tol: float = 0.01,
    weights: FloatArray | None = None,
) -> KMeansResult:
    """Weighted Lloyd k-means, cold-started from the first k distinct points (see module)."""
    n = points.shape[0]
    if n == 0:
        return KMeansResult(np.zeros((0, 2)), np.zeros(0, dtype=np.intp), 0)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    centers = points[first_distinct_rows(points, k)]
    labels = np.zeros(n, dtype=np.intp)
    lower = np.full(n, -np.inf)  # first step: every point is compared with every centre
    iterations = 0
    for _ in range(max(max_iter, 1)):
        iterations += 1
        labels, lower = _assign(points, centers, labels, lower)
        counts = np.bincount(labels, minlength=len(centers))
        used = counts > 0
        size = np.bincount(labels, weights=w, minlength=len(centers))
        sx = np.bincount(labels, weights=w * points[:, 0], minlength=len(centers))
        sy = np.bincount(labels, weights=w * points[:, 1], minlength=len(centers))
        new_centers = np.stack([sx[used] / size[used], sy[used] / size[used]], axis=1)
        if not used.all():
            labels = (np.cumsum(used) - 1)[labels].astype(np.intp)
        done = _same_clustering(centers, new_centers, tol)
        moved = np.sqrt(((centers[used] - new_centers) ** 2).sum(axis=1))
        lower = lower - moved.max()  # still a lower bound to every other centre
        centers = new_centers
        if done:
            break
    return KMeansResult(centers, labels, iterations)


def silhouette(points: FloatArray, labels: IntArray) -> float:
    """Mean silhouette over ``points`` (unweighted); 0 for a point alone in its cluster."""
    n = len(points)
    k = int(labels.max()) + 1 if n else 0
    if n == 0 or k < 2:
        return 0.0
    diff = points[:, None, :] - points[None, :, :]
    dist = np.sqrt((diff * diff).sum(axis=2))
    onehot = np.zeros((n, k))
    onehot[np.arange(n), labels] = 1.0
    sizes = onehot.sum(axis=0)
    sums = dist @ onehot  # (n, k): total distance to each cluster's members
    own = sizes[labels]
    a = np.divide(sums[np.arange(n), labels], own - 1, out=np.zeros(n), where=own > 1)
    mean_other = np.divide(sums, sizes, out=np.full((n, k), np.inf), where=sizes > 0)
    mean_other[np.arange(n), labels] = np.inf
    c = mean_other.min(axis=1)
    denom = np.maximum(a, c)
    s = np.divide(c - a, denom, out=np.zeros(n), where=denom > 0)
    s[own <= 1] = 0.0
    return float(s.mean())


@dataclass(frozen=True, eq=False)
class Clustering:
    """Base clusters and groups over the in-conv participants (indices into the in-conv list)."""

    base_centers: FloatArray  # (n_base, 2)
    base_labels: IntArray  # (n_in_conv,) base cluster of each in-conv participant
    base_sizes: IntArray  # (n_base,)
    group_of_base: IntArray  # (n_base,) group of each base cluster
    group_centers: FloatArray  # (k, 2) weighted group centres
    k: int
    max_k: int
    silhouettes: dict[int, float]  # candidate k -> silhouette (only valid candidates)

    @property
    def labels(self) -> IntArray:
        """Group of each in-conv participant."""
        return self.group_of_base[self.base_labels]


def cluster_participants(
    points: FloatArray,
    *,
    base_k: int = 100,
    base_max_iter: int = 100,
    group_max_iter: int = 20,
    max_groups: int = 5,
    base_per_extra_group: int = 12,
    tol: float = 0.01,
) -> Clustering:
    """Base clusters, then groups by silhouette-selected weighted k-means (see module)."""
    base = kmeans(points, base_k, max_iter=base_max_iter, tol=tol)
    n_base = len(base.centers)
    sizes = np.bincount(base.labels, minlength=n_base).astype(np.intp)
    max_k = min(max_groups, 2 + n_base // base_per_extra_group)
    silhouettes: dict[int, float] = {}
    best: KMeansResult | None = None
    best_score = -np.inf
    n_distinct = len(first_distinct_rows(base.centers, 2))
    if n_distinct >= 2:
        for k in range(2, max_k + 1):
            grouped = kmeans(
                base.centers, k, max_iter=group_max_iter, tol=tol, weights=sizes.astype(float)
            )
            if len(grouped.centers) < 2:
                continue
            score = silhouette(base.centers, grouped.labels)
            silhouettes[k] = score
            if score > best_score:
                best, best_score = grouped, score
    if best is None:
        group_of_base = np.zeros(n_base, dtype=np.intp)
        if n_base:
            center = (sizes[:, None] * base.centers).sum(axis=0) / sizes.sum()
            group_centers = center[None, :]
        else:
            group_centers = np.zeros((0, 2))
        k = 1 if n_base else 0
    else:
        group_of_base = best.labels
        group_centers = best.centers
        k = len(best.centers)
    return Clustering(
        base_centers=base.centers,
        base_labels=base.labels,
        base_sizes=sizes,
        group_of_base=group_of_base,
        group_centers=group_centers,
        k=k,
        max_k=max_k,
        silhouettes=silhouettes,
    )
