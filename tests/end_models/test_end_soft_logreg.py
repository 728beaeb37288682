"""SoftLogisticRegression: equals scikit-learn on hard labels, soft targets, options, youtube."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from labelmill.end_models import SoftLogisticRegression, mixup
from labelmill.end_models.options import draw_mixup

TIGHT = dict(tol=1e-10, max_iter=5000)


def data(k, n=300, d=15, seed=0):
    X, y = make_classification(n, d, n_informative=6, n_classes=k, n_clusters_per_class=1, random_state=seed)
    return X, y


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("C", [0.05, 1.0, 20.0])
def test_matches_sklearn_logistic_regression(k, C):
    X, y = data(k)
    sk = LogisticRegression(C=C, **TIGHT).fit(X, y)
    ours = SoftLogisticRegression(C=C, **TIGHT).fit(X, y)
    assert ours.coef_.shape == sk.coef_.shape and ours.intercept_.shape == sk.intercept_.shape
    np.testing.assert_allclose(ours.coef_, sk.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, sk.intercept_, atol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-7)
    np.testing.assert_array_equal(ours.predict(X), sk.predict(X))


@pytest.mark.parametrize("k", [2, 3])
def test_matches_sklearn_with_sample_weight_and_no_intercept(k):
    X, y = data(k, seed=1)
    w = np.random.default_rng(0).uniform(0.1, 3.0, len(y))
    sk = LogisticRegression(C=0.5, fit_intercept=False, **TIGHT).fit(X, y, sample_weight=w)
    ours = SoftLogisticRegression(C=0.5, fit_intercept=False, **TIGHT).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, sk.coef_, atol=1e-6)


@pytest.mark.parametrize("k", [2, 3])
def test_one_hot_soft_targets_equal_hard_fit(k):
    X, y = data(k, seed=2)
    hard = SoftLogisticRegression(C=2.0, **TIGHT).fit(X, y)
    soft = SoftLogisticRegression(C=2.0, **TIGHT).fit(X, np.eye(k)[y])
    np.testing.assert_allclose(soft.coef_, hard.coef_, atol=1e-8)
    np.testing.assert_array_equal(soft.predict(X), hard.predict(X))
    np.testing.assert_array_equal(soft.classes_, np.arange(k))


def test_hard_labels_keep_their_class_values():
    X, y = data(3, seed=3)
    names = np.array(["ham", "spam", "eggs"])[y]
    m = SoftLogisticRegression().fit(X, names)
    assert set(m.predict(X)) <= set(names) and list(m.classes_) == sorted(set(names))


def test_soft_targets_equal_weighted_duplicates():
    """A soft row (a, 1-a) is the same objective as two hard copies weighted a and 1-a."""
    X, y = data(2, n=120, seed=4)
    a = np.random.default_rng(1).uniform(0, 1, len(y))
    soft = SoftLogisticRegression(C=1.0, **TIGHT).fit(X, np.column_stack([1 - a, a]))
    X2, y2, w2 = np.vstack([X, X]), np.r_[np.zeros(len(y)), np.ones(len(y))].astype(int), np.r_[1 - a, a]
    dup = LogisticRegression(C=1.0, **TIGHT).fit(X2, y2, sample_weight=w2)
    np.testing.assert_allclose(soft.coef_, dup.coef_, atol=1e-6)


def test_sparse_float32_matches_dense_float64():
    X, y = data(3, seed=5)
    dense = SoftLogisticRegression(C=1.0, **TIGHT).fit(X, y)
    Xs = sp.csr_matrix(X.astype(np.float32))
    sparse = SoftLogisticRegression(C=1.0, tol=1e-7, max_iter=5000).fit(Xs, y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=2e-3)
    assert (sparse.predict(Xs) == dense.predict(X)).mean() > 0.99
    assert sparse.predict_proba(Xs).dtype == np.float64
    # coo / csr_array inputs are accepted too
    np.testing.assert_allclose(sparse.predict_proba(sp.coo_matrix(Xs)), sparse.predict_proba(Xs))
    np.testing.assert_allclose(sparse.predict_proba(sp.csr_array(Xs)), sparse.predict_proba(Xs))


def test_output_shapes_and_sklearn_protocol():
    X, y = data(2)
    m = SoftLogisticRegression(C=3.0).fit(X, y)
    assert m.decision_function(X).shape == (len(y),)
    P = m.predict_proba(X)
    assert P.shape == (len(y), 2) and np.allclose(P.sum(axis=1), 1)
    np.testing.assert_allclose(np.exp(m.predict_log_proba(X)), P)
    assert m.score(X, y) > 0.8 and m.n_features_in_ == X.shape[1] and m.n_iter_ > 0
    c = clone(m)
    assert c.get_params() == m.get_params() and not hasattr(c, "coef_")
    X3, y3 = data(3)
    assert SoftLogisticRegression().fit(X3, y3).decision_function(X3).shape == (len(y3), 3)


def test_warm_start_reuses_coefficients():
    X, y = data(3)
    m = SoftLogisticRegression(C=1.0, warm_start=True, tol=1e-8).fit(X, y)
    first = m.n_iter_
    m.fit(X, y)
    assert m.n_iter_ < first


def test_label_smoothing_zero_is_a_no_op_and_positive_softens():
    X, y = data(3)
    a = SoftLogisticRegression(C=5.0).fit(X, y)
    b = SoftLogisticRegression(C=5.0, label_smoothing=0.0).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    c = SoftLogisticRegression(C=5.0, label_smoothing=0.3).fit(X, y)
    assert c.predict_proba(X).max(axis=1).mean() < a.predict_proba(X).max(axis=1).mean()


@pytest.mark.parametrize("k", [2, 3])
def test_implicit_mixup_equals_fitting_explicitly_mixed_rows(k):
    """mixup=True never materialises mixed rows; it must fit what explicit mixing would."""
    X, y = data(k, seed=6)
    Xs = sp.csr_matrix(X)
    Y = np.eye(k)[y]
    m = SoftLogisticRegression(C=1.0, mixup=True, mixup_alpha=0.4, random_state=7, **TIGHT).fit(Xs, Y)
    perm, lam = draw_mixup(len(y), 0.4, 7)
    Xm, Ym, wm = mixup(Xs, Y, lam=lam, perm=perm, sample_weight=np.ones(len(y)))
    ref = SoftLogisticRegression(C=1.0, **TIGHT).fit(Xm, Ym, sample_weight=wm)
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-6)


def test_mixup_never_mixes_in_zero_weight_rows():
    X, y = data(2, seed=8)
    w = np.ones(len(y))
    w[::3] = 0.0
    a = SoftLogisticRegression(mixup=True, **TIGHT).fit(X, y, sample_weight=w)
    X2, y2 = X.copy(), y.copy()
    X2[::3] = 100.0 * np.random.default_rng(0).standard_normal(X2[::3].shape)  # garbage in dropped rows
    y2[::3] = 1 - y2[::3]
    b = SoftLogisticRegression(mixup=True, **TIGHT).fit(X2, y2, sample_weight=w)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6)


def test_elr_runs_and_pulls_predictions_towards_confidence():
    X, y = data(3, seed=9)
    plain = SoftLogisticRegression(C=0.3).fit(X, y)
    elr = SoftLogisticRegression(C=0.3, elr=3.0, elr_rounds=3).fit(X, y)
    assert elr.n_iter_ > plain.n_iter_
    assert elr.predict_proba(X).max(axis=1).mean() > plain.predict_proba(X).max(axis=1).mean()
    assert (elr.predict(X) == y).mean() >= (plain.predict(X) == y).mean() - 0.05


def test_deterministic_under_random_state():
    X, y = data(3)
    a = SoftLogisticRegression(mixup=True, elr=1.0, random_state=3).fit(X, y)
    b = SoftLogisticRegression(mixup=True, elr=1.0, random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


# ---------------------------------------------------------------------------- youtube
def test_youtube_soft_label_logreg_reaches_090_test_accuracy(youtube, youtube_logreg):
    C, model = youtube_logreg  # C chosen on the valid split only
    acc = float((model.predict(youtube.X_test) == youtube.y_test).mean())
    assert acc >= 0.90, f"test accuracy {acc:.3f} with C={C}"


@pytest.mark.parametrize("options", [dict(mixup=True), dict(label_smoothing=0.1), dict(elr=1.0)],
                         ids=["mixup", "smoothing", "elr"])
def test_youtube_options_keep_test_accuracy(youtube, tune, options):
    _, C, model = tune(lambda C: SoftLogisticRegression(C=C, **options), youtube)
    acc = float((model.predict(youtube.X_test) == youtube.y_test).mean())
    assert acc >= 0.90, f"{options}: test accuracy {acc:.3f} with C={C}"


def test_youtube_soft_labels_beat_the_label_model_argmax_on_covered_rows(youtube, youtube_logreg):
    """The end model generalises: on test it is better than the label model was on train."""
    C, model = youtube_logreg
    hard = SoftLogisticRegression(C=C).fit(youtube.X_train[youtube.covered],
                                           youtube.soft[youtube.covered].argmax(axis=1))
    soft_acc = (model.predict(youtube.X_test) == youtube.y_test).mean()
    hard_acc = (hard.predict(youtube.X_test) == youtube.y_test).mean()
    assert soft_acc >= hard_acc - 0.02


# ------------------------------------------------------------------ scikit-learn checks
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

#: deliberate departures from scikit-learn: -1 is labelmill's abstain (rejected as a
#: label, so abstains never train silently), and bad X raises DataFormatError (a
#: ValueError), not TypeError
SKLEARN_EXPECTED_FAILURES = {
    "check_classifiers_classes": "negative labels are rejected: -1 means abstain in labelmill",
    "check_dtype_object": "non-numeric X raises DataFormatError (a ValueError), not TypeError",
}


@parametrize_with_checks([SoftLogisticRegression()],
                         expected_failed_checks=lambda est: SKLEARN_EXPECTED_FAILURES)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
