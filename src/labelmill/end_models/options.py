"""Training options shared by the end models, as plain functions over arrays.

- ``smooth_labels``: mix targets with the uniform distribution.
- ``draw_mixup`` / ``mixup``: mixup of features and soft labels (Zhang et al. 2018).
- ``elr_update`` / ``elr_penalty_grad``: early-learning regularisation (Liu et al. 2020).
- ``confidence_weights`` / ``filter_rows``: per-row weights from label-model
  probabilities or from denoising scores.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import DataFormatError
from ._validation import to_proba_or_logits

#: floor of 1 - <p, t> in the ELR term (the paper clamps p to [1e-4, 1 - 1e-4])
ELR_EPS = 1e-4


# ------------------------------------------------------------------ label smoothing
def smooth_labels(Y: np.ndarray, eps: float) -> np.ndarray:
    """Return ``(1 - eps) * Y + eps / k``.

    Parameters
    ----------
    Y : (N, k) soft targets, rows summing to 1
    eps : float in [0, 1]; 0 returns Y unchanged (the same object)

    Returns
    -------
    (N, k) float64, rows summing to 1
    """
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {eps!r}")
    if eps == 0:
        return Y
    return (1.0 - eps) * Y + eps / Y.shape[1]


# ------------------------------------------------------------------------- mixup
def draw_mixup(n_rows: int, alpha: float, random_state=0, mask=None) -> tuple[np.ndarray, np.ndarray]:
    """Draw a mixup plan: a permutation pairing each row with a partner, and its weight.

    Row i of the mixed data is ``lam[i] * x_i + (1 - lam[i]) * x_perm[i]``.

    Parameters
    ----------
    n_rows : N
    alpha : Beta(alpha, alpha) parameter, > 0
    random_state : int or numpy Generator
    mask : (N,) bool, optional; only rows where it is True are paired (among themselves),
        the others are their own partners. Pass ``sample_weight > 0`` so that filtered
        rows (weight 0) never leak their labels into kept ones.

    Returns
    -------
    perm : (N,) int64 permutation of 0..N-1
    lam : (N,) float64 in [0, 1], one draw per row
    """
    if not alpha > 0:
        raise ValueError(f"mixup_alpha must be > 0, got {alpha!r}")
    rng = np.random.default_rng(random_state)
    if mask is None:
        perm = rng.permutation(n_rows)
    else:
        perm = np.arange(n_rows)
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        perm[idx] = idx[rng.permutation(len(idx))]
    lam = rng.beta(alpha, alpha, size=n_rows)
    return perm, lam


def mixup(X, Y, lam=None, perm=None, alpha: float = 0.2, random_state=0, sample_weight=None):
    """Mix rows of features and soft labels with partners given by a permutation.

    Parameters
    ----------
    X : (N, d) ndarray or scipy sparse; sparse stays sparse (CSR)
    Y : (N, k) soft targets
    lam : float or (N,) mixing weights in [0, 1]; None draws them from Beta(alpha, alpha)
    perm : (N,) permutation; None draws one
    alpha, random_state : used for whatever is drawn
    sample_weight : (N,) optional; mixed the same way

    Returns
    -------
    X_mix : like X, (N, d): ``lam * X + (1 - lam) * X[perm]``
    Y_mix : (N, k): ``lam * Y + (1 - lam) * Y[perm]``
    w_mix : (N,) mixed weights, or None if no sample_weight was given

    With ``lam=1`` the result equals the input exactly.
    """
    n = X.shape[0]
    if Y.shape[0] != n:
        raise DataFormatError(f"X has {n} rows but Y has {Y.shape[0]}")
    if perm is None or lam is None:
        p, l_ = draw_mixup(n, alpha, random_state)
        perm = p if perm is None else perm
        lam = l_ if lam is None else lam
    lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), (n,))
    perm = np.asarray(perm)
    if sp.issparse(X):
        dt = X.dtype
        X_mix = (sp.diags(lam.astype(dt)) @ X + sp.diags((1.0 - lam).astype(dt)) @ X[perm]).tocsr()
        X_mix.eliminate_zeros()
    else:
        lx = lam.astype(X.dtype)[:, None]
        X_mix = lx * X + (1 - lx) * X[perm]
    Y_mix = lam[:, None] * Y + (1.0 - lam[:, None]) * Y[perm]
    w_mix = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        w_mix = lam * w + (1.0 - lam) * w[perm]
    return X_mix, Y_mix, w_mix


# --------------------------------------------------------------------------- ELR
def elr_update(target, proba: np.ndarray, beta: float) -> np.ndarray:
    """One EMA step of the ELR targets: ``beta * target + (1 - beta) * proba``.

    ``target=None`` starts the average at ``proba``. Returns (N, k) float64.
    """
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"elr_beta must be in [0, 1), got {beta!r}")
    if target is None:
        return np.array(proba, dtype=np.float64)
    return beta * target + (1.0 - beta) * proba


def elr_penalty_grad(P: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row ELR term ``log(1 - <p_i, t_i>)`` and its gradient with respect to the logits.

    Parameters
    ----------
    P : (N, k) predicted probabilities (softmax of logits z)
    T : (N, k) ELR targets

    Returns
    -------
    value : (N,) ``log(max(1 - <p_i, t_i>, ELR_EPS))``
    grad : (N, k) d value_i / d z_i = ``-p_ij (t_ij - <p_i, t_i>) / (1 - <p_i, t_i>)``
        (zero where the floor is active)
    """
    s = np.einsum("ij,ij->i", P, T)
    one_minus = 1.0 - s
    clipped = one_minus < ELR_EPS
    denom = np.maximum(one_minus, ELR_EPS)
    value = np.log(denom)
    grad = -P * (T - s[:, None]) / denom[:, None]
    grad[clipped] = 0.0
    return value, grad


# ------------------------------------------------------ row weighting and filtering
def confidence_weights(proba, how: str = "max") -> np.ndarray:
    """Per-row weights from how sure the label model is: 0 for uniform rows, 1 for one-hot.

    Parameters
    ----------
    proba : (N, k) label-model probabilities, rows summing to 1
    how : "max" -> ``(max_j p_ij - 1/k) / (1 - 1/k)``;
          "entropy" -> ``1 - H(p_i) / log k``

    Returns
    -------
    (N,) float64 in [0, 1]
    """
    P = to_proba_or_logits(proba, "proba")
    k = P.shape[1]
    if how == "max":
        w = (P.max(axis=1) - 1.0 / k) / (1.0 - 1.0 / k)
    elif how == "entropy":
        with np.errstate(divide="ignore", invalid="ignore"):
            H = -np.where(P > 0, P * np.log(P), 0.0).sum(axis=1)
        w = 1.0 - H / np.log(k)
    else:
        raise ValueError(f"how must be 'max' or 'entropy', got {how!r}")
    return np.clip(w, 0.0, 1.0)


def filter_rows(scores, fraction: float) -> np.ndarray:
    """Weights that drop the most suspicious ``fraction`` of rows.

    Parameters
    ----------
    scores : either (N, k) label-model probabilities (suspicion = 1 - max probability)
        or (N,) denoising scores, e.g. propagation's ``denoise_scores_`` (higher = more
        suspicious; NaN = no score, as on uncovered rows: such rows are kept)
    fraction : in [0, 1), share of the scored rows to drop; ties are broken by row order
        (earlier rows are dropped first), so the result is deterministic

    Returns
    -------
    (N,) float64 weights: 0.0 for dropped rows, 1.0 otherwise; multiply them into any
    other sample weights
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"fraction must be in [0, 1), got {fraction!r}")
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 2:
        bad = ~np.isfinite(s).all(axis=1)
        if bad.any():  # NaN means "no score" only for (N,) scores; here it is a broken row
            raise DataFormatError(f"probabilities row {int(np.flatnonzero(bad)[0])} is not finite")
        s = 1.0 - s.max(axis=1)
    elif s.ndim != 1:
        raise DataFormatError(f"scores must be (N,) suspicion scores or (N, k) probabilities, got shape {s.shape}")
    if np.isinf(s).any():
        raise DataFormatError(f"scores row {int(np.flatnonzero(np.isinf(s))[0])} is infinite")
    scored = np.flatnonzero(~np.isnan(s))
    n_drop = int(np.floor(fraction * len(scored)))
    w = np.ones(len(s))
    if n_drop:
        order = np.argsort(-s[scored], kind="stable")
        w[scored[order[:n_drop]]] = 0.0
    return w
