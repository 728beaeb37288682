"""Moment-matching label model (matrix completion, in the style of Snorkel's LabelModel)."""

from __future__ import annotations


import numpy as np
import scipy.sparse as sp

from .._checks import check_number
from ..matrix import LabelMatrix, _index_dtype
from .base import LabelModel, smoothed_class_balance, softmax_rows, vote_accuracy


def second_moments(L: LabelMatrix, chunk_rows: int = 200_000) -> np.ndarray:
    """O = Λᵀ Λ / N, with Λ the (N, M*k) one-hot vote indicator. Shape (M*k, M*k).

    Computed over row chunks so memory stays at one chunk of the indicator. ΛᵀΛ is a
    table of integer counts, and both ways of computing it here are exact:

    * few indicator columns and many votes per row (LF-style data): each column of a
      chunk is packed into a bitset and ``O[a, b] = popcount(col_a & col_b)``, which
      does M*k*M*k/2 word operations per 64 rows, single-threaded;
    * otherwise (crowd data: many sources, few votes per row) a sparse product per
      chunk, whose work grows with the square of the votes per row.
    """
    k = L.n_classes
    mk = L.n_sources * k
    n = L.n_rows
    if n == 0 or L.nnz == 0:
        return np.zeros((mk, mk)) / max(n, 1)
    chunk_rows = max(1, min(int(chunk_rows), 2**24 - 1))  # float32 counts stay exact
    per_row = np.diff(L.indptr).astype(np.float64)
    if _HAS_POPCOUNT and mk * mk <= _BITSET_WORK_RATIO * float(per_row @ per_row) / n:
        return _second_moments_bitset(L) / n
    O = np.zeros((mk, mk))
    indptr = L.indptr
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        a, b = int(indptr[start]), int(indptr[stop])
        cols = L.sources[a:b].astype(_index_dtype(mk)) * k + L.labels[a:b]
        X = sp.csr_matrix((np.ones(b - a, dtype=np.float32), cols, indptr[start:stop + 1] - a),
                          shape=(stop - start, mk))
        O += (X.T @ X).toarray()
    return O / n


# second_moments uses bitsets when their (M*k)^2 / 2 word operations per 64 rows are at most
# this many times the sum over those rows of (votes per row)^2, the sparse product's work
_BITSET_WORK_RATIO = 64.0
_BITSET_CHUNK_BYTES = 32 * 2**20
_HAS_POPCOUNT = hasattr(np, "bitwise_count")  # numpy >= 2.0


def _second_moments_bitset(L: LabelMatrix) -> np.ndarray:
    """Λᵀ Λ (integer counts, float64) via per-column bitsets; needs one vote per (row, source)."""
    k, n = L.n_classes, L.n_rows
    mk = L.n_sources * k
    counts = np.zeros((mk, mk), dtype=np.int64)
    step = max(64, (_BITSET_CHUNK_BYTES // max(mk, 1)) // 64 * 64)
    indptr = L.indptr
    for start in range(0, n, step):
        stop = min(start + step, n)
        a, b = int(indptr[start]), int(indptr[stop])
        cols = L.sources[a:b].astype(np.intp) * k + L.labels[a:b]
        local = np.repeat(np.arange(stop - start), np.diff(indptr[start:stop + 1]))
        width = -(-(stop - start) // 64) * 64
        B = np.zeros((mk, width), dtype=bool)
        B[cols, local] = True
        W = np.packbits(B, axis=1).view(np.uint64)  # (mk, width / 64)
        del B, cols, local
        for i in range(mk):
            counts[i, i:] += np.bitwise_count(W[i] & W[i:]).sum(axis=1, dtype=np.int64)
    counts = np.triu(counts) + np.triu(counts, 1).T
    return counts.astype(np.float64)


class MomentMatching(LabelModel):
    """Label model fitted by matching the votes' moments, without gold.

    Under the usual assumption that sources are conditionally independent given the
    true class, the off-diagonal blocks of ``O = E[Λᵀ Λ]`` (Λ = one-hot votes, one
    block per pair of sources) equal ``μ P μᵀ``, where ``μ[(j, l), c] = P(source j
    votes l | y = c)`` and ``P = diag(class balance)``; its diagonal equals ``μ p``.
    This is the objective of Snorkel's matrix-completion LabelModel, and we solve it
    the same way: ``n_epochs`` full-batch gradient steps (SGD with momentum) from the
    "precision prior" start ``μ[(j, l), l] = P(λ_j = l) * prec_init / p_l``, with μ
    clamped to ``[mu_eps, 1 - mu_eps]``. The fixed, short optimisation is a deliberate
    regulariser: with sparse LFs the moment problem is badly identified and a fully
    converged solution drifts away from the precision prior (measured on the WRENCH
    semeval set). Gradients are closed-form on the (M*k)² moment matrix, which is
    built in one chunked pass over the sparse votes, so the cost barely grows with N.

    ``predict_proba`` is the naive-Bayes posterior under μ. Each vote l of source j
    contributes ``log μ[(j, l), c]``, which includes how often the source votes at all
    under class c: that is what makes one-sided LFs (a keyword LF that only ever votes
    SPAM) informative. With ``abstain="ignore"`` (Snorkel's choice) a silent source
    contributes nothing; with ``abstain="model"`` it contributes
    ``log P(source j abstains | y = c)``, the full likelihood.

    Class balance: as given to ``fit``; else uniform (``class_balance="uniform"``, as
    Snorkel) or estimated (``"estimated"``: alternate fitting μ and the mean
    posterior on covered rows, ``balance_iter`` rounds).

    Two knobs reproduce Snorkel's optimiser exactly when wanted: Snorkel multiplies
    its start by a random factor in [0, 1) (``init_scale``; we default to 1, no
    randomness) and clamps μ only after the last step (``clamp_every_step=False``;
    we clamp after every step by default). After fitting, class columns are aligned
    to the votes as Snorkel does (Hungarian algorithm).

    Parameters
    ----------
    n_epochs : int >= 1, gradient steps
    lr : float > 0, step size
    momentum : float in [0, 1)
    prec_init : float in (0, 1], the precision P(y = l | source votes l) of the start
    mu_eps : float in (0, 0.5) or None, μ is clamped to ``[mu_eps, 1 - mu_eps]`` (so no
        vote has probability 0 or 1 under any class); None = ``min(0.01, 10 ** -ceil(log10(N)))``
        as Snorkel
    abstain : "ignore" or "model"
    class_balance : "uniform" or "estimated" (used when ``fit`` gets no class balance)
    balance_iter : int >= 1, rounds of the "estimated" class balance
    clamp_every_step : bool
    init_scale : float > 0, multiplies the start
    random_state : int or None

    Parameters are checked in ``fit`` (ValueError naming the parameter and its range).

    Attributes
    ----------
    mu_ : ndarray (M, k, k), ``mu_[j, c, l]`` = P(source j votes l | y = c)
    confusion_ : ndarray (M, k, k), mu_ normalised over votes: P(votes l | y = c, votes)
    accuracy_ : ndarray (M,), P(vote correct | votes) under the class balance
    class_balance_ : ndarray (k,)
    """

    name = "moments"

    def __init__(self, n_epochs: int = 100, lr: float = 0.01, momentum: float = 0.9,
                 prec_init: float = 0.7, mu_eps: float | None = None, abstain: str = "ignore",
                 class_balance: str = "uniform", balance_iter: int = 2, clamp_every_step: bool = True,
                 init_scale: float = 1.0, random_state: int | None = 0):
        self.clamp_every_step = clamp_every_step
        self.init_scale = init_scale
        self.n_epochs = n_epochs
        self.lr = lr
        self.momentum = momentum
        self.prec_init = prec_init
        self.mu_eps = mu_eps
        self.abstain = abstain
        self.class_balance = class_balance
        self.balance_iter = balance_iter
        self.random_state = random_state

    def _solve(self, O, marg, p, n_rows):
        mk, k = len(marg), len(p)
        m = mk // k
        eps = self.mu_eps if self.mu_eps is not None else min(0.01, 1 / 10 ** np.ceil(np.log10(max(n_rows, 2))))
        mu = np.zeros((mk, k))
        voted_class = np.tile(np.arange(k), m)  # row j*k + l of μ is "source j votes l"
        mu[np.arange(mk), voted_class] = np.clip(marg * self.prec_init / p[voted_class], 0, 1)
        mu *= self.init_scale
        P = np.diag(p)
        vel = np.zeros_like(mu)
        for _ in range(self.n_epochs):
            R = O - mu @ P @ mu.T
            _zero_diagonal_blocks(R, k)  # a source's own block is not a cross moment
            grad = -4.0 * R @ mu @ P + 2.0 * np.outer(mu @ p - marg, p)
            vel = self.momentum * vel + grad
            mu = mu - self.lr * vel
            if self.clamp_every_step:
                mu = np.clip(mu, eps, 1 - eps)
        return np.clip(mu, eps, 1 - eps)

    def _fit(self, L, class_balance):
        if self.abstain not in ("ignore", "model"):
            raise ValueError(f"abstain must be 'ignore' or 'model', got {self.abstain!r}")
        if self.class_balance not in ("uniform", "estimated"):
            raise ValueError(f"class_balance must be 'uniform' or 'estimated', got {self.class_balance!r}")
        self._check_numeric_params()
        k, m = L.n_classes, L.n_sources
        O = second_moments(L)
        marg = np.diag(O).copy()
        estimate = class_balance is None and self.class_balance == "estimated"
        p = class_balance if class_balance is not None else np.full(k, 1.0 / k)
        if p.min() < 1e-6:  # the moment solve divides by the balance: floor a zero share
            p = np.maximum(p, 1e-6)
            p = p / p.sum()
        cov = L.covered()
        for _ in range(max(1, self.balance_iter) if estimate else 1):
            mu = _cap_vote_mass(_align_classes(self._solve(O, marg, p, L.n_rows), p, m, k), m, k)
            self.mu_ = mu.reshape(m, k, k).transpose(0, 2, 1)  # [j, c, l]
            self.class_balance_ = p
            if estimate:
                p = smoothed_class_balance(self._predict_proba(L)[cov])
        self.class_balance_ = p
        self.confusion_ = self.mu_ / np.maximum(self.mu_.sum(axis=2, keepdims=True), 1e-12)
        self.accuracy_ = vote_accuracy(self.mu_, p)

    def _check_numeric_params(self) -> None:
        check_number(self.n_epochs, "n_epochs", integer=True, low=1)
        check_number(self.lr, "lr", low=0, low_open=True)
        check_number(self.momentum, "momentum", low=0, high=1, high_open=True)
        check_number(self.prec_init, "prec_init", low=0, high=1, low_open=True)
        check_number(self.mu_eps, "mu_eps", low=0, high=0.5, low_open=True, high_open=True, none_ok=True)
        check_number(self.init_scale, "init_scale", low=0, low_open=True)
        check_number(self.balance_iter, "balance_iter", integer=True, low=1)

    def _weights(self):
        """(M*k, k) per-vote log-likelihoods and the (k,) all-abstain baseline."""
        m, k, _ = self.mu_.shape
        log_mu = np.log(np.clip(self.mu_, 1e-12, 1.0))  # [j, c, l]
        if self.abstain == "model":
            abst = np.log(np.clip(1.0 - self.mu_.sum(axis=2), 1e-6, 1.0))  # [j, c]
        else:
            abst = np.zeros((m, k))
        W = (log_mu - abst[:, :, None]).transpose(0, 2, 1).reshape(m * k, k)
        return W, abst.sum(axis=0)

    def _predict_proba(self, L: LabelMatrix):
        W, base = self._weights()
        logits = np.asarray(L.one_hot(dtype=np.float64) @ W) + base + np.log(np.clip(self.class_balance_, 1e-12, None))
        return softmax_rows(logits)


def _align_classes(mu, p, m, k):
    """Permute μ's class columns to maximise the summed diagonal P(λ_j = c, y = c).

    The moment objective is symmetric under relabelling classes of equal prior, so
    the optimiser can end on a permuted solution; as in Snorkel, pick the column
    permutation (within groups of equal class prior) that makes sources agree most
    with the class they vote for (Hungarian algorithm).
    """
    from scipy.optimize import linear_sum_assignment

    joint = mu.reshape(m, k, k).sum(axis=0) * p[None, :]  # [l, c]: sum_j P(λ_j = l, y = c)
    perm = np.arange(k)
    groups: dict[float, list[int]] = {}
    for c, pc in enumerate(np.round(p, 3)):
        groups.setdefault(float(pc), []).append(c)
    for group in groups.values():
        if len(group) < 2:
            continue
        sub = joint[np.ix_(group, group)]
        rows, cols = linear_sum_assignment(-sub)
        for r, c in zip(rows, cols):
            perm[group[r]] = group[c]
    return mu[:, perm]


def _zero_diagonal_blocks(R: np.ndarray, k: int) -> None:
    """Set the k x k blocks on the diagonal of R (shape (M*k, M*k)) to 0, in place."""
    mk = R.shape[0]
    blocks = R.reshape(mk // k, k, mk // k, k)
    idx = np.arange(mk // k)
    blocks[idx, :, idx, :] = 0.0


def _cap_vote_mass(mu, m, k):
    """Scale each (source, class) column so P(vote | y=c) <= 1."""
    mu3 = mu.reshape(m, k, k)  # [j, l, c]
    mass = mu3.sum(axis=1, keepdims=True)
    mu3 = np.where(mass > 0.999, mu3 / mass * 0.999, mu3)
    return mu3.reshape(m * k, k)
