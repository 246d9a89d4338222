"""Packaging: what `make run` installs, what a wheel holds, and that building it warns of nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _make_dry_run(target: str, tmp_path: Path, *options: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    proc = subprocess.run(["make", "-n", *options, "-C", str(ROOT), target, f"VENV={tmp_path / 'env'}"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_make_run_installs_only_what_running_needs(tmp_path: Path) -> None:
    run = _make_dry_run("run", tmp_path)
    installs = [line for line in run.splitlines() if "pip install --quiet -e" in line]
    assert installs and all(line.endswith("-e '.[compiled]'") for line in installs), installs
    test = _make_dry_run("test", tmp_path)
    assert "-e '.[test,compiled]'" in test
    assert "-m pytest" not in run and "-m pytest" in test
    assert set(PYPROJECT["project"]["optional-dependencies"]["compiled"]) <= {
        "mypy>=1.10", "setuptools>=77"}  # mypyc and what builds its extensions, nothing more


@pytest.mark.parametrize("target", ["run", "test"])
def test_make_compiles_the_core_before_it_runs(target: str, tmp_path: Path) -> None:
    """``scripts/compile_core.py`` runs (when a source changed) before dtsim or the tests."""
    lines = _make_dry_run(target, tmp_path, "-W", "sim/core/model.py").splitlines()
    compile_at = [i for i, line in enumerate(lines) if "scripts/compile_core.py" in line]
    uses = [i for i, line in enumerate(lines) if "dtsim run" in line or "-m pytest" in line]
    assert compile_at and uses and compile_at[0] < uses[0], lines



@pytest.mark.parametrize("target", ["run", "test"])
def test_every_install_compiles_the_bytecode_of_sim_and_viz(target: str, tmp_path: Path) -> None:
    """Start-up reads ``.pyc`` files even where writing them is disabled
    (``PYTHONDONTWRITEBYTECODE``); an editable install writes none, so the Makefile does."""
    lines = _make_dry_run(target, tmp_path).splitlines()
    installs = [i for i, line in enumerate(lines) if "pip install --quiet -e" in line]
    assert installs
    for i in installs:
        assert "-m compileall -q sim viz" in lines[i + 1]

def _package_dirs(top: str) -> list[str]:
    """Every folder of ``top`` that holds a file we ship (code or data), as a dotted name."""
    out = []
    for d in sorted([ROOT / top, *(ROOT / top).rglob("*")]):
        if d.is_dir() and d.name != "__pycache__" and any(
                f.is_file() and f.suffix != ".pyc" for f in d.iterdir()):
            out.append(".".join(d.relative_to(ROOT).parts))
    return out


def test_every_subpackage_and_data_file_is_configured_for_the_wheel() -> None:
    from setuptools import find_namespace_packages

    setup = PYPROJECT["tool"]["setuptools"]
    assert isinstance(setup["packages"], dict), "list no packages by hand: discovery finds them all"
    find = setup["packages"]["find"]
    assert find.get("namespaces", True)
    found = set(find_namespace_packages(str(ROOT), include=find["include"]))
    expected = {d for top in ("sim", "viz") for d in _package_dirs(top)}
    assert expected <= found, f"not packaged: {sorted(expected - found)}"
    data = setup["package-data"]
    for pkg in expected:
        folder = ROOT.joinpath(*pkg.split("."))
        for f in folder.iterdir():
            if f.is_file() and f.suffix not in (".py", ".pyc"):
                assert any(f.match(g) for g in data.get(pkg, [])), f"{f} is not package data"


def test_license_is_an_spdx_string() -> None:
    assert PYPROJECT["project"]["license"] == "MIT"
    requires = PYPROJECT["build-system"]["requires"]
    assert any(r.replace(" ", "").startswith("setuptools>=77") for r in requires)


def _copy_of_the_checkout(dest: Path) -> list[str]:
    """The tracked files (links kept as links) copied to ``dest``: a build leaves the checkout alone."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True,
                             text=True).stdout.split("\n")
    tracked = [t for t in tracked if t and (ROOT / t).exists()]
    for name in tracked:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target, follow_symlinks=False)
    return tracked


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_data_file(tmp_path: Path) -> None:
    src = tmp_path / "src"
    tracked = _copy_of_the_checkout(src)
    if not tracked:
        pytest.skip("not a git checkout")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w",
                           str(tmp_path / "dist"), str(src)], capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0 and ("No matching distribution" in proc.stderr
                                 or "Could not find a version" in proc.stderr):
        pytest.skip("the build backend cannot be fetched here")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "BuildBackendWarning" not in proc.stdout + proc.stderr
    [wheel] = (tmp_path / "dist").glob("dtsim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [t for t in tracked if t.startswith(("sim/", "viz/")) and t not in names]
    assert missing == []
    for name in ("sim/scenarios/baseline.yaml", "sim/scenarios/exercises/05-uncertainty.md",
                 "sim/scenario/library.yaml",
                 "viz/data/borders.json", "sim/py.typed"):
        assert name in names
