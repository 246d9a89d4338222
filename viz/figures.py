"""The figure catalogue and drawing a results folder's figures to files.

``draw_run(folder)`` is what ``dtsim run --out`` calls; ``draw_folder`` is what
``dtsim plot`` calls. A figure whose data is absent is skipped with one line
saying why; nothing writes an empty image.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from viz import experiments, fleet, geomap, planning, timeseries
from viz.results import (
    COMPARE_KIND,
    DISCOVERY_KIND,
    REPLICATIONS_KIND,
    RUN_KIND,
    SENSITIVITY_KIND,
    SWEEP_KIND,
    Results,
    Skip,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMATS = ("png", "svg")


@dataclass(frozen=True)
class FigureSpec:
    """One figure: file stem, caption, the kinds of folders it applies to, and its function."""

    name: str
    caption: str
    kinds: tuple[str, ...]
    draw: Callable[[Results], Figure]


CATALOGUE: tuple[FigureSpec, ...] = (
    FigureSpec("throughput", "Cumulative detainees delivered, registered and escaped.",
               (RUN_KIND, REPLICATIONS_KIND), timeseries.throughput),
    FigureSpec("sorties", "Sorties and flight hours per day, stacked by aircraft type.",
               (RUN_KIND,), timeseries.sorties_per_day),
    FigureSpec("prisons", "Detainees still held per prison, with threatened and overrun times.",
               (RUN_KIND,), timeseries.held_per_prison),
    FigureSpec("staging", "People waiting at each staging airfield against its holding "
               "capacity, to the hour.", (RUN_KIND,), timeseries.staging),
    FigureSpec("reception", "Reception occupancy against beds, registration backlog, daily "
               "intake against its limit.", (RUN_KIND,), timeseries.reception),
    FigureSpec("fleet", "Aircraft and vehicles in each state, time-weighted average over "
               "each day.",
               (RUN_KIND,), fleet.availability),
    FigureSpec("gantt", "Sorties per aircraft over time.", (RUN_KIND,), fleet.gantt),
    FigureSpec("map", "Sites, legs, detainees carried and front positions.", (RUN_KIND,),
               geomap.map_figure),
    FigureSpec("kpi_histograms", "KPI distributions over replications.", (REPLICATIONS_KIND,),
               experiments.kpi_histograms),
    FigureSpec("sweep", "Mean KPI with its 95% CI against the sweep parameter (one "
               "dimension), or over the first two dimensions (heatmap).", (SWEEP_KIND,),
               experiments.sweep_figure),
    FigureSpec("compare", "Paired differences between two scenarios with 95% CI.",
               (COMPARE_KIND,), experiments.compare_plot),
    FigureSpec("tornado", "Which inputs matter: Morris mu* with its interval and sigma, or "
               "Sobol ST and S1 with intervals; grey inputs are not distinguishable from "
               "replication noise.", (SENSITIVITY_KIND,), planning.tornado),
    FigureSpec("output_vs_inputs", "The KPI (mean of each point's runs) against each of the "
               "most influential inputs.", (SENSITIVITY_KIND,), planning.output_vs_inputs),
    FigureSpec("discovery", "Where the deadline fails: PRIM's peeling trajectory (coverage "
               "against density) and the first box.", (DISCOVERY_KIND,), planning.discovery),
)


def specs_for(res: Results) -> list[FigureSpec]:
    """The figures that apply to this folder's kind (compare also wherever compare.json is).

    A replications or sweep folder without compare.json gets no compare entry at all:
    a figure that could never be drawn there is not worth a "not shown" line.
    """
    out = []
    for spec in CATALOGUE:
        if res.kind in spec.kinds or (spec.name == "compare" and res.has("compare.json")):
            out.append(spec)
    return out


@dataclass
class Rendered:
    """A drawn figure (or the reason it was skipped)."""

    spec: FigureSpec
    figure: Figure | None
    skipped: str | None = None


def render(res: Results) -> list[Rendered]:
    """Draw every applicable figure in memory; skipped ones carry a one-line reason."""
    from viz import style

    out = []
    with style.use_style():
        for spec in specs_for(res):
            try:
                out.append(Rendered(spec, spec.draw(res)))
            except Skip as exc:
                out.append(Rendered(spec, None, str(exc)))
    return out


def to_bytes(fig: Figure, fmt: str, dpi: float | None = None) -> bytes:
    """Encode a figure as PNG or SVG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi or "figure", metadata=_metadata(fmt))
    return buf.getvalue()


def _metadata(fmt: str) -> dict[str, str | None]:
    # No creation date: the same results redraw to the same bytes.
    if fmt == "svg":
        return {"Date": None, "Creator": "dtsim"}
    if fmt == "png":
        return {"Software": "dtsim"}
    return {}


#: Figures a forked worker draws while this process draws the others (about half the work).
WORKER_SHARE = frozenset({"reception", "gantt", "map", "kpi_histograms"})


def _draw_files(folder: Path, names: list[str], fmt: str, into: Path,
                kpi: str | None = None) -> list[tuple[str, Path | str]]:
    """Draw the named figures of ``folder`` into the folder ``into``.

    Returns (name, path written or skip reason) for each figure.
    """
    import matplotlib.pyplot as plt

    from viz import style

    res = Results(folder, kpi=kpi)
    out: list[tuple[str, Path | str]] = []
    with style.use_style():
        for spec in specs_for(res):
            if spec.name not in names:
                continue
            try:
                fig = spec.draw(res)
            except Skip as exc:
                out.append((spec.name, str(exc)))
                continue
            path = into / f"{spec.name}.{fmt}"
            path.write_bytes(to_bytes(fig, fmt))
            plt.close(fig)
            out.append((spec.name, path))
    return out


def draw_folder(folder: Path, fmt: str = "png", kpi: str | None = None
                ) -> tuple[list[Path], list[str]]:
    """Draw every figure the folder supports as ``<name>.<fmt>``; returns (written, notes).

    Every data file is checked first (:meth:`Results.validate`), and the figures
    are drawn into a temporary folder and moved into place only once all of them
    are done: a corrupt input or a failure half-way leaves no file behind.
    """
    import shutil
    import tempfile

    import matplotlib.pyplot  # noqa: F401 - imported once, before the worker forks

    from viz.parallel import Background

    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    folder = Path(folder)
    res = Results(folder, kpi=kpi)
    res.validate()
    names = [spec.name for spec in specs_for(res)]
    share = [n for n in names if n in WORKER_SHARE]
    tmp = Path(tempfile.mkdtemp(prefix=".figures-", dir=folder))
    try:
        worker = Background(_draw_files, folder, share, fmt, tmp, kpi) if share else None
        done = dict(_draw_files(folder, [n for n in names if n not in share], fmt, tmp, kpi))
        if worker is not None:
            done.update(worker.result())
        written: list[Path] = []
        notes: list[str] = []
        for name in names:
            item = done[name]
            if isinstance(item, Path):
                target = folder / item.name
                item.replace(target)
                written.append(target)
            else:
                notes.append(f"skipped {name}: {item}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written, notes


def draw_run(folder: Path) -> list[str]:
    """Draw the figures one run supports into ``folder`` (PNG); returns notes for the user."""
    _written, notes = draw_folder(Path(folder), "png")
    return notes
