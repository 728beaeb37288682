"""Choose spreading settings on rows with gold (the valid split), graph built once."""

from __future__ import annotations

import itertools

import numpy as np

from .propagator import LabelPropagator

# Small on purpose: the valid split's uncovered rows are few, so a wide grid would fit noise.
DEFAULT_GRID = {"alpha": (0.9, 0.5), "uncovered_anchor": (0.3, 0.0, 1.0)}


def select_propagator(X, proba, covered, L, y, scored, grid=None, graph=None, class_prior=None, **params):
    """Fit one LabelPropagator per grid point and keep the best on the scored rows.

    Parameters
    ----------
    X, proba, covered, L : as in `LabelPropagator.fit`, over all rows in the graph
    y : (N,) gold labels, -1 where unknown
    scored : (N,) bool, the rows whose gold may be used (e.g. the valid split)
    grid : {param: values}. Ties in accuracy go to the setting that moves the labels
        least from their seeds (mean total-variation distance between the spread
        probabilities and the label model's, uncovered rows against their seed), then to
        the earlier grid point
    graph : optional precomputed affinity graph (otherwise built once from X)
    class_prior : passed to `LabelPropagator.fit`
    params : fixed LabelPropagator parameters

    Returns
    -------
    (best fitted LabelPropagator, list of {params..., "accuracy", "change"} for every grid point)
    """
    grid = grid or DEFAULT_GRID
    keys = list(grid)
    m = np.asarray(scored, dtype=bool) & (np.asarray(y) >= 0)
    best, best_key, table = None, None, []
    cov = np.asarray(covered, dtype=bool)
    method = None  # how the first grid point built the graph the others reuse
    for values in itertools.product(*(grid[k] for k in keys)):
        p = dict(params, **dict(zip(keys, values)))
        prop = LabelPropagator(**p).fit(X, proba, covered, L=L, graph=graph, class_prior=class_prior)
        method = method or prop.graph_method_
        graph, prop.graph_method_ = prop.graph_, method
        acc = float((prop.proba_[m].argmax(axis=1) == y[m]).mean()) if m.any() else float("nan")
        seed = np.where(cov[:, None], prop.label_model_proba_, prop.uncovered_prior_[None, :])
        change = float(0.5 * np.abs(prop.proba_ - seed).sum(axis=1).mean())
        table.append({**dict(zip(keys, values)), "accuracy": acc, "change": change})
        key = (round(acc, 12) if acc == acc else -1.0, -round(change, 12))
        if best is None or key > best_key:
            best, best_key = prop, key
    return best, table
