"""The seed-independent set-up is built once per scenario and shared by its runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.core import prepared
from sim.core.model import Model, run
from sim.scenario import network
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_replications_share_the_networks_and_give_the_same_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = {"n": 0}
    original = network.Network.__post_init__

    def counting(self: network.Network) -> None:
        built["n"] += 1
        original(self)

    monkeypatch.setattr(network.Network, "__post_init__", counting)
    sc = load_scenario(ROOT / "scenarios" / "fast_front.yaml")  # fronts close legs: reroutes
    first = run(sc, 4)
    after_first = built["n"]
    second = run(sc, 4)
    assert after_first > 1  # the open network and at least one rerouted one
    assert built["n"] == after_first  # the second run built none
    same = {k: v for k, v in second.kpis.items() if k != "wall_seconds"}
    assert same == {k: v for k, v in first.kpis.items() if k != "wall_seconds"}
    # a fresh copy of the scenario is prepared anew and agrees
    copy = sc.model_copy(deep=True)
    third = run(copy, 4)
    assert built["n"] > after_first
    assert third.kpis["delivered"] == first.kpis["delivered"]
    assert Model(sc, 1).prepared is prepared.prepare(sc)


def test_the_scenario_hash_is_computed_once_per_scenario_and_is_the_loaders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sim.scenario import loader
    from sim.scenario.loader import with_overrides

    hashed: list[str] = []
    original = loader.scenario_hash

    def counting(s: object) -> str:
        hashed.append(original(s))  # type: ignore[arg-type]
        return hashed[-1]

    monkeypatch.setattr(loader, "scenario_hash", counting)
    prepared.forget()
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    metas = [run(sc, seed).meta for seed in (1, 2, 3)]
    assert len(hashed) == 1
    assert {m["scenario_hash"] for m in metas} == {original(sc)}
    other = with_overrides(sc, {"horizon_days": sc.horizon_days + 1})
    assert run(other, 1).meta["scenario_hash"] == original(other) != original(sc)
    assert len(hashed) == 2
