"""Read-only rows handed to Python labeling functions by the applier.

Building one ``dict`` per example dominated applying cheap Python LFs (and re-applying
one edited LF after a cache hit on the others). A row here is a tuple of the
example's values in a class made once per schema: creating it costs about half a dict,
``row.field`` is the C-level descriptor namedtuple uses, and ``row["field"]``, ``.get``,
``in``, ``keys``/``values``/``items`` and ``dict(row)`` work as on a mapping. Rows are
shared by every LF of a batch, so they are read-only: an LF that wants to transform
its input uses a preprocessor (``pre=``), which gets a mutable :class:`Row` copy.
"""

from __future__ import annotations

from collections.abc import Mapping

try:  # the C-level field descriptor behind collections.namedtuple (CPython >= 3.8)
    from collections import _tuplegetter
except ImportError:  # pragma: no cover - other interpreters
    def _tuplegetter(i, doc):
        return property(lambda self: tuple.__getitem__(self, i), doc=doc)

from .core import Row

_CLASSES: dict = {}
_READ_ONLY = ("rows given to labeling functions are read-only (every LF of a batch sees the same row); "
              "transform them in a preprocessor, pre=[...], which gets a mutable copy")


def frozen_row_class(names: tuple) -> type:
    """The read-only row class for one schema (column names in table order)."""
    cls = _CLASSES.get(names)
    if cls is not None:
        return cls
    index = {nm: i for i, nm in enumerate(names)}  # a repeated name keeps its last column, as in a dict
    get_at = tuple.__getitem__
    fields = list(dict.fromkeys(names))

    def __getitem__(self, key):
        try:
            return get_at(self, index[key])
        except (KeyError, TypeError):
            raise KeyError(key) from None

    def __getattr__(self, key):  # only reached for fields without a property
        if key in index:
            return get_at(self, index[key])
        raise AttributeError(f"row has no field {key!r}; fields are {fields}")

    def get(self, key, default=None):
        i = index.get(key)
        return default if i is None else get_at(self, i)

    def items(self):
        return [(nm, get_at(self, index[nm])) for nm in fields]

    def __eq__(self, other):
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    def read_only(self, *args, **kwargs):
        raise TypeError(_READ_ONLY)

    attrs = {
        "__slots__": (),
        "__getitem__": __getitem__,
        "__getattr__": __getattr__,
        "__iter__": lambda self: iter(fields),
        "__len__": lambda self: len(fields),
        "__contains__": lambda self, key: key in index,
        "__eq__": __eq__,
        "__ne__": lambda self, other: not (self == other),
        "__hash__": None,
        "__repr__": lambda self: f"Row({dict(self.items())!r})",
        "__reduce__": lambda self: (Row, (dict(self.items()),)),  # pickles as a plain Row
        "__setattr__": read_only,
        "__setitem__": read_only,
        "__delitem__": read_only,
        "keys": lambda self: list(fields),
        "values": lambda self: [get_at(self, index[nm]) for nm in fields],
        "items": items,
        "get": get,
        "copy": lambda self: Row(self.items()),
    }
    for nm in fields:
        if isinstance(nm, str) and nm.isidentifier() and not nm.startswith("_") and nm not in attrs \
                and not hasattr(Row, nm):
            attrs[nm] = _tuplegetter(index[nm], f"field {nm!r}")
    cls = type("Row", (tuple,), attrs)
    cls.__module__ = Row.__module__
    Row.register(cls)
    Mapping.register(cls)
    _CLASSES[names] = cls
    return cls


def make_rows(names: tuple, columns: list, n_rows: int) -> list:
    """One read-only row per example from per-column Python lists (same order as names)."""
    cls = frozen_row_class(tuple(names))
    if not names:
        return [cls() for _ in range(n_rows)]
    return list(map(cls, zip(*columns)))
