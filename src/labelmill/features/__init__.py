"""Featurizers: examples table -> feature matrix, for the propagation and end-model stages.

``make_featurizer("tfidf" | "embeddings" | "numeric", **params)``; ``featurize`` fits and
transforms with an on-disk cache.
"""

from __future__ import annotations

from ..errors import DataFormatError
from .base import Featurizer, fingerprint_columns
from .cache import FeatureCache, featurize
from .embeddings import EmbeddingFeaturizer
from .numeric import NumericFeaturizer
from .tfidf import TfidfFeaturizer

FEATURIZERS = {"tfidf": TfidfFeaturizer, "embeddings": EmbeddingFeaturizer, "numeric": NumericFeaturizer}
DEFAULT_FEATURIZER = "tfidf"


def make_featurizer(name: str = DEFAULT_FEATURIZER, **params) -> Featurizer:
    """A new, unfitted featurizer by name (see ``FEATURIZERS``)."""
    if isinstance(name, Featurizer):
        return name
    try:
        cls = FEATURIZERS[name]
    except KeyError:
        raise DataFormatError(f"unknown featurizer {name!r}; choose one of {sorted(FEATURIZERS)}") from None
    try:
        return cls(**params)
    except TypeError as e:
        raise DataFormatError(f"featurizer {name!r}: {e}") from None


def featurizer_from_spec(spec: dict) -> Featurizer:
    """Rebuild an unfitted featurizer from ``Featurizer.spec()``."""
    return make_featurizer(spec["name"], **spec.get("params", {}))


__all__ = ["Featurizer", "TfidfFeaturizer", "EmbeddingFeaturizer", "NumericFeaturizer", "FEATURIZERS",
           "DEFAULT_FEATURIZER", "make_featurizer", "featurizer_from_spec", "featurize", "FeatureCache",
           "fingerprint_columns"]
