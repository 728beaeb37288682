"""`LabelPropagator`: kNN graph + label spreading + denoising, as one fitted object."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from ..errors import DataFormatError
from .._checks import check_number
from .abstain_prior import abstain_posterior
from .denoise import disagreement_scores, neighbourhood_distribution, worst_rows
from .graph import check_ann_params, check_features, knn_graph, resolve_method
from .spreading import confidence_anchor, normalized_graph, scores_to_proba, spread

DENOISE_MODES = (None, "correct", "weight")


class LabelPropagator(BaseEstimator):
    """Spread label-model probabilities to every row and score the covered rows' labels.

    Parameters
    ----------
    n_neighbors : int >= 1 (and below the number of rows), k of the kNN graph
    metric : "cosine" or "euclidean"
    graph_method : "auto", "exact" or "approximate" (see `knn_graph`)
    graph_params : dict of parameters of the approximate search (`approximate_knn`), e.g.
        ``{"nndescent_candidates": 40}`` or ``{"index": "hnsw"}``; None = its defaults.
        Used only when the search is approximate (keys are checked always)
    alpha : spreading strength in [0, 1); 0 keeps the label model's labels on covered rows
    anchor : "confidence" (covered rows anchored by the label model's margin) or "uniform"
    uncovered_seed : what uncovered rows start from: "abstain" (P(y | every source
        abstained), see `abstain_posterior`; needs the votes ``L`` in ``fit``, without
        which the class prior stands in) or "prior"
    uncovered_anchor : float in [0, 1], anchor weight of that seed on uncovered rows
        (0 = pure spreading)
    keep_covered : covered rows keep the label model's probabilities (only uncovered rows
        are filled); False gives covered rows the spread distribution too
    denoise : None, "correct" (the worst ``denoise_fraction`` of covered rows take their
        neighbourhood's distribution) or "weight" (``weights_`` = 1 - score on covered rows)
    denoise_fraction : float in [0, 1], fraction of the scored covered rows (those with a
        neighbour) corrected when denoise="correct"
    tol, max_iter : stopping rule of the spreading iteration, tol > 0 and max_iter an int >= 1
    random_state : for the approximate graph
    n_jobs : threads of faiss's approximate search (dense features; NN-descent for sparse
        features runs on one thread)

    Parameters are checked in ``fit`` (DataFormatError, a ValueError, naming the parameter
    and its range). A scikit-learn estimator: ``get_params``/``set_params`` and
    ``sklearn.base.clone`` work.

    Attributes (after ``fit``)
    --------------------------
    graph_ : (N, N) CSR, the symmetric kNN affinity graph
    graph_method_ : "exact" or "approximate" (``graph_method`` resolved), or "given"
    proba_ : (N, k) propagated probabilities; every row has one (coverage 1.0)
    label_model_proba_ : (N, k) the input probabilities, uncovered rows at the class prior
    denoise_scores_ : (N,) neighbourhood disagreement of covered rows, NaN on uncovered rows
        and on rows with no graph neighbour (no evidence against their label)
    corrected_ : (N,) bool, rows whose label was replaced (denoise="correct")
    weights_ : (N,) suggested training weights (1 unless denoise="weight")
    n_iter_ : spreading iterations run
    uncovered_prior_ : (k,) the seed of uncovered rows (P(y | all abstain) or the class prior)
    """

    def __init__(self, n_neighbors: int = 10, metric: str = "cosine", graph_method: str = "auto",
                 graph_params: dict | None = None, alpha: float = 0.9, anchor: str = "confidence", uncovered_seed: str = "abstain",
                 uncovered_anchor: float = 0.3, keep_covered: bool = True,
                 denoise: str | None = None, denoise_fraction: float = 0.1, tol: float = 1e-6,
                 max_iter: int = 1000, random_state: int = 0, n_jobs: int | None = None):
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.graph_method = graph_method
        self.graph_params = graph_params
        self.alpha = alpha
        self.anchor = anchor
        self.uncovered_seed = uncovered_seed
        self.uncovered_anchor = uncovered_anchor
        self.keep_covered = keep_covered
        self.denoise = denoise
        self.denoise_fraction = denoise_fraction
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, proba: np.ndarray, covered: np.ndarray, L=None, class_prior: np.ndarray | None = None,
            graph=None) -> "LabelPropagator":
        """Build the graph on X and spread ``proba`` from the covered rows.

        Parameters
        ----------
        X : (N, d) features (dense or scipy sparse), one row per row of ``proba``
        proba : (N, k) label-model probabilities (values on uncovered rows are ignored)
        covered : (N,) bool, rows where at least one source voted
        L : optional (N, M) LabelMatrix of the votes, for uncovered_seed="abstain"
        class_prior : (k,) prior for rows no seed reaches; default the mean of covered rows' proba
        graph : optional precomputed (N, N) affinity graph to use instead of building one
        """
        proba = np.asarray(proba, dtype=np.float64)
        if proba.ndim != 2 or proba.shape[1] < 2:
            raise DataFormatError(f"proba must be (N, k) with k >= 2, got shape {proba.shape}")
        covered = _check_covered(covered, proba.shape[0])
        seeds = proba[covered]
        bad = ~np.isfinite(seeds).all(axis=1) | (seeds < 0).any(axis=1) | (np.abs(seeds.sum(axis=1) - 1) > 1e-4)
        if bad.any():
            i = int(np.flatnonzero(covered)[np.flatnonzero(bad)[0]])
            raise DataFormatError(f"proba row {i} (a covered row) is {proba[i].round(4).tolist()}; each covered "
                                  f"row must be probabilities: finite, >= 0 and summing to 1")
        if self.denoise not in DENOISE_MODES:
            raise DataFormatError(f"unknown denoise mode {self.denoise!r}; choose one of {DENOISE_MODES}")
        if self.uncovered_seed not in ("abstain", "prior"):
            raise DataFormatError(f"unknown uncovered_seed {self.uncovered_seed!r}; choose abstain or prior")
        if self.anchor not in ("confidence", "uniform"):
            raise DataFormatError(f"unknown anchor {self.anchor!r}; choose confidence or uniform")
        self._check_numeric_params()
        n, k = proba.shape
        if graph is None:
            X = check_features(X, n_rows=n)
            if n > 1 and self.n_neighbors >= n:
                raise DataFormatError(f"n_neighbors={self.n_neighbors} must be smaller than the number of rows ({n})")
            check_ann_params(self.graph_params or {})
            self.graph_method_ = resolve_method(self.graph_method, n)
            self.graph_ = knn_graph(X, k=self.n_neighbors, metric=self.metric, method=self.graph_method_,
                                    random_state=self.random_state, n_jobs=self.n_jobs, **(self.graph_params or {}))
        else:
            if graph.shape != (n, n):
                raise DataFormatError(f"graph has shape {graph.shape}, expected ({n}, {n})")
            self.graph_ = sp.csr_matrix(graph)
            self.graph_method_ = "given"
        if class_prior is None:
            class_prior = proba[covered].mean(axis=0) if covered.any() else np.full(k, 1.0 / k)
        prior = np.asarray(class_prior, dtype=np.float64).ravel()
        if prior.shape != (k,) or not np.isfinite(prior).all() or (prior < 0).any() or prior.sum() <= 0:
            raise DataFormatError(f"class_prior must be {k} non-negative numbers with a positive sum, "
                                  f"got {class_prior!r}")
        prior = prior / prior.sum()
        before = np.where(covered[:, None], proba, prior[None, :])
        seed = prior
        if self.uncovered_seed == "abstain" and L is not None and (~covered).any():
            if L.n_rows != n:
                raise DataFormatError(f"L has {L.n_rows} rows but proba has {n}")
            seed = abstain_posterior(L, proba, covered)
        self.uncovered_prior_ = seed
        Y = np.where(covered[:, None], proba, seed[None, :])
        anchor = confidence_anchor(before, covered) if self.anchor == "confidence" else covered.astype(float)
        anchor = np.where(covered, anchor, float(self.uncovered_anchor))
        F, self.n_iter_ = spread(normalized_graph(self.graph_), Y, anchor, self.alpha, self.tol, self.max_iter)
        spread_proba = scores_to_proba(F, seed)
        neigh = neighbourhood_distribution(self.graph_, spread_proba, prior)
        self.denoise_scores_ = disagreement_scores(before, neigh, covered,
                                                   np.asarray(self.graph_.sum(axis=1)).ravel() > 0)
        out = np.where(covered[:, None], before, spread_proba) if self.keep_covered else spread_proba
        self.corrected_ = np.zeros(n, dtype=bool)
        self.weights_ = np.ones(n)
        if self.denoise == "correct":
            self.corrected_ = worst_rows(self.denoise_scores_, self.denoise_fraction)
            out = np.where(self.corrected_[:, None], neigh, out)
        elif self.denoise == "weight":
            self.weights_ = np.where(covered, 1.0 - np.nan_to_num(self.denoise_scores_), 1.0)
        self.label_model_proba_ = before
        self.proba_ = out
        self.covered_ = covered
        self.class_prior_ = prior
        return self

    def _check_numeric_params(self) -> None:
        kw = {"error": DataFormatError}
        check_number(self.n_neighbors, "n_neighbors", integer=True, low=1, **kw)
        check_number(self.alpha, "alpha", low=0, high=1, high_open=True, **kw)
        check_number(self.uncovered_anchor, "uncovered_anchor", low=0, high=1, **kw)
        check_number(self.tol, "tol", low=0, low_open=True, **kw)
        check_number(self.max_iter, "max_iter", integer=True, low=1, **kw)
        if not isinstance(self.keep_covered, (bool, np.bool_)):
            raise DataFormatError(f"keep_covered must be True or False, got {self.keep_covered!r}")

    def fit_transform(self, X, proba, covered, **kwargs) -> np.ndarray:
        """``fit`` then return ``proba_`` (N, k)."""
        return self.fit(X, proba, covered, **kwargs).proba_


def _check_covered(covered, n: int) -> np.ndarray:
    """(n,) bool mask from booleans or 0/1 values; anything else (0.9, "False") is an error."""
    arr = np.asarray(covered)
    if arr.shape != (n,):
        raise DataFormatError(f"covered has shape {arr.shape}, expected ({n},)")
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind in "iuf" and np.isin(arr, (0, 1)).all():
        return arr.astype(bool)
    raise DataFormatError(f"covered must be a boolean mask (or 0/1), got dtype {arr.dtype} with values such as "
                          f"{arr[:3].tolist()}")
