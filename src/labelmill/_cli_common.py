"""Pieces every labelmill command shares: ``--debug`` (show the traceback of an error,
not one line) and the checks of option values that several commands take."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def debug_option(f):
    """Decorator: a ``--debug`` flag that marks the click context (and its root) as debugging."""
    def cb(ctx, param, value):
        if value:
            ctx.ensure_object(dict)["debug"] = True
            ctx.find_root().ensure_object(dict)["debug"] = True
        return value

    return click.option("--debug", is_flag=True, expose_value=False, callback=cb, is_eager=True,
                        help="Show full tracebacks.")(f)


def debug_requested() -> bool:
    """True when ``--debug`` was given to the group or to the command being run."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if isinstance(ctx.obj, dict) and ctx.obj.get("debug"):
            return True
        ctx = ctx.parent
    return "--debug" in sys.argv


def check_n_jobs(ctx, param, n_jobs):
    """Click callback of ``--n-jobs``: 0 processes is refused up front."""
    if n_jobs == 0:
        raise click.BadParameter("must be a positive number of processes, or -1 for every core", param_hint="--n-jobs")
    return n_jobs


def check_out_file(out_path) -> None:
    """An ``--out`` that names a file to write must not be an existing folder."""
    if Path(out_path).is_dir():
        raise click.BadParameter(f"{out_path} is a folder; give a file name", param_hint="--out")
