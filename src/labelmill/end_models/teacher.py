"""Choose the teacher: which label model's labels the end model learns from.

The label model that is most accurate on valid is not always the best teacher. On
imbalanced data a model that calls every row the majority class can win on valid
accuracy, yet it teaches a classifier nothing; a slightly less accurate model whose
labels carry both classes teaches a classifier that beats them all. So each candidate's
labels train a quick end model, and the candidates are compared by that end model's
valid accuracy. The default teacher (the label model's own choice) is kept unless
another beats it by more than ``tolerance_se`` binomial standard errors (2 by default):
valid sets are small, and the best of a dozen or more noisy valid scores is optimistic
by about that much.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .._parallel import ordered_map
from .training import fit_workers, train_end_model

#: from this many training rows the teacher choice shows a progress bar by default
PROGRESS_MIN_ROWS = 20_000

#: the quick end model that scores each candidate teacher
PROXY_C_GRID = (1.0, 10.0)
#: the proxies train on at most this many rows and feature columns (see `choose_teacher`)
PROXY_MAX_ROWS = 20_000
PROXY_MAX_FEATURES = 2 ** 16


@dataclass
class TeacherChoice:
    """name: the chosen candidate; scores: one dict per candidate (name, valid_accuracy of
    its proxy end model, or ``same_labels_as`` for a candidate whose hard labels equal an
    earlier one's); switched: whether it differs from the default."""

    name: str
    scores: list = field(default_factory=list)
    switched: bool = False


def choose_teacher(candidates: dict, X, X_valid, y_valid, label_covered=None, default: str | None = None,
                   tolerance_se: float = 2.0, name: str = "logreg", random_state: int = 0,
                   progress: bool | None = None, n_jobs: int | None = None,
                   max_rows: int | None = PROXY_MAX_ROWS,
                   max_features: int | None = PROXY_MAX_FEATURES) -> TeacherChoice:
    """Pick the candidate whose soft labels train the best end model on valid.

    Parameters
    ----------
    candidates : ``{name: (N, k) soft labels of the training rows}``, in order of
        preference; a value may also be a function of no arguments returning them, so that
        only one candidate's labels are held in memory at a time
    X : (N, d) training features; X_valid, y_valid : valid features and gold (-1 = unknown)
    label_covered : (N,) bool, rows some source labeled (see `train_end_model`)
    default : the candidate to keep unless another is clearly better (default: the first)
    tolerance_se : how many binomial standard errors of the default's valid accuracy
        another candidate must beat it by
    name : end model kind of the proxy ("logreg"; C in ``PROXY_C_GRID``, no ELR)
    progress : a progress bar over the candidates (None = from ``PROGRESS_MIN_ROWS`` training rows),
        or a function ``progress(desc, done, total)`` (see `ordered_map`)
    n_jobs : processes scoring candidates side by side (None = every core, but one
        process for small data, see `training.fit_workers`); the choice does not depend on it
    max_rows : the proxies train on at most this many rows, the same random ones (drawn
        with ``random_state``) for every candidate; None = all rows
    max_features : and on at most this many feature columns, those with the most non-zeros
        in those rows; None = all. A proxy only ranks the candidates; at large N and d most
        of a fit is spent on the rows and on the (d x classes) parameters, so both caps
        cut the time of the choice (on trec resampled to 50,330 rows: the same teacher,
        4.1x faster with the fits side by side; ``benchmarks/bench_end_models.py --part large``)

    Returns
    -------
    TeacherChoice
    """
    if not candidates:
        raise ValueError("choose_teacher needs at least one candidate")
    default = default if default is not None else next(iter(candidates))
    if default not in candidates:
        raise ValueError(f"default teacher {default!r} is not among the candidates {list(candidates)}")
    y_valid = np.asarray(y_valid)
    n_valid = int((y_valid >= 0).sum())
    if n_valid == 0 or len(candidates) == 1:
        return TeacherChoice(name=default)
    order = [default] + [c for c in candidates if c != default]
    n = X.shape[0]
    show = progress if progress is not None else n >= PROGRESS_MIN_ROWS
    same_as: dict[str, str] = {}

    rows = None
    if max_rows is not None and n > max_rows:
        rows = np.sort(np.random.default_rng(random_state).choice(n, max_rows, replace=False))
        X = X[rows]
        label_covered = None if label_covered is None else np.asarray(label_covered)[rows]
    if max_features is not None and X.shape[1] > max_features:
        nonzero = X.getnnz(axis=0) if sp.issparse(X) else np.count_nonzero(X, axis=0)
        cols = np.sort(np.argsort(-nonzero, kind="stable")[:max_features])
        X, X_valid = X[:, cols], X_valid[:, cols]

    def labels_of(cand):
        soft = candidates[cand]
        soft = np.asarray(soft() if callable(soft) else soft)
        return soft if rows is None else soft[rows]

    # first pass: which candidates' hard labels repeat an earlier one's (only hashes are
    # kept, so that one candidate's (N, k) labels are held at a time per process)
    seen: dict[bytes, str] = {}
    for cand in order:
        soft = labels_of(cand)
        n_classes = soft.shape[1]
        key = hashlib.sha256(soft.argmax(axis=1).astype(np.int32).tobytes()).digest()
        if key in seen:
            same_as[cand] = seen[key]
        else:
            seen[key] = cand
    unique = [c for c in order if c not in same_as]
    del soft
    workers = fit_workers(n_jobs, X, n_classes, len(unique))
    acc = dict(ordered_map(_proxy_accuracy, ((c, X, labels_of(c), X_valid, y_valid, label_covered, name, random_state)
                                             for c in unique),
                           n_jobs=workers, progress=show, desc=f"choosing the teacher ({len(unique)} candidates)",
                           total=len(unique)))
    scores = [{"name": c, "same_labels_as": same_as[c]} if c in same_as else {"name": c, "valid_accuracy": acc[c]}
              for c in order]
    best = max(acc, key=lambda c: (acc[c], c == default))
    p = acc[default]
    margin = tolerance_se * np.sqrt(max(p * (1 - p), 1.0 / n_valid) / n_valid)
    chosen = best if acc[best] > p + margin else default
    return TeacherChoice(name=chosen, scores=scores, switched=chosen != default)


def _proxy_accuracy(cand, X, soft, X_valid, y_valid, label_covered, name, random_state):
    """(cand, best valid accuracy of the quick end model trained on ``soft``)."""
    r = train_end_model(X, soft, np.ones(X.shape[0], dtype=bool), X_valid, y_valid, name=name, calibrate=False,
                        params={"elr": 0.0}, random_state=random_state, label_covered=label_covered,
                        c_grid=PROXY_C_GRID, n_jobs=1, progress=False)
    return cand, max(h["valid_accuracy"] for h in r.history)
