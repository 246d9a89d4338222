"""Loading pads: ``simpy.Resource`` semantics, event for event, at a fraction of its cost.

Every vehicle takes a pad to load and another to unload, so pad requests and releases
are a quarter of a run's events. ``simpy.Resource`` builds them from general put and
get queues; ``Pads`` does only what a resource of ``capacity`` slots does, and keeps
every event it schedules, at the same time and in the same order:

- a request joins the queue, then the oldest waiting request is granted (its event
  scheduled now) if a slot is free: one grant per call, as in SimPy;
- a release frees the slot at once and schedules a release event, whose processing
  grants the oldest waiting request if a slot is free;
- leaving the ``with`` block withdraws a request not yet granted, then releases it.

So a run with ``Pads`` makes the same decisions at the same places in the event
order as one with ``simpy.Resource`` (``tests/core/test_pads.py`` compares the two).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Final

from sim.core.environment import PENDING, NativeEvent, SimEnvironment, schedule_now

# Read at every release of a pad: a ``Final`` module name is a C static of the compiled
# core, where a built-in name is looked up on the builtins module at each read.
_GENERATOR_EXIT: Final = GeneratorExit


class PadRequest(NativeEvent):
    """A request for one pad: triggered once granted; released on leaving ``with``.

    An event of the compiled core (``NativeEvent``), not a subclass of ``simpy.Event``:
    a request is made, granted and left twice a sortie. It never fails.
    """

    def __init__(self, pads: Pads) -> None:
        self.env = pads.env
        self.callbacks = []
        self._value = PENDING
        self.pads = pads
        if not pads.waiting and pads.in_use < pads.capacity:
            # nobody waits and a pad is free: granted now, as ``grant`` would grant it
            pads.in_use += 1
            self.holding = True
            self._ok = True
            self._value = None
            schedule_now(pads.env, self)
            return
        self.holding = False
        pads.waiting.append(self)
        pads.grant()

    def __enter__(self) -> PadRequest:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pads = self.pads
        if self._value is PENDING:
            pads.waiting.remove(self)
        if exc_type is not _GENERATOR_EXIT:
            pads.release(self)


class Released(NativeEvent):
    """A release, processed where SimPy's release event would be: grants the next request
    (an event of the compiled core, triggered when made)."""

    def __init__(self, pads: Pads) -> None:
        self.env = pads.env
        self.callbacks = [pads.grant_callback]
        self._ok = True
        self._value = None


class Pads:
    """``capacity`` pads at one site, granted first come, first served."""

    def __init__(self, env: SimEnvironment, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError('"capacity" must be > 0.')
        self.env = env
        self.capacity = capacity
        self.in_use = 0
        self.waiting: list[PadRequest] = []
        # ``grant`` bound once: each release event calls it (binding it anew was a generic
        # attribute look-up a release).
        self.grant_callback: Callable[[Any], None] = self.grant

    @property
    def count(self) -> int:
        """Pads in use now."""
        return self.in_use

    def request(self) -> PadRequest:
        return PadRequest(self)

    def grant(self, _event: Any = None) -> None:
        """Grant the oldest waiting request if a pad is free (one grant, as SimPy does)."""
        waiting = self.waiting
        if waiting and self.in_use < self.capacity:
            req = waiting.pop(0)
            self.in_use += 1
            req.holding = True
            req._ok = True
            req._value = None
            schedule_now(self.env, req)

    def release(self, req: PadRequest) -> None:
        """Free ``req``'s pad now; the release event grants the next request when processed."""
        if req.holding:
            req.holding = False
            self.in_use -= 1
        schedule_now(self.env, Released(self))


__all__ = ["PadRequest", "Pads"]
