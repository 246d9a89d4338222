"""The bound command: ``dtsim bound SCENARIO``, the fastest any dispatch could deliver."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from sim.cli.experiments import show_progress
from sim.cli.helpers import BadInput, check_out_dir, guarded, labelled_progress, scenario_path


def bound(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario file.")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a field: path=value (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the bound as one JSON object.")] = False,
    out: Annotated[str | None, typer.Option(
        "--out", metavar="DIR", help="Write bound.json and bound.png to this folder (replaced whole).")
    ] = None,
    step_hours: Annotated[float | None, typer.Option(
        "--step-hours", help="Time step of the network, hours (default: chosen from the legs).")
    ] = None,
) -> None:
    """Lower bound on the day each fraction is delivered (no dispatch can do better)."""
    import sim
    from sim.output.folders import new_run_id, staged_folder
    from sim.planning.bound import BoundError, lower_bound

    warn: list[str] = []
    s = sim.load_scenario(scenario_path(scenario), set_ or [], warn)
    out_dir = check_out_dir(out, "bound")
    if step_hours is not None and not 0 < step_hours <= 24:
        raise BadInput(f"--step-hours {step_hours:g}: expected a number of hours in (0, 24]")
    for w in warn:
        typer.echo(w, err=True)
    try:
        with labelled_progress("bound", show_progress(as_json)) as update:
            result = lower_bound(s, step_hours=step_hours, progress=_bound_progress(update))
    except BoundError as exc:
        raise BadInput(str(exc)) from None
    data = result.to_dict()
    if out_dir is not None:
        from viz.bound import draw_bound

        with staged_folder(out_dir, "bound", new_run_id()) as folder:
            (folder / "bound.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            draw_bound(data, folder / "bound.png")
    if as_json:
        typer.echo(json.dumps(data))
        return
    for line in bound_lines(data):
        typer.echo(line)
    if out_dir is not None:
        typer.echo(f"bound written to {out_dir}/")


def _bound_progress(update: Callable[[str, int, int | None], None] | None
                    ) -> Callable[[str, int, int | None], None] | None:
    """``lower_bound``'s progress on the bar: its stage, and what it counts."""
    if update is None:
        return None
    show = update  # (narrowed: not None)

    def progress(stage: str, done: int, total: int | None) -> None:
        show(f"bound: {stage}" + (" (programs)" if total is None else " (days)"), done, total)

    return progress


#: Most daily lines printed; a longer table shows every k-th day and the last (``--json`` and
#: ``--out`` keep every day). A screenful: a planning choice, not a source.
MAX_DAILY_LINES = 30
#: The day spacings a condensed table may use (round numbers to read).
DAILY_SPACINGS = (2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def bound_lines(data: dict[str, Any]) -> list[str]:
    """The bound in plain words: the fraction days, then the daily upper bounds (up to the
    first day everyone can be delivered; every k-th day and that one when more than
    ``MAX_DAILY_LINES`` days, saying so)."""
    total = data["detainees_total"]
    lines = [f"{data['scenario']}: {total:,} detainees; the fastest any dispatch could go "
             f"(time step {data['step_hours']:g} h)"]
    for frac, day in data["fraction_days"].items():
        pct = f"{float(frac):.0%}"
        when = (f"no sooner than day {day:g}" if day is not None
                else f"not within the {data['horizon_days']}-day horizon")
        lines.append(f"  {pct:>4} delivered: {when}")
    daily = data["delivered_by_day"]
    last = next((i for i, x in enumerate(daily) if x >= total), len(daily) - 1)
    days = list(range(last + 1))
    if len(days) > MAX_DAILY_LINES:
        need = math.ceil(len(days) / (MAX_DAILY_LINES - 1))
        k = next((s for s in DAILY_SPACINGS if s >= need), need)
        days = sorted({*range(0, last + 1, k), last})
        lines.append(f"  delivered by the end of day (at most), every {k} days and day {last} "
                     f"({last + 1} days; --json and --out have every day):")
    else:
        lines.append("  delivered by the end of day (at most):")
    for d in days:
        x = daily[d]
        lines.append(f"    day {d:>3}: {x:>10,.0f}  ({x / total:.0%})" if total else
                     f"    day {d:>3}: 0")
    return lines


def register(app: typer.Typer) -> None:
    """Add ``bound`` to ``app``."""
    app.command("bound")(guarded(bound))
