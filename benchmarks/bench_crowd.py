"""Crowd aggregation: `labelmill.aggregate` beside crowd-kit on the crowd tables' original answers.

Usage (from the repo root; crowd-kit lives in the peers' venv):
    /work/venv-peers/bin/python benchmarks/bench_crowd.py [--data ../shared/data] [--out benchmarks/results/crowd.md]

For each ``crowd_*/orig`` folder of ../shared/data: the long answer table (answer.csv, or
the Snow et al. ``*.standardized.tsv`` with its label mapping from worker_index.json) is
aggregated over every item, and every item with truth is scored. Both sides fit on the
same answers in the same run; times are fit + predict, best of 3.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from labelmill._io import atomic_path  # noqa: E402
from labelmill.crowd import aggregate  # noqa: E402

OURS = {"majority": {}, "dawid_skene": {}, "dawid_skene one-coin": {"one_coin": True}, "auto": {}}


def load_answers(folder: Path) -> tuple[pd.DataFrame, pd.Series]:
    """(answers with columns task, worker, label; truth by task) from a crowd ``orig`` folder."""
    if (folder / "answer.csv").exists():
        a = pd.read_csv(folder / "answer.csv").rename(columns={"question": "task", "answer": "label"})
        truth = pd.read_csv(folder / "truth.csv").set_index("question")["truth"]
        return a, truth.rename_axis("task")
    raw = pd.read_csv(next(folder.glob("*.standardized.tsv")), sep="\t")
    mapping = {int(k): v for k, v in json.loads((folder / "worker_index.json").read_text())
               ["label_mapping_from_orig"].items()}
    a = pd.DataFrame({"task": raw["orig_id"], "worker": raw["!amt_worker_ids"], "label": raw["response"].map(mapping)})
    # Snow et al.'s tables repeat a few (task, worker) answers: keep the last, as the WRENCH copy does
    a = a.drop_duplicates(["task", "worker"], keep="last")
    truth = raw.groupby("orig_id")["gold"].first().map(mapping).rename_axis("task")
    return a, truth


def best_time(fn, repeat=3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def run_ours(a, truth):
    res = {}
    for name, params in OURS.items():
        model = name.split()[0]
        agg, sec = best_time(lambda: aggregate(a, item="task", annotator="worker", label="label",
                                               label_model=model, **params))
        scored = truth.reindex(agg.labels.index).notna().to_numpy()
        y = truth.reindex(agg.labels.index).to_numpy()[scored].astype(int)
        res[f"labelmill {name}"] = (float((agg.labels["label"].to_numpy()[scored] == y).mean()), sec)
    return res


def run_crowdkit(a, truth):
    try:
        from crowdkit.aggregation import DawidSkene, MajorityVote, OneCoinDawidSkene
    except ImportError:
        return {}
    res = {}
    for name, make in (("MajorityVote", MajorityVote), ("DawidSkene", lambda: DawidSkene(n_iter=100)),
                       ("OneCoinDawidSkene", lambda: OneCoinDawidSkene(n_iter=100))):
        pred, sec = best_time(lambda: make().fit_predict(a))
        common = truth.index.intersection(pred.index)
        res[f"crowd-kit {name}"] = (float((pred.loc[common].to_numpy() == truth.loc[common].to_numpy()).mean()), sec)
    return res


def run_scale(folder: Path, times: int) -> list[str]:
    """Dawid-Skene on crowd_product's answers repeated ``times`` times, each copy's tasks
    renamed (same workers): time (one run each) and accuracy, labelmill vs crowd-kit."""
    import resource

    a, truth = load_answers(folder)
    big = pd.concat([a.assign(task=a.task + f"#{i}") for i in range(times)], ignore_index=True)
    big_truth = pd.concat([truth.rename(lambda t: f"{t}#{i}") for i in range(times)])
    out = {}
    t0 = time.perf_counter()
    agg = aggregate(big, item="task", annotator="worker", label="label")
    sec = time.perf_counter() - t0
    y = big_truth.reindex(agg.labels.index)
    known = y.notna().to_numpy()
    out["labelmill dawid_skene"] = (float((agg.labels["label"].to_numpy()[known] == y.to_numpy()[known]).mean()), sec)
    try:
        from crowdkit.aggregation import DawidSkene
    except ImportError:
        DawidSkene = None
    if DawidSkene is not None:
        t0 = time.perf_counter()
        pred = DawidSkene(n_iter=100).fit_predict(big)
        sec = time.perf_counter() - t0
        common = big_truth.index.intersection(pred.index)
        out["crowd-kit DawidSkene"] = (float((pred.loc[common].to_numpy() == big_truth.loc[common].to_numpy()).mean()),
                                       sec)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print("scale", {k: (round(v[0], 3), round(v[1], 2)) for k, v in out.items()}, flush=True)
    lines = ["## Scale", "",
             f"crowd_product's answers x {times} ({big.task.nunique()} items, {big.worker.nunique()} workers, "
             f"{len(big)} answers), one run each:", "",
             "| | accuracy | seconds |", "|---|---|---|"]
    lines += [f"| {k} | {acc:.3f} | {sec:.2f} |" for k, (acc, sec) in out.items()]
    if len(out) == 2:
        lines += ["", f"labelmill is {out['crowd-kit DawidSkene'][1] / out['labelmill dawid_skene'][1]:.0f}x faster. "
                      f"Peak RSS of the whole benchmark process: {peak:.1f} GiB."]
    return lines + [""]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "crowd.md"))
    ap.add_argument("--scale", type=int, default=40,
                    help="also aggregate crowd_product's answers repeated this many times (tasks renamed); 1 = skip")
    args = ap.parse_args(argv)
    data = Path(args.data)
    rows, cols = [], []
    for folder in sorted(data.glob("crowd_*/orig")):
        a, truth = load_answers(folder)
        res = {**run_ours(a, truth), **run_crowdkit(a, truth)}
        cols += [c for c in res if c not in cols]
        info = f"{a.task.nunique()} items, {a.worker.nunique()} workers, {len(a)} answers"
        rows.append((folder.parent.name, info, res))
        print(folder.parent.name, info, {k: (round(v[0], 3), round(v[1], 3)) for k, v in res.items()}, flush=True)

    def table(i, fmt):
        lines = ["| dataset | size | " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) + 2)]
        for name, info, res in rows:
            lines.append(f"| {name} | {info} | " + " | ".join(fmt(res[c][i]) if c in res else "-" for c in cols) + " |")
        return lines

    scale_lines = []
    if args.scale > 1:
        scale_lines = run_scale(data / "crowd_product" / "orig", args.scale)

    ds_ours = [r["labelmill dawid_skene"] for _, _, r in rows]
    ds_ck = [r["crowd-kit DawidSkene"] for _, _, r in rows if "crowd-kit DawidSkene" in r]
    summary = []
    if len(ds_ck) == len(ds_ours) and ds_ours:
        summary = [f"Dawid-Skene, labelmill vs crowd-kit: mean accuracy {np.mean([a for a, _ in ds_ours]):.3f} vs "
                   f"{np.mean([a for a, _ in ds_ck]):.3f}; total time {sum(t for _, t in ds_ours):.2f} s vs "
                   f"{sum(t for _, t in ds_ck):.2f} s ({sum(t for _, t in ds_ck) / sum(t for _, t in ds_ours):.0f}x).",
                   ""]
    text = "\n".join([
        "# Crowd aggregation: labelmill vs crowd-kit",
        "",
        f"Command: `/work/venv-peers/bin/python benchmarks/bench_crowd.py` (run {datetime.date.today()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores).",
        "",
        "Every item of each crowd table's original answers, fitted without gold and scored against its truth "
        "(ties: labelmill breaks them with the seed, crowd-kit by its own rule). labelmill's `auto` has no gold "
        "here, so it chooses by held-out source agreement.",
        "",
        "## Accuracy",
        "",
        *table(0, lambda v: f"{v:.3f}"),
        "",
        "## Seconds (fit + predict, best of 3)",
        "",
        *table(1, lambda v: f"{v:.3f}"),
        "",
        *summary,
        *scale_lines,
    ])
    with atomic_path(args.out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
