"""Planning answers, measured in one run: prints one JSON object.

``plan_fleet``: the replications ``dtsim plan fleet`` spends on the unpaced
scenario against a full grid with the same per-count precision (every count of
the range run with the largest sample the search needed at any count); target:
a share of at most 0.40. The unpaced scenario is the shipped ``unpaced`` if
there is one, else the baseline with the reception's intake limits lifted (the
same ``--set`` as in docs/planning.md), so the fleet, not the reception, sets the
pace. The question: the CH-47 count for P(at least 90% delivered by day 10) >= 0.9.

Run from the repository root: ``python bench/planning.py [--jobs N]``.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

UNPACED_SETS = [
    "triggers.iraqi-initial-intake.then.0.set_intake_limit.per_day=100000",
    "triggers.iraqi-slow-down.then.0.set_intake_limit.per_day=100000",
]


def unpaced() -> tuple[Any, str]:
    """The unpaced scenario and how it was made."""
    from sim.scenario.loader import load_scenario

    try:
        return load_scenario("unpaced"), "unpaced"
    except Exception:  # noqa: BLE001 - not shipped (yet): build it from the baseline
        return load_scenario("baseline", UNPACED_SETS), "baseline " + " ".join(
            f"--set {s}" for s in UNPACED_SETS)


def plan_fleet_vs_grid(jobs: int | None) -> dict[str, Any]:
    from sim.planning.fleet import plan_fleet

    s, made = unpaced()
    t0 = time.perf_counter()
    plan = plan_fleet(s, type_="ch47", deadline_day=10, confidence=0.9, target=0.9,
                      max_count=60, jobs=jobs)
    d = plan.to_dict()
    return {"scenario": made, "answer": d["answer"], "candidates_tried": len(d["trials"]),
            "replications": d["replications"], "grid_candidates": d["grid_candidates"],
            "grid_replications": d["grid_replications"],
            "share_of_grid": round(d["replications_share_of_grid"], 4), "target_share": 0.40,
            "met": d["replications_share_of_grid"] <= 0.40,
            "wall_seconds": round(time.perf_counter() - t0, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    print(json.dumps({"plan_fleet": plan_fleet_vs_grid(args.jobs)}, indent=2))


if __name__ == "__main__":
    main()
