"""CLI commands for experiments: ``replicate``, ``compare`` and ``sweep``.

A thin layer over ``sim.experiments.replication``: parse options, show a progress bar on a
terminal (never with ``--json`` or when stdout is not a terminal), print a
table or one JSON document. ``sim.cli.app`` imports this module at start-up, so
the experiment machinery (and rich's tables) is imported inside the commands. The
quick bound of ``replicate``'s gap line is solved beside its runs
(``sim.experiments.alongside``: a pool's first task, or after the runs with
``--jobs 1``); ``sim.planning.gap`` loads the bound's own modules (networkx, scipy)
only where it is solved.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from sim.cli.helpers import (
    BadInput,
    check_out_dir,
    console,
    fail,
    guarded,
    progress_bar,
    scenario_path,
)
from sim.cli.tables import fitted_table

SEED_HELP = "Master seed; replication i runs with seed_i derived from it (see docs)."
JOBS_HELP = "Local worker processes (default: the number of cores)."
DASK_HELP = "Run on Dask: 'local' (a LocalCluster of --jobs processes) or tcp://host:port."
SET_HELP = "Override a scenario field: path=value (repeatable)."
DEADLINE_HELP = ("Report P(done by this day): at least --target of those in custody at day 0 "
                 "delivered within this many days from the scenario start (within the horizon).")
TARGET_HELP = ("Share of those in custody at day 0 that must be delivered to count as done, "
               "in whole percent: above 0, at most 1 (people lost never count).")
OUT_HELP = "Write results to this folder (replaced whole; see docs)."
DEFAULT_REPLICATIONS = 20
"""``-n`` of replicate, compare and sweep: enough for a first interval; raise it for a report."""
N_HELP = "Replications (seeds)."


@contextmanager
def counted_progress(label: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr while the block runs, or nothing."""
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with progress_bar(label, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TimeRemainingColumn()) as bar:

        def update(done: int, total: int) -> None:
            bar(completed=done, total=total)

        yield update


def show_progress(as_json: bool) -> bool:
    """Whether a command draws a progress bar: on a terminal, and not for ``--json``."""
    return not as_json and sys.stdout.isatty() and sys.stderr.isatty()


def fail_with(exc: Exception) -> None:
    """Bad input: ``exc``'s message as the command's one error line (exit 2)."""
    fail([f"error: {exc}"])


def fmt_cell(v: Any, digits: int = 4) -> str:
    """About ``digits`` significant digits, never in exponent form (tables stay narrow)."""
    if v is None:
        return "-"
    if isinstance(v, float):
        a = abs(v)
        if a == 0 or a != a:
            return "0" if a == 0 else "nan"
        if a >= 10 ** (digits - 1):
            return f"{v:,.0f}"
        if a >= 1:
            return f"{v:.{digits - 1 - int(math.log10(a))}f}"
        return f"{v:.{digits}f}"
    return str(v)


def _kpi_names(names: list[str]) -> list[str]:
    from sim.experiments.common import MAIN_KPIS

    main = sorted((k for k in names if k in MAIN_KPIS), key=MAIN_KPIS.index)  # delivery first
    return main + [k for k in names if k.startswith(("sorties:", "flight_hours:"))]


def _note_dropped(dropped: list[str]) -> None:
    """Say which columns a narrow terminal left out (numbers are never cut short instead)."""
    if dropped:
        console().print(f"(left out to fit the terminal: {', '.join(dropped)}; "
                        "widen it or use --json for every column)", markup=False, highlight=False)


def _print_replications(summary: dict[str, Any]) -> None:
    out = console()
    rows = [(k, [fmt_cell(summary["kpis"][k][c]) for c in ("mean", "half_width", "sd", "p5", "p50", "p95")])
            for k in _kpi_names(list(summary["kpis"]))]
    table, dropped = fitted_table(
        f"{summary['scenario']}: {summary['n']} replications (master seed {summary['seed']})",
        "KPI", ("mean", "±95%", "sd", "p5", "p50", "p95"), rows,
        ("p5", "p95", "p50", "sd"), out.width)
    out.print(table)
    _note_dropped(dropped)
    for name, pr in summary["probabilities"].items():
        label = pr.get("label") or f"P({name.replace('_', ' ')})"
        out.print(f"{label} = {fmt_cell(pr['p'], 3)}  "
                  f"[95% CI {fmt_cell(pr['ci_low'], 3)} .. {fmt_cell(pr['ci_high'], 3)}]",
                  markup=False, highlight=False)


def load_and_warn(path: Path | None, sets: list[str] | None,
                  options: list[str] | None = None) -> Any:
    """The scenario at ``path`` with its ``--set`` overrides, its warnings echoed on stderr."""
    import sim

    warn: list[str] = []
    s = sim.load_scenario(scenario_path(path), sets or [], warn, options)
    for w in warn:
        typer.echo(w, err=True)
    return s


def replicate_cmd(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario file.")] = None,
    n: Annotated[int, typer.Option("-n", "--n", help=N_HELP)] = DEFAULT_REPLICATIONS,
    seed: Annotated[int, typer.Option("--seed", help=SEED_HELP)] = 1,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help=JOBS_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    out: Annotated[str | None, typer.Option("--out", metavar="DIR", help=OUT_HELP)] = None,
    deadline_day: Annotated[float | None, typer.Option("--deadline-day", help=DEADLINE_HELP)] = None,
    target: Annotated[float, typer.Option("--target", help=TARGET_HELP)] = 1.0,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
    dask: Annotated[str | None, typer.Option("--dask", help=DASK_HELP)] = None,
    gap: Annotated[bool, typer.Option(
        "--gap/--no-gap", help="Print the gap to the lower bound (`dtsim bound`, its quick "
        "form, computed beside the runs; needs the plan extra).")] = True,
) -> None:
    """Run N replications; KPI means, 95% CIs, percentiles, probabilities, daily bands."""
    from sim.experiments.fork_server import start_fork_server
    from sim.experiments.replication import ExperimentError, replicate

    start_fork_server(jobs, dask)  # its imports overlap the loading of the scenario
    s = load_and_warn(scenario, set_)
    out_dir = check_out_dir(out, "replications")
    from sim.experiments.alongside import Alongside
    from sim.planning.gap import gap_for, gap_line, quick_bound_day, replication_full_days

    bound = Alongside(quick_bound_day) if gap else None
    try:
        with counted_progress("replications", show_progress(as_json)) as progress:
            result = replicate(s, n, seed=seed, jobs=jobs, deadline_day=deadline_day, dask=dask,
                               out=out_dir, progress=progress,
                               source=scenario_path(scenario), overrides=set_ or [],
                               target=target, alongside=bound)
    except ExperimentError as exc:
        fail_with(exc)
        return
    the_gap = None if bound is None else gap_for(bound.value(),
                                                 replication_full_days(result.table))
    if as_json:
        typer.echo(json.dumps({**result.to_dict(), "bound_gap": the_gap} if gap
                              else result.to_dict()))
        return
    _print_replications(result.to_dict())
    typer.echo(gap_line(the_gap) or "", nl=the_gap is not None)
    if out_dir is not None:
        typer.echo(f"results written to {out_dir}/")


def compare_cmd(
    a: Annotated[Path, typer.Argument(help="Scenario A (the reference).")],
    b: Annotated[Path, typer.Argument(help="Scenario B (differences are B - A).")],
    n: Annotated[int, typer.Option("-n", "--n", help=N_HELP + " Of each scenario.")] = DEFAULT_REPLICATIONS,
    seed: Annotated[int, typer.Option("--seed", help=SEED_HELP)] = 1,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help=JOBS_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    deadline_day: Annotated[float | None, typer.Option("--deadline-day", help=DEADLINE_HELP)] = None,
    target: Annotated[float, typer.Option("--target", help=TARGET_HELP)] = 1.0,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP + " Both.")] = None,
    set_b: Annotated[list[str] | None, typer.Option("--set-b", help="Override in B only.")] = None,
    dask: Annotated[str | None, typer.Option("--dask", help=DASK_HELP)] = None,
    out: Annotated[str | None, typer.Option("--out", metavar="DIR", help=OUT_HELP)] = None,
    label_a: Annotated[str | None, typer.Option(
        "--label-a", help="Name of A in tables and figures (default: its scenario name).")] = None,
    label_b: Annotated[str | None, typer.Option(
        "--label-b", help="Name of B (default: its scenario name + its --set-b overrides).")
    ] = None,
) -> None:
    """Compare two scenarios on the same seeds (common random numbers): B - A with CIs."""
    from sim.experiments.fork_server import start_fork_server
    from sim.experiments.replication import ExperimentError, compare

    start_fork_server(jobs, dask)  # its imports overlap the loading of the scenarios
    sa = load_and_warn(a, set_)
    sb = load_and_warn(b, [*(set_ or []), *(set_b or [])],
               ["--set"] * len(set_ or []) + ["--set-b"] * len(set_b or []))
    out_dir = check_out_dir(out, "comparison")
    try:
        with counted_progress("runs", show_progress(as_json)) as progress:
            result = compare(sa, sb, n, seed=seed, jobs=jobs, deadline_day=deadline_day,
                             dask=dask, progress=progress, out=out_dir, label_a=label_a,
                             label_b=label_b, source_a=a, source_b=b, overrides=set_ or [],
                             overrides_b=set_b or [], target=target)
    except ExperimentError as exc:
        fail_with(exc)
        return
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
        return
    names = _kpi_names(list(result.differences)) + [
        k for k in ("completed", "completed_by_deadline", "any_escape") if k in result.differences]
    rows = []
    for k in names:
        d = result.differences[k]
        paired = "-" if d["ci_low"] is None else f"{fmt_cell(d['ci_low'], 3)}..{fmt_cell(d['ci_high'], 3)}"
        unpaired = ("-" if d["unpaired_ci_low"] is None else
                    f"{fmt_cell(d['unpaired_ci_low'], 3)}..{fmt_cell(d['unpaired_ci_high'], 3)}")
        rows.append((d.get("label", k), [fmt_cell(d["mean_a"]), fmt_cell(d["mean_b"]),
                                         fmt_cell(d["mean_diff"]), paired, unpaired,
                                         fmt_cell(d["variance_ratio"], 3)]))
    term = console()
    table, dropped = fitted_table(
        f"B - A: B = {result.label_b}, A = {result.label_a}; {n} paired replications", "KPI",
        ("mean A", "mean B", "B - A", "95% CI paired", "95% CI unpaired", "var. ratio"), rows,
        ("95% CI unpaired", "var. ratio", "mean A", "mean B"), term.width)
    term.print(table)
    _note_dropped(dropped)
    if "var. ratio" not in dropped:
        term.print("var. ratio: unpaired over paired variance of the difference "
                  "(how many times more runs independent seeds would need)",
                  markup=False, highlight=False)
    if out_dir is not None:
        typer.echo(f"results written to {out_dir}/")


def sweep_cmd(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario file.")] = None,
    grid: Annotated[list[str] | None, typer.Option(
        "--grid", help="path=v1,v2,... (repeatable; full factorial).")] = None,
    design: Annotated[Path | None, typer.Option(
        "--design", help="CSV or YAML file of override sets, one a point.")] = None,
    n: Annotated[int, typer.Option("-n", "--n", help=N_HELP + " At each point.")] = DEFAULT_REPLICATIONS,
    out: Annotated[str | None, typer.Option(
        "--out", metavar="DIR", help="Results folder (required).")] = None,
    seed: Annotated[int, typer.Option("--seed", help=SEED_HELP)] = 1,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help=JOBS_HELP)] = None,
    dask: Annotated[str | None, typer.Option("--dask", help=DASK_HELP)] = None,
    export: Annotated[str | None, typer.Option(
        "--export", help="Also write DIR/results.csv or .parquet: csv or parquet.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    deadline_day: Annotated[float | None, typer.Option("--deadline-day", help=DEADLINE_HELP)] = None,
    target: Annotated[float, typer.Option("--target", help=TARGET_HELP)] = 1.0,
    set_: Annotated[list[str] | None, typer.Option("--set", help=SET_HELP)] = None,
) -> None:
    """Sweep a grid or design, N replications a point, into a resumable SQLite store."""
    from sim.experiments.replication import ExperimentError, parse_grid
    from sim.experiments.sweeps import sweep

    if out is None:
        raise BadInput("--out DIR is required (the folder of the results store)")
    s = load_and_warn(scenario, set_)
    check_out_dir(out)
    out_dir = Path(out)
    state = {"done": 0, "total": 0}

    def note(msg: str) -> None:
        typer.echo(msg, err=True)

    try:
        parsed = parse_grid(grid or [])
        with counted_progress("sweep", show_progress(as_json)) as bar:
            def progress(done: int, total: int) -> None:
                state.update(done=done, total=total)
                if bar:
                    bar(done, total)

            result = sweep(s, n=n, out=out_dir, grid=parsed, design=design, seed=seed, jobs=jobs,
                           dask=dask, export=export, deadline_day=deadline_day,
                           progress=progress, notice=note, overrides=set_ or [],
                           target=target)
    except ExperimentError as exc:
        fail_with(exc)
        return
    except KeyboardInterrupt:
        fail([f"interrupted: {state['done']} of {state['total'] or '?'} replications are in "
              f"{out}/results.sqlite; run the same command again to resume"], 130)
        return
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
        return
    _print_sweep(result.to_dict(), list(result.points[0]) if result.points else [])
    typer.echo(f"ran {result.ran}, reused {result.skipped}; results in {result.store_path}, "
               f"summary in {out}/summary.csv")
    if export:
        typer.echo(f"exported {out}/results.{export}")


def _print_sweep(summary: dict[str, Any], params: list[str]) -> None:
    from rich.table import Table

    table = Table(title=f"{summary['scenario']}: sweep, {summary['n']} replications a point",
                  header_style="bold")
    params = list(dict.fromkeys(p for pt in summary["points"] for p in pt["params"]))
    from sim.experiments.common import probability_label

    probs = ["complete_within_horizon"]
    if summary.get("deadline_day") is not None:
        probs.insert(0, "complete_by_deadline")
    horizons = {pt.get("horizon_days") for pt in summary["points"]}
    one_horizon = horizons.pop() if len(horizons) == 1 else None
    target = summary.get("target") or 1.0
    heads = [probability_label(name, summary.get("deadline_day"), one_horizon, target)
             for name in probs]
    cols = ["#", *params, "n", "delivered share", "day all delivered (95% CI)", *heads,
            "escaped", "delivered"]
    for c in cols:
        table.add_column(c, justify="right", no_wrap=c in heads)
    for pt in summary["points"]:
        k = pt["kpis"]
        cd = k.get("day_to_100", {})
        ci = ("-" if cd.get("mean") is None else
              f"{fmt_cell(cd['mean'])}" + ("" if cd.get("ci_low") is None else
                                       f" ({fmt_cell(cd['ci_low'])} .. {fmt_cell(cd['ci_high'])})"))
        ps = [fmt_cell(pt["probabilities"].get(name, {}).get("p"), 3) for name in probs]
        table.add_row(str(pt["point_index"]), *(fmt_cell(pt["params"].get(p)) for p in params),
                      str(pt["n"]), fmt_cell(k.get("delivered_fraction", {}).get("mean"), 3),
                      ci, *ps,
                      fmt_cell(k.get("escaped", {}).get("mean")),
                      fmt_cell(k.get("delivered", {}).get("mean")))
    console().print(table)


def register(app: typer.Typer) -> None:
    """Add the experiment commands to ``app`` (errors handled by ``sim.cli.guarded``)."""
    app.command("replicate")(guarded(replicate_cmd))
    app.command("compare")(guarded(compare_cmd))
    app.command("sweep")(guarded(sweep_cmd))
