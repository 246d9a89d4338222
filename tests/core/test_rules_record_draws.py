"""A rule with an uncertain quota records, with its firing, the quota its run drew, so the
run's output (kpis.json, ``triggers_fired``) shows what was in force; a plain quota
records nothing new."""

from __future__ import annotations

import copy

from tiny_scenarios import one_leg

import sim
from sim.common.rng import Streams
from sim.scenario.loader import build


def test_an_uncertain_quota_is_recorded_with_the_rule_that_drew_it() -> None:
    """One rule on day 1 sets the intake to uniform(50, 150): drawn from the "rules"
    stream (no uncertain day is drawn before it), rounded to a whole number."""
    data = one_leg(n=60, horizon_days=4)
    data["triggers"] = [
        {"name": "plain", "when": {"day": 0},
         "then": [{"set_intake_limit": {"site": "r", "per_day": 20}}]},
        {"name": "quota", "when": {"day": 1},
         "then": [{"set_intake_limit": {"site": "r", "per_day": {
             "dist": "uniform", "low": 50, "high": 150}}}]},
    ]
    res = sim.run(build(copy.deepcopy(data)), 3)
    expected = int(round(Streams(3)["rules"].uniform(50, 150)))
    fired = {f["name"]: f for f in res.kpis["triggers_fired"]}
    assert fired["quota"]["intake_limit"] == {"r": expected}
    assert "intake_limit" not in fired["plain"]
