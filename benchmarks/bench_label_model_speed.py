#!/usr/bin/env python
"""Speed, accuracy and memory of labelmill's label models against Snorkel 0.10's LabelModel.

The bar (from the issue): on synthetic votes with 1,000,000 rows x 50 sources and k = 2,
the default model's ``fit`` + ``predict_proba`` is at least 5x faster than Snorkel's
``LabelModel`` (fit with 100 epochs, then ``predict_proba``), measured in the same run;
its accuracy is no lower than Snorkel's; and peak memory for the label matrix and the
model stays under 1 GiB.

What is timed, in one process, one model after the other:

* labelmill's default model, ``make_label_model()`` (``WeightedMajorityVote()`` with
  triplet-method accuracies): ``fit(L)`` then ``predict_proba(L)`` on a prebuilt ``LabelMatrix``;
* labelmill ``MomentMatching()`` (Snorkel's objective, solved our way): the same;
* labelmill ``AutoLabelModel()``: the same; with no validation gold it selects a model by
  held-out source agreement;
* Snorkel ``LabelModel(cardinality=k, verbose=False)``: ``fit(L, n_epochs=100, seed=0,
  progress_bar=False)`` then ``predict_proba(L)`` on a dense int64 (N, M) array.

Not timed, for either side: generating the votes (sparse COO arrays, never a dense
Python list), building the ``LabelMatrix`` (its build time is reported on its own line)
and building Snorkel's dense array from the same votes. Every model first runs once on
the first 2,000 rows (untimed warm-up), then ``--repeats`` times on all rows; the table
shows the fastest repeat of each.

Memory is measured in a fresh subprocess per model: it imports numpy, scipy and
labelmill and generates the same COO arrays, then resets the kernel's peak-RSS mark
(``/proc/self/clear_refs``) and builds the ``LabelMatrix``, fits and predicts. The number
reported is the peak resident memory above the RSS at the reset, i.e. everything the
label matrix build + fit + predict_proba allocated at its high point (numpy, scipy's
C++ temporaries, BLAS buffers alike), on top of the input COO arrays. Without
clear_refs it falls back to ru_maxrss minus that of a subprocess that only generates
the data.

Usage::

    python benchmarks/bench_label_model_speed.py [--rows 1000000] [--sources 50] [--seed 0]

Writes a Markdown report to ``benchmarks/results/label_model_speed.md`` (``--out``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(HERE, "results", "label_model_speed.md")
GIB = 2**30
MODELS = ("default", "moments", "auto")
MODEL_LABELS = {"default": "labelmill default (WeightedMajorityVote)", "moments": "labelmill MomentMatching()",
                "auto": "labelmill AutoLabelModel()",
                "snorkel": "Snorkel 0.10 LabelModel"}


# ---------------------------------------------------------------------- data
def make_votes(n_rows: int, n_sources: int, n_classes: int, seed: int, balance, coverage, accuracy):
    """Synthetic conditionally independent sources, as COO arrays.

    Returns y (n,), rows (nnz,) int32, sources (nnz,) int32, labels (nnz,) int8, and the
    per-source coverage and accuracy drawn. Source j votes on each row with probability
    coverage[j], independently; its vote is y with probability accuracy[j], else a
    class drawn uniformly from the other k-1. Votes come out grouped by source.
    """
    rng = np.random.default_rng(seed)
    y = rng.choice(n_classes, size=n_rows, p=balance).astype(np.int8)
    cov = rng.uniform(coverage[0], coverage[1], n_sources)
    acc = rng.uniform(accuracy[0], accuracy[1], n_sources)
    rows, srcs, labs = [], [], []
    for j in range(n_sources):
        r = np.flatnonzero(rng.random(n_rows) < cov[j]).astype(np.int32)
        lab = y[r].copy()
        wrong = rng.random(len(r)) >= acc[j]
        lab[wrong] = (lab[wrong] + rng.integers(1, n_classes, int(wrong.sum()))) % n_classes
        rows.append(r)
        srcs.append(np.full(len(r), j, dtype=np.int32))
        labs.append(lab.astype(np.int8))
    return y, np.concatenate(rows), np.concatenate(srcs), np.concatenate(labs), cov, acc


def votes_from_args(args):
    return make_votes(args.rows, args.sources, args.classes, args.seed, args.balance, args.coverage,
                      args.accuracy)


def dense_votes(rows, srcs, labs, n_rows, n_sources):
    L = np.full((n_rows, n_sources), -1, dtype=np.int64)
    L[rows, srcs] = labs
    return L


# ---------------------------------------------------------------------- models
def make_model(name: str, k: int):
    if name == "default":
        from labelmill.label_models import make_label_model
        return make_label_model()
    if name == "moments":
        from labelmill.label_models import MomentMatching
        return MomentMatching()
    if name == "auto":
        from labelmill.label_models import AutoLabelModel
        return AutoLabelModel()
    raise ValueError(name)


def run_labelmill(name, L, k):
    model = make_model(name, k)
    t0 = time.perf_counter()
    model.fit(L)
    t1 = time.perf_counter()
    P = model.predict_proba(L)
    t2 = time.perf_counter()
    return model, P, t1 - t0, t2 - t1


def best_of_repeats(name, run, y, repeats):
    """Run ``run() -> (model, P, fit_s, predict_s)`` ``repeats`` times; keep the fastest.

    Returns (result dict with fit_s, predict_s, accuracy of the first run, all_s; the
    list of (total_s, fit_s, predict_s, accuracy) runs; the last fitted model).
    """
    runs, model = [], None
    for _ in range(max(1, repeats)):
        gc.collect()
        model, P, fit_s, pred_s = run()
        a = float((P.argmax(axis=1) == y).mean())
        runs.append((fit_s + pred_s, fit_s, pred_s, a))
        print(f"{MODEL_LABELS[name]}: fit {fit_s:.3f} s + predict_proba {pred_s:.3f} s, accuracy {a:.4f}",
              flush=True)
        del P
    best = min(runs)
    return ({"fit_s": best[1], "predict_s": best[2], "accuracy": runs[0][3], "all_s": [r[0] for r in runs]},
            runs, model)


def run_snorkel(L_dense, k, epochs):
    from snorkel.labeling.model import LabelModel
    model = LabelModel(cardinality=k, verbose=False)
    t0 = time.perf_counter()
    model.fit(L_dense, n_epochs=epochs, seed=0, progress_bar=False)
    t1 = time.perf_counter()
    P = model.predict_proba(L_dense)
    t2 = time.perf_counter()
    return model, P, t1 - t0, t2 - t1


def snorkel_version():
    try:
        import snorkel
        return getattr(snorkel, "__version__", "?")
    except ImportError:
        return None


# ---------------------------------------------------------------------- memory
def _proc_status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    hwm, rss = _proc_status_kib("VmHWM"), _proc_status_kib("VmRSS")
    return hwm is not None and rss is not None and hwm <= rss + 1024


def memory_child(args) -> dict:
    """Run in a fresh process: generate votes, then build + fit + predict one model."""
    import scipy.sparse  # noqa: F401  (part of the baseline, as labelmill imports it)
    from labelmill.label_models import AutoLabelModel, MomentMatching  # noqa: F401
    from labelmill.matrix import LabelMatrix

    y, rows, srcs, labs, _, _ = votes_from_args(args)
    out = {"model": args._memory_child}
    if args._memory_child == "snorkel":
        from snorkel.labeling.model import LabelModel  # noqa: F401
        L_dense = dense_votes(rows, srcs, labs, args.rows, args.sources)
        del rows, srcs, labs
    gc.collect()
    out["baseline_rss_kib"] = _proc_status_kib("VmRSS")
    out["setup_peak_rss_kib"] = _proc_status_kib("VmHWM")  # imports + data generation
    out["hwm_reset"] = _reset_peak_rss()
    if args._memory_child == "baseline":
        pass
    elif args._memory_child == "snorkel":
        _, P, _, _ = run_snorkel(L_dense, args.classes, args.snorkel_epochs)
        out["accuracy"] = float((P.argmax(axis=1) == y).mean())
    else:
        L = LabelMatrix.from_coo(rows, srcs, labs, args.rows, args.classes)
        out["label_matrix_bytes"] = int(L.indptr.nbytes + L.sources.nbytes + L.labels.nbytes)
        _, P, _, _ = run_labelmill(args._memory_child, L, args.classes)
        out["accuracy"] = float((P.argmax(axis=1) == y).mean())
    out["peak_rss_kib"] = _proc_status_kib("VmHWM")
    out["ru_maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


def measure_memory(args, name: str) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--_memory-child", name] + _data_argv(args)
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"memory subprocess for {name} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def peak_extra_bytes(mem: dict, baseline: dict | None) -> tuple[int, str]:
    if mem.get("hwm_reset"):
        return (mem["peak_rss_kib"] - mem["baseline_rss_kib"]) * 1024, "VmHWM after reset - RSS at reset"
    base = baseline["ru_maxrss_kib"] if baseline else 0
    return (mem["ru_maxrss_kib"] - base) * 1024, "ru_maxrss - ru_maxrss of a data-only subprocess"


def _data_argv(args) -> list[str]:
    return ["--rows", str(args.rows), "--sources", str(args.sources), "--classes", str(args.classes),
            "--seed", str(args.seed), "--balance", ",".join(repr(float(b)) for b in args.balance),
            "--coverage", ",".join(map(repr, args.coverage)), "--accuracy", ",".join(map(repr, args.accuracy)),
            "--snorkel-epochs", str(args.snorkel_epochs)]


# ---------------------------------------------------------------------- report
def machine_facts() -> dict:
    import scipy

    facts = {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "snorkel": snorkel_version(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
    }
    try:
        import torch
        facts["torch"] = torch.__version__
        facts["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    facts["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as fh:
            facts["mem_total_gib"] = round(int(fh.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no", "--", "src"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        facts["labelmill_commit"] = head + (" + uncommitted changes in src/" if dirty else "") if head else None
    except (OSError, subprocess.SubprocessError):
        facts["labelmill_commit"] = None
    return facts


def fmt_s(x):
    return f"{x:.3f}" if x < 10 else f"{x:.2f}"


def fmt_bytes(b):
    mib = b / 2**20
    return f"{mib:,.1f} MiB" if abs(mib) < 10 else f"{mib:,.0f} MiB"


def build_report(args, command, facts, data_info, build_times, results, mem, mem_method, load_before,
                 load_after, started) -> str:
    sn = results.get("snorkel")
    lines = []
    ap = lines.append
    ap("# Label model speed: labelmill vs Snorkel 0.10")
    ap("")
    ap(f"Produced by `{command}` (run from the repository root) on {started} "
       f"in {data_info['wall_s']:.0f} s.")
    ap("")
    ap(f"Machine: {facts.get('cpu', '?')}, nproc = {facts['nproc']} (usable: {facts['usable_cpus']}), "
       f"{facts.get('mem_total_gib', '?')} GiB RAM; Python {facts['python']} on {facts['platform']}; "
       f"numpy {facts['numpy']}, scipy {facts['scipy']}, torch {facts.get('torch', '-')} "
       f"({facts.get('torch_threads', '-')} threads), snorkel {facts['snorkel'] or 'not installed'}; "
       f"OPENBLAS_CORETYPE={facts['OPENBLAS_CORETYPE'] or '(unset)'}, "
       f"OPENBLAS_NUM_THREADS={facts['OPENBLAS_NUM_THREADS'] or '(unset)'}. "
       f"labelmill commit {facts.get('labelmill_commit') or '?'}.")
    ap(f"Load average (1/5/15 min) before: {load_before}; after: {load_after}. The machine may be "
       f"shared, so times carry noise; each model ran {args.repeats}x and the fastest run is shown.")
    ap("")
    ap(f"Data: {args.rows:,} rows x {args.sources} sources, k = {args.classes}, seed {args.seed}; true class "
       f"balance {list(map(float, args.balance))}; per-source coverage ~ U{tuple(args.coverage)} and accuracy "
       f"~ U{tuple(args.accuracy)}, sources conditionally independent given y. {data_info['nnz']:,} votes "
       f"({data_info['nnz'] / args.rows:.2f} per row, {data_info['covered']:.4%} of rows covered); "
       f"majority-vote accuracy {data_info['mv_acc']:.4f}.")
    ap("")
    ap("Timed: `fit(L)` + `predict_proba(L)`. Not timed (either side): generating the votes, building "
       f"labelmill's `LabelMatrix` from COO arrays (best {fmt_s(min(build_times))} s, runs: "
       f"{', '.join(fmt_s(t) for t in build_times)}; {fmt_bytes(data_info['lm_bytes'])} stored)"
       + (f", building Snorkel's dense int64 array ({fmt_bytes(data_info['dense_bytes'])}, "
          f"{fmt_s(data_info['dense_build_s'])} s)" if sn is not None else "")
       + ". Accuracy = argmax of `predict_proba` vs the true y, on all rows.")
    ap("")
    ap("| model | fit + predict_proba (s) | fit (s) | predict_proba (s) | rows/s | accuracy | speed-up vs Snorkel | peak extra memory |")
    ap("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in ("default", "moments", "auto", "snorkel"):
        r = results.get(name)
        if r is None:
            continue
        tot = r["fit_s"] + r["predict_s"]
        ratio = f"{(sn['fit_s'] + sn['predict_s']) / tot:.1f}x" if sn else "n/a"
        m = mem.get(name)
        mem_s = fmt_bytes(m) if m is not None else "n/a"
        label = MODEL_LABELS[name] + (f" → {r['chosen']}" if r.get("chosen") else "")
        ap(f"| {label} | {fmt_s(tot)} | {fmt_s(r['fit_s'])} | {fmt_s(r['predict_s'])} | {args.rows / tot:,.0f} | "
           f"{r['accuracy']:.4f} | {ratio if name != 'snorkel' else '1.0x'} | {mem_s} |")
    ap("")
    ap("All runs (fit + predict_proba, s): " + "; ".join(
        f"{MODEL_LABELS[n]}: {', '.join(fmt_s(t) for t in results[n]['all_s'])}" for n in results) + ".")
    ap("")
    ap(f"Peak extra memory: measured in a fresh subprocess per model ({mem_method}): the high-water "
       "resident memory above the process's RSS just before the work starts, where that process has "
       "already imported numpy/scipy/labelmill and holds the input COO arrays "
       f"({fmt_bytes(data_info['coo_bytes'])}). For labelmill it covers building the LabelMatrix + fit + "
       "predict_proba (every allocation: numpy, scipy's C++ temporaries, BLAS buffers); for Snorkel, "
       "fit + predict_proba on its dense array, which that process already holds. Whole-process peak RSS "
       "(VmHWM; interpreter, imports, data generation and input included): "
       + "; ".join(f"{MODEL_LABELS[n]} {fmt_bytes(b)}" for n, b in mem.get("_abs", {}).items()) + ".")
    ap("")
    if sn is None:
        ap(f"**Snorkel was skipped**: {data_info.get('snorkel_skip_reason', 'not importable')}. "
           "The speed and accuracy bars cannot be checked in this run.")
        ap("")
    ap("## Bars")
    ap("")
    ap("| bar | " + " | ".join(MODEL_LABELS[n] for n in MODELS if n in results) + " |")
    ap("|---|" + "---|" * sum(1 for n in MODELS if n in results))
    for bar, check in [
        ("fit + predict_proba ≥ 5x faster than Snorkel",
         lambda r, n: None if sn is None else (sn["fit_s"] + sn["predict_s"]) / (r["fit_s"] + r["predict_s"]) >= 5),
        ("accuracy ≥ Snorkel's", lambda r, n: None if sn is None else r["accuracy"] >= sn["accuracy"]),
        ("peak memory (LabelMatrix build + model) < 1 GiB",
         lambda r, n: None if mem.get(n) is None else mem[n] < GIB),
    ]:
        cells = []
        for n in MODELS:
            if n not in results:
                continue
            ok = check(results[n], n)
            cells.append("not measured" if ok is None else ("**pass**" if ok else "**FAIL**"))
        ap(f"| {bar} | " + " | ".join(cells) + " |")
    ap("")
    for note in data_info.get("notes", []):
        ap(note)
        ap("")
    return "\n".join(lines).rstrip() + "\n"


def write_atomic(path: str, text: str) -> None:
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".label_model_speed.", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the report ordinary permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------- main
def _floats(s: str, n: int | None = None):
    vals = [float(x) for x in s.split(",")]
    if n is not None and len(vals) != n:
        raise argparse.ArgumentTypeError(f"expected {n} comma-separated numbers, got {s!r}")
    return vals


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--sources", type=int, default=50)
    p.add_argument("--classes", type=int, default=2, help="k (the bar is for k = 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--balance", type=str, default=None,
                   help="true class balance, k comma-separated numbers (default 0.6,0.4 for k=2, else uniform)")
    p.add_argument("--coverage", type=lambda s: _floats(s, 2), default=[0.05, 0.5],
                   help="per-source coverage range lo,hi (default 0.05,0.5)")
    p.add_argument("--accuracy", type=lambda s: _floats(s, 2), default=[0.55, 0.9],
                   help="per-source accuracy range lo,hi (default 0.55,0.9)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per model; the fastest is reported")
    p.add_argument("--snorkel-epochs", type=int, default=100)
    p.add_argument("--no-snorkel", action="store_true", help="skip Snorkel")
    p.add_argument("--no-auto", action="store_true", help="skip AutoLabelModel")
    p.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    p.add_argument("--out", default=DEFAULT_OUT, help="Markdown report path ('-' = do not write)")
    p.add_argument("--_memory-child", dest="_memory_child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    k = args.classes
    if k < 2:
        p.error("--classes must be >= 2")
    if args.balance is None:
        args.balance = [0.6, 0.4] if k == 2 else [1.0 / k] * k
    else:
        args.balance = _floats(args.balance, k)
    b = np.asarray(args.balance, dtype=float)
    if (b < 0).any() or b.sum() <= 0:
        p.error("--balance must be non-negative with a positive sum")
    args.balance = [float(x) for x in b / b.sum()]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args._memory_child:
        print(json.dumps(memory_child(args)))
        return 0

    started = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    t_start = time.perf_counter()
    command = shlex.join([sys.executable, sys.argv[0]] + sys.argv[1:])
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    facts = machine_facts()  # at the start: the commit recorded is the code this run imports

    from labelmill.label_models import MajorityVote
    from labelmill.matrix import LabelMatrix

    k = args.classes
    snorkel_skip_reason = None
    names = ["default", "moments"] + ([] if args.no_auto else ["auto"])
    snorkel_ok = False
    if not args.no_snorkel:
        try:
            import snorkel.labeling.model  # noqa: F401
            snorkel_ok = True
        except Exception as e:  # ImportError, or a broken torch install
            snorkel_skip_reason = f"`from snorkel.labeling.model import LabelModel` failed ({e!r})"
            print(f"Snorkel skipped: {e!r}", flush=True)
    else:
        snorkel_skip_reason = "--no-snorkel was given"
    # memory first, in subprocesses started while this process is still small
    mem, mem_method, mem_acc = {}, "not measured", {}
    if not args.no_memory:
        baseline = None
        mem["_abs"] = {}
        for name in names + (["snorkel"] if snorkel_ok else []):
            print(f"measuring peak memory of {MODEL_LABELS[name]} in a subprocess ...", flush=True)
            m = measure_memory(args, name)
            if not m.get("hwm_reset") and baseline is None:
                baseline = measure_memory(args, "baseline")
            mem[name], mem_method = peak_extra_bytes(m, baseline)
            mem["_abs"][name] = max(m["peak_rss_kib"] or 0, m["setup_peak_rss_kib"] or 0) * 1024
            mem_acc[name] = m["accuracy"]
            print(f"  peak extra {fmt_bytes(mem[name])}", flush=True)

    print(f"generating {args.rows:,} x {args.sources} votes (k={k}, seed={args.seed}) ...", flush=True)
    y, rows, srcs, labs, cov, acc = votes_from_args(args)
    data_info = {"nnz": int(len(rows)), "coo_bytes": int(rows.nbytes + srcs.nbytes + labs.nbytes), "notes": [],
                 "snorkel_skip_reason": snorkel_skip_reason}

    build_times = []
    for _ in range(max(1, args.repeats)):
        L = None
        gc.collect()
        t0 = time.perf_counter()
        L = LabelMatrix.from_coo(rows, srcs, labs, args.rows, k)
        build_times.append(time.perf_counter() - t0)
    data_info["lm_bytes"] = int(L.indptr.nbytes + L.sources.nbytes + L.labels.nbytes)
    data_info["covered"] = L.coverage()
    data_info["mv_acc"] = float((MajorityVote().fit(L).predict(L) == y).mean())
    data_info["dense_bytes"] = args.rows * args.sources * 8
    print(f"LabelMatrix: {L!r}, built in {min(build_times):.3f} s", flush=True)

    # warm-up on a small slice: lazy imports, BLAS / torch thread pools
    warm = min(2000, args.rows)
    Lw = L[:warm]
    for name in names:
        run_labelmill(name, Lw, k)
    if snorkel_ok:
        run_snorkel(Lw.to_dense(np.int64), k, args.snorkel_epochs)

    results = {}
    for name in names:
        results[name], runs, model = best_of_repeats(name, lambda: run_labelmill(name, L, k), y, args.repeats)
        if len({r[3] for r in runs}) > 1:
            data_info["notes"].append(f"Note: {MODEL_LABELS[name]} accuracy varied across repeats: "
                                      f"{[r[3] for r in runs]}.")
        if name == "auto":
            results[name]["chosen"] = model.best_name_
            data_info["notes"].append(
                f"AutoLabelModel (selection = {model.selection_!r}, no validation gold) chose "
                f"`{model.best_name_}`; held-out source agreement of each candidate: "
                + ", ".join(f"{s['name']} {s['held_out_source_agreement']:.4f}" for s in model.scores_
                            if "held_out_source_agreement" in s) + ".")
        del model

    if snorkel_ok:
        t0 = time.perf_counter()
        L_dense = dense_votes(rows, srcs, labs, args.rows, args.sources)
        data_info["dense_build_s"] = time.perf_counter() - t0
        results["snorkel"], _, _ = best_of_repeats("snorkel", lambda: run_snorkel(L_dense, k, args.snorkel_epochs),
                                                   y, args.repeats)
        del L_dense
    gc.collect()

    for name, a in mem_acc.items():
        if name in results and abs(a - results[name]["accuracy"]) > 1e-12:
            data_info["notes"].append(f"Note: the memory subprocess of {MODEL_LABELS[name]} got accuracy "
                                      f"{a:.6f}, the timed run {results[name]['accuracy']:.6f}.")
    data_info["notes"].append(
        "MomentMatching (class_balance='uniform') and Snorkel's LabelModel (no class_balance given) "
        f"assume a uniform class prior here; the true balance is {[round(b, 3) for b in args.balance]}.")
    data_info["wall_s"] = time.perf_counter() - t_start
    load_after = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    report = build_report(args, command, facts, data_info, build_times, results, mem, mem_method,
                          load_before, load_after, started)
    print()
    print(report)
    if args.out != "-":
        write_atomic(args.out, report)
        print(f"wrote {os.path.relpath(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
