"""Featurizers worked by hand: cache hits equal uncached results, TF-IDF's sublinear tf
and min_df, span detection, and the numeric featurizer's scaling. Each test pins a
behaviour that a plausible one-line bug (found by hand-made mutation testing) left
unobserved by the other feature tests."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from labelmill.features import NumericFeaturizer, TfidfFeaturizer, featurize


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X)


# ---------------------------------------------------------------- feature cache keys

def test_cached_features_equal_uncached_when_fit_table_or_data_change(tmp_path):
    """A cache hit must return exactly what an uncached run returns: the matrix key
    covers the fit table (same transformed table, new fit table) and the transformed
    table's data (same name and row count, new rows)."""
    fit_a = pd.DataFrame({"text": ["red apple", "green pear", "red pear"]})
    fit_b = pd.DataFrame({"text": ["blue sky", "grey sky", "blue sea"]})
    t1 = pd.DataFrame({"text": ["red sky", "green sea"]})
    t2 = pd.DataFrame({"text": ["blue pear", "grey apple"]})
    for fit, table in [(fit_a, t1), (fit_b, t1), (fit_a, t2), (fit_b, t2)]:
        _, cached = featurize(TfidfFeaturizer(ngram_range=(1, 1)), fit, {"t": table}, cache=tmp_path)
        _, plain = featurize(TfidfFeaturizer(ngram_range=(1, 1)), fit, {"t": table}, cache=False)
        assert cached["t"].shape == plain["t"].shape
        np.testing.assert_array_equal(_dense(cached["t"]), _dense(plain["t"]))


# ---------------------------------------------------------------- TF-IDF

def test_tfidf_is_sublinear_worked_by_hand():
    # 2 docs, unigrams; idf = ln((1+n)/(1+df)) + 1: aa -> ln(3/2)+1, bb -> 1
    # doc 0: tf(aa)=3 -> 1+ln 3 (sublinear), tf(bb)=1 -> 1; then L2-normalised
    f = TfidfFeaturizer(ngram_range=(1, 1)).fit(pd.DataFrame({"text": ["aa aa aa bb", "bb"]}))
    X = _dense(f.transform(pd.DataFrame({"text": ["aa aa aa bb"]})))[0]
    w_aa, w_bb = (1 + math.log(3)) * (math.log(1.5) + 1), 1.0
    norm = math.hypot(w_aa, w_bb)
    v = f.vectorizer_.vocabulary_
    assert X[v["aa"]] == pytest.approx(w_aa / norm, abs=1e-6)   # 0.94705..., plain tf gives 0.97302...
    assert X[v["bb"]] == pytest.approx(w_bb / norm, abs=1e-6)


def test_tfidf_min_df_drops_rare_terms():
    df = pd.DataFrame({"text": ["common rare", "common other", "common"]})
    f = TfidfFeaturizer(ngram_range=(1, 1), min_df=2).fit(df)
    assert sorted(f.vectorizer_.vocabulary_) == ["common"] and f.n_features_ == 1


def test_tfidf_auto_spans_need_both_span_columns():
    df = pd.DataFrame({"text": ["alice met bob", "carol saw dave"], "span1": [[0, 5], [0, 5]]})
    f = TfidfFeaturizer(ngram_range=(1, 1)).fit(df)  # span2 missing: plain text features
    assert f.span_columns_ is None and f.input_columns == ["text"]
    assert f.transform(df).shape == (2, len(f.vectorizer_.vocabulary_))


# ---------------------------------------------------------------- numeric featurizer

def test_numeric_transform_uses_training_mean_and_std():
    train = pd.DataFrame({"x": [1.0, 2.0, 3.0]})            # mean 2, population std sqrt(2/3)
    new = pd.DataFrame({"x": [2.0, 5.0]})
    f = NumericFeaturizer().fit(train)
    np.testing.assert_allclose(f.transform(new).ravel(), [0.0, 3.0 / math.sqrt(2 / 3)], rtol=1e-6)
    np.testing.assert_allclose(f.transform(new.iloc[:1]).ravel(), [0.0], atol=1e-7)


def test_numeric_without_standardize_is_the_raw_values():
    df = pd.DataFrame({"x": [1.0, 2.0, 4.0], "y": [10, 20, 30]})
    X = NumericFeaturizer(standardize=False).fit(df).transform(df)
    np.testing.assert_array_equal(X, df.to_numpy(dtype=np.float32))


def test_numeric_auto_columns_leave_out_booleans():
    df = pd.DataFrame({"flag": [True, False, True], "x": [1.0, 2.0, 3.0]})
    assert NumericFeaturizer().fit(df).columns_ == ["x"]
