"""Sortie generation (operating windows, sorties per day, mission-capable rate) and escorts.

Exact tiny cases on ``tiny_scenarios.one_leg``: prison ``p`` one hour from reception ``r``,
one helicopter based at ``p``, 30 seats. With 2 min per detainee to load, 1 min to unload
and 30 min of turnaround, a full mission takes 1 h loading + 1 h flight + 0.5 h unloading
+ 0.5 h turnaround = 3 h; the second one (20 detainees) starts with a 1 h empty flight back.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import simpy
from tiny_scenarios import check_conservation, one_leg, run_checked, scenario

import sim
from sim.common.rng import Streams
from sim.common.vocabulary import EventKind
from sim.core.availability import Availability, window_wait
from sim.core.escorts import Escorts
from sim.scenario.checks import cross_check
from sim.scenario.loader import ScenarioError, build, set_path
from sim.scenario.params import RuntimeParams, check_param_path
from sim.scenario.schema import Scenario


def timed(type_kw: dict[str, Any] | None = None, n: int = 50, **top: Any) -> dict[str, Any]:
    return one_leg(
        n=n, horizon_days=5, type_kw=type_kw,
        prison_kw={"load_min_per_detainee": 2.0}, reception_kw={"unload_min_per_detainee": 1.0},
        **top,
    )


run = run_checked  # run a tiny scenario and check conservation


def dispatches(res: sim.results.Result) -> list[tuple[float, int]]:
    return [(round(e.time, 9), e.n) for e in res.events if e.kind == EventKind.DISPATCH]


def loads(res: sim.results.Result) -> list[int]:
    return [e.n for e in res.events if e.kind == EventKind.LOAD]


# ----- operating windows -------------------------------------------------------------------


def test_window_holds_missions_until_it_opens_and_lets_one_under_way_finish() -> None:
    """Window 06:00-07:00. Nothing starts at hour 0; the first mission starts at 6, loads
    to 7 (the close) and is flown to the end (arrive 8, unload 8.5, turnaround to 9). The
    second waits for the next opening, day 1 at 06:00 = hour 30."""
    res = run(timed({"operating_start_hour": 6, "operating_hours": 1}))
    assert dispatches(res) == [(6.0, 30), (30.0, 20)]
    arrive = [e.time for e in res.events if e.kind == EventKind.ARRIVE]
    assert arrive[0] == pytest.approx(8.0)  # past the close: a mission under way finishes
    assert res.daily[0]["aircraft_resting"] == 1  # off duty at the end of day 0
    assert res.kpis["delivered"] == 50


def test_night_window_of_a_mode_runs_past_midnight() -> None:
    """Rotary window 22:00-02:00 (a mode's window). Hour 0 is inside it: the first mission
    starts at 0 and ends at 3, outside; the second starts at 22."""
    res = run(timed(operating_windows={"rotary": {"start_hour": 22, "hours": 4}}))
    assert dispatches(res) == [(0.0, 30), (22.0, 20)]


def test_a_types_hours_take_precedence_over_its_modes_field_by_field() -> None:
    """Mode window 22:00 for 4 h; the type opens at 06:00 and keeps the mode's 4 h:
    06:00-10:00. Missions at 6 and at 9 (6 + 3 h), both inside."""
    res = run(timed({"operating_start_hour": 6},
                    operating_windows={"rotary": {"start_hour": 22, "hours": 4}}))
    assert dispatches(res) == [(6.0, 30), (9.0, 20)]


def test_a_rule_that_opens_the_window_frees_held_vehicles_at_once() -> None:
    """Window 06:00-07:00; at hour 3 a rule opens it all day (24 h): the vehicle held
    until 6 starts at 3, and the second mission follows at 6 (3 + 3 h)."""
    rule = {"name": "night flying", "when": {"day": 0.125},
            "then": [{"set_param": {"path": "aircraft.h.operating_hours", "value": 24}}]}
    res = run(timed({"operating_start_hour": 6, "operating_hours": 1}, triggers=[rule]))
    assert dispatches(res) == [(3.0, 30), (6.0, 20)]


def test_window_wait_hours() -> None:
    """Hours until a window is open: 0 inside, up to the next opening outside."""
    assert window_wait(5.0, 6.0, 12.0) == 1.0
    assert window_wait(6.0, 6.0, 12.0) == 0.0
    assert window_wait(18.0, 6.0, 12.0) == 12.0  # the close itself is outside
    assert window_wait(43.0, 6.0, 12.0) == 11.0  # day 1, 19:00 -> day 2, 06:00
    assert window_wait(1.5, 22.0, 4.0) == 0.0  # past midnight, inside
    assert window_wait(30.0 - 1e-12, 6.0, 1.0) == 0.0  # at the opening, up to rounding
    assert window_wait(13.0, 6.0, 24.0) == 0.0  # 24 h: always open


# ----- sorties per day ----------------------------------------------------------------------


def test_sorties_per_day_hold_the_second_mission_to_the_next_day() -> None:
    """One mission a day: 30 at hour 0 (ends at 3), the other 20 at midnight, hour 24."""
    res = run(timed({"max_sorties_per_day": 1}))
    assert dispatches(res) == [(0.0, 30), (24.0, 20)]
    assert res.daily[0]["aircraft_resting"] == 1
    two = run(timed({"max_sorties_per_day": 2}))
    assert dispatches(two) == [(0.0, 30), (3.0, 20)]


# ----- mission-capable rate -----------------------------------------------------------------


def test_mission_capable_rate_draws_per_vehicle_and_day() -> None:
    """Seed 2, rate 0.5. The vehicle's draws for days 0-3 are 0.880, 0.711, 0.300, 0.230:
    not capable on days 0 and 1 (in maintenance at their ends), capable on day 2, where
    both missions fly: hour 48 (30) and 51 (20)."""
    u = Streams(2)["availability:h-01"].random(6)
    assert np.round(u[:4], 3).tolist() == [0.88, 0.711, 0.3, 0.23]
    res = run(timed({"mission_capable_rate": 0.5}), seed=2)
    assert dispatches(res) == [(48.0, 30), (51.0, 20)]
    assert [row["aircraft_maintenance"] for row in res.daily[:3]] == [1, 1, 0]


def test_a_rule_raises_the_mission_capable_rate() -> None:
    """Rate 0: nobody flies until a rule sets it to 1 on day 1; missions at 24 and 27."""
    rule = {"name": "repaired", "when": {"day": 1},
            "then": [{"set_param": {"path": "aircraft.h.mission_capable_rate", "value": 1}}]}
    res = run(timed({"mission_capable_rate": 0}, triggers=[rule]))
    assert dispatches(res) == [(24.0, 30), (27.0, 20)]


class Asker:
    def __init__(self, name: str, rate: float) -> None:
        self.name, self.mode = name, "rotary"
        self.p: dict[str, Any] = {"mission_capable_rate": rate}


def test_capable_days_depend_only_on_the_vehicle_and_grow_with_the_rate() -> None:
    """Common random numbers: a vehicle's capable days do not depend on who else asks or
    in which order, and a higher rate keeps every day a lower one had."""
    s = scenario(one_leg(horizon_days=60))

    def days(rate: float, others_first: bool) -> set[int]:
        a = Availability(s, Streams(7), simpy.Environment(), RuntimeParams(s))
        if others_first:
            for d in range(60):
                a.capable(Asker("h-02", 0.5), d)
        return {d for d in range(60) if a.capable(Asker("h-01", rate), d)}

    low, high = days(0.3, False), days(0.6, True)
    assert low == days(0.3, True)
    assert low < high
    assert 0 < len(low) < len(high) < 60


# ----- escorts -------------------------------------------------------------------------------


def test_guards_take_seats() -> None:
    """0.25 guards per standard detainee in 30 seats: 24 detainees + 6 guards fit, 25 would
    need 25 + ceil(6.25) = 32. 50 detainees go as 24, 24, 2."""
    res = run(timed(escort_guards_per_detainee={"standard": 0.25}))
    assert loads(res) == [24, 24, 2]
    assert res.kpis["delivered"] == 50


def test_high_risk_detainees_take_more_seats() -> None:
    """4 high (2 guards each) and 46 standard (0.25 each); the high ones board first.
    First batch: 4 high + k standard with 4 + k + ceil(8 + k/4) <= 30, so k + ceil(k/4) <= 18:
    k = 14 (14 + 4 = 18), 18 in all with 12 guards. Then 32 standard: 24, then 8."""
    data = timed(escort_guards_per_detainee={"high": 2, "standard": 0.25})
    data["sites"][0]["detainees"] = {"high": 4, "standard": 46}
    assert loads(run(data)) == [18, 24, 8]


def test_escort_batches() -> None:
    """Prefixes that fit: a category left out needs no guard; sums are whole when exact."""
    e = Escorts(np.array([2.0, 0.25, 0.1, 0.0]))
    assert e.batch(np.array([0, 1, 1, 1, 1, 1]), 6) == 3  # 3 + ceil(2.5) = 6
    assert e.batch(np.full(10, 2), 11) == 10  # 10 x 0.1 = 1 guard, not 2
    assert e.batch(np.full(40, 3), 30) == 30
    assert e.batch(np.array([0]), 2) == 0  # one high-risk detainee needs 3 seats


# ----- waves -----------------------------------------------------------------------------------


def two_helicopters(wave: dict[str, Any] | None) -> list[tuple[float, str, int]]:
    data = timed({"wave": wave} if wave else None, n=90, count=2)
    res = run(data)
    return [(round(e.time, 9), e.subject, e.n) for e in res.events if e.kind == EventKind.DISPATCH]


def test_a_wave_leaves_together() -> None:
    """Two helicopters at ``p``, one pad, 90 detainees. Both are ready at 0 and leave at
    once: the last to join (h-02) first, so h-02 loads 0-1 and h-01 1-2; h-02 is ready at
    ``r`` at 3, h-01 at 4. On their own, the first back (h-01 without waves) leaves at 3
    for the last 30; in a wave of 2, h-02 waits at ``r`` for h-01, which completes the wave
    at 4 and takes the 30 (h-02 finds nothing left)."""
    assert two_helicopters(None) == [(0.0, "h-01", 30), (0.0, "h-02", 30), (3.0, "h-01", 30)]
    assert two_helicopters({"size": 2}) == [(0.0, "h-02", 30), (0.0, "h-01", 30),
                                            (4.0, "h-01", 30)]


def test_a_wave_waits_at_most_its_limit_and_never_for_more_than_the_fleet() -> None:
    """Waiting at most 0.5 h, h-02 leaves alone at 3.5. A wave of 3 with two helicopters in
    service leaves with both, as a wave of 2 does."""
    assert two_helicopters({"size": 2, "max_wait_hours": 0.5})[-1] == (3.5, "h-02", 30)
    assert two_helicopters({"size": 3}) == two_helicopters({"size": 2})


def test_a_join_counts_the_type_in_service_only_as_far_as_it_needs() -> None:
    """``Waves._in_service_beyond``: whether more than ``count`` vehicles of the type are in
    service now (entered, not withdrawn), whatever the order of the fleet; vehicles of other
    types, not yet in service or withdrawn do not count."""
    from sim.core.tasked import Tasked
    from sim.core.waves import Waves

    env = simpy.Environment(initial_time=10.0)

    def vehicle(type_name: str, available_at: float, withdraw_at: float) -> Tasked:
        v = Tasked()
        v.type_name, v.available_at, v.withdraw_at = type_name, available_at, withdraw_at
        return v

    fleet = [vehicle("h", 20.0, np.inf), vehicle("h", 0.0, np.inf), vehicle("c", 0.0, np.inf),
             vehicle("h", 0.0, 5.0), vehicle("h", 10.0, 30.0), vehicle("h", 0.0, 10.0)]
    waves = Waves(scenario(one_leg(n=10)), env, fleet)
    in_service = 2  # the second and the fifth: one enters at 10, the last leaves at 10
    for count in range(5):
        assert waves._in_service_beyond("h", count) == (in_service > count)
    fleet.append(vehicle("h", 0.0, np.inf))  # the fleet grows: the join sees it
    assert waves._in_service_beyond("h", 2)
    assert not waves._in_service_beyond("c", 1) and waves._in_service_beyond("c", 0)


# ----- defaults, schema, --set and rules ---------------------------------------------------


def test_neutral_values_give_the_same_run_as_the_defaults() -> None:
    """A window of 24 h, no sortie limit, rate 1 and zero guards change nothing."""
    base = timed()
    neutral = timed({"operating_start_hour": 5, "operating_hours": 24, "mission_capable_rate": 1},
                    escort_guards_per_detainee={"standard": 0},
                    operating_windows={"rotary": {"start_hour": 0, "hours": 24}})
    a, b = run(base), run(neutral)
    assert a.events == b.events
    assert a.kpis["sim_events"] == b.kpis["sim_events"]


def test_fields_are_in_the_schema_and_settable() -> None:
    text = str(Scenario.model_json_schema(by_alias=True))
    for name in ("operating_start_hour", "operating_hours", "max_sorties_per_day",
                 "mission_capable_rate", "operating_windows", "escort_guards_per_detainee",
                 "wave", "max_wait_hours"):
        assert name in text
    s = scenario(timed())
    for f in ("operating_start_hour", "operating_hours", "max_sorties_per_day",
              "mission_capable_rate"):
        assert check_param_path(s, f"aircraft.h.{f}") is None
    data = copy.deepcopy(timed())
    set_path(data, "escort_guards_per_detainee.standard", 0.5)
    set_path(data, "aircraft.h.max_sorties_per_day", 3)
    set_path(data, "aircraft.h.wave.size", 4)
    s = build(data)
    assert s.aircraft["h"].wave is not None and s.aircraft["h"].wave.size == 4
    assert s.escort_guards_per_detainee == {"standard": 0.5}
    assert s.aircraft["h"].max_sorties_per_day == 3


def test_bad_values_are_refused() -> None:
    with pytest.raises(ScenarioError, match="mission_capable_rate"):
        build(timed({"mission_capable_rate": 1.5}))
    with pytest.raises(ScenarioError, match="size"):
        build(timed({"wave": {"size": 1}}))
    with pytest.raises(ScenarioError, match="operating_hours"):
        build(timed({"operating_hours": 0}))
    bad = Scenario.model_validate(timed(escort_guards_per_detainee={"hgh": 1}))
    assert any("unknown risk category 'hgh'" in msg for _, msg in cross_check(bad))
    rule = {"name": "r", "when": {"day": 1},
            "then": [{"set_param": {"path": "aircraft.h.max_sorties_per_day", "value": 0}}]}
    with pytest.raises(ScenarioError, match="max_sorties_per_day"):
        build(timed(triggers=[rule]))


def test_a_type_too_small_for_a_detainee_and_guards_is_warned_about() -> None:
    """Two guards per high-risk detainee: one needs 3 seats, and a 2-seat type never fits."""
    data = timed(escort_guards_per_detainee={"high": 2}, seats=2)
    data["sites"][0]["detainees"] = {"high": 1, "standard": 3}
    warned: list[str] = []
    build(data, warned)
    assert any("'h' has 2 seats" in w and "'high'" in w for w in warned)
    data["aircraft"]["h"]["seats"] = 3
    warned.clear()
    build(data, warned)
    assert not any("seats" in w for w in warned)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_shipped_baseline_with_every_limit_on_conserves_detainees(seed: int) -> None:
    """Windows, sorties per day, mission-capable rates, escorts and convoys together: every
    detainee is in exactly one state, and nobody boards outside a window or an MC day."""
    from pathlib import Path

    from sim.scenario.loader import load_scenario

    root = Path(__file__).resolve().parents[2]
    s = load_scenario(root / "scenarios" / "baseline.yaml", [
        "operating_windows={rotary: {start_hour: 7.5, hours: 10}}",
        "aircraft.ch47.mission_capable_rate=0.75", "aircraft.uh60.max_sorties_per_day=3",
        "escort_guards_per_detainee={high: 1, standard: 0.25}", "aircraft.bus.wave={size: 4}",
    ])
    res = sim.run(s, seed)
    check_conservation(res)
    starts = [e for e in res.events if e.kind == EventKind.DISPATCH
              and e.subject.startswith(("ch47", "uh60"))]
    assert starts and all(window_wait(e.time, 7.5, 10.0) == 0.0 for e in starts)
    per_day: dict[tuple[str, int], int] = {}
    for e in starts:
        if e.subject.startswith("uh60"):
            key = (e.subject, int(e.time // 24))
            per_day[key] = per_day.get(key, 0) + 1
    assert max(per_day.values()) <= 3
