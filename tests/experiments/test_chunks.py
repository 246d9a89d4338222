"""How replications reach the workers: groups of a few runs, single runs at the end, and a
fork server started before the command loads its scenario."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from typing import Any

import pytest

from sim.experiments.executors import _chunks


def _tasks(n: int, key: str = "k") -> list[tuple[int, tuple[str, dict[str, Any], int, bool]]]:
    return [(i, (key, {}, i + 1, True)) for i in range(n)]


def test_the_last_runs_go_one_a_group_so_the_workers_finish_together() -> None:
    sizes = [len(g) for g in _chunks(iter(_tasks(200)), 4, 200, 2)]
    assert sum(sizes) == 200
    assert sizes[-8:] == [1] * 8  # the last size x workers runs
    assert set(sizes[:-8]) == {4}


def test_groups_keep_task_order_and_never_mix_scenarios() -> None:
    tasks = _tasks(10, "a") + _tasks(10, "b")
    groups = list(_chunks(iter(tasks), 4, 20, 2))
    assert [t for g in groups for t in g] == tasks
    assert all(len({t[1][0] for t in g}) == 1 for g in groups)


def test_single_runs_stay_single() -> None:
    assert [len(g) for g in _chunks(iter(_tasks(5)), 1, 5, 2)] == [1] * 5


@pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(),
                    reason="no fork server on this platform")
@pytest.mark.parametrize(("jobs", "dask", "started"), [(2, None, True), (1, None, False),
                                                      (2, "tcp://nowhere:1", False)])
def test_a_command_starts_the_fork_server_before_its_first_run(
        jobs: int, dask: str | None, started: bool) -> None:
    code = (
        "from multiprocessing import forkserver\n"
        "from sim.experiments.fork_server import start_fork_server\n"
        f"start_fork_server({jobs}, {dask!r})\n"
        "print(forkserver._forkserver._forkserver_pid is not None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, timeout=120).stdout
    assert out.strip() == str(started)


def test_pool_workers_keep_what_the_fork_server_loaded_out_of_collection() -> None:
    import gc

    from sim.experiments.executors import make_runner

    runner = make_runner(2, None)
    try:
        frozen = runner.pool.submit(gc.get_freeze_count).result()  # type: ignore[union-attr]
        collecting = runner.pool.submit(gc.isenabled).result()  # type: ignore[union-attr]
    finally:
        runner.close()
    assert frozen > 10_000
    assert collecting  # the server loaded with the collector off; its workers turn it on


def test_the_fork_server_loads_its_preload_with_the_collector_off() -> None:
    """In a process started as multiprocessing starts its fork server, the first module
    of the preload turns the collector off before the others load; in any other process
    importing it changes nothing."""
    from sim.experiments.fork_server import PRELOAD

    assert PRELOAD[0] == "sim.experiments.fork_server"
    probe = ("import gc, json, sys\n"
             "{main}"
             "import sim.experiments.fork_server as fork_server\n"
             "print(json.dumps([fork_server.QUICK_EXIT_ARMED, gc.isenabled()]))\n")
    as_server = "from multiprocessing.forkserver import main\n"
    for main, expected in ((as_server, [True, False]), ("", [False, True])):
        out = subprocess.run([sys.executable, "-c", probe.format(main=main)], check=True,
                             capture_output=True, text=True, timeout=120).stdout
        assert json.loads(out) == expected


@pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(),
                    reason="no fork server on this platform")
def test_the_fork_server_skips_its_teardown_and_the_command_keeps_its_own() -> None:
    """The server holds the command's output open until it ends: it leaves at once
    (``os._exit`` after a flush) rather than tearing its modules down; the process that
    runs the experiment, and so any command or script, exits as usual."""
    from sim.experiments.executors import make_runner
    from sim.experiments.fork_server import QUICK_EXIT_ARMED, quick_exit_armed

    assert not QUICK_EXIT_ARMED
    runner = make_runner(2, None)
    try:
        # A worker is forked from the server after its preload: it inherits its flag.
        armed = runner.pool.submit(quick_exit_armed).result()  # type: ignore[union-attr]
    finally:
        runner.close()
    assert armed


def test_the_fork_server_is_told_apart_by_its_main(monkeypatch: pytest.MonkeyPatch) -> None:
    import types
    from multiprocessing import forkserver

    from sim.experiments.fork_server import _in_fork_server

    main = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert not _in_fork_server()  # a command's or a script's main
    main.main = forkserver.main  # type: ignore[attr-defined]
    assert _in_fork_server()  # ``python -c "from multiprocessing.forkserver import main; ..."``
    main.main = lambda: None  # type: ignore[attr-defined]
    assert not _in_fork_server()
