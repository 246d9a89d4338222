"""Run and replication time-series figures: throughput, sorties, prisons, reception.

Each function takes a :class:`viz.results.Results` and returns a matplotlib
figure, or raises :class:`viz.results.Skip` when its data is absent. Daily
values are end-of-day counts (day ``d`` is the 24 hours after ``start + d``).
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING, Any

import numpy as np

from viz import style
from viz.results import REPLICATIONS_KIND, Results, Skip

if TYPE_CHECKING:
    from matplotlib.figure import Figure

THROUGHPUT_SERIES = (("delivered_cum", "delivered"), ("registered_cum", "registered"),
                     ("escaped_cum", "escaped"))


def active_days(res: Results, margin: int = 3) -> int:
    """Days worth showing: up to a few days after the last change of any daily series."""
    try:
        t = res.daily if res.kind != REPLICATIONS_KIND else res.bands
    except Skip:
        return 0
    n = len(t)
    last = 0
    for c in t.columns:
        if c in ("day", "date") or c.startswith(("status:", "front_", "aircraft_")):
            continue
        v = t.col(c)
        if not np.isfinite(v).any():
            continue
        changed = np.nonzero(np.diff(np.nan_to_num(v)))[0]
        if len(changed):
            last = max(last, int(changed[-1]) + 1)
    if res.kind != REPLICATIONS_KIND and res.has("status.csv"):
        for h, _s, _st in status_changes(res):
            last = max(last, int(h // 24))
    return min(n, last + 1 + margin)


def crop(ax: Any, res: Results) -> None:
    """Limit a date axis to the active part of the run (the rest is flat)."""
    n = active_days(res)
    if n:
        lo, hi = style.dates(res.start, [-0.2, n + 0.3])
        ax.set_xlim(lo, hi)


def observed_points(res: Results) -> list[tuple[float, float]]:
    """Reported (day, delivered_cum) points: the scenario's ``observed`` or observed.csv."""
    pts: list[tuple[float, float]] = []
    for o in res.scenario.get("observed") or []:
        if isinstance(o, dict) and "day" in o and "delivered_cum" in o:
            pts.append((float(o["day"]), float(o["delivered_cum"])))
    path = res.folder / "observed.csv"
    if not pts and path.is_file():
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                try:
                    pts.append((float(row["day"]), float(row["delivered_cum"])))
                except (KeyError, ValueError):
                    continue
    return pts


def _from_start(res: Results, days: np.ndarray) -> list[Any]:
    """The start of the first row's day, then the end of each row's day: where the
    cumulative counts of the rows stand (``_zero_first``), none before the start."""
    first = float(days[0]) if len(days) else 0.0
    return style.dates(res.start, [first, *(np.asarray(days, dtype=float) + 1.0)])


def _zero_first(values: np.ndarray) -> np.ndarray:
    """A cumulative count from the start of the run: nothing at its start, then each
    end of day (``_from_start``)."""
    return np.r_[0.0, values]


#: Most active days for which a single run's throughput is drawn from detainees.csv (to
#: the hour) rather than from daily.csv. A drawing choice: over a longer span a day is a
#: few pixels of the figure.
EXACT_CURVE_DAYS = 60
#: Most detainees for which it is: reading a row a detainee costs about a second per
#: 100,000 (a drawing choice too).
EXACT_CURVE_DETAINEES = 200_000


def _exact(res: Results) -> bool:
    """Whether a run's throughput is drawn from detainees.csv (``exact_curves``)."""
    if not res.has("detainees.csv") or active_days(res) > EXACT_CURVE_DAYS:
        return False
    total = res.kpis.get("detainees_total") if res.has("kpis.json") else None
    return not isinstance(total, (int, float)) or total <= EXACT_CURVE_DETAINEES

#: The single run's cumulative curves from detainees.csv: (label, line width, style), in
#: the order of ``EXACT_COLUMNS``.
CURVE_STYLES = (("delivered", 2.0, "-"), ("registered", 2.0, "-"), ("escaped", 2.0, "--"),
                ("released", 1.5, "-."))
EXACT_COLUMNS = ("delivered_hour", "registered_hour", "escaped_hour", "released_hour")


def exact_curves(res: Results) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cumulative delivered, registered, escaped and released counts of a run as steps
    (days on the run's clock, counts), from the hour each detainee reached that state
    (detainees.csv), from the start to the end of the last day of daily.csv.

    A day's count alone is drawn at its end, and a straight line from one end of day to
    the next misplaces an operation of hours: Saigon's helicopter lift of 1975 (in about
    19 hours, from the afternoon of its first day) drew as a steady rise from the
    midnight before. At each day's end the steps equal daily.csv's counts.
    """
    table = res.detainees
    end = float(len(res.daily)) if res.has("daily.csv") else None
    curves = []
    for column in EXACT_COLUMNS:
        hours = table.col(column) if column in table else np.array([])
        times, counts = np.unique(hours[np.isfinite(hours)] / 24.0, return_counts=True)
        last = times[-1] if len(times) else 0.0
        until = max(end, last) if end is not None else last
        curves.append((np.r_[0.0, times, until],
                       np.r_[0.0, np.cumsum(counts), counts.sum()].astype(float)))
    return curves


def net_steps(added: np.ndarray, removed: np.ndarray, until: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """A count that rises by one at each hour of ``added`` and falls by one at each hour
    of ``removed`` (hours on the run's clock; NaN: never), as steps: (days, counts) from
    the run's start (0) to ``until`` (days) or the last change if later."""
    up = added[np.isfinite(added)]
    down = removed[np.isfinite(removed)]
    times, at = np.unique(np.r_[up, down] / 24.0, return_inverse=True)
    change = np.bincount(at, weights=np.r_[np.ones(len(up)), -np.ones(len(down))],
                         minlength=len(times))
    counts = np.cumsum(change)
    last_time = times[-1] if len(times) else 0.0
    last_count = counts[-1] if len(counts) else 0.0
    return np.r_[0.0, times, max(until, last_time)], np.r_[0.0, counts, last_count]


#: Most receptions whose occupancy is drawn one by one beside the total (a drawing choice:
#: more lines than this would hide one another).
MAX_RECEPTION_LINES = 6


def occupancy_curves(res: Results) -> tuple[tuple[np.ndarray, np.ndarray],
                                             dict[str, tuple[np.ndarray, np.ndarray]],
                                             tuple[np.ndarray, np.ndarray]]:
    """A run's occupancy of all receptions, of each reception, and its registration
    backlog, as steps to the hour (``net_steps``) from detainees.csv: a detainee counts
    from the hour it was delivered until the hour it was released (repatriated), at the
    reception it was delivered to (its ``location``); the backlog counts it from its
    delivery until its registration. At each day's end they equal daily.csv's
    ``facility_occupancy_end`` and ``registration_backlog``."""
    table = res.detainees
    end = float(len(res.daily)) if res.has("daily.csv") else 0.0
    never = np.full(len(table), np.nan)

    def hours(column: str) -> np.ndarray:
        return table.col(column) if column in table else never

    delivered, released = hours("delivered_hour"), hours("released_hour")
    total = net_steps(delivered, released, end)
    where = np.array(table.text("location")) if "location" in table else np.array([""] * len(table))
    each = {str(rid): net_steps(delivered[where == rid], released[where == rid], end)
            for rid in (r.get("id") for r in res.receptions) if rid}
    return total, each, net_steps(delivered, hours("registered_hour"), end)


def _same(t: Any, a: str, b: str) -> bool:
    """Whether columns ``a`` and ``b`` of ``t`` are both there and equal throughout."""
    return a in t and b in t and np.array_equal(np.nan_to_num(t.col(a)), np.nan_to_num(t.col(b)))


def _delivered_label(label: str, registered_on_arrival: bool) -> str:
    """A series' legend label; "delivered" says so where everyone is registered on
    arrival (no registration modelled), whose line is then drawn once, not twice over."""
    if label == "delivered" and registered_on_arrival:
        return "delivered (registered on arrival)"
    return label


def throughput(res: Results) -> Figure:
    """Cumulative delivered, registered and escaped against dates; bands for replications."""
    fig, ax = style.new_figure()
    if res.kind == REPLICATIONS_KIND:
        t = res.bands
        x = _from_start(res, t.col("day"))
        n = res.summary.get("n") or (
            len(res.replications) if res.has("replications.csv") else None)
        same = all(_same(t, f"delivered_cum{q}", f"registered_cum{q}")
                   for q in ("_mean", "_p5", "_p95"))
        for key, label in THROUGHPUT_SERIES:
            if f"{key}_mean" not in t or (same and label == "registered"):
                continue
            c = style.SERIES[label]
            ax.plot(x, _zero_first(t.col(f"{key}_mean")), color=c,
                    label=_delivered_label(label, same) + " (mean)", lw=2)
            if f"{key}_p5" in t and f"{key}_p95" in t:
                ax.fill_between(x, _zero_first(t.col(f"{key}_p5")),
                                _zero_first(t.col(f"{key}_p95")), color=c, alpha=0.2, lw=0,
                                label=f"{label} (p5-p95)")
        what = f"mean and p5-p95 band over {n} replications" if n else "mean and p5-p95 band"
    elif _exact(res):
        curves = exact_curves(res)
        (d_days, d_counts), (r_days, r_counts) = curves[0], curves[1]
        same = np.array_equal(d_days, r_days) and np.array_equal(d_counts, r_counts)
        for (label, width, ls), (days, counts) in zip(CURVE_STYLES, curves, strict=True):
            if (label == "released" and not counts[-1]) or (same and label == "registered"):
                continue
            ax.plot(style.dates(res.start, days), counts, color=style.SERIES[label],
                    label=_delivered_label(label, same), lw=width, linestyle=ls,
                    drawstyle="steps-post")
        what = "one run"
    else:  # no row a detainee: the counts at each day's end, joined by straight lines
        t = res.daily
        x = _from_start(res, t.col("day"))
        same = _same(t, "delivered_cum", "registered_cum")
        for key, label in THROUGHPUT_SERIES:
            if same and label == "registered":
                continue
            ls = "--" if label == "escaped" else "-"
            ax.plot(x, _zero_first(t.col(key)), color=style.SERIES[label],
                    label=_delivered_label(label, same), lw=2, linestyle=ls)
        if "released_cum" in t and np.nansum(t.col("released_cum")) > 0:
            ax.plot(x, _zero_first(t.col("released_cum")), color=style.SERIES["released"],
                    label="released", lw=1.5, linestyle="-.")
        what = "one run"
    obs = observed_points(res)
    if obs:
        ax.scatter(style.dates(res.start, [style.reported_time(d) for d, _ in obs]),
                   [v for _, v in obs],
                   color=style.SERIES["observed"], marker="o", s=36, zorder=4,
                   label="reported (cumulative moved)")
    style.date_axis(ax)
    crop(ax, res)
    ax.set_ylabel("detainees (cumulative count)")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Detainees moved and registered over time: {res.title}, {what}")
    ax.legend(loc="upper left")
    return style.finish(fig)


def sorties_per_day(res: Results) -> Figure:
    """Sorties and flight hours per day, stacked by aircraft type."""
    t = res.daily
    types = [ty for ty in t.prefixed("sorties:") if f"flight_hours:{ty}" in t]
    if not types:
        raise Skip("no aircraft types in daily.csv (no sorties:<type> columns)")
    days = t.col("day")
    fig, (ax1, ax2) = style.new_figure(2, 1, sharex=True, figsize=(10.0, 6.5))
    for ax, prefix, unit in ((ax1, "sorties:", "sorties per day (count)"),
                             (ax2, "flight_hours:", "flight hours per day (h)")):
        bottom = np.zeros(len(days))
        for i, ty in enumerate(types):
            v = np.nan_to_num(t.col(prefix + ty))
            style.daily_bars(ax, res.start, days, v, bottom, color=style.colour(i), label=ty)
            bottom += v
        ax.set_ylabel(unit)
        if ax is ax1:  # headroom for the legend, drawn in the top right over the last day
            ax1.set_ylim(0, max(float(bottom.max(initial=0.0)), 1.0) * 1.3)
    ax1.legend(title="type", loc="upper right", ncols=min(4, len(types)))
    ax1.set_title(f"Loaded sorties and flight hours per day by aircraft type: {res.title}")
    style.date_axis(ax2)
    crop(ax2, res)
    ax1.set_xlabel("")
    return style.finish(fig)


def status_changes(res: Results) -> list[tuple[float, str, str]]:
    """(hour, site, status) of every status change, from status.csv or daily.csv."""
    if res.has("status.csv"):
        out = []
        for r in res.status:
            try:
                out.append((float(r["hour"]), r["site"], r["status"]))
            except (KeyError, ValueError):
                continue
        return out
    t = res.daily
    out = []
    for site in t.prefixed("status:"):
        prev = "safe"
        for day, s in zip(t.col("day"), t.text(f"status:{site}"), strict=True):
            if s and s != prev:
                out.append((float(day) * 24.0, site, s))
                prev = s
    return out


def held_curves(res: Results, prisons: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each prison's detainees still held, as steps to the hour from detainees.csv: the
    days of every change from the start to the end of daily.csv, and each prison's count
    from each of those days on. A detainee leaves its prison (``origin``) when first
    picked up, when it escapes, or (never picked up) when it passes into another
    authority's custody at its prison's overrun (status.csv); at each day's end the
    counts equal daily.csv's ``held:<prison>``."""
    table = res.detainees
    origin = np.array(table.text("origin"))
    leave = np.fmin(table.col("pickup_hour"), table.col("escaped_hour"))
    if "state" in table:
        overrun_at = {row["site"]: float(row["hour"]) for row in reversed(res.status)
                      if row.get("status") == "overrun"} if res.has("status.csv") else {}
        custody = (np.array(table.text("state")) == "custody_transferred") & np.isnan(leave)
        for i in np.flatnonzero(custody):
            leave[i] = overrun_at.get(str(origin[i]), np.nan)
    end = float(len(res.daily)) if res.has("daily.csv") else 0.0
    finite = leave[np.isfinite(leave)] / 24.0
    days = np.unique(np.r_[0.0, finite, end])
    counts = []
    for p in prisons:
        mine = np.sort(leave[origin == p]) / 24.0  # days, as ``days`` was made (NaN last)
        counts.append(len(mine) - np.searchsorted(mine, days, side="right").astype(float))
    return days, counts


#: Days before the start over which the prisons are drawn full (a drawing choice: the
#: figure's margin before the start), so that a prison emptied at once still shows.
PRE_START_DAYS = 0.3


def held_per_prison(res: Results) -> Figure:
    """Detainees held per prison (stacked area) with threatened/overrun times marked.

    The areas run from the start (the prisons' initial populations) through
    each end of day, so a prison emptied on day 0 (overrun at once) still shows
    as a sliver at the start. Prison colours avoid orange and vermillion,
    which mean threatened and overrun.
    """
    t = res.daily
    prisons = t.prefixed("held:")
    if not prisons:
        raise Skip("no prisons in daily.csv (no held:<prison> columns)")
    initial = _initial_held(res, prisons)
    fig, ax = style.new_figure(figsize=(11.0, 5.5))
    colours = {p: style.category_colour(i) for i, p in enumerate(prisons)}
    labels = [f"{p} ({initial[p]:,.0f} at the start)" for p in prisons]
    if _exact(res):  # to the hour: a lift from the evening of day 0 left from then on
        days, ys = held_curves(res, prisons)
        # Everyone was held before the start (a prison overrun at hour 0 shows there).
        days = np.r_[-PRE_START_DAYS, days]
        ys = [np.r_[initial[p], y] for p, y in zip(prisons, ys, strict=True)]
        x = style.dates(res.start, days)
        lower = np.zeros(len(days))
        for p, y, label in zip(prisons, ys, labels, strict=True):
            ax.fill_between(x, lower, lower + y, step="post", color=colours[p], alpha=0.85,
                            lw=0, label=label)
            lower = lower + y
    else:  # each day's end, joined by straight lines
        x = style.dates(res.start, [0.0, *(t.col("day") + 1.0)])
        ys = [np.r_[initial[p], np.nan_to_num(t.col(f"held:{p}"))] for p in prisons]
        ax.stackplot(x, ys, labels=labels, colors=[colours[p] for p in prisons], alpha=0.85)
    top = float(np.max(np.sum(ys, axis=0))) if ys else 1.0
    changes = [(h, s, st) for h, s, st in status_changes(res) if s in colours]
    overrun_at = {(s, h) for h, s, st in changes if st == "overrun"}
    # A prison overrun the moment it was threatened gets one mark, not two.
    marks = [(h, s, st) for h, s, st in changes
             if not (st == "threatened" and (s, h) in overrun_at)]
    for k, (hour, site, st) in enumerate(marks):
        when = style.dates(res.start, [hour / 24.0])[0]
        ls = ":" if st == "threatened" else "-"
        ax.axvline(when, color=style.STATUS_COLOURS.get(st, "black"), linestyle=ls, lw=1.5)
        ax.annotate(f"{site} {st}", (when, top * (1.22 - 0.07 * (k % 6))), fontsize=8,
                    rotation=0, ha="left", va="top", xytext=(3, 0), textcoords="offset points",
                    color=style.STATUS_COLOURS.get(st, "black"), fontweight="bold",
                    bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1})
    from matplotlib.lines import Line2D

    handles, labels = ax.get_legend_handles_labels()
    if marks:
        handles += [Line2D([], [], color=style.STATUS_COLOURS["threatened"], ls=":"),
                    Line2D([], [], color=style.STATUS_COLOURS["overrun"], ls="-")]
        labels += ["threatened (time)", "overrun (time)"]
    # Outside the axes, so the status labels can never run under it.
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="prison",
              borderaxespad=0.0)
    style.date_axis(ax, "date")
    crop(ax, res)
    lo, _hi = ax.get_xlim()
    start = float(mdates_num(style.dates(res.start, [0.0])[0]))
    ax.set_xlim(min(lo, start - PRE_START_DAYS), _hi)
    ax.set_ylabel("detainees held (count)")
    ax.set_ylim(0, max(top * 1.25, 1.0))
    ax.set_title(f"Detainees still held per prison: {res.title}")
    return style.finish(fig)


def staging(res: Results) -> Figure:
    """People waiting at each staging airfield against its holding capacity, to the hour.

    The airfields between the prisons and the receptions are where a lift by one mode
    hands over to another; their holding is a limit the other figures do not show
    (``held_per_prison`` counts prisons, ``reception`` the receptions).
    """
    from sim.output.staging import staging_peaks

    rows = res.staging
    peaks = staging_peaks(rows)
    if not peaks:
        raise Skip("no staging airfield held anyone")
    end_day = float(len(res.daily)) if res.has("daily.csv") else max(h for h, _, _ in rows) / 24.0
    capacity = res.holding_capacity
    fig, ax = style.new_figure()
    top = 1.0
    for i, p in enumerate(peaks):
        mine = [(hour, held) for hour, site, held in rows if site == p.site]
        days = np.r_[[hour / 24.0 for hour, _ in mine], end_day]  # the last count holds
        counts = np.r_[[float(held) for _, held in mine], float(p.last)]
        colour = style.colour(i)
        ax.plot(style.dates(res.start, days), counts, color=colour, lw=2,
                drawstyle="steps-post", label=f"{p.site} (peak {p.peak:,})")
        cap = capacity.get(p.site)
        if isinstance(cap, (int, float)) and cap > 0:
            ax.axhline(cap, color=colour, ls="--", lw=1.2, label=f"{p.site} holding capacity")
            top = max(top, float(cap))
        top = max(top, float(p.peak))
    style.date_axis(ax)
    crop(ax, res)
    ax.set_ylim(0, top * 1.25)
    ax.set_ylabel("people waiting (count)")
    ax.legend(loc="upper left", fontsize=9)
    ax.set_title(f"Waiting at staging airfields: {res.title}")
    return style.finish(fig)


def mdates_num(when: Any) -> float:
    """A datetime as a matplotlib date number (days)."""
    import matplotlib.dates as mdates

    return float(mdates.date2num(when))


def _initial_held(res: Results, prisons: list[str]) -> dict[str, float]:
    """Detainees in each prison at the start: kpis.json's sites, else the scenario's sites."""
    out: dict[str, float] = {}
    sites: dict[str, Any] = {}
    if res.has("kpis.json"):
        sites = res.kpis.get("sites") or {}
    scenario = {str(s.get("id")): s for s in res.scenario.get("sites") or []
                if isinstance(s, dict)}
    for p in prisons:
        row = sites.get(p)
        if isinstance(row, dict) and isinstance(row.get("detainees"), (int, float)):
            out[p] = float(row["detainees"])
        elif isinstance((scenario.get(p) or {}).get("detainees"), dict):
            out[p] = float(sum(scenario[p]["detainees"].values()))
        else:
            out[p] = float(np.nan_to_num(res.daily.col(f"held:{p}"))[0])
    return out


def intake_limits_by_reception(res: Results, days: np.ndarray) -> dict[str, np.ndarray] | None:
    """Each reception's daily intake limit (detainees/day) as a step function by day (NaN: no
    limit), by reception id in the scenario's order; None if no reception ever has one.

    Starts from the receptions' ``daily_intake_limit`` and applies each trigger's
    ``set_intake_limit`` from the day it fired (kpis.json) or, when it did not
    report, the day in its condition (``day`` conditions only). A limit changed during a
    day counts for that day at the higher of the two: clearances made that day may reach
    it. An uncertain quota is the one the run drew (recorded with the rule that fired).
    """
    recs = res.receptions
    base: dict[str, float] = {str(r.get("id")): float(r["daily_intake_limit"])
                              if r.get("daily_intake_limit") is not None else np.nan
                              for r in recs}
    fired: dict[str, float] = {}
    drawn: dict[str, dict[str, Any]] = {}  # an uncertain quota: what the run drew
    try:
        for f in res.kpis.get("triggers_fired") or []:
            fired.setdefault(str(f.get("name")), float(f.get("day")))
            if isinstance(f.get("intake_limit"), dict):
                drawn.setdefault(str(f.get("name")), f["intake_limit"])
    except Skip:
        pass
    changes: list[tuple[float, str, float]] = []
    for trig in res.scenario.get("triggers") or []:
        if not isinstance(trig, dict):
            continue
        day = fired.get(str(trig.get("name")))
        if day is None and not fired:
            when = trig.get("when") or {}
            day = (float(when["day"]) if isinstance(when, dict)
                   and isinstance(when.get("day"), (int, float)) else None)
        if day is None:
            continue
        for act in trig.get("then") or []:
            lim = act.get("set_intake_limit") if isinstance(act, dict) else None
            if isinstance(lim, dict) and str(lim.get("site")) in base:
                per = drawn.get(str(trig.get("name")), {}).get(str(lim["site"]), lim.get("per_day"))
                if isinstance(per, dict):  # a distribution whose draw the run did not record
                    per = None
                changes.append((day, str(lim["site"]), np.nan if per is None else float(per)))
    if not changes and all(np.isnan(v) for v in base.values()):
        return None
    out = {rid: np.empty(len(days)) for rid in base}
    changes.sort()
    for i, d in enumerate(days):
        cur = dict(base)
        for day, site, v in changes:
            if day <= d:
                cur[site] = v
        for day, site, v in changes:  # a change during the day: the higher limit held then
            if d < day < d + 1:
                cur[site] = np.nan if np.isnan(v) or np.isnan(cur[site]) else max(cur[site], v)
        for rid, v in cur.items():
            out[rid][i] = v
    return out


def intake_limit_by_day(res: Results, days: np.ndarray) -> np.ndarray | None:
    """The receptions' total daily intake limit by day (NaN on a day any reception has no
    limit: the total is then unlimited); None if no reception ever has one."""
    limits = intake_limits_by_reception(res, days)
    if limits is None:
        return None
    return np.sum(list(limits.values()), axis=0)  # NaN where any one is NaN


def clearances_by_day(res: Results, n_days: int) -> np.ndarray | None:
    """Detainees cleared for intake at the receptions, by the day the clearance was given.

    This is what the daily intake limit limits: a transfer to a reception is
    counted against the limit of the day it is dispatched, whenever it lands.
    Read from events.csv: each ``dispatch`` of an aircraft is followed by its
    ``depart`` (the detainees actually on board) and then by ``arrive`` at the
    destination, or by ``abort``/``divert`` (the clearance is given back).
    None when the folder has no events.csv.
    """
    if not res.has("events.csv"):
        return None
    receptions = {str(r.get("id")) for r in res.receptions}
    out = np.zeros(n_days)
    open_missions: dict[str, list[float]] = {}  # aircraft -> [dispatch day, detainees on board]
    for e in res.events:
        event, who = e.get("event"), e.get("who", "")
        if event == "dispatch":
            open_missions[who] = [float(e["hour"]) // 24.0, float(e.get("n") or 0)]
        elif event == "depart" and who in open_missions:
            open_missions[who][1] = float(e.get("n") or 0)
        elif event == "arrive" and who in open_missions:
            day, n = open_missions.pop(who)
            if e.get("where") in receptions and 0 <= day < n_days:
                out[int(day)] += n
        elif event in ("abort", "divert"):
            open_missions.pop(who, None)
    return out


def _covering(what: str, ids: list[str], recs: list[dict[str, Any]]) -> str:
    """A legend label saying which receptions a summed line covers: ``beds, all 2
    receptions``, ``beds, sum of a and b (c: no limit)`` or ``beds of a (b: no limit)``."""
    every = [str(r.get("id")) for r in recs]
    if len(every) <= 1:
        return what
    if ids == every:
        return f"{what}, all {len(every)} receptions"
    rest = f" ({', '.join(rid for rid in every if rid not in ids)}: no limit)"
    if len(ids) == 1:
        return f"{what} of {ids[0]}{rest}"
    return f"{what}, sum of {' and '.join(ids)}{rest}"


def _limit_of_the_limited(limits: dict[str, np.ndarray]) -> np.ndarray:
    """Per day, the sum of the limits of the receptions that have one that day (NaN on a day
    none has): what caps the clearances at those receptions."""
    stacked = np.array(list(limits.values()), dtype=float)
    total = np.nansum(stacked, axis=0)
    return np.where(np.isfinite(stacked).any(axis=0), total, np.nan)


#: The backlog panel's words when no reception registers anyone (``reception``).
NO_REGISTRATION = ("No registration modelled: detainees count as registered on arrival, "
                   "so there is no backlog.")


def reception(res: Results) -> Figure:
    """Reception occupancy vs beds, registration backlog, intake clearances vs their limit."""
    t = res.daily
    for c in ("facility_occupancy", "registration_backlog", "delivered_cum"):
        if c not in t:
            raise Skip(f"daily.csv has no {c} column")
    days = t.col("day")
    ends = style.day_ends(res.start, days)  # occupancy and backlog at the end of each day
    fig, (ax1, ax2, ax3) = style.new_figure(3, 1, sharex=True, figsize=(10.0, 8.0))
    recs = res.receptions
    several = len(recs) > 1
    exact = _exact(res)
    with_beds = [(str(r.get("id")), float(r["beds"])) for r in recs if r.get("beds") is not None]
    if exact:  # to the hour: an operation of hours filled its receptions within a day
        (occ_days, occupancy), by_reception, (backlog_days, backlog_steps) = \
            occupancy_curves(res)
        ax1.plot(style.dates(res.start, occ_days), occupancy, color=style.SERIES["occupancy"],
                 lw=2, drawstyle="steps-post",
                 label="occupancy, all receptions" if several else "occupancy")
        if several and len(by_reception) <= MAX_RECEPTION_LINES:
            beds_of = dict(with_beds)
            for i, (rid, (days_i, counts_i)) in enumerate(by_reception.items()):
                beds = beds_of.get(rid)
                ax1.plot(style.dates(res.start, days_i), counts_i, color=style.colour(i + 1),
                         lw=1.2, drawstyle="steps-post",
                         label=rid if beds is None else f"{rid} ({beds:,.0f} beds)")
    else:  # a day's peak, drawn at its end
        ax1.plot(ends, t.col("facility_occupancy"), color=style.SERIES["occupancy"], lw=2,
                 label="occupancy, all receptions (peak of each day)" if several
                 else "occupancy (peak of each day)")
    if with_beds and (several or len(with_beds) == len(recs)):
        ax1.axhline(sum(b for _rid, b in with_beds), color=style.SERIES["beds"], ls="--", lw=1.5,
                    label=_covering("beds", [rid for rid, _b in with_beds], recs))
    ax1.set_ylabel("detainees (count)")
    ax1.legend(loc="upper left", fontsize=8 if several else None)
    ax1.set_title(f"Reception facility: occupancy, registration backlog and intake: {res.title}",
                  fontsize=12)
    backlog = t.col("registration_backlog")
    ax2.set_ylabel("backlog (detainees)")
    if exact and (res.registers or backlog_steps.any()):
        ax2.fill_between(style.dates(res.start, backlog_days), backlog_steps,
                         color=style.SERIES["backlog"], alpha=0.6, lw=0, step="post",
                         label="awaiting registration")
        ax2.legend(loc="upper left")
    elif res.registers or np.nan_to_num(backlog).any():
        ax2.fill_between(ends, backlog, color=style.SERIES["backlog"], alpha=0.6,
                         lw=0, step=None, label="awaiting registration (at each day's end)")
        ax2.legend(loc="upper left")
    else:  # an empty panel would read as "no backlog measured"; say why there is none
        ax2.text(0.5, 0.5, NO_REGISTRATION, transform=ax2.transAxes, ha="center",
                 va="center", fontsize=10, color="#333333")
        ax2.set_yticks([])
    cum = np.nan_to_num(t.col("delivered_cum"))
    arrivals = np.diff(cum, prepend=0.0)
    cleared = clearances_by_day(res, len(days))
    if cleared is not None:
        style.daily_bars(ax3, res.start, days, cleared, color=style.SERIES["intake"],
                         label="cleared for intake (by day of dispatch)")
        ax3.step(*style.whole_days(res.start, days, arrivals), where="post",
                 color=style.OKABE_ITO["black"], lw=1.2, ls=":", label="arrived (by day of arrival)")
        ax3.set_ylabel("intake (detainees/day)")
    else:
        style.daily_bars(ax3, res.start, days, arrivals, color=style.SERIES["intake"],
                         label="arrived (no events.csv: clearances unknown)")
        ax3.set_ylabel("arrivals (detainees/day)")
    limits = intake_limits_by_reception(res, days)
    limit = None if limits is None else _limit_of_the_limited(limits)
    if limits is not None and not several:
        ax3.step(*style.whole_days(res.start, days, limit), where="post",
                 color=style.SERIES["limit"], lw=2,
                 label="intake limit (no line: unlimited)")
    elif limits is not None:
        limited = [rid for rid, v in limits.items() if np.isfinite(v).any()]
        finite = np.isfinite(np.array([limits[rid] for rid in limited]))
        mixed = bool((finite.any(axis=0) & ~finite.all(axis=0)).any())
        ax3.step(*style.whole_days(res.start, days, limit), where="post",
                 color=style.SERIES["limit"], lw=2,
                 label=_covering("intake limit", limited, recs)
                 + ("; on a day one has none, the others'" if mixed else ""))
    ax3.legend(loc="upper left", fontsize=8, ncols=3)
    if cleared is not None and limit is not None and np.isfinite(limit).any():
        caps = ("Each limit caps the clearances at its own reception (bars: all receptions), "
                "counted on the day a transfer is dispatched;\n" if several else
                "The limit caps clearances, counted on the day a transfer is dispatched; ")
        ax3.set_title(caps + "a transfer may land the next day, so a day's arrivals can exceed "
                      "it.", loc="left", fontsize=8.5, fontweight="normal", color="#333333")
    elif cleared is not None:
        ax3.set_title("No intake limit: clearances are counted on the day a transfer is "
                      "dispatched, and a transfer may land the next day.", loc="left",
                      fontsize=8.5, fontweight="normal", color="#333333")
    tops = [np.nanmax(v) for v in (arrivals, cleared, limit) if v is not None
            and np.isfinite(v).any()]
    ax3.set_ylim(0, max([*tops, 1.0]) * 1.3)
    for ax in (ax1, ax2):
        ax.set_ylim(bottom=0)
    style.date_axis(ax3)
    crop(ax3, res)
    return style.finish(fig)
