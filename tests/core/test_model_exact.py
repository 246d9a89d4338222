"""Exact behaviour of the transfer model on tiny deterministic scenarios.

Times are hours. In these scenarios sites sit one degree of latitude apart on
one meridian and aircraft cruise at ``DEG_KM`` km/h, so each flight lasts one
hour; loading and unloading take minutes per detainee times the batch size.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
from tiny_scenarios import (
    DEG_KM,
    aircraft_type,
    check_conservation,
    leg,
    one_leg,
    prison,
    reception,
    scenario,
)

import sim
from sim.core.dispatch import Candidate, make_policy
from sim.core.model import Model
from sim.scenario.checks import fleet_types
from sim.scenario.loader import ScenarioError, build
from sim.scenario.network import Network, mode_specs

APPROX = 1e-9


def approx(x: float) -> Any:
    return pytest.approx(x, abs=APPROX)


# ----- exact event log ------------------------------------------------------------------


def test_exact_event_log_one_aircraft() -> None:
    """50 detainees, 30 seats, one pad, 2 min/detainee to load, 1 min to unload, 30 min turnaround."""
    data = one_leg(
        n=50, seats=30, pads=1, horizon_days=1,
        prison_kw={"load_min_per_detainee": 2.0},
        reception_kw={"unload_min_per_detainee": 1.0},
    )
    model = Model(scenario(data), 1)
    model.run()
    expected = [
        (0.0, "available", "h-01", "p", 0),
        (0.0, "dispatch", "h-01", "p", 30),
        (0.0, "load", "h-01", "p", 30),
        (1.0, "depart", "h-01", "p", 30),  # 30 x 2 min
        (2.0, "arrive", "h-01", "r", 30),  # 1 h flight
        (2.5, "unload", "h-01", "r", 30),  # 30 x 1 min, logged when they are handed over
        (3.0, "dispatch", "h-01", "p", 20),  # after the 30 min turnaround
        (4.0, "load", "h-01", "p", 20),  # 1 h positioning back, empty
        (4.0 + 40 / 60, "depart", "h-01", "p", 20),
        (5.0 + 40 / 60, "arrive", "h-01", "r", 20),
        (6.0, "unload", "h-01", "r", 20),
    ]
    got = model.events
    assert [e[1:] for e in got] == [e[1:] for e in expected]
    for g, e in zip(got, expected, strict=True):
        assert g[0] == approx(e[0]), (g, e)

    # The sortie log: transfer, empty positioning, transfer.
    kinds = [(row[3], row[4], row[5], row[8]) for row in model.sorties]
    assert kinds == [("transfer", "p", "r", 30), ("positioning", "r", "p", 0),
                     ("transfer", "p", "r", 20)]
    for row in model.sorties:
        assert row[9] == approx(DEG_KM)
        assert row[10] == approx(1.0)

    res = sim.run(scenario(data), 1)
    k = res.kpis
    assert k["delivered"] == 50 and k["remaining"] == 0 and k["escaped"] == 0
    assert k["prisons_cleared_day"] == round(6.0 / 24, 3)
    assert k["sorties"] == {"h": 2}
    assert k["flight_hours"] == {"h": 3.0}
    assert k["peak_facility_occupancy"] == 50
    # pickup -> delivery: 1.5 h for the first 30, 4/3 h for the last 20
    assert k["mean_transfer_hours"] == pytest.approx((30 * 1.5 + 20 * 4 / 3) / 50, abs=1e-4)
    check_conservation(res)


# ----- analytic cycle ------------------------------------------------------------------

LOAD_MIN = 2.0
UNLOAD_MIN = 1.0
TURN_MIN = 30.0
FLIGHT_H = 1.0


def _batches(n: int, seats: int) -> list[int]:
    return [seats] * (n // seats) + ([n % seats] if n % seats else [])


def _load(n: int) -> float:
    return LOAD_MIN * n / 60.0


def _unload(n: int) -> float:
    return UNLOAD_MIN * n / 60.0


def expected_completion_free_pads(n: int, seats: int, k: int, based_at_prison: bool) -> float:
    """Enough pads for all k aircraft: they fly in lock-step rounds.

    Round 0 starts at 0, at the prison (no positioning) or at the reception (an
    empty positioning flight first). Each later round starts after delivery +
    turnaround and first flies the empty positioning leg back. Only the last
    batch can be partial, so every round before the last is full.
    """
    batches = _batches(n, seats)
    last_round = (len(batches) - 1) // k
    full_cycle = _load(seats) + FLIGHT_H + _unload(seats) + TURN_MIN / 60 + FLIGHT_H
    start = last_round * full_cycle - (FLIGHT_H if based_at_prison and last_round else 0.0)
    positioning = FLIGHT_H if last_round > 0 or not based_at_prison else 0.0
    sizes = batches[last_round * k:]
    return max(start + positioning + _load(m) + FLIGHT_H + _unload(m) for m in sizes)


def expected_completion_one_pad(n: int, seats: int, k: int) -> float:
    """One pad, and aircraft back before the pad frees: the pad loads back to back."""
    assert 2 * FLIGHT_H + _unload(seats) + TURN_MIN / 60 <= (k - 1) * _load(seats)
    t = 0.0
    deliveries = []
    for m in _batches(n, seats):
        t += _load(m)
        deliveries.append(t + FLIGHT_H + _unload(m))
    return max(deliveries)


def _cycle_run(n: int, seats: int, k: int, pads: int, base: str = "p") -> sim.results.Result:
    data = one_leg(
        n=n, seats=seats, count=k, pads=pads, horizon_days=10, base=base,
        prison_kw={"load_min_per_detainee": LOAD_MIN},
        reception_kw={"unload_min_per_detainee": UNLOAD_MIN, "pads": 50},
        type_kw={"turnaround_min": TURN_MIN},
    )
    return sim.run(scenario(data), 1)


@pytest.mark.parametrize("base", ["p", "r"])
@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("seats", [10, 30, 47])
def test_cycle_arithmetic_free_pads(k: int, seats: int, base: str) -> None:
    n = 200
    res = _cycle_run(n, seats, k, pads=k, base=base)
    expected = expected_completion_free_pads(n, seats, k, based_at_prison=base == "p")
    last = float(np.nanmax(res.detainees["delivered_hour"]))
    assert last == approx(expected)
    assert res.kpis["prisons_cleared_day"] == pytest.approx(expected / 24, abs=5e-4 + 1e-9)
    assert res.kpis["sorties"] == {"h": len(_batches(n, seats))}
    check_conservation(res)


@pytest.mark.parametrize(("k", "seats"), [(4, 30), (6, 30), (3, 60)])
def test_cycle_arithmetic_pad_queue(k: int, seats: int) -> None:
    n = 500
    res = _cycle_run(n, seats, k, pads=1)
    expected = expected_completion_one_pad(n, seats, k)
    last = float(np.nanmax(res.detainees["delivered_hour"]))
    assert last == approx(expected)
    # The pad never holds two aircraft: loads never overlap.
    loads = [e for e in res.events if e[1] == "load"]
    departs = [e for e in res.events if e[1] == "depart"]
    for (t_load, *_), (t_dep, *_), nxt in zip(loads, departs, loads[1:] + [None], strict=True):
        assert t_dep >= t_load
        if nxt is not None:
            assert nxt[0] >= t_dep - APPROX


# ----- dispatch policies ---------------------------------------------------------------


def cand(site: str, index: int, waiting: int = 10, rank: int = 1, rank_count: int = 5,
         status: int = 0, front_km: float = math.inf, pos_km: float = 100.0) -> Candidate:
    return Candidate(site, index, waiting, rank, rank_count, status, front_km, pos_km)


def test_largest_queue() -> None:
    p = make_policy("largest_queue")
    cs = [cand("a", 0, waiting=5), cand("b", 1, waiting=50), cand("c", 2, waiting=20)]
    assert p.choose(cs).site == "b"
    # ties break on file order
    assert p.choose([cand("x", 3, waiting=7), cand("y", 1, waiting=7)]).site == "y"


def test_round_robin_cycles_in_file_order() -> None:
    p = make_policy("round_robin")
    cs = [cand("c", 2), cand("a", 0), cand("b", 1)]
    picks = [p.choose(cs).site for _ in range(5)]
    assert picks == ["a", "b", "c", "a", "b"]
    # a node that drops out is skipped, the pointer moves on from where it was
    p2 = make_policy("round_robin")
    assert p2.choose(cs).site == "a"
    assert p2.choose([cand("a", 0), cand("c", 2)]).site == "c"
    assert p2.choose([cand("a", 0), cand("b", 1)]).site == "a"


def test_nearest_first() -> None:
    p = make_policy("nearest_first")
    cs = [cand("a", 0, pos_km=300), cand("b", 1, pos_km=20), cand("c", 2, pos_km=120)]
    assert p.choose(cs).site == "b"
    # equal distance: the larger queue
    cs = [cand("a", 0, pos_km=50, waiting=3), cand("b", 1, pos_km=50, waiting=9)]
    assert p.choose(cs).site == "b"


def test_highest_threat() -> None:
    p = make_policy("highest_threat")
    cs = [
        cand("safe-near", 0, status=0, front_km=5.0, waiting=100),
        cand("threatened-far", 1, status=1, front_km=50.0),
        cand("threatened-near", 2, status=1, front_km=20.0, waiting=1),
    ]
    assert p.choose(cs).site == "threatened-near"
    cs = [cand("far", 0, front_km=200.0), cand("near", 1, front_km=80.0)]
    assert p.choose(cs).site == "near"
    # no front anywhere: the larger queue
    assert p.choose([cand("a", 0, waiting=2), cand("b", 1, waiting=4)]).site == "b"


def test_highest_risk_first() -> None:
    p = make_policy("highest_risk_first")
    cs = [
        cand("many-standard", 0, rank=1, rank_count=500, waiting=500),
        cand("few-high", 1, rank=0, rank_count=3, waiting=40),
        cand("more-high", 2, rank=0, rank_count=9, waiting=10),
    ]
    assert p.choose(cs).site == "more-high"


def test_unknown_policy() -> None:
    with pytest.raises(ValueError, match="unknown dispatch policy"):
        make_policy("fastest")


def test_highest_risk_first_loads_high_risk_first() -> None:
    data = one_leg(n=0, seats=10, horizon_days=3, dispatch="highest_risk_first")
    data["risk_categories"] = ["high", "standard"]
    data["sites"][0]["detainees"] = {"standard": 25, "high": 15}
    res = sim.run(scenario(data), 1)
    t = res.detainees
    high = t["category"] == 0
    # 15 high-risk: the first batch is all high, the second 5 high + 5 standard
    assert np.nanmax(t["pickup_hour"][high]) <= np.nanmin(t["pickup_hour"][~high])
    first = np.nanmin(t["pickup_hour"])
    assert np.count_nonzero(t["pickup_hour"] == first) == 10
    assert np.all(high[t["pickup_hour"] == first])
    check_conservation(res)


# ----- routing -------------------------------------------------------------------------


def _refuel_case(range_km: float) -> dict[str, Any]:
    """Prison at latitude 4, refuel point at 2, reception at 0: 4 x DEG_KM direct."""
    data = one_leg(n=20, seats=20, horizon_days=2,
                   type_kw={"range_km": range_km, "refuel_min": 30})
    data["sites"] = [
        prison("p", 4.0, 20),
        {"id": "f", "kind": "refuel", "lat": 2.0, "lon": 40.0, "refuel_min": 30},
        reception("r", 0.0),
    ]
    data["legs"] = [leg("p", "r"), leg("p", "f"), leg("f", "r")]
    return data


def _network(data: dict[str, Any]) -> Network:
    s = scenario(data)
    return Network(s, mode_specs(s, fleet_types(s)))


def test_direct_when_in_range() -> None:
    net = _network(_refuel_case(range_km=5 * DEG_KM))
    (hop,) = net.route("p")
    assert hop.nodes == ("p", "r") and hop.refuel_stops == ()


def test_refuel_stop_when_range_demands() -> None:
    data = _refuel_case(range_km=3 * DEG_KM)
    net = _network(data)
    (hop,) = net.route("p")
    assert hop.nodes == ("p", "f", "r")
    assert hop.refuel_stops == ("f",)
    assert hop.max_segment_km <= 3 * DEG_KM
    model = Model(scenario(data), 1)
    model.run()
    refuels = [e for e in model.events if e[1] == "refuel"]
    assert [(e[3], e[4]) for e in refuels] == [("f", 20)]
    arrive = next(e for e in model.events if e[1] == "arrive")
    depart = next(e for e in model.events if e[1] == "depart")
    # two 2 h segments plus a 30 min refuel
    assert arrive[0] - depart[0] == approx(4.5)
    res = sim.run(scenario(data), 1)
    assert res.kpis["sorties"] == {"h": 1}  # one loaded hop, however many segments
    assert res.kpis["delivered"] == 20


def test_prison_without_route_is_a_validation_error() -> None:
    data = _refuel_case(range_km=3 * DEG_KM)
    data["legs"] = [leg("p", "r")]  # the refuel legs are gone; p-r is beyond range
    with pytest.raises(ScenarioError) as exc:
        build(data)
    text = "\n".join(exc.value.problems)
    assert "prison 'p'" in text and "no feasible route" in text


def test_prison_without_route_names_the_right_prison() -> None:
    data = _refuel_case(range_km=5 * DEG_KM)
    data["sites"].append(prison("island", 10.0, 5))
    with pytest.raises(ScenarioError) as exc:
        build(data)
    text = "\n".join(exc.value.problems)
    assert "'island'" in text and "prison 'p'" not in text


def test_hub_and_spoke() -> None:
    data = one_leg(n=60, seats=20, horizon_days=4)
    data["sites"] = [
        prison("p", 2.0, 60),
        {"id": "a", "kind": "airfield", "lat": 1.0, "lon": 40.0, "pads": 2},
        reception("r", 0.0),
    ]
    data["legs"] = [leg("p", "a", ["rotary"]), leg("a", "r", ["fixed_wing"])]
    data["aircraft"]["plane"] = aircraft_type(mode="fixed_wing", seats=60, cruise_kmh=2 * DEG_KM)
    data["fleet"] = [{"type": "h", "count": 1, "base": "p"}, {"type": "plane", "count": 1, "base": "a"}]
    net = _network(data)
    route = net.route("p")
    assert [(h.origin, h.dest, h.mode) for h in route] == [
        ("p", "a", "rotary"), ("a", "r", "fixed_wing"),
    ]
    res = sim.run(scenario(data), 1)
    check_conservation(res)
    assert res.kpis["delivered"] == 60
    assert set(res.detainees["hops"].tolist()) == {2}
    for row in res.sorties:
        if row[3] == "transfer":
            assert (row[1], row[4], row[5]) in {("h", "p", "a"), ("plane", "a", "r")}


# ----- crew limits, failures -------------------------------------------------------------


def _hours_by_day(sorties: list[tuple[Any, ...]]) -> dict[tuple[str, int], float]:
    out: dict[tuple[str, int], float] = defaultdict(float)
    for row in sorties:
        out[(row[0], int(row[6] // 24))] += row[10]
    return out


def test_crew_hours_per_day() -> None:
    limit = 3.0
    data = one_leg(n=300, seats=10, count=2, pads=2, horizon_days=6,
                   type_kw={"crew_hours_per_day": limit})
    res = sim.run(scenario(data), 1)
    by_day = _hours_by_day(res.sorties)
    assert by_day and max(by_day.values()) <= limit + 1e-9
    assert max(by_day.values()) == approx(limit)  # the limit binds
    assert any(e[1] == "dispatch" for e in res.events)
    # without the limit they fly far more per day
    free = sim.run(scenario(one_leg(n=300, seats=10, count=2, pads=2, horizon_days=6)), 1)
    assert max(_hours_by_day(free.sorties).values()) > 2 * limit
    check_conservation(res)


def test_crew_rest_depends_on_the_flights_not_on_when_the_vehicle_asks() -> None:
    """One helicopter from 19:12 (day 0.8), one-hour legs, 3 crew hours a duty, 10 h rest.

    Its first mission flies r-p 19.2-20.2 and p-r 20.367-21.367 (10 minutes of loading);
    a second would take its duty to 4 h, so its crew rests until 31.367, 10 h after the
    landing, whether it asks at once (no sortie limit) or is first held until midnight by
    one sortie a day: a held crew may not fly on at midnight without its rest. On day 1 its
    duty began at 31.367 and is full after one mission: it rests until midnight.
    """
    def unloads(cap: int | None) -> tuple[list[float], list[float]]:
        data = one_leg(n=40, seats=10, count=1, horizon_days=4, base="r",
                       type_kw={"crew_hours_per_day": 3, "rest_hours": 10,
                                "max_sorties_per_day": cap})
        data["fleet"][0]["available_from_day"] = 0.8
        res = sim.run(scenario(data), 1)
        check_conservation(res)
        return ([e[0] for e in res.events if e[1] == "dispatch"],
                [e[0] for e in res.events if e[1] == "unload"])

    asks_at_once, held_first = unloads(None), unloads(1)
    assert asks_at_once == held_first
    dispatches, done = asks_at_once
    landed = 19.2 + 2.0 + 10 / 60  # two one-hour legs and ten minutes of loading
    assert dispatches == approx([19.2, landed + 10.0, 48.0, 72.0])
    assert done == approx([landed + 5 / 60, landed + 12.0 + 15 / 60, 50.25, 74.25])


def test_failures_cause_maintenance_and_fewer_sorties() -> None:
    base = one_leg(n=5000, seats=10, count=2, pads=2, horizon_days=4)
    failing = one_leg(n=5000, seats=10, count=2, pads=2, horizon_days=4,
                      type_kw={"mtbf_flight_hours": 3.0, "repair_hours": 12.0})
    ok = sim.run(scenario(base), 7)
    bad_model = Model(scenario(failing), 7)
    bad_model.run()
    names = [e[1] for e in bad_model.events]
    assert "failure" in names and "repaired" in names
    bad = sim.run(scenario(failing), 7)
    assert bad.kpis["sorties"]["h"] < ok.kpis["sorties"]["h"]
    assert not any(e[1] == "failure" for e in ok.events)
    assert any(row["aircraft_maintenance"] > 0 for row in bad.daily)
    # no departure while the aircraft is under repair
    for who in ("h-01", "h-02"):
        evs = [e for e in bad.events if e[2] == who]
        down = None
        for t, ev, *_ in evs:
            if ev == "failure":
                down = t
            elif ev == "repaired":
                assert down is not None and t - down == approx(12.0)
                down = None
            elif ev in ("dispatch", "depart", "load"):
                assert down is None
    check_conservation(bad)


# ----- reception: intake limit, beds, repatriation -----------------------------------------


def test_daily_intake_limit_respected_each_day() -> None:
    limit = 40
    data = one_leg(n=300, seats=30, count=3, pads=3, horizon_days=12,
                   reception_kw={"daily_intake_limit": limit, "pads": 3})
    res = sim.run(scenario(data), 1)
    check_conservation(res)
    cleared: dict[int, int] = defaultdict(int)
    for t, ev, _who, site, n in res.events:
        if ev == "dispatch":
            assert site == "p"
            cleared[int(t // 24)] += n
    assert max(cleared.values()) == limit  # it binds
    assert all(v <= limit for v in cleared.values())
    assert res.kpis["delivered"] == 300
    assert res.kpis["prisons_cleared_day"] >= 300 / limit - 1


def test_beds_never_exceeded() -> None:
    beds = 70
    data = one_leg(n=100, seats=30, count=2, pads=2, horizon_days=5,
                   reception_kw={"beds": beds, "pads": 2})
    res = sim.run(scenario(data), 1)
    check_conservation(res)
    assert res.kpis["delivered"] <= beds
    assert res.kpis["peak_facility_occupancy"] <= beds
    assert res.kpis["delivered"] == beds  # the facility fills exactly
    assert res.kpis["remaining"] == 100 - beds
    assert res.kpis["prisons_cleared_day"] is None
    assert all(row["facility_occupancy"] <= beds for row in res.daily)


def _occupancy_peak(res: sim.results.Result) -> int:
    t = res.detainees
    arr = t["delivered_hour"][~np.isnan(t["delivered_hour"])]
    dep = t["released_hour"][~np.isnan(t["released_hour"])]
    times = np.concatenate([arr, dep])
    steps = np.concatenate([np.ones(len(arr)), -np.ones(len(dep))])
    order = np.lexsort((steps, times))  # releases first at equal times
    return int(np.max(np.cumsum(steps[order]), initial=0))


def test_repatriation_frees_beds() -> None:
    beds = 60
    data = one_leg(n=150, seats=30, count=2, pads=2, horizon_days=10,
                   reception_kw={"beds": beds, "pads": 2, "repatriation_per_day": 30})
    res = sim.run(scenario(data), 1)
    check_conservation(res)
    k = res.kpis
    assert k["delivered"] == 150  # more than the beds: releases made room
    assert k["released"] > 0
    assert _occupancy_peak(res) <= beds
    assert k["peak_facility_occupancy"] <= beds
    released = res.detainees["released_hour"]
    assert np.all(released[~np.isnan(released)] >= res.detainees["registered_hour"][~np.isnan(released)])
    # at most 30 released a day, at midnights
    days = released[~np.isnan(released)] / 24
    assert np.allclose(days, np.round(days))
    assert max(np.bincount(np.round(days).astype(int))) <= 30
    # without repatriation the beds stop the operation
    no_rep = one_leg(n=150, seats=30, count=2, pads=2, horizon_days=10,
                     reception_kw={"beds": beds, "pads": 2})
    assert sim.run(scenario(no_rep), 1).kpis["delivered"] == beds


def test_fractional_repatriation_rate() -> None:
    data = one_leg(n=20, seats=20, horizon_days=12,
                   reception_kw={"repatriation_per_day": 0.5, "pads": 2})
    res = sim.run(scenario(data), 1)
    check_conservation(res)
    released = res.detainees["released_hour"]
    days = np.sort(released[~np.isnan(released)]) / 24
    # delivered on day 0; one released every second midnight, up to the horizon's midnight
    # (the end of day 11, which ends its day like every other midnight)
    assert res.kpis["released"] == 6
    assert np.allclose(days, [2, 4, 6, 8, 10, 12])


def test_withdrawn_aircraft_utilization_at_most_one() -> None:
    data = one_leg(n=10, seats=1, horizon_days=1, base="r",
                   triggers=[{"name": "withdraw", "when": {"day": 0.0625},
                              "then": [{"withdraw_aircraft": {"type": "h", "count": 1}}]}])
    res = sim.run(scenario(data), 1)
    withdrawn = [e for e in res.events if e[1] == "withdrawn"]
    assert len(withdrawn) == 1 and withdrawn[0][0] > 2.0  # it finished its mission first
    assert 0.0 < res.kpis["fleet_utilization"] <= 1.0


def test_set_param_seats_below_one_is_rejected() -> None:
    data = one_leg(n=500, horizon_days=2, triggers=[
        {"name": "x", "when": {"day": 0.05},
         "then": [{"set_param": {"path": "aircraft.h.seats", "value": 0}}]}])
    with pytest.raises(ScenarioError, match=r"triggers\.x\.then\.0\.set_param\.value"):
        build(data)
    data["triggers"][0]["then"][0]["set_param"]["value"] = 3
    res = sim.run(scenario(data), 1)
    assert res.kpis["delivered"] > 0
    loads = [e[4] for e in res.events if e[1] == "dispatch" and e[0] > 0.05 * 24 + 1]
    assert loads and max(loads) <= 3
