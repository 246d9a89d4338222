"""How a local process pool starts its workers: forked from the process itself where it
chose so and runs no other thread (``pool_start_method``: the console script, on Linux),
else by a fork server; and that server: what it preloads, starting it early, its exit.

Forking from the command saves the server's work on the command's own cores: a second
interpreter importing the model (about a quarter of a second of processor time) and a
resource tracker, while the command loads itself; each worker also inherits the
scenario model's validator, which the command has built. On a 2-core machine it made
``replicate -n 200 --jobs 2`` about 4% faster (the median of 36 pairs, each timing the
fork server and forking one after the other; forking was faster in 26).

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
    """Start the fork server of a local pool now, if ``jobs`` and ``dask`` will make one
    and its workers will not be forked from this process (``pool_start_method``).

    A command calls this first, so that the server's imports overlap the command's
    own work of loading the command line and its scenario rather than delaying the
    first run.
    """
    import multiprocessing

    j = default_jobs() if jobs is None else jobs
    if dask or j <= 1 or pool_start_method() != "forkserver":
        return
    if starting_worker():
        return
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()


_FORK_FROM_HERE = {"chosen": False}
"""Whether this process chose to fork its pools' workers from itself
(``fork_workers_from_here``); a dict, so that the choice is made without a global
statement."""


def fork_workers_from_here() -> None:
    """Let this process's local pools fork their workers from itself, on Linux, whenever
    it runs no other thread at the time (``pool_start_method``).

    The console script chooses this (``sim.cli.main``): it knows it starts no thread of
    its own before its pools (its progress bars redraw without one). A forked worker
    starts with everything the command has loaded (the command line, the scenario
    model's validator) and starts at once, where the fork server is a second interpreter
    importing the model on the same cores as the command's own imports, with a resource
    tracker beside it. A script may call this too. Otherwise a library caller gets the
    fork server, the same everywhere: a process with threads (a notebook, a server) must
    not be forked, since a lock held by another thread at that moment stays held in the
    child for ever. (``multiprocessing``'s own default method is not read: asking for it
    sets it, so it cannot tell a choice from a default.)
    """
    _FORK_FROM_HERE["chosen"] = True


def pool_start_method() -> str:
    """How a local pool made now starts its workers: ``"fork"`` where this process chose
    it (``fork_workers_from_here``), on Linux, with no other thread running; else
    ``"forkserver"`` where there is one, else ``"spawn"``. Decided when the pool is made:
    a fork pool forks all its workers at its first task, before it starts its own
    threads, and a pool made while another's threads still run gets the fork server."""
    import multiprocessing
    import threading

    methods = multiprocessing.get_all_start_methods()
    if _FORK_FROM_HERE["chosen"] and sys.platform.startswith("linux") and "fork" in methods \
            and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"
