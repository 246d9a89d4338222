"""The cyclic collector is paused for a run and left as it was found."""

from __future__ import annotations

import gc

import pytest
import simpy
from tiny_scenarios import one_leg, scenario

from sim.common.collector import collector_paused
from sim.core.model import run


def test_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: still off, and not turned on by the inner exit
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_restored_after_an_error() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_left_off_when_the_caller_turned_it_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_run_leaves_the_collector_on() -> None:
    result = run(scenario(one_leg(n=600, count=3, horizon_days=400)), 1)
    assert gc.isenabled()
    assert result.kpis["delivered"] == 600


def test_a_run_leaves_no_waits_for_the_collector_however_long() -> None:
    """The collector is kept off from before the run to the count, so that no pass in
    between hides what the run left: its waits and events are freed by their reference
    counts as the run goes (a wait kept alive by a cycle would leave one per flight).
    What is left is the run's fixed structure (its processes and their last waits),
    the same for a hundred times the flights."""
    left = []
    for n in (600, 60_000):
        gc.collect()
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)  # keep what a pass finds, to look at it
        try:
            result = run(scenario(one_leg(n=n, count=3, horizon_days=400)), 1)
            assert result.kpis["delivered"] == n
            gc.collect()
            left.append(sum(isinstance(o, simpy.Event) for o in gc.garbage))
        finally:
            gc.garbage.clear()
            gc.set_debug(0)
            gc.enable()
    assert left[0] < 20
    assert left[1] == left[0]
