"""The shipped scenarios: ``dtsim scenarios`` lists them, ``dtsim scenarios copy`` copies one out.

Any command taking a scenario also takes a shipped scenario's name (``dtsim run
baseline``), from any folder; copy one out to change it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.helpers import BadInput, guarded
from sim.output.folders import out_dir_problem
from sim.scenario import shipped

scenarios_app = typer.Typer(
    name="scenarios",
    help="The shipped scenarios: list them (the default) or copy one out to edit.",
    invoke_without_command=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _list(as_json: bool) -> None:
    rows = [(name, shipped.description(name)) for name in shipped.names()]
    if as_json:
        typer.echo(json.dumps([{"name": n, "description": d,
                                "path": str(shipped.shipped_folder() / f"{n}.yaml")}
                               for n, d in rows], indent=2))
        return
    width = max(len(n) for n, _ in rows)
    for name, text in rows:
        typer.echo(f"{name:<{width}}  {text}")
    typer.echo(f"\nRun one by name (dtsim run {shipped.DEFAULT_NAME}); "
               "copy one out to edit it: dtsim scenarios copy NAME [DEST]", err=True)


@scenarios_app.callback()
def scenarios_cmd(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The shipped scenarios, one line each: name and what it asks."""
    if ctx.invoked_subcommand is None:
        guarded(_list)(as_json)


@scenarios_app.command("list")
def list_cmd(as_json: JsonOption = False) -> None:
    """The shipped scenarios, one line each: name and what it asks."""
    guarded(_list)(as_json)


@scenarios_app.command("copy")
def copy_cmd(
    name: Annotated[str, typer.Argument(help="A shipped scenario (see 'dtsim scenarios').")],
    dest: Annotated[Path, typer.Argument(
        help="Folder, or file name for the copy (default: the current folder).")] = Path("."),
) -> None:
    """Copy a shipped scenario out to edit it (and the files it extends); never overwrites."""

    @guarded
    def body() -> None:
        folder = dest.parent if dest.suffix.lower() in (".yaml", ".yml") and not dest.is_dir() else dest
        problem = out_dir_problem(folder)  # refused before anything is copied
        if problem:
            raise BadInput(f"{folder}: {problem}")
        try:
            written = shipped.copy_out(name, dest)
        except FileNotFoundError:
            raise BadInput(f"unknown scenario {name!r}; shipped: {', '.join(shipped.names())}") \
                from None
        except FileExistsError as exc:
            raise BadInput(f"{exc.filename or exc.args[0]}: exists; not overwritten (name another DEST)") \
                from None
        for path in written:
            typer.echo(str(path))

    body()


def register(app: typer.Typer) -> None:
    """Add ``scenarios`` to ``app``."""
    app.add_typer(scenarios_app, name="scenarios")
