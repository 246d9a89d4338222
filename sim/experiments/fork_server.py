"""The fork server of a local process pool: what it preloads, starting it early, and
its exit.

Kept apart from ``sim.experiments.executors`` so that it imports nothing but the
standard library: the console script starts the server before it loads anything else
(``sim.cli.main``, before even typer), and the server's own imports (a fresh
interpreter importing the model, about half a second) then overlap the command line's.

The server shares the command's standard output and error (multiprocessing starts it
with them), so whoever reads the command's output (a pipe, ``subprocess.run``) sees
its end only when the server has closed them too. The server leaves when the command
has ended, and its interpreter's teardown of the modules it preloaded took another
0.12-0.15 s after the command itself had gone (measured on a 2-core machine). It has
nothing to write or release by then, so it skips that teardown (``_leave_at_once``).

The server imports its preload with the cyclic garbage collector off, as the command
line loads itself (``sim.cli``): the imports create some hundred thousand objects that
live as long as the process, which the collector would otherwise walk again and again
while they load (0.07-0.1 s of the server's half-second of imports, measured on a
2-core machine), and those imports lie between the command's start and its first run.
The server itself then only forks workers, so it leaves the collector off; each worker
freezes what it inherited and turns the collector on again (``executors._init_worker``).
"""

from __future__ import annotations

import atexit
import gc
import os
import sys

PRELOAD = ["sim.experiments.fork_server", "sim.experiments.executors", "sim.core.model",
           "sim.scenario.loader"]
"""What the fork server imports once, so that each worker forked from it starts ready:
this module first, which turns the collector off for the rest (see above)."""


def _in_fork_server() -> bool:
    """True in multiprocessing's fork server itself: a process started as
    ``python -c "from multiprocessing.forkserver import main; main(...)"``, whose
    ``__main__`` holds that ``main`` (neither a command nor a worker forked from the
    server, whose ``__main__`` is the command's script or module)."""
    server = sys.modules.get("multiprocessing.forkserver")
    return server is not None and getattr(sys.modules.get("__main__"), "main", None) is \
        getattr(server, "main", None)


def _leave_at_once() -> None:
    """At the fork server's exit: flush and end the process without the interpreter's
    teardown (see the module's docstring). Its workers end the same way already
    (``os._exit``, multiprocessing's own), and never run this."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    os._exit(0)


QUICK_EXIT_ARMED = _in_fork_server()
"""Whether this process will leave at once at its exit: set when the fork server
preloads this module (first of ``PRELOAD``), which also turns its collector off."""
if QUICK_EXIT_ARMED:
    atexit.register(_leave_at_once)
    gc.disable()


def quick_exit_armed() -> bool:
    """``QUICK_EXIT_ARMED`` of this process (a pool worker inherits the server's)."""
    return QUICK_EXIT_ARMED


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
