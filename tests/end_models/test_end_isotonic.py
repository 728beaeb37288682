"""Top-label isotonic calibration and CalibratedClassifier's choice of method."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelmill.end_models import CalibratedClassifier, TopLabelIsotonic
from labelmill.errors import DataFormatError
from labelmill.evaluation import expected_calibration_error


def test_worked_by_hand():
    # ten rows at confidence 0.9 of which 5 are right, ten at 0.6 of which 8 are right:
    # a monotone map can only pool them, 13 right of 20
    P = np.array([[0.9, 0.1]] * 10 + [[0.4, 0.6]] * 10)
    y = np.array([0] * 5 + [1] * 5 + [1] * 8 + [0] * 2)
    iso = TopLabelIsotonic().fit(P, y)
    out = iso.transform(P)
    np.testing.assert_allclose(out[:10, 0], 0.65)
    np.testing.assert_allclose(out[10:, 1], 0.65)
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    # when the accuracies are monotone already they are reproduced, within [1/k, 1 - 1/(n+1)]
    y2 = np.array([0] * 9 + [1] + [1] * 6 + [0] * 4)
    out2 = TopLabelIsotonic().fit(P, y2).transform(P)
    np.testing.assert_allclose(out2[0, 0], 0.9)
    np.testing.assert_allclose(out2[10, 1], 0.6)
    all_right = TopLabelIsotonic().fit(P[:10], np.zeros(10, dtype=int)).transform(P[:1])
    assert all_right[0, 0] == pytest.approx(1 - 1 / 11)


@settings(max_examples=60, deadline=None)
@given(k=st.integers(2, 5), seed=st.integers(0, 2 ** 16),
       alpha=st.floats(0.05, 5.0))
def test_isotonic_keeps_the_argmax_and_sums_to_one(k, seed, alpha):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(k, alpha), 80)
    y = rng.integers(0, k, 80)
    Q = rng.dirichlet(np.full(k, alpha), 50)
    Q[0] = np.eye(k)[0]  # a one-hot row
    out = TopLabelIsotonic().fit(P, y).transform(Q)
    np.testing.assert_array_equal(out.argmax(axis=1), Q.argmax(axis=1))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-9)
    assert (out >= 0).all() and (out.max(axis=1) <= 1 - 1 / 81 + 1e-12).all()


def _miscalibrated(n, rng):
    """Two classes; the model's confidence is right with probability 0.55 below 0.75 and
    0.97 above, which no single temperature can fix."""
    conf = rng.uniform(0.5, 1.0, n)
    acc = np.where(conf < 0.75, 0.55, 0.97)
    top = rng.integers(0, 2, n)
    y = np.where(rng.random(n) < acc, top, 1 - top)
    P = np.where(top[:, None] == np.arange(2), conf[:, None], 1 - conf[:, None])
    return P, y


class _Fixed:
    """A 'model' whose predict_proba returns its input (rows are the features)."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X):
        return X


def test_auto_picks_isotonic_when_one_temperature_cannot_fix_it():
    rng = np.random.default_rng(0)
    Pv, yv = _miscalibrated(600, rng)
    Pt, yt = _miscalibrated(5000, rng)
    auto = CalibratedClassifier(_Fixed()).fit(Pv, yv)
    ts = CalibratedClassifier(_Fixed(), method="temperature").fit(Pv, yv)
    assert auto.method_ == "temperature+isotonic" and ts.method_ == "temperature" and ts.cv_scores_ == {}
    cv = auto.cv_scores_
    assert cv["temperature+isotonic"]["brier"] < cv["temperature"]["brier"]
    assert cv["temperature+isotonic"]["ece"] < cv["temperature"]["ece"]
    e_auto = expected_calibration_error(auto.predict_proba(Pt), yt)
    e_ts = expected_calibration_error(ts.predict_proba(Pt), yt)
    assert e_auto < e_ts - 0.02 and e_auto < 0.04, (e_auto, e_ts)
    np.testing.assert_array_equal(auto.predict(Pt), Pt.argmax(axis=1))


def test_auto_keeps_temperature_on_well_behaved_or_few_rows():
    rng = np.random.default_rng(1)
    conf = rng.uniform(0.5, 1.0, 600)
    top = rng.integers(0, 2, 600)
    y = np.where(rng.random(600) < conf, top, 1 - top)  # calibrated already
    P = np.where(top[:, None] == np.arange(2), conf[:, None], 1 - conf[:, None])
    cal = CalibratedClassifier(_Fixed()).fit(P, y)
    cv = cal.cv_scores_
    # either way the calibrated model stays calibrated: fresh rows from the same law
    conf_t = rng.uniform(0.5, 1.0, 20000)
    top_t = rng.integers(0, 2, 20000)
    y_t = np.where(rng.random(20000) < conf_t, top_t, 1 - top_t)
    P_t = np.where(top_t[:, None] == np.arange(2), conf_t[:, None], 1 - conf_t[:, None])
    assert expected_calibration_error(cal.predict_proba(P_t), y_t) < 0.03
    assert abs(cv["temperature+isotonic"]["brier"] - cv["temperature"]["brier"]) < 0.01
    few = CalibratedClassifier(_Fixed()).fit(P[:50], y[:50])
    assert few.method_ == "temperature" and few.cv_scores_ == {}
    with pytest.raises(ValueError, match="method must be one of"):
        CalibratedClassifier(_Fixed(), method="platt").fit(P, y)
    with pytest.raises(DataFormatError, match="classes"):
        TopLabelIsotonic().fit(P, y).transform(np.ones((2, 3)) / 3)
