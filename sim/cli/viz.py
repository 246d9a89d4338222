"""CLI commands that draw: ``dtsim plot``, ``dtsim report`` and ``dtsim map``.

``sim`` never imports ``viz`` at import time: the commands below import it
(and matplotlib with it) only when they run, keeping ``dtsim --help`` fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sim.cli.helpers import BadInput, guarded
from sim.common.atomic import atomic_write_bytes

FOLDER_HELP = ("A results folder written by `dtsim run --out`, `dtsim replicate --out` or "
               "`dtsim sweep --out`, or a folder holding the output of `dtsim compare --json` "
               "saved as compare.json.")


def _results(folder: Path, kpi: str | None = None) -> Any:
    """Open and check a results folder; unreadable or corrupt files are bad input (exit 2)."""
    from viz.results import Results, ResultsError

    try:
        res = Results(folder, kpi=kpi)
        res.validate()
    except ResultsError as exc:
        raise BadInput(str(exc)) from None
    return res


def plot(
    folder: Annotated[Path, typer.Argument(help=FOLDER_HELP)],
    fmt: Annotated[str, typer.Option("--format", help="Image format: png or svg.")] = "png",
    kpi: Annotated[str | None, typer.Option(
        "--kpi", help="The KPI a sweep figure shows, e.g. escaped or p_done_by_day_15 "
                      "(default: day_to_100).")] = None,
) -> None:
    """Redraw every figure the results folder supports (without re-running)."""
    fmt = fmt.lower()
    if fmt not in ("png", "svg"):
        raise BadInput(f"--format {fmt}: expected png or svg")
    res = _results(folder, kpi)
    from viz.results import SENSITIVITY_KIND, SWEEP_KIND, ResultsError

    if kpi is not None and res.kind not in (SWEEP_KIND, SENSITIVITY_KIND):
        raise BadInput(f"--kpi applies to a sweep or sensitivity folder; {folder} holds "
                       f"{res.kind}")
    from viz.figures import draw_folder

    try:
        written, notes = draw_folder(folder, fmt, kpi)
    except ResultsError as exc:
        raise BadInput(str(exc)) from None
    for line in notes:
        typer.echo(line, err=True)
    for path in written:
        typer.echo(str(path))
    if not written:
        typer.echo(f"no figures drawn for {folder}", err=True)


def report(
    folder: Annotated[Path, typer.Argument(help=FOLDER_HELP)],
) -> None:
    """Write FOLDER/report.html: one self-contained page with every figure embedded."""

    _results(folder)
    from viz.report import write_report
    from viz.results import ResultsError

    try:
        path = write_report(folder)
    except ResultsError as exc:
        raise BadInput(str(exc)) from None
    typer.echo(str(path))


def map_(
    folder: Annotated[Path, typer.Argument(help="A results folder written by `dtsim run --out`.")],
    day: Annotated[int | None, typer.Option("--day", help="Draw the situation at the end of "
                                                           "this day (0 = start date).")] = None,
    gif: Annotated[bool, typer.Option("--gif", help="Write map.gif: one frame per day of the "
                                                    "operation.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="Image format: png or svg.")] = "png",
) -> None:
    """Draw the map: sites, legs, detainees carried, fronts and site statuses."""
    fmt = fmt.lower()
    if fmt not in ("png", "svg"):
        raise BadInput(f"--format {fmt}: expected png or svg")
    res = _results(folder)
    from viz.results import RUN_KIND, Skip

    if res.kind != RUN_KIND:
        raise BadInput(f"{folder}: the map needs the results of one run (`dtsim run --out`), "
                       f"not {res.kind}")
    import matplotlib.pyplot as plt

    from viz import geomap, style
    from viz.figures import to_bytes

    try:
        model = geomap.MapModel(res)
    except Skip as exc:
        raise BadInput(f"{folder}: cannot draw the map: {exc}") from None
    if day is not None and not 0 <= day < model.n_days:
        raise BadInput(f"--day {day}: outside the run (0..{model.n_days - 1})")
    with style.use_style():
        if gif:
            path = geomap.map_gif(res, folder / "map.gif")
            typer.echo(str(path))
        if day is not None or not gif:
            fig = geomap.map_figure(res, day)
            name = "map" if day is None else f"map_day{day}"
            path = folder / f"{name}.{fmt}"
            atomic_write_bytes(path, to_bytes(fig, fmt))
            plt.close(fig)
            typer.echo(str(path))


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command(name="plot")(guarded(plot))
    app.command(name="report")(guarded(report))
    app.command(name="map")(guarded(map_))
