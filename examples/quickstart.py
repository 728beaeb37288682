"""The README's Python quick-start, runnable as is: python examples/quickstart.py"""

import labelmill as lm
from labelmill import ABSTAIN, apply_lfs, keyword_lf, labeling_function, lf_summary, regex_lf
from labelmill.label_models import AutoLabelModel, DawidSkene, MomentMatching

ds = lm.load_demo()                               # or lm.load_wrench("path/to/wrench/folder")
L = ds.train.L                                    # LabelMatrix: sparse N x M votes, abstain = -1
model = MomentMatching().fit(L)                   # learns how far to trust each source, without gold
proba = model.predict_proba(ds.test.L)            # (N, k) probabilistic labels
print(dict(zip(L.source_names, model.accuracy_.round(2))))

auto = AutoLabelModel().fit(L, L_valid=ds.valid.L, y_valid=ds.valid.gold)
print("auto chose", auto.best_name_, "test accuracy", (auto.predict(ds.test.L) == ds.test.gold).mean())

# crowd data comes long: one row per (item, annotator, label)
votes = L.to_long()                               # columns row, source, label
L2 = lm.LabelMatrix.from_long(votes, item="row", source="source", label="label",
                              items=range(L.n_rows), source_names=L.source_names)  # keep L's rows and columns
assert L2 == L
print(DawidSkene().fit(L2).predict_proba(L2)[:3].round(3))

# labeling functions over raw rows
subscribe = keyword_lf("subscribe", ["subscribe", "sub4sub"], label=1)
link = regex_lf("link", r"https?://|www\.", label=1)


@labeling_function()
def short(x):
    return 0 if len(x.text.split()) < 5 else ABSTAIN


L3 = apply_lfs([subscribe, link, short], ds.train.examples, cache=False, progress=False)
print(lf_summary(L3, y=ds.train.gold))

# propagation and an end model, as `labelmill run --propagate --end-model logreg` does
from labelmill.pipeline import run  # noqa: E402

from labelmill.end_models.saved import load_end_model  # noqa: E402

result = run(ds, "auto", propagate_labels=True, end_model="logreg", cache=False, out_dir="labelmill-out")
em = result.metrics["end_model"]
fill = result.metrics["train_labels"]["propagator"]["uncovered_fill"]  # spreading, prior or classifier
print("train labels after propagation", round(result.metrics["train_labels"]["after"]["accuracy"], 3),
      "(uncovered rows:", fill["chosen"] + ")",
      "| end model test accuracy", round(em["splits"]["test"]["accuracy"], 3), "learned from", em["teacher"]["name"])
model = load_end_model("labelmill-out/model")    # the featurizer + the calibrated classifier
print(model.predict_proba(ds.test.examples)[:3].round(3))  # new rows: (N, k) probabilities
