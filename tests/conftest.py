"""Shared test configuration.

In CI (the CI environment variable set) hypothesis runs a fixed, derandomized
set of examples, so a run is reproducible; locally it explores new examples.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
