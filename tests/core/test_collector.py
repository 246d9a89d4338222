"""The cyclic collector is paused for a run and left as it was found."""

from __future__ import annotations

import gc

import pytest
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


def test_a_run_leaves_the_collector_on_and_no_more_cycles_when_longer() -> None:
    """A run's garbage is freed by reference counts: what it leaves for the collector is
    its fixed structure (vehicles, processes), the same for 100 times the events."""
    left = []
    for n in (600, 60_000):
        gc.collect()
        result = run(scenario(one_leg(n=n, count=3, horizon_days=400)), 1)
        assert gc.isenabled()
        assert result.kpis["delivered"] == n
        left.append(gc.collect())
    assert left[1] == left[0]
