"""The command line, one module per command group; ``app`` wires them (see ``sim.cli.app``).

``main``, the console script, reads the raw arguments first (``sim.cli.args``, standard
library only). On Linux its local process pools fork their workers from the command
itself, which starts no thread of its own, so each worker starts at once with all the
command has loaded (``sim.experiments.fork_server.fork_workers_from_here``). Elsewhere a
command that will run a local process pool starts its fork server before anything else
loads, so that the server's imports of the model overlap all of this process's own
(typer, the command line, the command's group, the scenario); only then does the
command line load. Importing this package loads nothing more, which a
pool worker relies on too: multiprocessing runs the parent's main script, here the
console script, in each worker as it starts.

Loading the command line creates some hundred thousand objects that live as long as the
process (modules, classes, pydantic validators); the cyclic garbage collector would walk
them again and again while they load, about a tenth of a second of a ``dtsim run``.
Collection therefore pauses while ``sim.cli.app`` and everything it needs are imported
(imports leave almost no cyclic garbage), and the command line then freezes what was
loaded (``gc.freeze``: kept out of every later collection) before the command runs with
the collector on again.
"""

import sys
import types
from typing import Any


def main() -> None:
    """Console-script entry point: let local pools fork their workers from this process
    (on Linux; elsewhere start a pooled command's fork server now), then load the command
    line and run the command (``sim.cli.app.main``)."""
    from sim.cli.args import pool_wanted
    from sim.experiments.fork_server import fork_workers_from_here, start_fork_server

    fork_workers_from_here()  # on Linux; elsewhere a pooled command starts its server now
    jobs = pool_wanted(sys.argv[1:])
    if jobs is not None:
        start_fork_server(jobs or None, None)
    _load_command_line()
    sys.modules["sim.cli.app"].main()


def _load_command_line() -> None:
    """Import ``sim.cli.app`` (typer and the command line's helpers) with the collector
    paused; nothing if it is loaded already."""
    if "sim.cli.app" in sys.modules:
        return
    from sim.common.collector import collector_paused

    with collector_paused():
        import sim.cli.app  # noqa: F401 - imported for sys.modules; the name is the property's


class _CommandLinePackage(types.ModuleType):
    """``sim.cli``, whose name ``app`` is the whole command line, not the module
    ``sim.cli.app`` that builds it: the import system binds each submodule it loads to
    its package's name for it, which here would hide the command line."""

    @property
    def app(self) -> Any:
        """The whole command line, built on first use (``main`` needs only one group)."""
        _load_command_line()
        return sys.modules["sim.cli.app"].app

    @app.setter
    def app(self, module: Any) -> None:
        """Where the import system binds ``sim.cli.app`` once it has loaded: the name
        stays the command line's."""


sys.modules[__name__].__class__ = _CommandLinePackage

__all__ = ["app", "main"]
