"""The fork server of a local process pool: what it preloads, and starting it early.

Kept apart from ``sim.experiments.executors`` so that it imports nothing but the
standard library: the command line starts the server before it loads anything else
(``sim.cli.app.main``), and the server's own imports (a fresh interpreter importing
the model, about a third of a second) then overlap the command line's.
"""

from __future__ import annotations

import os

PRELOAD = ["sim.experiments.executors", "sim.core.model", "sim.scenario.loader"]
"""What the fork server imports once, so that each worker forked from it starts ready."""


def default_jobs() -> int:
    """Cores this process may use (the default of ``jobs``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def starting_worker() -> bool:
    """True in a pool worker that is still starting (the flag multiprocessing itself
    checks): such a process must never start a server or a pool of its own."""
    import multiprocessing

    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def start_fork_server(jobs: int | None, dask: str | None) -> None:
    """Start the fork server of a local pool now, if ``jobs`` and ``dask`` will make one.

    A command calls this first, so that the server's imports overlap the command's
    own work of loading the command line and its scenario rather than delaying the
    first run.
    """
    import multiprocessing

    j = default_jobs() if jobs is None else jobs
    if dask or j <= 1 or "forkserver" not in multiprocessing.get_all_start_methods():
        return
    if starting_worker():
        return
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()
