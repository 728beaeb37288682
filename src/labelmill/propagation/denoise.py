"""Neighbourhood disagreement scores for covered rows, and what to do with the worst.

A row's score is ``1 - q_i[y_i]``: y_i is the label model's label and q_i the label
distribution of its graph neighbours after spreading (row i itself excluded). 0 means the
neighbourhood agrees completely, 1 that it gives the row's label no mass at all. A row with
no neighbour (e.g. a comment of one emoticon, whose TF-IDF row shares no term) has no
score: nothing speaks against its label.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import DataFormatError
from .spreading import scores_to_proba


def neighbourhood_distribution(W: sp.csr_matrix, P: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """q = row-normalised W @ P: each row's neighbours' label distribution (self excluded,
    as W has a zero diagonal). Rows without neighbours get ``prior``. Returns (N, k)."""
    return scores_to_proba(np.asarray(W @ P), prior)


def disagreement_scores(label_model_proba: np.ndarray, neighbourhood: np.ndarray, covered: np.ndarray,
                        has_neighbours: np.ndarray | None = None) -> np.ndarray:
    """(N,) scores in [0, 1] for covered rows; NaN for uncovered ones and for rows with no
    neighbour in the graph (``has_neighbours`` False: nothing around them to disagree
    with; their ``neighbourhood`` is only the class prior)."""
    y = label_model_proba.argmax(axis=1)
    s = 1.0 - neighbourhood[np.arange(len(y)), y]
    scored = covered if has_neighbours is None else covered & has_neighbours
    return np.where(scored, s, np.nan)


def worst_rows(scores: np.ndarray, fraction: float) -> np.ndarray:
    """Boolean mask of the ``fraction`` of scored (non-NaN) rows with the highest scores."""
    if not 0.0 <= fraction <= 1.0:
        raise DataFormatError(f"denoise fraction must be in [0, 1], got {fraction}")
    scored = np.flatnonzero(~np.isnan(scores))
    n_worst = int(round(fraction * len(scored)))
    mask = np.zeros(len(scores), dtype=bool)
    if n_worst:
        order = np.argsort(-scores[scored], kind="stable")
        mask[scored[order[:n_worst]]] = True
    return mask
