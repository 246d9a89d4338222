"""``first_of`` resumes a process exactly where SimPy's ``a | b`` would."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest
import simpy

from sim.core.waits import first_of

Either = Callable[[simpy.Event, simpy.Event], simpy.Event]


def _or(a: simpy.Event, b: simpy.Event) -> simpy.Event:
    return a | b


def _trace(either: Either) -> list[tuple[float, str]]:
    """Processes waiting on "a timeout or a signal", interleaved with plain timeouts at the
    same instants, and a nested wait; the order in which everything resumes."""
    env = simpy.Environment()
    signal = env.event()
    log: list[tuple[float, str]] = []

    def waiter(name: str, delay: float) -> Generator[simpy.Event, Any, None]:
        yield either(env.timeout(delay), signal)
        log.append((env.now, name))

    def nested(name: str, delay: float) -> Generator[simpy.Event, Any, None]:
        yield either(either(env.timeout(delay), signal), env.timeout(delay))
        log.append((env.now, name))

    def plain(name: str, delay: float) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(delay)
        log.append((env.now, name))

    def sender() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(3.0)
        signal.succeed()
        log.append((env.now, "signal"))

    for i in range(3):
        env.process(waiter(f"w{i}", 1.0 + 2 * i))
        env.process(plain(f"p{i}", 1.0 + 2 * i))
        env.process(nested(f"n{i}", 1.0 + 2 * i))
    env.process(sender())
    env.run()
    return log


def test_same_order_as_simpy_condition() -> None:
    """Same instants and same order, including the extra step of a nested wait and
    waits cut short by the signal at hour 3 (w1/n1 due at 3, w2/n2 at 5)."""
    expected = _trace(_or)
    assert _trace(first_of) == expected
    assert (3.0, "w2") in expected and (3.0, "n2") in expected  # the signal ended them


def test_already_processed_event_decides_at_once() -> None:
    env = simpy.Environment()
    done = env.event().succeed()
    log: list[float] = []

    def proc() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1.0)  # ``done`` is processed by now
        yield first_of(env.timeout(10.0), done)
        log.append(env.now)

    env.process(proc())
    env.run()
    assert log == [1.0]


def test_failure_is_passed_on() -> None:
    env = simpy.Environment()
    bad = env.event()

    def proc() -> Generator[simpy.Event, Any, None]:
        yield first_of(env.timeout(5.0), bad)

    p = env.process(proc())
    bad.fail(ValueError("boom"))
    with pytest.raises(ValueError, match="boom"):
        env.run()
    assert not p.ok


def test_no_callback_left_on_the_pending_event() -> None:
    """Once one side fires, the other no longer refers back (no growth of a long-lived
    event's callbacks, no reference cycle)."""
    env = simpy.Environment()
    signal = env.event()

    def proc() -> Generator[simpy.Event, Any, None]:
        for _ in range(50):
            yield first_of(env.timeout(1.0), signal)

    env.process(proc())
    env.run()
    assert signal.callbacks == []


def test_a_decided_wait_takes_back_only_its_own_callback() -> None:
    """A shared event (``RunState.changed``) keeps every other waiter, in order, when
    one of the waits on it is decided by its other side."""
    env = simpy.Environment()
    signal = env.event()
    calls: list[str] = []

    def note(name: str) -> Any:
        return lambda event: calls.append(name)

    first, second = note("first"), note("second")
    signal.callbacks.extend([first, second])
    early = first_of(env.timeout(1.0), signal)  # decided by its timeout at hour 1
    late = first_of(env.timeout(5.0), signal)  # decided by the signal at hour 2
    last = note("last")
    signal.callbacks.append(last)
    env.run(until=1.5)
    assert early.processed and not late.triggered
    assert signal.callbacks[:2] == [first, second] and signal.callbacks[-1] is last
    assert len(signal.callbacks) == 4  # ``late``'s callback is still there, third
    env.timeout(0.5).callbacks.append(lambda _: signal.succeed())
    env.run(until=3.0)
    assert calls == ["first", "second", "last"] and late.processed


@pytest.mark.parametrize("seed", range(8))
def test_waits_decided_in_any_order_take_back_exactly_their_own_callbacks(seed: int) -> None:
    """Many waits on one shared event, made at different times among other callbacks
    and decided by their timeouts in an order unrelated to the order they were made: after
    each stretch, the shared event's callbacks are those of the waits still pending and
    the others, in the order they were added."""
    import random

    rnd = random.Random(seed)
    env = simpy.Environment()
    signal = env.event()
    added: list[tuple[Any, Any]] = []  # (callback, its wait or None), in order

    for stretch in range(6):
        for _ in range(rnd.randint(0, 12)):
            if rnd.random() < 0.25:
                other = lambda event: None  # noqa: E731 - a callback that is no wait's
                signal.callbacks.append(other)
                added.append((other, None))
            else:
                wait = first_of(env.timeout(rnd.choice([0.5, 1.0, 1.5, 4.0, 9.0])), signal)
                added.append((wait._hit_callback, wait))
        env.run(until=stretch + 1.0)
        expected = [cb for cb, wait in added if wait is None or not wait.triggered]
        assert len(signal.callbacks) == len(expected)
        assert all(a is b for a, b in zip(signal.callbacks, expected, strict=True))
