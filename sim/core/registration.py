"""Biometric registration: a multi-server FCFS queue with daily working hours.

Deliveries reach the facility in time order, so each arriving batch can be
scheduled at once with a heap of station free-times (O(n log c); the compiled
core scans a few stations instead, and keeps more in order): no SimPy event per
detainee, and 600,000 detainees still take about a second. A service may start only within the
shift; once started it finishes (overtime).
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from sim.common.dist import Dist, sample_many
from sim.core import COMPILED

#: Up to this many stations, the compiled queue scans them for the earliest free one
#: instead of keeping them in order (``RegistrationQueue.admit_hours``): comparing a few
#: floats in place is cheaper than finding where a new free time goes. A tuning
#: constant of the code, not of the model: results do not depend on it.
SCAN_STATIONS = 8


def insert_in_order(times: list[float], first: int, item: float) -> None:
    """Insert ``item`` into ``times[first:]``, kept in ascending order.

    The compiled core keeps more than ``SCAN_STATIONS`` station free-times this way:
    the earliest free station is ``times[first]``, taken by moving ``first`` on (the
    queue drops the taken front now and then), and its new free time goes in here.
    A station just taken is most often free later than all the others, so the new time
    is appended after one comparison; otherwise a binary search finds its place, about
    log2(stations) comparisons. A heap step moves entries down a whole branch, each
    move a list read and write. Equal times may sit in either order: only the earliest
    free time matters, not which station has it.
    """
    high = len(times)
    if high == first or not item < times[high - 1]:
        times.append(item)
        return
    low = first
    while low < high:
        middle = (low + high) >> 1
        if item < times[middle]:
            high = middle
        else:
            low = middle + 1
    times.insert(low, item)


class RegistrationQueue:
    """Online FCFS schedule for ``stations`` parallel stations."""

    def __init__(
        self,
        stations: int,
        service_min: Dist,
        rng: np.random.Generator,
        hours_per_day: float = 24.0,
        start_hour: float = 0.0,
    ) -> None:
        # All zeros: a heap, an ordered list and a list to scan alike (``admit_hours``).
        self.free_at = [0.0] * stations
        self.service_min = service_min
        self.rng = rng
        self.hours_per_day = hours_per_day
        self.start_hour = start_hour
        self.always_open = hours_per_day >= 24.0

    def next_open(self, t: float) -> float:
        """Earliest time >= t within a shift (hours)."""
        if self.always_open:
            return t
        day = math.floor((t - self.start_hour) / 24.0)
        shift_start = day * 24.0 + self.start_hour
        if t < shift_start + self.hours_per_day:
            return max(t, shift_start)
        return shift_start + 24.0

    def admit(self, arrival: float, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Schedule ``n`` detainees arriving at ``arrival``; returns (starts, ends) in hours."""
        starts, ends = self.admit_hours(arrival, n)
        return np.array(starts, dtype=float), np.array(ends, dtype=float)

    def admit_hours(self, arrival: float, n: int) -> tuple[list[float], list[float]]:
        """``admit`` as lists of plain floats (a delivery keeps them until they are read)."""
        # Minutes, turned into hours one at a time below: the same division as numpy's
        # over the array (IEEE), without an array operation per batch.
        service: list[float] = sample_many(self.service_min, self.rng, n).tolist()
        starts: list[float] = []
        ends: list[float] = []
        free = self.free_at
        native = COMPILED
        # The compiled core finds the earliest free station of a few by a scan, with no
        # heap to keep (``free_at`` is then in no particular order), and keeps more in
        # ascending order (``insert_in_order``). The plain-Python core keeps a heap:
        # ``heapq`` runs in C there, faster than either written in Python. The same
        # times in all three, since only the earliest free time matters, not which
        # station has it. ``free_at`` starts as all zeros, which is all three layouts.
        stations = len(free)
        scan = native and stations <= SCAN_STATIONS
        ordered = native and not scan
        first = 0  # with ``ordered``: the earliest free time is ``free[first]``
        shifts = not self.always_open
        hours, start = self.hours_per_day, self.start_hour
        # Plain floats: the same arithmetic as numpy scalars, faster; ``a if a >= b else b``
        # is ``max(a, b)`` without the call. Typed lists and direct ``append`` and
        # ``math.floor`` calls let the compiled core use native floats and list operations.
        for s in service:
            earliest = 0
            if ordered:
                t = free[first]
                first += 1
            else:
                t = free[0]
            if scan:
                for i in range(1, stations):
                    f = free[i]
                    if f < t:
                        t = f
                        earliest = i
            if arrival >= t:
                t = arrival
            if shifts:  # ``next_open``, inlined
                shift_start = math.floor((t - start) / 24.0) * 24.0 + start
                if t >= shift_start + hours:
                    t = shift_start + 24.0
                elif shift_start > t:
                    t = shift_start
            end = t + s / 60.0
            if scan:
                free[earliest] = end
            elif ordered:
                insert_in_order(free, first, end)
                if first >= stations:  # drop the taken front: a memmove per ``stations``
                    del free[:first]
                    first = 0
            else:
                heapq.heapreplace(free, end)
            starts.append(t)
            ends.append(end)
        if first:
            del free[:first]
        return starts, ends
