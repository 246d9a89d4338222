"""CLI commands for planning answers: ``dtsim plan fleet``.

A thin layer over ``sim.planning``: parse options, show progress on a terminal
(never with ``--json`` or when stdout is not a terminal), print the answer and
the table of candidates tried, or one JSON document; with ``--out`` write the
folder and draw its figure (``viz.fleetplan``, imported only then).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.experiments import (
    DASK_HELP,
    JOBS_HELP,
    SEED_HELP,
    SET_HELP,
    counted_progress,
    fail_with,
    load_and_warn,
    show_progress,
)
from sim.cli.helpers import BadInput, check_out_dir, console, guarded, scenario_path

plan_app = typer.Typer(help="Planning answers: the smallest fleet for a deadline.",
                       no_args_is_help=True,
                       context_settings={"help_option_names": ["-h", "--help"]})


def _numbers(text: str | None, option: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise BadInput(f"{option} {text}: expected numbers separated by commas") from None


def fleet_cmd(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario file.")] = None,
    deadline_day: Annotated[float | None, typer.Option(
        "--deadline-day", help="The deadline: days from the scenario start (within the horizon).")
    ] = None,
    confidence: Annotated[float | None, typer.Option(
        "--confidence", help="The probability of success to reach, in (0, 1), e.g. 0.9.")] = None,
    type_: Annotated[str | None, typer.Option(
        "--type", help="Search the count of this aircraft type.")] = None,
    scale: Annotated[bool, typer.Option(
        "--scale", help="Search a multiplier on the whole initial fleet instead.")] = False,
    types: Annotated[str | None, typer.Option(
        "--types", help="Search the cheapest mix of these types (comma-separated).")] = None,
    costs: Annotated[str | None, typer.Option(
        "--costs", help="Cost of one aircraft of each --types type (comma-separated).")] = None,
    target: Annotated[float, typer.Option(
        "--target", help="Success: at least this fraction of those in custody at day 0 "
                         "delivered by the deadline, in (0, 1].")] = 1.0,
    max_count: Annotated[int | None, typer.Option(
        "--max", help="Largest count tried (of each type in a mix); by default 60, or 4 "
        "times the type's current count if more.")] = None,
    max_scale: Annotated[float, typer.Option(
        "--max-scale", help="Largest multiplier tried with --scale.")] = 4.0,
    scale_step: Annotated[float, typer.Option(
        "--scale-step", help="Step of the multipliers tried with --scale.")] = 0.25,
    level: Annotated[float, typer.Option(
        "--level", help="Confidence in the claim: the one-sided lower limit's level.")] = 0.95,
    batch: Annotated[int, typer.Option(
        "--batch", help="First replications at a candidate; each look doubles them.")] = 10,
    max_replications: Annotated[int, typer.Option(
        "--max-replications", help="Most replications at one candidate.")] = 320,
    seed: Annotated[int, typer.Option("--seed", help=SEED_HELP)] = 1,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help=JOBS_HELP)] = None,
    dask: Annotated[str | None, typer.Option("--dask", help=DASK_HELP)] = None,
    use_bound: Annotated[bool, typer.Option(
        "--bound/--no-bound", help="Skip counts whose lower bound misses the deadline "
        "(`dtsim bound`; default on).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    out: Annotated[str | None, typer.Option(
        "--out", metavar="DIR", help="Write plan_fleet.json, trials.csv and the figure here.")
    ] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
) -> None:
    """The smallest fleet for which P(success by the deadline) >= --confidence."""
    from sim.experiments.store import ExperimentError
    from sim.planning.fleet import KIND, plan_fleet

    if deadline_day is None:
        raise BadInput("--deadline-day is required: the day by which the operation must "
                       "be done, in days from the scenario's start (e.g. --deadline-day 21)")
    if confidence is None:
        raise BadInput("--confidence is required: the probability with which the fleet "
                       "must meet the deadline, between 0 and 1 (e.g. --confidence 0.9)")
    type_list = [t.strip() for t in types.split(",") if t.strip()] if types else None
    cost_list = _numbers(costs, "--costs")
    if cost_list is not None and not type_list:
        raise BadInput("--costs goes with --types")
    s = load_and_warn(scenario, set_)
    out_dir = check_out_dir(out, KIND)

    def note(line: str) -> None:
        if not as_json:
            typer.echo(line, err=True)

    try:
        with counted_progress("replications", show_progress(as_json)) as bar:
            plan = plan_fleet(
                s, deadline_day=deadline_day, confidence=confidence, type_=type_, scale=scale,
                types=type_list, costs=cost_list, target=target, max_count=max_count,
                max_scale=max_scale, scale_step=scale_step, level=level, batch=batch,
                max_replications=max_replications, seed=seed, jobs=jobs, dask=dask,
                use_bound=use_bound, progress=bar, notice=note, out=out_dir, source=scenario_path(scenario),
                overrides=set_ or [])
    except ExperimentError as exc:
        fail_with(exc)
        return
    if out_dir is not None:
        from viz.fleetplan import draw_fleet_plan

        draw_fleet_plan(out_dir)
    if as_json:
        typer.echo(json.dumps(plan.to_dict()))
        return
    _print_plan(plan.to_dict())
    if out_dir is not None:
        typer.echo(f"results written to {out_dir}/")


def _print_plan(doc: dict[str, object]) -> None:
    from rich.table import Table

    out = console()
    table = Table(title=f"{doc['scenario']}: candidates tried (limits at "
                        f"{doc['method']['level_per_look']:.4f} each look)",  # type: ignore[index]
                  header_style="bold")
    for col in ("candidate", "n", "successes", "p", "lower", "upper", "verdict"):
        table.add_column(col, justify="left" if col in ("candidate", "verdict") else "right")
    for t in doc["trials"]:  # type: ignore[attr-defined]
        p = "-" if t["p"] is None else f"{t['p']:.3f}"
        table.add_row(t["candidate"], str(t["n"]), str(t["successes"]), p, f"{t['lower']:.3f}",
                      f"{t['upper']:.3f}", t["verdict"])
    out.print(table)
    out.print(str(doc["headline"]), markup=False, highlight=False)
    share = doc["replications_share_of_grid"]
    out.print(f"replications: {doc['replications']} (a full grid of {doc['grid_candidates']} "
              f"candidates at the same per-count precision: {doc['grid_replications']}"
              + ("" if share is None else f", {share:.0%} of it") + ")",  # type: ignore[str-format]
              markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``dtsim plan ...`` to ``app`` (errors handled by ``sim.cli.guarded``)."""
    plan_app.command("fleet")(guarded(fleet_cmd))
    app.add_typer(plan_app, name="plan")
