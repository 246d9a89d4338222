"""Benchmark of the planning answers; prints one JSON object.

    python bench/planning.py [--scenario baseline] [--ranges sim/scenarios/ranges/baseline.yaml]

- ``morris_8x10x5_seconds``: wall time of a Morris analysis of the 8 inputs of
  the ranges file, 10 trajectories (90 points) and 5 replications a point (450
  runs) on 2 worker processes, pool start-up, store and analysis included;
  ``morris_over_one_run`` is that time over one baseline run in this process
  (the best of three), so the figure carries to a faster or slower machine:
  450 runs on 2 cores would be about 225 if nothing but the runs cost time.
- ``load_average_at_start``: for context (other load only slows a run down).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--ranges", type=Path,
                    default=ROOT / "sim" / "scenarios" / "ranges" / "baseline.yaml")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    single = one_run_seconds(args.scenario)
    morris, runs = morris_seconds(args.scenario, args.ranges, args.jobs)
    json.dump({
        "scenario": args.scenario, "jobs": args.jobs, "load_average_at_start": load,
        "one_run_seconds": round(single, 4), "morris_runs": runs,
        "morris_8x10x5_seconds": round(morris, 2),
        "morris_over_one_run": round(morris / single, 1),
    }, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
