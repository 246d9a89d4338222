"""Route network: sites as nodes, legs as edges, hops and cost-to-go per node.

A *hop* is one vehicle trip between two transfer points (a prison, camp or
airfield to an airfield or a reception), possibly through refuel stops
(refuel points or airfields) when the mode's range demands it. Every
detainee waits at a node for a hop; an aircraft of a mode can serve any node
whose best hop for that mode it can fly. The cost-to-go ``J(node)`` is the
fastest time (hours, including a transfer penalty per change of vehicle) to
the nearest reception; a hop is used only if it makes progress
(``J(dest) < J(origin)``), so detainees never cycle. Between two airfields it must
also gain a share of its own length (``MIN_GAIN_BETWEEN_AIRFIELDS``): people who can
board at one are not driven to another to save minutes.

Each mode's route graph is a plain adjacency mapping (``RouteGraph``), not a networkx
graph, and this module's own shortest-path code (Dijkstra's algorithm) searches it. The
searches need rules of their own anyway (a mode's range per segment, refuel stops only
at refuel points and airfields, closed sites, a stop's refuel time), which the hops,
the cost-to-go and the refuel chains already applied here; networkx only stored the
graph and gave the road distances of empty ground trips (now ``_road_km_from``, the
same search as networkx's ``single_source_dijkstra_path_length``, step for step).
Importing networkx took 0.15-0.2 s, a fifth of a whole ``dtsim run``, and lay on the
way to the first run of every command, a pool's workers included. The planning layer
(``sim.planning.network``), whose searches are not on that way, keeps networkx.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sim.common.geo import great_circle_km
from sim.scenario.schema import MODES, Leg, Scenario

ORIGIN_KINDS = frozenset({"prison", "camp", "airfield"})
#: Hours by which a hop from one airfield to another must cut the time to a reception,
#: per hour the hop takes, to count as progress (a planning assumption: 6 minutes an
#: hour). Without it, buses idle at an airport drove its people 12 hours to another
#: airport whose flight was 3 minutes shorter (and back across a border to reach it).
#: A hop that is its airfield's fastest way on always gains more than its own length,
#: and the shipped scenarios' other airfield-to-airfield hops gain 0.3 to 0.6 an hour,
#: so none of them is affected; hops from prisons and camps are not held to it.
MIN_GAIN_BETWEEN_AIRFIELDS = 0.1
DEST_KINDS = frozenset({"airfield", "reception"})
REFUEL_KINDS = frozenset({"refuel", "airfield"})
DEFAULT_ROUTE_FACTOR = {"rotary": 1.0, "fixed_wing": 1.0, "ground": 1.3}
PositioningRoute = tuple[tuple[str, ...], tuple[float, ...]]
"""The nodes of an empty flight (start, refuel stops..., end) and its segments' km."""
RouteGraph = dict[str, dict[str, float]]
"""A mode's route graph: for each site (in the scenario's order), the sites its open
legs lead to by that mode and the leg's length (km), the shortest where several legs
join the same two sites, in the order the legs first joined them."""


@dataclass(frozen=True)
class ModeSpec:
    """Reference speed (km/h) and longest refuel-free leg (km) of a mode's fleet."""

    speed_kmh: float
    range_km: float


@dataclass(frozen=True)
class Hop:
    """One vehicle trip from ``origin`` to ``dest`` by ``mode``."""

    origin: str
    dest: str
    mode: str
    nodes: tuple[str, ...]  # origin, refuel stops..., dest
    segment_km: tuple[float, ...]
    route_hours: float  # at the mode's reference speed, refuel stops included

    @functools.cached_property
    def distance_km(self) -> float:
        return sum(self.segment_km)

    @functools.cached_property
    def max_segment_km(self) -> float:
        return max(self.segment_km)

    @property
    def refuel_stops(self) -> tuple[str, ...]:
        return self.nodes[1:-1]


def leg_length_km(scenario: Scenario, leg: Leg, mode: str) -> float:
    """Length of ``leg`` for ``mode``: given, or great-circle times the route factor."""
    if leg.distance_km is not None:
        return leg.distance_km
    a, b = scenario.site(leg.from_), scenario.site(leg.to)
    factor = leg.route_factor if leg.route_factor is not None else DEFAULT_ROUTE_FACTOR[mode]
    return great_circle_km(a.lat, a.lon, b.lat, b.lon) * factor


def mode_specs(scenario: Scenario, type_names: Iterable[str]) -> dict[str, ModeSpec]:
    """Best speed and range per mode over the given aircraft/vehicle types."""
    specs: dict[str, ModeSpec] = {}
    for name in type_names:
        t = scenario.aircraft[name]
        old = specs.get(t.mode)
        specs[t.mode] = ModeSpec(
            max(t.cruise_kmh, old.speed_kmh if old else 0.0),
            max(t.range_km, old.range_km if old else 0.0),
        )
    return specs


def closed_in_file(scenario: Scenario, unless_opened: bool = False) -> dict[str, frozenset[str]]:
    """The legs the scenario file closes (``open: false``), leg id -> its modes: what a
    ``Network`` is given as ``closed_legs`` to route as the file stands. With
    ``unless_opened``, only those no rule opens (``open_leg``): closed for good."""
    opened = ({a.open_leg for t in scenario.triggers for a in t.then if a.open_leg is not None}
              if unless_opened else set())
    return {leg.leg_id: frozenset(map(str, leg.modes))
            for leg in scenario.legs if not leg.open and leg.leg_id not in opened}


@dataclass
class Network:
    """Routing over the scenario's legs given the current closures.

    Every leg is routed over unless ``closed_legs`` closes it for a mode; a leg the
    file closes (``open: false``) is closed by being there, like one a rule or a front
    closes, so that a run can open it (``open_leg``). ``closed_legs`` None (the
    default): the legs the file closes (``closed_in_file``), the network as it stands.
    """

    scenario: Scenario
    specs: Mapping[str, ModeSpec]
    closed_sites: frozenset[str] = frozenset()
    closed_legs: Mapping[str, frozenset[str]] | None = None  # leg id -> modes

    def __post_init__(self) -> None:
        self.kind = {s.id: s.kind for s in self.scenario.sites}
        self.refuel_hours = {s.id: s.refuel_min / 60.0 for s in self.scenario.sites}
        self._where = {s.id: (s.lat, s.lon) for s in self.scenario.sites}
        self.graphs: dict[str, RouteGraph] = {
            m: {s.id: {} for s in self.scenario.sites} for m in MODES}
        closed_legs = closed_in_file(self.scenario) if self.closed_legs is None \
            else self.closed_legs
        for leg in self.scenario.legs:
            closed_modes = closed_legs.get(leg.leg_id, frozenset())
            for mode in map(str, leg.modes):
                if mode in closed_modes:
                    continue
                km = leg_length_km(self.scenario, leg, mode)
                pairs = [(leg.from_, leg.to)] + ([(leg.to, leg.from_)] if leg.bidirectional else [])
                g = self.graphs[mode]
                for a, b in pairs:
                    g.setdefault(b, {})
                    out = g.setdefault(a, {})
                    if b not in out or out[b] > km:
                        out[b] = km
        self.hops: dict[str, dict[str, Hop]] = {}  # origin -> dest|mode -> hop
        for s in self.scenario.sites:
            if s.kind in ORIGIN_KINDS and s.id not in self.closed_sites:
                for mode, spec in self.specs.items():
                    for hop in self._hops_from(s.id, mode, spec):
                        self.hops.setdefault(s.id, {})[f"{hop.dest}|{mode}"] = hop
        self.cost_to_go = self._cost_to_go()
        # next_hops: the best hop per node and mode; options: every progress-making hop,
        # best first, so a vehicle can go on to the next when the best one's destination
        # is full or closed (another reception, another airfield).
        self.next_hops = self._next_hops()
        self._ground_dist: dict[str, dict[str, float]] = {}
        self._positioning_km_memo: dict[tuple[str, str, str], float | None] = {}
        self._positioning: dict[tuple[str, str, str, float], PositioningRoute] = {}

    def _hops_from(self, origin: str, mode: str, spec: ModeSpec) -> list[Hop]:
        """Fastest hop from ``origin`` to every reachable destination by ``mode``."""
        g = self.graphs[mode]
        best: dict[str, float] = {origin: 0.0}
        prev: dict[str, str] = {}
        heap: list[tuple[float, str]] = [(0.0, origin)]
        found: list[Hop] = []
        done: set[str] = set()
        while heap:
            t, node = heapq.heappop(heap)
            if node in done:
                continue
            done.add(node)
            if node != origin and self.kind[node] in DEST_KINDS:
                found.append(self._make_hop(origin, node, mode, prev, t))
            if node != origin and self.kind[node] not in REFUEL_KINDS:
                continue  # a prison or reception ends a hop
            stop_hours = 0.0 if node == origin else self.refuel_hours[node]
            for nxt, km in g[node].items():
                if km > spec.range_km or nxt in self.closed_sites:
                    continue
                nt = t + stop_hours + km / spec.speed_kmh
                if nt < best.get(nxt, math.inf) - 1e-12:
                    best[nxt] = nt
                    prev[nxt] = node
                    heapq.heappush(heap, (nt, nxt))
        return found

    def _make_hop(
        self, origin: str, dest: str, mode: str, prev: dict[str, str], hours: float
    ) -> Hop:
        nodes = [dest]
        while nodes[-1] != origin:
            nodes.append(prev[nodes[-1]])
        nodes.reverse()
        g = self.graphs[mode]
        seg = tuple(g[a][b] for a, b in zip(nodes, nodes[1:], strict=False))
        return Hop(origin, dest, mode, tuple(nodes), seg, hours)

    def _cost_to_go(self) -> dict[str, float]:
        penalty = self.scenario.transfer_penalty_hours
        incoming: dict[str, list[Hop]] = {}
        for hops in self.hops.values():
            for hop in hops.values():
                incoming.setdefault(hop.dest, []).append(hop)
        cost: dict[str, float] = {}
        heap = [
            (0.0, s.id)
            for s in self.scenario.sites
            if s.kind == "reception" and s.id not in self.closed_sites
        ]
        heapq.heapify(heap)
        while heap:
            c, node = heapq.heappop(heap)
            if node in cost:
                continue
            cost[node] = c
            for hop in incoming.get(node, []):
                if hop.origin not in cost:
                    heapq.heappush(heap, (c + hop.route_hours + penalty, hop.origin))
        return cost

    def _next_hops(self) -> dict[str, dict[str, Hop]]:
        """Best progress-making hop per origin and mode; fills ``options`` on the way."""
        penalty = self.scenario.transfer_penalty_hours
        self.options: dict[str, dict[str, list[Hop]]] = {}
        for origin, hops in self.hops.items():
            j_origin = self.cost_to_go.get(origin, math.inf)
            per_mode: dict[str, list[tuple[float, str, Hop]]] = {}
            between_airfields = self.kind[origin] == "airfield"
            for hop in hops.values():
                j_dest = self.cost_to_go.get(hop.dest, math.inf)
                if between_airfields and self.kind[hop.dest] == "airfield" and \
                        j_origin - j_dest < MIN_GAIN_BETWEEN_AIRFIELDS * hop.route_hours:
                    continue  # a detour to another airfield for a few minutes' gain
                if j_dest < j_origin:
                    total = hop.route_hours + penalty + j_dest
                    per_mode.setdefault(hop.mode, []).append((total, hop.dest, hop))
            if per_mode:
                self.options[origin] = {
                    m: [h for _, _, h in sorted(c, key=lambda x: (x[0], x[1]))]
                    for m, c in sorted(per_mode.items())
                }
        return {o: {m: hs[0] for m, hs in per.items()} for o, per in self.options.items()}

    def has_route(self, site_id: str) -> bool:
        return math.isfinite(self.cost_to_go.get(site_id, math.inf))

    def route(self, site_id: str) -> list[Hop]:
        """The fastest sequence of hops from ``site_id`` to a reception (empty if none)."""
        path: list[Hop] = []
        node = site_id
        while self.kind[node] != "reception" and node in self.next_hops:
            penalty = self.scenario.transfer_penalty_hours
            hop = min(
                self.next_hops[node].values(),
                key=lambda h: h.route_hours + penalty + self.cost_to_go[h.dest],
            )
            path.append(hop)
            node = hop.dest
            if len(path) > len(self.kind):
                break
        return path if path and self.kind[path[-1].dest] == "reception" else []

    def positioning_km(self, mode: str, a: str, b: str) -> float | None:
        """Empty-positioning distance a->b: direct for aircraft, by road for ground.

        Asked for every candidate of every dispatch and every empty flight: memoised
        (the network does not change once built).
        """
        key = (mode, a, b)
        try:
            return self._positioning_km_memo[key]
        except KeyError:
            km = self._positioning_km_memo[key] = self._positioning_km(mode, a, b)
            return km

    def _positioning_km(self, mode: str, a: str, b: str) -> float | None:
        if a == b:
            return 0.0
        if mode != "ground":
            return self._flight_km(mode, a, b)
        dists = self._ground_dist.get(a)
        if dists is None:
            dists = self._ground_dist[a] = _road_km_from(self.graphs["ground"], a)
        d = dists.get(b)
        return float(d) if d is not None else None

    def _flight_km(self, mode: str, a: str, b: str) -> float:
        """An aircraft's distance a->b: the corridor between them where the mode has one
        (as loaded flights fly it), else the great circle."""
        corridor = self.graphs[mode].get(a, {}).get(b)
        if corridor is not None:
            return float(corridor)
        return great_circle_km(*self._where[a], *self._where[b])

    def positioning_route(self, mode: str, a: str, b: str, range_km: float) -> PositioningRoute:
        """Nodes and segment lengths (km) of an empty positioning trip a->b.

        One segment of ``positioning_km`` when it is within ``range_km`` (and always by
        road, or when there is no road: 0 km, as a ground vehicle is never sent where no
        road leads). Beyond range, an aircraft refuels on the way as a loaded one does:
        the fastest chain of segments, each within range, through open refuel points and
        airfields, a segment being the corridor between two sites where the mode has one,
        else the great circle (as ``positioning_km``). If no such chain exists it flies
        the one segment, as before this rule.
        """
        km = self.positioning_km(mode, a, b)
        if mode == "ground" or km is None or km <= range_km:
            return (a, b), (km or 0.0,)
        key = (mode, a, b, range_km)
        route = self._positioning.get(key)
        if route is None:
            route = self._positioning[key] = self._refuel_chain(mode, a, b, range_km) or (
                (a, b), (km,))
        return route

    def _refuel_chain(self, mode: str, a: str, b: str, range_km: float) -> PositioningRoute | None:
        """Fastest a->b through refuel stops with every segment within ``range_km``."""
        spec = self.specs.get(mode)
        speed = spec.speed_kmh if spec is not None else 1.0
        stops = [sid for sid, kind in self.kind.items()
                 if kind in REFUEL_KINDS and sid not in self.closed_sites and sid not in (a, b)]

        best: dict[str, float] = {a: 0.0}
        prev: dict[str, str] = {}
        heap: list[tuple[float, str]] = [(0.0, a)]
        done: set[str] = set()
        while heap:
            t, node = heapq.heappop(heap)
            if node in done:
                continue
            done.add(node)
            if node == b:
                break
            stop_hours = 0.0 if node == a else self.refuel_hours[node]
            for nxt in [*stops, b]:
                if nxt in done:
                    continue
                km = self._flight_km(mode, node, nxt)
                if km > range_km:
                    continue
                nt = t + stop_hours + km / speed
                if nt < best.get(nxt, math.inf) - 1e-12:
                    best[nxt] = nt
                    prev[nxt] = node
                    heapq.heappush(heap, (nt, nxt))
        if b not in prev:
            return None
        nodes = [b]
        while nodes[-1] != a:
            nodes.append(prev[nodes[-1]])
        nodes.reverse()
        segments = tuple(self._flight_km(mode, x, y)
                         for x, y in zip(nodes, nodes[1:], strict=False))
        return tuple(nodes), segments


def _road_km_from(graph: RouteGraph, source: str) -> dict[str, float]:
    """Shortest distance (km) from ``source`` to every site ``graph`` reaches from it.

    networkx's ``single_source_dijkstra_path_length`` step for step (the same heap
    entries, ties broken by the order of pushing, the same strict improvement), so
    that every distance is the same sum, added in the same order, to the last bit.
    """
    dist: dict[str, float] = {}
    seen: dict[str, float] = {source: 0}
    order = itertools.count()
    fringe: list[tuple[float, int, str]] = [(0, next(order), source)]
    while fringe:
        d, _, v = heapq.heappop(fringe)
        if v in dist:
            continue
        dist[v] = d
        for u, km in graph.get(v, {}).items():
            vu = d + km
            if u not in dist and (u not in seen or vu < seen[u]):
                seen[u] = vu
                heapq.heappush(fringe, (vu, next(order), u))
    return dist
