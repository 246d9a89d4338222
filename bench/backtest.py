"""The back-test suite's wall time: every case at ``--n 20`` on 2 cores; prints one JSON object.

Target: under 3 minutes (180 s) for the whole suite, so ``dtsim backtest`` and the
freshness check of docs/validation.md stay cheap enough to run on every change.

Run from the repository root: ``python bench/backtest.py [--n 20] [--jobs 2]``.
"""

from __future__ import annotations

import argparse
import json
import time

TARGET_SECONDS = 180.0


def main() -> None:
    from sim.planning.backtest import run_backtest

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    t0 = time.perf_counter()
    result = run_backtest(None, args.n, jobs=args.jobs)
    wall = time.perf_counter() - t0
    print(json.dumps({"backtest": {
        "cases": len(result.cases), "n": args.n, "jobs": args.jobs,
        "per_case_seconds": {c.name: round(c.wall_seconds, 2) for c in result.cases},
        "wall_seconds": round(wall, 2), "target_seconds": TARGET_SECONDS,
        "met": wall < TARGET_SECONDS}}, indent=2))


if __name__ == "__main__":
    main()
