"""Run Python-``re`` semantics over whole Arrow string columns with RE2.

``pyarrow.compute.match_substring_regex`` uses RE2, whose ``\\w \\d \\s \\b`` are ASCII
and whose ``$`` means end of text, while Python's ``re`` (str patterns) is Unicode-aware
and lets ``$`` match before a final newline. :func:`translate` rewrites a Python pattern
into an RE2 pattern that either matches *exactly* the same strings as ``re.search``
(``exact=True``) or a *superset* of them (``exact=False``: e.g. ``\\b`` dropped); in the
second case the RE2 positives are re-checked with Python ``re``. Patterns RE2 cannot
compile (look-arounds, back-references, verbose mode, ...) fall back to Python ``re``
on every row.
"""

from __future__ import annotations

import re

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


def translate(pattern: str, flags: int = 0) -> tuple[str, bool]:
    """Return ``(re2_pattern, exact)`` for a Python ``re`` pattern, or raise Untranslatable."""
    if flags & (re.VERBOSE | re.DEBUG):
        raise Untranslatable("verbose/debug flags")
    if flags & re.LOCALE:
        raise Untranslatable("locale flag")
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
                if ascii_mode:
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
                # inline flags, look-arounds, comments, conditionals: leave to Python
                m = re.match(r"\(\?([imsx]+)\)", pattern[i:])
                if m and i == 0 and "x" not in m.group(1):
                    out.append(m.group(0))
                    i += len(m.group(0))
                    continue
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


def search_column(col: pa.ChunkedArray | pa.Array, compiled: re.Pattern, re2: str | None,
                  exact: bool) -> np.ndarray:
    """Boolean (N,) mask: ``compiled.search(value)`` is truthy; nulls are False."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    n = len(col)
    if re2 is not None:
        hit = pc.match_substring_regex(col, pattern=re2)
        mask = hit.fill_null(False).to_numpy(zero_copy_only=False).astype(bool, copy=False)
        if exact:
            return mask
        idx = np.flatnonzero(mask)
        if len(idx):
            vals = col.take(pa.array(idx)).to_pylist()
            search = compiled.search
            keep = np.fromiter((search(v) is not None for v in vals), dtype=bool, count=len(vals))
            mask = np.zeros(n, dtype=bool)
            mask[idx[keep]] = True
        return mask
    search = compiled.search
    return np.fromiter((v is not None and search(v) is not None for v in col.to_pylist()),
                       dtype=bool, count=n)
