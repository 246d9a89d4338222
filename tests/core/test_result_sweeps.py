"""The results' fast readings equal the plain ones they replace.

The daily peak occupancy and the peak registration backlog used to sweep +1/-1 steps
of the two time lists sorted together; they now count the level after each rise with a
search. The flight hours and loaded sorties used to be read a record at a time; they
now come from the logs' columns and one pass over the kinds. Each is compared here with the
plain reading on random inputs full of equal times (midnights, shared instants).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sim.common.vocabulary import Event, EventKind, Sortie, SortieKind, VehicleRecord
from sim.core.logs import EventLog, SortieLog
from sim.core.results import (
    Times,
    daily_peak_occupancy,
    flight_totals,
    flying_per_available_hour,
    log_tally,
    peak_backlog,
    utilisation,
)


def _sweep(rises: np.ndarray, falls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Times and levels of the plain sweep: every step in time order, falls first."""
    t = np.concatenate([rises, falls])
    steps = np.concatenate([np.ones(len(rises), dtype=np.int64),
                            -np.ones(len(falls), dtype=np.int64)])
    order = np.lexsort((steps, t))
    return t[order], np.cumsum(steps[order])


def plain_daily_peaks(delivered: np.ndarray, released: np.ndarray, days: int) -> list[int]:
    t, level = _sweep(delivered, released)
    peaks = []
    for day in range(days):
        start, end = day * 24.0, (day + 1) * 24.0
        before = level[t <= start]
        start_level = int(before[-1]) if len(before) else 0
        inside = level[(t > start) & (t < end)]
        peaks.append(max(start_level, int(inside.max())) if len(inside) else start_level)
    return peaks


def plain_backlog(delivered: np.ndarray, registered: np.ndarray) -> int:
    return int(np.max(_sweep(delivered, registered)[1], initial=0))


def _times(rng: np.random.Generator, n: int, days: int) -> np.ndarray:
    """Sorted hours with many ties: on a coarse grid, and some exactly at midnight."""
    grid = float(rng.choice([1.0, 0.5, 6.0]))
    t = np.round(rng.uniform(0, days * 24.0, n) / grid) * grid
    midnights = rng.integers(0, days + 1, rng.integers(0, 4)) * 24.0
    return np.sort(np.concatenate([t, midnights]))


@pytest.mark.parametrize("seed", range(40))
def test_peaks_equal_the_plain_sweep(seed: int) -> None:
    rng = np.random.default_rng(seed)
    days = int(rng.integers(1, 8))
    delivered = _times(rng, int(rng.integers(0, 80)), days)
    released = _times(rng, int(rng.integers(0, 80)), days)
    times = Times(delivered, released, np.empty(0), released, {})
    assert daily_peak_occupancy(times, days) == plain_daily_peaks(delivered, released, days)
    assert peak_backlog(times) == plain_backlog(delivered, released)


def test_a_day_that_starts_with_arrivals_at_midnight_counts_them() -> None:
    """Two deliveries at the first midnight and one release just after: day 1 starts at 2."""
    delivered = np.array([24.0, 24.0, 30.0])
    released = np.array([25.0])
    times = Times(delivered, released, np.empty(0), released, {})
    assert daily_peak_occupancy(times, 2) == [0, 2] == plain_daily_peaks(delivered, released, 2)


def _plain_flights(sorties: list[Sortie], events: list[Event], roster: dict[str, str],
                   types: list[str]) -> tuple[Any, ...]:
    hours_by_day: dict[tuple[int, str], float] = {}
    hours_total = dict.fromkeys(types, 0.0)
    for leg in sorties:
        key = (int(leg.depart_hour // 24), leg.type)
        hours_by_day[key] = hours_by_day.get(key, 0.0) + leg.flight_hours
        hours_total[leg.type] = hours_total.get(leg.type, 0.0) + leg.flight_hours
    sorties_total = dict.fromkeys(hours_total, 0)
    departs_by_day: dict[tuple[int, str], int] = {}
    for ev in events:
        if ev.kind == EventKind.DEPART and ev.n > 0:
            typ = roster[ev.subject]
            sorties_total[typ] += 1
            key = (int(ev.time // 24), typ)
            departs_by_day[key] = departs_by_day.get(key, 0) + 1
    return hours_by_day, hours_total, sorties_total, departs_by_day


@pytest.mark.parametrize("seed", range(10))
def test_flight_readings_equal_the_plain_ones(seed: int) -> None:
    rng = np.random.default_rng(seed)
    names = {"a-01": "a", "a-02": "a", "b-01": "b", "c-01": "c"}
    sorties, events = [], []
    t = 0.0
    for _ in range(int(rng.integers(0, 300))):
        t += float(rng.exponential(3.0))
        name = str(rng.choice(list(names)))
        hours = float(rng.uniform(0.1, 3.0))
        n = int(rng.integers(0, 3)) * 10
        kind = SortieKind.TRANSFER if n else SortieKind.POSITIONING
        sorties.append(Sortie(name, names[name], "rotary", kind, "p", "r", t, t + hours, n,
                              hours * 200, hours))
        events.append(Event(t, EventKind.DEPART, name, "p", n))
        if rng.random() < 0.1:
            events.append(Event(t, EventKind.ABORT, name, "p", 0))
        if rng.random() < 0.05:
            events.append(Event(t, EventKind.NO_ROUTE, "-", str(rng.choice(["p", "q"])), 0))
    tally = log_tally(EventLog.of(events))
    got = flight_totals(SortieLog.of(sorties), tally, names, ["b", "a"])
    want = _plain_flights(sorties, events, names, ["b", "a"])
    assert (got.hours_by_day, got.hours_total, got.sorties_total, got.departs_by_day) == want
    assert tally.aborts == sum(1 for e in events if e.kind == EventKind.ABORT)
    first_cut: dict[str, float] = {}
    for e in events:
        if e.kind == EventKind.NO_ROUTE:
            first_cut.setdefault(e.site, e.time)
    assert tally.first_cut == first_cut


def test_flying_hours_count_only_the_time_in_service() -> None:
    """A leg that starts before its aircraft's window counts from the window's start; an
    aircraft with no window (never in service by the end) counts nothing."""
    def record(name: str, available_at: float, retired_at: float) -> VehicleRecord:
        return VehicleRecord(name, name[0], available_at, retired_at, 0.0)

    vehicles = [record("a-01", 0.0, 100.0), record("b-01", 10.0, 20.0), record("c-01", 50.0, 60.0)]
    legs = [Sortie("a-01", "a", "rotary", SortieKind.TRANSFER, "p", "r", 1.0, 3.0, 5, 1.0, 2.0),
            Sortie("b-01", "b", "rotary", SortieKind.TRANSFER, "p", "r", 9.0, 12.0, 5, 1.0, 3.0),
            Sortie("c-01", "c", "rotary", SortieKind.TRANSFER, "p", "r", 41.0, 42.0, 5, 1.0, 1.0)]
    # end 40: a has 40 h in service and flies 2 h; b has 10 h and flies 2 of its 3 h;
    # c is not in service by then
    assert flying_per_available_hour(vehicles, SortieLog.of(legs), 40.0) == round(4.0 / 50.0, 4)
    assert flying_per_available_hour(vehicles, SortieLog(), 40.0) == 0.0


def _plain_utilisation(vehicles: list[VehicleRecord], end: float) -> float:
    windows = {v.name: (max(v.available_at, 0.0), min(v.retired_at, end)) for v in vehicles
               if min(v.retired_at, end) > max(v.available_at, 0.0)}
    avail = sum(stop - start for start, stop in windows.values())
    busy = 0.0
    for v in vehicles:
        if v.name in windows:
            lo, hi = windows[v.name]
            for a, b in v.busy_spans:
                busy += max(0.0, min(b, hi) - max(a, lo))
    return round(busy / avail, 4) if avail > 0 else 0.0


@pytest.mark.parametrize("seed", range(20))
def test_utilisation_equals_the_plain_sum_over_missions(seed: int) -> None:
    """Missions before, across and after each vehicle's window, one still under way (inf),
    vehicles with none."""
    rng = np.random.default_rng(seed)
    vehicles = []
    for i in range(int(rng.integers(0, 6))):
        start = float(rng.uniform(-5, 20))
        stop = float(rng.choice([np.inf, rng.uniform(start, 80)]))
        spans, t = [], float(rng.uniform(-10, 5))
        for _ in range(int(rng.integers(0, 12))):
            a = t + float(rng.exponential(4.0))
            t = a + float(rng.exponential(3.0))
            spans.append((a, t))
        if spans and rng.random() < 0.3:
            spans[-1] = (spans[-1][0], np.inf)
        vehicles.append(VehicleRecord(f"v-{i}", "v", start, stop, 0.0, tuple(spans)))
    end = float(rng.uniform(10, 90))
    assert utilisation(vehicles, end) == _plain_utilisation(vehicles, end)


@pytest.mark.parametrize("seed", range(30))
def test_levels_of_equal_times_equal_the_search(seed: int) -> None:
    """Registration on arrival: the rises and the falls are the same times. The level after
    each rise, found in one pass, is the search's, on lists full of ties (and peaks too)."""
    from sim.core.results import _levels_after

    rng = np.random.default_rng(seed)
    days = int(rng.integers(1, 8))
    delivered = _times(rng, int(rng.integers(0, 120)), days)
    same = delivered.copy()
    searched = np.arange(1, len(delivered) + 1) - np.searchsorted(same, delivered, side="right")
    levels = _levels_after(delivered, same)
    assert levels.dtype == searched.dtype
    assert levels.tolist() == searched.tolist()
    times = Times(delivered, same, np.empty(0), same, {})
    assert peak_backlog(times) == plain_backlog(delivered, same)
    assert daily_peak_occupancy(times, days) == plain_daily_peaks(delivered, same, days)


def test_the_log_notes_the_tallied_lines_as_they_come_and_a_copy_keeps_them() -> None:
    log = EventLog()
    log.append(0.0, EventKind.DEPART, "a-01", "p", 0)  # flown empty: not a loaded departure
    log.append(1.0, EventKind.DEPART, "a-01", "p", 5)
    log.append(1.5, EventKind.LOAD, "a-01", "p", 5)
    log.append(2.0, EventKind.NO_ROUTE, "-", "q", 0)
    copy = log.copy()
    log.append(3.0, EventKind.ABORT, "a-01", "p", 0)
    log.append(4.0, EventKind.NO_ROUTE, "-", "q", 0)
    assert (log.departs, log.no_routes, log.aborts) == ([1], [3, 5], 1)
    assert (copy.departs, copy.no_routes, copy.aborts) == ([1], [3], 0)
    tally = log_tally(log)
    assert (tally.depart_hours, tally.depart_subjects, tally.aborts, tally.first_cut) == \
        ([1.0], ["a-01"], 1, {"q": 2.0})
