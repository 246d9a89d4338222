"""Fingerprints of shipped-scenario runs, printed as JSON (run in a subprocess by
``tests/core/test_compiled_core.py``, once with the compiled core and once without).

For each shipped scenario and seed: the SHA-256 of every output a run folder holds
(KPIs without the wall-clock time, daily, sorties, detainees, events, status, fronts),
written by the same function as ``dtsim run`` (``result_texts``). Also says which core ran.

Usage: ``python tests/run_fingerprints.py SEED [SEED ...]``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from tiny_scenarios import ROOT, SHIPPED_SCENARIOS

import sim
import sim.core
import sim.core.state
from sim.output.files import json_text, result_texts


def fingerprint(path: Path, seed: int) -> dict[str, str]:
    result = sim.run(sim.load_scenario(path), seed)
    kpis = {k: v for k, v in result.kpis.items() if k != "wall_seconds"}
    texts = {**result_texts(result), "kpis.json": json_text(kpis)}
    return {name: hashlib.sha256(text.encode()).hexdigest()[:16] for name, text in texts.items()}


def main() -> None:
    seeds = [int(a) for a in sys.argv[1:]] or [1]
    runs = {f"{path}@{seed}": fingerprint(ROOT / path, seed)
            for path in SHIPPED_SCENARIOS for seed in seeds}
    state_module = Path(sim.core.state.__file__ or "")
    json.dump({"compiled": sim.core.COMPILED, "state_module": state_module.name, "runs": runs},
              sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
