"""Teacher-student self-training over all rows, covered or not (COSINE-style).

Round 0 trains a student on the covered rows' label-model soft labels. In each next round
the previous student (now the teacher) predicts every row; rows where it is confident
(top probability >= ``threshold``) get its pseudo-label: uncovered rows take it outright,
covered rows mix it with their label-model label. A fresh student is trained on that and
becomes the next teacher. With a validation set the round with the best valid accuracy is
kept and training stops once it has not improved for ``patience`` rounds.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from sklearn.base import BaseEstimator, clone

from ..errors import DataFormatError
from ..evaluation import check_gold
from .calibration import TemperatureScaling
from .._checks import check_number
from ._validation import (check_feature_names, check_is_fitted, check_sample_weight, check_targets,
                          check_X, set_feature_names)


def _make(student) -> Any:
    if student is None:
        from .soft_logreg import SoftLogisticRegression
        return SoftLogisticRegression()
    if isinstance(student, type) or not hasattr(student, "fit"):
        return student()
    return clone(student)


class SelfTrainer(BaseEstimator):
    """Self-training on soft labels.

    Parameters
    ----------
    student : an unfitted estimator (cloned every round), a zero-argument callable that
        returns one, or None for ``SoftLogisticRegression()``. It must accept
        ``fit(X, Y_soft, sample_weight=...)`` with (N, k) soft targets.
    rounds : int >= 0, self-training rounds after round 0 (0 = round 0 only: the student
        trained on the covered rows)
    threshold : float in (0, 1], minimum teacher confidence (top probability) for a
        pseudo-label
    label_weight : float in [0, 1], weight of the label-model label on covered rows that
        also get a pseudo-label (1 = never overwrite the label model, 0 = replace it)
    pseudo : "hard" (one-hot of the teacher's argmax) or "soft" (its probabilities)
    patience : int >= 1, rounds without valid improvement before stopping
    calibrate : bool, temperature-scale the teacher on the validation data before
        thresholding, so ``threshold`` is a calibrated confidence (students trained on
        soft labels are often under-confident). Needs validation data; ignored without.

    Parameters are checked in ``fit`` (ValueError naming the parameter and its range). A
    scikit-learn estimator: ``get_params``/``set_params`` and ``sklearn.base.clone`` work.

    Attributes
    ----------
    student_ : the student of the best round (the last one without validation data)
    best_round_ : int
    history_ : list of dicts, one per round: ``round``, ``valid_accuracy`` (NaN without
        validation data), ``n_pseudo`` (rows with a pseudo-label), ``n_pseudo_uncovered``,
        ``n_train`` (rows with positive weight), ``n_changed`` (pseudo-labels whose class
        differs from the previous round's)
    classes_ : the student's classes
    feature_names_in_ : column names when X was a DataFrame with string column names;
        ``predict`` on a DataFrame then requires the same columns in the same order
    """

    def __init__(self, student=None, rounds: int = 5, threshold: float = 0.9, label_weight: float = 0.5,
                 pseudo: str = "hard", patience: int = 1, calibrate: bool = False):
        self.student = student
        self.rounds = rounds
        self.threshold = threshold
        self.label_weight = label_weight
        self.pseudo = pseudo
        self.patience = patience
        self.calibrate = calibrate

    def fit(self, X, soft_labels, covered_mask=None, X_valid=None, y_valid=None, sample_weight=None) -> "SelfTrainer":
        """Run the rounds.

        Parameters
        ----------
        X : (N, d) features of all rows (sparse or dense)
        soft_labels : (N, k) label-model probabilities (rows sum to 1; values on uncovered
            rows are ignored)
        covered_mask : (N,) bool, rows at least one source voted on; None = all rows
        X_valid, y_valid : optional held-out features and (n,) int gold labels 0..k-1
            (-1 = unknown: those rows are left out)
        sample_weight : (N,) optional base weights (e.g. from ``confidence_weights``)

        Returns
        -------
        self
        """
        if self.pseudo not in ("hard", "soft"):
            raise ValueError(f"pseudo must be 'hard' or 'soft', got {self.pseudo!r}")
        check_number(self.label_weight, "label_weight", low=0, high=1)
        check_number(self.threshold, "threshold", low=0, high=1, low_open=True)
        check_number(self.rounds, "rounds", integer=True, low=0)
        check_number(self.patience, "patience", integer=True, low=0, low_open=True)
        set_feature_names(self, X)
        X = check_X(X)
        n = X.shape[0]
        soft_labels = np.asarray(soft_labels)
        if soft_labels.ndim != 2:
            raise DataFormatError("soft_labels must be (N, k) label-model probabilities")
        covered = np.ones(n, dtype=bool) if covered_mask is None else np.asarray(covered_mask, dtype=bool)
        if covered.shape != (n,):
            raise DataFormatError(f"covered_mask must have shape ({n},), got {covered.shape}")
        if not covered.all() and soft_labels.shape[0] == n and soft_labels.dtype.kind == "f":
            # uncovered rows' values are ignored (the teacher labels them): NaN there is fine
            soft_labels = soft_labels.copy()
            soft_labels[~covered] = 1.0 / soft_labels.shape[1]
        Q, _ = check_targets(soft_labels, n, name="soft_labels")
        k = Q.shape[1]
        base_w = check_sample_weight(sample_weight, n)
        if not (base_w[covered] > 0).any():
            raise DataFormatError("no covered row has positive weight; nothing to train round 0 on")
        has_valid = X_valid is not None and y_valid is not None
        if has_valid:
            check_feature_names(self, X_valid, "X_valid")
            X_valid = check_X(X_valid, "X_valid")
            y_valid = check_gold(y_valid, k, "y_valid")
            if y_valid.shape != (X_valid.shape[0],):
                raise DataFormatError(f"y_valid must have shape ({X_valid.shape[0]},), got {y_valid.shape}")
            known = y_valid >= 0  # -1 = unknown gold: those rows do not count
            X_valid, y_valid = X_valid[np.flatnonzero(known)], y_valid[known]
            has_valid = len(y_valid) > 0

        def valid_acc(model):
            if not has_valid:
                return float("nan")
            return float((model.predict_proba(X_valid).argmax(axis=1) == y_valid).mean())

        student = _make(self.student).fit(X, Q, sample_weight=base_w * covered)
        acc = valid_acc(student)
        self.history_ = [{"round": 0, "valid_accuracy": acc, "n_pseudo": 0, "n_pseudo_uncovered": 0,
                          "n_train": int(((base_w > 0) & covered).sum()), "n_changed": 0}]
        best, best_acc, best_round, since_best = student, acc, 0, 0
        prev_label = None
        teacher = student
        for r in range(1, self.rounds + 1):
            P = np.asarray(teacher.predict_proba(X), dtype=np.float64)
            if self.calibrate and has_valid:
                scaler = TemperatureScaling(input="proba").fit(teacher.predict_proba(X_valid), y_valid)
                P = scaler.transform(P)
            keep = P.max(axis=1) >= self.threshold
            label = P.argmax(axis=1)
            pseudo = np.eye(k)[label] if self.pseudo == "hard" else P
            target = Q.copy()
            both = keep & covered
            target[both] = self.label_weight * Q[both] + (1.0 - self.label_weight) * pseudo[both]
            only = keep & ~covered
            target[only] = pseudo[only]
            w = base_w * (covered | keep)
            n_changed = 0 if prev_label is None else int((keep & (label != prev_label)).sum())
            student = _make(self.student).fit(X, target, sample_weight=w)
            acc = valid_acc(student)
            self.history_.append({"round": r, "valid_accuracy": acc, "n_pseudo": int(keep.sum()),
                                  "n_pseudo_uncovered": int(only.sum()), "n_train": int((w > 0).sum()),
                                  "n_changed": n_changed})
            if has_valid:
                if acc > best_acc:
                    best, best_acc, best_round, since_best = student, acc, r, 0
                else:
                    since_best += 1
                    if since_best >= self.patience:
                        break
            else:
                best, best_round = student, r
            prev_label = label
            teacher = student
        self.student_ = best
        self.best_round_ = best_round
        return self

    @property
    def classes_(self):
        check_is_fitted(self, "student_")
        return self.student_.classes_

    def predict_proba(self, X) -> np.ndarray:
        """(N, k) probabilities of the kept student."""
        check_is_fitted(self, "student_")
        check_feature_names(self, X)
        return self.student_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        """(N,) predicted labels of the kept student."""
        check_is_fitted(self, "student_")
        check_feature_names(self, X)
        return self.student_.predict(X)


def self_train(make_student: Callable[[], Any] | Any, X, soft_labels, covered_mask=None, X_valid=None, y_valid=None,
               rounds: int = 5, threshold: float = 0.9, label_weight: float = 0.5, pseudo: str = "hard",
               patience: int = 1, calibrate: bool = False, sample_weight=None) -> SelfTrainer:
    """Functional form of ``SelfTrainer``: returns the fitted trainer (see its docs for shapes)."""
    return SelfTrainer(make_student, rounds=rounds, threshold=threshold, label_weight=label_weight,
                       pseudo=pseudo, patience=patience, calibrate=calibrate).fit(X, soft_labels, covered_mask, X_valid, y_valid,
                                                             sample_weight=sample_weight)
