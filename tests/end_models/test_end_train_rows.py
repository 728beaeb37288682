"""train_end_model chooses, on valid, whether rows no source labeled are trained on."""

import numpy as np
import pytest

from labelmill.end_models.training import C_GRID, ELR_GRID, train_end_model


def _blobs(n, rng, sep=1.0):
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 5)) + sep * y[:, None] * np.array([1, 1, 0, 0, 0])
    return X, y


def test_wrong_stand_in_labels_are_left_out():
    """Uncovered rows of both classes carry a class-0 stand-in: training on them misleads,
    so the covered rows alone win on valid."""
    rng = np.random.default_rng(0)
    X, y = _blobs(3000, rng, sep=2.0)
    Xv, yv = _blobs(600, rng, sep=2.0)
    label_covered = rng.random(len(y)) < 0.3
    soft = np.eye(2)[y] * 0.8 + 0.1
    soft[~label_covered] = [0.95, 0.05]
    r = train_end_model(X, soft, np.ones(len(y), bool), Xv, yv, label_covered=label_covered)
    assert r.chosen["rows"] == "covered"
    assert (r.model.predict(Xv) == yv).mean() > 0.85
    assert len([h for h in r.history if h["stage"] == "fit"]) == 2 * len(ELR_GRID) * len(C_GRID)
    fixed = train_end_model(X, soft, np.ones(len(y), bool), Xv, yv, label_covered=label_covered, train_rows="all")
    assert fixed.chosen["rows"] == "all"
    assert (fixed.model.predict(Xv) == yv).mean() < (r.model.predict(Xv) == yv).mean() - 0.1


def test_informative_abstains_are_kept():
    """Sources fire on every class-1 row but on few class-0 rows (a spam keyword is silent
    on ham): the covered rows alone overstate class 1, the stand-in label fixes it."""
    rng = np.random.default_rng(1)
    X, y = _blobs(3000, rng, sep=1.0)
    Xv, yv = _blobs(600, rng, sep=1.0)
    label_covered = (y == 1) | (rng.random(len(y)) < 0.1)
    soft = np.eye(2)[y] * 0.8 + 0.1
    soft[~label_covered] = [0.9, 0.1]
    r = train_end_model(X, soft, np.ones(len(y), bool), Xv, yv, label_covered=label_covered)
    assert r.chosen["rows"] == "all"
    only = train_end_model(X, soft, np.ones(len(y), bool), Xv, yv, label_covered=label_covered,
                           train_rows="covered")
    assert only.chosen["rows"] == "covered"
    assert (r.model.predict(Xv) == yv).mean() > (only.model.predict(Xv) == yv).mean() + 0.05


def test_fixed_settings_are_not_tuned_and_bad_rows_option_is_refused():
    rng = np.random.default_rng(2)
    X, y = _blobs(400, rng)
    Xv, yv = _blobs(100, rng)
    soft = np.eye(2)[y] * 0.8 + 0.1
    r = train_end_model(X, soft, np.ones(len(y), bool), Xv, yv, params={"C": 2.0, "elr": 0.0})
    assert r.chosen["C"] == 2.0 and r.chosen["elr"] == 0.0 and r.chosen["rows"] == "all"
    assert len(r.history) == 1
    with pytest.raises(ValueError, match="train_rows must be"):
        train_end_model(X, soft, np.ones(len(y), bool), train_rows="some")
