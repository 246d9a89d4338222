"""What a run builds from its scenario alone, built once and shared by its replications.

Replications of a scenario (and the runs of a sweep point) differ only in their
seed, so the mode specs, the projection, the sites' planar positions and the
scenario's hash (in every result's metadata) are the same for all of them, and
so is the route network for a given set of closures: a run asks
``Prepared.network`` for the network of its current closures and gets the one an
earlier run built, if any. Everything here is read-only once built (the network's
lazy distance memo is a pure function of its inputs).

The cache is keyed by the scenario object (a scenario is not changed once
validated): a process keeps the last few scenarios it ran, so a worker running
many replications of one scenario builds its set-up once.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import numpy as np

from sim.common.geo import Projection
from sim.scenario.checks import fleet_types
from sim.scenario.network import ModeSpec, Network, mode_specs
from sim.scenario.schema import Scenario

#: Scenarios kept per process, and networks (closure states) kept per scenario.
MAX_SCENARIOS = 8
MAX_NETWORKS = 64

NetworkKey = tuple[frozenset[str], frozenset[tuple[str, frozenset[str]]]]


class Prepared:
    """The seed-independent set-up of one scenario."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.specs: dict[str, ModeSpec] = mode_specs(scenario, fleet_types(scenario))
        self.proj = Projection(float(np.mean([s.lat for s in scenario.sites])))
        self.xy = {s.id: self.proj.to_xy(s.lat, s.lon) for s in scenario.sites}
        self._networks: dict[NetworkKey, Network] = {}

    @cached_property
    def scenario_hash(self) -> str:
        """``sim.scenario.loader.scenario_hash`` of the scenario, computed on first use (it
        dumps and serialises the whole scenario: about 2% of a baseline run, if per run)."""
        from sim.scenario.loader import scenario_hash  # YAML and JSON only when asked

        return scenario_hash(self.scenario)

    def network(
        self, closed_sites: frozenset[str], closed_legs: Mapping[str, frozenset[str]]
    ) -> Network:
        """The route network with these sites and legs (leg id -> modes) closed."""
        key = (closed_sites, frozenset(closed_legs.items()))
        net = self._networks.get(key)
        if net is None:
            if len(self._networks) >= MAX_NETWORKS:
                self._networks.pop(next(iter(self._networks)))
            net = self._networks[key] = Network(self.scenario, self.specs, closed_sites,
                                                dict(closed_legs))
        return net


_CACHE: dict[int, Prepared] = {}


def prepare(scenario: Scenario) -> Prepared:
    """The set-up of ``scenario``, built on its first run in this process."""
    prep = _CACHE.get(id(scenario))
    if prep is None or prep.scenario is not scenario:
        if len(_CACHE) >= MAX_SCENARIOS:
            _CACHE.pop(next(iter(_CACHE)))
        prep = _CACHE[id(scenario)] = Prepared(scenario)
    return prep


def forget() -> None:
    """Drop every kept set-up: the next run of any scenario builds its own, as in a fresh
    process (for tests that compare the two)."""
    _CACHE.clear()
