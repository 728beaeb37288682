"""Atomic file writes: a temp file in the target folder, then `os.replace`.

An interrupted run never leaves a half-written file that a later run could trust.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` on success.

    On any exception the temporary file is removed and `path` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes the file owner-only (0600); give it the mode a plain open()
        # would: the existing file's, or 0666 minus the umask
        os.chmod(tmp_path, path.stat().st_mode & 0o7777 if path.exists() else _default_mode())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _json_default(o):
    """numpy arrays and scalars as plain JSON lists and numbers."""
    if hasattr(o, "tolist"):
        return o.tolist()
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _standard_json(o):
    """``o`` with numpy values as Python ones and NaN / infinities as None, so that the
    file is standard JSON (``NaN`` is not, and strict parsers such as JavaScript's reject it)."""
    if isinstance(o, dict):
        return {k: _standard_json(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_standard_json(v) for v in o]
    if hasattr(o, "tolist") and not isinstance(o, (str, bytes)):
        return _standard_json(o.tolist())
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o


def write_json_atomic(path: str | os.PathLike, obj, indent: int = 2) -> None:
    """Write `obj` as standard JSON to `path` atomically: numpy arrays and scalars become
    lists and numbers, NaN and infinities become null."""
    obj = _standard_json(obj)
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=indent, default=_json_default, allow_nan=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())


def write_parquet_atomic(path: str | os.PathLike, table) -> None:
    """Write a pyarrow Table or pandas DataFrame to Parquet atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not isinstance(table, pa.Table):
        table = pa.Table.from_pandas(table, preserve_index=False)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
