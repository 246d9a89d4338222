"""The run's event queue: a binary heap of queued events, ordered as SimPy orders them.

SimPy queues ``(time, priority, id, event)`` tuples with ``heapq``, which compares two
entries through Python's generic rich comparison: a tuple comparison that compares
the times for equality, then for order, each a call on float objects. At every event
the queue is popped (some ten comparisons with a few hundred queued events) and pushed,
so at 600,000 detainees this took about a fifth of a run's machine instructions.

Here an entry is a class of the compiled core (``Queued``), and the heap's sift loops
are ``heapq``'s own (CPython's ``_siftdown`` and ``_siftup``, line for line) comparing
its native fields. ``heapq`` itself cannot do this: it compares entries only through
``<``. The order is SimPy's: by time (hours), then priority (lower first), then id
(the order of scheduling); ids are unique, so no two entries compare equal and any
correct heap pops them in the same order.
"""

from __future__ import annotations

from typing import Any


class Queued:
    """An event in the queue: at ``time`` (hours), with ``priority`` and ``eid``."""

    __slots__ = ("time", "priority", "eid", "event")

    def __init__(self, time: float, priority: int, eid: int, event: Any) -> None:
        self.time = time
        self.priority = priority
        self.eid = eid
        self.event = event

    def as_tuple(self) -> tuple[float, int, int, Any]:
        """The entry as SimPy queues it: ``(time, priority, id, event)``."""
        return (self.time, self.priority, self.eid, self.event)


def comes_before(a: Queued, b: Queued) -> bool:
    """Whether ``a`` is popped before ``b``: SimPy's tuple order, by time, priority, id."""
    if a.time != b.time:
        return a.time < b.time
    if a.priority != b.priority:
        return a.priority < b.priority
    return a.eid < b.eid


def _sift_down(heap: list[Queued], start: int, pos: int) -> None:
    """``heapq._siftdown``: move the entry at ``pos`` up towards ``start`` to its place."""
    item = heap[pos]
    while pos > start:
        parent_pos = (pos - 1) >> 1
        parent = heap[parent_pos]
        if comes_before(item, parent):
            heap[pos] = parent
            pos = parent_pos
            continue
        break
    heap[pos] = item


def _sift_up(heap: list[Queued], pos: int) -> None:
    """``heapq._siftup``: move the smaller child up until a leaf, then sift the entry down."""
    end = len(heap)
    start = pos
    item = heap[pos]
    child = 2 * pos + 1
    while child < end:
        right = child + 1
        if right < end and not comes_before(heap[child], heap[right]):
            child = right
        heap[pos] = heap[child]
        pos = child
        child = 2 * pos + 1
    heap[pos] = item
    _sift_down(heap, start, pos)


def push(heap: list[Queued], entry: Queued) -> None:
    """``heapq.heappush`` of ``entry``."""
    heap.append(entry)
    _sift_down(heap, 0, len(heap) - 1)


def pop(heap: list[Queued]) -> Queued:
    """``heapq.heappop``: the first entry (an IndexError if the heap is empty)."""
    last = heap.pop()
    if heap:
        first = heap[0]
        heap[0] = last
        _sift_up(heap, 0)
        return first
    return last


__all__ = ["Queued", "comes_before", "pop", "push"]
