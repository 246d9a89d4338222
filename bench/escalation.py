"""What a front and 20 triggers cost a run: prints one JSON object.

Both variants are the baseline network, fleet and population with no
escalation of its own. The second adds a moving front (checked every hour
for statuses and leg closures, but far from every site) and 20 triggers
with mixed conditions whose actions restate what is already in force, so
both variants do exactly the same work and only the bookkeeping differs
(the script checks their KPIs are identical). Times are the mean over 5 seeds of the best of 5
interleaved runs, in this one process.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import sim
from sim.scenario.loader import build, dump_scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent


def timed(s: Any, seed: int) -> float:
    t0 = time.perf_counter()
    sim.run(s, seed)
    return time.perf_counter() - t0


def paired_times(a: Any, b: Any, seeds: int = 5, rounds: int = 5) -> tuple[float, float]:
    """Sum over seeds of the best of ``rounds`` interleaved timings of each variant."""
    total_a = total_b = 0.0
    for seed in range(1, seeds + 1):
        best_a = best_b = float("inf")
        for _ in range(rounds):
            best_a = min(best_a, timed(a, seed))
            best_b = min(best_b, timed(b, seed))
        total_a += best_a
        total_b += best_b
    return total_a / seeds, total_b / seeds


def main() -> None:
    data = dump_scenario(load_scenario(ROOT / "scenarios" / "baseline.yaml"))
    data["triggers"] = []
    data["escalation"] = {}
    data["dispatch"] = "largest_queue"  # highest_threat would rank by the extra front
    for site in data["sites"]:
        site["open"] = True
        if site["id"] == "bgw":
            site["daily_intake_limit"] = 300
    plain = build(data)
    front = {"name": "f", "start_day": -5, "path": [[30.0, 36.0], [30.5, 38.0], [31.0, 39.0]],
             "speed_km_per_day": {"dist": "triangular", "low": 10, "mode": 25, "high": 40},
             "threat_radius_km": 30, "overrun_radius_km": 5, "close_legs_within_km": 20,
             "close_modes": ["ground", "rotary"]}
    conditions: list[dict[str, Any]] = [
        {"day": 2}, {"fraction_delivered": 0.2}, {"occupancy": 1000},
        {"registration_backlog": 100}, {"site": "hasakah", "status": "overrun"},
        {"front_within_km": 10, "of": "hasakah"},
        {"any": [{"day": 3}, {"not": {"day": 1}}]}, {"all": [{"day": 4}, {"occupancy": 50}]},
    ]
    rules = []
    for i in range(20):
        action: dict[str, Any] = (
            {"set_intake_limit": {"site": "bgw", "per_day": 300}} if i % 2 == 0
            else {"set_dispatch": data["dispatch"]}
        )
        rules.append({"name": f"rule-{i}", "once": i % 3 != 0,
                      "when": conditions[i % len(conditions)], "then": [action]})
    data["escalation"] = {"fronts": [front]}
    data["triggers"] = rules
    escalated = build(data)
    a, b = sim.run(plain, 1).kpis, sim.run(escalated, 1).kpis
    same = all(a[k] == b[k] for k in a if k not in ("wall_seconds", "sim_events", "triggers_fired"))
    if not same and "--why" in sys.argv:
        print({k: (a[k], b[k]) for k in a if a[k] != b[k]})
    t_plain, t_escalated = paired_times(plain, escalated)
    print(json.dumps({
        "plain_seconds": round(t_plain, 4),
        "front_and_20_triggers_seconds": round(t_escalated, 4),
        "escalation_overhead": round(t_escalated / t_plain - 1.0, 4),
        "target_overhead": 0.2,
        "same_kpis": same,
    }))


if __name__ == "__main__":
    main()
