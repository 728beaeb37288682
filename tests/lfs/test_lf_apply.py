from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelmill.errors import DataFormatError, LabelingFunctionError
from labelmill.lfs import (ABSTAIN, Row, apply_lfs, dataset_summary, keyword_lf, labeling_function, lf_summary,
                           regex_lf, threshold_lf)
from labelmill.matrix import LabelMatrix


@labeling_function()
def lf_short(x):
    return 0 if len(x.text) < 12 else ABSTAIN


@labeling_function()
def lf_digits(x):
    return 1 if any(c.isdigit() for c in x.text) else ABSTAIN


@labeling_function()
def lf_boom(x):
    if "boom" in x.text:
        raise ValueError("kaboom")
    return ABSTAIN


@labeling_function()
def lf_bad_value(x):
    return 7 if "seven" in x.text else ABSTAIN


@labeling_function()
def lf_float(x):
    return 1.0


def make_df(n=300):
    rng = np.random.default_rng(0)
    words = ["check", "out", "my", "channel", "song", "love", "http://x.co", "42", "nice", "subscribe"]
    texts = [" ".join(rng.choice(words, rng.integers(1, 6))) for _ in range(n)]
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": texts, "n": rng.integers(0, 10, n)})


LFS = [keyword_lf("kw_sub", ["subscribe", "my channel"], 1), regex_lf("rx_link", r"https?://\S+", 1),
       threshold_lf("th", "n", 0, lt=3), lf_short, lf_digits]


def test_columns_in_lf_order_and_dense_view():
    df = make_df(50)
    L = apply_lfs(LFS, df, cache=False, progress=False, n_jobs=1)
    assert isinstance(L, LabelMatrix)
    assert L.source_names == tuple(lf.name for lf in LFS)
    D = L.to_dense()
    assert D.shape == (50, 5)
    for i, t in enumerate(df.text):
        assert D[i, 3] == (0 if len(t) < 12 else -1)
        assert D[i, 4] == (1 if "42" in t else -1)
        assert D[i, 2] == (0 if df.n[i] < 3 else -1)


def test_one_and_two_workers_identical():
    df = make_df(1000)
    L1 = apply_lfs(LFS, df, cache=False, progress=False, n_jobs=1, batch_size=64)
    L2 = apply_lfs(LFS, df, cache=False, progress=False, n_jobs=2, batch_size=64)
    assert L1 == L2  # (small work stays in-process; test_pool_used_only_when_worth_it forces the pool)
    # the pool also works when rows are shipped to workers (Parquet input)
    assert L1.nnz > 0


def test_input_kinds_agree(tmp_path):
    df = make_df(200)
    ref = apply_lfs(LFS, df, cache=False, progress=False, n_jobs=1)
    assert apply_lfs(LFS, pa.Table.from_pandas(df), cache=False, progress=False, n_jobs=1) == ref
    folder = tmp_path / "pq"
    folder.mkdir()
    t = pa.Table.from_pandas(df, preserve_index=False)
    for i in range(4):
        pq.write_table(t.slice(i * 50, 50), folder / f"part-{i}.parquet", row_group_size=13)
    assert apply_lfs(LFS, folder, cache=False, progress=False, n_jobs=1, batch_size=17) == ref
    assert apply_lfs(LFS, str(folder), cache=False, progress=False, n_jobs=2, batch_size=17) == ref
    pq.write_table(t, tmp_path / "one.parquet")
    assert apply_lfs(LFS, tmp_path / "one.parquet", cache=False, progress=False, n_jobs=1) == ref
    polars = pytest.importorskip("polars")
    assert apply_lfs(LFS, polars.from_pandas(df), cache=False, progress=False, n_jobs=1) == ref


def test_lf_exception_names_lf_row_and_traceback():
    df = pd.DataFrame({"id": ["a", "b", "c"], "text": ["fine", "boom here", "boom"]})
    with pytest.raises(LabelingFunctionError) as ei:
        apply_lfs([lf_boom], df, cache=False, progress=False, n_jobs=1)
    e = ei.value
    assert e.lf_name == "lf_boom" and e.row_id == "b"
    assert "ValueError: kaboom" in str(e) and "'b'" in str(e)
    assert "kaboom" in e.traceback_text and "lf_boom" in e.traceback_text
    # without an id column the row position is reported; same error from the pool
    with pytest.raises(LabelingFunctionError) as ei:
        apply_lfs([lf_boom], df[["text"]], cache=False, progress=False, n_jobs=2, batch_size=1)
    assert ei.value.row_id == 1


def test_on_error_abstain_counts_failures():
    df = pd.DataFrame({"text": ["fine", "boom here", "boom", "seven"]})
    L = apply_lfs([lf_boom, lf_bad_value, lf_short], df, n_classes=2, cache=False, progress=False, n_jobs=1,
                  on_error="abstain")
    assert L.to_dense()[:, :2].tolist() == [[-1, -1]] * 4
    assert L.report.errors == {"lf_boom": 2, "lf_bad_value": 1}
    assert L.report.error_examples["lf_boom"]["row_id"] == 1
    s = lf_summary(L)
    assert s["errors"].tolist() == [2, 1, 0]


def test_bad_return_values():
    df = pd.DataFrame({"id": [5, 6], "text": ["ok", "seven"]})
    with pytest.raises(LabelingFunctionError, match=r"lf_bad_value.*returned 7 \(int\).*\[-1, 1\].*row id 6") as ei:
        apply_lfs([lf_bad_value], df, n_classes=2, cache=False, progress=False, n_jobs=1)
    assert ei.value.row_id == 6
    with pytest.raises(LabelingFunctionError, match=r"returned 1.0 \(float\)"):
        apply_lfs([lf_float], df, cache=False, progress=False, n_jobs=1)

    @labeling_function()
    def lf_none(x):
        return None

    @labeling_function()
    def lf_neg(x):
        return -2

    @labeling_function()
    def lf_bool(x):
        return True

    for lf in (lf_none, lf_neg, lf_bool):
        with pytest.raises(LabelingFunctionError, match=lf.name):
            apply_lfs([lf], df, cache=False, progress=False, n_jobs=1)
    # numpy integers are fine
    lf_np = labeling_function(name="lf_np")(lambda x: np.int64(1))
    assert apply_lfs([lf_np], df, cache=False, progress=False).to_dense()[:, 0].tolist() == [1, 1]


def test_declarative_label_outside_n_classes():
    with pytest.raises(LabelingFunctionError, match="kw.*class 3"):
        apply_lfs([keyword_lf("kw", ["a"], 3)], pd.DataFrame({"text": ["a"]}), n_classes=2, cache=False)


def test_duplicate_names_and_bad_inputs():
    df = make_df(5)
    with pytest.raises(LabelingFunctionError, match="two labeling functions are named 'kw'"):
        apply_lfs([keyword_lf("kw", ["a"], 1), regex_lf("kw", "b", 1)], df, cache=False)
    with pytest.raises(LabelingFunctionError, match="not a labeling function"):
        apply_lfs([lambda x: 1], df, cache=False)
    with pytest.raises(LabelingFunctionError, match="field 'body'"):
        apply_lfs([keyword_lf("kw", ["a"], 1, field="body")], df, cache=False)
    with pytest.raises(DataFormatError, match="no such file"):
        apply_lfs(LFS, "/nonexistent/data.parquet", cache=False)
    with pytest.raises(DataFormatError):
        apply_lfs(LFS, 42, cache=False)
    with pytest.raises(ValueError, match="on_error"):
        apply_lfs(LFS, df, cache=False, on_error="ignore")
    with pytest.raises(LabelingFunctionError, match="at least one"):
        apply_lfs([], df, cache=False)
    # a named Series is a one-column table; an unnamed one is refused clearly
    L = apply_lfs([keyword_lf("kw", ["a"], 1)], df["text"], cache=False, progress=False)
    assert L == apply_lfs([keyword_lf("kw", ["a"], 1)], df[["text"]], cache=False, progress=False)
    with pytest.raises(DataFormatError, match="Series needs a name"):
        apply_lfs(LFS, df["text"].rename(None), cache=False)


def test_n_classes_inferred_and_empty_table():
    df = make_df(20)
    L = apply_lfs(LFS, df, cache=False, progress=False)
    assert L.n_classes == 2
    L0 = apply_lfs(LFS, df.iloc[:0], cache=False, progress=False, n_classes=2)
    assert L0.shape == (0, 5)


def test_analysis_hand_worked():
    D = np.array([[0, 0, -1], [1, 0, -1], [-1, -1, 1], [-1, -1, -1]])
    L = LabelMatrix.from_dense(D, n_classes=2, source_names=["a", "b", "c"])
    s = lf_summary(L, y=[0, 1, 1, -1])
    assert s.loc["a", "polarity"] == [0, 1] and s.loc["b", "polarity"] == [0]
    assert s["coverage"].tolist() == [0.5, 0.5, 0.25]
    assert s["overlaps"].tolist() == [0.5, 0.5, 0.0]
    assert s["conflicts"].tolist() == [0.25, 0.25, 0.0]
    assert s["correct"].tolist() == [2, 1, 1] and s["incorrect"].tolist() == [0, 1, 0]
    assert s["emp_acc"].tolist() == [1.0, 0.5, 1.0]
    d = dataset_summary(L)
    assert d["coverage"] == 0.75 and d["overlap_rate"] == 0.5 and d["conflict_rate"] == 0.25

    from labelmill.label_models import MajorityVote

    mv = MajorityVote().fit(L)
    s2 = lf_summary(L, ["a", "b", "c"], label_model=mv, errors={"b": 3})
    assert np.allclose(s2["est_acc"], mv.accuracy_) and s2["errors"].tolist() == [0, 3, 0]


def test_print_summary(capsys):
    from rich.console import Console

    from labelmill.lfs import print_lf_summary

    L = apply_lfs(LFS, make_df(30), cache=False, progress=False)
    print_lf_summary(lf_summary(L), dataset_summary(L), console=Console(width=200))
    out = capsys.readouterr().out
    assert "kw_sub" in out and "coverage" in out


def test_rows_given_to_python_lfs():
    import pickle

    seen = {}

    @labeling_function()
    def lf_look(x):
        seen.setdefault("row", x)
        assert isinstance(x, Row) and isinstance(x, Mapping)
        assert x.text == x["text"] and x.items is not None and x["items"] == 3 and x["my col"] == 1.5
        assert list(x) == ["text", "items", "my col"] and "text" in x and len(x) == 3 and dict(x) == x
        assert getattr(x, "nope", "dflt") == "dflt"
        return 1 if x.get("text") == "b" else ABSTAIN

    df = pd.DataFrame({"text": ["a", "b"], "items": [3, 3], "my col": [1.5, 1.5]})
    L = apply_lfs([lf_look], df, cache=False, progress=False, n_jobs=1)
    assert L.to_dense()[:, 0].tolist() == [-1, 1]
    row = seen["row"]
    with pytest.raises(AttributeError, match="no field 'nope'"):
        row.nope
    back = pickle.loads(pickle.dumps(row))
    assert type(back) is Row and back == {"text": "a", "items": 3, "my col": 1.5} and back.text == "a"
    # rows are shared by the LFs of a batch, so they are read-only; a preprocessor gets a copy
    with pytest.raises(TypeError, match="read-only"):
        row.text = "z"
    with pytest.raises(TypeError, match="read-only"):
        row["text"] = "z"
    assert row.text == "a"
    back.text = "z"  # the mutable kind (what preprocessors get) writes the field
    assert back["text"] == "z"


def test_an_lf_that_mutates_its_row_is_a_clear_error_and_a_preprocessor_may():
    @labeling_function()
    def mutates(x):
        x["text"] = x.text.lower()
        return ABSTAIN

    def lower(x):
        x["text"] = x.text.lower()
        return x

    @labeling_function(pre=[lower])
    def via_pre(x):
        return 1 if x.text == "spam" else ABSTAIN

    @labeling_function()
    def sees_original(x):
        return 1 if x.text == "SPAM" else ABSTAIN

    df = pd.DataFrame({"text": ["SPAM", "ham"]})
    with pytest.raises(LabelingFunctionError, match="read-only"):
        apply_lfs([mutates], df, cache=False, progress=False, n_jobs=1)
    L = apply_lfs([via_pre, sees_original], df, cache=False, progress=False, n_jobs=1)
    assert L.to_dense().tolist() == [[1, 1], [-1, -1]]


def test_errors_resume_after_failing_rows_and_bad_values_after_good_ones():
    calls = []

    @labeling_function()
    def lf_flaky(x):
        calls.append(x.text)
        if x.text.startswith("boom"):
            raise ValueError("x")
        return 1.0 if x.text == "float" else (1 if x.text == "one" else ABSTAIN)

    df = pd.DataFrame({"text": ["one", "boom1", "two", "boom2", "float", "one"]})
    L = apply_lfs([lf_flaky], df, cache=False, progress=False, n_jobs=1, on_error="abstain")
    assert calls == df["text"].tolist()  # every row called exactly once
    assert L.to_dense()[:, 0].tolist() == [1, -1, -1, -1, -1, 1]
    assert L.report.errors == {"lf_flaky": 3}
    assert L.report.error_examples["lf_flaky"]["row_id"] == 1
    tb = L.report.error_examples["lf_flaky"]["traceback"]
    assert "lf_flaky" in tb and "_run_batch" not in tb

    @labeling_function()
    def lf_huge(x):
        return 10**30 if x.text == "two" else 1

    with pytest.raises(LabelingFunctionError, match=r"returned 1000000000000000000000000000000 \(int\)"):
        apply_lfs([lf_huge], df, cache=False, progress=False, n_jobs=1)


def test_pool_used_only_when_worth_it(monkeypatch, tmp_path):
    from labelmill.lfs import apply as apply_mod

    df = make_df(200)
    ref = apply_lfs(LFS, df, cache=False, progress=False, n_jobs=1)
    monkeypatch.setattr(apply_mod, "POOL_MIN_SECONDS", 0.0)  # always start the pool
    assert apply_lfs(LFS, df, cache=False, progress=False, n_jobs=2, batch_size=16) == ref
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp_path / "d.parquet", row_group_size=50)
    assert apply_lfs(LFS, tmp_path / "d.parquet", cache=False, progress=False, n_jobs=2, batch_size=16) == ref
    monkeypatch.setattr(apply_mod, "POOL_MIN_SECONDS", 1e9)  # never
    assert apply_lfs(LFS, df, cache=False, progress=False, n_jobs=2, batch_size=8) == ref


_GLOBAL_ROWS = []


def _fx_simple(x):
    t = x.text.lower()
    return 1 if "a" in t and len(x.text) > 3 else ABSTAIN


def _fx_comprehension(x):
    letters = [c for c in x.text if c.isalpha()]
    return 1 if len(letters) > 2 else ABSTAIN


def _fx_two_fields(x):
    return 1 if x.text and x.n > 2 else ABSTAIN


def _fx_item(x):
    return 1 if x["text"] else ABSTAIN


def _fx_method(x):
    return 1 if x.get("text") else ABSTAIN


def _fx_escapes(x):
    _GLOBAL_ROWS.append(x)
    return ABSTAIN


def _fx_inner(x):
    return 1 if any(w == x.text for w in ["a"]) else ABSTAIN  # genexp captures x (3.11) / inlined (3.12+)


def _fx_locals(x):
    return 1 if "x" in locals() and x.text else ABSTAIN


def _fx_store(x):
    x = x.text
    return 1 if x else ABSTAIN


def _fx_or(x, y=None):
    return 1 if (y or x).text else ABSTAIN




def test_any_way_of_reading_the_row_gives_the_votes_of_a_direct_call():
    funcs = (_fx_simple, _fx_comprehension, _fx_two_fields, _fx_item, _fx_method, _fx_inner, _fx_locals,
             _fx_store, _fx_or)
    lfs = [labeling_function(name=f.__name__)(f) for f in funcs]
    df = pd.DataFrame({"text": ["abcd", "", "xyz a", "aaaa"], "n": [1, 3, 5, 0]})
    dense = apply_lfs(lfs, df, cache=False, progress=False, n_jobs=1).to_dense()
    for j, f in enumerate(funcs):
        expected = [f(Row(text=t, n=n)) for t, n in zip(df.text, df.n)]
        assert dense[:, j].tolist() == expected, f.__name__


def test_declared_classes_count_even_where_the_lf_never_fires():
    """Applied to a few new rows where the class-2 keyword never matches, the LFs still
    make a 3-class matrix, so a label model fitted on the full table takes it."""
    lfs = [keyword_lf("a", ["a"], 0), keyword_lf("c", ["c"], 1), keyword_lf("e", ["e"], 2)]
    L = apply_lfs(lfs, pd.DataFrame({"text": ["a", "c", "x"]}), cache=False, progress=False)
    assert L.n_classes == 3 and L.report.n_classes == 3
    assert apply_lfs([lf_short], pd.DataFrame({"text": ["hi"]}), cache=False, progress=False).n_classes == 2


def test_a_preprocessor_that_forgets_to_return_the_row_is_named():
    def add_length(x):
        x.n = len(x.text)  # no `return x`

    @labeling_function(pre=[add_length])
    def long_text(x):
        return 1 if x.n > 3 else ABSTAIN

    def as_series(x):  # a Snorkel-style preprocessor returning a pandas Series still works
        return pd.Series({**x, "n": len(x.text)})

    @labeling_function(pre=[as_series])
    def long_text2(x):
        return 1 if x.n > 3 else ABSTAIN

    df = pd.DataFrame({"text": ["hello", "a"]})
    with pytest.raises(LabelingFunctionError, match=r"'long_text' raised TypeError: preprocessor 'add_length' "
                                                    r"returned None.*forget `return x`.*row id 0"):
        apply_lfs([long_text], df, cache=False, progress=False, n_jobs=1)
    with pytest.raises(TypeError, match="preprocessor 'add_length' returned None"):
        long_text({"text": "hello"})
    assert apply_lfs([long_text2], df, cache=False, progress=False, n_jobs=1).to_dense().ravel().tolist() == [1, -1]
