"""Benchmark of the experiment layer; prints one JSON object.

    python bench/experiments.py [--scenario scenarios/baseline.yaml] [--quick]

- ``replications_per_second_jobs1`` / ``_jobs2``: baseline replications per
  second in this process (jobs 1) and on a two-process pool (pool start-up
  included).
- ``parallel_speedup``: jobs 2 over jobs 1 (target >= 1.7 on two cores).
- ``dask_local_overhead``: wall time of the same 200 replications on a Dask
  LocalCluster of two worker processes (cluster start-up included) over a
  two-process pool's (pool start-up included; target <= 1.3).

Timings are the best of a few alternating rounds, since other load on the
machine can only slow a round down; ``load_average_at_start`` is reported
for context.
- ``rss_ratio_2000_vs_200``: peak resident memory of a 2,000-replication
  ``replicate`` (jobs 2, writing its files) over a 200-replication one, each in
  a fresh Python process (target <= 1.3). Reported for the parent process,
  where results are gathered (each worker holds one replication at a time);
  ``rss_mb_*`` give the figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RSS_CHILD = """
import json, resource, sys
from sim.experiments.replication import replicate

def peak_mb():
    # VmHWM: this process's own high-water mark (ru_maxrss would include the
    # parent's pages from before exec on Linux)
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

if __name__ == "__main__":
    replicate(sys.argv[1], int(sys.argv[2]), seed=1, jobs=2, out=sys.argv[3])
    print(json.dumps({"self_mb": peak_mb()}))
"""


def _timed(fn: object, *args: object, **kwargs: object) -> float:
    t0 = time.perf_counter()
    fn(*args, **kwargs)  # type: ignore[operator]
    return time.perf_counter() - t0


def _rss(scenario: str, n: int) -> dict[str, float]:
    """Peak RSS (MB) of a fresh process running ``n`` replications with jobs 2."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "rss_child.py"
        script.write_text(RSS_CHILD)
        out = subprocess.run([sys.executable, str(script), scenario, str(n), str(Path(tmp) / "o")],
                             cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    if out.returncode != 0:
        sys.exit(f"the {n}-replication memory run failed:\n{out.stderr}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.yaml"))
    ap.add_argument("--quick", action="store_true", help="Fewer replications (a smoke run).")
    args = ap.parse_args()

    import sim
    from sim.experiments.replication import replicate

    s = sim.load_scenario(args.scenario)
    n1, n2, nd, small, large = (20, 40, 40, 20, 200) if args.quick else (60, 120, 200, 200, 2000)
    load_before = os.getloadavg()[0]
    replicate(s, 2, jobs=1)  # warm-up: imports and caches
    # Best of three alternating rounds: other processes on the machine only slow a run down.
    t1 = t2 = math.inf
    for _ in range(3):
        t1 = min(t1, _timed(replicate, s, n1, seed=1, jobs=1))
        t2 = min(t2, _timed(replicate, s, n2, seed=1, jobs=2))
    tp = td = math.inf
    have_dask = importlib.util.find_spec("distributed") is not None
    for _ in range(2 if have_dask else 0):
        tp = min(tp, _timed(replicate, s, nd, seed=1, jobs=2))
        td = min(td, _timed(replicate, s, nd, seed=1, jobs=2, dask="local"))
    rss_small, rss_large = _rss(args.scenario, small), _rss(args.scenario, large)
    rps1, rps2 = n1 / t1, n2 / t2
    print(json.dumps({
        "scenario": s.name,
        "cores": os.cpu_count(),
        "load_average_at_start": round(load_before, 2),
        "replications_jobs1": n1,
        "replications_jobs2": n2,
        "replications_per_second_jobs1": round(rps1, 3),
        "replications_per_second_jobs2": round(rps2, 3),
        "parallel_speedup": round(rps2 / rps1, 3),
        "dask_replications": nd,
        "pool_seconds": round(tp, 3) if have_dask else None,
        "dask_local_seconds": round(td, 3) if have_dask else None,
        "dask_local_overhead": round(td / tp, 3) if have_dask else None,
        f"rss_mb_{small}": round(rss_small["self_mb"], 1),
        f"rss_mb_{large}": round(rss_large["self_mb"], 1),
        f"rss_ratio_{large}_vs_{small}": round(rss_large["self_mb"] / rss_small["self_mb"], 3),
    }))


if __name__ == "__main__":
    main()
