"""labelmill: turn cheap, imperfect supervision into training labels and a model."""

from .errors import (DataFormatError, InvalidVotesError, LabelingFunctionError, LabelmillError,
                     MissingExtraError, NotFittedError)
from .datasets import load_demo, load_wrench
from .matrix import ABSTAIN, LabelMatrix

__version__ = "0.1.0"

__all__ = [
    "ABSTAIN", "LabelMatrix", "load_wrench", "load_demo", "LabelmillError", "InvalidVotesError", "DataFormatError",
    "LabelingFunctionError", "NotFittedError", "MissingExtraError", "__version__",
]
