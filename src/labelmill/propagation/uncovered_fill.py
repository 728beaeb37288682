"""What the rows no source labeled get: spreading, the class prior, or a classifier.

Spreading fills uncovered rows from their graph neighbours. That is not always the
best guess: where no neighbourhood carries the uncovered rows' classes it can do worse
than the class prior, and a classifier trained on the covered rows' labels can
generalise further than k neighbours reach. `choose_uncovered_fill` compares the three
on the valid split's uncovered rows. Those are few, so spreading is kept unless another
fill beats it by more than ``z`` binomial standard errors.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataFormatError

FILLS = ("spreading", "prior", "classifier")
#: margin, in binomial standard errors, by which a fill must beat spreading on valid
FILL_Z = 1.0
#: values of the classifier's C tried on valid
FILL_C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)


def covered_row_classifier(X, proba, covered, X_valid=None, y_valid=None, c_grid=FILL_C_GRID, random_state=0,
                           progress=None, n_jobs=None):
    """Soft-label logistic regression trained on the covered rows' label-model probabilities.

    The end-model stage's own training (`end_models.training.train_end_model`) with only
    ``C`` tuned: no ELR, no calibration.

    Parameters
    ----------
    X : (N, d) features of the fitted rows
    proba : (N, k) label-model probabilities (only covered rows are used)
    covered : (N,) bool
    X_valid, y_valid : optional valid features and gold (-1 = unknown) to choose ``C`` among
        ``c_grid`` by accuracy (from ``HALVING_MIN_ROWS`` covered rows by successive halving,
        as `train_end_model` does); without gold ``C`` = 1
    progress, n_jobs : as in `train_end_model`

    Returns
    -------
    (fitted SoftLogisticRegression, chosen C)
    """
    from ..end_models.training import train_end_model

    covered = np.asarray(covered, dtype=bool)
    if not covered.any():
        raise DataFormatError("no covered rows to train the uncovered-row classifier on")
    result = train_end_model(X, proba, covered, X_valid, y_valid, name="logreg", calibrate=False,
                             random_state=random_state, train_rows="all", c_grid=c_grid, elr_grid=(0.0,),
                             progress=progress, progress_desc="fitting the uncovered-row classifier",
                             n_jobs=n_jobs)
    return result.base, result.base.C


def choose_uncovered_fill(candidates: dict, y, default: str = "spreading", z: float = FILL_Z):
    """Pick the fill for uncovered rows by accuracy on rows with gold.

    Parameters
    ----------
    candidates : {name: (n, k) probabilities} on the scored uncovered rows
    y : (n,) their gold labels
    default : the candidate kept unless another beats its accuracy ``p`` by more than
        ``z * sqrt(max(p (1 - p), 1 / n) / n)``; ties among the rest go to the earlier one
    z : margin in standard errors

    Returns
    -------
    (chosen name, {name: accuracy}); with no scored rows, (default, {})
    """
    if default not in candidates:
        raise ValueError(f"default fill {default!r} is not among the candidates {list(candidates)}")
    y = np.asarray(y)
    n = len(y)
    if n == 0:
        return default, {}
    scores = {name: float((np.asarray(P).argmax(axis=1) == y).mean()) for name, P in candidates.items()}
    p = scores[default]
    margin = z * np.sqrt(max(p * (1 - p), 1.0 / n) / n)
    best = max(candidates, key=lambda name: (scores[name], name == default, -list(candidates).index(name)))
    return (best if scores[best] > p + margin + 1e-12 else default), scores
