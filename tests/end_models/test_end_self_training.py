"""Self-training: end to end on youtube, history, keeping the best round, inputs."""

from __future__ import annotations

import numpy as np
import pytest

from labelmill.errors import DataFormatError
from labelmill.end_models import SelfTrainer, SoftLogisticRegression, self_train


def test_youtube_self_training_end_to_end(youtube, youtube_logreg):
    C, _ = youtube_logreg
    # students trained on soft labels are under-confident: threshold the calibrated confidence
    st = SelfTrainer(SoftLogisticRegression(C=C), rounds=3, threshold=0.8, patience=3, calibrate=True).fit(
        youtube.X_train, youtube.soft, youtube.covered, youtube.X_valid, youtube.y_valid)
    h = st.history_
    assert h[0]["round"] == 0 and h[0]["n_pseudo"] == 0 and h[0]["n_train"] == int(youtube.covered.sum())
    assert len(h) == 4 and all(r["n_pseudo"] > 0 for r in h[1:])
    assert any(r["n_pseudo_uncovered"] > 0 for r in h[1:])  # it reaches rows no source covers
    accs = [r["valid_accuracy"] for r in h]
    assert st.history_[st.best_round_]["valid_accuracy"] == max(accs)
    assert accs.index(max(accs)) == st.best_round_  # the earliest best round is kept
    test_acc = float((st.predict(youtube.X_test) == youtube.y_test).mean())
    assert test_acc >= 0.90, test_acc
    assert st.predict_proba(youtube.X_test).shape == (len(youtube.y_test), 2)


def test_youtube_functional_form_with_soft_pseudo_labels(youtube, youtube_logreg):
    C, _ = youtube_logreg
    st = self_train(lambda: SoftLogisticRegression(C=C), youtube.X_train, youtube.soft, youtube.covered,
                    youtube.X_valid, youtube.y_valid, rounds=2, threshold=0.7, pseudo="soft")
    assert 1 <= len(st.history_) <= 3
    assert (st.predict(youtube.X_test) == youtube.y_test).mean() >= 0.90


def test_without_validation_runs_all_rounds_and_keeps_the_last():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-2, 1, (100, 2)), rng.normal(2, 1, (100, 2))])
    Q = np.repeat([[0.8, 0.2], [0.2, 0.8]], 100, axis=0)
    covered = rng.random(200) < 0.3
    st = SelfTrainer(SoftLogisticRegression, rounds=2, threshold=0.7).fit(X, Q, covered)
    assert [r["round"] for r in st.history_] == [0, 1, 2] and st.best_round_ == 2
    assert np.isnan(st.history_[0]["valid_accuracy"])
    assert st.history_[1]["n_pseudo_uncovered"] > 50
    assert (st.predict(X) == np.repeat([0, 1], 100)).mean() > 0.95


def test_self_training_input_errors():
    X = np.random.default_rng(0).random((10, 3))
    Q = np.full((10, 2), 0.5)
    with pytest.raises(DataFormatError, match="covered_mask"):
        SelfTrainer().fit(X, Q, np.ones(9, bool))
    with pytest.raises(DataFormatError, match=r"\(N, k\)"):
        SelfTrainer().fit(X, np.zeros(10, int))
    with pytest.raises(DataFormatError, match="no covered row"):
        SelfTrainer().fit(X, Q, np.zeros(10, bool))
    with pytest.raises(ValueError, match="pseudo"):
        SelfTrainer(pseudo="sharp").fit(X, Q)


def test_unknown_valid_gold_is_left_out_not_scored_as_wrong(youtube, youtube_logreg):
    """-1 is labelmill's 'no gold': rounds are chosen on the known rows only."""
    C, _ = youtube_logreg
    known = SelfTrainer(SoftLogisticRegression(C=C), rounds=2, threshold=0.9).fit(
        youtube.X_train, youtube.soft, youtube.covered, youtube.X_valid[:60], youtube.y_valid[:60])
    y = youtube.y_valid.copy()
    y[60:] = -1
    masked = SelfTrainer(SoftLogisticRegression(C=C), rounds=2, threshold=0.9).fit(
        youtube.X_train, youtube.soft, youtube.covered, youtube.X_valid, y)
    assert [h["valid_accuracy"] for h in masked.history_] == [h["valid_accuracy"] for h in known.history_]
    with pytest.raises(DataFormatError, match="integer class ids"):
        SelfTrainer(SoftLogisticRegression(C=C), rounds=1).fit(
            youtube.X_train, youtube.soft, youtube.covered, youtube.X_valid, youtube.y_valid.astype(str))


def test_values_on_uncovered_rows_are_ignored_even_nan():
    """The docstring says soft labels on uncovered rows are ignored: NaN there is fine."""
    X = np.random.default_rng(0).normal(size=(40, 3))
    Q = np.eye(2)[(X[:, 0] > 0).astype(int)]
    covered = np.arange(40) < 25
    Q_nan = Q.copy()
    Q_nan[~covered] = np.nan
    a = SelfTrainer(rounds=2).fit(X, Q_nan, covered_mask=covered)
    b = SelfTrainer(rounds=2).fit(X, Q, covered_mask=covered)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))
    with pytest.raises(DataFormatError, match="NaN"):
        SelfTrainer().fit(X, Q_nan)  # every row covered: NaN is an error
