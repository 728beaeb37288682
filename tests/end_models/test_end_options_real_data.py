"""`confidence_weights` and `filter_rows` on the bundled YouTube data (the ``youtube`` fixture of
conftest.py: TF-IDF features, moment-matching soft labels on the 1,586 train comments),
used to train SoftLogisticRegression and `train_end_model`."""

from __future__ import annotations

import numpy as np
import pytest

from labelmill.end_models import SoftLogisticRegression, confidence_weights, filter_rows
from labelmill.end_models.training import train_end_model
from labelmill.errors import DataFormatError


def _acc(model, X, y) -> float:
    return float((model.predict(X) == y).mean())


def test_confidence_weights_follow_the_label_models_certainty(youtube):
    P = youtube.soft
    w = confidence_weights(P)
    assert w.shape == (1586,) and w.dtype == np.float64
    assert ((w >= 0) & (w <= 1)).all()
    # two classes: (max p - 1/2) / (1 - 1/2) is |p1 - p0|
    np.testing.assert_allclose(w, np.abs(P[:, 1] - P[:, 0]), atol=1e-12)
    # rows no source voted on sit at 0.5 / 0.5: weight exactly 0
    assert (~youtube.covered).sum() == 195 and (w[~youtube.covered] == 0).all()
    assert w[youtube.covered].min() > 0
    # monotone in the confidence, for both measures
    order = np.argsort(P.max(axis=1), kind="stable")
    e = confidence_weights(P, "entropy")
    assert (np.diff(w[order]) >= -1e-12).all() and (np.diff(e[order]) >= -1e-12).all()
    assert ((e >= 0) & (e <= 1)).all()
    # entropy weights are the stricter: 1 - H(p)/log 2 <= |p1 - p0| for two classes
    assert (e <= w + 1e-12).all() and (e[youtube.covered] < w[youtube.covered]).mean() > 0.9
    # the same probabilities given as a list, or with columns swapped, weigh the same
    np.testing.assert_allclose(confidence_weights(P[:, ::-1].tolist()), w, atol=1e-12)
    with pytest.raises(ValueError, match="'max' or 'entropy'"):
        confidence_weights(P, "margin")


def test_zero_weight_rows_are_ignored_by_the_fit(youtube):
    """SoftLogisticRegression ignores weight-0 rows: fitting with confidence weights equals
    fitting on the weighted rows alone."""
    w = confidence_weights(youtube.soft)
    keep = np.flatnonzero(w > 0)
    a = SoftLogisticRegression(C=3.0).fit(youtube.X_train, youtube.soft, sample_weight=w)
    b = SoftLogisticRegression(C=3.0).fit(youtube.X_train[keep], youtube.soft[keep], sample_weight=w[keep])
    np.testing.assert_allclose(a.predict_proba(youtube.X_test), b.predict_proba(youtube.X_test), atol=1e-8)


def test_confidence_weighted_end_models_stay_accurate(youtube):
    w = confidence_weights(youtube.soft)
    m = SoftLogisticRegression(C=3.0).fit(youtube.X_train, youtube.soft, sample_weight=w)
    assert _acc(m, youtube.X_test, youtube.y_test) >= 0.9  # 0.924
    r = train_end_model(youtube.X_train, youtube.soft, np.ones(1586, bool), youtube.X_valid, youtube.y_valid,
                        sample_weight=w, elr_grid=(0.0,), n_jobs=1)
    assert r.chosen["rows"] == "all" and r.chosen["C"] in (0.3, 1.0, 3.0, 10.0, 30.0)
    assert _acc(r.model, youtube.X_test, youtube.y_test) >= 0.85  # 0.924
    with pytest.raises(DataFormatError, match=r"sample_weight must have shape \(1586,\)"):
        train_end_model(youtube.X_train, youtube.soft, np.ones(1586, bool), sample_weight=w[:-1], n_jobs=1)


def test_filter_rows_drops_the_least_confident_rows(youtube):
    P = youtube.soft
    f = filter_rows(P, 0.2)
    assert set(np.unique(f)) == {0.0, 1.0}
    dropped = f == 0
    assert dropped.sum() == int(np.floor(0.2 * 1586)) == 317
    conf = P.max(axis=1)
    assert conf[dropped].max() <= conf[~dropped].min()
    assert dropped[~youtube.covered].all()  # the 195 rows at 0.5 / 0.5 go first
    # 152 rows share the cut-off confidence and 117 of them are dropped: the earliest ones
    cut = conf[dropped].max()
    tied = np.flatnonzero(np.isclose(conf, cut, rtol=0, atol=0))
    assert len(tied) == 152 and dropped[tied].sum() == 117
    assert dropped[tied[:117]].all() and not dropped[tied[117:]].any()
    # deterministic, and growing the fraction only drops more rows
    np.testing.assert_array_equal(filter_rows(P, 0.2), f)
    f3 = filter_rows(P, 0.3)
    assert (f3 <= f).all() and (f3 == 0).sum() == 475
    np.testing.assert_array_equal(filter_rows(P, 0.0), np.ones(1586))
    with pytest.raises(ValueError, match=r"fraction must be in \[0, 1\)"):
        filter_rows(P, 1.0)


def test_filtered_end_model_equals_training_on_the_kept_rows(youtube):
    f = filter_rows(youtube.soft, 0.2)
    keep = np.flatnonzero(f)
    a = SoftLogisticRegression(C=1.0).fit(youtube.X_train, youtube.soft, sample_weight=f)
    b = SoftLogisticRegression(C=1.0).fit(youtube.X_train[keep], youtube.soft[keep])
    np.testing.assert_allclose(a.predict_proba(youtube.X_test), b.predict_proba(youtube.X_test), atol=1e-8)
    assert _acc(a, youtube.X_test, youtube.y_test) >= 0.9  # 0.944
    # the docstring's recipe: multiply into other weights
    w = f * confidence_weights(youtube.soft)
    r = train_end_model(youtube.X_train, youtube.soft, np.ones(1586, bool), youtube.X_valid, youtube.y_valid,
                        sample_weight=w, elr_grid=(0.0,), n_jobs=1)
    assert _acc(r.model, youtube.X_test, youtube.y_test) >= 0.85  # 0.928


def test_filter_rows_from_denoising_scores(youtube):
    """(N,) scores, higher = more suspicious, e.g. propagation's neighbourhood disagreement."""
    from labelmill.propagation import LabelPropagator

    prop = LabelPropagator().fit(youtube.X_train, youtube.soft, youtube.covered)
    scores = prop.denoise_scores_
    assert np.isnan(scores[~youtube.covered]).all()
    # NaN = no score (uncovered rows, rows with no neighbour): kept; the fraction is of
    # the scored rows
    f = filter_rows(scores, 0.1)
    dropped = f == 0
    scored = ~np.isnan(scores)
    assert dropped.sum() == int(np.floor(0.1 * scored.sum())) and not dropped[~scored].any()
    assert scores[dropped].min() >= scores[scored & ~dropped].max()
    with pytest.raises(DataFormatError, match="scores row 3 is infinite"):
        filter_rows(np.array([0.1, 0.2, 0.3, np.inf]), 0.1)
    # NaN means "no score" only for (N,) scores; a NaN row of probabilities is broken
    with pytest.raises(DataFormatError, match="probabilities row 0 is not finite"):
        filter_rows(np.array([[np.nan, np.nan], [0.6, 0.4]]), 0.5)
    m = SoftLogisticRegression(C=1.0).fit(youtube.X_train, prop.proba_, sample_weight=f)
    assert _acc(m, youtube.X_test, youtube.y_test) >= 0.85
    with pytest.raises(DataFormatError, match=r"scores must be \(N,\) suspicion scores"):
        filter_rows(np.zeros((2, 2, 2)), 0.1)
