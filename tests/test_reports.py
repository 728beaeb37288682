"""What the reports say matches what was written and what the estimates rest on."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from labelmill import load_demo, load_wrench
from labelmill.label_models import AutoLabelModel, WeightedMajorityVote
from labelmill.label_models.triplets import triplet_accuracies
from labelmill.lfs import lf_summary
from labelmill.pipeline import run

DATA = Path(__file__).resolve().parent / "data"


def test_weighted_majority_says_which_accuracies_are_stand_ins():
    """sms: most of the 73 LFs co-vote too little for a triplet estimate; they carry the
    prior accuracy 0.7, and a user must be able to tell them from estimates."""
    ds = load_wrench(DATA / "sms")
    L = ds.train.L
    wmv = WeightedMajorityVote().fit(L)
    _, n_triplets = triplet_accuracies(L)
    basis = wmv.accuracy_basis_
    assert set(basis) <= {"triplets", "prior", "cap", "floor"}
    np.testing.assert_array_equal(basis == "prior", n_triplets == 0)
    assert (basis == "prior").sum() > 30
    np.testing.assert_allclose(wmv.accuracy_[basis == "prior"], 0.7)
    assert (wmv.accuracy_[basis == "cap"] == 0.99).all()
    assert ((wmv.accuracy_[basis == "triplets"] > 0.5) & (wmv.accuracy_[basis == "triplets"] < 0.99)).all()
    summary = lf_summary(L, y=ds.train.gold, label_model=wmv)
    assert summary["est_basis"].tolist() == list(basis)
    # given weights: nothing is estimated
    given = WeightedMajorityVote(weights=np.ones(L.n_sources)).fit(L)
    assert set(given.accuracy_basis_) == {"given"}
    assert set(WeightedMajorityVote(estimator="agreement").fit(L).accuracy_basis_) <= {"agreement", "cap", "floor"}


def test_auto_passes_the_basis_through_to_the_summary_and_metrics(tmp_path):
    ds = load_wrench(DATA / "sms")
    auto = AutoLabelModel(candidates={"weighted_majority": WeightedMajorityVote()}).fit(ds.train.L)
    assert "est_basis" in lf_summary(ds.train.L, label_model=auto)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(ds, "weighted_majority", out_dir=tmp_path, cache=False)
    info = json.loads((tmp_path / "metrics.json").read_text())["label_model_info"]
    assert len(info["source_accuracy_basis"]) == len(info["source_accuracy"]) == 73
    assert all(a == pytest.approx(0.7) for a, b in zip(info["source_accuracy"], info["source_accuracy_basis"])
               if b == "prior")


def test_train_label_accuracy_is_that_of_the_written_labels():
    """Majority vote ties on many youtube rows; the train_labels figures must score the
    labels labels.parquet holds (ties broken at random), not a first-class argmax."""
    ds = load_demo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = run(ds, "majority", propagate_labels=True, cache=False)
    gold = ds.train.gold
    label = r.labels["label"].to_numpy()
    covered = r.labels["covered"].to_numpy()
    after = r.metrics["train_labels"]["after"]
    assert after["accuracy"] == pytest.approx((label == gold).mean())
    assert after["covered"]["accuracy"] == pytest.approx((label == gold)[covered].mean())
    assert after["uncovered"]["accuracy"] == pytest.approx((label == gold)[~covered].mean())


def test_a_table_with_nan_says_what_nan_means():
    from rich.console import Console

    from labelmill.cli import metrics_table

    def text(rows):
        console = Console(width=200, record=True)
        console.print(metrics_table("t", rows))
        return console.export_text()

    assert "nan: undefined here" in text({"uncovered": {"accuracy": float("nan"), "n": 0}})
    assert "nan" not in text({"all": {"accuracy": 0.5, "n": 4}})
