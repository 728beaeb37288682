"""Applying LFs: vote ranges, cache keys, thresholds and n_classes worked by hand. Each
test pins a behaviour that a plausible one-line bug (found by hand-made mutation testing)
changed without any other test noticing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labelmill.errors import LabelingFunctionError
from labelmill.lfs import apply_lfs, keyword_lf, labeling_function, model_lf


@labeling_function()
def lf_two(x):
    """Votes 2 on "two", else 1: one past the last class when n_classes=2."""
    return 2 if x.text == "two" else 1


ONE_TWO = pd.DataFrame({"text": ["one", "two", "one"]})


# ------------------------------------------------------------------------- applying LFs
class _Stars:
    """A model with integer classes_ 1..5, sure of the star count written in the text."""

    classes_ = np.array([1, 2, 3, 4, 5])

    def predict_proba(self, X):
        return np.eye(5)[[int(s) - 1 for s in X]]


def test_a_vote_equal_to_n_classes_is_refused_for_a_model_lf():
    df = pd.DataFrame({"text": ["1", "2", "3", "4", "5"]})
    # integer classes_ are the class ids: "5" votes class 5, one past n_classes=5
    with pytest.raises(LabelingFunctionError, match=r"'stars' voted 5 on row 4, outside \[-1, 4\]"):
        apply_lfs([model_lf("stars", _Stars())], df, n_classes=5, cache=False, progress=False)


def test_a_python_lf_voting_n_classes_fails_in_the_worker_and_can_abstain():
    L = apply_lfs([lf_two], ONE_TWO, n_classes=2, cache=False, progress=False, n_jobs=1, on_error="abstain")
    assert L.to_dense()[:, 0].tolist() == [1, -1, 1]
    assert L.report.errors == {"lf_two": 1}
    with pytest.raises(LabelingFunctionError, match=r"returned 2 \(int\); expected a class id in \[-1, 1\]"):
        apply_lfs([lf_two], ONE_TWO, n_classes=2, cache=False, progress=False, n_jobs=1)


# ------------------------------------------------------------------------- vote cache keys
def test_cached_votes_are_not_reused_for_another_n_classes(tmp_path):
    kw = dict(cache=tmp_path / "c", progress=False, n_jobs=1, on_error="abstain")
    two = apply_lfs([lf_two], ONE_TWO, n_classes=2, **kw)
    assert two.to_dense()[:, 0].tolist() == [1, -1, 1] and two.report.errors == {"lf_two": 1}
    three = apply_lfs([lf_two], ONE_TWO, n_classes=3, **kw)  # vote 2 is a class now
    assert three.to_dense()[:, 0].tolist() == [1, 2, 1] and three.report.errors == {}
    assert three.report.computed == ["lf_two"]


@pytest.mark.parametrize("option", [{"word_boundary": False}, {"ignore_case": False}])
def test_keyword_options_are_part_of_the_cache_key(tmp_path, option):
    df = pd.DataFrame({"text": ["Subscribe", "SUB now", "nothing"]})
    kw = dict(cache=tmp_path / "c", progress=False, n_jobs=1)
    plain = apply_lfs([keyword_lf("kw", ["sub"], 1)], df, **kw)
    assert plain.to_dense()[:, 0].tolist() == [-1, 1, -1]
    other = apply_lfs([keyword_lf("kw", ["sub"], 1, **option)], df, **kw)
    expected = [1, 1, -1] if "word_boundary" in option else [-1, -1, -1]
    assert other.report.from_cache == [] and other.to_dense()[:, 0].tolist() == expected


def test_model_lf_votes_at_exactly_the_threshold():
    class Sure:
        classes_ = np.array([0, 1])

        def predict_proba(self, X):
            return np.array([[0.8, 0.2] if t == "a" else [0.3, 0.7] for t in X])

    df = pd.DataFrame({"text": ["a", "b"]})
    L = apply_lfs([model_lf("m", Sure(), threshold=0.8)], df, n_classes=2, cache=False, progress=False)
    assert L.to_dense()[:, 0].tolist() == [0, -1]  # max probability >= threshold votes


def test_n_classes_is_inferred_as_the_largest_vote_plus_one():
    df = pd.DataFrame({"text": ["apple", "banana", "cherry", "none"]})
    lfs = [keyword_lf("a", ["apple"], 0), keyword_lf("b", ["banana"], 1), keyword_lf("c", ["cherry"], 2)]
    L = apply_lfs(lfs, df, cache=False, progress=False)
    assert L.n_classes == 3 and L.report.n_classes == 3
    assert L.to_dense().tolist() == [[0, -1, -1], [-1, 1, -1], [-1, -1, 2], [-1, -1, -1]]
