"""Choosing the teacher: which label model's labels the end model learns from."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from labelmill import load_wrench
from labelmill.end_models.teacher import choose_teacher

DATA = Path(__file__).resolve().parents[1] / "data"


def _data(rng, n):
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 4)) + 1.5 * y[:, None] * np.array([1, 1, 0, 0])
    return X, y


def test_a_majority_class_teacher_loses_to_an_informative_one():
    rng = np.random.default_rng(0)
    X, y = _data(rng, 2000)
    Xv, yv = _data(rng, 300)
    all_zero = np.tile([0.9, 0.1], (len(y), 1))
    noisy = np.where(rng.random(len(y)) < 0.8, y, 1 - y)
    informative = np.eye(2)[noisy] * 0.8 + 0.1
    same = informative * 0.9 + 0.05  # other probabilities, same hard labels
    c = choose_teacher({"flat": all_zero, "noisy": lambda: informative, "same": same}, X, Xv, yv, default="flat",
                       progress=True)
    assert c.name == "noisy" and c.switched
    assert [s["name"] for s in c.scores] == ["flat", "noisy", "same"]
    assert c.scores[2] == {"name": "same", "same_labels_as": "noisy"}
    assert c.scores[1]["valid_accuracy"] > 0.8 > 0.6 > c.scores[0]["valid_accuracy"]


def test_the_default_stays_unless_clearly_beaten():
    rng = np.random.default_rng(1)
    X, y = _data(rng, 2000)
    Xv, yv = _data(rng, 100)
    a = np.eye(2)[np.where(rng.random(len(y)) < 0.85, y, 1 - y)] * 0.8 + 0.1
    b = np.eye(2)[np.where(rng.random(len(y)) < 0.85, y, 1 - y)] * 0.8 + 0.1
    for default in ("a", "b"):
        c = choose_teacher({"a": a, "b": b}, X, Xv, yv, default=default)
        assert c.name == default and not c.switched
    assert choose_teacher({"a": a}, X, Xv, yv).name == "a"
    assert choose_teacher({"a": a, "b": b}, X, Xv, -np.ones_like(yv)).scores == []
    with pytest.raises(ValueError, match="not among"):
        choose_teacher({"a": a}, X, Xv, yv, default="z")
    with pytest.raises(ValueError, match="at least one"):
        choose_teacher({}, X, Xv, yv)


def test_sms_end_model_learns_from_a_better_teacher(tmp_path):
    """sms: the most accurate label model on valid calls every message ham (86.6% of test);
    the teacher chosen by end-model valid accuracy gives a classifier that finds spam."""
    from labelmill.pipeline import run

    ds = load_wrench(DATA / "sms")
    reports = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = run(ds, "auto", cache=False, end_model="logreg", out_dir=tmp_path,
                progress=lambda *report: reports.append(report))
    # the stages are reported in order; counted ones from 0 to their total
    stages = list(dict.fromkeys(desc.split(" (")[0] for desc, _, _ in reports))
    assert stages == ["fitting the label model on sms", "computing tfidf features", "choosing the teacher",
                      "training the end model"]
    for name in stages[2:]:
        counts = [(done, total) for desc, done, total in reports if desc.startswith(name)]
        assert counts[0][0] == 0 and counts[-1][0] == counts[-1][1] > 1
    m = json.loads((tmp_path / "metrics.json").read_text())
    lm, em = m["splits"]["test"], m["end_model"]["splits"]["test"]
    teacher = m["end_model"]["teacher"]
    assert teacher["switched"] and teacher["name"] != m["label_model_info"]["selected"]
    assert em["accuracy"] >= lm["accuracy"] + 0.05
    assert em["f1"] > 0.6 > lm["f1"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept = run(ds, r.model, cache=False, end_model="logreg", teacher="label_model")
    assert kept.metrics["end_model"]["teacher"]["switched"] is False
    with pytest.raises(ValueError, match="teacher must be"):
        run(ds, "majority", cache=False, end_model="logreg", teacher="best")


def test_sms_propagation_spreads_the_teachers_labels():
    """With --propagate the teacher's labels are spread; "before" stays the label model's."""
    from labelmill.pipeline import run

    ds = load_wrench(DATA / "sms")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = run(ds, "auto", cache=False, propagate_labels=True)
    tl = r.metrics["train_labels"]
    assert tl["teacher"]["switched"]
    assert tl["after"]["coverage"] == 1.0
    # the label model calls everything ham: before = the ham share
    assert tl["before"]["accuracy"] == pytest.approx((ds.train.gold == 0).mean(), abs=0.01)
    assert tl["after"]["accuracy"] >= tl["before"]["accuracy"] + 0.05
    assert tl["after"]["uncovered"]["accuracy"] >= tl["before"]["uncovered"]["accuracy"] + 0.03
    # the teacher's own labels are scored apart: on covered rows propagation keeps them
    # (keep_covered, no denoising), so the gain there is the teacher's, not propagation's
    taught = tl["teacher_labels"]
    assert taught["covered"]["accuracy"] == pytest.approx(tl["after"]["covered"]["accuracy"])
    assert taught["covered"]["accuracy"] >= tl["before"]["covered"]["accuracy"] + 0.05
    assert taught["coverage"] == tl["before"]["coverage"] < 1.0
    covered = r.labels["covered"].to_numpy()
    teacher_pred = r.extra["propagation"].label_model_proba.argmax(axis=1)
    gold = ds.train.gold
    assert taught["covered"]["accuracy"] == pytest.approx((teacher_pred == gold)[covered].mean())


def test_cli_names_the_teacher_and_in_sample_scores(tmp_path):
    from click.testing import CliRunner

    from labelmill.cli import main

    res = CliRunner().invoke(main, ["run", str(DATA / "sms"), "--propagate", "--out", str(tmp_path)],
                             terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "valid chose the label model: its valid scores are in-sample" in res.output
    assert "propagation started from the labels of the teacher moments (chosen on valid)" in res.output
    for row in ("label model auto: covered", "teacher moments: covered", "after propagation: covered"):
        assert row in res.output
    assert json.loads((tmp_path / "metrics.json").read_text())["train_labels"]["teacher_labels"]["n"] == 4571
