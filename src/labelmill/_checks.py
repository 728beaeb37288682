"""Checks of numeric parameters, shared by every stage (run at fit time, so that cloning
an estimator keeps the raw value as scikit-learn expects)."""

from __future__ import annotations

import numbers

import numpy as np


def check_number(value, name: str, *, integer: bool = False, low=None, high=None, low_open: bool = False,
                 high_open: bool = False, none_ok: bool = False, finite: bool = True, error=ValueError):
    """Check a numeric parameter at fit time; raise ``error`` naming it and its allowed range.

    ``integer`` asks for a ``numbers.Integral`` (so 2.5 is refused, not truncated), else a
    ``numbers.Real``; ``bool`` and strings are refused either way. ``low``/``high`` bound
    the value (open bounds with ``low_open``/``high_open``); ``none_ok`` also accepts None;
    ``finite`` refuses NaN and infinities. Returns the value unchanged.
    """
    if value is None and none_ok:
        return value
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, (bool, np.bool_))
    if ok and not integer:
        ok = not np.isnan(value) and (not finite or np.isfinite(value))
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        what = "an integer" if integer else "a real number"
        rng = _range_text(low, high, low_open, high_open)
        raise error(f"{name} must be {rng + ' (' + what if rng else what}{', or None' if none_ok else ''}"
                    f"{')' if rng else ''}, got {value!r}")
    return value


def _range_text(low, high, low_open, high_open) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return ""
