import click
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from labelmill.lfs import ABSTAIN
from labelmill.lfs.cli_commands import load_lfs_from_file, register

LFS_PY = '''
from labelmill.lfs import ABSTAIN, keyword_lf, labeling_function
kw = keyword_lf("kw", ["spam"], 1)
@labeling_function()
def short(x):
    return 0 if len(x.text) < 5 else ABSTAIN
alias = kw
'''


@pytest.fixture
def cli():
    @click.group()
    def main():
        pass

    register(main)
    return main


@pytest.fixture
def files(tmp_path):
    data = tmp_path / "data.parquet"
    pd.DataFrame({"id": [3, 4, 5], "text": ["spam now", "hi", "a long comment"], "label": [1, 0, -1]}) \
        .to_parquet(data)
    lfs = tmp_path / "lfs.py"
    lfs.write_text(LFS_PY)
    return tmp_path, data, lfs


def test_load_lfs_in_definition_order(files):
    _, _, lfs = files
    assert [lf.name for lf in load_lfs_from_file(lfs)] == ["kw", "short"]


def test_apply_writes_votes(cli, files):
    tmp, data, lfs = files
    out = tmp / "L.parquet"
    r = CliRunner().invoke(cli, ["apply", "--data", str(data), "--lfs", str(lfs), "--out", str(out),
                                 "--n-jobs", "1", "--cache-dir", str(tmp / "c"), "--no-progress"])
    assert r.exit_code == 0, r.output
    t = pq.read_table(out).to_pandas()
    assert list(t.columns) == ["id", "kw", "short"]
    assert t["kw"].tolist() == [1, -1, -1] and t["short"].tolist() == [-1, 0, -1] and t["id"].tolist() == [3, 4, 5]
    r2 = CliRunner().invoke(cli, ["apply", "--data", str(data), "--lfs", str(lfs), "--out", str(out),
                                  "--cache-dir", str(tmp / "c"), "--no-progress"])
    assert "from cache: 2" in r2.output
    r3 = CliRunner().invoke(cli, ["cache", "clear", "--cache-dir", str(tmp / "c")])
    assert r3.exit_code == 0 and "removed 2" in r3.output


def test_lfs_prints_table(cli, files):
    tmp, data, lfs = files
    r = CliRunner().invoke(cli, ["lfs", str(data), "--lfs", str(lfs), "--gold-column", "label", "--no-cache"])
    assert r.exit_code == 0, r.output
    assert "kw" in r.output and "emp_acc" in r.output and "coverage" in r.output


@pytest.mark.parametrize("case", ["missing_data", "missing_lfs", "no_lfs", "syntax", "bad_gold", "lf_raises",
                                  "bad_on_error", "dup_names", "bad_format"])
def test_bad_input_exits_2(cli, files, case):
    tmp, data, lfs = files
    out = str(tmp / "L.parquet")
    args = ["apply", "--data", str(data), "--lfs", str(lfs), "--out", out, "--no-cache", "--n-jobs", "1"]
    if case == "missing_data":
        args[2] = str(tmp / "nope.parquet")
    elif case == "missing_lfs":
        args[4] = str(tmp / "nope.py")
    elif case == "no_lfs":
        (tmp / "empty.py").write_text("x = 1\n")
        args[4] = str(tmp / "empty.py")
    elif case == "syntax":
        (tmp / "broken.py").write_text("def (:\n")
        args[4] = str(tmp / "broken.py")
    elif case == "bad_gold":
        args = ["lfs", str(data), "--lfs", str(lfs), "--gold-column", "nope", "--no-cache"]
    elif case == "lf_raises":
        (tmp / "raising.py").write_text(LFS_PY + "\n@labeling_function()\ndef boom(x):\n    return 1 / 0\n")
        args[4] = str(tmp / "raising.py")
    elif case == "bad_on_error":
        args += ["--on-error", "ignore"]
    elif case == "dup_names":
        (tmp / "dup.py").write_text(LFS_PY + "\nkw2 = keyword_lf('kw', ['x'], 1)\n")
        args[4] = str(tmp / "dup.py")
    elif case == "bad_format":
        (tmp / "data.xlsx").write_text("x")
        args[2] = str(tmp / "data.xlsx")
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2, (r.output, r.exception)
    assert not (tmp / "L.parquet").exists()
    if case == "lf_raises":
        assert "boom" in r.output and "ZeroDivisionError" in r.output


def test_an_lf_file_edited_within_the_same_second_is_reloaded(tmp_path, monkeypatch):
    """A same-size edit saved in the same second as the last load: Python's .pyc check
    (source size and mtime in whole seconds) would call the old bytecode fresh, so the
    old LF would run and its votes be cached under the new source. Bytecode writing is
    forced on, since the test environment may turn it off."""
    import os
    import sys

    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    f = tmp_path / "kw_lfs.py"
    src = ("from labelmill.lfs import keyword_lf\n"
           "kw = keyword_lf('kw', ['{word}'], label=1)\n")
    f.write_text(src.format(word="spam"))
    os.utime(f, (1_700_000_000, 1_700_000_000))
    df = pd.DataFrame({"text": ["buy spam now", "a scam offer"]})
    first = load_lfs_from_file(f)[0]
    assert [first(r) for r in df.to_dict("records")] == [1, ABSTAIN]
    f.write_text(src.format(word="scam"))  # same size,
    os.utime(f, (1_700_000_000, 1_700_000_000))  # same mtime
    second = load_lfs_from_file(f)[0]
    assert [second(r) for r in df.to_dict("records")] == [ABSTAIN, 1]
    assert not (tmp_path / "__pycache__").exists()  # nothing written beside the user's file
