"""`crowd_matrix` on real crowd answers: the duck-identification AMT task in its original long format.

tests/data/crowd_duck_orig/ is a copy of the benchmark's ``orig/`` folder:
``answer.csv`` (question, worker, answer: 4,212 answers, 108 questions x 39 workers),
``truth.csv`` (question, truth) and ``worker_index.json`` (the worker of each weak-label
column of the WRENCH-layout copy in tests/data/crowd_duck/).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from labelmill.datasets import load_wrench
from labelmill.errors import InvalidVotesError
from labelmill.label_models import DawidSkene, MajorityVote
from labelmill.lfs import crowd_matrix

DATA = Path(__file__).resolve().parents[1] / "data"
ORIG = DATA / "crowd_duck_orig"  # the answers and truth fixtures (tests/conftest.py) read it


def _matrix(table, **kw):
    return crowd_matrix(table, item="question", annotator="worker", label="answer", **kw)


def test_shape_order_and_votes_match_the_long_table(answers):
    L = _matrix(answers)
    items = np.sort(answers.question.unique())
    workers = sorted(answers.worker.unique())
    assert L.shape == (108, 39) == (len(items), len(workers))
    assert L.n_classes == 2 and L.nnz == len(answers) == 4212
    # columns: workers in natural (numeric) order, as strings
    assert list(L.source_names) == [str(w) for w in workers]
    dense = L.to_dense()
    # every (question, worker) answer lands in its cell, and nothing else is there
    expected = np.full((len(items), len(workers)), -1)
    expected[np.searchsorted(items, answers.question), np.searchsorted(workers, answers.worker)] = answers.answer
    np.testing.assert_array_equal(dense, expected)
    # per-worker answer counts and per-class totals, from the long table
    np.testing.assert_array_equal(L.class_counts().sum(axis=0), np.bincount(answers.answer, minlength=2))
    np.testing.assert_array_equal((dense >= 0).sum(axis=0), answers.groupby("worker").size().loc[workers])


def test_matches_the_wrench_copy_worker_for_worker(answers):
    """Built with the WRENCH copy's item and worker order, the matrix is that copy's weak labels."""
    workers = json.loads((ORIG / "worker_index.json").read_text())["workers_in_lf_order"]
    ds = load_wrench(DATA / "crowd_duck")
    for name, split in ds.splits.items():
        q = split.examples["question_id"].astype(int).to_numpy()
        part = answers[answers.question.isin(q)]
        L = _matrix(part, items=q, annotators=workers)
        assert list(L.source_names) == workers
        np.testing.assert_array_equal(L.to_dense(), split.L.to_dense(), err_msg=name)


def test_row_order_and_id_types_of_the_long_table_do_not_matter(answers):
    L = _matrix(answers)
    rng = np.random.default_rng(0)
    for seed in range(3):
        shuffled = answers.iloc[np.random.default_rng(seed).permutation(len(answers))]
        assert _matrix(shuffled) == L
    # worker ids as strings, or as a pyarrow table, give the same matrix
    assert _matrix(answers.astype({"worker": str})) == L
    import pyarrow as pa

    assert _matrix(pa.Table.from_pandas(answers, preserve_index=False)) == L
    # a given item order permutes the rows, a given worker order the columns
    items = np.sort(answers.question.unique())
    perm = rng.permutation(len(items))
    np.testing.assert_array_equal(_matrix(answers, items=items[perm]).to_dense(), L.to_dense()[perm])
    cols = rng.permutation(L.n_sources)
    Lc = _matrix(answers, annotators=[L.source_names[j] for j in cols])
    np.testing.assert_array_equal(Lc.to_dense(), L.to_dense()[:, cols])


def test_missing_answers_abstain_and_extra_items_are_empty_rows(answers):
    rng = np.random.default_rng(1)
    keep = rng.random(len(answers)) < 0.3  # a sparse design, as crowd data usually is
    part = answers[keep]
    items = np.sort(answers.question.unique())
    L = _matrix(part, items=items)
    full = _matrix(answers).to_dense()
    dense = L.to_dense()
    assert L.shape == (108, 39) and L.nnz == keep.sum()
    assert (dense[dense >= 0] == full[dense >= 0]).all()
    np.testing.assert_array_equal(L.votes_per_row(), part.groupby("question").size().reindex(items, fill_value=0))
    extra = _matrix(answers, items=np.r_[items, 99999])
    assert extra.shape == (109, 39) and extra.votes_per_row()[-1] == 0 and extra.coverage() == 108 / 109
    # n_classes above the largest answer is kept (a class nobody chose)
    assert _matrix(answers, n_classes=3).n_classes == 3


def test_bad_long_tables_are_named(answers):
    with pytest.raises(InvalidVotesError, match="no column 'annotator'"):
        crowd_matrix(answers, item="question", label="answer")
    with pytest.raises(InvalidVotesError, match="items lists 36618 more than once"):
        _matrix(answers, items=[36618, 36618])
    with pytest.raises(InvalidVotesError, match="source '896' is not among the given source names"):
        _matrix(answers, annotators=["39"])


def test_unknown_item_is_named_by_its_plain_id(answers):
    with pytest.raises(InvalidVotesError, match=r"item 36620 is not among the given items"):
        _matrix(answers, items=[36618, 11619])


def test_dawid_skene_beats_majority_vote_against_the_truth(answers, truth):
    L = _matrix(answers)
    items = np.sort(answers.question.unique())
    y = truth.loc[items].to_numpy()
    assert len(y) == 108 and set(y) == {0, 1}
    # majority vote by hand: 39 workers answer every question, so there are no ties
    ones = (L.to_dense() == 1).sum(axis=1)
    assert (2 * ones != 39).all()
    by_hand = (2 * ones > 39).astype(int)
    mv = MajorityVote().fit(L).predict(L)
    np.testing.assert_array_equal(mv, by_hand)
    ds = DawidSkene().fit(L)
    acc_mv, acc_ds = (mv == y).mean(), (ds.predict(L) == y).mean()
    assert acc_mv == pytest.approx(82 / 108)  # 0.759
    assert acc_ds >= acc_mv + 0.1             # 0.898: some workers are much better than others
    # the estimated worker accuracies separate good from bad workers as the truth does
    dense = L.to_dense()
    true_acc = ((dense == y[:, None]) & (dense >= 0)).sum(axis=0) / (dense >= 0).sum(axis=0)
    assert np.corrcoef(ds.accuracy_, true_acc)[0, 1] > 0.8
    # fitted on the shuffled long table, the same posteriors
    shuffled = answers.sample(frac=1.0, random_state=3)
    np.testing.assert_allclose(DawidSkene().fit(_matrix(shuffled)).predict_proba(L), ds.predict_proba(L), atol=1e-12)


def test_dawid_skene_on_held_out_items(answers, truth):
    """Fit on the train questions' answers (no truth), score the test questions, as in the WRENCH split."""
    ds = load_wrench(DATA / "crowd_duck")
    q_train = ds.train.examples["question_id"].astype(int).to_numpy()
    q_test = ds.test.examples["question_id"].astype(int).to_numpy()
    workers = sorted(answers.worker.astype(str).unique(), key=int)
    L_tr = _matrix(answers[answers.question.isin(q_train)], items=q_train, annotators=workers)
    L_te = _matrix(answers[answers.question.isin(q_test)], items=q_test, annotators=workers)
    y = truth.loc[q_test].to_numpy()
    np.testing.assert_array_equal(y, ds.test.gold)
    acc_ds = (DawidSkene().fit(L_tr).predict(L_te) == y).mean()
    acc_mv = (MajorityVote().fit(L_tr).predict(L_te) == y).mean()
    # the benchmark's published reference figures for this split: majority vote 0.714,
    # crowd-kit's Dawid-Skene 0.810; 39 workers answer every question, so no ties to break
    assert (acc_mv, acc_ds) == (15 / 21, 17 / 21)


def test_answers_given_as_class_names(answers, truth):
    """crowd-kit takes any answer values; class_names maps them to class ids, in order."""
    names = ["not_duck", "duck"]
    named = answers.assign(answer=np.asarray(names)[answers.answer])
    L = _matrix(named, class_names=names)
    assert L == _matrix(answers)
    with pytest.raises(InvalidVotesError, match="class_names="):
        _matrix(named)
