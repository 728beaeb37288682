"""Metrics shared by every stage: accuracy, F1, coverage, log loss, calibration."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

from .errors import DataFormatError


def _check_scored(proba, y, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(N, k) finite probabilities and (N,) class ids in [0, k), as float and int arrays."""
    proba = np.asarray(proba, dtype=float)
    y = np.asarray(y)
    if proba.ndim != 2 or y.ndim != 1 or proba.shape[0] != len(y):
        raise DataFormatError(f"{what}: proba must be (N, k) and y (N,), got {proba.shape} and {y.shape}")
    if not np.isfinite(proba).all():
        i = int(np.flatnonzero(~np.isfinite(proba).all(axis=1))[0])
        raise DataFormatError(f"{what}: proba row {i} is not finite: {proba[i].tolist()}")
    if len(y) and (y.dtype.kind not in "iub" or y.min() < 0 or y.max() >= proba.shape[1]):
        if y.dtype.kind == "f" and np.isfinite(y).all() and (y == np.round(y)).all():
            y = y.astype(np.int64)
        bad = ~np.isin(y, np.arange(proba.shape[1]))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataFormatError(f"{what}: y row {i} is {y[i].item()!r}, not a class id in [0, {proba.shape[1] - 1}] "
                             f"(leave rows without gold out)")
    return proba, y.astype(np.int64, copy=False)


def expected_calibration_error(proba: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    """ECE of the top-class confidence, equal-width bins on [0, 1].

    Sum over bins of (bin size / N) * |mean confidence - accuracy|. ``y``: (N,) class ids
    in [0, k); NaN when N = 0.
    """
    proba, y = _check_scored(proba, y, "expected_calibration_error")
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
    """Mean negative log-probability of the true class (probabilities clipped at eps);
    ``y``: (N,) class ids in [0, k); NaN when N = 0."""
    proba, y = _check_scored(proba, y, "log_loss")
    p = np.clip(proba[np.arange(len(y)), y], eps, 1.0)
    return float(-np.log(p).mean()) if len(y) else float("nan")


def check_gold(y_true, n_classes: int | None, name: str = "y_true") -> np.ndarray:
    """Gold labels as (N,) int64 with -1 for unknown (-1 or NaN in a float array); other
    values must be class ids below ``n_classes`` (None: any id >= 0). Raises
    DataFormatError naming ``name`` and the first bad row."""
    y = np.asarray(y_true)
    if y.ndim != 1:
        raise DataFormatError(f"{name} must be 1-D, got shape {y.shape}")
    if y.dtype.kind == "f":
        y = np.where(np.isnan(y), -1, y)
        # inf or 1e30 would wrap around in int64: they are no class ids either
        bad = (y != np.round(y)) | (np.abs(y) > 2 ** 31)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataFormatError(f"{name} row {i} is {y[i].item()!r}, not a class id")
    elif y.dtype.kind not in "iub" and len(y):
        raise DataFormatError(f"{name} must hold integer class ids (-1 = unknown), got dtype {y.dtype}")
    y = y.astype(np.int64)
    bad = (y < -1) if n_classes is None else (y < -1) | (y >= n_classes)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        if n_classes is None:
            raise DataFormatError(f"{name} row {i} is {y[i]}, not a class id (-1 = unknown)")
        raise DataFormatError(f"{name} row {i} is {y[i]}, outside [-1, {n_classes - 1}] for {n_classes} classes")
    return y


def classification_metrics(y_true, y_pred, proba, n_classes: int, coverage: float | None = None) -> dict:
    """Metrics on rows with known gold (y_true >= 0).

    Parameters
    ----------
    y_true : (N,) int, -1 = unknown gold (such rows are skipped); whole-number floats with
        NaN for unknown are accepted too
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
    y_true = check_gold(y_true, n_classes)
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
