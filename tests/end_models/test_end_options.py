"""Label smoothing, mixup, ELR term, row weighting and filtering."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from labelmill.end_models import confidence_weights, draw_mixup, filter_rows, mixup, smooth_labels
from labelmill.end_models.options import elr_penalty_grad, elr_update


def soft(n, k, seed=0):
    return np.random.default_rng(seed).dirichlet(np.ones(k), n)


def test_smooth_labels():
    Y = soft(20, 4)
    assert smooth_labels(Y, 0.0) is Y
    S = smooth_labels(Y, 0.2)
    np.testing.assert_allclose(S.sum(axis=1), 1.0)
    np.testing.assert_allclose(S, 0.8 * Y + 0.05)
    np.testing.assert_allclose(smooth_labels(Y, 1.0), 0.25)
    with pytest.raises(ValueError, match="label_smoothing"):
        smooth_labels(Y, 1.5)


@pytest.mark.parametrize("sparse", [True, False])
def test_mixup_with_lam_one_is_an_exact_no_op(sparse):
    rng = np.random.default_rng(0)
    D = rng.random((30, 8)) * (rng.random((30, 8)) < 0.3)
    X = sp.csr_matrix(D.astype(np.float32)) if sparse else D
    Y = soft(30, 3)
    w = rng.random(30)
    Xm, Ym, wm = mixup(X, Y, lam=1.0, random_state=1, sample_weight=w)
    if sparse:
        assert sp.issparse(Xm) and Xm.dtype == np.float32
        assert (Xm != X).nnz == 0
        Xm = Xm.toarray()
        X = X.toarray()
    np.testing.assert_array_equal(Xm, X)
    np.testing.assert_array_equal(Ym, Y)
    np.testing.assert_array_equal(wm, w)


def test_mixup_sparse_equals_dense_and_mixes_partners():
    rng = np.random.default_rng(1)
    D = rng.random((25, 6)) * (rng.random((25, 6)) < 0.5)
    Y = soft(25, 2)
    perm, lam = draw_mixup(25, 0.3, random_state=4)
    Xs, Ys, _ = mixup(sp.csr_matrix(D), Y, lam=lam, perm=perm)
    Xd, Yd, _ = mixup(D, Y, lam=lam, perm=perm)
    np.testing.assert_allclose(Xs.toarray(), Xd)
    np.testing.assert_allclose(Xd, lam[:, None] * D + (1 - lam[:, None]) * D[perm])
    np.testing.assert_allclose(Yd.sum(axis=1), 1.0)


def test_draw_mixup_is_seeded_and_respects_mask():
    p1, l1 = draw_mixup(50, 0.2, random_state=3)
    p2, l2 = draw_mixup(50, 0.2, random_state=3)
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(l1, l2)
    assert sorted(p1) == list(range(50)) and ((l1 >= 0) & (l1 <= 1)).all()
    mask = np.arange(50) % 2 == 0
    p, _ = draw_mixup(50, 0.2, random_state=3, mask=mask)
    np.testing.assert_array_equal(p[~mask], np.flatnonzero(~mask))
    assert mask[p[mask]].all()
    with pytest.raises(ValueError, match="mixup_alpha"):
        draw_mixup(5, 0.0)


@pytest.mark.parametrize("k", [2, 4])
def test_elr_gradient_matches_finite_differences(k):
    rng = np.random.default_rng(k)
    Z = rng.standard_normal((6, k))
    T = soft(6, k, seed=1)

    def value(Z):
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        return elr_penalty_grad(P, T)

    v, G = value(Z)
    eps = 1e-6
    for j in range(k):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[:, j] += eps
        Zm[:, j] -= eps
        np.testing.assert_allclose((value(Zp)[0] - value(Zm)[0]) / (2 * eps), G[:, j], atol=1e-6)
    assert (v <= 0).all()


def test_elr_update():
    P = soft(5, 3)
    T = elr_update(None, P, 0.7)
    np.testing.assert_allclose(T, P)
    Q = soft(5, 3, seed=2)
    np.testing.assert_allclose(elr_update(T, Q, 0.7), 0.7 * P + 0.3 * Q)
    with pytest.raises(ValueError, match="elr_beta"):
        elr_update(T, Q, 1.0)


def test_confidence_weights():
    P = np.array([[1.0, 0.0], [0.5, 0.5], [0.75, 0.25]])
    np.testing.assert_allclose(confidence_weights(P, "max"), [1.0, 0.0, 0.5])
    e = confidence_weights(P, "entropy")
    assert e[0] == pytest.approx(1.0) and e[1] == pytest.approx(0.0) and 0 < e[2] < 1
    P3 = np.full((2, 3), 1 / 3)
    np.testing.assert_allclose(confidence_weights(P3), 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="'max' or 'entropy'"):
        confidence_weights(P, "margin")


def test_filter_rows_from_probabilities_and_from_scores():
    P = np.array([[0.9, 0.1], [0.5, 0.5], [0.6, 0.4], [1.0, 0.0]])
    np.testing.assert_array_equal(filter_rows(P, 0.5), [1, 0, 0, 1])
    scores = np.array([0.1, 3.0, -1.0, 2.0, 0.5])  # higher = more suspicious
    np.testing.assert_array_equal(filter_rows(scores, 0.4), [1, 0, 1, 0, 1])
    np.testing.assert_array_equal(filter_rows(scores, 0.0), np.ones(5))
    tied = np.zeros(4)
    np.testing.assert_array_equal(filter_rows(tied, 0.5), [0, 0, 1, 1])  # deterministic: earlier rows first
    with pytest.raises(ValueError, match="fraction"):
        filter_rows(scores, 1.0)
