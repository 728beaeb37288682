"""What uncovered rows get after propagation: spreading, the class prior, or a classifier."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from labelmill.cli import main
from labelmill.datasets import load_wrench
from labelmill.errors import DataFormatError
from labelmill.propagation.uncovered_fill import FILL_C_GRID, choose_uncovered_fill, covered_row_classifier

SMS = Path(__file__).resolve().parent.parent / "data" / "sms"


def _onehot(labels, k=2):
    return np.eye(k)[np.asarray(labels)]


def test_choose_fill_by_hand():
    y = np.array([0, 1, 1, 0])
    spreading = _onehot([0, 0, 1, 1])      # 2/4 right
    three = _onehot([0, 1, 1, 1])          # 3/4
    four = _onehot(y)                      # 4/4
    # margin = 1 * sqrt(max(.5 * .5, 1/4) / 4) = 0.25: 3/4 does not beat 2/4 by more
    chosen, scores = choose_uncovered_fill({"spreading": spreading, "classifier": three}, y)
    assert chosen == "spreading" and scores == {"spreading": 0.5, "classifier": 0.75}
    assert choose_uncovered_fill({"spreading": spreading, "classifier": four}, y)[0] == "classifier"
    # with no margin the more accurate fill wins; an exact tie keeps the default
    assert choose_uncovered_fill({"spreading": spreading, "classifier": three}, y, z=0.0)[0] == "classifier"
    assert choose_uncovered_fill({"spreading": spreading, "prior": spreading.copy()}, y, z=0.0)[0] == "spreading"
    # a perfect default leaves 1/n as the variance floor, so a margin remains
    assert choose_uncovered_fill({"spreading": four, "prior": four}, y)[0] == "spreading"


def test_choose_fill_edge_cases():
    assert choose_uncovered_fill({"spreading": np.zeros((0, 2)), "prior": np.zeros((0, 2))},
                                 np.array([], dtype=int)) == ("spreading", {})
    with pytest.raises(ValueError, match="default fill 'spreading'"):
        choose_uncovered_fill({"prior": _onehot([0])}, np.array([0]))


def test_fill_choice_is_invariant_to_relabeling_classes():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 60)
    cands = {"spreading": rng.dirichlet(np.ones(3), 60), "prior": np.tile([0.5, 0.3, 0.2], (60, 1)),
             "classifier": np.where(rng.random((60, 1)) < 0.8, _onehot(y, 3), rng.dirichlet(np.ones(3), 60))}
    perm = np.array([2, 0, 1])  # class c becomes perm[c]
    inv = np.argsort(perm)
    moved = {n: P[:, inv] for n, P in cands.items()}
    assert choose_uncovered_fill(cands, y) == choose_uncovered_fill(moved, perm[y])
    assert choose_uncovered_fill(cands, y)[0] == "classifier"


@pytest.fixture(scope="module")
def sms():
    from labelmill.pipeline import choose_label_teacher, featurize_dataset, fit_label_model
    ds = load_wrench(SMS)
    model, _, parts = fit_label_model(ds, "auto")
    _, features = featurize_dataset(ds, "tfidf", parts, cache=False)
    # as `run` does: auto's most accurate model calls every sms ham; the teacher does not
    teacher, _ = choose_label_teacher(ds, model, parts, features)
    return ds, teacher, features


def test_covered_row_classifier_on_sms(sms):
    ds, model, features = sms
    L = ds.train.L
    covered = np.diff(L.indptr) > 0
    P = model.predict_proba(L)
    clf, C = covered_row_classifier(features["train"], P, covered, features["valid"], ds.valid.gold)
    assert C in FILL_C_GRID
    out = clf.predict_proba(features["valid"])
    assert out.shape == (len(ds.valid), 2)
    # spam keywords cover 40% of sms; the classifier learns from them and generalises
    assert (out.argmax(axis=1) == ds.valid.gold).mean() > 0.9
    with pytest.raises(DataFormatError, match="no covered rows"):
        covered_row_classifier(features["train"], P, np.zeros(len(P), dtype=bool))


@pytest.mark.parametrize("fill", ["prior", "classifier", "spreading"])
def test_explicit_fills_on_sms(sms, fill):
    from labelmill.pipeline import propagate, train_label_metrics
    ds, model, features = sms
    r = propagate(ds, model, "tfidf", features=features, uncovered_fill=fill)
    assert r.uncovered_fill["chosen"] == fill and r.uncovered_fill["requested"] == fill
    m = train_label_metrics(ds.train.gold, r.label_model_proba, r.proba, r.covered, 2)
    np.testing.assert_allclose(r.proba.sum(axis=1), 1.0, atol=1e-9)
    assert m["after"]["coverage"] == 1.0
    # covered rows keep the label model's labels whatever the fill
    np.testing.assert_allclose(r.proba[r.covered], r.label_model_proba[r.covered])
    unc = ~r.covered
    if fill == "prior":
        np.testing.assert_allclose(r.proba[unc], r.label_model_proba[unc])
        for key in ("accuracy", "macro_f1", "n"):
            assert m["after"]["uncovered"][key] == m["before"]["uncovered"][key]
    else:
        # sms: 88% of uncovered messages are ham; both fills find some of the spam
        assert m["after"]["uncovered"]["accuracy"] > m["before"]["uncovered"]["accuracy"] + 0.03


def test_auto_fill_follows_its_rule_on_sms(sms):
    from labelmill.pipeline import propagate
    ds, model, features = sms
    r = propagate(ds, model, "tfidf", features=features)
    info = r.uncovered_fill
    assert info["requested"] == "auto"
    assert set(info["valid_accuracy"]) == {"spreading", "prior", "classifier"}
    valid_uncovered = np.diff(ds.valid.L.indptr) == 0
    assert info["n_valid_uncovered"] == int(valid_uncovered.sum()) > 100
    acc, n = info["valid_accuracy"], info["n_valid_uncovered"]
    p = acc["spreading"]
    beats = max(acc.values()) > p + np.sqrt(max(p * (1 - p), 1 / n) / n)
    assert (info["chosen"] != "spreading") == beats


def test_cli_uncovered_fill(tmp_path):
    res = CliRunner().invoke(main, ["run", str(SMS), "--propagate", "--uncovered-fill", "classifier",
                                    "--no-cache", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "filled by classifier" in " ".join(res.output.split())  # the title may wrap
    fill = json.loads((tmp_path / "metrics.json").read_text())["train_labels"]["propagator"]["uncovered_fill"]
    assert fill["chosen"] == "classifier" and fill["classifier_C"] in FILL_C_GRID
    res = CliRunner().invoke(main, ["run", str(SMS), "--uncovered-fill", "prior", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "--uncovered-fill needs --propagate" in res.output


def test_unknown_fill_is_refused(sms):
    from labelmill.pipeline import propagate
    ds, model, features = sms
    with pytest.raises(ValueError, match="uncovered_fill must be"):
        propagate(ds, model, "tfidf", features=features, uncovered_fill="neighbours")


def test_without_valid_gold_auto_keeps_spreading_and_classifier_still_works(sms):
    from dataclasses import replace

    from labelmill.pipeline import propagate
    ds, model, features = sms
    no_valid = replace(ds, splits={"train": ds.train, "test": ds.test})
    r = propagate(no_valid, model, "tfidf", features=features)
    assert r.uncovered_fill == {"requested": "auto", "chosen": "spreading"}
    r = propagate(no_valid, model, "tfidf", features=features, uncovered_fill="classifier")
    assert r.uncovered_fill["chosen"] == "classifier" and r.uncovered_fill["classifier_C"] == 1.0
