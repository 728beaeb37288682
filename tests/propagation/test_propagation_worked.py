"""kNN graphs, spreading and the abstain prior worked by hand. Each test pins a behaviour
that a plausible one-line bug (found by hand-made mutation testing) changed without any
other test noticing."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from labelmill import LabelMatrix
from labelmill.errors import DataFormatError
from labelmill.propagation import LabelPropagator, abstain_posterior, knn_graph


# ------------------------------------------------------------------------- kNN graph
def test_cosine_graph_drops_negative_similarities():
    # a points away from b and c; b and c are close to each other. With k=2 every row's
    # neighbours include a negative cosine, which must become no edge (clipped at 0)
    X = np.array([[1.0, 0.0], [-1.0, 0.2], [-1.0, -0.2]], dtype=np.float32)
    W = knn_graph(X, k=2, metric="cosine").toarray()
    cos_bc = (1 - 0.04) / (1 + 0.04)
    np.testing.assert_allclose(W, [[0, 0, 0], [0, 0, cos_bc], [0, cos_bc, 0]], atol=1e-6)


def test_euclidean_gaussian_weights_worked_by_hand():
    # points 0, 1, 3, 6 on a line, k=2. k-th (2nd) neighbour distances 3, 2, 3, 5: median
    # bandwidth 3; weight exp(-(d / 3)^2), W = max(A, A.T)
    X = np.array([[0.0], [1.0], [3.0], [6.0]], dtype=np.float32)
    W = knn_graph(X, k=2, metric="euclidean").toarray()
    g = lambda d: np.exp(-(d / 3.0) ** 2)  # noqa: E731
    expected = np.array([[0, g(1), g(3), 0],
                         [g(1), 0, g(2), g(5)],
                         [g(3), g(2), 0, g(3)],
                         [0, g(5), g(3), 0]])
    np.testing.assert_allclose(W, expected, rtol=1e-5)


def test_dense_all_zero_row_gives_a_finite_graph_equal_to_the_sparse_one():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 4)).astype(np.float32)
    X[4] = 0.0
    Wd = knn_graph(X, k=3)
    assert np.isfinite(Wd.data).all()
    assert abs(Wd - knn_graph(sp.csr_matrix(X), k=3)).max() < 1e-6


def test_k_must_be_below_the_number_of_rows():
    X = np.random.default_rng(1).normal(size=(6, 3)).astype(np.float32)
    knn_graph(X, k=5)  # N - 1 is fine
    with pytest.raises(DataFormatError, match="1 <= k < N"):
        knn_graph(X, k=6)


# ------------------------------------------------------------------------- spreading
def test_unreached_uncovered_row_gets_its_seed_not_uniform():
    # rows 0-2 form a triangle of covered rows; row 3 is uncovered and isolated, and with
    # uncovered_anchor=0 nothing reaches it: it must get its seed (here the given prior)
    G = sp.csr_matrix(np.array([[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=float))
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.5, 0.5]])
    covered = np.array([True, True, True, False])
    p = LabelPropagator(uncovered_seed="prior", uncovered_anchor=0.0).fit(
        None, proba, covered, class_prior=[0.8, 0.2], graph=G)
    np.testing.assert_allclose(p.proba_[3], [0.8, 0.2])


# ------------------------------------------------------------------------- propagator inputs
def test_covered_mask_with_a_value_other_than_0_or_1_is_refused():
    G = np.ones((4, 4)) - np.eye(4)
    proba = np.full((4, 2), 0.5)
    with pytest.raises(DataFormatError, match="covered must be a boolean mask"):
        LabelPropagator().fit(None, proba, np.array([1.0, 0.9, 0.0, 1.0]), graph=G)


# ------------------------------------------------------------------------- abstain prior
def test_abstain_posterior_is_the_smoothed_fixed_point():
    # the documented EM fixed point: P(abstain_j | c) = (abstain mass + s) / (class mass + 2 s),
    # u_c ∝ prior_c * prod_j P(abstain_j | c), with uncovered rows counted at u
    votes = np.array([[0, -1], [0, 0], [-1, 1], [-1, 1], [1, -1], [-1, -1], [-1, -1], [-1, -1]])
    L = LabelMatrix.from_dense(votes, n_classes=2)
    covered = (votes >= 0).any(axis=1)
    proba = np.array([[0.9, 0.1], [0.95, 0.05], [0.2, 0.8], [0.3, 0.7], [0.4, 0.6]] + [[0.5, 0.5]] * 3)
    s = 1.0
    u = abstain_posterior(L, proba, covered, n_iter=500, smoothing=s)
    mass = proba[covered].sum(axis=0) + (~covered).sum() * u
    p_abs = np.ones(2)
    for j in range(2):
        voted = votes[:, j] >= 0
        p_abs *= (mass - proba[voted].sum(axis=0) + s) / (mass + 2 * s)
    fixed = mass / mass.sum() * p_abs
    np.testing.assert_allclose(u, fixed / fixed.sum(), atol=1e-7)
