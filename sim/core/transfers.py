"""Transfers: who waits where, the claims on places, dispatch, and every detainee movement.

``Transfers`` owns the detainee table and the queues by node, the places
claimed at destinations (``inbound``) and the reception's daily intake
clearances, the loading pads, the route network and the dispatcher. Vehicles
call ``dispatch`` for a ``Mission`` (a claimed batch), then ``pick_up``,
``drop_off``, ``return_to`` or ``release_claim``; hazards call ``escape``
and ``reroute``. Capacities are in detainees, times in hours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any, cast

import numpy as np
import simpy

from sim.common.rng import Streams
from sim.common.vocabulary import NOBODY, EventKind
from sim.core.detainees import (
    CUSTODY_TRANSFERRED,
    DELIVERED,
    ESCAPED,
    HELD,
    IN_FLIGHT,
    RELEASED,
    WAITING,
    Detainees,
)
from sim.core.dispatch import Candidate, Policy, make_policy
from sim.core.escorts import Escorts
from sim.core.fronts import FrontTrack, min_distance_to_fronts
from sim.core.kinds import (
    EVENT_CUSTODY_TRANSFER,
    EVENT_DISPATCH,
    EVENT_NO_ROUTE,
    EVENT_OVERRUN_ESCAPE,
    EVENT_ROUTE_RESTORED,
    STATUS_OVERRUN,
)
from sim.core.nowork import NoWork, WorkKey
from sim.core.pads import Pads
from sim.core.registration import RegistrationQueue
from sim.core.release import ready_hours
from sim.core.routes import NO_ROUTE, DispatchView, HopRecord
from sim.core.settable import SettableValues, SiteValues
from sim.core.state import RunState
from sim.core.tasked import Tasked
from sim.core.waits import first_of
from sim.scenario.network import ModeSpec, Network, PositioningRoute
from sim.scenario.params import RuntimeParams
from sim.scenario.schema import Scenario

NetworkSource = Callable[[frozenset[str], dict[str, frozenset[str]]], Network]

#: An origin's people still to be released are all there until someone escapes or is
#: handed over there (``_release`` then looks at no array). Off only to test that
#: trusting it changes nothing.
RELEASE_TRUSTS_NO_LOSS = True


class Mission:
    """A claimed batch: detainee ids to move from ``hop.origin`` to ``hop.dest`` (the
    hop's native record, ``HopRecord``).

    A plain class rather than a dataclass: the compiled core then builds one (once a
    dispatch) natively, where a dataclass's generated ``__init__`` runs as Python.
    """

    def __init__(self, hop: HopRecord, ids: np.ndarray, reserved: int, cleared_day: int | None = None,
                 claimed_at: float = 0.0) -> None:
        self.hop = hop
        self.ids = ids
        self.reserved = reserved  # capacity claimed at the destination
        self.cleared_day = cleared_day  # the reception's intake day the claim counts against
        self.claimed_at = claimed_at  # hours: when the batch was claimed (all held or waiting)


def _in_order(categories: np.ndarray) -> bool:
    """Whether risk ``categories`` never go back to a more dangerous rank along the array."""
    return len(categories) < 2 or bool(np.all(categories[:-1] <= categories[1:]))


def _first_ranks(counts: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` risk ranks, most dangerous first, of a queue holding ``counts`` of
    each rank: ``np.repeat(np.arange(len(counts)), counts)[:n]`` without making the whole
    queue's length of ranks to keep ``n`` of them."""
    before = np.cumsum(counts) - counts  # how many of more dangerous ranks come first
    return np.repeat(np.arange(len(counts)), np.clip(n - before, 0, counts))


class Transfers:
    """Queues by node, claims, capacity, dispatch and the movements of detainees."""

    def __init__(
        self, scenario: Scenario, state: RunState, params: RuntimeParams, streams: Streams,
        specs: dict[str, ModeSpec], fronts: list[FrontTrack], xy: dict[str, tuple[float, float]],
        networks: NetworkSource | None = None,
    ) -> None:
        self.scenario = scenario
        self.state = state
        self.params = params
        # The run's settable site and aircraft values as native records that follow a
        # rule's changes (``sim.core.settable``): capacity reads them at every dispatch.
        self.settable = SettableValues(params, state.kind)
        self.site_values: dict[str, SiteValues] = self.settable.site
        self.env = state.env
        self.specs = specs
        self.fronts = fronts
        self.xy = xy
        env = state.env
        self.site_ids = state.site_ids
        self.site_index = state.site_index
        self.kind = state.kind
        self.d = Detainees(scenario, self.site_index)
        self.total = self.d.n
        self.pads = {s.id: Pads(env, s.pads) for s in scenario.sites}
        # What road vehicles load and unload on: their own bays where a site has them
        # (``Site.road_bays``), else its pads (``Vehicle`` takes one of the two once).
        self.road_pads = {**self.pads, **{s.id: Pads(env, s.road_bays) for s in scenario.sites
                                          if s.road_bays is not None}}
        # fixed-wing parking, where a site limits it (``Site.ramp_spaces``)
        self.ramps = {s.id: simpy.Resource(cast(Any, env), capacity=s.ramp_spaces)
                      for s in scenario.sites if s.ramp_spaces is not None}
        self.queue: dict[str, np.ndarray] = {
            sid: self.d.ids_at(self.site_index[sid]) for sid in self.site_ids
        }
        self.present = {sid: len(q) for sid, q in self.queue.items()}  # held or waiting there
        # (hour, airfield, people there after a change): each staging airfield's count from
        # the start (``staging.csv``), for the hours its holding filled and emptied.
        self.staging_log: list[tuple[float, str, int]] = [
            (0.0, sid, self.present[sid]) for sid in self.site_ids
            if self.site_values[sid].is_airfield]
        # Room behind each queue for those who join its end (``join_queue``): the buffer a
        # queue is a view of, and where its filled part ends.
        self._queue_room: dict[str, tuple[np.ndarray, int]] = {}
        # Under ``highest_risk_first``, per queue (the array it is now): how many of each
        # risk category it holds and whether its categories are in order (``_risk_of``).
        self._risk: dict[str, tuple[np.ndarray, np.ndarray, bool]] = {}
        self._categories = len(scenario.risk_categories)
        # Origins with a ``release``: who is handed over when (sorted by hour); the queue
        # holds only those already handed over, ``present`` counts everyone still there.
        self.pending_release: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for site in scenario.sites:
            if site.release is not None and len(self.queue[site.id]):
                ids = self.queue[site.id]
                hours = ready_hours(site.release, len(ids), streams["release"])
                self.d.t_ready[ids] = hours
                order = np.argsort(hours, kind="stable")
                self.pending_release[site.id] = (ids[order], hours[order])
                self.queue[site.id] = ids[:0]
        self.pull = scenario.staging == "pull"
        self._window_moved = state.env.event()  # a rule changed the pull window
        params.listeners.append(
            lambda path: self._move_window() if path == "staging_clearance_hours" else None)
        # Share passing into another authority's custody at an overrun site, from the front
        # that overran it (``Hazards``); a site's own ``overrun_custody_fraction`` wins.
        self.front_custody: dict[str, float] = {}
        self.custody_rng = streams["custody"]
        self._view: DispatchView | None = None  # dispatch's records of ``network`` (``routes``)
        self.inbound = dict.fromkeys(self.site_ids, 0)  # places claimed, not yet delivered
        # People at a pickup spoken for by the sorties waiting there for their minimum load
        # (``await_load``): the sum of what each still lacks. Dispatch leaves them to those
        # sorties.
        self.awaited = dict.fromkeys(self.site_ids, 0)
        self.cleared: dict[tuple[str, int], int] = {}  # (reception, day) -> intake cleared
        self.occupancy = dict.fromkeys(self.site_ids, 0)
        self.occupied = 0  # the sum of ``occupancy``: detainees in the receptions now
        self.peak_occupancy = 0
        # For the rules' backlog: the registration end hours of everyone delivered to a
        # reception that registers, batch after batch (one flat list), and how many were
        # delivered to one that registers on arrival (no list of their delivery hours).
        self.registration_ends: list[float] = []
        self.registered_on_arrival = 0
        self.delivered_count = 0
        # hours of the last escape or hand-over at each site (``still_here``)
        self.last_loss = dict.fromkeys(self.site_ids, -math.inf)
        self.cut_off: dict[str, float] = {}  # nodes with detainees and no route: since (hours)
        self.policy: Policy = make_policy(scenario.dispatch)
        # Its name, read at every dispatch: a native attribute here (``policy.name`` is a
        # generic lookup through the ``Policy`` protocol).
        self.policy_name: str = self.policy.name
        self.escorts = Escorts.of(scenario)  # guards per detainee by risk (none: no guards)
        self._front_km_at = math.nan
        self._front_km_cache: dict[str, float] = {}
        # Dispatch's "nothing to do" answers (see ``has_no_work``): a wake-up of many idle
        # vehicles costs only those that may act on the change.
        self.no_work = NoWork(self)
        self._networks = networks  # shared networks by closures (``prepared``), if given
        self.network = self._build_network()
        self.registration: dict[str, RegistrationQueue] = {}
        for s in scenario.sites:
            if s.kind == "reception" and s.registration is not None:
                r = s.registration
                self.registration[s.id] = RegistrationQueue(
                    r.stations, r.minutes, streams["registration"], r.hours_per_day,
                    r.start_hour,
                )

    # ----- routes ------------------------------------------------------------------
    def _build_network(self) -> Network:
        st = self.state
        if self._networks is not None:
            return self._networks(st.closed_sites(), st.closed_legs())
        return Network(self.scenario, self.specs, st.closed_sites(), st.closed_legs())

    def hop_open(self, hop: HopRecord, mode: str) -> bool:
        """Whether every segment of ``hop`` is still open to ``mode``: a rule or a front
        may have closed a leg since the batch was claimed on it. A road closed while a
        convoy loads stops the convoy at its origin (``Vehicle.fly``); a vehicle already
        on its way goes on."""
        st = self.state
        if not st.trigger_closed_legs and not st.front_closed_legs:
            return True  # nothing closed: every claimed hop is open
        graph = self.network.graphs[mode]
        nodes = hop.nodes
        return all(nodes[i + 1] in graph.get(nodes[i], {}) for i in range(len(nodes) - 1))

    def reroute(self) -> None:
        """Recompute routes after a closure or reopening; report nodes left without one."""
        st = self.state
        now = st.env.now
        self.network = self._build_network()
        for sid in self.site_ids:
            if self.kind[sid] not in ("prison", "airfield") or st.status[sid] == STATUS_OVERRUN:
                continue
            if not st.site_open[sid]:
                continue  # closed (the file or a rule), not cut off: no route is asked of it
            cut = self.present[sid] > 0 and not self.network.has_route(sid)
            if cut and sid not in self.cut_off:
                self.cut_off[sid] = now
                st.log(EVENT_NO_ROUTE, NOBODY, sid, self.present[sid])
            elif not cut and sid in self.cut_off:
                del self.cut_off[sid]
                st.log(EVENT_ROUTE_RESTORED, NOBODY, sid, self.present[sid])
        st.notify()

    # ----- capacity ----------------------------------------------------------------
    def capacity(self, site: str) -> float:
        """Detainees that may be sent to ``site`` now (claims included)."""
        st = self.state
        if not st.site_open[site] or st.status[site] == STATUS_OVERRUN:
            return 0
        p = self.site_values[site]
        if p.is_reception:
            cap: float = math.inf
            if p.beds is not None:
                cap = p.beds - self.occupancy[site] - self.inbound[site]
            if p.daily_intake_limit is not None:
                day = int(st.env.now // 24)
                cap = min(cap, p.daily_intake_limit - self.cleared.get((site, day), 0))
            return cap
        room: float = math.inf
        if p.holding_capacity is not None:
            room = p.holding_capacity - self.present[site] - self.inbound[site]
        if self.pull and p.is_airfield:
            cleared = self.onward_clearance(site, st.env.now + self.params.staging_clearance_hours)
            # those already claimed for an onward hop count at their destination already
            room = min(room, cleared - len(self.queue[site]) - self.inbound[site])
        return room

    def onward_clearance(self, site: str, until: float) -> float:
        """Detainees the destinations of ``site``'s onward hops have cleared by ``until`` (hours).

        Pull through staging: a batch enters a staging airfield only if this covers it,
        with those already there or on their way. A reception clears what is left of
        today's intake plus its current daily limit for each later day that begins
        by ``until`` (a rule may change it), within its free beds; a further airfield
        clears its own room (pull again). A destination without limits clears any number.
        """
        st = self.state
        total = 0.0
        for dest in self._dispatch_view().onward_dests(site):
            p = self.site_values[dest]
            if not p.is_reception:
                total += max(0.0, self.capacity(dest))
                continue
            if not st.site_open[dest] or st.status[dest] == STATUS_OVERRUN:
                continue
            cap: float = math.inf
            if p.beds is not None:
                cap = p.beds - self.occupancy[dest] - self.inbound[dest]
            limit = p.daily_intake_limit
            if limit is not None:
                today = int(st.env.now // 24)
                later_days = max(0, math.floor(until / 24.0) - today)
                cap = min(cap, max(0, limit - self.cleared.get((dest, today), 0))
                          + limit * later_days)
            total += max(0.0, cap)
        return total

    def can_unload(self, site: str, n: int) -> bool:
        """Beds may have shrunk (a rule) since the claim: never overfill."""
        p = self.site_values[site]
        if not p.is_reception:
            return True
        return p.beds is None or self.occupancy[site] + n <= p.beds

    # ----- dispatch ----------------------------------------------------------------
    def _dispatch_view(self) -> DispatchView:
        """Dispatch's native records of the current network (hops, positioning distances,
        onward destinations), built when first asked after the network changed."""
        view = self._view
        if view is None or view.network is not self.network:
            view = self._view = DispatchView(self.network)
        return view

    def positioning_route(self, mode: str, a: str, b: str, range_km: float) -> PositioningRoute:
        """Nodes and segment lengths (km) of an empty flight from ``a`` to ``b`` on the
        current network (``Network.positioning_route``)."""
        return self._dispatch_view().positioning_route(mode, a, b, range_km)

    def has_no_work(self, v: Tasked) -> bool:
        """Whether a dispatch at this instant already found nothing for vehicles like ``v``.

        Whether any node can be served depends only on the vehicle's mode, range and (by
        road) location (its ``WorkKey``, recorded by ``dispatch``), and on the shared state.
        Claims only remove work, and every change that can add work moves
        ``RunState.version`` (``notify``, ``touch``), so a "no candidates" answer holds for
        all such vehicles until the clock or the version moves (or, for the changes at one
        node that ``Transfers`` reports to ``NoWork``, until that node can be served).
        """
        return self.has_no_work_for(self.work_key(v), self.env.now)

    def has_no_work_for(self, key: WorkKey, now: float) -> bool:
        """``has_no_work`` for a vehicle that keeps its own ``WorkKey`` (``Vehicle.work_key``),
        asked at ``now`` (hours, the clock's time): the check of every idle vehicle at every
        wake-up, without building the key each time."""
        return self.no_work.holds(key, now, same_day=False)

    def no_work_today(self, v: Tasked) -> bool:
        """``has_no_work``, also counting an answer found earlier today.

        Not used by the vehicles: with the realism mechanisms (releases at the origins,
        operating windows, convoys) a day-long answer missed changes that gave work, and
        results moved (``test_skipping_idle_vehicles_changes_no_result``); idle vehicles
        use the instant answer, ``has_no_work``.

        Within a day a dispatch's candidates change only with the state (the daily
        intake clearances change with the day), so an idle vehicle need not wake for
        a change that gives vehicles like it nothing to do (``NoWork``).
        """
        return self.no_work.holds(self.work_key(v), self.env.now, same_day=True)

    def work_key(self, v: Tasked) -> WorkKey:
        """The run's ``WorkKey`` for vehicles like ``v`` where it stands now."""
        return self.no_work.key(v.mode, v.range_km, v.location)

    def dispatch(self, v: Tasked, asked: bool = False) -> Mission | None:
        """Choose and claim a batch for ``v``, or None if nothing it can do now.

        ``asked``: the caller has just found ``has_no_work(v)`` false at this instant,
        with no change since, so the answer is not looked up again.
        """
        st = self.state
        now = st.env.now
        if now >= st.horizon or (not asked and self.has_no_work(v)):
            return None
        rng_km = v.range_km
        mode = v.mode
        cands: list[Candidate] = []
        hops: dict[str, HopRecord] = {}
        need_threat = self.policy_name == "highest_threat"
        need_risk = self.policy_name == "highest_risk_first"
        room: dict[str, float] = {}  # capacity by destination, for this call
        status, site_open, queue = st.status, st.site_open, self.queue
        view = self._dispatch_view()
        location = v.location
        no_hops: list[HopRecord] = []

        awaited = self.awaited
        for site, per_mode in view.nodes:
            free = len(queue[site]) - awaited[site]
            if free <= 0 or not site_open[site] or status[site] == STATUS_OVERRUN:
                continue
            for rec in per_mode.get(mode, no_hops):  # the first in range with room
                if rec.max_segment_km <= rng_km:
                    dest = rec.dest
                    r = room.get(dest)
                    if r is None:
                        r = room[dest] = self.capacity(dest)  # a native call (not bound)
                    if r > 0:
                        break
            else:
                continue
            pos = view.positioning_km(mode, location, site)
            if pos == NO_ROUTE:
                continue
            top_rank, top_count = 0, 0
            if need_risk:  # the most dangerous category waiting there, and how many
                counts = self._risk_of(site)[0]
                top_rank = int(np.flatnonzero(counts)[0])
                top_count = int(counts[top_rank])
            front_km = self._front_km(site, now) if need_threat else math.inf
            cands.append(Candidate(site, self.site_index[site], free, top_rank, top_count,
                                   min(int(status[site]), 1), front_km, pos))
            hops[site] = rec
        if not cands:
            self.no_work.remember(self.work_key(v), now)
            return None
        choice = self.policy.choose(cands)
        chosen = hops[choice.site]
        dest = chosen.dest
        est = (choice.positioning_km + chosen.distance_km) / v.p["cruise_kmh"]
        if not v.crew_allows(est):
            return None
        cap = self.capacity(dest)
        # the sortie's places: the seats, unless a load or overload factor is set
        places = int(v.sortie_places)
        n = int(min(places, choice.waiting, cap))
        if n > 0 and self.escorts is not None:  # guards take places: who boards decides
            if need_risk:  # the first n by rank, from the queue's counts (no sort of it)
                ranks = _first_ranks(self._risk_of(choice.site)[0], n)
            else:
                ranks = self.d.category[self.queue[choice.site][:n]]
            n = self.escorts.batch(ranks, places)
        if n <= 0:
            return None  # e.g. seats set below one: an empty sortie would loop forever
        ids = self.take_from_queue(choice.site, n)
        self.inbound[dest] += n
        cleared_day = None
        if self.site_values[dest].is_reception:
            cleared_day = int(now // 24)
            key = (dest, cleared_day)
            self.cleared[key] = self.cleared.get(key, 0) + n
        st.log(EVENT_DISPATCH, v.name, choice.site, n)
        return Mission(chosen, ids, n, cleared_day, now)

    def await_load(self, site: str, change: int) -> None:
        """A sortie waiting at ``site`` for its minimum load now lacks ``change`` more
        people (fewer when negative: it has claimed some, or it leaves).

        Those it lacks are spoken for: a dispatch counts only the people beyond them, so a
        second vehicle is not sent to wait beside the first and halve what each takes on
        (six DC-4s waiting for 130 people each at a camp handing over 4.5 an hour left with
        about 65 each). When a sortie lacks fewer, people still queued there become work
        for other vehicles.
        """
        self.awaited[site] += change
        if change < 0 and len(self.queue[site]) > 0:
            self.state.notify()
            self.no_work.queued(site)

    def take_from_queue(self, site: str, n: int) -> np.ndarray:
        """Take the first ``n`` of ``site``'s queue (the most dangerous first under
        ``highest_risk_first``) for a claim."""
        q = self.queue[site]
        if self.policy_name == "highest_risk_first":
            counts, ordered = self._risk_of(site)
            if ordered:  # the most dangerous are at the front already (a stable sort's order)
                ids, left = q[:n], q[n:]
                ranks = _first_ranks(counts, n)
            else:
                cats = self.d.category[q]
                taken = np.argsort(cats, kind="stable")[:n]
                # The rest keep their order: a mask of the places taken, in time
                # proportional to the queue (sorting the rest's places, as before, took
                # the larger part of a run ten times the baseline's size under this policy).
                rest = np.ones(len(q), dtype=np.bool_)
                rest[taken] = False
                ids, left, ranks = q[taken], q[rest], cats[taken]
            self.queue[site] = left
            self._risk[site] = (left, counts - self._rank_counts(ranks), ordered or len(left) < 2)
            return ids
        self.queue[site] = q[n:]
        return q[:n]

    def _risk_of(self, site: str) -> tuple[np.ndarray, bool]:
        """Under ``highest_risk_first``: how many of each risk category ``site``'s queue
        holds (by rank, 0 the most dangerous), and whether its categories are in order
        (as an origin's people are loaded: the most dangerous first).

        Known for the queue's array: a claim (``take_from_queue``) and a join
        (``join_queue``) update it from the ids they move, and any other change of the
        queue, which makes a new array, has it counted again here. Reading the categories
        of every queue at every dispatch and sorting at every claim took time in
        proportion to the queues: a run ten times the baseline's size cost 15 baseline
        runs under this policy.
        """
        q = self.queue[site]
        known = self._risk.get(site)
        if known is not None and known[0] is q:
            return known[1], known[2]
        cats = self.d.category[q]
        counts, ordered = self._rank_counts(cats), _in_order(cats)
        self._risk[site] = (q, counts, ordered)
        return counts, ordered

    def _rank_counts(self, categories: np.ndarray) -> np.ndarray:
        """How many of ``categories`` (risk ranks) are of each rank."""
        return np.bincount(categories, minlength=self._categories)

    def top_up(self, mission: Mission, k: int) -> int:
        """Claim up to ``k`` more of those waiting at the mission's origin; how many.

        A sortie waiting at its pickup for its minimum load takes on those who come to
        wait there, as far as its destination has room. A claim counts against one day's
        intake clearance at a reception, so where the reception limits its daily intake
        none is added once that day is over (``can_top_up``).
        """
        origin, dest = mission.hop.origin, mission.hop.dest
        if k <= 0 or len(self.queue[origin]) == 0 or not self.can_top_up(mission):
            return 0
        n = int(min(k, len(self.queue[origin]), self.capacity(dest)))
        if n <= 0:
            return 0
        mission.ids = np.concatenate([mission.ids, self.take_from_queue(origin, n)])
        mission.reserved += n
        self.inbound[dest] += n
        if mission.cleared_day is not None:
            self.cleared[(dest, mission.cleared_day)] += n
        return n

    def can_top_up(self, mission: Mission) -> bool:
        """Whether ``mission`` may still claim more at its pickup: always, unless its
        claim counts against a reception's daily intake (a limit in force now) and the
        day it was cleared on is over. Without a limit nothing is counted against a day,
        and a sortie waiting past midnight for its load goes on taking people."""
        day = mission.cleared_day
        return (day is None or day == int(self.env.now // 24)
                or self.site_values[mission.hop.dest].daily_intake_limit is None)

    def set_policy(self, name: str) -> bool:
        """Switch the dispatch policy; False if it is already in force (it keeps its state)."""
        if self.policy_name == name:
            return False
        self.policy = make_policy(name)
        self.policy_name = self.policy.name
        return True

    def _front_km(self, site: str, now: float) -> float:
        """Distance (km) from ``site`` to the nearest front at ``now``, cached per instant."""
        if self._front_km_at != now:
            self._front_km_at = now
            self._front_km_cache.clear()
        km = self._front_km_cache.get(site)
        if km is None:
            km = self._front_km_cache[site] = min_distance_to_fronts(self.fronts, self.xy[site], now)
        return km

    # ----- claims and movements ------------------------------------------------------
    def _unclaim(self, mission: Mission, n: int) -> None:
        """Give back ``n`` of a mission's places at its destination (and intake clearances)."""
        if n <= 0:
            return
        self.inbound[mission.hop.dest] -= n
        if mission.cleared_day is not None:
            self.cleared[(mission.hop.dest, mission.cleared_day)] -= n
        mission.reserved -= n
        self.state.touch()  # capacity freed at the destination
        self.no_work.freed(mission.hop.dest)

    def still_here(self, ids: np.ndarray, mission: Mission) -> np.ndarray:
        """Those of ``ids`` (claimed by ``mission``) still held or waiting at its origin.

        Claimed detainees leave only by escape or a hand-over to another authority
        (``_gone``), which records the time at their site: with none there since the
        claim, all of ``ids`` are still here and no array is looked at.
        """
        if self.last_loss[mission.hop.origin] < mission.claimed_at:
            return ids
        st = self.d.state[ids]
        return ids[(st == HELD) | (st == WAITING)]

    def release_claim(self, mission: Mission) -> None:
        """Give back a mission's claims (an abort): ids still held go back to the queue."""
        d = self.d
        origin = mission.hop.origin
        back = mission.ids[np.isin(d.state[mission.ids], (HELD, WAITING))]
        if len(back):
            self.queue[origin] = np.concatenate([back, self.queue[origin]])
        self._unclaim(mission, mission.reserved)
        self.state.notify()
        self.no_work.queued(origin)

    def return_to(self, ids: np.ndarray, site: str, mission: Mission) -> None:
        """Detainees flown back to where they were picked up (the destination was lost)."""
        self._unclaim(mission, mission.reserved)
        d = self.d
        d.set_location(ids, self.site_index[site])
        d.set_state(ids, HELD if self.kind[site] in ("prison", "camp") else WAITING)
        self.queue[site] = np.concatenate([ids, self.queue[site]])
        self.present[site] += len(ids)
        self._log_staging(site)
        if self.state.status[site] == STATUS_OVERRUN:
            self.overrun(ids, site)
        self.state.notify()
        self.no_work.queued(site)

    def _log_staging(self, site: str) -> None:
        """Record ``site``'s count now if it is a staging airfield (``staging_log``)."""
        if self.site_values[site].is_airfield:
            self.staging_log.append((self.state.env.now, site, self.present[site]))

    def pick_up(self, ids: np.ndarray, site: str, mission: Mission) -> None:
        """``ids`` are on board at ``site``; places claimed for the rest are given back."""
        d = self.d
        now = self.state.env.now
        d.set_state(ids, IN_FLIGHT)
        d.picked_up(ids, now)
        self.present[site] -= len(ids)
        self._log_staging(site)
        unused = mission.reserved - len(ids)
        self._unclaim(mission, unused)
        if self.site_values[site].is_airfield and unused >= 0:
            self.state.notify()  # holding space freed
            self.no_work.freed(site)

    def drop_off(self, ids: np.ndarray, site: str, mission: Mission) -> None:
        """``ids`` are handed over at ``site``: delivered at a reception, else wait there."""
        d = self.d
        now = self.state.env.now
        n = len(ids)
        self.inbound[site] -= mission.reserved
        mission.reserved = 0
        d.set_location(ids, self.site_index[site])
        d.landed(ids)
        if self.site_values[site].is_reception:
            d.set_state(ids, DELIVERED)
            self.occupancy[site] += n
            self.occupied += n
            self.delivered_count += n
            self.peak_occupancy = max(self.peak_occupancy, self.occupied)
            reg = self.registration.get(site)
            if reg is not None:
                times = reg.admit_hours(now, n)
                d.delivered(ids, now, times)
                self.registration_ends.extend(times[1])
            else:
                d.delivered(ids, now, None)
                self.registered_on_arrival += n
            self.state.dirty = True  # rules read deliveries, occupancy and the backlog
        else:
            d.set_state(ids, WAITING)
            self.join_queue(site, ids)
            self.present[site] += n
            self._log_staging(site)
            self.state.notify()  # new work at a transfer node (a reception delivery creates none)
            self.no_work.queued(site)

    def join_queue(self, site: str, ids: np.ndarray) -> None:
        """Put ``ids`` at the end of ``site``'s queue: ``np.concatenate([queue, ids])``,
        in time proportional to ``len(ids)`` rather than to the queue's length.

        A queue that people keep joining (an origin releasing thousands in batches of
        25, a staging airfield) would be copied whole at every batch, so a run's cost
        grew with the square of the detainees. Here the queue is a view of a buffer with
        room behind it: a batch is written into that room and the queue becomes the
        longer view (the same ids in the same order). Only views of the buffer are ever
        taken from the queue (``take_from_queue`` slices its front and keeps its end),
        so a queue that is a view of the buffer ends where the buffer's filled part
        ends; anything else (a filtered or reordered queue, a claim put back at its
        front) is copied into a new buffer, twice as large as needed, at the next join.
        Nothing before the filled end is written again, so the claims' views stay as
        they were.
        """
        q = self.queue[site]
        n, k = len(q), len(ids)
        room = self._queue_room.get(site)
        if room is not None and q.base is room[0] and room[1] + k <= len(room[0]):
            buffer, end = room
            start = end - n
        else:
            buffer = np.empty(max(2 * (n + k), 64), dtype=np.result_type(q.dtype, ids.dtype))
            buffer[:n] = q
            start, end = 0, n
        buffer[end:end + k] = ids
        joined = self.queue[site] = buffer[start:end + k]
        self._queue_room[site] = (buffer, end + k)
        known = self._risk.get(site) if self.policy_name == "highest_risk_first" else None
        if known is not None and known[0] is q:
            cats = self.d.category[ids]
            ordered = known[2] and _in_order(cats) and (
                n == 0 or k == 0 or bool(self.d.category[q[-1]] <= cats[0]))
            self._risk[site] = (joined, known[1] + self._rank_counts(cats), ordered)

    def held_at(self, site: str) -> np.ndarray:
        """Ids of the detainees held or waiting at ``site`` now."""
        return self.d.ids_at(self.site_index[site])

    def escape(self, ids: np.ndarray, site: str, cause: EventKind) -> None:
        """``ids`` escape at ``site`` (an overrun or a breakout)."""
        if len(ids) == 0:
            return
        d = self.d
        d.set_state(ids, ESCAPED)
        d.t_escaped[ids] = self.state.env.now
        self._gone(ids, site)
        self.state.log(cause, NOBODY, site, len(ids))

    def overrun(self, ids: np.ndarray, site: str) -> None:
        """``ids`` are held at ``site`` as it is overrun: a share passes into another
        authority's custody (the site's ``overrun_custody_fraction``, else the overrunning
        front's ``custody_fraction``), drawn at random; the rest escape.

        ``round(fraction x held)`` are handed over (halves round up): 0.3 of 10 is 3.
        """
        frac = self.site_values[site].overrun_custody_fraction
        if frac is None:
            frac = self.front_custody.get(site, 0.0)
        k = min(len(ids), math.floor(float(frac) * len(ids) + 0.5))
        if k == len(ids):
            kept, rest = ids, ids[:0]
        elif k > 0:
            kept = np.sort(self.custody_rng.choice(ids, size=k, replace=False))
            rest = ids[~np.isin(ids, kept)]
        else:
            kept, rest = ids[:0], ids
        if len(kept):
            d = self.d
            d.set_state(kept, CUSTODY_TRANSFERRED)
            d.t_custody[kept] = self.state.env.now
            self._gone(kept, site)
            self.state.log(EVENT_CUSTODY_TRANSFER, NOBODY, site, len(kept))
        self.escape(rest, site, EVENT_OVERRUN_ESCAPE)

    def _gone(self, ids: np.ndarray, site: str) -> None:
        """``ids`` left ``site`` other than by a vehicle: out of its queue and count."""
        d = self.d
        q = self.queue[site]
        self.queue[site] = q[np.isin(d.state[q], (HELD, WAITING))]
        self.present[site] -= len(ids)
        self._log_staging(site)
        self.last_loss[site] = self.state.env.now
        self.state.dirty = True

    # ----- release at the origins and the pull window's wake-ups ---------------------
    def start(self) -> None:
        """Start the transfers' own processes: the origins' releases, and (pull) a wake-up
        when each day's intake enters the window."""
        env = self.state.env
        for site, (ids, hours) in self.pending_release.items():
            env.process(self._release(site, ids, hours))
        if self.pull:
            env.process(self._window_wakeups())

    def _release(
        self, site: str, ids: np.ndarray, hours: np.ndarray
    ) -> Generator[simpy.Event, Any, None]:
        """Process: hand over ``ids`` at ``site`` at their ``hours`` (sorted): they join the
        pickup queue then (those who escaped or were taken over meanwhile do not)."""
        env, d = self.state.env, self.d
        here = self.site_index[site]
        ready: list[float] = hours.tolist()  # the same hours as plain floats
        i, n = 0, len(ready)
        while i < n and math.isfinite(ready[i]):
            if ready[i] > env.now:
                yield env.delay(ready[i] - env.now)
            # Everyone ready by now: ``np.searchsorted(hours, now, side="right")``, counted on
            # from ``i`` (the hours are sorted and those before ``i`` were ready earlier).
            now = env.now
            j = i
            while j < n and ready[j] <= now:
                j += 1
            batch = ids[i:j]
            i = j
            # Only an escape or a hand-over here (``_gone``) takes people still to be
            # released out of the site's custody: with none, the whole batch is here.
            if not RELEASE_TRUSTS_NO_LOSS or self.last_loss[site] != -math.inf:
                batch = batch[(d.state[batch] == HELD) & (d.location[batch] == here)]
            if len(batch):
                waiting = len(self.queue[site])
                self.join_queue(site, batch)
                # New work only if nobody was waiting: a vehicle idle beside a non-empty
                # queue lacks room, range or a route, which more people do not give it. A
                # sortie waiting there for its minimum load takes them on.
                if waiting and not self.awaited[site]:
                    self.state.touch()
                else:
                    self.state.notify()

    def _move_window(self) -> None:
        """A rule changed ``staging_clearance_hours``: re-time the wake-ups."""
        old, self._window_moved = self._window_moved, self.state.env.event()
        old.succeed()

    def _window_wakeups(self) -> Generator[simpy.Event, Any, None]:
        """Process: wake vehicles when a day's intake comes within the pull window.

        Day d's intake enters the window at d x 24 - window hours; with a window of whole
        days that is a midnight, when vehicles are woken anyway (no event here).
        """
        env = self.state.env
        while True:
            ahead = self.params.staging_clearance_hours % 24.0
            if ahead == 0.0:
                yield self._window_moved
                continue
            t = math.floor((env.now + ahead) / 24.0) * 24.0 + 24.0 - ahead  # next, after now
            moved = self._window_moved
            yield first_of(env.delay(t - env.now), moved)
            if not moved.triggered:
                self.state.notify()

    def repatriates(self) -> bool:
        """Whether any reception releases detainees at midnight (a positive
        ``repatriation_per_day``): if not, ``repatriate`` does nothing."""
        return any(p.is_reception and p.repatriation_per_day > 0 for p in self.site_values.values())

    def repatriate(self) -> None:
        """Release each reception's daily quota of registered detainees (at midnight)."""
        d = self.d
        now = self.state.env.now
        for sid in self.site_ids:
            p = self.site_values[sid]
            rate = p.repatriation_per_day
            if not p.is_reception or rate <= 0:
                continue
            here = np.flatnonzero(
                (d.state == DELIVERED) & (d.location == self.site_index[sid])
                & (d.t_registered <= now)
            )
            # A fractional rate releases whole detainees on the right days (0.5: one every
            # second day); a whole rate releases exactly that many each day.
            day = round(now / 24.0)
            quota = math.floor(rate * day + 1e-9) - math.floor(rate * (day - 1) + 1e-9)
            k = min(len(here), quota)
            if k:
                out = here[np.argsort(d.t_registered[here], kind="stable")[:k]]
                d.set_state(out, RELEASED)
                d.t_released[out] = now
                self.occupancy[sid] -= k
                self.occupied -= k
                self.state.dirty = True
