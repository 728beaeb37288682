"""Label models: learn how far to trust each source without gold.

Every model has ``fit(L)``, ``predict_proba(L) -> (N, k)`` and ``predict(L) -> (N,)``.
"""

from __future__ import annotations

from .auto import AutoLabelModel, held_out_source_agreement
from .base import LabelModel, break_ties
from .dawid_skene import DawidSkene
from .majority import MajorityVote, WeightedMajorityVote
from .moments import MomentMatching

#: name -> class, as used by ``labelmill run --label-model NAME``
LABEL_MODELS = {
    "majority": MajorityVote,
    "weighted_majority": WeightedMajorityVote,
    "dawid_skene": DawidSkene,
    "moments": MomentMatching,
    "auto": AutoLabelModel,
}


#: the single model used when none is named: the triplet-weighted majority vote is fast
#: (closed form, one pass over the votes), consistent under the one-coin model and, unlike
#: the moment-matching and Dawid-Skene models, does not collapse on any bundled dataset.
#: The CLI's default is ``auto``, which chooses per dataset.
DEFAULT_LABEL_MODEL = "weighted_majority"


def make_label_model(name: str | None = None, **params) -> LabelModel:
    """Build a label model by its registry name (see ``LABEL_MODELS``); None = the default."""
    name = DEFAULT_LABEL_MODEL if name is None else name
    try:
        cls = LABEL_MODELS[name]
    except KeyError:
        raise ValueError(f"unknown label model {name!r}; choose one of {', '.join(LABEL_MODELS)}") from None
    return cls(**params)


__all__ = ["DEFAULT_LABEL_MODEL", "LabelModel", "MajorityVote", "WeightedMajorityVote", "DawidSkene", "MomentMatching",
           "AutoLabelModel", "LABEL_MODELS", "make_label_model", "break_ties", "held_out_source_agreement"]
