"""LabelPropagator's options on the bundled YouTube comments (TF-IDF features, moment-matching
probabilities), each checked against what its docstring promises, worked out independently
(closed-form spreading, hand-computed neighbourhood distributions); and the same options
through `labelmill run --demo --propagate`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from scipy.sparse.linalg import spsolve

from labelmill import load_demo
from labelmill.errors import DataFormatError
from labelmill.features import TfidfFeaturizer
from labelmill.label_models import MomentMatching
from labelmill.propagation import LabelPropagator, abstain_posterior, knn_graph, normalized_graph


@pytest.fixture(scope="module")
def yt():
    """Train split: X (TF-IDF), label-model proba, covered mask, votes, gold, and the default fit."""
    ds = load_demo()
    L = ds.train.L
    X = TfidfFeaturizer().fit_transform(ds.train.examples)
    proba = MomentMatching().fit(L).predict_proba(L)
    covered = L.covered()
    base = LabelPropagator().fit(X, proba, covered, L=L)
    return ds, X, proba, covered, L, ds.train.gold, base


def _fit(yt, **params):
    """Fit with ``params`` on the default fit's graph (the graph does not depend on them)."""
    _, X, proba, covered, L, _, base = yt
    return LabelPropagator(**params).fit(X, proba, covered, L=L, graph=base.graph_)


def _closed_form(graph, Y, anchor, alpha=0.9):
    """Label spreading's fixed point, F = (I - alpha S)^-1 (1 - alpha) A Y, row-normalised."""
    S = normalized_graph(graph).astype(np.float64)
    F = spsolve((sp.identity(S.shape[0]) - alpha * S).tocsc(), (1 - alpha) * Y * anchor[:, None])
    return F / F.sum(axis=1, keepdims=True)


def test_default_keeps_the_label_models_probabilities_on_covered_rows(yt):
    ds, X, proba, covered, L, y, base = yt
    assert 0.8 < covered.mean() < 0.95  # 1391 of 1586 comments have a vote
    # the graph is the k=10 cosine kNN graph of the features
    assert abs(base.graph_ - knn_graph(X, k=10)).max() == 0
    np.testing.assert_array_equal(base.proba_[covered], proba[covered])
    np.testing.assert_allclose(base.proba_.sum(axis=1), 1.0, atol=1e-12)
    prior = proba[covered].mean(axis=0)
    np.testing.assert_allclose(base.label_model_proba_[~covered], np.tile(prior, ((~covered).sum(), 1)))
    np.testing.assert_array_equal(base.label_model_proba_[covered], proba[covered])
    np.testing.assert_allclose(base.uncovered_prior_, abstain_posterior(L, proba, covered))
    assert not base.corrected_.any() and (base.weights_ == 1).all()


@pytest.mark.parametrize("anchor", ["confidence", "uniform"])
def test_spread_distribution_is_the_closed_form_fixed_point(yt, anchor):
    """keep_covered=False: every row gets the spread distribution, whose anchors are the
    label model's margin (confidence) or 1 (uniform) on covered rows, uncovered_anchor elsewhere."""
    _, _, proba, covered, _, y, base = yt
    p = _fit(yt, anchor=anchor, keep_covered=False, tol=1e-12)
    seed = p.uncovered_prior_
    Y = np.where(covered[:, None], proba, seed[None, :])
    if anchor == "confidence":
        a = np.clip((proba.max(axis=1) - 0.5) / 0.5, 0.05, 1.0)
    else:
        a = np.ones(len(proba))
    a = np.where(covered, a, 0.3)
    np.testing.assert_allclose(p.proba_, _closed_form(p.graph_, Y, a), atol=1e-9)
    # covered rows now move with their neighbours: nearly all change, some change class
    changed = np.abs(p.proba_[covered] - proba[covered]).max(axis=1) > 1e-6
    assert changed.mean() > 0.9
    assert (p.proba_[covered].argmax(axis=1) != proba[covered].argmax(axis=1)).sum() > 20


def test_keep_covered_only_decides_the_covered_rows(yt):
    _, _, proba, covered, _, _, base = yt
    spread = _fit(yt, keep_covered=False)
    np.testing.assert_array_equal(spread.proba_[~covered], base.proba_[~covered])
    np.testing.assert_array_equal(base.proba_[covered], proba[covered])
    np.testing.assert_array_equal(spread.denoise_scores_, base.denoise_scores_)


def test_uniform_anchor_changes_only_uncovered_rows_when_covered_rows_are_kept(yt):
    _, _, proba, covered, _, _, base = yt
    uni = _fit(yt, anchor="uniform")
    np.testing.assert_array_equal(uni.proba_[covered], proba[covered])
    # confident and unsure covered rows now pull equally hard on their uncovered neighbours
    assert np.abs(uni.proba_ - base.proba_)[~covered].max() > 0.01


def test_uncovered_seed_prior_versus_abstain(yt):
    _, X, proba, covered, L, y, base = yt
    prior = proba[covered].mean(axis=0)
    p = _fit(yt, uncovered_seed="prior")
    np.testing.assert_allclose(p.uncovered_prior_, prior)
    np.testing.assert_array_equal(p.proba_[covered], proba[covered])
    # youtube: the covered rows lean spam, the rows no LF fires on are mostly ham, and the
    # abstain posterior knows it
    assert prior[1] > 0.5 and base.uncovered_prior_[0] > 0.55
    assert y[~covered].mean() < 0.5
    acc = lambda P: float((P[~covered].argmax(axis=1) == y[~covered]).mean())  # noqa: E731
    assert acc(base.proba_) >= acc(p.proba_) + 0.1
    # "abstain" needs the votes: without L it falls back to the prior
    no_votes = LabelPropagator().fit(X, proba, covered, graph=base.graph_)
    np.testing.assert_allclose(no_votes.uncovered_prior_, prior)
    # an explicit class_prior is the seed (normalised) and the uncovered rows' "before" value
    given = LabelPropagator(uncovered_seed="prior").fit(X, proba, covered, L=L, graph=base.graph_,
                                                        class_prior=[3, 1])
    np.testing.assert_allclose(given.uncovered_prior_, [0.75, 0.25])
    np.testing.assert_allclose(given.label_model_proba_[~covered], np.tile([0.75, 0.25], ((~covered).sum(), 1)))


@pytest.mark.parametrize("fraction", [0.15, 0.2])
def test_denoise_correct_replaces_the_worst_fraction_by_the_neighbourhood(yt, fraction):
    _, _, proba, covered, _, y, base = yt
    d = _fit(yt, denoise="correct", denoise_fraction=fraction)
    s = d.denoise_scores_
    scored = covered & (np.asarray(d.graph_.sum(axis=1)).ravel() > 0)  # rows with a neighbour
    np.testing.assert_array_equal(~np.isnan(s), scored)
    c = d.corrected_
    assert c.sum() == round(fraction * scored.sum())  # 205 and 273 of 1367
    assert not c[~scored].any()
    assert s[c].min() >= s[scored & ~c].max()  # the highest scores, no others
    # the neighbourhood distribution, by hand: neighbours' spread labels, weighted by the
    # graph; a row with no neighbour (its TF-IDF shares no term with any other) gets the prior
    spread = _fit(yt, keep_covered=False).proba_
    Wq = np.asarray(d.graph_ @ spread)
    total = Wq.sum(axis=1, keepdims=True)
    q = np.where(total > 0, Wq / np.where(total > 0, total, 1), proba[covered].mean(axis=0))
    np.testing.assert_allclose(d.proba_[c], q[c], atol=1e-12)
    np.testing.assert_array_equal(d.proba_[~c], base.proba_[~c])
    # the score is the neighbourhood's mass off the label model's label
    lab = proba.argmax(axis=1)
    np.testing.assert_allclose(s[scored], 1 - q[scored, lab[scored]], atol=1e-12)
    assert np.isnan(s[~scored]).all()
    # the corrected rows are where the label model is wrong most often (~40% vs ~10%)
    wrong = lab != y
    assert wrong[c].mean() > 3 * wrong[scored & ~c].mean()
    assert (d.weights_ == 1).all()


def test_denoise_fraction_edges(yt):
    _, _, _, covered, _, _, base = yt
    assert not _fit(yt, denoise="correct", denoise_fraction=0.0).corrected_.any()
    every = _fit(yt, denoise="correct", denoise_fraction=1.0)
    np.testing.assert_array_equal(every.corrected_, covered & ~np.isnan(every.denoise_scores_))
    assert not _fit(yt, denoise=None, denoise_fraction=0.5).corrected_.any()  # only "correct" relabels


def test_denoise_weight_is_one_minus_the_score_on_covered_rows(yt):
    _, _, _, covered, _, y, base = yt
    w = _fit(yt, denoise="weight")
    scored = ~np.isnan(w.denoise_scores_)
    np.testing.assert_allclose(w.weights_[scored], 1 - w.denoise_scores_[scored], atol=0)
    assert (w.weights_[~scored] == 1).all() and not scored[~covered].any()
    assert ((w.weights_ >= 0) & (w.weights_ <= 1)).all()
    np.testing.assert_array_equal(w.proba_, base.proba_)  # weighting never changes the labels
    assert not w.corrected_.any()
    wrong = base.label_model_proba_.argmax(axis=1) != y
    assert w.weights_[scored & wrong].mean() < w.weights_[scored & ~wrong].mean() - 0.1


def _isolated(yt):
    """Covered rows without any graph neighbour: 24 short comments such as ';-)' or '#2012bitches'
    whose TF-IDF shares no term with any other comment. All 24 are ham and the label model says so."""
    _, _, proba, covered, _, y, base = yt
    iso = covered & (np.asarray(base.graph_.sum(axis=1)).ravel() == 0)
    assert iso.sum() == 24 and (y[iso] == 0).all() and (proba[iso].argmax(axis=1) == 0).all()
    return iso


def test_rows_without_neighbours_are_not_corrected(yt):
    """Their 'neighbourhood' would be the class prior alone, which used to score them
    1 - prior[label] (0.55) and turn 24 right ham labels into spam under denoise='correct'."""
    iso = _isolated(yt)
    d = _fit(yt, denoise="correct", denoise_fraction=0.2)
    assert np.isnan(d.denoise_scores_[iso]).all() and not d.corrected_[iso].any()


def test_rows_without_neighbours_keep_full_weight(yt):
    iso = _isolated(yt)
    assert (_fit(yt, denoise="weight").weights_[iso] == 1).all()


@pytest.mark.parametrize("params, message", [
    ({"anchor": "margin"}, "unknown anchor 'margin'; choose confidence or uniform"),
    ({"uncovered_seed": "zero"}, "unknown uncovered_seed 'zero'; choose abstain or prior"),
    ({"denoise": "drop"}, "unknown denoise mode 'drop'"),
    ({"denoise": "correct", "denoise_fraction": 1.5}, r"denoise fraction must be in \[0, 1\], got 1.5"),
])
def test_bad_options_are_named(yt, params, message):
    with pytest.raises(DataFormatError, match=message):
        _fit(yt, **params)


# ------------------------------------------------------------------ the same through the CLI
def test_cli_propagate_with_denoise_correct(tmp_path):
    from labelmill.cli import main

    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", "--demo", "--propagate", "--denoise", "correct", "--denoise-fraction",
                                    "0.2", "--neighbors", "5", "--no-cache", "--out", str(out)])
    assert res.exit_code == 0, res.output
    m = json.loads((out / "metrics.json").read_text())
    tl = m["train_labels"]
    assert tl["propagator"]["denoise"] == "correct" and tl["propagator"]["n_neighbors"] == 5
    assert tl["after"]["coverage"] == 1.0 and tl["after"]["n"] == 1586
    labels = pd.read_parquet(out / "labels.parquet")
    assert list(labels.columns) == ["id", "split", "prob_0", "prob_1", "label", "covered", "denoise_score",
                                    "corrected", "weight"]
    assert len(labels) == 1586 and (labels.split == "train").all()
    ds = load_demo()
    np.testing.assert_array_equal(labels.covered, ds.train.L.covered())
    cov = labels.covered.to_numpy()
    score = labels.denoise_score.to_numpy()
    scored = ~np.isnan(score)  # covered rows with a graph neighbour
    assert not scored[~cov].any() and scored.sum() >= 0.95 * cov.sum()
    assert ((score[scored] >= 0) & (score[scored] <= 1)).all()
    assert (labels.weight == 1.0).all()  # weights are only for --denoise weight
    # a corrected row carries its neighbourhood distribution, whose mass off the label
    # model's label is the score: one of its two probabilities equals the score
    P = labels[["prob_0", "prob_1"]].to_numpy()
    corrected = scored & (np.abs(P - np.nan_to_num(score)[:, None]).min(axis=1) < 1e-12)
    assert tl["propagator"]["denoise_fraction"] == 0.2 and corrected.sum() == tl["propagator"]["n_corrected"]
    np.testing.assert_array_equal(labels.corrected.to_numpy(), corrected)  # the rows relabelled are named
    # the fraction is of the scored rows of the whole graph (train + valid), so of train's
    # roughly
    assert abs(corrected.sum() - 0.2 * scored.sum()) <= 0.05 * scored.sum()
    assert score[corrected].min() >= score[scored & ~corrected].max()
    # without --denoise correct the fraction is refused
    res = CliRunner().invoke(main, ["run", "--demo", "--propagate", "--denoise-fraction", "0.2", "--no-cache",
                                    "--out", str(tmp_path / "o2")])
    assert res.exit_code == 2 and "--denoise-fraction needs --denoise correct" in res.output
