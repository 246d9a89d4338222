"""How fast bad input is refused: prints one JSON object of timings (seconds).

Moved here from the tests, where wall-clock bounds flaked on a loaded machine; the
tests keep checking what is refused and how, this script measures how fast.

- ``alias_bomb_load_seconds``: ``load_scenario`` on a YAML alias bomb (9^10 nodes if
  expanded) until it raises "too large", in process (best of 3; target < 3).
- ``bad_run_cli_seconds``: ``dtsim run`` on the same file in a subprocess until it exits 2
  (best of 3; target < 10).
- ``dask_unreachable_seconds`` (only if ``distributed`` is installed): ``dtsim sweep
  --dask`` at an address where nothing answers, until it exits 2 (target < 15).

Run from the repository root: ``python bench/bad_input.py``.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sim.scenario.loader import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "tests" / "data" / "toy_experiment.yaml"
DTSIM = [sys.executable, "-m", "sim"]


def alias_bomb() -> str:
    """Ten levels of nine aliases each: tiny on disk, 9^10 nodes if expanded."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for c in "bcdefghij":
        lines.append(f"{c}: &{c} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = c
    return "\n".join(lines) + "\n"


def best_of(n: int, fn: Callable[[], None]) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        bomb = Path(tmp) / "bomb.yaml"
        bomb.write_text(alias_bomb())

        def load() -> None:
            try:
                load_scenario(bomb)
            except ScenarioError:
                return
            raise SystemExit("the alias bomb loaded")

        def cli(*args: str) -> Callable[[], None]:
            def go() -> None:
                code = subprocess.run([*DTSIM, *args], cwd=ROOT, capture_output=True).returncode
                if code != 2:
                    raise SystemExit(f"expected exit 2 from {args}, got {code}")
            return go

        out["alias_bomb_load_seconds"] = round(best_of(3, load), 4)
        out["bad_run_cli_seconds"] = round(
            best_of(3, cli("run", str(bomb), "--out", str(Path(tmp) / "o"), "--no-plots")), 4)
        if importlib.util.find_spec("distributed") is not None:
            out["dask_unreachable_seconds"] = round(best_of(1, cli(
                "sweep", str(TOY), "--grid", "fleet.0.count=1", "-n", "2",
                "--out", str(Path(tmp) / "d"), "--dask", "tcp://127.0.0.1:9")), 4)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
