"""The registration schedule equals the plain per-detainee FCFS rule it implements."""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from sim.common.dist import sample_many
from sim.core.registration import SCAN_STATIONS, RegistrationQueue, insert_in_order
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


@pytest.mark.parametrize("stations", [1, 3, SCAN_STATIONS, SCAN_STATIONS + 1, 40])
@pytest.mark.parametrize(("hours", "start"), [(24.0, 0.0), (16.0, 6.0), (8.0, 22.0)])
def test_batches_are_scheduled_first_come_first_served_within_shifts(
    hours: float, start: float, stations: int
) -> None:
    """A few stations are scanned and more kept in ascending order by the compiled core
    (``SCAN_STATIONS``), a heap by the plain-Python one (``test_compiled_core`` runs this
    file against the compiled core)."""
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
def test_the_ordered_stations_take_out_the_earliest_as_the_heap_does(stations: int) -> None:
    """With many stations the compiled core takes the front of a list kept in ascending
    order (``insert_in_order``): the same free times as ``heapq.heapreplace`` at every
    step, ties included (service times drawn on a coarse grid repeat), whether the new
    time goes at the end or inside, and after the taken front is dropped."""
    rng = np.random.default_rng(stations)
    ours = [0.0] * stations
    theirs = [0.0] * stations
    first = 0
    inside = 0
    for step in range(2_000):
        item = float(rng.integers(0, 50)) / 4.0 + step / 100.0
        assert ours[first] == theirs[0]
        first += 1
        inside += first < len(ours) and item < ours[-1]
        insert_in_order(ours, first, item)
        heapq.heapreplace(theirs, item)
        assert ours[first:] == sorted(theirs)
        if step % 7 == 0:
            del ours[:first]
            first = 0
    assert stations == 1 or inside > 100
