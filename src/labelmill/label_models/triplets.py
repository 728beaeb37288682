"""Source accuracies from pairwise agreement rates: the triplet method (FlyingSquid-style).

Under the one-coin model (source i is right with probability a_i and otherwise picks
one of the other k-1 classes uniformly; sources independent given the class), two
sources that both vote agree with probability
``a_i a_j + (1 - a_i)(1 - a_j)/(k - 1)``. Writing ``s_i = (k a_i - 1)/(k - 1)`` this is
``c_ij := (k * agree_ij - 1)/(k - 1) = s_i s_j``, so for any third source j, l:
``s_i² = c_ij c_il / c_jl``. We take the median of that over all triplets whose
pairs overlap on enough rows, which is robust to the odd badly estimated pair.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..matrix import LabelMatrix
from .moments import second_moments


def pairwise_agreement(L: LabelMatrix) -> tuple[np.ndarray, np.ndarray]:
    """(M, M) rows where both sources vote, and (M, M) fraction of those where they agree.

    With few sources x classes this reads the blocks of the (M*k)² moment matrix (fast
    bitset counting for dense votes); with many it multiplies sparse (N, M) vote
    indicators, so memory stays O(M²) whatever k is.
    """
    m, k = L.n_sources, L.n_classes
    if m * k <= _MAX_MOMENT_DIM:
        # the moments are count / N: rounding the product back to whole counts keeps a
        # pair with exactly min_overlap co-votes from reading as 9.999999999999998
        blocks = np.rint(second_moments(L) * L.n_rows).reshape(m, k, m, k)
        both, agree = blocks.sum(axis=(1, 3)), np.einsum("iljl->ij", blocks)
    else:
        both, agree = _sparse_pair_counts(L)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(both > 0, agree / np.maximum(both, 1), np.nan)
    np.fill_diagonal(rate, np.nan)
    return both, rate


_MAX_MOMENT_DIM = 2048


def _sparse_pair_counts(L: LabelMatrix) -> tuple[np.ndarray, np.ndarray]:
    """(M, M) co-vote counts and (M, M) agreement counts from sparse vote indicators."""
    m = L.n_sources
    rows = L.rows
    ones = np.ones(L.nnz, dtype=np.float64)
    voted = sp.csr_matrix((ones, (rows, L.sources)), shape=(L.n_rows, m))
    both = (voted.T @ voted).toarray()
    agree = np.zeros((m, m))
    for c in range(L.n_classes):
        sel = L.labels == c
        Xc = sp.csr_matrix((ones[sel], (rows[sel], L.sources[sel])), shape=(L.n_rows, m))
        agree += (Xc.T @ Xc).toarray()
    return both, agree


def triplet_accuracies(L: LabelMatrix, min_overlap: int = 10, min_signal: float = 0.05,
                       max_partners: int = 100, prior_accuracy: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Estimate each source's accuracy P(vote correct | votes) without gold.

    Parameters
    ----------
    L : LabelMatrix (N, M), k classes
    min_overlap : pairs co-voting on fewer rows are not used
    min_signal : pairs with |c_jl| below this are not used as denominators
    max_partners : per source, only its best-overlapping partners are used (caps the
        cost at M * max_partners² triplets)
    prior_accuracy : returned for a source with no usable triplet

    Returns
    -------
    accuracy : ndarray (M,), in [1/k, 1)
    n_triplets : ndarray (M,), how many triplets each estimate is the median of
    """
    m, k = L.n_sources, L.n_classes
    both, rate = pairwise_agreement(L)
    c = (k * rate - 1.0) / (k - 1.0)
    c[both < min_overlap] = np.nan
    acc = np.full(m, float(prior_accuracy))
    n_trip = np.zeros(m, dtype=np.int64)
    for i in range(m):
        partners = np.flatnonzero(np.isfinite(c[i]))
        if len(partners) < 2:
            continue
        if len(partners) > max_partners:
            partners = partners[np.argsort(-both[i, partners], kind="stable")[:max_partners]]
        ci = c[i, partners]
        cjl = c[np.ix_(partners, partners)]
        with np.errstate(divide="ignore", invalid="ignore"):
            est = np.outer(ci, ci) / cjl
        ok = np.isfinite(est) & (np.abs(cjl) >= min_signal)
        ok[np.arange(len(partners)), np.arange(len(partners))] = False
        vals = est[np.triu(ok, 1)]
        if len(vals) == 0:
            continue
        s2 = float(np.clip(np.median(vals), 0.0, 0.98))
        acc[i] = (1.0 + (k - 1.0) * np.sqrt(s2)) / k
        n_trip[i] = len(vals)
    return acc, n_trip
