"""examples/youtube_spam/run_example.py runs end to end and reproduces the numbers its README states."""

from __future__ import annotations

import contextlib
import io
import re
import runpy
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "youtube_spam"


def _readme_table() -> dict[str, tuple[float, float]]:
    """{row name: (labelmill LFs, WRENCH LFs)} from the README's result table."""
    rows = {}
    for line in (EXAMPLE / "README.md").read_text().splitlines():
        m = re.fullmatch(r"\|\s*([A-Za-z ]+?)\s*\|\s*([0-9.]+)\s*\|\s*([0-9.]+)\s*\|", line.strip())
        if m:
            rows[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    return rows


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    """Run the example's main() once, from an empty working directory, writing no bytecode."""
    cwd = tmp_path_factory.mktemp("cwd")
    before = _tree(EXAMPLE)
    mp = pytest.MonkeyPatch()
    mp.chdir(cwd)
    mp.setattr(sys, "dont_write_bytecode", True)
    mp.setenv("LABELMILL_CACHE_DIR", str(cwd / "cache"))
    buf = io.StringIO()
    try:
        ns = runpy.run_path(str(EXAMPLE / "run_example.py"), run_name="youtube_spam_example")
        with contextlib.redirect_stdout(buf):
            result = ns["main"]()
    finally:
        mp.undo()
    return result, buf.getvalue(), ns, cwd, before


def test_example_reproduces_the_readme_table(example_run):
    result, out, _, _, _ = example_run
    table = _readme_table()
    assert set(table) == {"MajorityVote", "MomentMatching", "test coverage"}
    for name in ("MajorityVote", "MomentMatching"):
        ours, wrench = table[name]
        assert round(result[name]["labelmill_lfs"], 3) == ours, name
        assert round(result[name]["wrench_lfs"], 3) == wrench, name
        assert re.search(rf"{name}\s+{ours:.3f}\s+{wrench:.3f}", out), name
    ours, wrench = table["test coverage"]
    assert round(result["coverage"]["labelmill_lfs"], 3) == ours
    assert round(result["coverage"]["wrench_lfs"], 3) == wrench
    # the README's figures, written out: 0.892 / 0.816, 0.956 / 0.852, coverage 0.976 / 0.928
    assert table == {"MajorityVote": (0.892, 0.816), "MomentMatching": (0.956, 0.852),
                     "test coverage": (0.976, 0.928)}
    # 250 test comments: every accuracy is a whole number of comments
    for name in ("MajorityVote", "MomentMatching"):
        for v in result[name].values():
            assert abs(v * 250 - round(v * 250)) < 1e-9


def test_example_reproduces_the_readme_text(example_run):
    _, out, ns, _, _ = example_run
    readme = (EXAMPLE / "README.md").read_text()
    m = re.search(r"On all ([0-9,]+) CSV comments, MomentMatching over these LFs is ([0-9.]+) accurate", readme)
    n_comments, acc = int(m.group(1).replace(",", "")), m.group(2)
    assert (n_comments, acc) == (1956, "0.872")
    assert f"{n_comments} comments from 5 videos, 16 labeling functions" in out
    assert f"MomentMatching accuracy on all CSV comments: {acc}" in out
    # "16 labeling functions ... Thirteen are declarative ...; three are plain Python functions."
    from labelmill.lfs import PythonLF, VectorizedLF, load_lfs_from_file

    lfs = load_lfs_from_file(EXAMPLE / "lfs.py")
    assert "holds 16 labeling functions" in readme and len(lfs) == 16
    assert "Thirteen are declarative" in readme and sum(isinstance(lf, VectorizedLF) for lf in lfs) == 13
    assert "three are plain Python" in readme and sum(isinstance(lf, PythonLF) for lf in lfs) == 3
    # the first paragraph names each of the 16 LFs, and no other
    intro = next(par for par in readme.split("\n\n") if par.startswith("`lfs.py` holds"))
    named = set(re.findall(r"`([a-z_]+)`", intro)) - {"lfs"}
    assert named == {lf.name for lf in lfs}
    assert len(ns["load_csvs"]()) == n_comments


def test_example_writes_nothing(example_run):
    _, _, _, cwd, before = example_run
    assert _tree(EXAMPLE) == before  # nothing written next to the example
    assert list(cwd.iterdir()) == []  # nor in the working directory (no vote cache: cache=False)


def test_example_writes_the_table_its_cli_lines_read(tmp_path):
    """The README's CLI lines read comments.parquet; `run_example.py --write-table` makes it."""
    import subprocess

    import pandas as pd

    out = tmp_path / "comments.parquet"
    res = subprocess.run([sys.executable, str(EXAMPLE / "run_example.py"), "--write-table", str(out)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    df = pd.read_parquet(out)
    assert list(df.columns) == ["id", "text", "video", "label"] and len(df) == 1956
    assert "--write-table comments.parquet" in (EXAMPLE / "README.md").read_text()
