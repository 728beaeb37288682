"""Metrics on small arrays worked by hand."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from labelmill.evaluation import classification_metrics, expected_calibration_error, log_loss

# Four rows, k = 2.  top-class confidence / prediction / gold / correct:
#   [0.90, 0.10]  0.90  0  0  yes
#   [0.62, 0.38]  0.62  0  1  no
#   [0.30, 0.70]  0.70  1  1  yes
#   [0.55, 0.45]  0.55  0  0  yes
PROBA = np.array([[0.9, 0.1], [0.62, 0.38], [0.3, 0.7], [0.55, 0.45]])
Y = np.array([0, 1, 1, 0])


def test_ece_by_hand_default_bins():
    # 15 bins of width 1/15: 0.90 -> bin 13, 0.62 -> 9, 0.70 -> 10, 0.55 -> 8, one row each
    expected = (abs(0.9 - 1) + abs(0.62 - 0) + abs(0.7 - 1) + abs(0.55 - 1)) / 4  # 0.3675
    assert expected_calibration_error(PROBA, Y) == pytest.approx(expected)


def test_ece_by_hand_five_bins():
    # 5 bins of width 0.2: 0.90 -> bin 4; 0.62 and 0.70 share bin 3; 0.55 -> bin 2
    bin4 = abs(0.9 - 1)
    bin3 = abs((0.62 + 0.7) - (0 + 1))  # |sum conf - sum correct| = 0.32
    bin2 = abs(0.55 - 1)
    assert expected_calibration_error(PROBA, Y, n_bins=5) == pytest.approx((bin4 + bin3 + bin2) / 4)  # 0.2175


def test_ece_edge_cases():
    # confident and right: perfectly calibrated; confidence 1.0 falls in the last bin
    assert expected_calibration_error(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])) == 0.0
    # confident and wrong: ECE 1
    assert expected_calibration_error(np.array([[1.0, 0.0]]), np.array([1])) == pytest.approx(1.0)
    # one bin: |mean confidence - accuracy|
    assert expected_calibration_error(PROBA, Y, n_bins=1) == pytest.approx(abs(PROBA.max(1).mean() - 0.75))
    assert math.isnan(expected_calibration_error(np.zeros((0, 2)), np.zeros(0, dtype=int)))


def test_log_loss_by_hand():
    expected = -(math.log(0.9) + math.log(0.38) + math.log(0.7) + math.log(0.55)) / 4
    assert log_loss(PROBA, Y) == pytest.approx(expected)
    # k = 3
    P3 = np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    assert log_loss(P3, np.array([2, 0])) == pytest.approx(-(math.log(0.3) + math.log(0.1)) / 2)


def test_log_loss_clips_zero_probabilities():
    P = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert log_loss(P, np.array([0, 1])) == pytest.approx(-math.log(1e-15) / 2)
    assert log_loss(P, np.array([0, 1]), eps=1e-6) == pytest.approx(-math.log(1e-6) / 2)
    assert log_loss(P, np.array([0, 0])) == pytest.approx(0.0)
    assert math.isnan(log_loss(np.zeros((0, 2)), np.zeros(0, dtype=int)))


def test_classification_metrics_binary_by_hand():
    y_true = np.array([0, 1, -1, 1])
    y_pred = np.array([0, 0, 1, 1])
    proba = np.array([[0.8, 0.2], [0.6, 0.4], [0.1, 0.9], [0.3, 0.7]])
    out = classification_metrics(y_true, y_pred, proba, n_classes=2, coverage=0.75)
    assert set(out) == {"accuracy", "macro_f1", "f1", "coverage", "log_loss", "ece", "n"}
    # the row with gold -1 is skipped: scored rows are 0, 1, 3
    assert out["n"] == 3
    assert out["accuracy"] == pytest.approx(2 / 3)
    # class 1: tp=1 fp=0 fn=1 -> P=1, R=1/2, F1=2/3;  class 0: tp=1 fp=1 fn=0 -> P=1/2, R=1, F1=2/3
    assert out["f1"] == pytest.approx(2 / 3)
    assert out["macro_f1"] == pytest.approx(2 / 3)
    assert out["coverage"] == 0.75
    assert out["log_loss"] == pytest.approx(-(math.log(0.8) + math.log(0.4) + math.log(0.7)) / 3)
    known = y_true >= 0
    assert out["ece"] == pytest.approx(expected_calibration_error(proba[known], y_true[known]))


def test_classification_metrics_multiclass_has_no_f1():
    y_true = np.array([0, 1, 2, 2, -1])
    y_pred = np.array([0, 2, 2, 2, 0])
    proba = np.eye(3)[y_pred] * 0.7 + 0.1
    out = classification_metrics(y_true, y_pred, proba, n_classes=3)
    assert set(out) == {"accuracy", "macro_f1", "coverage", "log_loss", "ece", "n"}
    assert out["n"] == 4
    assert out["accuracy"] == pytest.approx(3 / 4)
    # per class F1: class 0 = 1; class 1: tp=0 -> 0; class 2: tp=2 fp=1 fn=0 -> P=2/3 R=1 F1=0.8
    assert out["macro_f1"] == pytest.approx((1 + 0 + 0.8) / 3)
    assert math.isnan(out["coverage"])


def test_classification_metrics_macro_f1_over_present_classes():
    # class 2 is neither in gold nor predicted: it has no F1, so a perfect prediction scores 1
    out = classification_metrics([0, 1], [0, 1], np.array([[1.0, 0, 0], [0, 1.0, 0]]), n_classes=3)
    assert out["accuracy"] == 1.0
    assert out["macro_f1"] == 1.0
    # a class predicted but absent from the gold counts (as 0): the mistakes show
    out = classification_metrics([0, 0], [0, 2], np.array([[1.0, 0, 0], [0, 0, 1.0]]), n_classes=3)
    assert out["macro_f1"] == pytest.approx((2 / 3 + 0) / 2)
    # k = 2 with only class 0 in gold and predictions: F1 of class 1 is undefined
    out = classification_metrics([0, 0], [0, 0], np.array([[0.9, 0.1], [0.8, 0.2]]), n_classes=2)
    assert out["macro_f1"] == 1.0 and math.isnan(out["f1"])


def test_classification_metrics_without_known_gold():
    out = classification_metrics([-1, -1], [0, 1], np.array([[0.5, 0.5], [0.2, 0.8]]), n_classes=2)
    assert out["n"] == 0
    for key in ("accuracy", "macro_f1", "f1", "log_loss", "ece"):
        assert math.isnan(out[key]), key


def test_classification_metrics_takes_float_gold_with_nan_as_unknown():
    P = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    as_int = classification_metrics(np.array([0, 1, -1]), [0, 1, 0], P, 2, coverage=1.0)
    as_float = classification_metrics(np.array([0.0, 1.0, np.nan]), [0, 1, 0], P, 2, coverage=1.0)
    assert as_float == as_int and as_int["n"] == 2
    with pytest.raises(ValueError, match="y_true row 1 is 0.5"):
        classification_metrics(np.array([0.0, 0.5]), [0, 1], P[:2], 2)
    with pytest.raises(ValueError, match=r"y_true row 0 is 3, outside \[-1, 1\]"):
        classification_metrics([3], [0], P[:1], 2)


def test_log_loss_and_ece_refuse_unknown_gold_and_bad_probabilities():
    # -1 (unknown) used to be read as the last class by log_loss and as wrong by ECE
    with pytest.raises(ValueError, match="log_loss: y row 0 is -1"):
        log_loss(np.array([[0.5, 0.5]]), np.array([-1]))
    with pytest.raises(ValueError, match="expected_calibration_error: y row 0 is -1"):
        expected_calibration_error(np.array([[0.5, 0.5]]), np.array([-1]))
    with pytest.raises(ValueError, match="proba row 0 is not finite"):
        expected_calibration_error(np.array([[np.nan, 0.5]]), np.array([0]))
    assert log_loss(np.array([[0.2, 0.8]]), np.array([1.0])) == pytest.approx(-np.log(0.8))


def test_check_gold_names_infinite_and_huge_floats():
    from labelmill.evaluation import check_gold

    for v in (np.inf, 1e30):  # they used to wrap around to -9223372036854775808
        with pytest.raises(ValueError, match=re.escape(f"y_valid row 2 is {v!r}, not a class id")):
            check_gold(np.array([0.0, 1.0, v]), 2, "y_valid")


# worked edge cases (from mutation testing: each failed to be caught before)
def test_ece_confidence_one_shares_the_last_bin():
    # conf 1.0 (wrong) and 0.95 (right) both fall in bin 14 of 15: |1.95 - 1| / 2
    P = np.array([[1.0, 0.0], [0.95, 0.05]])
    assert expected_calibration_error(P, np.array([1, 0])) == pytest.approx(0.475)
    # with one bin per row it would be (|1 - 0| + |0.95 - 1|) / 2 = 0.525


def test_log_loss_and_ece_refuse_the_class_id_k():
    P = np.array([[0.5, 0.5], [0.2, 0.8]])
    for fn, name in ((expected_calibration_error, "expected_calibration_error"), (log_loss, "log_loss")):
        with pytest.raises(ValueError, match=rf"{name}: y row 1 is 2, not a class id in \[0, 1\]"):
            fn(P, np.array([0, 2]))


def test_binary_f1_is_the_f1_of_class_1():
    # class 1: tp=1 fp=0 fn=1 -> F1 2/3 ; class 0: tp=2 fp=1 fn=0 -> F1 0.8 (asymmetric on purpose)
    y, yp = np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0])
    P = np.eye(2)[yp] * 0.8 + 0.1
    out = classification_metrics(y, yp, P, n_classes=2)
    assert out["f1"] == pytest.approx(2 / 3)
    assert out["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
