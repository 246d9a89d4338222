"""Results of a run: KPIs, daily series, logs, detainee table, metadata.

Built in a phase after the run from a ``FinishedRun`` (the run's typed
records and copies of its detainee columns) by small builders, each a pure
function of plain records and arrays that returns new values: building twice
from the same finished run gives equal results. KPI names are a contract
(see the README): new ones may be added; a name is changed only when it
misled (``completion_day`` became ``prisons_cleared_day``). Times are hours
unless a name says days.

Success is measured on deliveries, never on the prisons being empty: people
lost (escaped, or passed into another authority's custody) are not delivered,
so losing a prison can never make an operation look faster or more successful.
The fractions count those in custody at day 0 (all prisons' populations at the
start); ``deadline_met`` is the one test of "a target fraction delivered by a
deadline" that experiments and planning share.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, repeat
from typing import Any

import numpy as np

from sim.common.arrays import float_array
from sim.common.version import __version__
from sim.common.vocabulary import (
    DETAINEE_STATE_NAMES,
    SORTIE_COLUMNS,
    VEHICLE_STATE_NAMES,
    Event,
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
from sim.core.logs import EventLog, SortieLog
from sim.scenario.schema import Scenario

__all__ = [
    "DETAINEE_COLUMNS", "FRACTION_KPIS", "SORTIE_COLUMNS", "FinishedRun", "Result", "build_result",
    "check_target", "day_to_target", "deadline_met", "people_lost",
]

DETAINEE_COLUMNS = (
    "id", "origin", "category", "state", "location", "pickup_hour", "delivered_hour",
    "registration_start_hour", "registered_hour", "escaped_hour", "released_hour", "hops",
)
THREATENED, OVERRUN = SiteStatus.THREATENED.label, SiteStatus.OVERRUN.label
FRACTION_KPIS = {"day_to_50": 0.5, "day_to_90": 0.9, "day_to_100": 1.0}
PERCENT_STEPS = 100  # ``delivery_days`` holds the day of each whole percent, 1..100
LOST_KPIS = ("escaped", "custody_transferred")  # outcomes that end custody without delivery


class TargetError(ValueError):
    """A delivery target outside (0, 1] or not a whole percent."""


def check_target(target: float) -> float:
    """``target`` as a float if it is a fraction in (0, 1] in whole percent, else a TargetError.

    Whole percent because each run keeps the day of each whole percent delivered
    (``delivery_days``), which answers any such target exactly.
    """
    if isinstance(target, bool) or not isinstance(target, (int, float)):
        raise TargetError(f"--target {target!r}: expected a fraction such as 0.9")
    if not math.isfinite(target) or not 0.0 < target <= 1.0:
        raise TargetError(f"--target {target:g}: expected a fraction of those in custody at day 0 "
                          "above 0 and at most 1 (e.g. 0.9)")
    percent = target * PERCENT_STEPS
    if abs(percent - round(percent)) > 1e-9:
        raise TargetError(f"--target {target:g}: expected a whole percent (e.g. 0.9 or 0.95)")
    return float(target)


def people_lost(kpis: Mapping[str, Any]) -> int:
    """People whose custody ended without delivery: escaped, plus custody transferred when
    the run reports it."""
    return sum(int(kpis.get(name) or 0) for name in LOST_KPIS)


def day_to_target(kpis: Mapping[str, Any], target: float) -> float | None:
    """The day ``target`` (a whole-percent fraction) of those in custody at day 0 had been
    delivered, from a run's ``delivery_days``; None if never within the horizon."""
    percent = round(check_target(target) * PERCENT_STEPS)
    days = kpis.get("delivery_days") or []
    if len(days) < percent:
        return None
    day = days[percent - 1]
    return None if day is None or (isinstance(day, float) and math.isnan(day)) else float(day)


def deadline_met(kpis: Mapping[str, Any], deadline_day: float | None, target: float = 1.0) -> bool:
    """Whether at least ``target`` of those in custody at day 0 were delivered by
    ``deadline_day`` (days from the start; None: by the end of the horizon).

    The one definition of success that replications, comparisons, sweeps and
    planning all use. People lost never count, so a lost prison never helps.
    """
    day = day_to_target(kpis, target)
    return day is not None and (deadline_day is None or day <= deadline_day + 1e-9)


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
    events: EventLog  # a copy: a run that goes on (the classroom) does not change it
    sorties: SortieLog
    status_log: tuple[StatusChange, ...]
    staging_log: tuple[tuple[float, str, int], ...]  # (hour, airfield, people there)
    fleet_days: tuple[FleetDay, ...]
    vehicles: tuple[VehicleRecord, ...]
    types_added: tuple[str, ...]  # vehicle types that had at least one vehicle
    peak_occupancy: int
    triggers_fired: tuple[dict[str, Any], ...]
    sim_events: int
    fronts: tuple[FrontTrack, ...]
    scenario_hash: str  # ``sim.scenario.loader.scenario_hash``, kept per scenario (``prepared``)


@dataclass(frozen=True)
class Result:
    """Everything one run produced. ``kpis`` and ``daily`` are JSON-able."""

    kpis: dict[str, Any]
    daily: list[dict[str, Any]]
    sortie_log: SortieLog  # the legs' columns (``sorties`` reads them as lines)
    detainees: dict[str, np.ndarray]
    event_log: EventLog  # the events' columns (``events`` reads them as lines)
    status_log: list[StatusChange]
    meta: dict[str, Any]
    fronts: list[dict[str, Any]] = field(default_factory=list)
    vehicle_types: dict[str, str] = field(default_factory=dict)  # vehicle name -> type
    # (hour, airfield, people waiting there after a change), from the start: ``staging.csv``
    staging_log: list[tuple[float, str, int]] = field(default_factory=list)

    @cached_property
    def sorties(self) -> list[Sortie]:
        """Every leg flown, in log order (built when first read: replications never read it)."""
        return self.sortie_log.rows()

    @cached_property
    def events(self) -> list[Event]:
        """The event log, in order (built when first read)."""
        return self.event_log.rows()

    @property
    def triggers_fired(self) -> list[dict[str, Any]]:
        return list(self.kpis["triggers_fired"])

    def headline(self) -> str:
        """One line with the numbers a reader looks for first."""
        k = self.kpis
        full = k.get("day_to_100")
        cleared = k.get("prisons_cleared_day")
        sorties = sum((k.get("sorties") or {}).values())
        frac = k.get("delivered_fraction")
        lost = people_lost(k)

        def day(x: float | None) -> str:
            return "-" if x is None else f"{x:g}"

        return (f"{k['scenario']} (seed {k['seed']}): {k['delivered']:,} of {k['detainees_total']:,} "
                f"delivered ({'-' if frac is None else f'{frac:.1%}'}), all delivered on day "
                f"{day(full)}; {lost:,} lost, {k['remaining']:,} remaining; prisons cleared day "
                f"{day(cleared)}; {sorties:,} sorties")

    def __repr__(self) -> str:
        # The dataclass repr would print every array and log (tens of thousands of characters).
        return (f"Result({self.headline()}; {len(self.event_log):,} events, "
                f"{len(self.sortie_log):,} sortie legs, {len(self.daily)} days)")

    def _repr_html_(self) -> str:
        import html

        return f"<p><b>Result</b>: {html.escape(self.headline())}</p>"


def _day(hours: float) -> float:
    return round(hours / 24.0, 3)


def _sorted_finite(x: np.ndarray) -> np.ndarray:
    """The finite values of ``x`` (a detainee time column, hours), ascending.

    numpy's stable sort: in id order the times are a few runs already in order (those of
    a prison leave and arrive in its queue's order), which it merges in about a fifth of
    the default sort's time at 600,000 detainees (1.8 against 9.2 ms a column, measured
    on a loaded machine). The values are the same; only equal values could come out in
    another order, and equal times here are identical floats.
    """
    return np.sort(x[~np.isnan(x)], kind="stable")


# ----- builders ------------------------------------------------------------------------


#: The detainee columns the end-of-run fix-up changes (``end_of_run_columns`` copies these).
END_OF_RUN_CHANGED = ("state", "registered_hour", "registration_start_hour")


def end_of_run_columns(columns: Mapping[str, np.ndarray], horizon: float) -> dict[str, np.ndarray]:
    """The detainee columns as the clock leaves them (registration is scheduled ahead of the
    clock: only what ended by ``horizon`` counts as registered).

    The columns it changes are copies; the others are the finished run's own arrays, which
    nothing changes any more (copying all of them was a tenth of a 600,000-detainee run).
    """
    out = {name: a.copy() if name in END_OF_RUN_CHANGED else a for name, a in columns.items()}
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
    sorties: SortieLog, tally: LogTally, roster: Mapping[str, str],
    types_in_order: Sequence[str],
) -> FlightTotals:
    """Sum flight hours from the sortie log and count loaded sorties from the departures.

    A sortie is a loaded hop (one "depart" event with detainees, ``LogTally``), however
    many refuel segments it flies. ``types_in_order`` lists the fleet's types in file
    order (a type with vehicles but no flight still shows, with zeros); ``roster`` names
    each vehicle's type. Hours are added one sortie at a time in log order, by
    ``np.bincount``, which adds its weights to their bins in input order: the same sums,
    float for float, as a running total per key, without a Python step per sortie.
    """
    types = list(dict.fromkeys([*types_in_order, *sorties.type]))  # file order, then first seen
    leg_types = _codes(sorties.type, types)
    leg_hours = float_array(sorties.flight_hours)
    hours_total = dict(zip(types, _sums_by_key(leg_types, leg_hours, len(types)), strict=True))
    hours_by_day = _by_day_and_type(float_array(sorties.depart_hour), leg_types, types,
                                    leg_hours)
    depart_types = [roster[subject] for subject in tally.depart_subjects]
    types = list(dict.fromkeys([*types, *depart_types]))
    sorties_total: dict[str, int] = dict.fromkeys(hours_total, 0)
    depart_codes = _codes(depart_types, types)
    for typ, count in zip(types, np.bincount(depart_codes, minlength=len(types)).tolist(),
                          strict=True):
        if count or typ in sorties_total:
            sorties_total[typ] = count
    departs_by_day = _by_day_and_type(float_array(tally.depart_hours), depart_codes,
                                      types, None)
    return FlightTotals(hours_by_day, hours_total, sorties_total, departs_by_day)


def _codes(names: Sequence[str], order: Sequence[str]) -> np.ndarray:
    """Each of ``names`` as its index in ``order``."""
    index = {name: i for i, name in enumerate(order)}
    return np.fromiter(map(index.__getitem__, names), dtype=np.intp, count=len(names))


def _sums_by_key(codes: np.ndarray, weights: np.ndarray, keys: int) -> list[float]:
    """Per key (0..keys-1), the weights of its rows added in row order from 0.0."""
    return np.bincount(codes, weights=weights, minlength=keys).tolist()  # type: ignore[no-any-return]


def _by_day_and_type(hours: np.ndarray, codes: np.ndarray, types: Sequence[str],
                     weights: np.ndarray | None) -> dict[tuple[int, str], Any]:
    """Per (day of ``hours``, type) that occurs: the sum of ``weights`` (floats, in row
    order) or, without weights, the number of rows (ints)."""
    if len(hours) == 0:
        return {}
    days = (hours // 24.0).astype(np.int64)
    keys = days * len(types) + codes
    unique, inverse = np.unique(keys, return_inverse=True)
    values = (np.bincount(inverse, weights=weights, minlength=len(unique)) if weights is not None
              else np.bincount(inverse, minlength=len(unique))).tolist()
    return {(day, types[code]): value for day, code, value in
            zip((unique // len(types)).tolist(), (unique % len(types)).tolist(), values,
                strict=True)}


@dataclass(frozen=True)
class LogTally:
    """What the results read from the event log (``log_tally``)."""

    # Departures with detainees on board, the loaded sorties: their hours and vehicles.
    depart_hours: list[float]
    depart_subjects: list[str]
    aborts: int  # sorties given up (``abort`` events)
    first_cut: dict[str, float]  # each site's first "no route" hour


def log_tally(events: EventLog) -> LogTally:
    """The event log's loaded departures, aborts and first cut-offs, from the lines the
    log noted as it was written (``EventLog.departs``, ``no_routes``, ``aborts``)."""
    times, sites, subjects = events.time, events.site, events.subject
    departs = events.departs
    first_cut: dict[str, float] = {}
    for i in events.no_routes:
        first_cut.setdefault(sites[i], times[i])
    return LogTally([times[i] for i in departs], [subjects[i] for i in departs],
                    events.aborts, first_cut)


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
    delivered = _sorted_finite(cols["delivered_hour"])
    # Registered on arrival (no registration stations): the same column, sorted once.
    same = np.array_equal(cols["registered_hour"], cols["delivered_hour"], equal_nan=True)
    return Times(
        delivered, delivered if same else _sorted_finite(cols["registered_hour"]),
        _sorted_finite(cols["escaped_hour"]), _sorted_finite(cols["released_hour"]),
        {p: np.sort(leave[cols["origin"] == site_index[p]], kind="stable") for p in prisons},
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
    peaks = daily_peak_occupancy(times, s.horizon_days)
    # counts at each day's end, every day at once (the same numbers as one search a day)
    ends = np.arange(1, s.horizon_days + 1) * 24.0

    def by_day_end(sorted_times: np.ndarray) -> list[int]:
        return np.searchsorted(sorted_times, ends, side="right").tolist()  # type: ignore[no-any-return]

    delivered, registered = by_day_end(times.delivered), by_day_end(times.registered)
    escaped, released = by_day_end(times.escaped), by_day_end(times.released)
    # per prison: (column, detainees who ever were there, left by each day's end, threatened)
    held_columns = [(f"held:{p}", len(times.leave_by_prison[p]), by_day_end(times.leave_by_prison[p]),
                     threat_time[p]) for p in prisons]
    type_columns = [(typ, f"sorties:{typ}", f"flight_hours:{typ}") for typ in types]
    fleet_columns = [f"aircraft_{name}" for name in VEHICLE_STATE_NAMES]
    no_fleet = (0,) * len(fleet_columns)
    status_columns = [(sid, f"status:{sid}") for sid in run.site_ids
                      if run.site_kinds[sid] in ("prison", "airfield")]
    safe = SiteStatus.SAFE.label
    first_date = s.start.toordinal()
    quiet = (quiet_from(run, times, prisons, threat_time, overrun_time, flights)
             if REPEAT_QUIET_DAYS else s.horizon_days)
    for day in range(s.horizon_days):
        if day >= quiet:  # nothing a row reads changes any more: the last row, re-dated
            row = dict(daily[-1])
            row["day"] = day
            row["date"] = dt.date.fromordinal(first_date + day).isoformat()
            at_risk_total += row["at_risk"]
            daily.append(row)
            continue
        t = (day + 1) * 24.0
        row = {
            "day": day,
            "date": dt.date.fromordinal(first_date + day).isoformat(),
            "delivered_cum": delivered[day],
            "registered_cum": registered[day],
            "escaped_cum": escaped[day],
            "released_cum": released[day],
        }
        row["facility_occupancy_end"] = row["delivered_cum"] - row["released_cum"]
        row["facility_occupancy"] = max(peaks[day], row["facility_occupancy_end"])
        row["registration_backlog"] = row["delivered_cum"] - row["registered_cum"]
        at_risk = 0
        for column, ever, left, threatened in held_columns:
            held = ever - left[day]
            row[column] = held
            if threatened <= t:
                at_risk += held
        row["at_risk"] = at_risk
        at_risk_total += at_risk
        for typ, sorties_column, hours_column in type_columns:
            row[sorties_column] = flights.departs_by_day.get((day, typ), 0)
            hours = flights.hours_by_day.get((day, typ))
            row[hours_column] = 0.0 if hours is None else round(hours, 3)
        fl = fleet_by_day.get(day)
        row.update(zip(fleet_columns, fl.counts if fl else no_fleet, strict=True))
        for sid, column in status_columns:
            row[column] = (
                OVERRUN if overrun_time[sid] <= t
                else THREATENED if threat_time[sid] <= t else safe
            )
        for i, tr in enumerate(run.fronts):
            lat, lon = tr.position_latlon(t) if t >= tr.t_start else (math.nan, math.nan)
            row[f"front_lat:{i}"] = round(lat, 5) if not math.isnan(lat) else None
            row[f"front_lon:{i}"] = round(lon, 5) if not math.isnan(lon) else None
        daily.append(row)
    return daily, at_risk_total


#: Whether ``daily_series`` repeats the last row over the quiet days at the end of a run
#: (off: every row is built; the tests compare the two).
REPEAT_QUIET_DAYS = True


def quiet_from(
    run: FinishedRun, times: Times, prisons: Sequence[str], threat_time: Mapping[str, float],
    overrun_time: Mapping[str, float], flights: FlightTotals,
) -> int:
    """The first day from which every daily row equals the one before but for its day and
    date (the horizon if none, at least 1).

    A row reads counts at its day's end, the peak occupancy within the day, the day's
    flights, the fleet's counts, site status and front positions. After the last detainee
    event, status change and front movement (hour ``last``) the counts, status and fronts
    are constant; a day's peak also needs the day before to be past ``last``; flights and
    fleet counts need the day before to be past their last change.
    """
    last = 0.0
    for arr in (times.delivered, times.registered, times.escaped, times.released):
        if len(arr):
            last = max(last, float(arr[-1]))
    for p in prisons:
        lv = times.leave_by_prison[p]
        finite = int(np.searchsorted(lv, math.inf, side="left"))  # sorted: inf last
        if finite:
            last = max(last, float(lv[finite - 1]))
    for when in (*threat_time.values(), *overrun_time.values()):
        if math.isfinite(when):
            last = max(last, when)
    for tr in run.fronts:
        last = max(last, tr.stop_time, tr.t_start)
    if not math.isfinite(last):
        return run.scenario.horizon_days
    flight_days = [day for day, _ in (*flights.departs_by_day, *flights.hours_by_day)]
    last_flight_day = max(flight_days, default=-1)
    fleet = {row.day: row.counts for row in run.fleet_days}
    last_fleet_change = 0
    for day in range(1, run.scenario.horizon_days):
        if fleet.get(day) != fleet.get(day - 1):
            last_fleet_change = day
    day = max(1, math.ceil(last / 24.0) + 1, last_flight_day + 2, last_fleet_change + 1)
    return min(day, run.scenario.horizon_days)


def available_hours(vehicles: Sequence[VehicleRecord], end: float) -> dict[str, tuple[float, float]]:
    """Each vehicle's hours in service up to ``end`` (hours), as (start, stop) windows."""
    out: dict[str, tuple[float, float]] = {}
    for v in vehicles:
        start = max(v.available_at, 0.0)
        stop = min(v.retired_at, end)  # a withdrawn vehicle finishes its mission first
        if stop > start:
            out[v.name] = (start, stop)
    return out


def utilisation(vehicles: Sequence[VehicleRecord], end: float) -> float:
    """Busy hours over available hours up to ``end``, the end of the operation (hours).

    Busy runs from a mission's dispatch to the end of its turnaround; available is
    a vehicle's time in service. Counting up to the end of the operation (the last
    delivery or loss), not the horizon, keeps a fleet that works hard and finishes
    early from scoring lower than the same fleet throttled. 0 if none served.
    """
    windows = available_hours(vehicles, end)
    avail = sum(stop - start for start, stop in windows.values())
    # Rows (dispatch, end, window start, window end), vehicle after vehicle, span after
    # span: one array of all the spans and each vehicle's window repeated over its own,
    # rather than a Python tuple per mission or numpy calls per vehicle.
    served = [v for v in vehicles if v.name in windows and v.busy_spans]
    rows = np.empty((0, 4))
    if served:
        # The spans' numbers one after the other (each span is a pair): a third of the
        # time of an array made from the list of pairs, which looks at each pair's shape.
        pairs = sum(len(v.busy_spans) for v in served)
        spans = np.fromiter(chain.from_iterable(chain.from_iterable(v.busy_spans for v in served)),
                            dtype=float, count=2 * pairs)
        own_window = np.repeat(np.array([windows[v.name] for v in served], dtype=float),
                               [len(v.busy_spans) for v in served], axis=0)
        rows = np.column_stack((spans.reshape(-1, 2), own_window))
    busy = _sum_overlaps(rows)
    return round(busy / avail, 4) if avail > 0 else 0.0


def _sum_overlaps(rows: np.ndarray) -> float:
    """Sum over rows (a, b, lo, hi) of the overlap of [a, b] with [lo, hi], hours.

    Element for element ``max(0, min(b, hi) - max(a, lo))``, added in row order (a cumulative
    sum adds one at a time, as ``sum`` over the rows does): the same float, without a
    Python call per sortie.
    """
    if len(rows) == 0:
        return 0
    a, b, lo, hi = rows.T
    overlap = np.maximum(0.0, np.minimum(b, hi) - np.maximum(a, lo))
    return float(np.cumsum(overlap)[-1])


def flying_per_available_hour(vehicles: Sequence[VehicleRecord], sorties: SortieLog,
                              end: float) -> float:
    """Flight hours (loaded and positioning legs) per available vehicle hour, both up to
    ``end``, the end of the operation (0 if none served)."""
    windows = available_hours(vehicles, end)
    avail = sum(stop - start for start, stop in windows.values())
    if len(sorties) == 0 or not windows:
        return 0.0
    # The log's columns rather than a row per leg: the same rows, in log order (a
    # 600,000-detainee run flies about 40,000 legs).
    index = {name: i for i, name in enumerate(windows)}
    which = np.fromiter(map(index.get, sorties.aircraft, repeat(-1)), dtype=np.int64,
                        count=len(sorties))  # the aircraft's window; -1: none
    depart = float_array(sorties.depart_hour)
    hours = float_array(sorties.flight_hours)
    bounds = np.array(list(windows.values()), dtype=float)
    keep = which >= 0
    depart, hours, which = depart[keep], hours[keep], which[keep]
    legs = np.column_stack((depart, depart + hours, bounds[which, 0], bounds[which, 1]))
    flying = _sum_overlaps(legs)
    return round(flying / avail, 4) if avail > 0 else 0.0


def delivery_days(delivered: np.ndarray, in_custody: int) -> list[float | None]:
    """The day each whole percent (1..100) of ``in_custody`` had been delivered (None: never).

    The k-th percent is reached with the ceil(k/100 * in_custody)-th delivery, so a
    target of 100% needs every one of them; ``delivered`` is sorted (hours).
    """
    out: list[float | None] = []
    for k in range(1, PERCENT_STEPS + 1):
        need = max(1, math.ceil(k * in_custody / PERCENT_STEPS - 1e-9))
        out.append(_day(float(delivered[need - 1])) if need <= len(delivered) else None)
    return out


def per_site_rows(
    cols: Mapping[str, np.ndarray], prisons: Sequence[str], site_index: Mapping[str, int],
    times: Times, threat_time: Mapping[str, float], overrun_time: Mapping[str, float],
    first_cut: Mapping[str, float],
) -> dict[str, dict[str, Any]]:
    """One row per prison: its detainees, when it was threatened, overrun, emptied, cut off
    (``first_cut``: each site's first "no route" hour)."""
    picked = ~np.isnan(cols["delivered_hour"])
    escaped = ~np.isnan(cols["escaped_hour"])
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


def daily_peak_occupancy(times: Times, days: int) -> list[int]:
    """The most detainees in the facilities at once during each day, from its first
    instant (after the previous midnight's repatriation) to just before its own midnight.

    +1 a delivery, -1 a release, swept in time order (releases first at equal times);
    reading the count after the midnight release instead would show a day with 400
    occupied beds as 300. The count only rises at deliveries, so a day's peak is its
    count at the start or the count just after one of its deliveries (``_levels_after``).
    """
    delivered = times.delivered
    after = _levels_after(delivered, times.released)
    midnights = np.arange(days + 1) * 24.0
    # deliveries up to each midnight (its instant included): a day's first delivery after it
    firsts = np.searchsorted(delivered, midnights, side="right")
    # the count at each midnight, after everything at that instant (the day's start level)
    at_midnight = (firsts - np.searchsorted(times.released, midnights, side="right")).tolist()
    lasts = np.searchsorted(delivered, midnights[1:], side="left").tolist()  # before its end
    peaks: list[int] = []
    for day, (first, last) in enumerate(zip(firsts[:-1].tolist(), lasts, strict=True)):
        start_level = at_midnight[day]
        peaks.append(max(start_level, int(after[first:last].max())) if last > first else start_level)
    return peaks


def _levels_after(rises: np.ndarray, falls: np.ndarray) -> np.ndarray:
    """The count just after each rise: rises so far minus falls up to that instant.

    ``rises`` and ``falls`` are sorted times (hours); at equal times the falls come
    first, so every fall at a rise's instant is counted. The same numbers as a sweep of
    +1 and -1 steps in time order, without sorting the two lists together.
    """
    if len(rises) > 1 and (rises is falls or
                           len(rises) == len(falls) and np.array_equal(rises, falls)):
        # The same instants (every delivery registered on arrival): the falls up to a rise
        # are those up to the last of its equal times, found in one pass over the sorted
        # times rather than by a binary search per rise (a tenth of the results at
        # 600,000 detainees). The same numbers as the search below.
        last = np.append(np.flatnonzero(rises[1:] != rises[:-1]), len(rises) - 1)
        falls_up_to = np.repeat(last + 1, np.diff(last, prepend=-1))
        return np.arange(1, len(rises) + 1) - falls_up_to
    return np.arange(1, len(rises) + 1) - np.searchsorted(falls, rises, side="right")


def peak_backlog(times: Times) -> int:
    """Most detainees delivered and not yet registered at once (+1 a delivery, -1 a
    registration, swept in time order; registrations first at equal times)."""
    return int(np.max(_levels_after(times.delivered, times.registered), initial=0))


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
    s = run.scenario
    return {
        "scenario": s.name,
        "scenario_hash": run.scenario_hash,
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
    tally = log_tally(run.events)
    flights = flight_totals(run.sorties, tally, roster,
                            [t for t in s.aircraft if t in run.types_added])
    daily, at_risk_total = daily_series(run, times, prisons, threat_time, overrun_time, flights)

    # Cleared: nobody left to move, by delivery or loss (escape or custody transfer). Not a
    # success measure.
    cleared_hour = None
    if remaining == 0 and run.total > 0:
        custody = _sorted_finite(run.detainees["custody_hour"]) if "custody_hour" in run.detainees \
            else np.empty(0)
        ends = [float(x[-1]) for x in (times.delivered, times.escaped, custody) if len(x)]
        cleared_hour = max(ends)
    end_of_operation = cleared_hour if cleared_hour is not None else run.horizon
    reg_complete = None
    if cleared_hour is not None and n_delivered > 0 and len(times.registered) == n_delivered:
        reg_complete = _day(float(times.registered[-1]))
    in_custody = s.total_detainees
    by_percent = delivery_days(times.delivered, in_custody) if in_custody > 0 else \
        [None] * PERCENT_STEPS
    mean_transfer = mean_transfer_hours(cols)
    types = flights.types
    kpis: dict[str, Any] = {
        "scenario": s.name,
        "seed": run.seed,
        # delivery first: success is measured on those delivered, never on prisons emptied
        "in_custody_at_start": in_custody,
        "delivered_fraction": round(n_delivered / in_custody, 6) if in_custody > 0 else None,
        **{name: by_percent[round(f * PERCENT_STEPS) - 1] for name, f in FRACTION_KPIS.items()},
        "detainees_total": run.total,
        "delivered": n_delivered,
        "registered": len(times.registered),
        "escaped": n_escaped,
        "custody_transferred": n_custody,  # taken over with an overrun site: not delivered
        "remaining": remaining,
        "remaining_by_site": remaining_by_site(cols, run.site_ids),
        "released": len(times.released),
        "prisons_cleared_day": _day(cleared_hour) if cleared_hour is not None else None,
        "registration_complete_day": reg_complete,
        "delivery_days": by_percent,
        "sorties": {t: flights.sorties_total[t] for t in types},
        "flight_hours": {t: round(flights.hours_total[t], 3) for t in types},
        "fleet_utilization": utilisation(run.vehicles, end_of_operation),
        "flying_hours_per_available_hour": flying_per_available_hour(
            run.vehicles, run.sorties, end_of_operation),
        "peak_facility_occupancy": run.peak_occupancy,
        "peak_registration_backlog": peak_backlog(times),
        "at_risk_detainee_days": round(at_risk_total, 3),
        "mean_transfer_hours": round(mean_transfer, 4) if mean_transfer is not None else None,
        "triggers_fired": [dict(f) for f in run.triggers_fired],
        "aborted_sorties": tally.aborts,
        "sites": per_site_rows(cols, prisons, site_index, times, threat_time, overrun_time,
                               tally.first_cut),
        "final_states": state_counts(cols["state"]),
        "sim_events": run.sim_events,
        "wall_seconds": round(wall_seconds, 4),
    }
    return Result(kpis, daily, run.sorties, detainee_table(cols), run.events,
                  list(run.status_log), metadata(run, wall_seconds), front_tracks(run.fronts),
                  roster, list(run.staging_log))
