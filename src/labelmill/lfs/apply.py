"""Apply labeling functions to a table: ``apply_lfs(lfs, data) -> LabelMatrix``.

Declarative LFs run as whole-column Arrow operations in this process; Python LFs run
row by row over batches of rows: the first batch in this process, the rest in a process
pool when ``n_jobs > 1`` and the first batch shows the rest would take long enough to
repay starting one. The LFs of a batch share one read-only row per example (see
:mod:`._rows`; LFs with preprocessors get a mutable copy). Each LF's votes are cached on disk
(see :mod:`labelmill.lfs.cache`), so re-applying after editing one LF recomputes only that LF.
"""

from __future__ import annotations

import gc
import math
import multiprocessing as mp
import signal
import time
import traceback
from collections import deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pyarrow as pa

from .._parallel import resolve_n_jobs
from ..errors import LabelingFunctionError
from ..matrix import ABSTAIN, LabelMatrix
from . import _regex
from ._data import TableSource
from .cache import entry_key, resolve_cache
from ._rows import make_rows
from .core import VOTE_DTYPE, LabelingFunction, Row, preprocess

ON_ERROR = ("raise", "abstain")
PY_BATCH = 4096
POOL_MIN_SECONDS = 0.08  # estimated in-process seconds for the rest below which no pool is started
VEC_BATCH = 262_144


@dataclass
class ApplyReport:
    """What happened during :func:`apply_lfs`.

    Attributes
    ----------
    lf_names : list of str, in column order
    n_rows, n_classes : int
    errors : dict LF name -> number of rows on which it failed (raised or returned a
        bad value) and so abstained; only non-zero with ``on_error="abstain"``
    error_examples : dict LF name -> {"row_id", "message", "traceback"} of its first failure
    from_cache, computed : names of LFs read from the cache / computed in this call
    seconds : dict stage -> wall-clock seconds
    row_ids : ndarray of the ``id`` column, or None
    """

    lf_names: list
    n_rows: int
    n_classes: int
    errors: dict = field(default_factory=dict)
    error_examples: dict = field(default_factory=dict)
    from_cache: list = field(default_factory=list)
    computed: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)
    row_ids: object = None

    @property
    def n_errors(self) -> int:
        return int(sum(self.errors.values()))


class AppliedLabelMatrix(LabelMatrix):
    """A LabelMatrix returned by :func:`apply_lfs`, with its :class:`ApplyReport` as ``.report``."""

    __slots__ = ("report",)


def _check_lfs(lfs) -> list:
    if isinstance(lfs, LabelingFunction):
        lfs = [lfs]
    lfs = list(lfs)
    if not lfs:
        raise LabelingFunctionError("apply_lfs needs at least one labeling function")
    seen = {}
    for i, lf in enumerate(lfs):
        if not isinstance(lf, LabelingFunction):
            raise LabelingFunctionError(
                f"item {i} of lfs is a {type(lf).__name__}, not a labeling function; wrap plain functions "
                f"with @labeling_function()", lf_name=getattr(lf, "__name__", None))
        if lf.name in seen:
            raise LabelingFunctionError(f"two labeling functions are named {lf.name!r} (positions {seen[lf.name]} "
                                        f"and {i}); LF names must be unique", lf_name=lf.name)
        seen[lf.name] = i
    return lfs


def apply_lfs(lfs, data, n_classes: int | None = None, n_jobs: int | None = None, cache=True,
              on_error: str = "raise", progress: bool = True, batch_size: int | None = None
              ) -> AppliedLabelMatrix:
    """Apply labeling functions to every row of ``data``.

    Parameters
    ----------
    lfs : sequence of labeling functions (unique names); column j of the result is lfs[j]
    data : pandas or polars DataFrame, pyarrow Table, or a path to a Parquet file or
        folder (read in batches), CSV/TSV or JSON-lines file
    n_classes : int, optional; defaults to the largest class any LF voted or, for a
        declarative LF, can vote (its ``label``), + 1 (at least 2)
    n_jobs : processes for Python LFs; None = all cores, 1 = in this process
    cache : True/None (default folder: ``$LABELMILL_CACHE_DIR`` or ``./.labelmill_cache``),
        a folder path, or False to disable
    on_error : "raise" (default) raises :class:`~labelmill.errors.LabelingFunctionError`
        naming the LF, row id (``id`` column, else position), exception and traceback;
        "abstain" turns failures into abstains and counts them in ``result.report.errors``
    progress : show a tqdm bar while Python LFs run
    batch_size : rows per batch for Python LFs (default 4096)

    Returns
    -------
    AppliedLabelMatrix (a LabelMatrix, N x len(lfs)) with ``.report`` (an ApplyReport)
    """
    t0 = time.perf_counter()
    lfs = _check_lfs(lfs)
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be 'raise' or 'abstain', got {on_error!r}")
    if n_classes is not None:
        if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
            raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
        n_classes = int(n_classes)
        for lf in lfs:
            ml = lf.max_label()
            if ml is not None and ml >= n_classes:
                raise LabelingFunctionError(f"labeling function {lf.name!r} votes class {ml}, outside "
                                            f"[0, {n_classes - 1}] for n_classes={n_classes}", lf_name=lf.name)
    source = TableSource(data)
    for lf in lfs:
        if lf.fields is not None:
            missing = source.check_columns(lf.fields)
            if missing:
                raise LabelingFunctionError(f"labeling function {lf.name!r} reads field {missing[0]!r}, which the "
                                            f"data does not have; columns are {source.column_names}",
                                            lf_name=lf.name)
    n = source.n_rows
    report = ApplyReport(lf_names=[lf.name for lf in lfs], n_rows=n, n_classes=n_classes or 0)
    vcache = resolve_cache(cache)
    votes: dict[int, np.ndarray] = {}
    keys: dict[int, str] = {}
    if vcache is not None:
        t = time.perf_counter()
        for j, lf in enumerate(lfs):
            definition = lf.definition()
            if definition is None:  # depends on a value that cannot be fingerprinted: never cached
                continue
            keys[j] = entry_key(definition, source.fingerprint(lf.fields), n_classes)
            hit = vcache.get(keys[j], n)
            if hit is None:
                continue
            v, meta = hit
            if meta.get("n_errors", 0) and on_error == "raise":
                continue  # failures were turned into abstains then; recompute so they raise now
            votes[j] = v
            if meta.get("n_errors", 0):
                report.errors[lf.name] = int(meta["n_errors"])
                if meta.get("error_example"):
                    report.error_examples[lf.name] = meta["error_example"]
            report.from_cache.append(lf.name)
        report.seconds["cache_lookup"] = time.perf_counter() - t

    todo_vec = [j for j, lf in enumerate(lfs) if j not in votes and lf.kind == "vectorized"]
    todo_py = [j for j, lf in enumerate(lfs) if j not in votes and lf.kind != "vectorized"]

    if todo_vec:
        t = time.perf_counter()
        cols = sorted({f for j in todo_vec for f in lfs[j].fields})
        parts = {j: [] for j in todo_vec}
        threads = min(resolve_n_jobs(n_jobs), len(todo_vec))
        # Arrow compute (RE2, comparisons) releases the GIL: run the LFs of a batch in threads
        pool = ThreadPoolExecutor(max_workers=threads) if threads > 1 else None
        def run_vec(j, batch, start):
            """One vectorized LF on the batch whose first row is ``start``; with
            on_error="abstain" a failure (e.g. the model of a model_lf raising) abstains
            on the batch and is counted."""
            try:
                return lfs[j].apply_table(batch)
            except LabelingFunctionError as exc:
                if on_error == "raise":
                    raise
                name = lfs[j].name
                report.errors[name] = report.errors.get(name, 0) + batch.num_rows
                report.error_examples.setdefault(name, {"row_id": start, "message": str(exc).splitlines()[0],
                                                        "traceback": getattr(exc, "traceback_text", None)})
                return np.full(batch.num_rows, ABSTAIN, dtype=VOTE_DTYPE)

        start = 0
        try:
            for batch in source.batches(cols, batch_size=VEC_BATCH):
                if pool is None:
                    results = [run_vec(j, batch, start) for j in todo_vec]
                else:
                    results = list(pool.map(lambda j: run_vec(j, batch, start), todo_vec))
                for j, v in zip(todo_vec, results):
                    parts[j].append(v)
                start += batch.num_rows
        finally:
            if pool is not None:
                pool.shutdown()
            _regex.clear_masks()  # per-batch masks shared by the LFs; release the columns they hold
        for j in todo_vec:
            votes[j] = np.concatenate(parts[j]).astype(VOTE_DTYPE, copy=False) if parts[j] else \
                np.zeros(0, VOTE_DTYPE)
            if len(votes[j]) != n:
                raise LabelingFunctionError(f"labeling function {lfs[j].name!r} returned {len(votes[j])} votes "
                                            f"for {n} rows", lf_name=lfs[j].name)
        report.seconds["vectorized"] = time.perf_counter() - t
        # cached now, not after the (slower) Python LFs: an interrupted run keeps them
        _cache_votes(vcache, todo_vec, lfs, keys, votes, report)

    if todo_py:
        t = time.perf_counter()
        py_votes, errs, examples = _run_python(lfs, todo_py, source, n_classes, on_error,
                                               resolve_n_jobs(n_jobs), batch_size or PY_BATCH, progress)
        for c, j in enumerate(todo_py):
            votes[j] = py_votes[:, c].copy()
            if errs[c]:
                report.errors[lfs[j].name] = errs[c]
                report.error_examples[lfs[j].name] = examples[c]
        report.seconds["python"] = time.perf_counter() - t

    # ---- range checks (Python LFs are checked in the workers when n_classes is known)
    k = n_classes
    if k is None:
        # a declarative LF's class counts even where it never fired, so the LFs applied to
        # another table (a few new rows) give a matrix with the same classes
        declared = (lf.max_label() for lf in lfs)
        top = max([int(v.max()) for v in votes.values() if len(v)] + [d for d in declared if d is not None],
                  default=1)
        k = max(2, top + 1)
    report.n_classes = k
    for j, lf in enumerate(lfs):
        v = votes[j]
        bad = (v < ABSTAIN) | (v >= k)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise LabelingFunctionError(f"labeling function {lf.name!r} voted {int(v[i])} on row {i}, outside "
                                        f"[-1, {k - 1}]", lf_name=lf.name, row_id=i)

    _cache_votes(vcache, todo_py, lfs, keys, votes, report)
    report.computed = [lfs[j].name for j in sorted(todo_vec + todo_py)]

    rows, srcs, labs = [], [], []
    for j in range(len(lfs)):
        idx = np.flatnonzero(votes[j] != ABSTAIN)
        rows.append(idx)
        srcs.append(np.full(len(idx), j, dtype=np.int64))
        labs.append(votes[j][idx])
    L = AppliedLabelMatrix.from_coo(np.concatenate(rows), np.concatenate(srcs), np.concatenate(labs), n, k,
                                    source_names=report.lf_names)
    report.row_ids = source.row_ids()
    report.seconds["total"] = time.perf_counter() - t0
    L.report = report
    return L


# ---------------------------------------------------------------------- Python LFs
def _cache_votes(vcache, todo, lfs, keys, votes, report) -> None:
    """Write the freshly computed votes of LFs ``todo`` to the vote cache (if any)."""
    if vcache is None:
        return
    t = time.perf_counter()
    for j in todo:
        if j in keys:  # (LFs that cannot be fingerprinted have no key and are never cached)
            lf = lfs[j]
            vcache.put(keys[j], votes[j], lf_name=lf.name, n_errors=int(report.errors.get(lf.name, 0)),
                       error_example=report.error_examples.get(lf.name))
    report.seconds["cache_write"] = report.seconds.get("cache_write", 0.0) + time.perf_counter() - t


_W = {}  # worker state: lfs, n_classes, on_error, table (fork only)


def _init_worker(py_lfs, n_classes, on_error, table):
    _W.update(lfs=py_lfs, n_classes=n_classes, on_error=on_error, table=table)


def _init_pool_worker(py_lfs, n_classes, on_error, table):
    # a forked worker inherits the CLI's SIGTERM -> KeyboardInterrupt handler; SIGTERM
    # must simply end a worker
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _init_worker(py_lfs, n_classes, on_error, table)


def _fmt_tb(exc) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next  # drop the applier's own frames
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _describe_value(v) -> str:
    return f"{v!r} ({type(v).__name__})"


_FAILED = object()  # marks a row on which an LF raised (already counted)
def _column_values(col) -> list:
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return col.to_pylist()
    if pa.types.is_primitive(t):
        return col.to_numpy(zero_copy_only=False).tolist()
    return col.to_pylist()


def _make_rows(table: pa.Table, values) -> list:
    """One read-only row per example (see :mod:`._rows`), from per-column Python lists."""
    names = tuple(table.column_names)
    return make_rows(names, [values(i) for i in range(len(names))], table.num_rows)


def _lf_caller(lf):
    """``row -> vote`` for one LF: the function itself when it needs no copy of the row."""
    func, res, pre = lf.func, lf.resources, lf.pre
    if not pre:
        return partial(func, **res) if res else func

    def call(d):
        row = preprocess(Row(d), pre)  # preprocessors may edit the row: give them a copy
        return func(row, **res) if res else func(row)

    return call


def _run_batch(task):
    """Run every Python LF over one batch. Returns (start, votes (n, m) int16, errors, examples, fatal).

    The cyclic garbage collector is paused for the batch: building one Row per example
    allocates thousands of containers, each allocation burst triggering collections that
    find nothing (Rows hold no cycles); it runs again once the batch is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run_batch_inner(task)
    finally:
        if was_enabled:
            gc.enable()


def _run_batch_inner(task):
    start, payload = task
    if isinstance(payload, tuple):  # (offset, length) into the table inherited by fork
        table = _W["table"].slice(payload[0], payload[1])
    elif isinstance(payload, (bytes, memoryview)):
        table = pa.ipc.open_stream(payload).read_all()
    else:
        table = payload
    lfs, k, on_error = _W["lfs"], _W["n_classes"], _W["on_error"]
    names = table.column_names
    n, m = table.num_rows, len(lfs)
    out = np.full((n, m), ABSTAIN, dtype=VOTE_DTYPE)
    errors = [0] * m
    examples = [None] * m
    hi = (k - 1) if k is not None else 32767
    colvals: dict = {}

    def values(j):  # column j as a Python list, converted once per batch
        if j not in colvals:
            colvals[j] = _column_values(table.column(j))
        return colvals[j]

    id_pos = names.index("id") if "id" in names else None
    rows = None

    def row_id(i):
        return _plain(values(id_pos)[i] if id_pos is not None else start + i)

    for c, lf in enumerate(lfs):
        if rows is None:  # one Row per example, shared by these LFs (preprocessors get a copy)
            rows = _make_rows(table, values)
        seq, call = rows, _lf_caller(lf)
        vals: list = []
        app = vals.append
        it = iter(seq)
        while True:
            try:
                for d in it:
                    app(call(d))
                break
            except Exception as exc:  # noqa: BLE001 - user code; `it` resumes after the failing row
                i = len(vals)
                info = {"row_id": row_id(i), "message": f"{type(exc).__name__}: {exc}", "traceback": _fmt_tb(exc)}
                if on_error == "raise":
                    return start, None, None, None, (lf.name, info, "raised")
                errors[c] += 1
                if examples[c] is None:
                    examples[c] = info
                app(_FAILED)
        # fast check: every vote a plain int in range
        if set(map(type, vals)) <= {int}:
            try:
                arr = np.array(vals, dtype=np.int64) if n else np.zeros(0, np.int64)
            except OverflowError:  # a huge int: reported by the slow check below
                arr = None
            if arr is not None and (not n or (arr.min() >= ABSTAIN and arr.max() <= hi)):
                out[:, c] = arr
                continue
        col = [ABSTAIN] * n
        for i, v in enumerate(vals):
            if v is _FAILED:
                continue
            if type(v) is not int:
                if isinstance(v, np.integer) and not isinstance(v, bool):
                    v = int(v)
                else:
                    v = _BAD
            if v is _BAD or v < ABSTAIN or v > hi:
                expected = f"in [-1, {k - 1}]" if k is not None else "(an integer >= -1)"
                info = {"row_id": row_id(i),
                        "message": f"returned {_describe_value(vals[i])}; expected a class id {expected} "
                                   f"(-1 = ABSTAIN)",
                        "traceback": None}
                if on_error == "raise":
                    return start, None, None, None, (lf.name, info, "returned")
                errors[c] += 1
                if examples[c] is None:
                    examples[c] = info
                continue
            col[i] = v
        out[:, c] = col
    return start, out, errors, examples, None


_BAD = object()


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


def _ipc_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue().to_pybytes()


def _run_python(lfs, todo, source: TableSource, n_classes, on_error, n_jobs, batch_size, progress):
    py_lfs = [lfs[j] for j in todo]
    n = source.n_rows
    m = len(py_lfs)
    out = np.full((n, m), ABSTAIN, dtype=VOTE_DTYPE)
    errors = [0] * m
    examples = [None] * m
    from tqdm.auto import tqdm

    bar = tqdm(total=n, unit="rows", desc=f"{m} Python LF{'s' if m > 1 else ''}",
               disable=None if progress else True, leave=False)

    def consume(result):
        start, v, errs, exs, fatal = result
        if fatal is not None:
            name, info, what = fatal
            rid = info["row_id"]
            if what == "raised":
                msg = f"labeling function {name!r} raised {info['message']} on row id {rid!r}"
            else:
                msg = f"labeling function {name!r} {info['message']} on row id {rid!r}"
            if info.get("traceback"):
                msg += "\n" + info["traceback"].rstrip()
            raise LabelingFunctionError(msg, lf_name=name, row_id=rid, traceback_text=info.get("traceback"))
        out[start:start + len(v)] = v
        for c in range(m):
            errors[c] += errs[c]
            if examples[c] is None and exs[c] is not None:
                examples[c] = exs[c]
        bar.update(len(v))

    try:
        # The first batch runs here; a process pool is started only if the rest would
        # take long enough to repay it (re-applying one cheap edited LF stays in-process).
        batches = source.batches(None, batch_size=batch_size)
        start = 0
        _init_worker(py_lfs, n_classes, on_error, None)
        try:
            first = next(batches, None)
            per_row = 0.0
            if first is not None:
                t = time.perf_counter()
                consume(_run_batch((0, first)))
                per_row = (time.perf_counter() - t) / max(first.num_rows, 1)
                start = first.num_rows
            if n_jobs <= 1 or n - start <= 0 or per_row * (n - start) < POOL_MIN_SECONDS:
                for batch in batches:
                    consume(_run_batch((start, batch)))
                    start += batch.num_rows
                return out, errors, examples
        finally:
            _W.clear()
        methods = mp.get_all_start_methods()
        fork = "fork" in methods
        ctx = mp.get_context("fork" if fork else None)
        shared_table = source.table() if (fork and source.in_memory) else None
        workers = min(n_jobs, math.ceil((n - start) / batch_size))
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_pool_worker,
                                 initargs=(py_lfs, n_classes, on_error, shared_table)) as ex:
            pending = deque()
            try:
                if shared_table is not None:
                    tasks = ((s, (s, min(batch_size, n - s))) for s in range(start, n, batch_size))
                else:
                    def gen(s):
                        for b in batches:
                            yield s, _ipc_bytes(b)
                            s += b.num_rows
                    tasks = gen(start)
                for task in tasks:
                    pending.append(ex.submit(_run_batch, task))
                    if len(pending) >= 2 * workers:
                        consume(pending.popleft().result())
                while pending:
                    consume(pending.popleft().result())
            except BaseException:
                for f in pending:
                    f.cancel()
                ex.shutdown(wait=True, cancel_futures=True)
                raise
        return out, errors, examples
    finally:
        bar.close()
