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
