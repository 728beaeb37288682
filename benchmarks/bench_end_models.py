#!/usr/bin/env python
"""End models: the bars of the end-model issue.

1. ``--part datasets``: on youtube, sms, trec, semeval, hausa, spouse_small with TF-IDF
   features, the label model's test accuracy (``auto``) against the end model's
   (logistic regression on the label model's soft labels, C chosen on valid,
   C, ELR and training rows chosen on valid, temperature-scaled on valid), with test ECE
   before/after calibration; then an ablation: the plain end model (all rows, no ELR)
   and each option alone on top of it (no entity-span features, only covered rows, ELR,
   propagated labels, mixup, label smoothing 0.1, self-training, MLP). Nothing is
   chosen on test.
2. ``--part scale``: logistic regression on 1,000,000 rows x 2**18 sparse TF-IDF-like
   features (synthetic, ~30 non-zeros per row), 2 cores: fit time and peak RSS.
3. ``--part mlp``: the torch MLP on 100,000 rows x 2**18 sparse features, 3 epochs.
4. ``--part large``: ``labelmill run --propagate --end-model logreg`` on trec resampled to
   50,330 train rows, stage by stage, against the same run in one process with the
   teacher proxies on every row and column (how it ran before those were added).
5. ``--part halving``: the end model's settings compared by successive halving against
   the full grid, on trec resampled to 201,320 train rows (where ``search="auto"`` uses
   halving) and, halving forced, on the small text datasets.

Usage::

    python benchmarks/bench_end_models.py [--part datasets scale mlp large halving] [--data ../shared/data]

Writes ``benchmarks/results/end_models.md`` (each part's section replaced in place).
"""

from __future__ import annotations

import resource
import time
import warnings
from pathlib import Path

import numpy as np

from bench_propagation import run_parts

ROOT = Path(__file__).resolve().parent
TEXT_DATASETS = ["youtube", "sms", "trec", "semeval", "hausa", "spouse_small"]
PLAIN = {"train_rows": "all", "end_model_params": {"elr": 0.0}, "teacher": "label_model"}
ABLATION = [
    ("default: teacher, C, ELR and training rows chosen on valid", {}),
    ("default, but learning from the label model auto chose", {"teacher": "label_model"}),
    ("plain: auto's labels, all rows, no ELR, C chosen on valid", PLAIN),
    ("plain, TF-IDF without the entity-span blocks", {**PLAIN, "featurizer": "tfidf-no-spans"}),
    ("plain, only rows some source labeled", {**PLAIN, "train_rows": "covered"}),
    ("plain + ELR (lambda 1)", {**PLAIN, "end_model_params": {"elr": 1.0}}),
    ("plain + propagated labels", {**PLAIN, "propagate_labels": True}),
    ("plain + mixup", {**PLAIN, "mixup": True}),
    ("plain + label smoothing 0.1", {**PLAIN, "end_model_params": {"elr": 0.0, "label_smoothing": 0.1}}),
    ("plain + self-training", {**PLAIN, "self_train": True}),
    ("MLP instead of logreg", {**PLAIN, "end_model": "mlp"}),
]


def part_datasets(data_dir: Path) -> str:
    from labelmill import load_wrench
    from labelmill.pipeline import run

    main_rows, abl = [], {}
    n_ok = 0
    for name in TEXT_DATASETS:
        ds = load_wrench(data_dir / name)
        for label, kw in ABLATION:
            kw = dict(kw)
            kw.setdefault("end_model", "logreg")
            if kw.get("featurizer") == "tfidf-no-spans":
                from labelmill.features import TfidfFeaturizer
                kw["featurizer"] = TfidfFeaturizer(entity_spans=None)
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = run(ds, "auto", cache=False, **kw)
            dt = time.perf_counter() - t
            em = r.metrics["end_model"]
            lm_acc = r.metrics["splits"]["test"]["accuracy"]
            acc = em["splits"]["test"]["accuracy"]
            abl[(name, label)] = acc
            if not abl.get((name, "_main")):
                abl[(name, "_main")] = True
                cal = em["calibration"]["test"]
                n_ok += acc >= lm_acc
                main_rows.append(f"| {name} | {r.metrics['label_model_info'].get('selected', '')} | {lm_acc:.3f} | "
                                 f"{acc:.3f} | {acc - lm_acc:+.3f} | {cal['ece_before']:.3f} | {cal['ece_after']:.3f} | "
                                 f"{em['calibrated_by']['method']} | {_teacher(em['teacher'])} | "
                                 f"{_chosen(em['chosen'])} | {dt:.1f} s |")
                print(main_rows[-1], flush=True)
            print(name, label, f"{acc:.3f}", flush=True)
    lines = ["Default end model: logistic regression on a label model's soft labels (the teacher: among the "
             "candidates auto scored, the one whose labels train the best end model on valid; auto's own "
             "choice unless another beats it by more than two standard errors), TF-IDF features (with the "
             "between-entities block where the data has entity spans: semeval). C, ELR strength and the "
             "training rows (all, with rows no source labeled at P(class | all sources abstain); or only rows "
             "some source labeled) are chosen by valid accuracy. Calibration on valid: temperature scaling, "
             "followed by a top-label isotonic step when that lowers the 5-fold cross-validated Brier score "
             "on valid.", "",
             "| dataset | label model (auto chose) | label model test acc | end model test acc | gain | "
             "test ECE before calibration | after | calibration | teacher | chosen on valid | time |",
             "|---|---|---|---|---|---|---|---|---|---|---|", *main_rows, "",
             f"End model >= label model on {n_ok} of {len(TEXT_DATASETS)} datasets.", "",
             "Ablation, test accuracy of the end model (each option alone on top of the plain one):", "",
             "| option | " + " | ".join(TEXT_DATASETS) + " | mean |", "|---" * (len(TEXT_DATASETS) + 2) + "|"]
    for label, _ in ABLATION:
        vals = [abl[(n, label)] for n in TEXT_DATASETS]
        lines.append(f"| {label} | " + " | ".join(f"{v:.3f}" for v in vals) + f" | {np.mean(vals):.3f} |")
    return "\n".join(lines)


def _teacher(t: dict) -> str:
    return t["name"] + (" (switched)" if t["switched"] else " (kept)")


def _chosen(chosen: dict) -> str:
    return ", ".join(f"{k}={chosen[k]}" for k in ("C", "elr", "rows") if k in chosen)


def synthetic_sparse(n: int, d: int, nnz_per_row: int, normalize: bool, seed: int = 0):
    """TF-IDF-like sparse rows: Zipf-like term ids, two classes that prefer different term
    ranges, optionally L2-normalised. Returns (X CSR float32, y, the generator for further
    draws)."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    terms = (rng.zipf(1.3, size=(n, nnz_per_row)) + y[:, None] * 5000) % d
    data = rng.random((n, nnz_per_row)).astype(np.float32)
    X = sp.csr_matrix((data.ravel(), terms.ravel(), np.arange(0, n * nnz_per_row + 1, nnz_per_row)), shape=(n, d))
    X.sum_duplicates()
    if normalize:
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        X = sp.diags(1 / norms).astype(np.float32) @ X
    return X, y, rng


def part_scale(n: int = 1_000_000, d: int = 2 ** 18, nnz_per_row: int = 30) -> str:
    from labelmill.end_models import SoftLogisticRegression

    X, y, rng = synthetic_sparse(n, d, nnz_per_row, normalize=True)
    noisy = np.where(rng.random(n) < 0.85, y, 1 - y)
    soft = np.where(noisy[:, None] == np.arange(2), 0.8, 0.2)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
    t = time.perf_counter()
    model = SoftLogisticRegression(C=1.0).fit(X, soft)
    dt = time.perf_counter() - t
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 2 ** 20
    acc = float((model.predict(X) == y).mean())
    print(f"scale: {dt:.0f} s peak {peak:.1f} GiB", flush=True)
    return "\n".join([
        f"{n:,} rows x {d:,} sparse features ({X.nnz:,} non-zeros, float32 CSR), soft labels, 2 cores.", "",
        "| fit time (L-BFGS) | L-BFGS iterations | peak RSS of the process | RSS before fit (data) | train accuracy vs true labels |",
        "|---|---|---|---|---|",
        f"| {dt:.0f} s | {model.n_iter_} | {peak:.1f} GiB | {rss0:.1f} GiB | {acc:.4f} |"])


def part_mlp(n: int = 100_000, d: int = 2 ** 18, nnz_per_row: int = 30, epochs: int = 3) -> str:
    from labelmill.end_models import SoftMLPClassifier

    X, y, _ = synthetic_sparse(n, d, nnz_per_row, normalize=False)
    soft = np.where(y[:, None] == np.arange(2), 0.8, 0.2)
    t = time.perf_counter()
    model = SoftMLPClassifier(hidden=(256,), epochs=epochs).fit(X, soft)
    dt = time.perf_counter() - t
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 2 ** 20
    acc = float((model.predict(X) == y).mean())
    print(f"mlp: {dt:.1f} s peak {peak:.1f} GiB", flush=True)
    return "\n".join([
        f"`SoftMLPClassifier(hidden=(256,), epochs={epochs})` (defaults otherwise: batch 256, 1 torch thread) on "
        f"{n:,} rows x {d:,} sparse features ({X.nnz:,} non-zeros). The first layer is an embedding bag with "
        "sparse gradients, so a step touches only the minibatch's features.", "",
        "| fit time | time per epoch | peak RSS of the process | train accuracy vs true labels |",
        "|---|---|---|---|",
        f"| {dt:.1f} s | {dt / epochs:.1f} s | {peak:.1f} GiB | {acc:.4f} |"])


def resampled_trec(data_dir: Path, out: Path, copies: int = 10, noise_words: int = 3, seed: int = 0) -> Path:
    """trec with its train split repeated ``copies`` times, each copy of a question
    followed by ``noise_words`` words drawn from the train text (so no two rows are the
    same and the vocabulary grows as with real data); valid and test unchanged."""
    import json
    import random
    import shutil

    train = json.loads((data_dir / "trec" / "train.json").read_text())
    words = [w for v in train.values() for w in v["data"]["text"].split()]
    rng = random.Random(seed)
    big = {f"{r}_{i}": dict(v, data=dict(v["data"], text=v["data"]["text"] + " " +
                                         " ".join(rng.choice(words) for _ in range(noise_words))))
           for r in range(copies) for i, v in train.items()}
    out.mkdir(parents=True, exist_ok=True)
    (out / "train.json").write_text(json.dumps(big))
    for f in ("valid.json", "test.json", "label.json"):
        shutil.copy(data_dir / "trec" / f, out / f)
    return out


def part_large(data_dir: Path) -> str:
    """The whole run (label model, teacher, propagation, end model) on 50,330 rows, as
    it runs now (fits side by side, capped teacher proxies) and as before (one process,
    proxies on every row and column)."""
    import functools
    import tempfile

    from labelmill import load_wrench
    from labelmill.end_models import teacher as teacher_module
    from labelmill.pipeline import run

    def timed(ds, **kw):
        stages, t0 = [], time.perf_counter()

        def progress(desc, done, total):
            name = desc.split(" (")[0]
            if not stages or stages[-1][0] != name:
                stages.append([name, time.perf_counter()])

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = run(ds, propagate_labels=True, end_model="logreg", cache=False, progress=progress, **kw)
        end = time.perf_counter()
        times = {name: (stages[i + 1][1] if i + 1 < len(stages) else end) - t for i, (name, t) in enumerate(stages)}
        return r, times, end - t0

    with tempfile.TemporaryDirectory() as tmp:
        ds = load_wrench(resampled_trec(data_dir, Path(tmp) / "trec_x10"))
        now, t_now, total_now = timed(ds)
        original = teacher_module.choose_teacher
        teacher_module.choose_teacher = functools.partial(original, max_rows=None, max_features=None)
        try:
            before, t_before, total_before = timed(ds, n_jobs=1)
        finally:
            teacher_module.choose_teacher = original
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 2 ** 20
    stages = list(dict.fromkeys(list(t_before) + list(t_now)))
    lines = [f"trec's train split x10 ({len(ds.train):,} rows; each copy of a question gets 3 random train words, "
             "see `resampled_trec`), valid and test unchanged; `run(ds, propagate_labels=True, "
             "end_model='logreg')` as `labelmill run DATA --propagate --end-model logreg` runs it, 2 cores.", "",
             "| stage | before: one process, teacher proxies on all rows and columns | now: fits side by side, "
             "proxies on <= 20,000 rows x 65,536 columns | speed-up |", "|---|---|---|---|"]
    for name in stages:
        a, b = t_before.get(name, 0.0), t_now.get(name, 0.0)
        lines.append(f"| {name} | {a:.1f} s | {b:.1f} s | {a / b if b else float('nan'):.1f}x |")
    lines.append(f"| **whole run** | **{total_before:.0f} s** | **{total_now:.0f} s** | "
                 f"**{total_before / total_now:.1f}x** |")
    em_b, em_n = (r.metrics["end_model"] for r in (before, now))
    lines += ["", "| | before | now |", "|---|---|---|",
              f"| teacher chosen | {em_b['teacher']['name']} | {em_n['teacher']['name']} |",
              f"| end model test accuracy | {em_b['splits']['test']['accuracy']:.3f} | "
              f"{em_n['splits']['test']['accuracy']:.3f} |",
              f"| end model settings chosen on valid | {_chosen(em_b['chosen'])} | {_chosen(em_n['chosen'])} |",
              "", f"Peak RSS (getrusage) of the benchmark's process and of its finished child processes, "
              f"over both runs: {peak:.1f} GiB (joblib's worker processes still alive at the end are not "
              "counted)."]
    print(f"large: before {total_before:.0f} s, now {total_now:.0f} s", flush=True)
    return "\n".join(lines)


def part_halving(data_dir: Path) -> str:
    """Successive halving against the full grid of end-model settings: the end-model
    stage's time and what it chose, on trec x 40, and the choice on the small text
    datasets with halving forced (their grid is below ``HALVING_MIN_ROWS``)."""
    import tempfile

    from labelmill import load_wrench
    from labelmill.end_models import training
    from labelmill.pipeline import run

    def end_model_run(ds, search):
        starts = {}

        def progress(desc, done, total):
            starts.setdefault(desc.split(" (")[0], time.perf_counter())

        saved = training.HALVING_MIN_ROWS
        training.HALVING_MIN_ROWS = 0 if search == "halving" else 10 ** 12
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = run(ds, end_model="logreg", teacher="label_model", cache=False, progress=progress)
        finally:
            training.HALVING_MIN_ROWS = saved
        em = r.metrics["end_model"]
        return em, time.perf_counter() - starts["training the end model"]

    def row(name, n, search, em, seconds=None):
        valid = em["splits"]["valid"]["accuracy"]
        test = em["splits"]["test"]["accuracy"]
        t = "" if seconds is None else f" {seconds:.0f} s |"
        return f"| {name} | {n:,} | {search} |{t} {len(em['history'])} | {_chosen(em['chosen'])} | {valid:.3f} | {test:.3f} |"

    lines = ["trec's train split x40 (see `resampled_trec`), valid and test unchanged; "
             "`run(ds, end_model='logreg', teacher='label_model')`; the time is the end-model stage's "
             "(20 settings: 5 C x 2 ELR x 2 row sets), 2 cores.", "",
             "| data | train rows | search | end-model stage | fits | chosen on valid | valid acc | test acc |",
             "|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        ds = load_wrench(resampled_trec(data_dir, Path(tmp) / "trec_x40", copies=40))
        for search in ("grid", "halving"):
            em, seconds = end_model_run(ds, search)
            lines.append(row("trec x40", len(ds.train), search, em, seconds))
            print(f"halving: trec x40 {search} {seconds:.0f} s", flush=True)
    lines += ["", "Halving fits 20/9 + 7/3 + 3 = 7.6 settings' worth of rows against the grid's 20 (2.6x "
              "fewer); the time gained is smaller than that (the time per fit was not broken down)."]
    lines += ["", "Halving forced on the small text datasets (rounds on 1/9 and 1/3 of a few thousand rows, "
              "a harder case for it than large data):", "",
              "| data | train rows | search | fits | chosen on valid | valid acc | test acc |",
              "|---|---|---|---|---|---|---|"]
    for name in TEXT_DATASETS:
        ds = load_wrench(data_dir / name)
        for search in ("grid", "halving"):
            em, _ = end_model_run(ds, search)
            lines.append(row(name, len(ds.train), search, em))
        print(f"halving: {name} done", flush=True)
    return "\n".join(lines)


def main():
    run_parts(__doc__, "bench_end_models.py", {
        "datasets": ("1. Text datasets, TF-IDF features", lambda a: part_datasets(a.data)),
        "scale": ("2. Logistic regression at 1,000,000 x 2^18", lambda a: part_scale()),
        "mlp": ("3. MLP on a large sparse vocabulary", lambda a: part_mlp()),
        "large": ("4. The whole run on 50,000 rows", lambda a: part_large(a.data)),
        "halving": ("5. Comparing the end model's settings by successive halving", lambda a: part_halving(a.data)),
    }, ["datasets", "scale", "mlp"], ROOT / "results" / "end_models.md")


if __name__ == "__main__":
    main()
