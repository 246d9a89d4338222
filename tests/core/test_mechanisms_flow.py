"""Flow mechanisms: release at the origin, pull through staging, custody outcomes at an overrun.

Geometry (``tiny_scenarios``): sites on the meridian 40 E, one degree of latitude
apart, and a cruise speed of ``DEG_KM`` km/h, so every such flight lasts one hour.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from tiny_scenarios import (
    aircraft_type,
    check_conservation,
    leg,
    one_leg,
    prison,
    reception,
    run_checked,
    scenario,
)

import sim
from sim.common.vocabulary import EventKind
from sim.core.model import Model
from sim.core.release import inverse_cumulative, ready_hours
from sim.scenario.loader import ScenarioError, with_overrides
from sim.scenario.schema import Release, Scenario

run = run_checked  # run a tiny scenario and check conservation


def quick(**kw: Any) -> dict[str, Any]:
    """No handling time anywhere: loading, unloading and turnaround take 0 minutes."""
    data = one_leg(prison_kw={"load_min_per_detainee": 0.0, **kw.pop("prison_kw", {})},
                   reception_kw={"unload_min_per_detainee": 0.0},
                   type_kw={"turnaround_min": 0.0}, **kw)
    return data


# ----- release at the origin ------------------------------------------------------------
def test_inverse_cumulative_by_hand() -> None:
    """2/h until hour 10 (20 people), nothing until hour 20, then 1/h: the 20th is ready
    at 10, the 21st at 21; a profile starting at hour 5 has the 1st ready at 5.5."""
    steps = [(0.0, 2.0), (10.0, 0.0), (20.0, 1.0)]
    got = inverse_cumulative(steps, np.array([1.0, 20.0, 21.0, 22.5]))
    assert got.tolist() == [0.5, 10.0, 21.0, 22.5]
    assert inverse_cumulative([(5.0, 2.0)], np.array([1.0])).tolist() == [5.5]
    # past the last positive rate nobody is handed over
    assert inverse_cumulative([(0.0, 1.0), (3.0, 0.0)], np.array([3.0, 4.0])).tolist() == [3.0,
                                                                                         math.inf]


def test_station_release_by_hand() -> None:
    """Two stations, 30 min each, always open: people ready at 0.5, 0.5, 1, 1, 1.5 h.
    One station, 60 min, a 2-hour shift from 06:00: ready at 7, 8, then 31 (next day)."""
    two = Release(stations=2, minutes=30.0)
    assert ready_hours(two, 5, np.random.default_rng(0)).tolist() == [0.5, 0.5, 1.0, 1.0, 1.5]
    shift = Release(stations=1, minutes=60.0, hours_per_day=2, start_hour=6)
    assert ready_hours(shift, 3, np.random.default_rng(0)).tolist() == [7.0, 8.0, 31.0]


def test_rate_release_by_hand() -> None:
    """10 per hour: person k is ready at k/10 h; a profile from day 1 at 4/h: 24.25, 24.5."""
    assert ready_hours(Release(per_hour=10.0), 3, np.random.default_rng(0)).tolist() == \
        pytest.approx([0.1, 0.2, 0.3])
    prof = Release(profile=[{"from_day": 1, "per_hour": 4.0}])  # type: ignore[list-item]
    assert ready_hours(prof, 2, np.random.default_rng(0)).tolist() == [24.25, 24.5]


def test_poisson_release_has_the_rate() -> None:
    """Poisson hand-overs at 10/h: 20,000 gaps average 0.1 h (sd of the mean 0.0007 h)."""
    hours = ready_hours(Release(per_hour=10.0, poisson=True), 20_000, np.random.default_rng(5))
    gaps = np.diff(np.concatenate([[0.0], hours]))
    assert np.all(gaps > 0) and len(set(gaps.round(9))) > 1000  # random, not evenly spaced
    assert gaps.mean() == pytest.approx(0.1, abs=0.004)


def test_release_fills_the_pickup_queue_over_time() -> None:
    """20 held at ``p``, handed over at 10 an hour (person k ready at k/10 h, the last at 2 h).

    A helicopter of 30 seats waits at ``r``; no handling time. The first hand-over (0.1 h)
    sends it for that one person: at ``p`` at 1.1, delivered at 2.1. Back at ``r`` at 2.1 it
    is sent for the other 19 (all ready by 2.0): picked up at 3.1, delivered at 4.1. Waits
    for pickup: 1.0 for the first, 3.1 - k/10 for k = 2..20, in all 39.0, mean 1.95 h.
    Without a release all 20 are picked up at hour 1 (positioning) and delivered at 2.
    """
    data = quick(n=20, seats=30, base="r", prison_kw={"release": {"per_hour": 10}})
    m = Model(scenario(data), 1)
    m.run()
    d = m.transfers.d
    assert d.t_ready.tolist() == pytest.approx([k / 10 for k in range(1, 21)])
    assert sorted(set(np.round(d.t_pickup, 9))) == pytest.approx([1.1, 3.1])
    assert sorted(set(np.round(d.t_delivered, 9))) == pytest.approx([2.1, 4.1])
    assert float(np.mean(d.t_pickup - d.t_ready)) == pytest.approx(1.95)
    res = sim.run(scenario(data), 1)
    check_conservation(res)
    assert res.kpis["delivered"] == 20 and res.kpis["mean_transfer_hours"] == pytest.approx(1.0)
    plain = run(quick(n=20, seats=30, base="r"))
    assert np.allclose(plain.detainees["delivered_hour"], 2.0)


def test_release_before_an_overrun_does_not_bring_back_the_escaped() -> None:
    """Those still being out-processed when their prison is overrun escape with the rest and
    never join the queue: the overrun at about 0.25 h catches all but the first two (ready
    at 0.1 and 0.2 h, but the helicopter is still an hour away)."""
    data = quick(n=20, seats=30, base="r", horizon_days=1, prison_kw={"release": {"per_hour": 10}},
                 escalation={"fronts": [{"name": "f", "path": [[1.5, 40.0], [1.0, 40.0]],
                                         "speed_km_per_day": 200.0 * 24, "threat_radius_km": 10.0,
                                         "overrun_radius_km": 5.0}]})
    res = run(data)
    assert res.kpis["escaped"] == 20 and res.kpis["delivered"] == 0
    assert res.kpis["remaining"] == 0


def test_a_breakout_during_the_release_keeps_the_escaped_out_of_the_queue() -> None:
    """A front stops 22 km short of ``p`` (threatened, never overrun) while 200 people are
    handed over at 10 an hour, and breakouts there take half of those still held. Those who
    escape before their turn are never queued, picked up or delivered, with or without the
    release's shortcut for origins nobody has left (``RELEASE_TRUSTS_NO_LOSS``)."""
    from sim.core import transfers

    data = quick(n=200, seats=30, base="r", horizon_days=3,
                 prison_kw={"release": {"per_hour": 10}},
                 escalation={"fronts": [{"name": "f", "path": [[2.0, 40.0], [1.2, 40.0]],
                                         "speed_km_per_day": 2400.0, "threat_radius_km": 50.0,
                                         "overrun_radius_km": 5.0}],
                             "breakout": {"hazard_per_day": 6.0, "fraction": 0.5}})
    outcomes = []
    for trusted in (True, False):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(transfers, "RELEASE_TRUSTS_NO_LOSS", trusted)
            m = Model(scenario(data), 3)
            m.run()
        d = m.transfers.d
        escaped = np.isfinite(d.t_escaped)
        assert 0 < int(escaped.sum()) < 200
        assert bool((np.isfinite(d.t_escaped) & (d.t_escaped < d.t_ready)).any())
        assert not bool((escaped & np.isfinite(d.t_pickup)).any())
        outcomes.append((d.state.tolist(), repr(d.t_pickup.tolist()), list(m.events)))
    assert outcomes[0] == outcomes[1]


def _origin_queue_case(seed: int) -> Model:
    """4,000 held at ``p``, out-processed by 2 stations with exponential 6-minute service:
    they hand over lambda = 2 x 60 / 6 = 20 people an hour for 200 hours. Four helicopters
    of 30 seats (about 3 h a round trip) can lift about 40 an hour, so the queue is stable."""
    data = one_leg(n=4000, count=4, seats=30, pads=2, horizon_days=12,
                   prison_kw={"load_min_per_detainee": 0.5,
                              "release": {"stations": 2,
                                          "minutes": {"dist": "exponential", "mean": 6.0}}},
                   reception_kw={"pads": 4, "unload_min_per_detainee": 0.5},
                   type_kw={"flight_time_cv": 0.1})
    m = Model(scenario(data), seed)
    m.run()
    return m


def test_littles_law_on_the_origin_queue() -> None:
    """L = lambda W on the pickup queue at the origin, lambda the stations' rate (20 an hour),
    not a rate read off the run. L is the time-average number handed over and not yet picked
    up over hours 24-180 (out-processing runs to about hour 200), W their mean wait. Eight
    seeds; the ratio L / (lambda W) must be 1 within 3.5 standard errors plus 2 %."""
    lam = 20.0
    warm, end = 24.0, 180.0
    ratios = []
    for seed in range(1, 9):
        d = _origin_queue_case(seed).transfers.d
        ready, picked = d.t_ready, d.t_pickup
        assert not np.isnan(picked).any()  # everyone was picked up
        grid = np.linspace(warm, end, 40_001)
        r_sorted, p_sorted = np.sort(ready), np.sort(picked)
        in_queue = (np.searchsorted(r_sorted, grid, side="right")
                    - np.searchsorted(p_sorted, grid, side="right"))
        avg_l = float(in_queue.mean())
        mine = (ready >= warm) & (ready < end)
        wait = float(np.mean(picked[mine] - ready[mine]))
        assert avg_l > 5  # a real queue, not an empty one
        ratios.append(avg_l / (lam * wait))
    r = np.array(ratios)
    half = 3.5 * r.std(ddof=1) / math.sqrt(len(r))
    assert abs(r.mean() - 1.0) <= half + 0.02, (r.mean(), half)


def test_release_is_settable_with_set_and_checked() -> None:
    base = scenario(one_leg(n=20))
    s = with_overrides(base, {"sites.p.release": {"per_hour": 5}})
    assert s.site("p").release == Release(per_hour=5.0)
    with pytest.raises(ScenarioError, match="exactly one of"):
        with_overrides(base, {"sites.p.release": {"per_hour": 5, "stations": 2, "minutes": 3}})
    with pytest.raises(ScenarioError, match="only a prison or camp"):
        with_overrides(base, {"sites.r.release": {"per_hour": 5}})


# ----- pull, not push, through staging --------------------------------------------------
def _staging_case(**top: Any) -> dict[str, Any]:
    """100 held at ``p`` (lat 2); a bus (100 seats, 1 h by road) to the airfield ``a``
    (lat 1); one aircraft of 10 seats flies ``a`` to the reception ``r`` (lat 0, 1 h), which
    clears 10 arrivals a day. No handling time anywhere. The intake sets the pace: 10 are
    delivered each day, on days 0-9, under push and pull alike."""
    return {
        "name": "staging", "start": "2026-01-01", "horizon_days": 12,
        "sites": [prison("p", 2.0, 100, load_min_per_detainee=0.0),
                  {"id": "a", "kind": "airfield", "lat": 1.0, "lon": 40.0,
                   "load_min_per_detainee": 0.0, "unload_min_per_detainee": 0.0},
                  reception("r", 0.0, daily_intake_limit=10, unload_min_per_detainee=0.0)],
        "legs": [leg("p", "a", ["ground"], distance_km=50.0), leg("a", "r", ["fixed_wing"])],
        "aircraft": {"bus": aircraft_type(mode="ground", seats=100, cruise_kmh=50.0,
                                          turnaround_min=0.0),
                     "plane": aircraft_type(mode="fixed_wing", seats=10, turnaround_min=0.0)},
        "fleet": [{"type": "bus", "count": 1, "base": "p"},
                  {"type": "plane", "count": 1, "base": "a"}],
        **top,
    }


def _bus_dispatches(res: sim.results.Result) -> list[tuple[float, int]]:
    return [(e.time, e.n) for e in res.events
            if e.kind == EventKind.DISPATCH and e.subject.startswith("bus")]


def test_push_moves_everyone_to_the_airstrip_at_once() -> None:
    """Push: the bus takes all 100 at hour 0; they wait at ``a`` up to 9 days."""
    res = run(_staging_case(staging="push"))
    assert _bus_dispatches(res) == [(0.0, 100)]
    assert res.kpis["delivered"] == 100
    assert res.kpis["mean_transfer_hours"] == pytest.approx(1 + 1 + 24 * 4.5)  # road, air, wait


def test_pull_moves_only_what_the_onward_intake_clears() -> None:
    """Pull with a 24-hour window (the default): at hour 0 the reception clears today's 10
    and tomorrow's 10, so the bus takes 20. Its first 10 fly on at once (today's clearance);
    the other 10 are tomorrow's. At each midnight one more day enters the window, so the bus
    takes 10 more: 20 + 8 x 10 = 100 by day 8. Deliveries are the same as under push (10 a
    day, days 0-9) but nobody waits at ``a`` for more than a day: the mean transfer time
    is 2 h of travel plus the 10 of each first batch waiting 0 and the others about a day."""
    res = run(_staging_case())
    assert _bus_dispatches(res) == [(0.0, 20)] + [(24.0 * day, 10) for day in range(1, 9)]
    assert res.kpis["delivered"] == 100
    delivered_day = (res.detainees["delivered_hour"] // 24).astype(int)
    assert np.bincount(delivered_day).tolist() == [10] * 10
    push = run(_staging_case(staging="push"))
    assert res.kpis["mean_transfer_hours"] < 0.3 * push.kpis["mean_transfer_hours"]


def test_pull_window_that_is_not_whole_days_wakes_the_bus() -> None:
    """A 6-hour window: at hour 0 only today's 10 are cleared; tomorrow's enter the window at
    hour 18 (24 - 6), when the bus is woken and takes 10 more, and so on every day at 18:00."""
    res = run(_staging_case(staging_clearance_hours=6.0))
    assert _bus_dispatches(res)[:4] == [(0.0, 10), (18.0, 10), (42.0, 10), (66.0, 10)]
    assert res.kpis["delivered"] == 100


def test_pull_with_no_onward_limit_is_push() -> None:
    """A reception without intake limit or beds clears any number: the bus takes all 100."""
    data = _staging_case()
    data["sites"][2].pop("daily_intake_limit")
    assert _bus_dispatches(run(data)) == [(0.0, 100)]


def test_pull_keeps_people_at_the_prison_until_the_reception_opens() -> None:
    """A closed reception clears nobody: nothing moves to ``a`` until a rule opens it (day 2),
    then 20 go at once (that day's 10 and the next day's)."""
    data = _staging_case(triggers=[{"name": "open", "when": {"day": 2},
                                    "then": [{"open_site": "r"}]}])
    data["sites"][2]["open"] = False
    assert _bus_dispatches(run(data))[:2] == [(48.0, 20), (72.0, 10)]


# ----- custody outcomes at an overrun ---------------------------------------------------
def _overrun_case(front_kw: dict[str, Any] | None = None,
                  prison_kw: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    """10 held at ``p``; the helicopter waits at ``r``, an hour away. A front starts 0.5
    degree north of ``p`` and stops on it, moving at 200 km/h: ``p`` is overrun (5 km) at
    about 0.25 h, before anyone is picked up."""
    f = {"name": "f", "path": [[1.5, 40.0], [1.0, 40.0]], "speed_km_per_day": 200.0 * 24,
         "threat_radius_km": 10.0, "overrun_radius_km": 5.0, **(front_kw or {})}
    return one_leg(n=10, seats=10, base="r", horizon_days=1, prison_kw=prison_kw,
                   escalation={"fronts": [f]}, **top)


def _lost(res: sim.results.Result) -> tuple[int, int]:
    return res.kpis["escaped"], res.kpis["custody_transferred"]


def test_overrun_default_is_all_escape() -> None:
    res = run(_overrun_case())
    assert _lost(res) == (10, 0) and res.kpis["delivered"] == 0
    assert not [e for e in res.events if e.kind == EventKind.CUSTODY_TRANSFER]


def test_front_custody_fraction_splits_those_held() -> None:
    """0.3 of 10 pass into custody (3), the other 7 escape; neither is delivered or remains,
    and once the prison is lost nobody counts as held there."""
    res = run(_overrun_case({"custody_fraction": 0.3}))
    assert _lost(res) == (7, 3)
    assert res.kpis["delivered"] == 0 and res.kpis["remaining"] == 0
    assert res.kpis["final_states"]["custody_transferred"] == 3
    kinds = {e.kind: e.n for e in res.events if e.kind in (EventKind.CUSTODY_TRANSFER,
                                                          EventKind.OVERRUN_ESCAPE)}
    assert kinds == {EventKind.CUSTODY_TRANSFER: 3, EventKind.OVERRUN_ESCAPE: 7}
    assert res.daily[0]["held:p"] == 0 and res.kpis["sites"]["p"]["emptied_day"] is not None


def test_site_custody_fraction_wins_over_the_front() -> None:
    res = run(_overrun_case({"custody_fraction": 0.3}, {"overrun_custody_fraction": 1.0}))
    assert _lost(res) == (0, 10)
    assert not [e for e in res.events if e.kind == EventKind.OVERRUN_ESCAPE]


def test_custody_fraction_by_a_rule_and_by_set() -> None:
    """A rule at hour 0 sets the site's share to 0.5 before the overrun (0.25 h): 5 and 5.
    ``--set`` on the front gives 0.25 of 10 = 2.5, rounded half up to 3."""
    rule = {"name": "handover", "when": {"day": 0},
            "then": [{"set_param": {"path": "sites.p.overrun_custody_fraction", "value": 0.5}}]}
    assert _lost(run(_overrun_case(triggers=[rule]))) == (5, 5)
    s = with_overrides(scenario(_overrun_case()),
                       {"escalation.fronts.f.custody_fraction": 0.25})
    res = sim.run(s, 1)
    check_conservation(res)
    assert _lost(res) == (7, 3)


def test_flown_back_to_an_overrun_origin_uses_the_split() -> None:
    """As in ``test_mechanisms_escalation``: both ends are overrun while the 10 are in the
    air, they are flown back to ``p`` and, with the site's share 1.0, taken into custody."""
    f = {"name": "f", "path": [[1.5, 40.0], [-1.0, 40.0]], "speed_km_per_day": 200.0 * 24,
         "threat_radius_km": 10.0, "overrun_radius_km": 5.0}
    data = one_leg(n=10, seats=10, horizon_days=1, prison_kw={"overrun_custody_fraction": 1.0},
                   escalation={"fronts": [f]})
    res = run(data)
    assert [e.kind for e in res.events].count(EventKind.DIVERT) == 1
    assert _lost(res) == (0, 10)


def test_the_new_fields_show_in_the_schema() -> None:
    """What ``dtsim schema`` prints."""
    text = json.dumps(Scenario.model_json_schema(by_alias=True))
    for name in ("release", "overrun_custody_fraction", "custody_fraction", "staging",
                 "staging_clearance_hours", "per_hour", "profile"):
        assert f'"{name}"' in text, name


def test_baseline_al_aqtan_is_taken_over_not_emptied() -> None:
    """The shipped baseline: al-Aqtan (Raqqa) passes into Damascus's custody (the sources
    say the prison was taken), so its detainees are not counted as escaped."""
    res = sim.run(sim.load_scenario("baseline"), 1)
    check_conservation(res)
    assert res.kpis["custody_transferred"] > 250
    assert res.kpis["sites"]["raqqa"]["escaped"] < 50



def test_pull_counts_those_claimed_onward_once() -> None:
    """Loading at ``a`` takes 6 min a person. At hour 1 the bus drops its 20 at ``a`` and
    the aircraft claims 10 of them against today's clearance; it loads them until hour 2.
    At hour 1.5 the reception has cleared 10 - 10 = 0 more today and 10 tomorrow; those 10
    claimed count against the clearance already, so the room at ``a`` is 10 - 10 waiting
    unclaimed = 0 (not 10 - 20 present = -10), and 20 are still physically there."""
    data = _staging_case()
    data["sites"][1]["load_min_per_detainee"] = 6.0
    m = Model(scenario(data), 1)
    m.env.run(until=1.5)
    tr = m.transfers
    assert tr.present["a"] == 20 and len(tr.queue["a"]) == 10
    assert tr.onward_clearance("a", 1.5 + 24.0) == 10
    assert tr.capacity("a") == 0


def test_a_rule_widens_the_pull_window() -> None:
    """At hour 24 a rule sets the window to 30 hours. Then day 2's intake is in the window at
    once (as with 24 hours: the bus takes 10) and day 3's enters it at 72 - 30 = 42 h, when
    the bus is woken and takes 10 more, then every day at 18:00 (without the rule: 48, 72)."""
    rule = {"name": "widen", "when": {"day": 1},
            "then": [{"set_param": {"path": "staging_clearance_hours", "value": 30}}]}
    res = run(_staging_case(triggers=[rule]))
    assert _bus_dispatches(res)[:4] == [(0.0, 20), (24.0, 10), (42.0, 10), (66.0, 10)]
    bad = _staging_case(triggers=[{**rule, "then": [{"set_param": {
        "path": "staging_clearance_hours", "value": -1}}]}])
    with pytest.raises(ScenarioError, match="staging_clearance_hours"):
        scenario(bad)
