"""The fleet search on stub simulators: known answers, pruning, accounting, the bound hook."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest

import sim
from sim.planning.fleet import (
    Candidate,
    cheapest_mix,
    plan_fleet,
    smallest_passing,
)
from sim.scenario.loader import build
from tests.tiny_scenarios import one_leg

# P(success) by count of the searched type: the smallest count reaching 0.9 is 5.
TOY_P = {1: 0.0, 2: 0.2, 3: 0.55, 4: 0.75, 5: 0.97, 6: 0.995}


def toy_p(k: int) -> float:
    return TOY_P.get(k, 1.0)


def crn_stub(rng: np.random.Generator, p_of: object = toy_p) -> object:
    """Replication i draws one uniform U_i shared by every count (common random numbers);
    it succeeds at count k when U_i < p(k), so success is monotone in k run by run."""
    uniforms: list[float] = []

    def simulate(c: Candidate, indices: Sequence[int]) -> list[bool]:
        while len(uniforms) <= max(indices):
            uniforms.append(float(rng.random()))
        return [uniforms[i] < p_of(c[0]) for i in indices]  # type: ignore[operator]

    return simulate


def toy_scenario(count: int = 2) -> object:
    return build(one_leg(n=10, count=count, horizon_days=20))


def test_the_toy_answer_is_right_in_at_least_90_percent_of_50_searches() -> None:
    s = toy_scenario()
    right = 0
    for i in range(50):
        plan = plan_fleet(s, type_="h", deadline_day=10, confidence=0.9, max_count=20,
                          simulate=crn_stub(np.random.default_rng(1000 + i)))  # type: ignore[arg-type]
        right += plan.answer == 5
    assert right >= 45


def test_the_search_spends_at_most_40_percent_of_a_full_grid() -> None:
    plan = plan_fleet(toy_scenario(), type_="h", deadline_day=10, confidence=0.9,
                      max_count=60, simulate=crn_stub(np.random.default_rng(3)))  # type: ignore[arg-type]
    d = plan.to_dict()
    assert d["grid_candidates"] == 60
    assert d["replications"] == sum(t["n"] for t in d["trials"])
    assert d["grid_replications"] == 60 * max(t["n"] for t in d["trials"])
    assert d["replications"] <= 0.4 * d["grid_replications"]
    assert len(d["trials"]) <= 8  # the top, then bisection: about log2(60) candidates


def test_every_answer_rests_on_its_own_test() -> None:
    plan = plan_fleet(toy_scenario(), type_="h", deadline_day=10, confidence=0.9,
                      max_count=20, simulate=crn_stub(np.random.default_rng(5)))  # type: ignore[arg-type]
    t = plan.answer_trial
    assert t is not None and t.verdict == "meets" and t.lower >= 0.9
    smaller = [x for x in plan.trials if x.candidate[0] == t.candidate[0] - 1]
    assert smaller and smaller[0].verdict != "meets"


def test_nothing_reaches_the_target_gives_no_answer() -> None:
    plan = plan_fleet(toy_scenario(), type_="h", deadline_day=10, confidence=0.9, max_count=4,
                      simulate=crn_stub(np.random.default_rng(1)))  # type: ignore[arg-type]
    assert plan.answer is None and [t.label for t in plan.trials] == ["4 h"]
    top = plan.trials[0]
    assert plan.headline().endswith(
        f"no h count from 1 to 4 gives P(at least 100% delivered by day 10) >= 0.9; the "
        f"largest tried, 4 h, met it in {top.successes} of {top.n} runs"
        + (": more are needed (a larger --max or --max-scale), or something other than "
           "their number limits the operation (pads, a reception, crews, a road; `dtsim "
           "bound` gives the fastest any dispatch could go)" if top.successes == 0 else
           " (a larger --max or --max-scale searches further)"))


def test_the_bound_hook_skips_counts_without_replications() -> None:
    asked: list[int] = []

    def cannot_succeed(count: int) -> bool:
        asked.append(count)
        return count < 5

    plan = plan_fleet(toy_scenario(), type_="h", deadline_day=10, confidence=0.9, max_count=20,
                      cannot_succeed=cannot_succeed,
                      simulate=crn_stub(np.random.default_rng(9)))  # type: ignore[arg-type]
    ruled = [t for t in plan.trials if t.verdict == "ruled_out"]
    assert ruled and all(t.n == 0 and t.candidate[0] < 5 for t in ruled)
    assert plan.answer == 5 and asked


def test_no_answer_names_the_range_and_what_the_largest_reached() -> None:
    """Without an answer the headline says what was searched and why the largest
    candidate failed: ruled out by the bound (no replication), or its own runs."""
    plan = plan_fleet(toy_scenario(), type_="h", deadline_day=10, confidence=0.9, max_count=6,
                      cannot_succeed=lambda count: True,
                      simulate=crn_stub(np.random.default_rng(9)))  # type: ignore[arg-type]
    assert plan.answer is None and plan.replications == 0
    assert plan.headline().endswith(
        "no h count from 1 to 6 gives P(at least 100% delivered by day 10) >= 0.9; the "
        "largest, 6 h, is ruled out by the bound (no dispatch of it could meet the deadline)")
    plan = plan_fleet(toy_scenario(), scale=True, deadline_day=10, confidence=0.9,
                      max_scale=2.0, simulate=lambda s, seeds: [False] * len(seeds))  # type: ignore[arg-type]
    assert "no fleet multiplier from x0.25 to x2 gives" in plan.headline()
    assert "the largest tried, x2, met it in 0 of" in plan.headline()


def test_smallest_passing_is_a_bisection() -> None:
    calls: list[int] = []

    def passes(k: int) -> bool:
        calls.append(k)
        return k >= 37

    assert smallest_passing(1, 60, passes) == 37
    assert calls[0] == 60 and len(calls) <= 8
    assert smallest_passing(1, 30, lambda k: k >= 37) is None


def test_cheapest_mix_matches_brute_force() -> None:
    rng = np.random.default_rng(2)
    for _ in range(40):
        w = rng.uniform(0.5, 3.0, size=3)
        need = rng.uniform(5, 30)
        costs = list(rng.uniform(0.2, 2.0, size=3))

        def ok(c: Candidate, w: np.ndarray = w, need: float = need) -> bool:
            return float(np.dot(w, c)) >= need

        ranges = [(0, 8), (0, 8), (0, 8)]
        found = cheapest_mix(ranges, costs, ok)
        feasible = [c for c in itertools.product(range(9), repeat=3) if ok(c)]
        if not feasible:
            assert found is None
            continue
        best = min(float(np.dot(costs, c)) for c in feasible)
        assert found is not None and ok(found)
        assert float(np.dot(costs, found)) == pytest.approx(best)


def test_mix_search_prunes_mixes_below_a_miss() -> None:
    tested: list[Candidate] = []

    def simulate(c: Candidate, indices: Sequence[int]) -> list[bool]:
        tested.append(c)
        return [2 * c[0] + c[1] >= 6] * len(indices)

    s = build({**one_leg(n=10, count=2, horizon_days=20),
               "aircraft": {"h": {"mode": "rotary", "seats": 30, "cruise_kmh": 100},
                            "g": {"mode": "rotary", "seats": 10, "cruise_kmh": 100}},
               "fleet": [{"type": "h", "count": 2, "base": "p"},
                         {"type": "g", "count": 1, "base": "p"}]})
    plan = plan_fleet(s, types=["h", "g"], costs=[1.0, 0.4], deadline_day=5, confidence=0.9,
                      max_count=6, batch=20, max_replications=40, simulate=simulate)
    # The cheapest mix with 2 h + g >= 6 at costs 1 and 0.4: 0 h + 6 g costs 2.4,
    # 3 h costs 3, 1 h + 4 g costs 2.6, 2 h + 2 g costs 2.8.
    assert plan.answer == {"h": 0, "g": 6}
    assert len(set(tested)) == len(plan.trials) < 49  # far fewer than the 7 x 7 grid


def test_scale_searches_a_multiplier() -> None:
    def simulate(c: Candidate, indices: Sequence[int]) -> list[bool]:
        return [c[0] * 0.25 >= 1.5] * len(indices)

    plan = sim.plan_fleet(toy_scenario(), scale=True, deadline_day=5, confidence=0.9,
                          batch=20, max_replications=40, simulate=simulate)
    assert plan.answer == 1.5 and plan.to_dict()["mode"] == "scale"
