"""docs/architecture.md stays true: every package is described, every module it names exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"


def _resolves(dotted: str) -> bool:
    """True if ``dotted`` is a module, or an attribute of the longest module prefix."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_package_is_described_and_the_readme_links_the_page() -> None:
    text = DOC.read_text(encoding="utf-8")
    packages = sorted(f"sim.{p.name}" for p in (ROOT / "sim").iterdir()
                      if (p / "__init__.py").is_file())
    assert packages and [p for p in packages if f"`{p}`" not in text] == []
    assert "lint-imports" in text
    assert "](docs/architecture.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_named_modules_and_files_exist() -> None:
    text = DOC.read_text(encoding="utf-8")
    dotted = set(re.findall(r"\b((?:sim|viz)(?:\.[a-z_]+)+)", text))
    for name in sorted(dotted):
        assert _resolves(name), f"docs/architecture.md names {name}, which does not exist"
    for path in sorted(set(re.findall(r"`((?:sim|viz)/[\w/]+\.py)`", text))):
        assert (ROOT / path).is_file(), f"docs/architecture.md names {path}, which does not exist"
