"""``Pads`` behaves as ``simpy.Resource``, event for event, including same-instant races."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import pytest
import simpy

from sim.core.pads import Pads


def _trace(make: Callable[[simpy.Environment, int], Any], seed: int) -> list[tuple[float, str]]:
    """Users with whole-hour waits (many same-instant requests and releases) on 2 pads."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    pads = make(env, 2)
    log: list[tuple[float, str]] = []

    def user(name: str, plan: list[tuple[int, int]]) -> Generator[simpy.Event, Any, None]:
        for before, hold in plan:
            yield env.timeout(before)
            log.append((env.now, f"{name} asks"))
            with pads.request() as req:
                yield req
                log.append((env.now, f"{name} gets"))
                yield env.timeout(hold)
            log.append((env.now, f"{name} leaves"))
            # another process acting at this instant comes after the release event?
            yield env.timeout(0)
            log.append((env.now, f"{name} after"))

    def ticker() -> Generator[simpy.Event, Any, None]:
        for _ in range(40):  # events of their own at every whole hour, interleaving
            yield env.timeout(1)
            log.append((env.now, "tick"))

    for i in range(7):
        plan = [(int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(6)]
        env.process(user(f"u{i}", plan))
    env.process(ticker())
    env.run()
    log.append((env.now, "end"))
    return log


@pytest.mark.parametrize("seed", range(12))
def test_pads_match_simpy_resource(seed: int) -> None:
    expected = _trace(lambda env, n: simpy.Resource(env, capacity=n), seed)
    assert _trace(Pads, seed) == expected


def test_pads_count_and_capacity() -> None:
    env = simpy.Environment()
    pads = Pads(env, 1)
    a, b = pads.request(), pads.request()
    assert pads.count == 1 and a.triggered and not b.triggered
    with pytest.raises(ValueError):
        Pads(env, 0)
