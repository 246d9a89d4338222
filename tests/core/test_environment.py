"""The run's environment makes timeouts and processes exactly as SimPy's own does.

``CountingEnvironment.timeout`` builds SimPy's ``Timeout`` without its descriptor and
``__init__``, and its processes (``ModelProcess``) resume through a compiled copy of
SimPy's ``Process._resume``. The same script run on both environments must give the same
trace: what resumed, when, with which value or error, in which order.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest
import simpy
from simpy.events import Timeout

from sim.core.environment import CountingEnvironment, ModelProcess

Trace = list[tuple[float, str, Any]]


def _script(env: simpy.Environment) -> Trace:
    """Processes that wait, return values, fail, handle failures and are interrupted,
    with several events at the same instants (the order of ties is part of the trace)."""
    log: Trace = []
    gate = env.event()

    def ticker(name: str, delays: list[float]) -> Generator[simpy.Event, Any, str]:
        for d in delays:
            value = yield env.timeout(d, value=f"{name}@{d}")
            log.append((env.now, name, value))
        return f"{name} done"

    def waiter(name: str, proc: simpy.Process) -> Generator[simpy.Event, Any, None]:
        value = yield proc  # a process is an event: its value is the generator's return
        log.append((env.now, name, value))

    def failing(name: str) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1.5)
        raise KeyError(name)

    def catcher(name: str, proc: simpy.Process) -> Generator[simpy.Event, Any, None]:
        try:
            yield proc
        except KeyError as exc:  # the failure is thrown into the waiting process
            log.append((env.now, name, f"caught {exc.args[0]}"))

    def opener() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(2.0)
        gate.fail(ValueError("gate broke"))

    def gated(name: str) -> Generator[simpy.Event, Any, None]:
        try:
            yield gate
        except ValueError as exc:
            log.append((env.now, name, str(exc)))
        yield env.timeout(0.0)
        log.append((env.now, name, "after"))

    def sleeper(name: str) -> Generator[simpy.Event, Any, None]:
        try:
            yield env.timeout(10.0)
        except simpy.Interrupt as intr:
            log.append((env.now, name, f"interrupted: {intr.cause}"))
        yield env.timeout(1.0)
        log.append((env.now, name, "awake"))

    def interrupter(target: simpy.Process) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(2.0)
        target.interrupt("alarm")

    a = env.process(ticker("a", [1.0, 1.0, 0.5]))
    b = env.process(ticker("b", [2.0, 0.5]))
    env.process(waiter("wa", a))
    env.process(waiter("wb", b))
    f = env.process(failing("f"))
    env.process(catcher("cf", f))
    env.process(opener())
    env.process(gated("g1"))
    env.process(gated("g2"))
    s = env.process(sleeper("s"))
    env.process(interrupter(s))
    env.run()
    log.append((env.now, "end", None))
    return log


def test_the_environment_runs_a_script_as_simpy_does() -> None:
    expected = _script(simpy.Environment(initial_time=0.0))
    got = _script(CountingEnvironment())
    assert got == expected
    # The script covers what it claims to: values, a caught failure, a failed event
    # handled by two processes, an interrupt, and ties at 2.0 and 2.5 hours.
    names = [name for _, name, _ in got]
    assert {"wa", "wb", "cf", "g1", "g2", "s", "end"} <= set(names)
    assert sum(1 for t, _, _ in got if t == 2.0) >= 4


def test_timeouts_are_simpy_timeouts_at_the_same_place_in_the_queue() -> None:
    env = CountingEnvironment()
    plain = simpy.Environment(initial_time=0.0)
    for e in (env, plain):
        e.timeout(2.0, "x")
        e.timeout(1.0)
        e.timeout(1.0, 7)

    def queued(e: simpy.Environment) -> list[tuple[Any, ...]]:
        # every attribute SimPy's ``Timeout.__init__`` sets, but the environment itself
        return [(t, p, i, type(ev), {k: v for k, v in vars(ev).items() if k != "env"})
                for t, p, i, ev in sorted(e._queue)]

    ours = queued(env)
    assert ours == queued(plain)
    assert all(kind is Timeout for _, _, _, kind, _ in ours)
    assert [attrs["_delay"] for *_, attrs in ours] == [1.0, 1.0, 2.0]


def test_a_negative_timeout_is_refused_as_simpy_refuses_it() -> None:
    with pytest.raises(ValueError, match="Negative delay -1"):
        CountingEnvironment().timeout(-1.0)
    with pytest.raises(ValueError, match="Negative delay -1"):
        CountingEnvironment().delay(-1.0)


@pytest.mark.parametrize("seed", range(6))
def test_the_models_own_delays_are_timeouts_at_the_same_places(seed: int) -> None:
    """``delay`` (the model's waits) and ``timeout`` queue their events at the same time,
    priority and place, and processes resume on them in the same order (ties included:
    whole-hour delays, some zero)."""
    import numpy as np

    def trace(make: str) -> tuple[list[tuple[float, str, Any]], list[tuple[Any, ...]]]:
        rng = np.random.default_rng(seed)
        env = CountingEnvironment()
        wait = env.delay if make == "delay" else env.timeout
        log: list[tuple[float, str, Any]] = []
        queued: list[tuple[Any, ...]] = []

        def proc(name: str, delays: list[int]) -> Generator[Any, Any, None]:
            for d in delays:
                event = wait(float(d))
                queued.append(tuple(sorted(entry[:3] for entry in env._queue)))
                value = yield event
                log.append((env.now, name, value))

        for i in range(5):
            env.process(proc(f"p{i}", [int(x) for x in rng.integers(0, 3, size=6)]))
        env.run()
        return log, queued

    assert trace("delay") == trace("timeout")


def test_processes_are_model_processes_and_an_unhandled_failure_ends_the_run() -> None:
    env = CountingEnvironment()

    def boom() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1.0)
        raise RuntimeError("boom")

    proc = env.process(boom())
    assert isinstance(proc, ModelProcess)
    with pytest.raises(RuntimeError, match="boom"):
        env.run()
    assert env.now == 1.0
    assert not proc.is_alive


def test_a_process_yielding_a_non_event_is_an_error() -> None:
    env = CountingEnvironment()

    def bad() -> Generator[Any, Any, None]:
        yield 42

    env.process(bad())
    with pytest.raises(RuntimeError, match='Invalid yield value "42"'):
        env.run()


@pytest.mark.parametrize("make", [lambda: simpy.Environment(initial_time=0.0), CountingEnvironment])
def test_the_active_process_is_set_while_a_process_runs(make: Callable[[], simpy.Environment]) -> None:
    env = make()
    seen: list[bool] = []

    def me() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1.0)
        seen.append(env.active_process is proc)

    proc = env.process(me())
    env.run()
    assert seen == [True]
    assert env.active_process is None


def _stops(env: simpy.Environment) -> list[Any]:
    """``run`` with each kind of ``until``, as a script: a time (twice, the second past an
    event at that very time), an event with a value, an event already processed, a
    condition of two events, and the errors for a time not ahead and an event never
    triggered. Records what each call returns or raises, the clock and what is queued."""
    out: list[Any] = []
    hits: list[float] = []

    def ticks() -> Generator[simpy.Event, Any, None]:
        for _ in range(4):
            yield env.timeout(1.0)
            hits.append(env.now)

    env.process(ticks())
    # Queued before the stop at 2.0, so only the stop's priority (urgent) puts it first.
    early = env.timeout(2.0)
    early.callbacks.append(lambda _: hits.append(-env.now))
    out.append(("until 2", env.run(until=2.0), env.now, list(hits), env.peek()))
    out.append(("until 3", env.run(until=3), env.now, list(hits), env.peek()))
    done = env.timeout(0.5, value="half")
    out.append(("until event", env.run(until=done), env.now, list(hits)))
    out.append(("until processed", env.run(until=done), env.now))
    both = env.all_of([env.timeout(0.25, "x"), env.timeout(0.75, "y")])
    either = env.any_of([env.timeout(5.0), env.timeout(0.1)])
    out.append(("until all_of", sorted(env.run(until=both).values()), env.now))
    out.append(("any_of", either.triggered, len(either.value.todict())))
    for bad in (env.now, env.now - 1.0):
        try:
            env.run(until=bad)
        except ValueError as exc:
            out.append(("past", str(exc)))
    never = env.event()
    try:
        env.run(until=never)
    except RuntimeError as exc:
        out.append(("never", str(exc).split(":")[0], env.now, env.peek()))
    out.append(("empty", env.run(), env.now, env.peek()))
    return out


def test_run_until_a_time_or_an_event_stops_where_simpy_stops() -> None:
    expected = _stops(simpy.Environment(initial_time=0.0))
    got = _stops(CountingEnvironment())
    assert got == expected
    # The script reaches each case it describes.
    assert [row[0] for row in got] == ["until 2", "until 3", "until event", "until processed",
                                       "until all_of", "any_of", "past", "past", "never", "empty"]
    assert got[0][3] == [1.0]  # the events at 2.0 come after the stop at 2.0 (urgent)
    assert got[1][3] == [1.0, -2.0, 2.0]  # and so are those at 3.0


def test_the_queue_counts_event_ids_from_zero_as_simpy_does() -> None:
    env = CountingEnvironment()
    plain = simpy.Environment(initial_time=0.0)
    for e in (env, plain):
        e.event().succeed("a")
        e.schedule(e.event(), 0, 2.0)
        e.timeout(1.0)
    assert [(t, p, i) for t, p, i, _ in sorted(env._queue)] == \
        [(t, p, i) for t, p, i, _ in sorted(plain._queue)] == [(0.0, 1, 0), (1.0, 1, 2), (2.0, 0, 1)]


@pytest.mark.parametrize("seed", range(6))
def test_signals_are_simpy_events_at_the_same_places(seed: int) -> None:
    """``signal`` (the events the model triggers itself: "something changed", a site's
    overrun) and ``event`` give the same trace: processes waiting on a signal alone, or on
    "a timeout or the signal", resume in the same order and with the same values when it
    is triggered, among timeouts at the same instants, and the queue holds the same
    entries; a signal triggered twice is refused as SimPy refuses it."""
    import numpy as np

    from sim.core.waits import first_of

    def trace(make: str) -> tuple[list[tuple[float, str, Any]], list[tuple[Any, ...]]]:
        rng = np.random.default_rng(seed)
        env = CountingEnvironment()
        new = env.signal if make == "signal" else env.event
        signals = [new()]
        log: list[tuple[float, str, Any]] = []
        queued: list[tuple[Any, ...]] = []

        def waiter(name: str, delays: list[int]) -> Generator[Any, Any, None]:
            for d in delays:
                if d % 2:
                    value = yield signals[-1]
                else:
                    value = yield first_of(env.timeout(float(d)), signals[-1])
                log.append((env.now, name, value))

        def trigger(times: list[int]) -> Generator[Any, Any, None]:
            for i, d in enumerate(times):
                yield env.timeout(float(d))
                old = signals[-1]
                signals.append(new())
                old.succeed(f"change {i}")
                queued.append(tuple(sorted(entry[:3] for entry in env._queue)))
                with pytest.raises(RuntimeError, match="has already been triggered"):
                    old.succeed()

        for i in range(4):
            env.process(waiter(f"w{i}", [int(x) for x in rng.integers(0, 4, size=5)]))
        env.process(trigger([int(x) for x in rng.integers(0, 3, size=12)]))
        env.run()
        return log, queued

    signal_trace = trace("signal")
    assert signal_trace == trace("event")
    assert len(signal_trace[0]) > 0


def _random_script(env: simpy.Environment, seed: int) -> list[tuple[Any, ...]]:
    """Processes that wait zero and whole delays, trigger and wait on shared events, start
    children (urgent) and wait for them to end, with many events at each instant: the
    trace of every resumption, with the clock and the next event's time (``peek``)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    log: list[tuple[Any, ...]] = []
    shared = [env.event()]

    def child(name: str, delay: float) -> Generator[Any, Any, str]:
        yield env.timeout(delay)
        return f"{name} ended"

    def proc(name: str, steps: list[int]) -> Generator[Any, Any, None]:
        for i, kind in enumerate(steps):
            if kind <= 2:  # a delay, zero two times in three
                value = yield env.timeout(float(kind == 2) * float(rng.integers(1, 3)), i)
            elif kind == 3:  # trigger the shared event, and make a new one
                old = shared[-1]
                shared.append(env.event())
                old.succeed(f"{name}:{i}")
                value = yield env.timeout(0.0, "after trigger")
            elif kind == 4:  # wait on the shared event or one hour, whichever first
                value = yield env.any_of([shared[-1], env.timeout(1.0)])
                value = sorted(str(v) for v in value.values())
            else:  # start a child and wait for it to end
                value = yield env.process(child(f"{name}.{i}", float(rng.integers(0, 2))))
            log.append((env.now, name, i, value, env.peek()))

    for k in range(6):
        env.process(proc(f"p{k}", [int(x) for x in rng.integers(0, 6, size=12)]))
    env.run()
    log.append((env.now, "end", None, None, env.peek()))
    return log


@pytest.mark.parametrize("seed", range(12))
def test_events_queued_now_run_in_simpys_order(seed: int) -> None:
    """Events queued at the clock's time with normal priority wait in a list of their own
    (``_now_queue``): processes among many zero delays, triggered events, urgent starts
    and ended processes at the same instants resume in the order of SimPy's heap."""
    expected = _random_script(simpy.Environment(initial_time=0.0), seed)
    env = CountingEnvironment()
    got = _random_script(env, seed)
    assert got == expected
    from collections import Counter

    assert max(Counter(row[0] for row in got).values()) >= 6  # many at one instant
    assert env.events_processed > 100
