"""`labelmill run --propagate` end to end: real data in, train_labels section and columns out."""

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from labelmill.cli import main

DATA = Path(__file__).resolve().parent.parent / "data"
SPOUSE_SMALL = DATA / "spouse_small"
CROWD_DOG = DATA / "crowd_dog"

LABEL_KEYS = {"accuracy", "macro_f1", "coverage", "n"}


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_run_demo_propagate(tmp_path):
    out = tmp_path / "out"
    res = invoke("run", "--demo", "--propagate", "--no-cache", "--denoise", "weight", "--out", out)
    assert res.exit_code == 0, res.output
    assert "before / after propagation" in res.output
    m = json.loads((out / "metrics.json").read_text())
    tl = m["train_labels"]
    for when in ("before", "after"):
        assert LABEL_KEYS <= set(tl[when])
        assert LABEL_KEYS <= set(tl[when]["covered"]) and LABEL_KEYS <= set(tl[when]["uncovered"])
    assert tl["after"]["coverage"] == 1.0 and tl["before"]["coverage"] < 0.9
    assert tl["after"]["n"] == tl["before"]["n"] == 1586
    labels = pd.read_parquet(out / "labels.parquet")
    assert {"prob_0", "prob_1", "label", "covered", "denoise_score", "weight"} <= set(labels.columns)
    assert labels[~labels.covered].denoise_score.isna().all()
    scored = labels[labels.covered].denoise_score.dropna()
    assert scored.between(0, 1).all() and len(scored) >= 0.95 * labels.covered.sum()  # NaN: no neighbour


def test_run_spouse_propagate_fills_uncovered_rows(tmp_path):
    # spouse_small: 61% of train rows uncovered, 83% of those negative. Two spreading
    # settings tie on valid (0.821); the tie goes to the one that moves the labels least,
    # which keeps the uncovered rows at P(class | all abstain): accuracy 0.785 -> 0.785.
    res = invoke("run", SPOUSE_SMALL, "--propagate", "--no-cache", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    tl = json.loads((tmp_path / "metrics.json").read_text())["train_labels"]
    assert tl["after"]["coverage"] == 1.0 and tl["before"]["coverage"] < 0.5
    assert tl["after"]["accuracy"] >= tl["before"]["accuracy"]
    assert tl["after"]["covered"] == tl["before"]["covered"]
    table = tl["propagator"]["selection"]
    best = max(r["accuracy"] for r in table)
    tied = [r for r in table if r["accuracy"] == best]
    chosen = min(tied, key=lambda r: r["change"])
    assert len(tied) >= 2
    assert (tl["propagator"]["alpha"], tl["propagator"]["uncovered_anchor"]) == (chosen["alpha"],
                                                                                  chosen["uncovered_anchor"])


def test_propagate_without_text_column_is_a_clear_error(tmp_path):
    res = invoke("run", CROWD_DOG, "--propagate", "--no-cache", "--out", tmp_path)
    assert res.exit_code == 2
    assert "no column(s) ['text']" in res.output
