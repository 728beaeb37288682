"""The README quick-start and the examples run end to end."""

import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_quickstart_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLES / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "auto chose" in out and "subscribe" in out and "end model test accuracy" in out
    assert "(uncovered rows: spreading)" in out  # youtube: spreading wins on valid (0.73 vs 0.60)
    assert (tmp_path / "labelmill-out" / "model" / "meta.json").exists()


def _example_main(module: str):
    """The ``main`` function of examples/<module>.py."""
    import importlib
    import sys

    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module(module).main
    finally:
        sys.path.remove(str(EXAMPLES))


def test_relations_example_on_semeval(capsys):
    main = _example_main("relations")
    # semeval: the words between the two entities carry the relation. With them the end
    # model beats the label model; without, it does not.
    acc = main(Path(__file__).resolve().parent / "data" / "semeval")
    assert acc["auto"] >= acc[None] + 0.05
    assert acc["auto"] >= acc["label_model"] > acc[None]
    assert "between-mentions block" in capsys.readouterr().out


def test_crowd_example_on_duck_answers(capsys):
    main = _example_main("crowd")
    acc = main(Path(__file__).resolve().parent / "data" / "crowd_duck_orig")
    # 39 workers answer every question; Dawid-Skene learns which ones to trust: 97 of 108
    # right against majority vote's 82
    assert acc["dawid_skene"] == 97 / 108 and acc["majority"] == 82 / 108
    out = capsys.readouterr().out
    assert "least trustworthy annotators" in out and "confusion matrix of" in out
