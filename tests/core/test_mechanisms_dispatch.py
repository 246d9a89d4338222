"""Dispatch and routing in real runs: the order of pickups under each policy, the
transfer penalty's effect on the route, and the at-risk detainee-days KPI.

Geometry (``tiny_scenarios``): sites on the meridian 40 E, one degree of latitude
apart, cruise speed ``DEG_KM`` km/h, so a flight over one degree lasts one hour.
"""

from __future__ import annotations

from typing import Any

import pytest
from tiny_scenarios import aircraft_type, leg, prison, reception, run_checked

import sim
from sim.common.vocabulary import EventKind

run = run_checked  # run a tiny scenario and check conservation


def pickups(res: sim.results.Result) -> list[str]:
    """Sites of the load events, in time order."""
    return [e.site for e in res.events if e.kind == EventKind.LOAD]


def three_prisons(policy: str, **top: Any) -> dict[str, Any]:
    """One 10-seat helicopter at ``r`` (lat 0) and three prisons, listed x, y, z in the file.

    ``x`` at lat 3 holds 20 (three hours away), ``y`` at lat 1 holds 10 (one hour),
    ``z`` at lat -2 holds 30 (two hours). Every pickup is a full load of 10.
    """
    data: dict[str, Any] = {
        "name": "policies", "start": "2026-01-01", "horizon_days": 3, "dispatch": policy,
        "sites": [prison("x", 3.0, 20), prison("y", 1.0, 10), prison("z", -2.0, 30),
                  reception("r", 0.0)],
        "legs": [leg("x", "r"), leg("y", "r"), leg("z", "r")],
        "aircraft": {"h": aircraft_type(seats=10)},
        "fleet": [{"type": "h", "count": 1, "base": "r"}],
    }
    data.update(top)
    return data


def test_round_robin_visits_in_file_order() -> None:
    """x, y, z, then x again; y is empty, so z; then only z is left: x y z x z z."""
    res = run(three_prisons("round_robin"))
    assert pickups(res) == ["x", "y", "z", "x", "z", "z"]


def test_nearest_first_goes_to_the_nearest_prison() -> None:
    """From ``r`` after each delivery: y (1 h) until empty, then z (2 h), then x (3 h)."""
    res = run(three_prisons("nearest_first"))
    assert pickups(res) == ["y", "z", "z", "z", "x", "x"]


def test_largest_queue_goes_to_the_longest_queue() -> None:
    """Queues (x, y, z) before each pickup, ties to the first in the file:
    (20, 10, 30) z; (20, 10, 20) x; (10, 10, 20) z; (10, 10, 10) x; (0, 10, 10) y; z.
    """
    res = run(three_prisons("largest_queue"))
    assert pickups(res) == ["z", "x", "z", "x", "y", "z"]


def test_highest_threat_goes_to_the_threatened_prison_first() -> None:
    """A front parked 0.1 degree east of ``x`` threatens it (30 km radius) from the start.

    ``x`` first until empty (it is farthest away and not the largest queue), then the
    prison nearest the front: ``y`` (2 degrees from it) before ``z`` (5 degrees).
    """
    front = {"name": "f", "start_day": -100, "path": [[3.0, 41.0], [3.0, 40.1]],
             "speed_km_per_day": 24.0, "threat_radius_km": 30.0, "overrun_radius_km": 5.0}
    res = run(three_prisons("highest_threat", escalation={"fronts": [front]}))
    assert pickups(res) == ["x", "x", "y", "z", "z", "z"]


# ----- the transfer penalty -----------------------------------------------------------
def _hub(penalty: float) -> dict[str, Any]:
    """``p`` (lat 2) -> airfield ``a`` (lat 1) -> ``r`` (lat 0), helicopter legs of one hour.

    Through ``a`` without unloading: 1 h + 20 min refuel + 1 h + one penalty P.
    Unloading at ``a`` and reloading there: two hops, 1 h + P each.
    Two hops cost 2 + 2P hours, one hop 2 1/3 + P: the route changes at P = 1/3 h.
    """
    return {
        "name": "hub", "start": "2026-01-01", "horizon_days": 2,
        "transfer_penalty_hours": penalty,
        "sites": [prison("p", 2.0, 20), {"id": "a", "kind": "airfield", "lat": 1.0, "lon": 40.0},
                  reception("r", 0.0)],
        "legs": [leg("p", "a"), leg("a", "r")],
        "aircraft": {"h": aircraft_type(seats=10)},
        "fleet": [{"type": "h", "count": 1, "base": "p"}],
    }


@pytest.mark.parametrize(("penalty", "changes_at_a"), [(0.0, True), (0.3, True), (0.4, False), (1.0, False)])
def test_transfer_penalty_changes_the_route(penalty: float, changes_at_a: bool) -> None:
    """Below P = 1/3 h the detainees change helicopter at ``a``; above, they stay on board."""
    res = run(_hub(penalty))
    at_a = {e.kind for e in res.events if e.site == "a"}
    if changes_at_a:
        assert EventKind.UNLOAD in at_a and EventKind.LOAD in at_a
        assert EventKind.REFUEL not in at_a
    else:
        assert EventKind.REFUEL in at_a
        assert EventKind.UNLOAD not in at_a and EventKind.LOAD not in at_a
    assert res.kpis["delivered"] == 20


# ----- at-risk detainee-days ----------------------------------------------------------
def test_at_risk_detainee_days_by_hand() -> None:
    """Detainees held at a threatened prison, counted at each day's end, summed over days.

    ``p`` (30 held) is threatened from hour 36 (a front starting at day 1.5 already
    inside the radius); ``q`` (20 held) is never threatened. The helicopter is available
    from hour 72 and empties both prisons on day 3. Day ends: 24 h: p not yet threatened,
    0; 48 h: 30; 72 h: 30 (nobody has left yet); 96 h and 120 h: 0. Total 60; ``q``'s
    detainees never count.
    """
    front = {"name": "f", "start_day": 1.5, "path": [[1.0, 40.1], [1.0, 40.2]],
             "speed_km_per_day": 1.0, "threat_radius_km": 30.0, "overrun_radius_km": 5.0}
    data = {
        "name": "risk", "start": "2026-01-01", "horizon_days": 5,
        "sites": [prison("p", 1.0, 30), prison("q", -1.0, 20), reception("r", 0.0)],
        "legs": [leg("p", "r"), leg("q", "r")],
        "aircraft": {"h": aircraft_type(seats=10)},
        "fleet": [{"type": "h", "count": 1, "base": "r", "available_from_day": 3}],
        "escalation": {"fronts": [front]},
    }
    res = run(data)
    assert res.kpis["sites"]["p"]["threatened_day"] == pytest.approx(1.5)
    assert res.kpis["delivered"] == 50
    assert [row["at_risk"] for row in res.daily] == [0, 30, 30, 0, 0]
    assert res.kpis["at_risk_detainee_days"] == 60.0
