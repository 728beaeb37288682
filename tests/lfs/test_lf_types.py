import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from labelmill.errors import DataFormatError, LabelingFunctionError
from labelmill.lfs import (ABSTAIN, Row, apply_lfs, crowd_matrix, gazetteer_lf, keyword_lf, labeling_function,
                           model_lf, regex_lf, threshold_lf)
from labelmill.lfs import _regex


def run(lf, texts, field="text", **kw):
    df = pd.DataFrame({field: texts})
    return apply_lfs([lf], df, cache=False, progress=False, n_jobs=1, **kw).to_dense()[:, 0].tolist()


def run_df(lf, df):
    return apply_lfs([lf], df, cache=False, progress=False, n_jobs=1, n_classes=2).to_dense()[:, 0].tolist()


# --------------------------------------------------------------------- Python LFs
def test_row_attribute_and_key_access():
    r = Row({"text": "hi", "n": 3})
    assert r.text == "hi" and r["n"] == 3
    with pytest.raises(AttributeError, match="no field 'nope'"):
        r.nope


def test_labeling_function_decorator_resources_and_pre():
    def lower(x):
        x["text"] = x["text"].lower()
        return x

    @labeling_function(resources={"words": {"spam"}}, pre=[lower])
    def lf_words(x, words):
        return 1 if any(w in x.text for w in words) else ABSTAIN

    assert lf_words.name == "lf_words"
    assert lf_words({"text": "SPAM here"}) == 1
    assert run(lf_words, ["SPAM!", "ham", "Spammy"]) == [1, -1, 1]

    @labeling_function(name="renamed")
    def f(x):
        return 0

    assert f.name == "renamed"


# --------------------------------------------------------------------- keyword
def test_keyword_word_boundary_and_case():
    lf = keyword_lf("kw", ["sub", "check out", ".com"], label=1)
    texts = ["please SUB now", "subscribe", "Check out this", "visit x.com today", "xcom", "sub_x", "über sub",
             "ésub", "sub!", None]
    # hand-worked: "sub" needs non-word chars around it ("_" and "é" are word chars)
    assert run(lf, texts) == [1, -1, 1, 1, -1, -1, 1, -1, 1, -1]


def test_keyword_no_boundary_case_sensitive():
    lf = keyword_lf("kw", ["Sub"], label=0, ignore_case=False, word_boundary=False)
    assert run(lf, ["Subscribe", "subscribe", "aSubb"]) == [0, -1, 0]


def test_keyword_matches_python_reference():
    kws = ["song", "love", "é", "a.b", "x_y"]
    lf = keyword_lf("kw", kws, label=1)
    texts = ["a song", "songs", "ésong", "love\ufeff", "café é", "a.b", "xa.bx", "x_y z", "x_yz", "LOVE",
             "lové", "\nsong\n", "naïve love"]
    ref = [1 if lf.python_pattern.search(t) else -1 for t in texts]
    assert run(lf, texts) == ref
    assert ref == [1, -1, -1, 1, 1, 1, -1, 1, -1, 1, -1, 1, 1]


# --------------------------------------------------------------------- regex
PATTERNS = [
    (r"\bcheck\s+out\b", re.I), (r"https?://\S+", 0), (r"\d{3,}", 0), (r"\w+@\w+\.com", 0), (r"^hi$", 0),
    (r"(?i)^sub", 0), (r"[\w.]+\.(com|net)\b", 0), (r"song$", 0), (r"(?<=my )channel", 0), (r"(a)\1", 0),
    (r"\W{3}", 0), (r"[^\s]{12,}", 0), (r"[\W\d]x", 0), (r"\Bout", 0), (r"a{,2}b", 0), (r"x\Z", 0),
    (r"\u00e9t\u00e9", 0), (r"[\x41-\x43]", re.I), (r"[\s]\S", 0),
    # leading inline flags act on the whole pattern ($ under (?m)); ASCII + IGNORECASE
    # must not fold the Kelvin sign or long s as RE2 would
    (r"(?m)song$", 0), (r"(?im)^my channel$", 0), (r"(?m)hi$|song$", 0), (r"[a-z]", re.A | re.I),
    (r"(?s)hi.$", 0), (r"k", re.A | re.I),
]
TEXTS = ["Check  out my channel", "checkout", "see http://x.y/z now", "call 5551234", "٣٤٥ arabic digits",
         "mail a@b.com", "é@ü.com", "hi", "hi\n", "hi\n\n", "Subscribe", "x.com", "naïve.net", "nice song",
         "nice song\n", "song\n!", "my channel", "aa", "?!?", "!?é", "a\u00a0b", "abcdefghijklm", "éx", "3x",
         "shout", "out", "b", "aab", "box", "x\n", "été", "ÉTÉ", "c", "a\u2003b", None, "",
         # non-ASCII word characters next to \b (RE2's \b is ASCII-only) and non-word ones
         "naïve check out", "check outé", "écheck out", "Ωcheck out", "check\u00a0out\ufeff", "\ufeffcheck out",
         "my channelß", "my chanel", "MY CHANNEL!", "my\u3000channel", "2015", "x2015é", "é2015", "2015\ufeff",
         "٢٠١٥ 2019", "20１５", "million\ufeff", "millionś", "ſmillion", "billion ✓", "\u212a", "ok out",
         "out\u0301", "café out", "bout", "２out"]


@pytest.mark.parametrize("pattern,flags", PATTERNS)
def test_regex_equals_python_re_search(pattern, flags):
    lf = regex_lf("rx", pattern, label=1, flags=flags)
    comp = re.compile(pattern, flags)
    ref = [1 if t is not None and comp.search(t) else -1 for t in TEXTS]
    assert run(lf, TEXTS) == ref


@pytest.mark.parametrize("pattern,flags", [
    (r"\bcheck\s*(it\s+)?out\b", re.I), (r"\bmy\s+(channel|video|page|music)\b", re.I),
    (r"\b(billion|million)\b", re.I), (r"\b20(1\d|2\d)\b", 0), (r"\bk", re.I), (r"s\b", re.I), (r"\Bout\b", 0),
])
def test_ascii_b_route_equals_python_re_search(pattern, flags):
    lf = regex_lf("rx", pattern, label=1, flags=flags)
    assert lf._re2_ascii is not None  # \b is the only inexact part: RE2's ASCII \b + re-check
    comp = re.compile(pattern, flags)
    texts = TEXTS * 3  # more rows than one RE2 call's worth of special rows
    ref = [1 if t is not None and comp.search(t) else -1 for t in texts]
    assert run(lf, texts) == ref


def test_nonascii_word_mask_covers_every_python_word_char():
    # every code point that Python's re calls a word character but RE2's \b does not must be flagged
    cps = [c for c in range(0x80, 0x110000) if not 0xD800 <= c < 0xE000]
    chars = [chr(c) for c in cps]
    flagged = _regex.nonascii_word_rows(pa.array(chars, pa.large_string()))
    word = np.array([bool(re.match(r"\w", ch)) for ch in chars])
    missed = [hex(c) for c, f, w in zip(cps, flagged, word) if w and not f]
    assert missed == []
    assert not _regex.nonascii_word_rows(pa.array(["abc_1 \ufeff!", None, "", "\u00a0\u2003✓"])).any()
    _regex.clear_masks()


def test_regex_routes():
    assert regex_lf("a", r"https?://\S+", 1).vectorized
    assert regex_lf("b", r"\bfoo\b", 1)._exact is False  # RE2 pre-filter + re re-check
    assert regex_lf("b", r"\bfoo\b", 1)._re2_ascii == r"\bfoo\b"  # ... on rows with non-ASCII letters only
    assert regex_lf("b2", r"\bfoo$\w", 1)._re2_ascii is None  # $ mid-pattern: always re-checked
    assert not regex_lf("c", r"(?<=my )channel", 1).vectorized  # look-behind: pure Python
    assert _regex.plan(r"(a)\1")[0] is None


def test_regex_invalid_pattern():
    with pytest.raises(LabelingFunctionError, match="invalid regular expression"):
        regex_lf("bad", r"(unclosed", 1)


# --------------------------------------------------------------------- threshold
def test_threshold_lf():
    df = pd.DataFrame({"n": [1.0, 5.0, 10.0, np.nan, 7.0]})
    L = apply_lfs([threshold_lf("ge5", "n", 1, ge=5), threshold_lf("range", "n", 0, gt=1, lt=10)], df,
                  cache=False, progress=False).to_dense()
    assert L[:, 0].tolist() == [-1, 1, 1, -1, 1]
    assert L[:, 1].tolist() == [-1, 0, -1, -1, 0]
    with pytest.raises(LabelingFunctionError, match="at least one"):
        threshold_lf("x", "n", 1)
    with pytest.raises(LabelingFunctionError, match="must be numeric"):
        apply_lfs([threshold_lf("x", "s", 1, gt=0)], pd.DataFrame({"s": ["a"]}), cache=False, progress=False)
    # int64 beyond 2**53 compares (as the nearest double) instead of failing; an all-null column abstains
    big = pd.DataFrame({"user_id": np.array([1234567890123456789, 5, -3])})
    assert run_df(threshold_lf("pos", "user_id", 1, gt=0), big) == [1, 1, -1]
    assert run_df(threshold_lf("pos", "score", 1, gt=0), pd.DataFrame({"score": [None, None]})) == [-1, -1]
    assert threshold_lf("pos", "score", 1, gt=0)({"score": None}) == -1


# --------------------------------------------------------------------- gazetteer
def test_gazetteer_longest_match_and_boundaries():
    terms = {"new york": 1, "york": 0, "new": 2, "ork": 2, "c++": 1}
    lf = gazetteer_lf("gz", terms)
    texts = ["I love New York!", "york only", "new things", "newyork", "yorkshire", "I code C++.",
             "dork", "nothing", None, "new york new"]
    # hand-worked: longest term wins; "ork" never at a word boundary; "newyork" has no boundary match
    assert run(lf, texts, n_classes=3) == [1, 0, 2, -1, -1, 1, -1, -1, -1, 1]


def test_gazetteer_list_case_and_no_boundary():
    lf = gazetteer_lf("gz", ["Spam", "eggs"], label=1, ignore_case=False, word_boundary=False)
    assert run(lf, ["Spammy", "spam", "xeggsx"]) == [1, -1, 1]


def test_gazetteer_taxonomy_files(tmp_path):
    csv = tmp_path / "tax.csv"
    csv.write_text("term,class\nbarack obama,person\nparis,place\n")
    lf = gazetteer_lf("gz", csv, class_names=["person", "place"])
    assert run(lf, ["Barack Obama in Paris", "paris"]) == [0, 1]
    js = tmp_path / "tax.json"
    js.write_text(json.dumps({"paris": 1, "rome": 1, "obama": 0}))
    assert run(gazetteer_lf("gz2", js), ["rome", "obama!", "romeo"]) == [1, 0, -1]
    tsv = tmp_path / "tax.tsv"
    tsv.write_text("term\tlabel\nrome\t1\nobama\t0\n")
    assert gazetteer_lf("gz3", tsv)(Row(text="in rome")) == 1
    with pytest.raises(DataFormatError):
        gazetteer_lf("gz4", tmp_path / "missing.csv")
    with pytest.raises(LabelingFunctionError, match="classes"):
        gazetteer_lf("gz5", {"Paris": 0, "paris": 1})
    with pytest.raises(LabelingFunctionError, match="label="):
        gazetteer_lf("gz6", ["a"])


def test_gazetteer_many_terms():
    rng = np.random.default_rng(0)
    terms = {f"t{i}x": int(i % 2) for i in range(20_000)}
    texts = [" ".join(f"t{j}x" for j in rng.integers(0, 40_000, 3)) for _ in range(500)]
    lf = gazetteer_lf("gz", terms)
    got = run(lf, texts)
    for t, g in zip(texts, got):
        hits = [w for w in t.split() if w in terms]
        best = max(hits, key=len) if hits else None  # longest wins; max() keeps the leftmost tie
        assert g == (terms[best] if hits else -1)


# --------------------------------------------------------------------- model
class ToyModel:
    classes_ = np.array([0, 1])

    def predict_proba(self, X):
        X = np.asarray(X, dtype=float).reshape(-1)
        p1 = np.clip(X, 0, 1)
        return np.column_stack([1 - p1, p1])


def test_model_lf_threshold_and_label_map():
    df = pd.DataFrame({"score": [0.95, 0.5, 0.1, 0.7]})
    lf = model_lf("m", ToyModel(), field="score", threshold=0.8, featurize=lambda s: s.to_numpy())
    L = apply_lfs([lf, model_lf("m2", ToyModel(), field="score", label_map={0: 1, 1: 0}, threshold=0.6)], df,
                  cache=False, progress=False).to_dense()
    assert L[:, 0].tolist() == [1, -1, 0, -1]
    assert L[:, 1].tolist() == [0, -1, 1, 0]
    with pytest.raises(LabelingFunctionError, match="predict_proba"):
        model_lf("x", object())


class Stars:
    """A 5-class model (classes_ 1..5) that is sure of the star count written in the text."""

    classes_ = np.array([1, 2, 3, 4, 5])

    def predict_proba(self, X):
        stars = [int(s) for s in X]  # fails on None, as a real text pipeline does on NaN
        return np.eye(5)[[s - 1 for s in stars]]


def test_model_lf_maps_classes_by_value_and_null_rows_abstain():
    df = pd.DataFrame({"text": ["1", "2", "3", "4", "5", None]})
    lf = model_lf("stars", Stars(), label_map={1: 0, 2: 0, 4: 1, 5: 1})  # 3 stars: no opinion
    assert run_df(lf, df) == [0, 0, -1, 1, 1, -1]
    # a model error with on_error="abstain" abstains on the batch and is counted, as for Python LFs
    broken = model_lf("broken", Stars())
    L = apply_lfs([broken], pd.DataFrame({"text": ["1", "x"]}), n_classes=6, cache=False, progress=False,
                  on_error="abstain")
    assert L.to_dense().ravel().tolist() == [-1, -1] and L.report.errors == {"broken": 2}
    assert "predict_proba raised ValueError" in L.report.error_examples["broken"]["message"]


# --------------------------------------------------------------------- crowd
def test_crowd_matrix():
    table = pd.DataFrame({"item": ["a", "a", "b", "c"], "annotator": ["w1", "w2", "w2", "w1"],
                          "label": [0, 1, 1, 0]})
    L = crowd_matrix(table)
    assert L.source_names == ("w1", "w2")
    assert L.to_dense().tolist() == [[0, 1], [-1, 1], [0, -1]]
