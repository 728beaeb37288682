"""Train an end model on probabilistic labels: choose C on valid, self-train, calibrate.

This is the end-model stage as the pipeline uses it; the pieces (classifiers, options,
self-training, calibration) live in their own modules and work on their own too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..evaluation import classification_metrics
from . import make_end_model
from .calibration import CalibratedClassifier, reliability_diagram
from .self_training import SelfTrainer

C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)


@dataclass
class EndModelResult:
    """model: the calibrated end model (``predict_proba`` is temperature-scaled);
    base: the uncalibrated model; chosen: the settings chosen on valid; history: per
    setting / self-training round valid accuracy; temperature: fitted temperature (1.0
    without valid gold)."""

    model: object
    base: object
    chosen: dict
    history: list = field(default_factory=list)
    temperature: float = 1.0


def _rows(X, mask):
    return X[np.flatnonzero(mask)] if sp.issparse(X) else X[mask]


def _valid_accuracy(model, X_valid, y_valid) -> float:
    if X_valid is None:
        return float("nan")
    return float((model.predict(X_valid) == y_valid).mean())


def train_end_model(X, soft_labels, covered, X_valid=None, y_valid=None, name: str = "logreg",
                    sample_weight=None, mixup: bool = False, self_train: bool = False, calibrate: bool = True,
                    params: dict | None = None, random_state: int = 0) -> EndModelResult:
    """Fit an end model on (N, k) soft labels.

    Parameters
    ----------
    X : (N, d) features of the training rows (sparse or dense)
    soft_labels : (N, k) probabilities (label model, or propagated)
    covered : (N,) bool, rows whose labels to train on (uncovered rows are reached only
        by self-training); pass all True for propagated labels
    X_valid, y_valid : held-out features and gold (-1 = unknown) for choosing the
        regularisation (logreg: ``C`` in ``C_GRID``), stopping self-training, and the temperature
    name : "logreg" or "mlp"
    sample_weight : (N,) optional row weights (e.g. propagation's denoising weights)
    mixup, self_train, calibrate : the noise-aware options
    params : further end-model parameters (fixed)

    Returns
    -------
    EndModelResult
    """
    params = dict(params or {})
    params.setdefault("random_state", random_state)
    if mixup:
        params["mixup"] = True
    covered = np.asarray(covered, dtype=bool)
    if X_valid is not None and y_valid is not None:
        keep = np.asarray(y_valid) >= 0
        X_valid, y_valid = (_rows(X_valid, keep), np.asarray(y_valid)[keep]) if keep.any() else (None, None)
    else:
        X_valid = y_valid = None
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)[covered]
    Xc, Yc = _rows(X, covered), np.asarray(soft_labels)[covered]
    history = []
    grid = [params.get("C")] if name != "logreg" or "C" in params or X_valid is None else list(C_GRID)
    best = None
    for C in grid:
        p = dict(params) if C is None else dict(params, C=C)
        model = make_end_model(name, **p)
        fit_kw = {"sample_weight": w}
        if name == "mlp" and X_valid is not None:
            fit_kw.update(X_valid=X_valid, y_valid=y_valid)
        model.fit(Xc, Yc, **fit_kw)
        acc = _valid_accuracy(model, X_valid, y_valid)
        history.append({"stage": "fit", **({} if C is None else {"C": C}), "valid_accuracy": acc})
        if best is None or acc > best[0] + 1e-12:
            best = (acc, p, model)
    _, chosen, base = best
    if self_train:
        trainer = SelfTrainer(student=make_end_model(name, **chosen), rounds=5, threshold=0.9,
                              calibrate=X_valid is not None)
        trainer.fit(X, soft_labels, covered_mask=covered, X_valid=X_valid, y_valid=y_valid,
                    sample_weight=sample_weight)
        history += [{"stage": "self_train", **h} for h in trainer.history_]
        base = trainer
        chosen = dict(chosen, self_train={"best_round": int(trainer.best_round_)})
    model, temperature = base, 1.0
    if calibrate and X_valid is not None:
        model = CalibratedClassifier(base).fit(X_valid, y_valid)
        temperature = float(model.temperature_)
    return EndModelResult(model=model, base=base, chosen={k: v for k, v in chosen.items() if k != "random_state"},
                          history=history, temperature=temperature)


def end_model_metrics(result: EndModelResult, splits: dict, n_classes: int) -> dict:
    """``{"splits": {name: M}, "calibration": {name: {"ece_before", "ece_after", "reliability"}}}``
    for each ``name -> (X, gold)`` in ``splits`` with gold; M as in `classification_metrics`
    (coverage 1.0: the end model labels every row)."""
    out, calib = {}, {}
    for name, (X, gold) in splits.items():
        gold = np.asarray(gold)
        if not (gold >= 0).any():
            continue
        P = result.model.predict_proba(X)
        P0 = result.base.predict_proba(X)
        out[name] = classification_metrics(gold, P.argmax(axis=1), P, n_classes, coverage=1.0)
        known = gold >= 0
        before = classification_metrics(gold, P0.argmax(axis=1), P0, n_classes)["ece"]
        calib[name] = {"ece_before": before, "ece_after": out[name]["ece"],
                       "reliability_before": reliability_diagram(gold[known], P0[known]),
                       "reliability_after": reliability_diagram(gold[known], P[known])}
    return {"splits": out, "calibration": calib}
