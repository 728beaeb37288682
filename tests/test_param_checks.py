"""Out-of-range or wrongly typed parameters are refused at fit time with a message that
names the parameter and its allowed range (not accepted silently, not a numpy/torch
traceback), while __init__ stores them unchanged so cloning keeps working."""

from __future__ import annotations

import numpy as np
import pytest

from labelmill.datasets import load_demo
from labelmill.errors import DataFormatError
from labelmill.label_models import AutoLabelModel, DawidSkene, MajorityVote, MomentMatching, WeightedMajorityVote


@pytest.fixture(scope="module")
def youtube():
    return load_demo()


@pytest.fixture(scope="module")
def tfidf(youtube):
    from labelmill.features import TfidfFeaturizer

    return TfidfFeaturizer().fit_transform(youtube.train.examples)


# ------------------------------------------------------------------ label models
@pytest.mark.parametrize("params, match", [
    ({"lr": -0.01}, r"lr must be > 0 \(a real number\), got -0.01"),
    ({"lr": 0}, r"lr must be > 0 \(a real number\)"),
    ({"lr": "0.01"}, r"lr must be > 0 \(a real number\), got '0.01'"),
    ({"mu_eps": 0.6}, r"mu_eps must be in \(0, 0.5\) \(a real number, or None\), got 0.6"),
    ({"mu_eps": -0.1}, r"mu_eps must be"),
    ({"mu_eps": 0}, r"mu_eps must be"),
    ({"prec_init": -1}, r"prec_init must be in \(0, 1\] \(a real number\), got -1"),
    ({"prec_init": 1.5}, r"prec_init must be in \(0, 1\] \(a real number\)"),
    ({"init_scale": 0}, r"init_scale must be > 0 \(a real number\), got 0"),
    ({"momentum": 1.5}, r"momentum must be in \[0, 1\) \(a real number\), got 1.5"),
    ({"momentum": -0.1}, r"momentum must be"),
    ({"n_epochs": -5}, r"n_epochs must be >= 1 \(an integer\), got -5"),
    ({"n_epochs": 2.5}, r"n_epochs must be >= 1 \(an integer\), got 2.5"),
    ({"n_epochs": True}, r"n_epochs must be >= 1 \(an integer\), got True"),
    ({"balance_iter": 0, "class_balance": "estimated"}, r"balance_iter must be >= 1 \(an integer\)"),
    ({"lr": float("nan")}, r"lr must be > 0 \(a real number\)"),
])
def test_moment_matching_refuses_bad_params(youtube, params, match):
    model = MomentMatching(**params)
    assert model.get_params()[next(iter(params))] is params[next(iter(params))]  # stored unchanged
    with pytest.raises(ValueError, match=match):
        model.fit(youtube.train.L)


def test_moment_matching_valid_edge_params_fit(youtube):
    L = youtube.train.L
    for params in ({"mu_eps": 1e-6}, {"mu_eps": 0.49}, {"prec_init": 1.0}, {"momentum": 0.0}, {"n_epochs": 1},
                   {"n_epochs": np.int64(50)}, {"lr": np.float32(0.01)}):
        P = MomentMatching(**params).fit(L).predict_proba(L)
        assert np.isfinite(P).all()


def test_moment_matching_default_unchanged_by_checks(youtube):
    """Explicitly passing the defaults (as numpy scalars too) gives the very same model."""
    L, Lt = youtube.train.L, youtube.test.L
    a = MomentMatching().fit(L).predict_proba(Lt)
    b = MomentMatching(n_epochs=np.int64(100), lr=np.float64(0.01)).fit(L).predict_proba(Lt)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("params, match", [
    ({"smoothing": "0.1"}, r"smoothing must be >= 0 \(a real number\), got '0.1'"),
    ({"smoothing": -1}, r"smoothing must be >= 0 \(a real number\)"),
    ({"smoothing": True}, r"smoothing must be >= 0 \(a real number\)"),
    ({"diagonal_boost": float("inf")}, r"diagonal_boost must be >= 0 \(a real number\)"),
    ({"max_iter": 0}, r"max_iter must be >= 1 \(an integer\), got 0"),
    ({"max_iter": 10.5}, r"max_iter must be >= 1 \(an integer\), got 10.5"),
    ({"tol": -1e-3}, r"tol must be >= 0 \(a real number\)"),
    ({"tol": "1e-5"}, r"tol must be >= 0 \(a real number\)"),
])
def test_dawid_skene_refuses_bad_params(youtube, params, match):
    with pytest.raises(ValueError, match=match):
        DawidSkene(**params).fit(youtube.train.L)


@pytest.mark.parametrize("params, match", [
    ({"prior_accuracy": 2}, r"prior_accuracy must be in \(0, 1\) \(a real number\), got 2"),
    ({"prior_accuracy": -1}, r"prior_accuracy must be in \(0, 1\)"),
    ({"prior_accuracy": "0.7"}, r"prior_accuracy must be in \(0, 1\)"),
    ({"prior_strength": 0, "estimator": "agreement"}, r"prior_strength must be > 0 \(a real number\), got 0"),
    ({"prior_strength": -1}, r"prior_strength must be > 0"),
    ({"n_iter": 0, "estimator": "agreement"}, r"n_iter must be >= 1 \(an integer\), got 0"),
    ({"n_iter": -3}, r"n_iter must be >= 1 \(an integer\)"),
    ({"n_iter": 2.5}, r"n_iter must be >= 1 \(an integer\)"),
])
def test_weighted_majority_refuses_bad_params(youtube, params, match):
    """The default label model too: prior_strength=0 gave NaN probabilities, and an
    out-of-range prior_accuracy or n_iter was used silently."""
    model = WeightedMajorityVote(**params)
    assert model.get_params()[next(iter(params))] is params[next(iter(params))]  # stored unchanged
    with pytest.raises(ValueError, match=match):
        model.fit(youtube.train.L)


@pytest.mark.parametrize("params, match", [
    ({"n_source_folds": 0}, r"n_source_folds must be >= 2 \(an integer\), got 0"),
    ({"n_source_folds": 1}, r"n_source_folds must be >= 2 \(an integer\)"),
    ({"n_source_folds": 2.5}, r"n_source_folds must be >= 2 \(an integer\)"),
    ({"tolerance_se": -1}, r"tolerance_se must be >= 0 \(a real number\)"),
    ({"score_rows": "some"}, r"score_rows must be 'all' or 'covered'"),
    ({"candidates": {"x": "no_such_model"}},
     r"candidates\['x'\] = 'no_such_model' is not a label model name; accepted names are majority, "
     r"weighted_majority, dawid_skene, moments"),
    ({"candidates": {"x": "auto"}}, r"not a label model name"),
    ({"candidates": {"x": 3}}, r"candidates\['x'\] must be a label model"),
    ({"candidates": {}}, r"candidates must be None or a non-empty dict"),
    ({"candidates": ["majority"]}, r"candidates must be None or a non-empty dict"),
])
def test_auto_refuses_bad_params(youtube, params, match):
    with pytest.raises(ValueError, match=match):
        AutoLabelModel(**params).fit(youtube.train.L)


def test_auto_accepts_registry_names_as_candidates(youtube):
    ds = youtube
    by_name = AutoLabelModel(candidates={"mv": "majority", "ds": "dawid_skene"}).fit(
        ds.train.L, L_valid=ds.valid.L, y_valid=ds.valid.gold)
    by_model = AutoLabelModel(candidates={"mv": MajorityVote(), "ds": DawidSkene()}).fit(
        ds.train.L, L_valid=ds.valid.L, y_valid=ds.valid.gold)
    assert by_name.best_name_ == by_model.best_name_
    np.testing.assert_array_equal(by_name.predict_proba(ds.test.L), by_model.predict_proba(ds.test.L))
    assert by_name.candidates == {"mv": "majority", "ds": "dawid_skene"}  # the parameter is left as given
    unsup = AutoLabelModel(candidates={"mv": "majority", "mm": "moments"}).fit(ds.train.L)
    assert unsup.best_name_ in ("mv", "mm")


def test_cli_reports_bad_label_model_param(tmp_path):
    from click.testing import CliRunner

    from labelmill.cli import main

    res = CliRunner().invoke(main, ["run", "--demo", "--label-model", "moments", "--param", "lr=-0.01",
                                    "--out", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert "lr must be > 0 (a real number), got -0.01" in res.output
    assert "Traceback" not in res.output


# ------------------------------------------------------------------ propagation
@pytest.mark.parametrize("params, match", [
    ({"n_neighbors": 2.5}, r"n_neighbors must be >= 1 \(an integer\), got 2.5"),
    ({"n_neighbors": 0}, r"n_neighbors must be >= 1 \(an integer\)"),
    ({"n_neighbors": True}, r"n_neighbors must be >= 1 \(an integer\)"),
    ({"uncovered_anchor": -1}, r"uncovered_anchor must be in \[0, 1\] \(a real number\), got -1"),
    ({"uncovered_anchor": 1.5}, r"uncovered_anchor must be in \[0, 1\] \(a real number\)"),
    ({"alpha": 1.0}, r"alpha must be in \[0, 1\) \(a real number\)"),
    ({"max_iter": 0}, r"max_iter must be >= 1 \(an integer\)"),
    ({"max_iter": 10.0}, r"max_iter must be >= 1 \(an integer\)"),
    ({"tol": 0}, r"tol must be > 0 \(a real number\)"),
    ({"denoise_fraction": 2, "denoise": "correct"}, r"denoise fraction must be in \[0, 1\], got 2"),
    ({"keep_covered": "x"}, r"keep_covered must be True or False, got 'x'"),
])
def test_propagator_refuses_bad_params(youtube, tfidf, params, match):
    from labelmill.propagation import LabelPropagator

    L = youtube.train.L
    P = MajorityVote().fit(L).predict_proba(L)
    with pytest.raises(DataFormatError, match=match):
        LabelPropagator(**params).fit(tfidf, P, L.covered(), L=L)


# ------------------------------------------------------------------ end models
@pytest.mark.parametrize("params, match", [
    ({"threshold": 1.5}, r"threshold must be in \(0, 1\] \(a real number\), got 1.5"),
    ({"threshold": 0}, r"threshold must be in \(0, 1\]"),
    ({"rounds": -1}, r"rounds must be >= 0 \(an integer\), got -1"),
    ({"rounds": 1.5}, r"rounds must be >= 0 \(an integer\)"),
    ({"patience": 0}, r"patience must be > 0 \(an integer\)"),
    ({"label_weight": 2}, r"label_weight must be in \[0, 1\]"),
])
def test_self_trainer_refuses_bad_params(youtube, tfidf, params, match):
    from labelmill.end_models import SelfTrainer

    L = youtube.train.L
    P = MajorityVote().fit(L).predict_proba(L)
    with pytest.raises(ValueError, match=match):
        SelfTrainer(**params).fit(tfidf, P, L.covered())


@pytest.mark.parametrize("params, match", [
    ({"C": "1"}, r"C must be > 0 \(a real number\), got '1'"),
    ({"C": True}, r"C must be > 0 \(a real number\), got True"),
    ({"C": 0}, r"C must be > 0"),
    ({"C": -1.0}, r"C must be > 0"),
    ({"C": float("nan")}, r"C must be > 0"),
    ({"max_iter": 0}, r"max_iter must be > 0 \(an integer\)"),
    ({"max_iter": 100.5}, r"max_iter must be > 0 \(an integer\)"),
    ({"tol": -1}, r"tol must be >= 0"),
    ({"elr": -1}, r"elr must be >= 0"),
    ({"label_smoothing": 1.5}, r"label_smoothing must be in \[0, 1\]"),
    ({"mixup": True, "mixup_alpha": 0}, r"mixup_alpha must be > 0"),
])
def test_soft_logreg_refuses_bad_params(youtube, tfidf, params, match):
    from labelmill.end_models import SoftLogisticRegression

    with pytest.raises(ValueError, match=match):
        SoftLogisticRegression(**params).fit(tfidf, youtube.train.gold)


def test_soft_logreg_accepts_numpy_and_infinite_C(youtube, tfidf):
    from labelmill.end_models import SoftLogisticRegression

    y = youtube.train.gold
    a = SoftLogisticRegression(C=1.0).fit(tfidf, y)
    b = SoftLogisticRegression(C=np.float64(1.0), max_iter=np.int64(1000)).fit(tfidf, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    SoftLogisticRegression(C=np.inf, max_iter=20).fit(tfidf[:100], y[:100])  # no penalty: allowed


@pytest.mark.parametrize("params, match", [
    ({"epochs": 2.5}, r"epochs must be > 0 \(an integer\), got 2.5"),
    ({"epochs": 0}, r"epochs must be > 0 \(an integer\)"),
    ({"batch_size": 32.0}, r"batch_size must be > 0 \(an integer\)"),
    ({"patience": 1.5}, r"patience must be > 0 \(an integer\)"),
    ({"n_threads": 0}, r"n_threads must be > 0 \(an integer, or None\), got 0"),
    ({"n_threads": 2.5}, r"n_threads must be > 0 \(an integer, or None\)"),
    ({"hidden": (32.7,)}, r"hidden must be a tuple of layer widths, integers >= 1"),
    ({"hidden": (0,)}, r"hidden must be a tuple of layer widths"),
    ({"hidden": 64}, r"hidden must be a tuple of layer widths"),
    ({"hidden": "64"}, r"hidden must be a tuple of layer widths"),
    ({"hidden": (True,)}, r"hidden must be a tuple of layer widths"),
    ({"random_state": -1}, r"random_state must be >= 0 \(an integer, or None\), got -1"),
    ({"random_state": 1.5}, r"random_state must be >= 0 \(an integer, or None\)"),
    ({"lr": "0.1"}, r"lr must be > 0 \(a real number\)"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
])
def test_mlp_refuses_bad_params(youtube, tfidf, params, match):
    from labelmill.end_models import SoftMLPClassifier

    with pytest.raises(ValueError, match=match):
        SoftMLPClassifier(**{"epochs": 1, **params}).fit(tfidf, youtube.train.gold)


def test_mlp_accepts_list_and_numpy_widths(youtube, tfidf):
    pytest.importorskip("torch")
    from labelmill.end_models import SoftMLPClassifier

    y = youtube.train.gold
    a = SoftMLPClassifier(hidden=(16,), epochs=2).fit(tfidf, y).predict_proba(tfidf[:50])
    b = SoftMLPClassifier(hidden=[np.int64(16)], epochs=np.int64(2)).fit(tfidf, y).predict_proba(tfidf[:50])
    np.testing.assert_array_equal(a, b)


def test_calibrated_classifier_refuses_bad_temperature(youtube, tfidf):
    from labelmill.end_models import CalibratedClassifier, SoftLogisticRegression

    base = SoftLogisticRegression().fit(tfidf, youtube.train.gold)
    for bad in (0, -1.0, "2"):
        with pytest.raises(ValueError, match=r"temperature must be > 0"):
            CalibratedClassifier(base, temperature=bad).fit(tfidf[:50], youtube.train.gold[:50])
