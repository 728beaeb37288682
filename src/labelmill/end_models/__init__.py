"""End models: discriminative classifiers trained on probabilistic (soft) labels.

Every model is scikit-learn compatible: ``fit(X, y, sample_weight=None)`` with X (N, d)
sparse or dense and y either (N,) class labels or (N, k) soft targets, then
``predict_proba(X) -> (N, k)`` and ``predict(X) -> (N,)``.

- ``SoftLogisticRegression``: L-BFGS softmax regression; scales to millions of sparse rows.
- ``SoftMLPClassifier``: a PyTorch MLP (needs the ``torch`` extra).
- ``SelfTrainer`` / ``self_train``: teacher-student rounds that reach uncovered rows.
- ``TemperatureScaling``, ``TopLabelIsotonic``, ``CalibratedClassifier``, ``reliability_diagram``: calibration.
- ``soft_neg_log_loss``: a scorer for ``GridSearchCV`` on soft targets.
- ``smooth_labels``, ``mixup``, ``confidence_weights``, ``filter_rows``: training options.
- ``training.train_end_model``: the stage (settings chosen on valid, calibration);
  ``teacher.choose_teacher``: which label model's labels to learn from.
"""

from __future__ import annotations

from .calibration import CalibratedClassifier, TemperatureScaling, TopLabelIsotonic, reliability_diagram
from .mlp import SoftMLPClassifier
from .options import confidence_weights, draw_mixup, filter_rows, mixup, smooth_labels
from .scoring import soft_neg_log_loss
from .self_training import SelfTrainer, self_train
from .soft_logreg import SoftLogisticRegression

#: name -> class, as a pipeline config or CLI names them
END_MODELS = {
    "logreg": SoftLogisticRegression,
    "mlp": SoftMLPClassifier,
}

#: the end model used when none is named
DEFAULT_END_MODEL = "logreg"


def make_end_model(name: str | None = None, **params):
    """Build an unfitted end model by registry name (see ``END_MODELS``); None = the default.

    Raises ValueError naming the valid choices for an unknown name, or for a parameter
    the model does not take.
    """
    name = DEFAULT_END_MODEL if name is None else name
    try:
        cls = END_MODELS[name]
    except KeyError:
        raise ValueError(f"unknown end model {name!r}; choose one of {', '.join(END_MODELS)}") from None
    valid = cls._get_param_names()
    bad = sorted(set(params) - set(valid))
    if bad:
        raise ValueError(f"end model {name!r} ({cls.__name__}) has no parameter(s) {', '.join(bad)}; "
                         f"valid: {', '.join(valid)}")
    return cls(**params)


__all__ = ["END_MODELS", "DEFAULT_END_MODEL", "make_end_model", "SoftLogisticRegression", "SoftMLPClassifier",
           "SelfTrainer", "self_train", "TemperatureScaling", "TopLabelIsotonic", "CalibratedClassifier",
           "reliability_diagram", "soft_neg_log_loss",
           "smooth_labels", "mixup", "draw_mixup", "confidence_weights", "filter_rows"]
