"""Scorers for model selection on soft targets.

scikit-learn's probability scorers (``scoring="neg_log_loss"``) take 1-D class labels
only, so ``GridSearchCV`` on an end model fitted to (N, k) soft targets cannot rank by log
loss with them. ``soft_neg_log_loss`` is a scorer callable, ``scorer(estimator, X, y)``,
that takes either kind of target; pass it as ``scoring=soft_neg_log_loss``.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataFormatError
from ._validation import check_is_fitted

#: probabilities are clipped to [EPS, 1] before the log, as sklearn's log_loss does
EPS = float(np.finfo(np.float64).eps)


def soft_cross_entropy(proba, Y, sample_weight=None) -> float:
    """Mean cross-entropy ``-sum_j Y[i, j] log proba[i, j]`` of predictions against targets.

    proba : (N, k) predicted probabilities
    Y : (N, k) soft targets (rows summing to 1) or (N,) class ids in [0, k)
    sample_weight : (N,) non-negative row weights, or None for equal weights

    Returns the (weighted) mean over rows, in nats. With one-hot targets it equals
    scikit-learn's ``log_loss``.
    """
    P = np.asarray(proba, dtype=np.float64)
    Y = np.asarray(Y)
    if P.ndim != 2:
        raise DataFormatError(f"proba must be (N, k), got shape {P.shape}")
    n, k = P.shape
    if Y.ndim == 1:
        if not np.issubdtype(Y.dtype, np.integer) or (Y.size and (Y.min() < 0 or Y.max() >= k)):
            raise DataFormatError(f"1-D targets must be class ids in [0, {k}); pass (N, k) soft targets otherwise")
        Y = np.eye(k)[Y]
    if Y.shape != (n, k):
        raise DataFormatError(f"targets have shape {Y.shape} but the predictions are {(n, k)}; "
                              "column j must stand for class j")
    losses = -(Y * np.log(np.clip(P, EPS, 1.0))).sum(axis=1)
    return float(np.average(losses, weights=sample_weight))


def soft_neg_log_loss(estimator, X, y, sample_weight=None) -> float:
    """Scorer: minus the cross-entropy of ``estimator.predict_proba(X)`` against ``y``.

    estimator : a fitted classifier with ``classes_`` and ``predict_proba``
    X : (N, d) features
    y : (N, k) soft targets, column j standing for ``classes_[j]``, or (N,) labels drawn
        from ``classes_``
    sample_weight : (N,) row weights, or None

    Returns a float; larger is better, as scikit-learn's scorers are. Use it as
    ``GridSearchCV(model, grid, scoring=soft_neg_log_loss)``; on 1-D labels it gives the
    same value as ``scoring="neg_log_loss"``.
    """
    check_is_fitted(estimator)
    classes = np.asarray(estimator.classes_)
    Y = np.asarray(y)
    if Y.ndim == 1:
        index = {c: j for j, c in enumerate(classes.tolist())}
        pos = [index.get(v, -1) for v in Y.tolist()]
        if -1 in pos:
            row = pos.index(-1)
            raise DataFormatError(f"y has label {Y.tolist()[row]!r} (row {row}) that the model was not fitted on; "
                                  f"classes_ = {classes.tolist()}")
        Y = np.asarray(pos, dtype=np.int64)
    elif Y.ndim == 2 and Y.shape[1] != len(classes):
        raise DataFormatError(f"soft targets y have {Y.shape[1]} columns but the model has {len(classes)} "
                              f"classes; column j must stand for classes_[j]")
    return -soft_cross_entropy(estimator.predict_proba(X), Y, sample_weight)
