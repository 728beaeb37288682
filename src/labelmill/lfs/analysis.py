"""Per-LF and dataset-level statistics of a label matrix (Snorkel's LFAnalysis vocabulary).

All statistics are whole-array operations over the sparse votes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidVotesError
from ..matrix import LabelMatrix


def _as_matrix(L) -> LabelMatrix:
    return L if isinstance(L, LabelMatrix) else LabelMatrix.from_dense(L)


def _vote_flags(L: LabelMatrix):
    """Per stored vote: does another source vote on its row (overlap), with another label (conflict)?"""
    per_row = L.votes_per_row()
    rows = L.rows
    overlap = per_row[rows] > 1
    same = L.class_counts()[rows, L.labels]  # votes on this row with this vote's label
    conflict = same < per_row[rows]
    return rows, overlap, conflict


def lf_summary(L, lfs_or_names=None, y=None, label_model=None, errors=None) -> pd.DataFrame:
    """One row per LF (source) of ``L``.

    Parameters
    ----------
    L : LabelMatrix (or dense N x M array with -1 = abstain)
    lfs_or_names : sequence of LFs or names to use as the index (default: L.source_names)
    y : array-like (N,) gold labels, -1 = unknown; adds ``correct``, ``incorrect`` and
        ``emp_acc`` (accuracy on rows with known gold where the LF votes)
    label_model : a fitted label model with ``accuracy_`` (M,); adds ``est_acc``, and
        ``est_basis`` when the model says what each estimate rests on (``accuracy_basis_``
        of WeightedMajorityVote, also through ``auto``: "triplets", or "prior", "cap",
        "floor" for a stand-in or clipped value that says little about the LF)
    errors : dict name -> count of failures (default: ``L.report.errors`` if present);
        adds ``errors``

    Returns
    -------
    pandas.DataFrame indexed by LF name with columns ``j``, ``polarity`` (sorted list
    of classes voted), ``coverage``, ``overlaps``, ``conflicts`` (fractions of all rows)
    and the optional columns above.
    """
    L = _as_matrix(L)
    m, n = L.n_sources, max(L.n_rows, 1)
    if lfs_or_names is None:
        names = list(L.source_names)
    else:
        names = [getattr(x, "name", x) for x in lfs_or_names]
        if len(names) != m:
            raise InvalidVotesError(f"{len(names)} LF names for a label matrix with {m} sources")
    rows, overlap, conflict = _vote_flags(L)
    src = L.sources
    counts = np.bincount(src, minlength=m)
    pol_mask = np.zeros((m, L.n_classes), dtype=bool)
    pol_mask[src, L.labels] = True
    df = pd.DataFrame({
        "j": np.arange(m),
        "polarity": [list(np.flatnonzero(r).tolist()) for r in pol_mask],
        "coverage": counts / n,
        "overlaps": np.bincount(src, weights=overlap, minlength=m) / n,
        "conflicts": np.bincount(src, weights=conflict, minlength=m) / n,
    }, index=pd.Index(names, name="lf"))
    if y is not None:
        y = np.asarray(y).ravel()
        if len(y) != L.n_rows:
            raise InvalidVotesError(f"y has {len(y)} labels for a label matrix with {L.n_rows} rows")
        known = y[rows] >= 0
        hit = (L.labels == y[rows]) & known
        correct = np.bincount(src, weights=hit, minlength=m).astype(int)
        labelled = np.bincount(src, weights=known, minlength=m).astype(int)
        df["correct"] = correct
        df["incorrect"] = labelled - correct
        with np.errstate(invalid="ignore", divide="ignore"):
            df["emp_acc"] = np.where(labelled > 0, correct / np.maximum(labelled, 1), np.nan)
    if label_model is not None:
        acc = getattr(label_model, "accuracy_", None)
        if acc is None:
            raise InvalidVotesError(f"{type(label_model).__name__} has no accuracy_; fit it first")
        acc = np.asarray(acc, dtype=float)
        if acc.shape != (m,):
            raise InvalidVotesError(f"label model accuracy_ has shape {acc.shape}, expected ({m},)")
        df["est_acc"] = acc
        basis = getattr(getattr(label_model, "best_model_", label_model), "accuracy_basis_", None)
        if basis is not None and len(basis) == m:
            df["est_basis"] = list(basis)
    if errors is None:
        rep = getattr(L, "report", None)
        errors = rep.errors if rep is not None else None
    if errors is not None:
        df["errors"] = [int(errors.get(nm, 0)) for nm in names]
    return df


def dataset_summary(L) -> dict:
    """Dataset-level statistics.

    Returns
    -------
    dict with ``n_rows``, ``n_sources``, ``n_classes``, ``coverage`` (rows with >= 1
    vote), ``overlap_rate`` (rows with >= 2 votes), ``conflict_rate`` (rows whose
    votes disagree), ``mean_votes_per_row`` and ``mean_votes_per_covered_row``.
    """
    L = _as_matrix(L)
    per_row = L.votes_per_row()
    counts = L.class_counts()
    distinct = (counts > 0).sum(axis=1)
    n = max(L.n_rows, 1)
    covered = per_row > 0
    return {
        "n_rows": int(L.n_rows), "n_sources": int(L.n_sources), "n_classes": int(L.n_classes),
        "coverage": float(covered.sum() / n),
        "overlap_rate": float((per_row > 1).sum() / n),
        "conflict_rate": float((distinct > 1).sum() / n),
        "mean_votes_per_row": float(per_row.sum() / n),
        "mean_votes_per_covered_row": float(per_row[covered].mean()) if covered.any() else 0.0,
    }


def print_lf_summary(summary: pd.DataFrame, dataset: dict | None = None, console=None, title="Labeling functions"):
    """Print an ``lf_summary`` table (and optional ``dataset_summary``) with rich."""
    from rich.console import Console
    from rich.table import Table

    import sys

    console = console or Console(width=None if sys.stdout.isatty() else 160)
    table = Table(title=title)
    table.add_column("lf", style="bold")
    for c in summary.columns:
        table.add_column(c, justify="right")
    for name, row in summary.iterrows():
        cells = [str(name)]
        for c in summary.columns:
            v = row[c]
            if isinstance(v, float):
                cells.append("-" if np.isnan(v) else f"{v:.3f}")
            else:
                cells.append(str(v))
        table.add_row(*cells)
    console.print(table)
    if dataset is not None:
        console.print("  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in dataset.items()))
