"""Multinomial logistic regression trained on soft (probabilistic) labels.

The objective is scikit-learn's, generalised to soft targets ``Y`` (N, k)::

    sum_i w_i * CE(Y_i, softmax(x_i W + b))  +  0.5 / C * ||W||^2      (intercept unpenalised)

with ``CE(y, p) = -sum_j y_j log p_j``. For two classes the model has one weight vector
(sigmoid), like scikit-learn's binary ``LogisticRegression``, so with one-hot targets the
two fit the same coefficients. It is minimised full batch by L-BFGS; each evaluation costs
one ``X @ W`` and one ``X.T @ R`` in X's own dtype (float32 stays float32), so sparse X is
never densified or copied.

Options: label smoothing, mixup (done implicitly: the model is linear, so the logits of a
mixed row are the mix of the rows' logits and X is never mixed or copied) and ELR (outer
rounds that update the EMA targets and refit warm-started).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from .._checks import check_number
from ._validation import (check_feature_names, check_fit_inputs, check_is_fitted, check_n_features,
                          check_X, set_feature_names, SoftTargetScoreMixin)
from .options import draw_mixup, elr_penalty_grad, elr_update, smooth_labels


class SoftLogisticRegression(SoftTargetScoreMixin, ClassifierMixin, BaseEstimator):
    """L2-regularised softmax regression on hard labels or soft targets.

    Parameters
    ----------
    C : float > 0 (``inf`` = no penalty), inverse regularisation strength (scikit-learn's
        scaling: the loss is summed over rows, the penalty is ``0.5 * ||W||^2 / C``)
    fit_intercept : bool
    max_iter : int >= 1, L-BFGS iterations per fit (per round with ELR)
    tol : float >= 0, L-BFGS stops when the largest gradient entry of the mean-scaled
        objective is below ``tol``
    label_smoothing : float in [0, 1], targets become ``(1 - eps) Y + eps / k``
    mixup : bool, train on mixed rows ``lam x_i + (1 - lam) x_perm(i)`` with
        ``lam ~ Beta(mixup_alpha, mixup_alpha)`` per row (one fixed draw per fit;
        rows with zero weight are never mixed into others)
    mixup_alpha : float > 0
    elr : float >= 0, ELR strength lambda: each row adds ``lambda * w_i * log(1 - <p_i, t_i>)``
        where ``t_i`` is an exponential moving average of the model's own predictions
    elr_beta : float in [0, 1), EMA momentum of the ELR targets
    elr_rounds : int >= 0, refits with the ELR term after the plain fit that starts the targets
    warm_start : bool, start from the previous ``coef_`` when shapes agree
    random_state : int, seeds the mixup draw

    Parameters are checked in ``fit`` (ValueError naming the parameter and its range).

    ``score(X, y)`` is the accuracy of ``predict(X)``; with (N, k) soft targets ``y`` it is
    measured against each row's most probable class ``y.argmax(axis=1)``, so
    ``GridSearchCV`` and ``cross_val_score`` work on soft targets with their default scoring.
    (scikit-learn's probability scorers such as ``"neg_log_loss"`` accept 1-D labels only;
    with soft targets pass ``scoring=labelmill.end_models.soft_neg_log_loss``.)

    Attributes
    ----------
    classes_ : (k,) class labels (``arange(k)`` for soft targets)
    n_classes_ : int
    coef_ : (1, d) for two classes, else (k, d)
    intercept_ : (1,) or (k,)
    n_features_in_ : int
    feature_names_in_ : (d,) column names, only when fitted on a DataFrame with string
        column names; ``predict`` on a DataFrame then requires the same columns in the
        same order (DataFormatError naming the first mismatch otherwise)
    n_iter_ : int, L-BFGS iterations over all rounds
    """

    def __init__(self, C: float = 1.0, fit_intercept: bool = True, max_iter: int = 1000, tol: float = 1e-4,
                 label_smoothing: float = 0.0, mixup: bool = False, mixup_alpha: float = 0.2,
                 elr: float = 0.0, elr_beta: float = 0.7, elr_rounds: int = 3,
                 warm_start: bool = False, random_state: int | None = 0):
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.label_smoothing = label_smoothing
        self.mixup = mixup
        self.mixup_alpha = mixup_alpha
        self.elr = elr
        self.elr_beta = elr_beta
        self.elr_rounds = elr_rounds
        self.warm_start = warm_start
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y, sample_weight=None) -> "SoftLogisticRegression":
        """Fit on features and labels.

        Parameters
        ----------
        X : (N, d) scipy sparse (kept as CSR, float32 stays float32) or dense array
        y : (N,) int class labels or (N, k) soft targets with rows summing to 1
        sample_weight : (N,) non-negative, optional; rows with weight 0 are ignored

        Returns
        -------
        self
        """
        self._check_params()
        X_in = X
        X, Y, classes, w = check_fit_inputs(X, y, sample_weight)
        set_feature_names(self, X_in)
        n, d = X.shape
        Y = smooth_labels(Y, self.label_smoothing)
        k = len(classes)
        kk = 1 if k == 2 else k

        theta = self._initial_theta(d, k, kk)
        self.classes_, self.n_classes_, self.n_features_in_ = classes, k, d

        mix = None
        if self.mixup:
            perm, lam = draw_mixup(n, self.mixup_alpha, self.random_state, mask=w > 0)
            mix = (perm, lam)
            Y = lam[:, None] * Y + (1.0 - lam[:, None]) * Y[perm]
            w = lam * w + (1.0 - lam) * w[perm]

        self.n_iter_ = 0
        theta = self._minimize(theta, X, Y, w, mix, None, d, kk)
        if self.elr > 0 and self.elr_rounds > 0:
            T = elr_update(None, self._proba_from_logits(self._logits(theta, X, d, kk)), self.elr_beta)
            for _ in range(self.elr_rounds):
                theta = self._minimize(theta, X, Y, w, mix, T, d, kk)
                T = elr_update(T, self._proba_from_logits(self._logits(theta, X, d, kk)), self.elr_beta)
        self._set_theta(theta, d, kk)
        return self

    def _check_params(self) -> None:
        """ValueError naming the parameter and its allowed range for a bad setting."""
        check_number(self.C, "C", low=0, low_open=True, finite=False)
        check_number(self.max_iter, "max_iter", integer=True, low=0, low_open=True)
        check_number(self.tol, "tol", low=0)
        check_number(self.label_smoothing, "label_smoothing", low=0, high=1)
        if self.mixup:
            check_number(self.mixup_alpha, "mixup_alpha", low=0, low_open=True)
        check_number(self.elr, "elr", low=0)
        if self.elr > 0:
            check_number(self.elr_beta, "elr_beta", low=0, high=1, high_open=True)
            check_number(self.elr_rounds, "elr_rounds", integer=True, low=0)

    def _initial_theta(self, d, k, kk):
        size = d * kk + (kk if self.fit_intercept else 0)
        if self.warm_start and hasattr(self, "coef_") and self.coef_.shape == (kk, d) \
                and getattr(self, "n_classes_", None) == k:
            parts = [self.coef_.T.ravel()]
            if self.fit_intercept:
                parts.append(self.intercept_)
            return np.concatenate(parts).astype(np.float64)
        return np.zeros(size)

    def _set_theta(self, theta, d, kk):
        W = theta[:d * kk].reshape(d, kk)
        self.coef_ = np.ascontiguousarray(W.T)
        self.intercept_ = theta[d * kk:].copy() if self.fit_intercept else np.zeros(kk)

    def _logits(self, theta, X, d, kk):
        W = theta[:d * kk].reshape(d, kk)
        Z = np.asarray(X @ W.astype(X.dtype, copy=False), dtype=np.float64)
        if self.fit_intercept:
            Z += theta[d * kk:]
        return Z

    @staticmethod
    def _proba_from_logits(Z):
        if Z.shape[1] == 1:
            p1 = expit(Z[:, 0])
            return np.column_stack([1.0 - p1, p1])
        return np.exp(log_softmax(Z, axis=1))

    def _minimize(self, theta0, X, Y, w, mix, T, d, kk):
        sw = w.sum()
        inv_c = 1.0 / self.C
        elr = self.elr if T is not None else 0.0
        if T is not None and mix is not None:
            perm, lam = mix
            T = lam[:, None] * T + (1.0 - lam[:, None]) * T[perm]
        y1 = Y[:, 1] if kk == 1 else None

        def fun(theta):
            W = theta[:d * kk].reshape(d, kk)
            Z0 = np.asarray(X @ W.astype(X.dtype, copy=False), dtype=np.float64)
            if mix is not None:
                perm, lam = mix
                Z = lam[:, None] * Z0 + (1.0 - lam[:, None]) * Z0[perm]
            else:
                Z = Z0
            if self.fit_intercept:
                Z = Z + theta[d * kk:]
            if kk == 1:
                z = Z[:, 0]
                loss_i = np.logaddexp(0.0, z) - y1 * z
                p1 = expit(z)
                R = (p1 - y1)[:, None]
                if elr:
                    val, G = elr_penalty_grad(np.column_stack([1.0 - p1, p1]), T)
                    loss_i = loss_i + elr * val
                    R = R + elr * G[:, 1:2]
            else:
                m = Z.max(axis=1)
                P = np.exp(Z - m[:, None])
                s = P.sum(axis=1)
                P /= s[:, None]
                loss_i = m + np.log(s) - np.einsum("ij,ij->i", Y, Z)
                R = P - Y
                if elr:
                    val, G = elr_penalty_grad(P, T)
                    loss_i = loss_i + elr * val
                    R = R + elr * G
            R = R * w[:, None]
            loss = float(w @ loss_i) + 0.5 * inv_c * float(np.dot(theta[:d * kk], theta[:d * kk]))
            if mix is not None:
                perm, lam = mix
                R0 = lam[:, None] * R
                R0[perm] += (1.0 - lam[:, None]) * R
            else:
                R0 = R
            gW = np.asarray(X.T @ R0.astype(X.dtype, copy=False), dtype=np.float64)
            grad = np.empty_like(theta)
            grad[:d * kk] = gW.ravel() + inv_c * theta[:d * kk]
            if self.fit_intercept:
                grad[d * kk:] = R.sum(axis=0)
            return loss / sw, grad / sw

        # L-BFGS's vector updates are tiny BLAS calls; OpenBLAS threads spinning between
        # them (numpy and scipy each bundle a pool) made fits ~50x slower on 2 cores.
        with threadpool_limits(limits=1, user_api="blas"):
            res = minimize(fun, theta0, method="L-BFGS-B", jac=True,
                           options={"maxiter": self.max_iter, "maxls": 50, "gtol": self.tol,
                                    "ftol": 64 * np.finfo(float).eps})
        self.n_iter_ += int(res.nit)
        if res.status == 1:
            warnings.warn(f"SoftLogisticRegression: L-BFGS did not converge in max_iter={self.max_iter} "
                          "iterations; raise max_iter or scale the features", ConvergenceWarning, stacklevel=3)
        return res.x

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # --------------------------------------------------------------- predicting
    def _check_predict_X(self, X):
        check_is_fitted(self)
        check_feature_names(self, X)
        X = check_X(X)
        check_n_features(X, self.n_features_in_, type(self).__name__)
        return X

    def decision_function(self, X) -> np.ndarray:
        """Logits: (N,) for two classes (log-odds of ``classes_[1]``), else (N, k)."""
        X = self._check_predict_X(X)
        Z = np.asarray(X @ self.coef_.T.astype(X.dtype), dtype=np.float64) + self.intercept_
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict_proba(self, X) -> np.ndarray:
        """(N, k) class probabilities, columns ordered as ``classes_``; rows sum to 1."""
        Z = self.decision_function(X)
        return self._proba_from_logits(Z[:, None] if Z.ndim == 1 else Z)

    def predict_log_proba(self, X) -> np.ndarray:
        """(N, k) log class probabilities."""
        Z = self.decision_function(X)
        if Z.ndim == 1:
            return np.column_stack([-np.logaddexp(0.0, Z), -np.logaddexp(0.0, -Z)])
        return log_softmax(Z, axis=1)

    def predict(self, X) -> np.ndarray:
        """(N,) predicted class labels (elements of ``classes_``)."""
        P = self.predict_proba(X)
        return self.classes_[P.argmax(axis=1)]
