"""On-disk cache of each labeling function's votes.

An entry holds one LF's votes on one input table. Its key is the SHA-256 of the LF's
``definition()`` (source code, closure and global constants, resources for Python LFs;
parameters for declarative LFs), a fingerprint of the input columns the LF reads, and
``n_classes``. Editing one LF therefore changes only that LF's key.

File format (``<dir>/votes/<key[:2]>/<key>.lmv``)::

    b"LMVOTES1" | uint32 header length | JSON header | payload (the votes, int16 little-endian)

The header records the payload length and SHA-256; an entry whose checksum, length,
or header does not verify is treated as missing (and removed), never trusted. Entries
are written to a temporary file and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import numpy as np

from .._io import atomic_path, remove_cache_entries

MAGIC = b"LMVOTES1"
ENV_VAR = "LABELMILL_CACHE_DIR"
DEFAULT_DIRNAME = ".labelmill_cache"
_TAG = "CACHEDIR.TAG"


def default_cache_dir() -> Path:
    """``$LABELMILL_CACHE_DIR`` if set, else ``.labelmill_cache/`` in the current directory."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path.cwd() / DEFAULT_DIRNAME


def resolve_cache(cache) -> "VoteCache | None":
    """``cache`` argument of apply_lfs -> VoteCache or None (disabled)."""
    if cache is False:
        return None
    if cache is None or cache is True:
        return VoteCache(default_cache_dir())
    if isinstance(cache, VoteCache):
        return cache
    return VoteCache(Path(cache))


def entry_key(definition: str, data_fingerprint: str, n_classes) -> str:
    h = hashlib.sha256()
    for part in ("labelmill-votes-v1", definition, data_fingerprint, f"k={n_classes}"):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


class VoteCache:
    """Folder of cached vote vectors (see module docstring)."""

    def __init__(self, path):
        self.path = Path(path)

    def _file(self, key: str) -> Path:
        return self.path / "votes" / key[:2] / f"{key}.lmv"

    def get(self, key: str, n_rows: int):
        """Return ``(votes, meta)`` or None if missing / unreadable / corrupt."""
        f = self._file(key)
        try:
            raw = f.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError:
            return None
        try:
            if not raw.startswith(MAGIC):
                raise ValueError("bad magic")
            (hlen,) = struct.unpack_from("<I", raw, len(MAGIC))
            start = len(MAGIC) + 4
            meta = json.loads(raw[start:start + hlen].decode("utf-8"))
            payload = raw[start + hlen:]
            if meta.get("key") != key or meta.get("payload_len") != len(payload) \
                    or meta.get("n_rows") != n_rows or len(payload) != 2 * n_rows \
                    or hashlib.sha256(payload).hexdigest() != meta.get("sha256"):
                raise ValueError("checksum or length mismatch")
            votes = np.frombuffer(payload, dtype="<i2").astype(np.int16)
            return votes, meta
        except (ValueError, struct.error, UnicodeDecodeError, json.JSONDecodeError):
            try:
                f.unlink()
            except OSError:
                pass
            return None

    def put(self, key: str, votes: np.ndarray, **meta) -> None:
        payload = np.ascontiguousarray(votes, dtype="<i2").tobytes()
        header = dict(meta, key=key, n_rows=int(len(votes)), payload_len=len(payload),
                      sha256=hashlib.sha256(payload).hexdigest())
        hbytes = json.dumps(header, sort_keys=True).encode("utf-8")
        f = self._file(key)
        self._ensure_tag()
        with atomic_path(f) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(MAGIC + struct.pack("<I", len(hbytes)) + hbytes + payload)

    def _ensure_tag(self):
        tag = self.path / _TAG
        if not tag.exists():
            self.path.mkdir(parents=True, exist_ok=True)
            try:
                tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n"
                               "# labelmill vote cache; safe to delete (labelmill cache clear)\n")
            except OSError:
                pass

    def entries(self) -> list[Path]:
        return sorted((self.path / "votes").glob("*/*.lmv"))

    def clear(self) -> int:
        """Delete every cached entry (and temporary files of interrupted writes); return how
        many entries were removed. Files labelmill did not write stay."""
        n = remove_cache_entries(self.path / "votes", r"[0-9a-f]{64}\.lmv")
        tag = self.path / _TAG
        if tag.exists():
            tag.unlink()
        try:
            self.path.rmdir()
        except OSError:
            pass
        return n


def clear_cache(path=None) -> int:
    """Remove the vote cache at ``path`` (default: :func:`default_cache_dir`).

    Only labelmill's own entries are removed. Returns the number of entries deleted.
    """
    return VoteCache(Path(path) if path is not None else default_cache_dir()).clear()
