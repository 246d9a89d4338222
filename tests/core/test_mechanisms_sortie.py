"""What limits a sortie: ground time per stop, ramp spaces, load and overload factors, the
minimum load with its maximum wait, positioning within range, and no take-off while grounded.

Geometry (``tiny_scenarios``): sites on the meridian 40 E, one degree of latitude apart,
and a cruise speed of ``DEG_KM`` km/h, so every such flight lasts one hour. Loading takes
1 minute per detainee and unloading 0.5 minute unless a test says otherwise; turnaround
is 30 minutes.
"""

from __future__ import annotations

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
    scenario,
)

import sim
from sim.common.rng import Streams
from sim.common.vocabulary import Event, EventKind, SortieKind
from sim.core.prepared import prepare
from sim.scenario.loader import ScenarioError, with_overrides
from sim.scenario.schema import AircraftType, Scenario, Site

run = run_checked  # run a tiny scenario and check conservation


def events(res: sim.results.Result, kind: EventKind, who: str | None = None) -> list[Event]:
    return [e for e in res.events if e.kind == kind and (who is None or e.subject == who)]


def times(res: sim.results.Result, kind: EventKind, who: str | None = None) -> list[float]:
    return [e.time for e in events(res, kind, who)]


def approx(values: list[float]) -> Any:
    return pytest.approx(values, abs=1e-9)


# ----- ground time per stop -------------------------------------------------------------
def _stops_case(type_kw: dict[str, Any], reception_kw: dict[str, Any] | None = None,
                prison_kw: dict[str, Any] | None = None) -> dict[str, Any]:
    return one_leg(n=50, seats=30, horizon_days=1,
                   prison_kw={"load_min_per_detainee": 2.0, **(prison_kw or {})},
                   reception_kw={"unload_min_per_detainee": 1.0, **(reception_kw or {})},
                   type_kw=type_kw)


def test_fixed_ground_time_per_pickup_and_drop_off() -> None:
    """12 min per pickup landing, 6 min per drop-off landing, on top of the per-person minutes.

    Batch 30: load 12 + 30 x 2 = 72 min (0 -> 1.2), fly (-> 2.2), unload 6 + 30 x 1 = 36 min
    (-> 2.8), turn round 30 min (-> 3.3), fly back empty (-> 4.3). Batch 20: load 12 + 40 =
    52 min (-> 4.3 + 52/60), fly, unload 6 + 20 = 26 min.
    """
    res = run(_stops_case({"pickup_stop_min": 12, "dropoff_stop_min": 6}))
    second_depart = 4.3 + 52 / 60
    assert times(res, EventKind.LOAD) == approx([0.0, 4.3])
    assert times(res, EventKind.DEPART) == approx([1.2, second_depart])
    assert times(res, EventKind.UNLOAD) == approx([2.8, second_depart + 1 + 26 / 60])


def test_a_site_overrides_the_type_s_ground_time() -> None:
    """The reception sets 3 min per drop-off and the prison none: the sites' values win.

    Load 0 + 30 x 2 = 60 min (-> 1.0), fly (-> 2.0), unload 3 + 30 x 1 = 33 min (-> 2.55).
    """
    res = run(_stops_case({"pickup_stop_min": 12, "dropoff_stop_min": 6},
                          reception_kw={"dropoff_stop_min": 3}, prison_kw={"pickup_stop_min": 0}))
    assert times(res, EventKind.DEPART)[0] == pytest.approx(1.0)
    assert times(res, EventKind.UNLOAD)[0] == pytest.approx(2.0 + 33 / 60)


def test_ground_time_may_be_a_distribution_drawn_per_landing() -> None:
    """A uniform 10..20 min per pickup: each load lasts draw + 30 x 2 min, the draws taken in
    turn from the ``ground_time`` stream (pickup 1, pickup 2; the drop-offs draw nothing)."""
    res = run(_stops_case({"pickup_stop_min": {"dist": "uniform", "low": 10, "high": 20}}))
    rng = Streams(1)["ground_time"]
    first, second = rng.uniform(10, 20), rng.uniform(10, 20)
    load, depart = times(res, EventKind.LOAD), times(res, EventKind.DEPART)
    assert depart[0] - load[0] == pytest.approx((first + 60) / 60)
    assert depart[1] - load[1] == pytest.approx((second + 40) / 60)


# ----- ramp spaces ----------------------------------------------------------------------
def _two_planes(mode: str = "fixed_wing", **reception_kw: Any) -> dict[str, Any]:
    """Two 10-seat aircraft at ``p`` (two pads), 20 held: both load at once (10 min each)."""
    return one_leg(n=20, seats=10, count=2, pads=2, horizon_days=1,
                   legs=[leg("p", "r", [mode])], type_kw={"mode": mode},
                   reception_kw={"pads": 2, **reception_kw})


def test_a_full_ramp_at_the_destination_holds_the_plane_at_its_origin() -> None:
    """One ramp space at ``r``: the second plane leaves ``p`` when the first leaves ``r``.

    Both load 0 -> 1/6. Plane 1 lands at 7/6, unloads 10 x 0.5 min (-> 1.25), turns round
    (-> 1.75) and frees the space: plane 2 departs at 1.75 and unloads at 2.75 + 1/12.
    ``r``'s two pads do not limit it: the ramp does.
    """
    res = run(_two_planes(ramp_spaces=1))
    assert sorted(times(res, EventKind.DEPART)) == approx([1 / 6, 1.75])
    assert sorted(times(res, EventKind.UNLOAD)) == approx([1.25, 2.75 + 1 / 12])


def test_no_ramp_limit_or_a_helicopter_lands_at_once() -> None:
    """Without a limit both planes land at 7/6; helicopters ignore a ramp limit."""
    for data in (_two_planes(), _two_planes("rotary", ramp_spaces=1)):
        res = run(data)
        assert times(res, EventKind.ARRIVE) == approx([7 / 6, 7 / 6])


def test_a_full_ramp_at_the_pickup_holds_the_second_plane_until_the_first_leaves() -> None:
    """One ramp space at ``p`` (two pads): plane 2 loads when plane 1 takes off at 1/6."""
    data = _two_planes()
    data["sites"][0]["ramp_spaces"] = 1
    res = run(data)
    assert sorted(times(res, EventKind.LOAD)) == approx([0.0, 1 / 6])
    assert sorted(times(res, EventKind.DEPART)) == approx([1 / 6, 2 / 6])


# ----- load factor and overload ---------------------------------------------------------
def _batches(res: sim.results.Result) -> list[int]:
    return [s.detainees for s in res.sorties if s.kind == SortieKind.TRANSFER]


@pytest.mark.parametrize(("seats", "type_kw", "batches"), [
    (30, {"load_factor": 0.5}, [15, 15, 15]),  # 30 x 0.5
    (30, {"load_factor": 0.75}, [22, 22, 1]),  # 30 x 0.75 = 22.5, rounded down
    (20, {"overload_factor": 1.5}, [30, 15]),  # 20 x 1.5 = 30 people
    (20, {"overload_factor": 1.5, "load_factor": 0.5}, [15, 15, 15]),
])
def test_load_and_overload_factors_set_the_batch(
    seats: int, type_kw: dict[str, Any], batches: list[int]
) -> None:
    """45 held; the batch is floor(floor(seats x overload) x load factor)."""
    res = run(one_leg(n=45, seats=seats, horizon_days=2, type_kw=type_kw))
    assert _batches(res) == batches
    assert res.kpis["delivered"] == 45


def test_a_random_load_factor_is_drawn_per_sortie() -> None:
    """Uniform 0.3..1 on 10 seats: batch i is floor(10 x draw i) from the ``load_factor``
    stream, one draw per sortie in order, until the 40 are moved."""
    res = run(one_leg(n=40, seats=10, horizon_days=3,
                      type_kw={"load_factor": {"dist": "uniform", "low": 0.3, "high": 1.0}}))
    rng = Streams(1)["load_factor"]
    expected, left = [], 40
    while left:
        n = min(left, int(np.floor(10 * rng.uniform(0.3, 1.0) + 1e-9)))
        expected.append(n)
        left -= n
    assert _batches(res) == expected


def test_a_load_factor_above_one_or_zero_is_refused() -> None:
    for bad in (1.2, 0, {"dist": "constant", "value": 1.5}):
        with pytest.raises(ScenarioError, match="load_factor"):
            scenario(one_leg(type_kw={"load_factor": bad}))


# ----- minimum load with a maximum wait -------------------------------------------------
def _staging(max_wait: float) -> dict[str, Any]:
    """Prison ``p`` (lat 2, 30 held) -> airfield ``a`` (lat 1) by a 10-seat helicopter,
    ``a`` -> reception ``r`` (lat 0) by a 30-seat plane at ``a`` that waits for a full load.

    The helicopter drops 10 at ``a`` at 1.25 (load 1/6, fly 1, unload 1/12), then every
    2.75 h (turn round 1/2, fly back 1, load 1/6, fly 1, unload 1/12): at 4.0 and 6.75.
    """
    return {
        "name": "staging", "start": "2026-01-01", "horizon_days": 1,
        "sites": [prison("p", 2.0, 30),
                  {"id": "a", "kind": "airfield", "lat": 1.0, "lon": 40.0},
                  reception("r", 0.0)],
        "legs": [leg("p", "a"), leg("a", "r", ["fixed_wing"])],
        "aircraft": {"h": aircraft_type(seats=10),
                     "f": aircraft_type(mode="fixed_wing", seats=30, min_load_fraction=1.0,
                                        max_load_wait_hours=max_wait)},
        "fleet": [{"type": "h", "count": 1, "base": "p"}, {"type": "f", "count": 1, "base": "a"}],
    }


def test_a_sortie_waits_at_its_pickup_for_its_minimum_load() -> None:
    """The plane is tasked at 1.25 with 10 and waits for 30: it tops up at 4.0 and 6.75,
    loads 30 x 1 min (-> 7.25), flies (-> 8.25) and unloads 30 x 0.5 min (-> 8.5)."""
    res = run(_staging(max_wait=24.0))
    (dispatch,) = events(res, EventKind.DISPATCH, "f-01")
    assert dispatch.time == pytest.approx(1.25) and dispatch.n == 10
    (load,) = events(res, EventKind.LOAD, "f-01")
    assert load.time == pytest.approx(6.75) and load.n == 30
    assert times(res, EventKind.UNLOAD, "f-01") == approx([8.5])
    assert res.kpis["delivered"] == 30


def test_the_minimum_load_is_a_share_of_the_overloaded_full_load() -> None:
    """15 seats at an overload factor of 2 carry 30: a minimum load of 1 waits for 30, as
    30 seats do (``test_a_sortie_waits_at_its_pickup_for_its_minimum_load``), not for
    the 15 seats (which it had at 4.0)."""
    data = _staging(max_wait=24.0)
    data["aircraft"]["f"].update(seats=15, overload_factor=2.0)
    res = run(data)
    (load,) = events(res, EventKind.LOAD, "f-01")
    assert load.time == pytest.approx(6.75) and load.n == 30


def test_the_maximum_wait_sends_the_sortie_with_whoever_is_there() -> None:
    """Waiting at most 4 h from 1.25: at 4.0 it has 20, at 5.25 it loads them (20 min,
    -> 5.5833), flies to ``r``, unloads 10 min and turns round (-> 7.25). The last 10 reached
    ``a`` at 6.75: it flies there (-> 8.25), waits the full 4 h as nobody else comes, and
    loads the 10 at 12.25."""
    res = run(_staging(max_wait=4.0))
    loads = [(e.time, e.n) for e in events(res, EventKind.LOAD, "f-01")]
    assert loads == [(pytest.approx(5.25), 20), (pytest.approx(12.25), 10)]
    assert res.kpis["delivered"] == 30


def _day_by_day(limit: int | None) -> dict[str, Any]:
    """``_staging`` over three days with a helicopter crew of 2 h a day, so it rests after
    each trip: it drops 10 at ``a`` at 1.25 (day 0), at 26.25 (day 1: fly to ``p``
    24 -> 25, load, fly, unload) and at 50.25 (day 2). The plane is tasked at 1.25 with
    10, cleared for day 0, and waits up to 30 h (to 31.25) for 30. ``limit``: ``r``'s
    daily intake limit (None: none)."""
    data = _staging(max_wait=30.0)
    data["horizon_days"] = 3
    data["sites"][2]["daily_intake_limit"] = limit
    data["aircraft"]["h"]["crew_hours_per_day"] = 2
    return data


def test_a_waiting_sortie_leaves_when_its_intake_day_ends() -> None:
    """A batch cleared against ``r``'s intake of day 0 can take no one on day 1, so the
    plane waits no longer: it loads its 10 at midnight (24.0), not at the end of its
    30 h (31.25), and the 10 of day 1 wait for its next sortie."""
    res = run(_day_by_day(limit=100))
    assert times(res, EventKind.UNLOAD, "h-01") == approx([1.25, 26.25, 50.25])
    first, second = events(res, EventKind.LOAD, "f-01")[:2]
    assert (first.time, first.n) == (pytest.approx(24.0), 10)
    assert second.n == 10 and second.time > 26.25


def test_without_an_intake_limit_a_waiting_sortie_takes_people_on_after_midnight() -> None:
    """Nothing is counted against a day without a limit: the plane takes on the 10 the
    helicopter drops at 26.25 and loads 20 when its 30 h are up (31.25)."""
    res = run(_day_by_day(limit=None))
    assert times(res, EventKind.UNLOAD, "h-01") == approx([1.25, 26.25, 50.25])
    first = events(res, EventKind.LOAD, "f-01")[0]
    assert (first.time, first.n) == (pytest.approx(31.25), 20)


# ----- positioning within range ---------------------------------------------------------
def _refuel_route(range_km: float, horizon_days: int = 1, **top: Any) -> dict[str, Any]:
    """``p`` (lat 2, 40 held) - refuel point ``f`` (lat 1) - ``r`` (lat 0); 20-seat helicopter.

    The loaded hop p-f-r refuels at ``f`` (20 min) when the range is below 2 x DEG_KM.
    """
    data: dict[str, Any] = {
        "name": "refuel", "start": "2026-01-01", "horizon_days": horizon_days,
        "sites": [prison("p", 2.0, 40), {"id": "f", "kind": "refuel", "lat": 1.0, "lon": 40.0},
                  reception("r", 0.0)],
        "legs": [leg("p", "f"), leg("f", "r")],
        "aircraft": {"h": aircraft_type(seats=20, range_km=range_km)},
        "fleet": [{"type": "h", "count": 1, "base": "p"}],
    }
    data.update(top)
    return data


def test_an_empty_flight_beyond_range_refuels_on_the_way() -> None:
    """Range 150 km, r -> p is 222 km: the empty return refuels at ``f`` like a loaded flight.

    Batch 1: load 20 min (-> 1/3), fly (-> 4/3), refuel 20 min, fly (-> 8/3), unload 10 min,
    turn round 30 min (-> 10/3). Positioning: r -> f (-> 13/3), refuel (-> 14/3), f -> p
    (-> 17/3): batch 2 loads at 17/3.
    """
    res = run(_refuel_route(150.0))
    legs = [(s.kind, s.origin, s.dest, s.detainees) for s in res.sorties]
    assert legs == [
        ("transfer", "p", "f", 20), ("transfer", "f", "r", 20),
        ("positioning", "r", "f", 0), ("positioning", "f", "p", 0),
        ("transfer", "p", "f", 20), ("transfer", "f", "r", 20),
    ]
    assert max(s.km for s in res.sorties) == pytest.approx(DEG_KM)
    refuels = [(e.time, e.site, e.n) for e in events(res, EventKind.REFUEL)]
    assert refuels[1] == (pytest.approx(13 / 3), "f", 0)
    assert times(res, EventKind.LOAD) == approx([0.0, 17 / 3])


def test_an_empty_flight_within_range_flies_direct() -> None:
    """Range 250 km: r -> p (222 km) in one leg, so batch 2 loads at 10/3 + 2 = 16/3
    (the loaded hop still refuels: it follows the corridors p-f-r, the empty one flies direct
    off-corridor as before)."""
    res = run(_refuel_route(250.0))
    positioning = [s for s in res.sorties if s.kind == SortieKind.POSITIONING]
    assert [(s.origin, s.dest) for s in positioning] == [("r", "p")]
    assert positioning[0].km == pytest.approx(2 * DEG_KM, rel=1e-6)
    assert times(res, EventKind.LOAD)[1] == pytest.approx(10 / 3 + 2)


def test_the_positioning_route_refuels_only_when_out_of_range() -> None:
    """r -> p is 2 x DEG_KM (222 km): direct within range; through ``f`` with a 150 km range;
    direct as before when no stop is within a 100 km range (the segments are 111 km)."""
    net = prepare(scenario(_refuel_route(150.0))).network(frozenset(), {})
    assert net.positioning_route("rotary", "r", "p", 300.0) == (
        ("r", "p"), (pytest.approx(2 * DEG_KM, rel=1e-9),))
    assert net.positioning_route("rotary", "r", "p", 150.0) == (
        ("r", "f", "p"), (pytest.approx(DEG_KM, rel=1e-9), pytest.approx(DEG_KM, rel=1e-9)))
    assert net.positioning_route("rotary", "r", "p", 100.0)[0] == ("r", "p")


# ----- no take-off while grounded -------------------------------------------------------
def _grounding(day: float, hours: float) -> dict[str, Any]:
    return {"name": "storm", "when": {"day": day},
            "then": [{"ground": {"modes": ["rotary"], "hours": hours}}]}


def test_a_helicopter_loading_when_a_grounding_starts_waits_it_out() -> None:
    """Loading 30 x 2 min runs 0 -> 1; a rule grounds helicopters at 0.5 (the first check
    at or after day 0.02 = 0.48 h on a 0.25 h grid) for 2 h: it departs at 2.5, not 1."""
    data = one_leg(n=30, seats=30, horizon_days=1, prison_kw={"load_min_per_detainee": 2.0},
                   trigger_check_hours=0.25, triggers=[_grounding(0.02, 2.0)])
    res = run(data)
    assert times(res, EventKind.DEPART) == approx([2.5])
    assert [s.depart_hour for s in res.sorties] == approx([2.5])


def test_a_helicopter_refuelling_when_a_grounding_starts_waits_it_out() -> None:
    """Loading 20 runs 0 -> 1/3, p -> f lands at 4/3, the refuel ends at 5/3; grounded at 1.5
    (first check after day 0.06 = 1.44 h) for 1 h: the second segment leaves f at 2.5."""
    res = run(_refuel_route(150.0, trigger_check_hours=0.25, triggers=[_grounding(0.06, 1.0)]))
    second = [s for s in res.sorties if s.origin == "f"][0]
    assert second.depart_hour == pytest.approx(2.5)


# ----- set at run time, with --set and in the schema ------------------------------------
def test_rules_set_the_sortie_fields_at_run_time() -> None:
    """At day 0 rules set a 12 min pickup stop, a 6 min drop-off stop at ``r`` and a load
    factor of 0.5: the first batch is 15, loads in 12 + 15 x 2 = 42 min and unloads in
    6 + 15 x 1 = 21 min after landing at 1.7."""
    rule = {"name": "slow", "when": {"day": 0}, "then": [
        {"set_param": {"path": "aircraft.h.pickup_stop_min", "value": 12}},
        {"set_param": {"path": "sites.r.dropoff_stop_min", "value": 6}},
        {"set_param": {"path": "aircraft.h.load_factor", "value": 0.5}},
    ]}
    res = run(_stops_case({}) | {"triggers": [rule]})
    assert _batches(res)[0] == 15
    assert times(res, EventKind.DEPART)[0] == pytest.approx(0.7)
    assert times(res, EventKind.UNLOAD)[0] == pytest.approx(1.7 + 21 / 60)


def test_a_rule_may_not_set_an_invalid_load_factor() -> None:
    rule = {"name": "bad", "when": {"day": 0},
            "then": [{"set_param": {"path": "aircraft.h.load_factor", "value": 2}}]}
    with pytest.raises(ScenarioError, match="load_factor"):
        scenario(one_leg() | {"triggers": [rule]})


def test_set_overrides_the_sortie_fields() -> None:
    s = with_overrides(scenario(one_leg()), {"aircraft.h.overload_factor": 1.5,
                                             "sites.p.ramp_spaces": 3,
                                             "aircraft.h.min_load_fraction": 0.5})
    assert s.aircraft["h"].overload_factor == 1.5
    assert s.site("p").ramp_spaces == 3
    assert s.aircraft["h"].min_load_fraction == 0.5


@pytest.mark.parametrize(("model", "field", "unit"), [
    (AircraftType, "pickup_stop_min", "minutes"), (AircraftType, "dropoff_stop_min", "minutes"),
    (AircraftType, "load_factor", "Share"), (AircraftType, "overload_factor", "per nominal seat"),
    (AircraftType, "min_load_fraction", "share"), (AircraftType, "max_load_wait_hours", "hours"),
    (Site, "pickup_stop_min", "minutes"), (Site, "dropoff_stop_min", "minutes"),
    (Site, "ramp_spaces", "aircraft"),
])
def test_the_schema_shows_each_field_with_its_unit(model: type, field: str, unit: str) -> None:
    schema = Scenario.model_json_schema(by_alias=True)["$defs"][model.__name__]["properties"]
    assert unit in schema[field]["description"]


def test_defaults_change_nothing() -> None:
    """Each new field at its default gives the same run as a scenario without it."""
    data = one_leg(n=50, seats=30, count=2, horizon_days=2)
    explicit = one_leg(n=50, seats=30, count=2, horizon_days=2, type_kw={
        "pickup_stop_min": 0, "dropoff_stop_min": 0, "load_factor": 1, "overload_factor": 1,
        "min_load_fraction": 0, "max_load_wait_hours": 2})
    a, b = run(data), run(explicit)
    assert a.events == b.events and a.sorties == b.sorties


# ----- no departure on a closed road ---------------------------------------------------
def _road(closed_from: float | None) -> dict[str, Any]:
    """Prison ``p`` (20 held, 6 min each to load) an hour by road from ``r``; one 20-seat
    bus at ``p``. With ``closed_from``: the road closes at that hour and reopens at 5."""
    data: dict[str, Any] = {
        "name": "road", "start": "2026-01-01", "horizon_days": 1,
        "sites": [prison("p", 1.0, 20, load_min_per_detainee=6), reception("r", 0.0)],
        "legs": [leg("p", "r", ["ground"], id="p-r", distance_km=DEG_KM)],
        "aircraft": {"bus": aircraft_type(mode="ground", seats=20)},
        "fleet": [{"type": "bus", "count": 1, "base": "p"}],
    }
    if closed_from is not None:
        data["triggers"] = [
            {"name": "cut", "when": {"day": closed_from / 24}, "then": [{"close_leg": "p-r"}]},
            {"name": "reopen", "when": {"day": 5 / 24}, "then": [{"open_leg": "p-r"}]}]
    return data


def test_a_road_closed_while_a_bus_loads_keeps_it_at_its_origin() -> None:
    """Open, the bus loads 20 x 6 min (0 -> 2), leaves at 2 and unloads at 3 + 10 min.
    Closed at hour 1, the loaded bus does not leave on the closed road: its 20 get off
    (an abort of 20 at 2), are loaded again when it reopens at 5 and arrive at 8."""
    def timeline(res: sim.results.Result) -> list[tuple[float, str, int]]:
        return [(round(e.time, 4), str(e.kind), e.n) for e in res.events
                if e.subject == "bus-01" and e.kind != EventKind.AVAILABLE]

    assert timeline(run(_road(None))) == [
        (0.0, "dispatch", 20), (0.0, "load", 20), (2.0, "depart", 20), (3.0, "arrive", 20),
        (3.1667, "unload", 20)]
    closed = run(_road(1.0))
    assert timeline(closed) == [
        (0.0, "dispatch", 20), (0.0, "load", 20), (2.0, "abort", 20), (5.0, "dispatch", 20),
        (5.0, "load", 20), (7.0, "depart", 20), (8.0, "arrive", 20), (8.1667, "unload", 20)]
    assert closed.kpis["delivered"] == 20


# --- road bays: road vehicles load apart from the aircraft's pads -----------------------
def _bus_and_helicopter(**prison_kw: Any) -> dict[str, Any]:
    """One pad at ``p``; a helicopter ``h`` and a bus ``g`` based there, both able to carry
    to ``r`` (60 people: 30 each; loading 1 minute a person, so a load takes 30 minutes)."""
    return {
        "name": "bays", "start": "2026-01-01", "horizon_days": 2,
        "sites": [prison("p", 1.0, 60, pads=1, **prison_kw), reception("r", 0.0)],
        "legs": [leg("p", "r", modes=["rotary", "ground"], distance_km=DEG_KM)],
        "aircraft": {"h": aircraft_type(), "g": aircraft_type(mode="ground")},
        "fleet": [{"type": "h", "count": 1, "base": "p"}, {"type": "g", "count": 1, "base": "p"}],
    }


def test_road_bays_let_road_vehicles_load_beside_the_aircraft() -> None:
    """Sharing the one pad, the second vehicle loads when the first has left it (half an
    hour later); with a bay of its own the bus loads at once, beside the helicopter."""
    shared = run(scenario(_bus_and_helicopter()))
    starts = sorted(e.time for e in events(shared, EventKind.LOAD))
    assert starts == [0.0, 0.5]
    apart = run(scenario(_bus_and_helicopter(road_bays=1)))
    assert sorted(e.time for e in events(apart, EventKind.LOAD)) == [0.0, 0.0]
    assert apart.kpis["delivered"] == shared.kpis["delivered"] == 60
    assert apart.kpis["prisons_cleared_day"] < shared.kpis["prisons_cleared_day"]


def test_the_bound_counts_road_bays_apart() -> None:
    """The bound holds the bays as a second pool: never later than the run with them."""
    from sim.planning.bound import lower_bound

    s = scenario(_bus_and_helicopter(road_bays=1))
    day = lower_bound(s, fractions=(1.0,)).day_for(1.0)
    assert day is not None and day * 24.0 <= 1.5 + 1e-9  # both loaded by 0.5 h, 1 h leg
