"""The layering rule is a contract: import-linter checks it (contracts in pyproject.toml).

Beyond import-linter's contracts: no module inside ``sim`` imports the face ``sim``
itself (the CLI may), and ``viz`` is imported by nothing in ``sim`` but the CLI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_only_the_cli_imports_the_face() -> None:
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("sim", "viz", cache_dir=None)
    importers = graph.find_modules_that_directly_import("sim")
    inside = {m for m in importers if m.startswith("sim.") and not m.startswith("sim.cli")}
    assert inside == set(), f"internal modules import the face `sim`: {sorted(inside)}"


def test_the_face_is_importable_without_heavy_libraries() -> None:
    code = ("import sys, sim, sim.cli; heavy = [m for m in ('matplotlib', 'pandas', 'dask', 'viz') "
            "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
