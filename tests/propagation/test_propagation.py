"""Propagation: graph, spreading, abstain prior, denoising, selection, on hand cases and real data."""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from labelmill import LabelMatrix, load_demo
from labelmill.errors import DataFormatError
from labelmill.propagation import (LabelPropagator, abstain_posterior, exact_knn, knn_graph, normalized_graph,
                                   select_propagator, spread, worst_rows)


def test_spread_matches_closed_form_fixed_point():
    # path graph 0 - 1 - 2 - 3, seeds on the two ends
    W = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]], dtype=np.float32))
    S = normalized_graph(W)
    Y = np.array([[1, 0], [0.5, 0.5], [0.5, 0.5], [0, 1]], dtype=float)
    anchor = np.array([1.0, 0, 0, 1.0])
    alpha = 0.8
    F, n_iter = spread(S, Y, anchor, alpha=alpha, tol=1e-12)
    B = (1 - alpha) * Y * anchor[:, None]
    expected = np.linalg.solve(np.eye(4) - alpha * S.toarray(), B)
    np.testing.assert_allclose(F, expected, atol=1e-6)  # S is float32
    assert n_iter > 1
    # by symmetry node 1 leans to class 0 exactly as node 2 leans to class 1
    P = F / F.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(P[1], P[2][::-1], atol=1e-6)
    assert P[1, 0] > 0.5


def test_two_node_case_by_hand():
    # one edge, node 0 seeded with [1, 0]: F1 = alpha * F0, F0 = alpha * F1 + (1 - alpha)
    W = sp.csr_matrix(np.array([[0, 1], [1, 0]], dtype=np.float32))
    F, _ = spread(normalized_graph(W), np.array([[1.0, 0.0], [0.5, 0.5]]), np.array([1.0, 0.0]), alpha=0.5, tol=1e-14)
    f0 = 0.5 / (1 - 0.25)
    np.testing.assert_allclose(F[:, 0], [f0, 0.5 * f0], atol=1e-7)
    np.testing.assert_allclose(F[:, 1], 0, atol=1e-15)


def test_exact_knn_matches_brute_force_and_graph_is_symmetric():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 8)).astype(np.float32)
    for metric in ("cosine", "euclidean"):
        idx, sim = exact_knn(X, 5, metric)
        if metric == "cosine":
            Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
            D = -(Xn @ Xn.T)
        else:
            D = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
        np.fill_diagonal(D, np.inf)
        brute = np.argsort(D, axis=1)[:, :5]
        assert (np.sort(idx, axis=1) == np.sort(brute, axis=1)).mean() > 0.999
    W = knn_graph(X, k=5)
    assert abs(W - W.T).max() == 0
    assert W.diagonal().sum() == 0
    assert (np.diff(W.indptr) >= 5).all()


def test_sparse_and_dense_features_give_the_same_graph():
    rng = np.random.default_rng(1)
    X = rng.random((150, 20)).astype(np.float32)
    X[X < 0.6] = 0
    Wd = knn_graph(X, k=4)
    Ws = knn_graph(sp.csr_matrix(X), k=4)
    assert abs(Wd - Ws).max() < 1e-5


@pytest.mark.parametrize("index", ["auto", "ivf", "hnsw"])
@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_exact_and_approximate_graphs_agree_on_small_data(index, metric):
    pytest.importorskip("faiss")
    rng = np.random.default_rng(2)
    centers = rng.normal(size=(5, 16))
    X = (centers[rng.integers(0, 5, 500)] + 0.3 * rng.normal(size=(500, 16))).astype(np.float32)
    We = knn_graph(X, k=8, method="exact", metric=metric)
    Wa = knn_graph(X, k=8, method="approximate", metric=metric, index=index)
    overlap = (We.multiply(Wa) > 0).sum() / (We > 0).sum()
    assert overlap > 0.95
    both_e, both_a = We.multiply(Wa > 0), Wa.multiply(We > 0)
    assert abs(both_e - both_a).max() < 1e-3  # an edge in both graphs carries the same weight


def test_ivf_rows_with_too_few_candidates_fall_back_to_exact():
    pytest.importorskip("faiss")
    from labelmill.propagation import approximate_knn, exact_knn

    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 8)).astype(np.float32)
    # 50 cells of ~8 rows, one probed: many rows see fewer than k + 1 = 13 candidates
    idx, sim = approximate_knn(X, 12, index="ivf", n_lists=50, n_probe=1)
    assert (idx >= 0).all() and (idx != np.arange(400)[:, None]).all()
    ex_idx, ex_sim = exact_knn(X, 12)
    assert (np.sort(sim, axis=1) <= np.sort(ex_sim, axis=1) + 1e-5).all()
    with pytest.raises(Exception, match="unknown approximate index"):
        approximate_knn(X, 5, index="lsh")


SMS = Path(__file__).resolve().parent.parent / "data" / "sms"


@pytest.fixture(scope="module")
def sms_tfidf():
    from labelmill import load_wrench
    from labelmill.features import TfidfFeaturizer

    ds = load_wrench(SMS)
    return ds, TfidfFeaturizer().fit_transform(ds.train.examples)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_approximate_graph_of_sparse_tfidf_finds_the_exact_neighbours(sms_tfidf, metric):
    # sms train TF-IDF (4,571 rows x ~44k terms): NN-descent on the sparse rows. The old
    # route, truncated SVD to 128 dimensions + faiss, found only ~0.36 of them.
    pytest.importorskip("pynndescent")
    from labelmill.propagation import approximate_knn

    _, X = sms_tfidf
    ex_idx, ex_sim = exact_knn(X, 10, metric)
    idx, sim = approximate_knn(X, 10, metric, random_state=0)
    assert (idx != np.arange(X.shape[0])[:, None]).all() and (np.diff(sim, axis=1) <= 1e-6).all()
    recall = np.mean(sim >= ex_sim[:, -1:] - 1e-5)  # ties at the k-th similarity count as found
    assert recall > 0.85
    again, _ = approximate_knn(X, 10, metric, random_state=0)
    assert (again == idx).all()  # deterministic under random_state
    We = knn_graph(X, k=10, method="exact", metric=metric)
    Wa = knn_graph(X, k=10, method="approximate", metric=metric)
    both_e, both_a = We.multiply(Wa > 0), Wa.multiply(We > 0)
    # an edge in both graphs carries the same weight (Euclidean: up to the kernel's
    # bandwidth, the median k-th distance, which the approximate graph estimates)
    assert abs(both_e - both_a).max() < (1e-4 if metric == "cosine" else 1e-2)


def test_propagation_on_an_approximate_sparse_graph_matches_exact(sms_tfidf):
    pytest.importorskip("pynndescent")
    from labelmill.label_models import MajorityVote

    ds, X = sms_tfidf
    L = ds.train.L
    proba = MajorityVote().fit(L).predict_proba(L)
    covered = np.diff(L.indptr) > 0
    y = ds.train.gold
    acc = {}
    for method in ("exact", "approximate"):
        P = LabelPropagator(graph_method=method).fit(X, proba, covered).proba_
        acc[method] = (P.argmax(1)[~covered] == y[~covered]).mean()
    assert acc["exact"] > 0.85  # sms's uncovered rows are mostly ham
    assert abs(acc["approximate"] - acc["exact"]) < 0.01


def test_approximate_graph_of_sparse_rows_leaves_empty_rows_alone():
    pytest.importorskip("pynndescent")
    rng = np.random.default_rng(4)
    X = sp.random(300, 50, density=0.1, random_state=5, format="csr", dtype=np.float32)
    X = sp.csr_matrix(X.toarray() * (rng.random((300, 1)) > 0.1))  # ~30 rows with no feature at all
    empty = np.diff(X.indptr) == 0
    Wa = knn_graph(X, k=5, method="approximate")
    We = knn_graph(X, k=5, method="exact")
    assert empty.any() and Wa[empty].nnz == 0 and We[empty].nnz == 0  # cosine 0: no edge, as in exact


def test_sparse_approximate_graph_errors(monkeypatch):
    import sys

    from labelmill.errors import MissingExtraError
    from labelmill.propagation import approximate_knn

    X = sp.random(50, 20, density=0.3, random_state=0, format="csr", dtype=np.float32)
    with pytest.raises(DataFormatError, match="unknown sparse_method 'pca'"):
        approximate_knn(X, 5, sparse_method="pca")
    monkeypatch.setitem(sys.modules, "pynndescent", None)
    with pytest.raises(MissingExtraError, match="pynndescent"):
        approximate_knn(X, 5)


def test_sparse_rows_through_svd_and_faiss_on_request(sms_tfidf):
    pytest.importorskip("faiss")
    from labelmill.propagation import approximate_knn

    _, X = sms_tfidf
    idx, sim = approximate_knn(X[:1000], 10, sparse_method="svd", svd_components=64)
    assert idx.shape == (1000, 10) and (idx >= 0).all() and np.isfinite(sim).all()


def _synthetic_votes(n=3000, seed=0):
    """Two classes, two sources that fire mostly on their own class (coverage depends on y)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    votes = -np.ones((n, 2), dtype=int)
    fire0 = rng.random(n) < np.where(y == 0, 0.2, 0.6)   # "spam" source: fires on class 1 mostly
    votes[fire0, 0] = np.where(rng.random(fire0.sum()) < 0.9, 1, 0)
    fire1 = rng.random(n) < np.where(y == 0, 0.3, 0.05)  # "ham" source
    votes[fire1, 1] = np.where(rng.random(fire1.sum()) < 0.9, 0, 1)
    return y, votes


def test_abstain_posterior_recovers_known_value():
    y, votes = _synthetic_votes(20000)
    L = LabelMatrix.from_dense(votes, n_classes=2)
    covered = (votes >= 0).any(axis=1)
    # exact posteriors for covered rows from the known generative parameters
    prior = np.array([0.6, 0.4])
    fire = np.array([[0.2, 0.6], [0.3, 0.05]])  # P(source j fires | y = c)
    proba = np.tile(prior, (len(y), 1))
    for j in range(2):
        for c in range(2):
            right = (0 if j == 1 else 1)
            p_vote = np.where(votes[:, j] < 0, 1 - fire[j, c],
                              fire[j, c] * np.where(votes[:, j] == c, 0.9 if c == right else 0.1,
                                                    0.1 if c == right else 0.9))
            proba[:, c] *= p_vote
    proba /= proba.sum(axis=1, keepdims=True)
    u = abstain_posterior(L, proba, covered)
    truth = prior * (1 - fire[0]) * (1 - fire[1])
    truth /= truth.sum()
    np.testing.assert_allclose(u, truth, atol=0.03)
    assert abs(u[1] - y[~covered].mean()) < 0.03


def test_propagator_is_invariant_to_row_order():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    y, votes = _synthetic_votes(300, seed=3)
    L = LabelMatrix.from_dense(votes, n_classes=2)
    covered = (votes >= 0).any(axis=1)
    proba = np.where(covered[:, None], np.eye(2)[np.clip(votes.max(axis=1), 0, 1)] * 0.8 + 0.1, 0.5)
    a = LabelPropagator(n_neighbors=6).fit(X, proba, covered, L=L)
    perm = rng.permutation(300)
    b = LabelPropagator(n_neighbors=6).fit(X[perm], proba[perm], covered[perm], L=L[perm])
    np.testing.assert_allclose(a.proba_[perm], b.proba_, atol=1e-6)
    np.testing.assert_allclose(a.denoise_scores_[perm], b.denoise_scores_, atol=1e-6)


def test_bad_input_is_named():
    X = np.zeros((10, 3), dtype=np.float32)
    X[:, 0] = np.arange(10)
    proba = np.full((10, 2), 0.5)
    covered = np.ones(10, bool)
    with pytest.raises(DataFormatError, match="9 rows but the votes have 10"):
        LabelPropagator(n_neighbors=3).fit(X[:9], proba, covered)
    Xn = X.copy()
    Xn[4, 2] = np.nan
    with pytest.raises(DataFormatError, match="row 4, column 2 is NaN"):
        LabelPropagator(n_neighbors=3).fit(Xn, proba, covered)
    with pytest.raises(DataFormatError, match="row 4, column 2 is NaN"):
        LabelPropagator(n_neighbors=3).fit(sp.csr_matrix(Xn), proba, covered)
    with pytest.raises(DataFormatError, match="smaller than the number of rows"):
        LabelPropagator(n_neighbors=10).fit(X, proba, covered)
    with pytest.raises(DataFormatError, match="alpha"):
        LabelPropagator(n_neighbors=3, alpha=1.0).fit(X, proba, covered)
    with pytest.raises(DataFormatError, match="unknown metric"):
        knn_graph(X, k=3, metric="manhattan")
    with pytest.raises(DataFormatError, match="class_prior must be 2 non-negative numbers"):
        LabelPropagator(n_neighbors=3).fit(X, proba, covered, class_prior=[1, 1, 1])
    # proba on covered rows must be probabilities; the error names the row, not class_prior
    for bad_value in (5.0, np.nan, -0.5):
        bad = proba.copy()
        bad[6] = [bad_value, 0.5]
        with pytest.raises(DataFormatError, match="proba row 6 .*covered row"):
            LabelPropagator(n_neighbors=3).fit(X, bad, covered)
    with pytest.raises(DataFormatError, match="covered must be a boolean mask"):
        LabelPropagator(n_neighbors=3).fit(X, proba, np.full(10, 0.9))
    # 0/1 masks and a dense precomputed graph are fine
    G = np.ones((10, 10)) - np.eye(10)
    P = LabelPropagator(n_neighbors=3).fit(X, proba, covered.astype(int), graph=G).proba_
    assert np.allclose(P.sum(axis=1), 1)


def test_euclidean_graph_keeps_edges_when_most_rows_are_duplicates():
    """A median k-th distance of 0 (most rows have k exact copies) must not zero every
    other edge's Gaussian weight."""
    X = np.r_[np.zeros(150), np.arange(1, 51)].astype(np.float32)[:, None]
    W = knn_graph(X, k=5, metric="euclidean")
    assert (np.asarray(W[150:].sum(axis=1)).ravel() > 0).all()


def test_worst_rows_and_denoise_modes():
    s = np.array([0.1, np.nan, 0.9, 0.5, 0.7])
    assert worst_rows(s, 0.5).tolist() == [False, False, True, False, True]
    assert not worst_rows(s, 0.0).any()
    with pytest.raises(DataFormatError):
        worst_rows(s, 1.5)


@pytest.fixture(scope="module")
def youtube_propagation():
    from labelmill.pipeline import fit_label_model, propagate
    ds = load_demo()
    model, _, _ = fit_label_model(ds, "auto")
    return ds, model, propagate(ds, model, cache=False)


def test_propagation_on_youtube_covers_every_row_and_helps_uncovered_rows(youtube_propagation):
    from labelmill.pipeline import train_label_metrics
    ds, model, r = youtube_propagation
    assert r.proba.shape == (len(ds.train), 2)
    np.testing.assert_allclose(r.proba.sum(axis=1), 1.0, atol=1e-9)
    m = train_label_metrics(ds.train.gold, r.label_model_proba, r.proba, r.covered, 2)
    assert m["after"]["coverage"] == 1.0 and m["before"]["coverage"] < 0.9
    # uncovered youtube comments are mostly ham, the label model's prior says spam
    assert m["after"]["uncovered"]["accuracy"] > m["before"]["uncovered"]["accuracy"] + 0.2
    assert m["after"]["accuracy"] >= m["before"]["accuracy"]
    assert r.selection and len(r.selection) == 6


def test_denoise_scores_flag_wrong_labels_on_youtube(youtube_propagation):
    ds, model, r = youtube_propagation
    cov = r.covered
    wrong = r.label_model_proba.argmax(axis=1) != ds.train.gold
    scores = r.denoise_scores[cov]
    assert np.isnan(r.denoise_scores[~cov]).all()
    # wrong labels have higher disagreement on average than right ones
    assert np.nanmean(scores[wrong[cov]]) > np.nanmean(scores[~wrong[cov]]) + 0.1
    prop = LabelPropagator(denoise="correct", denoise_fraction=0.1).fit(
        r.features["train"], r.label_model_proba, cov, L=ds.train.L, graph=r.propagator.graph_[:len(ds.train), :len(ds.train)])
    assert prop.corrected_.sum() == round(0.1 * (~np.isnan(prop.denoise_scores_)).sum())
    w = LabelPropagator(denoise="weight").fit(r.features["train"], r.label_model_proba, cov, L=ds.train.L).weights_
    assert ((w >= 0) & (w <= 1)).all() and (w[~cov] == 1).all()


def test_select_propagator_keeps_default_on_ties():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(100, 4)).astype(np.float32)
    proba = np.tile([0.9, 0.1], (100, 1))
    covered = np.ones(100, bool)
    y = np.zeros(100, int)
    best, table = select_propagator(X, proba, covered, None, y, np.ones(100, bool), n_neighbors=5)
    assert (best.alpha, best.uncovered_anchor) == (0.9, 0.3)
    assert len(table) == 6 and all(t["accuracy"] == 1.0 for t in table)


def test_graph_params_reach_the_approximate_search_and_typos_are_named():
    import inspect

    from labelmill.propagation.graph import _ANN_PARAMS, approximate_knn

    assert _ANN_PARAMS == set(inspect.signature(approximate_knn).parameters) - {"X", "k", "metric", "random_state",
                                                                                "n_jobs"}
    X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    P, cov = np.full((60, 2), 0.5), np.ones(60, bool)
    for bad in ({"n_prob": 3}, {"n_jobs": 2}, {"k": 3}):  # the last two used to be a raw TypeError
        with pytest.raises(DataFormatError, match=r"unknown approximate-search parameter\(s\)"):
            LabelPropagator(graph_method="exact", graph_params=bad).fit(X, P, cov)


def test_graph_params_choose_the_sparse_search(sms_tfidf):
    pytest.importorskip("pynndescent")
    pytest.importorskip("faiss")
    _, X = sms_tfidf
    X = X[:1500]
    P, cov = np.full((1500, 2), 0.5), np.ones(1500, bool)
    nnd = LabelPropagator(graph_method="approximate").fit(X, P, cov)
    svd = LabelPropagator(graph_method="approximate", graph_params={"sparse_method": "svd"}).fit(X, P, cov)
    exact = LabelPropagator(graph_method="exact").fit(X, P, cov)
    assert nnd.graph_method_ == svd.graph_method_ == "approximate" and exact.graph_method_ == "exact"

    def shared(W):  # share of the exact graph's edges a graph holds
        return (exact.graph_.multiply(W) > 0).sum() / (exact.graph_ > 0).sum()

    assert shared(nnd.graph_) > 0.85 and shared(svd.graph_) < shared(nnd.graph_) - 0.2


def test_ctrl_c_during_nn_descent_is_raised_when_it_returns():
    """numba cleared (or turned into a SystemError) the KeyboardInterrupt of a Ctrl-C during
    NN-descent, so the run went on. The interrupt is now held and raised after the call."""
    import os
    import signal

    from labelmill.propagation.graph import _interrupts_held

    # pytest run as a background job starts with SIGINT ignored: set the usual handler
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        finished = False
        with pytest.raises(KeyboardInterrupt):
            with _interrupts_held():
                os.kill(os.getpid(), signal.SIGINT)
                sum(range(100_000))  # the handler runs here: noted, not raised
                finished = True
        assert finished and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        # an ignored SIGINT (nohup, a background job) stays ignored
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        with _interrupts_held():
            os.kill(os.getpid(), signal.SIGINT)
            sum(range(100_000))
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_abstain_posterior_of_a_class_no_source_votes_is_zero_without_warnings():
    """semeval without any vote for class 8: log(0) of that class's mass printed
    "RuntimeWarning: divide by zero encountered in log" in the middle of `labelmill run`."""
    import warnings

    from labelmill import load_wrench
    from labelmill.label_models import MajorityVote

    ds = load_wrench(Path(__file__).resolve().parents[1] / "data" / "semeval")
    dense = np.vstack([ds.train.L.to_dense(), ds.valid.L.to_dense()])
    dense[dense == 8] = -1
    L = LabelMatrix.from_dense(dense, n_classes=9)
    covered = np.diff(L.indptr) > 0
    assert (~covered).any()
    proba = MajorityVote().fit(L).predict_proba(L)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        u = abstain_posterior(L, proba, covered)
    assert np.isfinite(u).all() and abs(u.sum() - 1) < 1e-9 and u[8] == 0
