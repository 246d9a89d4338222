"""Executors: where replications run, and the worker side of that.

``make_runner(jobs, dask)`` picks one: ``jobs=1`` runs in this process;
``jobs>1`` uses a process pool (its workers forked from the ``dtsim`` command itself on
Linux, else started by a fork server: ``sim.experiments.fork_server.pool_start_method``;
as with any multiprocessing, a script calling the experiment functions needs an
``if __name__ == "__main__":`` guard); ``dask="local"`` starts a
dask.distributed LocalCluster and ``dask="tcp://host:port"`` uses an existing
scheduler. ``execute`` feeds a runner tasks and yields their results, in task
order or as they finish. Workers get the validated scenario as a plain dict
(``payload``), check its hash, and send back only the KPIs (and, for
replications, the daily series in ``BAND_SERIES``), never the run's logs. At
most a few tasks per worker are in flight, so memory does not grow with the
number of replications.

Kept apart from ``sim.experiments.replication`` (what to run and how to summarise it) so
that the process plumbing is one concern. The worker functions
(``run_chunk``, ``worker_version``) must stay at module top level: the pool
and Dask send them to workers by reference (module and name).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.common.processes import process_alive
from sim.experiments.fork_server import PRELOAD, default_jobs, pool_start_method, starting_worker
from sim.experiments.store import ExperimentError

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

BAND_SERIES = ("delivered_cum", "registered_cum", "escaped_cum", "facility_occupancy",
               "registration_backlog")
"""The daily series a replication sends back for the daily bands."""
DASK_CONNECT_SECONDS = 10.0


# ----- worker side ---------------------------------------------------------------------


def payload(s: Scenario) -> tuple[str, dict[str, Any]]:
    """What a worker gets for ``s``: its hash (the cache key) and its plain-dict form."""
    from sim.scenario.loader import scenario_hash
    from sim.scenario.schema import dump_scenario

    return scenario_hash(s), dump_scenario(s)


_CACHE: dict[str, Scenario] = {}


def _scenario_for(key: str, data: Mapping[str, Any]) -> Scenario:
    """The validated scenario for ``key``, rebuilt once per worker from its dict."""
    s = _CACHE.get(key)
    if s is None:
        from sim.scenario.loader import build, scenario_hash

        s = build(dict(data))
        if scenario_hash(s) != key:
            raise RuntimeError(f"scenario {key} changed in transit to the worker")
        if len(_CACHE) >= 256:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = s
    return s


def run_replication(key: str, data: Mapping[str, Any], seed: int,
                    want_daily: bool) -> tuple[dict[str, Any], dict[str, list[Any]] | None]:
    """One run in a worker: the KPIs and, if asked, the daily series used for bands."""
    from sim.core.model import run

    result = run(_scenario_for(key, data), seed)
    daily = None
    if want_daily:
        daily = {name: [row.get(name) for row in result.daily] for name in BAND_SERIES}
    return result.kpis, daily


def run_chunk(key: str, data: Mapping[str, Any], seeds: Sequence[int],
              want_daily: bool) -> list[tuple[dict[str, Any], dict[str, list[Any]] | None]]:
    """Several runs of one scenario in a worker (fewer, larger tasks for Dask)."""
    return [run_replication(key, data, seed, want_daily) for seed in seeds]


def run_alongside(function: Callable[[Scenario], Any], key: str,
                  data: Mapping[str, Any]) -> Any:
    """``function`` of the scenario, in a worker (``_Pool.submit_alongside``): the work
    a command wants beside its runs (``sim.experiments.alongside``)."""
    return function(_scenario_for(key, data))


def worker_version() -> str:
    """The dtsim version a (Dask) worker runs; checked before sending work."""
    from sim.common.version import __version__

    return __version__


def _has_main_guard(source: str) -> bool:
    """True if ``source`` has an ``if __name__ == "__main__":`` test (either order)."""
    import ast

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
            sides = [node.test.left, *node.test.comparators]
            names = {s.id for s in sides if isinstance(s, ast.Name)}
            consts = {s.value for s in sides if isinstance(s, ast.Constant)}
            if "__name__" in names and "__main__" in consts:
                return True
    return False


def unguarded_main_script() -> str | None:
    """The main script's path if worker processes would re-run it and it has no main guard.

    Pool workers import the main module again (as ``__mp_main__``), except for
    ``python -m package``; a script with no ``if __name__ == "__main__":`` guard then
    starts the experiment again inside each worker, and the pool breaks at start.
    """
    main = sys.modules.get("__main__")
    spec_name = getattr(getattr(main, "__spec__", None), "name", None) or ""
    if spec_name == "__main__" or spec_name.endswith(".__main__"):
        return None
    path = getattr(main, "__file__", None)
    if not path:
        return None  # an interactive session or a notebook: nothing is re-run
    try:
        source = Path(path).read_text(encoding="utf-8")
        return None if _has_main_guard(source) else str(path)
    except (OSError, SyntaxError, ValueError):
        return None


def _guard_message(script: str) -> str:
    return (f"the worker processes stopped at start: each one re-runs {script}, which has no "
            f"'if __name__ == \"__main__\":' guard, and so starts the experiment again. Put the "
            f"code that calls sim.replicate, sim.compare or sim.sweep in {script} under "
            f"'if __name__ == \"__main__\":' (or pass jobs=1)")


def _ignore_sigint() -> Any:
    """Ignore Ctrl-C from now on (it is the parent's to handle); the handler it had."""
    import signal

    return signal.signal(signal.SIGINT, signal.SIG_IGN)


PARENT_POLL_SECONDS = 0.5


def _watch_parent(parent_pid: int, stop: Any) -> None:
    """Exit this worker as soon as ``parent_pid`` (the process running the experiment) is
    gone, or it sets ``stop`` (a ``multiprocessing`` event: the experiment was interrupted).

    Workers started by a fork server are its children, not the experiment's
    process's, so neither their parent id nor a parent-death signal would tell
    them when that process is killed (SIGKILL runs no clean-up). A daemon
    thread polls it every ``PARENT_POLL_SECONDS`` instead; the worker exits
    immediately, its run abandoned, and with the workers gone the fork server
    and the resource tracker exit too. Workers forked from the experiment's
    process itself watch it the same way: one mechanism for both.

    An interrupted experiment (Ctrl-C, an error) sets ``stop`` (``_Pool.close``): the
    workers ignore Ctrl-C, and the pool would otherwise let each finish the task it
    holds before the command could end, which for the work beside the runs
    (``sim.experiments.alongside``, the quick bound: a second or more) kept an
    interrupted ``replicate`` waiting.
    """
    import threading

    def watch() -> None:
        while process_alive(parent_pid):
            if stop.wait(PARENT_POLL_SECONDS):
                break
        os._exit(1)

    threading.Thread(target=watch, name="dtsim-parent-watch", daemon=True).start()


def _init_worker(parent_pid: int, stop: Any) -> None:
    """Pool worker start-up: leave Ctrl-C to the parent and die with it, and keep what
    the worker inherited (from the fork server, or the command it was forked from) out
    of the garbage collector's passes (``gc.freeze``), as ``dtsim`` does in its own
    process: each run then pays only for its own objects. The server loaded it with the
    collector off (``sim.experiments.fork_server``); the worker turns it on again, as any
    process has it."""
    import gc

    gc.freeze()
    gc.enable()
    _ignore_sigint()
    _watch_parent(parent_pid, stop)


# ----- executors ------------------------------------------------------------------------


class _Serial:
    """Runs each task when submitted, in this process."""

    workers = 1
    chunk_limit = 1
    alongside = "after"  # where work beside the runs goes (``sim.experiments.alongside``)

    def submit(self, *args: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(run_chunk(*args))
        except Exception as exc:  # noqa: BLE001 - handed to the caller via the future
            fut.set_exception(exc)
        return fut

    def wait_first(self, futures: set[Any]) -> set[Any]:
        return futures

    def result(self, fut: Any) -> Any:
        return fut.result()

    def close(self, cancel: bool = False) -> None:
        pass


class _Pool:
    """A local process pool; workers ignore Ctrl-C and start with the model loaded (a
    fork server's preload) or with what the command had loaded (forked from it)."""

    def __init__(self, jobs: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        method = pool_start_method()
        ctx = multiprocessing.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(PRELOAD)
        if starting_worker():
            # A new worker re-running an unguarded main script while it starts: stop it at
            # once, quietly; the parent sees its pool break and explains
            # (``_raise_if_unguarded_main``).
            script = getattr(sys.modules.get("__mp_main__"), "__file__", "the main script")
            raise SystemExit(_guard_message(str(script)))
        if method == "forkserver":
            from multiprocessing import forkserver

            # The server imports the model now, while the caller prepares its first
            # tasks, rather than when the first worker is asked for.
            forkserver.ensure_running()
        self.workers = jobs
        self._stop = ctx.Event()  # set when the experiment is interrupted (``close``)
        self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx,
                                        initializer=_init_worker,
                                        initargs=(os.getpid(), self._stop))

    # Runs of a group share one task: the scenario's dict is pickled, sent and
    # unpickled once per group rather than once per run, and fewer round trips wait
    # on the parent. Eight groups a worker at least keep the load balanced.
    chunk_limit = 4
    alongside = "pool"

    def submit(self, *args: Any) -> Future[Any]:
        return self.pool.submit(run_chunk, *args)

    def submit_alongside(self, function: Callable[[Scenario], Any], key: str,
                         data: Mapping[str, Any]) -> Future[Any]:
        """``function`` of the scenario as the pool's next task: submitted before the
        runs, it goes to the first worker free, and the others start on the runs."""
        return self.pool.submit(run_alongside, function, key, data)

    def wait_first(self, futures: set[Any]) -> set[Any]:
        from concurrent.futures import FIRST_COMPLETED, wait

        return set(wait(futures, return_when=FIRST_COMPLETED).done)

    def result(self, fut: Any) -> Any:
        return fut.result()

    def close(self, cancel: bool = False) -> None:
        """Shut the pool down: after its tasks, or (``cancel``) at once, its workers ended
        where they are (``_watch_parent``)."""
        if cancel:
            self._stop.set()
        self.pool.shutdown(wait=not cancel, cancel_futures=True)


@contextmanager
def _ctrl_c_left_to_this_process() -> Iterator[None]:
    """Ignore Ctrl-C (SIGINT) while a LocalCluster starts its worker processes, so that
    they start ignoring it: a terminal's Ctrl-C reaches every process of the command's
    group, and each Dask worker then printed its own tracebacks before this process
    closed the cluster and exited with its one line.

    A disposition of "ignore" survives the start of a new interpreter (Dask's workers are
    spawned), where Python and asyncio then install no handler of their own. Only the
    main thread may change it, and only a handler set from Python can be put back;
    otherwise the workers start as before. A Ctrl-C during the cluster's start (a second
    or two) is ignored.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is None:
        yield
        return
    previous = _ignore_sigint()
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _Dask:
    """A dask.distributed client: a LocalCluster (``local``) or a scheduler address."""

    def __init__(self, address: str, jobs: int) -> None:
        import logging

        try:
            import distributed
        except ImportError:
            raise ExperimentError("--dask needs dask.distributed: pip install 'dtsim[dask]'") \
                from None
        self.distributed = distributed
        self.cluster: Any = None
        quiet = logging.getLogger("distributed")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            if address == "local":
                import dask

                # The workers' own log lines stay quiet: a failed run reaches this process
                # as its error, and a cluster closed mid-run (Ctrl-C) had workers log
                # errors about data already released. Nothing reads the workers'
                # statistical profiles (a sample of the running task's stack every 10 ms,
                # on by default), which cost the runs about a tenth of their time.
                with _ctrl_c_left_to_this_process(), \
                        dask.config.set({"distributed.worker.profile.enabled": False}):
                    self.cluster = distributed.LocalCluster(
                        n_workers=jobs, threads_per_worker=1, processes=True,
                        dashboard_address=None, silence_logs=logging.CRITICAL)
                self.client = distributed.Client(self.cluster)
            else:
                if "://" not in address or not address.split("://", 1)[1]:
                    raise ExperimentError(f"--dask {address}: expected 'local' or a scheduler "
                                          "address such as tcp://host:8786")
                try:
                    self.client = distributed.Client(address, timeout=DASK_CONNECT_SECONDS)
                except (OSError, TimeoutError) as exc:
                    raise ExperimentError(
                        f"--dask {address}: no Dask scheduler answered within "
                        f"{DASK_CONNECT_SECONDS:g} s ({type(exc).__name__})") from None
                except Exception as exc:  # noqa: BLE001 - something answered, not Dask
                    raise ExperimentError(
                        f"--dask {address}: not a Dask scheduler, or it did not answer "
                        f"properly ({type(exc).__name__})") from None
                try:
                    self.client.wait_for_workers(1, timeout=DASK_CONNECT_SECONDS)
                except (OSError, TimeoutError) as exc:
                    self.client.close()
                    raise ExperimentError(f"--dask {address}: the scheduler has no workers "
                                          f"({type(exc).__name__})") from None
                self._check_versions(address)
        finally:
            quiet.setLevel(level)
        info = self.client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info["workers"].values()))
        self._data: dict[str, Any] = {}
        self._done = distributed.as_completed(with_results=True)
        self._results: dict[Any, Any] = {}

    def _check_versions(self, address: str) -> None:
        from sim.common.version import __version__

        try:
            versions = set(self.client.run(worker_version).values())
        except Exception as exc:  # noqa: BLE001 - any failure means workers lack dtsim
            self.client.close()
            raise ExperimentError(f"--dask {address}: the workers cannot run dtsim "
                                  f"({type(exc).__name__}); install it on every worker") from None
        if versions != {__version__}:
            self.client.close()
            raise ExperimentError(f"--dask {address}: workers run dtsim {sorted(versions)}, "
                                  f"this is {__version__}")

    chunk_limit = 8  # a Dask task costs milliseconds of scheduler time: group runs
    # Work beside the runs stays in this process: the workers may lack what it needs
    # (scipy is an optional extra), and may be other machines'.
    alongside = "thread"

    def submit(self, key: str, data: Mapping[str, Any], seeds: list[int],
               want_daily: bool) -> Any:
        if key not in self._data:  # once per scenario; a list, since a scattered dict
            # would become one Dask key per field, shared between scenarios
            [self._data[key]] = self.client.scatter([dict(data)], broadcast=True, hash=False)
        fut = self.client.submit(run_chunk, key, self._data[key], seeds, want_daily,
                                 pure=False)
        self._done.add(fut)
        return fut

    def wait_first(self, futures: set[Any]) -> set[Any]:
        # Block for one, then take any others already finished; results arrive with
        # them (gathered in the background), not by a round trip per future.
        batch = [next(self._done), *self._done.next_batch(block=False)]
        for fut, res in batch:
            self._results[fut] = res
        return {fut for fut, _ in batch}

    def result(self, fut: Any) -> Any:
        return self._results.pop(fut)

    def close(self, cancel: bool = False) -> None:
        """Close the client and a local cluster. Cancelled (Ctrl-C), the scheduler's
        loop, in this process, may still be handling a call the interrupt cut short (a
        scatter to workers that are gone), and asyncio then logged its failure with a
        traceback, at the close or as the process exits: its log and Dask's stay quiet
        from then on, as the command ends with its one line."""
        if cancel:
            import logging

            for name in ("asyncio", "distributed"):
                logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


Runner = _Serial | _Pool | _Dask


def make_runner(jobs: int | None, dask: str | None) -> Runner:
    """The executor for ``jobs`` local processes, or Dask when ``dask`` is given."""
    j = default_jobs() if jobs is None else jobs
    if j < 1:
        raise ExperimentError(f"--jobs must be at least 1 (got {j})")
    if dask:
        return _Dask(dask, j)
    return _Serial() if j == 1 else _Pool(j)


Task = tuple[Any, tuple[str, Mapping[str, Any], int, bool]]


def _chunks(tasks: Iterable[Task], size: int, total: int = 0, workers: int = 1) -> Iterator[list[Task]]:
    """Consecutive tasks of the same scenario, ``size`` at most a group; the last
    ``size * workers`` of ``total`` tasks one a group, so that the workers run out of work
    within one run of each other rather than one group."""
    buf: list[Task] = []
    tail_from = total - size * workers if size > 1 else total
    for seen, task in enumerate(tasks):
        limit = 1 if seen >= tail_from else size
        if buf and (len(buf) >= limit or buf[0][1][0] != task[1][0]):
            yield buf
            buf = []
        buf.append(task)
    if buf:
        yield buf


def execute(runner: Runner, tasks: Iterable[Task], ordered: bool,
            total: int) -> Iterator[tuple[Any, Any]]:
    """Run ``total`` tasks ``(tag, args)``; yield ``(tag, result)`` in task order or as
    they finish.

    Tasks go to the runner in groups (up to four runs a group in a local pool,
    eight on Dask, keeping at least eight groups a worker; single runs at the end, so
    the workers finish together). At most about four groups
    per worker are outstanding, and in ordered mode at most that many finished
    groups wait for an earlier one, so memory does not grow with ``total``.
    """
    size = max(1, min(runner.chunk_limit, total // (8 * runner.workers)))
    window = max(2, 4 * runner.workers)
    groups = _chunks(tasks, size, total, runner.workers)
    pending: dict[Any, tuple[int, list[Task]]] = {}
    ready: dict[int, list[tuple[Any, Any]]] = {}
    submitted = next_out = 0
    exhausted = False
    while True:
        while not exhausted and (submitted - next_out if ordered else len(pending)) < window:
            group = next(groups, None)
            if group is None:
                exhausted = True
                break
            key, data, _, want_daily = group[0][1]
            fut = runner.submit(key, data, [args[2] for _, args in group], want_daily)
            pending[fut] = (submitted, group)
            submitted += 1
        if not pending:
            break
        try:
            finished = runner.wait_first(set(pending))
        except Exception as exc:
            _raise_if_unguarded_main(exc)
            raise RuntimeError(f"a run failed: {type(exc).__name__}: {exc}") from exc
        for fut in sorted(finished, key=lambda f: pending[f][0]):
            seq, group = pending.pop(fut)
            try:
                results = runner.result(fut)
            except Exception as exc:
                _raise_if_unguarded_main(exc)
                seeds = ", ".join(str(args[2]) for _, args in group)
                raise RuntimeError(f"a run with seed {seeds} failed: "
                                   f"{type(exc).__name__}: {exc}") from exc
            pairs = [(tag, res) for (tag, _), res in zip(group, results, strict=True)]
            if ordered:
                ready[seq] = pairs
            else:
                yield from pairs
        while ordered and next_out in ready:
            yield from ready.pop(next_out)
            next_out += 1


def _raise_if_unguarded_main(exc: BaseException) -> None:
    """A broken process pool because of an unguarded main script: say so, and how to fix it."""
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, BrokenProcessPool):
        script = unguarded_main_script()
        if script:
            raise ExperimentError(_guard_message(script)) from None
