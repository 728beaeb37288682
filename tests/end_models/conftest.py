"""Shared fixtures: the bundled WRENCH youtube data with label-model soft labels and TF-IDF."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from labelmill.datasets import load_demo
from labelmill.label_models import make_label_model
from labelmill.end_models import SoftLogisticRegression

C_GRID = (0.3, 1.0, 3.0, 10.0)


def _tfidf(train, *others):
    """TF-IDF fitted on train only: labelmill's featurizer, or scikit-learn's with the same settings."""
    try:
        from labelmill.features import TfidfFeaturizer
    except ImportError:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode", dtype=np.float32)
        vec.fit(train["text"])
        return [vec.transform(df["text"]).tocsr() for df in (train, *others)]
    f = TfidfFeaturizer(ngram_range=(1, 2), min_df=1).fit(train)
    return [f.transform(df) for df in (train, *others)]


@pytest.fixture(scope="session")
def youtube():
    """Youtube spam: TF-IDF X (float32 CSR), moment-matching soft labels on train, gold on valid/test."""
    ds = load_demo()
    lm = make_label_model("moments").fit(ds.train.L)
    X_train, X_valid, X_test = _tfidf(ds.train.examples, ds.valid.examples, ds.test.examples)
    return SimpleNamespace(
        X_train=X_train, X_valid=X_valid, X_test=X_test,
        soft=lm.predict_proba(ds.train.L), covered=ds.train.L.covered(),
        y_valid=ds.valid.gold, y_test=ds.test.gold, k=ds.n_classes,
    )


def tune_on_valid(make, data, grid=C_GRID):
    """Fit make(C) on train soft labels for each C; return (best valid accuracy, C, model). Never looks at test."""
    best = None
    for C in grid:
        m = make(C).fit(data.X_train, data.soft)
        acc = float((m.predict(data.X_valid) == data.y_valid).mean())
        if best is None or acc > best[0]:
            best = (acc, C, m)
    return best


@pytest.fixture(scope="session")
def tune():
    """``tune(make, data)``: pick C on the valid split (see ``tune_on_valid``)."""
    return tune_on_valid


@pytest.fixture(scope="session")
def youtube_logreg(youtube):
    """The plain soft-label logistic regression with C tuned on valid: (C, fitted model)."""
    _, C, model = tune_on_valid(lambda C: SoftLogisticRegression(C=C), youtube)
    return C, model
