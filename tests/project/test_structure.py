"""Structure rules the import contracts do not express: where imports sit, one helper per job.

Function-local imports are for heavy libraries (matplotlib, pandas, dask, viz) and for
keeping ``dtsim --help`` fast; an import inside a function that only dodged an import
circle hides the module's real dependencies, so the modules below import their siblings
at module level.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _local_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``from X import`` / ``import X`` inside a function of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.append((node.lineno, node.module))
            elif isinstance(node, ast.Import):
                found.extend((node.lineno, alias.name) for alias in node.names)
    return found


@pytest.mark.parametrize("name", ["classroom", "experiments", "viz", "run"])
def test_cli_groups_import_the_shared_helpers_at_module_level(name: str) -> None:
    path = ROOT / "sim" / "cli" / f"{name}.py"
    local = [(line, mod) for line, mod in _local_imports(path)
             if mod in ("sim.cli.helpers", "sim.common.atomic")]
    assert local == [], f"{path.name}: imported inside a function: {local}"


@pytest.mark.parametrize("name", ["loader", "checks"])
def test_scenario_modules_import_their_siblings_at_module_level(name: str) -> None:
    path = ROOT / "sim" / "scenario" / f"{name}.py"
    local = [(line, mod) for line, mod in _local_imports(path)
             if mod.startswith(("sim.", "pydantic"))]
    assert local == [], f"{path.name}: imported inside a function: {local}"


def test_statistics_and_experiment_tables_are_apart() -> None:
    """``sim.common.stats`` is pure statistics; the KPI tables belong to the experiments."""
    import sim.common.stats as stats
    import sim.experiments.tables as tables

    assert not hasattr(stats, "ColumnTable") and not hasattr(stats, "flatten_kpis")
    assert callable(tables.flatten_kpis) and isinstance(tables.ColumnTable(), tables.ColumnTable)


def test_one_atomic_write_helper_in_sim() -> None:
    """Temporary-file-and-rename lives in ``sim.common.atomic`` only."""
    helper = ROOT / "sim" / "common" / "atomic.py"
    offenders = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "sim").rglob("*.py"))
                 if p != helper and "mkstemp(" in p.read_text(encoding="utf-8")]
    assert offenders == []
