"""The run group: ``dtsim run``, ``dtsim validate`` and ``dtsim schema``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.helpers import check_out_dir, fail, guarded, print_kpis, scenario_path, staging_rows
from sim.scenario.loader import ScenarioError


def run(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario file.")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed.")] = 1,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a field: path=value (repeatable).")
    ] = None,
    out: Annotated[str | None, typer.Option(
        "--out", metavar="DIR", help="Write results to this folder (replaced whole).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the KPIs as one JSON object.")] = False,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Do not draw figures.")] = False,
    gap: Annotated[bool | None, typer.Option(
        "--gap/--no-gap", help="Print the gap to the lower bound (`dtsim bound`: a linear "
        "program, about a second; needs the plan extra). Default: on, but off with --json.")
    ] = None,
) -> None:
    """Run one scenario once and report its KPIs."""
    import sim

    warn: list[str] = []
    s = sim.load_scenario(scenario_path(scenario), set_ or [], warn)
    out_dir = check_out_dir(out, "run")
    for w in warn:
        typer.echo(w, err=True)
    result = sim.run(s, seed)
    if out_dir is not None:  # the output modules load only when something is written
        from sim.output.files import write_run
        from sim.scenario.loader import resolved_yaml

        write_run(result, out_dir, resolved_yaml(s), set_ or [])
        if not no_plots:
            from viz.figures import draw_run

            for line in draw_run(out_dir):
                typer.echo(line, err=True)
    if gap is None:
        gap = not as_json
    bound = None
    if gap:
        from sim.planning.gap import bound_gap, full_delivery_day

        bound = bound_gap(s, [full_delivery_day(result.detainees["delivered_hour"])])
    if as_json:
        typer.echo(json.dumps({**result.kpis, "bound_gap": bound} if gap else result.kpis))
    else:
        capacity = {x.id: x.holding_capacity for x in s.sites if x.kind == "airfield"}
        print_kpis(result.kpis, f"{s.name} (seed {seed})",
                   staging_rows(result.staging_log, capacity))
        if gap:
            from sim.planning.gap import gap_line

            typer.echo(gap_line(bound) or "", nl=bound is not None)
        if out_dir is not None:
            typer.echo(f"results written to {out_dir}/")
    from sim.output.notes import light_load_notes

    for note in light_load_notes(result, s):
        typer.echo(note, err=True)


def validate(
    scenarios: Annotated[
        list[Path], typer.Argument(help="Scenario files, or folders to check recursively.")
    ],
) -> None:
    """Check scenario files: exit 0, or exit 2 with one line per problem."""
    from sim.scenario.loader import load_scenario

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


def schema() -> None:
    """Print the JSON Schema of scenario files (for editor autocompletion)."""
    from sim.scenario.schema import Scenario

    typer.echo(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2))


def register(app: typer.Typer) -> None:
    """Add ``run``, ``validate`` and ``schema`` to ``app``."""
    app.command("run")(guarded(run))
    app.command("validate")(guarded(validate))
    app.command("schema")(guarded(schema))
