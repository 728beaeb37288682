"""Successive halving of the end model's settings (train_end_model(search=...))."""

import numpy as np
import pytest

from labelmill.end_models import training
from labelmill.end_models.training import _first_rows, halving_schedule, train_end_model


def test_schedule_worked_by_hand():
    """As HalvingGridSearchCV plans it with factor 3: ceil(n / 3) settings survive a round,
    on 3 times the rows; the last round fits the survivors on every row."""
    assert halving_schedule(20) == [(20, 1 / 9), (7, 1 / 3), (3, 1.0)]
    assert halving_schedule(9) == [(9, 1 / 9), (3, 1 / 3), (1, 1.0)]
    assert halving_schedule(4) == [(4, 1 / 3), (2, 1.0)]
    assert halving_schedule(3) == [(3, 1 / 3), (1, 1.0)]
    assert halving_schedule(1) == [(1, 1.0)]


def test_first_rows_are_nested_prefixes_of_one_order():
    rng = np.random.default_rng(0)
    rank = np.empty(1000, dtype=np.int64)
    rank[rng.permutation(1000)] = np.arange(1000)
    rows = rng.random(1000) < 0.4
    small, large = _first_rows(rows, rank, 1 / 9), _first_rows(rows, rank, 1 / 3)
    assert small.sum() == int(np.ceil(rows.sum() / 9)) and large.sum() == int(np.ceil(rows.sum() / 3))
    assert not (small & ~large).any() and not (large & ~rows).any()
    # the rows kept are those earliest in the order
    assert rank[small].max() < rank[rows & ~small].min()
    assert _first_rows(np.eye(1, 50, 7, dtype=bool)[0], np.arange(50), 1 / 9).sum() == 1  # never empty


def test_halving_on_youtube(youtube):
    """20 settings: 20 fits on 1/9 of the rows, the best 7 on 1/3, the best 3 on all; the
    model kept is the best final-round fit, identical to fitting that setting alone."""
    label_covered = youtube.covered & (np.random.default_rng(0).random(len(youtube.covered)) < 0.9)
    r = train_end_model(youtube.X_train, youtube.soft, youtube.covered, youtube.X_valid, youtube.y_valid,
                        label_covered=label_covered, search="halving", calibrate=False, n_jobs=1)
    rounds = [h["round"] for h in r.history]
    assert rounds == [1] * 20 + [2] * 7 + [3] * 3
    n_all = int(youtube.covered.sum())
    last = r.history[-3:]
    assert {h["n_rows"] for h in r.history[:20] if h["rows"] == "all"} == {int(np.ceil(n_all / 9))}
    assert all(h["n_rows"] in (n_all, int((youtube.covered & label_covered).sum())) for h in last)
    # round r + 1 holds the best of round r
    key = lambda h: (h["rows"], h["C"], h["elr"])  # noqa: E731
    first = r.history[:20]
    best7 = sorted(range(20), key=lambda i: -first[i]["valid_accuracy"])[:7]
    assert {key(first[i]) for i in best7} == {key(h) for h in r.history[20:27]}
    winner = max(last, key=lambda h: h["valid_accuracy"])
    assert (r.chosen["C"], r.chosen["elr"], r.chosen["rows"]) == (winner["C"], winner["elr"], winner["rows"])
    alone = train_end_model(youtube.X_train, youtube.soft, youtube.covered, youtube.X_valid, youtube.y_valid,
                            label_covered=label_covered, train_rows=r.chosen["rows"], c_grid=[r.chosen["C"]],
                            elr_grid=[r.chosen["elr"]], calibrate=False, n_jobs=1)
    np.testing.assert_allclose(r.model.predict_proba(youtube.X_test), alone.model.predict_proba(youtube.X_test))


def test_auto_search_switches_at_the_row_threshold(youtube, monkeypatch):
    def fits(**kw):
        r = train_end_model(youtube.X_train, youtube.soft, youtube.covered, youtube.X_valid, youtube.y_valid,
                            c_grid=(1.0, 10.0, 30.0), calibrate=False, n_jobs=1, **kw)
        return [h.get("round") for h in r.history]

    assert fits() == [None] * 6  # 1,586 rows: the grid
    monkeypatch.setattr(training, "HALVING_MIN_ROWS", int(youtube.covered.sum()))
    assert fits() == [1] * 6 + [2] * 2
    assert fits(search="grid") == [None] * 6
    # a grid of at most HALVING_FACTOR settings has nothing to halve
    r = train_end_model(youtube.X_train, youtube.soft, youtube.covered, youtube.X_valid, youtube.y_valid,
                        c_grid=(1.0, 10.0), elr_grid=(0.0,), calibrate=False, n_jobs=1)
    assert [h.get("round") for h in r.history] == [None, None]


def test_bad_search_is_refused(youtube):
    with pytest.raises(ValueError, match="search must be 'auto', 'grid' or 'halving'"):
        train_end_model(youtube.X_train, youtube.soft, youtube.covered, search="random")


def test_subsample_fits_keep_the_regularisation_per_row(youtube, monkeypatch):
    """A fit on a third of the rows gets 3 times the C: the same penalty per row as on all rows."""
    seen = []
    real = training._fit_setting

    def spy(name, params, X, Y, rows, *rest):
        seen.append((params["C"], int(np.count_nonzero(rows))))
        return real(name, params, X, Y, rows, *rest)

    monkeypatch.setattr(training, "_fit_setting", spy)
    r = train_end_model(youtube.X_train, youtube.soft, youtube.covered, youtube.X_valid, youtube.y_valid,
                        c_grid=(1.0, 2.0, 4.0), elr_grid=(0.0,), train_rows="all", search="halving",
                        calibrate=False, n_jobs=1)
    n, third = int(youtube.covered.sum()), int(np.ceil(youtube.covered.sum() / 3))
    assert sorted(seen[:3]) == [(pytest.approx(C * n / third), third) for C in (1.0, 2.0, 4.0)]
    assert seen[3] == (r.chosen["C"], n)


def test_the_uncovered_row_classifier_halves_too(youtube, monkeypatch):
    """Propagation's covered-row classifier tunes C through train_end_model: on a large
    table its 5 values of C are halved as well (5 fits on a third, the best 2 on all)."""
    from labelmill.propagation.uncovered_fill import FILL_C_GRID, covered_row_classifier

    seen = []
    real = training._fit_setting

    def spy(name, params, X, Y, rows, *rest):
        seen.append(int(np.count_nonzero(rows)))
        return real(name, params, X, Y, rows, *rest)

    monkeypatch.setattr(training, "_fit_setting", spy)
    monkeypatch.setattr(training, "HALVING_MIN_ROWS", 1000)
    model, C = covered_row_classifier(youtube.X_train, youtube.soft, youtube.covered, youtube.X_valid,
                                      youtube.y_valid, n_jobs=1)
    n = int(youtube.covered.sum())
    assert len(FILL_C_GRID) == 5 and sorted(seen) == [int(np.ceil(n / 3))] * 5 + [n] * 2
    assert C in FILL_C_GRID and model.C == C
