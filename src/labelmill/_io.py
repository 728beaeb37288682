"""Atomic file writes: a temp file in the target folder, then `os.replace`.

An interrupted run never leaves a half-written file that a later run could trust.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import tempfile
import threading
from pathlib import Path
from typing import Iterator


_batch = threading.local()  # the renames an open `output_batch` defers


def is_temp_file(name: str) -> bool:
    """True for the name of a temporary file `atomic_path` writes (``.NAME.xxxx.tmp``)."""
    return name.startswith(".") and name.endswith(".tmp")


def remove_cache_entries(folder: Path, entry_name: str) -> int:
    """Delete a cache's own files: those in ``folder/<2 hex digits>/`` whose names fully
    match the regular expression ``entry_name``, the temporary files interrupted writes
    left there, then the folders this empties. Any other file stays, with its folders,
    so a cache folder pointed at a folder of the user's never loses the user's files.
    Returns the number of entries deleted (temporary files not counted)."""
    folder, n = Path(folder), 0
    if not folder.is_dir():
        return 0
    for shard in folder.iterdir():
        if not (shard.is_dir() and re.fullmatch(r"[0-9a-f]{2}", shard.name)):
            continue
        for f in shard.iterdir():
            entry = re.fullmatch(entry_name, f.name) is not None
            if f.is_file() and (entry or is_temp_file(f.name)):
                f.unlink()
                n += entry
        with contextlib.suppress(OSError):
            shard.rmdir()  # only when emptied
    with contextlib.suppress(OSError):
        folder.rmdir()
    return n


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` on success.

    On any exception the temporary file is removed and `path` is left untouched. Inside
    an `output_batch`, the rename waits for the batch to end.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    staged = False
    try:
        yield tmp_path
        # mkstemp makes the file owner-only (0600); give it the mode a plain open()
        # would: the existing file's, or 0666 minus the umask
        os.chmod(tmp_path, path.stat().st_mode & 0o7777 if path.exists() else _default_mode())
        pending = getattr(_batch, "renames", None)
        if pending is not None:
            pending.append((tmp_path, path))
            staged = True
        else:
            os.replace(tmp_path, path)
    finally:
        if not staged and tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def output_batch() -> Iterator[None]:
    """Make several atomic writes land together, or not at all.

    Files written with `atomic_path` (and the ``write_*_atomic`` helpers) inside the block
    are staged as temporary files; when the block ends without an exception they are
    renamed into place back to back, with SIGINT and SIGTERM held off until the last
    rename, so an interrupted run leaves either every old file or every new one (a
    run's metrics never sit beside another run's model). On an exception the staged
    files are deleted and the old ones stay.
    """
    if getattr(_batch, "renames", None) is not None:  # nested: the outer batch commits
        yield
        return
    _batch.renames = renames = []
    try:
        yield
    except BaseException:
        _batch.renames = None
        _unlink_all(renames)
        raise
    _batch.renames = None
    blockable = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    held = {signal.SIGINT, signal.SIGTERM}
    if blockable:
        signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        for tmp, final in renames:
            os.replace(tmp, final)
    finally:
        if blockable:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)
        _unlink_all(renames)


def _unlink_all(renames) -> None:
    for tmp, _ in renames:
        if tmp.exists():
            tmp.unlink()


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


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
            json.dump(obj, fh, indent=indent, allow_nan=False)
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
