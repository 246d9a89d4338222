"""Fleet figures: aircraft states over time and a Gantt chart of sorties per aircraft."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from viz import style
from viz.results import Results, Skip

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Most aircraft rows a Gantt chart shows before sampling evenly within each type.
MAX_GANTT_ROWS = 40


def availability(res: Results) -> Figure:
    """Aircraft by state (flying, idle, resting, maintenance, grounded, ...) per day, stacked."""
    t = res.daily
    states = [s for s in style.STATE_COLOURS if f"aircraft_{s}" in t]
    states += [s for s in t.prefixed("aircraft_") if s not in states]
    if not states:
        raise Skip("daily.csv has no aircraft_<state> columns")
    ys = [np.nan_to_num(t.col(f"aircraft_{s}")) for s in states]
    if not np.any(np.sum(ys, axis=0)):
        raise Skip("the scenario has no aircraft")
    x = style.dates(res.start, t.col("day"))
    fig, ax = style.new_figure()
    labels = {"busy": "flying / on a mission"}
    ax.stackplot(x, ys, labels=[labels.get(s, s) for s in states],
                 colors=[style.STATE_COLOURS.get(s, style.colour(i)) for i, s in enumerate(states)],
                 step="post", alpha=0.9)
    hours = [np.nan_to_num(t.col(f"flight_hours:{ty}")) for ty in t.prefixed("flight_hours:")]
    if hours:
        avg = np.sum(hours, axis=0) / 24.0
        ax.step(x, avg, where="mid", color="black", lw=1.8,
                label="average moving over the day (flight hours / 24 h)")
    from viz.timeseries import crop

    style.date_axis(ax)
    crop(ax, res)
    ax.set_ylabel("aircraft and vehicles (count)")
    ax.set_title(f"Fleet by state at the end of each day: {res.title}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=4, fontsize=8)
    return style.finish(fig)


def _sample(aircraft: list[str], types: dict[str, str], limit: int) -> list[str]:
    """At most ``limit`` aircraft, spread evenly over the types in proportion to their size."""
    if len(aircraft) <= limit:
        return aircraft
    by_type: dict[str, list[str]] = defaultdict(list)
    for a in aircraft:
        by_type[types[a]].append(a)
    keep: list[str] = []
    for _ty, names in by_type.items():
        k = max(1, round(limit * len(names) / len(aircraft)))
        idx = np.linspace(0, len(names) - 1, min(k, len(names))).round().astype(int)
        keep.extend(names[i] for i in sorted(set(idx.tolist())))
    return [a for a in aircraft if a in set(keep)][:limit]


def gantt(res: Results) -> Figure:
    """Sorties per aircraft over time (transfer, positioning, maintenance), sampled if many."""
    rows = res.sorties
    if not rows:
        raise Skip("sorties.csv is empty (no sorties flown)")
    types: dict[str, str] = {}
    bars: dict[str, dict[str, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    t_end = 0.0
    for r in rows:
        try:
            a, d0, d1 = r["aircraft"], float(r["depart_hour"]), float(r["arrive_hour"])
        except (KeyError, ValueError):
            continue
        types.setdefault(a, r.get("type", ""))
        bars[a][r.get("kind") or "transfer"].append((d0, max(d1 - d0, 0.05)))
        t_end = max(t_end, d1)
    down: dict[str, float] = {}
    if res.has("events.csv"):
        for e in res.events:
            who = e.get("who", "")
            if who not in types:
                continue
            if e.get("event") == "failure":
                down[who] = float(e["hour"])
            elif e.get("event") == "repaired" and who in down:
                h0 = down.pop(who)
                bars[who]["maintenance"].append((h0, float(e["hour"]) - h0))
    for who, h0 in down.items():
        bars[who]["maintenance"].append((h0, max(t_end - h0, 0.05)))
    aircraft = sorted(types, key=lambda a: (types[a], a))
    shown = _sample(aircraft, types, MAX_GANTT_ROWS)
    fig, ax = style.new_figure(figsize=(10.0, max(4.0, 1.5 + 0.22 * len(shown))))
    import matplotlib.dates as mdates

    base = mdates.date2num(style.dates(res.start, [0.0])[0])
    for i, a in enumerate(shown):
        for kind in ("positioning", "transfer", "maintenance"):
            spans = bars[a].get(kind)
            if spans:
                ax.broken_barh([(base + s / 24.0, w / 24.0) for s, w in spans], (i - 0.4, 0.8),
                               facecolors=style.SERIES.get(kind, style.colour(0)),
                               alpha=0.55 if kind == "maintenance" else 1.0,
                               label=kind if i == 0 or kind == "maintenance" else None)
    ax.set_yticks(range(len(shown)), shown, fontsize=7 if len(shown) > 25 else 9)
    ax.set_ylim(len(shown) - 0.5, -0.5)
    ax.xaxis_date()
    style.date_axis(ax, "date")
    ax.set_ylabel("aircraft / vehicle (id)")
    note = "" if len(shown) == len(aircraft) else f", {len(shown)} of {len(aircraft)} shown"
    ax.set_title(f"Sorties per aircraft over time: {res.title}{note}", loc="left", pad=24)
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=True))
    ax.legend(uniq.values(), [f"{k} (loaded)" if k == "transfer" else
                              "positioning (empty)" if k == "positioning" else
                              "in maintenance" for k in uniq],
              loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=3, fontsize=8,
              borderaxespad=0.2)
    ax.grid(axis="y", alpha=0)
    return style.finish(fig)
