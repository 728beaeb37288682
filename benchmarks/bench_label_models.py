"""Label-model test accuracy on every dataset in ../shared/data, labelmill beside its peers.

Usage (from the repo root):
    python benchmarks/bench_label_models.py [--data ../shared/data] [--out benchmarks/results/label_models.md]

Every model is fitted on the train votes without gold (on valid + test votes when there is
no train split) and scored on test; `auto` also sees the valid gold to choose. Peers are
run in the same process when importable (Snorkel 0.10 LabelModel and MajorityLabelVoter,
crowd-kit DawidSkene); their uncovered / tied rows are broken at random, as in
../shared/data/README.md. The bar: on every dataset, auto >= best of the three peers'
reference figures - max(1 point, one test example), and auto's mean > the best peer's mean.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from labelmill._io import atomic_path  # noqa: E402
from labelmill.datasets import load_wrench  # noqa: E402
from labelmill.label_models import make_label_model  # noqa: E402
from labelmill.pipeline import fit_label_model  # noqa: E402

# ../shared/data/README.md: majority vote, Snorkel 0.10 LabelModel, crowd-kit 1.4 DawidSkene
REFERENCE = {
    "youtube": (0.840, 0.864, 0.524), "sms": (0.632, 0.600, 0.660), "trec": (0.608, 0.473, 0.278),
    "semeval": (0.773, 0.813, 0.318), "hausa": (0.474, 0.488, 0.277), "spouse_small": (0.577, 0.520, 0.431),
    "crowd_product": (0.891, 0.462, 0.934), "crowd_dog": (0.814, 0.845, 0.857), "crowd_rte": (0.887, 0.831, 0.912),
    "crowd_duck": (0.714, 0.857, 0.810), "crowd_wsd": (0.971, 0.514, 0.971),
}
OURS = ["auto", "majority", "weighted_majority", "dawid_skene", "moments"]


def run_peers(ds, seed=0):
    """Test accuracy of each importable peer, fitted on train votes."""
    out = {}
    L_tr = ds.train.L.to_dense().astype(int)
    L_te, y = ds.test.L.to_dense().astype(int), ds.test.gold
    k = ds.n_classes
    try:
        from snorkel.labeling.model import LabelModel, MajorityLabelVoter

        mv = MajorityLabelVoter(cardinality=k)
        out["snorkel_majority"] = float((mv.predict(L_te, tie_break_policy="random") == y).mean())
        lm = LabelModel(cardinality=k, verbose=False)
        lm.fit(L_tr, n_epochs=100, seed=seed, progress_bar=False)
        out["snorkel_label_model"] = float((lm.predict(L_te, tie_break_policy="random") == y).mean())
    except ImportError:
        pass
    try:
        import pandas as pd
        from crowdkit.aggregation import DawidSkene as CKDawidSkene

        rows, cols = np.nonzero(np.vstack([L_tr, L_te]) >= 0)
        allL = np.vstack([L_tr, L_te])
        df = pd.DataFrame({"task": rows, "worker": cols, "label": allL[rows, cols]})
        agg = CKDawidSkene(n_iter=100).fit_predict(df)
        n_tr = len(L_tr)
        rng = np.random.default_rng(seed)
        pred = rng.integers(0, k, len(y))
        for t, lab in agg.items():
            if t >= n_tr:
                pred[t - n_tr] = lab
        out["crowdkit_dawid_skene"] = float((pred == y).mean())
    except ImportError:
        pass
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "label_models.md"))
    ap.add_argument("--no-peers", action="store_true")
    args = ap.parse_args(argv)
    data = Path(args.data)
    names = sorted(p.name for p in data.iterdir() if (p / "test.json").exists() and (p / "train.json").exists())
    rows, peer_cols = [], []
    for name in names:
        ds = load_wrench(data / name)
        res, t0 = {}, time.perf_counter()
        for m in OURS:
            model, _, _ = fit_label_model(ds, make_label_model(m), random_state=0)
            res[m] = float((model.predict(ds.test.L) == ds.test.gold).mean())
            if m == "auto":
                res["auto_choice"] = model.best_name_
        res["seconds"] = time.perf_counter() - t0
        if not args.no_peers:
            peers = run_peers(ds)
            res.update(peers)
            peer_cols += [p for p in peers if p not in peer_cols]
        ref = REFERENCE.get(name)
        if ref:
            res["bar"] = max(ref) - max(0.01, 1 / len(ds.test.gold))
        rows.append((name, res))
        print(name, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in res.items()}, flush=True)

    header = ["dataset", *OURS, *peer_cols, "ref best peer", "bar", "auto passes", "auto chose"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    ref_rows = [(n, r) for n, r in rows if n in REFERENCE]
    for name, r in rows:
        ref = REFERENCE.get(name)
        cells = [name] + [f"{r[m]:.3f}" for m in OURS] + [f"{r[p]:.3f}" if p in r else "-" for p in peer_cols]
        cells += [f"{max(ref):.3f}" if ref else "-", f"{r['bar']:.3f}" if ref else "-",
                  ("yes" if r["auto"] >= r["bar"] - 1e-9 else "**no**") if ref else "-", r["auto_choice"]]
        lines.append("| " + " | ".join(cells) + " |")
    mean = {m: np.mean([r[m] for _, r in ref_rows]) for m in OURS}
    peer_means = [np.mean([REFERENCE[n][i] for n, _ in ref_rows]) for i in range(3)]
    lines.append("| **mean** | " + " | ".join(f"{mean[m]:.3f}" for m in OURS) + " | "
                 + " | ".join("" for _ in peer_cols) + (" | " if peer_cols else "")
                 + f"best peer mean {max(peer_means):.3f} | | {'yes' if mean['auto'] > max(peer_means) else '**no**'} | |")
    n_pass = sum(r["auto"] >= r["bar"] - 1e-9 for _, r in ref_rows)
    text = "\n".join([
        "# Label models: test accuracy",
        "",
        f"Command: `python benchmarks/bench_label_models.py` (run {datetime.date.today()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores).",
        "",
        "Fitted on train votes without gold; `auto` chooses with the valid gold. Peer columns are "
        "measured in this run (ties and uncovered rows broken at random); 'ref best peer' is the best of "
        "the three reference figures in ../shared/data/README.md; bar = ref best - max(1 point, one test example).",
        "",
        *lines,
        "",
        f"auto clears the per-dataset bar on {n_pass} of {len(ref_rows)} datasets; its mean "
        f"{mean['auto']:.3f} vs the best peer's reference mean {max(peer_means):.3f}.",
        "",
    ])
    with atomic_path(args.out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
