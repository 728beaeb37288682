"""Labeling-function types.

Two kinds of LF:

* **Python LFs** (:func:`labeling_function`): a plain function over one row, run row by
  row (in a process pool by :func:`~labelmill.lfs.apply_lfs`).
* **Declarative LFs** (:func:`keyword_lf`, :func:`regex_lf`, :func:`threshold_lf`,
  :func:`gazetteer_lf`, :func:`model_lf`): compiled to whole-column operations on Arrow
  data; ``apply_table(table) -> (N,) int16`` votes.

Every LF has a unique ``name``, the ``fields`` it reads (None = the whole row) and a
``definition()`` string: everything that determines its votes, used as the cache key.
"""

from __future__ import annotations

from abc import ABCMeta

import functools
import hashlib
import inspect
import json
import marshal
import re
import sys
import types
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataFormatError, LabelingFunctionError
from ..matrix import ABSTAIN
from . import _regex

VOTE_DTYPE = np.int16


class Row(dict, metaclass=ABCMeta):
    """One example: a dict of field -> value that also allows ``row.field`` access.

    The applier hands LFs read-only rows of the same interface (registered as virtual
    subclasses, so ``isinstance(x, Row)`` holds); preprocessors get this mutable kind.
    """

    __slots__ = ()

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"row has no field {key!r}; fields are {list(self)}") from None

    def __setattr__(self, key, value):
        self[key] = value


class LabelingFunction:
    """Base class of every LF. Subclasses set ``kind`` to "python" or "vectorized"."""

    kind = "python"
    fields: tuple[str, ...] | None = None

    def __init__(self, name: str):
        if not isinstance(name, str) or not name:
            raise LabelingFunctionError(f"a labeling function needs a non-empty string name, got {name!r}",
                                        lf_name=None)
        self.name = name

    def definition(self) -> str | None:  # pragma: no cover - abstract
        """Everything that determines the votes (the cache key's text); None = never cache."""
        raise NotImplementedError

    def max_label(self) -> int | None:
        """Largest class id this LF can vote, if known without running it."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


# ---------------------------------------------------------------------- Python LFs
def _code_fingerprint(func, _seen=None) -> str:
    """Source (or bytecode) of ``func`` plus the values it closes over or reads globally.

    Simple global constants (numbers, strings, containers of them) and helper
    functions defined in the same module are included, so editing a threshold
    constant or a helper invalidates the cache too.
    """
    _seen = set() if _seen is None else _seen
    if id(func) in _seen:
        return ""
    _seen.add(id(func))
    func = inspect.unwrap(func)
    if isinstance(func, LabelingFunction):
        return _lf_definition(func)
    parts = []
    try:
        parts.append(inspect.getsource(func))
    except (OSError, TypeError):
        code = getattr(func, "__code__", None)
        parts.append(hashlib.sha256(marshal.dumps(code)).hexdigest() if code is not None else repr(func))
    code = getattr(func, "__code__", None)
    if code is not None:
        for cell_name, cell in zip(code.co_freevars, getattr(func, "__closure__", None) or ()):
            try:
                parts.append(f"closure {cell_name}={_value_fingerprint(cell.cell_contents, _seen, deep=True)}")
            except ValueError:  # empty cell
                pass
        g = getattr(func, "__globals__", {})
        for nm in _global_names(code):
            if nm in g:
                fp = _value_fingerprint(g[nm], _seen, module=getattr(func, "__module__", None))
                if fp is not None:
                    parts.append(f"global {nm}={fp}")
    return "\n".join(parts)


def _global_names(code) -> list[str]:
    names = list(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names.extend(_global_names(const))
    return sorted(set(names))


_SIMPLE = (int, float, str, bytes, bool, type(None))
_SMALL_CONTAINER = 10_000  # larger containers are fingerprinted by a hash of their repr


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Unreadable(Exception):
    """A value an LF depends on cannot be fingerprinted (not even pickled): the LF is not cached."""


def _lf_definition(lf) -> str:
    d = lf.definition()
    if d is None:
        raise _Unreadable(f"labeling function {lf.name!r} is not cacheable")
    return d


_SIMPLE_TYPES = frozenset(_SIMPLE)


def _pickle_fingerprint(v) -> str:
    import pickle

    try:
        return f"pickle({type(v).__qualname__}):" + _digest(pickle.dumps(v, protocol=4))
    except Exception as exc:  # noqa: BLE001 - any object may fail to pickle
        raise _Unreadable(f"{type(v).__name__} cannot be pickled ({exc})") from None


def _container_fingerprint(v, seen, module) -> str:
    """Containers element by element (so numpy arrays or models inside count in full,
    not by their shortened repr); all-simple ones by repr, which is the same but faster."""
    if isinstance(v, dict):
        if all(type(x) in _SIMPLE_TYPES for x in v) and all(type(x) in _SIMPLE_TYPES for x in v.values()):
            text = repr(v)
        else:
            text = "{" + ", ".join(f"{_value_fingerprint(k, seen, module, deep=True)}: "
                                   f"{_value_fingerprint(x, seen, module, deep=True)}" for k, x in v.items()) + "}"
    elif all(type(x) in _SIMPLE_TYPES for x in v):
        # sets are fingerprinted sorted: their iteration order changes with string hashing
        text = repr(sorted(v, key=repr) if isinstance(v, (set, frozenset)) else v)
    else:
        parts = [_value_fingerprint(x, seen, module, deep=True) for x in v]
        text = f"{type(v).__name__}[" + ", ".join(sorted(parts) if isinstance(v, (set, frozenset)) else parts) + "]"
    return text if len(v) <= _SMALL_CONTAINER else f"{type(v).__name__}:" + _digest(text.encode())


def _value_fingerprint(v, seen, module=None, deep: bool = False):
    """A string that changes when ``v`` changes, or None when ``v`` is not part of the key.

    Covers numbers, strings, containers (large ones hashed), numpy scalars and arrays,
    pandas objects, compiled regexes, LFs, helper functions and the source of the user's
    own modules, and the attributes of config objects (instances of same-module classes,
    dataclasses, ``SimpleNamespace``). Any other object (a fitted model, a spaCy
    pipeline) counts by a hash of its pickle when ``deep`` (resources, closure values,
    container elements); a global one is not part of the key (pass it as a resource).
    Raises _Unreadable when a deep value cannot be pickled.
    """
    if isinstance(v, _SIMPLE):
        return repr(v)
    if isinstance(v, np.generic):
        return f"np.{v.dtype}({v.item()!r})"
    if isinstance(v, np.ndarray):
        if v.dtype.hasobject:
            return "ndarray:" + _digest(repr(v.tolist()).encode())
        return f"ndarray({v.dtype},{v.shape}):" + _digest(np.ascontiguousarray(v).tobytes())
    if isinstance(v, (tuple, list, set, frozenset, dict)):
        if id(v) in seen:
            return "<cycle>"
        seen.add(id(v))
        return _container_fingerprint(v, seen, module)
    if isinstance(v, re.Pattern):
        return f"re({v.pattern!r},{v.flags})"
    if isinstance(v, LabelingFunction):
        return _lf_definition(v)
    if isinstance(v, types.FunctionType) and (module is None or v.__module__ == module
                                              or _user_module_fingerprint(sys.modules.get(v.__module__))):
        return _code_fingerprint(v, seen)
    if type(v).__module__.startswith("pandas") and hasattr(v, "to_numpy"):
        import pandas as pd

        try:
            hashed = pd.util.hash_pandas_object(v, index=True).to_numpy()
        except TypeError:
            return _pickle_fingerprint(v) if deep else None
        return f"pandas({type(v).__name__}):" + _digest(hashed.tobytes() + repr(list(getattr(v, "columns", []))).encode())
    if isinstance(v, types.ModuleType):
        return _user_module_fingerprint(v)
    is_config = (isinstance(v, types.SimpleNamespace) or hasattr(v, "__dataclass_fields__")
                 or (module is not None and type(v).__module__ == module))
    if is_config and hasattr(v, "__dict__") and id(v) not in seen:
        seen.add(id(v))
        attrs = {a: _value_fingerprint(x, seen, module, deep=deep) for a, x in sorted(vars(v).items())}
        return f"{type(v).__qualname__}{attrs!r}"
    if deep and id(v) not in seen:
        return _pickle_fingerprint(v)
    return None


@functools.lru_cache(maxsize=1)
def _installed_roots() -> tuple[str, ...]:
    import sysconfig

    paths = sysconfig.get_paths()
    return tuple(str(Path(paths[k]).resolve()) for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths)


def _user_module_fingerprint(module) -> str | None:
    """Hash of the source file of a module the user wrote (a helper next to the LF file),
    so editing e.g. a word list in ``helpers.py`` changes the key of LFs that read
    ``helpers.WORDS``; None for the standard library and installed packages."""
    if module is None:
        return None
    file = getattr(module, "__file__", None)
    if not file or not file.endswith(".py"):
        return None
    path = Path(file).resolve()
    if str(path).startswith(_installed_roots()):
        return None
    try:
        return f"module {module.__name__}:" + _digest(path.read_bytes())
    except OSError:
        return None


def preprocess(row: Row, pre) -> Row:
    """Run the preprocessors ``pre`` in order on ``row`` (a mutable copy); each must return
    the row (edited, or a new mapping). One that returns None, the usual slip of editing
    ``x`` and forgetting ``return x``, is a TypeError naming it."""
    for p in pre:
        out = p(row)
        if out is None:
            raise TypeError(f"preprocessor {getattr(p, '__name__', p)!r} returned None; a preprocessor must "
                            f"return the row (did it edit x and forget `return x`?)")
        if not isinstance(out, Row):
            if not hasattr(out, "keys"):  # a mapping, or e.g. a pandas Series (Snorkel's rows)
                raise TypeError(f"preprocessor {getattr(p, '__name__', p)!r} returned a {type(out).__name__}; "
                                f"a preprocessor must return the row (a mapping of field -> value)")
            out = Row(out)
        row = out
    return row


class PythonLF(LabelingFunction):
    """A labeling function over one row (see :func:`labeling_function`)."""

    kind = "python"

    def __init__(self, name: str, func: Callable, resources: Mapping[str, Any] | None = None,
                 pre: Sequence[Callable] | None = None):
        super().__init__(name)
        if not callable(func):
            raise LabelingFunctionError(f"labeling function {name!r}: {func!r} is not callable", lf_name=name)
        self.func = func
        self.resources = dict(resources or {})
        self.pre = list(pre or [])
        self.__doc__ = getattr(func, "__doc__", None)
        self.__wrapped__ = func

    def __call__(self, row):
        if self.pre or not isinstance(row, Row):
            row = Row(row)  # preprocessors may edit the row: they get a (mutable) copy
        return self.func(preprocess(row, self.pre), **self.resources)

    def definition(self) -> str | None:
        """The cache key's text, or None when some value the LF depends on cannot be
        fingerprinted (e.g. an unpicklable resource): such an LF is never cached."""
        try:
            return json.dumps({
                "type": "python", "name": self.name,
                "code": _code_fingerprint(self.func),
                "resources": {k: _value_fingerprint(v, set(), deep=True) for k, v in sorted(self.resources.items())},
                "pre": [_code_fingerprint(p) for p in self.pre],
            }, sort_keys=True)
        except _Unreadable:
            return None


def labeling_function(name: str | None = None, resources: Mapping[str, Any] | None = None,
                      pre: Sequence[Callable] | None = None):
    """Decorator turning ``f(row, **resources) -> class id or ABSTAIN`` into a labeling function.

    The row is a :class:`Row`: ``row.text`` and ``row["text"]`` both work. Under
    :func:`apply_lfs` rows are read-only (all LFs of a batch share them); ``pre`` is a
    list of preprocessors ``row -> row`` applied in order before ``f``, on a mutable
    copy. ``resources`` are passed to ``f`` as keyword arguments (and are part of the
    cache key).

    >>> @labeling_function()
    ... def lf_short(x):
    ...     return 0 if len(x.text) < 10 else ABSTAIN
    """
    if callable(name) and resources is None and pre is None:  # used as @labeling_function
        func = name
        return PythonLF(func.__name__, func)

    def wrap(func):
        return PythonLF(name or func.__name__, func, resources=resources, pre=pre)

    return wrap


# ---------------------------------------------------------------------- declarative LFs
def _check_label(label, lf_name: str) -> int:
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) or label < 0:
        raise LabelingFunctionError(f"labeling function {lf_name!r}: label must be a class id >= 0, got {label!r}",
                                    lf_name=lf_name)
    return int(label)


def _string_column(table: pa.Table, field: str, lf_name: str) -> pa.ChunkedArray:
    if field not in table.column_names:
        raise LabelingFunctionError(f"labeling function {lf_name!r} reads field {field!r}, which the data "
                                    f"does not have; columns are {table.column_names}", lf_name=lf_name)
    col = table.column(field)
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return col  # no cast: LFs of one batch then share the buffers (and cached masks)
    if pa.types.is_string_view(t):
        return col.cast(pa.large_string())
    if pa.types.is_null(t):
        return pa.chunked_array([pa.nulls(len(col), pa.large_string())])
    if pa.types.is_dictionary(t):
        return col.cast(pa.large_string())
    raise LabelingFunctionError(f"labeling function {lf_name!r}: field {field!r} must hold text, "
                                f"got Arrow type {t}", lf_name=lf_name)


class VectorizedLF(LabelingFunction):
    """A declarative LF: ``apply_table(table) -> (N,) int16`` votes (-1 = abstain)."""

    kind = "vectorized"

    def apply_table(self, table: pa.Table) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, row):
        """Vote on one row (a dict); for checks and tests, not for speed."""
        table = pa.Table.from_pylist([dict(row)])
        return int(self.apply_table(table)[0])

    def _votes(self, mask: np.ndarray, label: int) -> np.ndarray:
        out = np.full(len(mask), ABSTAIN, dtype=VOTE_DTYPE)
        out[mask] = label
        return out


_WORD_RE = re.compile(r"\w")


def _is_word_char(ch: str) -> bool:
    return bool(_WORD_RE.match(ch))


def _re2_escape(s: str) -> str:
    out = []
    for ch in s:
        if ch.isalnum() or ch == "_" or ch == " ":
            out.append(ch)
        else:
            out.append(rf"\x{{{ord(ch):x}}}")
    return "".join(out)


class KeywordLF(VectorizedLF):
    """Votes ``label`` when any keyword occurs in ``field`` (see :func:`keyword_lf`)."""

    def __init__(self, name, keywords, label, field="text", ignore_case=True, word_boundary=True):
        super().__init__(name)
        if isinstance(keywords, str):
            keywords = [keywords]
        keywords = [str(k) for k in keywords]
        if not keywords or any(not k for k in keywords):
            raise LabelingFunctionError(f"keyword_lf {name!r}: keywords must be a non-empty list of "
                                        f"non-empty strings, got {keywords!r}", lf_name=name)
        self.keywords = keywords
        self.label = _check_label(label, name)
        self.field = field
        self.fields = (field,)
        self.ignore_case = bool(ignore_case)
        self.word_boundary = bool(word_boundary)
        py_parts, re2_parts = [], []
        groups: dict[tuple[bool, bool], list[str]] = {}
        for kw in sorted(set(keywords), key=lambda k: (-len(k), k)):
            edges = (self.word_boundary and _is_word_char(kw[0]), self.word_boundary and _is_word_char(kw[-1]))
            groups.setdefault(edges, []).append(kw)
        for (left, right), kws in groups.items():  # one boundary check per group, not per keyword
            py = "(?:" + "|".join(map(re.escape, kws)) + ")"
            r2 = "(?:" + "|".join(map(_re2_escape, kws)) + ")"
            if left:
                py, r2 = r"(?<!\w)" + py, r"(?:^|[^\p{L}\p{N}_])" + r2
            if right:
                py, r2 = py + r"(?!\w)", r2 + r"(?:$|[^\p{L}\p{N}_])"
            py_parts.append(py)
            re2_parts.append(r2)
        flags = re.IGNORECASE if self.ignore_case else 0
        self.python_pattern = re.compile("|".join(py_parts), flags)
        # one RE2 scan, exact: the boundaries are Unicode classes (measured as fast as RE2's
        # ASCII \b, which would need a second pass over rows with non-ASCII letters)
        self._re2 = ("(?i)" if self.ignore_case else "") + "(?:" + "|".join(re2_parts) + ")"
        if not _regex.re2_compiles(self._re2):
            self._re2 = None

    def definition(self):
        return json.dumps({"type": "keyword", "name": self.name, "keywords": sorted(set(self.keywords)),
                           "label": self.label, "field": self.field, "ignore_case": self.ignore_case,
                           "word_boundary": self.word_boundary})

    def max_label(self):
        return self.label

    def apply_table(self, table):
        col = _string_column(table, self.field, self.name)
        mask = _regex.search_column(col, self.python_pattern, self._re2, exact=self._re2 is not None)
        return self._votes(mask, self.label)


class RegexLF(VectorizedLF):
    """Votes ``label`` where ``re.search(pattern, value, flags)`` matches (see :func:`regex_lf`)."""

    def __init__(self, name, pattern, label, field="text", flags=0):
        super().__init__(name)
        if isinstance(pattern, re.Pattern):
            flags |= pattern.flags & ~re.UNICODE
            pattern = pattern.pattern
        try:
            self.compiled = re.compile(pattern, flags)
        except re.error as exc:
            raise LabelingFunctionError(f"regex_lf {name!r}: invalid regular expression {pattern!r}: {exc}",
                                        lf_name=name) from None
        self.pattern = pattern
        self.flags = int(flags)
        self.label = _check_label(label, name)
        self.field = field
        self.fields = (field,)
        self._re2, self._exact = _regex.plan(pattern, self.flags)
        self._re2_ascii = _regex.plan_ascii(pattern, self.flags) if (self._re2 and not self._exact) else None

    @property
    def vectorized(self) -> bool:
        """True when RE2 does the work (exactly, or as a pre-filter re-checked in Python)."""
        return self._re2 is not None

    def definition(self):
        return json.dumps({"type": "regex", "name": self.name, "pattern": self.pattern, "flags": self.flags,
                           "label": self.label, "field": self.field})

    def max_label(self):
        return self.label

    def apply_table(self, table):
        col = _string_column(table, self.field, self.name)
        return self._votes(_regex.search_column(col, self.compiled, self._re2, self._exact, self._re2_ascii),
                           self.label)


class ThresholdLF(VectorizedLF):
    """Votes ``label`` where a numeric field passes every given bound (see :func:`threshold_lf`)."""

    _OPS = {"gt": pc.greater, "ge": pc.greater_equal, "lt": pc.less, "le": pc.less_equal}

    def __init__(self, name, field, label, gt=None, ge=None, lt=None, le=None):
        super().__init__(name)
        self.field = field
        self.fields = (field,)
        self.label = _check_label(label, name)
        self.bounds = {k: v for k, v in (("gt", gt), ("ge", ge), ("lt", lt), ("le", le)) if v is not None}
        if not self.bounds:
            raise LabelingFunctionError(f"threshold_lf {name!r}: give at least one of gt, ge, lt, le",
                                        lf_name=name)
        for k, v in self.bounds.items():
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise LabelingFunctionError(f"threshold_lf {name!r}: bound {k}={v!r} is not a number", lf_name=name)

    def definition(self):
        return json.dumps({"type": "threshold", "name": self.name, "field": self.field, "label": self.label,
                           "bounds": {k: float(v) for k, v in sorted(self.bounds.items())}})

    def max_label(self):
        return self.label

    def apply_table(self, table):
        if self.field not in table.column_names:
            raise LabelingFunctionError(f"labeling function {self.name!r} reads field {self.field!r}, which the "
                                        f"data does not have; columns are {table.column_names}", lf_name=self.name)
        col = table.column(self.field)
        if pa.types.is_null(col.type):  # every value null: nothing to compare, abstain everywhere
            return np.full(table.num_rows, ABSTAIN, dtype=VOTE_DTYPE)
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_decimal(col.type)):
            raise LabelingFunctionError(f"threshold_lf {self.name!r}: field {self.field!r} must be numeric, got "
                                        f"Arrow type {col.type}", lf_name=self.name)
        # unsafe: int64 beyond 2**53 rounds to the nearest double instead of raising
        col = col.cast(pa.float64(), safe=False)
        mask = None
        for k, v in self.bounds.items():
            m = self._OPS[k](col, pa.scalar(float(v)))
            mask = m if mask is None else pc.and_(mask, m)
        mask = pc.fill_null(mask, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)
        return self._votes(mask, self.label)


# ---- gazetteer
_BMP_WORD: np.ndarray | None = None


def _is_word_cp(cps: np.ndarray) -> np.ndarray:
    """Vectorised Python ``\\w`` (isalnum or underscore) over code points."""
    global _BMP_WORD
    if _BMP_WORD is None:
        chars = "".join(map(chr, range(0xD800))) + "\0" * 0x800 + "".join(map(chr, range(0xE000, 0x10000)))
        table = np.zeros(0x10000, dtype=bool)
        for m in re.finditer(r"\w+", chars):
            table[m.start():m.end()] = True
        table[0xD800:0xE000] = False
        _BMP_WORD = table
    out = _BMP_WORD[np.minimum(cps, 0xFFFF)]
    astral = np.flatnonzero(cps > 0xFFFF)
    if len(astral):  # emoji etc.: check each distinct code point once
        uniq, inv = np.unique(cps[astral], return_inverse=True)
        word = np.array([bool(_WORD_RE.match(chr(int(c)))) for c in uniq], dtype=bool)
        out[astral] = word[inv.reshape(-1)]
    return out


def _read_taxonomy(path: Path, class_names=None) -> dict:
    suffix = path.suffix.lower()
    if not path.exists():
        raise DataFormatError(f"{path}: no such taxonomy file")
    if suffix == ".json":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"{path}: not valid JSON ({exc})") from None
        if isinstance(raw, dict):
            return raw
        if isinstance(raw, list) and all(isinstance(r, dict) and "term" in r and "class" in r for r in raw):
            return {r["term"]: r["class"] for r in raw}
        raise DataFormatError(f"{path}: expected an object term -> class, or a list of {{term, class}} records")
    if suffix in (".csv", ".tsv", ".txt"):
        import pandas as pd

        sep = "\t" if suffix in (".tsv", ".txt") else ","
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
        cols = [c.lower() for c in df.columns]
        if "term" in cols and ("class" in cols or "label" in cols):
            tcol = df.columns[cols.index("term")]
            ccol = df.columns[cols.index("class" if "class" in cols else "label")]
        elif len(df.columns) == 2:
            tcol, ccol = df.columns
        else:
            raise DataFormatError(f"{path}: expected columns 'term' and 'class' (or exactly two columns), "
                                  f"got {list(df.columns)}")
        return dict(zip(df[tcol], df[ccol]))
    raise DataFormatError(f"{path}: taxonomy files must be .csv, .tsv or .json")


class GazetteerLF(VectorizedLF):
    """Aho-Corasick match of many terms at once (see :func:`gazetteer_lf`)."""

    def __init__(self, name, terms, label=None, field="text", ignore_case=True, word_boundary=True,
                 class_names=None):
        super().__init__(name)
        import ahocorasick

        self.field = field
        self.fields = (field,)
        self.ignore_case = bool(ignore_case)
        self.word_boundary = bool(word_boundary)
        self.source = None
        if isinstance(terms, (str, Path)):
            self.source = str(terms)
            terms = _read_taxonomy(Path(terms), class_names)
        if isinstance(terms, Mapping):
            if label is not None:
                raise LabelingFunctionError(f"gazetteer_lf {name!r}: give either a term -> class mapping or "
                                            f"a list of terms with label=, not both", lf_name=name)
            items = list(terms.items())
        else:
            if label is None:
                raise LabelingFunctionError(f"gazetteer_lf {name!r}: a plain list of terms needs label=",
                                            lf_name=name)
            lab = _check_label(label, name)
            items = [(t, lab) for t in terms]
        name_to_id = {str(c): i for i, c in enumerate(class_names)} if class_names is not None else {}
        norm: dict[str, int] = {}
        for term, cls in items:
            term = str(term)
            if isinstance(cls, str):
                if cls in name_to_id:
                    cls = name_to_id[cls]
                elif cls.strip().lstrip("-").isdigit():
                    cls = int(cls)
                else:
                    raise LabelingFunctionError(f"gazetteer_lf {name!r}: term {term!r} has class {cls!r}; give "
                                                f"class ids or class_names=", lf_name=name)
            cls = _check_label(cls, name)
            key = self._norm([term])[0].strip() if term.strip() else ""
            if not key:
                continue
            if key in norm and norm[key] != cls:
                raise LabelingFunctionError(f"gazetteer_lf {name!r}: term {term!r} is given classes "
                                            f"{norm[key]} and {cls}", lf_name=name)
            norm[key] = cls
        if not norm:
            raise LabelingFunctionError(f"gazetteer_lf {name!r}: no terms", lf_name=name)
        self.terms = norm
        self._automaton = ahocorasick.Automaton()
        for t, c in norm.items():
            self._automaton.add_word(t, (len(t), c))
        self._automaton.make_automaton()
        h = hashlib.sha256()
        for t in sorted(norm):
            h.update(t.encode("utf-8", "surrogatepass") + b"\0" + str(norm[t]).encode() + b"\n")
        self._terms_hash = h.hexdigest()
        self._max_label = max(norm.values())

    def _norm(self, values: list[str]) -> list[str]:
        if not self.ignore_case:
            return values
        return pc.utf8_lower(pa.array(values, pa.large_string())).to_pylist()

    def definition(self):
        return json.dumps({"type": "gazetteer", "name": self.name, "terms_sha256": self._terms_hash,
                           "n_terms": len(self.terms), "field": self.field, "ignore_case": self.ignore_case,
                           "word_boundary": self.word_boundary})

    def max_label(self):
        return self._max_label

    def apply_table(self, table):
        col = _string_column(table, self.field, self.name)
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        n = len(col)
        out = np.full(n, ABSTAIN, dtype=VOTE_DTYPE)
        if n == 0:
            return out
        col = pc.fill_null(col, "")
        if self.ignore_case:
            col = pc.utf8_lower(col)
        # one pass over all texts joined by "\n" (terms never contain one after strip)
        lengths = pc.utf8_length(col).to_numpy(zero_copy_only=False).astype(np.int64)
        starts = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths + 1, out=starts[1:])
        big = "\n".join(col.to_pylist())
        ends_l, vals = [], []
        for end, val in self._automaton.iter(big):
            ends_l.append(end)
            vals.append(val)
        if not ends_l:
            return out
        ends = np.asarray(ends_l, dtype=np.int64)
        info = np.asarray(vals, dtype=np.int64)
        tlen, tcls = info[:, 0], info[:, 1]
        begin = ends - tlen + 1
        row = np.searchsorted(starts, begin, side="right") - 1
        ok = np.ones(len(ends), dtype=bool)
        if self.word_boundary:
            cps = np.frombuffer(big.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            last = len(cps) - 1
            first_w = _is_word_cp(cps[begin])
            last_w = _is_word_cp(cps[ends])
            before = (begin > 0) & _is_word_cp(cps[np.maximum(begin - 1, 0)])
            after = (ends < last) & _is_word_cp(cps[np.minimum(ends + 1, last)])
            ok &= ~(first_w & before) & ~(last_w & after)
        row, begin, tlen, tcls = row[ok], begin[ok], tlen[ok], tcls[ok]
        if len(row) == 0:
            return out
        order = np.lexsort((begin, -tlen, row))  # per row: longest, then leftmost
        row, tcls = row[order], tcls[order]
        first = np.ones(len(row), dtype=bool)
        first[1:] = row[1:] != row[:-1]
        out[row[first]] = tcls[first]
        return out


class ModelLF(VectorizedLF):
    """Votes a model's argmax class when its max probability >= threshold (see :func:`model_lf`)."""

    def __init__(self, name, model, field="text", label_map=None, threshold=0.5, featurize=None):
        super().__init__(name)
        if not hasattr(model, "predict_proba"):
            raise LabelingFunctionError(f"model_lf {name!r}: the model has no predict_proba method", lf_name=name)
        self.model = model
        self.field = field
        self.fields = (field,) if isinstance(field, str) else tuple(field)
        self.threshold = float(threshold)
        self.featurize = featurize
        self.label_map = None if label_map is None else dict(label_map)
        try:
            import pickle

            self._model_hash = hashlib.sha256(pickle.dumps(model, protocol=4)).hexdigest()
        except Exception:  # noqa: BLE001 - unpicklable: never cached (definition() is None)
            self._model_hash = None

    def definition(self):
        if self._model_hash is None:
            return None
        try:
            featurize = _code_fingerprint(self.featurize) if self.featurize else None
        except _Unreadable:
            return None
        return json.dumps({"type": "model", "name": self.name, "model": self._model_hash, "field": list(self.fields),
                           "threshold": self.threshold,
                           "label_map": None if self.label_map is None else sorted(
                               (repr(k), int(v)) for k, v in self.label_map.items()),
                           "featurize": featurize})

    def max_label(self):
        if self.label_map is not None:
            return max(int(v) for v in self.label_map.values())
        return None

    def apply_table(self, table):
        for f in self.fields:
            if f not in table.column_names:
                raise LabelingFunctionError(f"labeling function {self.name!r} reads field {f!r}, which the data "
                                            f"does not have; columns are {table.column_names}", lf_name=self.name)
        n = table.num_rows
        if n == 0:
            return np.zeros(0, dtype=VOTE_DTYPE)
        # rows with a null in any field the model reads abstain (as for the other
        # declarative LFs); the model sees only the other rows
        valid = np.ones(n, dtype=bool)
        for f in self.fields:
            col = table.column(f)
            if col.null_count:
                valid &= ~np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        out = np.full(n, ABSTAIN, dtype=VOTE_DTYPE)
        if not valid.any():
            return out
        if not valid.all():
            table = table.filter(pa.array(valid))
        n_model = table.num_rows
        if isinstance(self.field, str):
            cols = table.column(self.field).to_pandas()
        else:
            cols = table.select(list(self.fields)).to_pandas()
        X = self.featurize(cols) if self.featurize is not None else cols
        try:
            P = np.asarray(self.model.predict_proba(X), dtype=float)
        except Exception as exc:  # noqa: BLE001
            import traceback

            raise LabelingFunctionError(f"labeling function {self.name!r}: model.predict_proba raised "
                                        f"{type(exc).__name__}: {exc}", lf_name=self.name,
                                        traceback_text=traceback.format_exc()) from exc
        if P.ndim != 2 or P.shape[0] != n_model:
            raise LabelingFunctionError(f"labeling function {self.name!r}: predict_proba returned shape {P.shape}, "
                                        f"expected ({n_model}, n_model_classes)", lf_name=self.name)
        arg = P.argmax(axis=1)
        conf = P[np.arange(n_model), arg] >= self.threshold
        if self.label_map is not None:
            classes = getattr(self.model, "classes_", None)
            if classes is None:  # no classes_: the map is keyed by column position
                keys = range(P.shape[1])
            else:  # keyed by the model's classes only: an unmapped class abstains
                keys = [c.item() if isinstance(c, np.generic) else c for c in list(classes)]
            lut = np.array([int(self.label_map.get(c, ABSTAIN)) for c in keys], dtype=np.int64)
        else:
            classes = getattr(self.model, "classes_", None)
            if classes is not None and np.asarray(classes).dtype.kind in "iu":
                lut = np.asarray(classes, dtype=np.int64)
            else:
                lut = np.arange(P.shape[1])
        out[valid] = np.where(conf, lut[arg], ABSTAIN)
        return out


# ---------------------------------------------------------------------- builders
def keyword_lf(name: str, keywords: Iterable[str], label: int, field: str = "text",
               ignore_case: bool = True, word_boundary: bool = True) -> KeywordLF:
    """LF voting ``label`` when any of ``keywords`` occurs in ``field``, else abstaining.

    With ``word_boundary`` a keyword must not touch a word character (Python ``\\w``:
    letters, digits, underscore) on a side where the keyword itself starts/ends with
    one; so ``"sub"`` does not match ``"subscribe"`` but ``".com"`` matches ``"x.com"``.
    Runs as one RE2 scan of the column.
    """
    return KeywordLF(name, keywords, label, field=field, ignore_case=ignore_case, word_boundary=word_boundary)


def regex_lf(name: str, pattern, label: int, field: str = "text", flags: int = 0) -> RegexLF:
    """LF voting ``label`` wherever ``re.search(pattern, value, flags)`` matches.

    Compiled to RE2 (``pyarrow.compute.match_substring_regex``) with Python ``re``
    semantics; constructs RE2 cannot express exactly are re-checked with ``re`` on the
    RE2 hits, and patterns RE2 cannot run at all (look-arounds, back-references) use
    ``re`` on every row. Null values abstain.
    """
    return RegexLF(name, pattern, label, field=field, flags=flags)


def threshold_lf(name: str, field: str, label: int, gt=None, ge=None, lt=None, le=None) -> ThresholdLF:
    """LF voting ``label`` where the numeric ``field`` satisfies every given bound
    (``> gt``, ``>= ge``, ``< lt``, ``<= le``); nulls and NaN abstain."""
    return ThresholdLF(name, field, label, gt=gt, ge=ge, lt=lt, le=le)


def gazetteer_lf(name: str, terms, label: int | None = None, field: str = "text", ignore_case: bool = True,
                 word_boundary: bool = True, class_names: Sequence[str] | None = None) -> GazetteerLF:
    """LF matching a (possibly huge) list of terms in one Aho-Corasick pass.

    Parameters
    ----------
    terms : list of str (all vote ``label``), dict term -> class, or a path to a
        taxonomy file (CSV/TSV with columns ``term,class``, or JSON ``{term: class}``).
        Classes may be names when ``class_names`` is given.
    word_boundary : a match must not be glued to word characters on either side.

    The row's vote is the class of its longest matching term (ties: the leftmost).
    """
    return GazetteerLF(name, terms, label=label, field=field, ignore_case=ignore_case,
                       word_boundary=word_boundary, class_names=class_names)


def model_lf(name: str, model, field="text", label_map: Mapping | None = None, threshold: float = 0.5,
             featurize: Callable | None = None) -> ModelLF:
    """LF from any object with ``predict_proba``: votes the argmax class where the max
    probability is >= ``threshold``, else abstains.

    ``featurize`` receives the column (a pandas Series, or a DataFrame when ``field``
    is a list) and returns the model's input. ``label_map`` maps the model's classes
    (the values of ``model.classes_``, or column positions for a model without
    ``classes_``) to class ids; a class missing from the map abstains. By default integer
    ``classes_`` (or the column positions) are the class ids. Rows with a null in a field
    the model reads abstain without reaching the model.
    """
    return ModelLF(name, model, field=field, label_map=label_map, threshold=threshold, featurize=featurize)


def crowd_matrix(table, item: str = "item", annotator: str = "annotator", label: str = "label",
                 n_classes: int | None = None, items: Sequence | None = None,
                 annotators: Sequence[str] | None = None, class_names: Sequence | None = None):
    """LabelMatrix from crowd annotations (one row per (item, annotator, label)).

    Each annotator becomes a source (column). ``items`` fixes the row order (default:
    sorted unique items); ``annotators`` fixes the column order. ``class_names`` lists
    the answers in class-id order when they are names (``["cat", "dog"]``) or numbered
    from 1; without it answers must be class ids. See :meth:`LabelMatrix.from_long`.
    """
    from ..matrix import LabelMatrix

    return LabelMatrix.from_long(table, item=item, source=annotator, label=label, n_classes=n_classes,
                                 items=items, source_names=annotators, class_names=class_names)
