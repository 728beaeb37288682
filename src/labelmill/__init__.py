"""labelmill: turn cheap, imperfect supervision into training labels and a model."""

from .errors import (DataFormatError, InvalidVotesError, LabelingFunctionError, LabelmillError,
                     MissingExtraError, NotFittedError)
from .datasets import load_demo, load_wrench
from .lfs import (apply_lfs, clear_cache, crowd_matrix, dataset_summary, gazetteer_lf, keyword_lf,
                  labeling_function, lf_summary, model_lf, regex_lf, threshold_lf)
from .matrix import ABSTAIN, LabelMatrix
from .crowd import Aggregation, aggregate

__version__ = "0.1.0"

__all__ = [
    "ABSTAIN", "LabelMatrix", "load_wrench", "load_demo", "LabelmillError", "InvalidVotesError", "DataFormatError",
    "LabelingFunctionError", "NotFittedError", "MissingExtraError", "__version__",
    "apply_lfs", "labeling_function", "keyword_lf", "regex_lf", "threshold_lf", "gazetteer_lf",
    "model_lf", "crowd_matrix", "lf_summary", "dataset_summary", "clear_cache", "aggregate", "Aggregation",
]
