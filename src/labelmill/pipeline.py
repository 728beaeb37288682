"""Wires the stages together: dataset -> label model -> metrics and label files.

Only wiring lives here; each stage does its own job in its own package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import output_batch, write_json_atomic, write_parquet_atomic
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


def _gold_valid(ds: Dataset) -> Split | None:
    """The valid split when it has gold labels (what choices on valid need), else None."""
    return ds.valid if ds.valid is not None and ds.valid.has_gold else None


def _stack_votes(splits: list[Split]) -> LabelMatrix:
    """The splits' votes one after the other (the split itself when there is one)."""
    return LabelMatrix.vstack([s.L for s in splits]) if len(splits) > 1 else splits[0].L


def _stack_features(features: dict, splits: list[Split]):
    """The splits' feature rows one after the other: CSR if sparse, else an ndarray."""
    import scipy.sparse as sp

    mats = [features[s.name] for s in splits]
    return sp.vstack(mats).tocsr() if sp.issparse(mats[0]) else np.vstack(mats)


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
    L_fit = _stack_votes(parts)
    if L_fit.nnz == 0:
        from .errors import DataFormatError

        raise DataFormatError(f"no source voted on any row of {fit_name} ({L_fit.n_rows} rows): the label model "
                              f"has nothing to learn from; check the LFs or the weak_labels")
    if isinstance(model, AutoLabelModel) and _gold_valid(ds) is not None:
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


def _label_summary(gold, pred, proba, n_classes, coverage) -> dict:
    """accuracy, macro_f1, coverage, n on the rows with gold (NaN metrics when none)."""
    m = classification_metrics(gold, pred, proba, n_classes, coverage=coverage)
    return {key: m[key] for key in ("accuracy", "macro_f1", "coverage", "n")}


def train_label_metrics(gold, before, after, covered, n_classes, teacher=None, random_state=0) -> dict:
    """The ``train_labels`` section of metrics.json.

    ``before``: label-model probabilities with uncovered rows at the class prior;
    ``after``: propagated probabilities; ``teacher``: optional, the probabilities of the
    label model propagation started from, when that is not the label model (see
    `choose_label_teacher`), scored as ``teacher_labels``. Each holds accuracy, macro_f1, coverage, n over all rows with
    gold, and the same over the originally ``covered`` and ``uncovered`` rows. Labels are
    the argmax with ties broken as labels.parquet breaks them (`break_ties` over all rows
    with ``random_state``), so the figures are those of the labels written.
    """
    gold = np.asarray(gold)
    out = {}
    parts = [("before", before, float(covered.mean())), ("teacher_labels", teacher, float(covered.mean())),
             ("after", after, 1.0)]
    for name, proba, cov in parts:
        if proba is None:
            continue
        pred = break_ties(proba, random_state)
        section = _label_summary(gold, pred, proba, n_classes, cov)
        for part, mask in (("covered", covered), ("uncovered", ~covered)):
            section[part] = _label_summary(gold[mask], pred[mask], proba[mask], n_classes,
                                           1.0 if part == "covered" else (1.0 if name == "after" else 0.0))
        out[name] = section
    return out


@dataclass
class PropagationResult:
    """Propagated labels of the fitted rows, and what produced them.

    proba : (N_fit, k) propagated probabilities, one row per fitted example
    label_model_proba : (N_fit, k) before propagation (uncovered rows at the class prior)
    covered : (N_fit,) bool
    denoise_scores : (N_fit,) neighbourhood disagreement (NaN on uncovered rows and on rows
        with no graph neighbour)
    weights : (N_fit,) suggested training weights
    propagator : the fitted LabelPropagator (its graph spans the fitted rows, then valid)
    featurizer : the fitted featurizer
    features : {split name: feature matrix} for every split of the dataset
    selection : per-setting valid accuracy when settings were chosen on valid gold
    uncovered_fill : how the rows no source labeled were filled: ``{"requested", "chosen",
        "valid_accuracy": {fill: accuracy on valid's uncovered rows}, "n_valid_uncovered",
        "classifier_C"}`` (see `propagation.choose_uncovered_fill`)
    """

    proba: np.ndarray
    label_model_proba: np.ndarray
    covered: np.ndarray
    denoise_scores: np.ndarray
    weights: np.ndarray
    propagator: object
    featurizer: object
    features: dict
    selection: list
    uncovered_fill: dict = field(default_factory=dict)


def featurize_dataset(ds: Dataset, featurizer="tfidf", fit_splits=None, cache=None):
    """Fit a featurizer on the fitted rows' examples and transform every split.

    Returns (fitted featurizer, {split name: (N_split, d) matrix})."""
    from .features import featurize, make_featurizer

    feat = make_featurizer(featurizer) if isinstance(featurizer, str) else featurizer
    fit_splits = fit_splits or _fit_rows(ds)[1]
    fit_table = pd.concat([s.examples for s in fit_splits], ignore_index=True)
    return featurize(feat, fit_table, {name: s.examples for name, s in ds.splits.items()}, cache=cache,
                     fit_name="+".join(s.name for s in fit_splits))


def propagate(ds: Dataset, model: LabelModel, featurizer="tfidf", random_state: int = 0, cache=None,
              features=None, tune: bool = True, uncovered_fill: str = "auto", progress=None,
              n_jobs: int | None = None, **params) -> PropagationResult:
    """Spread the label model's probabilities over a kNN graph of the fitted rows.

    The graph spans the fitted rows and, when it has gold, the valid split; spreading
    settings (``propagation.DEFAULT_GRID``) are then chosen by accuracy on the valid rows.
    ``params`` are fixed LabelPropagator parameters (n_neighbors, metric, denoise, ...).

    ``uncovered_fill`` says what the rows no source labeled get: "spreading" (the
    spread probabilities), "prior" (the label model's class prior, as before
    propagation), "classifier" (a soft-label logistic regression trained on the covered
    rows, `covered_row_classifier`) or "auto": spreading unless another fill is more
    accurate on the valid split's uncovered rows by more than ``FILL_Z`` standard errors
    (`choose_uncovered_fill`; spreading without valid gold).

    ``progress``, ``n_jobs``: for the classifier's fits (see `train_end_model`); ``n_jobs``
    also sets the propagator's threads for an approximate graph unless ``params`` does.
    """
    from .propagation import LabelPropagator, select_propagator
    from .propagation.uncovered_fill import FILLS

    if uncovered_fill not in ("auto",) + FILLS:
        raise ValueError(f"uncovered_fill must be 'auto' or one of {FILLS}, got {uncovered_fill!r}")

    fit_name, parts = _fit_rows(ds)
    if features is None:
        fitted_featurizer, features = featurize_dataset(ds, featurizer, parts, cache=cache)
    else:
        fitted_featurizer = featurizer
    graph_splits = list(parts)
    use_valid = tune and _gold_valid(ds) is not None and ds.valid not in parts
    if use_valid:
        graph_splits.append(ds.valid)
    X = _stack_features(features, graph_splits)
    L = _stack_votes(graph_splits)
    proba = model.predict_proba(L)
    covered = np.diff(L.indptr) > 0
    prior = np.asarray(model.class_balance_, dtype=float)
    params.setdefault("random_state", random_state)
    if n_jobs is not None:
        params.setdefault("n_jobs", n_jobs)
    n_fit = sum(len(s) for s in parts)
    if use_valid:
        gold = np.concatenate([np.full(n_fit, -1), ds.valid.gold])
        scored = np.arange(len(gold)) >= n_fit
        prop, selection = select_propagator(X, proba, covered, L, gold, scored, class_prior=prior, **params)
    else:
        prop, selection = LabelPropagator(**params).fit(X, proba, covered, L=L, class_prior=prior), []
    filled, fill_info = _fill_uncovered(ds, parts, features, X, prop, proba, covered, uncovered_fill,
                                        (scored & (gold >= 0)) if use_valid else None,
                                        gold if use_valid else None, random_state, progress, n_jobs)
    return PropagationResult(proba=filled[:n_fit], label_model_proba=prop.label_model_proba_[:n_fit],
                             covered=covered[:n_fit], denoise_scores=prop.denoise_scores_[:n_fit],
                             weights=prop.weights_[:n_fit], propagator=prop, featurizer=fitted_featurizer,
                             features=features, selection=selection, uncovered_fill=fill_info)


def _fill_uncovered(ds, parts, features, X, prop, proba, covered, how, scored, gold, random_state, progress=None,
                    n_jobs=None):
    """Probabilities of every graph row with the uncovered ones filled as ``how`` says
    (see `propagate`); ``scored`` marks the rows whose ``gold`` may choose (None: no
    valid gold). Returns ((N, k) probabilities, the ``uncovered_fill`` info dict)."""
    from .propagation.uncovered_fill import choose_uncovered_fill, covered_row_classifier

    info = {"requested": how, "chosen": "spreading"}
    n_fit = sum(len(s) for s in parts)
    uncovered = ~covered
    if how == "spreading" or not uncovered[:n_fit].any() or (how == "auto" and scored is None):
        return prop.proba_, info
    fills = {"spreading": prop.proba_, "prior": prop.label_model_proba_}
    if how == "classifier" or (how == "auto" and covered[:n_fit].any()):
        valid = scored is not None
        clf, info["classifier_C"] = covered_row_classifier(
            _stack_features(features, parts), proba[:n_fit], covered[:n_fit], features["valid"] if valid else None,
            ds.valid.gold if valid else None, random_state=random_state, progress=progress, n_jobs=n_jobs)
        fills["classifier"] = clf.predict_proba(X)
    if how == "auto":
        rows = scored & uncovered
        info["chosen"], info["valid_accuracy"] = choose_uncovered_fill({n: P[rows] for n, P in fills.items()},
                                                                       gold[rows])
        info["n_valid_uncovered"] = int(rows.sum())
    else:
        info["chosen"] = how
    if info["chosen"] == "spreading":
        return prop.proba_, info
    return np.where(uncovered[:, None], fills[info["chosen"]], prop.proba_), info


def model_name(model: LabelModel) -> str:
    return getattr(model, "name", type(model).__name__)


def run(ds: Dataset, label_model: str | LabelModel = "auto", out_dir: str | Path | None = None,
        random_state: int = 0, propagate_labels: bool = False, featurizer="tfidf", propagation_params=None,
        cache=None, end_model: str | None = None, end_model_params: dict | None = None, mixup: bool = False,
        self_train: bool = False, train_rows: str = "auto", teacher: str = "auto",
        n_jobs: int | None = None, progress=None) -> RunResult:
    """Fit, score and (optionally) write ``metrics.json`` and ``labels.parquet`` to out_dir.

    With ``propagate_labels`` the label model's probabilities are spread over a kNN graph
    of ``featurizer`` features (see `propagate`); labels.parquet then holds the propagated
    labels plus ``covered``, ``denoise_score`` (the neighbourhood's disagreement with the
    row's label before propagation), ``corrected`` (True where ``denoise="correct"``
    replaced that label) and ``weight``, and metrics.json gains a ``train_labels`` section
    (see `train_label_metrics`; ``teacher_labels`` in it scores the labels propagation
    started from when the teacher is not the label model).

    With ``end_model`` ("logreg" or "mlp") a classifier is trained on the (propagated)
    probabilistic labels of the fitted rows and scored on valid and test (see
    `train_end_model`; without propagation, ``train_rows`` says whether rows no source
    labeled are trained on at P(class | all sources abstain): "auto" decides on valid);
    metrics.json gains an ``end_model`` section and, with out_dir, the model and its
    featurizer are saved to ``OUT/model`` for ``labelmill predict``. A run without an end
    model deletes an ``OUT/model`` an earlier run saved there (``extra["removed_stale_model"]``),
    so the folder never pairs this run's metrics with another run's model.

    The training labels (propagated, or taught to the end model) come from the *teacher*.
    With ``teacher="auto"``, the ``auto`` label model and valid gold, that is the candidate
    label model whose labels train the best end model on valid (`choose_label_teacher`),
    which is not always the most accurate one; ``teacher="label_model"`` uses the label
    model itself. The label model's own scores (``splits``, ``train_labels.before``) are
    unchanged by the choice.

    ``n_jobs``: processes for the end-model fits that are independent of each other (the
    teacher candidates, the settings tried on valid); None = every core. Results do not
    depend on it.

    ``progress``: None (long stages show their own tqdm bars), or a function
    ``progress(desc, done, total)`` told as each stage starts (done and total None when the
    stage has no count) and, for the end-model fits, after each fit.

    Files are written atomically, metrics last, so a run that stops early never
    leaves a half file.
    """
    if teacher not in ("auto", "label_model"):
        raise ValueError(f"teacher must be 'auto' or 'label_model', got {teacher!r}")
    stage = progress if progress is not None else (lambda desc, done, total: None)
    stage(f"fitting the label model on {ds.name}", None, None)
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
    basis = getattr(getattr(model, "best_model_", model), "accuracy_basis_", None)
    if basis is not None:  # which of those accuracies are stand-ins or clipped
        metrics["label_model_info"]["source_accuracy_basis"] = [str(b) for b in basis]
    if isinstance(model, AutoLabelModel):
        metrics["label_model_info"]["selected"] = model.best_name_
        metrics["label_model_info"]["selection"] = model.selection_
        if getattr(model, "valid_ignored_", False):
            metrics["label_model_info"]["valid_ignored"] = "the valid gold holds a single class"
    labels = labels_table(parts, model, ds.n_classes)
    extra = {}
    fitted_featurizer = features = None
    teacher_model, teacher_info = model, {"name": _own_name(model), "switched": False}
    if propagate_labels or end_model:
        stage(f"computing {featurizer if isinstance(featurizer, str) else 'the'} features", None, None)
        fitted_featurizer, features = featurize_dataset(ds, featurizer, parts, cache=cache)
        if teacher == "auto":
            teacher_model, teacher_info = choose_label_teacher(ds, model, parts, features, random_state, n_jobs,
                                                               progress)
        extra["teacher"] = teacher_model
    if propagate_labels:
        stage("propagating the labels over a kNN graph", None, None)
        prop = propagate(ds, teacher_model, fitted_featurizer, random_state=random_state, features=features,
                         progress=progress, n_jobs=n_jobs, **(propagation_params or {}))
        extra["propagation"] = prop
        gold = np.concatenate([s.gold for s in parts])
        before = model.predict_proba(_stack_votes(parts))
        # the teacher's labels are propagation's starting point: scored apart, so that a
        # better teacher is not read as propagation's work
        taught = prop.label_model_proba if teacher_info["switched"] else None
        metrics["train_labels"] = train_label_metrics(gold, before, prop.proba, prop.covered, ds.n_classes,
                                                      teacher=taught, random_state=random_state)
        metrics["train_labels"]["featurizer"] = prop.featurizer.spec()
        metrics["train_labels"]["teacher"] = teacher_info
        p = prop.propagator
        metrics["train_labels"]["propagator"] = {
            "n_neighbors": p.n_neighbors, "metric": p.metric, "graph": p.graph_method_, "alpha": p.alpha,
            "uncovered_anchor": p.uncovered_anchor, "uncovered_seed": p.uncovered_seed,
            "uncovered_prior": [float(x) for x in p.uncovered_prior_], "denoise": p.denoise,
            **({"denoise_fraction": p.denoise_fraction, "n_corrected": int(p.corrected_[:len(prop.covered)].sum())}
               if p.denoise == "correct" else {}),
            "n_iter": int(p.n_iter_), "selection": prop.selection, "uncovered_fill": prop.uncovered_fill}
        for c in range(ds.n_classes):
            labels[f"prob_{c}"] = prop.proba[:, c]
        labels["label"] = break_ties(prop.proba, random_state).astype(np.int64)
        labels["covered"] = prop.covered
        labels["denoise_score"] = prop.denoise_scores
        labels["corrected"] = p.corrected_[:len(prop.covered)]
        labels["weight"] = prop.weights
    if end_model:
        extra["end_model"] = _run_end_model(ds, teacher_model, parts, extra.get("propagation"), fitted_featurizer,
                                            features, end_model, end_model_params, mixup, self_train,
                                            random_state, train_rows, n_jobs, progress)
        extra["end_model"]["metrics"]["teacher"] = teacher_info
        metrics["end_model"] = extra["end_model"]["metrics"]
    if out_dir is not None:
        out = Path(out_dir)
        with output_batch():  # model, labels and metrics land together or not at all
            if end_model:
                from .end_models.saved import save_end_model
                em = extra["end_model"]
                save_end_model(out / "model", em["featurizer"], em["result"].model, ds.class_names, end_model,
                               extra={"dataset": ds.name, "label_model": model_name(model),
                                      "teacher": teacher_info["name"]})
            write_parquet_atomic(out / "labels.parquet", labels)
            write_json_atomic(out / "metrics.json", metrics)
        if not end_model and _remove_stale_model(out / "model"):
            extra["removed_stale_model"] = out / "model"
    return RunResult(dataset=ds, model=model, fit_split=fit_name, metrics=metrics, labels=labels, extra=extra)


def _remove_stale_model(folder: Path) -> bool:
    """Delete ``folder`` if it holds an end model saved by an earlier run into the same
    out_dir (`saved.is_model_folder`; an interrupted save's temporary files go too):
    metrics.json now describes a run without one, and `predict` would otherwise quietly
    use the old model. Anything else in the folder's place is left alone. Returns True if
    it deleted the folder."""
    import shutil

    from .end_models.saved import is_model_folder

    if not is_model_folder(folder):
        return False
    shutil.rmtree(folder)
    return True


def _own_name(model: LabelModel) -> str:
    return model.best_name_ if isinstance(model, AutoLabelModel) else model_name(model)


def _label_model_soft_labels(model, L_fit, label_covered):
    """(N, k) soft labels of a label model, rows no source covers at P(class | all abstain).

    Rows no source covers are not like the covered ones (a spam keyword is silent on
    ham), so they get their own estimate rather than the label model's flat prior."""
    soft = model.predict_proba(L_fit)
    if (~label_covered).any():
        from .propagation import abstain_posterior
        soft = soft.copy()
        soft[~label_covered] = abstain_posterior(L_fit, soft, label_covered)
    return soft


def choose_label_teacher(ds: Dataset, model: LabelModel, parts: list[Split], features: dict,
                         random_state: int = 0, n_jobs: int | None = None, progress=None):
    """The label model whose labels to train on: see `end_models.teacher.choose_teacher`.

    Only an `AutoLabelModel` fitted with valid gold has candidates to choose among;
    otherwise the model itself is returned.

    Returns
    -------
    (fitted LabelModel, info dict ``{"name", "switched", "selection"}``)
    """
    from .end_models.teacher import choose_teacher

    info = {"name": _own_name(model), "switched": False}
    others = getattr(model, "candidates_", None) or {}
    valid = _gold_valid(ds)
    if valid is None or not isinstance(model, AutoLabelModel) or len(others) < 2:
        return model, info
    L_fit = _stack_votes(parts)
    label_covered = np.diff(L_fit.indptr) > 0
    # functions, not arrays: only one candidate's (N, k) labels are held at a time
    ordered = {model.best_name_: model.best_model_, **{n: m for n, m in others.items() if n != model.best_name_}}
    cands = {n: (lambda m=m: _label_model_soft_labels(m, L_fit, label_covered)) for n, m in ordered.items()}
    choice = choose_teacher(cands, _stack_features(features, parts), features["valid"], valid.gold, label_covered,
                            default=model.best_name_, random_state=random_state, n_jobs=n_jobs,
                            progress=progress)
    chosen = model if not choice.switched else others[choice.name]
    return chosen, {"name": choice.name, "switched": choice.switched, "selection": choice.scores}


def _run_end_model(ds, model, parts, prop, fitted_featurizer, features, name, params, mixup, self_train,
                   random_state, train_rows="auto", n_jobs=None, progress=None):
    """Train and score the end model on ``model``'s labels, or on the propagated ones when
    ``prop`` is given; returns {"metrics", "result", "featurizer"}."""
    from .end_models.training import end_model_metrics, train_end_model

    valid = _gold_valid(ds)
    X = _stack_features(features, parts)
    if prop is not None:
        soft, covered, weights = prop.proba, np.ones(len(prop.proba), dtype=bool), prop.weights
        label_covered = None
    else:
        L_fit = _stack_votes(parts)
        label_covered = np.diff(L_fit.indptr) > 0
        soft = _label_model_soft_labels(model, L_fit, label_covered)
        covered, weights = np.ones(len(soft), dtype=bool), None
    result = train_end_model(X, soft, covered, None if valid is None else features["valid"],
                             None if valid is None else valid.gold, name=name, sample_weight=weights, mixup=mixup,
                             self_train=self_train, params=params, random_state=random_state,
                             label_covered=label_covered, train_rows=train_rows, n_jobs=n_jobs,
                             progress=progress)
    scored = {s: (features[s], ds.splits[s].gold) for s in EVAL_SPLITS if s in ds.splits}
    m = end_model_metrics(result, scored, ds.n_classes)
    trained_on = ("propagated labels" if prop is not None else
                  "label-model labels on the rows some source labeled" if result.chosen.get("rows") == "covered" else
                  "label-model labels; uncovered rows at P(class | all sources abstain)")
    metrics = {"name": name, "trained_on": trained_on,
               "options": {"mixup": mixup, "self_train": self_train}, "chosen": result.chosen,
               "temperature": result.temperature, "calibrated_by": result.calibration, "splits": m["splits"],
               "calibration": m["calibration"],
               "history": result.history}
    return {"metrics": metrics, "result": result, "featurizer": fitted_featurizer}


def _gold_names_to_ids(raw: pd.Series, column: str, class_names: list[str]) -> pd.Series:
    """A gold column of class names (nulls = unknown; ids written as text are kept) ->
    float ids with NaN for unknown. Raises DataFormatError naming the first other value."""
    from .errors import DataFormatError

    text = raw.astype("string").str.strip()
    known = text.notna().to_numpy()
    by_name = pd.Index(class_names).get_indexer(text.fillna("").to_numpy(dtype=object))
    as_id = pd.to_numeric(text.where(text.str.fullmatch(r"-?\d+").fillna(False)), errors="coerce").to_numpy()
    as_id = np.where((as_id >= -1) & (as_id < len(class_names)), as_id, np.nan)
    out = np.where(by_name >= 0, by_name, as_id)
    bad = known & np.isnan(out)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFormatError(f"gold column {column!r}: row {i} has {raw.iloc[i]!r}, which is not one of the class "
                              f"names {class_names} (nor a class id)")
    return pd.Series(np.where(out >= 0, out, np.nan))


def dataset_from_lfs(data, lfs, gold_column: str | None = None, split_column: str | None = None,
                     n_classes: int | None = None, name: str | None = None, examples: str = "all",
                     class_names=None, **apply_kwargs) -> Dataset:
    """Apply labeling functions to a raw table and wrap the votes as a :class:`Dataset`.

    Parameters
    ----------
    data : table or path accepted by :func:`labelmill.lfs.apply_lfs` (pandas, polars,
        pyarrow, Parquet file/folder, CSV/TSV, JSON lines)
    lfs : sequence of labeling functions
    gold_column : optional column of gold class ids (-1 or null = unknown)
    split_column : optional column with values "train", "valid", "test". Without it every
        row is in "train" and, when there is gold, the rows with gold also form "valid"
        (scored transductively: the label model never sees gold, but it saw their votes).
    n_classes : optional; default the largest class an LF votes + 1 (at least 2). A gold class above
        every vote is refused rather than taken as a new class (it is usually a typo):
        pass ``n_classes`` when some class really has no LF voting for it.
    examples : "all" (default): each split's ``examples`` holds every column of the data
        except the gold and split columns, as the featurizers of propagation and the end
        model need; "ids": only the ``id`` column (less memory for label-model-only runs).
    class_names : optional sequence of the class names in class-id order (default "0",
        "1", ...): they name the classes in the outputs and the saved end model, set
        ``n_classes`` to their number, and the gold column may hold them instead of ids.
    apply_kwargs : passed to ``apply_lfs`` (n_jobs, cache, on_error, progress)

    Returns
    -------
    Dataset whose splits' ``examples`` have an ``id`` column (the data's own, else the
    row position) and, with ``examples="all"``, the data's other columns.
    """
    from .errors import DataFormatError
    from .lfs import apply_lfs
    from .lfs._data import TableSource, gold_ids

    if examples not in ("all", "ids"):
        raise ValueError(f"examples must be 'all' or 'ids', got {examples!r}")
    if class_names is not None:
        class_names = [str(c) for c in class_names]
        if len(class_names) < 2 or len(set(class_names)) != len(class_names):
            raise DataFormatError(f"class_names must be at least 2 distinct names, got {class_names}")
        if n_classes is not None and n_classes != len(class_names):
            raise DataFormatError(f"n_classes={n_classes} but {len(class_names)} class names were given")
        n_classes = len(class_names)
    source = TableSource(data)
    where = str(data) if isinstance(data, (str, Path)) else "the table"
    for c in (gold_column, split_column):
        if c is not None and c not in source.column_names:
            raise DataFormatError(f"{where}: no column {c!r}; columns are {source.column_names}")
    if source.n_rows == 0:
        raise DataFormatError(f"{where}: the table has no rows")
    L = apply_lfs(lfs, data, n_classes=n_classes, **apply_kwargs)
    wanted = [c for c in (gold_column, split_column) if c is not None]
    cols = source.table(wanted) if wanted else None
    n = L.n_rows
    gold = np.full(n, -1, dtype=np.int64)
    if gold_column is not None:
        raw = cols.column(gold_column).to_pandas()
        if class_names is not None and not pd.api.types.is_numeric_dtype(raw):
            raw = _gold_names_to_ids(raw, gold_column, class_names)
        gold = gold_ids(raw, gold_column)
    k = max(L.n_classes, 2) if n_classes is None else int(n_classes)
    if (gold >= k).any():
        i = int(np.flatnonzero(gold >= k)[0])
        hint = (f"; the LFs vote only classes 0..{k - 1}: if class {int(gold[i])} is real, pass "
                f"n_classes (--n-classes)") if n_classes is None else ""
        raise DataFormatError(f"gold column {gold_column!r}: row {i} has class {int(gold[i])}, outside "
                              f"[0, {k - 1}]{hint}")
    if L.n_classes != k:
        L = LabelMatrix(L.indptr, L.sources, L.labels, k, L.source_names)
    ids = L.report.row_ids if getattr(L, "report", None) is not None and L.report.row_ids is not None \
        else np.arange(n)
    ids = np.asarray(ids)
    if split_column is not None:
        split_of = cols.column(split_column).to_pandas().astype(str).to_numpy()
        bad = ~np.isin(split_of, ["train", "valid", "test"])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataFormatError(f"split column {split_column!r}: row {i} has {split_of[i]!r}; "
                                  f"expected train, valid or test")
        masks = {s: split_of == s for s in ("train", "valid", "test")}
    else:
        masks = {"train": np.ones(n, dtype=bool)}
        if (gold >= 0).any():
            masks["valid"] = gold >= 0
    if examples == "all":
        keep = [c for c in source.column_names if c not in (gold_column, split_column, "id")]
        table = source.table(keep).to_pandas() if keep else pd.DataFrame(index=range(n))
        table.insert(0, "id", ids)
    else:
        table = pd.DataFrame({"id": ids})
    ds = Dataset(name=name or (Path(str(data)).stem if isinstance(data, (str, Path)) else "table"),
                 class_names=class_names or [str(c) for c in range(k)], apply_report=getattr(L, "report", None))
    for s, mask in masks.items():
        if not mask.any():
            continue
        idx = np.flatnonzero(mask)
        ds.splits[s] = Split(name=s, examples=table.iloc[idx].reset_index(drop=True), gold=gold[idx], L=L[idx])
    return ds


def compare(ds: Dataset, names=None, random_state: int = 0) -> dict:
    """Every label model side by side: ``{name: {"valid": M, "test": M}}``; auto's entry
    adds ``selected`` (the model it chose) and ``selection`` (how: "valid",
    "held_out_sources" or "fallback")."""
    names = list(names or LABEL_MODELS)
    results = {}
    for name in names:
        model, _, _ = fit_label_model(ds, name, random_state)
        results[name] = evaluate_splits(ds, model)
        if isinstance(model, AutoLabelModel):
            results[name]["selected"] = model.best_name_
            results[name]["selection"] = model.selection_
    return results
