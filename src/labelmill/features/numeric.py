"""Numeric columns of a table as dense, standardised features (tabular data)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import DataFormatError
from .base import Featurizer, row_name


#: identifier-like column names: "id" alone or at the end after _ - . or space, or "Id"/"ID" after a lowercase letter
_ID_NAME = re.compile(r"(?:^|[_\-. ])[iI][dD]$|^[iI][dD]$|(?<=[a-z])(?:Id|ID)$")


def _is_numeric_column(col: pd.Series, name) -> bool:
    """Numbers, or numbers written as text (see `_numbers_as_text`)."""
    if pd.api.types.is_numeric_dtype(col):
        return True
    return (col.dtype == object or pd.api.types.is_string_dtype(col)) and _numbers_as_text(col, name)


def _names(value) -> list | None:
    """One name or a sequence of names as a list; None stays None."""
    return None if value is None else ([value] if isinstance(value, str) else list(value))


class NumericFeaturizer(Featurizer):
    """Selected (default: all numeric, except ``exclude``) columns, optionally standardised.

    Parameters
    ----------
    columns : list of column names, or None for every numeric (not boolean) column but
        ``exclude`` and, with ``skip_id_columns``, identifiers
    standardize : subtract the training mean and divide by the training std
    exclude : columns never used when ``columns`` is None
    skip_id_columns : with ``columns=None``, leave out columns named like identifiers
        (``id``, ``question_id``, ``userId``, ``item-id``): their numbers name rows, they do
        not measure them (crowd data's ``question_id`` alone "predicts" its label). Name
        such a column in ``columns`` to use it anyway.

    ``columns`` and ``exclude`` may each be one name or a sequence of names; they are
    stored as given (scikit-learn style) and read as lists. ``columns_`` (after ``fit``)
    lists the columns used.

    ``transform`` returns a dense float32 array (N, n_columns). NaN or infinite values are
    an error that names the column and row. Standardising is done in float64 (``mean_``,
    ``scale_``), so large magnitudes (timestamps in milliseconds, 1e300) keep their
    differences; a value still outside the float32 range after it is an error too.
    """

    name = "numeric"
    _params = ("columns", "standardize", "exclude", "skip_id_columns")

    def __init__(self, columns: list[str] | None = None, standardize: bool = True, exclude=("id",),
                 skip_id_columns: bool = True):
        self.columns = columns
        self.standardize = standardize
        self.exclude = exclude
        self.skip_id_columns = skip_id_columns

    def _column_list(self) -> list | None:
        """``columns`` as a list of names (None stays None)."""
        return _names(self.columns)

    def _exclude_list(self) -> list:
        """``exclude`` as a list of names (None = nothing excluded)."""
        return _names(self.exclude) or []

    def spec(self) -> dict:
        spec = super().spec()
        spec["params"]["columns"] = self.input_columns or self._column_list()
        spec["params"]["exclude"] = self._exclude_list()
        return spec

    @property
    def input_columns(self) -> list[str]:
        return list(getattr(self, "columns_", None) or self._column_list() or [])

    def columns_in(self, df: pd.DataFrame) -> list[str]:
        """The columns fitting on ``df`` reads (with ``columns=None``: its numeric ones), so
        the feature cache's key covers them."""
        columns = self._column_list()
        return columns if columns is not None else self._auto_columns(df)

    def _auto_columns(self, df: pd.DataFrame) -> list[str]:
        """Every numeric, non-boolean column of ``df`` not in ``exclude``.

        A text column of numbers written as text counts as numeric; one whose values are
        mostly numbers (e.g. one "n/a" among floats) is an error naming the first value
        that is not, rather than a column silently left out.
        """
        cols, exclude = [], self._exclude_list()
        for c in df.columns:
            if c in exclude or pd.api.types.is_bool_dtype(df[c]):
                continue
            if self._is_identifier(c):
                continue
            if _is_numeric_column(df[c], c):
                cols.append(c)
        return cols

    def _is_identifier(self, column) -> bool:
        """A column left out for its identifier-like name (with ``skip_id_columns``)."""
        return bool(self.skip_id_columns and _ID_NAME.search(str(column)))

    def _matrix(self, df: pd.DataFrame) -> np.ndarray:
        """The input columns as a float64 (N, n_columns) array (float64: a float32 copy
        would round 1.6e12 + 1000 to 1.6e12 and overflow above 3.4e38)."""
        self._check_columns(df)
        out = np.empty((len(df), len(self.input_columns)), dtype=np.float64)
        for j, c in enumerate(self.input_columns):
            try:
                col = pd.to_numeric(df[c], errors="raise").to_numpy(dtype=np.float64)
            except (TypeError, ValueError):
                raise DataFormatError(f"numeric: column {c!r} is not numeric (dtype {df[c].dtype})") from None
            bad = ~np.isfinite(col)
            if bad.any():
                raise DataFormatError(f"numeric: column {c!r} has a missing or infinite value at "
                                      f"{row_name(df, int(np.flatnonzero(bad)[0]))}")
            out[:, j] = col
        return out

    def fit(self, df: pd.DataFrame, y=None) -> "NumericFeaturizer":
        """Fit on the examples table ``df`` (``y`` is ignored); returns self."""
        if not isinstance(df, pd.DataFrame):
            raise DataFormatError(f"numeric featurizer expects a pandas DataFrame, got {type(df).__name__}")
        if self.columns is None:
            cols = self._auto_columns(df)
            if not cols:
                exclude = self._exclude_list()
                skipped = [c for c in df.columns if c not in exclude and self._is_identifier(c)
                           and _is_numeric_column(df[c], c)]
                raise DataFormatError(f"numeric: the table has no numeric column to use; columns are "
                                      f"{list(df.columns)}" + (f" (identifiers left out: {skipped}; name them in "
                                                               f"columns= to use them)" if skipped else ""))
            self.columns_ = cols
        else:
            self.columns_ = self._column_list()
        X = self._matrix(df)
        if self.standardize:
            # moments of X scaled by a power of two near max|X| (exact), then scaled back:
            # squares of values near 1e300 would overflow
            size = np.ldexp(1.0, np.frexp(np.abs(X).max(axis=0, initial=0.0))[1])
            self.mean_ = (X / size).mean(axis=0) * size
            std = (X / size).std(axis=0) * size
        else:
            self.mean_, std = np.zeros(X.shape[1]), np.ones(X.shape[1])
        self.scale_ = np.where(std > 0, std, 1.0)
        self.n_features_ = X.shape[1]
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        self._check_fitted("mean_")
        X = self._matrix(df)
        Z = (X - self.mean_) / self.scale_
        big = ~(np.abs(Z) <= np.finfo(np.float32).max)
        if big.any():
            i, j = (int(a[0]) for a in np.nonzero(big))
            raise DataFormatError(f"numeric: column {self.input_columns[j]!r} at {row_name(df, i)} holds "
                                  f"{X[i, j]:g}, too far out for the float32 features"
                                  f"{' after standardising' if self.standardize else ''}; rescale the column")
        return Z.astype(np.float32)


def _numbers_as_text(col: pd.Series, name) -> bool:
    """True if every value of a text column is a number written as text ("1.5"): the
    column is numeric. Raises if most are but some are not (one "n/a" among numbers)."""
    present = col.dropna()
    if len(present) == 0 or not all(isinstance(v, (str, int, float)) for v in present.iloc[:1000]):
        return False
    as_number = pd.to_numeric(present, errors="coerce")
    parsed = as_number.notna()
    if parsed.all():
        return True
    if parsed.mean() >= 0.5:
        i = int(np.flatnonzero(~parsed.to_numpy())[0])
        row = int(np.flatnonzero(col.notna().to_numpy())[i])
        raise DataFormatError(f"numeric: column {name!r} is mostly numbers but row {row} holds {present.iloc[i]!r}; "
                              f"fix the value, or pass columns=[...] / exclude=[...] to choose the columns")
