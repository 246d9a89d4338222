"""The registration backlog over time: the end times of registrations not yet finished.

A rule on the registration backlog (delivered, not yet registered) is checked at every
check of the rules, and registration is scheduled, not simulated: each person delivered
to a reception that registers has an end time (hours) known at delivery. The backlog at
a time is how many of those ends lie after it. ``PendingEnds`` keeps the ends in order,
so that finishing those passed is a walk along the front, and the time at which the
backlog falls below a threshold (the rule's next possible change without a delivery) is
one read.

Why not a heap: a heap gives the next end only, so a rule whose backlog stays above its
threshold was checked again after every single registration, and each push and pop
compares Python floats generically. Registrations of one reception end nearly in the
order they are scheduled (first come, first served: the starts are in order, only the
services differ), so a new end is placed by a short walk back from the end of the list;
a longer walk (receptions with different waits) falls back to a binary search.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Final

#: Steps back from the end before a new end is placed by binary search instead.
WALK_STEPS: Final = 16
#: Ends already passed are dropped from the list once there are this many and they are
#: at least half of it (amortised constant time an end).
COMPACT_FROM: Final = 4096


class PendingEnds:
    """End times (hours) of the registrations not yet finished, in order."""

    def __init__(self) -> None:
        self._ends: list[float] = []  # ascending; those before ``_passed`` have passed
        self._passed = 0

    def __len__(self) -> int:
        """How many have not finished (at the time of the last ``finish_until``)."""
        return len(self._ends) - self._passed

    def add(self, end: float) -> None:
        """A registration that ends at ``end`` (hours), after those equal to it."""
        ends = self._ends
        low = self._passed
        j = len(ends)
        steps = 0
        while j > low and ends[j - 1] > end:
            j -= 1
            steps += 1
            if steps == WALK_STEPS:
                j = bisect_right(ends, end, low, j)
                break
        ends.insert(j, end)

    def finish_until(self, now: float) -> int:
        """Mark the registrations that end at or before ``now`` (hours) finished; how many."""
        ends = self._ends
        i = start = self._passed
        n = len(ends)
        while i < n and ends[i] <= now:
            i += 1
        done = i - start
        if i >= COMPACT_FROM and 2 * i >= n:
            del ends[:i]
            i = 0
        self._passed = i
        return done

    def end_of(self, k: int) -> float:
        """The end (hours) of the ``k``-th registration to finish from now (0: the next)."""
        return self._ends[self._passed + k]


__all__ = ["PendingEnds"]
