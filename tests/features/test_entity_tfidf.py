"""TF-IDF with entity spans: the between-mentions block and the order flag."""

import json

import numpy as np
import pandas as pd
import pytest

from labelmill.errors import DataFormatError
from labelmill.features import TfidfFeaturizer, featurize, featurizer_from_spec
from labelmill.features.tfidf import between_texts


def _table():
    texts = ["alice married bob in paris", "bob works for acme corp", "paris is where alice met bob"]
    return pd.DataFrame({"text": texts,
                         "span1": [[0, 5], [14, 23], [15, 20]],
                         "span2": [[14, 17], [0, 3], [25, 28]]})


def test_between_texts_worked_by_hand():
    df = _table()
    between, first = between_texts(df.text.tolist(), df.span1.tolist(), df.span2.tolist())
    assert between == [" married ", " works for ", " met "]
    assert first.tolist() == [True, False, True]


def test_span_blocks_added_only_when_the_table_has_spans():
    df = _table()
    plain = TfidfFeaturizer().fit(df.drop(columns=["span1", "span2"]))
    assert plain.span_columns_ is None and plain.input_columns == ["text"]
    f = TfidfFeaturizer().fit(df)
    assert f.span_columns_ == ("span1", "span2") and f.input_columns == ["text", "span1", "span2"]
    X = f.transform(df)
    n_text, n_between = len(f.vectorizer_.vocabulary_), len(f.between_vectorizer_.vocabulary_)
    assert X.shape == (3, n_text + n_between + 2) == (3, f.n_features_)
    # three blocks, each unit norm then scaled by 1/sqrt(3): rows have unit norm
    np.testing.assert_allclose(np.sqrt(X.multiply(X).sum(axis=1)).A.ravel(), 1.0, atol=1e-5)
    order = X[:, -2:].toarray() * np.sqrt(3)
    np.testing.assert_allclose(order, [[1, 0], [0, 1], [1, 0]], atol=1e-6)
    married = f.between_vectorizer_.vocabulary_["married"]
    assert X[0, n_text + married] > 0 and X[1, n_text + married] == 0
    # the fitted spec names the span columns, so a saved model asks for them
    spec = f.spec()
    assert spec["params"]["entity_spans"] == ["span1", "span2"]
    g = featurizer_from_spec(json.loads(json.dumps(spec)))
    assert g.input_columns == ["text", "span1", "span2"]
    assert abs(g.fit(df).transform(df) - X).max() == 0
    # spans as JSON text (a CSV round trip) give the same features
    as_csv = df.assign(span1=df.span1.map(json.dumps), span2=df.span2.map(json.dumps))
    assert abs(f.transform(as_csv) - X).max() == 0
    off = TfidfFeaturizer(entity_spans=None).fit(df)
    assert off.transform(df).shape[1] == len(off.vectorizer_.vocabulary_)


def test_bad_spans_name_the_column_and_row():
    df = _table()
    f = TfidfFeaturizer().fit(df)
    bad = df.copy()
    bad.at[2, "span2"] = [7]
    with pytest.raises(DataFormatError, match=r"column 'span2' row 2: an entity span must be two integers"):
        f.transform(bad)
    bad.at[2, "span2"] = [9, 3]
    with pytest.raises(DataFormatError, match=r"column 'span2' row 2: bad entity span \[9, 3\]"):
        f.transform(bad)
    with pytest.raises(DataFormatError, match="no column"):
        f.transform(df.drop(columns="span1"))
    with pytest.raises(DataFormatError, match="entity_spans"):
        TfidfFeaturizer(entity_spans="both").fit(df)


def test_feature_cache_keys_include_the_spans(tmp_path):
    df = _table()
    _, a = featurize(TfidfFeaturizer(), df, {"t": df}, cache=tmp_path)
    moved = df.assign(span2=[[6, 13], [0, 3], [25, 28]])
    _, b = featurize(TfidfFeaturizer(), moved, {"t": moved}, cache=tmp_path)
    assert a["t"].shape != b["t"].shape or (a["t"] != b["t"]).nnz > 0


# The end-to-end check on real relation data (semeval) is tests/test_examples.py, which
# runs examples/relations.py.


def test_a_bad_span_names_the_table_and_the_row_id():
    """semeval test row with a null span: the error said "row 3", the 4th row of the test
    split, not of train; the split and the id say which example it is."""
    from pathlib import Path

    from labelmill import load_wrench
    from labelmill.pipeline import featurize_dataset

    ds = load_wrench(Path(__file__).resolve().parents[1] / "data" / "semeval")
    test = ds.splits["test"].examples
    test.at[3, "span2"] = None
    with pytest.raises(DataFormatError, match=rf"^test: tfidf: column 'span2' row 3 \(id '{test['id'].iloc[3]}'\): "
                                              r"an entity span must be two integers"):
        featurize_dataset(ds, "tfidf", cache=False)
