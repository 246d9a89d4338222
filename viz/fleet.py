"""Fleet figures: aircraft states over time and a Gantt chart of sorties per aircraft."""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from viz import style
from viz.results import Results, Skip

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Most aircraft rows a Gantt chart shows before sampling evenly within each type.
MAX_GANTT_ROWS = 40


#: Time-weighted fleet states, in stacking order: (key, legend label).
FLEET_STATES: tuple[tuple[str, str], ...] = (
    ("flying", "flying"),
    ("mission_ground", "on a mission, on the ground (loading, unloading, turnaround)"),
    ("maintenance", "in maintenance (failure to repair)"),
    ("not_capable", "in maintenance: not mission capable that day"),
    ("grounded", "grounded (weather or order)"),
    ("idle", "idle or crew resting"),
    ("pending", "ordered, not yet arrived"),
    ("withdrawn", "withdrawn"),
)
#: States daily.csv counts as ``aircraft_maintenance`` (the core holds a vehicle that is not
#: mission capable today in its maintenance state).
MAINTENANCE_STATES = ("maintenance", "not_capable")

Spans = list[tuple[float, float]]


def _dist_mean(v: Any) -> float:
    """Mean of a scenario distribution (a number or a ``dist`` mapping); 0 if unknown."""
    if isinstance(v, (int, float)):
        return float(v)
    if not isinstance(v, dict):
        return 0.0
    if "mean" in v:
        return float(v["mean"])
    if "value" in v:
        return float(v["value"])
    if v.get("dist") == "triangular":
        return (float(v["low"]) + float(v["mode"]) + float(v["high"])) / 3.0
    if "low" in v and "high" in v:
        return (float(v["low"]) + float(v["high"])) / 2.0
    return 0.0


def day_hours(spans: Spans, n_days: int) -> np.ndarray:
    """Hours of ``spans`` (hours from the start) inside each day, split at midnights.

    Overlapping spans count once each. Vectorised: the covered time up to each midnight
    is ``t * (starts before t - ends before t) - sum(those starts) + sum(those ends)``,
    read with one sorted search, so the cost is O((spans + days) log spans) rather than a
    Python step per day of each span.
    """
    out = np.zeros(n_days)
    if not spans or n_days <= 0:
        return out
    arr = np.asarray(spans, dtype=float).reshape(-1, 2)
    horizon = n_days * 24.0
    lo, hi = np.clip(arr[:, 0], 0.0, horizon), np.clip(arr[:, 1], 0.0, horizon)
    keep = hi > lo
    if not keep.any():
        return out
    midnights = np.arange(n_days + 1) * 24.0

    def covered_by(points: np.ndarray) -> np.ndarray:
        """Sum over ``points`` of max(t - point, 0) at each midnight t."""
        points = np.sort(points)
        before = np.searchsorted(points, midnights, side="left")
        sums = np.concatenate(([0.0], np.cumsum(points)))[before]
        return midnights * before - sums

    covered = covered_by(lo[keep]) - covered_by(hi[keep])
    return np.diff(covered)


def _minus(spans: Spans, cuts: Spans) -> Spans:
    """The parts of ``spans`` outside every interval of ``cuts``.

    Both sorted and non-overlapping (as ``_merge`` returns them): one pass over each.
    """
    out: Spans = []
    j = 0
    for a, b in spans:
        while j < len(cuts) and cuts[j][1] <= a:
            j += 1
        k, at = j, a
        while k < len(cuts) and cuts[k][0] < b:
            c0, c1 = cuts[k]
            if c0 > at:
                out.append((at, c0))
            at = max(at, c1)
            k += 1
        if at < b:
            out.append((at, b))
    return out


def _overlap(spans: Spans, cuts: Spans) -> Spans:
    """The parts of ``spans`` inside some interval of ``cuts``.

    Both sorted and non-overlapping (as ``_merge`` returns them): one pass over each.
    """
    out: Spans = []
    i = j = 0
    while i < len(spans) and j < len(cuts):
        lo, hi = max(spans[i][0], cuts[j][0]), min(spans[i][1], cuts[j][1])
        if lo < hi:
            out.append((lo, hi))
        if spans[i][1] < cuts[j][1]:
            i += 1
        else:
            j += 1
    return out


def _clip(spans: Spans, t0: float, t1: float) -> Spans:
    """Each span cut to [t0, t1] (hours); spans left empty are dropped, overlaps kept."""
    return [(max(a, t0), min(b, t1)) for a, b in spans if min(b, t1) > max(a, t0)]


def _merge(spans: Spans) -> Spans:
    """Sorted, non-overlapping union of intervals."""
    out: Spans = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        elif b > a:
            out.append((a, b))
    return out


def _return_end(flights: Spans, departs: list[float], hour: float, until: float) -> float:
    """When an aircraft diverted at ``hour`` was back: the last arrival of its flights that
    leave from ``hour`` until its next dispatch at ``until`` (hours; flights sorted)."""
    i, k = bisect.bisect_left(departs, hour), bisect.bisect_left(departs, until)
    return max([hour, *(b for _a, b in flights[i:k])])


def state_hours(res: Results) -> dict[str, np.ndarray]:
    """Aircraft-hours per day in each fleet state; divided by 24, the average number of aircraft.

    Computed from the logs rather than sampled at midnight (when almost every
    aircraft is idle): ``flying`` from sorties.csv; a mission from ``dispatch``
    to the end of turnaround after ``unload`` (the scenario's mean turnaround),
    or to the return after ``abort``/``divert``; maintenance from ``failure``
    to ``repaired``; grounded while a ``grounded_*`` order holds the aircraft's
    mode; withdrawn after ``withdrawn``. Idle is the rest of the time after
    ``available``. Pending runs from an aircraft's order (the start, or the
    trigger that added it) to its ``available`` event.

    ``not_capable``: the core holds a vehicle that is not mission capable today (its
    ``mission_capable_rate`` draw) in maintenance until midnight, without an event, and
    daily.csv counts it in ``aircraft_maintenance`` at the day's end. Those counts, less
    the repairs under way at that midnight, are taken as held all day (the draw is one a
    day), out of the day's idle hours, so the figure's maintenance agrees with daily.csv's.

    Cost: linear in the events and sorties plus the days (sorted sweeps, numpy sums).
    """
    t = res.daily
    n_days = len(t)
    horizon = n_days * 24.0
    turnaround = {k: _dist_mean(v.get("turnaround_min")) / 60.0
                  for k, v in (res.scenario.get("aircraft") or {}).items() if isinstance(v, dict)}
    kind_of: dict[str, str] = {}
    mode_of: dict[str, str] = {}
    flights: dict[str, Spans] = defaultdict(list)
    for r in res.sorties:
        a = r["aircraft"]
        kind_of.setdefault(a, r.get("type", ""))
        mode_of.setdefault(a, r.get("mode", ""))
        flights[a].append((float(r["depart_hour"]), float(r["arrive_hour"])))
    for spans in flights.values():
        spans.sort()
    departs = {a: [d for d, _b in spans] for a, spans in flights.items()}
    available: dict[str, float] = {}
    missions: dict[str, Spans] = defaultdict(list)
    repairs: dict[str, Spans] = defaultdict(list)
    withdrawn: dict[str, float] = {}
    groundings: dict[str, Spans] = defaultdict(list)
    started: dict[str, float] = {}
    failed: dict[str, float] = {}
    diverted: dict[str, tuple[float, float]] = {}  # who -> (mission start, divert hour)

    def close_divert(who: str, until: float) -> None:
        h0, hour = diverted.pop(who)
        missions[who].append((h0, _return_end(flights[who], departs.get(who, []), hour, until)))

    for e in res.events:
        event, who, hour = e["event"], e["who"], float(e["hour"])
        if event == "available":
            available.setdefault(who, hour)
        elif event == "dispatch":
            if who in diverted:
                close_divert(who, hour)
            started[who] = hour
        elif event == "unload" and who in started:
            end = hour + turnaround.get(kind_of.get(who, ""), 0.0)
            missions[who].append((started.pop(who), end))
        elif event == "abort" and who in started:
            h0 = started.pop(who)
            missions[who].append((h0, hour + (hour - h0)))
        elif event == "divert" and who in started:
            diverted[who] = (started.pop(who), hour)
        elif event == "failure":
            failed[who] = hour
        elif event == "repaired" and who in failed:
            repairs[who].append((failed.pop(who), hour))
        elif event == "withdrawn":
            withdrawn[who] = hour
        elif event.startswith("grounded_"):
            groundings[e["where"]].append((hour, hour + float(e.get("n") or 0)))
    for who in list(diverted):
        close_divert(who, math.inf)
    for who, h0 in started.items():  # a mission still under way at the end
        i = bisect.bisect_left(departs.get(who, []), h0)
        missions[who].append((h0, max([h0, *(b for _a, b in flights[who][i:])])))
    for who, h0 in failed.items():
        repairs[who].append((h0, horizon))
    merged_groundings = {mode: _merge(spans) for mode, spans in groundings.items()}
    spans_of: dict[str, Spans] = {k: [] for k, _label in FLEET_STATES}
    for who, t_avail in available.items():
        t_end = withdrawn.get(who, horizon)
        if who in withdrawn:
            spans_of["withdrawn"].append((t_end, horizon))
        life = [(t_avail, t_end)]
        fly = _clip(flights.get(who, []), t_avail, t_end)
        busy = _merge(_clip(missions.get(who, []), t_avail, t_end) + fly)
        spans_of["flying"] += fly
        spans_of["mission_ground"] += _minus(busy, _merge(fly))
        free = _minus(life, busy)
        down = _overlap(free, _merge(repairs.get(who, [])))
        spans_of["maintenance"] += down
        free = _minus(free, down)
        held = _overlap(free, merged_groundings.get(mode_of.get(who, ""), []))
        spans_of["grounded"] += held
        spans_of["idle"] += _minus(free, held)
    spans_of["pending"] += _pending_spans(res, available, kind_of)
    out = {k: day_hours(spans, n_days) for k, spans in spans_of.items()}
    repairs_all = [span for spans in repairs.values() for span in spans]
    held_nmc = _not_capable_counts(res, repairs_all)
    if held_nmc is not None:
        moved = np.minimum(out["idle"], held_nmc * 24.0)
        out["not_capable"] = moved
        out["idle"] = out["idle"] - moved
    return out


def _not_capable_counts(res: Results, repairs: Spans) -> np.ndarray | None:
    """Vehicles held as not mission capable at each day's end: daily.csv's
    ``aircraft_maintenance`` less the repairs (``failure`` to ``repaired``) under way then.
    None without that column."""
    t = res.daily
    if "aircraft_maintenance" not in t.columns or not len(t):
        return None
    counted = np.nan_to_num(t.col("aircraft_maintenance"))
    ends = (np.arange(len(t)) + 1) * 24.0
    failed = np.sort(np.array([a for a, _b in repairs], dtype=float))
    repaired = np.sort(np.array([b for _a, b in repairs], dtype=float))
    # in repair at midnight t: failed at or before t, repaired after t
    under_repair = (np.searchsorted(failed, ends, side="right")
                    - np.searchsorted(repaired, ends, side="right"))
    return np.maximum(counted - under_repair, 0.0)


def _pending_spans(res: Results, available: dict[str, float], kind_of: dict[str, str]
                   ) -> Spans:
    """(ordered, available) hours of aircraft that joined after they were ordered.

    The initial fleet is ordered at hour 0 and joins on ``available_from_day``;
    an ``add_aircraft`` action is ordered when its trigger fired (kpis.json)
    and joins ``delay_hours`` later. An aircraft is matched to an order by its
    type and the hour its ``available`` event was logged.
    """
    orders: list[tuple[str, float, float]] = []  # (type, ordered hour, available hour)
    sc = res.scenario
    for f in sc.get("fleet") or []:
        if isinstance(f, dict):
            h = float(f.get("available_from_day") or 0.0) * 24.0
            orders += [(str(f.get("type")), 0.0, h)] * int(f.get("count") or 0)
    fired: dict[str, float] = {}
    if res.has("kpis.json"):
        for f in res.kpis.get("triggers_fired") or []:
            fired.setdefault(str(f["name"]), float(f["day"]) * 24.0)
    for trig in sc.get("triggers") or []:
        if not isinstance(trig, dict) or str(trig.get("name")) not in fired:
            continue
        h = fired[str(trig.get("name"))]
        for act in trig.get("then") or []:
            add = act.get("add_aircraft") if isinstance(act, dict) else None
            if isinstance(add, dict):
                orders += [(str(add.get("type")), h, h + float(add.get("delay_hours") or 0))] \
                    * int(add.get("count") or 0)
    out = []
    for who, h in available.items():
        kind = kind_of.get(who) or who.rsplit("-", 1)[0]
        match = next((o for o in orders if o[0] == kind and abs(o[2] - h) < 0.01), None)
        if match is not None:
            orders.remove(match)
            if match[2] > match[1]:
                out.append((match[1], match[2]))
    return out


def availability(res: Results) -> Figure:
    """Average aircraft per day in each state (time-weighted), stacked."""
    t = res.daily
    if not res.has("events.csv") or not res.has("sorties.csv"):
        raise Skip("the fleet figure needs events.csv and sorties.csv")
    hours = state_hours(res)
    if not any(np.any(v) for v in hours.values()):
        raise Skip("the scenario has no aircraft")
    fig, ax = style.new_figure()
    keys = [k for k, _label in FLEET_STATES if np.any(hours[k])]
    labels = dict(FLEET_STATES)
    layers = []
    x: Any = []
    for k in keys:  # each day's average spans its day
        x, layer = style.whole_days(res.start, t.col("day"), hours[k] / 24.0)
        layers.append(layer)
    polys = ax.stackplot(x, layers, labels=[labels[k] for k in keys],
                         colors=[style.FLEET_COLOURS[k] for k in keys], step="post", alpha=0.9)
    for poly, k in zip(polys, keys, strict=True):
        if k == "withdrawn":
            poly.set_hatch("///")
            poly.set_edgecolor(style.OKABE_ITO["grey"])
    from viz.timeseries import crop

    style.date_axis(ax, "date (ticks at midnight; each day's average drawn over its day)")
    crop(ax, res)
    ax.set_ylabel("aircraft and vehicles (average over the day)")
    ax.set_title(f"Fleet by state, time-weighted over each day: {res.title}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=3, fontsize=8)
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


def fleet_size(res: Results, flew: set[str]) -> int:
    """Aircraft and vehicles the run ever had: those that flew, those logged ``available``
    in events.csv, and at least the most counted on one day in daily.csv."""
    ever = set(flew)
    if res.has("events.csv"):
        ever |= {e["who"] for e in res.events if e.get("event") == "available"}
    counted = 0
    if res.has("daily.csv"):
        t = res.daily
        columns = [c for c in t.columns if c.startswith("aircraft_")]
        if columns and len(t):
            counted = int(np.nanmax(sum(np.nan_to_num(t.col(c)) for c in columns)))
    return max(len(ever), counted)


def numbered(name: str) -> tuple[str, int]:
    """A vehicle's name as (stem, number), so that names sort by number: "coach-26"
    before "coach-101" (as strings, "coach-101" came first where a type has more than
    99 vehicles). A name without a trailing number sorts as number -1."""
    stem = name.rstrip("0123456789")
    digits = name[len(stem):]
    return (stem, int(digits)) if digits else (name, -1)


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
    aircraft = sorted(types, key=lambda a: (types[a], *numbered(a)))
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
    fleet = fleet_size(res, set(aircraft))
    note = "" if len(shown) == fleet else \
        f", {len(shown)} of {fleet} aircraft shown ({len(aircraft)} flew)"
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
