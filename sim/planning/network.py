"""The most favourable reading of a scenario, and the vehicle movements a bound may use.

A lower bound on delivery times must allow everything any run could do, so
every input is read in the direction that helps: random handling times at the
lowest value their distribution can take, every rule that adds capacity
(``add_aircraft``, ``open_site``, ``open_leg``, ``set_intake_limit``,
``set_param``) as if it fired at the start, and nothing that takes capacity
away (withdrawals, groundings, storms, fronts, failures, crew rest).

``movements`` lists, per vehicle type, what a vehicle can do in one go: a
*loaded hop* (from a prison, camp or airfield to an airfield or reception,
through refuel stops when the type's range demands it, by the fastest path
for that type, which is never slower than the hop a run would fly) and an
*empty positioning* flight between any two sites (direct for aircraft, by road
for ground vehicles, as runs position). Units: hours, km, minutes where named.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

from sim.common.dist import Constant, Dist, Triangular, Uniform
from sim.common.geo import great_circle_km
from sim.scenario.network import (
    DEST_KINDS,
    ORIGIN_KINDS,
    REFUEL_KINDS,
    closed_in_file,
    leg_length_km,
)
from sim.scenario.schema import Scenario

#: Fields where more is better (more seats, beds...) and where less is (handling minutes).
MORE_IS_BETTER = frozenset({"seats", "cruise_kmh", "crew_hours_per_day", "beds",
                            "daily_intake_limit", "holding_capacity", "repatriation_per_day"})
LESS_IS_BETTER = frozenset({"load_min_per_detainee", "unload_min_per_detainee", "refuel_min",
                            "turnaround_min"})


def highest(d: Dist) -> float | None:
    """The highest value a field can take; None when a draw has no upper limit.

    A constant is itself; uniform and triangular their ``high``; exponential,
    lognormal and normal draws are unbounded above.
    """
    if isinstance(d, int | float):
        return float(d)
    if isinstance(d, Constant):
        return d.value
    if isinstance(d, Uniform | Triangular):
        return d.high
    return None


def lowest(d: Dist) -> float:
    """The lowest value a duration field can take (minutes or hours, the field's unit).

    A constant is itself; uniform and triangular their ``low``; exponential,
    lognormal and (zero-truncated) normal draws come arbitrarily close to 0.
    """
    if isinstance(d, int | float):
        return float(d)
    if isinstance(d, Constant):
        return d.value
    if isinstance(d, Uniform | Triangular):
        return d.low
    return 0.0


@dataclass(frozen=True)
class VehicleType:
    """One aircraft or vehicle type, read optimistically; hours and km."""

    name: str
    mode: str
    seats: float
    speed_kmh: float
    range_km: float
    turnaround_hours: float
    refuel_min: float
    crew_hours_per_day: float
    arrivals: tuple[tuple[float, int, str], ...]  # (hour available, count, base site)

    @property
    def count(self) -> int:
        return sum(n for _, n, _ in self.arrivals)


@dataclass(frozen=True)
class SiteLimits:
    """What a site allows, read optimistically (None: no limit); minutes per detainee."""

    kind: str
    pads: int
    population: int
    load_min: float
    unload_min: float
    refuel_min: float
    beds: float | None
    daily_intake_limit: float | None
    holding_capacity: float | None
    repatriation_per_day: float
    road_bays: int | None = None  # road vehicles' own bays (None: they share the pads)


@dataclass(frozen=True)
class Movement:
    """A vehicle movement from ``origin`` to ``dest``; ``loaded``: it may carry detainees.

    ``carry_hours``: origin departure to arrival with the detainees (flight and
    refuel stops); ``vehicle_hours``: until the vehicle may leave ``dest`` again
    (plus its turnaround); ``flight_hours``: hours in the air (crew hours).
    """

    vehicle: str
    origin: str
    dest: str
    loaded: bool
    carry_hours: float
    vehicle_hours: float
    flight_hours: float


@dataclass
class Optimistic:
    """The scenario as the bound reads it."""

    scenario: Scenario
    sites: dict[str, SiteLimits]
    vehicles: dict[str, VehicleType]
    open_sites: frozenset[str]
    open_legs: frozenset[str]
    movements: list[Movement] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(s.population for s in self.sites.values() if s.kind == "prison")


def _rule_actions(scenario: Scenario) -> Iterable[object]:
    for trigger in scenario.triggers:
        yield from trigger.then


def _favourable(values: dict[str, dict[str, float | None]], key: str, field_name: str,
                value: float | None) -> None:
    """Keep the better of the current and a rule's value of a field."""
    here = values.setdefault(key, {})
    if field_name not in here:
        return  # a field the bound does not read
    old = here[field_name]
    if field_name in MORE_IS_BETTER:
        here[field_name] = None if old is None or value is None else max(old, value)
    elif field_name in LESS_IS_BETTER and value is not None and old is not None:
        here[field_name] = min(old, value)


def optimistic(scenario: Scenario) -> Optimistic:
    """Read ``scenario`` in the direction that helps deliveries (see the module doc)."""
    site_vals: dict[str, dict[str, float | None]] = {
        s.id: {"load_min_per_detainee": lowest(s.load_min_per_detainee),
               "unload_min_per_detainee": lowest(s.unload_min_per_detainee),
               "refuel_min": s.refuel_min, "beds": s.beds,
               "daily_intake_limit": s.daily_intake_limit,
               "holding_capacity": s.holding_capacity,
               "repatriation_per_day": s.repatriation_per_day}
        for s in scenario.sites
    }
    type_vals: dict[str, dict[str, float | None]] = {
        # an overload factor carries more than the seats: the bound counts the most a
        # sortie may carry (a load factor below 1 or guards taking seats only carry fewer)
        name: {"seats": t.full_load, "cruise_kmh": t.cruise_kmh,
               "turnaround_min": lowest(t.turnaround_min), "refuel_min": t.refuel_min,
               "crew_hours_per_day": t.crew_hours_per_day}
        for name, t in scenario.aircraft.items()
    }
    arrivals: dict[str, list[tuple[float, int, str]]] = {}
    for e in scenario.fleet:
        arrivals.setdefault(e.type, []).append((e.available_from_day * 24.0, e.count, e.base))
    open_sites = {s.id for s in scenario.sites if s.open}
    closed_for_good = closed_in_file(scenario, unless_opened=True)  # a rule opens the rest
    open_legs = {leg.leg_id for leg in scenario.legs if leg.leg_id not in closed_for_good}
    for action in _rule_actions(scenario):
        a = getattr(action, "add_aircraft", None)
        if a is not None:
            arrivals.setdefault(a.type, []).append((a.delay_hours, a.count, a.base))
        if getattr(action, "open_site", None):
            open_sites.add(action.open_site)  # type: ignore[attr-defined]
        limit = getattr(action, "set_intake_limit", None)
        if limit is not None and limit.site in site_vals:
            quota = limit.per_day  # an uncertain quota counts at its highest (None: no limit)
            _favourable(site_vals, limit.site, "daily_intake_limit",
                        None if quota is None else highest(quota))
        param = getattr(action, "set_param", None)
        if param is not None:
            parts = param.path.split(".")
            if len(parts) == 3 and parts[0] == "sites":
                _favourable(site_vals, parts[1], parts[2], param.value)
            elif len(parts) == 3 and parts[0] == "aircraft":
                _favourable(type_vals, parts[1], parts[2], param.value)
    sites = {
        s.id: SiteLimits(
            kind=s.kind, pads=s.pads, road_bays=s.road_bays, population=s.population,
            load_min=float(site_vals[s.id]["load_min_per_detainee"] or 0.0),
            unload_min=float(site_vals[s.id]["unload_min_per_detainee"] or 0.0),
            refuel_min=float(site_vals[s.id]["refuel_min"] or 0.0),
            beds=site_vals[s.id]["beds"],
            daily_intake_limit=site_vals[s.id]["daily_intake_limit"],
            holding_capacity=site_vals[s.id]["holding_capacity"],
            repatriation_per_day=float(site_vals[s.id]["repatriation_per_day"] or 0.0),
        )
        for s in scenario.sites
    }
    vehicles = {}
    for name, entries in arrivals.items():
        t, v = scenario.aircraft[name], type_vals[name]
        vehicles[name] = VehicleType(
            name=name, mode=t.mode, seats=float(v["seats"] or 0.0),
            speed_kmh=float(v["cruise_kmh"] or t.cruise_kmh), range_km=t.range_km,
            turnaround_hours=float(v["turnaround_min"] or 0.0) / 60.0,
            refuel_min=float(v["refuel_min"] or 0.0),
            crew_hours_per_day=float(v["crew_hours_per_day"] or 24.0),
            arrivals=tuple(sorted(entries)),
        )
    out = Optimistic(scenario, sites, vehicles, frozenset(open_sites), frozenset(open_legs))
    out.movements = movements(out)
    return out


def mode_graph(opt: Optimistic, mode: str) -> nx.DiGraph:
    """The open legs a mode may use, the shortest where several join two sites; km."""
    s = opt.scenario
    g = nx.DiGraph()
    g.add_nodes_from(x.id for x in s.sites)
    for leg in s.legs:
        if leg.leg_id not in opt.open_legs or mode not in leg.modes:
            continue
        km = leg_length_km(s, leg, mode)
        pairs = [(leg.from_, leg.to)] + ([(leg.to, leg.from_)] if leg.bidirectional else [])
        for a, b in pairs:
            if not g.has_edge(a, b) or g[a][b]["km"] > km:
                g.add_edge(a, b, km=km)
    return g


def fastest_hops(opt: Optimistic, v: VehicleType, g: nx.DiGraph,
                 origin: str) -> dict[str, tuple[float, float]]:
    """Destination -> (hours with refuel stops, flight hours) of ``v``'s fastest loaded hop.

    The same rules as the run's hops (a prison or reception ends a hop; refuel
    stops at refuel points and airfields; no segment longer than the range),
    timed at this type's own speed, so never slower than the hop a run flies.
    """
    kind = {sid: lim.kind for sid, lim in opt.sites.items()}
    best: dict[str, float] = {origin: 0.0}
    flown: dict[str, float] = {origin: 0.0}
    heap: list[tuple[float, str]] = [(0.0, origin)]
    done: set[str] = set()
    found: dict[str, tuple[float, float]] = {}
    while heap:
        t, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        if node != origin and kind[node] in DEST_KINDS:
            found[node] = (t, flown[node])
        if node != origin and kind[node] not in REFUEL_KINDS:
            continue
        stop = 0.0 if node == origin else max(v.refuel_min, opt.sites[node].refuel_min) / 60.0
        for nxt in g.successors(node):
            km = g[node][nxt]["km"]
            if km > v.range_km or nxt not in opt.open_sites:
                continue
            nt = t + stop + km / v.speed_kmh
            if nt < best.get(nxt, math.inf) - 1e-12:
                best[nxt] = nt
                flown[nxt] = flown[node] + km / v.speed_kmh
                heapq.heappush(heap, (nt, nxt))
    return found


def positioning_km(opt: Optimistic, mode: str, g: nx.DiGraph) -> dict[tuple[str, str], float]:
    """Empty distance between every two sites for ``mode``, km (as runs position, or less)."""
    s = opt.scenario
    ids = [x.id for x in s.sites]
    out: dict[tuple[str, str], float] = {}
    if mode == "ground":
        for a in ids:
            for b, km in nx.single_source_dijkstra_path_length(g, a, weight="km").items():
                if a != b:
                    out[(a, b)] = float(km)
        return out
    for a in ids:
        sa = s.site(a)
        for b in ids:
            if a == b:
                continue
            sb = s.site(b)
            km = great_circle_km(sa.lat, sa.lon, sb.lat, sb.lon)
            if g.has_edge(a, b):
                km = min(km, g[a][b]["km"])
            out[(a, b)] = km
    return out


def movements(opt: Optimistic) -> list[Movement]:
    """Every loaded hop and empty positioning of every type (see the module doc).

    A vehicle is only ever at a base, at either end of a loaded hop (a diverted
    flight brings it back to the origin) and flies empty only to pick up, so
    positioning is listed from those sites to hop origins.
    """
    out: list[Movement] = []
    graphs: dict[str, nx.DiGraph] = {}
    for v in opt.vehicles.values():
        if v.count == 0:
            continue
        g = graphs.get(v.mode)
        if g is None:
            g = graphs[v.mode] = mode_graph(opt, v.mode)
        starts = {base for _, _, base in v.arrivals}
        origins: set[str] = set()
        for origin, lim in opt.sites.items():
            if lim.kind not in ORIGIN_KINDS or origin not in opt.open_sites:
                continue
            for dest, (hours, flight) in fastest_hops(opt, v, g, origin).items():
                out.append(Movement(v.name, origin, dest, True, hours,
                                    hours + v.turnaround_hours, flight))
                origins.add(origin)
                starts.add(dest)
        for (a, b), km in positioning_km(opt, v.mode, g).items():
            if (a in starts or a in origins) and b in origins:
                out.append(Movement(v.name, a, b, False, km / v.speed_kmh, km / v.speed_kmh,
                                    km / v.speed_kmh))
    return out
