"""Figures of planning answers: sensitivity tornado, output against the top inputs, PRIM.

Each reads only files in the results folder: ``summary.json`` (indices, or
boxes and their peeling trajectories), ``sensitivity_points.csv`` (each
point's inputs and mean KPI) and ``discovery_cases.csv`` (each run's inputs
and whether it was a case of interest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from viz import style
from viz.results import Results, Skip, Table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TOP_INPUTS = 4


def _first_kpi(res: Results) -> tuple[str, dict[str, Any]]:
    results = res.summary.get("results")
    if not isinstance(results, dict) or not results:
        raise Skip("summary.json holds no sensitivity results")
    kpi = res.kpi if res.kpi is not None and res.kpi in results else str(next(iter(results)))
    return kpi, results[kpi]


def tornado(res: Results) -> Figure:
    """Morris mu* with its interval and sigma, or Sobol ST and S1 with intervals; noise marked."""
    kpi, r = _first_kpi(res)
    rows = list(reversed(r.get("indices") or []))
    if not rows:
        raise Skip("no indices in summary.json")
    constant = (r.get("noise") or {}).get("constant")
    if constant is not None:  # every bar would be zero: say why instead
        raise Skip(f"{kpi} was {constant:.4g} in every run: no input moves it, nothing to rank")
    morris = res.summary.get("method") == "morris"
    fig, ax = style.new_figure(figsize=(9.0, 1.2 + 0.45 * len(rows)))
    ys = np.arange(len(rows))
    labels = [x["label"] for x in rows]
    blue, grey = style.OKABE_ITO["blue"], style.OKABE_ITO["grey"]
    colours = [grey if x.get("real") is False else blue for x in rows]
    key, lo_key, hi_key = ("mu_star", "mu_star_ci_low", "mu_star_ci_high") if morris else \
        ("ST", "ST_ci_low", "ST_ci_high")
    vals = np.array([x[key] for x in rows], dtype=float)
    lo = np.array([x[lo_key] for x in rows], dtype=float)
    hi = np.array([x[hi_key] for x in rows], dtype=float)
    ax.barh(ys, vals, color=colours, height=0.6)
    from matplotlib.patches import Patch

    ax.add_artist(ax.legend(handles=[Patch(color=blue, label="mu*" if morris else "ST (total)"),
                                     Patch(color=grey, label="not distinguishable from noise")],
                            loc="center right", fontsize=8))
    ax.errorbar(vals, ys, xerr=[np.maximum(vals - lo, 0), np.maximum(hi - vals, 0)], fmt="none",
                ecolor="black", capsize=4, lw=1, label="95% bootstrap interval")
    if morris:
        sig = np.array([x["sigma"] for x in rows], dtype=float)
        ax.scatter(sig, ys, marker="D", color=style.OKABE_ITO["orange"], zorder=3,
                   label="sigma (interactions, non-linearity)")
        floors = [x.get("noise_floor") for x in rows]
        if any(f is not None for f in floors):
            ax.scatter([f if f is not None else np.nan for f in floors], ys, marker="|", s=300,
                       color=style.OKABE_ITO["vermillion"], zorder=4,
                       label="noise floor (mu* from replication noise)")
        unit = f"{kpi} per whole range of the input"
    else:
        s1 = np.array([x["S1"] for x in rows], dtype=float)
        ax.barh(ys, s1, color=style.OKABE_ITO["sky_blue"], height=0.3, label="S1 (alone)")
        share = r.get("noise", {}).get("mean_noise_share")
        if share is not None:
            ax.axvline(share, color=style.OKABE_ITO["vermillion"], ls="--",
                       label="share of variance that is replication noise")
        unit = "share of the variance of the point means"
    ax.set_yticks(ys, labels)
    ax.set_xlabel(unit)
    ax.set_title(f"{res.title}: which inputs matter for {kpi}")
    ax.legend(loc="lower right", fontsize=8)
    return style.finish(fig)


def output_vs_inputs(res: Results) -> Figure:
    """Each point's mean KPI against each of the top inputs."""
    kpi, r = _first_kpi(res)
    path = res.folder / "sensitivity_points.csv"
    if not path.is_file():
        raise Skip("no sensitivity_points.csv in the folder")
    table = Table.read(path)
    col = f"{kpi}_mean"
    if col not in table.columns:
        raise Skip(f"sensitivity_points.csv has no {col} column")
    top = [x for x in r.get("indices", []) if x["path"] in table.columns][:TOP_INPUTS]
    if not top:
        raise Skip("no input of the indices is in sensitivity_points.csv")
    fig, axes = style.new_figure(1, len(top), figsize=(3.2 * len(top), 3.4))
    axes = np.atleast_1d(axes)
    y = table.col(col)
    for ax, x in zip(axes, top, strict=True):
        ax.scatter(table.col(x["path"]), y, s=14, alpha=0.7, color=style.OKABE_ITO["blue"])
        ax.set_xlabel(x["label"])
    axes[0].set_ylabel(f"{kpi} (point mean)")
    fig.suptitle(f"{res.title}: {kpi} against the {len(top)} most influential inputs")
    return style.finish(fig)


def discovery(res: Results) -> Figure:
    """PRIM: the peeling trajectory (coverage against density) and the first box on its inputs."""
    boxes = res.summary.get("boxes")
    if not isinstance(boxes, list) or not boxes:
        raise Skip("no box was found (see the sentences in summary.json)")
    fig, (left, right) = style.new_figure(1, 2, figsize=(11.0, 4.6))
    for i, b in enumerate(boxes):
        traj = b["trajectory"]
        c = style.colour(i)
        left.plot([s["coverage"] for s in traj], [s["density"] for s in traj], marker=".",
                  color=c, label=f"box {b['box']} trajectory")
        left.scatter([b["coverage"]], [b["density"]], s=120, facecolors="none", edgecolors=c,
                     lw=2, zorder=3, label=f"box {b['box']} chosen")
    left.set_xlabel("coverage (share of all failures inside the box)")
    left.set_ylabel("density (share of runs in the box that fail)")
    left.set_xlim(0, 1.02)
    left.set_ylim(0, 1.02)
    left.legend(fontsize=8)
    left.set_title("peeling trajectory")
    first = boxes[0]
    limits = first.get("limits") or {}
    path = res.folder / "discovery_cases.csv"
    dims = list(limits)[:2]
    if path.is_file() and dims:
        table = Table.read(path)
        interest = table.col("of_interest") > 0.5
        xs = table.col(dims[0])
        ys = table.col(dims[1]) if len(dims) > 1 else np.random.default_rng(0).uniform(
            size=len(xs))
        right.scatter(xs[~interest], ys[~interest], s=10, color=style.OKABE_ITO["grey"],
                      alpha=0.6, label="met")
        right.scatter(xs[interest], ys[interest], s=10, color=style.OKABE_ITO["vermillion"],
                      alpha=0.8, label="failed")
        lo0, hi0 = limits[dims[0]]["low"], limits[dims[0]]["high"]
        if len(dims) > 1:
            lo1, hi1 = limits[dims[1]]["low"], limits[dims[1]]["high"]
            right.set_ylabel(limits[dims[1]]["label"])
        else:
            lo1, hi1 = 0.0, 1.0
            right.set_yticks([])
            right.set_ylabel("(runs spread out vertically)")
        from matplotlib.patches import Rectangle

        right.add_patch(Rectangle((lo0, lo1), hi0 - lo0, hi1 - lo1, fill=False, lw=2,
                                  edgecolor="black", label="box 1"))
        right.set_xlabel(limits[dims[0]]["label"])
        right.legend(fontsize=8)
        right.set_title("box 1 on its first two inputs")
    else:
        right.axis("off")
    event = (res.summary.get("event") or {}).get("phrase", "failure")
    fig.suptitle(f"{res.title}: where {event}")
    return style.finish(fig)
