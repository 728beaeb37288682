"""Shared plumbing of label models: input checks, class priors, tie-breaking."""

from __future__ import annotations

import copy
import inspect

import numpy as np

from ..errors import InvalidVotesError, NotFittedError
from ..matrix import LabelMatrix, _label_dtype


def as_label_matrix(L, n_classes: int | None = None) -> LabelMatrix:
    """Accept a LabelMatrix or a dense (N, M) array with -1 for abstain.

    A LabelMatrix with fewer classes than ``n_classes`` is widened (its votes are valid
    class ids of the larger set: e.g. the LFs applied to a few new rows voted only
    classes 0 and 1 of 3); one with more is refused.
    """
    if isinstance(L, LabelMatrix):
        if n_classes is not None and L.n_classes > n_classes:
            raise InvalidVotesError(f"label matrix has {L.n_classes} classes, expected {n_classes}")
        if n_classes is not None and L.n_classes < n_classes:
            return LabelMatrix(L.indptr, L.sources, L.labels.astype(_label_dtype(n_classes)), n_classes,
                               L.source_names)
        return L
    return LabelMatrix.from_dense(L, n_classes=n_classes)


def normalize_class_balance(class_balance, k: int) -> np.ndarray:
    """Validate a class balance: k non-negative numbers, returned normalised to sum 1."""
    p = np.asarray(class_balance, dtype=float).ravel()
    if p.shape != (k,) or not np.all(np.isfinite(p)) or (p < 0).any() or p.sum() <= 0:
        raise ValueError(f"class_balance must be {k} non-negative numbers with a positive sum, got {class_balance!r}")
    return p / p.sum()


#: what ``predict`` does with rows whose top classes tie exactly
TIE_BREAK_POLICIES = ("random", "abstain")


class LabelModel:
    """Base class: sklearn-style parameters, ``fit(L)``, ``predict_proba(L)``, ``predict(L)``.

    Subclasses implement ``_fit(L, class_balance)`` and ``_predict_proba(L)``. Learned
    state ends in ``_``: ``n_classes_``, ``n_sources_``, ``source_names_``,
    ``class_balance_`` and the per-source estimates each model documents.
    """

    name = "base"

    def __init__(self, random_state: int | None = 0):
        self.random_state = random_state

    # sklearn-style parameter handling -----------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = False) -> dict:
        return {p: getattr(self, p) for p in self._param_names()}

    def set_params(self, **params) -> "LabelModel":
        for k, v in params.items():
            if k not in self._param_names():
                raise ValueError(f"{type(self).__name__} has no parameter {k!r}")
            setattr(self, k, v)
        return self

    def clone(self) -> "LabelModel":
        return type(self)(**copy.deepcopy(self.get_params()))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # public API ---------------------------------------------------------------
    def fit(self, L, class_balance=None, n_classes: int | None = None) -> "LabelModel":
        """Learn from votes alone (no gold).

        Parameters
        ----------
        L : LabelMatrix or array-like (N, M), -1 = abstain
        class_balance : array-like (k,), optional
            Known class proportions. Without it each model estimates them (or uses
            uniform, as documented per model).
        n_classes : int, optional; needed only for a dense L whose max vote < k-1.

        Returns
        -------
        self
        """
        L = as_label_matrix(L, n_classes)
        k = L.n_classes
        self.n_classes_ = k
        self.n_sources_ = L.n_sources
        self.source_names_ = L.source_names
        cb = None if class_balance is None else normalize_class_balance(class_balance, k)
        self._fit(L, cb)
        return self

    def predict_proba(self, L) -> np.ndarray:
        """Return (N, k) class probabilities for each row; rows sum to 1."""
        L = self._check_predict_input(L)
        P = self._predict_proba(L)
        return P

    def predict(self, L, tie_break_policy: str = "random") -> np.ndarray:
        """Return (N,) int predicted classes: argmax of ``predict_proba``.

        Exact ties (e.g. a tied vote, or an uncovered row under a uniform prior) are
        broken at random with a generator seeded by ``random_state`` and drawn over the
        rows of this call: the same matrix always gets the same answer, but a tied row
        predicted in another batch may get another of its tied classes. With
        ``tie_break_policy="abstain"`` (Snorkel's default) tied rows get -1 instead, so
        ``pred >= 0`` keeps the rows with a clear winner.
        """
        if tie_break_policy not in TIE_BREAK_POLICIES:
            raise ValueError(f"tie_break_policy must be one of {', '.join(map(repr, TIE_BREAK_POLICIES))}, "
                             f"got {tie_break_policy!r}")
        P = self.predict_proba(L)
        if tie_break_policy == "abstain":
            pred = P.argmax(axis=1)
            pred[_near_top(P).sum(axis=1) > 1] = -1
            return pred
        return break_ties(P, self.random_state)

    # helpers ------------------------------------------------------------------
    def _check_predict_input(self, L) -> LabelMatrix:
        if not hasattr(self, "n_classes_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(L) first")
        L = as_label_matrix(L, self.n_classes_)
        if L.n_sources != self.n_sources_:
            raise InvalidVotesError(f"{type(self).__name__} was fitted on {self.n_sources_} sources, "
                                    f"got a matrix with {L.n_sources}")
        return align_sources(L, getattr(self, "source_names_", None), type(self).__name__)

    def _fit(self, L: LabelMatrix, class_balance):  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict_proba(self, L: LabelMatrix) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


def _generic_names(names) -> bool:
    """True for the placeholder names a matrix built without names gets (source_0, ...)."""
    return tuple(names) == tuple(f"source_{j}" for j in range(len(names)))


def align_sources(L: LabelMatrix, fitted_names, model_name: str = "the model") -> LabelMatrix:
    """Return L with its columns in the order of ``fitted_names``, matched by name.

    A matrix whose sources are the fitted ones in another order is reordered (as a
    DataFrame's columns would be); one with other names is refused, since its column j
    is not the source the model learned as column j. Placeholder names (source_0, ...,
    from an unnamed dense array) on either side are taken to match by position.
    """
    if fitted_names is None or L.source_names == tuple(fitted_names):
        return L
    if _generic_names(L.source_names) or _generic_names(fitted_names):
        return L
    have = set(L.source_names)
    if have == set(fitted_names):
        return L.select_sources(list(fitted_names))
    missing = [s for s in fitted_names if s not in have]
    extra = [s for s in L.source_names if s not in set(fitted_names)]
    raise InvalidVotesError(f"{model_name} was fitted on other sources: the matrix lacks {missing[:5]} and has "
                            f"{extra[:5]}, which the model never saw (rename the columns, or refit)")


def _near_top(P: np.ndarray, atol: float = 1e-9) -> np.ndarray:
    """(N, k) bool: the classes within ``atol`` of each row's largest probability."""
    return P >= P.max(axis=1, keepdims=True) - atol


def break_ties(P: np.ndarray, random_state=0, atol: float = 1e-9) -> np.ndarray:
    """Argmax per row, choosing uniformly at random among classes within `atol` of the max."""
    P = np.asarray(P)
    tied = _near_top(P, atol)
    pred = P.argmax(axis=1)
    multi = tied.sum(axis=1) > 1
    if multi.any():
        rng = np.random.default_rng(random_state)
        sub = tied[multi].astype(float)
        r = rng.random(sub.shape) * sub
        pred[multi] = r.argmax(axis=1)
    return pred


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def smoothed_class_balance(Q: np.ndarray) -> np.ndarray:
    """(k,) class proportions from soft labels Q (N, k), with one pseudo-row per class."""
    mass = np.asarray(Q, dtype=float).sum(axis=0) + 1.0
    return mass / mass.sum()


def majority_soft_labels(L: LabelMatrix, prior: np.ndarray) -> np.ndarray:
    """(N, k): uniform over the top-voted classes; the prior on rows with no vote."""
    counts = L.class_counts()
    top = counts.max(axis=1, keepdims=True)
    Q = (counts == top) & (top > 0)
    Q = Q.astype(float)
    s = Q.sum(axis=1, keepdims=True)
    uncovered = s[:, 0] == 0
    Q[~uncovered] /= s[~uncovered]
    Q[uncovered] = prior
    return Q


def vote_accuracy(vote_probs: np.ndarray, class_balance: np.ndarray) -> np.ndarray:
    """(M,) P(vote correct | source votes) from ``vote_probs[j, c, l]`` = P(source j votes l | y = c).

    ``vote_probs`` may include the probability of voting at all (it need not sum to 1
    over l): a one-sided source that votes SPAM far more often under SPAM is then
    credited with its precision, not with the class prior.
    """
    k = len(class_balance)
    joint = vote_probs[:, :, :k] * class_balance[None, :, None]  # P(votes l, y = c)
    right = np.einsum("jcc->j", joint)
    return right / np.maximum(joint.sum(axis=(1, 2)), 1e-300)
