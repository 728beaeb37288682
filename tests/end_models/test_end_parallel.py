"""Fitting the end model's settings and the teacher candidates on worker processes gives
exactly what one process gives; warnings and progress still reach the caller."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from labelmill import load_wrench
from labelmill._parallel import resolve_n_jobs
from labelmill.end_models.teacher import choose_teacher
from labelmill.end_models.training import train_end_model
from labelmill.features import TfidfFeaturizer
from labelmill.label_models import make_label_model

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def sms():
    ds = load_wrench(DATA / "sms")
    f = TfidfFeaturizer().fit(ds.train.examples)
    covered = ds.train.L.covered()
    models = {name: make_label_model(name).fit(ds.train.L) for name in ("majority", "dawid_skene", "moments")}
    return ds, f.transform(ds.train.examples), f.transform(ds.valid.examples), f.transform(ds.test.examples), \
        covered, {n: m.predict_proba(ds.train.L) for n, m in models.items()}


def test_settings_fitted_on_two_processes_match_one(sms):
    ds, X, Xv, Xt, covered, soft = sms
    reports = []
    one = train_end_model(X, soft["moments"], np.ones(len(X.indptr) - 1, bool), Xv, ds.valid.gold,
                          label_covered=covered, n_jobs=1)
    two = train_end_model(X, soft["moments"], np.ones(len(X.indptr) - 1, bool), Xv, ds.valid.gold,
                          label_covered=covered, n_jobs=2, progress=lambda *r: reports.append(r))
    assert one.chosen == two.chosen
    assert one.history == two.history
    assert len(one.history) == 20  # 5 C x 2 ELR x 2 row sets, in the settings' order
    assert [h["C"] for h in one.history[:5]] == [0.3, 1.0, 3.0, 10.0, 30.0]
    np.testing.assert_array_equal(one.model.predict_proba(Xt), two.model.predict_proba(Xt))
    assert reports[0] == ("training the end model (20 settings)", 0, 20) and reports[-1][1:] == (20, 20)
    # the end model beats the sms label model's 0.866 test accuracy either way
    assert (two.model.predict(Xt) == ds.test.gold).mean() > 0.9


def test_teacher_choice_on_two_processes_matches_one(sms):
    ds, X, Xv, _, covered, soft = sms
    cands = {"majority": soft["majority"], "dawid_skene": lambda: soft["dawid_skene"], "moments": soft["moments"]}
    one = choose_teacher(cands, X, Xv, ds.valid.gold, covered, default="majority", n_jobs=1)
    two = choose_teacher(cands, X, Xv, ds.valid.gold, covered, default="majority", n_jobs=2)
    assert (one.name, one.switched, one.scores) == (two.name, two.switched, two.scores)


def test_a_warning_raised_in_a_worker_reaches_the_caller(sms):
    ds, X, Xv, _, covered, soft = sms
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train_end_model(X, soft["moments"], np.ones(len(X.indptr) - 1, bool), Xv, ds.valid.gold,
                        params={"max_iter": 2, "elr": 0.0}, c_grid=(1.0, 10.0), n_jobs=2, calibrate=False)
    assert sum(issubclass(w.category, ConvergenceWarning) for w in caught) == 2


def test_small_fits_stay_in_this_process_unless_asked(sms):
    from labelmill.end_models.training import PARALLEL_MIN_WORK, fit_workers

    _, X, *_ = sms  # sms: 4571 rows x 43,642 TF-IDF columns, 2 classes
    assert fit_workers(None, X, 2, 20) == min(resolve_n_jobs(None), 20)
    assert fit_workers(None, X[:100, :100], 2, 20) == 1  # 100 columns: starting workers would not pay
    assert fit_workers(2, X[:100, :100], 2, 20) == 2  # asked for
    assert fit_workers(2, X, 2, 1) == 1  # nothing to share
    assert fit_workers(None, np.zeros((10, 10)), 6, 5) == 1 and PARALLEL_MIN_WORK > 10 * 10 * 6


def test_capped_proxies_rank_the_sms_teachers_like_full_ones(sms):
    """The proxies may train on a subset of rows and columns (large data); on sms, half the
    rows and a quarter of the columns still rank the three label models the same way."""
    ds, X, Xv, _, covered, soft = sms
    cands = {"majority": soft["majority"], "dawid_skene": soft["dawid_skene"], "moments": soft["moments"]}
    full = choose_teacher(cands, X, Xv, ds.valid.gold, covered, default="majority", max_rows=None,
                          max_features=None)
    capped = choose_teacher(cands, X, Xv, ds.valid.gold, covered, default="majority", max_rows=2000,
                            max_features=X.shape[1] // 4)
    rank = lambda c: sorted((s["name"] for s in c.scores if "valid_accuracy" in s),  # noqa: E731
                            key=lambda n: -next(s["valid_accuracy"] for s in c.scores if s["name"] == n))
    assert capped.name == full.name and rank(capped) == rank(full)
    # the caps really bite: other rows give other accuracies
    assert [s.get("valid_accuracy") for s in capped.scores] != [s.get("valid_accuracy") for s in full.scores]
    # dense features are capped too
    dense = choose_teacher(cands, X[:, :50].toarray(), Xv[:, :50].toarray(), ds.valid.gold, covered,
                           default="majority", max_rows=1000, max_features=10)
    assert dense.name in cands
