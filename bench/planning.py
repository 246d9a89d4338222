"""Planning answers, measured in one run: prints one JSON object.

    python bench/planning.py [--jobs 2] [--skip-plan] [--skip-morris]

- ``plan_fleet``: the replications ``dtsim plan fleet`` spends on the shipped
  ``unpaced`` scenario against a full grid with the same per-count precision (every
  count of the range run with the largest sample the search needed at any count);
  target: a share of at most 0.40. The question, as in docs/planning.md: the CH-47
  count for P(at least 90% delivered by day 12) >= 0.9.
- ``morris``: wall time of a Morris analysis of the 8 inputs of a ranges file (by
  default the unpaced scenario and ``sim/scenarios/ranges/unpaced.yaml``), 10
  trajectories (90 points) and 5 replications a point (450 runs)
  on 2 worker processes, pool start-up, store and analysis included;
  ``morris_over_one_run`` is that time over one run of the same scenario in this
  process (the best of three), so the figure carries to a faster or slower
  machine: 450 runs on 2 cores would be about 225 if nothing but the runs cost time.
- ``load_average_at_start``: for context (other load only slows runs down).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


UNPACED = "unpaced"  # the shipped scenario: the baseline without the Iraqi intake pacing
DEADLINE_DAY = 12  # a little before the unpaced scenario's mean day to 90% (about 13)


def plan_fleet_vs_grid(jobs: int | None) -> dict[str, Any]:
    from sim.planning.fleet import plan_fleet
    from sim.scenario.loader import load_scenario

    s = load_scenario(UNPACED)
    t0 = time.perf_counter()
    plan = plan_fleet(s, type_="ch47", deadline_day=DEADLINE_DAY, confidence=0.9, target=0.9,
                      max_count=60, jobs=jobs)
    d = plan.to_dict()
    return {"scenario": UNPACED, "deadline_day": DEADLINE_DAY, "answer": d["answer"],
            "candidates_tried": len(d["trials"]),
            "replications": d["replications"], "grid_candidates": d["grid_candidates"],
            "grid_replications": d["grid_replications"],
            "share_of_grid": round(d["replications_share_of_grid"], 4), "target_share": 0.40,
            "met": d["replications_share_of_grid"] <= 0.40,
            "wall_seconds": round(time.perf_counter() - t0, 2)}


def one_run_seconds(scenario: str) -> float:
    """The best of three single runs of ``scenario`` (seed 1) in this process."""
    import sim
    from sim.core.model import run

    s = sim.load_scenario(scenario)
    run(s, 1)  # warm-up: imports and the per-scenario cache
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        run(s, 1)
        best = min(best, time.perf_counter() - t0)
    return best


def morris_seconds(scenario: str, ranges: Path, jobs: int) -> tuple[float, int]:
    """Wall time of the Morris analysis (8 inputs x 10 trajectories x 5 replications)."""
    from sim.planning.sensitivity import sensitivity

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = sensitivity(scenario, ranges, method="morris", n=10, reps=5,
                          out=Path(tmp) / "morris", jobs=jobs)
        return time.perf_counter() - t0, res.runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=UNPACED, help="scenario of the Morris analysis")
    ap.add_argument("--ranges", type=Path,
                    default=ROOT / "sim" / "scenarios" / "ranges" / "unpaced.yaml")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--skip-plan", action="store_true")
    ap.add_argument("--skip-morris", action="store_true")
    args = ap.parse_args()
    out: dict[str, Any] = {
        "load_average_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}
    if not args.skip_plan:
        out["plan_fleet"] = plan_fleet_vs_grid(args.jobs)
    if not args.skip_morris:
        single = one_run_seconds(args.scenario)
        morris, runs = morris_seconds(args.scenario, args.ranges, args.jobs)
        out["morris"] = {"scenario": args.scenario, "jobs": args.jobs,
                         "one_run_seconds": round(single, 4), "runs": runs,
                         "morris_8x10x5_seconds": round(morris, 2),
                         "morris_over_one_run": round(morris / single, 1)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
