"""The model core: run state, detainees, transfers, vehicles, dispatch, fronts,
hazards, rules, registration, and the results built after a run.

When ``scripts/compile_core.py`` has compiled the core with mypyc (``make`` does it
where a C compiler is present), its modules are imported from the build, but only
while every source it was built from is unchanged; otherwise, or with the
environment variable ``DTSIM_PURE_PYTHON=1``, the plain-Python modules are used.
Both give identical results (``tests/core/test_compiled_core.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

SIM_ROOT = Path(__file__).resolve().parent.parent
#: Where ``scripts/compile_core.py`` puts the compiled core (a source checkout only).
COMPILED_BUILD = SIM_ROOT.parent / "build" / "compiled-core"
#: The packages whose sources a compiled core depends on: the core and the layers it imports.
COMPILED_AGAINST = ("common", "scenario", "core")


def source_digests(sim_root: Path = SIM_ROOT) -> dict[str, str]:
    """SHA-256 (hex) of every module a compiled core depends on, by path below ``sim``."""
    return {p.relative_to(sim_root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in COMPILED_AGAINST for p in sorted((sim_root / folder).glob("*.py"))}


def python_tag() -> str:
    """The running Python's version, as a build records it ("3.11")."""
    return "{}.{}".format(*sys.version_info[:2])


def build_is_current(build: Path = COMPILED_BUILD, sim_root: Path = SIM_ROOT) -> bool:
    """Whether ``build`` holds a compiled core for this Python, made from the sources as
    they are now (no module added, removed or changed since)."""
    try:
        manifest = json.loads((build / "manifest.json").read_text())
        return bool(manifest["python"] == python_tag()
                    and manifest["sources"] == source_digests(sim_root))
    except (OSError, ValueError, KeyError, TypeError):
        return False


#: True when this process runs the compiled core.
COMPILED = os.environ.get("DTSIM_PURE_PYTHON", "") in ("", "0") and build_is_current()
if COMPILED:
    # Submodules are looked up in ``__path__`` in order: the build's extension modules
    # come first; the modules it leaves as Python are found in this folder.
    __path__.insert(0, str(COMPILED_BUILD / "sim" / "core"))
