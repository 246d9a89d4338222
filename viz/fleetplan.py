"""The figure of a fleet search (``dtsim plan fleet --out``): P(success) against the count.

Reads only ``plan_fleet.json`` in the results folder. Each candidate tried is a
point (the share of replications that met the deadline) with its one-sided
Clopper-Pearson limits (at the per-look level the decisions used) as a bar; the
horizontal line is the confidence asked for; the answer is ringed. Candidates a
lower bound ruled out are crosses at zero.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.common.atomic import atomic_write_bytes
from sim.output.folders import PLAN_FLEET_FIGURE, PLAN_FLEET_JSON
from viz import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

VERDICT_COLOURS = {"meets": style.OKABE_ITO["blue"], "misses": style.OKABE_ITO["vermillion"],
                   "undecided": style.OKABE_ITO["orange"], "ruled_out": style.OKABE_ITO["grey"]}


def _x(doc: dict[str, Any], trial: dict[str, Any]) -> float:
    """Where a candidate sits on the x axis: its count, its multiplier, or its cost (a mix)."""
    if doc["mode"] == "mix":
        return float(trial["cost"])
    return float(trial["value"])


def fleet_plan_figure(doc: dict[str, Any]) -> Figure:
    """P(success by the deadline) per candidate tried, with limits and the confidence line."""
    fig, ax = style.new_figure()
    trials = sorted(doc["trials"], key=lambda t: _x(doc, t))
    for verdict, colour in VERDICT_COLOURS.items():
        rows = [t for t in trials if t["verdict"] == verdict]
        if not rows:
            continue
        xs = [_x(doc, t) for t in rows]
        if verdict == "ruled_out":
            ax.scatter(xs, [0.0] * len(xs), marker="x", color=colour, label="ruled out by bound")
            continue
        ps = [t["p"] for t in rows]
        low = [max(0.0, p - t["lower"]) for p, t in zip(ps, rows, strict=True)]
        high = [max(0.0, t["upper"] - p) for p, t in zip(ps, rows, strict=True)]
        ax.errorbar(xs, ps, yerr=[low, high], fmt="o", color=colour, capsize=3,
                    label=f"{verdict}")
    ax.axhline(doc["confidence"], color=style.OKABE_ITO["black"], linestyle="--", linewidth=1,
               label=f"confidence {doc['confidence']:g}")
    answer = next((t for t in trials if t["candidate"] == doc.get("answer_label")
                   and t["verdict"] == "meets"), None)
    if answer is not None:
        ax.scatter([_x(doc, answer)], [answer["p"]], s=180, facecolors="none",
                   edgecolors=style.OKABE_ITO["green"], linewidths=2,
                   label=f"answer: {answer['candidate']}")
    xlabel = {"type": f"{doc['types'][0]} count (initial fleet)",
              "scale": "multiplier on the initial fleet",
              "mix": "cost of the mix (" + ", ".join(doc["types"]) + ")"}[doc["mode"]]
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"P(>= {doc['target']:.0%} delivered by day {doc['deadline_day']:g})")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title(f"{doc['scenario']}: smallest fleet for the deadline "
                 f"({doc['replications']} replications; full grid {doc['grid_replications']})")
    ax.legend(loc="lower right", fontsize="small")
    return style.finish(fig)


def draw_fleet_plan(folder: Path) -> Path:
    """Draw ``fleet_plan.png`` in ``folder`` from its ``plan_fleet.json``; returns its path."""
    import matplotlib.pyplot as plt

    from viz.figures import to_bytes

    doc = json.loads((Path(folder) / PLAN_FLEET_JSON).read_text(encoding="utf-8"))
    with style.use_style():
        fig = fleet_plan_figure(doc)
        path = Path(folder) / PLAN_FLEET_FIGURE
        atomic_write_bytes(path, to_bytes(fig, "png"))
        plt.close(fig)
    return path
