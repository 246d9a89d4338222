"""The ``dtsim`` command line: a thin typer layer over ``sim``.

Exit codes: 0 ok, 2 bad input (a message, no traceback), 1 internal error
(traceback only with ``--debug``). With ``--json`` stdout holds exactly one
JSON document. Heavy libraries (matplotlib, pandas, dask) load only in the
commands that need them; figures come from the ``viz`` package, imported
lazily by the commands that draw.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from sim.scenario import ScenarioError

DEFAULT_SCENARIO = Path("scenarios/baseline.yaml")
F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="dtsim",
    help="Detainee-transfer logistics simulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
state = {"debug": False}


class BadInput(Exception):
    """A user error outside scenario files (arguments, paths): exit 2."""


def fail(lines: list[str], code: int = 2) -> None:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(code)


def guarded(fn: F) -> F:
    """Turn bad input into exit 2 and internal errors into exit 1 (traceback with --debug)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except ScenarioError as exc:
            fail(exc.problems)
        except BadInput as exc:
            fail([f"error: {exc}"])
        except KeyboardInterrupt:
            fail(["interrupted"], 130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if state["debug"]:
                traceback.print_exc()
            fail([f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)"], 1)

    return wrapper  # type: ignore[return-value]


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
) -> None:
    state["debug"] = debug


def scenario_path(path: Path | None) -> Path:
    p = path or DEFAULT_SCENARIO
    if not p.exists():
        hint = "" if path else " (run from the project folder, or name a scenario file)"
        raise ScenarioError([f"{p}: file not found{hint}"])
    return p


def check_out_dir(out: Path | None) -> None:
    if out is not None and out.exists() and not out.is_dir():
        raise BadInput(f"--out {out}: exists and is not a directory")


def console() -> Any:
    """A rich console; piped output gets a fixed, roomy width instead of 80 columns."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=120)


def print_kpis(kpis: dict[str, Any], title: str) -> None:
    from rich.table import Table

    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("KPI")
    table.add_column("value", justify="left")
    for key, value in kpis.items():
        if key in ("sites", "final_states"):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v:g}" if isinstance(v, float) else f"{k}: {v}"
                              for k, v in value.items()) or "-"
        elif isinstance(value, list):
            value = ", ".join(f"{x['name']} (day {x['day']:g})" for x in value) or "-"
        elif value is None:
            value = "-"
        table.add_row(key, str(value))
    console().print(table)
    sites = kpis.get("sites") or {}
    if sites:
        st = Table(title="Prisons", header_style="bold")
        for col in ("site", "detainees", "delivered", "escaped", "threatened day",
                    "overrun day", "emptied day"):
            st.add_column(col, justify="right" if col != "site" else "left")
        for sid, row in sites.items():
            st.add_row(sid, *(str(row[k]) if row[k] is not None else "-" for k in (
                "detainees", "delivered", "escaped", "threatened_day", "overrun_day",
                "emptied_day")))
        console().print(st)


@app.command()
@guarded
def run(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario file.")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed.")] = 1,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a field: path=value (repeatable).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write results to this folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the KPIs as one JSON object.")] = False,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Do not draw figures.")] = False,
) -> None:
    """Run one scenario once and report its KPIs."""
    import sim
    from sim.export import write_run
    from sim.scenario import resolved_yaml

    warn: list[str] = []
    s = sim.load_scenario(scenario_path(scenario), set_ or [], warn)
    check_out_dir(out)
    for w in warn:
        typer.echo(w, err=True)
    result = sim.run(s, seed)
    if out is not None:
        write_run(result, out, resolved_yaml(s))
        if not no_plots:
            from viz.figures import draw_run

            for line in draw_run(out):
                typer.echo(line, err=True)
    if as_json:
        typer.echo(json.dumps(result.kpis))
    else:
        print_kpis(result.kpis, f"{s.name} (seed {seed})")
        if out is not None:
            typer.echo(f"results written to {out}/")


@app.command()
@guarded
def validate(
    scenarios: Annotated[
        list[Path], typer.Argument(help="Scenario files, or folders to check recursively.")
    ],
) -> None:
    """Check scenario files: exit 0, or exit 2 with one line per problem."""
    from sim.scenario import load_scenario

    problems: list[str] = []
    files: list[Path] = []
    for path in scenarios:
        if path.is_dir():  # every scenario below it; exercise question specs are not scenarios
            found = sorted(p for p in path.rglob("*.yaml") if not p.name.endswith(".questions.yaml"))
            if not found:
                problems.append(f"{path}: no .yaml files in this folder")
            files.extend(found)
        else:
            files.append(path)
    for path in files:
        warn: list[str] = []
        try:
            load_scenario(path, None, warn)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        for w in warn:
            typer.echo(w, err=True)
        typer.echo(f"{path}: ok")
    if problems:
        fail(problems)


@app.command()
@guarded
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor autocompletion)."""
    from sim.schema import Scenario

    typer.echo(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2))


def _register_optional_commands() -> None:
    from sim import cli_classroom, cli_experiments, cli_viz

    for module in (cli_experiments, cli_viz, cli_classroom):
        module.register(app)


_register_optional_commands()


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except SystemExit:
        raise
    sys.exit(0)
