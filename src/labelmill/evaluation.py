"""Metrics shared by every stage: accuracy, F1, coverage, log loss, calibration."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score


def expected_calibration_error(proba: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    """ECE of the top-class confidence, equal-width bins on [0, 1].

    Sum over bins of (bin size / N) * |mean confidence - accuracy|.
    """
    proba = np.asarray(proba, dtype=float)
    y = np.asarray(y)
    if len(y) == 0:
        return float("nan")
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    n = np.bincount(bins, minlength=n_bins)
    sum_conf = np.bincount(bins, weights=conf, minlength=n_bins)
    sum_acc = np.bincount(bins, weights=correct.astype(float), minlength=n_bins)
    nz = n > 0
    return float(np.abs(sum_conf[nz] - sum_acc[nz]).sum() / len(y))


def log_loss(proba: np.ndarray, y: np.ndarray, eps: float = 1e-15) -> float:
    """Mean negative log-probability of the true class (probabilities clipped at eps)."""
    proba = np.asarray(proba, dtype=float)
    p = np.clip(proba[np.arange(len(y)), y], eps, 1.0)
    return float(-np.log(p).mean()) if len(y) else float("nan")


def classification_metrics(y_true, y_pred, proba, n_classes: int, coverage: float | None = None) -> dict:
    """Metrics on rows with known gold (y_true >= 0).

    Parameters
    ----------
    y_true : (N,) int, -1 = unknown gold (such rows are skipped)
    y_pred : (N,) int predicted class
    proba : (N, k) predicted probabilities
    n_classes : k
    coverage : fraction of rows with at least one vote, reported as is

    Returns
    -------
    dict with accuracy, macro_f1 (over the classes present in the gold or the predictions),
    f1 (class 1, only when k == 2; NaN when class 1 is in neither), coverage, log_loss,
    ece and n (rows scored). NaN marks a value that is undefined (e.g. no row with gold).
    """
    y_true = np.asarray(y_true)
    known = y_true >= 0
    y, yp, P = y_true[known], np.asarray(y_pred)[known], np.asarray(proba)[known]
    # macro-F1 over the classes in the gold or the predictions (scikit-learn's default): a
    # class absent from both has no F1, and counting it as 0 would score a perfect
    # prediction below 1
    labels = np.union1d(y, yp)
    out = {
        "accuracy": float((yp == y).mean()) if len(y) else float("nan"),
        "macro_f1": float(f1_score(y, yp, labels=labels, average="macro", zero_division=0)) if len(y) else float("nan"),
    }
    if n_classes == 2:
        # F1 of class 1 is undefined (NaN) when class 1 is neither in the gold nor predicted
        out["f1"] = float(f1_score(y, yp, pos_label=1, average="binary", zero_division=0)) \
            if len(y) and (1 in labels) else float("nan")
    out["coverage"] = float("nan") if coverage is None else float(coverage)
    out["log_loss"] = log_loss(P, y)
    out["ece"] = expected_calibration_error(P, y)
    out["n"] = int(len(y))
    return out
