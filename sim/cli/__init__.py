"""The command line, one module per command group; ``app`` wires them (see ``sim.cli.app``)."""

from sim.cli.app import app, main

__all__ = ["app", "main"]
