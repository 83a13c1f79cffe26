"""PCA of the rating matrix and the sparsity-aware projections (spec sections 3 and 4).

Exact and deterministic: the two leading eigenvectors of ``XᵀX`` (equivalently the two leading
right singular vectors of ``X``), with a fixed sign rule. No random start vector (quirk Q10).

* Small problems (the smaller side <= ``EXACT_GRAM_LIMIT``): eigendecomposition of the smaller
  Gram matrix with LAPACK.
* Large problems: block Lanczos (Krylov subspace with full re-orthogonalisation, fixed seed)
  on ``v -> Xᵀ(Xv)``, accepted only when both Ritz residuals are below ``KRYLOV_RTOL`` times
  the leading eigenvalue (the angle to the true eigenvector is then at most that over the
  relative eigengap, by Davis-Kahan, and in practice at rounding level, as Ritz vectors
  converge quadratically); otherwise the exact Gram path is used. This is the "seeded power
  iteration" the spec allows, run to (near) machine precision.

Sign rule: the largest-magnitude loading of each component is positive (ties: first index).
Rank rule (instead of quirk Q16, which sends every projection to [0, 0]): a component whose
eigenvalue is zero, or below ``RANK_RTOL`` times the leading one, is the zero vector, so a
rank-1 conversation still spreads people along its first axis.

Edge cases (as Pol.is's ``wrapped-pca``): one participant -> centre 0 and components
[row / |row|, 0]; one statement -> centre [0] and components [[1], [0]].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

EXACT_GRAM_LIMIT = 600
KRYLOV_BLOCK = 4
KRYLOV_MAX_STEPS = 15
KRYLOV_RTOL = 1e-10
KRYLOV_SEED = 20_240_917
RANK_RTOL = 1e-10

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class PCAResult:
    center: FloatArray  # (m,)
    components: FloatArray  # (2, m); a zero row means "no such axis"
    eigenvalues: FloatArray  # (2,) of XᵀX, descending; 0 where the component is zero
    participant_projections: FloatArray  # (n, 2)
    statement_projections: FloatArray  # (m, 2)
    statement_extremity: FloatArray  # (m,)


def _sign_fixed(v: FloatArray) -> FloatArray:
    if not v.any():
        return v
    i = int(np.argmax(np.abs(v)))
    return -v if v[i] < 0 else v


def _top2_exact(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    n, m = x.shape
    if m <= n:
        w, vecs = np.linalg.eigh(x.T @ x)
        order = np.argsort(w)[::-1][:2]
        return w[order], vecs[:, order]
    w, u = np.linalg.eigh(x @ x.T)
    order = np.argsort(w)[::-1][:2]
    v = x.T @ u[:, order]
    norms = np.linalg.norm(v, axis=0)
    v = np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)
    return w[order], v


def _top2_krylov(x: FloatArray) -> tuple[FloatArray, FloatArray] | None:
    m = x.shape[1]
    block = min(KRYLOV_BLOCK, m)
    rng = np.random.default_rng(KRYLOV_SEED)
    q, _ = np.linalg.qr(rng.standard_normal((m, block)))
    basis: list[FloatArray] = []
    images: list[FloatArray] = []
    for _ in range(KRYLOV_MAX_STEPS):
        aq = x.T @ (x @ q)
        basis.append(q)
        images.append(aq)
        b = np.hstack(basis)
        ab = np.hstack(images)
        t = b.T @ ab
        w, y = np.linalg.eigh((t + t.T) / 2)
        order = np.argsort(w)[::-1][:2]
        theta, v = w[order], b @ y[:, order]
        if theta[0] <= 0:
            return None
        residual = np.linalg.norm(ab @ y[:, order] - v * theta, axis=0)
        if np.all(residual <= KRYLOV_RTOL * theta[0]):
            v = v / np.linalg.norm(v, axis=0)
            return theta, v
        if b.shape[1] + block > m:
            return None
        z = aq - b @ (b.T @ aq)
        z -= b @ (b.T @ z)
        q, r = np.linalg.qr(z)
        if np.min(np.abs(np.diag(r))) <= 1e-10 * np.sqrt(theta[0]):
            return None  # (near) invariant subspace with loose residual: use the exact path
    return None


def top_two_components(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Two leading eigenpairs of ``XᵀX``: (eigenvalues (2,), components (2, m)), sign-fixed,
    with components below the rank tolerance set to zero."""
    n, m = x.shape
    n_comps = min(2, n, m)
    values = np.zeros(2)
    comps = np.zeros((2, m))
    if n_comps == 0:
        return values, comps
    found = _top2_krylov(x) if min(n, m) > EXACT_GRAM_LIMIT else None
    w, v = found if found is not None else _top2_exact(x)
    lead = float(w[0])
    for c in range(min(n_comps, len(w))):
        if lead > 0 and w[c] > RANK_RTOL * lead:
            values[c] = w[c]
            comps[c] = _sign_fixed(np.ascontiguousarray(v[:, c]))
    return values, comps


def statement_projections(
    center: FloatArray, components: FloatArray, n_cmts: int, agree: float = 1.0
) -> FloatArray:
    """Each statement as a virtual participant who agreed with it only (section 4):
    ``sqrt(n_cmts) · (agree - center_j) · (pc1_j, pc2_j)``; ``agree`` is +1 here (-1 in
    Pol.is's stored output: the point is mirrored, its norm, the extremity, is the same)."""
    return np.asarray((np.sqrt(n_cmts) * (agree - center))[:, None] * components.T)


def compute_pca(rating: npt.NDArray[Any], rating_voted: npt.NDArray[np.bool_]) -> PCAResult:
    """PCA and projections of ``rating`` (moderated-out columns already 0 and marked voted for
    every row). Not-voted cells of ``rating`` must be 0."""
    n, m = rating.shape
    if n == 0 or m == 0:
        return PCAResult(
            np.zeros(m), np.zeros((2, m)), np.zeros(2), np.zeros((n, 2)), np.zeros((m, 2)),
            np.zeros(m),
        )  # fmt: skip
    n_votes = np.count_nonzero(rating_voted, axis=1)
    if n == 1:
        center = np.zeros(m)
        row = rating[0].astype(np.float64)
        norm = float(np.linalg.norm(row))
        comps = np.zeros((2, m))
        values = np.zeros(2)
        if norm > 0:
            comps[0] = row / norm
            values[0] = norm * norm
        x = row[None, :]
    elif m == 1:
        center = np.zeros(1)
        comps = np.array([[1.0], [0.0]])
        x = np.where(rating_voted, rating, 0.0).astype(np.float64)
        values = np.array([float(x[:, 0] @ x[:, 0]), 0.0])
    else:
        counts = np.count_nonzero(rating_voted, axis=0)
        sums = rating.sum(axis=0, dtype=np.int64)
        center = sums / np.maximum(counts, 1)
        # Not-voted cells are filled with the column mean: exactly 0 after centring.
        x = np.zeros((n, m))
        np.subtract(rating, center, out=x, where=rating_voted)
        values, comps = top_two_components(x)
        # Columns that are constant (all passes, all agree, all disagree; moderated-out
        # columns are all "passes") are zero in X: they load exactly 0, not rounding noise.
        non_pass = np.count_nonzero(rating, axis=0)
        constant = (non_pass == 0) | ((non_pass == counts) & (np.abs(sums) == counts))
        comps[:, constant] = 0.0
    scale = np.sqrt(m / np.maximum(n_votes, 1))
    participant_proj = (x @ comps.T) * scale[:, None]
    statement_proj = statement_projections(center, comps, m)
    extremity = np.linalg.norm(statement_proj, axis=1)
    return PCAResult(center, comps, values, participant_proj, statement_proj, extremity)
