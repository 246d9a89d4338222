"""Results of a run: KPIs, daily series, logs, detainee table, metadata.

Built in a phase after the run from a ``FinishedRun`` (the run's typed
records and copies of its detainee columns) by small builders, each a pure
function of plain records and arrays that returns new values: building twice
from the same finished run gives equal results. KPI names are a stable
contract (see the README); new ones may be added, none renamed. Times are
hours unless a name says days.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.common.version import __version__
from sim.common.vocabulary import (
    DETAINEE_STATE_NAMES,
    SORTIE_COLUMNS,
    VEHICLE_STATE_NAMES,
    Event,
    EventKind,
    FleetDay,
    SiteStatus,
    Sortie,
    StatusChange,
    VehicleRecord,
)
from sim.core.detainees import (
    CUSTODY_TRANSFERRED,
    DELIVERED,
    HELD,
    IN_FLIGHT,
    REGISTERED,
    WAITING,
    ConservationError,
    check_conservation,
    state_counts,
)
from sim.core.fronts import FrontTrack
from sim.scenario.schema import Scenario

__all__ = ["DETAINEE_COLUMNS", "SORTIE_COLUMNS", "FinishedRun", "Result", "build_result"]

DETAINEE_COLUMNS = (
    "id", "origin", "category", "state", "location", "pickup_hour", "delivered_hour",
    "registration_start_hour", "registered_hour", "escaped_hour", "released_hour", "hops",
)
THREATENED, OVERRUN = SiteStatus.THREATENED.label, SiteStatus.OVERRUN.label


@dataclass(frozen=True)
class FinishedRun:
    """What a finished run hands to the results: its records and detainee columns (read only)."""

    scenario: Scenario
    seed: int
    horizon: float  # hours
    site_ids: tuple[str, ...]
    site_kinds: dict[str, str]
    total: int  # detainees
    detainees: dict[str, np.ndarray]  # the table's columns but "id", as the run left them
    events: tuple[Event, ...]
    sorties: tuple[Sortie, ...]
    status_log: tuple[StatusChange, ...]
    fleet_days: tuple[FleetDay, ...]
    vehicles: tuple[VehicleRecord, ...]
    types_added: tuple[str, ...]  # vehicle types that had at least one vehicle
    peak_occupancy: int
    triggers_fired: tuple[dict[str, Any], ...]
    sim_events: int
    fronts: tuple[FrontTrack, ...]


@dataclass(frozen=True)
class Result:
    """Everything one run produced. ``kpis`` and ``daily`` are JSON-able."""

    kpis: dict[str, Any]
    daily: list[dict[str, Any]]
    sorties: list[Sortie]
    detainees: dict[str, np.ndarray]
    events: list[Event]
    status_log: list[StatusChange]
    meta: dict[str, Any]
    fronts: list[dict[str, Any]] = field(default_factory=list)
    vehicle_types: dict[str, str] = field(default_factory=dict)  # vehicle name -> type

    @property
    def triggers_fired(self) -> list[dict[str, Any]]:
        return list(self.kpis["triggers_fired"])

    def headline(self) -> str:
        """One line with the numbers a reader looks for first."""
        k = self.kpis
        done = k.get("completion_day")
        sorties = sum((k.get("sorties") or {}).values())
        return (f"{k['scenario']} (seed {k['seed']}): {k['delivered']:,} of {k['detainees_total']:,} "
                f"delivered, {k['escaped']:,} escaped, {k['remaining']:,} remaining; "
                f"completion day {'-' if done is None else f'{done:g}'}; {sorties:,} sorties")

    def __repr__(self) -> str:
        # The dataclass repr would print every array and log (tens of thousands of characters).
        return (f"Result({self.headline()}; {len(self.events):,} events, {len(self.sorties):,} "
                f"sortie legs, {len(self.daily)} days)")

    def _repr_html_(self) -> str:
        import html

        return f"<p><b>Result</b>: {html.escape(self.headline())}</p>"


def _day(hours: float) -> float:
    return round(hours / 24.0, 3)


def _count_le(sorted_times: np.ndarray, t: float) -> int:
    return int(np.searchsorted(sorted_times, t, side="right"))


def _sorted_finite(x: np.ndarray) -> np.ndarray:
    return np.sort(x[~np.isnan(x)])


# ----- builders ------------------------------------------------------------------------


def end_of_run_columns(columns: Mapping[str, np.ndarray], horizon: float) -> dict[str, np.ndarray]:
    """The detainee columns as the clock leaves them, on copies (registration is scheduled
    ahead of the clock: only what ended by ``horizon`` counts as registered)."""
    out = {name: a.copy() for name, a in columns.items()}
    state, t_reg, t_start = out["state"], out["registered_hour"], out["registration_start_hour"]
    done = (state == DELIVERED) & (t_reg <= horizon)
    state[done] = REGISTERED
    t_reg[t_reg > horizon] = np.nan
    t_start[t_start > horizon] = np.nan
    return out


def status_times(
    status_log: Sequence[StatusChange], site_ids: Sequence[str]
) -> tuple[dict[str, float], dict[str, float]]:
    """Each site's first threatened and first overrun hour (inf: never); an overrun
    site counts as threatened from then on too."""
    threat_time = {sid: math.inf for sid in site_ids}
    overrun_time = {sid: math.inf for sid in site_ids}
    for t, sid, status in status_log:
        if status == THREATENED:
            threat_time[sid] = min(threat_time[sid], t)
        else:
            overrun_time[sid] = min(overrun_time[sid], t)
            threat_time[sid] = min(threat_time[sid], t)
    return threat_time, overrun_time


@dataclass(frozen=True)
class FlightTotals:
    """Flight hours and loaded sorties by type, in total and by (day, type)."""

    hours_by_day: dict[tuple[int, str], float]
    hours_total: dict[str, float]
    sorties_total: dict[str, int]
    departs_by_day: dict[tuple[int, str], int]

    @property
    def types(self) -> list[str]:
        return sorted(self.sorties_total)


def flight_totals(
    sorties: Sequence[Sortie], events: Sequence[Event], roster: Mapping[str, str],
    types_in_order: Sequence[str],
) -> FlightTotals:
    """Sum flight hours from the sortie log and count loaded sorties from the event log.

    A sortie is a loaded hop (one "depart" event), however many refuel segments it
    flies. ``types_in_order`` lists the fleet's types in file order (a type with
    vehicles but no flight still shows, with zeros); ``roster`` names each vehicle's type.
    """
    hours_by_day: dict[tuple[int, str], float] = {}
    hours_total: dict[str, float] = dict.fromkeys(types_in_order, 0.0)
    for leg in sorties:
        typ, dep, hrs = leg.type, leg.depart_hour, leg.flight_hours
        key = (int(dep // 24), typ)
        hours_by_day[key] = hours_by_day.get(key, 0.0) + hrs
        hours_total[typ] = hours_total.get(typ, 0.0) + hrs
    sorties_total: dict[str, int] = dict.fromkeys(hours_total, 0)
    departs_by_day: dict[tuple[int, str], int] = {}
    for ev in events:
        if ev.kind == EventKind.DEPART and ev.n > 0:
            typ = roster[ev.subject]
            sorties_total[typ] = sorties_total.get(typ, 0) + 1
            key = (int(ev.time // 24), typ)
            departs_by_day[key] = departs_by_day.get(key, 0) + 1
    return FlightTotals(hours_by_day, hours_total, sorties_total, departs_by_day)


@dataclass(frozen=True)
class Times:
    """Sorted finite event times of the detainees (hours) and when each left its prison."""

    delivered: np.ndarray
    registered: np.ndarray
    escaped: np.ndarray
    released: np.ndarray
    leave_by_prison: dict[str, np.ndarray]


def detainee_times(cols: Mapping[str, np.ndarray], prisons: Sequence[str],
                   site_index: Mapping[str, int]) -> Times:
    leave = np.fmin(cols["pickup_hour"], cols["escaped_hour"])
    if "custody_hour" in cols:  # passed into another authority's custody at an overrun
        leave = np.fmin(leave, cols["custody_hour"])
    leave = np.where(np.isnan(leave), np.inf, leave)
    return Times(
        _sorted_finite(cols["delivered_hour"]), _sorted_finite(cols["registered_hour"]),
        _sorted_finite(cols["escaped_hour"]), _sorted_finite(cols["released_hour"]),
        {p: np.sort(leave[cols["origin"] == site_index[p]]) for p in prisons},
    )


def daily_series(
    run: FinishedRun, times: Times, prisons: Sequence[str], threat_time: Mapping[str, float],
    overrun_time: Mapping[str, float], flights: FlightTotals,
) -> tuple[list[dict[str, Any]], float]:
    """One row per day (counts at the day's end) and the at-risk detainee-days."""
    s = run.scenario
    types = flights.types
    fleet_by_day = {row.day: row for row in run.fleet_days}
    daily: list[dict[str, Any]] = []
    at_risk_total = 0.0
    for day in range(s.horizon_days):
        t = (day + 1) * 24.0
        row: dict[str, Any] = {
            "day": day,
            "date": (s.start + dt.timedelta(days=day)).isoformat(),
            "delivered_cum": _count_le(times.delivered, t),
            "registered_cum": _count_le(times.registered, t),
            "escaped_cum": _count_le(times.escaped, t),
            "released_cum": _count_le(times.released, t),
        }
        row["facility_occupancy"] = row["delivered_cum"] - row["released_cum"]
        row["registration_backlog"] = row["delivered_cum"] - row["registered_cum"]
        at_risk = 0
        for p in prisons:
            lv = times.leave_by_prison[p]
            held = len(lv) - _count_le(lv, t)
            row[f"held:{p}"] = held
            if threat_time[p] <= t:
                at_risk += held
        row["at_risk"] = at_risk
        at_risk_total += at_risk
        for typ in types:
            row[f"sorties:{typ}"] = flights.departs_by_day.get((day, typ), 0)
            row[f"flight_hours:{typ}"] = round(flights.hours_by_day.get((day, typ), 0.0), 3)
        fl = fleet_by_day.get(day)
        for i, name in enumerate(VEHICLE_STATE_NAMES):
            row[f"aircraft_{name}"] = fl.counts[i] if fl else 0
        for sid in run.site_ids:
            if run.site_kinds[sid] in ("prison", "airfield"):
                row[f"status:{sid}"] = (
                    OVERRUN if overrun_time[sid] <= t
                    else THREATENED if threat_time[sid] <= t else SiteStatus.SAFE.label
                )
        for i, tr in enumerate(run.fronts):
            lat, lon = tr.position_latlon(t) if t >= tr.t_start else (math.nan, math.nan)
            row[f"front_lat:{i}"] = round(lat, 5) if not math.isnan(lat) else None
            row[f"front_lon:{i}"] = round(lon, 5) if not math.isnan(lon) else None
        daily.append(row)
    return daily, at_risk_total


def utilisation(vehicles: Sequence[VehicleRecord], horizon: float) -> float:
    """Busy hours over hours in service, over the whole fleet (0 if none served)."""
    avail_hours = 0.0
    busy_hours = 0.0
    for v in vehicles:
        start = max(v.available_at, 0.0)
        end = min(v.retired_at, horizon)  # a withdrawn vehicle finishes its mission first
        if end > start:
            avail_hours += end - start
            busy_hours += v.busy_hours
    return round(busy_hours / avail_hours, 4) if avail_hours > 0 else 0.0


def per_site_rows(
    cols: Mapping[str, np.ndarray], prisons: Sequence[str], site_index: Mapping[str, int],
    times: Times, threat_time: Mapping[str, float], overrun_time: Mapping[str, float],
    events: Sequence[Event],
) -> dict[str, dict[str, Any]]:
    """One row per prison: its detainees, when it was threatened, overrun, emptied, cut off."""
    picked = ~np.isnan(cols["delivered_hour"])
    escaped = ~np.isnan(cols["escaped_hour"])
    first_cut: dict[str, float] = {}
    for e in events:
        if e.kind == EventKind.NO_ROUTE:
            first_cut.setdefault(e.site, e.time)
    per_site: dict[str, dict[str, Any]] = {}
    for p in prisons:
        mine = cols["origin"] == site_index[p]
        lv = times.leave_by_prison[p]
        per_site[p] = {
            "detainees": int(mine.sum()),
            "threatened_day": _day(threat_time[p]) if math.isfinite(threat_time[p]) else None,
            "overrun_day": _day(overrun_time[p]) if math.isfinite(overrun_time[p]) else None,
            "emptied_day": _day(float(lv[-1])) if len(lv) and math.isfinite(lv[-1]) else None,
            "escaped": int(np.count_nonzero(mine & escaped)),
            "cut_off_day": _day(first_cut[p]) if p in first_cut else None,
            "delivered": int(np.count_nonzero(mine & picked)),
        }
    return per_site


def peak_backlog(times: Times) -> int:
    """Most detainees delivered and not yet registered at once (+1 a delivery, -1 a
    registration, swept in time order; registrations first at equal times)."""
    t = np.concatenate([times.delivered, times.registered])
    steps = np.concatenate([np.ones(len(times.delivered)), -np.ones(len(times.registered))])
    order = np.lexsort((steps, t))
    return int(np.max(np.cumsum(steps[order]), initial=0))


def mean_transfer_hours(cols: Mapping[str, np.ndarray]) -> float | None:
    """Mean pickup-to-delivery time of the delivered, hours (None if none)."""
    picked = ~np.isnan(cols["delivered_hour"])
    if not picked.any():
        return None
    return float(np.mean(cols["delivered_hour"][picked] - cols["pickup_hour"][picked]))


def remaining_by_site(cols: Mapping[str, np.ndarray], site_ids: Sequence[str]) -> dict[str, int]:
    """Where the detainees neither delivered nor escaped are at the end: held or waiting at a
    site (by id), or ``in_flight``; empty when everyone was delivered or escaped."""
    state, location = cols["state"], cols["location"]
    still = (state == HELD) | (state == WAITING)
    counts = np.bincount(location[still], minlength=len(site_ids))
    out = {sid: int(counts[i]) for i, sid in enumerate(site_ids) if counts[i]}
    flying = int(np.count_nonzero(state == IN_FLIGHT))
    if flying:
        out["in_flight"] = flying
    return out


def detainee_table(cols: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The detainee table in ``DETAINEE_COLUMNS`` order, one row per id."""
    n = len(cols["state"])
    return {"id": np.arange(n), **{c: cols[c] for c in DETAINEE_COLUMNS[1:]}}


def front_tracks(fronts: Sequence[FrontTrack]) -> list[dict[str, Any]]:
    """Each front's drawn path and radii, for the map."""
    return [
        {"index": i, "name": tr.front.name, "start_day": tr.front.start_day,
         "path_latlon": [list(tr.proj.to_latlon(*p)) for p in tr.points],
         "threat_radius_km": tr.front.threat_radius_km,
         "overrun_radius_km": tr.front.overrun_radius_km}
        for i, tr in enumerate(fronts)
    ]


def metadata(run: FinishedRun, wall_seconds: float) -> dict[str, Any]:
    from sim.scenario.loader import scenario_hash

    s = run.scenario
    return {
        "scenario": s.name,
        "scenario_hash": scenario_hash(s),
        "seed": run.seed,
        "version": __version__,
        "wall_seconds": round(wall_seconds, 4),
        "sim_events": run.sim_events,
        "start": s.start.isoformat(),
        "horizon_days": s.horizon_days,
        "site_ids": list(run.site_ids),
        "risk_categories": list(s.risk_categories),
        "state_names": list(DETAINEE_STATE_NAMES),
    }


# ----- the whole result ----------------------------------------------------------------


def build_result(run: FinishedRun, wall_seconds: float) -> Result:
    """The ``Result`` of a finished run; ``run`` is left as it was."""
    s = run.scenario
    cols = end_of_run_columns(run.detainees, run.horizon)
    check_conservation(cols["state"], cols["delivered_hour"], cols["pickup_hour"], run.total)
    site_index = {sid: i for i, sid in enumerate(run.site_ids)}
    prisons = [x.id for x in s.sites if x.kind == "prison"]
    times = detainee_times(cols, prisons, site_index)
    n_delivered, n_escaped = len(times.delivered), len(times.escaped)
    n_custody = int(np.count_nonzero(cols["state"] == CUSTODY_TRANSFERRED))
    remaining = run.total - n_delivered - n_escaped - n_custody
    if remaining < 0:
        raise ConservationError(f"remaining is negative ({remaining})")
    threat_time, overrun_time = status_times(run.status_log, run.site_ids)
    roster = {v.name: v.type for v in run.vehicles}
    flights = flight_totals(run.sorties, run.events, roster,
                            [t for t in s.aircraft if t in run.types_added])
    daily, at_risk_total = daily_series(run, times, prisons, threat_time, overrun_time, flights)

    completion = None
    if remaining == 0 and n_delivered > 0:
        completion = _day(float(times.delivered[-1]))
    reg_complete = None
    if completion is not None and len(times.registered) == n_delivered:
        reg_complete = _day(float(times.registered[-1]))
    mean_transfer = mean_transfer_hours(cols)
    types = flights.types
    kpis: dict[str, Any] = {
        "scenario": s.name,
        "seed": run.seed,
        "detainees_total": run.total,
        "delivered": n_delivered,
        "registered": len(times.registered),
        "escaped": n_escaped,
        "custody_transferred": n_custody,  # taken over with an overrun site: not delivered
        "remaining": remaining,
        "remaining_by_site": remaining_by_site(cols, run.site_ids),
        "released": len(times.released),
        "completion_day": completion,
        "registration_complete_day": reg_complete,
        "sorties": {t: flights.sorties_total[t] for t in types},
        "flight_hours": {t: round(flights.hours_total[t], 3) for t in types},
        "fleet_utilization": utilisation(run.vehicles, run.horizon),
        "peak_facility_occupancy": run.peak_occupancy,
        "peak_registration_backlog": peak_backlog(times),
        "at_risk_detainee_days": round(at_risk_total, 3),
        "mean_transfer_hours": round(mean_transfer, 4) if mean_transfer is not None else None,
        "triggers_fired": [dict(f) for f in run.triggers_fired],
        "aborted_sorties": sum(1 for e in run.events if e.kind == EventKind.ABORT),
        "sites": per_site_rows(cols, prisons, site_index, times, threat_time, overrun_time,
                               run.events),
        "final_states": state_counts(cols["state"]),
        "sim_events": run.sim_events,
        "wall_seconds": round(wall_seconds, 4),
    }
    return Result(kpis, daily, list(run.sorties), detainee_table(cols), list(run.events),
                  list(run.status_log), metadata(run, wall_seconds), front_tracks(run.fronts),
                  roster)
