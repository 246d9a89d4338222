"""The lower bound: equal to the hand formula where one is known, never later than a run."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from tiny_scenarios import (
    DEG_KM,
    ROOT,
    aircraft_type,
    leg,
    one_leg,
    prison,
    reception,
    scenario,
)

import sim
from sim.planning.bound import CONSTRAINTS, lower_bound
from sim.planning.gap import bound_gap, full_delivery_day, replication_full_days
from sim.scenario.loader import ScenarioError, build

QUICK = {"load_min_per_detainee": 0}
NO_UNLOAD = {"unload_min_per_detainee": 0}


def hand_day(n: int, count: int, seats: int, out_h: float, back_h: float, turn_h: float) -> float:
    """Trips of full loads, one cycle each, without the last return: the last delivery, days."""
    trips = math.ceil(n / (count * seats))
    cycle = out_h + turn_h + back_h
    return (trips * cycle - back_h - turn_h) / 24.0


@pytest.mark.parametrize(("n", "count", "seats", "turn_min"), [
    (100, 2, 10, 0), (100, 2, 10, 60), (61, 3, 20, 30), (30, 1, 30, 0), (7, 4, 2, 90),
])
def test_single_leg_equals_the_hand_formula(n: int, count: int, seats: int, turn_min: int) -> None:
    """ceil(N / (n s)) cycles of out, turnaround and back, less the last return."""
    s = scenario(one_leg(n=n, count=count, seats=seats, pads=count, prison_kw=QUICK,
                         reception_kw=NO_UNLOAD, type_kw={"turnaround_min": turn_min}))
    b = lower_bound(s)
    expected = hand_day(n, count, seats, 1.0, 1.0, turn_min / 60.0)
    assert b.day_for(1.0) == pytest.approx(expected, abs=1e-4)
    # the simulation is never earlier, and here (full loads, nothing random) it is exact
    simulated = full_delivery_day(sim.run(s, 1).detainees["delivered_hour"])
    assert simulated is not None and simulated >= expected - 1e-9
    if n % (count * seats) == 0:
        assert simulated == pytest.approx(expected)


def test_half_and_daily_values_follow_the_trips() -> None:
    s = scenario(one_leg(n=100, count=2, seats=10, pads=2, prison_kw=QUICK,
                         reception_kw=NO_UNLOAD, type_kw={"turnaround_min": 0}))
    b = lower_bound(s)
    # 50 delivered: the third round of two trips lands at hour 2 * 2 + 1
    assert b.day_for(0.5) == pytest.approx(5 / 24, abs=1e-4)
    assert b.delivered_by_day == [100.0] * 5


def test_a_vehicle_arriving_late_and_a_base_away_from_the_prison() -> None:
    # one aircraft based at the reception from hour 12: fly 1 h empty, then 1 h loaded
    s = scenario(one_leg(n=30, count=1, seats=30, base="r", prison_kw=QUICK,
                         reception_kw=NO_UNLOAD, fleet=[{"type": "h", "count": 1, "base": "r",
                                                         "available_from_day": 0.5}]))
    assert lower_bound(s).day_for(1.0) == pytest.approx(14 / 24, abs=1e-4)


def test_loading_on_one_pad_delays_the_bound() -> None:
    # two aircraft, one pad, 60 detainees at 2 min each: two hours of loading before the last
    # departure at the earliest, then one hour of flight; the loading is counted by the end
    # of a step, so the bound may be one step earlier (never later)
    s = scenario(one_leg(n=60, count=2, seats=30, pads=1,
                         prison_kw={"load_min_per_detainee": 2}, reception_kw=NO_UNLOAD))
    b = lower_bound(s)
    day = b.day_for(1.0)
    assert day is not None and (3 - b.step_hours) / 24 - 1e-4 <= day <= 3 / 24 + 1e-9
    no_pads = lower_bound(s, constraints=(), step_hours=b.step_hours).day_for(1.0)
    assert no_pads is not None and no_pads < day


def test_intake_limit_and_beds_spread_deliveries_over_days() -> None:
    s = scenario(one_leg(n=90, count=3, seats=30, pads=3, prison_kw=QUICK,
                         reception_kw={"daily_intake_limit": 30, **NO_UNLOAD}))
    b = lower_bound(s)
    assert b.delivered_by_day[:3] == pytest.approx([30.0, 60.0, 90.0], abs=1e-6)
    assert b.day_for(1.0) == pytest.approx(49 / 24, abs=1e-4)  # cleared on day 2, 1 h flight
    beds = scenario(one_leg(n=90, count=3, seats=30, pads=3, prison_kw=QUICK,
                            reception_kw={"beds": 40, "repatriation_per_day": 40, **NO_UNLOAD}))
    assert lower_bound(beds).delivered_by_day[:2] == pytest.approx([40.0, 80.0], abs=1e-6)


def test_each_capacity_only_tightens() -> None:
    s = scenario(one_leg(n=90, count=2, seats=30, pads=1, reception_kw={"daily_intake_limit": 40},
                         type_kw={"crew_hours_per_day": 2}))
    loose = lower_bound(s, constraints=())
    tight = lower_bound(s, step_hours=loose.step_hours)
    assert loose.day_for(1.0) is not None and tight.day_for(1.0) is not None
    assert loose.day_for(1.0) <= tight.day_for(1.0)
    assert len(CONSTRAINTS) >= 6


def test_unreachable_detainees_have_no_day() -> None:
    data = one_leg(n=10)
    data["sites"].append(prison("q", 2.0, 5, open=False))  # closed, no rule opens it
    data["legs"].append(leg("q", "r"))
    b = lower_bound(scenario(data))
    assert b.day_for(1.0) is None and b.day_for(0.5) is not None
    assert max(b.delivered_by_day) == pytest.approx(10.0)


def test_gap_is_the_simulated_day_over_the_bound() -> None:
    s = scenario(one_leg(n=50))
    res = sim.run(s, 3)
    gap = bound_gap(s, [full_delivery_day(res.detainees["delivered_hour"])])
    assert gap is not None and gap["ratio"] >= 1.0
    assert gap["simulated_day"] == pytest.approx(res.kpis["day_to_100"], abs=1e-3)


# ----- never later than a run ------------------------------------------------------------


def _dist(draw: st.DrawFn, mean: float) -> Any:
    kind = draw(st.sampled_from(["const", "lognormal", "exponential", "uniform", "triangular"]))
    if kind == "const":
        return mean
    if kind == "lognormal":
        return {"dist": "lognormal", "mean": mean, "cv": draw(st.floats(0.0, 1.0))}
    if kind == "exponential":
        return {"dist": "exponential", "mean": mean}
    if kind == "triangular":
        return {"dist": "triangular", "low": mean / 2, "mode": mean, "high": 2 * mean}
    return {"dist": "uniform", "low": mean / 2, "high": 2 * mean}


SPEED = {"rotary": DEG_KM, "fixed_wing": 2 * DEG_KM, "ground": DEG_KM / 2}


@st.composite
def tiny(draw: st.DrawFn) -> dict[str, Any]:
    """Tiny scenarios with every capacity the bound models; nominal flight times."""
    modes = draw(st.lists(st.sampled_from(["rotary", "fixed_wing", "ground"]),
                          min_size=1, max_size=2, unique=True))
    hub = draw(st.booleans())
    sites: list[dict[str, Any]] = []
    legs: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 2))):
        pid = f"p{i}"
        sites.append(prison(pid, 1.0 + i * draw(st.sampled_from([0.3, 0.7])),
                            draw(st.integers(1 if i == 0 else 0, 60)),
                            pads=draw(st.integers(1, 2)),
                            load_min_per_detainee=_dist(draw, draw(st.sampled_from([0.5, 2.0])))))
        legs.append(leg(pid, "r", modes))
        if hub:
            legs.append(leg(pid, "a", modes))
    if hub:
        sites.append({"id": "a", "kind": "airfield", "lat": 0.5, "lon": 40.3,
                      "pads": draw(st.integers(1, 2)),
                      "holding_capacity": draw(st.none() | st.integers(5, 100))})
        legs.append(leg("a", "r", modes))
    sites.append(reception("r", 0.0, pads=draw(st.integers(1, 2)),
                           beds=draw(st.none() | st.integers(10, 100)),
                           daily_intake_limit=draw(st.none() | st.integers(10, 80)),
                           repatriation_per_day=draw(st.sampled_from([0.0, 10.0, 25.5])),
                           unload_min_per_detainee=_dist(draw, 0.5)))
    aircraft: dict[str, Any] = {}
    fleet: list[dict[str, Any]] = []
    for mode in modes:
        name = f"t_{mode}"
        aircraft[name] = aircraft_type(
            mode=mode, seats=draw(st.integers(1, 40)), cruise_kmh=SPEED[mode],
            turnaround_min=_dist(draw, draw(st.sampled_from([10.0, 30.0]))),
            range_km=draw(st.sampled_from([100_000.0, 200.0])),
            mtbf_flight_hours=draw(st.none() | st.floats(2.0, 50.0)),
            crew_hours_per_day=draw(st.sampled_from([3.0, 12.0, 24.0])),
            rest_hours=draw(st.sampled_from([0.0, 8.0])),
        )
        fleet.append({"type": name, "count": draw(st.integers(1, 3)),
                      "base": draw(st.sampled_from(["r", "p0"])),
                      "available_from_day": draw(st.sampled_from([0.0, 0.3]))})
    data: dict[str, Any] = {
        "name": "tiny", "start": "2026-01-01", "horizon_days": draw(st.integers(1, 3)),
        "sites": sites, "legs": legs, "aircraft": aircraft, "fleet": fleet,
        "dispatch": draw(st.sampled_from(["largest_queue", "nearest_first", "round_robin"])),
    }
    if draw(st.booleans()):
        t = draw(st.sampled_from(list(aircraft)))
        action = draw(st.sampled_from([
            {"add_aircraft": {"type": t, "count": 1, "base": "r", "delay_hours": 6.0}},
            {"set_param": {"path": f"aircraft.{t}.seats", "value": 50}},
            {"set_param": {"path": "sites.r.beds", "value": 200}},
            {"set_intake_limit": {"site": "r", "per_day": None}},
            {"withdraw_aircraft": {"type": t, "count": 1}},
        ]))
        data["triggers"] = [{"name": "rule", "when": {"day": draw(st.sampled_from([0.0, 0.5]))},
                             "then": [action]}]
    return data


def _day_reached(hours: np.ndarray, need: int) -> float | None:
    done = np.sort(hours[~np.isnan(hours)])
    return float(done[need - 1]) / 24.0 if need <= len(done) else None


def _never_later(data: dict[str, Any], seed: int) -> None:
    try:
        s = scenario(data)
    except ScenarioError:
        reject()  # e.g. a range too short for any route
    b = lower_bound(s)
    hours = sim.run(s, seed).detainees["delivered_hour"]
    total = len(hours)
    for f, day in b.fraction_days.items():
        reached = _day_reached(hours, max(1, math.ceil(f * total - 1e-9)))
        if reached is not None:
            assert day is not None and day <= reached + 1e-9, (f, day, reached)
    for d, most in enumerate(b.delivered_by_day):
        assert np.count_nonzero(hours <= 24.0 * (d + 1)) <= most + 1e-6, d


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny(), st.integers(0, 10_000))
def test_the_bound_is_never_later_than_a_run(data: dict[str, Any], seed: int) -> None:
    _never_later(data, seed)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny(), st.integers(0, 10_000))
def test_the_bound_is_never_later_than_a_run_in_300_scenarios(data: dict[str, Any],
                                                              seed: int) -> None:
    _never_later(data, seed)


def test_replications_count_only_runs_that_delivered_everyone() -> None:
    """The gap reads ``day_to_100``: a run that cleared its prisons by losing people is not one."""
    class Table:
        names = ["day_to_100", "prisons_cleared_day", "escaped"]
        # the second run cleared its prisons on day 2 by losing 4: not a full delivery
        cols = {"day_to_100": np.array([3.0, np.nan, np.nan]),
                "prisons_cleared_day": np.array([3.0, 2.0, np.nan]),
                "escaped": np.array([0.0, 4.0, 0.0])}

        def values(self, name: str) -> np.ndarray:
            return self.cols[name]

    assert replication_full_days(Table()) == [3.0, None, None]


def test_an_overload_factor_raises_the_bound_capacity_so_it_stays_a_bound() -> None:
    """Seats 30 with overload 1.5 carry 45 a sortie: 90 detainees, one aircraft, 1 h legs,
    30 min turnaround: two trips, so the last delivery is at 1 + 1.5 + 1 + ... hand day
    from ``hand_day`` with 45 seats; a bound that used the 30 nominal seats (three trips)
    would be later than the run."""
    data = one_leg(n=90, count=1, seats=30, horizon_days=5, prison_kw=QUICK,
                   reception_kw=NO_UNLOAD, type_kw={"overload_factor": 1.5})
    s = build(data)
    b = lower_bound(s, fractions=(1.0,))
    expected = hand_day(90, 1, 45, 1.0, 1.0, 0.5)
    assert b.day_for(1.0) == pytest.approx(expected, abs=1 / 24)
    run_day = full_delivery_day(sim.run(s, 1).detainees["delivered_hour"])
    assert run_day is not None and b.day_for(1.0) <= run_day + 1e-9


def test_an_uncertain_intake_quota_counts_at_its_highest() -> None:
    """A reception clearing 5 a day, raised by a rule to uniform(10, 30): the bound counts
    30 a day (the highest draw), so 60 detainees need two days of intake and the last one
    arrives on day 1 at the earliest (the second day's clearance), not on day 11 (5 a day)
    nor within the first hour (no limit)."""
    data = one_leg(n=60, count=2, seats=30, horizon_days=6, prison_kw=QUICK,
                   reception_kw={**NO_UNLOAD, "daily_intake_limit": 5})
    data["triggers"] = [{"name": "q", "when": {"day": 0}, "then": [{"set_intake_limit": {
        "site": "r", "per_day": {"dist": "uniform", "low": 10, "high": 30}}}]}]
    b = lower_bound(build(data), fractions=(1.0,))
    day = b.day_for(1.0)
    assert day is not None and 1.0 <= day < 2.0


def test_a_release_rate_at_the_origin_holds_the_bound_back() -> None:
    """60 detainees handed over at 10 an hour, two 30-seat aircraft, 1 h legs, no handling:
    the last 30 are ready at hour 6, so nobody can deliver them before hour 7 (day 0.2917);
    without the release the bound is hour 1."""
    data = one_leg(n=60, count=2, seats=30, horizon_days=3, prison_kw=QUICK,
                   reception_kw=NO_UNLOAD)
    assert lower_bound(build(data), fractions=(1.0,)).day_for(1.0) == pytest.approx(1 / 24, abs=1e-4)
    data["sites"][0]["release"] = {"per_hour": 10}
    s = build(data)
    day = lower_bound(s, fractions=(1.0,)).day_for(1.0)
    assert day == pytest.approx(7 / 24, abs=1 / 24 + 1e-6)
    run_day = full_delivery_day(sim.run(s, 1).detainees["delivered_hour"])
    assert run_day is not None and day is not None and day <= run_day + 1e-9


@pytest.mark.parametrize("release,hours,most", [
    ({"per_hour": 10}, 3.0, 30.0),
    ({"profile": [{"from_day": 1, "per_hour": 5}, {"from_day": 2, "per_hour": 1}]}, 60.0,
     5 * 24 + 12),
    ({"stations": 2, "minutes": 30, "hours_per_day": 8, "start_hour": 6}, 24.0, 2 * (16 + 1)),
    ({"stations": 1, "minutes": 10, "hours_per_day": 12}, 72.0, 3 * (72 + 1)),
    ({"stations": 2, "minutes": 10, "hours_per_day": 12, "start_hour": 20}, 8.0, 2 * (48 + 1)),
    ({"per_hour": 10, "poisson": True}, 3.0, None),
])
def test_most_released_by_hand(release: dict[str, Any], hours: float, most: float | None) -> None:
    """Rate x hours; a profile integrated (nothing before day 1, 5/h on day 1, 1/h after);
    stations: 2 x (8 open hours x 2 an hour + 1 in progress); three 12-hour shifts of one
    station, each with one more in progress when it closes: 3 x (72 + 1); a shift from
    20:00 is open from hour 0 to 8: 2 x (8 x 6 + 1); Poisson: no upper limit."""
    from sim.planning.bound import most_released
    from sim.scenario.schema import Release

    assert most_released(Release.model_validate(release), hours) == most


@settings(max_examples=200, deadline=None)
@given(stations=st.integers(1, 4), low=st.sampled_from([1.0, 5.0, 10.0, 7.5, 20.0]),
       spread=st.sampled_from([0.0, 0.0, 3.0, 15.0]), batch=st.integers(1, 5),
       hours_per_day=st.sampled_from([0.5, 3.0, 8.0, 12.0, 16.0, 23.5, 24.0]),
       start_hour=st.sampled_from([0.0, 6.0, 18.0, 20.0, 23.5]), seed=st.integers(0, 99))
def test_no_release_schedule_hands_over_more_than_most_released(
    stations: int, low: float, spread: float, batch: int, hours_per_day: float,
    start_hour: float, seed: int,
) -> None:
    """The run's out-processing schedule (``ready_hours``) never has more people handed
    over by any hour than the bound allows, whatever the shift's clock hours (also across
    midnight) and whether or not the shift's length is a whole number of services."""
    from sim.core.release import ready_hours
    from sim.planning.bound import most_released
    from sim.scenario.schema import Release

    minutes: Any = low if spread == 0 else {"dist": "uniform", "low": low, "high": low + spread}
    release = Release.model_validate({"stations": stations, "minutes": minutes, "batch": batch,
                                      "hours_per_day": hours_per_day, "start_hour": start_hour})
    ready = np.sort(ready_hours(release, 400, np.random.default_rng(seed)))
    for hours in [0.5 * k for k in range(1, 24 * 2 * 5)]:
        most = most_released(release, hours)
        assert most is not None
        assert np.count_nonzero(ready <= hours) <= most + 1e-6, hours


def test_a_ramp_limit_at_the_pickup_holds_the_bound_back() -> None:
    """Three 30-seat fixed-wing aircraft at a prison with one ramp space and a 60-minute
    ground time per pickup: their stays cannot overlap, so the three departures need three
    ramp-hours and the last leaves at hour 2 at the earliest in the bound (hour 3 in a run,
    where the first stay starts at hour 0 and each waits for the one before): the last
    delivery is no earlier than hour 3 (day 0.125) and no later than the run's."""
    data = one_leg(n=90, count=3, seats=30, horizon_days=3, prison_kw=QUICK,
                   reception_kw=NO_UNLOAD, type_kw={"mode": "fixed_wing", "pickup_stop_min": 60})
    data["legs"] = [leg("p", "r", ["fixed_wing"])]
    free = lower_bound(build(data), fractions=(1.0,)).day_for(1.0)
    data["sites"][0]["ramp_spaces"] = 1
    s = build(data)
    day = lower_bound(s, fractions=(1.0,)).day_for(1.0)
    assert free is not None and day is not None
    assert day >= 3 / 24 - 1e-6 > free
    run_day = full_delivery_day(sim.run(s, 1).detainees["delivered_hour"])
    assert run_day is not None and day <= run_day + 1e-9


def test_an_operating_window_holds_the_bound_back() -> None:
    """300 detainees, one 30-seat aircraft, 1 h legs, 30 min turnaround: ten trips of
    2.5 h fit in about a day when it may fly at any hour. Flying only in a 2-hour window
    a day, the hours of movements leaving in a day are at most 2 h plus three of its
    longest missions (about 2 + 3 x 2.5 h): fewer than ten trips a day, so the bound moves
    past day 1, and stays no later than a run (which manages one or two trips a day)."""
    data = one_leg(n=300, count=1, seats=30, horizon_days=15, prison_kw=QUICK,
                   reception_kw=NO_UNLOAD)
    free = lower_bound(build(data), fractions=(1.0,)).day_for(1.0)
    data["aircraft"]["h"].update({"operating_start_hour": 0, "operating_hours": 2})
    s = build(data)
    day = lower_bound(s, fractions=(1.0,)).day_for(1.0)
    assert free is not None and day is not None
    assert free < 1.1 < day
    run_day = full_delivery_day(sim.run(s, 1).detainees["delivered_hour"])
    assert run_day is not None and day <= run_day + 1e-9


@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), seed=st.integers(0, 10_000))
def test_the_bound_is_never_later_than_a_run_with_every_realism_mechanism(
    data: st.DataObject, seed: int,
) -> None:
    """Generated scenarios with ground times, load factors, overload, minimum loads,
    windows, sorties per day, mission-capable rates, waves, escorts, ramp spaces and
    batched releases (``with_realism``), over up to four days (500 passed locally).
    Flight times nominal, as the bound reads them (``sim.planning.bound``: a run whose
    flights vary may beat it by luck; a one-seat helicopter flying 5% fast did)."""
    from tests.core.test_shortcuts_property import with_realism

    scenario_data = data.draw(with_realism())
    scenario_data["horizon_days"] = min(scenario_data["horizon_days"], 4)
    for spec in scenario_data["aircraft"].values():
        spec["flight_time_cv"] = 0.0
    _never_later(scenario_data, seed)


@pytest.mark.parametrize("name", ["kabul_2021", "solomon_1991", "camp_bucca_2009",
                                  "pakistan_floods_2010"])
def test_the_coarse_pass_method_finds_the_days_interior_point_finds(
    name: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dual simplex solves the coarse pass (quicker there); the bound is the same."""
    from sim.planning import bound

    s = sim.load_scenario(ROOT / "scenarios" / "backtest" / f"{name}.yaml")
    assert bound.COARSE_METHOD == "highs-ds"
    quick, full = lower_bound(s, quick=True), lower_bound(s)
    monkeypatch.setattr(bound, "COARSE_METHOD", bound.FINE_METHOD)
    assert lower_bound(s, quick=True).fraction_days == quick.fraction_days
    again = lower_bound(s)
    assert (again.fraction_days, again.step_hours) == (full.fraction_days, full.step_hours)
    assert again.delivered_by_day == pytest.approx(full.delivered_by_day, rel=1e-9)


# ----- pads count from the first vehicle there ---------------------------------------------


def _late_fleet(pads: int) -> Any:
    """2,098 detainees at 0.25 min each on ``pads`` pads; ten 300-seat aircraft based at the
    prison, available from hour 15; 1 h to the reception."""
    return scenario(one_leg(n=2098, count=10, seats=300, pads=pads, horizon_days=5,
                            prison_kw={"load_min_per_detainee": 0.25}, reception_kw=NO_UNLOAD,
                            fleet=[{"type": "h", "count": 10, "base": "p",
                                    "available_from_day": 15 / 24}]))


def test_pads_count_only_from_the_first_vehicle_arrival() -> None:
    """Loading 2,098 at 0.25 min takes 8.74 pad-hours, none of which can start before the
    fleet exists at hour 15: one pad cannot finish before hour 23.74, so the last delivery
    is no sooner than hour 24.74 (less a step, the rounding towards earlier). Before, pad
    hours counted from hour 0 and the bound was the same whether 1, 2 or 6 pads. Each
    stays no later than a run."""
    from sim.planning.bound import first_arrivals
    from sim.planning.network import optimistic

    assert first_arrivals(optimistic(_late_fleet(1)))["p"] == pytest.approx(15.0)
    days = {}
    for pads in (1, 2, 6):
        s = _late_fleet(pads)
        b = lower_bound(s)
        day = b.day_for(1.0)
        assert day is not None
        days[pads] = day
        run_day = full_delivery_day(sim.run(s, 1).detainees["delivered_hour"])
        assert run_day is not None and day <= run_day + 1e-9
        if pads == 1:
            assert day >= (15 + 2098 * 0.25 / 60 + 1 - b.step_hours) / 24 - 1e-9
    assert days[1] > days[2] > days[6]


def test_first_arrivals_follow_the_fastest_movements_from_each_base() -> None:
    """An aircraft based at the reception from hour 12 is at the prison from hour 13 (1 h
    empty); one a rule adds at the prison after 6 h brings that to hour 6."""
    from sim.planning.bound import first_arrivals
    from sim.planning.network import optimistic

    data = one_leg(n=30, count=1, base="r", fleet=[{"type": "h", "count": 1, "base": "r",
                                                    "available_from_day": 0.5}])
    assert first_arrivals(optimistic(scenario(data))) == pytest.approx({"r": 12.0, "p": 13.0})
    data["triggers"] = [{"name": "more", "when": {"day": 1}, "then": [
        {"add_aircraft": {"type": "h", "count": 1, "base": "p", "delay_hours": 6.0}}]}]
    assert first_arrivals(optimistic(scenario(data))) == pytest.approx({"r": 7.0, "p": 6.0})


@pytest.mark.parametrize("name", ["kabul_2021", "solomon_1991", "camp_bucca_2009",
                                  "pakistan_floods_2010"])
def test_the_bound_is_never_later_than_runs_of_shipped_scenarios(name: str) -> None:
    """Back-test scenarios (Kabul's and Solomon's fleets arrive after the start, so their
    pads count from then): the days each fraction is delivered and the deliveries by each
    day's end, in three seeds."""
    from sim.scenario.loader import with_overrides

    s = sim.load_scenario(ROOT / "scenarios" / "backtest" / f"{name}.yaml")
    # nominal flight times, as the bound reads them (a run flying faster by luck may beat it)
    s = with_overrides(s, {f"aircraft.{t}.flight_time_cv": 0.0 for t in s.aircraft})
    b = lower_bound(s)
    for seed in (1, 2, 3):
        hours = sim.run(s, seed).detainees["delivered_hour"]
        for f, day in b.fraction_days.items():
            reached = _day_reached(hours, max(1, math.ceil(f * b.total - 1e-9)))
            if reached is not None:
                assert day is not None and day <= reached + 1e-9, (seed, f, day, reached)
        for d, most in enumerate(b.delivered_by_day):
            assert np.count_nonzero(hours <= 24.0 * (d + 1)) <= most + 1e-6, (seed, d)


# ----- the release ceiling: programs the release alone rules out are not solved -------------


RELEASES = [{"per_hour": 5},
            {"profile": [{"from_day": 0, "per_hour": 2}, {"from_day": 2, "per_hour": 10}]},
            {"stations": 2, "minutes": 30, "hours_per_day": 10, "start_hour": 6}]


@pytest.mark.parametrize("release", RELEASES)
def test_the_release_ceiling_is_never_below_the_program(release: dict[str, Any]) -> None:
    """What a program delivers by a step never exceeds the release's ceiling there: the
    ceiling may rule steps out only because it is an upper limit (every step of the
    search, with a release that paces deliveries over days)."""
    from sim.planning.bound import _Search, choose_step, release_ceiling
    from sim.planning.network import optimistic

    data = one_leg(n=400, count=2, seats=30, horizon_days=6, prison_kw=QUICK,
                   reception_kw=NO_UNLOAD)
    data["sites"][0]["release"] = release
    opt = optimistic(build(data))
    step = choose_step(opt, 6 * 24.0)
    ceiling = release_ceiling(opt, step)
    search = _Search(opt, step, CONSTRAINTS)
    values = [search.delivered(t) for t in range(0, int(6 * 24 / step), 4)]
    ceilings = [ceiling(t) for t in range(0, int(6 * 24 / step), 4)]
    assert all(v <= c + 1e-6 for v, c in zip(values, ceilings, strict=True))
    assert any(c < 400 for c in ceilings)  # the release does pace this case


@pytest.mark.parametrize("release", RELEASES)
def test_the_release_ceiling_finds_the_same_days_with_fewer_programs(
    release: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same days, daily values and step with the ceiling as without it; fewer programs."""
    from sim.planning import bound

    data = one_leg(n=400, count=2, seats=30, horizon_days=6, prison_kw=QUICK,
                   reception_kw=NO_UNLOAD)
    data["sites"][0]["release"] = release
    s = build(data)
    quick, full = lower_bound(s, quick=True), lower_bound(s)
    monkeypatch.setattr(bound, "release_ceiling", lambda opt, step: None)
    quick_all, full_all = lower_bound(s, quick=True), lower_bound(s)
    assert quick.fraction_days == quick_all.fraction_days
    assert (full.fraction_days, full.step_hours) == (full_all.fraction_days, full_all.step_hours)
    assert full.delivered_by_day == pytest.approx(full_all.delivered_by_day, rel=1e-9)
    assert quick.programs_solved < quick_all.programs_solved
    assert full.programs_solved <= full_all.programs_solved


def test_a_release_too_slow_for_the_horizon_needs_no_program() -> None:
    """400 detainees handed over at 1 an hour over a 3-day horizon: at most 72 can leave,
    so no day reaches everyone, and no program is solved to say so."""
    data = one_leg(n=400, count=2, seats=30, horizon_days=3, prison_kw=QUICK,
                   reception_kw=NO_UNLOAD)
    data["sites"][0]["release"] = {"per_hour": 1}
    b = lower_bound(build(data), fractions=(1.0,), quick=True)
    assert b.day_for(1.0) is None
    assert b.programs_solved == 0


def test_without_the_release_constraint_the_ceiling_is_not_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A caller's constraints without ``release_rates``: the programs may deliver more than
    the release, so the search solves them (the bound then reaches everyone)."""
    from sim.planning import bound

    data = one_leg(n=400, count=2, seats=30, horizon_days=3, prison_kw=QUICK,
                   reception_kw=NO_UNLOAD)
    data["sites"][0]["release"] = {"per_hour": 1}
    others = [c for c in CONSTRAINTS if c is not bound.release_rates]
    b = lower_bound(build(data), fractions=(1.0,), quick=True, constraints=others)
    assert b.day_for(1.0) is not None and b.programs_solved > 0


def test_progress_counts_the_search_programs_then_the_days() -> None:
    """``progress``: one call per program of the search (no total), then one per day of
    the daily values, up to the horizon's days; the quick bound has no daily values."""
    data = one_leg(n=400, count=2, seats=30, horizon_days=4, prison_kw=QUICK,
                   reception_kw=NO_UNLOAD)
    data["sites"][0]["release"] = {"per_hour": 5}
    s = build(data)
    calls: list[tuple[str, int, int | None]] = []
    quick = lower_bound(s, quick=True, progress=lambda *a: calls.append(a))
    assert calls == [("search", k, None) for k in range(1, quick.programs_solved + 1)]
    calls.clear()
    full = lower_bound(s, progress=lambda *a: calls.append(a))
    stages = [c[0] for c in calls]
    searched = stages.count("search")
    assert stages == ["search"] * searched + ["daily values"] * 4
    assert [c[1] for c in calls[:searched]] == list(range(1, searched + 1))
    assert calls[searched:] == [("daily values", d, 4) for d in range(1, 5)]
    assert searched >= 1 and full.day_for(1.0) == lower_bound(s).day_for(1.0)


def test_a_network_with_many_movements_gets_fewer_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The step grows until movements x steps fits ``MAX_MOVEMENT_STEPS`` (one program
    stays small); with room to spare the step is the one the movements' times ask."""
    from sim.planning import bound
    from sim.planning.network import optimistic

    opt = optimistic(sim.load_scenario("baseline"))
    horizon = 45 * 24.0
    assert bound.choose_step(opt, horizon) == 6.0  # 180 steps x 142 movements fits
    monkeypatch.setattr(bound, "MAX_MOVEMENT_STEPS", len(opt.movements) * 60)
    step = bound.choose_step(opt, horizon)
    assert step == 24.0 and horizon / step <= 60  # 12 h would be 90 steps
    monkeypatch.setattr(bound, "MAX_MOVEMENT_STEPS", len(opt.movements) * 100)
    assert bound.choose_step(opt, horizon) == 12.0


def test_a_bound_past_its_time_limit_says_so_in_the_gap() -> None:
    """No time left: ``BoundTimeout`` before any program; the quick bound of ``run`` then
    reports that it was not computed rather than a day, and rules nothing out."""
    from sim.planning.bound import BoundTimeout
    from sim.planning.gap import TIMED_OUT, gap_for, gap_line

    s = sim.load_scenario("baseline")
    with pytest.raises(BoundTimeout, match="not computed within 1e-09 s"):
        lower_bound(s, fractions=(1.0,), quick=True, time_limit=1e-9)
    gap = gap_for(TIMED_OUT, [24.5])
    assert gap is not None and gap["bound_day"] is None and gap["ratio"] is None
    assert gap["simulated_day"] == 24.5 and gap["not_computed"].startswith("timed out after")
    line = gap_line(gap)
    assert line is not None and line.startswith("bound: not computed (timed out after ")
    assert lower_bound(s, fractions=(1.0,), quick=True, time_limit=600).day_for(1.0) == \
        lower_bound(s, fractions=(1.0,), quick=True).day_for(1.0)
