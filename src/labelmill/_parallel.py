"""Run independent fits on several cores, in order, with an optional progress bar.

The end-model stage fits many small models whose only link is that the best one on
valid is kept (a grid of settings, or one proxy model per candidate teacher). Those fits
are independent, so they run in joblib worker processes. Threads would not help: most of
a fit is spent in L-BFGS bookkeeping that holds the GIL.
"""

from __future__ import annotations

import os


def resolve_n_jobs(n_jobs) -> int:
    """Number of processes for ``n_jobs``: None = every core this process may use,
    -1 = all, -2 = all but one, ..., a positive number as is."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if n_jobs is None:
        return cpus
    n_jobs = int(n_jobs)
    if n_jobs < 0:
        return max(1, cpus + 1 + n_jobs)
    if n_jobs == 0:
        raise ValueError("n_jobs must be a positive number of processes, -1 for all cores, or None")
    return n_jobs


def ordered_map(fn, args, n_jobs: int = 1, progress=False, desc: str = "", total: int | None = None) -> list:
    """``[fn(*a) for a in args]``, on ``n_jobs`` processes when that is more than 1.

    ``args`` may be a generator: it is consumed lazily (a few items ahead of the
    workers), so large per-item inputs need not all exist at once. Results come back
    in the order of ``args``. ``fn`` must be picklable (a module-level function).

    ``progress``: False; True for a tqdm bar of finished items on stderr; or a function
    ``progress(desc, done, total)`` called before the first item and after each one
    (the CLI passes one that drives its own display).
    """
    bar = report = None
    if callable(progress):
        report = progress
        report(desc, 0, total)
    elif progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, leave=False)

    out = []

    def done(r):
        out.append(r)
        if bar is not None:
            bar.update()
        if report is not None:
            report(desc, len(out), total)

    from joblib import Parallel, delayed

    try:
        # n_jobs=1 runs in this process, one item at a time
        for r in Parallel(n_jobs=max(1, n_jobs), return_as="generator", pre_dispatch="2*n_jobs")(
                delayed(fn)(*a) for a in args):
            done(r)
        return out
    finally:
        if bar is not None:
            bar.close()
