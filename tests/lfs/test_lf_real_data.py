"""The LF layer end to end on the bundled demo's real YouTube comments (1,956 rows).

The `apply`, `lfs` and `run --lfs` commands, and every LF type (`threshold_lf`,
`gazetteer_lf`, `model_lf`, `labeling_function(pre=, resources=)`), each checked
against votes worked out independently with plain Python over the same rows.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from labelmill.cli import main
from labelmill.datasets import load_demo
from labelmill.lfs import (ABSTAIN, VoteCache, apply_lfs, gazetteer_lf, labeling_function, model_lf,
                           threshold_lf)

HAM, SPAM = 0, 1

LFS_PY = '''
from labelmill.lfs import ABSTAIN, keyword_lf, labeling_function, regex_lf

kw_subscribe = keyword_lf("kw_subscribe", ["subscribe"], 1)
re_link = regex_lf("re_link", r"https?://", 1)
kw_song = keyword_lf("kw_song", ["song"], 0)


@labeling_function()
def short(x):
    return 0 if len(x.text) < 20 else ABSTAIN
'''

RAISING_LF = '''

@labeling_function()
def boom(x):
    if "?" in x.text:
        raise ValueError("no questions please")
    return 1 if "!" in x.text else ABSTAIN
'''

LF_NAMES = ["kw_subscribe", "re_link", "kw_song", "short"]


# ------------------------------------------------------------------ helpers
@pytest.fixture(scope="module")
def demo_df():
    """The demo's three splits as one raw table: id, text, label, split (1586 + 120 + 250 rows)."""
    demo = load_demo()
    frames = [s.examples[["id", "text"]].assign(label=s.gold, split=name) for name, s in demo.splits.items()]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def table(tmp_path, demo_df):
    path = tmp_path / "comments.parquet"
    demo_df.to_parquet(path)
    return path


def _reference_votes(texts) -> dict[str, np.ndarray]:
    """The votes of LFS_PY's four LFs, computed with plain Python `re` / len over the rows."""
    word = lambda w: re.compile(rf"(?<!\w){w}(?!\w)", re.I)  # noqa: E731
    sub, song = word("subscribe"), word("song")
    return {
        "kw_subscribe": np.array([SPAM if sub.search(t) else ABSTAIN for t in texts]),
        "re_link": np.array([SPAM if re.search(r"https?://", t) else ABSTAIN for t in texts]),
        "kw_song": np.array([HAM if song.search(t) else ABSTAIN for t in texts]),
        "short": np.array([HAM if len(t) < 20 else ABSTAIN for t in texts]),
    }


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _parse_rich_table(output: str) -> dict[str, dict[str, str]]:
    """{lf name: {column: cell}} from the table `labelmill lfs` prints."""
    lines = output.splitlines()
    header = next(ln for ln in lines if ln.startswith("┃"))
    cols = [c.strip() for c in header.strip("┃").split("┃")]
    rows = {}
    for ln in lines:
        if ln.startswith("│"):
            cells = [c.strip() for c in ln.strip("│").split("│")]
            rows[cells[0]] = dict(zip(cols, cells))
    return rows


# ------------------------------------------------------------------ CLI: apply / lfs / run
def test_apply_twice_reads_the_second_time_from_the_cache(tmp_path, monkeypatch, table, demo_df):
    cache_dir = tmp_path / "votes_cache"
    monkeypatch.setenv("LABELMILL_CACHE_DIR", str(cache_dir))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    lfs = tmp_path / "lfs.py"
    lfs.write_text(LFS_PY)
    ref = _reference_votes(demo_df.text)
    coverage = np.mean(np.column_stack(list(ref.values())).max(axis=1) >= 0)

    out1, out2 = tmp_path / "L1.parquet", tmp_path / "L2.parquet"
    r1 = invoke("apply", "--data", table, "--lfs", lfs, "--out", out1, "--n-jobs", 1, "--no-progress")
    assert r1.exit_code == 0, r1.output
    assert f"1956 rows x 4 LFs, coverage {coverage:.3f}" in r1.output
    assert "from cache" not in r1.output
    assert len(VoteCache(cache_dir).entries()) == 4  # one entry per LF, in the env var's folder

    r2 = invoke("apply", "--data", table, "--lfs", lfs, "--out", out2, "--n-jobs", 1, "--no-progress")
    assert r2.exit_code == 0, r2.output
    assert "from cache: 4" in r2.output
    t1, t2 = pq.read_table(out1).to_pandas(), pq.read_table(out2).to_pandas()
    assert list(t1.columns) == ["id"] + LF_NAMES
    pd.testing.assert_frame_equal(t1, t2)
    assert t1["id"].tolist() == demo_df["id"].tolist()
    for name in LF_NAMES:
        np.testing.assert_array_equal(t1[name].to_numpy(), ref[name], err_msg=name)

    # editing one LF recomputes only that one
    lfs.write_text(LFS_PY.replace('["song"]', '["song", "songs"]'))
    r3 = invoke("apply", "--data", table, "--lfs", lfs, "--out", out2, "--n-jobs", 1, "--no-progress")
    assert r3.exit_code == 0, r3.output
    assert "from cache: 3" in r3.output
    songs = re.compile(r"(?<!\w)songs?(?!\w)", re.I)
    np.testing.assert_array_equal(pq.read_table(out2).column("kw_song").to_numpy(),
                                  [HAM if songs.search(t) else ABSTAIN for t in demo_df.text])
    assert len(VoteCache(cache_dir).entries()) == 5
    assert list(cwd.iterdir()) == []  # no ./.labelmill_cache next to the user's files


def test_lfs_summary_names_every_lf_with_its_coverage_and_accuracy(tmp_path, table, demo_df):
    lfs = tmp_path / "lfs.py"
    lfs.write_text(LFS_PY)
    r = invoke("lfs", table, "--lfs", lfs, "--gold-column", "label", "--n-jobs", 1)
    assert r.exit_code == 0, r.output
    rows = _parse_rich_table(r.output)
    assert list(rows) == LF_NAMES
    y = demo_df.label.to_numpy()
    ref = _reference_votes(demo_df.text)
    for j, name in enumerate(LF_NAMES):
        v = ref[name]
        row = rows[name]
        assert row["j"] == str(j)
        assert row["polarity"] == f"[{SPAM if name in ('kw_subscribe', 're_link') else HAM}]"
        assert row["coverage"] == f"{np.mean(v >= 0):.3f}"
        assert int(row["correct"]) == int(((v == y) & (v >= 0)).sum())
        assert int(row["incorrect"]) == int(((v != y) & (v >= 0)).sum())
        assert 0.0 < float(row["coverage"]) < 0.2
        assert float(row["emp_acc"]) >= 0.75  # all four are decent LFs on this data
    all_votes = np.column_stack([ref[n] for n in LF_NAMES])
    assert "n_rows=1956" in r.output and "n_sources=4" in r.output
    assert f"coverage={np.mean((all_votes >= 0).any(axis=1)):.3f}" in r.output


def test_run_raw_table_with_a_class_no_lf_votes(tmp_path, table):
    lfs = tmp_path / "lfs.py"
    lfs.write_text(LFS_PY)
    out = tmp_path / "out"
    res = invoke("run", table, "--lfs", lfs, "--gold-column", "label", "--split-column", "split",
                 "--n-classes", 3, "--no-cache", "--n-jobs", 1, "--out", out)
    assert res.exit_code == 0, res.output
    m = json.loads((out / "metrics.json").read_text())
    assert m["n_classes"] == 3
    assert m["label_model_info"]["class_names"] == ["0", "1", "2"]
    assert m["label_model_info"]["source_names"] == LF_NAMES
    assert m["splits"]["test"]["n"] == 250 and m["splits"]["valid"]["n"] == 120
    assert m["splits"]["test"]["accuracy"] > 0.7  # the two real classes are still told apart
    labels = pd.read_parquet(out / "labels.parquet")
    assert list(labels.columns) == ["id", "split", "prob_0", "prob_1", "prob_2", "label"]
    assert len(labels) == 1586 and (labels.split == "train").all()
    np.testing.assert_allclose(labels[["prob_0", "prob_1", "prob_2"]].sum(axis=1), 1.0, atol=1e-9)
    assert set(labels.label) <= {0, 1}  # nothing votes class 2, so it never wins
    assert labels.prob_2.max() < 0.05


def test_on_error_abstain_counts_the_failing_rows(tmp_path, table, demo_df):
    lfs = tmp_path / "lfs.py"
    lfs.write_text(LFS_PY + RAISING_LF)
    texts = demo_df.text
    n_fail = sum("?" in t for t in texts)
    assert 100 < n_fail < 400
    out = tmp_path / "L.parquet"
    args = ["apply", "--data", table, "--lfs", lfs, "--out", out, "--n-jobs", 1, "--no-progress",
            "--cache-dir", tmp_path / "c"]

    r = invoke(*args)  # default --on-error raise: exit 2, names the LF and the exception
    assert r.exit_code == 2, r.output
    assert "boom" in r.output and "ValueError" in r.output and "no questions please" in r.output
    assert not out.exists()

    r = invoke(*args, "--on-error", "abstain")
    assert r.exit_code == 0, r.output
    assert f"LF failures turned into abstains: {n_fail}" in r.output
    boom = pq.read_table(out).column("boom").to_numpy()
    expected = np.array([ABSTAIN if "?" in t else (SPAM if "!" in t else ABSTAIN) for t in texts])
    np.testing.assert_array_equal(boom, expected)

    # from the cache the failures are still reported...
    r = invoke(*args, "--on-error", "abstain")
    assert r.exit_code == 0, r.output
    assert "from cache: 5" in r.output and f"LF failures turned into abstains: {n_fail}" in r.output
    # ...and a cached entry with failures is not used to hide them when failures must raise
    r = invoke(*args)
    assert r.exit_code == 2 and "boom" in r.output

    r = invoke("lfs", table, "--lfs", lfs, "--gold-column", "label", "--on-error", "abstain", "--no-cache",
               "--n-jobs", 1)
    assert r.exit_code == 0, r.output
    rows = _parse_rich_table(r.output)
    assert rows["boom"]["errors"] == str(n_fail)
    assert rows["kw_song"]["errors"] == "0"
    assert rows["boom"]["coverage"] == f"{np.mean(expected >= 0):.3f}"


# ------------------------------------------------------------------ LF types vs plain Python
def test_threshold_lf_on_real_comment_lengths(demo_df):
    df = demo_df[["id", "text"]].copy()
    df["n_chars"] = df.text.str.len()
    excl = df.text.str.count("!") / df.n_chars
    df["excl_rate"] = excl.where(np.arange(len(df)) % 10 != 7)  # every tenth row unknown (null)
    lfs = [threshold_lf("long", "n_chars", SPAM, gt=250),
           threshold_lf("mid", "n_chars", HAM, ge=20, le=60),
           threshold_lf("excited", "excl_rate", SPAM, ge=0.02)]
    L = apply_lfs(lfs, df, cache=False, progress=False, n_jobs=1)
    dense = L.to_dense()
    n = [len(t) for t in df.text]
    np.testing.assert_array_equal(dense[:, 0], [SPAM if x > 250 else ABSTAIN for x in n])
    np.testing.assert_array_equal(dense[:, 1], [HAM if 20 <= x <= 60 else ABSTAIN for x in n])
    rates = df.excl_rate.tolist()
    np.testing.assert_array_equal(dense[:, 2], [SPAM if r == r and r >= 0.02 else ABSTAIN for r in rates])
    assert (dense[np.arange(len(df)) % 10 == 7, 2] == ABSTAIN).all()
    assert L.report.computed == ["long", "mid", "excited"] and L.n_classes == 2
    # true NaN (not null) abstains too
    t = pa.table({"excl_rate": pa.array([0.5, float("nan"), 0.01], from_pandas=False)})
    assert apply_lfs(lfs[2:], t, cache=False, progress=False).to_dense()[:, 0].tolist() == [SPAM, ABSTAIN, ABSTAIN]


GAZETTEER = {"song": HAM, "this song": HAM, "my song": SPAM, "check out my song": SPAM, "channel": SPAM,
             "my channel": SPAM, "love this": HAM, "love this channel": SPAM, "katy perry": HAM, "perry": HAM}


def _gazetteer_reference(texts, terms) -> np.ndarray:
    """Class of the longest matching term (ties: leftmost), terms matched as whole words, any case."""
    pats = {t: re.compile(rf"(?=(?<!\w){re.escape(t)}(?!\w))") for t in terms}
    out = []
    for text in texts:
        low = text.lower()
        hits = [(-len(t), m.start(), c) for t, c in terms.items() for m in pats[t].finditer(low)]
        out.append(min(hits)[2] if hits else ABSTAIN)
    return np.array(out)


def test_gazetteer_lf_longest_term_wins_on_real_comments(tmp_path, demo_df):
    ref = _gazetteer_reference(demo_df.text, GAZETTEER)
    gz = gazetteer_lf("gz", GAZETTEER)
    v = apply_lfs([gz], demo_df, cache=False, progress=False).to_dense()[:, 0]
    np.testing.assert_array_equal(v, ref)
    # the data exercises the rule: some rows hold a short HAM term inside a longer SPAM one
    short_only = _gazetteer_reference(demo_df.text, {"song": HAM, "this song": HAM, "love this": HAM})
    assert ((short_only == HAM) & (ref == SPAM)).sum() >= 3
    assert 150 < (ref >= 0).sum() < 800
    # the same terms from a taxonomy file with class names
    tax = tmp_path / "terms.csv"
    pd.DataFrame({"term": list(GAZETTEER), "class": ["spam" if c else "ham" for c in GAZETTEER.values()]}) \
        .to_csv(tax, index=False)
    from_file = gazetteer_lf("gz_file", tax, class_names=["ham", "spam"])
    np.testing.assert_array_equal(apply_lfs([from_file], demo_df, cache=False, progress=False).to_dense()[:, 0], ref)
    # a plain list with label= votes that label wherever any term matches
    plain = gazetteer_lf("gz_list", ["katy perry", "perry", "psy"], label=HAM)
    psy = re.compile(r"(?<!\w)(katy perry|perry|psy)(?!\w)")
    np.testing.assert_array_equal(apply_lfs([plain], demo_df, cache=False, progress=False).to_dense()[:, 0],
                                  [HAM if psy.search(t.lower()) else ABSTAIN for t in demo_df.text])


@pytest.fixture(scope="module")
def text_classifier():
    """TF-IDF + logistic regression trained on the demo's train split, with string classes."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    demo = load_demo()
    names = np.where(demo.train.gold == SPAM, "spam", "ham")
    return make_pipeline(TfidfVectorizer(), LogisticRegression(C=3.0, max_iter=1000)).fit(
        demo.train.examples.text, names)


def test_model_lf_votes_the_models_confident_predictions(text_classifier, demo_df):
    rows = demo_df[demo_df.split != "train"].reset_index(drop=True)  # rows the model never saw
    P = text_classifier.predict_proba(rows.text)
    classes = list(text_classifier.classes_)
    assert classes == ["ham", "spam"]
    lf = model_lf("clf", text_classifier, label_map={"ham": HAM, "spam": SPAM}, threshold=0.8)
    only_spam = model_lf("clf_spam", text_classifier, label_map={"spam": SPAM}, threshold=0.6)
    L = apply_lfs([lf, only_spam], rows, n_classes=2, cache=False, progress=False)
    v = L.to_dense()
    ids = np.array([HAM, SPAM])[P.argmax(axis=1)]
    np.testing.assert_array_equal(v[:, 0], np.where(P.max(axis=1) >= 0.8, ids, ABSTAIN))
    np.testing.assert_array_equal(v[:, 1], np.where((P.max(axis=1) >= 0.6) & (ids == SPAM), SPAM, ABSTAIN))
    assert 0.3 < (v[:, 0] >= 0).mean() < 1.0  # the threshold bites on real rows
    confident = v[:, 0] >= 0
    assert (v[confident, 0] == rows.label[confident]).mean() >= 0.9
    # rows with no text abstain without reaching the model; the others vote as before
    holes = rows.assign(text=rows.text.where(np.arange(len(rows)) % 25 != 3))
    vh = apply_lfs([lf], holes, n_classes=2, cache=False, progress=False).to_dense()[:, 0]
    null = holes.text.isna().to_numpy()
    assert null.sum() == 15 and (vh[null] == ABSTAIN).all()
    np.testing.assert_array_equal(vh[~null], v[~null, 0])


def test_model_lf_with_featurize_and_integer_classes(demo_df):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB

    demo = load_demo()
    vec = CountVectorizer().fit(demo.train.examples.text)
    nb = MultinomialNB().fit(vec.transform(demo.train.examples.text), demo.train.gold)
    rows = demo.test.examples
    lf = model_lf("nb", nb, featurize=vec.transform, threshold=0.9)
    v = apply_lfs([lf], rows, cache=False, progress=False).to_dense()[:, 0]
    P = nb.predict_proba(vec.transform(rows.text))
    np.testing.assert_array_equal(v, np.where(P.max(axis=1) >= 0.9, nb.classes_[P.argmax(axis=1)], ABSTAIN))
    assert (v[v >= 0] == demo.test.gold[v >= 0]).mean() >= 0.85


# Python LF with a preprocessor and resources (module level: its source is part of the cache key)
def add_words(row):
    row["words"] = re.findall(r"\w+", row["text"].lower())
    return row


def spam_words(x, vocab, min_hits):
    return SPAM if sum(w in vocab for w in x.words) >= min_hits else ABSTAIN


@labeling_function()
def sees_words(x):
    """Reads the same rows as spam_words: the preprocessor's field must not leak into them."""
    return HAM if "words" in x else ABSTAIN


VOCAB = frozenset({"subscribe", "channel", "check", "my", "please", "free", "money", "www", "http", "https"})


def test_python_lf_with_pre_and_resources(tmp_path, demo_df):
    lf = labeling_function(name="spam_words", pre=[add_words], resources={"vocab": VOCAB, "min_hits": 2})(spam_words)
    cache = tmp_path / "cache"
    L = apply_lfs([lf, sees_words], demo_df, cache=cache, progress=False, n_jobs=1)
    hits = [sum(w in VOCAB for w in re.findall(r"\w+", t.lower())) for t in demo_df.text]
    ref = np.array([SPAM if h >= 2 else ABSTAIN for h in hits])
    v = L.to_dense()
    np.testing.assert_array_equal(v[:, 0], ref)
    assert (v[:, 1] == ABSTAIN).all()
    assert 300 < (ref == SPAM).sum() < 900
    y = demo_df.label.to_numpy()
    assert (y[ref == SPAM] == SPAM).mean() > 0.9
    assert L.report.computed == ["spam_words", "sees_words"] and L.report.from_cache == []
    # the same LF again comes from the cache; other resources under the same name do not
    again = apply_lfs([lf], demo_df, cache=cache, progress=False, n_jobs=1)
    assert again.report.from_cache == ["spam_words"]
    stricter = labeling_function(name="spam_words", pre=[add_words],
                                 resources={"vocab": VOCAB, "min_hits": 3})(spam_words)
    L3 = apply_lfs([stricter], demo_df, cache=cache, progress=False, n_jobs=1)
    assert L3.report.computed == ["spam_words"]
    np.testing.assert_array_equal(L3.to_dense()[:, 0], [SPAM if h >= 3 else ABSTAIN for h in hits])
    # calling the LF on one row runs the same preprocessing
    row = demo_df.iloc[int(np.argmax(ref == SPAM))].to_dict()
    assert lf(row) == SPAM and "words" not in row
