"""The worked example's LFs on the bundled demo texts (no /work/shared access)."""

from pathlib import Path

import numpy as np

from labelmill.datasets import load_demo
from labelmill.label_models import MajorityVote, MomentMatching
from labelmill.lfs import apply_lfs, lf_summary, load_lfs_from_file

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "youtube_spam"


def test_example_lfs_load_and_vote_sensibly():
    lfs = load_lfs_from_file(EXAMPLE / "lfs.py")
    assert len(lfs) >= 10 and len({lf.name for lf in lfs}) == len(lfs)
    demo = load_demo()
    L = apply_lfs(lfs, demo.valid.examples, n_classes=2, cache=False, progress=False, n_jobs=1)
    s = lf_summary(L, y=demo.valid.gold)
    assert L.coverage() > 0.9
    assert (s["coverage"] > 0).all()
    # every spam LF is mostly right on the valid split
    spam = s[s["polarity"].apply(lambda p: p == [1])]
    assert len(spam) >= 5 and (spam["emp_acc"].fillna(1) >= 0.7).all()


def test_example_beats_wrench_lfs_under_the_same_label_models():
    lfs = load_lfs_from_file(EXAMPLE / "lfs.py")
    demo = load_demo()
    Ltr = apply_lfs(lfs, demo.train.examples, n_classes=2, cache=False, progress=False, n_jobs=1)
    Lte = apply_lfs(lfs, demo.test.examples, n_classes=2, cache=False, progress=False, n_jobs=1)
    for cls in (MajorityVote, MomentMatching):
        ours = np.mean(cls().fit(Ltr).predict(Lte) == demo.test.gold)
        wrench = np.mean(cls().fit(demo.train.L).predict(demo.test.L) == demo.test.gold)
        assert ours >= wrench, (cls.__name__, ours, wrench)


def test_example_csvs_are_bundled():
    assert len(list((EXAMPLE / "data").glob("Youtube0*.csv"))) == 5


def _demo_table(path):
    """The demo's three splits as one raw table: id, text, label, split."""
    import pandas as pd

    demo = load_demo()
    frames = [s.examples[["id", "text"]].assign(label=s.gold, split=name) for name, s in demo.splits.items()]
    pd.concat(frames, ignore_index=True).to_parquet(path)
    return demo


def test_raw_table_with_lfs_runs_every_stage(tmp_path):
    """`run TABLE --lfs FILE --propagate --end-model` keeps the table's text for the features."""
    import json

    from click.testing import CliRunner

    from labelmill.cli import main

    table = tmp_path / "comments.parquet"
    demo = _demo_table(table)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(table), "--lfs", str(EXAMPLE / "lfs.py"), "--gold-column", "label",
                                    "--split-column", "split", "--propagate", "--end-model", "logreg",
                                    "--no-cache", "--n-jobs", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    m = json.loads((out / "metrics.json").read_text())
    assert m["train_labels"]["after"]["coverage"] == 1.0
    assert m["end_model"]["splits"]["test"]["accuracy"] >= m["splits"]["test"]["accuracy"] - 0.02
    assert m["end_model"]["splits"]["test"]["n"] == len(demo.test.gold)


def test_raw_table_gold_typos_are_refused(tmp_path):
    import pandas as pd
    import pytest

    from labelmill.errors import DataFormatError
    from labelmill.pipeline import dataset_from_lfs

    table = tmp_path / "comments.parquet"
    _demo_table(table)
    lfs = load_lfs_from_file(EXAMPLE / "lfs.py")
    df = pd.read_parquet(table)
    typo = df.assign(label=df["label"].where(df.index != 7, 7))
    with pytest.raises(DataFormatError, match="row 7 has class 7, outside \\[0, 1\\].*pass n_classes"):
        dataset_from_lfs(typo, lfs, gold_column="label", cache=False, n_jobs=1, progress=False)
    half = df.assign(label=df["label"].astype(float).where(df.index != 3, 0.5))
    with pytest.raises(DataFormatError, match="row 3 has 0.5; expected an integer class id"):
        dataset_from_lfs(half, lfs, gold_column="label", cache=False, n_jobs=1, progress=False)
    # whole-number floats and nulls (unknown) are fine
    ds = dataset_from_lfs(df.assign(label=df["label"].astype(float).where(df.index != 3)), lfs, gold_column="label",
                          split_column="split", cache=False, n_jobs=1, progress=False)
    assert ds.train.gold[3] == -1 and list(ds.train.examples.columns) == ["id", "text"]
    with pytest.raises(DataFormatError, match="the table: the table has no rows"):
        dataset_from_lfs(df.iloc[:0], lfs, gold_column="label", cache=False, n_jobs=1, progress=False)


def test_raw_table_gold_word_in_a_csv_is_named(tmp_path):
    """One "spam" among the class ids of a CSV gold column makes the whole column text:
    the error named row 0's '0', an integer to the eye, instead of the word."""
    import pandas as pd
    import pytest

    from labelmill.errors import DataFormatError
    from labelmill.pipeline import dataset_from_lfs

    _demo_table(tmp_path / "comments.parquet")
    df = pd.read_parquet(tmp_path / "comments.parquet")
    df["label"] = df["label"].astype(object).where(df.index != 4, "spam")
    df.to_csv(tmp_path / "comments.csv", index=False)
    lfs = load_lfs_from_file(EXAMPLE / "lfs.py")
    with pytest.raises(DataFormatError, match="gold column 'label': row 4 has 'spam'; expected an integer class id"):
        dataset_from_lfs(str(tmp_path / "comments.csv"), lfs, gold_column="label", cache=False, n_jobs=1,
                         progress=False)
