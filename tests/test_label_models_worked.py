"""Label models worked by hand or against their stated formulas: each test pins a behaviour
that a plausible one-line bug (found by hand-made mutation testing) left unobserved by
test_label_models.py."""

from __future__ import annotations

import numpy as np
import pytest

from labelmill import LabelMatrix
from labelmill.evaluation import log_loss
from labelmill.label_models import (AutoLabelModel, DawidSkene, MajorityVote, MomentMatching,
                                    WeightedMajorityVote, break_ties)
from labelmill.label_models.base import smoothed_class_balance
from test_label_models import synth_binary_like


def one_coin_votes(n, k, accs, covs, balance, seed):
    """(N, M) dense votes and (N,) gold of `synth_binary_like`'s one-coin sources."""
    L, y = synth_binary_like(n, k, accs, covs, balance, seed)
    return L.to_dense(), y


# ---------------------------------------------------------------------- base / majority
def test_break_ties_counts_classes_within_atol_as_tied():
    # a float-noise near tie (1e-12 < atol) is a tie: over seeds both classes are chosen
    P = np.array([[0.5, 0.5 - 1e-12]])
    assert {int(break_ties(P, s)[0]) for s in range(40)} == {0, 1}
    # a gap larger than atol is no tie
    assert {int(break_ties(np.array([[0.5, 0.5 - 1e-6]]), s)[0]) for s in range(40)} == {0}


def test_weighted_majority_posterior_is_the_one_coin_posterior_k3():
    # predict_proba must be P(y | votes) under the one-coin model with the estimated
    # accuracies: a vote for c has likelihood acc under c and (1 - acc) / (k - 1) otherwise
    k = 3
    dense, _ = one_coin_votes(3000, k, [0.9, 0.8, 0.7, 0.6, 0.75], [0.9, 0.7, 0.8, 0.6, 0.5], np.ones(k) / k, 0)
    L = LabelMatrix.from_dense(dense, n_classes=k)
    wmv = WeightedMajorityVote().fit(L)
    acc = wmv.accuracy_
    rows = dense[:300]
    like = np.ones((len(rows), k))
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if v >= 0:
                like[i] *= np.where(np.arange(k) == v, acc[j], (1 - acc[j]) / (k - 1))
    np.testing.assert_allclose(wmv.predict_proba(L[:300]), like / like.sum(axis=1, keepdims=True), rtol=1e-9)


def test_agreement_estimator_ignores_votes_nobody_can_check():
    # rows where a single source votes cannot confirm it: adding them leaves accuracy_ unchanged
    m = 10
    dense, _ = one_coin_votes(3000, 2, np.linspace(0.6, 0.9, m), np.linspace(0.8, 0.3, m), [0.5, 0.5], 1)
    solo = np.full((1000, m), -1)
    solo[np.arange(1000), np.arange(1000) % m] = np.arange(1000) % 2
    a = WeightedMajorityVote(estimator="agreement").fit(LabelMatrix.from_dense(dense, n_classes=2)).accuracy_
    b = WeightedMajorityVote(estimator="agreement").fit(
        LabelMatrix.from_dense(np.vstack([dense, solo]), n_classes=2)).accuracy_
    assert (a > 0.52).all()  # not at the 1/k + 0.001 floor, where any change would be clipped away
    np.testing.assert_allclose(b, a, rtol=1e-12)


# ---------------------------------------------------------------------- Dawid-Skene
def _ds_hand_matrix():
    # 20 rows, classes 0 (rows 0-9) and 1 (rows 10-19); five perfect sources make the
    # posterior one-hot (to ~1e-5); source B votes 0 on rows 0-3 and abstains elsewhere
    y = np.repeat([0, 1], 10)
    B = np.where(np.arange(20) < 4, 0, -1)
    return LabelMatrix.from_dense(np.column_stack([y] * 5 + [B]), n_classes=2)


def test_dawid_skene_m_step_pseudo_counts_by_hand():
    L = _ds_hand_matrix()
    # abstain="ignore": counts of B under class 0 = [4, 0]; +1 per cell, +1 on the diagonal
    ds = DawidSkene(smoothing=1.0, diagonal_boost=1.0).fit(L)
    np.testing.assert_allclose(ds.confusion_[5], [[6 / 7, 1 / 7], [1 / 3, 2 / 3]], atol=1e-3)
    # abstain="model": the abstain cell holds the expected abstentions (10 - 4 under class 0,
    # 10 under class 1) plus one pseudo-count; each row's total is n_c + 4 pseudo-counts
    ds = DawidSkene(smoothing=1.0, diagonal_boost=1.0, abstain="model").fit(L)
    np.testing.assert_allclose(ds.confusion_[5], [[6 / 14, 1 / 14, 7 / 14], [1 / 14, 2 / 14, 11 / 14]], atol=1e-3)
    # a perfect source: 10 + 2 on the diagonal, 1 off it, 0 + 1 abstentions
    np.testing.assert_allclose(ds.confusion_[0], [[12 / 14, 1 / 14, 1 / 14], [1 / 14, 12 / 14, 1 / 14]], atol=1e-3)


def test_dawid_skene_one_coin_recovers_accuracies_k3():
    k, accs, covs = 3, np.linspace(0.55, 0.9, 8), np.linspace(0.8, 0.4, 8)
    dense, y = one_coin_votes(20_000, k, accs, covs, np.ones(k) / k, 2)
    L = LabelMatrix.from_dense(dense, n_classes=k)
    ds = DawidSkene(one_coin=True).fit(L)
    emp = np.array([(dense[:, j] == y)[dense[:, j] >= 0].mean() for j in range(len(accs))])
    assert np.abs(ds.accuracy_ - emp).max() < 0.02
    # one coin: every confusion row has the accuracy on its diagonal, the rest spread evenly
    for j in range(len(accs)):
        np.testing.assert_allclose(np.diag(ds.confusion_[j]), ds.accuracy_[j], rtol=1e-9)
        off = ds.confusion_[j][~np.eye(k, dtype=bool)]
        np.testing.assert_allclose(off, (1 - ds.accuracy_[j]) / (k - 1), rtol=1e-9)


# ---------------------------------------------------------------------- moment matching
def _mm_data(n=3000, balance=(0.7, 0.3), seed=3, uncovered=0):
    dense, y = one_coin_votes(n, 2, [0.9, 0.8, 0.75, 0.7, 0.65], [0.5, 0.45, 0.4, 0.35, 0.3], list(balance), seed)
    if uncovered:
        dense = np.vstack([dense, np.full((uncovered, dense.shape[1]), -1)])
    return dense, y


def test_moment_matching_starts_from_the_precision_prior():
    # documented start: mu[(j, l), l] = P(source j votes l) * prec_init / p_l; one negligible step
    dense, _ = _mm_data()
    L = LabelMatrix.from_dense(dense, n_classes=2)
    p = np.array([0.7, 0.3])
    mm = MomentMatching(n_epochs=1, lr=1e-12, prec_init=0.5, mu_eps=0.01).fit(L, class_balance=p)
    marg = np.array([[(dense[:, j] == l).mean() for l in range(2)] for j in range(dense.shape[1])])
    np.testing.assert_allclose(np.einsum("jcc->jc", mm.mu_), marg * 0.5 / p, rtol=1e-6)


def test_moment_matching_estimated_balance_is_the_mean_posterior_on_covered_rows():
    dense, _ = _mm_data(uncovered=1500)
    L = LabelMatrix.from_dense(dense, n_classes=2)
    est = MomentMatching(class_balance="estimated", balance_iter=1).fit(L)
    uni = MomentMatching().fit(L)  # the first round is the uniform-balance fit
    expected = smoothed_class_balance(uni.predict_proba(L)[L.covered()])
    np.testing.assert_allclose(est.class_balance_, expected, rtol=1e-12)
    assert abs(expected[0] - 0.5) > 0.05  # skewed data: uncovered rows would pull it to 1/2


@pytest.mark.parametrize("abstain", ["ignore", "model"])
def test_moment_matching_posterior_is_the_naive_bayes_likelihood(abstain):
    dense, _ = _mm_data(n=2000, seed=4)
    L = LabelMatrix.from_dense(dense, n_classes=2)
    mm = MomentMatching(abstain=abstain).fit(L)
    mu, p = mm.mu_, mm.class_balance_
    rows = dense[:200]
    like = np.tile(p, (len(rows), 1))
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if v >= 0:
                like[i] *= mu[j, :, v]
            elif abstain == "model":
                like[i] *= 1 - mu[j].sum(axis=1)  # P(source j abstains | y = c)
    np.testing.assert_allclose(mm.predict_proba(L[:200]), like / like.sum(axis=1, keepdims=True), rtol=1e-8)


def test_moment_matching_default_mu_eps_follows_n():
    # None = min(0.01, 10 ** -ceil(log10(N))): 0.001 for N = 500
    dense, _ = _mm_data(n=500, seed=5)
    L = LabelMatrix.from_dense(dense, n_classes=2)
    default = MomentMatching().fit(L).mu_
    np.testing.assert_array_equal(default, MomentMatching(mu_eps=0.001).fit(L).mu_)
    assert not np.allclose(default, MomentMatching(mu_eps=0.01).fit(L).mu_)


def test_cap_vote_mass_scales_each_class_column_by_hand():
    from labelmill.label_models.moments import _cap_vote_mass

    mu = np.array([[0.9, 0.2],   # row (j=0, l=0), columns c
                   [0.3, 0.7]])  # row (j=0, l=1)
    # column c=0 has P(vote | y=0) = 1.2 -> scaled to 0.999; column c=1 (0.9) is kept
    np.testing.assert_allclose(_cap_vote_mass(mu, 1, 2), [[0.9 * 0.999 / 1.2, 0.2], [0.3 * 0.999 / 1.2, 0.7]])


def test_align_classes_undoes_a_permutation_of_equal_prior_classes():
    from labelmill.label_models.moments import _align_classes

    k, m = 3, 2
    good = np.tile(np.eye(k) * 0.6 + 0.1, (m, 1))  # row (j, l), column c: votes agree with the class
    perm = np.array([2, 0, 1])
    np.testing.assert_allclose(_align_classes(good[:, perm], np.ones(k) / k, m, k), good)
    # classes with different priors are never swapped
    p = np.array([0.5, 0.3, 0.2])
    np.testing.assert_allclose(_align_classes(good[:, perm], p, m, k), good[:, perm])


# ---------------------------------------------------------------------- triplets
@pytest.mark.parametrize("n_covote, basis", [(10, "cap"), (9, "prior")])
def test_triplets_use_pairs_with_exactly_min_overlap_co_votes(n_covote, basis):
    a = np.full((40, 3), -1)
    a[:n_covote] = 0
    wmv = WeightedMajorityVote().fit(LabelMatrix.from_dense(a, n_classes=2))
    assert list(wmv.accuracy_basis_) == [basis] * 3


def test_triplets_use_anti_correlated_pairs_as_denominators():
    # C is worse than random: c_AC and c_BC are negative but |c_BC| is a strong signal
    dense, y = one_coin_votes(20_000, 2, [0.85, 0.8, 0.2], [1.0, 1.0, 1.0], [0.5, 0.5], 6)
    wmv = WeightedMajorityVote().fit(LabelMatrix.from_dense(dense, n_classes=2))
    assert list(wmv.accuracy_basis_[:2]) == ["triplets", "triplets"]
    emp = [(dense[:, j] == y).mean() for j in range(2)]
    np.testing.assert_allclose(wmv.accuracy_[:2], emp, atol=0.02)


def test_triplets_keep_the_best_overlapping_partners():
    from labelmill.label_models.triplets import triplet_accuracies

    rng = np.random.default_rng(7)
    n = 1200
    y = rng.integers(0, 2, n)
    vote = lambda a: np.where(rng.random(n) < a, y, 1 - y)  # noqa: E731
    d = np.full((n, 5), -1)
    d[:, 0] = vote(0.85)
    d[:1000, 1], d[:1000, 2] = vote(0.8)[:1000], vote(0.75)[:1000]      # overlap 1000 with source 0
    d[1000:1100, 3], d[1100:1200, 4] = vote(0.8)[1000:1100], vote(0.8)[1100:1200]  # 100 each, not with each other
    L = LabelMatrix.from_dense(d, n_classes=2)
    acc, n_trip = triplet_accuracies(L, max_partners=2)
    # source 0 keeps partners 1 and 2 (1000 co-votes), whose own pair is usable
    assert n_trip[0] == 1
    assert abs(acc[0] - (d[:, 0] == y).mean()) < 0.05


# ---------------------------------------------------------------------- auto
def _auto_data(seed=8):
    dense, y = one_coin_votes(1500, 2, [0.9, 0.8, 0.7, 0.65], [0.6, 0.5, 0.4, 0.3], [0.7, 0.3], seed)
    return LabelMatrix.from_dense(dense, n_classes=2), y


def test_auto_valid_balance_is_add_one_smoothed():
    L, y = _auto_data()
    yv = y[1000:].copy()
    yv[:50] = -1
    auto = AutoLabelModel(candidates={"mv": MajorityVote()}).fit(L[:1000], L_valid=L[1000:], y_valid=yv)
    known = yv[yv >= 0]
    np.testing.assert_allclose(auto.candidates_["mv+valid_balance"].class_balance_,
                               (np.bincount(known, minlength=2) + 1.0) / (len(known) + 2))


def test_auto_accuracy_ties_go_to_the_lower_valid_log_loss():
    # two sources: no held-out source agreement, so among equally accurate candidates the lower
    # log loss wins; equal weights give both candidates the same argmax, not the same confidence
    dense, y = one_coin_votes(1500, 2, [0.9, 0.85], [0.8, 0.7], [0.5, 0.5], 9)
    L = LabelMatrix.from_dense(dense, n_classes=2)
    cands = {"sharp": WeightedMajorityVote(weights=[2.0, 2.0]), "soft": WeightedMajorityVote(weights=[0.2, 0.2])}
    auto = AutoLabelModel(candidates=cands).fit(L[:1000], class_balance=[0.5, 0.5], L_valid=L[1000:],
                                                y_valid=y[1000:])
    s = {r["name"]: r for r in auto.scores_}
    assert s["sharp"]["valid_accuracy"] == s["soft"]["valid_accuracy"]
    assert s["sharp"]["valid_log_loss"] < s["soft"]["valid_log_loss"]
    assert auto.best_name_ == "sharp"
    auto = AutoLabelModel(candidates=dict(reversed(list(cands.items())))).fit(
        L[:1000], class_balance=[0.5, 0.5], L_valid=L[1000:], y_valid=y[1000:])
    assert auto.best_name_ == "sharp"


def test_auto_score_rows_covered_scores_only_covered_valid_rows():
    L, y = _auto_data()
    Lv, yv = L[1000:], y[1000:]
    cov = Lv.covered()
    assert not cov.all()
    auto = AutoLabelModel(candidates={"mv": MajorityVote()}, score_rows="covered").fit(
        L[:1000], class_balance=[0.7, 0.3], L_valid=Lv, y_valid=yv)
    mv = MajorityVote().fit(L[:1000], class_balance=[0.7, 0.3])
    P = mv.predict_proba(Lv[cov])
    (score,) = auto.scores_
    assert score["valid_log_loss"] == pytest.approx(log_loss(P, yv[cov], eps=1e-6), rel=1e-12)
    assert score["valid_accuracy"] == pytest.approx(float((break_ties(P, 0) == yv[cov]).mean()))


def test_auto_held_out_agreement_ties_go_to_the_earlier_candidate():
    L, _ = _auto_data()
    auto = AutoLabelModel(candidates={"first": MajorityVote(), "second": MajorityVote()}).fit(L)
    assert auto.selection_ == "held_out_sources"
    a, b = (r["held_out_source_agreement"] for r in auto.scores_)
    assert a == b and auto.best_name_ == "first"
