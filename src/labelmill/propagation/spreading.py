"""Label spreading of label-model probabilities over a kNN graph (Zhou et al. 2004).

    F <- alpha * S @ F + (1 - alpha) * A @ Y,     S = D^-1/2 W D^-1/2

Y holds the label model's probabilities on covered rows and zeros on uncovered ones; the
diagonal anchor A weighs each covered row by the label model's confidence, so confident
rows hold their label and unsure rows take more from their neighbours. The iteration is a
contraction for alpha < 1 and runs with sparse matrix products until the largest change
is below ``tol``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import DataFormatError


def normalized_graph(W: sp.spmatrix) -> sp.csr_matrix:
    """S = D^-1/2 W D^-1/2 (isolated rows stay zero). W: (N, N) symmetric, non-negative."""
    deg = np.asarray(W.sum(axis=1)).ravel()
    inv = np.zeros_like(deg, dtype=np.float64)
    inv[deg > 0] = 1.0 / np.sqrt(deg[deg > 0])
    D = sp.diags(inv.astype(np.float32))
    return (D @ W @ D).tocsr().astype(np.float32)


def confidence_anchor(proba: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """Anchor weight per row: 0 on uncovered rows; on covered rows the label model's margin
    over a uniform guess, ``(max p - 1/k) / (1 - 1/k)``, floored at 0.05 so no covered row
    is ignored entirely. Returns (N,) float in [0, 1]."""
    k = proba.shape[1]
    margin = (proba.max(axis=1) - 1.0 / k) / (1.0 - 1.0 / k)
    return np.where(covered, np.clip(margin, 0.05, 1.0), 0.0)


def spread(S: sp.csr_matrix, Y: np.ndarray, anchor: np.ndarray, alpha: float = 0.9, tol: float = 1e-6,
           max_iter: int = 1000) -> tuple[np.ndarray, int]:
    """Iterate label spreading to its fixed point.

    Parameters
    ----------
    S : (N, N) normalised graph from `normalized_graph`
    Y : (N, k) seed distributions (rows of uncovered examples are ignored)
    anchor : (N,) weight of each row's seed, 0 = no seed
    alpha : in [0, 1): how much each row takes from its neighbours rather than its seed

    Returns
    -------
    F : (N, k) float64 unnormalised scores (rows with no path to any seed are all zero)
    n_iter : iterations run
    """
    if not 0.0 <= alpha < 1.0:
        raise DataFormatError(f"alpha must be in [0, 1), got {alpha}")
    B = (1.0 - alpha) * (np.asarray(Y, dtype=np.float64) * np.asarray(anchor, dtype=np.float64)[:, None])
    F = B.copy()
    St = S.astype(np.float64)
    for it in range(1, max_iter + 1):
        F_new = alpha * (St @ F) + B
        delta = float(np.abs(F_new - F).max()) if F.size else 0.0
        F = F_new
        if delta < tol:
            return F, it
    return F, max_iter


def scores_to_proba(F: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Row-normalise spreading scores; rows with no mass get ``prior``. Returns (N, k)."""
    total = F.sum(axis=1, keepdims=True)
    out = np.where(total > 0, F / np.where(total > 0, total, 1.0), prior[None, :])
    return out
