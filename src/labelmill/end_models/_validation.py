"""Input checks shared by the end models, done once at each public boundary.

Features ``X`` stay in the caller's memory when they can: a CSR matrix or a C-ordered
array of float32/float64 is used as is (no copy); any other sparse format or dtype is
converted once.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from ..errors import DataFormatError, NotFittedError


class EstimatorNotFittedError(NotFittedError, _SklearnNotFittedError):
    """labelmill's NotFittedError that scikit-learn tools also recognise as theirs."""

#: soft-target rows must sum to 1 within this tolerance
ROW_SUM_ATOL = 1e-4
_CHUNK = 1 << 22  # elements per chunk of the NaN/inf scan (bounds its temporary memory)


def check_X(X, name: str = "X"):
    """Return X as CSR or a 2-D C-ordered ndarray of float32/float64; reject NaN and inf.

    Parameters
    ----------
    X : scipy.sparse matrix/array or array-like, shape (N, d)

    Returns
    -------
    scipy.sparse.csr_matrix or ndarray, shape (N, d), dtype float32 or float64
    """
    if sp.issparse(X):
        if X.ndim != 2:
            raise DataFormatError(f"{name} must be 2-D (N rows, d features), got shape {X.shape}; "
                                  "Reshape your data")
        if X.dtype.kind == "c":
            raise DataFormatError(f"{name}: Complex data not supported")
        if X.format != "csr":
            X = X.tocsr()
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if not isinstance(X, sp.csr_matrix):  # csr_array -> csr_matrix view (shares data)
            X = sp.csr_matrix((X.data, X.indices, X.indptr), shape=X.shape, copy=False)
        values = X.data
    else:
        X = np.asarray(X)
        if X.ndim != 2:
            raise DataFormatError(f"{name} must be 2-D (N rows, d features), got shape {X.shape}; "
                                  "Reshape your data (X.reshape(-1, 1) for one feature, "
                                  "X.reshape(1, -1) for one row)")
        if X.dtype.kind == "c":
            raise DataFormatError(f"{name}: Complex data not supported")
        if X.dtype not in (np.float32, np.float64):
            try:
                X = X.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise DataFormatError(f"{name} must be numeric, got dtype {X.dtype}: {exc}") from exc
        X = np.ascontiguousarray(X)
        values = X.reshape(-1)
    if X.shape[0] == 0:
        raise DataFormatError(f"{name} has no rows")
    if X.shape[1] == 0:
        raise DataFormatError(f"{name} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
    for start in range(0, values.size, _CHUNK):
        chunk = values[start:start + _CHUNK]
        if not np.isfinite(chunk).all():
            bad = start + int(np.flatnonzero(~np.isfinite(chunk))[0])
            row = int(np.searchsorted(X.indptr, bad, side="right") - 1) if sp.issparse(X) else bad // X.shape[1]
            raise DataFormatError(f"{name} contains NaN or infinite values (first at row {row}); "
                                  "impute or drop those rows first")
    return X


def feature_names_of(X):
    """The column names of a DataFrame-like X as an object array when all are strings
    (as scikit-learn records them), else None (numpy, sparse, integer column names)."""
    if sp.issparse(X):
        return None
    columns = getattr(X, "columns", None)
    if columns is None or getattr(X, "ndim", 2) != 2:
        return None
    names = np.asarray(list(columns), dtype=object)
    if len(names) == 0 or not all(isinstance(c, str) for c in names):
        return None
    return names


def set_feature_names(model, X) -> None:
    """At fit: record ``feature_names_in_`` for a DataFrame X with string column names,
    and forget names recorded by an earlier fit otherwise."""
    names = feature_names_of(X)
    if names is not None:
        model.feature_names_in_ = names
    elif hasattr(model, "feature_names_in_"):
        del model.feature_names_in_


def check_feature_names(model, X, name: str = "X") -> None:
    """At predict: a DataFrame X must have the columns the model was fitted on, in the
    same order (it is read by position). Numpy and sparse X are not checked."""
    fitted = getattr(model, "feature_names_in_", None)
    names = feature_names_of(X)
    if fitted is None or names is None:
        return
    if len(names) == len(fitted) and (names == fitted).all():
        return
    i = next((i for i, (a, b) in enumerate(zip(names, fitted)) if a != b), min(len(names), len(fitted)))
    got = repr(names[i]) if i < len(names) else "absent"
    expected = repr(fitted[i]) if i < len(fitted) else "no column"
    seen = set(fitted)
    unseen = [c for c in names if c not in seen]
    missing = [c for c in fitted if c not in set(names)]
    detail = f"column {i} is {got}, expected {expected}"
    if not unseen and not missing:
        detail += " (same columns in another order)"
    if unseen:
        detail += f"; unseen at fit: {unseen[:5]}"
    if missing:
        detail += f"; seen at fit but missing: {missing[:5]}"
    raise DataFormatError(f"The feature names should match those that were passed during fit: {detail}. "
                          f"{name} is read by column position; select the fitted columns in order, e.g. "
                          f"{name}[model.feature_names_in_]")


def check_targets(y, n_rows: int, n_classes: int | None = None, name: str = "y"):
    """Turn hard labels or soft targets into an (N, k) float64 target matrix.

    Parameters
    ----------
    y : array-like, (N,) class labels (non-negative ints or strings) or (N, k) soft
        targets whose rows sum to 1
    n_rows : N, the number of rows of X
    n_classes : k expected (for soft targets), or None to take it from ``y``

    Returns
    -------
    Y : ndarray (N, k) float64, rows summing to 1
    classes : ndarray (k,), the class labels column j of Y stands for
        (``np.unique(y)`` for hard labels, ``arange(k)`` for soft targets)
    """
    if y is None:
        raise DataFormatError("this estimator requires y to be passed, but the target y is None")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected; it is read as (N,) class labels",
                      DataConversionWarning, stacklevel=3)
        y = y[:, 0]
    if y.dtype.kind == "c":
        raise DataFormatError(f"{name}: Complex data not supported")
    if y.ndim not in (1, 2):
        raise DataFormatError(f"{name} must be (N,) class labels or (N, k) soft targets, got shape {y.shape}")
    if y.shape[0] != n_rows:
        raise DataFormatError(f"X has {n_rows} rows but {name} has {y.shape[0]}; they must match row for row")
    if y.ndim == 1:
        if y.dtype.kind == "f":
            if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
                raise DataFormatError(f"{name} is 1-D, so it must hold integer class labels; got continuous "
                                      "(non-integer) values (pass soft targets as an (N, k) array)")
            y = y.astype(np.int64)
        if y.dtype.kind not in "iubUSO":
            raise DataFormatError(f"{name} must hold class labels (integers or strings), got dtype {y.dtype}")
        if y.dtype.kind in "iu" and (y < 0).any():
            raise DataFormatError(f"{name} has negative labels (e.g. -1 = abstain at row {int(np.argmax(y < 0))}); "
                                  "drop those rows or pass the label model's soft targets instead (labelmill "
                                  "reads negative ids as 'no label': map labels such as {-1, +1} to 0..k-1 "
                                  "first, e.g. with sklearn's LabelEncoder)")
        classes, codes = np.unique(y, return_inverse=True)
        if n_classes is not None and len(classes) > n_classes:
            raise DataFormatError(f"{name} has {len(classes)} classes, expected at most {n_classes}")
        Y = np.zeros((n_rows, len(classes)))
        Y[np.arange(n_rows), codes] = 1.0
        if len(classes) < 2:
            raise DataFormatError(f"{name} holds one class only ({classes[0]}); need at least 2 to train a classifier")
        return Y, classes
    k = y.shape[1]
    if n_classes is not None and k != n_classes:
        raise DataFormatError(f"{name} has {k} columns (classes) but {n_classes} were expected")
    if k < 2:
        raise DataFormatError(f"soft targets {name} need at least 2 columns (classes), got {k}")
    Y = np.asarray(y, dtype=np.float64)
    if not np.all(np.isfinite(Y)):
        raise DataFormatError(f"soft targets {name} contain NaN or infinite values")
    if (Y < 0).any():
        row = int(np.argmax((Y < 0).any(axis=1)))
        raise DataFormatError(f"soft targets {name} must be non-negative; row {row} is {Y[row].tolist()}")
    s = Y.sum(axis=1)
    off = np.abs(s - 1.0) > ROW_SUM_ATOL
    if off.any():
        row = int(np.argmax(off))
        raise DataFormatError(f"soft targets {name} must have rows summing to 1; {int(off.sum())} rows do not, "
                              f"e.g. row {row} sums to {s[row]:.6g}")
    return Y, np.arange(k)


def check_sample_weight(sample_weight, n_rows: int):
    """(N,) float64 non-negative weights with a positive sum; None -> ones."""
    if sample_weight is None:
        return np.ones(n_rows)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n_rows:
        raise DataFormatError(f"sample_weight must have shape ({n_rows},) (one weight per row of X), got {w.shape}")
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise DataFormatError("sample_weight must be finite and non-negative")
    if not (w > 0).any():
        raise DataFormatError("sample_weight is zero on every row; nothing to train on")
    return w


def check_fit_inputs(X, y, sample_weight):
    """The checks every end model's ``fit`` starts with.

    Returns (X checked, (N, k) targets, classes, (N,) weights)."""
    X = check_X(X)
    Y, classes = check_targets(y, X.shape[0])
    return X, Y, classes, check_sample_weight(sample_weight, X.shape[0])


def check_n_features(X, n_features: int, model: str) -> None:
    if X.shape[1] != n_features:
        raise DataFormatError(f"X has {X.shape[1]} features, but {model} is expecting {n_features} features "
                              "as input (the number it was fitted on)")


class SoftTargetScoreMixin:
    """``score`` for end models trained on soft targets (put before ClassifierMixin)."""

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy of ``predict(X)``, optionally weighted by ``sample_weight``.

        ``y`` : (N,) class labels (scikit-learn's ``ClassifierMixin.score``), or (N, k) soft
        targets, column j standing for ``classes_[j]``: then the accuracy is measured against
        each row's most probable class, ``classes_[y.argmax(axis=1)]`` (ties go to the first
        column). This is what ``GridSearchCV`` and ``cross_val_score`` use by default.
        """
        Y = np.asarray(y)
        if Y.ndim == 2 and Y.shape[1] > 1:
            return soft_target_accuracy(self, X, Y, sample_weight)
        return super().score(X, y, sample_weight=sample_weight)


def soft_target_accuracy(model, X, Y, sample_weight=None) -> float:
    """``score`` of an end model for (N, k) soft targets ``Y``: the (weighted) accuracy of
    ``model.predict(X)`` against each row's most probable class, ``classes_[Y.argmax(1)]``."""
    from sklearn.metrics import accuracy_score

    check_is_fitted(model)
    classes = np.asarray(model.classes_)
    if Y.shape[1] != len(classes):
        raise DataFormatError(f"soft targets y have {Y.shape[1]} columns but the model has {len(classes)} "
                              f"classes; column j must stand for classes_[j]")
    return float(accuracy_score(classes[Y.argmax(axis=1)], model.predict(X), sample_weight=sample_weight))


def check_is_fitted(model, attr: str = "classes_") -> None:
    if not hasattr(model, attr):
        raise EstimatorNotFittedError(f"this {type(model).__name__} is not fitted yet; call fit first")


def to_proba_or_logits(A, name: str = "proba"):
    """Return a 2-D float64 array; a 1-D array (binary decision values z) becomes [0, z]."""
    A = np.asarray(A, dtype=np.float64)
    if A.ndim == 1:
        A = np.column_stack([np.zeros_like(A), A])
    if A.ndim != 2 or A.shape[1] < 2:
        raise DataFormatError(f"{name} must be (N, k) with k >= 2 (or (N,) binary decision values), got {A.shape}")
    if not np.all(np.isfinite(A)):
        raise DataFormatError(f"{name} contains NaN or infinite values")
    return A
