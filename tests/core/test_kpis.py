"""KPIs that cannot reward losing people: delivery fractions and days, deadline success on a
target share, utilisation up to the end of the operation, the daily peak occupancy.

Every flight in these scenarios lasts one hour (``tiny_scenarios.DEG_KM``).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tiny_scenarios import (
    aircraft_type,
    check_conservation,
    leg,
    one_leg,
    prison,
    reception,
    scenario,
)

import sim
from sim.core.results import (
    TargetError,
    check_target,
    day_to_target,
    deadline_met,
    people_lost,
)

QUICK = {"load_min_per_detainee": 0}  # no loading time: each leg is exactly its flight


def _shuttle(n: int = 50, horizon_days: int = 5) -> sim.results.Result:
    """One 10-seat helicopter based at the prison, no loading or unloading time, 30 min turnaround."""
    data = one_leg(n=n, seats=10, count=1, horizon_days=horizon_days, prison_kw=QUICK,
                   reception_kw={"unload_min_per_detainee": 0})
    res = sim.run(scenario(data), 1)
    check_conservation(res)
    return res


def test_delivery_fractions_and_days_by_hand() -> None:
    """50 people, 10 a sortie: deliveries at hours 1, 3.5, 6, 8.5 and 11.

    The first sortie leaves at once (1 h flight); each later one adds the 30 min turnaround,
    the 1 h empty flight back and the 1 h loaded flight: a 2.5 h cycle. Half (25) arrive with
    the third sortie at hour 6 (day 0.25); 90% (45) and all with the fifth at hour 11
    (day 11/24 = 0.458).
    """
    k = _shuttle().kpis
    assert k["in_custody_at_start"] == 50 and k["delivered_fraction"] == 1.0
    assert (k["day_to_50"], k["day_to_90"], k["day_to_100"]) == (0.25, 0.458, 0.458)
    assert k["prisons_cleared_day"] == 0.458
    assert k["delivery_days"][:20] == [round(1 / 24, 3)] * 20  # 1..20%: the first 10
    assert k["delivery_days"][20] == round(3.5 / 24, 3)  # 21% needs the 11th person
    assert day_to_target(k, 0.5) == 0.25 and day_to_target(k, 0.2) == round(1 / 24, 3)
    assert deadline_met(k, 0.458, 1.0) and not deadline_met(k, 0.45, 1.0)
    assert deadline_met(k, 0.25, 0.5) and not deadline_met(k, 0.24, 0.5)


def test_a_day_never_reached_is_missing() -> None:
    """250 people, a one-day horizon: sorties land at hours 1, 3.5, ..., 23.5 (ten of them;
    the eleventh would land at hour 26), so 100 of 250 (40%) are delivered. 40% is reached
    with the tenth (day 23.5/24 = 0.979); 50% never is: ``day_to_50`` and the later days are
    None (null in JSON), as is the prisons-cleared day."""
    data = one_leg(n=250, seats=10, count=1, horizon_days=1, prison_kw=QUICK,
                   reception_kw={"unload_min_per_detainee": 0})
    k = sim.run(scenario(data), 1).kpis
    assert k["delivered"] == 100 and k["delivered_fraction"] == 0.4
    assert day_to_target(k, 0.4) == 0.979 and day_to_target(k, 0.41) is None
    assert k["day_to_50"] is None and k["day_to_90"] is None and k["day_to_100"] is None
    assert k["prisons_cleared_day"] is None
    assert deadline_met(k, None, 0.4) and not deadline_met(k, None, 0.5)


def _pair(n_safe: int = 40, n_lost: int = 40, **front: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Prison ``a`` (1 degree north of the reception) and ``b`` (2 degrees north), one
    helicopter; the second scenario adds a front that comes down from 22 km north of ``b`` and stops
    at ``b``, so it can overrun ``b`` and never reaches ``a`` (111 km away)."""
    base: dict[str, Any] = {
        "name": "pair",
        "start": "2026-01-01",
        "horizon_days": 6,
        "sites": [prison("a", 1.0, n_safe, **QUICK), prison("b", 2.0, n_lost, **QUICK),
                  reception("r", 0.0)],
        "legs": [leg("a", "r"), leg("b", "r")],
        "aircraft": {"h": aircraft_type(seats=10)},
        "fleet": [{"type": "h", "count": 1, "base": "r"}],
    }
    lost = {**base, "escalation": {"fronts": [{
        "path": [[2.2, 40.0], [2.0, 40.0]], "start_day": front.get("start_day", 0.0),
        "speed_km_per_day": front.get("speed", 200.0), "threat_radius_km": 30.0,
        "overrun_radius_km": 15.0}]}}
    return base, lost


def test_losing_a_prison_clears_it_earlier_but_never_counts_as_success() -> None:
    """The front reaches ``b`` within the first day and everyone held there escapes. The
    prisons are then cleared earlier than when everyone is flown out, but nobody reaches
    100%, and no deadline is met (the old ``completion_day`` called this finishing early)."""
    base, lost = (sim.run(scenario(d), 3).kpis for d in _pair())
    assert people_lost(lost) > 0 and people_lost(base) == 0
    assert lost["prisons_cleared_day"] < base["prisons_cleared_day"]
    assert base["day_to_100"] == base["prisons_cleared_day"]
    assert lost["day_to_100"] is None
    assert lost["delivered_fraction"] < 1.0 == base["delivered_fraction"]
    for day in (base["day_to_100"], 6.0):
        assert deadline_met(base, day, 1.0) and not deadline_met(lost, day, 1.0)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(n_safe=st.integers(5, 60), n_lost=st.integers(5, 60), count=st.integers(1, 3),
       seats=st.sampled_from([5, 10, 30]), start_day=st.floats(-0.2, 0.3),
       speed=st.floats(40.0, 300.0), cv=st.sampled_from([0.0, 0.3]),
       seed=st.integers(0, 2**32 - 1))
def test_a_lost_prison_never_looks_faster_or_more_successful(
        n_safe: int, n_lost: int, count: int, seats: int, start_day: float, speed: float,
        cv: float, seed: int) -> None:
    """Common random numbers (same seed, the front the only difference): a run that loses
    people never has an earlier ``day_to_100`` or success day, nor meets a deadline the run
    without the loss misses, for a target of 100% or any target above the share it kept."""
    base_data, lost_data = _pair(n_safe, n_lost, start_day=start_day, speed=speed)
    for d in (base_data, lost_data):
        d["aircraft"]["h"].update(seats=seats, flight_time_cv=cv)
        d["fleet"][0]["count"] = count
    base, lost = (sim.run(scenario(d), seed).kpis for d in (base_data, lost_data))
    assume(people_lost(lost) > 0)
    total = n_safe + n_lost
    kept = 1 - people_lost(lost) / total
    assert lost["day_to_100"] is None  # never reached, so never earlier than the base run's
    targets = [1.0, *(p / 100 for p in range(1, 101) if p / 100 > kept + 1e-9)]
    for target in targets:
        assert day_to_target(lost, target) is None
        for deadline in (None, 1.0, 3.0, 6.0):
            assert deadline_met(lost, deadline, target) <= deadline_met(base, deadline, target)


def test_a_lost_prison_lowers_the_deadline_probability() -> None:
    """Over the same seeds the run without the front meets the day-6 deadline in every
    replication and the run that loses ``b`` in none; the old completion day was the
    earlier of the two in every pair."""
    from sim.experiments.replication import compare

    base, lost = (scenario(d) for d in _pair())
    cmp = compare(base, lost, 4, seed=1, jobs=1, deadline_day=6.0)
    assert cmp.a.probabilities["complete_by_deadline"]["p"] == 1.0
    assert cmp.b.probabilities["complete_by_deadline"]["p"] == 0.0
    assert cmp.differences["prisons_cleared_day"]["mean_diff"] < 0  # cleared earlier, by loss


@pytest.mark.parametrize("bad", [0.0, -0.5, 1.01, math.nan, math.inf, 0.955])
def test_a_target_outside_whole_percents_of_0_to_1_is_refused(bad: float) -> None:
    with pytest.raises(TargetError, match="--target"):
        check_target(bad)


# ----- utilisation ----------------------------------------------------------------------


def test_utilisation_counts_up_to_the_end_of_the_operation_by_hand() -> None:
    """30 people, one helicopter at the prison: missions [0, 1.5], [1.5, 4] and [4, 6.5] h
    (dispatch to end of turnaround), deliveries at hours 1, 3.5 and 6.

    The operation ends with the last delivery at hour 6: 6 available hours, all busy
    (the last turnaround, 6 to 6.5, is after the end): utilisation 1. Flying: 1 + 2 + 2 = 5 h
    of 6, 0.8333. Counted up to the 5-day horizon instead, the same fleet would score 6.5/120.
    """
    res = _shuttle(n=30)
    assert sorted(set(res.detainees["delivered_hour"].tolist())) == [1.0, 3.5, 6.0]
    assert res.kpis["fleet_utilization"] == 1.0
    assert res.kpis["flying_hours_per_available_hour"] == 0.8333


def _fleet(intake: int | None) -> dict[str, Any]:
    data = one_leg(n=100, seats=10, count=3, pads=3, horizon_days=15,
                   reception_kw={"pads": 3, **({"daily_intake_limit": intake} if intake else {})})
    return sim.run(scenario(data), 1).kpis


def test_a_fleet_that_works_hard_and_finishes_early_scores_at_least_as_high() -> None:
    """Three helicopters move 100 people in ten sorties on day 0; with an intake limit of
    15 a day the same fleet needs 13 sorties (a 5-seat remainder each day) over seven days
    and idles in between. Counted to the horizon, the throttled fleet looked busier
    (32 busy hours against 24.5, of the same 1,080: 0.030 against 0.023); counted to the
    end of the operation, the hard-working fleet scores far higher."""
    hard, throttled = _fleet(None), _fleet(15)
    assert hard["prisons_cleared_day"] < 1 < 6 < throttled["prisons_cleared_day"]
    assert sum(throttled["sorties"].values()) > sum(hard["sorties"].values())
    assert hard["fleet_utilization"] >= throttled["fleet_utilization"]
    assert hard["fleet_utilization"] > 0.8 > 0.1 > throttled["fleet_utilization"]
    assert hard["flying_hours_per_available_hour"] > throttled["flying_hours_per_available_hour"]
    for k in (hard, throttled):
        assert 0 < k["flying_hours_per_available_hour"] <= k["fleet_utilization"] <= 1
