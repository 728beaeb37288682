"""On-disk cache of feature matrices, next to the LF vote cache.

An entry is one featurizer (its ``spec()``), fitted on one table, applied to one table.
Keys are SHA-256 over the spec, a fingerprint of the fit table's input columns and a
fingerprint of the transformed table's input columns. The fitted featurizer itself is
cached too (pickled), so a fully cached run does not refit. Files live under
``<cache dir>/features/`` and are written atomically; an unreadable entry is removed and
recomputed, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .._io import atomic_path
from ..errors import DataFormatError
from ..lfs.cache import default_cache_dir
from .base import Featurizer, fingerprint_columns


def _key(*parts: str) -> str:
    h = hashlib.sha256()
    for p in ("labelmill-features-v2",) + parts:  # v2: numeric features standardised in float64
        h.update(p.encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()


class FeatureCache:
    """Folder of cached feature matrices and fitted featurizers."""

    def __init__(self, path=None):
        self.path = Path(path) if path is not None else default_cache_dir()

    def _file(self, key: str, suffix: str) -> Path:
        return self.path / "features" / key[:2] / f"{key}{suffix}"

    def load_matrix(self, key: str, n_rows: int):
        for suffix in (".npz", ".npy"):
            f = self._file(key, suffix)
            if not f.exists():
                continue
            try:
                X = sp.load_npz(f).tocsr() if suffix == ".npz" else np.load(f, allow_pickle=False)
                if X.shape[0] == n_rows:
                    return X
            except Exception:  # noqa: BLE001 - a corrupt entry is recomputed
                pass
            f.unlink(missing_ok=True)
        return None

    def save_matrix(self, key: str, X) -> None:
        suffix = ".npz" if sp.issparse(X) else ".npy"
        with atomic_path(self._file(key, suffix)) as tmp:
            with open(tmp, "wb") as fh:
                if sp.issparse(X):
                    sp.save_npz(fh, X.tocsr(), compressed=False)
                else:
                    np.save(fh, np.ascontiguousarray(X), allow_pickle=False)

    def load_featurizer(self, key: str):
        f = self._file(key, ".pkl")
        try:
            with open(f, "rb") as fh:
                return pickle.load(fh)
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001
            f.unlink(missing_ok=True)
            return None

    def save_featurizer(self, key: str, featurizer: Featurizer) -> None:
        with atomic_path(self._file(key, ".pkl")) as tmp:
            with open(tmp, "wb") as fh:
                pickle.dump(featurizer, fh, protocol=pickle.HIGHEST_PROTOCOL)

    def clear(self) -> int:
        """Delete every cached feature file (and any temporary file an interrupted write
        left); returns the number of cached files deleted, temporary ones not counted.
        Files labelmill did not write stay."""
        from .._io import remove_cache_entries

        return remove_cache_entries(self.path / "features", r"[0-9a-f]{64}\.(npz|npy|pkl)")


@contextmanager
def _about(where):
    """Prefix a DataFormatError raised inside with ``where`` (the table it is about; None:
    unchanged): "row 5" alone would send the user to the wrong table."""
    try:
        yield
    except DataFormatError as exc:
        if where is None:
            raise
        raise DataFormatError(f"{where}: {exc}") from exc


def featurize(featurizer: Featurizer, fit_table, tables: dict, cache=None, fit_name: str | None = None):
    """Fit ``featurizer`` on ``fit_table`` and transform each of ``tables``, with caching.

    Parameters
    ----------
    featurizer : an unfitted Featurizer
    fit_table : pandas DataFrame the featurizer is fitted on
    tables : ``{name: DataFrame}`` to transform
    cache : None/True (default cache folder), False (no cache), a path or a FeatureCache
    fit_name : optional name of ``fit_table`` for error messages; an error about one of
        ``tables`` always starts with its name

    Returns
    -------
    (fitted featurizer, {name: (N_name, d) matrix})
    """
    store = None if cache is False else cache if isinstance(cache, FeatureCache) else \
        FeatureCache(None if cache in (None, True) else cache)
    if store is None:
        with _about(fit_name):
            featurizer.fit(fit_table)
        out = {}
        for name, table in tables.items():
            with _about(name):
                out[name] = featurizer.transform(table)
        return featurizer, out
    with _about(fit_name):
        featurizer._check_columns(fit_table)
        spec = json.dumps(featurizer.spec(), sort_keys=True, default=str)
        fit_fp = fingerprint_columns(fit_table, featurizer.columns_in(fit_table))
        fit_key = _key(spec, fit_fp)
        fitted = store.load_featurizer(fit_key)
        if fitted is None or type(fitted) is not type(featurizer):
            fitted = featurizer.fit(fit_table)
            store.save_featurizer(fit_key, fitted)
    out = {}
    for name, table in tables.items():
        with _about(name):
            fitted._check_columns(table)
            key = _key(spec, fit_fp, fingerprint_columns(table, fitted.input_columns))
            X = store.load_matrix(key, len(table))
            if X is None:
                X = fitted.transform(table)
                store.save_matrix(key, X)
        out[name] = X
    return fitted, out
