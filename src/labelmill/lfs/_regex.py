"""Run Python-``re`` semantics over whole Arrow string columns with RE2.

``pyarrow.compute.match_substring_regex`` uses RE2, whose ``\\w \\d \\s \\b`` are ASCII
and whose ``$`` means end of text, while Python's ``re`` (str patterns) is Unicode-aware
and lets ``$`` match before a final newline. :func:`translate` rewrites a Python pattern
into an RE2 pattern that either matches *exactly* the same strings as ``re.search``
(``exact=True``) or a *superset* of them (``exact=False``: e.g. ``\\b`` dropped); in the
second case the RE2 positives are re-checked with Python ``re``. When ``\\b``/``\\B`` are
the only inexact parts, RE2's own (ASCII) ``\\b`` is exact on every row without a
non-ASCII word character; only the other rows go to the slower routes. Patterns RE2 cannot
compile (look-arounds, back-references, verbose mode, ...) fall back to Python ``re``
on every row.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Python's \w for str patterns: str.isalnum() or "_"  ==  letters, numbers, underscore.
_W_IN = r"\p{L}\p{N}_"
# Python's \s for str patterns: the characters for which str.isspace() is true.
_S_IN = (r"\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
         r"\x{202f}\x{205f}\x{3000}")
_D_IN = r"\p{Nd}"

_SIMPLE_ESCAPES = set("ntrfva\\.^$|?*+()[]{}-/#&~ '\"!%,:;<=>@`")


class Untranslatable(Exception):
    """The pattern has a construct we do not translate; use Python ``re``."""


def translate(pattern: str, flags: int = 0, ascii_b: bool = False) -> tuple[str, bool]:
    """Return ``(re2_pattern, exact)`` for a Python ``re`` pattern, or raise Untranslatable.

    With ``ascii_b``, ``\\b``/``\\B`` become RE2's ASCII word boundaries: exact on any
    text holding no non-ASCII word character (see :func:`nonascii_word_rows`).
    """
    if flags & (re.VERBOSE | re.DEBUG):
        raise Untranslatable("verbose/debug flags")
    if flags & re.LOCALE:
        raise Untranslatable("locale flag")
    if flags & re.ASCII and flags & re.IGNORECASE:
        raise Untranslatable("ASCII + IGNORECASE")  # RE2 still folds Unicode case (e.g. the Kelvin sign)
    lead = re.match(r"\(\?([imsx]+)\)", pattern)
    if lead:  # leading inline flags act on the whole pattern: read them as flags
        if "x" in lead.group(1):
            raise Untranslatable("verbose flag")
        for ch in lead.group(1):
            flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}[ch]
        pattern = pattern[lead.end():]
    ascii_mode = bool(flags & re.ASCII)
    out: list[str] = []
    exact = True
    i, n = 0, len(pattern)
    depth = 0
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise Untranslatable("trailing backslash")
            e = pattern[i + 1]
            i += 2
            if e in "bB":
                if ascii_mode or ascii_b:
                    out.append("\\" + e)
                else:
                    exact = False  # drop the assertion: a superset, re-checked in Python
            elif e in "wWdDsS":
                out.append("\\" + e if ascii_mode else _class_escape(e, inside=False))
            elif e == "A":
                out.append(r"\A")
            elif e == "Z":
                out.append(r"\z")
            elif e == "x":
                h = pattern[i:i + 2]
                out.append(r"\x{" + h + "}")
                i += 2
            elif e in "uU":
                width = 4 if e == "u" else 8
                h = pattern[i:i + width]
                out.append(r"\x{" + h + "}")
                i += width
            elif e in _SIMPLE_ESCAPES:
                out.append("\\" + e if e not in " '\"!%,:;<=>@`/#&~" else _lit(e))
            else:
                raise Untranslatable(f"escape \\{e}")
        elif c == "[":
            j, cls, cls_exact = _translate_class(pattern, i, ascii_mode)
            out.append(cls)
            exact = exact and cls_exact
            i = j
        elif c == "$":
            if flags & re.MULTILINE:
                out.append("(?m:$)")
            elif depth == 0 and i == n - 1:
                out.append(r"(?:\n?\z)")
            else:
                exact = False
            i += 1
        elif c == "(":
            if pattern.startswith("(?", i) and not pattern.startswith("(?:", i) \
                    and not pattern.startswith("(?P<", i):
                # inline flags past the start, look-arounds, comments, conditionals: leave to Python
                raise Untranslatable("group extension")
            depth += 1
            out.append(c)
            i += 1
        elif c == ")":
            depth -= 1
            out.append(c)
            i += 1
        elif c == "{" and re.match(r"\{,\d+\}", pattern[i:]):
            out.append("{0")  # Python reads {,n} as {0,n}; RE2 as a literal
            i += 1
        else:
            out.append(c)
            i += 1
    prefix = ""
    if flags & re.IGNORECASE:
        prefix += "i"
    if flags & re.MULTILINE:
        prefix += "m"
    if flags & re.DOTALL:
        prefix += "s"
    body = "".join(out)
    return (f"(?{prefix}){body}" if prefix else body), exact


def _lit(ch: str) -> str:
    return rf"\x{{{ord(ch):x}}}"


def _class_escape(e: str, inside: bool) -> str:
    inner = {"w": _W_IN, "d": _D_IN, "s": _S_IN}
    if e in inner:
        return inner[e] if inside else f"[{inner[e]}]"
    if inside:
        raise Untranslatable("negated class escape inside a class")
    return f"[^{inner[e.lower()]}]"


def _translate_class(p: str, i: int, ascii_mode: bool) -> tuple[int, str, bool]:
    """Translate ``[...]`` starting at p[i]; return (end index, re2 text, exact)."""
    j = i + 1
    out = ["["]
    if j < len(p) and p[j] == "^":
        out.append("^")
        j += 1
    first = True
    exact = True
    while j < len(p):
        c = p[j]
        if c == "]" and not first:
            out.append("]")
            return j + 1, "".join(out), exact
        first = False
        if c == "[":
            out.append(r"\[")
            j += 1
        elif c == "\\" and j + 1 < len(p):
            e = p[j + 1]
            j += 2
            if e in "wdsWDS":
                if ascii_mode:
                    out.append("\\" + e)
                elif e in "WDS":
                    # a negated class inside a class: relax the whole class to "any character"
                    exact = False
                    k = j
                    depth_end = p.find("]", k)
                    while depth_end != -1 and p[depth_end - 1] == "\\":
                        depth_end = p.find("]", depth_end + 1)
                    if depth_end == -1:
                        raise Untranslatable("unterminated class")
                    return depth_end + 1, r"(?s:.)", False
                else:
                    out.append(_class_escape(e, inside=True))
            elif e == "b":
                out.append(r"\x{8}")
            elif e == "x":
                out.append(r"\x{" + p[j:j + 2] + "}")
                j += 2
            elif e in "uU":
                width = 4 if e == "u" else 8
                out.append(r"\x{" + p[j:j + width] + "}")
                j += width
            elif e in "ntrfva":
                out.append("\\" + e)
            elif e.isalnum():
                raise Untranslatable(f"class escape \\{e}")
            else:
                out.append(_lit(e))
        else:
            out.append(c)
            j += 1
    raise Untranslatable("unterminated class")


_COMPILE_OK: dict[str, bool] = {}


def re2_compiles(pattern: str) -> bool:
    ok = _COMPILE_OK.get(pattern)
    if ok is None:
        try:
            pc.match_substring_regex(pa.array([""], pa.large_string()), pattern=pattern)
            ok = True
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            ok = False
        _COMPILE_OK[pattern] = ok
    return ok


def plan(pattern: str, flags: int = 0) -> tuple[str | None, bool]:
    """RE2 pattern (or None for the pure-Python route) and whether it is exact."""
    try:
        re2, exact = translate(pattern, flags)
    except Untranslatable:
        return None, False
    if not re2_compiles(re2):
        return None, False
    return re2, exact


def plan_ascii(pattern: str, flags: int = 0) -> str | None:
    """RE2 pattern exact on rows without non-ASCII word characters (``\\b`` kept as
    RE2's ASCII ``\\b``), or None when the pattern has other inexact constructs."""
    try:
        re2, exact = translate(pattern, flags, ascii_b=True)
    except Untranslatable:
        return None
    return re2 if exact and re2_compiles(re2) else None


# Rows holding a character that is a word character for Python's ``re`` (str.isalnum()
# or "_") but not for RE2's ASCII ``\\b``: non-ASCII letters and numbers. Found from the
# UTF-8 bytes with numpy (each multi-byte sequence decoded to its code point and looked
# up in a table built from Python's own ``\\w``), so it is exact for this Python.
_MASKS: "OrderedDict[tuple, tuple]" = OrderedDict()
_MASK_LOCK = threading.Lock()


def _col_key(col: pa.ChunkedArray) -> tuple:
    key = []
    for c in col.chunks:
        bufs = c.buffers()
        key.append((str(c.type), c.offset, len(c)) + tuple(b.address if b is not None else 0 for b in bufs))
    return tuple(key)


def _chunk_nonascii_word_rows(arr: pa.Array) -> np.ndarray:
    from .core import _is_word_cp

    n = len(arr)
    mask = np.zeros(n, dtype=bool)
    bufs = arr.buffers()
    if n == 0 or bufs[2] is None:
        return mask
    odt = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offs = np.frombuffer(bufs[1], dtype=odt)[arr.offset:arr.offset + n + 1].astype(np.int64)
    lo, hi = int(offs[0]), int(offs[-1])
    data = np.frombuffer(bufs[2], dtype=np.uint8)[lo:hi]
    lead = np.flatnonzero(data >= 0xC0)  # first byte of every multi-byte sequence
    if not len(lead):
        return mask
    last = len(data) - 1

    def byte(k):  # the k-th byte of each sequence (0 past the end: truncated, not UTF-8)
        pos = lead + k
        return np.where(pos <= last, data[np.minimum(pos, last)], 0).astype(np.int64)

    b0, b1, b2, b3 = byte(0), byte(1) & 0x3F, byte(2) & 0x3F, byte(3) & 0x3F
    cp = np.where(b0 < 0xE0, ((b0 & 0x1F) << 6) | b1,
                  np.where(b0 < 0xF0, ((b0 & 0x0F) << 12) | (b1 << 6) | b2,
                           ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3))
    bad = (b0 >= 0xF8) | (cp > 0x10FFFF)  # not UTF-8: let Python decide those rows
    word = bad | _is_word_cp(np.where(bad, 0, cp))
    if word.any():
        rows = np.searchsorted(offs - lo, lead[word], side="right") - 1
        mask[rows] = True
    return mask


def nonascii_word_rows(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Boolean (N,) mask of the rows holding a non-ASCII word character.

    Computed once per column: the LFs of one batch share it (keyed by the column's
    buffers, which the cache entry keeps alive so the key cannot be reused).
    """
    if isinstance(col, pa.Array):
        col = pa.chunked_array([col], col.type)
    key = _col_key(col)
    with _MASK_LOCK:
        hit = _MASKS.get(key)
        if hit is not None:
            _MASKS.move_to_end(key)
            return hit[1]
        parts = [_chunk_nonascii_word_rows(c) for c in col.chunks]
        mask = np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
        _MASKS[key] = (col, mask)
        while len(_MASKS) > 4:
            _MASKS.popitem(last=False)
        return mask


def clear_masks() -> None:
    """Drop the cached masks (and the columns they keep alive)."""
    with _MASK_LOCK:
        _MASKS.clear()


def _to_bool(arr) -> np.ndarray:
    return arr.fill_null(False).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _recheck(col: pa.Array, idx: np.ndarray, compiled: re.Pattern, mask: np.ndarray) -> None:
    """Set ``mask[idx]`` to whether Python ``re`` finds ``compiled`` in those rows."""
    if not len(idx):
        return
    vals = col.take(pa.array(idx)).to_pylist()
    search = compiled.search
    keep = np.fromiter((v is not None and search(v) is not None for v in vals), dtype=bool, count=len(vals))
    mask[idx] = keep


def search_column(col: pa.ChunkedArray | pa.Array, compiled: re.Pattern, re2: str | None,
                  exact: bool, re2_ascii: str | None = None) -> np.ndarray:
    """Boolean (N,) mask: ``compiled.search(value)`` is truthy; nulls are False.

    Routes, fastest first:

    * ``re2`` exact: one RE2 scan.
    * ``re2_ascii`` given (the pattern is exact once ``\\b`` is RE2's ASCII one): RE2
      scan with ``re2_ascii``; the rows holding non-ASCII word characters are redone
      with ``re2`` (if exact) or with ``re2`` as a pre-filter re-checked by Python ``re``.
    * ``re2`` a superset: RE2 pre-filter, Python ``re`` on its hits.
    * no ``re2``: Python ``re`` on every row.
    """
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    n = len(col)
    if re2 is not None and exact:
        return _to_bool(pc.match_substring_regex(col, pattern=re2))
    if re2_ascii is not None:
        mask = _to_bool(pc.match_substring_regex(col, pattern=re2_ascii))
        special = np.flatnonzero(nonascii_word_rows(col))
        if len(special):
            sub = col.take(pa.array(special))
            if re2 is not None:
                hit = _to_bool(pc.match_substring_regex(sub, pattern=re2))
                mask[special] = hit
                if not exact:
                    cand = special[hit]
                    _recheck(col, cand, compiled, mask)
            else:
                _recheck(col, special, compiled, mask)
        return mask
    if re2 is not None:
        mask = _to_bool(pc.match_substring_regex(col, pattern=re2))
        _recheck(col, np.flatnonzero(mask), compiled, mask)
        return mask
    search = compiled.search
    return np.fromiter((v is not None and search(v) is not None for v in col.to_pylist()),
                       dtype=bool, count=n)
