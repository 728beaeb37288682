"""Save an end model with its featurizer, and load it back to label new rows.

A model folder holds ``model.pkl`` (the fitted featurizer and the calibrated end model,
pickled together) and ``meta.json`` (format and labelmill version, class names, the
featurizer's spec and the input columns it needs). Both are written atomically,
``meta.json`` last. Loading checks the version first: a folder written by another
labelmill version is refused with a clear error rather than unpickled into surprises.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_path, write_json_atomic
from ..errors import DataFormatError, LabelmillError

FORMAT = "labelmill-end-model/1"


class ModelVersionError(LabelmillError):
    """A saved model folder that this labelmill version cannot load."""


def _version() -> str:
    from .. import __version__
    return __version__


def save_end_model(path, featurizer, model, class_names, end_model_name: str, extra: dict | None = None) -> Path:
    """Write ``path/model.pkl`` and ``path/meta.json``. Returns the folder."""
    path = Path(path)
    with atomic_path(path / "model.pkl") as tmp:
        with open(tmp, "wb") as fh:
            pickle.dump({"featurizer": featurizer, "model": model}, fh, protocol=pickle.HIGHEST_PROTOCOL)
    meta = {"format": FORMAT, "labelmill_version": _version(), "end_model": end_model_name,
            "class_names": list(class_names), "featurizer": featurizer.spec(),
            "input_columns": list(featurizer.input_columns), **(extra or {})}
    write_json_atomic(path / "meta.json", meta)
    return path


class SavedEndModel:
    """A loaded model folder: ``predict_proba(table)``, ``predict(table)``, ``meta``."""

    def __init__(self, featurizer, model, meta: dict):
        self.featurizer = featurizer
        self.model = model
        self.meta = meta

    @property
    def class_names(self) -> list[str]:
        return self.meta["class_names"]

    def check_columns(self, columns, where: str = "the table") -> None:
        """Raise DataFormatError naming the input columns this model needs that ``columns`` lacks."""
        columns = list(columns)
        missing = [c for c in self.meta["input_columns"] if c not in columns]
        if missing:
            raise DataFormatError(f"{where}: no column(s) {missing}, which the model needs; columns are {columns}")

    def _features(self, table: pd.DataFrame):
        self.check_columns(table.columns)
        return self.featurizer.transform(table)

    def predict_proba(self, table) -> np.ndarray:
        """(N, k) calibrated probabilities for the rows of ``table``.

        ``table``: a pandas DataFrame, a pyarrow Table, a polars DataFrame or a dict of
        columns, with the model's ``meta["input_columns"]`` (extra columns are ignored).
        An empty table gives a (0, k) array.
        """
        table = _as_pandas(table)
        self.check_columns(table.columns)
        if len(table) == 0:
            return np.zeros((0, len(self.class_names)))
        return self.model.predict_proba(self._features(table))

    def predict(self, table) -> np.ndarray:
        """(N,) int class ids: the argmax of ``predict_proba`` (names: ``class_names``)."""
        return self.predict_proba(table).argmax(axis=1)


def _as_pandas(table) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    if hasattr(table, "to_pandas"):  # pyarrow Table, polars DataFrame
        return table.to_pandas()
    if isinstance(table, dict):
        return pd.DataFrame(table)
    raise DataFormatError(f"expected a table (pandas/polars DataFrame, pyarrow Table or dict of columns), "
                          f"got {type(table).__name__}")


def is_model_folder(path) -> bool:
    """True if ``path`` holds a model folder some labelmill version saved (its meta.json
    names a labelmill format) and nothing else but an interrupted save's temporary files."""
    from .._io import is_temp_file

    path = Path(path)
    meta = path / "meta.json"
    if not meta.is_file():
        return False
    try:
        is_model = str(json.loads(meta.read_text(encoding="utf-8")).get("format", "")).startswith("labelmill")
    except (ValueError, AttributeError, OSError):
        return False
    names = {p.name for p in path.iterdir() if not is_temp_file(p.name)}
    return is_model and names <= {"meta.json", "model.pkl"}


def load_end_model(path) -> SavedEndModel:
    """Load a folder written by `save_end_model`; refuses other formats and versions."""
    path = Path(path)
    meta_file = path / "meta.json"
    if not meta_file.exists() or not (path / "model.pkl").exists():
        raise DataFormatError(f"{path}: not a labelmill model folder (expected meta.json and model.pkl)")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataFormatError(f"{meta_file}: not valid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise DataFormatError(f"{meta_file}: expected a JSON object, got {type(meta).__name__}")
    if meta.get("format") != FORMAT:
        raise ModelVersionError(f"{path}: unknown model format {meta.get('format')!r}; expected {FORMAT!r}")
    if meta.get("labelmill_version") != _version():
        raise ModelVersionError(f"{path}: saved by labelmill {meta.get('labelmill_version')}, but labelmill "
                                f"{_version()} is installed; retrain with this version or install "
                                f"labelmill=={meta.get('labelmill_version')}")
    missing = [k for k in ("class_names", "input_columns") if not isinstance(meta.get(k), list)]
    if missing:
        raise DataFormatError(f"{meta_file}: no {' or '.join(missing)} list; the model folder is damaged")
    try:
        with open(path / "model.pkl", "rb") as fh:
            obj = pickle.load(fh)
        featurizer, model = obj["featurizer"], obj["model"]
    except (EOFError, pickle.UnpicklingError, KeyError, TypeError, AttributeError, ImportError, ValueError) as e:
        raise DataFormatError(f"{path / 'model.pkl'}: cannot be read ({type(e).__name__}: {e}); the model folder is "
                              f"damaged: train and save the model again") from None
    return SavedEndModel(featurizer, model, meta)
