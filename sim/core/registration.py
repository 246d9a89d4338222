"""Biometric registration: a multi-server FCFS queue with daily working hours.

Deliveries reach the facility in time order, so each arriving batch can be
scheduled at once: each person takes the station free first, found in a
tournament tree of the stations' free times in the compiled core
(``EarliestFree``) and a heap in the plain-Python one. No SimPy event per
detainee, and 600,000 detainees still take about a second. A service may start
only within the shift; once started it finishes (overtime).
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from sim.common.dist import Dist, sample_many
from sim.core import COMPILED


class FreeNode:
    """A node of ``EarliestFree``'s tree: a station (a leaf, no ``low`` and ``high``) or
    the two halves of a group of stations, with the earliest free time among them
    (``best``, hours)."""

    def __init__(self, best: float, low: FreeNode | None, high: FreeNode | None) -> None:
        self.best = best
        self.low = low
        self.high = high
        self.up: FreeNode | None = None  # the group this node is a half of (the root: None)


class EarliestFree:
    """The free times of a queue's stations (hours), in a tournament tree: each node holds
    the earliest of its two halves, so the root holds the earliest of all.

    ``take`` finds the station free first by following the earliest down from the root,
    and ``give`` sets that station's next free time and mends the nodes above it, up to
    the first whose earliest does not change: about 2 x log2(stations) steps a person,
    each a native field read in the compiled core. It replaces a scan of the stations
    (the cost of each person grew with their number) and a list kept in order (a binary
    search and an insertion, each step a list read that unboxes a float): a sixth less
    time a person with 4 stations, a fifth with 8, a third with 9 to 60 (batches of 30
    arriving over time; measured on the compiled core). Only the earliest free time
    matters, not which station has it, so ties may go to any station: the times are
    those of a heap's. A station's free time only grows (``give``), which is why the
    mending may stop at the first node that keeps its earliest.
    """

    def __init__(self, free: list[float]) -> None:
        nodes = [FreeNode(t, None, None) for t in free]
        while len(nodes) > 1:
            paired: list[FreeNode] = []
            for i in range(0, len(nodes) - 1, 2):
                low, high = nodes[i], nodes[i + 1]
                group = FreeNode(low.best if low.best <= high.best else high.best, low, high)
                low.up = group
                high.up = group
                paired.append(group)
            if len(nodes) % 2:
                paired.append(nodes[-1])
            nodes = paired
        self.root = nodes[0]
        self.taken = self.root  # the station ``take`` found last

    def take(self) -> float:
        """The earliest free time (hours); its station is the one ``give`` sets next."""
        node = self.root
        best = node.best
        low = node.low
        while low is not None:  # a group: go down the half that holds its earliest
            if low.best == best:
                node = low
            else:
                high = node.high
                assert high is not None  # a group has both halves
                node = high
            low = node.low
        self.taken = node
        return best

    def give(self, free: float) -> None:
        """Set the station ``take`` found free again at ``free`` (hours, no earlier than
        it was)."""
        node = self.taken
        node.best = free
        group = node.up
        while group is not None:
            low, high = group.low, group.high
            assert low is not None and high is not None  # a group has both halves
            a, b = low.best, high.best
            best = a if a <= b else b
            if best == group.best:  # unchanged here, so everywhere above
                return
            group.best = best
            group = group.up

    def times(self) -> list[float]:
        """Every station's free time (hours), in no particular order."""
        out: list[float] = []
        stack = [self.root]
        while stack:
            node = stack.pop()
            low, high = node.low, node.high
            if low is None or high is None:
                out.append(node.best)
            else:
                stack.append(low)
                stack.append(high)
        return out


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
        # The stations' free times: a tournament tree in the compiled core, a heap in the
        # plain-Python one, where ``heapq`` runs in C and a tree of Python objects would
        # be slower (``schedule``). All zeros: a heap as it is.
        self.free_tree = EarliestFree([0.0] * stations) if COMPILED else None
        self.free_heap: list[float] = [] if COMPILED else [0.0] * stations
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
        starts: list[float] = []
        return starts, self.schedule(arrival, n, starts)

    def admit_ends(self, arrival: float, n: int) -> list[float]:
        """Only the ends of ``admit_hours`` (when each person's service ends, hours): the
        same draws and times, without a list of the starts."""
        return self.schedule(arrival, n, None)

    def schedule(self, arrival: float, n: int, starts: list[float] | None) -> list[float]:
        """Schedule ``n`` people arriving at ``arrival``, in order: the hour each one's
        service ends, and, into ``starts`` if given, the hour each one's begins."""
        # Minutes, turned into hours one at a time below: the same division as numpy's
        # over the array (IEEE), without an array operation per batch.
        service: list[float] = sample_many(self.service_min, self.rng, n).tolist()
        ends: list[float] = []
        tree = self.free_tree
        heap = self.free_heap
        shifts = not self.always_open
        hours, start = self.hours_per_day, self.start_hour
        # Plain floats: the same arithmetic as numpy scalars, faster; ``a if a >= b else b``
        # is ``max(a, b)`` without the call. Typed lists and direct ``append`` and
        # ``math.floor`` calls let the compiled core use native floats and list operations.
        for s in service:
            t = tree.take() if tree is not None else heap[0]
            if arrival >= t:
                t = arrival
            if shifts:  # ``next_open``, inlined
                shift_start = math.floor((t - start) / 24.0) * 24.0 + start
                if t >= shift_start + hours:
                    t = shift_start + 24.0
                elif shift_start > t:
                    t = shift_start
            end = t + s / 60.0
            if tree is not None:
                tree.give(end)
            else:
                heapq.heapreplace(heap, end)
            if starts is not None:
                starts.append(t)
            ends.append(end)
        return ends
