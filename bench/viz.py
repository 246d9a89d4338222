"""Benchmark of the figures and the report; prints one JSON object.

    python bench/viz.py [--scenario scenarios/baseline.yaml] [--repeat 3]

- ``run_with_figures_seconds``: ``dtsim run SCENARIO --out DIR`` end to end as a
  subprocess (simulation, files and every run figure; target < 4 s).
- ``report_seconds``: ``dtsim report DIR`` on that folder, end to end as a
  subprocess (target < 3 s). The figures ``dtsim run`` drew are embedded as
  they are when newer than the data; the map slider frames are drawn.
- ``report_cold_seconds``: the same after deleting the PNG figures, so every
  figure is drawn too (the report on a folder written with ``--no-plots``).
- ``plot_svg_seconds``: ``dtsim plot DIR --format svg``.
- ``report_bytes``: size of report.html.
- ``*_cpu_seconds``: user + system CPU time of the same best runs (worker
  processes included), a check that does not depend on other load;
  ``load_average`` is the 1-minute load when the benchmark started.

Each time is the best of ``--repeat`` runs (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DTSIM = [sys.executable, "-m", "sim"]


def timed(cmd: list[str], before: Callable[[], None] | None = None,
          repeat: int = 3) -> tuple[float, float]:
    """Best (wall, CPU) seconds of ``cmd`` over ``repeat`` runs (``before`` runs untimed)."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        if before is not None:
            before()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        best = min(best, (wall, cpu))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/baseline.yaml")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="dtsim-bench-viz-"))
    out = work / "run"
    try:
        def fresh() -> None:
            shutil.rmtree(out, ignore_errors=True)

        run_s = timed([*DTSIM, "run", args.scenario, "--out", str(out)], fresh, args.repeat)
        report_s = timed([*DTSIM, "report", str(out)], repeat=args.repeat)

        def drop_pngs() -> None:
            for p in out.glob("*.png"):
                p.unlink()

        cold_s = timed([*DTSIM, "report", str(out)], drop_pngs, args.repeat)
        svg_s = timed([*DTSIM, "plot", str(out), "--format", "svg"], repeat=args.repeat)
        print(json.dumps({
            "scenario": args.scenario,
            "run_with_figures_seconds": round(run_s[0], 3),
            "run_with_figures_target_seconds": 4.0,
            "report_seconds": round(report_s[0], 3),
            "report_target_seconds": 3.0,
            "report_cold_seconds": round(cold_s[0], 3),
            "plot_svg_seconds": round(svg_s[0], 3),
            "run_with_figures_cpu_seconds": round(run_s[1], 3),
            "report_cpu_seconds": round(report_s[1], 3),
            "report_cold_cpu_seconds": round(cold_s[1], 3),
            "report_bytes": (out / "report.html").stat().st_size,
            "load_average": round(load, 2),
        }))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
