"""A small PyTorch MLP trained on soft labels (torch is an optional extra, imported lazily).

Sparse X is never densified: the first layer is an ``EmbeddingBag`` in ``sum`` mode fed
each minibatch's CSR indices and values, i.e. exactly ``x @ W`` (for dense X it is an
``nn.Linear``). Mixup is applied to the first layer's output, which equals mixing the
inputs because that layer is affine, so sparse rows are never mixed either.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin

from ..errors import DataFormatError, MissingExtraError
from .._checks import check_number
from ._validation import (check_feature_names, check_fit_inputs, check_is_fitted, check_n_features,
                          check_X, set_feature_names, SoftTargetScoreMixin)
from .options import smooth_labels

TORCH_HINT = 'pip install -c constraints.txt "labelmill[torch]"'
_PREDICT_BATCH = 4096


def import_torch():
    """Return the torch module, or raise MissingExtraError naming the extra to install."""
    try:
        import torch
    except ImportError as exc:
        raise MissingExtraError(f"SoftMLPClassifier needs PyTorch; install it with: {TORCH_HINT}") from exc
    return torch


class _Optimizer:
    """AdamW for the network; for a sparse first layer, SparseAdam on its weight with the
    decoupled weight decay applied lazily to the rows the minibatch touched (rows no
    minibatch touches are neither moved nor decayed, as usual for sparse embeddings)."""

    def __init__(self, torch, model, lr: float, weight_decay: float):
        self.torch, self.lr, self.weight_decay = torch, lr, weight_decay
        bag = getattr(model.first, "bag", None)
        self.sparse_weight = bag.weight if bag is not None and bag.sparse else None
        dense = [p for p in model.parameters() if p is not self.sparse_weight]
        self.dense = torch.optim.AdamW(dense, lr=lr, weight_decay=weight_decay)
        self.sparse = None if self.sparse_weight is None else torch.optim.SparseAdam([self.sparse_weight], lr=lr)

    def zero_grad(self):
        self.dense.zero_grad()
        if self.sparse is not None:
            self.sparse.zero_grad()

    def step(self, idx_touched=None):
        self.dense.step()
        if self.sparse is not None:
            if self.weight_decay and idx_touched is not None and len(idx_touched):
                with self.torch.no_grad():
                    rows = self.torch.from_numpy(np.asarray(idx_touched, dtype=np.int64))
                    self.sparse_weight[rows] *= 1.0 - self.lr * self.weight_decay
            self.sparse.step()


class SoftMLPClassifier(SoftTargetScoreMixin, ClassifierMixin, BaseEstimator):
    """Feed-forward network with ReLU and dropout, trained with AdamW on soft targets.

    Sparse input goes through an embedding-bag first layer with sparse gradients
    (SparseAdam, lazy weight decay), so large vocabularies cost what the rows hold.

    Parameters
    ----------
    hidden : tuple (or list) of ints >= 1, hidden layer widths; ``()`` gives softmax regression
    dropout : float in [0, 1), dropout after each hidden activation
    lr, weight_decay : AdamW settings, lr > 0 and weight_decay >= 0
    epochs : int >= 1, maximum passes over the rows with positive weight
    batch_size : int >= 1
    mixup, mixup_alpha : mixup with ``lam ~ Beta(alpha, alpha)`` per row (alpha > 0), partners
        drawn within the minibatch
    label_smoothing : float in [0, 1]
    elr, elr_beta : ELR strength lambda >= 0 and EMA momentum in [0, 1) (targets updated
        every batch from the un-mixed predictions, as in Liu et al. 2020)
    patience : int >= 1, epochs without validation improvement before stopping (only with
        validation data passed to ``fit``)
    n_threads : int >= 1 or None, torch intra-op threads during fit/predict (restored after).
        The default 1 makes results identical on any machine and avoids OpenMP threads
        spinning against other work on small data; raise it for speed on large data
        (results may then differ in the last digits between thread counts). None leaves
        torch's own setting.
    random_state : int >= 0 or None, seeds initialisation, shuffling, dropout and mixup; two
        fits with the same seed and thread count give identical models

    Parameters are checked in ``fit`` (ValueError naming the parameter and its range; a
    float such as ``epochs=2.5`` is refused, not truncated).

    ``score(X, y)`` is the accuracy of ``predict(X)``; with (N, k) soft targets ``y`` it is
    measured against each row's most probable class ``y.argmax(axis=1)``.

    Attributes
    ----------
    classes_, n_classes_, n_features_in_
    feature_names_in_ : (d,) column names, only when fitted on a DataFrame with string
        column names; ``predict`` on a DataFrame then requires the same columns in the
        same order
    model_ : the torch module (the best epoch's weights when validation data was given)
    history_ : list of dicts per epoch: ``epoch``, ``loss`` (mean training loss),
        ``valid_accuracy`` (NaN without validation data)
    best_epoch_ : int
    """

    def __init__(self, hidden=(256,), dropout: float = 0.2, lr: float = 1e-3, epochs: int = 20,
                 batch_size: int = 256, weight_decay: float = 1e-4, mixup: bool = False, mixup_alpha: float = 0.2,
                 label_smoothing: float = 0.0, elr: float = 0.0, elr_beta: float = 0.7, patience: int = 3,
                 n_threads: int | None = 1, random_state: int | None = 0):
        self.hidden = hidden
        self.dropout = dropout
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.mixup = mixup
        self.mixup_alpha = mixup_alpha
        self.label_smoothing = label_smoothing
        self.elr = elr
        self.elr_beta = elr_beta
        self.patience = patience
        self.n_threads = n_threads
        self.random_state = random_state

    # ------------------------------------------------------------------ helpers
    def _batch(self, torch, X, idx):
        """A minibatch in the form the network was built for (CSR triple or dense tensor)."""
        if self.sparse_input_:
            sub = X[idx] if sp.issparse(X) else sp.csr_matrix(X[idx])
            return (torch.from_numpy(sub.indices.astype(np.int64)),
                    torch.from_numpy(sub.indptr[:-1].astype(np.int64)),
                    torch.from_numpy(sub.data.astype(np.float32)))
        rows = X[idx].toarray() if sp.issparse(X) else X[idx]
        return torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))

    @staticmethod
    def _touched(X, idx) -> np.ndarray:
        """Feature ids present in the minibatch rows ``idx`` (sorted, unique)."""
        sub = X[idx] if sp.issparse(X) else X[idx]
        return np.unique(sub.indices) if sp.issparse(sub) else np.flatnonzero(np.any(sub != 0, axis=0))

    def _threads(self, torch):
        old = torch.get_num_threads()
        if self.n_threads is not None:
            torch.set_num_threads(int(self.n_threads))
        return old

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        """Clear errors for settings that would fail mid-fit or silently do nothing."""
        try:
            hidden = None if isinstance(self.hidden, (str, bytes)) else tuple(self.hidden)
        except TypeError:
            hidden = None
        if hidden is None or not all(
                isinstance(h, numbers.Integral) and not isinstance(h, (bool, np.bool_)) and h >= 1 for h in hidden):
            raise ValueError(f"hidden must be a tuple of layer widths, integers >= 1 (e.g. (256,), or () for "
                             f"none), got {self.hidden!r}")
        check_number(self.batch_size, "batch_size", integer=True, low=0, low_open=True)
        check_number(self.epochs, "epochs", integer=True, low=0, low_open=True)
        check_number(self.patience, "patience", integer=True, low=0, low_open=True)
        check_number(self.n_threads, "n_threads", integer=True, low=0, low_open=True, none_ok=True)
        check_number(self.random_state, "random_state", integer=True, low=0, none_ok=True)
        check_number(self.lr, "lr", low=0, low_open=True)
        check_number(self.dropout, "dropout", low=0, high=1, high_open=True)
        check_number(self.weight_decay, "weight_decay", low=0)
        if self.mixup:
            check_number(self.mixup_alpha, "mixup_alpha", low=0, low_open=True)
        check_number(self.label_smoothing, "label_smoothing", low=0, high=1)
        check_number(self.elr, "elr", low=0)
        check_number(self.elr_beta, "elr_beta", low=0, high=1, high_open=True)

    def fit(self, X, y, sample_weight=None, X_valid=None, y_valid=None) -> "SoftMLPClassifier":
        """Train.

        Parameters
        ----------
        X : (N, d) scipy sparse or dense
        y : (N,) class labels or (N, k) soft targets with rows summing to 1
        sample_weight : (N,) optional; rows with weight 0 are skipped
        X_valid, y_valid : optional (n, d) features and (n,) labels from ``classes_``
            for early stopping on validation accuracy

        Returns
        -------
        self
        """
        self._check_params()
        torch = import_torch()
        X_in = X
        X, Y, classes, w = check_fit_inputs(X, y, sample_weight)
        set_feature_names(self, X_in)
        n, d = X.shape
        Y = smooth_labels(Y, self.label_smoothing)
        k = len(classes)
        has_valid = X_valid is not None and y_valid is not None
        if has_valid:
            check_feature_names(self, X_valid, "X_valid")
            X_valid = check_X(X_valid, "X_valid")
            check_n_features(X_valid, d, type(self).__name__)
            yv = np.asarray(y_valid)
            codes = np.searchsorted(classes, yv)
            if yv.shape != (X_valid.shape[0],) or (codes >= k).any() or (classes[np.minimum(codes, k - 1)] != yv).any():
                raise DataFormatError(f"y_valid must be ({X_valid.shape[0]},) labels from classes {classes.tolist()}")
        self.classes_, self.n_classes_, self.n_features_in_ = classes, k, d
        self.sparse_input_ = sp.issparse(X)

        rng = np.random.default_rng(self.random_state)
        old_threads = self._threads(torch)
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(rng.integers(2**31)))
                from ._torch_nets import SoftMLP

                model = SoftMLP(d, tuple(self.hidden), k, self.dropout, sp.issparse(X))
                self.model_ = model
                opt = _Optimizer(torch, model, self.lr, self.weight_decay)
                Yt = torch.from_numpy(Y.astype(np.float32))
                wt = torch.from_numpy(w.astype(np.float32))
                T = torch.zeros((n, k)) if self.elr > 0 else None
                active = np.flatnonzero(w > 0)
                self.history_, self.best_epoch_ = [], 0
                best_acc, best_state, since_best = -1.0, None, 0
                for epoch in range(self.epochs):
                    model.train()
                    order = active[rng.permutation(len(active))]
                    total, seen = 0.0, 0
                    for start in range(0, len(order), self.batch_size):
                        idx = np.sort(order[start:start + self.batch_size])
                        loss = self._step(torch, model, X, idx, Yt, wt, T, rng)
                        opt.zero_grad()
                        loss.backward()
                        opt.step(idx_touched=self._touched(X, idx) if self.sparse_input_ else None)
                        total += float(loss.detach()) * len(idx)
                        seen += len(idx)
                    acc = self._accuracy(torch, model, X_valid, codes) if has_valid else float("nan")
                    self.history_.append({"epoch": epoch, "loss": total / max(seen, 1), "valid_accuracy": acc})
                    if has_valid:
                        if acc > best_acc:
                            best_acc, since_best, self.best_epoch_ = acc, 0, epoch
                            best_state = copy.deepcopy(model.state_dict())
                        else:
                            since_best += 1
                            if since_best >= self.patience:
                                break
                    else:
                        self.best_epoch_ = epoch
                if best_state is not None:
                    model.load_state_dict(best_state)
                model.eval()
        finally:
            torch.set_num_threads(old_threads)
        return self

    def _step(self, torch, model, X, idx, Yt, wt, T, rng):
        F = torch.nn.functional
        h = model.first(self._batch(torch, X, idx))
        yb, wb = Yt[idx], wt[idx]
        tb = T[idx] if T is not None else None
        if self.mixup:
            pp = torch.from_numpy(rng.permutation(len(idx)))
            lam = torch.from_numpy(rng.beta(self.mixup_alpha, self.mixup_alpha, len(idx)).astype(np.float32))[:, None]
            logits = model.rest(lam * h + (1 - lam) * h[pp])
            yb = lam * yb + (1 - lam) * yb[pp]
            wb = lam[:, 0] * wb + (1 - lam[:, 0]) * wb[pp]
            if T is not None:
                with torch.no_grad():
                    clean = F.softmax(model.rest(h), dim=1)
                T[idx] = self.elr_beta * tb + (1 - self.elr_beta) * clean
                tb = T[idx]
                tb = lam * tb + (1 - lam) * tb[pp]
        else:
            logits = model.rest(h)
        logp = F.log_softmax(logits, dim=1)
        per_row = -(yb * logp).sum(dim=1)
        if T is not None:
            p = logp.exp()
            if not self.mixup:
                T[idx] = self.elr_beta * tb + (1 - self.elr_beta) * p.detach()
                tb = T[idx]
            per_row = per_row + self.elr * torch.log(torch.clamp(1 - (p * tb).sum(dim=1), min=1e-4))
        return (wb * per_row).sum() / wb.sum()

    def _logits(self, torch, model, X):
        model.eval()
        out = []
        with torch.no_grad():
            for start in range(0, X.shape[0], _PREDICT_BATCH):
                idx = np.arange(start, min(start + _PREDICT_BATCH, X.shape[0]))
                out.append(model(self._batch(torch, X, idx)).numpy())
        return np.concatenate(out).astype(np.float64)

    def _accuracy(self, torch, model, X, y_codes) -> float:
        acc = float((self._logits(torch, model, X).argmax(axis=1) == y_codes).mean())
        model.train()
        return acc

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # --------------------------------------------------------------- predicting
    def _all_logits(self, X) -> np.ndarray:
        check_is_fitted(self)
        torch = import_torch()
        check_feature_names(self, X)
        X = check_X(X)
        check_n_features(X, self.n_features_in_, type(self).__name__)
        old = self._threads(torch)
        try:
            return self._logits(torch, self.model_, X)
        finally:
            torch.set_num_threads(old)

    def decision_function(self, X) -> np.ndarray:
        """Logits: (N, k), or for two classes (N,) log-odds of ``classes_[1]`` (as scikit-learn)."""
        Z = self._all_logits(X)
        return Z[:, 1] - Z[:, 0] if Z.shape[1] == 2 else Z

    def predict_proba(self, X) -> np.ndarray:
        """(N, k) class probabilities, columns ordered as ``classes_``."""
        Z = self._all_logits(X)
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        return P / P.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """(N,) predicted class labels."""
        Z = self._all_logits(X)
        return self.classes_[Z.argmax(axis=1)]
