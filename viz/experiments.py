"""Experiment figures: KPI histograms over replications, sweep heatmaps, compare plots."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from viz import style
from viz.results import Results, Skip

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: KPIs shown first in histograms and heatmaps, with their units.
KPI_UNITS: dict[str, str] = {
    "completion_day": "day",
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
    "aborted_sorties": "sorties",
}
#: Columns never worth a histogram.
NOT_KPIS = {"seed", "replication", "rep", "index", "wall_seconds", "sim_events", "point",
            "detainees_total", "id"}


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


def kpi_histograms(res: Results, max_panels: int = 9) -> Figure:
    """Histograms of the main KPIs over replications (one panel a KPI, mean marked)."""
    t = res.replications
    if len(t) == 0:
        raise Skip("replications.csv has no rows")
    numeric = [c for c in t.numeric_columns() if c not in NOT_KPIS and ":" not in c]
    ordered = [k for k in KPI_UNITS if k in numeric] + [c for c in numeric if c not in KPI_UNITS]
    present = [k for k in ordered if np.isfinite(t.col(k)).any()]
    if not present:
        raise Skip("replications.csv has no numeric KPI columns")
    varying = [k for k in present if np.nanmax(t.col(k)) > np.nanmin(t.col(k))]
    constant = [k for k in present if k not in varying]
    kpis = (varying or present)[:max_panels]
    ncols = min(3, len(kpis))
    nrows = math.ceil(len(kpis) / ncols)
    fig, axes = style.new_figure(nrows, ncols, figsize=(10.0, 2.7 * nrows + 0.8), squeeze=False)
    for ax, k in zip(axes.flat, kpis, strict=False):
        v = t.col(k)
        finite = v[np.isfinite(v)]
        missing = len(v) - len(finite)
        bins = min(30, max(5, int(math.sqrt(len(finite)) * 2)))
        ax.hist(finite, bins=bins, color=style.OKABE_ITO["blue"], alpha=0.85, edgecolor="white")
        ax.axvline(float(np.mean(finite)), color=style.OKABE_ITO["vermillion"], lw=2,
                   label=f"mean {np.mean(finite):,.4g}")
        ax.set_xlabel(f"{k} ({unit_of(k)})")
        ax.set_ylabel("replications (count)")
        ax.legend(fontsize=8, loc="upper right")
        if missing:
            ax.set_title(f"{missing} of {len(v)} not reached", fontsize=9, fontweight="normal")
    for ax in axes.flat[len(kpis):]:
        ax.set_visible(False)
    title = f"KPI distributions over {len(t)} replications: {res.title}"
    if varying and constant:
        shown = ", ".join(f"{k} = {np.nanmin(t.col(k)):,.4g}" for k in constant[:4])
        more = f" and {len(constant) - 4} more" if len(constant) > 4 else ""
        title += f"\nthe same in every replication: {shown}{more}"
    fig.suptitle(title, fontweight="bold")
    return style.finish(fig)


def _pick_kpi(cols: list[str], grid: list[str]) -> str:
    for k in ("completion_day", "delivered", "escaped", "at_risk_detainee_days"):
        for c in cols:
            if c in grid:
                continue
            if c == k or c == f"{k}_mean" or c == f"{k}:mean" or c == f"mean:{k}":
                return c
    rest = [c for c in cols if c not in grid and c not in NOT_KPIS]
    if not rest:
        raise Skip("the sweep table has no KPI column")
    return rest[0]


def sweep_heatmap(res: Results, kpi: str | None = None) -> Figure:
    """Mean of a KPI over two grid dimensions of a sweep (other dimensions averaged)."""
    t = res.sweep_table
    grid = res.grid_columns
    if len(grid) < 2:
        raise Skip(f"a heatmap needs two grid dimensions; the sweep has {len(grid)}")
    numeric = t.numeric_columns()
    gx, gy = grid[0], grid[1]
    if gx not in numeric or gy not in numeric:
        raise Skip(f"grid columns {gx}, {gy} are not numeric")
    k = kpi or _pick_kpi(numeric, grid)
    x, y, v = t.col(gx), t.col(gy), t.col(k)
    xs, ys = np.unique(x[np.isfinite(x)]), np.unique(y[np.isfinite(y)])
    z = np.full((len(ys), len(xs)), np.nan)
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            sel = (x == xv) & (y == yv) & np.isfinite(v)
            if sel.any():
                z[i, j] = float(np.mean(v[sel]))
    fig, ax = style.new_figure(figsize=(9.0, 6.0))
    im = ax.imshow(z, origin="lower", aspect="auto", cmap="cividis")
    ax.set_xticks(range(len(xs)), [f"{a:g}" for a in xs])
    ax.set_yticks(range(len(ys)), [f"{a:g}" for a in ys])
    for i in range(len(ys)):
        for j in range(len(xs)):
            if np.isfinite(z[i, j]):
                light = z[i, j] < np.nanmean(z)
                ax.text(j, i, f"{z[i, j]:,.3g}", ha="center", va="center", fontsize=9,
                        color="white" if light else "black")
    ax.set_xlabel(f"{gx} (grid value)")
    ax.set_ylabel(f"{gy} (grid value)")
    ax.grid(False)
    base = k.removesuffix("_mean")
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(f"mean {base} ({unit_of(base)})")
    ax.set_title(f"Sweep of {res.title}: mean {base}\nby {gx} and {gy}", fontsize=11)
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
    note = f"\nno difference in any pair: {', '.join(same[:6])}" if same else ""
    fig.suptitle(f"Differences B - A with 95% CI (common random numbers){names}{reps}{note}",
                 fontweight="bold", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
