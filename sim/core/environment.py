"""The run's event loop and the events the core makes itself.

``CountingEnvironment`` is SimPy's ``Environment`` written out (the same queue, event
ids, ``step`` and ``run``), with the grid on which rule and closure checks run. The
core's own events (``NativeEvent``: ``Delay``, ``ModelProcess``, and the pads' and waits'
events built on it) carry SimPy's event attributes as native fields of the compiled
core, so SimPy's environments and processes handle them as their own. Hours on the
simulation clock.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterable
from typing import Any, Final, Protocol, cast

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import URGENT, Initialize, Interruption, Timeout

from sim.core.event_heap import Queued, comes_before, pop, push

# Read at every event. The compiled core keeps ``Final`` module names in C statics and looks
# any other global name up in the module's dictionary at each read (about 130 machine
# instructions a read).
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


class CountingEnvironment:
    """SimPy's ``Environment``, written out: the same queue, order and errors, counting
    the events it processes, with a grid of checks.

    SimPy's events and processes run on it as on SimPy's own (they reach it only
    through ``now``, ``schedule`` and ``active_process``), and every method keeps
    SimPy 4.1.2's code: ``schedule`` pushes an entry of ``(time, priority, id, event)``
    with ids counted from 0 (a ``Queued`` of ``sim.core.event_heap``, popped in the order
    of SimPy's tuples), ``step`` pops and calls back, and ``run`` stops at an urgent
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

    Events queued now at normal priority (a triggered event, a process that ended, a
    zero delay: about half of a run's events) wait in a list of their own rather than
    in the heap (``_now_queue``). They all have the clock's time, and their ids grow in
    the order they are queued, so the list is in their order already: the next event is
    the earlier of the list's first and the heap's first by SimPy's order
    (``comes_before``), the same event SimPy's heap would pop. The heap then holds only
    events ahead of the clock or of another priority, and such an event costs no sift
    through it.
    """

    def __init__(self) -> None:
        # The clock starts at 0.0, a float like every later time (SimPy's default is
        # the int 0, which logs wrote as "0" before the first event).
        self.now = 0.0  # hours
        self._heap: list[Queued] = []  # the queue (``sim.core.event_heap``)
        # Events at ``now`` with normal priority, in id order, from ``_now_head`` on
        # (the ones before it were popped; the list is emptied when all are).
        self._now_queue: list[Queued] = []
        self._now_head = 0
        self._next_eid = 0  # SimPy's ``count()`` of event ids, as a native int
        self._active_proc: Any = None
        self.events_processed = 0
        self.grid_at = math.inf  # the next grid point, hours (inf: no grid)
        self._grid_eid = 0  # its place among events at the same time
        self._grid_step = math.inf
        self._grid: GridChecks | None = None

    @property
    def _queue(self) -> list[tuple[float, int, int, Any]]:
        """The queue as SimPy keeps it, ``(time, priority, id, event)`` tuples in heap
        order (a copy, for inspection: the run's queue is ``sim.core.event_heap``'s)."""
        return [entry.as_tuple()
                for entry in [*self._heap, *self._now_queue[self._now_head:]]]

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
        if delay == 0.0 and priority == NORMAL:
            self._now_queue.append(Queued(self.now, NORMAL, self._new_eid(), event))
        else:
            push(self._heap, Queued(self.now + delay, priority, self._new_eid(), event))

    def _first(self) -> Queued | None:
        """The next event's entry (None if none is queued), left in the queue."""
        heap = self._heap
        now_queue = self._now_queue
        head = self._now_head
        if head < len(now_queue):
            entry = now_queue[head]
            if heap and comes_before(heap[0], entry):
                return heap[0]
            return entry
        return heap[0] if heap else None

    def _pop_first(self) -> Queued:
        """Take the next event's entry from the queue (an IndexError if none is queued)."""
        heap = self._heap
        now_queue = self._now_queue
        head = self._now_head
        if head < len(now_queue):
            entry = now_queue[head]
            if not (heap and comes_before(heap[0], entry)):
                head += 1
                if head == len(now_queue):
                    now_queue.clear()
                    head = 0
                elif head >= 4096:  # a long instant: drop the popped ones now
                    del now_queue[:head]
                    head = 0
                self._now_head = head
                return entry
        return pop(heap)

    def peek(self) -> float:
        """The time of the next event, ``inf`` if none (``Environment.peek``)."""
        first = self._first()
        return first.time if first is not None else math.inf

    def event(self) -> simpy.Event:
        """A new ``simpy.Event`` of this environment."""
        return simpy.Event(cast(Any, self))

    def signal(self) -> Signal:
        """A new ``Signal``: an event of the compiled core that the model triggers itself
        (``succeed``), where SimPy's would be ``event()``."""
        return Signal(self)

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
        if self._grid is not None:
            first = self._first()
            if first is not None and first.time >= self.grid_at:
                self._pass_grid()
        self.events_processed += 1
        try:
            entry = self._pop_first()
        except IndexError:
            raise EmptySchedule from None
        self.now = entry.time
        event = entry.event
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
        checks = self._grid
        assert checks is not None
        step = self._grid_step
        while True:
            first = self._first()
            if first is None:
                return
            t, priority, eid = first.time, first.priority, first.eid
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


def schedule_now(env: Any, event: Any) -> None:
    """Queue ``event`` now at normal priority on ``env``: by a native call on the run's
    environment, by name on SimPy's own (pads and waits run on both)."""
    if isinstance(env, CountingEnvironment):
        env.schedule(event)
    else:
        env.schedule(event)


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
    ``Timeout``, triggered when made and processed ``hours`` later, as a class of the
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
        self._ok = True


class Signal(NativeEvent):
    """A plain event the model triggers itself (``CountingEnvironment.signal``): SimPy's
    ``Event`` made by ``env.event()``, with its ``succeed`` written out (the same state,
    and scheduled now with normal priority, as SimPy schedules it).

    The run's "something changed" (``RunState.changed``) and each site's overrun are
    such events: a new one at every change, and every process that waits on one reads
    its fields. As SimPy's own ``Event`` they were Python objects, made and triggered
    through Python-level calls and read by generic look-ups from the compiled core.
    """

    def __init__(self, env: CountingEnvironment) -> None:
        self.env = env
        self.callbacks = []
        self._value = PENDING

    def succeed(self, value: Any = None) -> Signal:
        """Trigger the event with ``value`` (SimPy's ``Event.succeed``)."""
        if self._value is not PENDING:
            raise RuntimeError(f"{self} has already been triggered")
        self._ok = True
        self._value = value
        self.env.schedule(self)
        return self


def env_of(event: Any) -> Any:
    """``event.env``: a native read for an event of the core (``NativeEvent``), the
    generic look-up for SimPy's own. The loops of this module read the fields inline."""
    if isinstance(event, NativeEvent):
        return event.env
    env: Any = event.env
    return env


def ok_of(event: Any) -> bool:
    """``event._ok`` of a triggered event, read as ``env_of`` reads ``env``."""
    if isinstance(event, NativeEvent):
        return event._ok
    return bool(event._ok)


def callbacks_of(event: Any) -> list[Any] | None:
    """``event.callbacks`` (None once processed), read as ``env_of`` reads ``env``."""
    if isinstance(event, NativeEvent):
        return event.callbacks
    callbacks: list[Any] | None = event.callbacks
    return callbacks


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
        # The same environment, typed: ``_resume`` sets its active process twice a resume,
        # a native store here where ``env`` (SimPy's attribute, typed for any event) would
        # take a generic attribute write.
        self._loop: CountingEnvironment = env
        self.callbacks = []
        self._value = PENDING
        self._generator: Any = generator
        # ``send`` bound once: calling it skips the look-up of the method by name that
        # ``generator.send(value)`` makes at every resume.
        self._send: Any = generator.send
        # What it waits with: ``_resume`` bound once, appended to the callbacks of every
        # event it waits on (SimPy binds it anew at each wait; a bound method equals any
        # other binding of it, so SimPy's own removal of it on an interrupt still finds it).
        self.resume_callback: Any = self._resume
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
        env = self._loop
        env._active_proc = self
        generator: Any = self._generator
        send: Any = self._send
        ev: Any = event
        while True:
            try:
                # The core's own events are read as native fields (see ``step``).
                if isinstance(ev, NativeEvent):
                    ok, value = ev._ok, ev._value
                else:
                    ok, value = ev._ok, ev._value
                if ok:
                    ev = send(value)
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
                waiting.append(self.resume_callback)
                break
        self._target = ev
        env._active_proc = None
