"""The fastest any dispatch could deliver: a lower bound from a time-expanded network flow.

Time is cut into steps of ``step_hours``. Nodes are (site, step); vehicles of
each type flow along *movements* (``sim.planning.network``: loaded hops and
empty positioning) and wait at sites; detainees flow from the prisons along
loaded hops, at most ``seats`` per vehicle on the same arc, and wait at
prisons and airfields. A linear program (scipy's HiGHS) finds the most
detainees any schedule can deliver by a step; bisection over steps finds the
first step at which a fraction can be reached.

Why it is a bound (never later than a run, whatever its seed or dispatch):

* Inputs are read optimistically (``network.optimistic``): handling times at
  their lowest, rules that add capacity as if fired at the start, no failures,
  storms, fronts, escapes or crew rest.
* The LP relaxes integrality (fractional vehicles and detainees) and drops
  dispatch rules (any hop, any order), so it can only do better.
* Discretisation rounds towards earlier: an event at hour ``h`` falls in step
  ``floor(h / step)``, and a movement of ``d`` hours spans ``floor(d / step)``
  steps, so every run maps onto a feasible flow whose arrivals are in the same
  step or earlier. A delivery counted in step ``t`` is therefore reported at
  hour ``t * step``, no later than the run's. Deliveries count on arrival,
  before unloading.
* Capacities are cumulative and checked at each step's end
  (``(t + 1) * step`` hours), where the run's own limits hold: loading work at
  a site by then is at most ``pads`` times the hours elapsed since a vehicle
  could first be there (its fleet's availability plus the fastest movements
  from its base: a pad loads only a vehicle on it); claims on a
  reception by then are at most its beds plus the releases so far, and at most
  its daily intake limit times the days begun; the hours a type's vehicles
  spend (moving, loading, unloading, turning around) on movements begun by then
  fit in their service time plus one movement; crew hours per day are at most
  the daily limit plus two movements per vehicle (a first flight of the day
  may be longer than the limit, and a flight may run into the next day).
  Where a step is shorter than a movement of zero steps could chain, these
  vehicle hours still bound it.
* Flight times are nominal: ``flight_time_cv`` is the one random input read at
  its mean, so a run with ``flight_time_cv > 0`` may beat the bound by luck.

* Origins hand people over no faster than their release can (``release_rates``:
  a rate or profile exactly, stations at their shortest service time; a Poisson
  release is not bounded). The same limit, summed over the prisons, rules steps out
  of the search before any program is solved (``release_ceiling``).

Each capacity is one small function of ``CONSTRAINTS`` that adds rows to the
program: to model a new limit, write one more and append it. Fixed-wing ramp
parking at pickups (``ramp_parking``) counts each stay's fixed ground time and
loading; operating windows (``operating_windows``) cap the hours of movements
leaving in each window period. Limits left out (sorties per day, mission-capable
days, guards taking seats, load factors below one, ground time per stop outside
a limited ramp) only make runs slower, so leaving them out keeps the bound a
bound (looser).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.planning.network import Movement, Optimistic, lowest, optimistic
from sim.scenario.schema import Release, Scenario

#: Step lengths tried, hours: each divides a day, so days start on a step.
STEP_CHOICES = (24.0, 12.0, 8.0, 6.0, 4.0, 3.0, 2.0, 1.0, 0.5, 0.25, 1 / 6, 1 / 12, 1 / 60)
#: Most steps over the span searched: beyond it the step grows (still a bound, looser).
MAX_STEPS = 240
#: Most movements x steps in a program (its vehicle-flow variables): beyond it the step
#: grows too. A planning choice, from solve times measured with the coarse method: the
#: shipped scenarios' programs reach 45,000 (142-186 movements) and solve in about a
#: second; a network of 22 road and air nodes (1,101 movements) at 240 steps of 3 h made
#: 350,000 variables that took minutes, and at 16 steps (18,000) 1.6 s.
MAX_MOVEMENT_STEPS = 60_000
#: Seconds the quick bound of ``run``, ``replicate`` and ``plan fleet`` may take in all
#: (``lower_bound(time_limit=)``): past them it gives up (``BoundTimeout``) and the
#: command says so, rather than hold its answer for a line of context. A planning
#: assumption: the shipped scenarios' quick bounds take under 2 s.
QUICK_BOUND_SECONDS = 20.0
FRACTIONS = (0.5, 0.9, 1.0)
EPS = 1e-9
#: HiGHS's method for the coarse pass (the whole of a quick bound, which ``dtsim run`` and
#: ``dtsim replicate`` solve for their gap line): dual simplex, about 40% faster there
#: than interior point; the fine pass keeps interior point (``FINE_METHOD``), faster on
#: its larger programs (both measured on the shipped scenarios; the days found are the same).
COARSE_METHOD = "highs-ds"
FINE_METHOD = "highs-ipm"


class BoundError(ValueError):
    """The bound cannot be computed (a missing solver, a bad option): bad input."""


class BoundTimeout(BoundError):
    """The bound's programs took longer than the time allowed (``lower_bound(time_limit=)``)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the bound was not computed within {seconds:g} s")
        self.seconds = seconds


def steps(hours: float, step: float) -> int:
    """Whole steps within ``hours``, rounded down (towards earlier)."""
    return int(math.floor(hours / step + 1e-9))


def choose_step(opt: Optimistic, horizon_hours: float, max_steps: int = MAX_STEPS) -> float:
    """The step, hours, from ``STEP_CHOICES``: the longest that divides every movement's
    times, if one does and is no longer than the shortest movement; otherwise the longest
    no longer than it. The step count wins over the movements: when ``horizon_hours``
    would need more than ``max_steps`` of that step, the step is the shortest choice that
    fits (at most 24 h), however short the movements (a bound still, looser). A network
    with many movements gets fewer steps (``MAX_MOVEMENT_STEPS``), so that one program
    stays a matter of seconds."""
    max_steps = min(max_steps, max(1, MAX_MOVEMENT_STEPS // max(1, len(opt.movements))))
    times = [t for m in opt.movements for t in (m.carry_hours, m.vehicle_hours) if t > EPS]
    shortest = min(times, default=1.0)
    fits = [s for s in STEP_CHOICES if s <= shortest + EPS]
    exact = [s for s in fits
             if all(abs(t / s - round(t / s)) < 1e-6 for t in times)]
    step = (exact or fits or [STEP_CHOICES[-1]])[0]
    if horizon_hours / step > max_steps:
        step = min(s for s in STEP_CHOICES if horizon_hours / s <= max_steps or s == 24.0)
    return step


class Program:
    """A linear program built row by row: ``maximise c.x`` with bounds, ``<=`` and ``==``."""

    def __init__(self) -> None:
        self.upper: list[float] = []
        self.gain: list[float] = []
        self.le_rows: list[list[tuple[int, float]]] = []
        self.le_rhs: list[float] = []
        self.eq_rows: list[list[tuple[int, float]]] = []
        self.eq_rhs: list[float] = []

    def var(self, upper: float = math.inf, gain: float = 0.0) -> int:
        self.upper.append(upper)
        self.gain.append(gain)
        return len(self.upper) - 1

    def le(self, terms: Iterable[tuple[int, float]], rhs: float) -> None:
        self.le_rows.append(list(terms))
        self.le_rhs.append(rhs)

    def eq(self, terms: Iterable[tuple[int, float]], rhs: float) -> None:
        self.eq_rows.append(list(terms))
        self.eq_rhs.append(rhs)

    def cumulative(self, per_step: dict[int, list[tuple[int, float]]], last: int,
                   cap: Callable[[int], float]) -> None:
        """``sum of per_step[0..t] <= cap(t)`` for every step t, with one running total each."""
        prev: int | None = None
        for t in range(last + 1):
            c = cap(t)
            total = self.var(upper=c if math.isfinite(c) else math.inf)
            terms = [(total, 1.0)] + [(v, -a) for v, a in per_step.get(t, [])]
            if prev is not None:
                terms.append((prev, -1.0))
            self.eq(terms, 0.0)
            prev = total

    def maximise(self, method: str = FINE_METHOD, time_limit: float | None = None) -> float:
        """The optimum (0 for an empty program), by HiGHS's ``method``: interior point by
        default; dual simplex (``COARSE_METHOD``) solves the coarse passes' programs in
        about 60% of the time, and the fine passes' larger ones in about 1.5 times as long
        (measured on the shipped scenarios, ``lower_bound``). ``time_limit``: seconds
        HiGHS may take (``BoundTimeout`` past them)."""
        if not self.upper:
            return 0.0
        import numpy as np
        from scipy.optimize import linprog
        from scipy.sparse import coo_matrix

        def matrix(rows: list[list[tuple[int, float]]]) -> Any:
            r = [i for i, row in enumerate(rows) for _ in row]
            c = [v for row in rows for v, _ in row]
            a = [x for row in rows for _, x in row]
            return coo_matrix((a, (r, c)), shape=(len(rows), len(self.upper))).tocsr()

        res = linprog(
            -np.asarray(self.gain),
            A_ub=matrix(self.le_rows) if self.le_rows else None,
            b_ub=self.le_rhs or None,
            A_eq=matrix(self.eq_rows) if self.eq_rows else None,
            b_eq=self.eq_rhs or None,
            bounds=[(0.0, None if math.isinf(u) else u) for u in self.upper],
            method=method,
            options={} if time_limit is None else {"time_limit": max(time_limit, 1e-3)},
        )
        if res.status == 1 and time_limit is not None:  # HiGHS stopped at the time limit
            raise BoundTimeout(time_limit)
        if res.status != 0:
            raise RuntimeError(f"the bound's linear program failed: {res.message}")
        return float(-res.fun)


@dataclass
class TimeExpanded:
    """The flow of vehicles and detainees over (site, step) up to step ``last``."""

    opt: Optimistic
    step: float
    last: int
    lp: Program = field(default_factory=Program)
    #: movement index, departure step -> vehicle flow variable
    moves: dict[tuple[int, int], int] = field(default_factory=dict)
    #: movement index, departure step -> detainee flow variable (loaded movements)
    carried: dict[tuple[int, int], int] = field(default_factory=dict)
    #: site, step -> detainees waiting there from this step to the next
    waiting: dict[tuple[str, int], int] = field(default_factory=dict)

    def end_hours(self, t: int) -> float:
        """The end of step ``t``, hours: where cumulative limits are checked."""
        return (t + 1) * self.step

    def loaded(self) -> Iterable[tuple[Movement, int, int]]:
        """(movement, departure step, detainee variable) of every loaded arc."""
        for (i, t), x in self.carried.items():
            yield self.opt.movements[i], t, x


def build(opt: Optimistic, step: float, last: int,
          constraints: Sequence[Callable[[TimeExpanded], None]]) -> TimeExpanded:
    """The program whose optimum is the most detainees delivered by the end of step ``last``."""
    net = TimeExpanded(opt, step, last)
    lp = net.lp
    inflow: dict[tuple[str, str, int], list[tuple[int, float]]] = {}  # vehicles
    outflow: dict[tuple[str, str, int], list[tuple[int, float]]] = {}
    d_in: dict[tuple[str, int], list[tuple[int, float]]] = {}  # detainees
    d_out: dict[tuple[str, int], list[tuple[int, float]]] = {}
    kind = {sid: s.kind for sid, s in opt.sites.items()}
    for i, m in enumerate(opt.movements):
        v = opt.vehicles[m.vehicle]
        carry, back = steps(m.carry_hours, step), steps(m.vehicle_hours, step)
        for t in range(last + 1):
            if t + carry > last:
                break
            y = lp.var()
            net.moves[(i, t)] = y
            outflow.setdefault((m.vehicle, m.origin, t), []).append((y, 1.0))
            if t + back <= last:
                inflow.setdefault((m.vehicle, m.dest, t + back), []).append((y, 1.0))
            if m.loaded:
                x = lp.var(gain=1.0 if kind[m.dest] == "reception" else 0.0)
                net.carried[(i, t)] = x
                lp.le([(x, 1.0), (y, -v.seats)], 0.0)
                d_out.setdefault((m.origin, t), []).append((x, 1.0))
                if kind[m.dest] != "reception":
                    d_in.setdefault((m.dest, t + carry), []).append((x, 1.0))
    for v in opt.vehicles.values():
        supply: dict[tuple[str, int], float] = {}
        for hour, count, base in v.arrivals:
            t0 = steps(hour, step)
            if t0 <= last:
                supply[(base, t0)] = supply.get((base, t0), 0.0) + count
        sites = {m.origin for m in opt.movements if m.vehicle == v.name}
        sites |= {m.dest for m in opt.movements if m.vehicle == v.name}
        sites |= {b for b, _ in supply}
        for site in sites:
            prev: int | None = None
            for t in range(last + 1):
                w = lp.var()
                terms = [(w, 1.0)] + outflow.get((v.name, site, t), [])
                terms += [(a, -1.0) for a, _ in inflow.get((v.name, site, t), [])]
                if prev is not None:
                    terms.append((prev, -1.0))
                lp.eq(terms, supply.get((site, t), 0.0))
                prev = w
    for sid, s in opt.sites.items():
        if s.kind == "reception":
            continue
        if not (s.population or any(k[0] == sid for k in d_in)):
            continue
        prev = None
        for t in range(last + 1):
            z = lp.var()
            net.waiting[(sid, t)] = z
            terms = [(z, 1.0)] + d_out.get((sid, t), [])
            terms += [(a, -1.0) for a, _ in d_in.get((sid, t), [])]
            if prev is not None:
                terms.append((prev, -1.0))
            lp.eq(terms, float(s.population if t == 0 and s.kind == "prison" else 0))
            prev = z
    for add in constraints:
        add(net)
    return net


# ----- capacities: one function each ----------------------------------------------------


def first_arrivals(opt: Optimistic) -> dict[str, float]:
    """The earliest hour any vehicle could be at each site (absent: none ever could).

    A vehicle is first at its base when its fleet entry becomes available
    (``available_from_day``; one a rule adds, ``delay_hours`` after the start, as if the
    rule fired then), and reaches other sites only by movements: the shortest chain of
    arrivals (``carry_hours``, turnarounds left out, so never later than a run's). One
    shortest-path search a vehicle (networkx's Dijkstra), from a start node joined to
    each base by its hour of availability.
    """
    import networkx as nx

    start = ("start",)  # a node no site id can equal (ids are strings)
    best: dict[str, float] = {}
    for v in opt.vehicles.values():
        graph: Any = nx.DiGraph()
        for hour, count, base in v.arrivals:
            if count > 0 and hour < graph.get_edge_data(start, base, {}).get("weight", math.inf):
                graph.add_edge(start, base, weight=hour)
        for m in opt.movements:
            if m.vehicle == v.name and m.carry_hours < graph.get_edge_data(
                    m.origin, m.dest, {}).get("weight", math.inf):
                graph.add_edge(m.origin, m.dest, weight=m.carry_hours)
        if start not in graph:
            continue
        for site, hour in nx.single_source_dijkstra_path_length(graph, start).items():
            if site != start:
                best[site] = min(best.get(site, math.inf), float(hour))
    return best


def loading_pads(net: TimeExpanded) -> None:
    """Loading work (minutes per detainee) at a site by a step's end fits on its pads,
    counted from the first hour a vehicle could be there (``first_arrivals``): a pad
    loads only a vehicle standing on it, so none of its hours before then is usable.
    Where a site gives road vehicles bays of their own (``road_bays``), their loading
    fits on the bays and the aircraft's on the pads, each pool counted apart."""
    opt = net.opt
    per_pool: dict[tuple[str, bool], dict[int, list[tuple[int, float]]]] = {}
    for m, t, x in net.loaded():
        site = opt.sites[m.origin]
        if site.load_min > 0:
            bays = site.road_bays is not None and opt.vehicles[m.vehicle].mode == "ground"
            per_pool.setdefault((m.origin, bays), {}).setdefault(t, []).append(
                (x, site.load_min / 60.0))
    first = first_arrivals(opt) if per_pool else {}
    for (sid, bays), per_step in per_pool.items():
        site = opt.sites[sid]
        slots = site.road_bays if bays and site.road_bays is not None else site.pads

        def work(t: int, slots: int = slots, since: float = first.get(sid, math.inf)) -> float:
            return slots * max(0.0, net.end_hours(t) - since)

        net.lp.cumulative(per_step, net.last, work)


def vehicle_hours(net: TimeExpanded) -> None:
    """A type's vehicles spend no more hours on movements begun by a step's end than they
    have been in service, plus one movement (the last may still be under way)."""
    opt = net.opt
    for v in opt.vehicles.values():
        per_step: dict[int, list[tuple[int, float]]] = {}
        tail = 0.0
        for (i, t), y in net.moves.items():
            m = opt.movements[i]
            if m.vehicle != v.name:
                continue
            per_step.setdefault(t, []).append((y, m.vehicle_hours))
            unload = opt.sites[m.dest].unload_min / 60.0 if m.loaded else 0.0
            tail = max(tail, m.vehicle_hours + v.seats * unload)
        for m, t, x in net.loaded():
            if m.vehicle == v.name:
                handling = (opt.sites[m.origin].load_min + opt.sites[m.dest].unload_min) / 60.0
                if handling > 0:
                    per_step.setdefault(t, []).append((x, handling))

        def cap(t: int, v: Any = v, tail: float = tail) -> float:
            end = net.end_hours(t) + tail
            return sum(n * max(0.0, end - hour) for hour, n, _ in v.arrivals)

        net.lp.cumulative(per_step, net.last, cap)


def crew_hours(net: TimeExpanded) -> None:
    """Flight hours a type logs in a day are at most its crews' daily limit plus two
    movements per vehicle in service that day."""
    opt = net.opt
    per_day = max(1, round(24.0 / net.step))
    for v in opt.vehicles.values():
        mine = [(i, m) for i, m in enumerate(opt.movements) if m.vehicle == v.name]
        longest = max((m.flight_hours for _, m in mine), default=0.0)
        allowance = v.crew_hours_per_day + 2 * longest
        if allowance >= 24.0 or not mine:
            continue
        days: dict[int, list[tuple[int, float]]] = {}
        for (i, t), y in net.moves.items():
            m = opt.movements[i]
            if m.vehicle == v.name and m.flight_hours > 0:
                days.setdefault(t // per_day, []).append((y, m.flight_hours))
        for day, terms in days.items():
            end = (day + 1) * 24.0
            in_service = sum(n for hour, n, _ in v.arrivals if hour < end)
            net.lp.le(terms, in_service * allowance)


def holding(net: TimeExpanded) -> None:
    """Detainees waiting at an airfield never exceed its holding capacity."""
    for (sid, _), z in net.waiting.items():
        cap = net.opt.sites[sid].holding_capacity
        if net.opt.sites[sid].kind == "airfield" and cap is not None:
            net.lp.upper[z] = min(net.lp.upper[z], float(cap))


def _claims(net: TimeExpanded) -> dict[str, dict[int, list[tuple[int, float]]]]:
    """Detainees sent towards each reception, by departure step."""
    out: dict[str, dict[int, list[tuple[int, float]]]] = {}
    for m, t, x in net.loaded():
        if net.opt.sites[m.dest].kind == "reception":
            out.setdefault(m.dest, {}).setdefault(t, []).append((x, 1.0))
    return out


def beds(net: TimeExpanded) -> None:
    """Claims on a reception by a step's end are at most its beds plus those released so far
    (at each midnight, ``repatriation_per_day`` a day)."""
    for sid, per_step in _claims(net).items():
        s = net.opt.sites[sid]
        if s.beds is None:
            continue
        b, rate = float(s.beds), s.repatriation_per_day

        def cap(t: int, b: float = b, rate: float = rate) -> float:
            return b + math.floor(rate * math.floor(net.end_hours(t) / 24.0 + EPS) + EPS)

        net.lp.cumulative(per_step, net.last, cap)


def intake(net: TimeExpanded) -> None:
    """Claims on a reception by a step's end are at most its daily intake limit per day begun."""
    for sid, per_step in _claims(net).items():
        limit = net.opt.sites[sid].daily_intake_limit
        if limit is None:
            continue

        def cleared(t: int, limit: float = float(limit)) -> float:
            return limit * math.ceil(net.end_hours(t) / 24.0 - EPS)  # days begun

        net.lp.cumulative(per_step, net.last, cleared)


def most_released(release: Release, hours: float) -> float | None:
    """The most people an origin's release can have handed over by ``hours`` (None: no
    limit the bound can state), read optimistically.

    A rate or a profile hands over its cumulative rate (zero before the first step; the
    last step's rate holds for ever), as the run does; a Poisson release has no upper
    limit, so it is not bounded here. Stations hand over at most one person per station
    per shortest service time while a shift is open, plus, per shift, one each in progress
    when it closes (a service that starts before the close finishes after it). The shifts
    counted are every one that overlaps ``[0, hours)``, including one that opened the day
    before hour 0 (a shift from 20:00 for 12 h is open from hour 0 to 8).
    """
    if hours <= 0:
        return 0.0
    if release.poisson:
        return None
    if release.per_hour is not None:
        return float(release.per_hour) * hours
    if release.profile is not None:
        total = 0.0
        starts = [24.0 * p.from_day for p in release.profile]
        for k, step in enumerate(release.profile):
            begin = max(0.0, starts[k])
            end = starts[k + 1] if k + 1 < len(starts) else math.inf
            if hours > begin:
                total += float(step.per_hour) * (min(hours, end) - begin)
        return total
    assert release.stations is not None and release.minutes is not None
    minutes = lowest(release.minutes)
    if minutes <= 0:
        return None
    if release.hours_per_day >= 24.0:  # always open: one shift from hour 0
        return release.stations * (hours * 60.0 / minutes + 1.0)
    per_station = 0.0
    day = -1  # the shift that opened the day before hour 0 may still be open at hour 0
    while (start := day * 24.0 + release.start_hour) < hours:
        open_hours = min(hours, start + release.hours_per_day) - max(0.0, start)
        if open_hours > 0:
            per_station += open_hours * 60.0 / minutes + 1.0
        day += 1
    return release.stations * per_station


def bounded_release(scenario: Scenario, site_id: str) -> Release | None:
    """The site's release where the bound can limit it (``most_released``); None where it
    has none or one with no upper limit (Poisson)."""
    release = scenario.site(site_id).release
    if release is None or most_released(release, 1.0) is None:
        return None
    return release


def release_rates(net: TimeExpanded) -> None:
    """Pickups leaving an origin by a step's end are at most those it can have handed over
    by then (``Site.release``); a pickup leaving in step ``t`` left before its end."""
    per_site: dict[str, dict[int, list[tuple[int, float]]]] = {}
    for m, t, x in net.loaded():
        if net.opt.sites[m.origin].kind in ("prison", "camp"):
            per_site.setdefault(m.origin, {}).setdefault(t, []).append((x, 1.0))
    for sid, per_step in per_site.items():
        release = bounded_release(net.opt.scenario, sid)
        if release is None:
            continue

        def ready(t: int, release: Release = release) -> float:
            most = most_released(release, net.end_hours(t))
            return math.inf if most is None else most + EPS

        net.lp.cumulative(per_step, net.last, ready)


def ramp_parking(net: TimeExpanded) -> None:
    """Fixed-wing ramp time at a pickup by a step's end fits on its ``ramp_spaces``.

    An aircraft holds a ramp space from landing to take-off; at least its fixed
    ground time per pickup (``pickup_stop_min`` at its lowest, a site's own value
    first) and the loading minutes of those it takes fall within that stay, before
    its departure, so the ramp-hours of departures by a step's end are at most the
    spaces times the hours elapsed since an aircraft could first be there
    (``first_arrivals``)."""
    opt = net.opt
    per_site: dict[str, dict[int, list[tuple[int, float]]]] = {}
    for (i, t), y in net.moves.items():
        m = opt.movements[i]
        v = opt.vehicles[m.vehicle]
        site = opt.scenario.site(m.origin)
        if not m.loaded or v.mode != "fixed_wing" or site.ramp_spaces is None:
            continue
        t_type = opt.scenario.aircraft[m.vehicle]
        stop = site.pickup_stop_min if site.pickup_stop_min is not None else t_type.pickup_stop_min
        terms = per_site.setdefault(m.origin, {}).setdefault(t, [])
        if lowest(stop) > 0:
            terms.append((y, lowest(stop) / 60.0))
        x = net.carried.get((i, t))
        if x is not None and opt.sites[m.origin].load_min > 0:
            terms.append((x, opt.sites[m.origin].load_min / 60.0))
    first = first_arrivals(opt) if per_site else {}
    for sid, per_step in per_site.items():
        spaces = opt.scenario.site(sid).ramp_spaces
        assert spaces is not None

        def ramp_hours(t: int, spaces: int = spaces,
                       since: float = first.get(sid, math.inf)) -> float:
            return spaces * max(0.0, net.end_hours(t) - since)

        net.lp.cumulative(per_step, net.last, ramp_hours)


def _window(opt: Optimistic, type_name: str) -> tuple[float, float] | None:
    """A type's operating window (opening clock hour, length in hours), None if always open
    or if a rule may change it (read optimistically: no limit)."""
    t = opt.scenario.aircraft[type_name]
    start, hours = 0.0, 24.0
    mode_window = (opt.scenario.operating_windows or {}).get(t.mode)
    if mode_window is not None:
        start, hours = mode_window.start_hour, mode_window.hours
    if t.operating_start_hour is not None:
        start = t.operating_start_hour
    if t.operating_hours is not None:
        hours = t.operating_hours
    for trig in opt.scenario.triggers:
        for a in trig.then:
            if a.set_param is not None and a.set_param.path.startswith(f"aircraft.{type_name}.operating"):
                return None
    return None if hours >= 24.0 else (start, hours)


def operating_windows(net: TimeExpanded) -> None:
    """Vehicles start missions only inside their operating window: per vehicle, the hours of
    movements leaving in one window period (24 h from an opening) are at most the window's
    length plus three of its longest missions (the last one started, one carried over from
    the period before, one moved across the boundary by rounding departures to steps)."""
    opt = net.opt
    for v in opt.vehicles.values():
        window = _window(opt, v.name)
        if window is None:
            continue
        start, hours = window
        mine = [m for m in opt.movements if m.vehicle == v.name]
        longest = (max((m.vehicle_hours for m in mine if not m.loaded), default=0.0)
                   + max((m.vehicle_hours for m in mine if m.loaded), default=0.0))
        allowance = hours + 3 * longest
        if allowance >= 24.0:
            continue
        periods: dict[int, list[tuple[int, float]]] = {}
        for (i, t), y in net.moves.items():
            m = opt.movements[i]
            if m.vehicle == v.name and m.vehicle_hours > 0:
                k = math.floor((t * net.step - start) / 24.0)
                periods.setdefault(k, []).append((y, m.vehicle_hours))
        for k, terms in periods.items():
            end = (k + 1) * 24.0 + start
            in_service = sum(n for hour, n, _ in v.arrivals if hour < end)
            net.lp.le(terms, in_service * allowance)


CONSTRAINTS: tuple[Callable[[TimeExpanded], None], ...] = (
    loading_pads, vehicle_hours, crew_hours, holding, beds, intake, release_rates,
    ramp_parking, operating_windows,
)


# ----- the bound -------------------------------------------------------------------------


@dataclass(frozen=True)
class BoundResult:
    """Lower bounds on delivery times and upper bounds on deliveries; days from the start.

    ``fraction_days[f]``: no run delivers the fraction ``f`` of the detainees
    before this day (None: not within the horizon). ``delivered_by_day[d]``: no
    run delivers more than this many by the end of day ``d`` (hour ``24 (d + 1)``).
    """

    scenario: str
    total: int
    horizon_days: int
    step_hours: float
    fraction_days: dict[float, float | None]
    delivered_by_day: list[float]
    programs_solved: int

    def day_for(self, fraction: float) -> float | None:
        return self.fraction_days[fraction]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "bound", "scenario": self.scenario, "detainees_total": self.total,
            "horizon_days": self.horizon_days, "step_hours": self.step_hours,
            "fraction_days": {f"{f:g}": d for f, d in self.fraction_days.items()},
            "delivered_by_day": [round(x, 3) for x in self.delivered_by_day],
            "programs_solved": self.programs_solved,
        }


def release_ceiling(opt: Optimistic, step: float) -> Callable[[int], float]:
    """An upper limit on the detainees any program delivers by the end of step ``t``,
    computed without one: the prisons' people their release can have handed over by
    then (all of a prison's people where its release is not limited or not bounded).

    It holds for the program whenever ``release_rates`` is one of its constraints:
    a delivery by step ``t`` left its prison on a pickup by step ``t``, and those
    pickups are at most what the release handed over by the step's end. The search
    reads it to skip programs whose answer it already knows (a long release: a
    ten-year trickle of arrivals took 13 programs and 6.6 s to find that the last
    arrivals come after the horizon, which the release alone says).
    """
    limited: list[tuple[int, Release]] = []
    unlimited = 0
    for sid, limits in opt.sites.items():
        if limits.kind != "prison" or limits.population <= 0:
            continue
        release = bounded_release(opt.scenario, sid)
        if release is None:
            unlimited += limits.population
        else:
            limited.append((limits.population, release))

    def ceiling(t: int) -> float:
        end = (t + 1) * step  # the step's end, as ``TimeExpanded.end_hours``
        total = float(unlimited)
        for population, release in limited:
            most = most_released(release, end)
            total += population if most is None else min(float(population), most + EPS)
        return total

    return ceiling


class _Search:
    """The most detainees delivered by a step, solved once per step asked.

    ``ceiling`` (optional): a cheap upper limit on that number by step (see
    ``release_ceiling``); steps it rules out are not solved, and the steps found are
    the same as without it, since the programs' values only grow with the step.
    """

    def __init__(self, opt: Optimistic, step: float,
                 constraints: Sequence[Callable[[TimeExpanded], None]],
                 method: str = FINE_METHOD,
                 ceiling: Callable[[int], float] | None = None,
                 solved: Callable[[], None] | None = None,
                 deadline: tuple[float, float] | None = None) -> None:
        self.opt, self.step, self.constraints, self.method = opt, step, constraints, method
        self.ceiling = ceiling
        self.solved = solved  # called after each program solved (progress)
        # (the monotonic clock's time by which to give up, the seconds allowed in all)
        self.deadline = deadline
        self.cache: dict[int, float] = {}

    def delivered(self, last: int) -> float:
        if last not in self.cache:
            lp = build(self.opt, self.step, last, self.constraints).lp
            left = None
            if self.deadline is not None:
                left = self.deadline[0] - time.monotonic()
                if left <= 0:
                    raise BoundTimeout(self.deadline[1])
            try:
                self.cache[last] = lp.maximise(self.method, left)
            except BoundTimeout:
                assert self.deadline is not None
                raise BoundTimeout(self.deadline[1]) from None
            if self.solved is not None:
                self.solved()
        return self.cache[last]

    def first_step(self, need: float, top: int) -> int | None:
        """The first step by whose end ``need`` detainees can be delivered, or None.

        Doubling from a day's steps then bisection: the programs solved stay about
        as long as the answer, not the horizon.
        """
        if need <= 0:
            return 0
        reach = need - 1e-6 * max(1.0, need)
        lo, hi = -1, None  # delivered(lo) < need <= delivered(hi)
        if self.ceiling is not None:
            lo = self._ruled_out(reach, top)
            if lo >= top:
                return None  # the release alone never hands over enough by the horizon
        for t, value in self.cache.items():
            if value >= reach and (hi is None or t < hi):
                hi = t
            elif value < reach:
                lo = max(lo, t)
        probe = max(lo + 1, steps(24.0, self.step) - 1)
        while hi is None:
            probe = min(probe, top)
            if self.delivered(probe) >= reach:
                hi = probe
            elif probe >= top:
                return None
            else:
                lo, probe = probe, 2 * probe + 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.delivered(mid) >= reach:
                hi = mid
            else:
                lo = mid
        return hi

    def _ruled_out(self, reach: float, top: int) -> int:
        """The last step up to ``top`` whose ceiling is below ``reach`` (-1: none), by
        bisection (the ceiling only grows with the step)."""
        ceiling = self.ceiling
        assert ceiling is not None
        if ceiling(top) < reach:
            return top
        lo, hi = -1, top  # ceiling(lo) < reach <= ceiling(hi); step -1 delivers nothing
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if ceiling(mid) < reach:
                lo = mid
            else:
                hi = mid
        return lo


def lower_bound(
    scenario: Scenario,
    fractions: Sequence[float] = FRACTIONS,
    step_hours: float | None = None,
    constraints: Sequence[Callable[[TimeExpanded], None]] = CONSTRAINTS,
    quick: bool = False,
    progress: Callable[[str, int, int | None], None] | None = None,
    time_limit: float | None = None,
) -> BoundResult:
    """Lower bounds on the day each fraction is delivered, upper bounds on daily deliveries.

    ``step_hours``: the time step (default: a coarse pass over the horizon, then
    as fine as the span up to twice its answer allows). ``quick``: the coarse
    pass only and no daily values (a looser bound, in a fraction of the time;
    what ``run`` and ``replicate`` use for the gap). ``progress(stage, done, total)``:
    called as the work goes ("search": programs solved so far, no total; "daily
    values": days done of the horizon's), for a long bound's progress bar. ``time_limit``:
    seconds its programs may take in all, past which it raises ``BoundTimeout`` (None: no
    limit). Needs scipy (the ``plan`` extra).
    """
    try:
        import scipy.optimize  # noqa: F401
    except ImportError:
        raise BoundError("the bound needs scipy: pip install 'dtsim[plan]'") from None
    if step_hours is not None and not 0 < step_hours <= 24:
        raise BoundError(f"step_hours {step_hours:g} is outside (0, 24]")
    opt = optimistic(scenario)
    horizon = scenario.horizon_days * 24.0
    total = opt.total
    deadline = None if time_limit is None else (time.monotonic() + time_limit, time_limit)

    def ceiling_for(step: float) -> Callable[[int], float] | None:
        # Only where the programs hold the release: else they may deliver more.
        return release_ceiling(opt, step) if release_rates in constraints else None

    searched = 0

    def solved() -> None:
        nonlocal searched
        searched += 1
        if progress is not None:
            progress("search", searched, None)

    if step_hours is not None:
        step = step_hours
    elif quick:
        step = choose_step(opt, horizon)
    else:  # a coarse pass finds about when; the step is then as fine as that span allows
        coarse = choose_step(opt, horizon)
        first = _Search(opt, coarse, constraints, COARSE_METHOD, ceiling_for(coarse),
                        solved, deadline).first_step(total, steps(horizon, coarse))
        span = horizon if first is None else min(horizon, max(24.0, 2 * first * coarse))
        step = min(coarse, choose_step(opt, span))
    top = steps(horizon, step)
    search = _Search(opt, step, constraints, COARSE_METHOD if quick else FINE_METHOD,
                     ceiling_for(step), solved, deadline)
    days: dict[float, float | None] = {}
    for f in sorted(fractions):
        first = search.first_step(math.ceil(f * total - 1e-9), top)
        days[f] = None if first is None else round(first * step / 24.0, 4)
    full = search.first_step(total, top)
    daily: list[float] = []
    search.solved = None  # the daily values count by day
    daily_count = 0 if quick else scenario.horizon_days
    for d in range(daily_count):
        last = min(top, steps(24.0 * (d + 1), step))
        if full is not None and last >= full:
            daily.append(float(total))
        else:
            daily.append(min(float(total), search.delivered(last)))
        if progress is not None:
            progress("daily values", d + 1, daily_count)
    return BoundResult(scenario.name, total, scenario.horizon_days, step, days, daily,
                       len(search.cache))
