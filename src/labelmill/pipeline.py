"""Wires the stages together: dataset -> label model -> metrics and label files.

Only wiring lives here; each stage does its own job in its own package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import write_json_atomic, write_parquet_atomic
from .datasets.wrench import Dataset, Split
from .evaluation import classification_metrics
from .label_models import LABEL_MODELS, AutoLabelModel, LabelModel, break_ties, make_label_model
from .matrix import LabelMatrix

EVAL_SPLITS = ("valid", "test")


@dataclass
class RunResult:
    """What one `labelmill run` produced.

    Attributes
    ----------
    dataset : Dataset
    model : LabelModel, fitted
    fit_split : str, "train" or "valid+test" (transductive when there is no train split)
    metrics : dict, the content of metrics.json
    labels : pandas.DataFrame, one row per fitted example: id, split, prob_0..prob_{k-1}, label
    """

    dataset: Dataset
    model: LabelModel
    fit_split: str
    metrics: dict
    labels: pd.DataFrame
    extra: dict = field(default_factory=dict)


def _fit_rows(ds: Dataset) -> tuple[str, list[Split]]:
    if ds.train is not None:
        return "train", [ds.train]
    parts = [s for s in (ds.valid, ds.test) if s is not None]
    return "+".join(s.name for s in parts), parts


def fit_label_model(ds: Dataset, label_model: str | LabelModel = "auto", random_state: int = 0):
    """Fit a label model on a dataset's training votes.

    Without a train split the model is fitted transductively on the valid and test
    votes. ``auto`` selects with the valid gold when there is any.

    Returns
    -------
    (model, fit_split_name, fit_splits)
    """
    model = make_label_model(label_model, random_state=random_state) if isinstance(label_model, str) else label_model
    fit_name, parts = _fit_rows(ds)
    L_fit = LabelMatrix.vstack([s.L for s in parts]) if len(parts) > 1 else parts[0].L
    if isinstance(model, AutoLabelModel) and ds.valid is not None and ds.valid.has_gold:
        model.fit(L_fit, L_valid=ds.valid.L, y_valid=ds.valid.gold)
    else:
        model.fit(L_fit)
    return model, fit_name, parts


def evaluate_splits(ds: Dataset, model: LabelModel) -> dict:
    """Metrics (see `classification_metrics`) on each of valid/test that has gold."""
    out = {}
    for name in EVAL_SPLITS:
        split = ds.splits.get(name)
        if split is None or not split.has_gold:
            continue
        proba = model.predict_proba(split.L)
        pred = break_ties(proba, model.random_state)
        out[name] = classification_metrics(split.gold, pred, proba, ds.n_classes, coverage=split.L.coverage())
    return out


def labels_table(parts: list[Split], model: LabelModel, n_classes: int) -> pd.DataFrame:
    """One row per example of `parts`: id, split, prob_0..prob_{k-1}, label (argmax)."""
    frames = []
    for split in parts:
        proba = model.predict_proba(split.L)
        df = pd.DataFrame({"id": split.ids.astype(str), "split": split.name})
        for c in range(n_classes):
            df[f"prob_{c}"] = proba[:, c]
        df["label"] = break_ties(proba, model.random_state).astype(np.int64)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def model_name(model: LabelModel) -> str:
    return getattr(model, "name", type(model).__name__)


def run(ds: Dataset, label_model: str | LabelModel = "auto", out_dir: str | Path | None = None,
        random_state: int = 0) -> RunResult:
    """Fit, score and (optionally) write ``metrics.json`` and ``labels.parquet`` to out_dir.

    Both files are written atomically, metrics last, so a run that stops early never
    leaves a half file.
    """
    model, fit_name, parts = fit_label_model(ds, label_model, random_state)
    metrics = {
        "dataset": ds.name,
        "label_model": model_name(model),
        "n_classes": ds.n_classes,
        "splits": evaluate_splits(ds, model),
        "label_model_info": {
            "fit_on": fit_name,
            "class_names": ds.class_names,
            "source_names": list(ds.source_names),
            "class_balance": [float(x) for x in model.class_balance_],
            "source_accuracy": None if getattr(model, "accuracy_", None) is None
            else [float(x) for x in model.accuracy_],
        },
    }
    if isinstance(model, AutoLabelModel):
        metrics["label_model_info"]["selected"] = model.best_name_
        metrics["label_model_info"]["selection"] = model.selection_
    labels = labels_table(parts, model, ds.n_classes)
    if out_dir is not None:
        out = Path(out_dir)
        write_parquet_atomic(out / "labels.parquet", labels)
        write_json_atomic(out / "metrics.json", metrics)
    return RunResult(dataset=ds, model=model, fit_split=fit_name, metrics=metrics, labels=labels)


def compare(ds: Dataset, names=None, random_state: int = 0) -> dict:
    """Every label model side by side: ``{name: {"valid": M, "test": M}}``."""
    names = list(names or LABEL_MODELS)
    results = {}
    for name in names:
        model, _, _ = fit_label_model(ds, name, random_state)
        results[name] = evaluate_splits(ds, model)
        if isinstance(model, AutoLabelModel):
            results[name]["selected"] = model.best_name_
    return results
