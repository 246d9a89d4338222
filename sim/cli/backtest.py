"""``dtsim backtest``: run the back-test cases of real operations against their reports.

A thin layer over ``sim.planning.backtest``: parse options, show progress on a terminal
(never with ``--json`` or when stdout is not a terminal), print the table (the reported
band, the model's mean and 5th-95th percentiles, the ratio of the mean to the band's
midpoint, within or outside) or one JSON document; ``--out`` writes backtest.json and
backtest.md. Bad input (an unknown case, ``--n 0``) exits 2 before any work.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from sim.cli.experiments import JOBS_HELP, SEED_HELP, show_progress
from sim.cli.helpers import BadInput, check_out_dir, console, guarded, labelled_progress

CasesArgument = Annotated[list[str] | None, typer.Argument(
    help="Cases to run: shipped cases by name (scenarios/backtest/, without .yaml), or the "
         "path of a scenario file of your own with a 'backtest:' header; none: every shipped "
         "case.")]


def backtest_cmd(
    cases: CasesArgument = None,
    n: Annotated[int, typer.Option("--n", "-n", help="Replications of each case.")] = 20,
    seed: Annotated[int, typer.Option("--seed", help=SEED_HELP)] = 1,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help=JOBS_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    out: Annotated[str | None, typer.Option(
        "--out", metavar="DIR", help="Write backtest.json and backtest.md here.")] = None,
) -> None:
    """Run the back-test suite: each real operation's reported band beside the model's."""
    from sim.planning.backtest import BacktestError, run_backtest

    out_dir = check_out_dir(out, "backtest")
    try:
        with labelled_progress("back-test", show_progress(as_json)) as progress:
            result = run_backtest(cases or None, n, seed=seed, jobs=jobs, progress=progress,
                                  out=out_dir)
    except BacktestError as exc:
        raise BadInput(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
        return
    _print(result)
    if out_dir is not None:
        typer.echo(f"results written to {out_dir}/")


def _print(result: object) -> None:
    from rich.table import Table

    from sim.planning.backtest import BacktestResult, fmt, span

    assert isinstance(result, BacktestResult)
    table = Table(title=f"back-test: {len(result.cases)} case{'' if len(result.cases) == 1 else 's'}, "
                        f"{result.n} replications each",
                  header_style="bold")
    for col in ("case", "measure", "reported", "model mean", "p5-p95", "ratio", "verdict"):
        table.add_column(col, justify="left" if col in ("case", "measure", "verdict") else "right",
                         no_wrap=col in ("case", "verdict"))
    for c, o in result.rows():
        verdict = {True: "within", False: "OUTSIDE", None: "no value"}[o.within]
        table.add_row(c.name, o.measure, span(o.low, o.high), fmt(o.mean),
                      span(o.p5, o.p95), fmt(o.ratio, ratio=True), verdict)
    for case in result.not_expressible:
        table.add_row(case.name, case.reported, "-", "-", "-", "-", "not expressible")
    out = console()
    out.print(table)
    out.print("ratio: model mean / midpoint of the reported band; within: the mean lies in the "
              "band. See docs/validation.md for each case's sources and findings.",
              markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``dtsim backtest`` to ``app`` (errors handled by ``sim.cli.guarded``)."""
    app.command("backtest")(guarded(backtest_cmd))
