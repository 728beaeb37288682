"""Post-hoc calibration: temperature scaling (Guo et al. 2017), top-label isotonic
calibration (Gupta & Ramdas 2021) and reliability diagrams.

Temperature scaling divides the logits by one positive number ``T`` fitted on held-out
labels, so it never changes which class is predicted. One temperature cannot fix a model
that is over-confident at some confidences and under-confident at others; a monotone
(isotonic) map of the top-class probability to its held-out accuracy can, and it too
keeps the predicted class. `CalibratedClassifier` picks between the two by cross-validated
Brier score on the held-out rows. ECE figures come from
``labelmill.evaluation.expected_calibration_error`` and the reliability diagram uses the
same equal-width bins, so the two always agree.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import KFold
from scipy.special import log_softmax

from ..errors import DataFormatError
from ..evaluation import expected_calibration_error
from .._checks import check_number
from ._validation import check_is_fitted, to_proba_or_logits

#: search range of the temperature
T_MIN, T_MAX = 1e-2, 1e2
#: calibration methods of CalibratedClassifier
CALIBRATION_METHODS = ("auto", "temperature", "temperature+isotonic")
#: fewest held-out rows for which "auto" considers the isotonic step, and its CV folds
MIN_ISOTONIC_ROWS, CV_FOLDS = 100, 5
#: below this many valid rows with gold the end-model stage does not calibrate (T = 1):
#: a temperature fitted on a handful of rows lands on its search bounds
MIN_CALIBRATION_ROWS = 20
_PROBA_FLOOR = 1e-300


def _input_kind(A: np.ndarray) -> str:
    """How to read A: "proba" when every row is in [0, 1] and sums to 1, else "logits"."""
    return "proba" if (A.min() >= 0 and A.max() <= 1 and np.allclose(A.sum(axis=1), 1.0, atol=1e-6)) else "logits"


def _as_logits(A, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(N, k) logits from logits or probabilities (``kind`` = "auto", "logits" or "proba").

    Also returns the (N,) argmax of the input itself: taking the log can merge two
    probabilities one ulp apart, and the input's own ranking is the one to keep.
    """
    A = to_proba_or_logits(A, "input")
    if kind == "auto":
        kind = _input_kind(A)
    top = A.argmax(axis=1)
    if kind == "proba":
        if A.min() < 0:
            raise DataFormatError("probabilities must be non-negative")
        return np.log(np.maximum(A, _PROBA_FLOOR)), top
    if kind != "logits":
        raise ValueError(f"input must be 'auto', 'logits' or 'proba', got {kind!r}")
    return A, top


def _check_labels(y, n: int, k: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise DataFormatError(f"y must be (N,) = ({n},) class ids, got shape {y.shape}")
    if y.dtype.kind not in "iu" or (len(y) and (y.min() < 0 or y.max() >= k)):
        raise DataFormatError(f"y must hold integer class ids in 0..{k - 1}")
    return y.astype(np.int64)


def _keep_argmax(P: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Undo argmax changes caused by float rounding (near-exact ties) by nudging one ulp."""
    rows = np.flatnonzero(P.argmax(axis=1) != top)
    if len(rows):
        best = P[rows].max(axis=1)
        P[rows, top[rows]] = np.nextafter(best, np.inf)
    return P


class TemperatureScaling(BaseEstimator):
    """One temperature ``T`` for all classes, fitted by minimising the NLL on held-out data.

    Parameters
    ----------
    input : "auto" | "logits" | "proba"; what ``fit`` and ``transform`` receive.
        "auto" decides once, in ``fit``: probabilities when every row there is in [0, 1]
        and sums to 1 (their log is used as logits), else logits; ``transform`` then reads
        its input the same way, so a row's output never depends on the other rows.
        (N,) arrays are binary decision values.

    A scikit-learn estimator (``get_params``/``set_params``, ``sklearn.base.clone``).

    Attributes
    ----------
    temperature_ : float, > 1 softens over-confident models, < 1 sharpens
    input_ : "logits" or "proba", how the input is read (``input`` resolved in ``fit``)
    n_classes_ : int
    nll_before_, nll_after_ : mean NLL on the fitting data at T = 1 and at ``temperature_``
    """

    def __init__(self, input: str = "auto"):
        self.input = input

    def fit(self, logits_or_proba, y) -> "TemperatureScaling":
        """Fit T on (N, k) logits or probabilities and (N,) int gold labels; returns self."""
        if np.size(logits_or_proba) == 0:
            raise DataFormatError("need at least one labelled row to fit a temperature")
        if self.input not in ("auto", "logits", "proba"):
            raise ValueError(f"input must be 'auto', 'logits' or 'proba', got {self.input!r}")
        A = to_proba_or_logits(logits_or_proba, "input")
        self.input_ = _input_kind(A) if self.input == "auto" else self.input
        Z, _ = _as_logits(A, self.input_)
        y = _check_labels(y, Z.shape[0], Z.shape[1])
        Z = Z - Z.max(axis=1, keepdims=True)
        rows = np.arange(len(y))

        def nll(log_t):
            return float(-log_softmax(Z / np.exp(log_t), axis=1)[rows, y].mean())

        res = minimize_scalar(nll, bounds=(np.log(T_MIN), np.log(T_MAX)), method="bounded",
                              options={"xatol": 1e-6})
        self.temperature_ = float(np.exp(res.x))
        self.n_classes_ = Z.shape[1]
        self.nll_before_ = nll(0.0)
        self.nll_after_ = float(res.fun)
        if self.nll_before_ < self.nll_after_:  # the bounded search missed T = 1
            self.temperature_, self.nll_after_ = 1.0, self.nll_before_
        return self

    def transform(self, logits_or_proba) -> np.ndarray:
        """(N, k) calibrated probabilities; the argmax of every row is unchanged."""
        check_is_fitted(self, "temperature_")
        Z, top = _as_logits(logits_or_proba, getattr(self, "input_", self.input))
        if Z.shape[1] != self.n_classes_:
            raise DataFormatError(f"fitted on {self.n_classes_} classes, got {Z.shape[1]} columns")
        Z = (Z - Z.max(axis=1, keepdims=True)) / self.temperature_
        P = np.exp(log_softmax(Z, axis=1))
        return _keep_argmax(P, top)

    def fit_transform(self, logits_or_proba, y) -> np.ndarray:
        return self.fit(logits_or_proba, y).transform(logits_or_proba)

    def __repr__(self) -> str:
        t = getattr(self, "temperature_", None)
        return f"TemperatureScaling(input={self.input!r})" + (f" [T={t:.4g}]" if t is not None else "")


class TopLabelIsotonic(BaseEstimator):
    """Isotonic map from the top-class probability to its accuracy on held-out rows.

    ``transform`` replaces each row's top probability by the fitted map's value and
    rescales the other classes to fill the rest in proportion, so the predicted class never
    changes: the new top value is held at or above every other class's new value. Values
    are kept in [1/k, 1 - 1/(n + 1)] (n fitting rows), so a confident mistake on new data
    never gets probability 0.

    No parameters; a scikit-learn estimator (``sklearn.base.clone`` works).

    Attributes
    ----------
    isotonic_ : the fitted sklearn IsotonicRegression
    n_classes_ : int
    """

    def fit(self, proba, y) -> "TopLabelIsotonic":
        """proba : (N, k) probabilities; y : (N,) class ids. Returns self."""
        if np.size(proba) == 0:
            raise DataFormatError("need at least one labelled row to fit an isotonic calibration")
        P = to_proba_or_logits(proba, "proba")
        y = _check_labels(y, P.shape[0], P.shape[1])
        k = P.shape[1]
        self.n_classes_ = k
        self.isotonic_ = IsotonicRegression(y_min=1.0 / k, y_max=1.0 - 1.0 / (len(y) + 1), out_of_bounds="clip")
        self.isotonic_.fit(P.max(axis=1), (P.argmax(axis=1) == y).astype(float))
        return self

    def transform(self, proba) -> np.ndarray:
        """(N, k) probabilities with the top class calibrated and the argmax kept."""
        check_is_fitted(self, "isotonic_")
        P = np.array(to_proba_or_logits(proba, "proba"), dtype=float)
        if P.shape[1] != self.n_classes_:
            raise DataFormatError(f"fitted on {self.n_classes_} classes, got {P.shape[1]}")
        n, k = P.shape
        rows = np.arange(n)
        top = P.argmax(axis=1)
        conf = P[rows, top]
        others = P.copy()
        others[rows, top] = 0.0
        rest = others.sum(axis=1)  # not 1 - conf, which cancels badly for peaked rows
        second = others.max(axis=1)
        new = self.isotonic_.predict(conf)
        # the top class stays on top: new >= second * (1 - new) / rest
        with np.errstate(invalid="ignore", divide="ignore"):
            floor = np.where(rest > 0, second / (rest + second), 0.0)
        new = np.maximum(new, floor)
        # the others' shares of the rest first: (1 - new) / rest overflows for a subnormal rest
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            out = np.where(rest[:, None] > 0, others / rest[:, None], 0.0) * (1.0 - new)[:, None]
        flat = rest <= 0  # a one-hot row: spread the remainder evenly over the other classes
        if flat.any() and k > 1:
            out[flat] = ((1.0 - new[flat]) / (k - 1))[:, None]
        out[rows, top] = new
        return _keep_argmax(out, top)

    def fit_transform(self, proba, y) -> np.ndarray:
        return self.fit(proba, y).transform(proba)


def _brier(P: np.ndarray, y: np.ndarray) -> float:
    """Mean multi-class Brier score: sum over classes of (p - onehot)^2, averaged over rows."""
    E = P.copy()
    E[np.arange(len(y)), y] -= 1.0
    return float((E ** 2).sum(axis=1).mean())


def _cv_scores(P, y, n_splits: int, random_state: int) -> dict:
    """Held-out Brier score and ECE of temperature scaling alone and followed by the
    isotonic step, ``{method: {"brier": float, "ece": float}}``, by K-fold CV over rows."""
    out = {m: {"brier": 0.0, "ece": 0.0} for m in ("temperature", "temperature+isotonic")}
    for fit_idx, held in KFold(n_splits, shuffle=True, random_state=random_state).split(P):
        ts = TemperatureScaling(input="proba").fit(P[fit_idx], y[fit_idx])
        Pt_fit, Pt_held = ts.transform(P[fit_idx]), ts.transform(P[held])
        iso = TopLabelIsotonic().fit(Pt_fit, y[fit_idx])
        w = len(held) / len(y)
        for m, Q in (("temperature", Pt_held), ("temperature+isotonic", iso.transform(Pt_held))):
            out[m]["brier"] += w * _brier(Q, y[held])
            out[m]["ece"] += w * expected_calibration_error(Q, y[held])
    return out


class CalibratedClassifier(BaseEstimator):
    """A fitted classifier whose ``predict_proba`` is calibrated on held-out rows.

    Parameters
    ----------
    base : a fitted classifier with ``predict_proba`` (and ``classes_``)
    temperature : float > 0 to use a fixed temperature (and nothing else), or None to fit
        it with ``fit(X_valid, y_valid)``
    method : "temperature"; "temperature+isotonic" (temperature scaling, then
        `TopLabelIsotonic`); or "auto" (the default): the one with the lower Brier score
        under 5-fold cross-validation on the held-out rows, temperature alone below
        ``MIN_ISOTONIC_ROWS`` rows. The Brier score, a proper scoring rule, rewards sharp
        as well as calibrated probabilities; binned ECE would favour the isotonic step's
        coarse levels even on a model that is calibrated already
    random_state : seed of the CV folds

    ``predict`` is the base model's prediction: neither step changes the argmax.

    A scikit-learn estimator (``get_params``/``set_params``). ``sklearn.base.clone`` clones
    ``base`` too, which leaves it unfitted, as scikit-learn does; to clone around an already
    fitted base, pass ``sklearn.frozen.FrozenEstimator(base)``, which cloning keeps as is.

    Attributes
    ----------
    temperature_ : float
    method_ : the method used
    cv_scores_ : ``{method: {"brier", "ece"}}`` cross-validated, when "auto" compared
        them, else ``{}``
    """

    def __init__(self, base, temperature: float | None = None, method: str = "auto", random_state: int = 0):
        self.base = base
        self.temperature = temperature
        self.method = method
        self.random_state = random_state

    def fit(self, X_valid, y_valid) -> "CalibratedClassifier":
        """Fit the temperature on held-out rows; ``y_valid`` (N,) holds labels from ``base.classes_``."""
        classes = np.asarray(self.classes_)
        y = np.asarray(y_valid)
        codes = np.searchsorted(classes, y) if len(classes) else y
        if y.ndim != 1 or (codes >= len(classes)).any() or (classes[np.minimum(codes, len(classes) - 1)] != y).any():
            raise DataFormatError(f"y_valid must be (N,) labels from the base model's classes_ {classes.tolist()}")
        if self.method not in CALIBRATION_METHODS:
            raise ValueError(f"method must be one of {CALIBRATION_METHODS}, got {self.method!r}")
        P = self.base.predict_proba(X_valid)
        self.method_, self.cv_scores_, self.isotonic_ = "temperature", {}, None
        if self.temperature is not None:  # a fixed temperature, and nothing else
            self.scaler_ = self._fixed_scaler()
            self.temperature_ = self.scaler_.temperature_
            return self
        self.scaler_ = TemperatureScaling(input="proba").fit(P, codes)
        self.temperature_ = self.scaler_.temperature_
        if self.method == "temperature+isotonic" or (self.method == "auto" and len(codes) >= MIN_ISOTONIC_ROWS):
            if self.method == "auto":
                self.cv_scores_ = _cv_scores(np.asarray(P, dtype=float), codes, CV_FOLDS, self.random_state)
            cv = self.cv_scores_
            if self.method != "auto" or cv["temperature+isotonic"]["brier"] < cv["temperature"]["brier"]:
                self.method_ = "temperature+isotonic"
                self.isotonic_ = TopLabelIsotonic().fit(self.scaler_.transform(P), codes)
        return self

    def _fixed_scaler(self) -> TemperatureScaling:
        check_number(self.temperature, "temperature", low=0, low_open=True)
        s = TemperatureScaling(input="proba")
        s.temperature_ = float(self.temperature)
        s.n_classes_ = len(self.classes_)
        return s

    def _scaler(self) -> TemperatureScaling:
        if self.temperature is not None and not hasattr(self, "scaler_"):
            return self._fixed_scaler()
        check_is_fitted(self, "scaler_")
        return self.scaler_

    @property
    def classes_(self):
        return self.base.classes_

    def predict_proba(self, X) -> np.ndarray:
        """(N, k) calibrated probabilities."""
        P = self._scaler().transform(self.base.predict_proba(X))
        iso = getattr(self, "isotonic_", None)
        return P if iso is None else iso.transform(P)

    def predict(self, X) -> np.ndarray:
        """(N,) predicted labels, identical to the base model's argmax."""
        return np.asarray(self.classes_)[self.predict_proba(X).argmax(axis=1)]


def reliability_diagram(y, proba, n_bins: int = 15) -> dict:
    """Per-bin confidence and accuracy of the top class, equal-width bins on [0, 1].

    Parameters
    ----------
    y : (N,) int gold class ids 0..k-1
    proba : (N, k) predicted probabilities
    n_bins : int

    Returns
    -------
    dict with
      ``edges`` (n_bins + 1,), ``confidence`` (n_bins,) mean top-class probability,
      ``accuracy`` (n_bins,) fraction correct (both NaN in empty bins), ``count``
      (n_bins,) int rows per bin, and ``ece``, equal to
      ``labelmill.evaluation.expected_calibration_error(proba, y, n_bins)``.
    """
    P = to_proba_or_logits(proba, "proba")
    y = _check_labels(y, P.shape[0], P.shape[1])
    conf = P.max(axis=1)
    correct = (P.argmax(axis=1) == y).astype(float)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(bins, weights=conf, minlength=n_bins) / count
        acc = np.bincount(bins, weights=correct, minlength=n_bins) / count
    return {"edges": np.linspace(0.0, 1.0, n_bins + 1), "confidence": mean_conf, "accuracy": acc,
            "count": count, "ece": expected_calibration_error(P, y, n_bins=n_bins)}
