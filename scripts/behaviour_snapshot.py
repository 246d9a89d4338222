"""Fingerprint what the model produces, to prove that a refactoring changed no behaviour.

Runs every shipped scenario (``scenarios/**/*.yaml`` that is a scenario) for seeds 1-5
through the command line (``python -m sim run --out DIR --no-plots``) and records, for
each run, the KPIs without ``wall_seconds`` and a SHA-256 of every file written, with
the wall-clock fields masked. Two snapshots taken before and after a change must be
identical::

    python scripts/behaviour_snapshot.py > before.json
    ... change ...
    python scripts/behaviour_snapshot.py > after.json
    cmp before.json after.json

``--ignore KPI`` (repeatable) drops a KPI from the fingerprint and masks it in every file
before hashing: a change that only alters the event count compares with
``--ignore sim_events``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = (1, 2, 3, 4, 5)
WALL = re.compile(rb'"wall_seconds": [0-9.eE+-]+')
# meta.json holds the version, wall time and run id besides what kpis.json has; complete.json
# the run id and the digests of the files (meta.json's among them)
VOLATILE = ("meta.json", "complete.json")


def scenarios() -> list[Path]:
    out = []
    for p in sorted((ROOT / "scenarios").rglob("*.yaml")):
        if p.name.endswith(".questions.yaml"):
            continue
        out.append(p)
    return out


def masked(data: bytes, ignore: tuple[str, ...]) -> bytes:
    """``data`` without wall-clock fields and the ``ignore`` keys' values."""
    data = WALL.sub(b"", data)
    for name in ignore:
        data = re.sub(rb'"' + re.escape(name.encode()) + rb'": [0-9.eE+-]+', b"", data)
    return data


def fingerprint(
    path: Path, seed: int, ignore: tuple[str, ...] = ()
) -> tuple[str, dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        proc = subprocess.run(
            [sys.executable, "-m", "sim", "run", str(path), "--seed", str(seed), "--out", str(out),
             "--no-plots"],
            capture_output=True, cwd=ROOT, check=False,
        )
        key = f"{path.relative_to(ROOT)}@{seed}"
        if proc.returncode != 0:
            return key, {"exit": proc.returncode, "stderr": proc.stderr.decode()[-400:]}
        kpis = json.loads((out / "kpis.json").read_text())
        kpis.pop("wall_seconds", None)
        for name in ignore:
            kpis.pop(name, None)
        files = {}
        for f in sorted(out.iterdir()):
            if f.is_file() and f.suffix != ".png" and f.name not in VOLATILE:
                files[f.name] = hashlib.sha256(masked(f.read_bytes(), ignore)).hexdigest()[:16]
        return key, {"kpis": kpis, "files": files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ignore", action="append", default=[], metavar="KPI",
                        help="a KPI to leave out (and mask in files), e.g. sim_events")
    ignore = tuple(parser.parse_args().ignore)
    jobs = [(p, s) for p in scenarios() for s in SEEDS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(pool.map(lambda job: fingerprint(*job, ignore), jobs))
    json.dump(results, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
