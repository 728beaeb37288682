"""scikit-learn conformance of the end models, propagator, featurizers and calibrators:
``score`` and model selection on soft targets, DataFrame column names, ``clone``
round trips and featurizers inside a ``Pipeline``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline

from labelmill.datasets import load_demo
from labelmill.end_models import (CalibratedClassifier, SelfTrainer, SoftLogisticRegression, SoftMLPClassifier,
                                  TemperatureScaling, TopLabelIsotonic)
from labelmill.errors import DataFormatError
from labelmill.features import EmbeddingFeaturizer, NumericFeaturizer, TfidfFeaturizer
from labelmill.propagation import LabelPropagator


@pytest.fixture(scope="module")
def ds():
    return load_demo()


# ------------------------------------------------------------ 1. score on soft targets
def test_score_on_soft_targets_is_accuracy_against_argmax(youtube):
    X, P = youtube.X_train, youtube.soft
    m = SoftLogisticRegression().fit(X, P)
    expected = float((m.predict(X) == P.argmax(axis=1)).mean())
    assert m.score(X, P) == pytest.approx(expected)
    w = np.linspace(0.1, 2.0, X.shape[0])
    hit = (m.predict(X) == P.argmax(axis=1)).astype(float)
    assert m.score(X, P, sample_weight=w) == pytest.approx(float(hit @ w / w.sum()))
    # 1-D labels: scikit-learn's score, unchanged
    assert m.score(youtube.X_test, youtube.y_test) == pytest.approx(float((m.predict(youtube.X_test) == youtube.y_test).mean()))
    with pytest.raises(DataFormatError, match="3 columns but the model has 2 classes"):
        m.score(X, np.full((X.shape[0], 3), 1 / 3))


def test_score_soft_targets_with_string_classes(youtube):
    """Fitted on string labels: soft column j stands for classes_[j]."""
    names = np.array(["ham", "spam"])
    m = SoftLogisticRegression().fit(youtube.X_train, names[youtube.soft.argmax(axis=1)])
    assert m.score(youtube.X_train, youtube.soft) == pytest.approx(
        float((m.predict(youtube.X_train) == names[youtube.soft.argmax(axis=1)]).mean()))


def test_grid_search_and_cross_val_score_on_soft_targets(youtube):
    X, P = youtube.X_train, youtube.soft
    scores = cross_val_score(SoftLogisticRegression(), X, P, cv=3, error_score="raise")
    assert scores.shape == (3,) and (scores > 0.7).all()
    gs = GridSearchCV(SoftLogisticRegression(), {"C": [0.1, 1.0, 10.0]}, cv=3, error_score="raise").fit(X, P)
    assert gs.best_params_["C"] in (0.1, 1.0, 10.0)
    assert gs.best_estimator_.score(youtube.X_test, youtube.y_test) > 0.8


def test_soft_neg_log_loss_scorer_worked_case():
    """Two rows, hand-computed: -(0.7 log 0.8 + 0.3 log 0.2 + log 0.6) / 2."""
    from labelmill.end_models.scoring import soft_cross_entropy

    P = np.array([[0.8, 0.2], [0.4, 0.6]])
    Y = np.array([[0.7, 0.3], [0.0, 1.0]])
    expected = -(0.7 * np.log(0.8) + 0.3 * np.log(0.2) + np.log(0.6)) / 2
    assert soft_cross_entropy(P, Y) == pytest.approx(expected)
    assert soft_cross_entropy(P, np.array([0, 1])) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)
    assert soft_cross_entropy(P, Y, sample_weight=[0.0, 1.0]) == pytest.approx(-np.log(0.6))
    with pytest.raises(DataFormatError, match="class ids in"):
        soft_cross_entropy(P, np.array([0, 2]))
    with pytest.raises(DataFormatError, match=r"shape \(2, 3\)"):
        soft_cross_entropy(P, np.full((2, 3), 1 / 3))


def test_soft_neg_log_loss_scorer_in_grid_search(youtube):
    """`scoring="neg_log_loss"` fails on soft targets; `soft_neg_log_loss` ranks by the
    cross-entropy against them, and on 1-D labels it agrees with sklearn's scorer."""
    from sklearn.metrics import get_scorer

    from labelmill.end_models import soft_neg_log_loss

    X, P = youtube.X_train, youtube.soft
    with pytest.raises(ValueError):
        GridSearchCV(SoftLogisticRegression(), {"C": [1.0]}, cv=2, scoring="neg_log_loss",
                     error_score="raise").fit(X, P)
    gs = GridSearchCV(SoftLogisticRegression(), {"C": [0.01, 1.0, 100.0]}, cv=3, scoring=soft_neg_log_loss,
                      error_score="raise").fit(X, P)
    m = SoftLogisticRegression(C=1.0).fit(X, P)
    ce = -(P * np.log(np.clip(m.predict_proba(X), 1e-300, 1))).sum(axis=1).mean()
    assert soft_neg_log_loss(m, X, P) == pytest.approx(-ce)
    assert np.isfinite(gs.cv_results_["mean_test_score"]).all() and (gs.cv_results_["mean_test_score"] < 0).all()
    assert gs.best_params_["C"] == gs.cv_results_["params"][int(np.argmax(gs.cv_results_["mean_test_score"]))]["C"]
    # 1-D labels, also as strings: the same value as scikit-learn's neg_log_loss
    assert soft_neg_log_loss(m, youtube.X_test, youtube.y_test) == pytest.approx(
        get_scorer("neg_log_loss")(m, youtube.X_test, youtube.y_test))
    names = np.array(["ham", "spam"])
    ms = SoftLogisticRegression().fit(X, names[P.argmax(axis=1)])
    assert soft_neg_log_loss(ms, youtube.X_test, names[youtube.y_test]) == pytest.approx(
        get_scorer("neg_log_loss")(ms, youtube.X_test, names[youtube.y_test]))
    with pytest.raises(DataFormatError, match="'eggs' \\(row 0\\)"):
        soft_neg_log_loss(ms, youtube.X_test[:2], np.array(["eggs", "ham"]))
    with pytest.raises(DataFormatError, match="3 columns but the model has 2 classes"):
        soft_neg_log_loss(m, X, np.full((X.shape[0], 3), 1 / 3))


def test_mlp_score_on_soft_targets(youtube):
    pytest.importorskip("torch")
    X, P = youtube.X_train, youtube.soft
    m = SoftMLPClassifier(hidden=(16,), epochs=3).fit(X, P)
    assert m.score(X, P) == pytest.approx(float((m.predict(X) == P.argmax(axis=1)).mean()))
    scores = cross_val_score(SoftMLPClassifier(hidden=(16,), epochs=2), X, P, cv=2, error_score="raise")
    assert scores.shape == (2,)


# ------------------------------------------------------------ 2. DataFrame column names
def _table(n=400, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"age": rng.normal(40, 10, n), "income": rng.normal(0, 1, n), "noise": rng.normal(0, 1, n)})
    return df, (df["income"] > 0).astype(int).to_numpy()


@pytest.mark.parametrize("make", [SoftLogisticRegression, lambda: SoftMLPClassifier(hidden=(8,), epochs=3)])
def test_dataframe_column_order_is_checked(make):
    if make is not SoftLogisticRegression:
        pytest.importorskip("torch")
    df, y = _table()
    m = make().fit(df, y)
    np.testing.assert_array_equal(m.feature_names_in_, ["age", "income", "noise"])
    reordered = df[["noise", "income", "age"]]
    for method in (m.predict, m.predict_proba, m.decision_function):
        with pytest.raises(DataFormatError, match=r"column 0 is 'noise', expected 'age' \(same columns in another "
                                                  r"order\)"):
            method(reordered)
    with pytest.raises(DataFormatError, match=r"column 2 is 'other', expected 'noise'.*unseen at fit: \['other'\]"):
        m.predict(df.rename(columns={"noise": "other"}))
    # the same columns in the same order, numpy and the fitted columns selected: as before
    np.testing.assert_array_equal(m.predict(df), m.predict(df.to_numpy()))
    np.testing.assert_array_equal(m.predict(reordered[m.feature_names_in_]), m.predict(df))


def test_feature_names_forgotten_on_numpy_refit_and_numeric_column_names():
    df, y = _table()
    m = SoftLogisticRegression().fit(df, y)
    m.fit(df.to_numpy(), y)
    assert not hasattr(m, "feature_names_in_")
    m.predict(df[["noise", "income", "age"]])  # no names recorded: read by position, as numpy
    m2 = SoftLogisticRegression().fit(pd.DataFrame(df.to_numpy()), y)  # integer column names: not recorded
    assert not hasattr(m2, "feature_names_in_")


def test_numpy_and_dataframe_fits_agree():
    df, y = _table()
    a = SoftLogisticRegression().fit(df, y)
    b = SoftLogisticRegression().fit(df.to_numpy(), y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_self_trainer_checks_dataframe_columns():
    df, y = _table()
    P = np.eye(2)[y] * 0.8 + 0.1
    st = SelfTrainer(rounds=1).fit(df, P)
    np.testing.assert_array_equal(st.feature_names_in_, ["age", "income", "noise"])
    with pytest.raises(DataFormatError, match="column 0 is 'noise', expected 'age'"):
        st.predict(df[["noise", "income", "age"]])
    with pytest.raises(DataFormatError, match="column 0 is 'noise', expected 'age'"):
        SelfTrainer(rounds=1).fit(df, P, X_valid=df[["noise", "income", "age"]], y_valid=y)


# ------------------------------------------------------------ 4. clone / get_params
def _same(a, b):
    if hasattr(a, "toarray"):
        a, b = a.toarray(), b.toarray()
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _roundtrip(obj):
    twin = clone(obj)
    assert type(twin) is type(obj)
    assert twin.get_params(deep=False).keys() == obj.get_params(deep=False).keys()
    for key, value in obj.get_params(deep=False).items():
        other = twin.get_params(deep=False)[key]
        if hasattr(value, "get_params"):
            assert type(other) is type(value) and other.get_params() == value.get_params()
        else:
            assert other == value
    assert "object at 0x" not in repr(obj)
    return twin


def test_propagator_clone_refits_identically(ds, youtube):
    L = ds.train.L
    lp = LabelPropagator(n_neighbors=7, uncovered_anchor=0.2, denoise="weight").fit(
        youtube.X_train, youtube.soft, L.covered(), L=L)
    twin = _roundtrip(lp)
    assert not hasattr(twin, "proba_")
    twin.fit(youtube.X_train, youtube.soft, L.covered(), L=L)
    _same(lp.proba_, twin.proba_)
    _same(lp.weights_, twin.weights_)
    assert repr(lp) == "LabelPropagator(denoise='weight', n_neighbors=7, uncovered_anchor=0.2)"
    assert lp.set_params(n_neighbors=5).n_neighbors == 5


def test_featurizers_clone_refit_identically(ds):
    train, test = ds.train.examples, ds.test.examples
    tf = TfidfFeaturizer(min_df=2, ngram_range=(1, 1)).fit(train)
    _same(tf.transform(test), _roundtrip(tf).fit(train).transform(test))
    assert repr(tf) == "TfidfFeaturizer(min_df=2, ngram_range=(1, 1))"
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"id": np.arange(50), "a": rng.normal(size=50), "b": np.arange(50.0), "c": rng.normal(size=50)})
    for nf in (NumericFeaturizer(), NumericFeaturizer(columns="a"), NumericFeaturizer(columns=("a", "b")),
               NumericFeaturizer(exclude="c"), NumericFeaturizer(exclude=["c", "b"], standardize=False)):
        nf.fit(table)
        _same(nf.transform(table), _roundtrip(nf).fit(table).transform(table))
    assert NumericFeaturizer(exclude="c").fit(table).columns_ == ["a", "b"]  # "c", not the letters of a string
    assert NumericFeaturizer(columns="a").fit(table).columns_ == ["a"]
    ef = EmbeddingFeaturizer(batch_size=16)
    assert _roundtrip(ef).batch_size == 16


def test_numeric_featurizer_stores_params_unchanged_and_keeps_spec():
    nf = NumericFeaturizer(columns="a", exclude=("id", "x"))
    assert nf.columns == "a" and nf.exclude == ("id", "x")
    assert nf.spec() == {"name": "numeric", "params": {"columns": ["a"], "standardize": True,
                                                       "exclude": ["id", "x"], "skip_id_columns": True}}
    assert NumericFeaturizer().spec()["params"]["exclude"] == ["id"]
    table = pd.DataFrame({"id": [1, 2, 3], "a": [1.0, 2.0, 4.0], "b": [0.0, 1.0, 0.0]})
    fitted = NumericFeaturizer().fit(table)
    assert fitted.spec()["params"]["columns"] == ["a", "b"]
    assert NumericFeaturizer().columns_in(table) == ["a", "b"]
    assert NumericFeaturizer(columns=("b",)).columns_in(table) == ["b"]


def test_self_trainer_clone_refits_identically(youtube):
    st = SelfTrainer(student=SoftLogisticRegression(C=3.0), rounds=2, threshold=0.8).fit(
        youtube.X_train, youtube.soft, youtube.covered, youtube.X_valid, youtube.y_valid)
    twin = _roundtrip(st)
    assert twin.student is not st.student and twin.student.C == 3.0
    twin.fit(youtube.X_train, youtube.soft, youtube.covered, youtube.X_valid, youtube.y_valid)
    _same(st.predict_proba(youtube.X_test), twin.predict_proba(youtube.X_test))
    assert st.get_params()["student__C"] == 3.0


def test_calibrators_clone_refit_identically(youtube):
    base = SoftLogisticRegression().fit(youtube.X_train, youtube.soft)
    Pv, Pt = base.predict_proba(youtube.X_valid), base.predict_proba(youtube.X_test)
    ts = TemperatureScaling(input="proba").fit(Pv, youtube.y_valid)
    _same(ts.transform(Pt), _roundtrip(ts).fit(Pv, youtube.y_valid).transform(Pt))
    ti = TopLabelIsotonic().fit(Pv, youtube.y_valid)
    _same(ti.transform(Pt), _roundtrip(ti).fit(Pv, youtube.y_valid).transform(Pt))
    cc = CalibratedClassifier(base, method="temperature").fit(youtube.X_valid, youtube.y_valid)
    twin = _roundtrip(cc)  # clones the base too (unfitted), as scikit-learn does
    assert not hasattr(twin.base, "coef_")
    from sklearn.frozen import FrozenEstimator

    frozen = CalibratedClassifier(FrozenEstimator(base), method="temperature").fit(youtube.X_valid, youtube.y_valid)
    _same(cc.predict_proba(youtube.X_test), frozen.predict_proba(youtube.X_test))
    refit = clone(frozen).fit(youtube.X_valid, youtube.y_valid)
    _same(cc.predict_proba(youtube.X_test), refit.predict_proba(youtube.X_test))


# ------------------------------------------------------------ 4. featurizer in a Pipeline
def test_featurizer_pipeline_with_soft_logreg(ds):
    train, test = ds.train.examples, ds.test.examples
    pipe = Pipeline([("feat", TfidfFeaturizer()), ("clf", SoftLogisticRegression())]).fit(train, ds.train.gold)
    by_hand = SoftLogisticRegression().fit(TfidfFeaturizer().fit_transform(train), ds.train.gold)
    X_test = TfidfFeaturizer().fit(train).transform(test)
    np.testing.assert_array_equal(pipe.predict(test), by_hand.predict(X_test))
    assert pipe.score(test, ds.test.gold) > 0.8
    gs = GridSearchCV(pipe, {"clf__C": [0.3, 3.0], "feat__ngram_range": [(1, 1), (1, 2)]}, cv=3).fit(train, ds.train.gold)
    assert set(gs.best_params_) == {"clf__C", "feat__ngram_range"}


def test_featurizer_fit_transform_ignores_y(ds):
    train = ds.train.examples
    tf = TfidfFeaturizer()
    _same(tf.fit_transform(train, ds.train.gold), TfidfFeaturizer().fit_transform(train))
    assert TfidfFeaturizer().fit(train, ds.train.gold).n_features_ == tf.n_features_
