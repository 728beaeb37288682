"""Crowd answers -> one label per item, and which annotators to trust.

The input is how crowd platforms export results: one row per (item, annotator, answer).
``labelmill.aggregate`` fits Dawid-Skene (each annotator gets a confusion matrix, learned
without gold), gives each item its probabilities and label, and ranks the annotators.

Usage::

    python examples/crowd.py [ORIG_FOLDER]    # default: ../shared/data/crowd_product/orig

ORIG_FOLDER holds ``answer.csv`` (question, worker, answer) and ``truth.csv`` (question,
truth), as the crowd tables of ../shared/data do.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import labelmill as lm


def main(folder: Path) -> dict:
    """Returns the accuracy against truth of majority vote and of Dawid-Skene."""
    answers = pd.read_csv(folder / "answer.csv")
    truth = pd.read_csv(folder / "truth.csv").set_index("question")["truth"]
    cols = dict(item="question", annotator="worker", label="answer")
    print(f"{answers.question.nunique()} items, {answers.worker.nunique()} annotators, {len(answers)} answers")

    acc = {}
    for model in ("majority", "dawid_skene"):
        result = lm.aggregate(answers, **cols, label_model=model, truth=truth)
        acc[model] = result.metrics["accuracy"]
        print(f"{model:12s} accuracy against truth {acc[model]:.3f} on {result.metrics['n']} items")

    # the last result is Dawid-Skene's: labels by item, annotators by id
    print(result.labels.head())
    worst = result.annotators.sort_values("accuracy").head(3)
    print("least trustworthy annotators (Dawid-Skene's estimate; agreement = share of answers equal to the "
          "aggregated label):")
    print(worst.round(3))
    j = list(result.L.source_names).index(worst.index[0])
    print(f"confusion matrix of {worst.index[0]} (rows: true class, columns: answer):")
    print(result.model.confusion_[j].round(2))
    return acc


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "crowd_product" / "orig"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
