"""A light "whichever comes first" wait: SimPy's ``a | b`` without its value bookkeeping.

The vehicles wait on "a timeout or a change" hundreds of times a run (off-duty holds,
groundings, a pickup overrun while positioning). ``simpy.events.Condition`` builds a
``ConditionValue`` listing the processed events for every one of them, which no caller
here reads. ``FirstOf`` keeps exactly the order of events of ``a | b`` (it is scheduled,
with normal priority, at the moment the first of its events is processed, as a
condition is; nested, it takes the same extra step a nested condition takes) and the
same number of events, so runs are identical; its value is ``None``.

Own code rather than a library: SimPy is the library, and this is a 30-line special
case of its ``Condition``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import simpy
from simpy.events import PENDING

from sim.core.state import CountingEnvironment


class FirstOf(simpy.Event):
    """Triggered when the first of ``a`` and ``b`` is processed (fails if that one failed).

    ``simpy.Event``'s own steps (``__init__``, ``triggered``, ``succeed``) are written out
    on its attributes, as ``pads.PadRequest`` does: the same state and the same scheduling,
    without a call into SimPy's Python for each (a wait is made hundreds of times a run).
    """

    def __init__(self, a: simpy.Event, b: simpy.Event) -> None:
        self.env = a.env
        self.callbacks = []
        self._value = PENDING
        self._events = (a, b)
        # One bound method, added to the pending events and taken back from them.
        hit: Callable[[simpy.Event], None] = self._hit
        self._hit_callback: Callable[[simpy.Event], None] | None = hit
        # Where ``hit`` went in each event's callbacks (see ``_hit``).
        self._places: list[int] = [0, 0]
        for side, event in enumerate(self._events):
            pending: Any = cast(Any, event).callbacks  # None once processed: read untyped (see state.step)
            if pending is None:  # already processed: decides now, as ``|`` does
                hit(event)
            elif self._value is PENDING:
                self._places[side] = len(pending)
                pending.append(hit)

    def _hit(self, event: simpy.Event) -> None:
        if self._value is not PENDING:
            return
        first: Any = event
        if first._ok:  # ``succeed()``
            self._ok = True
            self._value = None
            env = self.env
            if isinstance(env, CountingEnvironment):
                env.schedule(self)  # a native call in the compiled core
            else:
                env.schedule(self)
        else:
            event.defused = True
            error = event.value
            assert isinstance(error, Exception)
            self.fail(error)
        hit = self._hit_callback
        # The bound method refers back to this wait: drop it, so that a decided wait is
        # freed by its reference count as soon as its process moves on (kept, it would be
        # a cycle per wait, left for the cyclic collector).
        self._hit_callback = None
        places = self._places
        for side in range(2):  # no reference left from a pending event (no cycle)
            callbacks: list[Any] | None = cast(Any, self._events[side]).callbacks
            if not callbacks:
                continue
            # ``callbacks.remove(hit)``, by identity, looking first where the wait put
            # ``hit`` and then towards the front: a list of waiting callbacks only grows
            # at its end and shrinks by such removals, so ``hit`` can only have moved
            # forward, by as many places as callbacks before it were taken back since.
            # A shared event (``RunState.changed``) has one callback per idle vehicle:
            # a search of the whole list would grow with the fleet (and an equality
            # search would compare bound methods).
            end = len(callbacks)
            i = places[side] if places[side] < end else end - 1
            while i >= 0:
                if callbacks[i] is hit:
                    del callbacks[i]
                    break
                i -= 1
            else:  # not where it could be: look behind that place too
                i = places[side] + 1
                while i < end:
                    if callbacks[i] is hit:
                        del callbacks[i]
                        break
                    i += 1


def first_of(a: simpy.Event, b: simpy.Event) -> FirstOf:
    """The event processed right after the first of ``a`` and ``b`` (as ``a | b``)."""
    return FirstOf(a, b)


__all__ = ["FirstOf", "first_of"]
