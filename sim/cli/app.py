"""The ``dtsim`` command line: a thin typer layer over ``sim``.

Exit codes: 0 ok, 2 bad input (a message, no traceback), 1 internal error
(traceback only with ``--debug``). With ``--json`` stdout holds exactly one
JSON document. Heavy libraries (matplotlib, pandas, dask) load only in the
commands that need them; figures come from the ``viz`` package, imported
lazily by the commands that draw.

Registration runs one way: this module imports each command group and asks it
to register its commands; no group imports this module.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from sim.cli import classroom, experiments, run, viz
from sim.cli.helpers import state

app = typer.Typer(
    name="dtsim",
    help="Detainee-transfer logistics simulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
) -> None:
    state["debug"] = debug


for _group in (run, experiments, viz, classroom):
    _group.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
    sys.exit(0)
