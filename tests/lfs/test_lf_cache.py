
import pandas as pd
import pytest

from labelmill.lfs import (apply_lfs, clear_cache, default_cache_dir, keyword_lf, labeling_function,
                           load_lfs_from_file)
from labelmill.lfs.cache import VoteCache

LF_FILE = '''
from labelmill.lfs import ABSTAIN, keyword_lf, labeling_function

LIMIT = {limit}

kw = keyword_lf("kw", ["spam"], 1)

@labeling_function()
def short(x):
    return 0 if len(x.text) < LIMIT else ABSTAIN

@labeling_function()
def digits(x):
    return 1 if any(c.isdigit() for c in x.text) else {digits_else}
'''

DF = pd.DataFrame({"text": ["spam spam", "hi", "call 555 now please", "a long ham comment here"]})


def write(path, limit=5, digits_else="ABSTAIN"):
    path.write_text(LF_FILE.format(limit=limit, digits_else=digits_else))
    return load_lfs_from_file(path)


def test_edit_one_lf_recomputes_only_it(tmp_path):
    f = tmp_path / "lfs.py"
    cache = tmp_path / "c"
    L1 = apply_lfs(write(f), DF, cache=cache, progress=False, n_jobs=1)
    assert L1.report.computed == ["kw", "short", "digits"] and L1.report.from_cache == []
    L2 = apply_lfs(write(f), DF, cache=cache, progress=False, n_jobs=1)
    assert L2.report.computed == [] and L2 == L1
    L3 = apply_lfs(write(f, digits_else="0"), DF, cache=cache, progress=False, n_jobs=1)
    assert L3.report.computed == ["digits"]
    assert L3.to_dense()[:, 2].tolist() == [0, 0, 1, 0]
    # a module-level constant the LF reads is part of its definition
    L4 = apply_lfs(write(f, limit=50, digits_else="0"), DF, cache=cache, progress=False, n_jobs=1)
    assert L4.report.computed == ["short"]
    # declarative LFs are keyed by their parameters
    L5 = apply_lfs([keyword_lf("kw", ["spam", "call"], 1)], DF, cache=cache, progress=False)
    assert L5.report.computed == ["kw"]


def test_data_change_invalidates(tmp_path):
    lfs = write(tmp_path / "lfs.py")
    apply_lfs(lfs, DF, cache=tmp_path / "c", progress=False, n_jobs=1)
    df2 = DF.copy()
    df2.loc[1, "text"] = "hj"
    assert apply_lfs(lfs, df2, cache=tmp_path / "c", progress=False, n_jobs=1).report.computed == \
        ["kw", "short", "digits"]
    # an extra column the declarative LF does not read keeps its entry valid
    df3 = DF.assign(other=1)
    r = apply_lfs(lfs, df3, cache=tmp_path / "c", progress=False, n_jobs=1).report
    assert r.from_cache == ["kw"]


def test_closure_values_are_part_of_the_key(tmp_path):
    def make(word):
        @labeling_function(name="has_word")
        def f(x):
            return 1 if word in x.text else -1
        return f

    c = tmp_path / "c"
    a = apply_lfs([make("spam")], DF, cache=c, progress=False)
    b = apply_lfs([make("hi")], DF, cache=c, progress=False)
    assert b.report.computed == ["has_word"] and a != b


CONFIG_LFS = '''
import types
import numpy as np
from labelmill.lfs import ABSTAIN, labeling_function

MAXW = np.int64({maxw})
CUTS = np.array([{cut}, 100])
cfg = types.SimpleNamespace(minlen={minlen})

class Settings:
    def __init__(self):
        self.word = {word!r}

settings = Settings()
VOCAB = {{f"w{{i}}": 0 for i in range(20_000)}}
VOCAB[{extra!r}] = 1

@labeling_function()
def few_words(x):
    return 0 if len(x.text.split()) <= MAXW else ABSTAIN

@labeling_function()
def long_text(x):
    return 1 if len(x.text) >= CUTS[0] else ABSTAIN

@labeling_function()
def min_len(x):
    return 0 if len(x.text) < cfg.minlen else ABSTAIN

@labeling_function()
def has_word(x):
    return 1 if settings.word in x.text else ABSTAIN

@labeling_function()
def in_vocab(x):
    return 1 if x.text.split()[0] in VOCAB else ABSTAIN
'''


def test_values_read_through_numpy_config_objects_and_big_dicts_are_part_of_the_key(tmp_path):
    """Editing a numpy constant, an array, a config object's attribute or a large lookup
    dict must not serve the old votes from the cache."""
    base = dict(maxw=1, cut=15, minlen=3, word="spam", extra="zz")
    edits = dict(maxw=2, cut=5, minlen=10, word="call", extra="spam")

    def votes(**params):
        f = tmp_path / "cfg_lfs.py"
        f.write_text(CONFIG_LFS.format(**params))
        return apply_lfs(load_lfs_from_file(f), DF, cache=tmp_path / "c", progress=False, n_jobs=1)

    first = votes(**base)
    assert first.report.computed == ["few_words", "long_text", "min_len", "has_word", "in_vocab"]
    assert votes(**base).report.computed == []
    lf_of = dict(maxw="few_words", cut="long_text", minlen="min_len", word="has_word", extra="in_vocab")
    for key, value in edits.items():
        L = votes(**{**base, key: value})
        assert L.report.computed == [lf_of[key]], key
        fresh = apply_lfs(load_lfs_from_file(tmp_path / "cfg_lfs.py"), DF, cache=False, progress=False, n_jobs=1)
        assert L == fresh


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_corrupt_entry_is_recomputed(tmp_path, damage):
    lfs = write(tmp_path / "lfs.py")
    c = tmp_path / "c"
    ref = apply_lfs(lfs, DF, cache=c, progress=False, n_jobs=1)
    entries = VoteCache(c).entries()
    assert len(entries) == 3
    for e in entries:
        raw = e.read_bytes()
        if damage == "truncate":
            e.write_bytes(raw[:-3])
        elif damage == "flip":
            e.write_bytes(raw[:-1] + bytes([raw[-1] ^ 0xFF]))
        elif damage == "garbage":
            e.write_bytes(b"not a cache entry")
        else:
            e.write_bytes(b"")
    again = apply_lfs(lfs, DF, cache=c, progress=False, n_jobs=1)
    assert again.report.computed == ["kw", "short", "digits"]
    assert again == ref
    assert apply_lfs(lfs, DF, cache=c, progress=False, n_jobs=1).report.computed == []


def test_cache_disabled_default_dir_and_clear(tmp_path, monkeypatch):
    lfs = write(tmp_path / "lfs.py")
    assert default_cache_dir() == tmp_path / "lm_cache"  # set by the conftest fixture
    apply_lfs(lfs, DF, cache=False, progress=False, n_jobs=1)
    assert not (tmp_path / "lm_cache").exists()
    apply_lfs(lfs, DF, progress=False, n_jobs=1)
    assert len(VoteCache(tmp_path / "lm_cache").entries()) == 3
    assert clear_cache() == 3
    assert not (tmp_path / "lm_cache").exists()
    monkeypatch.delenv("LABELMILL_CACHE_DIR")
    monkeypatch.chdir(tmp_path)
    assert default_cache_dir() == tmp_path / ".labelmill_cache"


def test_clear_removes_only_labelmill_entries(tmp_path):
    """A cache folder pointed at a folder of the user's (--cache-dir ., a project folder
    with its own votes/) must keep the user's files: only labelmill's entries go."""
    c = tmp_path / "project"
    apply_lfs(write(tmp_path / "lfs.py"), DF, cache=c, progress=False, n_jobs=1)
    entry = VoteCache(c).entries()[0]
    (entry.parent / f".{entry.name}.x1y2.tmp").write_bytes(b"")  # left by a killed write
    mine = [c / "notes.txt", c / "votes" / "ballots.csv", entry.parent / "ballot.csv"]
    for f in mine:
        f.write_text("the user's")
    assert clear_cache(c) == 3
    assert VoteCache(c).entries() == [] and not list(entry.parent.glob("*.tmp"))
    assert all(f.read_text() == "the user's" for f in mine)


def test_errors_cached_under_abstain_are_not_trusted_by_raise(tmp_path):
    from labelmill.errors import LabelingFunctionError

    @labeling_function()
    def flaky(x):
        if x.text == "hi":
            raise RuntimeError("no")
        return -1

    c = tmp_path / "c"
    r = apply_lfs([flaky], DF, cache=c, progress=False, on_error="abstain").report
    assert r.errors == {"flaky": 1}
    r2 = apply_lfs([flaky], DF, cache=c, progress=False, on_error="abstain").report
    assert r2.from_cache == ["flaky"] and r2.errors == {"flaky": 1}
    with pytest.raises(LabelingFunctionError, match="flaky"):
        apply_lfs([flaky], DF, cache=c, progress=False, on_error="raise")
    no_tmp = [p for p in (c / "votes").rglob("*") if p.name.endswith(".tmp")]
    assert no_tmp == []


def test_set_resources_give_the_same_key_in_every_process():
    import subprocess
    import sys

    code = ("from labelmill.lfs import labeling_function, ABSTAIN\n"
            "@labeling_function(resources={'words': {'spam', 'ham', 'eggs', 'bacon', 'toast'}})\n"
            "def f(x, words):\n    return ABSTAIN\n"
            "import hashlib; print(hashlib.sha256(f.definition().encode()).hexdigest())\n")
    keys = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)}).stdout
            for seed in (1, 2, 3)}
    assert len(keys) == 1


def test_models_and_arrays_in_resources_or_closures_are_part_of_the_key(tmp_path):
    """Two fitted models print the same (LogisticRegression()); arrays inside a dict print
    shortened. Neither may let one LF's cached votes stand in for another's."""
    import threading

    import numpy as np
    from sklearn.linear_model import LogisticRegression

    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    up, down = LogisticRegression().fit(X, [0, 0, 1, 1]), LogisticRegression().fit(X, [1, 1, 0, 0])
    df = pd.DataFrame({"id": [1, 2, 3], "x": [0.0, 1.5, 3.0]})
    cache = tmp_path / "c"

    def as_resource(m):
        @labeling_function(name="model_vote", resources={"model": m})
        def model_vote(row, model):
            return int(model.predict([[row.x]])[0])
        return model_vote

    def in_closure(m):
        @labeling_function(name="closure_vote")
        def closure_vote(row):
            return int(m.predict([[row.x]])[0])
        return closure_vote

    def in_dict(w):
        @labeling_function(name="weights", resources={"params": {"w": w}})
        def weights(row, params):
            return int(params["w"].sum() > 0)
        return weights

    w0 = np.zeros(3000)
    w1 = w0.copy()
    w1[1500] = 1.0  # differs only where numpy's repr shows "..."
    for make, a, b in [(as_resource, up, down), (in_closure, up, down), (in_dict, w0, w1)]:
        first = apply_lfs([make(a)], df, cache=cache, progress=False, n_jobs=1)
        second = apply_lfs([make(b)], df, cache=cache, progress=False, n_jobs=1)
        assert second.report.from_cache == [] and second != first
        assert second == apply_lfs([make(b)], df, cache=False, progress=False, n_jobs=1)
        assert apply_lfs([make(b)], df, cache=cache, progress=False, n_jobs=1).report.from_cache != []

    # a resource that cannot be pickled (so not fingerprinted) makes the LF uncached, never stale
    @labeling_function(name="locked", resources={"lock": threading.Lock()})
    def locked(row, lock):
        return 0

    for _ in range(2):
        r = apply_lfs([locked], df, cache=cache, progress=False, n_jobs=1).report
        assert r.computed == ["locked"] and r.from_cache == []


def test_finished_declarative_lfs_stay_cached_when_a_python_lf_fails(tmp_path):
    """Votes computed before a failure (or a Ctrl-C) in the slower Python LFs are kept."""
    @labeling_function()
    def broken(x):
        raise RuntimeError("boom")

    kw = keyword_lf("kw", ["spam"], 1)
    with pytest.raises(Exception, match="boom"):
        apply_lfs([kw, broken], DF, cache=tmp_path / "c", progress=False, n_jobs=1)
    assert apply_lfs([kw], DF, cache=tmp_path / "c", progress=False, n_jobs=1).report.from_cache == ["kw"]
