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

from typing import Any, cast

import simpy


class FirstOf(simpy.Event):
    """Triggered when the first of ``a`` and ``b`` is processed (fails if that one failed)."""

    def __init__(self, a: simpy.Event, b: simpy.Event) -> None:
        super().__init__(a.env)
        self._events = (a, b)
        for event in self._events:
            pending: Any = cast(Any, event).callbacks  # None once processed: read untyped (see state.step)
            if pending is None:  # already processed: decides now, as ``|`` does
                self._hit(event)
            elif not self.triggered:
                pending.append(self._hit)

    def _hit(self, event: simpy.Event) -> None:
        if self.triggered:
            return
        if event.ok:
            self.succeed()
        else:
            event.defused = True
            error = event.value
            assert isinstance(error, Exception)
            self.fail(error)
        for other in self._events:  # no reference left from a pending event (no cycle)
            callbacks: Any = cast(Any, other).callbacks
            if callbacks and self._hit in callbacks:
                callbacks.remove(self._hit)


def first_of(a: simpy.Event, b: simpy.Event) -> FirstOf:
    """The event processed right after the first of ``a`` and ``b`` (as ``a | b``)."""
    return FirstOf(a, b)


__all__ = ["FirstOf", "first_of"]
