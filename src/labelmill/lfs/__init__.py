"""Labeling functions: LF types, the applier, the vote cache and LF analysis.

>>> from labelmill.lfs import labeling_function, keyword_lf, apply_lfs, ABSTAIN
>>> spam = keyword_lf("kw_subscribe", ["subscribe"], label=1)
>>> @labeling_function()
... def short(x):
...     return 0 if len(x.text) < 20 else ABSTAIN
>>> L = apply_lfs([spam, short], df)            # doctest: +SKIP
"""

from ..matrix import ABSTAIN
from .analysis import dataset_summary, lf_summary, print_lf_summary
from .apply import ApplyReport, AppliedLabelMatrix, apply_lfs
from .cache import VoteCache, clear_cache, default_cache_dir
from .cli_commands import load_lfs_from_file
from .core import (GazetteerLF, KeywordLF, LabelingFunction, ModelLF, PythonLF, RegexLF, Row, ThresholdLF,
                   VectorizedLF, crowd_matrix, gazetteer_lf, keyword_lf, labeling_function, model_lf, regex_lf,
                   threshold_lf)

__all__ = [
    "ABSTAIN", "Row", "LabelingFunction", "PythonLF", "VectorizedLF", "KeywordLF", "RegexLF", "ThresholdLF",
    "GazetteerLF", "ModelLF", "labeling_function", "keyword_lf", "regex_lf", "threshold_lf", "gazetteer_lf",
    "model_lf", "crowd_matrix", "apply_lfs", "ApplyReport", "AppliedLabelMatrix", "VoteCache", "clear_cache",
    "default_cache_dir", "lf_summary", "dataset_summary", "print_lf_summary", "load_lfs_from_file",
]
