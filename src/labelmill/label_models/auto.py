"""`auto`: choose a label model per dataset.

With gold labels on a validation split, every candidate is fitted on the training
votes and scored on the validation votes. Each candidate is tried twice: with its
own class-balance handling, and with the class balance set to the (add-one
smoothed) frequencies of the validation gold (only when that gold holds every class
the training votes vote for: frequencies of a split labelled for some classes only are
no class balance). Validation sets are small, so
accuracy differences within ``tolerance_se`` binomial standard errors of the best
are treated as noise: among the candidates that close to the best, the one with the
highest held-out source agreement (below) wins; remaining ties go to the lower
validation log loss, then to the earlier candidate.

Without gold, the documented unsupervised criterion is *held-out source agreement*:
the sources are split into ``n_source_folds`` folds; each candidate is fitted on the
votes of all other folds and scored by the mean probability it gives to the votes of
the held-out sources (on rows where they vote). If sources are conditionally
independent given the class and better than random, a held-out source agrees more
often with a more accurate prediction, so this ranks candidates by accuracy without
gold. It needs at least 3 sources; with fewer, ``auto`` falls back to majority vote.

EM and moment fits sometimes settle on a degenerate solution that calls nearly every
row one class, and such a model can still agree well with held-out sources that mostly
vote that class. So without gold, a candidate whose predicted class mix on the covered
rows differs from majority vote's by more than ``max_class_shift`` (total variation
distance; default 0.25) is not chosen. On the 11 datasets of ../shared/data with their
valid gold hidden, this took the mean valid accuracy of the unsupervised choice from
0.734 to 0.781 (spouse_small 0.398 -> 0.789, semeval 0.629 -> 0.758; no dataset lower).
"""

from __future__ import annotations

import numpy as np

from ..evaluation import check_gold, log_loss
from .._checks import check_number
from ..matrix import LabelMatrix
from .base import LabelModel, align_sources, as_label_matrix, break_ties
from .dawid_skene import DawidSkene
from .majority import MajorityVote, WeightedMajorityVote
from .moments import MomentMatching


#: without gold, candidates' class mixes are compared on at most this many rows (a random sample)
CLASS_MIX_ROWS = 50_000


def default_candidates(random_state=0) -> dict[str, LabelModel]:
    """The candidates `auto` chooses among, by name (order = tie-break preference)."""
    rs = random_state
    return {
        "moments": MomentMatching(random_state=rs),
        "moments_estimated_balance": MomentMatching(class_balance="estimated", random_state=rs),
        "moments_abstain_model": MomentMatching(abstain="model", random_state=rs),
        "dawid_skene": DawidSkene(random_state=rs),
        "dawid_skene_one_coin": DawidSkene(one_coin=True, random_state=rs),
        "dawid_skene_abstain_model": DawidSkene(abstain="model", random_state=rs),
        "dawid_skene_one_coin_abstain_model": DawidSkene(one_coin=True, abstain="model", random_state=rs),
        "weighted_majority": WeightedMajorityVote(random_state=rs),
        "majority": MajorityVote(random_state=rs),
    }


def _row_sample(L: LabelMatrix, max_rows: int, rng: np.random.Generator) -> LabelMatrix:
    """L itself, or a random ``max_rows`` of its rows (in their order) when it has more."""
    if L.n_rows <= max_rows:
        return L
    return L[np.sort(rng.choice(L.n_rows, max_rows, replace=False))]


def held_out_source_agreement(model: LabelModel, L: LabelMatrix, n_folds: int = 5, max_rows: int = 50_000,
                              random_state=0) -> float:
    """Unsupervised score of a label model on votes L (higher is better).

    Splits sources into folds (assigned by source name, so the score does not depend
    on column order); for each, fits a clone on the other sources and returns the mean
    over held-out votes of the probability the model gives to that vote.
    """
    rng = np.random.default_rng(random_state)
    L = _row_sample(L, max_rows, rng)
    m = L.n_sources
    # folds follow source *names*, not column positions, so reordering sources
    # cannot change the score
    by_name = np.argsort(np.asarray(L.source_names, dtype=object).astype(str), kind="stable")
    folds = np.array_split(by_name[rng.permutation(m)], min(n_folds, m))
    total, count = 0.0, 0
    for held in folds:
        keep = np.setdiff1d(np.arange(m), held)
        P = model.clone().fit(L.select_sources(keep)).predict_proba(L.select_sources(keep))
        H = L.select_sources(held)
        total += float(P[H.rows, H.labels].sum())
        count += H.nnz
    return total / max(count, 1)


class AutoLabelModel(LabelModel):
    """Chooses among label models per dataset; see the module docstring for how.

    ``fit(L, class_balance=None, L_valid=None, y_valid=None)``: pass the validation
    votes and gold (-1 = unknown) to select on them.

    Parameters
    ----------
    candidates : None (``default_candidates``) or a non-empty dict ``{name: model}`` whose
        values are unfitted label models or registry names of ``LABEL_MODELS`` (e.g.
        ``{"mv": "majority", "ds": DawidSkene(one_coin=True)}``; a name is built with
        ``make_label_model(name, random_state=random_state)``; "auto" is not a candidate)
    tolerance_se : float >= 0, see the module docstring
    max_class_shift : float in (0, 1], without gold: the largest total variation distance
        between a candidate's predicted class mix and majority vote's, on covered rows, for
        the candidate to be chosen (1 = no limit); see the module docstring
    n_source_folds : int >= 2, folds of sources for held-out source agreement
    max_moment_dim : int >= 0, see below
    progress : bool or None, see below
    score_rows : "all" or "covered", see below
    random_state : int or None

    Parameters are checked in ``fit`` (ValueError naming the parameter and its range).

    ``score_rows``: "all" scores candidates on every valid row with gold (uncovered rows
    get the model's class prior); "covered" only on valid rows where some source voted,
    for when a later stage (propagation, an end model) labels the uncovered rows. On data
    where most rows are uncovered, "all" can prefer a model that says "majority class"
    everywhere, which is poor training signal.

    ``progress``: a progress bar over the candidates (None = only for large inputs,
    two million votes or more).

    Moment-matching candidates are skipped when ``n_sources * n_classes`` exceeds
    ``max_moment_dim`` (their moment matrix grows as its square; crowd data with
    thousands of annotators is Dawid-Skene territory anyway).

    Attributes
    ----------
    best_name_ : str, the chosen candidate
    best_model_ : LabelModel, the chosen, fitted candidate
    selection_ : "valid" or "held_out_sources" or "fallback"
    valid_ignored_ : True when the valid gold held a single class, which cannot rank the
        candidates (predicting it everywhere wins), so held-out source agreement chose
    scores_ : list of dict, one per candidate tried: name, score(s)
    candidates_ : {name: fitted LabelModel} of every candidate scored on valid (empty
        without valid gold); the end-model stage may pick its teacher among them
    accuracy_, class_balance_ : those of the chosen model
    """

    name = "auto"

    def __init__(self, candidates: dict | None = None, tolerance_se: float = 0.5, n_source_folds: int = 5,
                 max_moment_dim: int = 4000, progress: bool | None = None, score_rows: str = "all",
                 max_class_shift: float = 0.25, random_state: int | None = 0):
        self.candidates = candidates
        self.max_class_shift = max_class_shift
        self.score_rows = score_rows
        self.progress = progress
        self.tolerance_se = tolerance_se
        self.max_moment_dim = max_moment_dim
        self.n_source_folds = n_source_folds
        self.random_state = random_state

    def fit(self, L, class_balance=None, n_classes=None, L_valid=None, y_valid=None) -> "AutoLabelModel":
        self._L_valid, self._y_valid = L_valid, y_valid
        try:
            return super().fit(L, class_balance=class_balance, n_classes=n_classes)
        finally:
            del self._L_valid, self._y_valid

    def _check_params(self) -> dict:
        """Check the parameters; returns the candidates as ``{name: LabelModel}``."""
        check_number(self.n_source_folds, "n_source_folds", integer=True, low=2)
        check_number(self.tolerance_se, "tolerance_se", low=0)
        check_number(self.max_moment_dim, "max_moment_dim", integer=True, low=0)
        check_number(self.max_class_shift, "max_class_shift", low=0, high=1, low_open=True)
        if self.score_rows not in ("all", "covered"):
            raise ValueError(f"score_rows must be 'all' or 'covered', got {self.score_rows!r}")
        return self._candidates()

    def _candidates(self) -> dict:
        if self.candidates is None:
            return default_candidates(self.random_state)
        from . import LABEL_MODELS, make_label_model

        names = [n for n in LABEL_MODELS if n != "auto"]
        if not isinstance(self.candidates, dict) or not self.candidates:
            raise ValueError(f"candidates must be None or a non-empty dict {{name: label model or one of "
                             f"{', '.join(names)}}}, got {self.candidates!r}")
        out = {}
        for name, cand in self.candidates.items():
            if isinstance(cand, str):
                if cand not in names:
                    raise ValueError(f"candidates[{name!r}] = {cand!r} is not a label model name; accepted names "
                                     f"are {', '.join(names)} (or pass a label model, e.g. DawidSkene())")
                cand = make_label_model(cand, random_state=self.random_state)
            elif not isinstance(cand, LabelModel) or isinstance(cand, AutoLabelModel):
                raise ValueError(f"candidates[{name!r}] must be a label model (e.g. DawidSkene()) or one of the "
                                 f"names {', '.join(names)}, got {cand!r}")
            out[str(name)] = cand
        return out

    def _fit(self, L, class_balance):
        k = L.n_classes
        cands = self._check_params()
        if L.n_sources * k > self.max_moment_dim:
            # the moment matrix is (M*k)^2 floats: skip moment models for very many sources
            cands = {n: c for n, c in cands.items() if not isinstance(c, MomentMatching)}
        y_valid = _check_valid_gold(self._L_valid, self._y_valid, L)
        self.scores_ = []
        self.candidates_ = {}
        # valid gold with a single class cannot rank models (saying that class everywhere
        # wins): use the unsupervised criterion instead
        self.valid_ignored_ = y_valid is not None and len(np.unique(y_valid[y_valid >= 0])) == 1
        if y_valid is not None and (y_valid >= 0).any() and not self.valid_ignored_:
            Lv = align_sources(as_label_matrix(self._L_valid, k), L.source_names, "the training votes (L_valid)")
            known = y_valid >= 0
            if self.score_rows == "covered" and (known & (np.diff(Lv.indptr) > 0)).any():
                known &= np.diff(Lv.indptr) > 0
            Lv, yv = Lv[known], y_valid[known]
            balances = [("", class_balance)]
            # valid gold without a class the sources vote for (a valid split labelled for some
            # classes only) does not estimate the class balance: that class would get the add-one
            # floor, and a prior on the classes valid holds wins on valid and fails elsewhere
            if class_balance is None and np.isin(np.unique(L.labels), yv).all():
                balances.append(("+valid_balance", (np.bincount(yv, minlength=k) + 1.0) / (len(yv) + k)))
            fitted = []
            for name, cand in self._progress(cands.items(), L, "auto: fitting candidates"):
                for suffix, cb in balances:
                    model = cand.clone().fit(L, class_balance=cb)
                    P = model.predict_proba(Lv)
                    acc = float((break_ties(P, self.random_state) == yv).mean())
                    ll = log_loss(P, yv, eps=1e-6)
                    self.scores_.append({"name": name + suffix, "valid_accuracy": acc, "valid_log_loss": ll})
                    fitted.append((name + suffix, cand, cb, model))
            accs = np.array([r["valid_accuracy"] for r in self.scores_])
            top = accs.max()
            margin = self.tolerance_se * np.sqrt(top * (1 - top) / len(yv))
            near = [i for i in range(len(fitted)) if accs[i] >= top - margin - 1e-12]
            if len(near) > 1 and L.n_sources >= 3:
                for i in near:
                    name, cand, cb, _ = fitted[i]
                    self.scores_[i]["held_out_source_agreement"] = held_out_source_agreement(
                        _WithBalance(cand, cb), L, self.n_source_folds, random_state=self.random_state)
            best = max(near, key=lambda i: (self.scores_[i].get("held_out_source_agreement", 0.0),
                                            -self.scores_[i]["valid_log_loss"], -i))
            self.selection_ = "valid"
            self.best_name_, self.best_model_ = fitted[best][0], fitted[best][3]
            self.candidates_ = {name: model for name, _, _, model in fitted}
        elif L.n_sources >= 3:
            # class mixes are compared on at most CLASS_MIX_ROWS rows, as held-out agreement
            # subsamples: a full fit of every candidate would dominate on millions of rows
            S = _row_sample(L, CLASS_MIX_ROWS, np.random.default_rng(self.random_state))
            covered = np.diff(S.indptr) > 0
            reference = _class_mix(MajorityVote(random_state=self.random_state).fit(S, class_balance=class_balance),
                                   S, covered, self.random_state)
            best = None
            for name, cand in self._progress(cands.items(), L, "auto: held-out source agreement"):
                s = held_out_source_agreement(cand, L, self.n_source_folds, random_state=self.random_state)
                mix = _class_mix(cand.clone().fit(S, class_balance=class_balance), S, covered, self.random_state)
                shift = 0.5 * float(np.abs(mix - reference).sum())
                eligible = shift <= self.max_class_shift
                self.scores_.append({"name": name, "held_out_source_agreement": s, "class_shift": shift,
                                     "eligible": eligible})
                if eligible and (best is None or s > best[0]):
                    best = (s, name, cand)
            self.selection_ = "held_out_sources"
            if best is None:  # every candidate shifted (custom candidates only: majority vote has 0)
                best = (None, "majority", MajorityVote(random_state=self.random_state))
            self.best_name_ = best[1]
            self.best_model_ = best[2].clone().fit(L, class_balance=class_balance)
        else:
            self.selection_ = "fallback"
            self.best_name_ = "majority"
            self.best_model_ = MajorityVote(random_state=self.random_state).fit(L, class_balance=class_balance)
        self.class_balance_ = self.best_model_.class_balance_
        self.accuracy_ = getattr(self.best_model_, "accuracy_", None)

    def _progress(self, items, L, desc):
        """A tqdm bar over the candidates when the data is large enough to take a while."""
        show = self.progress if self.progress is not None else L.nnz >= 2_000_000
        if not show:
            return items
        from tqdm.auto import tqdm

        items = list(items)
        return tqdm(items, desc=desc, total=len(items), leave=False)

    def _predict_proba(self, L):
        return self.best_model_.predict_proba(L)


def _class_mix(model: LabelModel, L: LabelMatrix, covered: np.ndarray, random_state) -> np.ndarray:
    """(k,) share of each predicted class over the covered rows (uniform if none)."""
    k = L.n_classes
    if not covered.any():
        return np.full(k, 1.0 / k)
    pred = break_ties(model.predict_proba(L[np.flatnonzero(covered)]), random_state)
    return np.bincount(pred, minlength=k) / len(pred)


def _check_valid_gold(L_valid, y_valid, L: LabelMatrix) -> np.ndarray | None:
    """``y_valid`` as an int array (-1 = unknown; NaN counts as unknown), checked against
    ``L_valid`` and the training votes ``L``; None when no gold was given."""
    if y_valid is None:
        return None
    if L_valid is None:
        raise ValueError("y_valid was given without L_valid: pass the validation votes too")
    k = L.n_classes
    y = check_gold(y_valid, k, "y_valid")
    Lv = as_label_matrix(L_valid, k)
    if Lv.n_rows != len(y):
        raise ValueError(f"L_valid has {Lv.n_rows} rows but y_valid has {len(y)}")
    if Lv.n_sources != L.n_sources:
        raise ValueError(f"L_valid has {Lv.n_sources} sources but the training votes have {L.n_sources}")
    return y


class _WithBalance:
    """A candidate with a fixed class balance, in the clone/fit/predict_proba protocol."""

    def __init__(self, model, class_balance):
        self.model, self.class_balance = model, class_balance

    def clone(self):
        return _WithBalance(self.model.clone(), self.class_balance)

    def fit(self, L):
        self.model.fit(L, class_balance=self.class_balance)
        return self

    def predict_proba(self, L):
        return self.model.predict_proba(L)
