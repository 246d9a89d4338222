"""How replications are grouped for workers: groups of a few runs, single runs at the end."""

from __future__ import annotations

from typing import Any

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
