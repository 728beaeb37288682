"""The one small exception hierarchy of labelmill.

Every error names what it is about (the file, row, column, source or labeling
function) and what was expected, so the message alone tells the user what to fix.
"""

from __future__ import annotations


class LabelmillError(Exception):
    """Base class of every error labelmill raises on purpose."""


class InvalidVotesError(LabelmillError, ValueError):
    """A vote matrix or vote table is malformed (range, dtype, shape)."""


class DataFormatError(LabelmillError, ValueError):
    """An input file or folder does not have the expected layout or content."""


class LabelingFunctionError(LabelmillError):
    """A labeling function raised, returned a bad value, or is badly defined.

    Attributes
    ----------
    lf_name : str or None
        Name of the labeling function at fault.
    row_id : object or None
        Id (or position) of the row on which it failed.
    """

    def __init__(self, message: str, lf_name: str | None = None, row_id=None,
                 traceback_text: str | None = None):
        super().__init__(message)
        self.lf_name = lf_name
        self.row_id = row_id
        self.traceback_text = traceback_text


class NotFittedError(LabelmillError, AttributeError):
    """A model was used before `fit` was called."""


class MissingExtraError(LabelmillError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""
