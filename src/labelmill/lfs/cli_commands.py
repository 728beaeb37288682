"""CLI commands of the LF layer: ``labelmill apply``, ``labelmill lfs``, ``labelmill cache clear``.

``register(group)`` adds them to the main ``labelmill`` click group. Bad input exits
with code 2 and a one-line message.
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path

import click
import numpy as np

from .._cli_common import check_n_jobs, check_out_file, debug_option, debug_requested
from ..errors import LabelmillError
from .core import LabelingFunction


class LFUsageError(click.ClickException):
    """Bad input to an LF command: exit code 2, one-line message."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"error: {self.format_message()}", err=True, file=file)


def load_lfs_from_file(path) -> list:
    """Import a Python file and return its module-level labeling functions in definition order.

    Every module-level name bound to a :class:`LabelingFunction` counts (an object bound
    to two names once). The module is registered in ``sys.modules`` under a private
    name so worker processes can use its functions.

    Raises
    ------
    LFUsageError (exit code 2) if the file is missing, fails to import, or defines no LF.
    """
    path = Path(path)
    if not path.is_file():
        raise LFUsageError(f"{path}: no such LF file")
    if path.suffix != ".py":
        raise LFUsageError(f"{path}: an LF file must be a Python file (.py)")
    mod_name = f"_labelmill_lfs_{path.stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        # compiled from the source every time, never through a __pycache__ .pyc: Python
        # trusts a .pyc whose source has the same size and mtime second, so an edit such as
        # "spam" -> "scam" saved within a second of the last load would run the old LFs
        # (and cache their votes under the new source's key)
        exec(compile(path.read_bytes(), str(path), "exec", dont_inherit=True), module.__dict__)
    except LabelmillError as exc:
        del sys.modules[mod_name]
        raise LFUsageError(f"{path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - user file
        del sys.modules[mod_name]
        import traceback

        tb = traceback.extract_tb(exc.__traceback__)
        where = next((f"line {fr.lineno}" for fr in reversed(tb) if fr.filename == str(path)), "")
        raise LFUsageError(f"{path}: importing the LF file failed{' at ' + where if where else ''}: "
                           f"{type(exc).__name__}: {exc}") from None
    lfs, seen = [], set()
    for value in vars(module).values():
        if isinstance(value, LabelingFunction) and id(value) not in seen:
            seen.add(id(value))
            lfs.append(value)
    if not lfs:
        raise LFUsageError(f"{path}: defines no labeling functions at module level (use @labeling_function() "
                           f"or keyword_lf/regex_lf/... and bind them to module-level names)")
    return lfs


def _wrap(fn, *args, **kwargs):
    """Call ``fn``; a labelmill error or ValueError becomes a one-line LFUsageError (exit
    code 2), after the full traceback when --debug was given."""
    try:
        return fn(*args, **kwargs)
    except (LabelmillError, ValueError) as exc:
        if debug_requested():
            import traceback

            traceback.print_exc()
        raise LFUsageError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def _check_data(path: str) -> str:
    if not Path(path).exists():
        raise LFUsageError(f"{path}: no such data file or folder")
    return path


@click.command("apply")
@click.option("--data", "data", required=True, metavar="TABLE",
              help="Parquet file or folder, CSV/TSV or JSON-lines file.")
@click.option("--lfs", "lfs_file", required=True, metavar="FILE.py", help="Python file defining the LFs.")
@click.option("--out", "out", required=True, metavar="L.parquet", help="Where to write the vote table.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the vote cache.")
@click.option("--cache-dir", default=None, help="Vote cache folder (default $LABELMILL_CACHE_DIR or "
                                                "./.labelmill_cache).")
@click.option("--n-jobs", type=int, default=None, callback=check_n_jobs,
              help="Processes for Python LFs (default: all cores).")
@click.option("--n-classes", type=int, default=None, help="Number of classes (default: largest class an LF votes + 1).")
@click.option("--on-error", type=click.Choice(["raise", "abstain"]), default="raise", show_default=True)
@click.option("--progress/--no-progress", default=True)
@debug_option
def apply_command(data, lfs_file, out, no_cache, cache_dir, n_jobs, n_classes, on_error, progress):
    """Apply the LFs in FILE.py to TABLE and write one vote column per LF (-1 = abstain)."""
    import pyarrow as pa

    from .._io import write_parquet_atomic
    from .apply import apply_lfs

    _check_data(data)
    check_out_file(out)
    lfs = load_lfs_from_file(lfs_file)
    cache = False if no_cache else (cache_dir or True)
    L = _wrap(apply_lfs, lfs, data, n_classes=n_classes, n_jobs=n_jobs, cache=cache, on_error=on_error,
              progress=progress)
    dense = L.to_dense(dtype=np.int16)
    cols = {}
    if L.report.row_ids is not None:
        cols["id"] = pa.array(L.report.row_ids.tolist() if L.report.row_ids.dtype == object else L.report.row_ids)
    for j, name in enumerate(L.source_names):
        cols[name] = pa.array(dense[:, j].astype(np.int8 if L.n_classes <= 127 else np.int16))
    write_parquet_atomic(out, pa.table(cols))
    click.echo(f"wrote {out}: {L.n_rows} rows x {L.n_sources} LFs, coverage {L.coverage():.3f}"
               + (f", from cache: {len(L.report.from_cache)}" if L.report.from_cache else "")
               + (f", LF failures turned into abstains: {L.report.n_errors}" if L.report.n_errors else ""))


@click.command("lfs")
@click.argument("data", metavar="DATA")
@click.option("--lfs", "lfs_file", required=True, metavar="FILE.py", help="Python file defining the LFs.")
@click.option("--gold-column", default=None, help="Column holding gold labels (-1 = unknown).")
@click.option("--no-cache", is_flag=True)
@click.option("--n-jobs", type=int, default=None, callback=check_n_jobs)
@click.option("--n-classes", type=int, default=None)
@click.option("--on-error", type=click.Choice(["raise", "abstain"]), default="raise", show_default=True)
@debug_option
def lfs_command(data, lfs_file, gold_column, no_cache, n_jobs, n_classes, on_error):
    """Apply the LFs in FILE.py to DATA and print coverage, overlaps, conflicts and accuracy per LF."""
    from rich.console import Console

    from ._data import TableSource, gold_ids
    from .analysis import dataset_summary, lf_summary, print_lf_summary
    from .apply import apply_lfs

    _check_data(data)
    lfs = load_lfs_from_file(lfs_file)
    y = None
    if gold_column is not None:
        src = _wrap(TableSource, data)
        if gold_column not in src.column_names:
            raise LFUsageError(f"{data}: no gold column {gold_column!r}; columns are {src.column_names}")
        y = _wrap(gold_ids, src.table([gold_column]).column(gold_column).to_pandas(), gold_column)
    L = _wrap(apply_lfs, lfs, data, n_classes=n_classes, n_jobs=n_jobs, cache=not no_cache, on_error=on_error,
              progress=False)
    summary = _wrap(lf_summary, L, y=y)
    print_lf_summary(summary, dataset_summary(L), console=Console(width=None if sys.stdout.isatty() else 200),
                     title=f"Labeling functions on {data}")


@click.group("cache")
def cache_group():
    """Manage the cache of LF votes and features."""


@cache_group.command("clear")
@click.option("--cache-dir", default=None, help="Cache folder (default $LABELMILL_CACHE_DIR or ./.labelmill_cache).")
@debug_option
def cache_clear(cache_dir):
    """Delete every cached LF vote vector and feature matrix."""
    from ..features.cache import FeatureCache
    from .cache import clear_cache, default_cache_dir

    root = Path(cache_dir) if cache_dir else default_cache_dir()
    n_features = FeatureCache(root).clear()  # first, so the vote cache can remove the emptied folder
    n = clear_cache(root)
    click.echo(f"removed {n} cached vote vector{'s' if n != 1 else ''} and {n_features} cached feature "
               f"file{'s' if n_features != 1 else ''} from {root}")


def register(group: click.Group) -> None:
    """Add ``apply``, ``lfs`` and ``cache`` to the main ``labelmill`` click group."""
    for cmd in (apply_command, lfs_command, cache_group):
        group.add_command(cmd)
