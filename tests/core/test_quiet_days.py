"""The daily rows of the quiet days at the end of a run repeat the last one (re-dated),
and are exactly what building each row gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_scenarios import one_leg, scenario

from sim.core import results
from sim.core.model import Model
from sim.core.results import build_result
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]


def _daily(sc: Scenario, seed: int, repeat: bool, monkeypatch: pytest.MonkeyPatch) -> tuple:
    monkeypatch.setattr(results, "REPEAT_QUIET_DAYS", repeat)
    model = Model(sc, seed)
    model.run()
    res = build_result(model.finished(), 0.0)
    return res.daily, {k: v for k, v in res.kpis.items() if k != "wall_seconds"}


@pytest.mark.parametrize("name", ["baseline", "fast_front", "dust_storm", "unpaced",
                                  "helicopters_only"])
def test_repeated_rows_equal_built_rows_on_shipped_scenarios(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    assert _daily(sc, 3, True, monkeypatch) == _daily(sc, 3, False, monkeypatch)


def test_a_long_quiet_horizon_repeats_rows_that_equal_built_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Everyone is delivered on day 0 of a 300-day horizon, with a front that stops on day
    40 and repatriation every day: rows repeat only once all of it is over."""
    data = one_leg(n=60, count=2, horizon_days=300,
                   reception_kw={"repatriation_per_day": 1.0})
    data["escalation"] = {"fronts": [{
        "name": "slow", "start_day": 0, "path": [[3.0, 38.0], [3.0, 39.0]],
        "speed_km_per_day": 2.5, "threat_radius_km": 1, "overrun_radius_km": 0.5,
    }]}
    sc = scenario(data)
    seen: list[int] = []
    quiet_from = results.quiet_from

    def spied(*args: object) -> int:
        seen.append(quiet_from(*args))  # type: ignore[arg-type]
        return seen[-1]

    monkeypatch.setattr(results, "quiet_from", spied)
    repeated, kpis = _daily(sc, 1, True, monkeypatch)
    built, built_kpis = _daily(sc, 1, False, monkeypatch)
    assert repeated == built and kpis == built_kpis
    released = [row["released_cum"] for row in built]
    assert released[59] == 60 > released[58]  # one a day: the last leaves on day 59
    assert len(seen) == 1 and 60 < seen[0] < 300  # after the last release and the front's stop
