"""Shared test configuration.

The suite runs the plain-Python core (``DTSIM_PURE_PYTHON=1``, unless set otherwise):
many tests replace a method to count its calls or to turn a shortcut off, which
compiled code would not see. ``tests/core/test_compiled_core.py`` compares the
compiled core with the plain one.

In CI (the CI environment variable set) hypothesis runs a fixed, derandomized
set of examples, so a run is reproducible; locally it explores new examples.
"""

from __future__ import annotations

import os

os.environ.setdefault("DTSIM_PURE_PYTHON", "1")  # before anything imports sim

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
