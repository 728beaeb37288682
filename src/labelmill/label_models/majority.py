"""Majority vote and weighted majority vote."""

from __future__ import annotations

import numpy as np

from .._checks import check_number
from ..matrix import LabelMatrix
from .base import LabelModel, majority_soft_labels, smoothed_class_balance, softmax_rows


def _source_agreement(L: LabelMatrix, Q: np.ndarray) -> np.ndarray:
    """(M,) mean probability mass that Q puts on each source's own votes."""
    hit = Q[L.rows, L.labels]
    n = np.bincount(L.sources, minlength=L.n_sources)
    return np.bincount(L.sources, weights=hit, minlength=L.n_sources) / np.maximum(n, 1)


class MajorityVote(LabelModel):
    """Plain majority vote over the non-abstaining sources.

    ``predict_proba`` puts equal mass on every class that ties for the most votes
    (so a clear majority gives a one-hot row). Rows no source covers get the class
    prior: the ``class_balance`` passed to ``fit`` if any; otherwise uniform when
    ``prior="uniform"`` (the default) or the majority-vote class frequencies on
    covered rows when ``prior="estimated"``. ``predict`` breaks exact ties at random
    (seeded by ``random_state``).

    Attributes
    ----------
    class_balance_ : ndarray (k,), the prior given to uncovered rows
    accuracy_ : ndarray (M,), each source's agreement with the majority vote
        (an optimistic estimate: the source's own vote counts in the majority)
    """

    name = "majority"

    def __init__(self, prior: str = "uniform", random_state: int | None = 0):
        self.prior = prior
        self.random_state = random_state

    def _fit(self, L, class_balance):
        k = L.n_classes
        if self.prior not in ("uniform", "estimated"):
            raise ValueError(f"prior must be 'uniform' or 'estimated', got {self.prior!r}")
        if class_balance is not None:
            self.class_balance_ = class_balance
        elif self.prior == "estimated":
            Q = majority_soft_labels(L, np.full(k, 1.0 / k))
            self.class_balance_ = smoothed_class_balance(Q[L.covered()])
        else:
            self.class_balance_ = np.full(k, 1.0 / k)
        self.accuracy_ = _source_agreement(L, majority_soft_labels(L, self.class_balance_))

    def _predict_proba(self, L):
        return majority_soft_labels(L, self.class_balance_)


class WeightedMajorityVote(LabelModel):
    """Majority vote where source j's vote counts ``weights_[j]`` times.

    With ``weights=None`` the weights are learned without gold as the naive-Bayes
    log-odds ``log(acc * (k-1) / (1 - acc))`` of each source's estimated accuracy, so
    ``predict_proba`` (the softmax of the weighted votes plus the log class prior) is
    the posterior of the one-coin model. The accuracies come from
    ``estimator="triplet"`` (default): the triplet method on pairwise agreement rates
    (see :mod:`labelmill.label_models.triplets`), consistent under the one-coin model;
    or ``estimator="agreement"``: each source's expected agreement with the weighted
    vote's posterior, iterated ``n_iter`` times from equal weights (the EM fixed point
    of the one-coin model). Only rows where another source also votes count, since
    elsewhere a vote could only vouch for itself. Either way a source with little
    overlap is pulled toward ``prior_accuracy``. Uncovered rows get the prior:
    ``class_balance`` if given to ``fit``, else uniform.

    Parameters
    ----------
    weights : None, or (M,) finite weights to use as given (nothing is learned)
    estimator : "triplet" or "agreement"
    n_iter : int >= 1, rounds of ``estimator="agreement"``
    prior_accuracy : float in (0, 1), the accuracy a source with little overlap is pulled
        toward (and the stand-in where the triplet method has nothing to go on)
    prior_strength : float > 0, pseudo-count of ``prior_accuracy`` (``estimator="agreement"``)
    random_state : int or None, for ``predict``'s tie-breaking

    Parameters are checked in ``fit`` (ValueError naming the parameter and its range).

    Attributes
    ----------
    weights_ : ndarray (M,)
    accuracy_ : ndarray (M,), estimated P(vote correct | source votes), clipped to
        [1/k + 0.001, 0.99]
    accuracy_basis_ : ndarray (M,) of str, what each accuracy rests on: "triplets" (the
        triplet method), "agreement" (``estimator="agreement"``), "prior" (no usable
        triplet: the source co-votes on too few rows, so ``prior_accuracy`` stands in),
        "cap" or "floor" (the estimate hit 0.99 or 1/k and was clipped: the source looks
        near perfect or no better than chance, but how much so is not known), "given"
        (``weights`` given; accuracies NaN)
    class_balance_ : ndarray (k,)
    """

    name = "weighted_majority"

    def __init__(self, weights=None, estimator: str = "triplet", n_iter: int = 10, prior_accuracy: float = 0.7,
                 prior_strength: float = 2.0, random_state: int | None = 0):
        self.weights = weights
        self.estimator = estimator
        self.n_iter = n_iter
        self.prior_accuracy = prior_accuracy
        self.prior_strength = prior_strength
        self.random_state = random_state

    def _fit(self, L, class_balance):
        k, m = L.n_classes, L.n_sources
        check_number(self.n_iter, "n_iter", integer=True, low=1)
        check_number(self.prior_accuracy, "prior_accuracy", low=0, high=1, low_open=True, high_open=True)
        check_number(self.prior_strength, "prior_strength", low=0, low_open=True)
        prior = np.full(k, 1.0 / k) if class_balance is None else np.clip(class_balance, 1e-6, None)
        self.class_balance_ = prior / prior.sum()
        if self.weights is not None:
            w = np.asarray(self.weights, dtype=float)
            if w.shape != (m,):
                raise ValueError(f"weights must have one entry per source ({m}), got shape {w.shape}")
            if not np.isfinite(w).all():
                j = int(np.flatnonzero(~np.isfinite(w))[0])
                raise ValueError(f"weights must be finite; source {L.source_names[j]!r} has {w[j]}")
            self.weights_, self.accuracy_ = w, np.full(m, np.nan)
            self.accuracy_basis_ = np.full(m, "given", dtype=object)
            return
        if self.estimator == "triplet":
            from .triplets import triplet_accuracies

            acc, n_triplets = triplet_accuracies(L, prior_accuracy=self.prior_accuracy)
            basis = np.where(n_triplets > 0, "triplets", "prior").astype(object)
        elif self.estimator == "agreement":
            acc = self._posterior_agreement(L, np.log(self.class_balance_))
            basis = np.full(m, "agreement", dtype=object)
        else:
            raise ValueError(f"estimator must be 'triplet' or 'agreement', got {self.estimator!r}")
        low, high = 1.0 / k + 1e-3, 0.99
        basis[(acc >= high) & (basis != "prior")] = "cap"
        basis[(acc <= low) & (basis != "prior")] = "floor"
        acc = np.clip(acc, low, high)
        self.accuracy_ = acc
        self.accuracy_basis_ = basis
        self.weights_ = np.log(acc * (k - 1) / (1 - acc))

    def _posterior_agreement(self, L, log_prior):
        k, m = L.n_classes, L.n_sources
        rows, srcs, labs = L.rows, L.sources, L.labels
        w = np.ones(m)
        # rows where some other source also votes: only there can a vote be checked
        others = (L.votes_per_row() > 1)[rows]
        n_checked = np.bincount(srcs, weights=others.astype(float), minlength=m)
        idx = np.arange(len(labs))
        acc = np.full(m, self.prior_accuracy)
        for _ in range(self.n_iter):
            # the posterior includes the source's own vote: leaving it out ignores that the
            # vote is itself evidence, so each round's estimates come out lower than the
            # last, and the iteration collapsed to 1/k
            Q = softmax_rows((L.class_counts(w) + log_prior)[rows])
            hits = np.bincount(srcs, weights=Q[idx, labs] * others, minlength=m)
            acc = (hits + self.prior_strength * self.prior_accuracy) / (n_checked + self.prior_strength)
            acc = np.clip(acc, 1.0 / k + 1e-3, 0.99)
            w = np.log(acc * (k - 1) / (1 - acc))
        return acc

    def _predict_proba(self, L):
        return softmax_rows(L.class_counts(self.weights_) + np.log(self.class_balance_))
