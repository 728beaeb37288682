"""Temperature scaling, the calibrated wrapper and reliability diagrams."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelmill.end_models import CalibratedClassifier, TemperatureScaling, reliability_diagram
from labelmill.evaluation import expected_calibration_error


def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def fixed(T, k):
    s = TemperatureScaling(input="logits")
    s.temperature_, s.n_classes_ = T, k
    return s


@pytest.mark.parametrize("T_true", [0.5, 2.0, 4.0])
def test_recovers_the_temperature_that_generated_the_labels(T_true):
    rng = np.random.default_rng(0)
    Z = 3.0 * rng.standard_normal((4000, 3))
    P = softmax(Z / T_true)
    y = (rng.random(len(P))[:, None] > P.cumsum(axis=1)).sum(axis=1)
    s = TemperatureScaling().fit(Z, y)
    assert s.temperature_ == pytest.approx(T_true, rel=0.15)
    assert s.nll_after_ <= s.nll_before_
    # probabilities in, the same temperature out
    assert TemperatureScaling(input="proba").fit(softmax(Z), y).temperature_ == pytest.approx(s.temperature_, rel=1e-4)


def test_binary_decision_values_are_accepted():
    rng = np.random.default_rng(1)
    z = 4 * rng.standard_normal(2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-z / 2))).astype(int)
    s = TemperatureScaling().fit(z, y)
    assert s.temperature_ == pytest.approx(2.0, rel=0.2)
    assert s.transform(z).shape == (2000, 2)


@settings(max_examples=200, deadline=None)
@given(Z=arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(2, 6)),
                elements=st.floats(-60, 60, allow_nan=False, allow_infinity=False)),
       T=st.floats(0.01, 100))
def test_temperature_never_changes_the_predicted_class(Z, T):
    s = fixed(T, Z.shape[1])
    np.testing.assert_array_equal(s.transform(Z).argmax(axis=1), Z.argmax(axis=1))
    s_p = TemperatureScaling(input="proba")
    s_p.temperature_, s_p.n_classes_ = T, Z.shape[1]
    P = softmax(Z)
    out = s_p.transform(P)
    np.testing.assert_array_equal(out.argmax(axis=1), P.argmax(axis=1))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-9)


def test_near_ties_keep_their_argmax():
    Z = np.array([[0.0, np.nextafter(0.0, 1)], [1.0, np.nextafter(1.0, 2)], [5.0, 5.0]])
    out = fixed(50.0, 2).transform(Z)
    np.testing.assert_array_equal(out.argmax(axis=1), Z.argmax(axis=1))
    # probabilities one ulp apart, whose logs are equal (found by hypothesis)
    P = softmax(np.array([[0.0, 2.220446049250313e-16, 0.0, 0.0]]))
    s = TemperatureScaling(input="proba")
    s.temperature_, s.n_classes_ = 1.0, 4
    assert P.argmax() == 1 and s.transform(P).argmax() == 1


def test_reliability_diagram_agrees_with_evaluation_ece():
    rng = np.random.default_rng(2)
    P = rng.dirichlet(np.ones(3) * 0.5, 500)
    y = rng.integers(0, 3, 500)
    d = reliability_diagram(y, P, n_bins=10)
    assert d["edges"].shape == (11,) and d["count"].sum() == 500
    assert d["ece"] == pytest.approx(expected_calibration_error(P, y, n_bins=10))
    nz = d["count"] > 0
    recomputed = np.sum(d["count"][nz] / 500 * np.abs(d["confidence"][nz] - d["accuracy"][nz]))
    assert recomputed == pytest.approx(d["ece"])
    assert np.isnan(d["confidence"][~nz]).all()


def test_youtube_calibration_lowers_ece(youtube, youtube_logreg):
    _, model = youtube_logreg
    cal = CalibratedClassifier(model).fit(youtube.X_valid, youtube.y_valid)
    for X, y in [(youtube.X_valid, youtube.y_valid), (youtube.X_test, youtube.y_test)]:
        before = expected_calibration_error(model.predict_proba(X), y)
        after = expected_calibration_error(cal.predict_proba(X), y)
        assert after < before and after < 0.10, (before, after)
        np.testing.assert_array_equal(cal.predict(X), model.predict(X))


def test_calibrated_classifier_with_a_given_temperature(youtube, youtube_logreg):
    _, model = youtube_logreg
    P = CalibratedClassifier(model, temperature=1.0).predict_proba(youtube.X_test)
    np.testing.assert_allclose(P, model.predict_proba(youtube.X_test), atol=1e-12)
    with pytest.raises(ValueError, match="temperature"):
        CalibratedClassifier(model, temperature=0.0).predict_proba(youtube.X_test)


def test_a_given_temperature_survives_fit_and_too_few_rows_skip_calibration(youtube, youtube_logreg):
    """CalibratedClassifier(temperature=T).fit keeps T (and nothing else); the end-model
    stage does not calibrate on a handful of valid rows, where T would hit its bounds."""
    from labelmill.end_models.calibration import MIN_CALIBRATION_ROWS
    from labelmill.end_models.training import train_end_model

    _, model = youtube_logreg
    fixed = CalibratedClassifier(model, temperature=2.0).fit(youtube.X_valid, youtube.y_valid)
    assert fixed.temperature_ == 2.0 and fixed.method_ == "temperature" and fixed.isotonic_ is None
    y_few = np.full(len(youtube.y_valid), -1)
    y_few[:MIN_CALIBRATION_ROWS - 1] = youtube.y_valid[:MIN_CALIBRATION_ROWS - 1]
    res = train_end_model(youtube.X_train, youtube.soft, youtube.covered, youtube.X_valid, y_few, n_jobs=1,
                          c_grid=(1.0,), elr_grid=(0.0,))
    assert res.temperature == 1.0 and res.calibration["method"] is None
    assert "19 valid rows with gold" in res.calibration["skipped"]
    with pytest.raises(Exception, match=r"sample_weight must have shape \(1586,\)"):
        train_end_model(youtube.X_train, youtube.soft, youtube.covered, sample_weight=np.ones(5), n_jobs=1)


def test_calibration_stays_finite_when_the_temperature_hits_its_bound():
    """A separable valid set drives T to its lower bound; the other classes' mass becomes
    subnormal and must not overflow into inf in the isotonic step."""
    from labelmill.end_models import SoftLogisticRegression, TopLabelIsotonic

    iso = TopLabelIsotonic().fit(np.array([[.9, .1], [.8, .2], [.6, .4]]), np.array([0, 0, 1]))
    out = iso.transform(np.array([[1.0, 1e-320], [1e-320, 1.0]]))
    assert np.isfinite(out).all() and np.allclose(out.sum(axis=1), 1.0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = (X[:, 0] > 0).astype(int)
    base = SoftLogisticRegression().fit(X[:200], y[:200])
    for method in ("auto", "temperature+isotonic"):
        P = CalibratedClassifier(base, method=method).fit(X[200:], y[200:]).predict_proba(X[:200])
        assert np.isfinite(P).all() and np.allclose(P.sum(axis=1), 1.0)


def test_auto_input_is_decided_at_fit_so_a_row_does_not_depend_on_its_batch(youtube, youtube_logreg):
    """TemperatureScaling(input="auto") used to decide per call whether rows were
    probabilities or logits: a row's output changed with a neighbour summing to 1.0001."""
    _, model = youtube_logreg
    ts = TemperatureScaling().fit(model.predict_proba(youtube.X_valid), youtube.y_valid)
    assert ts.input_ == "proba" and ts.input == "auto"
    P = model.predict_proba(youtube.X_test)
    one = ts.transform(P[:1])
    with_neighbour = ts.transform(np.vstack([P[:1], [[0.1235, 0.8766]]]))
    np.testing.assert_allclose(with_neighbour[:1], one)
    from labelmill.end_models.training import train_end_model

    with pytest.raises(ValueError, match=r"y_valid row 0 is 2, outside \[-1, 1\]"):
        train_end_model(youtube.X_train, youtube.soft, youtube.covered, youtube.X_valid,
                        np.full(len(youtube.y_valid), 2), n_jobs=1)
