"""TF-IDF features of a text column: the default featurizer, nothing to download.

For relation data (two entity mentions per row, given as character spans, as in WRENCH's
semeval, cdr and chemprot) the words between the two mentions and the mentions' order
carry most of the relation, so the featurizer adds them as extra blocks when the table
has span columns.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from ..errors import DataFormatError
from .base import Featurizer, text_values

DEFAULT_SPAN_COLUMNS = ("span1", "span2")


def _span(value, row, column: str) -> tuple[int, int]:
    """(start, end) character offsets from a 2-sequence of integers (or its JSON text, as
    a CSV file holds it); ``row`` names the row in errors."""
    try:
        if isinstance(value, str):
            value = json.loads(value)
        start, end = (int(v) for v in value)
    except (TypeError, ValueError):  # json.JSONDecodeError is a ValueError
        raise DataFormatError(f"tfidf: column {column!r} row {row}: an entity span must be two integers "
                              f"[start, end], got {value!r}") from None
    if start < 0 or end < start:
        raise DataFormatError(f"tfidf: column {column!r} row {row}: bad entity span [{start}, {end}]")
    return start, end


def between_texts(texts: list[str], spans1, spans2, columns=DEFAULT_SPAN_COLUMNS, ids=None):
    """The text between two entity mentions, and whether mention 1 comes first; ``ids``
    (optional, one per row) name a bad span's row in the error.

    Returns (list of N strings, (N,) bool array)."""
    between, first = [], np.zeros(len(texts), dtype=bool)
    for i, (t, s1, s2) in enumerate(zip(texts, spans1, spans2)):
        row = i if ids is None else f"{i} (id {ids[i]!r})"
        a, b = _span(s1, row, columns[0]), _span(s2, row, columns[1])
        first[i] = a[0] <= b[0]
        lo, hi = (a, b) if first[i] else (b, a)
        between.append(t[lo[1]:hi[0]])
    return between, first


class TfidfFeaturizer(Featurizer):
    """Sublinear TF-IDF of word n-grams, rows L2-normalised.

    Parameters
    ----------
    column : text column of the examples table
    ngram_range : word n-gram range
    min_df : minimum document count of a term
    max_features : keep the most frequent terms only (None = all)
    lowercase, strip_accents : as in scikit-learn's TfidfVectorizer
    entity_spans : "auto" (use ``span1``/``span2`` when the fit table has both), None
        (never), or a pair of column names. Each span column holds ``[start, end)``
        character offsets of one entity mention in ``column``. With spans the features are
        three blocks, each scaled by 1/sqrt(3) so rows keep unit norm: TF-IDF of the
        text, TF-IDF of the text between the two mentions, and a one-hot of which
        mention comes first (a row with no word between its mentions has norm sqrt(2/3)).

    ``transform`` returns a scipy CSR float32 matrix (N, n_features_). Missing text (None/NaN)
    is treated as an empty string.
    """

    name = "tfidf"
    _params = ("column", "ngram_range", "min_df", "max_features", "lowercase", "strip_accents", "entity_spans")

    def __init__(self, column: str = "text", ngram_range=(1, 2), min_df: int = 1, max_features: int | None = 2 ** 18,
                 lowercase: bool = True, strip_accents: str | None = "unicode", entity_spans="auto"):
        self.column = column
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.entity_spans = entity_spans

    def spec(self) -> dict:
        spec = super().spec()
        if hasattr(self, "span_columns_"):  # fitted: record what "auto" resolved to
            spec["params"]["entity_spans"] = None if self.span_columns_ is None else list(self.span_columns_)
        return spec

    def _span_columns(self, df: pd.DataFrame | None):
        if self.entity_spans is None:
            return None
        if isinstance(self.entity_spans, str):
            if self.entity_spans != "auto":
                raise DataFormatError(f"tfidf: entity_spans must be 'auto', None or two column names, "
                                      f"got {self.entity_spans!r}")
            if df is None or not all(c in df.columns for c in DEFAULT_SPAN_COLUMNS):
                return None
            return DEFAULT_SPAN_COLUMNS
        cols = tuple(self.entity_spans)
        if len(cols) != 2:
            raise DataFormatError(f"tfidf: entity_spans needs two column names, got {self.entity_spans!r}")
        return cols

    def columns_in(self, df: pd.DataFrame | None) -> list[str]:
        cols = self.span_columns_ if hasattr(self, "span_columns_") else self._span_columns(df)
        return [self.column, *(cols or ())]

    @property
    def input_columns(self) -> list[str]:
        # before fit, "auto" cannot know whether span columns will be there: text only
        return self.columns_in(None)

    def _texts(self, df: pd.DataFrame):
        self._check_columns(df)
        col = df[self.column]
        if len(col) and not (col.dtype == object or pd.api.types.is_string_dtype(col)
                             or isinstance(col.dtype, pd.CategoricalDtype)):
            raise DataFormatError(f"tfidf: column {self.column!r} must hold text, got dtype {col.dtype}")
        return text_values(col)

    def _vectorizer(self) -> TfidfVectorizer:
        return TfidfVectorizer(ngram_range=tuple(self.ngram_range), min_df=self.min_df,
                               max_features=self.max_features, lowercase=self.lowercase,
                               strip_accents=self.strip_accents, sublinear_tf=True, dtype=np.float32)

    def _between(self, df: pd.DataFrame, texts: list[str]):
        c1, c2 = self.span_columns_
        return between_texts(texts, df[c1].tolist(), df[c2].tolist(), (c1, c2),
                             df["id"].tolist() if "id" in df.columns else None)

    def fit(self, df: pd.DataFrame, y=None) -> "TfidfFeaturizer":
        """Fit on the examples table ``df`` (``y`` is ignored); returns self."""
        if not isinstance(df, pd.DataFrame):
            raise DataFormatError(f"tfidf expects a pandas DataFrame, got {type(df).__name__}")
        self.span_columns_ = self._span_columns(df)
        texts = self._texts(df)
        self.vectorizer_ = self._vectorizer()
        try:
            self.vectorizer_.fit(texts)
        except ValueError as e:  # e.g. empty vocabulary
            raise DataFormatError(f"tfidf: cannot build a vocabulary from column {self.column!r}: {e}") from None
        self.n_features_ = len(self.vectorizer_.vocabulary_)
        self.between_vectorizer_ = None
        if self.span_columns_ is not None:
            between, _ = self._between(df, texts)
            self.between_vectorizer_ = self._vectorizer()
            try:
                self.between_vectorizer_.fit(between)
            except ValueError:  # every pair of mentions is adjacent: no between-words block
                self.between_vectorizer_ = None
            n_between = 0 if self.between_vectorizer_ is None else len(self.between_vectorizer_.vocabulary_)
            self.n_features_ += n_between + 2
        return self

    def transform(self, df: pd.DataFrame):
        self._check_fitted("vectorizer_")
        texts = self._texts(df)
        if not texts:
            return sp.csr_matrix((0, self.n_features_), dtype=np.float32)
        X = self.vectorizer_.transform(texts)
        if self.span_columns_ is None:
            return X.tocsr().astype(np.float32)
        between, first = self._between(df, texts)
        blocks = [X]
        if self.between_vectorizer_ is not None:
            blocks.append(self.between_vectorizer_.transform(between))
        blocks.append(sp.csr_matrix(np.c_[first, ~first].astype(np.float32)))
        return (sp.hstack(blocks, format="csr") * np.float32(1 / np.sqrt(3))).astype(np.float32)
