"""TF-IDF features of a text column: the default featurizer, nothing to download."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from ..errors import DataFormatError
from .base import Featurizer


class TfidfFeaturizer(Featurizer):
    """Sublinear TF-IDF of word n-grams, rows L2-normalised.

    Parameters
    ----------
    column : text column of the examples table
    ngram_range : word n-gram range
    min_df : minimum document count of a term
    max_features : keep the most frequent terms only (None = all)
    lowercase, strip_accents : as in scikit-learn's TfidfVectorizer

    ``transform`` returns a scipy CSR float32 matrix (N, n_terms). Missing text (None/NaN)
    is treated as an empty string.
    """

    name = "tfidf"
    _params = ("column", "ngram_range", "min_df", "max_features", "lowercase", "strip_accents")

    def __init__(self, column: str = "text", ngram_range=(1, 2), min_df: int = 1, max_features: int | None = 2 ** 18,
                 lowercase: bool = True, strip_accents: str | None = "unicode"):
        self.column = column
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.lowercase = lowercase
        self.strip_accents = strip_accents

    @property
    def input_columns(self) -> list[str]:
        return [self.column]

    def _texts(self, df: pd.DataFrame):
        self._check_columns(df)
        col = df[self.column]
        if not (col.dtype == object or pd.api.types.is_string_dtype(col)):
            raise DataFormatError(f"tfidf: column {self.column!r} must hold text, got dtype {col.dtype}")
        return col.fillna("").astype(str).tolist()

    def fit(self, df: pd.DataFrame) -> "TfidfFeaturizer":
        self.vectorizer_ = TfidfVectorizer(ngram_range=tuple(self.ngram_range), min_df=self.min_df,
                                           max_features=self.max_features, lowercase=self.lowercase,
                                           strip_accents=self.strip_accents, sublinear_tf=True, dtype=np.float32)
        try:
            self.vectorizer_.fit(self._texts(df))
        except ValueError as e:  # e.g. empty vocabulary
            raise DataFormatError(f"tfidf: cannot build a vocabulary from column {self.column!r}: {e}") from None
        self.n_features_ = len(self.vectorizer_.vocabulary_)
        return self

    def transform(self, df: pd.DataFrame):
        self._check_fitted("vectorizer_")
        return self.vectorizer_.transform(self._texts(df)).tocsr().astype(np.float32)
