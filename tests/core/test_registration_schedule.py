"""The registration schedule equals the plain per-detainee FCFS rule it implements."""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from sim.common.dist import sample_many
from sim.core.registration import EarliestFree, RegistrationQueue
from sim.scenario.schema import Scenario
from tests.tiny_scenarios import one_leg, scenario


def reference(queue: RegistrationQueue, service_h: list[float], arrival: float,
              free: list[float]) -> list[tuple[float, float]]:
    out = []
    for s in service_h:
        t = queue.next_open(max(arrival, free[0]))
        heapq.heapreplace(free, t + s)
        out.append((t, t + s))
    return out


@pytest.mark.parametrize("stations", [1, 2, 3, 8, 9, 40])
@pytest.mark.parametrize(("hours", "start"), [(24.0, 0.0), (16.0, 6.0), (8.0, 22.0)])
def test_batches_are_scheduled_first_come_first_served_within_shifts(
    hours: float, start: float, stations: int
) -> None:
    """The compiled core keeps the stations in a tournament tree (``EarliestFree``), the
    plain-Python one in a heap (``test_compiled_core`` runs this file against the
    compiled core); stations from one to a number that is not a power of two."""
    # Random service times, so that the stations free up in a changing order.
    sc: Scenario = scenario(one_leg(
        n=5, prison_kw={"load_min_per_detainee": {"dist": "lognormal", "mean": 40, "cv": 0.5}}))
    dist = sc.site("p").load_min_per_detainee  # any distribution of minutes will do
    queue = RegistrationQueue(stations, dist, np.random.default_rng(7), hours, start)
    twin_rng = np.random.default_rng(7)
    free = [0.0] * stations
    for arrival, n in [(1.0, 5), (1.5, 0), (2.25, 40), (30.0, 7)]:
        starts, ends = queue.admit(arrival, n)
        service = (sample_many(dist, twin_rng, n) / 60.0).tolist()
        expected = reference(queue, service, arrival, free)
        assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == expected
        assert starts.dtype == np.float64 and len(starts) == n


@pytest.mark.parametrize("stations", [1, 2, 3, 4, 7, 40])
def test_the_tree_takes_out_the_earliest_as_the_heap_does(stations: int) -> None:
    """``EarliestFree`` gives the same free time as ``heapq.heapreplace`` at every step,
    ties included (times on a grid of half hours, rising by an hour every ``stations``
    steps, repeat), whether the station taken is free again before the others or after
    them all, and keeps the same set of times."""
    rng = np.random.default_rng(stations)
    tree = EarliestFree([0.0] * stations)
    heap = [0.0] * stations
    ties = overtaken = 0
    for step in range(2_000):
        earliest = tree.take()
        assert earliest == heap[0]
        ties += stations > 1 and heap.count(earliest) > 1
        item = float(rng.integers(0, 2 * stations)) / 2.0 + step // stations
        overtaken += item > max(heap)
        tree.give(item)
        heapq.heapreplace(heap, item)
        assert sorted(tree.times()) == sorted(heap)
    assert stations == 1 or (ties > 100 and 20 < overtaken < 1_900)


def test_the_ends_alone_are_those_of_the_whole_schedule() -> None:
    """``admit_ends`` (what the release at an origin reads) draws the same service times
    and gives the same ends as ``admit_hours``, batch after batch."""
    sc: Scenario = scenario(one_leg(
        n=5, prison_kw={"load_min_per_detainee": {"dist": "lognormal", "mean": 40, "cv": 0.5}}))
    dist = sc.site("p").load_min_per_detainee
    both = RegistrationQueue(5, dist, np.random.default_rng(3), 16.0, 6.0)
    ends_only = RegistrationQueue(5, dist, np.random.default_rng(3), 16.0, 6.0)
    for arrival, n in [(0.0, 30), (0.5, 0), (9.0, 12), (40.0, 3)]:
        starts, ends = both.admit_hours(arrival, n)
        assert ends_only.admit_ends(arrival, n) == ends
        assert len(starts) == n and all(s < e for s, e in zip(starts, ends, strict=True))
