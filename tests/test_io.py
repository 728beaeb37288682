"""Atomic outputs: single files, batches of files that land together, file modes."""

from __future__ import annotations

import json
import os

import pytest

from labelmill._io import atomic_path, is_temp_file, output_batch, write_json_atomic


def _runs(folder, names=("a.json", "b.json")):
    """The "run" value of each JSON file in ``folder``."""
    return [json.loads((folder / f).read_text())["run"] for f in names]


def test_a_failed_batch_keeps_every_old_file_and_leaves_no_temp_files(tmp_path):
    write_json_atomic(tmp_path / "a.json", {"run": 1})
    write_json_atomic(tmp_path / "b.json", {"run": 1})
    with pytest.raises(KeyboardInterrupt):
        with output_batch():
            write_json_atomic(tmp_path / "a.json", {"run": 2})
            # not yet in place: the batch has not ended
            assert json.loads((tmp_path / "a.json").read_text()) == {"run": 1}
            raise KeyboardInterrupt  # e.g. Ctrl-C between the model and the metrics
    assert _runs(tmp_path) == [1, 1]
    assert not [p for p in os.listdir(tmp_path) if is_temp_file(p)]
    with output_batch():
        write_json_atomic(tmp_path / "a.json", {"run": 3})
        write_json_atomic(tmp_path / "b.json", {"run": 3})
    assert _runs(tmp_path) == [3, 3]
    assert not [p for p in os.listdir(tmp_path) if is_temp_file(p)]


def test_json_is_standard(tmp_path):
    import numpy as np

    write_json_atomic(tmp_path / "m.json", {"x": float("nan"), "y": np.array([1.0, np.inf]), "z": np.int64(3)})
    assert json.loads((tmp_path / "m.json").read_text()) == {"x": None, "y": [1.0, None], "z": 3}


# worked cases found by hand-made mutation testing
def test_failed_single_atomic_write_leaves_old_file_and_no_temp_file(tmp_path):
    target = tmp_path / "m.json"
    write_json_atomic(target, {"run": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert json.loads(target.read_text()) == {"run": 1}
    assert sorted(os.listdir(tmp_path)) == ["m.json"]


def test_nested_output_batch_commits_only_with_the_outer_one(tmp_path):
    write_json_atomic(tmp_path / "a.json", {"run": 1})
    write_json_atomic(tmp_path / "b.json", {"run": 1})
    with pytest.raises(KeyboardInterrupt):
        with output_batch():
            write_json_atomic(tmp_path / "a.json", {"run": 2})
            with output_batch():
                write_json_atomic(tmp_path / "b.json", {"run": 2})
            assert json.loads((tmp_path / "b.json").read_text()) == {"run": 1}
            raise KeyboardInterrupt
    assert _runs(tmp_path) == [1, 1]
    assert not [p for p in os.listdir(tmp_path) if is_temp_file(p)]
