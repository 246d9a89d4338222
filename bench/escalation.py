"""What a front and 20 triggers cost a run: prints one JSON object.

Both variants are the baseline network, fleet and population; the plain one
has no fronts, breakouts, weather or triggers (the reception open from the
start), the other has one front and 20 day-triggers that change the intake
limit and the dispatch policy. Times are best-of-5 in this one process.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import sim
from sim.scenario import build, dump_scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent


def best_of(s: Any, n: int = 5) -> float:
    best = float("inf")
    for seed in range(1, n + 1):
        t0 = time.perf_counter()
        sim.run(s, seed)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    data = dump_scenario(load_scenario(ROOT / "scenarios" / "baseline.yaml"))
    data["triggers"] = []
    data["escalation"] = {}
    for site in data["sites"]:
        site["open"] = True
        if site["id"] == "bgw":
            site["daily_intake_limit"] = 300
    plain = build(data)
    front = {"name": "f", "start_day": -5, "path": ["aleppo", "tabqa", "raqqa"],
             "speed_km_per_day": {"dist": "triangular", "low": 10, "mode": 25, "high": 40},
             "threat_radius_km": 30, "overrun_radius_km": 5, "close_legs_within_km": 20}
    rules = []
    for i in range(20):
        action: dict[str, Any] = (
            {"set_intake_limit": {"site": "bgw", "per_day": 250 + 10 * i}} if i % 2 == 0
            else {"set_dispatch": ["largest_queue", "highest_threat"][i % 4 // 2]}
        )
        rules.append({"name": f"rule-{i}", "when": {"day": i}, "then": [action]})
    data["escalation"] = {"fronts": [front]}
    data["triggers"] = rules
    escalated = build(data)
    t_plain, t_escalated = best_of(plain), best_of(escalated)
    print(json.dumps({
        "plain_seconds": round(t_plain, 4),
        "front_and_20_triggers_seconds": round(t_escalated, 4),
        "escalation_overhead": round(t_escalated / t_plain - 1.0, 4),
        "target_overhead": 0.2,
    }))


if __name__ == "__main__":
    main()
