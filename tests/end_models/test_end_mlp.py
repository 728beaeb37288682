"""SoftMLPClassifier (torch extra): learns, is deterministic, takes sparse X and soft targets."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.sparse as sp

from labelmill.errors import MissingExtraError
from labelmill.end_models import SoftMLPClassifier


def test_missing_torch_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(MissingExtraError, match=r'pip install -c constraints.txt "labelmill\[torch\]"'):
        SoftMLPClassifier().fit(np.zeros((4, 2)), [0, 1, 0, 1])


def blobs(n=300, k=3, d=10, seed=0):
    rng = np.random.default_rng(seed)
    centers = 3 * rng.standard_normal((k, d))
    y = rng.integers(0, k, n)
    return (centers[y] + rng.standard_normal((n, d))).astype(np.float32), y


def test_learns_dense_and_sparse_soft_targets_deterministically():
    pytest.importorskip("torch")
    X, y = blobs()
    Y = 0.8 * np.eye(3)[y] + 0.2 / 3
    kw = dict(hidden=(16,), epochs=8, batch_size=32, lr=1e-2, random_state=1, n_threads=1)
    a = SoftMLPClassifier(**kw).fit(X, Y)
    assert (a.predict(X) == y).mean() > 0.95
    b = SoftMLPClassifier(**kw).fit(X, Y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    Xs = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0))
    s = SoftMLPClassifier(**kw, mixup=True, elr=1.0, label_smoothing=0.05).fit(Xs, Y)
    P = s.predict_proba(Xs)
    assert P.shape == (300, 3) and np.allclose(P.sum(axis=1), 1)
    assert (s.predict(Xs) == y).mean() > 0.9
    assert len(s.history_) == 8 and s.history_[-1]["loss"] < s.history_[0]["loss"]


def test_early_stopping_keeps_the_best_epoch():
    pytest.importorskip("torch")
    X, y = blobs(seed=2)
    m = SoftMLPClassifier(hidden=(8,), epochs=30, batch_size=64, patience=2, random_state=0).fit(
        X[:200], y[:200], X_valid=X[200:], y_valid=y[200:])
    accs = [h["valid_accuracy"] for h in m.history_]
    assert m.best_epoch_ == int(np.argmax(accs))
    assert (m.predict(X[200:]) == y[200:]).mean() == max(accs)


def test_youtube_mlp_small_and_fast(youtube):
    pytest.importorskip("torch")
    m = SoftMLPClassifier(hidden=(32,), epochs=10, batch_size=64, patience=3, random_state=0).fit(
        youtube.X_train, youtube.soft, X_valid=youtube.X_valid, y_valid=youtube.y_valid)
    assert (m.predict(youtube.X_test) == youtube.y_test).mean() >= 0.88


def test_fitted_mlp_pickles_and_predicts_on_either_format():
    pytest.importorskip("torch")
    import pickle

    X, y = blobs(n=80, seed=3)
    Xs = sp.csr_matrix(X)
    m = SoftMLPClassifier(hidden=(8,), epochs=2, random_state=0).fit(Xs, y)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_allclose(m2.predict_proba(Xs), m.predict_proba(Xs))
    np.testing.assert_allclose(m.predict_proba(X), m.predict_proba(Xs), atol=1e-6)  # dense X into a sparse-fitted net
    assert SoftMLPClassifier(hidden=(4,), epochs=1).fit(X, y % 2).decision_function(X).shape == (80,)


def test_sparse_first_layer_updates_only_the_features_it_sees():
    """Sparse input trains the first layer with sparse gradients: weight rows of features
    no row holds keep their initial values, and large vocabularies stay cheap."""
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    n, d = 300, 5000
    y = rng.integers(0, 2, n)
    cols = rng.integers(0, 100, size=(n, 5)) + 100 * y[:, None]  # only features 0..199 occur
    X = sp.csr_matrix((np.ones(n * 5, dtype=np.float32), cols.ravel(), np.arange(0, n * 5 + 1, 5)), shape=(n, d))
    X.sum_duplicates()
    Y = np.eye(2)[y]
    short = SoftMLPClassifier(hidden=(16,), epochs=1, batch_size=32, lr=1e-2).fit(X, Y)
    long = SoftMLPClassifier(hidden=(16,), epochs=5, batch_size=32, lr=1e-2).fit(X, Y)
    w_short = short.model_.first.bag.weight.detach().numpy()
    w_long = long.model_.first.bag.weight.detach().numpy()
    np.testing.assert_array_equal(w_short[200:], w_long[200:])
    assert np.abs(w_short[:200] - w_long[:200]).max() > 1e-3
    assert (long.predict(X) == y).mean() > 0.95


@pytest.mark.parametrize("params, message", [
    ({"elr": -1.0}, "elr must be >= 0"), ({"elr": 1.0, "elr_beta": 1.0}, "elr_beta must be in"),
    ({"mixup": True, "mixup_alpha": 0}, "mixup_alpha must be > 0"), ({"batch_size": 0}, "batch_size must be > 0"),
    ({"hidden": 16}, "hidden must be a tuple"), ({"dropout": 1.0}, "dropout must be in"),
])
def test_bad_parameters_are_refused_before_training(params, message):
    pytest.importorskip("torch")
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=message):
        SoftMLPClassifier(**params).fit(X, (X[:, 0] > 0).astype(int))
