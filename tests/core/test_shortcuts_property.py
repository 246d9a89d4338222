"""The run's shortcuts change no result, on generated scenarios as on the shipped ones.

A run takes six shortcuts that must not change what it computes:

- it stops the event loop once settled and fills in the remaining days
  (``model.STOP_WHEN_SETTLED``);
- rule and closure checks run only at the grid points where they may act
  (``CheckGrid.due``), and a closed leg is looked at again only once its front can
  have travelled the margin to reopen it (``Hazards.closure_next_check``);
- a wake-up skips the idle vehicles that would only find nothing to do
  (``Vehicle.idle_bound``);
- the quiet days at the end repeat the last daily row (``results.REPEAT_QUIET_DAYS``);
- a release at an origin where nobody escaped or was handed over takes the whole
  batch without looking at anyone's state (``transfers.RELEASE_TRUSTS_NO_LOSS``).

The reference is the same run with all six off: the loop runs to the horizon, every
grid point is checked, every leg at every check, every idle vehicle resumes on every
change, every daily row is built, every released batch is checked person by person.
Generated scenarios (``test_properties.scenarios``: up to three prisons, a hub, three
modes, releases, registration, fronts, breakouts, storms and rules) get the
operational-realism mechanisms on top and a horizon of up to four weeks, so that most of
them settle early. A breakout while an origin is still releasing is covered by an exact
case (``test_mechanisms_flow``).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.core import model as model_module
from sim.core import results, ticks, transfers
from sim.core.hazards import Hazards
from sim.core.model import Model
from sim.core.results import build_result
from sim.core.vehicles import Vehicle
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario
from tests.core.test_properties import scenarios
from tests.tiny_scenarios import ROOT, SHIPPED_SCENARIOS, one_leg, scenario


def outcome(sc: Scenario, seed: int) -> tuple[Any, ...]:
    model = Model(sc, seed)
    model.run()
    res = build_result(model.finished(), 0.0)
    kpis = {k: v for k, v in res.kpis.items() if k not in ("sim_events", "wall_seconds")}
    return (kpis, res.daily, list(model.events), list(model.sorties), list(model.status_log),
            model.triggers.fired_log, list(model.fleet.days))


def without_shortcuts(sc: Scenario, seed: int) -> tuple[Any, ...]:
    with pytest.MonkeyPatch.context() as mp:
        every_check = Hazards.update_closures

        def every_leg(self: Hazards) -> None:
            self.closure_next_check = -math.inf
            every_check(self)

        mp.setattr(model_module, "STOP_WHEN_SETTLED", False)
        mp.setattr(ticks.CheckGrid, "due", lambda self, t: True)
        mp.setattr(Hazards, "update_closures", every_leg)
        mp.setattr(Vehicle, "idle_bound", lambda self, now: False)
        mp.setattr(results, "REPEAT_QUIET_DAYS", False)
        mp.setattr(transfers, "RELEASE_TRUSTS_NO_LOSS", False)
        return outcome(sc, seed)


@st.composite
def with_realism(draw: st.DrawFn) -> dict[str, Any]:
    """A generated scenario with the operational-realism mechanisms drawn on top: ground
    time per stop, load factors, overload, minimum loads, operating windows, sorties per
    day, mission-capable rates, waves, escorts, ramp spaces, batched releases, out-processing
    shifts from 06:00 or across midnight, uncertain rule days, and a horizon of up to four
    weeks."""
    data = draw(scenarios())
    data["horizon_days"] = draw(st.integers(1, 28))
    maybe = st.booleans()
    for spec in data["aircraft"].values():
        if draw(maybe):
            spec["pickup_stop_min"] = draw(st.sampled_from([10.0, {"dist": "uniform",
                                                                   "low": 5, "high": 40}]))
            spec["dropoff_stop_min"] = draw(st.sampled_from([0.0, 15.0]))
        if draw(maybe):
            spec["load_factor"] = draw(st.sampled_from(
                [0.8, {"dist": "uniform", "low": 0.5, "high": 1.0}]))
            spec["overload_factor"] = draw(st.sampled_from([1.0, 1.5]))
        if draw(maybe):
            spec["min_load_fraction"] = draw(st.sampled_from([0.5, 1.0]))
            spec["max_load_wait_hours"] = draw(st.sampled_from([0.5, 3.0]))
        if draw(maybe):
            spec["operating_start_hour"] = draw(st.sampled_from([6.0, 18.0, 22.5]))
            spec["operating_hours"] = draw(st.sampled_from([4.0, 12.0]))
        if draw(maybe):
            spec["max_sorties_per_day"] = draw(st.integers(1, 4))
        if draw(maybe):
            spec["mission_capable_rate"] = draw(st.sampled_from([0.3, 0.8]))
        if draw(maybe):
            spec["wave"] = {"size": draw(st.integers(2, 3)),
                            "max_wait_hours": draw(st.sampled_from([0.5, 2.0]))}
    if draw(maybe):
        data["escort_guards_per_detainee"] = {"high": draw(st.sampled_from([0.5, 1.0])),
                                              "standard": draw(st.sampled_from([0.0, 0.25]))}
    for site in data["sites"]:
        if site["kind"] == "airfield" and draw(maybe):
            site["ramp_spaces"] = draw(st.integers(1, 2))
        if site.get("release") and draw(maybe):
            site["release"]["batch"] = draw(st.integers(2, 20))
        if site.get("release", {}).get("stations") and draw(maybe):
            site["release"]["start_hour"] = draw(st.sampled_from([6.0, 20.0]))  # 20: across midnight
    for rule in data.get("triggers", []):
        if draw(maybe):
            day = rule["when"]["day"]
            rule["when"] = {"day": {"dist": "uniform", "low": day, "high": day + 2.0}}
    return data


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=with_realism(), seed=st.integers(0, 2**32 - 1))
def test_shortcuts_change_no_result(data: dict[str, Any], seed: int) -> None:
    sc = scenario(data)
    assert outcome(sc, seed) == without_shortcuts(sc, seed)


@pytest.mark.parametrize("limit", [{"mission_capable_rate": 0.3},
                                   {"operating_start_hour": 6.0, "operating_hours": 4.0}])
def test_vehicles_whose_limits_may_change_their_state_keep_the_run_going(
    limit: dict[str, Any],
) -> None:
    """One detainee moved on day 0, then nothing to do but a front that threatens and
    overruns the empty prison on day 2, outside the operating window. A vehicle that is
    not mission capable on some days is counted in maintenance on those days; one woken
    outside its window (by the status change) is held off duty until it opens and is
    counted resting at that midnight. So neither run is settled while they serve."""
    data = one_leg(n=1, count=2, horizon_days=10, type_kw=limit)
    data["escalation"] = {"fronts": [{"name": "late", "path": [[3.0, 40.0], [0.5, 40.0]],
                                      "start_day": 2.3, "speed_km_per_day": 300,
                                      "threat_radius_km": 60, "overrun_radius_km": 20}]}
    sc = scenario(data)
    model = Model(sc, 1)
    model.run()
    assert not model.settled()
    assert outcome(sc, 1) == without_shortcuts(sc, 1)


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED_SCENARIOS)
def test_shortcuts_change_no_result_on_shipped_scenarios(path: str) -> None:
    """Every shipped scenario (the exercises and back-tests included), seeds 1-5."""
    sc = load_scenario(ROOT / path)
    for seed in range(1, 6):
        assert outcome(sc, seed) == without_shortcuts(sc, seed), seed
