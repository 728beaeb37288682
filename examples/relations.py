"""Relation data: two entity mentions per row, as character spans.

In WRENCH's relation datasets (semeval, cdr, chemprot) each row has ``text`` plus
``span1``/``span2`` (``[start, end)`` of the two mentions). The words between the mentions
state the relation ("X is a component of Y"), so labelmill's TF-IDF adds them, and the
mentions' order, as extra blocks whenever the table has span columns. This script trains
the end model with and without those blocks.

Usage::

    python examples/relations.py [WRENCH_FOLDER]      # default: ../shared/data/semeval
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import labelmill as lm
from labelmill.features import TfidfFeaturizer
from labelmill.pipeline import run


def main(folder: Path) -> dict:
    """Returns test accuracies: {"auto": with spans, None: text only, "label_model": ...}."""
    ds = lm.load_wrench(folder)
    print(f"{ds.name}: {len(ds.train)} train rows, columns {list(ds.train.examples.columns)}")
    acc = {}
    for spans in ("auto", None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # moments is what `auto` picks on semeval; fixed end-model settings keep this quick
            r = run(ds, "moments", end_model="logreg", featurizer=TfidfFeaturizer(entity_spans=spans), cache=False,
                    train_rows="all", end_model_params={"C": 3.0, "elr": 0.0})
        acc[spans] = r.metrics["end_model"]["splits"]["test"]["accuracy"]
        label = "with the between-mentions block" if spans else "text only"
        print(f"end model, TF-IDF {label}: test accuracy {acc[spans]:.3f}")
    acc["label_model"] = r.metrics["splits"]["test"]["accuracy"]
    print(f"label model (moments): test accuracy {acc['label_model']:.3f}")
    return acc


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "semeval"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
