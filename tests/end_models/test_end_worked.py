"""Calibration, end-model tuning, self-training, ELR, mixup and the teacher choice worked
by hand. Each test pins a behaviour that a plausible one-line bug (found by hand-made
mutation testing) changed without any other test noticing."""

from __future__ import annotations

import numpy as np
import pytest


# ------------------------------------------------------------------------- calibration
class _Fixed:
    """A 'model' whose predict_proba returns its input (rows are the features)."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X):
        return np.asarray(X, dtype=float)


def test_auto_input_reads_unnormalised_scores_in_0_1_as_logits():
    from labelmill.end_models import TemperatureScaling

    rng = np.random.default_rng(0)
    Z = rng.uniform(0, 1, (200, 3))  # in [0, 1] but rows do not sum to 1: scores, not probabilities
    y = Z.argmax(axis=1)
    s = TemperatureScaling().fit(Z, y)
    assert s.input_ == "logits"
    np.testing.assert_allclose(s.transform(Z), np.exp(Z / s.temperature_) / np.exp(Z / s.temperature_).sum(
        axis=1, keepdims=True), atol=1e-12)


def test_reliability_diagram_puts_confidence_one_in_the_last_bin():
    from labelmill.end_models import reliability_diagram

    d = reliability_diagram(np.array([0, 0, 1]), np.array([[1.0, 0.0], [0.75, 0.25], [0.35, 0.65]]), n_bins=10)
    assert len(d["count"]) == 10 and d["count"].sum() == 3
    assert d["count"][9] == 1 and d["count"][7] == 1 and d["count"][6] == 1
    assert d["confidence"][9] == 1.0 and d["accuracy"][9] == 1.0


def _calibrated_rows(n, rng):
    conf = rng.uniform(0.5, 1.0, n)
    top = rng.integers(0, 2, n)
    y = np.where(rng.random(n) < conf, top, 1 - top)
    P = np.where(top[:, None] == np.arange(2), conf[:, None], 1 - conf[:, None])
    return P, y


def test_auto_calibration_considers_isotonic_from_exactly_min_isotonic_rows():
    from labelmill.end_models import CalibratedClassifier
    from labelmill.end_models.calibration import MIN_ISOTONIC_ROWS

    P, y = _calibrated_rows(MIN_ISOTONIC_ROWS, np.random.default_rng(2))
    at = CalibratedClassifier(_Fixed()).fit(P, y)
    assert set(at.cv_scores_) == {"temperature", "temperature+isotonic"}
    below = CalibratedClassifier(_Fixed()).fit(P[:-1], y[:-1])
    assert below.cv_scores_ == {} and below.method_ == "temperature"


# ------------------------------------------------------------------------- end-model training
def _separable(n, rng):
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 3)) * 0.3 + 4.0 * y[:, None] * np.array([1.0, 0.0, 0.0])
    return X, y


def test_tied_settings_keep_the_first_plain_one():
    from labelmill.end_models.training import train_end_model

    rng = np.random.default_rng(3)
    X, y = _separable(200, rng)
    Xv, yv = _separable(40, rng)
    soft = np.eye(2)[y] * 0.8 + 0.1
    r = train_end_model(X, soft, np.ones(len(y), bool), Xv, yv, calibrate=False, c_grid=(0.3, 1.0, 3.0))
    fits = [h for h in r.history if h["stage"] == "fit"]
    assert len(fits) == 6 and all(h["valid_accuracy"] == 1.0 for h in fits)  # every setting ties
    assert r.chosen["C"] == 0.3 and r.chosen["elr"] == 0.0 and r.chosen["rows"] == "all"


def test_calibration_runs_from_exactly_min_calibration_rows():
    from labelmill.end_models.calibration import MIN_CALIBRATION_ROWS
    from labelmill.end_models.training import train_end_model

    rng = np.random.default_rng(4)
    X, y = _separable(200, rng)
    Xv, yv = _separable(MIN_CALIBRATION_ROWS, rng)
    yv[:2] = [0, 1]
    soft = np.eye(2)[y] * 0.8 + 0.1
    r = train_end_model(X, soft, np.ones(len(y), bool), Xv, yv, params={"C": 1.0, "elr": 0.0})
    assert r.calibration["method"] == "temperature" and "skipped" not in r.calibration
    fewer = train_end_model(X, soft, np.ones(len(y), bool), Xv[1:], yv[1:], params={"C": 1.0, "elr": 0.0})
    assert fewer.calibration["method"] is None and "skipped" in fewer.calibration


# ------------------------------------------------------------------------- self-training
class _Scripted:
    """A student whose predictions are scripted: the i-th student made predicts
    ``P_train[i]`` on the 4 training rows and ``P_valid`` on anything else; every fit
    records its targets and weights in ``log``."""

    def __init__(self, log, P_train, P_valid):
        self.log, self.P_train, self.P_valid = log, P_train, P_valid

    def fit(self, X, Y, sample_weight=None):
        self.log.append((np.array(Y, dtype=float), np.array(sample_weight, dtype=float)))
        self.classes_ = np.arange(2)
        return self

    def predict_proba(self, X):
        return self.P_train if np.shape(X)[0] == 4 else self.P_valid

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)


def _scripted_trainer(P_trains, P_valid=None, **params):
    from labelmill.end_models import SelfTrainer

    log = []
    P_valid = np.tile([0.8, 0.2], (3, 1)) if P_valid is None else P_valid
    make = lambda: _Scripted(log, P_trains[min(len(log), len(P_trains) - 1)], P_valid)  # noqa: E731
    return SelfTrainer(make, **params), log


_X4 = np.arange(8, dtype=float).reshape(4, 2)
_Q4 = np.array([[0.6, 0.4], [0.3, 0.7], [0.5, 0.5], [0.5, 0.5]])
_COV4 = np.array([True, True, False, False])
# the round-0 student (the first teacher): rows 0-2 confident, row 3 not
_P0 = np.array([[0.95, 0.05], [0.92, 0.08], [0.1, 0.9], [0.6, 0.4]])
# the round-1 student: row 1 flips to a confident class 1, row 3 flips but stays unsure
_P1 = np.array([[0.97, 0.03], [0.05, 0.95], [0.05, 0.95], [0.4, 0.6]])


def test_self_training_round_targets_and_weights_by_hand():
    st, log = _scripted_trainer([_P0, _P1, _P1], rounds=2, threshold=0.9, label_weight=0.25)
    st.fit(_X4, _Q4, _COV4)
    # round 0: covered rows only
    np.testing.assert_array_equal(log[0][1], [1, 1, 0, 0])
    # round 1: covered confident rows mix 0.25 label model + 0.75 pseudo-label, the confident
    # uncovered row takes its pseudo-label, the unsure uncovered row is left out
    Y1, w1 = log[1]
    np.testing.assert_allclose(Y1[:3], [[0.9, 0.1], [0.825, 0.175], [0.0, 1.0]])
    np.testing.assert_array_equal(w1, [1, 1, 1, 0])
    h = st.history_
    assert (h[1]["n_pseudo"], h[1]["n_pseudo_uncovered"], h[1]["n_train"]) == (3, 1, 3)
    # round 2: only row 1 changed class among the rows with a pseudo-label (row 3 changed but is unsure)
    assert h[2]["n_changed"] == 1


def test_self_training_keeps_the_earliest_of_tied_rounds_and_stops_after_patience():
    yv = np.array([0, 0, 1])  # every student predicts class 0 on valid: accuracy 2/3 each round
    Xv = np.zeros((3, 2))
    st, _ = _scripted_trainer([_P0, _P1, _P1, _P1], rounds=3, threshold=0.9, patience=1)
    st.fit(_X4, _Q4, _COV4, Xv, yv)
    assert st.best_round_ == 0 and len(st.history_) == 2  # one round without improvement, then stop
    st2, _ = _scripted_trainer([_P0, _P1, _P1, _P1], rounds=3, threshold=0.9, patience=2)
    st2.fit(_X4, _Q4, _COV4, Xv, yv)
    assert st2.best_round_ == 0 and len(st2.history_) == 3


# ------------------------------------------------------------------------- ELR term
def test_elr_gradient_is_zero_where_the_floor_holds():
    from labelmill.end_models.options import ELR_EPS, elr_penalty_grad

    P = np.array([[1 - 5e-5, 5e-5], [0.7, 0.3]])
    T = np.array([[1.0, 0.0], [0.8, 0.2]])
    value, grad = elr_penalty_grad(P, T)
    assert value[0] == pytest.approx(np.log(ELR_EPS))  # 1 - <p, t> = 5e-5 is below the floor
    np.testing.assert_array_equal(grad[0], [0.0, 0.0])  # the floored value does not move
    assert np.abs(grad[1]).max() > 0


# ------------------------------------------------------------------------- soft logreg mixup
def test_implicit_mixup_mixes_unequal_sample_weights_too():
    from sklearn.datasets import make_classification

    from labelmill.end_models import SoftLogisticRegression, draw_mixup, mixup

    X, y = make_classification(200, 6, n_informative=4, random_state=3)
    Y = np.eye(2)[y]
    w = np.random.default_rng(3).uniform(0.2, 3.0, len(y))  # all positive, far from equal
    tight = dict(tol=1e-10, max_iter=5000)
    m = SoftLogisticRegression(C=1.0, mixup=True, mixup_alpha=0.4, random_state=7, **tight).fit(X, Y, sample_weight=w)
    perm, lam = draw_mixup(len(y), 0.4, 7, mask=w > 0)
    Xm, Ym, wm = mixup(X, Y, lam=lam, perm=perm, sample_weight=w)
    ref = SoftLogisticRegression(C=1.0, **tight).fit(Xm, Ym, sample_weight=wm)
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(m.intercept_, ref.intercept_, atol=1e-6)


# ------------------------------------------------------------------------- calibration choice
def test_auto_calibration_keeps_temperature_on_a_calibrated_model():
    """The choice is by Brier score: binned ECE would favour the isotonic step's coarse
    levels on a model that is calibrated already (see CalibratedClassifier)."""
    from labelmill.end_models import CalibratedClassifier

    P, y = _calibrated_rows(600, np.random.default_rng(0))
    cal = CalibratedClassifier(_Fixed()).fit(P, y)
    cv = cal.cv_scores_
    assert cv["temperature+isotonic"]["ece"] < cv["temperature"]["ece"]  # ECE alone would pick isotonic
    assert cv["temperature"]["brier"] <= cv["temperature+isotonic"]["brier"]
    assert cal.method_ == "temperature" and cal.isotonic_ is None


# ------------------------------------------------------------------------- teacher choice
def test_a_default_teacher_scoring_zero_is_not_beaten_by_one_lucky_row():
    from labelmill.end_models.teacher import choose_teacher

    rng = np.random.default_rng(0)
    truth = np.repeat([0, 1], 50)
    X = np.column_stack([np.where(truth == 1, 4.0, -4.0) + rng.normal(0, 0.3, 100), rng.normal(size=100)])
    Xv = np.column_stack([np.r_[np.full(9, -4.0), 4.0] + rng.normal(0, 0.3, 10), rng.normal(size=10)])
    yv = np.r_[np.zeros(9, int), 1]
    inverted = np.eye(2)[1 - truth] * 0.8 + 0.1  # every valid row wrong: accuracy 0
    all_one = np.tile([0.1, 0.9], (100, 1))  # right on the one class-1 valid row: 0.1
    choice = choose_teacher({"inverted": inverted, "all_one": all_one}, X, Xv, yv)
    acc = {s["name"]: s["valid_accuracy"] for s in choice.scores}
    assert acc == {"inverted": 0.0, "all_one": 0.1}
    # 0.1 is within 2 standard errors of 0 with the 1/n floor: sqrt(1/10 / 10) = 0.1
    assert choice.name == "inverted" and not choice.switched
