"""YouTube comment spam with labelmill's labeling functions.

1. Load the five raw CSVs in ``data/`` (Alberto et al., UCI "YouTube Spam Collection").
2. Apply the LFs in ``lfs.py`` and print the LF analysis against the CSVs' gold labels.
3. Fit label models on the LF votes (no gold) and report their accuracy.
4. Compare with the WRENCH youtube LFs on WRENCH's split (``labelmill.datasets.load_demo()``):
   both LF sets fitted with the same label model on the train texts, scored on the same
   250 test texts.

Run:  python examples/youtube_spam/run_example.py
      python examples/youtube_spam/run_example.py --write-table comments.parquet
      (writes the five CSVs as one table: id, text, video, label; for the CLI lines in
      the README)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from labelmill.datasets import load_demo
from labelmill.label_models import MajorityVote, MomentMatching
from labelmill.lfs import apply_lfs, dataset_summary, lf_summary, load_lfs_from_file, print_lf_summary

HERE = Path(__file__).resolve().parent
LABEL_MODELS = {"MajorityVote": MajorityVote, "MomentMatching": MomentMatching}


def load_csvs(folder: Path = HERE / "data") -> pd.DataFrame:
    """All comments: id, text, video, label (0 = ham, 1 = spam)."""
    frames = []
    for f in sorted(folder.glob("Youtube0*.csv")):
        df = pd.read_csv(f)
        frames.append(pd.DataFrame({"id": df["COMMENT_ID"].astype(str), "text": df["CONTENT"].astype(str),
                                    "video": f.stem.split("-", 1)[1], "label": df["CLASS"].astype(int)}))
    if not frames:
        sys.exit(f"no Youtube0*.csv files in {folder}")
    return pd.concat(frames, ignore_index=True)


def accuracy(model, L, y) -> float:
    return float((model.predict(L) == np.asarray(y)).mean())


def compare_with_wrench(lfs) -> dict:
    """Test accuracy of our LFs and of the WRENCH LFs under the same label models."""
    demo = load_demo()
    L_train = apply_lfs(lfs, demo.train.examples, n_classes=2, cache=False, progress=False)
    L_test = apply_lfs(lfs, demo.test.examples, n_classes=2, cache=False, progress=False)
    out = {}
    for name, cls in LABEL_MODELS.items():
        ours = accuracy(cls().fit(L_train), L_test, demo.test.gold)
        wrench = accuracy(cls().fit(demo.train.L), demo.test.L, demo.test.gold)
        out[name] = {"labelmill_lfs": ours, "wrench_lfs": wrench}
    out["coverage"] = {"labelmill_lfs": L_test.coverage(), "wrench_lfs": demo.test.L.coverage()}
    return out


def main() -> dict:
    lfs = load_lfs_from_file(HERE / "lfs.py")
    df = load_csvs()
    print(f"{len(df)} comments from {df.video.nunique()} videos, {len(lfs)} labeling functions")
    L = apply_lfs(lfs, df, n_classes=2, cache=False, progress=False)
    model = MomentMatching().fit(L)
    print_lf_summary(lf_summary(L, lfs, y=df.label, label_model=model), dataset_summary(L),
                     title="LFs on the raw CSVs (emp_acc uses the CSV gold; est_acc is the label model's)")
    print(f"MomentMatching accuracy on all CSV comments: {accuracy(model, L, df.label):.3f}")

    res = compare_with_wrench(lfs)
    print("\nWRENCH youtube split: label models fitted on train votes, scored on the 250 test comments")
    print(f"{'label model':<16}{'labelmill LFs':>15}{'WRENCH LFs':>12}")
    for name in LABEL_MODELS:
        r = res[name]
        print(f"{name:<16}{r['labelmill_lfs']:>15.3f}{r['wrench_lfs']:>12.3f}")
    c = res["coverage"]
    print(f"{'test coverage':<16}{c['labelmill_lfs']:>15.3f}{c['wrench_lfs']:>12.3f}")
    return res


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write-table":
        load_csvs().to_parquet(sys.argv[2], index=False)
        print(f"wrote {sys.argv[2]}")
    elif len(sys.argv) > 1:
        sys.exit("usage: run_example.py [--write-table TABLE.parquet]")
    else:
        main()
