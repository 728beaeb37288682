"""LabelMatrix: builders, views, reshaping and every bad-input error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelmill import ABSTAIN, InvalidVotesError, LabelMatrix

# The 3 x 3 example worked by hand below (k = 3):
#            s0  s1  s2
#   row 0 [  0,  1, -1]
#   row 1 [  2,  2,  0]
#   row 2 [ -1, -1, -1]   (uncovered)
DENSE3 = np.array([[0, 1, -1], [2, 2, 0], [-1, -1, -1]])


@pytest.fixture
def L3():
    return LabelMatrix.from_dense(DENSE3, n_classes=3)


# ------------------------------------------------------------------ from_dense / to_dense
def test_dense_round_trip_keeps_abstain():
    dense = np.array([[0, -1, 1], [-1, -1, -1], [1, 1, 0], [-1, 0, -1]])
    L = LabelMatrix.from_dense(dense)
    assert L.shape == (4, 3)
    assert L.n_classes == 2
    assert L.nnz == 6
    np.testing.assert_array_equal(L.to_dense(), dense)
    assert (L.to_dense()[1] == ABSTAIN).all()
    # sparse storage holds only the non-abstain votes, in row order
    np.testing.assert_array_equal(L.indptr, [0, 2, 2, 5, 6])
    np.testing.assert_array_equal(L.sources, [0, 2, 0, 1, 2, 1])
    np.testing.assert_array_equal(L.labels, [0, 1, 1, 1, 0, 0])


def test_from_dense_defaults_and_names():
    L = LabelMatrix.from_dense([[-1, -1], [-1, -1]])
    assert L.n_classes == 2  # at least 2 even when no one votes
    assert L.nnz == 0
    assert L.source_names == ("source_0", "source_1")
    L = LabelMatrix.from_dense([[0, 4]], source_names=["a", "b"])
    assert L.n_classes == 5
    assert L.source_names == ("a", "b")
    # n_classes may exceed max vote + 1
    assert LabelMatrix.from_dense([[0, 1]], n_classes=4).n_classes == 4


def test_from_dense_accepts_integral_floats_and_returns_label_matrix_unchanged():
    L = LabelMatrix.from_dense(np.array([[0.0, 1.0], [-1.0, 1.0]]))
    np.testing.assert_array_equal(L.to_dense(), [[0, 1], [-1, 1]])
    assert LabelMatrix.from_dense(L) is L


def test_label_dtype_is_small():
    assert LabelMatrix.from_dense([[0, 1]]).labels.dtype == np.int8
    assert LabelMatrix.from_dense([[0, 1]], n_classes=300).labels.dtype == np.int16


def test_equality():
    a = LabelMatrix.from_dense(DENSE3, n_classes=3)
    b = LabelMatrix.from_dense(DENSE3.tolist(), n_classes=3)
    assert a == b
    assert a != LabelMatrix.from_dense(DENSE3, n_classes=4)
    assert a != LabelMatrix.from_dense(DENSE3, n_classes=3, source_names=["x", "y", "z"])


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 6).flatmap(
    lambda k: st.tuples(st.just(k), arrays(np.int64, st.tuples(st.integers(0, 8), st.integers(0, 6)),
                                           elements=st.integers(-1, k - 1)))))
def test_property_dense_round_trip(k_and_x):
    k, x = k_and_x
    L = LabelMatrix.from_dense(x, n_classes=k)
    assert L.shape == x.shape
    np.testing.assert_array_equal(L.to_dense(), x)
    assert L.nnz == int((x != -1).sum())
    np.testing.assert_array_equal(L.votes_per_row(), (x != -1).sum(axis=1))
    # class_counts agrees with a direct count
    expected = np.stack([(x == c).sum(axis=1) for c in range(k)], axis=1) if x.size else np.zeros((x.shape[0], k))
    np.testing.assert_array_equal(L.class_counts(), expected.reshape(x.shape[0], k))


@settings(max_examples=40, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(1, 8), st.integers(1, 5)), elements=st.integers(-1, 2)),
       st.data())
def test_property_reshaping_matches_dense(x, data):
    L = LabelMatrix.from_dense(x, n_classes=3)
    n, m = x.shape
    rows = data.draw(st.lists(st.integers(0, n - 1), max_size=10))
    np.testing.assert_array_equal(L[np.array(rows, dtype=int)].to_dense().reshape(len(rows), m),
                                  x[rows].reshape(len(rows), m))
    cols = data.draw(st.permutations(range(m)))
    np.testing.assert_array_equal(L.select_sources(cols).to_dense(), x[:, cols])
    perm = np.array(data.draw(st.permutations(range(3))))
    relabeled = L.relabel(perm).to_dense()
    np.testing.assert_array_equal(relabeled, np.where(x >= 0, perm[np.maximum(x, 0)], -1))


# ------------------------------------------------------------------ worked 3 x 3 example
def test_class_counts_by_hand(L3):
    np.testing.assert_array_equal(L3.class_counts(), [[1, 1, 0], [1, 0, 2], [0, 0, 0]])
    # one weight per source: w = [1, 2, 3]
    np.testing.assert_allclose(L3.class_counts([1.0, 2.0, 3.0]), [[1, 2, 0], [3, 0, 3], [0, 0, 0]])
    # one weight per (source, class): W[j, c]
    W = np.arange(1, 10, dtype=float).reshape(3, 3)  # [[1,2,3],[4,5,6],[7,8,9]]
    # row 0: s0 votes 0 -> W[0,0]=1 ; s1 votes 1 -> W[1,1]=5
    # row 1: s0 votes 2 -> W[0,2]=3 ; s1 votes 2 -> W[1,2]=6 ; s2 votes 0 -> W[2,0]=7
    np.testing.assert_allclose(L3.class_counts(W), [[1, 5, 0], [7, 0, 9], [0, 0, 0]])


def test_one_hot_by_hand(L3):
    X = L3.one_hot()
    assert X.shape == (3, 9)  # column j*k + c
    expected = np.zeros((3, 9))
    expected[0, 0 * 3 + 0] = 1
    expected[0, 1 * 3 + 1] = 1
    expected[1, 0 * 3 + 2] = 1
    expected[1, 1 * 3 + 2] = 1
    expected[1, 2 * 3 + 0] = 1
    np.testing.assert_array_equal(X.toarray(), expected)
    assert X.dtype == np.float32
    assert L3.one_hot(dtype=np.float64).dtype == np.float64


def test_coverage_views_by_hand(L3):
    np.testing.assert_array_equal(L3.votes_per_row(), [2, 3, 0])
    np.testing.assert_array_equal(L3.covered(), [True, True, False])
    assert L3.coverage() == pytest.approx(2 / 3)
    np.testing.assert_allclose(L3.source_coverage(), [2 / 3, 2 / 3, 1 / 3])
    np.testing.assert_array_equal(L3.rows, [0, 0, 1, 1, 1])
    long = L3.to_long()
    assert list(long.columns) == ["row", "source", "label"]
    assert long["source"].tolist() == ["source_0", "source_1", "source_0", "source_1", "source_2"]
    assert len(L3) == 3
    assert "n_rows=3" in repr(L3)


# ------------------------------------------------------------------ row selection and reshaping
def test_row_selection(L3):
    np.testing.assert_array_equal(L3[np.array([2, 0])].to_dense(), DENSE3[[2, 0]])
    np.testing.assert_array_equal(L3[[1, 1]].to_dense(), DENSE3[[1, 1]])
    np.testing.assert_array_equal(L3[np.array([True, False, True])].to_dense(), DENSE3[[0, 2]])
    np.testing.assert_array_equal(L3[1:].to_dense(), DENSE3[1:])
    np.testing.assert_array_equal(L3[::-1].to_dense(), DENSE3[::-1])
    assert L3[np.array([], dtype=int)].shape == (0, 3)
    sub = L3[np.array([1])]
    assert sub.n_classes == 3 and sub.source_names == L3.source_names
    with pytest.raises(IndexError):
        L3[np.array([True, False])]


def test_row_selection_negative_indices(L3):
    # numpy semantics: -1 is the last row
    np.testing.assert_array_equal(L3[np.array([-1])].to_dense(), DENSE3[[-1]])
    np.testing.assert_array_equal(L3[np.array([2, -3])].to_dense(), DENSE3[[2, -3]])


def test_select_sources(L3):
    named = LabelMatrix.from_dense(DENSE3, n_classes=3, source_names=["a", "b", "c"])
    sel = named.select_sources(["c", "a"])
    assert sel.source_names == ("c", "a")
    np.testing.assert_array_equal(sel.to_dense(), DENSE3[:, [2, 0]])
    assert sel.n_classes == 3
    np.testing.assert_array_equal(named.select_sources([1]).to_dense(), DENSE3[:, [1]])
    np.testing.assert_array_equal(L3.select_sources([]).to_dense(), np.zeros((3, 0)))


def test_relabel(L3):
    pi = np.array([2, 0, 1])  # class c -> pi[c]
    R = L3.relabel(pi)
    np.testing.assert_array_equal(R.to_dense(), [[2, 0, -1], [1, 1, 2], [-1, -1, -1]])
    # relabel permutes class_counts' columns: new column pi[c] = old column c
    np.testing.assert_array_equal(R.class_counts()[:, pi], L3.class_counts())
    inv = np.argsort(pi)
    assert R.relabel(inv) == L3


def test_hstack(L3):
    other = LabelMatrix.from_dense([[1], [-1], [0]], n_classes=2, source_names=["extra"])
    H = LabelMatrix.hstack([L3, other])
    assert H.source_names == ("source_0", "source_1", "source_2", "extra")
    assert H.n_classes == 3
    np.testing.assert_array_equal(H.to_dense(), np.hstack([DENSE3, [[1], [-1], [0]]]))
    with pytest.raises(InvalidVotesError, match="rows"):
        LabelMatrix.hstack([L3, other[np.array([0, 1])]])
    with pytest.raises(InvalidVotesError, match="unique"):
        LabelMatrix.hstack([L3, L3])
    with pytest.raises(InvalidVotesError):
        LabelMatrix.hstack([])


def test_vstack(L3):
    V = LabelMatrix.vstack([L3, L3[np.array([1])], L3[np.array([2, 0])]])
    np.testing.assert_array_equal(V.to_dense(), np.vstack([DENSE3, DENSE3[[1]], DENSE3[[2, 0]]]))
    assert V.source_names == L3.source_names
    np.testing.assert_array_equal(V.class_counts()[:3], L3.class_counts())
    with pytest.raises(InvalidVotesError, match="same sources"):
        LabelMatrix.vstack([L3, L3.select_sources([0, 1])])
    with pytest.raises(InvalidVotesError, match="same sources"):
        LabelMatrix.vstack([L3, LabelMatrix.from_dense(DENSE3, n_classes=4)])
    with pytest.raises(InvalidVotesError):
        LabelMatrix.vstack([])


# ------------------------------------------------------------------ from_coo
def test_from_coo_drops_abstain_and_sorts():
    L = LabelMatrix.from_coo(rows=[2, 0, 0, 1], sources=[1, 1, 0, 0], labels=[1, 0, -1, 1], n_rows=4,
                             n_classes=2)
    np.testing.assert_array_equal(L.to_dense(), [[-1, 0], [1, -1], [-1, 1], [-1, -1]])
    with pytest.raises(InvalidVotesError, match="row index out of range"):
        LabelMatrix.from_coo([5], [0], [1], n_rows=2, n_classes=2)
    with pytest.raises(InvalidVotesError, match="source index out of range"):
        LabelMatrix.from_coo([0], [3], [1], n_rows=2, n_classes=2, n_sources=2)
    with pytest.raises(InvalidVotesError, match="same length"):
        LabelMatrix.from_coo([0, 1], [0], [1], n_rows=2, n_classes=2)
    with pytest.raises(InvalidVotesError, match="two votes from source 'source_0'"):
        LabelMatrix.from_coo([1, 1], [0, 0], [1, 0], n_rows=2, n_classes=2)


# ------------------------------------------------------------------ from_long (crowd tables)
CROWD = {
    "item": ["q2", "q1", "q1", "q3", "q2"],
    "worker": ["w1", "w2", "w1", "w3", "w3"],
    "answer": [1, 0, 2, 1, 0],
}


def _expected_crowd(items):
    # sources sorted: w1, w2, w3
    votes = {("q1", "w1"): 2, ("q1", "w2"): 0, ("q2", "w1"): 1, ("q2", "w3"): 0, ("q3", "w3"): 1}
    return np.array([[votes.get((i, w), -1) for w in ("w1", "w2", "w3")] for i in items])


@pytest.mark.parametrize("kind", ["pandas", "pyarrow", "dict", "polars"])
def test_from_long_crowd_table(kind):
    if kind == "pandas":
        table = pd.DataFrame(CROWD)
    elif kind == "pyarrow":
        pa = pytest.importorskip("pyarrow")
        table = pa.table(CROWD)
    elif kind == "polars":
        pl = pytest.importorskip("polars")
        table = pl.DataFrame(CROWD)
    else:
        table = dict(CROWD)
    L = LabelMatrix.from_long(table, item="item", source="worker", label="answer")
    assert L.source_names == ("w1", "w2", "w3")
    assert L.n_classes == 3
    np.testing.assert_array_equal(L.to_dense(), _expected_crowd(["q1", "q2", "q3"]))


@pytest.mark.parametrize("kind", ["pandas", "pyarrow"])
def test_from_long_items_without_votes_are_all_abstain(kind):
    table = pd.DataFrame(CROWD)
    if kind == "pyarrow":
        import pyarrow as pa

        table = pa.Table.from_pandas(table, preserve_index=False)
    items = ["q3", "q0", "q1", "q2", "q9"]
    L = LabelMatrix.from_long(table, source="worker", label="answer", items=items,
                              source_names=["w3", "w2", "w1", "w4"], n_classes=4)
    assert L.shape == (5, 4)
    assert L.n_classes == 4
    dense = L.to_dense()
    np.testing.assert_array_equal(dense[[1, 4]], -1)
    np.testing.assert_array_equal(dense[:, 3], -1)  # worker w4 never votes
    np.testing.assert_array_equal(dense[:, :3], _expected_crowd(items)[:, ::-1])
    np.testing.assert_array_equal(L.covered(), [True, False, True, True, False])


def test_from_long_integer_sources_and_abstain_rows():
    table = pd.DataFrame({"item": [10, 11, 11], "source": [0, 1, 0], "label": [1, -1, 0]})
    L = LabelMatrix.from_long(table)
    assert L.source_names == ("0", "1")
    np.testing.assert_array_equal(L.to_dense(), [[1, -1], [0, -1]])


def test_from_long_duplicate_vote_names_item_and_source():
    table = pd.DataFrame({"item": ["a", "b", "b"], "source": ["w1", "w2", "w2"], "label": [0, 1, 0]})
    with pytest.raises(InvalidVotesError, match=r"id 'b'.*two votes from source 'w2'"):
        LabelMatrix.from_long(table)


def test_from_long_bad_tables():
    table = pd.DataFrame(CROWD)
    with pytest.raises(InvalidVotesError, match="no column 'source'"):
        LabelMatrix.from_long(table, label="answer")
    with pytest.raises(InvalidVotesError, match="item 'q3' is not among the given items"):
        LabelMatrix.from_long(table, source="worker", label="answer", items=["q1", "q2"])
    with pytest.raises(InvalidVotesError, match="source 'w3' is not among"):
        LabelMatrix.from_long(table, source="worker", label="answer", source_names=["w1", "w2"])
    with pytest.raises(InvalidVotesError, match=r"vote 2 at row 0 \(id 'q1'\), source 'w1'"):
        LabelMatrix.from_long(table, source="worker", label="answer", n_classes=2)
    bad = pd.DataFrame({"item": ["a", "b"], "source": ["w1", "w1"], "label": [0, 0.5]})
    with pytest.raises(InvalidVotesError, match=r"non-integer vote .*0\.5.* column 'label'"):
        LabelMatrix.from_long(bad)


def test_from_long_non_integer_vote_names_item_and_source():
    bad = pd.DataFrame({"item": ["a", "b"], "source": ["w1", "w1"], "label": [0, 0.5]})
    with pytest.raises(InvalidVotesError, match=r"'b'.*'w1'"):
        LabelMatrix.from_long(bad)


# ------------------------------------------------------------------ bad input
def test_vote_out_of_range_names_row_and_source():
    with pytest.raises(InvalidVotesError, match=r"vote 2 at row 1, source 'source_2' is outside \[-1, 1\]"):
        LabelMatrix.from_dense([[0, 1, 1], [1, 0, 2]], n_classes=2)
    with pytest.raises(InvalidVotesError, match=r"vote -2 at row 0, source 'b'"):
        LabelMatrix.from_dense([[0, -2]], source_names=["a", "b"])
    with pytest.raises(InvalidVotesError, match=r"row 1 \(id 'y'\), source 'a'"):
        LabelMatrix.from_dense([[0], [7]], n_classes=3, source_names=["a"], row_ids=["x", "y"])


@pytest.mark.parametrize("bad, value", [
    ([[0, 1], [0.5, 1]], "0.5"),
    ([[0, 1], [1, np.nan]], "nan"),
    ([[0, 1], [1, None]], "None"),
])
def test_non_integer_vote_names_row_and_source(bad, value):
    col = "a" if value == "0.5" else "b"
    with pytest.raises(InvalidVotesError, match=rf"non-integer vote .*{value}.* at row 1, source '{col}'"):
        LabelMatrix.from_dense(bad, source_names=["a", "b"])


def test_string_vote_rejected():
    # numpy turns a mixed list into a str array, so every entry is a string here
    with pytest.raises(InvalidVotesError, match="non-integer vote"):
        LabelMatrix.from_dense([[0, 1], [1, "spam"]])


def test_non_integer_vote_in_object_array_names_the_bad_entry():
    arr = np.array([[0, 1], [1, "spam"]], dtype=object)
    with pytest.raises(InvalidVotesError, match=r"'spam' at row 1, source 'b'"):
        LabelMatrix.from_dense(arr, source_names=["a", "b"])


def test_boolean_votes_rejected():
    with pytest.raises(InvalidVotesError, match="booleans"):
        LabelMatrix.from_dense(np.array([[True, False]]))


@pytest.mark.parametrize("bad", [[[0, "1"]], np.array([[0, "1"]], dtype=object)])
def test_numeric_string_votes_rejected(bad):
    with pytest.raises(InvalidVotesError):
        LabelMatrix.from_dense(bad)


def test_ragged_rows_rejected():
    with pytest.raises(InvalidVotesError, match=r"row 2 has 1 votes but row 0 has 3"):
        LabelMatrix.from_dense([[0, 1, -1], [1, 1, 1], [0]])
    with pytest.raises(InvalidVotesError, match=r"row 1 \(id 'b'\) has 3 votes but row 0 has 2"):
        LabelMatrix.from_dense([[0, 1], [1, 1, 1]], row_ids=["a", "b"])
    with pytest.raises(InvalidVotesError, match="row 1 has no votes"):
        LabelMatrix.from_dense([[0, 1], 1])


def test_wrong_shape_rejected():
    with pytest.raises(InvalidVotesError, match="2-D"):
        LabelMatrix.from_dense([0, 1, 1])
    with pytest.raises(InvalidVotesError, match="3 source names for a matrix with 2 columns"):
        LabelMatrix.from_dense([[0, 1]], source_names=["a", "b", "c"])
    with pytest.raises(InvalidVotesError, match="unique"):
        LabelMatrix.from_dense([[0, 1]], source_names=["a", "a"])


@pytest.mark.parametrize("k", [0, 1])
def test_fewer_than_two_classes_rejected(k):
    with pytest.raises(InvalidVotesError, match="at least 2 classes"):
        LabelMatrix.from_dense([[-1, -1], [-1, -1]], n_classes=k)
    with pytest.raises(InvalidVotesError):
        LabelMatrix.from_coo([], [], [], n_rows=1, n_classes=k, n_sources=1)


def test_errors_are_value_errors():
    # callers can catch the whole family as ValueError
    with pytest.raises(ValueError):
        LabelMatrix.from_dense([[0, 9]], n_classes=2)


# ------------------------------------------------------------------ index checks
def test_from_coo_refuses_non_integer_indices_and_conflicting_sizes():
    with pytest.raises(InvalidVotesError, match="row indices must be integers; entry 0 is 0.7"):
        LabelMatrix.from_coo([0.7, 1.9], [0, 0], [1, 0], n_rows=3, n_classes=2)
    with pytest.raises(InvalidVotesError, match="source indices must be integers"):
        LabelMatrix.from_coo([0, 1], [0, np.nan], [1, 0], n_rows=3, n_classes=2)
    with pytest.raises(InvalidVotesError, match="n_sources=4 but 1 source names"):
        LabelMatrix.from_coo([0], [0], [1], n_rows=1, n_classes=2, n_sources=4, source_names=["a"])
    whole = LabelMatrix.from_coo(np.array([0.0, 1.0]), np.array([0, 1], dtype=np.uint8), [1, 0], n_rows=2, n_classes=2)
    assert whole.to_dense().tolist() == [[1, -1], [-1, 0]]


def test_row_and_source_selection_edge_cases(L3):
    assert L3[1] == L3[[1]] and L3[np.int64(-1)].nnz == 0
    assert L3[[]].shape == (0, 3)
    with pytest.raises(InvalidVotesError, match="no source named 'nope'"):
        L3.select_sources(["nope"])
    with pytest.raises(InvalidVotesError, match="out of range"):
        L3.select_sources([3])
    with pytest.raises(InvalidVotesError, match="same source twice"):
        L3.select_sources([0, "source_0"])
    assert L3.select_sources("source_2").source_names == ("source_2",)


def test_long_round_trip_and_natural_source_order():
    names = [f"w{j}" for j in range(12)]
    dense = np.random.default_rng(0).integers(-1, 2, size=(30, 12))
    dense[4] = -1  # an item without votes
    L = LabelMatrix.from_dense(dense, source_names=names)
    back = LabelMatrix.from_long(L.to_long(), item="row", items=range(L.n_rows), source_names=L.source_names)
    assert back == L
    # without names the sources come in natural order (w2 before w10)
    assert LabelMatrix.from_long(L.to_long(), item="row").source_names == tuple(names)
    with pytest.raises(InvalidVotesError, match="items lists 0 more than once"):
        LabelMatrix.from_long(L.to_long(), item="row", items=[0, 0, 1])


def test_from_dense_of_a_label_matrix_checks_its_arguments(L3):
    assert LabelMatrix.from_dense(L3) is L3
    with pytest.raises(InvalidVotesError, match="has 3 classes, n_classes=5"):
        LabelMatrix.from_dense(L3, n_classes=5)


def test_relabel_refuses_a_mapping_that_is_not_a_permutation(L3):
    # [0, 5] used to write class 5 into a 3-class matrix (one_hot then built a CSR with
    # column ids out of range); [-1, ...] stored a -1 "vote"
    for bad in ([0, 5, 1], [-1, 0, 1], [0, 0, 1], [1, 0], [0.0, 1.0, 2.0]):
        with pytest.raises(InvalidVotesError, match="permutation of the class ids 0..2"):
            L3.relabel(bad)


def test_dataframe_columns_name_the_sources():
    import polars as pl

    df = pd.DataFrame({"kw_free": [0, 1, -1], "re_link": [1, -1, 0]})
    assert LabelMatrix.from_dense(df).source_names == ("kw_free", "re_link")
    assert LabelMatrix.from_dense(pl.from_pandas(df)).source_names == ("kw_free", "re_link")
    assert LabelMatrix.from_dense(df, source_names=["a", "b"]).source_names == ("a", "b")
    # so a model fitted on one frame reads another frame's columns by name (by position,
    # the heavier weight would go to the other source and row 0 would flip)
    from labelmill.label_models import WeightedMajorityVote

    m = WeightedMajorityVote(weights=[3.0, 1.0]).fit(LabelMatrix.from_dense(df))
    swapped = LabelMatrix.from_dense(df[["re_link", "kw_free"]])
    np.testing.assert_array_equal(m.predict_proba(swapped), m.predict_proba(LabelMatrix.from_dense(df)))
    assert m.predict(swapped)[0] == 0


def test_tuple_index_is_refused(L3):
    # numpy reads L[0, 1] as row 0, column 1; selecting rows 0 and 1 instead was a surprise
    with pytest.raises(IndexError, match="indexed by rows only"):
        L3[0, 1]


def test_from_coo_names_an_out_of_range_vote_whose_row_is_out_of_range_too():
    with pytest.raises(InvalidVotesError, match="row 7"):
        LabelMatrix.from_coo([7], [0], [4], n_rows=2, n_classes=2, row_ids=["a", "b"])


# worked edge cases (from mutation testing: each failed to be caught before)

DENSE3 = np.array([[0, 1, -1], [2, 2, 0], [-1, -1, -1]])

def test_from_coo_refuses_a_source_index_equal_to_n_sources():
    # index M is one past the last source (the existing test only tries M + 1)
    with pytest.raises(InvalidVotesError, match="source index out of range"):
        LabelMatrix.from_coo([0], [2], [1], n_rows=2, n_classes=2, n_sources=2)
    with pytest.raises(InvalidVotesError, match="source index out of range"):
        LabelMatrix.from_coo([0], [1], [1], n_rows=2, n_classes=2, source_names=["a"])


@pytest.mark.parametrize("sl", [slice(2, 1), slice(3, 0), slice(2, 2), slice(-1, 0)])
def test_empty_slices_give_zero_rows_like_numpy(sl):
    L = LabelMatrix.from_dense(DENSE3, n_classes=3)
    sub = L[sl]
    assert sub.shape == (0, 3) and sub.nnz == 0
    np.testing.assert_array_equal(sub.to_dense(), DENSE3[sl])


def test_hstack_takes_the_largest_number_of_classes_whatever_the_order():
    L3 = LabelMatrix.from_dense(DENSE3, n_classes=3)
    two = LabelMatrix.from_dense([[1], [-1], [0]], n_classes=2, source_names=["extra"])
    H = LabelMatrix.hstack([two, L3])
    assert H.n_classes == 3
    assert H.source_names == ("extra", "source_0", "source_1", "source_2")
    np.testing.assert_array_equal(H.to_dense(), np.hstack([[[1], [-1], [0]], DENSE3]))


def test_numpy_sees_the_dense_view(L3):
    """np.asarray(L) (and so np.unique, pandas, scikit-learn) gives the (N, M) votes, not an error."""
    np.testing.assert_array_equal(np.asarray(L3), L3.to_dense())
    assert np.asarray(L3, dtype=np.int64).dtype == np.int64
    np.testing.assert_array_equal(pd.DataFrame(np.asarray(L3)).to_numpy(), DENSE3)


def test_from_long_class_names_map_answers_to_class_ids():
    table = pd.DataFrame({"item": ["q1", "q1", "q2", "q3"], "source": ["w1", "w2", "w1", "w2"],
                          "label": ["dog", "cat", "cat", "bird"]})
    L = LabelMatrix.from_long(table, class_names=["cat", "dog", "bird"])
    assert L.n_classes == 3
    np.testing.assert_array_equal(L.to_dense(), [[1, 0], [0, -1], [-1, 2]])
    # answers numbered from 1
    one_based = table.assign(label=[2, 1, 1, 3])
    assert LabelMatrix.from_long(one_based, class_names=[1, 2, 3]) == L
    with pytest.raises(InvalidVotesError, match=r"answer 'bird' at vote table row 3 \(item 'q3', source 'w2'\) "
                                                r"is not among class_names \['cat', 'dog'\]"):
        LabelMatrix.from_long(table, class_names=["cat", "dog"])
    with pytest.raises(InvalidVotesError, match=r"non-integer vote 'dog'.*class_names="):
        LabelMatrix.from_long(table)
    with pytest.raises(InvalidVotesError, match="n_classes=2 but 3 class_names"):
        LabelMatrix.from_long(table, class_names=["cat", "dog", "bird"], n_classes=2)


def test_from_long_names_numpy_ids_plainly_and_says_how_to_drop_repeated_answers():
    table = pd.DataFrame({"item": [7, 8, 8], "source": [1, 2, 2], "label": [0, 1, 1]})
    with pytest.raises(InvalidVotesError) as info:
        LabelMatrix.from_long(table)
    msg = str(info.value)
    assert "np.int64" not in msg
    assert "(id 8) has two votes from source '2' (vote table rows 1 and 2)" in msg
    assert "drop_duplicates(['item', 'source'], keep='last')" in msg
    bad = pd.DataFrame({"item": [7, 8], "source": [1, 1], "label": [0, 0.5]})
    with pytest.raises(InvalidVotesError, match=r"\(item 8, source '1'\)"):
        LabelMatrix.from_long(bad)
    # an abstain (-1) beside an answer is not a second vote
    ok = pd.DataFrame({"item": [7, 7], "source": [1, 1], "label": [-1, 1]})
    assert LabelMatrix.from_long(ok).nnz == 1
