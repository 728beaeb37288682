"""k-nearest-neighbour graphs of feature matrices, stored sparse and symmetrised.

Exact search is a blocked matrix product (dense or sparse features) with a top-k per
row. Approximate search, the ``ann`` extra, was chosen per kind of input by measurement
(see ``benchmarks/results/propagation.md``):

- dense features (embeddings): faiss, IVF or HNSW for large N;
- sparse features (TF-IDF): NN-descent (pynndescent) on the sparse rows themselves.
  Reducing TF-IDF by truncated SVD for faiss loses neighbours, more so as N grows (of
  the exact 10: 0.64 found at 50,330 rows and 0.24 at 201,320, against 0.95 and 0.98 for
  NN-descent). ``sparse_method="svd"`` keeps that route on request.
"""

from __future__ import annotations

import inspect
import signal
import threading
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp

from ..errors import DataFormatError, MissingExtraError

METRICS = ("cosine", "euclidean")
EXACT_MAX_ROWS = 30_000
#: approximate graphs use faiss IVF up to this many rows, HNSW beyond (see `approximate_knn`)
IVF_MAX_ROWS = 300_000
_BLOCK_ENTRIES = 2 ** 25  # entries of one (block x N) similarity block


def check_features(X, n_rows: int | None = None, what: str = "features"):
    """Validate a feature matrix: 2-D, finite, and (optionally) n_rows rows. Returns X as
    CSR float32 or a C-contiguous float32 ndarray."""
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float32)
        data = X.data
    else:
        X = np.ascontiguousarray(np.asarray(X, dtype=np.float32))
        if X.ndim != 2:
            raise DataFormatError(f"{what} must be a 2-D (rows x features) matrix, got shape {X.shape}")
        data = X
    if n_rows is not None and X.shape[0] != n_rows:
        raise DataFormatError(f"{what} have {X.shape[0]} rows but the votes have {n_rows}; "
                              f"they must describe the same examples in the same order")
    bad = ~np.isfinite(data)
    if bad.any():
        if sp.issparse(X):
            pos = int(np.flatnonzero(bad)[0])
            row = int(np.searchsorted(X.indptr, pos, side="right") - 1)
            col = int(X.indices[pos])
        else:
            row, col = (int(v) for v in np.argwhere(bad)[0])
        raise DataFormatError(f"{what}: row {row}, column {col} is NaN or infinite")
    return X


def _row_norms_sq(X) -> np.ndarray:
    if sp.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1)).ravel().astype(np.float32)
    return np.einsum("ij,ij->i", X, X)


def _normalize(X):
    norms = np.sqrt(_row_norms_sq(X))
    norms[norms == 0] = 1.0
    if sp.issparse(X):
        return sp.diags(1.0 / norms).astype(np.float32) @ X
    return X / norms[:, None]


def exact_knn(X, k: int, metric: str = "cosine", rows=None) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours of every row (itself excluded), or of ``rows`` only.

    Parameters
    ----------
    X : (N, d) dense or sparse features
    rows : optional (R,) int indices of the query rows (default all N); their neighbours
        are searched among all rows

    Returns
    -------
    indices : (R, k) int64, nearest first
    similarities : (R, k) float32; cosine similarity, or minus the Euclidean distance
    """
    n = X.shape[0]
    every_row = rows is None
    rows = np.arange(n) if every_row else np.asarray(rows, dtype=np.int64)
    Xn = _normalize(X) if metric == "cosine" else X
    XT = Xn.T.tocsr() if sp.issparse(Xn) else Xn.T
    sq = None if metric == "cosine" else _row_norms_sq(X)
    block = max(1, _BLOCK_ENTRIES // max(n, 1))
    idx = np.empty((len(rows), k), dtype=np.int64)
    sim = np.empty((len(rows), k), dtype=np.float32)
    for start in range(0, len(rows), block):
        q = rows[start:start + block]
        S = (Xn[q[0]:q[-1] + 1] if every_row else Xn[q]) @ XT  # a slice, not a copy, for all rows
        S = S.toarray() if sp.issparse(S) else np.asarray(S)
        S = S.astype(np.float32, copy=False)
        if metric == "euclidean":
            S = -np.sqrt(np.maximum(sq[q, None] + sq[None, :] - 2 * S, 0))
        S[np.arange(len(q)), q] = -np.inf
        part = np.argpartition(-S, k - 1, axis=1)[:, :k] if k < n - 1 else np.argsort(-S, axis=1)[:, :k]
        vals = np.take_along_axis(S, part, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")
        idx[start:start + len(q)] = np.take_along_axis(part, order, axis=1)
        sim[start:start + len(q)] = np.take_along_axis(vals, order, axis=1)
    return idx, sim


def _svd_reduce(X, n_components: int, random_state: int):
    from sklearn.decomposition import TruncatedSVD
    n_components = max(2, min(n_components, X.shape[1] - 1, X.shape[0] - 1))
    return TruncatedSVD(n_components=n_components, random_state=random_state).fit_transform(X).astype(np.float32)


def _ann_index(Z: np.ndarray, index: str, metric: str, hnsw_m: int, ef_search: int | None, n_lists: int | None,
               n_probe: int, k: int, random_state: int):
    """A filled faiss index over Z (n, d) float32, IVF-Flat or HNSW-Flat, and the objects
    it needs kept alive (IVF's quantizer): (index, keep_alive)."""
    import faiss

    n, d = Z.shape
    space = faiss.METRIC_INNER_PRODUCT if metric == "cosine" else faiss.METRIC_L2
    if index == "ivf":
        nlist = int(n_lists or max(1, round(2 * np.sqrt(n))))
        nlist = max(1, min(nlist, n // 8 or 1))
        quantizer = faiss.IndexFlatIP(d) if metric == "cosine" else faiss.IndexFlatL2(d)
        ivf = faiss.IndexIVFFlat(quantizer, d, nlist, space)
        ivf.cp.seed = int(random_state)
        # k-means on a sample: 50 rows per list is plenty and keeps training time small
        rng = np.random.default_rng(random_state)
        sample = Z if n <= 50 * nlist else Z[np.sort(rng.choice(n, 50 * nlist, replace=False))]
        ivf.train(np.ascontiguousarray(sample))
        ivf.add(Z)
        ivf.nprobe = min(int(n_probe), nlist)
        return ivf, quantizer
    if index == "hnsw":
        hnsw = faiss.IndexHNSWFlat(d, hnsw_m, space)
        hnsw.hnsw.efConstruction = 40
        hnsw.hnsw.efSearch = ef_search or max(2 * (k + 1), 32)
        hnsw.add(Z)
        return hnsw, None
    raise DataFormatError(f"unknown approximate index {index!r}; choose auto, ivf or hnsw")


def _pair_similarities(X, metric: str, idx: np.ndarray) -> np.ndarray:
    """Exact similarities of every row of X to its listed neighbours ``idx`` (N, m), as
    `exact_knn` computes them (cosine, or minus the Euclidean distance from row norms and
    dot products); (N, m) float32."""
    n, m = idx.shape
    Xs = _normalize(X) if metric == "cosine" else X
    Xs = sp.csr_matrix(Xs) if sp.issparse(Xs) else Xs
    sq = None if metric == "cosine" else _row_norms_sq(X).astype(np.float64)
    sims = np.empty((n, m), dtype=np.float32)
    # each pair copies two rows: size blocks by non-zeros, ~2^22 of them per side
    per_row = max(1, (Xs.nnz if sp.issparse(Xs) else Xs.shape[1] * n) // max(n, 1))
    step = max(1, 2 ** 22 // (m * per_row))
    for start in range(0, n, step):
        rows = np.arange(start, min(n, start + step))
        a, b = Xs[np.repeat(rows, m)], Xs[idx[rows].ravel()]
        dot = np.asarray(a.multiply(b).sum(axis=1) if sp.issparse(a) else np.einsum("ij,ij->i", a, b),
                         dtype=np.float64).ravel()
        if metric != "cosine":
            dot = -np.sqrt(np.maximum(sq[np.repeat(rows, m)] + sq[idx[rows].ravel()] - 2 * dot, 0))
        sims[rows] = dot.astype(np.float32).reshape(len(rows), m)
    return sims


@contextmanager
def _interrupts_held():
    """Ctrl-C (and SIGTERM, when it is mapped to KeyboardInterrupt as the CLI does) raised
    as KeyboardInterrupt once the block ends, not inside it. A signal whose handler is not
    Python's KeyboardInterrupt (ignored, or the caller's own) is left alone.

    numba's compiled code lets the interpreter run signal handlers mid-call and then
    clears the KeyboardInterrupt they raise, or reports it as a SystemError: a Ctrl-C
    during NN-descent was lost (the run went on) or ended in a traceback. Here the first
    signal is noted and raised after the call returns; a second one is raised at once.
    Outside the main thread (where handlers cannot be set) the block runs as is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []

    def note(signum, frame):
        if caught:
            raise KeyboardInterrupt
        caught.append(signum)

    # only signals that would raise KeyboardInterrupt: one the process ignores (nohup, a
    # background job) or handles itself stays as it is
    nums = [n for n in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(n) is signal.default_int_handler]
    previous = {n: signal.signal(n, note) for n in nums}
    try:
        yield
    finally:
        for n, handler in previous.items():
            signal.signal(n, handler)
    if caught:
        raise KeyboardInterrupt


def _nndescent_knn(X, k: int, metric: str, random_state: int, candidates: int | None = None):
    """k nearest neighbours of sparse rows by NN-descent (pynndescent), itself excluded.

    NN-descent looks for ``candidates`` neighbours (2k by default: on sms TF-IDF, 10
    sought find 0.78 of the exact 10 nearest, 20 sought 0.93); their similarities are
    recomputed exactly and the k best kept, so weights equal `exact_knn`'s for the same
    pairs (an all-zero row is no one's close neighbour under cosine). Same returns as
    `exact_knn`.

    One thread: the result then depends only on ``random_state``, and on 50,330 TF-IDF
    rows one thread was faster than two (4.8 s against 7.3 s for 10 neighbours, after the
    first call's ~11 s of numba compilation)."""
    try:
        import pynndescent
    except ImportError:
        raise MissingExtraError('approximate kNN graphs of sparse features need pynndescent; pip install -c '
                                'constraints.txt "labelmill[ann]", or use method="exact" (or sparse_method="svd" '
                                'with faiss)') from None
    import warnings

    n = X.shape[0]
    m = min(n, 1 + max(k, int(candidates) if candidates is not None else 2 * k))
    with warnings.catch_warnings():
        # numba's notes on compilation and threads are not the user's business
        warnings.filterwarnings("ignore", module=r"(numba|pynndescent)(\.|$)")
        with _interrupts_held():
            index = pynndescent.NNDescent(sp.csr_matrix(X), metric=metric, n_neighbors=m,
                                          random_state=int(random_state), n_jobs=1, low_memory=True, verbose=False)
        I, _ = index.neighbor_graph
    I = np.asarray(I, dtype=np.int64)
    sim = _pair_similarities(X, metric, np.where(I < 0, 0, I))
    sim[(I < 0) | (I == np.arange(n)[:, None])] = -np.inf  # missing entries and the row itself
    order = np.argsort(-sim, axis=1, kind="stable")[:, :k]  # nearest first, as exact_knn
    I, sim = np.take_along_axis(I, order, axis=1), np.take_along_axis(sim, order, axis=1)
    missing = ~np.isfinite(sim).all(axis=1)  # fewer than k found: search those rows exactly
    if missing.any():
        rows = np.flatnonzero(missing)
        I[rows], sim[rows] = exact_knn(X, k, metric, rows=rows)
    return I, sim


def approximate_knn(X, k: int, metric: str = "cosine", sparse_method: str = "nndescent",
                    nndescent_candidates: int | None = None, svd_components: int = 128,
                    index: str = "auto", n_lists: int | None = None, n_probe: int = 10, hnsw_m: int = 16,
                    ef_search: int | None = None, random_state: int = 0, n_jobs: int | None = None):
    """Approximate k nearest neighbours. Same returns as `exact_knn`.

    Dense features go to faiss (``index`` and the parameters after it). Sparse features
    go to NN-descent (pynndescent, one thread) with ``sparse_method="nndescent"``, the
    default; with ``sparse_method="svd"`` they are reduced to ``svd_components`` dimensions
    by truncated SVD and go to faiss, which is coarser (see the module docstring).

    Parameters
    ----------
    sparse_method : "nndescent" or "svd", for sparse X only
    nndescent_candidates : neighbours NN-descent looks for before the exact k best are
        kept (default 2k)
    index : "ivf" (inverted lists over k-means cells, flat vectors: ``n_lists`` cells,
        2 sqrt(N) by default, of which ``n_probe`` are searched), "hnsw" (graph index,
        ``hnsw_m`` links, ``ef_search``), or "auto": IVF up to ``IVF_MAX_ROWS`` rows, HNSW
        beyond. Measured on 100,000 x 384 clustered rows, 2 cores: IVF (632 lists, 10
        probed) 12 s for a recall@10 of 0.97; HNSW (M=16) 17 s for 0.75. IVF's search
        cost grows as N^1.5, HNSW's as N log N, hence HNSW for larger N.
    svd_components : with ``sparse_method="svd"``, sparse input is first reduced to this
        many SVD components
    """
    if sparse_method not in ("nndescent", "svd"):
        raise DataFormatError(f"unknown sparse_method {sparse_method!r}; choose nndescent or svd")
    if sp.issparse(X) and sparse_method == "nndescent":
        return _nndescent_knn(X, k, metric, random_state, nndescent_candidates)
    try:
        import faiss
    except ImportError:
        raise MissingExtraError('approximate kNN graphs need faiss-cpu; pip install -c constraints.txt '
                                '"labelmill[ann]", or use method="exact"') from None
    if n_jobs is not None:
        faiss.omp_set_num_threads(int(n_jobs))
    Z = _svd_reduce(X, svd_components, random_state) if sp.issparse(X) else X
    Z = np.ascontiguousarray(_normalize(Z) if metric == "cosine" else Z, dtype=np.float32)
    n = Z.shape[0]
    if index == "auto":
        index = "ivf" if n <= IVF_MAX_ROWS else "hnsw"
    ann, _keep_alive = _ann_index(Z, index, metric, hnsw_m, ef_search, n_lists, n_probe, k, random_state)
    D, I = ann.search(Z, k + 1)
    # rows with fewer than k + 1 results (a sparse IVF cell) get -1: fall back to exact for them
    missing = (I < 0).any(axis=1)
    # drop each row's own entry (or the last one when the row is not among its own results)
    own = I == np.arange(n)[:, None]
    drop = np.where(own.any(axis=1), own.argmax(axis=1), k)
    keep = np.ones_like(own)
    keep[np.arange(n), drop] = False
    I = I[keep].reshape(n, k)
    D = D[keep].reshape(n, k)
    sim = D if metric == "cosine" else -np.sqrt(np.maximum(D, 0))
    if missing.any():
        rows = np.flatnonzero(missing)
        I[rows], sim[rows] = exact_knn(Z, k, metric, rows=rows)
    return I.astype(np.int64), sim.astype(np.float32)


def resolve_method(method: str, n_rows: int) -> str:
    """The search ``knn_graph(method=...)`` runs on ``n_rows`` rows: "auto" is exact up to
    EXACT_MAX_ROWS rows, approximate beyond; other values are returned as given."""
    if method == "auto":
        return "exact" if n_rows <= EXACT_MAX_ROWS else "approximate"
    return method


def check_ann_params(params: dict) -> None:
    """Raise DataFormatError naming any key `approximate_knn` does not take as a parameter
    of the search (``k``, ``metric``, ``random_state`` and ``n_jobs`` are set elsewhere)."""
    unknown = set(params) - _ANN_PARAMS
    if unknown:
        raise DataFormatError(f"unknown approximate-search parameter(s) {sorted(unknown)}; "
                              f"approximate_knn takes {sorted(_ANN_PARAMS)}")


#: the parameters of the search itself, as `approximate_knn` names them
_ANN_PARAMS = set(inspect.signature(approximate_knn).parameters) - {"X", "k", "metric", "random_state", "n_jobs"}


def knn_graph(X, k: int = 10, metric: str = "cosine", method: str = "auto", weight: str = "similarity",
              random_state: int = 0, n_jobs: int | None = None, **ann_params) -> sp.csr_matrix:
    """Symmetric sparse kNN affinity graph.

    Parameters
    ----------
    X : (N, d) dense array or scipy sparse matrix, finite
    k : neighbours per row, 1 <= k < N
    metric : "cosine" or "euclidean"
    method : "exact", "approximate" (faiss for dense X, NN-descent for sparse X; see
        `approximate_knn`, which takes ``ann_params``) or "auto" (exact up to EXACT_MAX_ROWS
        rows)
    weight : "similarity" (cosine similarity clipped at 0, or a Gaussian kernel of the
        Euclidean distance with the median k-th distance as bandwidth, or the median of the
        non-zero ones when most rows have k exact duplicates) or "connectivity" (1)

    Returns
    -------
    W : (N, N) scipy CSR float32, symmetric (W = max(A, A.T) of the directed kNN graph),
        zero diagonal
    """
    X = check_features(X)
    n = X.shape[0]
    if metric not in METRICS:
        raise DataFormatError(f"unknown metric {metric!r}; choose one of {METRICS}")
    if not 1 <= int(k) < n:
        raise DataFormatError(f"k={k} neighbours needs 1 <= k < N, and there are N={n} rows")
    check_ann_params(ann_params)
    method = resolve_method(method, n)
    if method == "exact":
        idx, sim = exact_knn(X, int(k), metric)
    elif method == "approximate":
        idx, sim = approximate_knn(X, int(k), metric, random_state=random_state, n_jobs=n_jobs, **ann_params)
    else:
        raise DataFormatError(f"unknown kNN method {method!r}; choose exact, approximate or auto")
    valid = idx >= 0  # faiss marks missing neighbours with -1
    if weight == "connectivity":
        w = np.ones_like(sim)
    elif weight == "similarity":
        if metric == "cosine":
            w = np.clip(sim, 0, None)
        else:
            dist = -sim
            kth = dist[valid[:, -1], -1]
            bandwidth = float(np.median(kth)) if len(kth) else 1.0
            if bandwidth <= 0:  # most rows have k exact duplicates: scale by the non-zero distances
                positive = kth[kth > 0] if len(kth) else kth
                bandwidth = float(np.median(positive)) if len(positive) else 1.0
            w = np.exp(-(dist / bandwidth) ** 2)
    else:
        raise DataFormatError(f"unknown weight {weight!r}; choose similarity or connectivity")
    rows = np.repeat(np.arange(n), idx.shape[1])[valid.ravel()]
    A = sp.csr_matrix((w.ravel()[valid.ravel()].astype(np.float32), (rows, idx.ravel()[valid.ravel()])),
                      shape=(n, n))
    A.setdiag(0)
    A.eliminate_zeros()
    return A.maximum(A.T).tocsr()
