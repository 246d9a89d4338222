"""Experiment figures: KPI histograms over replications, sweep heatmaps, compare plots."""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np

from viz import style
from viz.results import Results, Skip

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: KPIs shown first in histograms and heatmaps, with their units.
KPI_UNITS: dict[str, str] = {
    "delivered_fraction": "fraction 0..1 of those in custody at day 0",
    "day_to_50": "day",
    "day_to_90": "day",
    "day_to_100": "day",
    "prisons_cleared_day": "day",
    "registration_complete_day": "day",
    "delivered": "detainees",
    "escaped": "detainees",
    "remaining": "detainees",
    "registered": "detainees",
    "at_risk_detainee_days": "detainee-days",
    "peak_registration_backlog": "detainees",
    "peak_facility_occupancy": "detainees",
    "mean_transfer_hours": "hours",
    "fleet_utilization": "fraction 0..1",
    "flying_hours_per_available_hour": "fraction 0..1",
    "aborted_sorties": "sorties",
}
#: Columns never worth a histogram.
NOT_KPIS = {"seed", "replication", "rep", "index", "wall_seconds", "sim_events", "point",
            "detainees_total", "in_custody_at_start", "id"}


def unit_of(kpi: str) -> str:
    """Unit of a KPI column (``sorties:ch47`` counts sorties, ``flight_hours:x`` hours)."""
    if kpi in KPI_UNITS:
        return KPI_UNITS[kpi]
    if kpi.startswith("sorties"):
        return "sorties"
    if kpi.startswith("flight_hours"):
        return "hours"
    if kpi.endswith("_day"):
        return "day"
    return "value"


#: 0/1 columns of replications.csv: shown as probabilities in the title, not as histograms.
INDICATORS = {"completed": "target share delivered", "completed_by_deadline":
              "target share delivered by the deadline", "any_escape": "at least one escape"}


def _same_as_earlier(t: Any, kpis: list[str]) -> dict[str, list[str]]:
    """KPIs grouped by identical values: first KPI -> the later ones repeating its data."""
    groups: dict[str, list[str]] = {}
    for k in kpis:
        v = t.col(k)
        first = next((g for g in groups if np.array_equal(t.col(g), v, equal_nan=True)), None)
        if first is None:
            groups[k] = []
        else:
            groups[first].append(k)
    return groups


def kpi_histograms(res: Results, max_panels: int = 9) -> Figure:
    """Histograms of the main KPIs over replications (one panel a distinct KPI, mean marked).

    KPIs whose values are the same in every replication as an earlier KPI's
    (registered = delivered when registration keeps up) share its panel, named
    under it; KPIs constant over the replications and the 0/1 indicators
    (completed, any escape) are stated in the title instead.
    """

    t = res.replications
    if len(t) == 0:
        raise Skip("replications.csv has no rows")
    numeric = [c for c in t.numeric_columns() if c not in NOT_KPIS and ":" not in c]
    ordered = [k for k in KPI_UNITS if k in numeric] + [c for c in numeric if c not in KPI_UNITS]
    present = [k for k in ordered if np.isfinite(t.col(k)).any()]
    if not present:
        raise Skip("replications.csv has no numeric KPI columns")
    indicators = [k for k in present if k in INDICATORS]
    present = [k for k in present if k not in INDICATORS]
    varying = [k for k in present if np.nanmax(t.col(k)) > np.nanmin(t.col(k))]
    constant = [k for k in present if k not in varying]
    groups = _same_as_earlier(t, varying or present)
    kpis = list(groups)[:max_panels]
    ncols = min(3, len(kpis))
    nrows = math.ceil(len(kpis) / ncols)
    fig, axes = style.new_figure(nrows, ncols, figsize=(10.0, 2.9 * nrows + 1.2), squeeze=False)
    for ax, k in zip(axes.flat, kpis, strict=False):
        v = t.col(k)
        finite = v[np.isfinite(v)]
        missing = len(v) - len(finite)
        bins = min(30, max(5, int(math.sqrt(len(finite)) * 2)))
        ax.hist(finite, bins=bins, color=style.OKABE_ITO["blue"], alpha=0.85, edgecolor="white")
        ax.axvline(float(np.mean(finite)), color=style.OKABE_ITO["vermillion"], lw=2,
                   label=f"mean {np.mean(finite):,.4g}")
        label = f"{k} ({unit_of(k)})"
        if groups[k]:
            label += f"; same values: {', '.join(groups[k])}"
        ax.set_xlabel(textwrap.fill(label, 34), fontsize=10)
        ax.set_ylabel("replications (count)")
        ax.legend(fontsize=8, loc="upper right")
        if missing:
            ax.set_title(f"{missing} of {len(v)} not reached", fontsize=9, fontweight="normal")
    for ax in axes.flat[len(kpis):]:
        ax.set_visible(False)
    lines = [f"KPI distributions over {len(t)} replications: {res.title}"]
    shares = [f"{INDICATORS[k]} in {100 * float(np.nanmean(t.col(k))):.0f}% of replications"
              for k in indicators]
    if shares:
        lines.append("; ".join(shares))
    if varying and constant:
        shown = ", ".join(f"{k} = {np.nanmin(t.col(k)):,.4g}" for k in constant[:4])
        more = f" and {len(constant) - 4} more" if len(constant) > 4 else ""
        lines.append(f"the same in every replication: {shown}{more}")
    width = int(fig.get_figwidth() * 7.5)
    fig.suptitle("\n".join(textwrap.fill(x, width) for x in lines), fontweight="bold",
                 fontsize=12)
    return style.finish(fig)


#: Sweep KPIs preferred when ``--kpi`` is not given, in order.
DEFAULT_SWEEP_KPIS = ("day_to_100", "delivered_fraction", "delivered", "escaped",
                      "at_risk_detainee_days")
#: Suffixes of summary.csv columns that are not KPI means.
_CI_SUFFIXES = ("_ci_low", "_ci_high", "_p5", "_p95", "_sd", "_n")


def sweep_kpis(res: Results) -> list[str]:
    """KPI names a sweep figure can show (``day_to_100``, ``p_any_escape``, ...)."""
    t = res.sweep_table
    grid = set(res.grid_columns)
    numeric = [c for c in t.numeric_columns() if c not in grid]
    if any(c.endswith("_mean") for c in numeric):  # summary.csv: one row a point
        names = [c.removesuffix("_mean") for c in numeric if c.endswith("_mean")]
        names += [c for c in numeric if c.startswith("p_")]
    else:  # results.sqlite: one row a replication
        names = [c for c in numeric if not c.endswith(_CI_SUFFIXES) and c not in NOT_KPIS
                 and c not in ("point_index", "replication", "n")]
    return list(dict.fromkeys(names))


def pick_sweep_kpi(res: Results) -> str:
    """The KPI to draw: ``res.kpi`` if given (refused when unknown), else a default."""
    from viz.results import ResultsError

    names = sweep_kpis(res)
    if res.kpi is not None:
        if res.kpi not in names:
            raise ResultsError(f"--kpi {res.kpi}: not in this sweep; choose one of "
                               f"{', '.join(names[:20])}")
        return res.kpi
    for k in DEFAULT_SWEEP_KPIS:
        if k in names:
            return k
    if not names:
        raise Skip("the sweep table has no KPI column")
    return names[0]


def _levels(t: Any, col: str) -> list[str]:
    """Distinct values of a grid column, numbers in numeric order, words as found."""
    vals = list(dict.fromkeys(v for v in t.text(col) if v != ""))
    try:
        return sorted(vals, key=float)
    except ValueError:
        return vals


def _point_stats(res: Results, k: str, where: dict[str, str]) -> tuple[float, float, float]:
    """(mean, CI low, CI high) of KPI ``k`` over the sweep rows matching ``where``.

    summary.csv rows carry the mean and 95% CI of their point; rows of
    results.sqlite are replications, summarised here (Student t interval).
    A probability column (``p_...``) has no interval in summary.csv: NaN.
    """
    from sim.common.stats import summarize

    t = res.sweep_table
    rows = [r for r in t.rows if all(r.get(c) == v for c, v in where.items())]
    if f"{k}_mean" in t or k.startswith("p_"):
        col = k if k.startswith("p_") else f"{k}_mean"
        means = [float(r[col]) for r in rows if r.get(col)]
        if not means:
            return (np.nan, np.nan, np.nan)
        if len(means) == 1 and f"{k}_ci_low" in t and rows[0].get(f"{k}_ci_low"):
            return (means[0], float(rows[0][f"{k}_ci_low"]), float(rows[0][f"{k}_ci_high"]))
        if len(means) == 1 and k.startswith("p_"):
            lo, hi = _probability_ci(res, rows[0].get("point_index", ""), k.removeprefix("p_"))
            return (means[0], lo, hi)
        return (float(np.mean(means)), np.nan, np.nan)
    vals = [float(r[k]) for r in rows if r.get(k)]
    if not vals:
        return (np.nan, np.nan, np.nan)
    st = summarize(vals)
    ends = [np.nan if st.get(key) is None else float(st[key]) for key in ("ci_low", "ci_high")]
    return (float(st["mean"]), ends[0], ends[1])


def _probability_ci(res: Results, point_index: str, name: str) -> tuple[float, float]:
    """The 95% CI of a point's probability from summary.json (NaN when not recorded)."""
    for p in res.summary.get("points") or []:
        if isinstance(p, dict) and str(p.get("point_index")) == point_index:
            d = (p.get("probabilities") or {}).get(name)
            if isinstance(d, dict) and _num(d.get("ci_low")) is not None \
                    and _num(d.get("ci_high")) is not None:
                return (float(d["ci_low"]), float(d["ci_high"]))
    return (np.nan, np.nan)


def _kpi_label(k: str) -> str:
    """Axis label of a sweep KPI: the mean with its unit, or a probability."""
    if k.startswith("p_"):
        return f"P({k.removeprefix('p_').replace('_', ' ')}) (probability 0..1)"
    return f"mean {k} ({unit_of(k)})"


def sweep_figure(res: Results) -> Figure:
    """A sweep's KPI by parameter: a line with 95% CIs (one dimension) or a heatmap (two)."""
    grid = res.grid_columns
    if not grid:
        raise Skip("the sweep table names no grid parameter")
    k = pick_sweep_kpi(res)
    if len(grid) == 1:
        return _sweep_line(res, grid[0], k)
    return _sweep_heatmap(res, grid[0], grid[1], k)


def _sweep_line(res: Results, g: str, k: str) -> Figure:
    levels = _levels(res.sweep_table, g)
    stats = np.array([_point_stats(res, k, {g: v}) for v in levels], dtype=float)
    try:
        xs = np.array([float(v) for v in levels])
        categorical = False
    except ValueError:
        xs = np.arange(len(levels), dtype=float)
        categorical = True
    fig, ax = style.new_figure()
    mean, lo, hi = stats[:, 0], stats[:, 1], stats[:, 2]
    has_ci = np.isfinite(lo) & np.isfinite(hi)
    c = style.OKABE_ITO["blue"]
    ax.plot(xs, mean, color=c, lw=2, marker="o", markersize=7, label="mean")
    if has_ci.any():
        ax.errorbar(xs[has_ci], mean[has_ci],
                    yerr=[mean[has_ci] - lo[has_ci], hi[has_ci] - mean[has_ci]], fmt="none",
                    ecolor=c, capsize=6, lw=1.5, label="95% confidence interval")
    for x, m in zip(xs, mean, strict=True):
        if np.isfinite(m):
            ax.annotate(f"{m:,.3g}", (x, m), xytext=(8, 4), textcoords="offset points",
                        fontsize=9)
    if categorical or len(levels) <= 12:
        ax.set_xticks(xs, levels)
    if k.startswith("p_"):
        ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(f"{g} (parameter value)")
    ax.set_ylabel(_kpi_label(k))
    ax.legend(loc="best")
    ax.set_title(f"Sweep of {res.title}: mean {k} by {g}")
    return style.finish(fig)


def _sweep_heatmap(res: Results, gx: str, gy: str, k: str) -> Figure:
    t = res.sweep_table
    xs, ys = _levels(t, gx), _levels(t, gy)
    z = np.full((len(ys), len(xs)), np.nan)
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            z[i, j] = _point_stats(res, k, {gx: xv, gy: yv})[0]
    fig, ax = style.new_figure(figsize=(9.0, 6.0))
    im = ax.imshow(z, origin="lower", aspect="auto", cmap="cividis")
    ax.set_xticks(range(len(xs)), xs)
    ax.set_yticks(range(len(ys)), ys)
    finite = z[np.isfinite(z)]
    mid = float(np.mean(finite)) if len(finite) else 0.0
    for i in range(len(ys)):
        for j in range(len(xs)):
            if np.isfinite(z[i, j]):
                ax.text(j, i, f"{z[i, j]:,.3g}", ha="center", va="center", fontsize=9,
                        color="white" if z[i, j] < mid else "black")
    ax.set_xlabel(f"{gx} (parameter value)")
    ax.set_ylabel(f"{gy} (parameter value)")
    ax.grid(False)
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(_kpi_label(k))
    others = [g for g in res.grid_columns if g not in (gx, gy)]
    note = f" (averaged over {', '.join(others)})" if others else ""
    ax.set_title(f"Sweep of {res.title}: mean {k}\nby {gx} and {gy}{note}", fontsize=11)
    return style.finish(fig)


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _diff_rows(data: Any) -> list[tuple[str, float, float, float, float | None, float | None]]:
    """(kpi, mean difference, CI low, CI high, unpaired low, unpaired high) from compare JSON.

    Reads ``dtsim compare --json`` (``kpis: {name: {mean_diff, ci_low, ci_high,
    unpaired_ci_low, unpaired_ci_high}}``) and tolerates similar shapes.
    """
    if isinstance(data, dict):
        for key in ("kpis", "differences", "diffs", "paired", "results"):
            if isinstance(data.get(key), (dict, list)):
                return _diff_rows(data[key])
        items: list[tuple[str, Any]] = list(data.items())
    elif isinstance(data, list):
        items = [(str(d.get("kpi") or d.get("name")), d) for d in data if isinstance(d, dict)]
    else:
        return []
    out = []
    for name, d in items:
        if not isinstance(d, dict):
            continue
        mean = next((_num(d[k]) for k in ("mean_diff", "mean_difference", "diff_mean",
                                          "difference", "diff", "mean")
                     if _num(d.get(k)) is not None), None)
        lo, hi = _num(d.get("ci_low")), _num(d.get("ci_high"))
        ci = d.get("ci") or d.get("ci95")
        if lo is None and isinstance(ci, (list, tuple)) and len(ci) == 2:
            lo, hi = _num(ci[0]), _num(ci[1])
        if mean is not None and lo is not None and hi is not None:
            out.append((str(name), mean, lo, hi, _num(d.get("unpaired_ci_low")),
                        _num(d.get("unpaired_ci_high"))))
    return out


def compare_plot(res: Results, max_rows: int = 10) -> Figure:
    """Paired differences B - A per KPI with 95% CIs (and the unpaired CI for contrast)."""
    data = res.compare
    rows = _diff_rows(data)
    if not rows:
        raise Skip("compare.json holds no KPI differences with confidence intervals")
    flat = [r for r in rows if all(v in (None, 0.0) for v in r[1:])]
    rows = [r for r in rows if r not in flat] or rows
    order = {k: i for i, k in enumerate(KPI_UNITS)}
    rows.sort(key=lambda r: (order.get(r[0], len(order) + (":" in r[0])), r[0]))
    rows = [r for r in rows if r[0] in order or len(rows) <= max_rows][:max_rows] or rows[:max_rows]
    fig, axes = style.new_figure(len(rows), 1, figsize=(10.0, 0.8 * len(rows) + 1.6),
                                 squeeze=False)
    for ax, (name, mean, lo, hi, ulo, uhi) in zip(axes[:, 0], rows, strict=True):
        significant = lo > 0 or hi < 0
        c = style.OKABE_ITO["vermillion"] if significant else style.OKABE_ITO["blue"]
        if ulo is not None and uhi is not None:
            ax.plot([ulo, uhi], [-0.25, -0.25], color=style.OKABE_ITO["grey"], lw=4,
                    solid_capstyle="butt", label="unpaired 95% CI")
        ax.errorbar([mean], [0.15], xerr=[[mean - lo], [hi - mean]], fmt="o", color=c, capsize=6,
                    lw=2, markersize=7, label="paired mean and 95% CI")
        ax.axvline(0, color="black", lw=1)
        ends = [abs(v) for v in (lo, hi, ulo, uhi, mean) if v is not None]
        span = max(ends) * 1.3 or 1.0
        ax.set_xlim(-span, span)
        ax.set_ylim(-0.7, 0.6)
        ax.set_yticks([0], [name])
        ax.set_xlabel(f"B - A ({unit_of(name)})", fontsize=9, labelpad=1)
        ax.grid(axis="y", alpha=0)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncols=2, fontsize=9)
    a = data.get("a") if isinstance(data, dict) else None
    b = data.get("b") if isinstance(data, dict) else None
    names = f": {b} (B) vs {a} (A)" if isinstance(a, str) and isinstance(b, str) else ""
    n = data.get("n") if isinstance(data, dict) else None
    reps = f", {n} paired replications" if isinstance(n, int) else ""
    same = [r[0] for r in flat if r[0] in order]
    lines = [f"Differences B - A with 95% CI (common random numbers){names}{reps}"]
    if same:
        lines.append(f"no difference in any pair: {', '.join(same[:6])}")
    # Wrapped to the figure's width: long scenario names and overrides ran off both sides.
    width = int(fig.get_figwidth() * 9.5)  # characters of a bold 11-point line
    fig.suptitle("\n".join(textwrap.fill(x, width) for x in lines),
                 fontweight="bold", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
