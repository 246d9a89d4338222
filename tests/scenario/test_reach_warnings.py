"""Warnings about a vehicle type that cannot do what its numbers suggest: one whose range
reaches no route (its vehicles never fly), and a crew limit shorter than any round trip
(the first mission of a day or duty is flown whatever its length)."""

from __future__ import annotations

from typing import Any

from tiny_scenarios import DEG_KM, aircraft_type, leg, prison, reception

from sim.scenario.loader import build


def two_types(short_range_km: float, crew_hours: float = 24.0) -> dict[str, Any]:
    """Prison ``p`` one degree (``DEG_KM`` km, an hour at cruise) from reception ``r``;
    a long-range type ``h`` and a second rotary type ``s``."""
    return {
        "name": "reach", "start": "2026-01-01", "horizon_days": 2,
        "sites": [prison("p", 1.0, 20), reception("r", 0.0)],
        "legs": [leg("p", "r", distance_km=DEG_KM)],
        "aircraft": {"h": aircraft_type(range_km=1000),
                     "s": aircraft_type(range_km=short_range_km,
                                        crew_hours_per_day=crew_hours)},
        "fleet": [{"type": "h", "count": 1, "base": "p"}, {"type": "s", "count": 2, "base": "p"}],
    }


def warnings_of(data: dict[str, Any]) -> list[str]:
    warned: list[str] = []
    build(data, warned)
    return warned


def test_a_type_that_reaches_no_route_is_warned_about() -> None:
    (warning,) = [w for w in warnings_of(two_types(short_range_km=100)) if "'s'" in w]
    assert "aircraft.s.range_km" in warning and "never fly" in warning
    assert f"{DEG_KM:,.0f} km" in warning
    assert not [w for w in warnings_of(two_types(short_range_km=DEG_KM)) if "range" in w]


def test_a_crew_limit_shorter_than_a_round_trip_is_warned_about() -> None:
    """The round trip is two hours at cruise: a limit of 1.5 h lets a crew fly one
    mission a day; 2 h does not warn."""
    (warning,) = [w for w in warnings_of(two_types(1000, crew_hours=1.5)) if "'s'" in w]
    assert "aircraft.s.crew_hours_per_day" in warning and "2.0 h at cruise" in warning
    assert not [w for w in warnings_of(two_types(1000, crew_hours=2.0)) if "crews" in w]


def test_no_crew_limit_set_is_not_warned_about() -> None:
    """24 h a day (the default) limits no one, whatever a slow round trip takes (44 h)."""
    data = two_types(1000)
    data["aircraft"]["s"]["cruise_kmh"] = 5.0
    assert not [w for w in warnings_of(data) if "crews" in w]
    data["aircraft"]["s"]["crew_hours_per_day"] = 20.0
    assert [w for w in warnings_of(data) if "crews" in w]


def test_a_type_whose_mode_has_no_route_is_warned_about() -> None:
    """Buses beside helicopters on a file whose only leg is flown: the buses never move
    (the helicopters carry everyone, so the route check finds nothing to refuse). A road
    on the leg ends the warning; a fleet of buses alone is the route check's error."""
    data = two_types(1000)
    data["aircraft"]["g"] = aircraft_type(mode="ground")
    data["fleet"].append({"type": "g", "count": 3, "base": "p"})
    (warning,) = [w for w in warnings_of(data) if "'g'" in w]
    assert "aircraft.g.mode" in warning and "no ground route" in warning
    assert "never move" in warning
    data["legs"] = [leg("p", "r", modes=["rotary", "ground"], distance_km=DEG_KM)]
    assert not [w for w in warnings_of(data) if "'g'" in w]


def test_a_type_that_cannot_fly_one_of_the_routes_others_fly_is_warned_about() -> None:
    """Prison p, staging airfield a one degree away, reception r two degrees beyond it: a
    short-range type flies p to a but not a to r, which the long-range type flies; it
    is warned about the stretch it cannot fly (the long-range type is not)."""
    data = two_types(short_range_km=1.5 * DEG_KM)
    data["sites"] = [prison("p", 3.0, 20), {"id": "a", "kind": "airfield", "lat": 2.0,
                                            "lon": 40.0}, reception("r", 0.0)]
    data["legs"] = [leg("p", "a"), leg("a", "r")]
    warned = [w for w in warnings_of(data) if "cannot fly" in w]
    assert len(warned) == 1 and "aircraft.s.range_km" in warned[0]
    assert f"cannot fly a to r ({2 * DEG_KM:,.0f} km) without" in warned[0]
    data["aircraft"]["s"]["range_km"] = 2.5 * DEG_KM
    assert not [w for w in warnings_of(data) if "cannot fly" in w]
