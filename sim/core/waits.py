"""A light "whichever comes first" wait: SimPy's ``a | b`` without its value bookkeeping.

The vehicles wait on "a timeout or a change" hundreds of times a run (off-duty holds,
groundings, a pickup overrun while positioning). ``simpy.events.Condition`` builds a
``ConditionValue`` listing the processed events for every one of them, which no caller
here reads. ``FirstOf`` keeps exactly the order of events of ``a | b`` (it is scheduled,
with normal priority, at the moment the first of its events is processed, as a
condition is; nested, it takes the same extra step a nested condition takes) and the
same number of events, so runs are identical; its value is ``None``.

Own code rather than a library: SimPy is the library, and this is a special case of its
``Condition`` (an event of the compiled core, as ``pads.PadRequest`` is).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.core.environment import (
    PENDING,
    NativeEvent,
    callbacks_of,
    env_of,
    ok_of,
    schedule_now,
)


class FirstOf(NativeEvent):
    """Triggered when the first of ``a`` and ``b`` is processed (fails if that one failed).

    ``simpy.Event``'s own steps (``__init__``, ``succeed``, ``fail``) are written out: the
    same state and the same scheduling. An event of the compiled core (``NativeEvent``),
    not a subclass of ``simpy.Event``: a wait is made and decided hundreds of times a run,
    thousands at scale.
    """

    def __init__(self, a: Any, b: Any) -> None:
        self.env = env_of(a)
        self.callbacks = []
        self._value = PENDING
        self._a: Any = a
        self._b: Any = b
        # One bound method, added to the pending events and taken back from them.
        hit: Callable[[Any], None] = self._hit
        self._hit_callback: Callable[[Any], None] | None = hit
        # Where ``hit`` went in each event's callbacks (see ``_hit``).
        self._place_a = 0
        self._place_b = 0
        pending_a = callbacks_of(a)
        if pending_a is None:  # already processed: decides now, as ``|`` does
            hit(a)
        elif self._value is PENDING:
            self._place_a = len(pending_a)
            pending_a.append(hit)
        pending_b = callbacks_of(b)
        if pending_b is None:
            hit(b)
        elif self._value is PENDING:
            self._place_b = len(pending_b)
            pending_b.append(hit)

    def _hit(self, event: Any) -> None:
        if self._value is not PENDING:
            return
        if ok_of(event):  # ``succeed()``
            self._ok = True
            self._value = None
        else:  # ``fail(error)``: the first event's error, which this wait handles
            event.defused = True
            self._ok = False
            self._value = event.value
        schedule_now(self.env, self)
        hit = self._hit_callback
        # The bound method refers back to this wait: drop it, so that a decided wait is
        # freed by its reference count as soon as its process moves on (kept, it would be
        # a cycle per wait, left for the cyclic collector).
        self._hit_callback = None
        # No reference left from a pending event (no cycle).
        take_back(callbacks_of(self._a), hit, self._place_a)
        take_back(callbacks_of(self._b), hit, self._place_b)


def take_back(callbacks: list[Any] | None, hit: Any, place: int) -> None:
    """``callbacks.remove(hit)`` (if there), by identity, looking first at ``place``, where
    the wait put ``hit``, and then towards the front.

    A list of waiting callbacks only grows at its end and shrinks by such removals, so
    ``hit`` can only have moved forward, by as many places as callbacks before it were
    taken back since. A shared event (``RunState.changed``) has one callback per idle
    vehicle: a search of the whole list would grow with the fleet (and an equality
    search would compare bound methods).
    """
    if not callbacks:
        return  # processed (None) or empty
    end = len(callbacks)
    i = place if place < end else end - 1
    while i >= 0:
        if callbacks[i] is hit:
            del callbacks[i]
            return
        i -= 1
    i = place + 1  # not where it could be: look behind that place too
    while i < end:
        if callbacks[i] is hit:
            del callbacks[i]
            return
        i += 1


def first_of(a: Any, b: Any) -> Any:
    """The event processed right after the first of ``a`` and ``b`` (as ``a | b``): a
    ``FirstOf``, typed here as what SimPy's processes yield (its events are not subclasses
    of ``simpy.Event``)."""
    return FirstOf(a, b)


__all__ = ["FirstOf", "first_of"]
