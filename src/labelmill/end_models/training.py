"""Train an end model on probabilistic labels: choose C on valid, self-train, calibrate.

This is the end-model stage as the pipeline uses it; the pieces (classifiers, options,
self-training, calibration) live in their own modules and work on their own too.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .._parallel import ordered_map, resolve_n_jobs
from ..errors import DataFormatError
from ..evaluation import check_gold, classification_metrics
from . import make_end_model
from .calibration import MIN_CALIBRATION_ROWS, CalibratedClassifier, reliability_diagram
from .self_training import SelfTrainer

C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)


@dataclass
class EndModelResult:
    """model: the calibrated end model (``predict_proba`` calibrated on valid);
    base: the uncalibrated model; chosen: the settings chosen on valid; history: per
    setting / self-training round valid accuracy; temperature: fitted temperature (1.0
    without valid gold); calibration: ``{"method", "cv_scores"}`` (see CalibratedClassifier;
    method None without valid gold, or with fewer than ``MIN_CALIBRATION_ROWS`` valid rows
    with gold, when ``"skipped"`` says why)."""

    model: object
    base: object
    chosen: dict
    history: list = field(default_factory=list)
    temperature: float = 1.0
    calibration: dict = field(default_factory=lambda: {"method": None, "cv_scores": {}})


def _rows(X, mask):
    return X[np.flatnonzero(mask)] if sp.issparse(X) else X[mask]


def _valid_accuracy(model, X_valid, y_valid) -> float:
    if X_valid is None:
        return float("nan")
    return float((model.predict(X_valid) == y_valid).mean())


ELR_GRID = (0.0, 1.0)


def _candidates(name: str, params: dict, has_valid: bool, covered, label_covered, train_rows: str,
                c_grid=C_GRID, elr_grid=ELR_GRID):
    """The settings tried on valid: (description, fit params, rows to train on).

    For logreg with valid gold: ``C`` in ``C_GRID`` x ELR strength in ``ELR_GRID`` x
    training rows (all rows, or only rows some source labeled, when ``label_covered``
    is given and ``train_rows="auto"``). Settings given in ``params`` stay fixed. The
    plain setting (all rows, no ELR) comes first, so ties keep it.
    """
    rows = {"all": covered}
    if label_covered is not None and train_rows in ("auto", "covered"):
        only = covered & label_covered
        if train_rows == "covered":
            rows = {"covered": only}
        elif only.any() and not only.all():
            rows["covered"] = only
    if name != "logreg" or not has_valid:
        first, mask = next(iter(rows.items()))
        return [({"rows": first}, dict(params), mask)]
    Cs = [params["C"]] if "C" in params else list(c_grid)
    elrs = [params["elr"]] if "elr" in params else list(elr_grid)
    out = []
    for r, m in rows.items():
        for elr in elrs:
            for C in Cs:
                p = dict(params, C=C)
                if elr:
                    p["elr"] = elr
                out.append(({"rows": r, "C": C, "elr": elr}, p, m))
    return out


#: below this much work per L-BFGS step (see `fit_workers`) the fits run in this process:
#: starting workers would cost more than it saves
PARALLEL_MIN_WORK = 300_000
#: rows x settings from which the fits show a progress bar by default
PROGRESS_MIN_WORK = 200_000


def fit_workers(n_jobs, X, n_classes: int, n_fits: int) -> int:
    """Processes for ``n_fits`` independent logistic-regression fits on X (N, d).

    With ``n_jobs=None``, one process unless a fit is big enough to pay for the workers:
    an L-BFGS step costs about one pass over X's non-zeros per class column plus ten
    passes over the d x columns parameters (the solver's history)."""
    if n_fits < 2:
        return 1
    if n_jobs is None:
        cols = 1 if n_classes <= 2 else n_classes
        nnz = X.nnz if sp.issparse(X) else X.shape[0] * X.shape[1]
        if (nnz + 10 * X.shape[1]) * cols < PARALLEL_MIN_WORK:
            return 1
    return min(resolve_n_jobs(n_jobs), n_fits)


def _fit_setting(name, params, X, Y, rows, sample_weight, X_valid, y_valid):
    """Fit one setting on the rows in ``rows``.

    Returns (fitted model, valid accuracy, warnings raised while fitting): a worker
    process's warnings would otherwise never reach the user, so they travel back."""
    model = make_end_model(name, **params)
    fit_kw = {"sample_weight": None if sample_weight is None else sample_weight[rows]}
    if name == "mlp" and X_valid is not None:
        fit_kw.update(X_valid=X_valid, y_valid=y_valid)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(_rows(X, rows), Y[rows], **fit_kw)
    return model, _valid_accuracy(model, X_valid, y_valid), [(w.message, w.category) for w in caught]


#: from this many training rows (those of the largest setting), ``search="auto"`` compares
#: the settings by successive halving instead of fitting every one on every row
HALVING_MIN_ROWS = 100_000
#: each halving round keeps 1 / HALVING_FACTOR of the settings, on HALVING_FACTOR times the rows
HALVING_FACTOR = 3


def _resolve_search(search: str, settings) -> str:
    """"grid" or "halving" for ``search`` ("auto", "grid" or "halving") and these settings."""
    if search not in ("auto", "grid", "halving"):
        raise ValueError(f"search must be 'auto', 'grid' or 'halving', got {search!r}")
    if search != "auto":
        return search
    largest = max(int(np.count_nonzero(rows)) for _, _, rows in settings)
    return "halving" if len(settings) > HALVING_FACTOR and largest >= HALVING_MIN_ROWS else "grid"


def halving_schedule(n_settings: int, factor: int = HALVING_FACTOR) -> list[tuple[int, float]]:
    """[(settings fitted, fraction of the rows)] per round of successive halving, as
    scikit-learn's HalvingGridSearchCV plans it: each round keeps the best
    ceil(n / factor) settings and fits them on ``factor`` times the rows; the last round
    fits the survivors on every row. 20 settings, factor 3: [(20, 1/9), (7, 1/3), (3, 1)]."""
    rounds = 1 + int(np.floor(np.log(n_settings) / np.log(factor) + 1e-9)) if n_settings > 1 else 1
    out, n = [], n_settings
    for i in range(rounds):
        out.append((n, float(factor) ** (i - rounds + 1)))
        n = -(-n // factor)
    return out


def _fit_round(name, settings, X, Y, weights, X_valid, y_valid, n_jobs, progress, desc):
    """Fit each (description, params, rows) of ``settings``; [(model, valid accuracy,
    warnings)] in the settings' order."""
    workers = fit_workers(n_jobs, X, Y.shape[1], len(settings))
    n_rows = max(int(np.count_nonzero(rows)) for _, _, rows in settings)
    show = progress if progress is not None else n_rows * len(settings) >= PROGRESS_MIN_WORK
    # the slowest fits (ELR, weak regularisation) go first so that no worker is left with
    # one long fit at the end; results are put back in the settings' order
    order = sorted(range(len(settings)), key=lambda i: (-settings[i][1].get("elr", 0.0), -settings[i][1].get("C", 0.0)))
    done = ordered_map(_fit_setting, ((name, settings[i][1], X, Y, settings[i][2], weights, X_valid, y_valid)
                                      for i in order),
                       n_jobs=workers, progress=show, desc=desc, total=len(settings))
    fitted = [None] * len(settings)
    for i, r in zip(order, done):
        fitted[i] = r
    return fitted


def _first_rows(rows, rank, fraction: float):
    """(N,) bool: the first ceil(fraction x count) of the True rows of ``rows`` in the order
    ``rank`` gives (at least one)."""
    idx = np.flatnonzero(rows)
    n = max(1, int(np.ceil(fraction * len(idx))))
    out = np.zeros(len(rows), dtype=bool)
    out[idx[np.argsort(rank[idx], kind="stable")[:n]]] = True
    return out


def _compare_settings(name, settings, X, Y, weights, X_valid, y_valid, search, n_jobs, progress, desc,
                      random_state):
    """Fit the settings and score them on valid.

    "grid" fits every setting on its rows. "halving" fits them all on a random 1/9 of the
    rows (for 20 settings; see `halving_schedule`), keeps the best third by valid accuracy
    (ties keep the earlier setting), fits those on 1/3 and the best three of them on every
    row: 7.6 full fits' worth of rows instead of 20.

    Returns (fitted, history): ``fitted[i]`` is (model, valid accuracy, warnings) of setting
    i's fit on all its rows, or (None, accuracy, []) for a setting dropped in an earlier
    round; ``history`` has one entry per fit, with the rows it was fitted on (``n_rows``).
    """
    def entry(i, acc, n_rows, round_=None):
        e = {"stage": "fit", **settings[i][0], "valid_accuracy": acc, "n_rows": n_rows}
        return e if round_ is None else dict(e, round=round_)

    if search == "grid":
        fitted = _fit_round(name, settings, X, Y, weights, X_valid, y_valid, n_jobs, progress,
                            f"{desc} ({len(settings)} settings)")
        return fitted, [entry(i, f[1], int(np.count_nonzero(settings[i][2]))) for i, f in enumerate(fitted)]
    # one random order of the rows; a round fits each setting on the first fraction of its
    # rows in that order, so each round's rows hold the previous round's
    rank = np.empty(X.shape[0], dtype=np.int64)
    rank[np.random.default_rng(random_state).permutation(X.shape[0])] = np.arange(X.shape[0])
    alive = list(range(len(settings)))
    fitted, history = [None] * len(settings), []
    schedule = halving_schedule(len(settings))
    for r, (n_keep, fraction) in enumerate(schedule):
        alive = alive[:n_keep]
        last = r == len(schedule) - 1
        sub = []
        for d, p, rows in (settings[i] for i in alive):
            part = rows if last else _first_rows(rows, rank, fraction)
            if "C" in p:  # the same regularisation per row as the fit on every row
                p = dict(p, C=p["C"] * np.count_nonzero(rows) / np.count_nonzero(part))
            sub.append((d, p, part))
        n_rows = max(int(np.count_nonzero(rows)) for _, _, rows in sub)
        results = _fit_round(name, sub, X, Y, weights, X_valid, y_valid, n_jobs, progress,
                             f"{desc} (halving round {r + 1}/{len(schedule)}: {len(sub)} settings on "
                             f"{n_rows:,} rows)")
        for i, (_, _, rows), res in zip(alive, sub, results):
            history.append(entry(i, res[1], int(np.count_nonzero(rows)), r + 1))
            fitted[i] = res if last else (None, res[1], [])
        # best first; a stable sort keeps the settings' order among ties (the plain setting first)
        alive = sorted(alive, key=lambda i: -fitted[i][1])
    return fitted, history


def train_end_model(X, soft_labels, covered, X_valid=None, y_valid=None, name: str = "logreg",
                    sample_weight=None, mixup: bool = False, self_train: bool = False, calibrate: bool = True,
                    params: dict | None = None, random_state: int = 0, label_covered=None,
                    train_rows: str = "auto", c_grid=C_GRID, elr_grid=ELR_GRID, search: str = "auto",
                    n_jobs: int | None = None, progress=None,
                    progress_desc: str = "training the end model") -> EndModelResult:
    """Fit an end model on (N, k) soft labels.

    Parameters
    ----------
    X : (N, d) features of the training rows (sparse or dense)
    soft_labels : (N, k) probabilities (label model, or propagated)
    covered : (N,) bool, rows whose labels to train on (uncovered rows are reached only
        by self-training); pass all True for propagated labels
    X_valid, y_valid : held-out features and gold (-1 = unknown). With valid gold, logreg
        chooses its regularisation ``C`` (``C_GRID``), its ELR strength (``ELR_GRID``) and,
        see ``train_rows``, its training rows by valid accuracy; valid also stops
        self-training and fits the temperature
    name : "logreg" or "mlp" (the MLP is fitted once, with the given params)
    sample_weight : (N,) optional row weights (e.g. propagation's denoising weights)
    mixup, self_train : the noise-aware options
    calibrate : calibrate on valid: temperature scaling, followed by a top-label isotonic
        step when that lowers the cross-validated Brier score on valid (see CalibratedClassifier);
        skipped with fewer than ``MIN_CALIBRATION_ROWS`` (20) valid rows with gold
    params : further end-model parameters, fixed (a ``C`` or ``elr`` given here is not tuned)
    label_covered : (N,) bool, optional: rows some source labeled. Rows outside it carry a
        stand-in label (e.g. P(class | every source abstained)), which helps when abstaining
        is informative (a spam keyword is silent on ham) and hurts when it is not
    train_rows : "auto" (try all ``covered`` rows and only the label-covered ones, keep
        the better on valid), "all" or "covered"
    c_grid, elr_grid : the values of C and of the ELR strength tried on valid
    search : how the settings are compared: "grid" (each fitted on all its rows),
        "halving" (successive halving, see `_compare_settings`: fits on growing random
        subsets of the rows, keeping the best third each round) or "auto" (halving from
        ``HALVING_MIN_ROWS`` training rows, when the grid has more than ``HALVING_FACTOR``
        settings; the grid below). ``history`` records every fit with its ``n_rows``
    n_jobs : processes for fitting the settings side by side (None = every core, but one
        process for small data, where starting workers costs more than it saves; see
        `fit_workers`). The result does not depend on it.
    progress : a progress bar over the settings (None = when rows x settings is at least
        ``PROGRESS_MIN_WORK``), or a function ``progress(desc, done, total)`` (see `ordered_map`);
        ``progress_desc`` names the work in it

    Returns
    -------
    EndModelResult; ``chosen`` holds the settings kept (``C``, ``elr``, ``rows``).
    """
    if train_rows not in ("auto", "all", "covered"):
        raise ValueError(f"train_rows must be 'auto', 'all' or 'covered', got {train_rows!r}")
    params = dict(params or {})
    params.setdefault("random_state", random_state)
    if mixup:
        params["mixup"] = True
    covered = np.asarray(covered, dtype=bool)
    if label_covered is not None:
        label_covered = np.asarray(label_covered, dtype=bool)
    if X_valid is not None and y_valid is not None:
        y_valid = check_gold(y_valid, np.shape(soft_labels)[1] if np.ndim(soft_labels) == 2 else None, "y_valid")
        if X_valid.shape[0] != len(y_valid):
            raise DataFormatError(f"X_valid has {X_valid.shape[0]} rows but y_valid has {len(y_valid)}")
        keep = y_valid >= 0
        X_valid, y_valid = (_rows(X_valid, keep), np.asarray(y_valid)[keep]) if keep.any() else (None, None)
    else:
        X_valid = y_valid = None
    Y = np.asarray(soft_labels)
    settings = _candidates(name, params, X_valid is not None, covered, label_covered, train_rows, c_grid, elr_grid)
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if weights is not None and weights.shape != (X.shape[0],):
        raise DataFormatError(f"sample_weight must have shape ({X.shape[0]},), one weight per row, got {weights.shape}")
    search = _resolve_search(search, settings)
    fitted, history = _compare_settings(name, settings, X, Y, weights, X_valid, y_valid, search, n_jobs,
                                        progress, progress_desc, random_state)
    best = None
    for (desc, p, rows), (model, acc, caught) in zip(settings, fitted):
        if model is None:  # left out in an early round of halving
            continue
        for message, category in caught:
            warnings.warn(message, category, stacklevel=2)
        if best is None or acc > best[0] + 1e-12:
            best = (acc, dict(p, **{k: desc[k] for k in ("rows", "elr") if k in desc}), model, rows)
    _, chosen, base, covered = best
    if self_train:
        student = make_end_model(name, **{k: v for k, v in chosen.items() if k != "rows"})
        trainer = SelfTrainer(student=student, rounds=5, threshold=0.9, calibrate=X_valid is not None)
        trainer.fit(X, soft_labels, covered_mask=covered, X_valid=X_valid, y_valid=y_valid,
                    sample_weight=sample_weight)
        history += [{"stage": "self_train", **h} for h in trainer.history_]
        base = trainer
        chosen = dict(chosen, self_train={"best_round": int(trainer.best_round_)})
    model, temperature, calibration = base, 1.0, {"method": None, "cv_scores": {}}
    if calibrate and X_valid is not None:
        if len(y_valid) < MIN_CALIBRATION_ROWS:
            calibration["skipped"] = (f"{len(y_valid)} valid rows with gold; calibration needs at least "
                                      f"{MIN_CALIBRATION_ROWS}")
        elif len(np.unique(y_valid)) < 2:
            calibration["skipped"] = "the valid gold holds a single class, which calibration would predict everywhere"
        else:
            model = CalibratedClassifier(base, random_state=random_state).fit(X_valid, y_valid)
            temperature = float(model.temperature_)
            calibration = {"method": model.method_, "cv_scores": model.cv_scores_}
    return EndModelResult(model=model, base=base, chosen={k: v for k, v in chosen.items() if k != "random_state"},
                          history=history, temperature=temperature, calibration=calibration)


def end_model_metrics(result: EndModelResult, splits: dict, n_classes: int) -> dict:
    """``{"splits": {name: M}, "calibration": {name: {"ece_before", "ece_after", "reliability"}}}``
    for each ``name -> (X, gold)`` in ``splits`` with gold; M as in `classification_metrics`
    (coverage 1.0: the end model labels every row)."""
    out, calib = {}, {}
    for name, (X, gold) in splits.items():
        gold = np.asarray(gold)
        if not (gold >= 0).any():
            continue
        P = result.model.predict_proba(X)
        P0 = result.base.predict_proba(X)
        out[name] = classification_metrics(gold, P.argmax(axis=1), P, n_classes, coverage=1.0)
        known = gold >= 0
        before = classification_metrics(gold, P0.argmax(axis=1), P0, n_classes)["ece"]
        calib[name] = {"ece_before": before, "ece_after": out[name]["ece"],
                       "reliability_before": reliability_diagram(gold[known], P0[known]),
                       "reliability_after": reliability_diagram(gold[known], P[known])}
    return {"splits": out, "calibration": calib}
