"""The command line, one module per command group; ``app`` wires them (see ``sim.cli.app``)."""

import sys
from typing import Any

from sim.cli.app import main

# Importing ``sim.cli.app`` bound the name ``app`` here to that module; the name is the
# command line's (``from sim.cli import app``), built on first use by ``__getattr__``.
del globals()["app"]


def __getattr__(name: str) -> Any:
    """``app``, the whole command line, built on first use (``main`` needs only one group)."""
    if name == "app":
        return sys.modules["sim.cli.app"].app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app", "main"]
