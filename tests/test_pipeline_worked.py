"""The pipeline's outputs line up with its inputs, and a saved end model keeps what it
was given. Each test pins a behaviour that a plausible one-line bug (found by hand-made
mutation testing) left unobserved by the other tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from labelmill.features import TfidfFeaturizer


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X)


@pytest.fixture(scope="module")
def demo():
    from labelmill import load_demo
    return load_demo()


def test_labels_table_rows_are_the_split_rows_in_order_with_tie_breaking(demo):
    from labelmill.label_models import break_ties
    from labelmill.pipeline import run

    res = run(demo, "majority")
    labels, model = res.labels, res.model
    assert labels["id"].tolist() == demo.train.ids.astype(str).tolist()
    P = model.predict_proba(demo.train.L)
    np.testing.assert_array_equal(labels[["prob_0", "prob_1"]].to_numpy(), P)
    # majority vote has many exact ties: labels break them as break_ties does, not argmax (always 0)
    tied = np.isclose(P[:, 0], P[:, 1])
    assert tied.sum() > 10
    np.testing.assert_array_equal(labels["label"].to_numpy(), break_ties(P, model.random_state))
    assert set(labels.loc[tied, "label"]) == {0, 1}


def test_propagated_run_writes_the_propagated_probabilities(demo):
    from labelmill.pipeline import run

    res = run(demo, "majority", propagate_labels=True, cache=False)
    prop = res.extra["propagation"]
    np.testing.assert_array_equal(res.labels[["prob_0", "prob_1"]].to_numpy(), prop.proba)
    assert np.abs(prop.proba - prop.label_model_proba).max() > 0.1


def test_propagation_settings_are_scored_against_the_valid_gold_of_their_rows(demo):
    from labelmill.pipeline import fit_label_model, propagate

    model, _, parts = fit_label_model(demo, "majority")
    res = propagate(demo, model, cache=False)
    n_fit = sum(len(s) for s in parts)
    gold = demo.valid.gold
    P = res.propagator.proba_[n_fit:]
    assert P.shape[0] == len(gold)
    acc = float((P[gold >= 0].argmax(axis=1) == gold[gold >= 0]).mean())
    assert max(s["accuracy"] for s in res.selection) == pytest.approx(acc, abs=1e-12)


def test_run_outputs_land_together_or_not_at_all(demo, tmp_path, monkeypatch):
    import labelmill.pipeline as pipeline

    out = tmp_path / "out"
    pipeline.run(demo, "majority", out_dir=out)
    before = (out / "labels.parquet").read_bytes(), (out / "metrics.json").read_bytes()

    def fail(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "write_json_atomic", fail)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(demo, "dawid_skene", out_dir=out)  # other labels; metrics write fails
    assert ((out / "labels.parquet").read_bytes(), (out / "metrics.json").read_bytes()) == before
    assert sorted(p.name for p in out.iterdir()) == ["labels.parquet", "metrics.json"]


# ---------------------------------------------------------------- saved end models

class _ConstModel:
    """A picklable stand-in end model: fixed probabilities per row."""

    def predict_proba(self, X):
        n = X.shape[0]
        return np.tile([0.2, 0.7, 0.1], (n, 1))


def test_saved_model_keeps_class_name_order_and_span_input_columns(tmp_path):
    from labelmill.end_models.saved import is_model_folder, load_end_model, save_end_model

    df = pd.DataFrame({"text": ["alice married bob", "carol met dave"], "span1": [[0, 5], [0, 5]],
                       "span2": [[14, 17], [10, 14]]})
    f = TfidfFeaturizer(ngram_range=(1, 1)).fit(df)
    folder = save_end_model(tmp_path / "model", f, _ConstModel(), ["zebra", "apple", "mango"], "logreg")
    saved = load_end_model(folder)
    assert saved.class_names == ["zebra", "apple", "mango"]
    assert saved.meta["input_columns"] == ["text", "span1", "span2"]
    assert saved.predict(df).tolist() == [1, 1]
    assert saved.predict_proba(df.iloc[:0]).shape == (0, 3)
    from labelmill.errors import DataFormatError
    with pytest.raises(DataFormatError, match=r"no column\(s\) \['span1', 'span2'\]"):
        saved.predict_proba(pd.DataFrame({"text": pd.Series([], dtype=object)}))  # empty, but columns missing
    assert is_model_folder(folder)
    (folder / "notes.txt").write_text("mine")
    assert not is_model_folder(folder)  # a folder holding anything else is not ours to delete


def test_featurizer_is_fitted_on_the_fitted_rows_only(demo):
    from labelmill.pipeline import featurize_dataset

    f, X = featurize_dataset(demo, "tfidf", cache=False)
    own = TfidfFeaturizer().fit(demo.train.examples)
    assert f.vectorizer_.vocabulary_ == own.vectorizer_.vocabulary_
    np.testing.assert_array_equal(_dense(X["test"]), _dense(own.transform(demo.test.examples)))
