"""Escalation mechanisms in real runs: aborts, diverts home to an overrun origin, storms,
the threatened load factor, legs a front closes and reopens, and ``open_leg``.

Geometry (``tiny_scenarios``): sites on the meridian 40 E, one degree of latitude
apart, and a cruise speed of ``DEG_KM`` km/h, so every such flight lasts one hour.
Fronts move at ``km_per_hour * 24`` km per day.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from tiny_scenarios import (
    DEG_KM,
    aircraft_type,
    leg,
    one_leg,
    prison,
    reception,
    run_checked,
)

import sim
from sim.common.vocabulary import Event, EventKind

LOAD_MIN = 1.0  # minutes per detainee (the default loading time)


run = run_checked  # run a tiny scenario and check conservation


def events(res: sim.results.Result, kind: EventKind, who: str | None = None) -> list[Event]:
    return [e for e in res.events if e.kind == kind and (who is None or e.subject == who)]


def front(path: list[list[float]], km_per_hour: float, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": "f", "start_day": 0, "path": path,
                           "speed_km_per_day": km_per_hour * 24.0,
                           "threat_radius_km": 10.0, "overrun_radius_km": 5.0}
    out.update(kw)
    return out


# ----- a pickup overrun while the vehicle is on its way --------------------------------
def _abort_case() -> dict[str, Any]:
    """Helicopter at ``r`` (lat 0); ``p`` (lat 1, 50 held) is overrun while it flies there.

    A front starts 0.5 degree of longitude east of ``p`` and moves west at 100 km/h; it is
    within 5 km of ``p`` after about half an hour, halfway through the one-hour positioning
    flight. ``q`` (lat -1, 10 held) is the other work. ``r`` has 10 beds, so the claim the
    first mission holds on ``r`` must be given back before ``q`` can be served.
    """
    return {
        "name": "abort", "start": "2026-01-01", "horizon_days": 2,
        "sites": [prison("p", 1.0, 50), prison("q", -1.0, 10), reception("r", 0.0, beds=10)],
        "legs": [leg("p", "r"), leg("q", "r")],
        "aircraft": {"h": aircraft_type(seats=10)},
        "fleet": [{"type": "h", "count": 1, "base": "r"}],
        "escalation": {"fronts": [front([[1.0, 40.5], [1.0, 39.5]], 100.0)]},
    }


def test_pickup_overrun_en_route_turns_back() -> None:
    """Abort at the overrun time t; the vehicle is back at ``r`` at 2 t and serves ``q``.

    It left ``r`` at hour 0 and turns back at t, so it flies t hours home: its next
    flight leaves ``r`` at exactly 2 t. ``p``'s 50 escape; ``q``'s 10 reach ``r``, which
    is possible only because the aborted mission gave back its 10 beds.
    """
    res = run(_abort_case())
    overrun = next(t for t, site, status in res.status_log if site == "p" and status == "overrun")
    assert 0.0 < overrun < 1.0
    (abort,) = events(res, EventKind.ABORT, "h-01")
    assert abort.time == pytest.approx(overrun) and abort.site == "p" and abort.n == 10
    later = [s for s in res.sorties if s.depart_hour > 0.0]
    assert later and later[0].origin == "r" and later[0].dest == "q"
    assert later[0].depart_hour == pytest.approx(2 * overrun)
    k = res.kpis
    assert k["escaped"] == 50 and k["delivered"] == 10
    assert k["sites"]["p"]["escaped"] == 50 and k["aborted_sorties"] >= 1


# ----- flown back to an origin that was overrun meanwhile ------------------------------
def test_detainees_flown_back_to_an_overrun_origin_escape_there() -> None:
    """Both ends are overrun during the flight: the 10 on board escape at ``p`` on return.

    Loading 10 at ``p`` takes 10 min (hours 0 to 1/6); the flight lands at ``r`` at 7/6 h.
    The front starts 0.5 degree north of ``p`` and moves south at 200 km/h: ``p`` is
    overrun at about 0.25 h and ``r`` at about 0.8 h, both while in the air. The helicopter
    turns round at ``r`` (7/6 h), lands at ``p`` one hour later (13/6 h) and its 10
    detainees escape there.
    """
    data = one_leg(n=10, seats=10, horizon_days=1,
                   escalation={"fronts": [front([[1.5, 40.0], [-1.0, 40.0]], 200.0)]})
    res = run(data)
    (divert,) = events(res, EventKind.DIVERT, "h-01")
    assert divert.site == "r" and divert.n == 10
    assert divert.time == pytest.approx(10 * LOAD_MIN / 60 + 1.0)
    (escape,) = events(res, EventKind.OVERRUN_ESCAPE)
    assert escape.site == "p" and escape.n == 10
    assert escape.time == pytest.approx(divert.time + 1.0)
    k = res.kpis
    assert k["escaped"] == 10 and k["delivered"] == 0
    assert np.allclose(res.detainees["escaped_hour"], escape.time)


# ----- the threatened load factor ------------------------------------------------------
@pytest.mark.parametrize("factor", [1.0, 2.5])
def test_threatened_load_factor_multiplies_the_load_time(factor: float) -> None:
    """At a threatened prison loading 10 takes 10 x 1 min x factor.

    A front that stopped long before the start (start day -100) sits at its last waypoint
    0.1 degree (about 11 km) east of ``p``: inside the 30 km threat radius, outside the
    5 km overrun radius, so ``p`` is threatened from hour 0.
    """
    data = one_leg(
        n=10, seats=10, horizon_days=1,
        escalation={"threatened_load_factor": factor,
                    "fronts": [front([[1.0, 41.0], [1.0, 40.1]], 1.0, start_day=-100,
                                     threat_radius_km=30.0)]},
    )
    res = run(data)
    assert res.kpis["sites"]["p"]["threatened_day"] == 0.0
    (load,) = events(res, EventKind.LOAD, "h-01")
    (depart,) = events(res, EventKind.DEPART, "h-01")
    assert depart.time - load.time == pytest.approx(10 * LOAD_MIN * factor / 60.0)


# ----- storms ---------------------------------------------------------------------------
def _storm_windows(res: sim.results.Result, mode: str) -> list[tuple[float, float]]:
    return [(e.time, e.time + e.n) for e in events(res, EventKind.GROUNDED_STORM)
            if e.site == mode]


def _storm_case() -> sim.results.Result:
    """Many 3-hour storms that ground helicopters, over a 400-detainee shuttle."""
    data = one_leg(n=400, seats=10, count=2, pads=2, horizon_days=10,
                   escalation={"weather": {"storms_per_week": 14, "duration_hours": 3.0,
                                           "modes": ["rotary"]}})
    return run(data, seed=3)


def test_no_dispatch_during_a_storm() -> None:
    """A grounded helicopter takes no new mission while its mode is grounded."""
    res = _storm_case()
    windows = _storm_windows(res, "rotary")
    assert len(windows) >= 5
    hours = [e.time for e in events(res, EventKind.DISPATCH)]
    assert hours
    for a, b in windows:
        assert not [t for t in hours if a < t < b], (a, b)


def test_no_departure_during_a_storm() -> None:
    """No helicopter leaves the ground while a storm grounds helicopters.

    Not even one that was loading (or refuelling) when the storm began: it waits on
    the ground for the storm to end, then takes off.
    """
    res = _storm_case()
    hours = [s.depart_hour for s in res.sorties if s.mode == "rotary"]
    for a, b in _storm_windows(res, "rotary"):
        assert not [t for t in hours if a < t < b], (a, b)


# ----- legs a front closes and reopens ------------------------------------------------
def _ground_shuttle(**top: Any) -> dict[str, Any]:
    """100 held at ``p`` (lat 1), a 10-seat bus based at ``r`` (lat 0), one road of DEG_KM km."""
    return one_leg(
        n=100, seats=10, horizon_days=4, base="r",
        type_kw={"mode": "ground"}, trigger_check_hours=0.05,
        legs=[leg("p", "r", ["ground"], distance_km=DEG_KM)], **top,
    )


def _crossing_front() -> dict[str, Any]:
    """Crosses the road p-r at latitude 0.5 moving east at 10 km/h, closing it within 10 km.

    It starts one degree of longitude (about 111 km) west of the road: the road is closed
    from about (111 - 10) / 10 = 10.1 h to (111 + 10) / 10 = 12.1 h, then reopens.
    """
    return front([[0.5, 39.0], [0.5, 41.0]], 10.0, threat_radius_km=1.0, overrun_radius_km=0.0,
                 close_legs_within_km=10.0, close_modes=["ground"])


def _departures_between(res: sim.results.Result, a: float, b: float) -> list[float]:
    return [e.time for e in events(res, EventKind.DEPART) if a <= e.time < b]


def test_leg_reopens_after_the_front_passes() -> None:
    res = run(_ground_shuttle(escalation={"fronts": [_crossing_front()]}))
    (closed,) = [e for e in events(res, EventKind.LEG_CLOSED) if e.site == "p-r"]
    (reopened,) = [e for e in events(res, EventKind.LEG_REOPENED) if e.site == "p-r"]
    span = 111.19 * np.cos(np.radians(0.5))  # km from the start to the road
    assert closed.time == pytest.approx((span - 10.0) / 10.0, abs=0.1)
    assert reopened.time == pytest.approx((span + 10.0) / 10.0, abs=0.1)
    assert not _departures_between(res, closed.time, reopened.time)
    assert _departures_between(res, reopened.time, 4 * 24.0)
    assert res.kpis["delivered"] == 100


def test_open_leg_overrides_a_front_closure() -> None:
    """A front parks on the road (closing it); a rule reopens it at day 1 and it stays open.

    The front stops at its last waypoint, on the road, from hour ~11 on. Without the rule
    nothing leaves ``p`` after that; with ``open_leg`` at day 1 everything is delivered.
    """
    parked = front([[0.5, 39.0], [0.5, 40.0]], 10.0, threat_radius_km=1.0,
                   overrun_radius_km=0.0, close_legs_within_km=10.0, close_modes=["ground"])
    stuck = run(_ground_shuttle(escalation={"fronts": [copy.deepcopy(parked)]}))
    assert stuck.kpis["delivered"] < 100
    assert not _departures_between(stuck, 24.0, 4 * 24.0)
    rule = {"name": "reopen", "when": {"day": 1}, "then": [{"open_leg": "p-r"}]}
    res = run(_ground_shuttle(escalation={"fronts": [parked]}, triggers=[rule]))
    assert _departures_between(res, 24.0, 4 * 24.0)
    assert res.kpis["delivered"] == 100
