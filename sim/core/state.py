"""The run state every part of a run shares: the clock, site status, closures, groundings, logs.

``RunState`` owns what is neither a detainee movement (``transfers``) nor a
vehicle (``fleet``): the SimPy environment and horizon, each site's status
and whether it is open, the legs closed by rules and by fronts, the
groundings of modes, and the event, sortie and status logs. ``notify`` wakes
every waiting vehicle; ``version`` counts the changes that may create work,
so that a dispatcher may trust a "nothing to do" answer until it moves.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Generator, Iterable
from typing import Any, Final, Protocol, cast

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import URGENT, Initialize, Interruption, Timeout

from sim.common.vocabulary import (
    GROUNDED_BY,
    NOBODY,
    Event,
    EventKind,
    SiteStatus,
    Sortie,
    SortieKind,
    StatusChange,
)
from sim.scenario.schema import Scenario

# Read at every event. The compiled core keeps ``Final`` module names in C statics and looks
# any other global name up in the module's dictionary at each read (about 130 machine
# instructions a read).
PUSH: Final = heapq.heappush
POP: Final = heapq.heappop
NORMAL: Final = simpy.events.NORMAL
PENDING: Final = simpy.events.PENDING
"""SimPy's value of an event not yet triggered (for the core's events too)."""

_new_object = object.__new__  # makes an instance without running its ``__init__``


class GridChecks(Protocol):
    """Checks that run at points of a fixed time grid, but only at those where they may act."""

    def due(self, t: float) -> bool:
        """Whether the checks may act at grid point ``t`` (hours)."""

    def wake(self) -> float:
        """Earliest time (hours) the checks may act without a change of the state."""

    def check(self) -> None:
        """Run the checks now."""


class Waiter:
    """A process's owner that waits on ``RunState.changed`` and may skip a wake-up.

    The vehicles are waiters (``Vehicle.idle_bound``). A base class rather than a
    callable: a wake-up asks every idle vehicle, and the compiled core then calls the
    method directly instead of through a Python-level call.
    """

    def idle_bound(self, now: float) -> bool:
        """Whether a wake-up at ``now`` (hours, the clock's time) would only find this
        waiter nothing to do."""
        return False


class CountingEnvironment:
    """SimPy's ``Environment``, written out: the same queue, order and errors, counting
    the events it processes, with a grid of checks.

    SimPy's events and processes run on it as on SimPy's own (they reach it only
    through ``now``, ``schedule`` and ``active_process``), and every method keeps
    SimPy 4.1.2's code: ``schedule`` pushes ``(time, priority, id, event)`` with ids
    counted from 0, ``step`` pops and calls back, and ``run`` stops at an urgent
    event at ``until`` as SimPy's does. It is not a subclass of ``simpy.Environment``
    so that the compiled core reads its clock and queue as native fields rather than
    through an instance dictionary; the core reads the clock tens of thousands of
    times a run and touches the queue at every event
    (``tests/core/test_environment.py`` compares it with SimPy's).

    The grid stands for a process that wakes every ``step`` hours (``timeout(step)``
    after each check). No event is scheduled for it: each grid point keeps the place
    in the event order that the process's timeout would have had (its time and a
    sequence number drawn when the previous point passed), and ``step`` runs the
    checks at that place only where they are due. Grid points where nothing can
    act cost no event, so a long quiet horizon is nearly free, and results are the
    same as with the polling process.
    """

    def __init__(self) -> None:
        # The clock starts at 0.0, a float like every later time (SimPy's default is
        # the int 0, which logs wrote as "0" before the first event).
        self.now = 0.0  # hours
        self._queue: list[tuple[float, int, int, Any]] = []
        self._next_eid = 0  # SimPy's ``count()`` of event ids, as a native int
        self._active_proc: Any = None
        self.events_processed = 0
        self.grid_at = math.inf  # the next grid point, hours (inf: no grid)
        self._grid_eid = 0  # its place among events at the same time
        self._grid_step = math.inf
        self._grid: GridChecks | None = None

    @property
    def active_process(self) -> Any:
        """The process running now (None between events), as SimPy's."""
        return self._active_proc

    def _new_eid(self) -> int:
        eid = self._next_eid
        self._next_eid = eid + 1
        return eid

    def schedule(self, event: Any, priority: int = NORMAL, delay: float = 0.0) -> None:
        """Queue ``event`` at ``now + delay`` with ``priority`` (``Environment.schedule``)."""
        PUSH(self._queue, (self.now + delay, priority, self._new_eid(), event))

    def peek(self) -> float:
        """The time of the next event, ``inf`` if none (``Environment.peek``)."""
        q = self._queue
        return q[0][0] if q else math.inf

    def event(self) -> simpy.Event:
        """A new ``simpy.Event`` of this environment."""
        return simpy.Event(cast(Any, self))

    def all_of(self, events: Iterable[simpy.Event]) -> simpy.AllOf:
        return simpy.AllOf(cast(Any, self), events)

    def any_of(self, events: Iterable[simpy.Event]) -> simpy.AnyOf:
        return simpy.AnyOf(cast(Any, self), events)

    def timeout(self, delay: float, value: Any = None) -> Timeout:
        """``simpy.Timeout(self, delay, value)``: the same event, scheduled at the same place.

        SimPy reaches its ``Timeout`` through a descriptor that makes a bound class per
        call, then runs its ``__init__`` as Python. Here the attributes are set directly
        (``Timeout.__init__`` as SimPy 4.1 writes it) and the event is queued by
        ``schedule``, a native call in the compiled core.
        """
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        event: Any = _new_object(Timeout)
        event.env = self
        event.callbacks = []
        event._value = value
        event._delay = delay
        event._ok = True
        self.schedule(event, NORMAL, delay)
        return cast(Timeout, event)

    def delay(self, hours: float) -> Any:
        """A ``Delay`` of ``hours``: ``timeout(hours)`` for the model's own waits, the same
        event queued at the same place, as a class of the compiled core (typed here as what
        SimPy's processes yield)."""
        if hours < 0:
            raise ValueError(f"Negative delay {hours}")
        event = Delay(self, hours)
        self.schedule(event, NORMAL, hours)
        return event

    def process(self, generator: Generator[simpy.Event, Any, Any]) -> ModelProcess:
        """A ``ModelProcess`` of ``generator`` (SimPy's ``Process``, its resume step compiled)."""
        return ModelProcess(self, generator)

    def jump_to(self, hours: float) -> None:
        """Set the clock to ``hours`` with no event: only for a settled run whose remaining
        days are filled in directly (nothing is scheduled that could fall in between)."""
        self.now = hours

    def start_grid(self, step: float, checks: GridChecks) -> None:
        """Run ``checks`` every ``step`` hours from ``now + step`` (the poll's next timeout)."""
        self._grid_step = step
        self._grid = checks
        self.grid_at = self.now + step
        self._grid_eid = self._new_eid()

    def run(self, until: Any = None) -> Any:
        """``Environment.run``: step until ``until`` (a time, hours, or an event) or no event is
        left; returns ``until``'s value."""
        if until is not None:
            if not isinstance(until, simpy.Event):
                # A time: an urgent event then, before all regular timeouts (as SimPy).
                at = until if isinstance(until, int) else float(until)
                if at <= self.now:
                    raise ValueError(
                        f"until ({at}) must be greater than the current simulation time")
                stop: Any = simpy.Event(cast(Any, self))
                stop._ok = True
                stop._value = None
                self.schedule(stop, URGENT, at - self.now)
                until = stop
            elif until.callbacks is None:
                return until.value  # already processed
            until.callbacks.append(StopSimulation.callback)
        try:
            while True:
                self.step()
        except StopSimulation as exc:
            return exc.args[0]  # ``until``'s value
        except EmptySchedule:
            if until is not None:
                assert not until.triggered
                raise RuntimeError(
                    f'No scheduled events left but "until" event was not triggered: {until}'
                ) from None
        return None

    def step(self) -> None:
        """``simpy.Environment.step``, with the grid passed first."""
        q = self._queue
        if q and q[0][0] >= self.grid_at:
            self._pass_grid()
        self.events_processed += 1
        try:
            now, _, _, event = POP(q)
        except IndexError:
            raise EmptySchedule from None
        self.now = now
        # SimPy's annotations say ``callbacks`` is a list; it is None once processed. The
        # event is read untyped so that the compiled core (mypyc) does not check it.
        ev: Any = event
        # The core's own events (``NativeEvent``) are read as native fields; SimPy's own
        # (timeouts, ``RunState.changed``, conditions) by name.
        if isinstance(ev, NativeEvent):
            callbacks = ev.callbacks
            ev.callbacks = None
        else:
            callbacks, ev.callbacks = ev.callbacks, None
        assert callbacks is not None
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:
            event.callbacks = callbacks[callbacks.index(callback) + 1:]
            self.schedule(event, -1)
            raise
        ok = ev._ok if isinstance(ev, NativeEvent) else ev._ok  # (the same, read natively)
        if not ok and not hasattr(ev, "_defused"):
            exc = type(ev._value)(*ev._value.args)
            exc.__cause__ = ev._value
            raise exc

    def _pass_grid(self) -> None:
        """Pass every grid point that comes before the next event, checking where due."""
        q = self._queue
        checks = self._grid
        assert checks is not None
        step = self._grid_step
        while q:
            t, priority, eid, _ = q[0]
            g = self.grid_at
            if g > t or (g == t and (priority < NORMAL or eid < self._grid_eid)):
                return  # the next event comes first
            if checks.due(g):
                self.now = g
                checks.check()
                g += step
            else:  # nothing can act before the next event or the checks' own wake time
                target = min(t, checks.wake())
                g += step
                while g < target:
                    g += step
            self.grid_at = g
            self._grid_eid = self._new_eid()


SimEnvironment = simpy.Environment | CountingEnvironment
"""An environment SimPy's events run on: SimPy's own, or the run's (the parts of a run
that tests also drive on SimPy's environment take either)."""


class NativeEvent:
    """An event of the compiled core: SimPy's ``Event`` attributes as native fields, and
    SimPy's views of them.

    The events the core makes itself (``ModelProcess``, ``Delay``, the pads' requests and
    releases, ``FirstOf``) derive from this class, not from ``simpy.Event``: a compiled
    class with a Python base keeps its attributes in an instance dictionary, each read
    or write a generic look-up. SimPy's environments and processes reach an event only
    through these attributes (``env``, ``callbacks``, ``_ok``, ``_value``, ``_defused``),
    so they handle these as their own. As on SimPy's events, ``_ok`` is unset until the
    event is triggered and ``_defused`` until a process handles its failure.
    """

    env: Any
    callbacks: list[Any] | None  # None once processed
    _value: Any  # PENDING until triggered
    _ok: bool
    _defused: bool

    @property
    def triggered(self) -> bool:
        """SimPy's ``Event.triggered``."""
        return self._value is not PENDING

    @property
    def processed(self) -> bool:
        """SimPy's ``Event.processed``."""
        return self.callbacks is None

    @property
    def ok(self) -> bool:
        """SimPy's ``Event.ok`` (an AttributeError until triggered)."""
        return self._ok

    @property
    def value(self) -> Any:
        """SimPy's ``Event.value``."""
        if self._value is PENDING:
            raise AttributeError(f"Value of {self} is not yet available")
        return self._value

    @property
    def defused(self) -> bool:
        """SimPy's ``Event.defused``: a failure that a process has handled."""
        return hasattr(self, "_defused")

    @defused.setter
    def defused(self, value: bool) -> None:
        self._defused = True


class Delay(NativeEvent):
    """A timeout the model makes for itself (``CountingEnvironment.delay``): SimPy's
    ``Timeout``, triggered when made and processed ``_delay`` hours later, as a class of the
    compiled core.

    ``timeout`` makes SimPy's own ``Timeout``, a Python object whose five attributes are
    each a generic write from compiled code; the vehicles, hazards and releases wait on
    thousands of these a run. An event as SimPy's environments and processes see one
    (``NativeEvent``); it never fails.
    """

    def __init__(self, env: CountingEnvironment, hours: float) -> None:
        self.env = env
        self.callbacks = []
        self._value = None
        self._delay = hours
        self._ok = True


class ModelProcess(NativeEvent):
    """SimPy's ``Process`` (4.1.2) as an event of the compiled core.

    Every event a process waits on resumes it through ``_resume``, once per event of a
    vehicle, a release or a rule. This is SimPy's code, so processes run, fail, end and
    are interrupted exactly as with SimPy's ``Process``: its ``Initialize`` starts one and
    its ``Interruption`` interrupts one. It is not a subclass of ``simpy.Process``: in the
    compiled core its attributes (the generator, the event it waits on) are native fields
    rather than entries of an instance dictionary, and ``_resume`` is a native method
    (``NativeEvent``). Two differences, in errors only:
    a failed process keeps its whole traceback (SimPy strips its own frame, which a
    compiled method does not add), and the error for a yielded non-event names the value
    but not the generator's line (a compiled generator has no frame to describe).
    """

    def __init__(self, env: CountingEnvironment, generator: Generator[Any, Any, Any]) -> None:
        if not hasattr(generator, "throw"):
            raise ValueError(f"{generator} is not a generator.")
        self.env = env
        self.callbacks = []
        self._value = PENDING
        self._generator: Any = generator
        # The event it waits on; first SimPy's ``Initialize``, which resumes it at once.
        self._target: Any = Initialize(cast(Any, env), cast(Any, self))

    def __repr__(self) -> str:
        return f"<ModelProcess({self.name}) object at {id(self):#x}>"

    @property
    def name(self) -> str:
        """The generator's name (SimPy's ``Process.name``)."""
        return str(self._generator.__name__)

    @property
    def target(self) -> Any:
        """The event the process waits on (SimPy's ``Process.target``)."""
        return self._target

    @property
    def is_alive(self) -> bool:
        """Whether the generator has not ended yet (SimPy's ``Process.is_alive``)."""
        return self._value is PENDING

    def interrupt(self, cause: Any = None) -> None:
        """Interrupt the process with ``cause`` (SimPy's ``Process.interrupt``)."""
        Interruption(cast(Any, self), cause)

    def _resume(self, event: Any) -> None:
        env = self.env
        env._active_proc = self
        generator: Any = self._generator
        ev: Any = event
        while True:
            try:
                # The core's own events are read as native fields (see ``step``).
                if isinstance(ev, NativeEvent):
                    ok, value = ev._ok, ev._value
                else:
                    ok, value = ev._ok, ev._value
                if ok:
                    ev = generator.send(value)
                else:
                    # The process handles the failed event, or fails itself: it gets an
                    # exclusive copy of the exception (as in SimPy).
                    ev._defused = True
                    error: Any = value
                    exc = type(error)(*error.args)
                    exc.__cause__ = error
                    ev = generator.throw(exc)
            except StopIteration as stop:
                ev = None
                self._ok = True
                self._value = stop.args[0] if len(stop.args) else None
                env.schedule(self)
                break
            except BaseException as failure:  # noqa: BLE001 - the process fails, as in SimPy
                ev = None
                self._ok = False
                self._value = failure
                env.schedule(self)
                break
            if isinstance(ev, NativeEvent):
                waiting = ev.callbacks
            else:
                try:
                    waiting = ev.callbacks
                except AttributeError:
                    raise RuntimeError(f'Invalid yield value "{ev}"') from None
            if waiting is not None:
                # Not yet processed: resume when it is.
                waiting.append(self._resume)
                break
        self._target = ev
        env._active_proc = None


class RunState:
    """The clock, the sites' status and openness, closed legs, groundings and the logs."""

    def __init__(self, scenario: Scenario) -> None:
        self.env = CountingEnvironment()
        self.horizon = scenario.horizon_days * 24.0  # hours
        self.site_ids = [s.id for s in scenario.sites]
        self.site_index = {sid: i for i, sid in enumerate(self.site_ids)}
        self.kind = {s.id: s.kind for s in scenario.sites}
        self.status: dict[str, SiteStatus] = dict.fromkeys(self.site_ids, SiteStatus.SAFE)
        self.status_log: list[StatusChange] = []
        self.site_open = {s.id: s.open for s in scenario.sites}
        self.overrun_event = {sid: self.env.event() for sid in self.site_ids}
        self.trigger_closed_legs: dict[str, frozenset[str]] = {}  # leg id -> modes
        self.front_closed_legs: dict[str, frozenset[str]] = {}
        self.grounded_until: dict[str, float] = {}  # mode -> hour
        self.events: list[Event] = []
        self.sorties: list[Sortie] = []
        self.changed = self.env.event()
        # Processes that wait on ``changed`` and may skip a wake-up: process -> its
        # waiter, asked whether it would only wait again (``_wake``); the vehicles
        # register here.
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
        # ``tuple.__new__`` is what the named tuple's own ``__new__`` calls: the same
        # record without a Python call per line (the log is written thousands of times
        # a run).
        self.events.append(tuple.__new__(Event, (self.env.now, kind, subject, site, count)))

    def log_sortie(
        self, name: str, type_name: str, mode: str, kind: SortieKind, origin: str, dest: str,
        detainees: int, km: float, hours: float,
    ) -> None:
        now = self.env.now
        self.sorties.append(tuple.__new__(  # as in ``log``
            Sortie, (name, type_name, mode, kind, origin, dest, now, now + hours, detainees, km, hours)))

    # ----- changes -----------------------------------------------------------------
    def touch(self) -> None:
        """Record a change that may give a vehicle work without waking anyone."""
        self.version += 1
        self.dirty = True

    def notify(self) -> None:
        """Wake every idle vehicle: something they may act on has changed."""
        self.version += 1
        self.dirty = True
        old = self.changed
        self.changed = self.env.event()
        waiters: Any = cast(Any, old).callbacks
        assert waiters is not None
        old.callbacks = [lambda event: self._wake(event, waiters)]
        old.succeed()

    def _wake(self, event: simpy.Event, waiters: list[Callable[[simpy.Event], None]]) -> None:
        """Resume the waiters of ``event`` in order, except those that would only wait again.

        A vehicle idle with nothing to do would resume, find nothing and wait on the
        newest ``changed``; it is moved there directly, at the same place in the order
        of waiters, so that wake-ups cost only the vehicles that may act.
        """
        waiters_by_process = self.waiters
        now: float = self.env.now  # the clock does not move while the waiters resume
        newest = self.changed
        # Typed as a list: the compiled core appends to it directly.
        newest_callbacks: list[Callable[[simpy.Event], None]] = cast(Any, newest).callbacks
        for callback in waiters:
            proc = getattr(callback, "__self__", None)
            waiter = waiters_by_process.get(proc) if proc is not None else None
            if waiter is not None and waiter.idle_bound(now):
                if self.changed is not newest:  # a resumed waiter notified meanwhile
                    newest = self.changed
                    newest_callbacks = cast(Any, newest).callbacks
                newest_callbacks.append(callback)
                if isinstance(proc, ModelProcess):  # every waiter's is (``Vehicle`` registers it)
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
        return self.status[site] == SiteStatus.OVERRUN

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
        ) | frozenset(sid for sid, st in self.status.items() if st == SiteStatus.OVERRUN)

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
                self.log(EventKind.RELEASED, NOBODY, mode, 0)
        self.notify()
