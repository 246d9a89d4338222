"""Results of a run: KPIs, daily series, logs, detainee table, metadata.

Everything here is a pure function of the finished model's records. KPI
names are a stable contract (see the README); new ones may be added, none
renamed.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.common.version import __version__
from sim.core.detainees import DELIVERED, REGISTERED, STATE_NAMES
from sim.core.vehicles import AIRCRAFT_STATES

if TYPE_CHECKING:
    from sim.core.model import Model

SORTIE_COLUMNS = (
    "aircraft", "type", "mode", "kind", "origin", "dest", "depart_hour", "arrive_hour",
    "detainees", "km", "flight_hours",
)
DETAINEE_COLUMNS = (
    "id", "origin", "category", "state", "location", "pickup_hour", "delivered_hour",
    "registration_start_hour", "registered_hour", "escaped_hour", "released_hour", "hops",
)


@dataclass(frozen=True)
class Result:
    """Everything one run produced. ``kpis`` and ``daily`` are JSON-able."""

    kpis: dict[str, Any]
    daily: list[dict[str, Any]]
    sorties: list[tuple[Any, ...]]
    detainees: dict[str, np.ndarray]
    events: list[tuple[float, str, str, str, int]]
    status_log: list[tuple[float, str, str]]
    meta: dict[str, Any]
    fronts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def triggers_fired(self) -> list[dict[str, Any]]:
        return list(self.kpis["triggers_fired"])


def _day(hours: float) -> float:
    return round(hours / 24.0, 3)


def _count_le(sorted_times: np.ndarray, t: float) -> int:
    return int(np.searchsorted(sorted_times, t, side="right"))


def _sorted_finite(x: np.ndarray) -> np.ndarray:
    return np.sort(x[~np.isnan(x)])


def build_result(model: Model, seed: int, wall_seconds: float) -> Result:
    from sim.scenario.loader import scenario_hash

    s = model.scenario
    d = model.d
    horizon = model.horizon
    # Registration is scheduled ahead; states at the end of the run follow the clock.
    done = (d.state == DELIVERED) & (d.t_registered <= horizon)
    d.state[done] = REGISTERED
    future = d.t_registered > horizon
    d.t_registered[future] = np.nan
    d.t_reg_start[d.t_reg_start > horizon] = np.nan
    d.check_conservation(model.total)

    counts = d.counts()
    delivered_t = _sorted_finite(d.t_delivered)
    registered_t = _sorted_finite(d.t_registered)
    escaped_t = _sorted_finite(d.t_escaped)
    released_t = _sorted_finite(d.t_released)
    n_delivered = len(delivered_t)
    n_escaped = len(escaped_t)
    remaining = model.total - n_delivered - n_escaped
    if remaining < 0:
        from sim.core.detainees import ConservationError

        raise ConservationError(f"remaining is negative ({remaining})")

    prisons = [x.id for x in s.sites if x.kind == "prison"]
    leave = np.fmin(d.t_pickup, d.t_escaped)
    leave = np.where(np.isnan(leave), np.inf, leave)
    leave_by_prison = {
        p: np.sort(leave[d.origin == model.site_index[p]]) for p in prisons
    }
    threat_time = {sid: math.inf for sid in model.site_ids}
    overrun_time = {sid: math.inf for sid in model.site_ids}
    for t, sid, status in model.status_log:
        if status == "threatened":
            threat_time[sid] = min(threat_time[sid], t)
        else:
            overrun_time[sid] = min(overrun_time[sid], t)
            threat_time[sid] = min(threat_time[sid], t)

    hours_by_day: dict[tuple[int, str], float] = {}
    hours_total: dict[str, float] = {t: 0.0 for t in s.aircraft if t in model._type_counts}
    for leg in model.sorties:
        typ, dep, hrs = leg[1], leg[6], leg[10]
        key = (int(dep // 24), typ)
        hours_by_day[key] = hours_by_day.get(key, 0.0) + hrs
        hours_total[typ] = hours_total.get(typ, 0.0) + hrs
    # A sortie is a loaded hop (one "depart" event), however many refuel segments it flies.
    sorties_total: dict[str, int] = dict.fromkeys(hours_total, 0)
    departs_by_day: dict[tuple[int, str], int] = {}
    for ev in model.events:
        if ev[1] == "depart" and ev[4] > 0:
            typ = ev[2].rsplit("-", 1)[0]  # vehicle names are "<type>-<nn>"
            sorties_total[typ] = sorties_total.get(typ, 0) + 1
            key = (int(ev[0] // 24), typ)
            departs_by_day[key] = departs_by_day.get(key, 0) + 1

    types = sorted(sorties_total)
    fleet_by_day = {row["day"]: row for row in model.daily_fleet}
    daily: list[dict[str, Any]] = []
    at_risk_total = 0.0
    for day in range(s.horizon_days):
        t = (day + 1) * 24.0
        row: dict[str, Any] = {
            "day": day,
            "date": (s.start + dt.timedelta(days=day)).isoformat(),
            "delivered_cum": _count_le(delivered_t, t),
            "registered_cum": _count_le(registered_t, t),
            "escaped_cum": _count_le(escaped_t, t),
            "released_cum": _count_le(released_t, t),
        }
        row["facility_occupancy"] = row["delivered_cum"] - row["released_cum"]
        row["registration_backlog"] = row["delivered_cum"] - row["registered_cum"]
        at_risk = 0
        for p in prisons:
            held = len(leave_by_prison[p]) - _count_le(leave_by_prison[p], t)
            row[f"held:{p}"] = held
            if threat_time[p] <= t:
                at_risk += held
        row["at_risk"] = at_risk
        at_risk_total += at_risk
        for typ in types:
            row[f"sorties:{typ}"] = departs_by_day.get((day, typ), 0)
            row[f"flight_hours:{typ}"] = round(hours_by_day.get((day, typ), 0.0), 3)
        fl = fleet_by_day.get(day)
        for i, name in enumerate(AIRCRAFT_STATES):
            row[f"aircraft_{name}"] = fl[str(i)] if fl else 0
        for sid in model.site_ids:
            if model.kind[sid] in ("prison", "airfield"):
                row[f"status:{sid}"] = (
                    "overrun" if overrun_time[sid] <= t
                    else "threatened" if threat_time[sid] <= t else "safe"
                )
        for i, tr in enumerate(model.fronts):
            lat, lon = tr.position_latlon(t) if t >= tr.t_start else (math.nan, math.nan)
            row[f"front_lat:{i}"] = round(lat, 5) if not math.isnan(lat) else None
            row[f"front_lon:{i}"] = round(lon, 5) if not math.isnan(lon) else None
        daily.append(row)

    completion = None
    if remaining == 0 and n_delivered > 0:
        completion = _day(float(delivered_t[-1]))
    reg_complete = None
    if completion is not None and len(registered_t) == n_delivered:
        reg_complete = _day(float(registered_t[-1]))

    # Peak backlog: +1 at each delivery, -1 at each registration, swept in time order.
    times = np.concatenate([delivered_t, registered_t])
    steps = np.concatenate([np.ones(len(delivered_t)), -np.ones(len(registered_t))])
    order = np.lexsort((steps, times))  # registrations before deliveries at equal times
    peak_backlog = int(np.max(np.cumsum(steps[order]), initial=0))

    avail_hours = 0.0
    busy_hours = 0.0
    for a in model.aircraft:
        start = max(a.available_at, 0.0)
        end = min(a.retired_at, horizon)  # a withdrawn vehicle finishes its mission first
        if end > start:
            avail_hours += end - start
            busy_hours += a.busy_hours
    picked = ~np.isnan(d.t_delivered)
    mean_transfer = (
        float(np.mean(d.t_delivered[picked] - d.t_pickup[picked])) if picked.any() else None
    )

    per_site: dict[str, dict[str, Any]] = {}
    for p in prisons:
        idx = model.site_index[p]
        mine = d.origin == idx
        lv = leave_by_prison[p]
        per_site[p] = {
            "detainees": int(mine.sum()),
            "threatened_day": _day(threat_time[p]) if math.isfinite(threat_time[p]) else None,
            "overrun_day": _day(overrun_time[p]) if math.isfinite(overrun_time[p]) else None,
            "emptied_day": _day(float(lv[-1])) if len(lv) and math.isfinite(lv[-1]) else None,
            "escaped": int(np.count_nonzero(mine & ~np.isnan(d.t_escaped))),
            "cut_off_day": next(
                (_day(t) for t, sid, what in model.cut_off_log if sid == p and what == "cut_off"),
                None,
            ),
            "delivered": int(np.count_nonzero(mine & picked)),
        }

    kpis: dict[str, Any] = {
        "scenario": s.name,
        "seed": seed,
        "detainees_total": model.total,
        "delivered": n_delivered,
        "registered": len(registered_t),
        "escaped": n_escaped,
        "remaining": remaining,
        "released": len(released_t),
        "completion_day": completion,
        "registration_complete_day": reg_complete,
        "sorties": {t: sorties_total[t] for t in types},
        "flight_hours": {t: round(hours_total[t], 3) for t in types},
        "fleet_utilization": round(busy_hours / avail_hours, 4) if avail_hours > 0 else 0.0,
        "peak_facility_occupancy": model.peak_occupancy,
        "peak_registration_backlog": peak_backlog,
        "at_risk_detainee_days": round(at_risk_total, 3),
        "mean_transfer_hours": round(mean_transfer, 4) if mean_transfer is not None else None,
        "triggers_fired": list(model.triggers_fired),
        "aborted_sorties": sum(1 for e in model.events if e[1] == "abort"),
        "sites": per_site,
        "final_states": counts,
        "sim_events": model.env.events_processed,
        "wall_seconds": round(wall_seconds, 4),
    }
    detainee_table = {
        "id": np.arange(d.n),
        "origin": d.origin,
        "category": d.category,
        "state": d.state,
        "location": d.location,
        "pickup_hour": d.t_pickup,
        "delivered_hour": d.t_delivered,
        "registration_start_hour": d.t_reg_start,
        "registered_hour": d.t_registered,
        "escaped_hour": d.t_escaped,
        "released_hour": d.t_released,
        "hops": d.hops,
    }
    fronts = [
        {"index": i, "name": tr.front.name, "start_day": tr.front.start_day,
         "path_latlon": [list(tr.proj.to_latlon(*p)) for p in tr.points],
         "threat_radius_km": tr.front.threat_radius_km,
         "overrun_radius_km": tr.front.overrun_radius_km}
        for i, tr in enumerate(model.fronts)
    ]
    meta = {
        "scenario": s.name,
        "scenario_hash": scenario_hash(s),
        "seed": seed,
        "version": __version__,
        "wall_seconds": round(wall_seconds, 4),
        "sim_events": model.env.events_processed,
        "start": s.start.isoformat(),
        "horizon_days": s.horizon_days,
        "site_ids": list(model.site_ids),
        "risk_categories": list(s.risk_categories),
        "state_names": list(STATE_NAMES),
    }
    return Result(kpis, daily, list(model.sorties), detainee_table, list(model.events),
                  list(model.status_log), meta, fronts)
