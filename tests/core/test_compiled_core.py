"""The core compiled with mypyc gives exactly the plain-Python core's outputs, and a
build is used only while the sources it was compiled from are unchanged.

The rest of the suite runs the plain-Python core (``tests/conftest.py``): tests that
replace a method to count calls or turn a shortcut off cannot reach into compiled
code. This file is where the compiled core is checked, against the plain one, on
every shipped scenario.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from sim.core import COMPILED_BUILD, build_is_current, python_tag, source_digests

ROOT = Path(__file__).resolve().parents[2]
HELPER = ROOT / "tests" / "run_fingerprints.py"


def c_compiler() -> str | None:
    """The C compiler Python's build uses, if it is on this machine."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc)


def fake_sim(root: Path) -> Path:
    """A small tree shaped like ``sim``: the three packages a build depends on."""
    for folder in ("common", "scenario", "core"):
        (root / folder).mkdir(parents=True)
        (root / folder / "a.py").write_text(f"X = '{folder}'\n")
    return root


def write_manifest(build: Path, sim_root: Path, python: str | None = None) -> None:
    build.mkdir(parents=True, exist_ok=True)
    manifest = {"python": python or python_tag(), "sources": source_digests(sim_root)}
    (build / "manifest.json").write_text(json.dumps(manifest))


def test_a_build_is_used_only_while_its_sources_are_unchanged(tmp_path: Path) -> None:
    sim_root, build = fake_sim(tmp_path / "sim"), tmp_path / "build"
    assert not build_is_current(build, sim_root)  # no build
    write_manifest(build, sim_root)
    assert build_is_current(build, sim_root)
    (sim_root / "core" / "a.py").write_text("X = 'edited'\n")
    assert not build_is_current(build, sim_root)  # a changed module
    write_manifest(build, sim_root)
    (sim_root / "scenario" / "b.py").write_text("Y = 1\n")
    assert not build_is_current(build, sim_root)  # a module the build never saw
    (sim_root / "scenario" / "b.py").unlink()
    assert build_is_current(build, sim_root)
    (sim_root / "common" / "a.py").unlink()
    assert not build_is_current(build, sim_root)  # a module gone
    write_manifest(build, sim_root, python="2.7")
    assert not build_is_current(build, sim_root)  # built for another Python
    (build / "manifest.json").write_text("{not json")
    assert not build_is_current(build, sim_root)


def require_current_build() -> None:
    """Skip without a C compiler; fail if a compiler is here but no current build is."""
    if not build_is_current():
        if c_compiler() is None:
            pytest.skip("no C compiler: the core runs as plain Python only")
        pytest.fail(f"no current compiled core in {COMPILED_BUILD}: run `make compile` (or "
                    "`python scripts/compile_core.py`) and read why it failed")


def fingerprints(pure: bool, seeds: tuple[int, ...]) -> dict[str, object]:
    env = {**os.environ, "DTSIM_PURE_PYTHON": "1" if pure else "0"}
    proc = subprocess.run([sys.executable, str(HELPER), *map(str, seeds)], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out: dict[str, object] = json.loads(proc.stdout)
    return out


@pytest.mark.slow
def test_compiled_core_writes_the_same_outputs_on_every_shipped_scenario() -> None:
    """Every output file's text (KPIs, daily, sorties, detainees, events, status,
    fronts) of every shipped scenario, seeds 1 and 2, compiled against plain Python."""
    require_current_build()
    seeds = (1, 2)
    compiled = fingerprints(pure=False, seeds=seeds)
    plain = fingerprints(pure=True, seeds=seeds)
    assert compiled["compiled"] is True
    assert str(compiled["state_module"]).endswith(".so"), compiled["state_module"]
    assert plain["compiled"] is False and plain["state_module"] == "state.py"
    runs_c, runs_p = compiled["runs"], plain["runs"]
    assert isinstance(runs_c, dict) and isinstance(runs_p, dict)
    assert len(runs_p) >= 2 * 20
    differ = {k: [f for f in runs_p[k] if runs_c[k][f] != runs_p[k][f]]
              for k in runs_p if runs_c.get(k) != runs_p[k]}
    assert not differ, differ


def test_the_paths_only_the_compiled_core_takes_pass_their_tests() -> None:
    """``tests/core/test_environment.py`` again, with the compiled ``ModelProcess`` and
    ``CountingEnvironment.timeout``: failures, interrupts and ties as SimPy handles them
    (the shipped scenarios above never fail a process or interrupt one);
    ``tests/core/test_registration_schedule.py``, whose queue keeps its stations in a
    tree only when compiled; ``tests/core/test_pads.py`` and ``tests/core/test_waits.py``,
    whose events are native objects of the compiled core (on SimPy's own environment
    there, failures included); and ``tests/core/test_event_heap.py``, the event queue's
    heap against ``heapq``."""
    require_current_build()
    # A current build and DTSIM_PURE_PYTHON=0: the child imports the compiled core.
    env = {**os.environ, "DTSIM_PURE_PYTHON": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(ROOT / "tests" / "core" / "test_environment.py"),
         str(ROOT / "tests" / "core" / "test_registration_schedule.py"),
         str(ROOT / "tests" / "core" / "test_pads.py"),
         str(ROOT / "tests" / "core" / "test_waits.py"),
         str(ROOT / "tests" / "core" / "test_event_heap.py")],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
    # 0: tests ran and all passed (pytest exits 5 when it collects none)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
