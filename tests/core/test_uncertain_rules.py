"""Uncertain dates and quotas in rules: a day or an intake quota given as a distribution.

A reported policy with an uncertain date (Iraq's approval, its request to slow down) is an
input with a distribution, not a fitted constant: each run draws the date once, in the order
the rules are written, from the run's own "rules" stream.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from tiny_scenarios import check_conservation, one_leg

import sim
from sim.common.dist import sample
from sim.common.rng import Streams
from sim.scenario.loader import build
from sim.scenario.reading import ScenarioError


def _on_check_grid(day: float) -> float:
    """Rules are checked every ``trigger_check_hours`` (1 h by default): a drawn day fires
    at the first check at or after it."""
    return round(math.ceil(day * 24.0 - 1e-9) / 24.0, 4)


def _fired_days(data: dict[str, Any], seed: int) -> dict[str, float]:
    res = sim.run(build(copy.deepcopy(data)), seed)
    return {f["name"]: f["day"] for f in res.triggers_fired}


def _with_rule(when: dict[str, Any], then: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    data = one_leg(n=60, horizon_days=10)
    data["triggers"] = [{"name": "gate", "when": when,
                         "then": then or [{"set_dispatch": "round_robin"}]}]
    return data


def test_an_uncertain_day_fires_at_the_day_drawn_from_the_rules_stream() -> None:
    """The rule fires at the first hourly check after the day its run drew: uniform(2, 5)
    from stream "rules"."""
    data = _with_rule({"day": {"dist": "uniform", "low": 2, "high": 5}})
    seen = set()
    for seed in (1, 2, 3):
        expected = float(Streams(seed)["rules"].uniform(2, 5))
        got = _fired_days(data, seed)["gate"]
        assert got == _on_check_grid(expected)
        seen.add(round(got, 4))
    assert len(seen) == 3  # a different date in each run


def test_a_degenerate_distribution_is_the_plain_day() -> None:
    """triangular(3, 3, 3) is day 3, like ``day: 3``, and consumes no random numbers."""
    plain = _fired_days(_with_rule({"day": 3}), seed=4)
    degenerate = _fired_days(_with_rule({"day": {"dist": "triangular", "low": 3, "mode": 3,
                                                 "high": 3}}), seed=4)
    assert plain == degenerate == {"gate": 3.0}


def test_uncertain_days_inside_combined_conditions_are_drawn_in_written_order() -> None:
    """all: [day ~ U(1, 2), day ~ U(4, 6)] fires at the later of the two draws, made in order."""
    data = _with_rule({"all": [{"day": {"dist": "uniform", "low": 1, "high": 2}},
                               {"day": {"dist": "uniform", "low": 4, "high": 6}}]})
    rng = Streams(7)["rules"]
    first, second = float(rng.uniform(1, 2)), float(rng.uniform(4, 6))
    assert _fired_days(data, 7)["gate"] == _on_check_grid(max(first, second))


def test_an_uncertain_quota_is_drawn_when_the_rule_fires() -> None:
    """A quota U(10, 30) a day from day 0: the reception takes exactly round(draw) a day.

    60 detainees, one 30-seat aircraft with a one-hour leg: without the quota all are
    delivered on day 0; with a quota q, the first day's deliveries are exactly q (q < 30,
    and a full load waits for the next day's intake).
    """
    data = _with_rule({"day": 0}, [{"set_intake_limit": {
        "site": "r", "per_day": {"dist": "uniform", "low": 10, "high": 30}}}])
    for seed in (1, 2):
        quota = int(round(sample(build(copy.deepcopy(data)).triggers[0].then[0]
                                 .set_intake_limit.per_day,  # type: ignore[union-attr,arg-type]
                                 Streams(seed)["rules"])))
        res = sim.run(build(copy.deepcopy(data)), seed)
        check_conservation(res)
        delivered = res.detainees["delivered_hour"]
        assert int(np.sum(delivered < 24.0)) == quota


def test_uncertain_fields_are_validated_like_any_other() -> None:
    """A distribution with a bad parameter or a negative quota is refused at load time."""
    with pytest.raises(ScenarioError):
        build(_with_rule({"day": {"dist": "uniform", "low": 5, "high": 2}}))
    with pytest.raises(ScenarioError):
        build(_with_rule({"day": 0}, [{"set_intake_limit": {"site": "r", "per_day": -3}}]))
