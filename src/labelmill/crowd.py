"""Crowd aggregation: one label per item from a long table of annotators' answers.

This is the job of crowd-kit's ``DawidSkene().fit_predict(answers)``: the answers come
one row per (item, annotator, answer); each annotator becomes a source of a
`LabelMatrix` (`LabelMatrix.from_long`), a label model is fitted on every item
(there is no train/test split in truth inference), and the result is given back by item
id and by annotator id.

The default model is Dawid–Skene with full confusion matrices: on the five crowd tables in
``../shared/data`` (crowd_product, crowd_dog, crowd_rte, crowd_duck, crowd_wsd; every item
scored against its truth) it was the most accurate of labelmill's models on every one
(0.939, 0.841, 0.927, 0.898, 0.994), where ``auto`` without gold picked a weaker model on
two (0.909 on crowd_product, 0.759 on crowd_duck).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from .errors import DataFormatError
from .matrix import LabelMatrix, _plain, sorted_unique

if TYPE_CHECKING:
    from .label_models.base import LabelModel

#: the label model `aggregate` fits when none is named (see the module docstring)
DEFAULT_CROWD_MODEL = "dawid_skene"


@dataclass
class Aggregation:
    """What `aggregate` returns.

    labels : DataFrame indexed by item id (sorted), columns ``prob_0`` ... ``prob_{k-1}``,
        ``label`` (the class id; ties broken with the model's seed), ``label_name`` (only
        when class names were given) and ``n_answers``
    annotators : DataFrame indexed by annotator id (as strings, natural order), columns
        ``n_answers``, ``accuracy`` (the model's estimate: for Dawid–Skene the probability
        that an answer is right under the fitted confusion matrix; NaN where the model has
        none) and ``agreement`` (the share of the annotator's answers equal to the
        aggregated label)
    model : the fitted label model (Dawid–Skene's ``confusion_[j]`` is annotator j's
        (k, k) confusion matrix, rows the true class)
    L : the (items x annotators) LabelMatrix the model was fitted on
    class_names : the class names, or None
    metrics : scores against ``truth`` when it was given (accuracy, macro_f1, f1 when
        k = 2, coverage, log_loss, ece, n), else None
    """

    labels: pd.DataFrame
    annotators: pd.DataFrame
    model: "LabelModel"
    L: LabelMatrix
    class_names: list | None = None
    metrics: dict | None = field(default=None)


def aggregate(answers, item: str = "item", annotator: str = "annotator", label: str = "label",
              label_model: "str | LabelModel" = DEFAULT_CROWD_MODEL, class_names: Sequence | None = None,
              n_classes: int | None = None, truth=None, random_state: int = 0, **params) -> Aggregation:
    """Aggregate crowd answers into one (probabilistic) label per item.

    Parameters
    ----------
    answers : pandas/polars DataFrame, pyarrow Table or dict of columns, one row per answer
    item, annotator, label : the columns holding the item id, the annotator id and the answer
    label_model : a registry name (``labelmill.label_models.LABEL_MODELS``) or an unfitted
        `LabelModel`; default Dawid–Skene
    class_names : the answers in class-id order when they are names (``["no", "yes"]``) or
        numbered from 1; without it answers must be class ids 0..k-1
    n_classes : k, when some class has no answer
    truth : optional gold labels by item: a pandas Series indexed by item id, or a mapping;
        values are class ids (or names, with ``class_names``). Items not answered are
        ignored; answered items without truth are not scored.
    random_state : seeds the model and the tie-breaks
    **params : further parameters of the named label model (e.g. ``smoothing=0.5``)

    Returns an `Aggregation`. Raises `InvalidVotesError` for a bad answer (naming its row),
    `DataFormatError` for a missing column or a bad truth value.
    """
    from .evaluation import classification_metrics
    from .label_models import make_label_model
    from .label_models.base import break_ties

    table = _as_frame(answers)
    missing = [c for c in (item, annotator, label) if c not in table.columns]
    if missing:
        raise DataFormatError(f"the answers have no column {', '.join(map(repr, missing))}; columns are "
                              f"{list(table.columns)} (name them with item=, annotator=, label=; on the command line --item, --annotator, --label)")
    items = sorted_unique(table[item].to_numpy())
    L = LabelMatrix.from_long(table, item=item, source=annotator, label=label, n_classes=n_classes,
                              items=items, class_names=class_names)
    if isinstance(label_model, str):
        model = make_label_model(label_model, random_state=random_state, **params)
    else:
        if params:
            raise TypeError("pass parameters to the label model you built, not to aggregate()")
        model = label_model
    model.fit(L)
    proba = model.predict_proba(L)
    k = L.n_classes
    labels = pd.DataFrame({f"prob_{c}": proba[:, c] for c in range(k)}, index=pd.Index(items, name=item))
    labels["label"] = break_ties(proba, random_state)
    names = list(class_names) if class_names is not None else None
    if names is not None:
        labels["label_name"] = np.asarray(names, dtype=object)[labels["label"].to_numpy()]
    labels["n_answers"] = np.diff(L.indptr)
    annotators = _annotator_table(L, model, labels["label"].to_numpy())
    metrics = None
    if truth is not None:
        gold = _truth_ids(truth, labels.index, names, k)
        scored = gold >= 0
        if not scored.any():
            raise DataFormatError("truth names none of the answered items")
        metrics = classification_metrics(gold[scored], labels["label"].to_numpy()[scored], proba[scored], k,
                                         coverage=1.0)
    return Aggregation(labels=labels, annotators=annotators, model=model, L=L, class_names=names,
                       metrics=metrics)


def _as_frame(answers) -> pd.DataFrame:
    if isinstance(answers, pd.DataFrame):
        return answers
    from .lfs._data import to_arrow

    return to_arrow(answers).to_pandas()


def _annotator_table(L: LabelMatrix, model: "LabelModel", pred: np.ndarray) -> pd.DataFrame:
    """(M,) rows: n_answers, the model's accuracy estimate and the observed agreement."""
    n = np.bincount(L.sources, minlength=L.n_sources)
    hits = np.bincount(L.sources, weights=(L.labels == pred[L.rows]).astype(float), minlength=L.n_sources)
    acc = getattr(model, "accuracy_", None)
    acc = np.full(L.n_sources, np.nan) if acc is None else np.asarray(acc, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(n > 0, hits / np.maximum(n, 1), np.nan)
    return pd.DataFrame({"n_answers": n, "accuracy": acc, "agreement": agreement},
                        index=pd.Index(list(L.source_names), name="annotator"))


def _truth_ids(truth, items: pd.Index, names: list | None, k: int) -> np.ndarray:
    """(N,) gold class ids in the order of ``items``; -1 where truth says nothing.
    Raises DataFormatError naming the item of a bad value."""
    series = truth if isinstance(truth, pd.Series) else pd.Series(dict(truth), dtype=object)
    if not series.index.is_unique:
        dup = series.index[series.index.duplicated()][0]
        raise DataFormatError(f"truth lists item {_plain(dup)!r} more than once")
    series = series[series.notna()].reindex(items).dropna()
    values = series.to_numpy()
    if names is not None:
        ids = pd.Index(names).get_indexer(values)
    else:
        ids = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)
        ids = np.where((ids == np.round(ids)) & (ids >= 0) & (ids < k), ids, -1).astype(np.int64)
    if (ids < 0).any():
        i = int(np.flatnonzero(ids < 0)[0])
        expected = f"one of the class names {names}" if names is not None else f"a class id in [0, {k - 1}]"
        hint = "" if names is not None or not isinstance(values[i], str) else " (pass class_names for names)"
        raise DataFormatError(f"truth for item {_plain(series.index[i])!r} is {_plain(values[i])!r}, not "
                              f"{expected}{hint}")
    out = np.full(len(items), -1, dtype=np.int64)
    out[items.get_indexer(series.index)] = ids
    return out
