"""docs/model.md stays checkable against the code: it follows the STRESS-DES sections, its
diagrams name every detainee and vehicle state, and every module, file and code object it
cites exists (a renamed function or a new state makes this fail until the page follows)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType

from sim.common.vocabulary import DETAINEE_STATE_NAMES, VEHICLE_STATE_NAMES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "model.md"
PACKAGES = ("sim.common", "sim.scenario", "sim.core", "sim.experiments")
FILE_SUFFIXES = ("py", "csv", "json", "yaml", "toml", "md", "cff")


def text() -> str:
    return DOC.read_text(encoding="utf-8")


def mermaid_blocks() -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", text(), re.S)


def modules() -> dict[str, ModuleType]:
    """The model's modules by short name (``transfers``, ``rng``, ...)."""
    out: dict[str, ModuleType] = {}
    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.iter_modules(package.__path__):
            out[info.name] = importlib.import_module(f"{name}.{info.name}")
    return out


def _has(obj: object, attr: str) -> bool:
    """An attribute of ``obj``, or an instance attribute its class sets (``self.attr =``)."""
    if hasattr(obj, attr):
        return True
    if inspect.isclass(obj):
        return re.search(rf"self\.{re.escape(attr)}\b[^=\n]*=", inspect.getsource(obj)) is not None
    return False


def resolves(dotted: str, mods: dict[str, ModuleType]) -> bool:
    """``Class.attr``, ``module.name`` or a full ``sim.x.y`` path names something real."""
    parts = dotted.split(".")
    if parts[0] == "sim":
        for i in range(len(parts), 0, -1):
            try:
                found: object = importlib.import_module(".".join(parts[:i]))
            except ModuleNotFoundError:
                continue
            return _resolve_rest(found, parts[i:])
        return False
    heads = [mods[parts[0]]] if parts[0] in mods else []
    heads += [getattr(m, parts[0]) for m in mods.values() if hasattr(m, parts[0])]
    return any(_resolve_rest(h, parts[1:]) for h in heads)


def _resolve_rest(obj: object, rest: list[str]) -> bool:
    for i, attr in enumerate(rest):
        if not _has(obj, attr):
            return False
        if i < len(rest) - 1:
            obj = getattr(obj, attr)
    return True


def test_the_page_follows_the_stress_des_sections_and_the_readme_links_it() -> None:
    headings = re.findall(r"^## (.+)$", text(), re.M)
    assert headings[:6] == ["1. Objectives", "2. Logic", "3. Data", "4. Experimentation",
                            "5. Implementation", "6. Code access"]
    assert any("limitations" in h.lower() for h in headings[6:])
    assert "](docs/model.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_diagrams_name_every_detainee_and_vehicle_state() -> None:
    detainee, vehicle = (b for b in mermaid_blocks() if b.startswith("stateDiagram"))
    assert [s for s in DETAINEE_STATE_NAMES if not re.search(rf"\b{s}\b", detainee)] == []
    assert [s for s in VEHICLE_STATE_NAMES if not re.search(rf"\b{s}\b", vehicle)] == []


def test_every_limitation_says_its_effect() -> None:
    rows = re.findall(r"^\| (\d+) \| (.+?) \| (.+?) \|$", text(), re.M)
    assert len(rows) >= 10
    assert [int(n) for n, _, _ in rows] == list(range(1, len(rows) + 1))
    assert [n for n, _, effect in rows if len(effect.split()) < 5] == []


def test_every_cited_file_and_code_object_exists() -> None:
    doc = text()
    paths = set(re.findall(r"`((?:sim|tests|scripts|bench|viz|scenarios)/[\w/.\-]*)`", doc))
    assert paths and sorted(p for p in paths if not (ROOT / p).exists()) == []
    mods = modules()
    dotted = {d for d in re.findall(r"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)`", doc)
              if d.rsplit(".", 1)[1] not in FILE_SUFFIXES and not d.startswith("simpy.")}
    assert len(dotted) > 30
    assert sorted(d for d in dotted if not resolves(d, mods)) == []


def test_a_renamed_object_would_be_caught() -> None:
    mods = modules()
    assert resolves("Transfers.dispatch", mods) and resolves("Transfers.queue", mods)
    assert resolves("sim.common.rng.replication_seed", mods)
    assert not resolves("Transfers.dispatch_all", mods)
    assert not resolves("results.no_such_builder", mods)
