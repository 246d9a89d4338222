"""Compile the simulation core with mypyc, beside the sources, for faster runs.

mypyc (part of mypy) turns type-annotated modules into C extensions. The compiled
modules do what the Python ones do (``tests/core/test_compiled_core.py`` checks every
output file of the shipped scenarios against the plain-Python run); a run takes a
fifth to a third less time. The build goes to ``build/compiled-core/`` with a manifest of the
SHA-256 of each source it depends on (the core and the layers below it, whose types
it was compiled against). ``sim.core`` uses the build only while every one of them
still matches (see ``sim/core/__init__.py``), so an edited module is never shadowed
by an old build. Without a C compiler the build fails, and dtsim runs as plain
Python with the same results.

Run from the repository root: ``python scripts/compile_core.py`` (``make`` runs it).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sim.core import COMPILED_BUILD, python_tag, source_digests

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "sim" / "core"
#: The compiled group's shared library, inside ``sim.core`` (mypyc adds ``__mypyc``).
GROUP = "sim.core.native"
#: Modules left as Python: ``errors`` defines the core's exceptions (mypyc compiles
#: subclasses of only a few built-in exceptions), ``results`` keeps cached properties on
#: its frozen dataclasses and works on whole numpy columns once a run, ``prepared`` runs
#: once per scenario.
PLAIN = {"__init__.py", "errors.py", "results.py", "prepared.py"}


def sources() -> list[Path]:
    """The core modules to compile, in name order."""
    return sorted(p for p in CORE.glob("*.py") if p.name not in PLAIN)


def build() -> None:
    from mypyc.build import mypycify
    from setuptools import Distribution

    paths = sources()
    digests = source_digests()  # of the sources as compiled
    started = time.perf_counter()
    print(f"compiling {len(paths)} modules of sim.core with mypyc (about a minute)...", flush=True)
    with tempfile.TemporaryDirectory(prefix="dtsim-mypyc-") as tmp:
        work = Path(tmp)
        staged = work / "lib"
        prior = Path.cwd()
        os.chdir(ROOT)  # mypyc names modules, and the generated C its headers, from here
        try:
            extensions = mypycify([str(p.relative_to(ROOT)) for p in paths], opt_level="3",
                                  group_name=GROUP, target_dir=str(work / "c"))
            dist = Distribution({"name": "dtsim-compiled-core", "ext_modules": extensions})
            dist.script_name = "compile_core"
            dist.verbose = False  # type: ignore[attr-defined]  # no line per file compiled
            command = dist.get_command_obj("build_ext")
            command.build_lib = str(staged)  # type: ignore[attr-defined]
            command.build_temp = str(work / "obj")  # type: ignore[attr-defined]
            command.parallel = os.cpu_count() or 1  # type: ignore[attr-defined]
            dist.run_command("build_ext")
        finally:
            os.chdir(prior)
        if COMPILED_BUILD.exists():
            shutil.rmtree(COMPILED_BUILD)
        COMPILED_BUILD.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staged, COMPILED_BUILD)
    manifest = {"python": python_tag(), "sources": digests}
    # Written last: a build without its manifest is never used.
    (COMPILED_BUILD / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"compiled in {time.perf_counter() - started:.0f} s into "
          f"{COMPILED_BUILD.relative_to(ROOT)}", flush=True)


def main() -> int:
    try:
        build()
    except (Exception, SystemExit) as error:  # any failure (mypyc exits on a type error)
        # leaves the plain-Python core
        if COMPILED_BUILD.exists():
            shutil.rmtree(COMPILED_BUILD, ignore_errors=True)
        print(f"the core was not compiled ({type(error).__name__}: {error}); dtsim runs as plain "
              "Python, with the same results, more slowly", file=sys.stderr)
    return 0  # not an error: make goes on with the plain-Python core


if __name__ == "__main__":
    sys.exit(main())
