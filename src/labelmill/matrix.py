"""LabelMatrix: the N examples x M sources vote matrix, stored sparse.

Only non-abstain votes are stored, in CSR order (sorted by row): for row i its votes
are ``sources[indptr[i]:indptr[i+1]]`` / ``labels[indptr[i]:indptr[i+1]]``. Labels
use the smallest integer dtype that fits the number of classes. Abstain is -1 in
every dense view.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from .errors import InvalidVotesError

ABSTAIN = -1


def _label_dtype(n_classes: int) -> np.dtype:
    return np.dtype(np.int8) if n_classes <= 127 else np.dtype(np.int16 if n_classes <= 32767 else np.int32)


def _index_dtype(n: int) -> np.dtype:
    return np.dtype(np.int32) if n < 2**31 - 1 else np.dtype(np.int64)


def _plain(v):
    """A numpy scalar as the Python value it holds, so messages say 7, not np.int64(7)."""
    return v.item() if isinstance(v, np.generic) else v


def sorted_unique(values) -> np.ndarray:
    """The distinct values in sorted order (in order of first appearance when they do not
    sort, e.g. mixed types): the default row order of `LabelMatrix.from_long`."""
    import pandas as pd

    out = pd.unique(np.asarray(values))
    try:
        return np.sort(out)
    except TypeError:
        return out


def _describe_row(row: int, row_ids) -> str:
    if row_ids is None or not 0 <= row < len(row_ids):
        return f"row {row}"
    return f"row {row} (id {_plain(row_ids[row])!r})"


class LabelMatrix:
    """Sparse N x M matrix of source votes with k classes.

    Build one with :meth:`from_dense`, :meth:`from_long` or :meth:`from_coo`; the
    constructor takes already-validated CSR arrays.

    Attributes
    ----------
    n_rows, n_sources, n_classes : int
    source_names : tuple of str, length M
    indptr : ndarray (N+1,)
    sources : ndarray (nnz,) source index of each stored vote
    labels : ndarray (nnz,) class id (0..k-1) of each stored vote
    """

    __slots__ = ("n_rows", "n_sources", "n_classes", "source_names", "indptr", "sources", "labels")

    def __init__(self, indptr, sources, labels, n_classes: int, source_names: Sequence[str]):
        self.indptr = np.asarray(indptr)
        self.sources = np.asarray(sources)
        self.labels = np.asarray(labels)
        self.n_rows = len(self.indptr) - 1
        self.source_names = tuple(str(s) for s in source_names)
        self.n_sources = len(self.source_names)
        self.n_classes = int(n_classes)
        if self.n_classes < 2:
            raise InvalidVotesError(f"a label matrix needs at least 2 classes, got n_classes={n_classes}")
        if len(set(self.source_names)) != self.n_sources:
            dup = sorted({s for s in self.source_names if self.source_names.count(s) > 1})
            raise InvalidVotesError(f"source names must be unique; repeated: {dup}")

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_coo(cls, rows, sources, labels, n_rows: int, n_classes: int,
                 source_names: Sequence[str] | None = None, n_sources: int | None = None,
                 row_ids=None) -> "LabelMatrix":
        """Build from parallel arrays of (row, source, label), one per vote.

        Entries with label -1 are dropped. A (row, source) pair given twice is an error.
        """
        # Signed integer inputs are used as they are (no int64 copy of every vote: at
        # millions of votes those copies dominate time and peak memory); anything else
        # is converted exactly as before.
        rows = _as_signed(rows, "row indices")
        sources = _as_signed(sources, "source indices")
        labels = np.asarray(labels).ravel()
        if labels.dtype.kind != "i":
            labels = _as_integer_votes(labels, what="votes")
        if not (len(rows) == len(sources) == len(labels)):
            raise InvalidVotesError("rows, sources and labels must have the same length")
        if source_names is None:
            if n_sources is None:
                n_sources = int(sources.max()) + 1 if len(sources) else 0
            source_names = [f"source_{j}" for j in range(n_sources)]
        elif n_sources is not None and n_sources != len(source_names):
            raise InvalidVotesError(f"n_sources={n_sources} but {len(source_names)} source names were given")
        m = len(source_names)
        _check_range(labels, n_classes, lambda i: f"{_describe_row(int(rows[i]), row_ids)}, source "
                     f"{source_names[int(sources[i])]!r}" if 0 <= sources[i] < m else f"vote {i}")
        keep = labels != ABSTAIN
        if not keep.all():
            rows, sources, labels = rows[keep], sources[keep], labels[keep]
        del keep
        if len(rows) and (rows.min() < 0 or rows.max() >= n_rows):
            raise InvalidVotesError(f"row index out of range [0, {n_rows})")
        if len(sources) and (sources.min() < 0 or sources.max() >= m):
            raise InvalidVotesError(f"source index out of range [0, {m})")
        if not _strictly_sorted(rows, sources):
            # (strictly sorted input is already in CSR order with no repeated pair)
            order = np.lexsort((sources, rows))
            rows, sources, labels = rows[order], sources[order], labels[order]
            del order
            if len(rows) > 1:
                dup = (rows[1:] == rows[:-1]) & (sources[1:] == sources[:-1])
                if dup.any():
                    i = int(np.flatnonzero(dup)[0])
                    raise InvalidVotesError(
                        f"{_describe_row(int(rows[i]), row_ids)} has two votes from source "
                        f"{source_names[int(sources[i])]!r}")
        indptr = np.zeros(n_rows + 1, dtype=_index_dtype(len(rows)))
        np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
        return cls(indptr, sources.astype(_index_dtype(m)), labels.astype(_label_dtype(n_classes)),
                   n_classes, source_names)

    @classmethod
    def from_dense(cls, L, n_classes: int | None = None, source_names: Sequence[str] | None = None,
                   row_ids=None) -> "LabelMatrix":
        """Build from a dense N x M array-like with -1 for abstain.

        Parameters
        ----------
        L : array-like (N, M) of integers in [-1, n_classes-1]
        n_classes : int, optional
            Defaults to ``max(L) + 1`` (at least 2).
        source_names : sequence of M str, optional; a pandas or polars DataFrame's column
            names by default (``source_0``, ``source_1``, ... for other arrays)
        row_ids : sequence of N ids, optional; used only to name rows in errors.
        """
        if source_names is None and not isinstance(L, LabelMatrix) and hasattr(L, "columns"):
            # a DataFrame's columns name its sources, so matrices from frames with the
            # same columns in another order line up by name (see align_sources)
            source_names = [str(c) for c in L.columns]
        if isinstance(L, LabelMatrix):
            if n_classes is not None and n_classes != L.n_classes:
                raise InvalidVotesError(f"the label matrix has {L.n_classes} classes, n_classes={n_classes} was given")
            if source_names is not None and tuple(map(str, source_names)) != L.source_names:
                raise InvalidVotesError("source_names differ from the label matrix's own; "
                                        "use select_sources to reorder or pick sources")
            return L
        if isinstance(L, list):
            lengths = {len(r) if hasattr(r, "__len__") else -1 for r in L}
            if len(lengths) > 1:
                for i, r in enumerate(L):
                    if not hasattr(r, "__len__") or len(r) != len(L[0]):
                        raise InvalidVotesError(
                            f"{_describe_row(i, row_ids)} has {len(r) if hasattr(r, '__len__') else 'no'} "
                            f"votes but row 0 has {len(L[0])}: every row needs one vote per source")
        arr = np.asarray(L)
        if arr.ndim != 2:
            raise InvalidVotesError(f"expected a 2-D vote matrix (N x M), got an array of shape {arr.shape}")
        n, m = arr.shape
        if source_names is None:
            source_names = [f"source_{j}" for j in range(m)]
        elif len(source_names) != m:
            raise InvalidVotesError(f"{len(source_names)} source names for a matrix with {m} columns")
        flat = _as_integer_votes(arr, what="votes", source_names=source_names, row_ids=row_ids)
        if n_classes is None:
            n_classes = max(2, int(flat.max()) + 1 if flat.size else 2)
        _check_range(flat.ravel(), n_classes,
                     lambda i: f"{_describe_row(i // m, row_ids)}, source {source_names[i % m]!r}")
        rows, cols = np.nonzero(flat != ABSTAIN)
        labels = flat[rows, cols]
        indptr = np.zeros(n + 1, dtype=_index_dtype(len(rows)))
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        return cls(indptr, cols.astype(_index_dtype(m)), labels.astype(_label_dtype(n_classes)),
                   n_classes, source_names)

    @classmethod
    def from_long(cls, table, item: str = "item", source: str = "source", label: str = "label",
                  n_classes: int | None = None, items: Sequence | None = None,
                  source_names: Sequence[str] | None = None, class_names: Sequence | None = None) -> "LabelMatrix":
        """Build from a long table with one row per vote: (item, source, label).

        This is how crowd data comes: ``table`` may be a pandas/polars DataFrame, a
        pyarrow Table or a dict of columns.

        Parameters
        ----------
        items : sequence, optional
            Row order of the result (item ids). Defaults to the sorted unique items.
            Items listed here without votes become all-abstain rows.
        source_names : sequence of str, optional
            Column order. Defaults to the unique sources in natural order
            (``w2`` before ``w10``).
        class_names : sequence, optional
            The answers as they appear in the ``label`` column, in class-id order:
            ``["different", "same"]`` makes "different" class 0 and "same" class 1
            (also for numbered answers, e.g. ``[1, 2, 3]`` for answers 1..3). An answer not
            listed is an error naming it. Without it the answers must be class ids
            (integers, -1 = abstain). ``n_classes`` defaults to ``len(class_names)``.

        A (item, source) pair with two answers is an error naming both rows of the
        table: keep one, e.g. ``table.drop_duplicates([item, source], keep="last")``.

        Returns
        -------
        LabelMatrix with ``len(items)`` rows; ``result_items`` are not stored, so
        keep ``items`` to map rows back.
        """
        import pandas as pd

        df = _to_pandas(table)
        for col in (item, source, label):
            if col not in df.columns:
                raise InvalidVotesError(f"long vote table has no column {col!r}; columns are {list(df.columns)}")
        item_vals = df[item].to_numpy()
        src_vals = df[source].astype(str).to_numpy()
        if items is None:
            items = sorted_unique(item_vals)
        if source_names is None:
            source_names = sorted(pd.unique(src_vals).tolist(), key=_natural_key)
        item_index = pd.Index(items)
        if not item_index.is_unique:
            dup = item_index[item_index.duplicated()][0]
            dup = _plain(dup)
            raise InvalidVotesError(f"items lists {dup!r} more than once; each item is one row")
        src_index = pd.Index([str(s) for s in source_names])
        rows = item_index.get_indexer(item_vals)
        cols = src_index.get_indexer(src_vals)
        if (rows < 0).any():
            bad = item_vals[np.flatnonzero(rows < 0)[0]]
            bad = _plain(bad)
            raise InvalidVotesError(f"long vote table: item {bad!r} is not among the given items")
        if (cols < 0).any():
            bad = src_vals[np.flatnonzero(cols < 0)[0]]
            bad = _plain(bad)
            raise InvalidVotesError(f"long vote table: source {bad!r} is not among the given source names")
        def where(i):
            return f"vote table row {i} (item {_plain(item_vals[i])!r}, source {src_vals[i]!r})"

        raw = df[label].to_numpy()
        if class_names is not None:
            class_index = pd.Index(list(class_names))
            if not class_index.is_unique or len(class_index) < 2:
                raise InvalidVotesError(f"class_names must list at least 2 distinct answers, got {list(class_names)}")
            if n_classes is not None and n_classes != len(class_index):
                raise InvalidVotesError(f"n_classes={n_classes} but {len(class_index)} class_names were given")
            labels = class_index.get_indexer(raw)
            if (labels < 0).any():
                i = int(np.flatnonzero(labels < 0)[0])
                raise InvalidVotesError(f"answer {_plain(raw[i])!r} at {where(i)} is not among class_names "
                                        f"{list(class_index)[:10]}")
            n_classes = len(class_index)
        else:
            try:
                labels = _as_integer_votes(raw, what=f"column {label!r}", where_fn=where)
            except InvalidVotesError as exc:
                if any(isinstance(v, str) for v in raw[:1000]) or raw.dtype.kind == "U":
                    raise InvalidVotesError(f"{exc}; answers given as class names need class_names=[...], "
                                            f"the names in class-id order") from None
                raise
        keep = labels != ABSTAIN
        pair = pd.Series(rows[keep].astype(np.int64) * max(len(src_index), 1) + cols[keep])
        dup = pair.duplicated(keep=False).to_numpy()
        if dup.any():
            at = np.flatnonzero(keep)[dup]
            first = at[pair.to_numpy()[dup] == pair.to_numpy()[dup][0]][:2]
            raise InvalidVotesError(
                f"{_describe_row(int(rows[first[0]]), np.asarray(items))} has two votes from source "
                f"{src_vals[first[0]]!r} (vote table rows {first[0]} and {first[1]}); keep one answer per item and "
                f"source, e.g. table.drop_duplicates([{item!r}, {source!r}], keep='last')")
        if n_classes is None:
            n_classes = max(2, int(labels.max()) + 1 if labels.size else 2)
        return cls.from_coo(rows, cols, labels, len(item_index), n_classes, source_names=list(src_index),
                            row_ids=np.asarray(items))

    # ------------------------------------------------------------------ views
    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_rows, self.n_sources)

    @property
    def nnz(self) -> int:
        return int(len(self.labels))

    def __len__(self) -> int:
        return self.n_rows

    def __repr__(self) -> str:
        return (f"LabelMatrix(n_rows={self.n_rows}, n_sources={self.n_sources}, "
                f"n_classes={self.n_classes}, votes={self.nnz})")

    def __eq__(self, other) -> bool:
        if not isinstance(other, LabelMatrix):
            return NotImplemented
        return (self.shape == other.shape and self.n_classes == other.n_classes
                and self.source_names == other.source_names
                and np.array_equal(self.indptr, other.indptr)
                and np.array_equal(self.sources, other.sources)
                and np.array_equal(self.labels, other.labels))

    __hash__ = None

    @property
    def rows(self) -> np.ndarray:
        """Row index of each stored vote, shape (nnz,)."""
        return np.repeat(np.arange(self.n_rows, dtype=_index_dtype(self.n_rows)), np.diff(self.indptr))

    def to_dense(self, dtype=None) -> np.ndarray:
        """Dense (N, M) integer array with -1 for abstain. For small data and tests."""
        dtype = dtype or (np.int8 if self.n_classes <= 127 else np.int32)
        out = np.full(self.shape, ABSTAIN, dtype=dtype)
        out[self.rows, self.sources] = self.labels
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """``np.asarray(L)``: the dense view (as ``to_dense``), so numpy, pandas and
        scikit-learn functions that take an (N, M) vote array take a LabelMatrix too."""
        return self.to_dense() if dtype is None else self.to_dense().astype(dtype, copy=False)

    def to_long(self):
        """pandas DataFrame with columns row, source, label (one row per vote)."""
        import pandas as pd

        return pd.DataFrame({"row": self.rows, "source": np.asarray(self.source_names)[self.sources],
                             "label": self.labels})

    def one_hot(self, dtype=np.float32) -> sp.csr_matrix:
        """Sparse (N, M*k) indicator: column ``j*k + c`` is 1 where source j voted c."""
        k = self.n_classes
        # column ids in the smallest index dtype that fits (scipy would downcast an
        # int64 copy to it anyway); saves an nnz-long int64 temporary
        cols = self.sources.astype(_index_dtype(self.n_sources * k)) * k + self.labels
        return sp.csr_matrix((np.ones(self.nnz, dtype=dtype), cols, self.indptr),
                             shape=(self.n_rows, self.n_sources * k))

    def class_counts(self, weights=None) -> np.ndarray:
        """(N, k) float array: per row, the (optionally source-weighted) votes per class.

        ``weights`` may be shape (M,) (one weight per source) or (M, k).
        """
        k = self.n_classes
        w = np.ones(self.nnz) if weights is None else np.asarray(weights, dtype=float)
        if weights is not None:
            w = w[self.sources] if w.ndim == 1 else w[self.sources, self.labels]
        flat = self.rows.astype(np.int64) * k + self.labels
        return np.bincount(flat, weights=w, minlength=self.n_rows * k).reshape(self.n_rows, k)

    def votes_per_row(self) -> np.ndarray:
        """(N,) number of non-abstain votes in each row."""
        return np.diff(self.indptr)

    def covered(self) -> np.ndarray:
        """(N,) bool: rows with at least one vote."""
        return self.votes_per_row() > 0

    def coverage(self) -> float:
        """Fraction of rows with at least one vote."""
        return float(self.covered().mean()) if self.n_rows else 0.0

    def source_coverage(self) -> np.ndarray:
        """(M,) fraction of rows each source votes on."""
        return np.bincount(self.sources, minlength=self.n_sources) / max(self.n_rows, 1)

    # ------------------------------------------------------------------ reshaping
    def __getitem__(self, idx) -> "LabelMatrix":
        """Select rows: an int, int array, bool mask or slice. Returns a new LabelMatrix
        (a single int gives a one-row matrix)."""
        if isinstance(idx, (int, np.integer)):
            idx = [idx]
        if isinstance(idx, tuple):
            raise IndexError("a LabelMatrix is indexed by rows only (L[rows]); pick sources with "
                             "select_sources, or index to_dense() for single votes")
        if isinstance(idx, slice):
            start, stop, step = idx.indices(self.n_rows)
            if step == 1:
                # contiguous rows: copy one block instead of gathering vote by vote
                stop = max(stop, start)
                a, b = int(self.indptr[start]), int(self.indptr[stop])
                indptr = (self.indptr[start:stop + 1] - a).astype(_index_dtype(b - a))
                return LabelMatrix(indptr, self.sources[a:b].copy(), self.labels[a:b].copy(),
                                   self.n_classes, self.source_names)
            idx = np.arange(self.n_rows)[idx]
        idx = np.asarray(idx)
        if idx.size == 0:
            idx = idx.astype(np.int64)
        if idx.dtype == bool:
            if len(idx) != self.n_rows:
                raise IndexError(f"boolean mask of length {len(idx)} for {self.n_rows} rows")
            idx = np.flatnonzero(idx)
        idx = np.arange(self.n_rows)[idx]  # numpy semantics: negative indices count from the end
        starts, ends = self.indptr[idx], self.indptr[idx + 1]
        counts = ends - starts
        indptr = np.zeros(len(idx) + 1, dtype=_index_dtype(int(counts.sum())))
        np.cumsum(counts, out=indptr[1:])
        take = np.repeat(starts - indptr[:-1], counts) + np.arange(indptr[-1])
        return LabelMatrix(indptr, self.sources[take], self.labels[take], self.n_classes, self.source_names)

    def select_sources(self, which: Iterable) -> "LabelMatrix":
        """Keep the given sources (indices or names), in the given order."""
        if isinstance(which, (str, int, np.integer)):
            which = [which]
        position = {name: j for j, name in enumerate(self.source_names)}
        unknown = [w for w in which if isinstance(w, str) and w not in position]
        if unknown:
            raise InvalidVotesError(f"no source named {unknown[0]!r}; sources are {list(self.source_names)[:10]}"
                                    + (" ..." if self.n_sources > 10 else ""))
        which = [position[w] if isinstance(w, str) else int(w) for w in which]
        if any(not -self.n_sources <= w < self.n_sources for w in which):
            raise InvalidVotesError(f"source index out of range for {self.n_sources} sources: {which}")
        which = [w % self.n_sources for w in which]
        if len(set(which)) != len(which):
            raise InvalidVotesError("select_sources got the same source twice")
        remap = np.full(self.n_sources, -1, dtype=np.int64)
        remap[which] = np.arange(len(which))
        new_src = remap[self.sources]
        keep = new_src >= 0
        return LabelMatrix.from_coo(self.rows[keep], new_src[keep], self.labels[keep], self.n_rows,
                                    self.n_classes, source_names=[self.source_names[w] for w in which])

    def relabel(self, mapping) -> "LabelMatrix":
        """Map class c to ``mapping[c]``; ``mapping`` must be a permutation of 0..k-1."""
        mapping = np.asarray(mapping)
        k = self.n_classes
        if mapping.shape != (k,) or mapping.dtype.kind not in "iu" or \
                not np.array_equal(np.sort(mapping), np.arange(k)):
            raise InvalidVotesError(f"relabel needs a permutation of the class ids 0..{k - 1} (one new id per "
                                    f"class), got {mapping.tolist()}")
        return LabelMatrix(self.indptr, self.sources, mapping[self.labels].astype(self.labels.dtype),
                           self.n_classes, self.source_names)

    @classmethod
    def hstack(cls, mats: Sequence["LabelMatrix"]) -> "LabelMatrix":
        """Join matrices over the same rows side by side (sources concatenated)."""
        if not mats:
            raise InvalidVotesError("hstack needs at least one LabelMatrix")
        n, k = mats[0].n_rows, max(m.n_classes for m in mats)
        for m in mats:
            if m.n_rows != n:
                raise InvalidVotesError(f"cannot hstack label matrices with {n} and {m.n_rows} rows")
        offsets = np.cumsum([0] + [m.n_sources for m in mats])
        rows = np.concatenate([m.rows for m in mats])
        srcs = np.concatenate([m.sources.astype(np.int64) + off for m, off in zip(mats, offsets)])
        labs = np.concatenate([m.labels for m in mats])
        names = [s for m in mats for s in m.source_names]
        return cls.from_coo(rows, srcs, labs, n, k, source_names=names)

    @classmethod
    def vstack(cls, mats: Sequence["LabelMatrix"]) -> "LabelMatrix":
        """Join matrices with the same sources one under the other."""
        if not mats:
            raise InvalidVotesError("vstack needs at least one LabelMatrix")
        first = mats[0]
        for m in mats[1:]:
            if m.source_names != first.source_names or m.n_classes != first.n_classes:
                raise InvalidVotesError("vstack needs the same sources and classes in every matrix")
        counts = np.concatenate([np.diff(m.indptr) for m in mats])
        indptr = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return cls(indptr, np.concatenate([m.sources for m in mats]), np.concatenate([m.labels for m in mats]),
                   first.n_classes, first.source_names)


# ---------------------------------------------------------------------- helpers
def _to_pandas(table):
    import pandas as pd

    if isinstance(table, pd.DataFrame):
        return table
    if hasattr(table, "to_pandas"):
        return table.to_pandas()
    return pd.DataFrame(table)


def _as_integer_votes(arr: np.ndarray, what: str, source_names=None, row_ids=None, where_fn=None) -> np.ndarray:
    """Return `arr` as int64, or raise naming the first non-integer entry.

    Integers pass; floats pass only when integral (1.0); booleans, strings, None
    and NaN are errors. For a 2-D array the error names the row and source; for a
    1-D array ``where_fn(i)`` (if given) describes entry i.
    """
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
    elif arr.dtype.kind == "O":
        types = set(map(type, arr.ravel()))
        if types <= {int, np.int64, np.int32, np.int16, np.int8}:
            try:
                return arr.astype(np.int64)
            except OverflowError:  # a Python int beyond int64: far outside [-1, k-1]
                huge = np.fromiter((abs(v) > 2 ** 62 for v in arr.ravel()), dtype=bool, count=arr.size)
                pos = np.unravel_index(int(np.flatnonzero(huge)[0]), arr.shape)
                raise InvalidVotesError(f"vote {arr[pos]!r} at {_where(pos, arr.ndim, source_names, row_ids, where_fn)} "
                                        f"is out of range: {what} must be integers in [-1, k-1]") from None
        bad = np.fromiter((not _is_intlike(v) for v in arr.ravel()), dtype=bool, count=arr.size).reshape(arr.shape)
    else:  # booleans, strings, bytes, dates...
        bad = np.ones(arr.shape, dtype=bool)
        if arr.dtype.kind == "b":
            what = f"{what} (got booleans)"
    if bad.any():
        pos = np.unravel_index(int(np.flatnonzero(bad.ravel())[0]), arr.shape)
        value = arr[pos]
        value = value.item() if isinstance(value, np.generic) else value
        where = _where(pos, arr.ndim, source_names, row_ids, where_fn)
        raise InvalidVotesError(f"non-integer vote {value!r} at {where}: {what} must be integers in [-1, k-1]")
    return arr.astype(np.float64).astype(np.int64)


def _where(pos, ndim: int, source_names, row_ids, where_fn) -> str:
    """Describe entry ``pos`` of a vote array: row and source for 2-D, else ``where_fn``."""
    if ndim == 2:
        src = source_names[pos[1]] if source_names is not None else f"source_{pos[1]}"
        return f"{_describe_row(int(pos[0]), row_ids)}, source {src!r} (column {pos[1]})"
    if where_fn is not None:
        return where_fn(int(pos[0]))
    return f"entry {pos[0]}"


def _as_signed(a, what: str = "indices") -> np.ndarray:
    """1-D view of `a` if it is a signed integer array, else an int64 copy.

    Unsigned integers and whole-number floats are accepted; anything else (0.7, NaN,
    strings) is an error rather than a silent truncation.
    """
    arr = np.asarray(a)
    if arr.dtype.kind == "i":
        return arr.ravel()
    if arr.dtype.kind in "ub":
        return arr.astype(np.int64).ravel()
    try:
        f = np.asarray(arr, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InvalidVotesError(f"{what} must be integers, got values of type {arr.dtype}") from None
    bad = ~np.isfinite(f) | (f != np.round(f))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidVotesError(f"{what} must be integers; entry {i} is {float(f[i])!r}")
    return f.astype(np.int64)


def _natural_key(name: str):
    """Sort key that orders embedded numbers by value: source_2 before source_10."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", str(name)) if t]


def _strictly_sorted(rows: np.ndarray, sources: np.ndarray) -> bool:
    """True if the (row, source) pairs are strictly increasing (CSR order, no repeats)."""
    if len(rows) < 2:
        return True
    r0, r1 = rows[:-1], rows[1:]
    if (r1 < r0).any():
        return False
    return not ((r1 == r0) & (sources[1:] <= sources[:-1])).any()


def _is_intlike(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, np.integer)):
        return True
    if isinstance(v, (float, np.floating)):
        return bool(np.isfinite(v) and float(v).is_integer())
    return False


def _check_range(flat: np.ndarray, n_classes: int, where) -> None:
    bad = (flat < ABSTAIN) | (flat >= n_classes)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidVotesError(
            f"vote {int(flat[i])} at {where(i)} is outside [-1, {n_classes - 1}] "
            f"(-1 = abstain, {n_classes} classes)")
