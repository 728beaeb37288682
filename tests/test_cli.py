"""End-to-end tests of the `labelmill` command on the bundled demo and on broken copies of it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from labelmill.cli import main
from labelmill.datasets import demo_path

METRIC_KEYS = {"accuracy", "macro_f1", "f1", "coverage", "log_loss", "ece", "n"}


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def demo_copy(tmp_path):
    dst = tmp_path / "yt"
    shutil.copytree(demo_path(), dst)
    return dst


def _edit_split(folder, split, fn):
    path = folder / f"{split}.json"
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def test_run_demo_writes_metrics_and_labels(tmp_path):
    out = tmp_path / "out"
    res = invoke("run", "--demo", "--out", out)
    assert res.exit_code == 0, res.output
    assert "test" in res.output and "accuracy" in res.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dataset"] == "youtube"
    assert metrics["label_model"] == "auto"
    assert metrics["n_classes"] == 2
    assert set(metrics["splits"]) == {"valid", "test"}
    for m in metrics["splits"].values():
        assert set(m) == METRIC_KEYS
    assert metrics["splits"]["test"]["n"] == 250
    assert metrics["splits"]["test"]["accuracy"] >= 0.80
    labels = pd.read_parquet(out / "labels.parquet")
    assert list(labels.columns) == ["id", "split", "prob_0", "prob_1", "label"]
    assert len(labels) == 1586
    assert ((labels.prob_0 + labels.prob_1) - 1).abs().max() < 1e-9
    assert set(labels.label) <= {0, 1}
    # no temp files left behind
    assert sorted(p.name for p in out.iterdir()) == ["labels.parquet", "metrics.json"]


@pytest.mark.parametrize("model", ["majority", "weighted_majority", "dawid_skene", "moments"])
def test_run_each_label_model(tmp_path, model):
    res = invoke("run", "--demo", "--label-model", model, "--out", tmp_path)
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "metrics.json").read_text())["label_model"] == model


def test_compare_json_lists_every_model(demo_copy):
    res = invoke("compare", demo_copy, "--json")
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert set(payload["models"]) == {"majority", "weighted_majority", "dawid_skene", "moments", "auto"}
    assert payload["models"]["auto"]["test"]["n"] == 250


def test_compare_table(demo_copy):
    res = invoke("compare", demo_copy)
    assert res.exit_code == 0, res.output
    assert "dawid_skene" in res.output and "test" in res.output


def test_compare_table_fits_80_columns(demo_copy, monkeypatch):
    """coverage and n are the same for every label model: they go into the title, and
    the metric headers are whole on an 80-column terminal (they were cut to 'accur…')."""
    from rich.console import Console

    import labelmill.cli as cli

    monkeypatch.setattr(cli, "console", Console(width=80))
    res = invoke("compare", demo_copy)
    assert res.exit_code == 0, res.output
    assert "yt: test (coverage 0.928, n 250)" in res.output
    for header in ("accuracy", "macro_f1", "log_loss", "weighted_majority"):
        assert header in res.output
    assert "…" not in res.output and max(len(line) for line in res.output.splitlines()) <= 80


def test_no_train_split_fits_transductively(demo_copy, tmp_path):
    (demo_copy / "train.json").unlink()
    out = tmp_path / "out"
    res = invoke("run", demo_copy, "--label-model", "dawid_skene", "--out", out)
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["label_model_info"]["fit_on"] == "valid+test"
    labels = pd.read_parquet(out / "labels.parquet")
    assert len(labels) == 120 + 250 and set(labels.split) == {"valid", "test"}


def _assert_bad(res, *fragments):
    assert res.exit_code == 2, res.output
    for f in fragments:
        assert f in res.output, (f, res.output)
    assert "Traceback" not in res.output


def test_vote_out_of_range(demo_copy, tmp_path):
    _edit_split(demo_copy, "train", lambda d: d["5"]["weak_labels"].__setitem__(3, 2))
    res = invoke("run", demo_copy, "--out", tmp_path / "o")
    _assert_bad(res, "train.json", "'5'", "keyword_please", "outside [-1, 1]")
    assert not (tmp_path / "o").exists()


def test_non_integer_vote(demo_copy, tmp_path):
    _edit_split(demo_copy, "valid", lambda d: d[next(iter(d))]["weak_labels"].__setitem__(0, 0.5))
    res = invoke("run", demo_copy, "--out", tmp_path / "o")
    _assert_bad(res, "valid.json", "non-integer vote 0.5", "keyword_my")


def test_rows_of_different_lengths(demo_copy, tmp_path):
    _edit_split(demo_copy, "test", lambda d: d[list(d)[7]]["weak_labels"].append(-1))
    res = invoke("run", demo_copy, "--out", tmp_path / "o")
    _assert_bad(res, "test.json", "has 11 weak labels", "10")


def test_empty_split(demo_copy, tmp_path):
    (demo_copy / "valid.json").write_text("{}")
    res = invoke("run", demo_copy, "--out", tmp_path / "o")
    _assert_bad(res, "valid.json", "empty")


def test_single_class_label_json(demo_copy, tmp_path):
    (demo_copy / "label.json").write_text(json.dumps({"0": "HAM"}))
    res = invoke("run", demo_copy, "--out", tmp_path / "o")
    _assert_bad(res, "label.json", "at least 2 classes")


def test_folder_missing_files(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    _assert_bad(invoke("run", empty), "label.json")
    (empty / "label.json").write_text(json.dumps({"0": "a", "1": "b"}))
    _assert_bad(invoke("run", empty), "no split files", "train.json")
    _assert_bad(invoke("run", tmp_path / "nope"), "no such dataset folder")


def test_debug_shows_traceback(demo_copy):
    (demo_copy / "label.json").write_text(json.dumps({"0": "HAM"}))
    res = invoke("run", demo_copy, "--debug")
    assert res.exit_code == 2
    assert "Traceback" in res.output or res.exc_info is not None


def test_failed_run_keeps_previous_outputs(demo_copy, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", demo_copy, "--out", out, "--label-model", "majority").exit_code == 0
    before = (out / "metrics.json").read_text()
    (demo_copy / "label.json").write_text(json.dumps({"0": "HAM"}))
    assert invoke("run", demo_copy, "--out", out).exit_code == 2
    assert (out / "metrics.json").read_text() == before


def test_demo_and_dir_are_exclusive(demo_copy):
    res = invoke("run", demo_copy, "--demo")
    assert res.exit_code == 2


LF_FILE = '''
from labelmill.lfs import ABSTAIN, keyword_lf, labeling_function, regex_lf

subscribe = keyword_lf("subscribe", ["subscribe", "sub"], 1)
link = regex_lf("link", r"https?://|www\\.", 1)
check_out = regex_lf("check_out", r"\\bcheck\\s+(it\\s+)?out\\b", 1)


@labeling_function()
def short_comment(x):
    return 0 if len(x.text.split()) < 5 else ABSTAIN


@labeling_function()
def mentions_song(x):
    return 0 if "song" in x.text.lower() else ABSTAIN
'''


@pytest.fixture
def raw_youtube(tmp_path):
    from labelmill import load_demo

    ds = load_demo()
    frames = []
    for name, split in ds.splits.items():
        df = split.examples[["id", "text"]].copy()
        df["label"] = split.gold
        df["split"] = name
        frames.append(df)
    path = tmp_path / "comments.parquet"
    pd.concat(frames, ignore_index=True).to_parquet(path, index=False)
    lf_path = tmp_path / "lfs.py"
    lf_path.write_text(LF_FILE)
    return path, lf_path


def test_run_raw_table_with_lf_file(raw_youtube, tmp_path):
    data, lfs = raw_youtube
    out = tmp_path / "out"
    res = invoke("run", data, "--lfs", lfs, "--gold-column", "label", "--split-column", "split",
                 "--out", out, "--no-cache", "--n-jobs", "1")
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["splits"]) == {"valid", "test"}
    assert metrics["label_model_info"]["source_names"] == ["subscribe", "link", "check_out", "short_comment",
                                                           "mentions_song"]
    # five hand-written LFs beat a coin flip clearly on real comments
    assert metrics["splits"]["test"]["accuracy"] > 0.7
    labels = pd.read_parquet(out / "labels.parquet")
    assert len(labels) == 1586 and set(labels.split) == {"train"}


def test_run_raw_table_without_split_scores_gold_rows(raw_youtube, tmp_path):
    data, lfs = raw_youtube
    res = invoke("run", data, "--lfs", lfs, "--gold-column", "label", "--out", tmp_path / "o",
                 "--label-model", "majority", "--no-cache", "--n-jobs", "1")
    assert res.exit_code == 0, res.output
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert list(metrics["splits"]) == ["valid"] and metrics["splits"]["valid"]["n"] == 1956


def test_run_raw_table_bad_columns(raw_youtube, tmp_path):
    data, lfs = raw_youtube
    _assert_bad(invoke("run", data, "--lfs", lfs, "--gold-column", "nope", "--no-cache", "--out", tmp_path / "o"),
                "no column 'nope'")
    _assert_bad(invoke("run", data, "--lfs", lfs, "--split-column", "text", "--no-cache", "--out", tmp_path / "o"),
                "split column 'text'", "expected train, valid or test")
    _assert_bad(invoke("run", tmp_path / "missing.parquet", "--lfs", lfs), "no such data file")


def test_raw_table_with_class_names(raw_youtube, tmp_path):
    """--class-names: the gold column may hold the names, and they name the classes of
    metrics.json and of the saved model's predictions."""
    data, lfs = raw_youtube
    df = pd.read_parquet(data)
    df["label"] = np.where(df["label"] == 1, "spam", "ham")
    named = tmp_path / "named.csv"
    df.to_csv(named, index=False)
    out = tmp_path / "o"
    args = ["--lfs", lfs, "--gold-column", "label", "--split-column", "split", "--no-cache", "--n-jobs", "1"]
    res = invoke("run", named, *args, "--class-names", "ham,spam", "--end-model", "logreg", "--out", out)
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["label_model_info"]["class_names"] == ["ham", "spam"]
    ids = invoke("run", data, *args, "--label-model", "majority", "--out", tmp_path / "ids")
    assert ids.exit_code == 0, ids.output
    by_id = json.loads((tmp_path / "ids" / "metrics.json").read_text())
    named_mv = invoke("run", named, *args, "--class-names", "ham,spam", "--label-model", "majority",
                      "--out", tmp_path / "named_mv")
    assert named_mv.exit_code == 0, named_mv.output
    assert json.loads((tmp_path / "named_mv" / "metrics.json").read_text())["splits"] == by_id["splits"]
    test_rows = tmp_path / "test_rows.parquet"
    df[df.split == "test"].drop(columns=["label", "split"]).to_parquet(test_rows)
    res = invoke("predict", out / "model", test_rows, "--out", tmp_path / "pred.parquet")
    assert res.exit_code == 0, res.output
    pred = pd.read_parquet(tmp_path / "pred.parquet")
    assert set(pred.label_name) <= {"ham", "spam"} and (pred.label_name == np.array(["ham", "spam"])[pred.label]).all()
    # a gold value that is no class name is named with its row; names need --lfs
    df.loc[3, "label"] = "spma"
    df.to_csv(named, index=False)
    res = invoke("run", named, *args, "--class-names", "ham,spam", "--out", out)
    assert res.exit_code == 2 and "row 3 has 'spma', which is not one of the class names" in res.output
    res = invoke("run", "--demo", "--class-names", "ham,spam", "--out", out)
    assert res.exit_code == 2 and "--class-names needs --lfs" in res.output
    res = invoke("run", named, *args, "--class-names", "ham,spam", "--n-classes", "3", "--out", out)
    assert res.exit_code == 2 and "n_classes=3 but 2 class names" in res.output


def test_run_on_error_abstain_counts_lf_failures(raw_youtube, tmp_path):
    data, lfs = raw_youtube
    fragile = tmp_path / "fragile.py"
    fragile.write_text(LF_FILE + """

@labeling_function()
def fragile(x):
    if "love" in x.text.lower():
        raise ValueError("boom")
    return ABSTAIN
""")
    n_love = int(pd.read_parquet(data)["text"].str.lower().str.contains("love").sum())
    args = [data, "--lfs", fragile, "--gold-column", "label", "--split-column", "split", "--no-cache", "--n-jobs", "1",
            "--label-model", "majority", "--out", tmp_path / "o"]
    res = invoke("run", *args)
    assert res.exit_code == 2 and "labeling function 'fragile' raised ValueError: boom on row id" in res.output
    for command in ("run", "compare"):
        res = invoke(command, *args[:-4] if command == "compare" else args, "--on-error", "abstain")
        assert res.exit_code == 0, res.output
        assert f"LF failures turned into abstains: fragile on {n_love} rows" in res.output
    res = invoke("run", "--demo", "--on-error", "abstain")
    assert res.exit_code == 2 and "--on-error needs --lfs" in res.output


def test_compare_raw_table_with_lf_file(raw_youtube, tmp_path):
    """compare takes a raw table and an LF file as run does, and scores the same models."""
    data, lfs = raw_youtube
    res = invoke("compare", data, "--lfs", lfs, "--gold-column", "label", "--split-column", "split", "--json",
                 "--no-cache", "--n-jobs", "1")
    assert res.exit_code == 0, res.output
    models = json.loads(res.output[res.output.index("{"):])["models"]
    assert set(models) == {"majority", "weighted_majority", "dawid_skene", "moments", "auto"}
    assert models["auto"]["test"]["n"] == 250 and models["auto"]["test"]["accuracy"] > 0.7
    res = invoke("run", data, "--lfs", lfs, "--gold-column", "label", "--split-column", "split", "--label-model",
                 "majority", "--out", tmp_path / "o", "--no-cache", "--n-jobs", "1")
    run_test = json.loads((tmp_path / "o" / "metrics.json").read_text())["splits"]["test"]
    assert models["majority"]["test"]["accuracy"] == run_test["accuracy"]
    # the raw-data options mean nothing for a WRENCH folder: refused, not ignored
    res = invoke("compare", "--demo", "--gold-column", "label")
    assert res.exit_code == 2 and "--gold-column needs --lfs" in res.output


def test_run_passes_label_model_parameters(tmp_path):
    res = invoke("run", "--demo", "--label-model", "dawid_skene", "--param", "abstain=model",
                 "--param", "smoothing=0.5", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    # the abstain-aware model is what makes one-sided LFs informative on youtube
    assert metrics["splits"]["test"]["accuracy"] > 0.8
    _assert_bad(invoke("run", "--demo", "--label-model", "dawid_skene", "--param", "nope=1"),
                "has no parameter 'nope'", "smoothing")
    _assert_bad(invoke("run", "--demo", "--param", "abstain"), "KEY=VALUE")


def test_a_terminal_sees_the_stage_under_way(tmp_path, monkeypatch):
    """On a terminal the run names each stage as it starts, with a count over the fits."""
    import io

    from rich.console import Console

    import labelmill.cli as cli

    screen = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=screen, force_terminal=True, width=120))
    r = invoke("run", "--demo", "--end-model", "logreg", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    shown = screen.getvalue()
    for stage in ("choosing the teacher", "training the end model (20 settings)"):
        assert stage in shown
    assert "20/20" in shown


def test_a_stage_without_steps_does_not_show_the_previous_count(monkeypatch):
    """A stage that counts nothing gets its own line: the teacher's "14/14" used to stay on
    the propagation line, with its clock stopped, so the run looked stuck."""
    import io

    from rich.console import Console

    import labelmill.cli as cli

    screen = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=screen, force_terminal=True, width=120))
    with cli._stage_display() as stage:
        stage("choosing the teacher", 14, 14)
        stage("propagating the labels over a kNN graph", None, None)
        stage("propagating the labels over a kNN graph", None, None)
    lines = [ln for ln in screen.getvalue().replace("\r", "\n").splitlines() if "propagating" in ln]
    assert lines and not any("14/14" in ln for ln in lines)


def test_a_log_file_gets_one_line_per_stage(tmp_path, monkeypatch):
    """Output redirected to a file: no redrawn status line, but each stage once on stderr."""
    import io

    from rich.console import Console

    import labelmill.cli as cli

    log = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=io.StringIO(), force_terminal=False))
    monkeypatch.setattr(cli, "err_console", Console(file=log, force_terminal=False, width=200))
    r = invoke("run", "--demo", "--end-model", "logreg", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    stages = [ln.split("] ", 1)[1] for ln in log.getvalue().splitlines()]
    assert stages[0].startswith("fitting the label model") and "choosing the teacher (11 candidates)" in stages
    assert any(s.startswith("training the end model") for s in stages) and len(stages) == len(set(stages))


@pytest.mark.parametrize("args, fragments", [
    (["--param", "abstain=bogus", "--label-model", "dawid_skene"], ["--param", "abstain must be 'ignore' or 'model'"]),
    (["--param", "smoothing=-1", "--label-model", "dawid_skene"], ["--param", "smoothing must be >= 0 (a real number)"]),
    (["--param", "lr=abc", "--label-model", "moments"], ["--param", "lr=abc"]),
    (["--seed", "-1"], ["--seed"]),
    (["--seed", str(2 ** 32)], ["--seed"]),
    (["--n-jobs", "0", "--end-model", "logreg"], ["--n-jobs", "positive number"]),
    (["--propagate", "--denoise-fraction", "0.5"], ["--denoise-fraction needs --denoise correct"]),
    (["--propagate", "--denoise", "weight", "--denoise-fraction", "0.5"], ["--denoise correct"]),
])
def test_bad_option_values_are_named_before_any_work(tmp_path, args, fragments):
    _assert_bad(invoke("run", "--demo", "--out", tmp_path / "o", *args), *fragments)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args", [
    ["--neighbors", "0"], ["--neighbors", "-3"],
    ["--denoise", "correct", "--denoise-fraction", "1.5"], ["--denoise", "correct", "--denoise-fraction", "-0.1"],
])
def test_propagation_option_values_are_checked_before_any_work(tmp_path, monkeypatch, args):
    """Not after the label model, the features and the teacher choice (minutes on large data)."""
    import labelmill.pipeline as pipeline

    def no_work(*a, **kw):
        raise AssertionError("the run started before its option values were checked")

    monkeypatch.setattr(pipeline, "run", no_work)
    _assert_bad(invoke("run", "--demo", "--propagate", "--out", tmp_path / "o", *args), args[-2])


def test_out_paths_of_the_wrong_kind(tmp_path):
    a_file = tmp_path / "afile"
    a_file.write_text("hi")
    _assert_bad(invoke("run", "--demo", "--out", a_file), "--out", "is a file")
    assert a_file.read_text() == "hi"
    model = tmp_path / "run"
    assert invoke("run", "--demo", "--end-model", "logreg", "--out", model).exit_code == 0
    table = tmp_path / "t.csv"
    pd.DataFrame({"text": ["subscribe to my channel", "nice song"]}).to_csv(table, index=False)
    _assert_bad(invoke("predict", model / "model", table, "--out", tmp_path), "--out", "is a folder")
    lfs = tmp_path / "lfs.py"
    lfs.write_text(LF_FILE)
    _assert_bad(invoke("apply", "--data", table, "--lfs", lfs, "--out", tmp_path, "--no-cache"), "is a folder")


def test_damaged_model_folder_is_named(tmp_path):
    out = tmp_path / "run"
    assert invoke("run", "--demo", "--end-model", "logreg", "--out", out).exit_code == 0
    table = tmp_path / "t.csv"
    pd.DataFrame({"text": ["subscribe to my channel"]}).to_csv(table, index=False)
    good_pickle = (out / "model" / "model.pkl").read_bytes()
    good_meta = json.loads((out / "model" / "meta.json").read_text())
    for damage, message in [(b"", "model.pkl: cannot be read"), (good_pickle[:100], "model.pkl: cannot be read")]:
        (out / "model" / "model.pkl").write_bytes(damage)
        _assert_bad(invoke("predict", out / "model", table, "--out", tmp_path / "p.parquet"), message, "damaged")
    (out / "model" / "model.pkl").write_bytes(good_pickle)
    for meta, message in [({k: v for k, v in good_meta.items() if k != "input_columns"}, "no input_columns"),
                          ([1, 2], "expected a JSON object")]:
        (out / "model" / "meta.json").write_text(json.dumps(meta))
        _assert_bad(invoke("predict", out / "model", table, "--out", tmp_path / "p.parquet"), message)
    assert not (tmp_path / "p.parquet").exists()


def test_rerun_without_end_model_removes_the_old_model(tmp_path):
    """metrics.json and model/ in one folder always come from the same run."""
    assert invoke("run", "--demo", "--end-model", "logreg", "--out", tmp_path).exit_code == 0
    assert (tmp_path / "model" / "model.pkl").exists()
    res = invoke("run", "--demo", "--label-model", "majority", "--out", tmp_path)
    assert res.exit_code == 0 and "removed" in res.output
    assert not (tmp_path / "model").exists()
    # the temporary file of a save that was killed does not keep an old model alive
    assert invoke("run", "--demo", "--end-model", "logreg", "--out", tmp_path).exit_code == 0
    (tmp_path / "model" / ".model.pkl.abc123.tmp").write_bytes(b"partial")
    assert invoke("run", "--demo", "--label-model", "majority", "--out", tmp_path).exit_code == 0
    assert not (tmp_path / "model").exists()
    # a folder called model that labelmill did not write is left alone
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "notes.txt").write_text("mine")
    assert invoke("run", "--demo", "--label-model", "majority", "--out", tmp_path).exit_code == 0
    assert (tmp_path / "model" / "notes.txt").read_text() == "mine"


def test_lf_errors_are_one_line_everywhere_and_debug_works_for_every_command(raw_youtube, tmp_path):
    data, _ = raw_youtube
    lfs = tmp_path / "raising.py"
    lfs.write_text("from labelmill.lfs import labeling_function\n\n@labeling_function()\n"
                   "def boom(x):\n    return 1 // 0\n")
    for args in (["run", data, "--lfs", lfs], ["apply", "--data", data, "--lfs", lfs, "--out", tmp_path / "L.pq"],
                 ["lfs", data, "--lfs", lfs]):
        res = invoke(*args, "--no-cache", "--n-jobs", "1")
        _assert_bad(res, "boom", "ZeroDivisionError")
        assert len(res.output.strip().splitlines()) == 1, res.output
        res = invoke(*args, "--no-cache", "--n-jobs", "1", "--debug")
        assert res.exit_code == 2 and "Traceback" in res.output, res.output
    res = invoke("--debug", "apply", "--data", data, "--lfs", lfs, "--out", tmp_path / "L.pq", "--no-cache",
                 "--n-jobs", "1")
    assert res.exit_code == 2 and "Traceback" in res.output


def test_metrics_json_is_standard_json(tmp_path):
    """Undefined values (empty reliability bins, splits without gold) are null, not NaN,
    which strict JSON parsers reject."""
    assert invoke("run", "--demo", "--end-model", "logreg", "--out", tmp_path).exit_code == 0
    text = (tmp_path / "metrics.json").read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    bins = json.loads(text)["end_model"]["calibration"]["test"]["reliability_after"]["confidence"]
    assert None in bins  # youtube's calibrated test probabilities leave some bins empty


def test_single_class_valid_gold_is_not_used_to_rank_or_calibrate(demo_copy, tmp_path):
    _edit_split(demo_copy, "valid", lambda d: [d.pop(i) for i in [i for i, r in d.items() if r["label"] == 1]])
    res = invoke("run", demo_copy, "--end-model", "logreg", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    assert "valid gold holds a single class" in res.output
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["label_model_info"]["selection"] == "held_out_sources"
    assert m["end_model"]["calibrated_by"]["method"] is None and "single class" in m["end_model"]["calibrated_by"]["skipped"]
    assert m["splits"]["valid"]["macro_f1"] > 0  # over the class present, not zero for the absent one


def test_no_votes_on_the_fit_split_is_an_error(demo_copy, tmp_path):
    _edit_split(demo_copy, "train", lambda d: [r.__setitem__("weak_labels", [-1] * 10) for r in d.values()])
    _assert_bad(invoke("run", demo_copy, "--out", tmp_path / "o"), "no source voted on any row of train",
                "1586 rows")


def test_outputs_without_any_gold(demo_copy, tmp_path):
    _edit_split(demo_copy, "train", lambda d: [r.__setitem__("label", -1) for r in d.values()])
    (demo_copy / "valid.json").unlink()
    (demo_copy / "test.json").unlink()
    res = invoke("run", demo_copy, "--end-model", "logreg", "--out", tmp_path / "o")
    assert res.exit_code == 0, res.output
    assert "no split with gold labels to score" in res.output
    res = invoke("compare", demo_copy)
    assert res.exit_code == 0 and "nothing to score" in res.output


def test_python_dash_m_labelmill_runs_the_command(tmp_path):
    """`python -m labelmill` is the `labelmill` command (as `python -m snorkel...` habits expect)."""
    src = str(Path(__import__("labelmill").__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, "-m", "labelmill", "--help"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "python -m labelmill" in res.stdout and "run" in res.stdout and "predict" in res.stdout
