"""Loader for datasets in the WRENCH layout.

A WRENCH folder holds ``label.json`` (``{"0": "name", ...}``) and up to three split
files ``train.json``, ``valid.json``, ``test.json``; each split is a JSON object
``id -> {"data": {...}, "label": int, "weak_labels": [int, ...]}``. Gold label -1
means unknown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFormatError, InvalidVotesError
from ..matrix import LabelMatrix

SPLITS = ("train", "valid", "test")


@dataclass
class Split:
    """One split of a dataset.

    Attributes
    ----------
    name : str ("train", "valid" or "test")
    examples : pandas.DataFrame, N rows: ``id`` plus the ``data`` fields
    gold : ndarray (N,) int, -1 where the gold label is unknown
    L : LabelMatrix (N x M)
    """

    name: str
    examples: pd.DataFrame
    gold: np.ndarray
    L: LabelMatrix

    @property
    def ids(self) -> np.ndarray:
        return self.examples["id"].to_numpy()

    @property
    def has_gold(self) -> bool:
        return bool((self.gold >= 0).any())

    def __len__(self) -> int:
        return len(self.gold)


@dataclass
class Dataset:
    """A weak-supervision dataset: class names and the splits that exist."""

    name: str
    class_names: list[str]
    splits: dict[str, Split] = field(default_factory=dict)
    path: Path | None = None
    #: for a dataset made by applying LFs to a table (`pipeline.dataset_from_lfs`): the
    #: `lfs.apply.ApplyReport` of that application (timings, cache hits, LF failures)
    apply_report: object | None = None

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def train(self) -> Split | None:
        return self.splits.get("train")

    @property
    def valid(self) -> Split | None:
        return self.splits.get("valid")

    @property
    def test(self) -> Split | None:
        return self.splits.get("test")

    @property
    def source_names(self) -> tuple[str, ...]:
        return next(iter(self.splits.values())).L.source_names

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={len(v)}" for k, v in self.splits.items())
        return f"Dataset({self.name!r}, classes={self.n_classes}, sources={len(self.source_names)}, {parts})"


def _read_json(path: Path):
    """Parse a JSON file; a repeated key in the top-level object is an error (json.load
    would silently keep the last one, dropping an example)."""
    repeated = {}

    def pairs_hook(pairs):
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen = set()
            repeated[id(obj)] = next(k for k, _ in pairs if k in seen or seen.add(k))
        return obj

    try:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh, object_pairs_hook=pairs_hook)
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{path}: not valid JSON ({exc})") from None
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except IsADirectoryError:
        raise DataFormatError(f"{path}: is a folder, expected a JSON file") from None
    if id(raw) in repeated:
        raise DataFormatError(f"{path}: id {repeated[id(raw)]!r} appears more than once; ids must be unique")
    return raw


def read_class_names(path: Path) -> list[str]:
    """Read ``label.json`` and return class names ordered by class id 0..k-1."""
    raw = _read_json(path)
    if not isinstance(raw, dict):
        raise DataFormatError(f"{path}: expected an object mapping class id to class name")
    try:
        by_id = {int(k): v for k, v in raw.items()}
    except ValueError:
        raise DataFormatError(f"{path}: class ids must be integers, got {list(raw)}") from None
    ids = sorted(by_id)
    if len(by_id) != len(raw) or ids != list(range(len(ids))):
        raise DataFormatError(f"{path}: class ids must be 0..k-1, each once, got {list(raw)}")
    if len(ids) < 2:
        raise DataFormatError(f"{path}: a classification task needs at least 2 classes, "
                              f"this label.json defines {len(ids)}")
    return [str(by_id[i]) for i in ids]


def _source_names(folder: Path, m: int) -> list[str]:
    """LF names, if the folder's readme.txt lists them in order; else lf_0..lf_{m-1}."""
    readme = folder / "readme.txt"
    if readme.exists():
        text = readme.read_text(encoding="utf-8", errors="replace")
        if "Labeling functions list:" in text:
            names = [ln.strip().rstrip(",") for ln in text.split("Labeling functions list:", 1)[1].splitlines()]
            names = [n for n in names if n and n.isidentifier()]
            if len(names) == m and len(set(names)) == m:
                return names
    return [f"lf_{j}" for j in range(m)]


def read_split(path: Path, name: str, n_classes: int, source_names: list[str] | None = None) -> Split:
    """Read one WRENCH split file; every problem names the file, row id and source."""
    raw = _read_json(path)
    if not isinstance(raw, dict):
        raise DataFormatError(f"{path}: expected a JSON object mapping example id to record")
    if not raw:
        raise DataFormatError(f"{path}: the {name} split is empty (no examples)")
    ids = list(raw.keys())
    records = list(raw.values())
    votes, gold, data = [], [], []
    for rid, rec in zip(ids, records):
        if not isinstance(rec, dict) or "weak_labels" not in rec:
            raise DataFormatError(f"{path}: row id {rid!r} has no 'weak_labels' list")
        wl = rec["weak_labels"]
        if not isinstance(wl, list):
            raise DataFormatError(f"{path}: row id {rid!r}: 'weak_labels' must be a list, got {type(wl).__name__}")
        votes.append(wl)
        g = rec.get("label", -1)
        if g is None:
            g = -1
        if not isinstance(g, int) or isinstance(g, bool) or not -1 <= g < n_classes:
            raise DataFormatError(f"{path}: row id {rid!r} has gold label {g!r}, expected an integer in "
                                  f"[-1, {n_classes - 1}]")
        gold.append(g)
        d = rec.get("data", {})
        data.append(d if isinstance(d, dict) else {"data": d})
    m = len(votes[0])
    for rid, wl in zip(ids, votes):
        if len(wl) != m:
            raise DataFormatError(f"{path}: row id {rid!r} has {len(wl)} weak labels but row id {ids[0]!r} "
                                  f"has {m}: every row needs one vote per source")
    if source_names is None:
        source_names = _source_names(path.parent, m)
    elif len(source_names) != m:
        raise DataFormatError(f"{path}: rows have {m} weak labels, other splits have {len(source_names)}")
    try:
        L = LabelMatrix.from_dense(np.array(votes, dtype=object) if m else np.zeros((len(ids), 0), int),
                                   n_classes=n_classes, source_names=source_names, row_ids=ids)
    except InvalidVotesError as exc:
        raise InvalidVotesError(f"{path}: {exc}") from None
    examples = pd.DataFrame(data)
    if "id" in examples.columns:
        # the record key is the example's id; a data field of the same name may only repeat it
        own = examples["id"].astype(str).to_numpy()
        differ = np.flatnonzero(examples["id"].isna().to_numpy() | (own != np.asarray(ids, dtype=str)))
        if differ.size:
            i = int(differ[0])
            raise DataFormatError(f"{path}: row id {ids[i]!r} has a data field 'id' = {data[i].get('id')!r}; "
                                  f"'id' is the record's key in the examples table, so a data field of that "
                                  f"name must repeat it: rename the field")
        examples = examples.drop(columns="id")
    examples.insert(0, "id", ids)
    return Split(name=name, examples=examples, gold=np.asarray(gold, dtype=np.int64), L=L)


def load_wrench(path, splits=SPLITS) -> Dataset:
    """Load a WRENCH-format folder.

    Parameters
    ----------
    path : str or Path, the dataset folder
    splits : which splits to read if present

    Returns
    -------
    Dataset with the splits that exist (at least one).

    Raises
    ------
    DataFormatError if the folder, ``label.json`` or every split file is missing, or a
    file is malformed; InvalidVotesError for votes outside [-1, k-1] or non-integer.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DataFormatError(f"{folder}: no such dataset folder")
    label_file = folder / "label.json"
    present = [s for s in splits if (folder / f"{s}.json").exists()]
    if not label_file.exists():
        raise DataFormatError(f"{folder}: missing label.json (class id -> class name); "
                              f"a WRENCH folder needs label.json and at least one of "
                              f"{', '.join(s + '.json' for s in SPLITS)}")
    if not present:
        raise DataFormatError(f"{folder}: no split files; expected at least one of "
                              f"{', '.join(s + '.json' for s in splits)}")
    class_names = read_class_names(label_file)
    ds = Dataset(name=folder.resolve().name, class_names=class_names, path=folder)
    names = None
    for s in present:
        split = read_split(folder / f"{s}.json", s, len(class_names), names)
        names = list(split.L.source_names)
        ds.splits[s] = split
    return ds


def demo_path() -> Path:
    """Folder of the bundled demo dataset (YouTube comment spam, WRENCH version)."""
    return Path(__file__).parent / "demo" / "youtube"


def load_demo() -> Dataset:
    """The bundled YouTube spam dataset: 1586 / 120 / 250 comments, 10 LFs, 2 classes."""
    return load_wrench(demo_path())
