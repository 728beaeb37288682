"""The featurizer interface: a table of examples in, a feature matrix out.

A featurizer is fitted on one table (the training rows) and then transforms any table
with the same columns. ``spec()`` is a JSON-able description of its parameters, used as
part of cache keys and saved with end models so that new rows are featurized the same way.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..errors import DataFormatError, NotFittedError


class Featurizer(BaseEstimator, ABC):
    """Base class: ``fit(df) -> self``, ``transform(df) -> (N, d)`` matrix.

    Subclasses store their constructor parameters unchanged (scikit-learn style: that is
    what ``get_params``, ``set_params``, ``sklearn.base.clone`` and the repr read) and list
    those that define the features in ``_params``; fitted state ends in ``_``. ``fit`` and
    ``fit_transform`` take an optional, ignored ``y``, so a featurizer can be the first
    step of a scikit-learn ``Pipeline`` fed the examples table.
    """

    name: str = "featurizer"
    _params: tuple[str, ...] = ()

    def spec(self) -> dict:
        """JSON-able ``{"name": ..., "params": {...}}`` that rebuilds an unfitted copy."""
        return {"name": self.name, "params": {p: getattr(self, p) for p in self._params}}

    @abstractmethod
    def fit(self, df: pd.DataFrame, y=None) -> "Featurizer":
        """Learn vocabulary / scaling from ``df`` (``y`` is ignored); returns self."""

    @abstractmethod
    def transform(self, df: pd.DataFrame):
        """Features of ``df``: (N, d) scipy CSR or ndarray, float32, one row per row of df."""

    def fit_transform(self, df: pd.DataFrame, y=None):
        """``fit(df)`` then ``transform(df)``; ``y`` is ignored (scikit-learn Pipeline protocol)."""
        return self.fit(df).transform(df)

    @property
    def input_columns(self) -> list[str]:
        """Columns of the examples table this featurizer reads."""
        return []

    def columns_in(self, df: pd.DataFrame) -> list[str]:
        """Columns of ``df`` that fitting on it would read (``input_columns`` unless the
        featurizer picks optional columns from the table, as TF-IDF does with entity spans)."""
        return self.input_columns

    def _check_fitted(self, attr: str) -> None:
        if not hasattr(self, attr):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(df) first")

    def _check_columns(self, df: pd.DataFrame) -> None:
        if not isinstance(df, pd.DataFrame):
            raise DataFormatError(f"{type(self).__name__} expects a pandas DataFrame, got {type(df).__name__}")
        missing = [c for c in self.input_columns if c not in df.columns]
        if missing:
            raise DataFormatError(f"{type(self).__name__}: the table has no column(s) {missing}; "
                                  f"columns are {list(df.columns)}")


def row_name(df: pd.DataFrame, i: int) -> str:
    """``"row i"``, plus the row's id when ``df`` has an ``id`` column (the examples tables
    of a dataset do): a split's row i is not row i of the file it came from."""
    if "id" in df.columns:
        return f"row {i} (id {df['id'].iloc[i]!r})"
    return f"row {i}"


def text_values(col: pd.Series) -> list[str]:
    """A text column as a list of str: missing values (None, NaN, pd.NA) become "";
    works for object, string and categorical columns."""
    return col.astype(object).where(col.notna(), "").astype(str).tolist()


def fingerprint_columns(df: pd.DataFrame, columns: list[str]) -> str:
    """SHA-256 over the given columns' values (row order matters)."""
    h = hashlib.sha256()
    h.update(f"n={len(df)}".encode())
    for c in columns:
        h.update(c.encode("utf-8", "surrogatepass") + b"\0")
        try:
            values = pd.util.hash_pandas_object(df[c], index=False).to_numpy()
        except TypeError:  # unhashable cells, e.g. [start, end] entity spans
            values = pd.util.hash_pandas_object(df[c].map(repr), index=False).to_numpy()
        h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()
