"""The command line, one module per command group; ``app`` wires them (see ``sim.cli.app``).

Loading the command line creates some hundred thousand objects that live as long as the
process (modules, classes, pydantic validators); the cyclic garbage collector would walk
them again and again while they load, about a tenth of a second of a ``dtsim run``.
Collection therefore pauses while ``sim.cli.app`` and everything it needs are imported
(imports leave almost no cyclic garbage), and ``main`` then freezes what was loaded
(``gc.freeze``: kept out of every later collection) before the command runs with the
collector on again.
"""

import sys
from typing import Any

from sim.common.collector import collector_paused

with collector_paused():
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
