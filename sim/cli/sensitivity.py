"""CLI commands ``sensitivity`` (which inputs matter) and ``discover`` (where the deadline fails).

Thin: parse options, show progress on a terminal, print plain sentences and a
table, or one JSON document with ``--json``. Both read a ranges file
(``sim.planning.ranges``); bad input exits 2 with one line a problem before
anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from sim.cli.experiments import (
    DASK_HELP,
    JOBS_HELP,
    SEED_HELP,
    SET_HELP,
    counted_progress,
    fmt_cell,
    load_and_warn,
    show_progress,
)
from sim.cli.helpers import BadInput, check_out_dir, console, fail, guarded

RANGES_HELP = "YAML file: scenario path -> {low, high} or a distribution (see docs/planning.md)."


def _note(msg: str) -> None:
    typer.echo(msg, err=True)


def sensitivity_cmd(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario file.")] = None,
    ranges: Annotated[Path | None, typer.Option("--ranges", help=RANGES_HELP)] = None,
    method: Annotated[str, typer.Option("--method", help="morris or sobol.")] = "morris",
    n: Annotated[int, typer.Option(
        "-n", "--n", help="Morris trajectories, or the Sobol base sample (a power of 2).")] = 10,
    reps: Annotated[int, typer.Option(
        "--reps", help="Replications at every point (2 or more measure the noise).")] = 5,
    kpi: Annotated[list[str] | None, typer.Option(
        "--kpi", help="KPI to analyse (repeatable; default delivered_fraction).")] = None,
    out: Annotated[str | None, typer.Option(
        "--out", metavar="DIR", help="Results folder (required; a re-run resumes).")] = None,
    seed: Annotated[int, typer.Option("--seed", help=SEED_HELP)] = 1,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help=JOBS_HELP)] = None,
    dask: Annotated[str | None, typer.Option("--dask", help=DASK_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
) -> None:
    """Which inputs matter: Morris or Sobol indices, judged against replication noise."""
    from sim.planning.sensitivity import DEFAULT_KPI, sensitivity

    if ranges is None:
        raise BadInput("--ranges FILE is required (the inputs to vary)")
    if out is None:
        raise BadInput("--out DIR is required (the folder of the results store)")
    s = load_and_warn(scenario, set_)
    check_out_dir(out)
    result = _tracked("sensitivity", as_json, out, lambda progress: sensitivity(
        s, ranges, method=method, n=n, reps=reps, kpis=kpi or [DEFAULT_KPI], out=out,
        seed=seed, jobs=jobs, dask=dask, progress=progress, notice=_note))
    if result is None:
        return
    summary = result.to_dict()
    if as_json:
        typer.echo(json.dumps(summary))
        return
    _print_sensitivity(summary)
    typer.echo(f"ran {result.ran}, reused {result.skipped}; summary in {out}/summary.json; "
               f"figures: dtsim report {out}")


def _print_sensitivity(summary: dict) -> None:  # type: ignore[type-arg]
    from rich.table import Table

    term = console()
    morris = summary["method"] == "morris"
    for kpi, res in summary["results"].items():
        table = Table(title=f"{summary['scenario']}: {summary['method']} sensitivity of {kpi} "
                            f"({summary['points']} points x {summary['reps']} runs)",
                      header_style="bold")
        heads = (["input", "mu*", "95% CI", "sigma", "noise floor", "verdict"] if morris else
                 ["input", "ST", "95% CI", "S1", "95% CI ", "verdict"])
        for h in heads:
            table.add_column(h, justify="left" if h == "input" else "right")
        constant = res["noise"].get("constant") is not None
        for r in res["indices"]:
            verdict = "constant" if constant else r.get("verdict") or \
                {True: "matters", False: "noise", None: "-"}[r["real"]]
            if morris:
                table.add_row(r["label"], fmt_cell(r["mu_star"]),
                              f"{fmt_cell(r['mu_star_ci_low'])}..{fmt_cell(r['mu_star_ci_high'])}",
                              fmt_cell(r["sigma"]), fmt_cell(r["noise_floor"]), verdict)
            else:
                table.add_row(r["label"], fmt_cell(r["ST"]),
                              f"{fmt_cell(r['ST_ci_low'])}..{fmt_cell(r['ST_ci_high'])}",
                              fmt_cell(r["S1"]), f"{fmt_cell(r['S1_ci_low'])}..{fmt_cell(r['S1_ci_high'])}",
                              verdict)
        term.print(table)
    for line in summary.get("sentences", []):
        term.print(line, markup=False, highlight=False)


def discover_cmd(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario file.")] = None,
    ranges: Annotated[Path | None, typer.Option("--ranges", help=RANGES_HELP)] = None,
    kpi: Annotated[str | None, typer.Option("--kpi", help="The KPI to test.")] = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", help="A run is a failure when the KPI is above this (see --direction).")
    ] = None,
    direction: Annotated[str, typer.Option(
        "--direction", help="above (default: a day reached too late) or below.")] = "above",
    deadline_day: Annotated[float | None, typer.Option(
        "--deadline-day", help="A run fails when fewer than --target of those in custody at "
        "day 0 were delivered by this day.")] = None,
    target: Annotated[float, typer.Option(
        "--target", help="With --deadline-day: the share to deliver (default 1: all).")] = 1.0,
    samples: Annotated[int, typer.Option(
        "--samples", help="Latin hypercube points over the ranges.")] = 200,
    reps: Annotated[int, typer.Option("--reps", help="Runs at every point.")] = 1,
    from_store: Annotated[Path | None, typer.Option(
        "--from-store", metavar="DIR", help="Use the runs of a sweep or sensitivity store.")
    ] = None,
    boxes: Annotated[int, typer.Option("--boxes", help="Most boxes to find.")] = 2,
    min_coverage: Annotated[float, typer.Option(
        "--min-coverage", help="Share of failures the first box must keep.")] = 0.5,
    out: Annotated[str | None, typer.Option("--out", metavar="DIR", help="Results folder.")
                   ] = None,
    seed: Annotated[int, typer.Option("--seed", help=SEED_HELP)] = 1,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help=JOBS_HELP)] = None,
    dask: Annotated[str | None, typer.Option("--dask", help=DASK_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
) -> None:
    """Where the deadline fails: PRIM boxes over a sampled design, in plain words."""
    from sim.planning.discover import discover

    s = load_and_warn(scenario, set_)
    if out is not None:
        check_out_dir(out)
    result = _tracked("discover", as_json, out, lambda progress: discover(
        s, ranges, kpi=kpi, threshold=threshold, direction=direction,
        deadline_day=deadline_day, target=target, samples=samples, reps=reps,
        from_store=from_store, out=out, seed=seed, jobs=jobs, dask=dask, max_boxes=boxes,
        min_coverage=min_coverage, progress=progress, notice=_note))
    if result is None:
        return
    summary = result.to_dict()
    if as_json:
        typer.echo(json.dumps(summary))
        return
    term = console()
    for line in summary["sentences"]:
        term.print(line, markup=False, highlight=False)
    if out is not None:
        typer.echo(f"ran {result.ran}, reused {result.skipped}; summary in {out}/summary.json; "
                   f"figures: dtsim report {out}")


T = TypeVar("T")


def _tracked(label: str, as_json: bool, out: str | None,
             call: Callable[[Callable[[int, int], None]], T]) -> T | None:
    """Run ``call(progress)`` with a progress bar on a terminal; a bad input is one
    ``error:`` line (exit 2), an interrupt says how far the resumable store got (130).
    None when it failed (the exit is already under way)."""
    from sim.experiments.store import ExperimentError

    state = {"done": 0, "total": 0}
    try:
        with counted_progress(label, show_progress(as_json)) as bar:
            def progress(done: int, total: int) -> None:
                state.update(done=done, total=total)
                if bar:
                    bar(done, total)

            return call(progress)
    except ExperimentError as exc:
        fail([f"error: {exc}"])
    except KeyboardInterrupt:
        fail([f"interrupted: {state['done']} of {state['total'] or '?'} runs are in "
              f"{out}/results.sqlite; run the same command again to resume"], 130)
    return None


def register(app: typer.Typer) -> None:
    """Add ``sensitivity`` and ``discover`` to ``app``."""
    app.command("sensitivity")(guarded(sensitivity_cmd))
    app.command("discover")(guarded(discover_cmd))
