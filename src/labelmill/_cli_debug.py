"""``--debug`` for every labelmill command: show the traceback of an error, not one line."""

from __future__ import annotations

import sys

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
