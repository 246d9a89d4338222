"""Speed benchmark: prints one JSON object of timings and ratios measured in this process.

- ``baseline_seconds``: one baseline replication in process, no plots (best of 15).
- ``bare_simpy_seconds``: 100,000 bare ``env.timeout`` events (best of 6), the yardstick.
- ``baseline_ratio``: the first over the second (target <= 0.35). The baseline has every
  mechanism of operational realism on (release at the prisons, ground time per stop, load
  factors, minimum loads, operating windows, mission-capable rates, convoys, pull through
  staging, uncertain pacing).
- ``before_calibration_ratio``: the same for ``bench/baseline_before_calibration.yaml``,
  the baseline as it was before calibration (none of those mechanisms), measured in the
  same process. ``calibration_slowdown`` is ``baseline_ratio`` over it: the whole run,
  which includes the extra work the mechanisms create (with load factors below one the
  same people need about 25% more sorties; held vehicles, convoys and releases add
  events). ``per_sortie_slowdown`` divides each run's time by its loaded sorties first:
  what the mechanisms cost to simulate per unit of airlift work (target <= 1.2).
- ``scale10_seconds``: the baseline with 10x detainees, 10x fleet (including aircraft added
  by triggers) and 10x pads; beds, holding capacities, intake limits and registration
  stations are scaled too so the run does ten times the work instead of stalling at
  the facility gate (best of 15). ``scale10_ratio`` is over ``baseline_seconds``
  (target <= 10): both are the best of 15 timings, the same statistic on both sides.
  With two timings a round (the best of 6 against the baseline's best of 15), the
  scale10 side had fewer chances to fall in a quiet moment, and the ratio read a few
  tenths higher than with the same number of timings taken in the same process.
- The in-process timings are taken in three rounds; each round times five baselines,
  two bare SimPy loops, five runs before calibration and five at scale10, one after the
  other, and each measure is the best over the rounds. On a shared machine a slow spell
  lasts seconds: with one block per measure, the best of a block taken in such a spell
  moved a ratio by a tenth from one bench to the next. ``--rounds N`` takes N rounds
  instead (about 1.5 s each; ``rounds`` in the output says how many): where the
  machine's speed moves from run to run, a scale10 run, ten times longer than a
  baseline, more often overlaps a slow spell, so with few rounds its best can stay further
  above its quiet time than the baseline's does, and ``scale10_ratio`` reads high.
- ``peak_rss_mb``: peak resident memory after the scale10 run (target < 300 MB).
- ``cli_json_seconds``: wall time of ``dtsim run --json --no-plots`` in a subprocess
  (best of 3); ``cli_over_imports`` is that over the wall time of a bare
  ``python -c "import simpy, numpy, networkx, pydantic, yaml"`` (best of 3; target <= 2).
- ``core_compiled``: whether the core ran compiled with mypyc (``make`` builds it;
  ``DTSIM_PURE_PYTHON=1`` times the plain-Python core).
- ``bytecode_compiled``: the bench first brings the bytecode of ``sim`` and ``viz`` up to
  date (``compile_bytecode``), so that no timed command compiles a changed module again;
  false if a module did not compile.
- ``jobs2_speedup`` (with ``--parallel``): ``dtsim replicate -n 200 --json`` with
  ``--jobs 1`` over ``--jobs 2``, end to end (target >= 1.8 on 2 cores). Each command
  is timed twice, the two in turn, and each side's best is taken (the same statistic on
  both sides); ``replicate200_jobs1_range`` and ``replicate200_jobs2_range`` give each
  side's fastest and slowest. With one timing each, a slow spell in either command
  moved the speedup by a tenth or more from one bench to the next.
  ``two_core_ceiling`` (also with ``--parallel``) is what the machine itself gives two
  processes: a CPU-bound loop of plain Python run alone and then twice at once, twice
  the first time over the second (2.0 on two idle cores of their own; less where the
  two cores share a physical core or the host). ``jobs2_of_ceiling`` is
  ``jobs2_speedup`` over it: the share of the machine's own speedup that the pool gets.
  ``command_serial_seconds`` is what a command spends around its one run (start-up,
  output and exit: ``cli_json_seconds`` less ``baseline_seconds``), which no pool can
  share; ``replicate`` spends at least that much outside its runs (an estimate from
  below: it also loads its experiment modules and summarises its runs). With it,
  ``jobs2_amdahl_limit`` is the speedup two ideal workers would give the ``--jobs 1``
  time if everything but that part were shared between them with no cost at all
  (Amdahl's law), and ``jobs2_of_amdahl_limit`` is ``jobs2_speedup`` over it.

Run from the repository root: ``python bench/run.py [--parallel] [--rounds N]``.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import simpy

import sim
import sim.core
from sim.scenario.loader import build
from sim.scenario.schema import Scenario, dump_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
BEFORE_CALIBRATION = ROOT / "bench" / "baseline_before_calibration.yaml"
SCALE = 10
ROUNDS = 3  # rounds of the in-process timings by default (see the module's docstring)
# Timings a round of each run that a ratio compares (the baseline, the baseline before
# calibration, scale10): the same number for each, so that both sides of a ratio are the
# best of as many timings (see the docstring).
RUN_TIMINGS = 5
PARALLEL_ROUNDS = 2  # timings of each ``replicate`` command, in turn (see the docstring)


def best_of(n: int, fn: Any) -> float:
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bare_simpy(events: int = 100_000) -> None:
    env = simpy.Environment()

    def proc(env: simpy.Environment) -> Any:
        for _ in range(events):
            yield env.timeout(1.0)

    env.process(proc(env))
    env.run()


SPIN = "x = 0\nfor i in range(15_000_000):\n    x += i\n"
"""The CPU-bound loop of ``two_core_ceiling``: plain Python, no memory traffic to speak of."""


def in_turn(rounds: int, first: Any, second: Any) -> tuple[list[float], list[float]]:
    """Seconds of ``first`` and of ``second``, timed one after the other ``rounds`` times:
    a slow spell of the machine falls on both rather than on one side's only timing."""
    firsts: list[float] = []
    seconds: list[float] = []
    for _ in range(rounds):
        firsts.append(best_of(1, first))
        seconds.append(best_of(1, second))
    return firsts, seconds


def two_core_ceiling(rounds: int = 2) -> float:
    """Twice the time of ``SPIN`` alone over the time of two copies at once (best of
    ``rounds`` each, alone and in pairs in turn): the speedup two processes can get here."""
    cmd = [sys.executable, "-c", SPIN]

    def both() -> None:
        procs = [subprocess.Popen(cmd) for _ in range(2)]
        for p in procs:
            if p.wait() != 0:
                raise RuntimeError("the CPU-bound loop failed")

    alone, pair = in_turn(rounds, lambda: subprocess.run(cmd, check=True), both)
    return 2.0 * min(alone) / min(pair)


def amdahl_limit(total: float, serial: float, workers: int = 2) -> float:
    """The speedup ``workers`` ideal workers give a job of ``total`` seconds of which
    ``serial`` seconds cannot be shared (Amdahl's law): total over serial plus the rest
    divided between them."""
    if not 0.0 <= serial <= total or total <= 0.0 or workers < 1:
        raise ValueError(f"need 0 <= serial ({serial}) <= total ({total}), total > 0 "
                         f"and workers ({workers}) >= 1")
    return total / (serial + (total - serial) / workers)


def times(value: Any, k: int) -> Any:
    """A count or a distribution of counts, k times larger (a cv is a shape: unchanged)."""
    if isinstance(value, dict):
        return {key: v * k if isinstance(v, (int, float)) and key != "cv" else v
                for key, v in value.items()}
    return value * k


def scaled(s: Scenario, k: int = SCALE) -> Scenario:
    """``s`` with k times the detainees, vehicles and pads (and matching facility capacity)."""
    data = dump_scenario(s)
    for site in data["sites"]:
        site["pads"] = site["pads"] * k
        site["detainees"] = {c: n * k for c, n in site.get("detainees", {}).items()}
        for key in ("beds", "holding_capacity", "daily_intake_limit"):
            if site.get(key) is not None:
                site[key] = site[key] * k
        for key in ("registration", "release"):
            if site.get(key) and site[key].get("stations"):
                site[key]["stations"] *= k
        site["repatriation_per_day"] = site.get("repatriation_per_day", 0.0) * k
    for entry in data["fleet"]:
        entry["count"] *= k
    for trig in data.get("triggers", []):
        for act in trig["then"]:
            for key in ("add_aircraft", "withdraw_aircraft"):
                if key in act:
                    act[key]["count"] *= k
            if act.get("set_intake_limit", {}).get("per_day") is not None:
                act["set_intake_limit"]["per_day"] = times(act["set_intake_limit"]["per_day"], k)
    return build(data)


def sorties(result: Any) -> int:
    """Loaded sorties of a run, all types."""
    return int(sum(result.kpis["sorties"].values()))


def cli_command() -> list[str]:
    exe = Path(sys.executable).with_name("dtsim")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("dtsim")
    return [found] if found else [sys.executable, "-m", "sim"]


def rounds_wanted(argv: list[str]) -> int:
    """The in-process rounds asked for with ``--rounds N`` (``ROUNDS`` without it)."""
    if "--rounds" not in argv:
        return ROUNDS
    at = argv.index("--rounds") + 1
    if at >= len(argv) or not argv[at].isdigit() or int(argv[at]) < 1:
        print("bench/run.py: --rounds needs a whole number of at least 1", file=sys.stderr)
        sys.exit(2)
    return int(argv[at])


def compile_bytecode(root: Path = ROOT, packages: tuple[str, ...] = ("sim", "viz")) -> bool:
    """Bring the bytecode of ``packages`` under ``root`` (this checkout's ``sim`` and
    ``viz``) up to date, as ``make`` does when it installs, before any command is timed.

    Where a module changed since its bytecode was written and the environment sets
    ``PYTHONDONTWRITEBYTECODE`` (or the checkout is read-only), every process compiles
    it again each time it starts. The ``--jobs 2`` timing pays that in more than one
    process (the command, and its fork server or, for the modules the command had not
    loaded, each worker forked from it) and the ``--jobs 1`` timing in one, so
    ``jobs2_speedup`` read low by a few hundredths after a change. True if every module
    compiled."""
    import compileall

    return all(compileall.compile_dir(root / package, quiet=1) for package in packages)


def main() -> None:
    rounds = rounds_wanted(sys.argv)
    bytecode_ok = compile_bytecode()
    s = sim.load_scenario(BASELINE)
    warm = sim.run(s, 1)  # warm up imports and caches
    before = sim.load_scenario(BEFORE_CALIBRATION)
    before_result = sim.run(before, 1)
    big = scaled(s)
    big_result = sim.run(big, 1)
    baseline = bare = before_seconds = scale10 = float("inf")
    for _ in range(rounds):
        baseline = min(baseline, best_of(RUN_TIMINGS, lambda: sim.run(s, 1)))
        bare = min(bare, best_of(2, bare_simpy))
        before_seconds = min(before_seconds, best_of(RUN_TIMINGS, lambda: sim.run(before, 1)))
        scale10 = min(scale10, best_of(RUN_TIMINGS, lambda: sim.run(big, 1)))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    cmd = [*cli_command(), "run", "--json", "--no-plots"]

    def cli() -> None:
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)

    cli_seconds = best_of(3, cli)
    bare_imports = [sys.executable, "-c", "import simpy, numpy, networkx, pydantic, yaml"]
    imports_seconds = best_of(3, lambda: subprocess.run(bare_imports, cwd=ROOT, check=True))
    parallel: dict[str, Any] = {}
    if "--parallel" in sys.argv:
        def replicate(jobs: int) -> None:
            subprocess.run([*cli_command(), "replicate", str(BASELINE), "-n", "200", "--jobs", str(jobs),
                            "--json"], cwd=ROOT, check=True, capture_output=True)

        ones, twos = in_turn(PARALLEL_ROUNDS, lambda: replicate(1), lambda: replicate(2))
        one, two = min(ones), min(twos)
        ceiling = two_core_ceiling()
        serial = min(max(0.0, cli_seconds - baseline), one)
        limit = amdahl_limit(one, serial)
        parallel = {"replicate200_jobs1_seconds": round(one, 3),
                    "replicate200_jobs2_seconds": round(two, 3),
                    "replicate200_jobs1_range": [round(min(ones), 3), round(max(ones), 3)],
                    "replicate200_jobs2_range": [round(min(twos), 3), round(max(twos), 3)],
                    "jobs2_speedup": round(one / two, 3),
                    "two_core_ceiling": round(ceiling, 3),
                    "jobs2_of_ceiling": round(one / two / ceiling, 3),
                    "command_serial_seconds": round(serial, 3),
                    "jobs2_amdahl_limit": round(limit, 3),
                    "jobs2_of_amdahl_limit": round(one / two / limit, 3)}
    out = {
        "baseline_seconds": round(baseline, 4),
        "bare_simpy_seconds": round(bare, 4),
        "baseline_ratio": round(baseline / bare, 3),
        "before_calibration_seconds": round(before_seconds, 4),
        "before_calibration_ratio": round(before_seconds / bare, 3),
        "calibration_slowdown": round(baseline / before_seconds, 3),
        "baseline_sorties": sorties(warm),
        "before_calibration_sorties": sorties(before_result),
        "per_sortie_slowdown": round((baseline / sorties(warm))
                                     / (before_seconds / sorties(before_result)), 3),
        "scale10_seconds": round(scale10, 4),
        "scale10_ratio": round(scale10 / baseline, 3),
        "peak_rss_mb": round(rss_mb, 1),
        "cli_json_seconds": round(cli_seconds, 4),
        "bare_imports_seconds": round(imports_seconds, 4),
        "cli_over_imports": round(cli_seconds / imports_seconds, 3),
        **parallel,
        "baseline_sim_events": warm.kpis["sim_events"],
        "scale10_detainees": big_result.kpis["detainees_total"],
        "scale10_delivered": big_result.kpis["delivered"],
        "scale10_sim_events": big_result.kpis["sim_events"],
        "core_compiled": sim.core.COMPILED,
        "bytecode_compiled": bytecode_ok,
        "rounds": rounds,
        "targets": {"baseline_ratio": 0.35, "per_sortie_slowdown": 1.2, "scale10_ratio": 10,
                    "cli_over_imports": 2.0,
                    "jobs2_speedup": 1.8, "peak_rss_mb": 300},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
