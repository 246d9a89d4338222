"""Empty-positioning distances are worked out once per network and pair of sites."""

from __future__ import annotations

from typing import Any

import pytest
from tiny_scenarios import one_leg, scenario

from sim.scenario.checks import fleet_types
from sim.scenario.network import Network, mode_specs


def test_positioning_is_memoised(monkeypatch: pytest.MonkeyPatch) -> None:
    s = scenario(one_leg())
    net = Network(s, mode_specs(s, fleet_types(s)), frozenset(), {})
    calls: list[tuple[str, str, str]] = []
    work = Network._positioning_km

    def counted(self: Network, *args: Any) -> float | None:
        calls.append(args)
        return work(self, *args)

    monkeypatch.setattr(Network, "_positioning_km", counted)
    first = net.positioning_km("rotary", "r", "p")
    assert first is not None and first > 100
    assert net.positioning_km("rotary", "r", "p") == first
    assert net.positioning_km("rotary", "p", "p") == 0.0
    assert calls == [("rotary", "r", "p"), ("rotary", "p", "p")]
