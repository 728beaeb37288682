"""Dawid-Skene EM with per-source confusion matrices."""

from __future__ import annotations

import numpy as np

from ..matrix import LabelMatrix
from .base import LabelModel, majority_soft_labels, smoothed_class_balance, softmax_rows, vote_accuracy
from .._checks import check_number


class DawidSkene(LabelModel):
    """Dawid & Skene (1979) EM: each source has a confusion matrix.

    With ``abstain="ignore"`` (the classic model, right for crowd data where who
    labels what is assigned at random) ``confusion_[j, c, l]`` = P(source j votes l |
    y = c, source j votes), and a source's silence says nothing. With
    ``abstain="model"`` abstain is a (k+1)-th outcome: ``confusion_[j, c, k]`` =
    P(source j abstains | y = c). That is what labeling functions need, since a
    one-sided LF (it only ever votes SPAM) carries its information in *when* it votes.

    The E-step posterior is initialised from majority vote, so class ids keep their
    meaning (EM cannot settle on a permuted labelling). The M-step adds Dirichlet
    pseudo-counts: ``smoothing`` to every vote cell of each confusion row plus
    ``smoothing * diagonal_boost`` to its diagonal cell, so sources with few votes
    stay near "better than random" instead of becoming degenerate.

    Parameters
    ----------
    smoothing : float >= 0, pseudo-count per confusion cell
    diagonal_boost : float >= 0, extra pseudo-counts on the diagonal, in units of ``smoothing``
    one_coin : bool
        If True each source has a single accuracy (errors spread evenly over the other
        classes): fewer parameters, better for sources with few votes.
    abstain : "ignore" or "model"
    max_iter, tol : EM stops after ``max_iter`` (int >= 1) iterations or when the mean
        absolute change of the posterior < ``tol`` (float >= 0).

    Parameters are checked in ``fit`` (ValueError naming the parameter and its range).

    Attributes
    ----------
    confusion_ : ndarray (M, k, k) P(votes l | y = c, votes), or (M, k, k+1) with
        the last column P(abstains | y = c) when ``abstain="model"``
    accuracy_ : ndarray (M,), P(vote correct | votes) under the class balance
    class_balance_ : ndarray (k,)
    n_iter_ : int, EM iterations run
    """

    name = "dawid_skene"

    def __init__(self, smoothing: float = 0.1, diagonal_boost: float = 1.0, one_coin: bool = False,
                 abstain: str = "ignore", max_iter: int = 100, tol: float = 1e-5,
                 random_state: int | None = 0):
        self.smoothing = smoothing
        self.diagonal_boost = diagonal_boost
        self.one_coin = one_coin
        self.abstain = abstain
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _m_step(self, X, Q, k, m, class_balance):
        counts = np.asarray(X.T @ Q).reshape(m, k, k).transpose(0, 2, 1)  # [j, c, l]
        counts = counts + np.full((k, k), self.smoothing) + np.eye(k) * self.smoothing * self.diagonal_boost
        if self.one_coin:
            diag = np.trace(counts, axis1=1, axis2=2)
            acc = diag / np.maximum(counts.sum(axis=(1, 2)), 1e-12)
            vote_mass = counts.sum(axis=2, keepdims=True)
            off = ((1 - acc) / (k - 1))[:, None, None]
            shaped = np.broadcast_to(off, (m, k, k)).copy()
            shaped[:, np.arange(k), np.arange(k)] = acc[:, None]
            counts = shaped * vote_mass
        if self.abstain == "model":
            n_class = Q.sum(axis=0)  # (k,) expected rows per class
            abst = np.maximum(n_class[None, :] - (counts.sum(axis=2) - self._pseudo(k)), 0) + self.smoothing
            counts = np.concatenate([counts, abst[:, :, None]], axis=2)
        total = counts.sum(axis=2, keepdims=True)
        # a confusion row with no mass at all (smoothing=0 and a class no vote points to)
        # says nothing about the class: a uniform row, not 0/0
        conf = np.where(total > 0, counts / np.where(total > 0, total, 1.0), 1.0 / counts.shape[2])
        if class_balance is None:
            pi = smoothed_class_balance(Q)
        else:
            pi = class_balance
        return conf, pi

    def _pseudo(self, k):
        return self.smoothing * (k + self.diagonal_boost)

    def _log_posterior(self, X, conf, pi):
        m, k, _ = conf.shape[0], conf.shape[1], conf.shape[2]
        log_conf = np.log(np.clip(conf, 1e-12, None))
        base = np.log(np.clip(pi, 1e-12, None))
        votes = log_conf[:, :, :k]
        if self.abstain == "model":
            abst = log_conf[:, :, k]  # [j, c]
            votes = votes - abst[:, :, None]
            base = base + abst.sum(axis=0)
        W = votes.transpose(0, 2, 1).reshape(m * k, k)  # row j*k+l, col c
        return np.asarray(X @ W) + base

    def _fit(self, L, class_balance):
        if self.abstain not in ("ignore", "model"):
            raise ValueError(f"abstain must be 'ignore' or 'model', got {self.abstain!r}")
        check_number(self.smoothing, "smoothing", low=0)
        check_number(self.diagonal_boost, "diagonal_boost", low=0)
        check_number(self.max_iter, "max_iter", integer=True, low=1)
        check_number(self.tol, "tol", low=0)
        k, m = L.n_classes, L.n_sources
        X = L.one_hot(dtype=np.float64)
        Q = majority_soft_labels(L, np.full(k, 1.0 / k) if class_balance is None else class_balance)
        self.n_iter_ = 0
        for it in range(self.max_iter):
            conf, pi = self._m_step(X, Q, k, m, class_balance)
            Q_new = softmax_rows(self._log_posterior(X, conf, pi))
            delta = np.abs(Q_new - Q).mean() if Q.size else 0.0  # no rows: nothing to iterate
            Q = Q_new
            self.n_iter_ = it + 1
            if delta < self.tol:
                break
        self.confusion_, self.class_balance_ = self._m_step(X, Q, k, m, class_balance)
        self.accuracy_ = vote_accuracy(self.confusion_, self.class_balance_)

    def _predict_proba(self, L: LabelMatrix):
        return softmax_rows(self._log_posterior(L.one_hot(dtype=np.float64), self.confusion_, self.class_balance_))
