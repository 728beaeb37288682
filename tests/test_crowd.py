"""`labelmill.crowd.aggregate` and `labelmill aggregate`: one label per item from crowd
answers, on the duck-identification AMT task in its original long format
(tests/data/crowd_duck_orig: 4,212 answers, 108 questions x 39 workers, truth for all;
the `answers` and `truth` fixtures are in tests/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from labelmill.cli import main
from labelmill.crowd import aggregate
from labelmill.errors import DataFormatError, InvalidVotesError
from labelmill.label_models import DawidSkene, MajorityVote
from labelmill.lfs import crowd_matrix

ORIG = Path(__file__).resolve().parent / "data" / "crowd_duck_orig"
COLS = {"item": "question", "annotator": "worker", "label": "answer"}


@pytest.fixture(scope="module")
def duck(answers, truth):
    return aggregate(answers, **COLS, truth=truth)


def test_labels_are_dawid_skene_by_item(duck, answers, truth):
    """The default model is Dawid-Skene fitted on every item; rows come back by item id."""
    L = crowd_matrix(answers, **COLS)
    expected = DawidSkene(random_state=0).fit(L).predict_proba(L)
    items = np.sort(answers.question.unique())
    assert duck.labels.index.tolist() == items.tolist() and duck.labels.index.name == "question"
    np.testing.assert_allclose(duck.labels[["prob_0", "prob_1"]].to_numpy(), expected)
    np.testing.assert_array_equal(duck.labels["n_answers"], answers.groupby("question").size().loc[items])
    # 97 of the 108 questions right, the figure crowd-kit's Dawid-Skene reaches on this table
    assert duck.metrics["n"] == 108 and duck.metrics["accuracy"] == pytest.approx(97 / 108)
    hits = duck.labels["label"].to_numpy() == truth.loc[items].to_numpy()
    assert hits.sum() == 97


def test_annotator_table_by_hand(duck, answers):
    merged = answers.merge(duck.labels["label"], left_on="question", right_index=True)
    by_worker = merged.assign(hit=merged.answer == merged.label).groupby("worker")
    table = duck.annotators
    assert table.index.name == "annotator" and len(table) == 39
    for worker in (39, 1737):
        row = table.loc[str(worker)]
        assert row.n_answers == by_worker.size()[worker] == 108
        assert row.agreement == pytest.approx(by_worker.hit.mean()[worker])
    np.testing.assert_allclose(table["accuracy"], duck.model.accuracy_)
    # Dawid-Skene's accuracy estimate tracks the observed agreement on this dense table
    assert np.corrcoef(table["accuracy"], table["agreement"])[0, 1] > 0.95


def test_hand_worked_majority_case():
    """Three items: a 2-1 vote, a unanimous one, and a tie. Majority vote gives the
    winner probability 1 and splits a tie evenly; `label` breaks the tie with the seed."""
    table = pd.DataFrame({"item": ["a", "a", "a", "b", "b", "c", "c"],
                          "annotator": ["u", "v", "w", "u", "v", "u", "w"],
                          "label": [1, 1, 0, 0, 0, 0, 1]})
    res = aggregate(table, label_model="majority", truth={"a": 1, "b": 0})
    np.testing.assert_allclose(res.labels.loc["a", ["prob_0", "prob_1"]], [0, 1])
    np.testing.assert_allclose(res.labels.loc["b", ["prob_0", "prob_1"]], [1, 0])
    np.testing.assert_allclose(res.labels.loc["c", ["prob_0", "prob_1"]], [0.5, 0.5])
    assert res.labels.loc[["a", "b"], "label"].tolist() == [1, 0]
    assert res.metrics["n"] == 2 and res.metrics["accuracy"] == 1.0
    assert res.annotators["n_answers"].to_dict() == {"u": 3, "v": 2, "w": 2}
    assert res.annotators.loc["v", "agreement"] == 1.0


def test_invariant_to_answer_order_and_class_relabeling(answers, duck):
    shuffled = answers.sample(frac=1.0, random_state=1)
    res = aggregate(shuffled, **COLS)
    pd.testing.assert_frame_equal(res.labels, duck.labels)
    swapped = aggregate(answers.assign(answer=1 - answers.answer), **COLS)
    np.testing.assert_allclose(swapped.labels[["prob_1", "prob_0"]].to_numpy(),
                               duck.labels[["prob_0", "prob_1"]].to_numpy(), atol=1e-9)


def test_answers_and_truth_given_as_names(answers, truth, duck):
    names = np.array(["not_duck", "duck"])
    res = aggregate(answers.assign(answer=names[answers.answer]), **COLS, class_names=list(names),
                    truth=pd.Series(names[truth.to_numpy()], index=truth.index))
    np.testing.assert_allclose(res.labels[["prob_0", "prob_1"]], duck.labels[["prob_0", "prob_1"]])
    assert (res.labels["label_name"] == names[res.labels["label"]]).all()
    assert res.metrics == duck.metrics and res.class_names == list(names)


def test_other_models_and_parameters(answers, truth):
    mv = aggregate(answers, **COLS, label_model="majority", truth=truth)
    L = crowd_matrix(answers, **COLS)
    np.testing.assert_allclose(mv.labels[["prob_0", "prob_1"]], MajorityVote().fit(L).predict_proba(L))
    one_coin = aggregate(answers, **COLS, one_coin=True, smoothing=0.5)
    assert one_coin.model.one_coin and one_coin.model.smoothing == 0.5
    built = aggregate(answers, **COLS, label_model=DawidSkene(one_coin=True))
    np.testing.assert_allclose(built.labels["prob_1"], aggregate(answers, **COLS, one_coin=True).labels["prob_1"])
    with pytest.raises(TypeError, match="pass parameters to the label model you built"):
        aggregate(answers, **COLS, label_model=DawidSkene(), smoothing=0.5)


def test_bad_input_is_named(answers):
    with pytest.raises(DataFormatError, match=r"no column 'item', 'annotator', 'label'.*'question'"):
        aggregate(answers)
    with pytest.raises(DataFormatError, match=r"truth for item 11573 is 'yes', not a class id in \[0, 1\] "
                                              r"\(pass class_names"):
        aggregate(answers, **COLS, truth={11573: "yes"})
    with pytest.raises(DataFormatError, match="truth for item 11573 is 2"):
        aggregate(answers, **COLS, truth={11573: 2})
    with pytest.raises(DataFormatError, match="truth names none of the answered items"):
        aggregate(answers, **COLS, truth={-5: 1})
    with pytest.raises(DataFormatError, match="truth lists item 11573 more than once"):
        aggregate(answers, **COLS, truth=pd.Series([1, 0], index=[11573, 11573]))
    twice = pd.concat([answers, answers.iloc[:1]], ignore_index=True)
    with pytest.raises(InvalidVotesError, match="drop_duplicates"):
        aggregate(twice, **COLS)


# ------------------------------------------------------------------ the command
def _invoke(*args):
    return CliRunner().invoke(main, ["aggregate", *[str(a) for a in args]])


def test_cli_writes_labels_annotators_and_metrics(tmp_path, duck):
    out = tmp_path / "out"
    res = _invoke(ORIG / "answer.csv", "--item", "question", "--annotator", "worker", "--label", "answer",
                  "--truth", ORIG / "truth.csv", "--class-names", "not_duck,duck", "--out", out)
    assert res.exit_code == 0, res.output
    assert "108 items, 39 annotators, 4212 answers, 2 classes" in res.output
    assert "aggregated labels: not_duck 61, duck 47" in res.output and "0.898" in res.output
    labels = pd.read_parquet(out / "labels.parquet")
    assert list(labels.columns) == ["question", "prob_0", "prob_1", "label", "label_name", "n_answers"]
    np.testing.assert_allclose(labels[["prob_0", "prob_1"]], duck.labels[["prob_0", "prob_1"]])
    assert labels["question"].tolist() == duck.labels.index.tolist()
    annotators = pd.read_parquet(out / "annotators.parquet")
    assert list(annotators.columns) == ["annotator", "n_answers", "accuracy", "agreement"] and len(annotators) == 39
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["truth"]["accuracy"] == pytest.approx(97 / 108)
    assert (metrics["n_items"], metrics["n_annotators"], metrics["n_answers"]) == (108, 39, 4212)
    assert metrics["class_names"] == ["not_duck", "duck"] and metrics["label_model"] == "dawid_skene"


def test_cli_model_choice_and_bad_input(tmp_path):
    out = tmp_path / "o"
    base = [ORIG / "answer.csv", "--item", "question", "--annotator", "worker", "--label", "answer", "--out", out]
    res = _invoke(*base, "--label-model", "majority")
    assert res.exit_code == 0, res.output
    assert json.loads((out / "metrics.json").read_text())["label_model"] == "majority"
    res = _invoke(ORIG / "answer.csv", "--out", out)
    assert res.exit_code == 2 and "no column 'item'" in res.output and "Traceback" not in res.output
    res = _invoke(*base, "--class-names", "1,2")
    assert res.exit_code == 2 and "answer 0 at vote table row 0" in res.output
    res = _invoke(*base, "--truth", ORIG / "answer.csv")
    assert res.exit_code == 2 and "has no column 'truth'" in res.output
    res = _invoke(*base, "--param", "smoothing=-1")
    assert res.exit_code == 2 and "smoothing" in res.output
    res = _invoke(tmp_path / "missing.csv")
    assert res.exit_code == 2 and "no such file" in res.output
