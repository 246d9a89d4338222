"""Biometric registration: a multi-server FCFS queue with daily working hours.

Deliveries reach the facility in time order, so each arriving batch can be
scheduled at once with a heap of station free-times (O(n log c); the compiled
core scans a few stations instead): no SimPy event per detainee, and 600,000
detainees still take about a second. A service may start only within the
shift; once started it finishes (overtime).
"""

from __future__ import annotations

import heapq
import math
from typing import cast

import numpy as np

from sim.common.dist import Dist, sample_many
from sim.core import COMPILED

#: Up to this many stations, the compiled queue scans them for the earliest free one
#: instead of keeping a heap (``RegistrationQueue.admit``): comparing a few floats in
#: place is cheaper than a heap step, which moves them about. A tuning constant of the
#: code, not of the model: results do not depend on it.
SCAN_STATIONS = 8


def replace_earliest(heap: list[float], item: float) -> None:
    """``heapq.heapreplace(heap, item)`` for a heap of floats, step for step (the same
    comparisons, the same layout after), written out for the compiled core.

    The per-person queues call it once a person (about 12,000 times a baseline run).
    Timed in a loop from Python, compiled, it takes about as long as ``heapq`` (65
    against 53 ns a call with 4 stations, 120 against 117 ns with 60); called from the
    compiled queue it is a direct C call comparing native floats, without the
    Python-level call and object comparisons of ``heapq``. The plain-Python core calls
    ``heapq``, which is faster there (``RegistrationQueue.admit``).
    """
    # ``heapq._siftup``: move the smaller child up until a leaf, then ``_siftdown`` the item.
    # Entries move as references (no float made per move); only comparisons unbox them.
    slots = cast(list[object], heap)
    end = len(slots)
    pos = 0
    child = 1
    while child < end:
        right = child + 1
        if right < end and not cast(float, slots[child]) < cast(float, slots[right]):
            child = right
        slots[pos] = slots[child]
        pos = child
        child = 2 * pos + 1
    while pos > 0:
        parent = (pos - 1) >> 1
        if item < cast(float, slots[parent]):
            slots[pos] = slots[parent]
            pos = parent
            continue
        break
    heap[pos] = item


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
        self.free_at = [0.0] * stations
        heapq.heapify(self.free_at)
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
        native = COMPILED  # see ``replace_earliest``
        # The compiled core finds the earliest free station of a few by a scan, with no
        # heap to keep (``free_at`` is then in no particular order): the same times, since
        # only the earliest free time matters, not which station has it.
        stations = len(free)
        scan = native and stations <= SCAN_STATIONS
        shifts = not self.always_open
        hours, start = self.hours_per_day, self.start_hour
        # Plain floats: the same arithmetic as numpy scalars, faster; ``a if a >= b else b``
        # is ``max(a, b)`` without the call. Typed lists and direct ``append`` and
        # ``math.floor`` calls let the compiled core use native floats and list operations.
        for s in service:
            earliest = 0
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
            elif native:
                replace_earliest(free, end)
            else:
                heapq.heapreplace(free, end)
            starts.append(t)
            ends.append(end)
        return starts, ends
