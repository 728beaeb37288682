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

from .training import train_end_model

#: the quick end model that scores each candidate teacher
PROXY_C_GRID = (1.0, 10.0)


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
                   progress: bool | None = None) -> TeacherChoice:
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
    progress : a progress bar over the candidates (None = from 100,000 training rows)

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
    seen: dict[bytes, str] = {}
    scores, acc = [], {}
    n = X.shape[0]
    show = progress if progress is not None else n >= 100_000
    if show:
        from tqdm.auto import tqdm
        order = tqdm(order, desc="choosing the teacher", leave=False)
    for cand in order:
        soft = candidates[cand]
        soft = np.asarray(soft() if callable(soft) else soft)
        key = hashlib.sha256(soft.argmax(axis=1).astype(np.int32).tobytes()).digest()  # same hard labels
        if key in seen:
            scores.append({"name": cand, "same_labels_as": seen[key]})
            continue
        seen[key] = cand
        r = train_end_model(X, soft, np.ones(n, dtype=bool), X_valid, y_valid, name=name, calibrate=False,
                            params={"elr": 0.0}, random_state=random_state, label_covered=label_covered,
                            c_grid=PROXY_C_GRID)
        acc[cand] = max(h["valid_accuracy"] for h in r.history)
        scores.append({"name": cand, "valid_accuracy": acc[cand]})
    best = max(acc, key=lambda c: (acc[c], c == default))
    p = acc[default]
    margin = tolerance_se * np.sqrt(max(p * (1 - p), 1.0 / n_valid) / n_valid)
    chosen = best if acc[best] > p + margin else default
    return TeacherChoice(name=chosen, scores=scores, switched=chosen != default)
