"""WRENCH-format loading: the bundled demo, copied real datasets and every malformed input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from labelmill import DataFormatError, InvalidVotesError, LabelMatrix
from labelmill.datasets import Dataset, demo_path, load_demo, load_wrench

DATA = Path(__file__).parent / "data"

# name -> (classes, sources, train / valid / test rows), counted from the copied files
REAL = {
    "crowd_duck": (2, 39, (76, 11, 21)),
    "crowd_wsd": (3, 34, (124, 18, 35)),
    "spouse_small": (2, 9, (988, 123, 123)),
    "crowd_dog": (4, 109, (565, 81, 161)),
}


def write_folder(folder: Path, splits: dict, labels=None) -> Path:
    """Write a WRENCH folder: ``splits`` maps split name -> {id: record} (or raw JSON text)."""
    folder.mkdir(parents=True, exist_ok=True)
    if labels is not False:
        (folder / "label.json").write_text(json.dumps(labels or {"0": "neg", "1": "pos"}))
    for name, content in splits.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (folder / f"{name}.json").write_text(text)
    return folder


def rec(votes, label=0, text="t"):
    return {"data": {"text": text}, "label": label, "weak_labels": votes}


GOOD = {"a1": rec([0, -1, 1], 0), "a2": rec([1, 1, -1], 1), "a3": rec([-1, -1, -1], -1)}


# ------------------------------------------------------------------ demo
def test_load_demo():
    ds = load_demo()
    assert isinstance(ds, Dataset)
    assert ds.name == "youtube"
    assert ds.n_classes == 2
    assert ds.class_names == ["HAM", "SPAM"]
    assert (len(ds.train), len(ds.valid), len(ds.test)) == (1586, 120, 250)
    assert len(ds.source_names) == 10
    for split in (ds.train, ds.valid, ds.test):
        assert split.L.shape == (len(split), 10)
        assert split.L.n_classes == 2
        assert split.L.source_names == ds.source_names
        assert {"id", "text"} <= set(split.examples.columns)
        assert split.examples["id"].is_unique
        assert split.has_gold and set(np.unique(split.gold)) <= {0, 1}
        assert split.examples["text"].map(lambda t: isinstance(t, str)).all()
    # LF names come from readme.txt
    assert ds.source_names[0] == "keyword_my"
    assert demo_path().is_dir() and (demo_path() / "label.json").exists()
    assert "train=1586" in repr(ds)


def test_demo_votes_match_raw_file():
    raw = json.loads((demo_path() / "valid.json").read_text())
    ds = load_demo()
    dense = ds.valid.L.to_dense()
    for i, (rid, r) in enumerate(raw.items()):
        assert ds.valid.ids[i] == rid
        np.testing.assert_array_equal(dense[i], r["weak_labels"])
        assert ds.valid.gold[i] == r["label"]


# ------------------------------------------------------------------ copied real data
@pytest.mark.parametrize("name", sorted(REAL))
def test_load_copied_datasets(name):
    k, m, sizes = REAL[name]
    ds = load_wrench(DATA / name)
    assert ds.name == name
    assert ds.n_classes == k
    assert len(ds.source_names) == m
    assert tuple(len(ds.splits[s]) for s in ("train", "valid", "test")) == sizes
    raw = json.loads((DATA / name / "test.json").read_text())
    np.testing.assert_array_equal(ds.test.L.to_dense(), [r["weak_labels"] for r in raw.values()])
    np.testing.assert_array_equal(ds.test.gold, [r["label"] for r in raw.values()])
    assert list(ds.test.ids) == list(raw)
    if name.startswith("crowd"):
        # every crowd item has at least one vote (dataset README)
        assert ds.train.L.covered().all()


def test_load_subset_of_splits():
    ds = load_wrench(DATA / "crowd_duck", splits=("test",))
    assert list(ds.splits) == ["test"]
    assert ds.train is None and ds.valid is None


def test_missing_splits_are_allowed(tmp_path):
    folder = write_folder(tmp_path / "only_valid", {"valid": GOOD})
    ds = load_wrench(folder)
    assert list(ds.splits) == ["valid"]
    assert ds.train is None and ds.test is None
    assert ds.valid.L.shape == (3, 3)
    assert ds.source_names == ("lf_0", "lf_1", "lf_2")
    np.testing.assert_array_equal(ds.valid.gold, [0, 1, -1])
    np.testing.assert_array_equal(ds.valid.L.to_dense(), [[0, -1, 1], [1, 1, -1], [-1, -1, -1]])
    assert list(ds.valid.examples.columns) == ["id", "text"]
    assert ds.valid.has_gold


def test_missing_gold_and_null_gold_mean_unknown(tmp_path):
    split = {"x": {"data": {"text": "a"}, "weak_labels": [0]}, "y": {"label": None, "weak_labels": [1]}}
    ds = load_wrench(write_folder(tmp_path / "d", {"train": split}))
    np.testing.assert_array_equal(ds.train.gold, [-1, -1])
    assert not ds.train.has_gold


# ------------------------------------------------------------------ malformed input
def _raises(exc_type, folder, *needles):
    with pytest.raises(exc_type) as info:
        load_wrench(folder)
    msg = str(info.value)
    for needle in needles:
        assert needle in msg, f"{needle!r} not in error message {msg!r}"
    return msg


def test_vote_out_of_range_names_file_row_and_source(tmp_path):
    split = dict(GOOD, b7=rec([0, 2, 1]))
    folder = write_folder(tmp_path / "d", {"train": GOOD, "test": split})
    _raises(InvalidVotesError, folder, str(folder / "test.json"), "'b7'", "'lf_1'", "vote 2")
    split = dict(GOOD, b8=rec([0, -3, 1]))
    folder = write_folder(tmp_path / "e", {"valid": split})
    _raises(InvalidVotesError, folder, str(folder / "valid.json"), "'b8'", "'lf_1'", "vote -3")


@pytest.mark.parametrize("bad", [0.5, "spam", None, float("inf")])
def test_non_integer_vote_names_file_row_and_source(tmp_path, bad):
    if bad == float("inf"):
        text = json.dumps({"a1": rec([0, 1, 1])})[:-1] + ', "c9": {"label": 0, "weak_labels": [0, 1, Infinity]}}'
        folder = write_folder(tmp_path / "d", {"train": text})
        _raises(InvalidVotesError, folder, str(folder / "train.json"), "'c9'", "'lf_2'", "non-integer")
        return
    split = dict(GOOD, c9=rec([0, 1, bad]))
    folder = write_folder(tmp_path / "d", {"train": split})
    _raises(InvalidVotesError, folder, str(folder / "train.json"), "'c9'", "'lf_2'", "non-integer")


@pytest.mark.parametrize("bad", ["1", True])
def test_string_or_boolean_vote_rejected(tmp_path, bad):
    split = dict(GOOD, c9=rec([0, 1, bad]))
    folder = write_folder(tmp_path / "d", {"train": split})
    _raises(InvalidVotesError, folder, "'c9'")


def test_ragged_rows_name_file_and_row(tmp_path):
    split = dict(GOOD, d4=rec([0, 1]))
    folder = write_folder(tmp_path / "d", {"train": split})
    _raises(DataFormatError, folder, str(folder / "train.json"), "'d4'", "2 weak labels", "'a1'", "has 3")


def test_splits_with_different_source_counts(tmp_path):
    folder = write_folder(tmp_path / "d", {"train": GOOD, "valid": {"v1": rec([0, 1])}})
    _raises(DataFormatError, folder, str(folder / "valid.json"), "2 weak labels", "other splits have 3")


def test_empty_split(tmp_path):
    folder = write_folder(tmp_path / "d", {"train": GOOD, "valid": {}})
    _raises(DataFormatError, folder, str(folder / "valid.json"), "empty")


def test_label_json_with_one_class(tmp_path):
    folder = write_folder(tmp_path / "d", {"train": GOOD}, labels={"0": "only"})
    _raises(DataFormatError, folder, str(folder / "label.json"), "at least 2 classes")


@pytest.mark.parametrize("labels, needle", [
    ({"0": "a", "2": "b"}, "0..k-1"),
    ({"zero": "a", "one": "b"}, "must be integers"),
    (["a", "b"], "expected an object"),
])
def test_bad_label_json(tmp_path, labels, needle):
    folder = write_folder(tmp_path / "d", {"train": GOOD}, labels=labels)
    _raises(DataFormatError, folder, str(folder / "label.json"), needle)


def test_missing_label_json(tmp_path):
    folder = write_folder(tmp_path / "d", {"train": GOOD}, labels=False)
    _raises(DataFormatError, folder, str(folder), "missing label.json")


def test_no_split_files(tmp_path):
    folder = write_folder(tmp_path / "d", {})
    _raises(DataFormatError, folder, str(folder), "no split files", "train.json")


def test_nonexistent_folder(tmp_path):
    _raises(DataFormatError, tmp_path / "nope", str(tmp_path / "nope"), "no such dataset folder")
    # a file is not a folder either
    f = tmp_path / "file.json"
    f.write_text("{}")
    _raises(DataFormatError, f, str(f))


def test_invalid_json_names_file(tmp_path):
    folder = write_folder(tmp_path / "d", {"train": '{"a1": {"weak_labels": [0, 1]'})
    _raises(DataFormatError, folder, str(folder / "train.json"), "not valid JSON")


@pytest.mark.parametrize("record, needle", [
    ({"label": 0}, "no 'weak_labels'"),
    ("not a record", "no 'weak_labels'"),
    ({"label": 0, "weak_labels": "0,1,1"}, "must be a list"),
    ({"label": 2, "weak_labels": [0, 1, 1]}, "gold label 2"),
    ({"label": 1.0, "weak_labels": [0, 1, 1]}, "gold label 1.0"),
    ({"label": True, "weak_labels": [0, 1, 1]}, "gold label True"),
])
def test_bad_records_name_file_and_row(tmp_path, record, needle):
    folder = write_folder(tmp_path / "d", {"test": dict(GOOD, e5=record)})
    _raises(DataFormatError, folder, str(folder / "test.json"), "'e5'", needle)


def test_split_not_an_object(tmp_path):
    folder = write_folder(tmp_path / "d", {"train": "[1, 2, 3]"})
    _raises(DataFormatError, folder, str(folder / "train.json"), "expected a JSON object")


def test_errors_are_value_errors(tmp_path):
    with pytest.raises(ValueError):
        load_wrench(tmp_path / "nope")


def test_loaded_matrix_is_a_label_matrix():
    ds = load_wrench(DATA / "crowd_wsd")
    assert isinstance(ds.train.L, LabelMatrix)
    assert ds.train.L.n_classes == 3


def test_repeated_id_in_a_split_file_is_refused(tmp_path):
    """json.load keeps the last of two equal keys: one example would vanish silently."""
    text = json.dumps(GOOD)[:-1] + ', "a2": ' + json.dumps(rec([0, 0, 0], 0)) + "}"
    folder = write_folder(tmp_path / "d", {"train": text})
    _raises(DataFormatError, folder, str(folder / "train.json"), "id 'a2' appears more than once")


def test_unreadable_split_files_are_named(tmp_path):
    folder = write_folder(tmp_path / "d", {"train": GOOD})
    (folder / "train.json").write_bytes(b'{"a1": {"data": {"text": "\xff"}, "weak_labels": [0]}}')
    _raises(DataFormatError, folder, str(folder / "train.json"), "not UTF-8")
    (folder / "train.json").unlink()
    (folder / "train.json").mkdir()
    _raises(DataFormatError, folder, str(folder / "train.json"), "is a folder")


def test_huge_vote_is_out_of_range_not_an_overflow(tmp_path):
    folder = write_folder(tmp_path / "d", {"train": dict(GOOD, a9=rec([10 ** 30, -1, 1]))})
    _raises(InvalidVotesError, folder, str(folder / "train.json"), "'a9'", "out of range")


def test_label_json_ids_read_as_integers_once_each(tmp_path):
    folder = write_folder(tmp_path / "d", {"train": GOOD}, labels={"00": "neg", "01": "pos"})
    assert load_wrench(folder).class_names == ["neg", "pos"]
    folder = write_folder(tmp_path / "e", {"train": GOOD}, labels={"0": "neg", "00": "pos", "1": "x"})
    _raises(DataFormatError, folder, str(folder / "label.json"), "each once")


def test_a_data_field_named_id_must_repeat_the_record_key(tmp_path):
    # the examples table's "id" column is the record key: a data field of that name that
    # repeats it (as number or string) is folded in; one that differs is refused by row
    same = {"7": {"data": {"id": 7, "text": "x"}, "label": 1, "weak_labels": [0, -1]},
            "8": {"data": {"id": "8", "text": "y"}, "label": 0, "weak_labels": [-1, 1]}}
    ds = load_wrench(write_folder(tmp_path / "same", {"train": same}))
    assert ds.train.examples.columns.tolist() == ["id", "text"]
    assert ds.train.examples["id"].tolist() == ["7", "8"]
    clash = {"7": same["7"], "8": {**same["8"], "data": {"id": 3, "text": "y"}}}
    _raises(DataFormatError, write_folder(tmp_path / "clash", {"train": clash}),
            "train.json", "row id '8'", "data field 'id' = 3", "rename the field")


def test_class_names_ordered_by_class_id_not_file_order(tmp_path):
    (tmp_path / "label.json").write_text(json.dumps({"1": "spam", "0": "ham"}))
    (tmp_path / "train.json").write_text(json.dumps({"a": {"data": {"text": "x"}, "label": 1, "weak_labels": [1]}}))
    ds = load_wrench(tmp_path)
    assert ds.class_names == ["ham", "spam"]
