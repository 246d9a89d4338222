"""Small scenario builders shared by the tests (plain dicts, validated by ``sim.scenario.build``).

Distances: sites one degree of latitude apart on the same meridian are
``DEG_KM`` km apart (great circle), so a cruise speed of ``DEG_KM`` km/h makes
every such flight last one hour.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.detainees import STATE_NAMES
from sim.core.results import Result
from sim.scenario.loader import build
from sim.scenario.schema import Scenario

EARTH_RADIUS_KM = 6371.0088
DEG_KM = EARTH_RADIUS_KM * math.radians(1.0)

ROOT = Path(__file__).resolve().parents[1]
#: Every shipped scenario file, the exercises and back-tests included (not the exercises'
#: question specs nor the ranges files), by path from the repository root.
SHIPPED_SCENARIOS = sorted(
    p.relative_to(ROOT).as_posix() for p in (ROOT / "scenarios").rglob("*.yaml")
    if not p.name.endswith(".questions.yaml") and p.parent.name != "ranges"
)


def prison(sid: str, lat: float, n: int, **kw: Any) -> dict[str, Any]:
    site: dict[str, Any] = {
        "id": sid, "kind": "prison", "lat": lat, "lon": 40.0, "detainees": {"standard": n},
    }
    site.update(kw)
    return site


def reception(sid: str = "r", lat: float = 0.0, **kw: Any) -> dict[str, Any]:
    site: dict[str, Any] = {"id": sid, "kind": "reception", "lat": lat, "lon": 40.0}
    site.update(kw)
    return site


def leg(a: str, b: str, modes: list[str] | None = None, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"from": a, "to": b, "modes": modes or ["rotary"]}
    out.update(kw)
    return out


def aircraft_type(**kw: Any) -> dict[str, Any]:
    t: dict[str, Any] = {"mode": "rotary", "seats": 30, "cruise_kmh": DEG_KM, "turnaround_min": 30}
    t.update(kw)
    return t


def one_leg(
    n: int = 50,
    count: int = 1,
    seats: int = 30,
    pads: int = 1,
    horizon_days: int = 5,
    prison_kw: dict[str, Any] | None = None,
    reception_kw: dict[str, Any] | None = None,
    type_kw: dict[str, Any] | None = None,
    base: str = "p",
    **top: Any,
) -> dict[str, Any]:
    """One prison ``p`` at latitude 1, one reception ``r`` at latitude 0, one rotary leg."""
    data: dict[str, Any] = {
        "name": "tiny",
        "start": "2026-01-01",
        "horizon_days": horizon_days,
        "sites": [
            prison("p", 1.0, n, pads=pads, **(prison_kw or {})),
            reception("r", 0.0, **(reception_kw or {})),
        ],
        "legs": [leg("p", "r")],
        "aircraft": {"h": aircraft_type(seats=seats, **(type_kw or {}))},
        "fleet": [{"type": "h", "count": count, "base": base}],
    }
    data.update(top)
    return data


def scenario(data: dict[str, Any]) -> Scenario:
    return build(copy.deepcopy(data))


def check_conservation(res: Result) -> None:
    """Every detainee in exactly one state; delivered + escaped + custody_transferred +
    remaining == total."""
    k = res.kpis
    total = k["detainees_total"]
    states = res.detainees["state"]
    assert len(states) == total
    assert sum(k["final_states"].values()) == total
    counts = np.bincount(states, minlength=len(STATE_NAMES))
    assert counts.sum() == total
    assert {name: int(counts[i]) for i, name in enumerate(STATE_NAMES)} == k["final_states"]
    assert k["delivered"] + k["escaped"] + k["custody_transferred"] + k["remaining"] == total
    for key in ("delivered", "registered", "escaped", "custody_transferred", "remaining",
                "released"):
        assert k[key] >= 0, key
    assert k["registered"] <= k["delivered"]
    assert k["released"] <= k["registered"]
    # The table agrees with the KPIs.
    assert int(np.count_nonzero(~np.isnan(res.detainees["delivered_hour"]))) == k["delivered"]
    assert int(np.count_nonzero(~np.isnan(res.detainees["escaped_hour"]))) == k["escaped"]
    both = ~np.isnan(res.detainees["delivered_hour"]) & ~np.isnan(res.detainees["escaped_hour"])
    assert not both.any()
    for row in res.daily:
        assert row["delivered_cum"] + row["escaped_cum"] <= total
        assert row["facility_occupancy"] >= 0
        assert row["registration_backlog"] >= 0


def run_checked(data: dict[str, Any], seed: int = 1) -> Result:
    """Run ``data`` with ``seed`` and check conservation before returning the result."""
    import sim

    res = sim.run(scenario(data), seed)
    check_conservation(res)
    return res
