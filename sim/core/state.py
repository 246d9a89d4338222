"""The run state every part of a run shares: the clock, site status, closures, groundings, logs.

``RunState`` owns what is neither a detainee movement (``transfers``) nor a
vehicle (``fleet``): the SimPy environment and horizon, each site's status
and whether it is open, the legs closed by rules and by fronts, the
groundings of modes, and the event, sortie and status logs. ``notify`` wakes
every waiting vehicle; ``version`` counts the changes that may create work,
so that a dispatcher may trust a "nothing to do" answer until it moves.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from sim.common.vocabulary import (
    GROUNDED_BY,
    NOBODY,
    EventKind,
    SiteStatus,
    SortieKind,
    StatusChange,
)
from sim.core.environment import CountingEnvironment, ModelProcess
from sim.core.kinds import EVENT_RELEASED, STATUS_OVERRUN, STATUS_SAFE
from sim.core.logs import EventLog, SortieLog
from sim.scenario.network import closed_in_file
from sim.scenario.schema import Scenario


class Waiter:
    """A process's owner that waits on ``RunState.changed`` and may skip a wake-up.

    The vehicles are waiters (``Vehicle.idle_bound``). A base class rather than a
    callable: a wake-up asks every idle vehicle, and the compiled core then calls the
    method directly instead of through a Python-level call.
    """

    #: The process that waits (its ``_target`` is moved to the newest ``changed``).
    process: ModelProcess | None = None

    def idle_bound(self, now: float) -> bool:
        """Whether a wake-up at ``now`` (hours, the clock's time) would only find this
        waiter nothing to do."""
        return False


class RunState:
    """The clock, the sites' status and openness, closed legs, groundings and the logs."""

    def __init__(self, scenario: Scenario) -> None:
        self.env = CountingEnvironment()
        self.horizon = scenario.horizon_days * 24.0  # hours
        self.site_ids = [s.id for s in scenario.sites]
        self.site_index = {sid: i for i, sid in enumerate(self.site_ids)}
        self.kind = {s.id: s.kind for s in scenario.sites}
        self.status: dict[str, SiteStatus] = dict.fromkeys(self.site_ids, STATUS_SAFE)
        self.status_log: list[StatusChange] = []
        self.site_open = {s.id: s.open for s in scenario.sites}
        self.overrun_event = {sid: self.env.signal() for sid in self.site_ids}
        # leg id -> modes closed by the file (``open: false``) or a rule; ``open_leg`` opens
        self.trigger_closed_legs: dict[str, frozenset[str]] = closed_in_file(scenario)
        self.front_closed_legs: dict[str, frozenset[str]] = {}
        self.grounded_until: dict[str, float] = {}  # mode -> hour
        self.events = EventLog()
        self.sorties = SortieLog()
        self.changed = self.env.signal()
        # Processes that wait on ``changed`` and may skip a wake-up (``add_waiter``): each
        # one's waiter, asked whether it would only wait again (``_wake``).
        self.waiters: dict[object, Waiter] = {}
        self.version = 0  # bumped by every change that may give a vehicle work
        # Set by every change a rule or a closure check may read (status, deliveries,
        # escapes, occupancy, anything that moves ``version``); cleared by the checks.
        self.dirty = True

    @property
    def now(self) -> float:
        """The simulation clock, hours."""
        return float(self.env.now)

    # ----- logs --------------------------------------------------------------------
    def log(self, kind: EventKind, subject: str, site: str, count: int) -> None:
        """Log an event now (a line of ``events``, ``sim.core.logs``)."""
        self.events.append(self.env.now, kind, subject, site, count)

    def log_sortie(
        self, name: str, type_name: str, mode: str, kind: SortieKind, origin: str, dest: str,
        detainees: int, km: float, hours: float,
    ) -> None:
        """Log a leg flown from now for ``hours`` (a line of ``sorties``)."""
        now = self.env.now
        self.sorties.append(name, type_name, mode, kind, origin, dest, now, now + hours,
                            detainees, km, hours)

    # ----- changes -----------------------------------------------------------------
    def add_waiter(self, waiter: Waiter) -> None:
        """Let ``waiter``'s process skip the wake-ups it would only wait through: kept by
        the callback the process waits with (``ModelProcess.resume_callback``), as it
        stands in ``changed``'s callbacks, where ``_wake`` finds it."""
        assert waiter.process is not None  # a waiter's process exists before it registers
        self.waiters[waiter.process.resume_callback] = waiter

    def touch(self) -> None:
        """Record a change that may give a vehicle work without waking anyone."""
        self.version += 1
        self.dirty = True

    def notify(self) -> None:
        """Wake every idle vehicle: something they may act on has changed."""
        self.version += 1
        self.dirty = True
        old = self.changed
        self.changed = self.env.signal()
        waiters = old.callbacks
        assert waiters is not None
        old.callbacks = [lambda event: self._wake(event, waiters)]
        old.succeed()

    def _wake(self, event: simpy.Event, waiters: list[Callable[[simpy.Event], None]]) -> None:
        """Resume the waiters of ``event`` in order, except those that would only wait again.

        A vehicle idle with nothing to do would resume, find nothing and wait on the
        newest ``changed``; it is moved there directly, at the same place in the order
        of waiters, so that wake-ups cost only the vehicles that may act.
        """
        waiters_by_callback = self.waiters
        now: float = self.env.now  # the clock does not move while the waiters resume
        newest = self.changed
        # Typed as a list: the compiled core appends to it directly.
        newest_callbacks = newest.callbacks
        assert newest_callbacks is not None  # a pending signal
        for callback in waiters:
            # By the callback itself: a look-up of its ``__self__`` (a bound method's
            # process) was the larger part of asking an idle vehicle.
            try:
                waiter = waiters_by_callback.get(callback)
            except TypeError:  # an unhashable callable: no registered waiter's
                waiter = None
            if waiter is not None and waiter.idle_bound(now):
                if self.changed is not newest:  # a resumed waiter notified meanwhile
                    newest = self.changed
                    newest_callbacks = newest.callbacks
                    assert newest_callbacks is not None
                newest_callbacks.append(callback)
                proc = waiter.process
                if proc is not None:  # every waiter's is set (``Vehicle`` sets it)
                    proc._target = newest  # a native field in the compiled core
            else:
                callback(event)

    def notify_at(self, t: float) -> None:
        """Wake every idle vehicle at hour ``t`` (now if ``t`` has passed)."""
        self.env.process(self._notify_at(t))

    def _notify_at(self, t: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.delay(max(0.0, t - self.env.now))
        self.notify()

    # ----- sites -------------------------------------------------------------------
    def is_overrun(self, site: str) -> bool:
        return self.status[site] == STATUS_OVERRUN

    def raise_status(self, site: str, level: SiteStatus) -> bool:
        """Raise ``site`` to ``level`` and log it; False (nothing done) if not higher."""
        if level <= self.status[site]:
            return False
        self.status[site] = level
        self.dirty = True
        self.status_log.append(StatusChange(self.env.now, site, level.label))
        return True

    def closed_sites(self) -> frozenset[str]:
        """Sites routes may not use: closed transfer nodes and overrun sites."""
        return frozenset(
            sid for sid in self.site_ids if not self.site_open[sid] and self.kind[sid] != "reception"
        ) | frozenset(sid for sid, st in self.status.items() if st == STATUS_OVERRUN)

    def closed_legs(self) -> dict[str, frozenset[str]]:
        """Legs closed by rules or fronts, with the modes closed on each."""
        legs: dict[str, frozenset[str]] = {}
        for src in (self.trigger_closed_legs, self.front_closed_legs):
            for leg, modes in src.items():
                legs[leg] = legs.get(leg, frozenset()) | modes
        return legs

    # ----- groundings --------------------------------------------------------------
    def ground(self, modes: list[str], hours: float, why: str) -> None:
        """Ground ``modes`` for ``hours`` (a storm or an order); they wake when it ends."""
        until = self.env.now + hours
        for mode in modes:
            self.grounded_until[mode] = max(self.grounded_until.get(mode, 0.0), until)
            self.log(GROUNDED_BY[why], NOBODY, mode, int(round(hours)))
        self.notify_at(until)

    def release(self, modes: list[str]) -> None:
        """End the groundings of ``modes`` now (grounded vehicles wake and fly)."""
        for mode in modes:
            if self.grounded_until.get(mode, 0.0) > self.env.now:
                self.grounded_until[mode] = self.env.now
                self.log(EVENT_RELEASED, NOBODY, mode, 0)
        self.notify()
