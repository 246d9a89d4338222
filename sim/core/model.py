"""The SimPy model: builds the environment from a scenario and runs it.

``Model`` owns the shared state (detainee arrays, queues by node, site
status, reception counters) and the small operations on it that vehicles,
escalation and triggers call. Vehicles live in ``aircraft.py``, rules in
``triggers.py``, fronts in ``escalation.py``, and status changes, breakouts,
leg closures and storms in ``hazards.py``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.common.geo import Projection
from sim.common.rng import Streams
from sim.core.detainees import DELIVERED, ESCAPED, HELD, IN_FLIGHT, RELEASED, WAITING, Detainees
from sim.core.dispatch import Candidate, make_policy
from sim.core.fronts import FrontTrack, min_distance_to_fronts
from sim.core.hazards import Hazards
from sim.core.registration import RegistrationQueue
from sim.core.vehicles import Aircraft, Mission
from sim.scenario.checks import fleet_types
from sim.scenario.network import Network, mode_specs
from sim.scenario.params import RuntimeParams
from sim.scenario.schema import Scenario


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes (an explicit hook)."""

    def __init__(self) -> None:
        super().__init__()
        self.events_processed = 0

    def step(self) -> None:
        self.events_processed += 1
        super().step()


class Model:
    """One run of one scenario with one seed."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        from sim.core.rules import TriggerEngine

        self.scenario = scenario
        self.env = CountingEnvironment()
        self.streams = Streams(seed)
        self.params = RuntimeParams(scenario)
        self.horizon = scenario.horizon_days * 24.0
        self.site_ids = [s.id for s in scenario.sites]
        self.site_index = {sid: i for i, sid in enumerate(self.site_ids)}
        self.sites = {s.id: s for s in scenario.sites}
        self.kind = {s.id: s.kind for s in scenario.sites}
        self.d = Detainees(scenario, self.site_index)
        self.total = self.d.n
        self.pads = {s.id: simpy.Resource(self.env, capacity=s.pads) for s in scenario.sites}
        self.queue: dict[str, np.ndarray] = {
            sid: self.d.ids_at(self.site_index[sid]) for sid in self.site_ids
        }
        self.present = {sid: len(q) for sid, q in self.queue.items()}
        self.inbound = dict.fromkeys(self.site_ids, 0)
        self.cleared: dict[tuple[str, int], int] = {}
        self.occupancy = dict.fromkeys(self.site_ids, 0)
        self.peak_occupancy = 0
        self.registration_ends: list[np.ndarray] = []  # per delivered batch, for rules
        self.delivered_count = 0
        self.status = dict.fromkeys(self.site_ids, 0)
        self.status_log: list[tuple[float, str, str]] = []
        self.site_open = {s.id: s.open for s in scenario.sites}
        self.overrun_event = {sid: self.env.event() for sid in self.site_ids}
        self._front_km_at = math.nan
        self._front_km_cache: dict[str, float] = {}
        self.cut_off: dict[str, float] = {}
        self.cut_off_log: list[tuple[float, str, str]] = []
        self.trigger_closed_legs: dict[str, frozenset[str]] = {}
        self.front_closed_legs: dict[str, frozenset[str]] = {}
        self.grounded_until: dict[str, float] = {}
        self.changed = self.env.event()
        # Dispatch's "nothing to do" answers, valid while neither the clock nor the state
        # moves (see ``dispatch``): a wake-up of many idle vehicles stays linear.
        self._version = 0
        self._no_work: set[tuple[str, float, str | None]] = set()
        self._no_work_stamp: tuple[int, float] = (-1, -1.0)
        self.events: list[tuple[float, str, str, str, int]] = []
        self.sorties: list[tuple[Any, ...]] = []
        self.triggers_fired: list[dict[str, Any]] = []
        self.daily_fleet: list[dict[str, int]] = []
        self.policy = make_policy(scenario.dispatch)
        self.specs = mode_specs(scenario, fleet_types(scenario))
        self.proj = Projection(float(np.mean([s.lat for s in scenario.sites])))
        self.xy = {s.id: self.proj.to_xy(s.lat, s.lon) for s in scenario.sites}
        self.fronts = [
            FrontTrack(f, scenario, self.proj, self.streams["front"], self.horizon)
            for f in scenario.escalation.fronts
        ]
        self.hazards = Hazards(self)
        self.network = self._build_network()
        self.registration: dict[str, RegistrationQueue] = {}
        for s in scenario.sites:
            if s.kind == "reception" and s.registration is not None:
                r = s.registration
                self.registration[s.id] = RegistrationQueue(
                    r.stations, r.minutes, self.streams["registration"], r.hours_per_day,
                    r.start_hour,
                )
        self.aircraft: list[Aircraft] = []
        self._type_counts: dict[str, int] = {}
        # Status changes and rules start first, so that what holds at a time (a site
        # overrun before day 0, a rule for day 0) is in force before any vehicle acts.
        self.triggers = TriggerEngine(self)
        self.env.process(self.hazards.status_changes())
        self.env.process(self._ticks())
        self.env.process(self._days())
        if scenario.escalation.weather is not None:
            self.env.process(self.hazards.weather())
        for entry in scenario.fleet:
            self.add_aircraft(entry.type, entry.count, entry.base, entry.available_from_day * 24)

    # ----- bookkeeping -------------------------------------------------------------
    def log(self, event: str, who: str, site: str, n: int) -> None:
        self.events.append((self.env.now, event, who, site, n))

    def log_sortie(
        self, ac: Aircraft, origin: str, dest: str, n: int, km: float, hours: float, kind: str
    ) -> None:
        self.sorties.append(
            (ac.name, ac.type_name, ac.mode, kind, origin, dest, self.env.now,
             self.env.now + hours, n, km, hours)
        )

    def notify(self) -> None:
        """Wake every idle vehicle: something they may act on has changed."""
        self._version += 1
        old = self.changed
        self.changed = self.env.event()
        old.succeed()

    def _build_network(self) -> Network:
        closed_sites = frozenset(
            sid for sid in self.site_ids if not self.site_open[sid] and self.kind[sid] != "reception"
        ) | frozenset(sid for sid, st in self.status.items() if st == 2)
        legs: dict[str, frozenset[str]] = {}
        for src in (self.trigger_closed_legs, self.front_closed_legs):
            for leg, modes in src.items():
                legs[leg] = legs.get(leg, frozenset()) | modes
        return Network(self.scenario, self.specs, closed_sites, legs)

    def reroute(self) -> None:
        """Recompute routes after a closure or reopening; report nodes left without one."""
        self.network = self._build_network()
        for sid in self.site_ids:
            if self.kind[sid] not in ("prison", "airfield") or self.status[sid] == 2:
                continue
            cut = self.present[sid] > 0 and not self.network.has_route(sid)
            if cut and sid not in self.cut_off:
                self.cut_off[sid] = self.env.now
                self.cut_off_log.append((self.env.now, sid, "cut_off"))
                self.log("no_route", "-", sid, self.present[sid])
            elif not cut and sid in self.cut_off:
                del self.cut_off[sid]
                self.cut_off_log.append((self.env.now, sid, "route_restored"))
                self.log("route_restored", "-", sid, self.present[sid])
        self.notify()

    def add_aircraft(self, type_name: str, count: int, base: str, at_hour: float) -> None:
        for _ in range(count):
            i = self._type_counts.get(type_name, 0) + 1
            self._type_counts[type_name] = i
            self.aircraft.append(Aircraft(self, type_name, i, base, at_hour))

    def withdraw_aircraft(self, type_name: str, count: int, at_hour: float) -> None:
        pool = [a for a in reversed(self.aircraft)
                if a.type_name == type_name and math.isinf(a.withdraw_at)]
        pool.sort(key=lambda a: a.state != 0)  # idle ones first, newest first among equals
        for a in pool[:count]:
            a.withdraw_at = at_hour
        self.env.process(self._notify_at(at_hour))

    def _notify_at(self, t: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(max(0.0, t - self.env.now))
        self.notify()

    # ----- capacity ----------------------------------------------------------------
    def capacity(self, site: str) -> float:
        """Detainees that may be sent to ``site`` now (claims included)."""
        if not self.site_open[site] or self.status[site] == 2:
            return 0
        p = self.params.site[site]
        if self.kind[site] == "reception":
            cap: float = math.inf
            if p["beds"] is not None:
                cap = p["beds"] - self.occupancy[site] - self.inbound[site]
            if p["daily_intake_limit"] is not None:
                day = int(self.env.now // 24)
                cap = min(cap, p["daily_intake_limit"] - self.cleared.get((site, day), 0))
            return cap
        if p["holding_capacity"] is not None:
            return p["holding_capacity"] - self.present[site] - self.inbound[site]
        return math.inf

    def can_unload(self, site: str, n: int, mission: Mission) -> bool:
        """Beds may have shrunk (a trigger) since the claim: never overfill."""
        if self.kind[site] != "reception":
            return True
        beds = self.params.site[site]["beds"]
        return beds is None or self.occupancy[site] + n <= beds

    # ----- dispatch ----------------------------------------------------------------
    def dispatch(self, ac: Aircraft) -> Mission | None:
        """Choose and claim a batch for ``ac``, or None if nothing it can do now."""
        now = self.env.now
        if now >= self.horizon:
            return None
        # Whether any node can be served depends only on the vehicle's mode, range and (by
        # road) location, and on the shared state. Claims only remove work, and every
        # change that can add work bumps ``_version`` (``notify``, ``pick_up``), so a "no
        # candidates" answer holds for all such vehicles until the clock or version moves.
        rng_km = ac.range_km
        no_work_key = (ac.mode, rng_km, ac.location if ac.mode == "ground" else None)
        if self._no_work_stamp != (self._version, now):
            self._no_work.clear()
            self._no_work_stamp = (self._version, now)
        elif no_work_key in self._no_work:
            return None
        seats = int(ac.p["seats"])
        cands: list[Candidate] = []
        hops = {}
        policy = self.policy
        need_threat = policy.name == "highest_threat"
        need_risk = policy.name == "highest_risk_first"
        room: dict[str, float] = {}  # capacity by destination, for this call

        def has_room(dest: str) -> bool:
            if dest not in room:
                room[dest] = self.capacity(dest)
            return room[dest] > 0

        for site, per_mode in self.network.options.items():
            q = self.queue[site]
            if len(q) == 0 or not self.site_open[site] or self.status[site] == 2:
                continue
            hop = next((h for h in per_mode.get(ac.mode, ())
                        if h.max_segment_km <= rng_km and has_room(h.dest)), None)
            if hop is None:
                continue
            pos = self.network.positioning_km(ac.mode, ac.location, site)
            if pos is None:
                continue
            top_rank, top_count = 0, 0
            if need_risk:
                cats = self.d.category[q]
                top_rank = int(cats.min())
                top_count = int(np.count_nonzero(cats == top_rank))
            front_km = self._front_km(site, now) if need_threat else math.inf
            cands.append(Candidate(site, self.site_index[site], len(q), top_rank, top_count,
                                   min(self.status[site], 1), front_km, pos))
            hops[site] = hop
        if not cands:
            self._no_work.add(no_work_key)
            return None
        choice = policy.choose(cands)
        hop = hops[choice.site]
        est = (choice.positioning_km + hop.distance_km) / ac.p["cruise_kmh"]
        if not ac.crew_allows(est):
            return None
        cap = self.capacity(hop.dest)
        n = int(min(seats, choice.waiting, cap))
        if n <= 0:
            return None  # e.g. seats set below one: an empty sortie would loop forever
        q = self.queue[choice.site]
        if need_risk:
            order = np.argsort(self.d.category[q], kind="stable")
            ids = q[order[:n]]
            self.queue[choice.site] = q[np.sort(order[n:])]
        else:
            ids, self.queue[choice.site] = q[:n], q[n:]
        self.inbound[hop.dest] += n
        cleared_day = None
        if self.kind[hop.dest] == "reception":
            cleared_day = int(self.env.now // 24)
            key = (hop.dest, cleared_day)
            self.cleared[key] = self.cleared.get(key, 0) + n
        self.log("dispatch", ac.name, choice.site, n)
        return Mission(hop, ids, n, cleared_day)

    def _unclaim(self, mission: Mission, n: int) -> None:
        """Give back ``n`` of a mission's places at its destination (and intake clearances)."""
        if n <= 0:
            return
        self.inbound[mission.hop.dest] -= n
        if mission.cleared_day is not None:
            self.cleared[(mission.hop.dest, mission.cleared_day)] -= n
        mission.reserved -= n
        self._version += 1  # capacity freed at the destination

    def _front_km(self, site: str, now: float) -> float:
        """Distance (km) from ``site`` to the nearest front at ``now``, cached per instant."""
        if self._front_km_at != now:
            self._front_km_at = now
            self._front_km_cache.clear()
        km = self._front_km_cache.get(site)
        if km is None:
            km = self._front_km_cache[site] = min_distance_to_fronts(self.fronts, self.xy[site], now)
        return km

    def release_claim(self, mission: Mission) -> None:
        """Give back a mission's claims (an abort): ids still held go back to the queue."""
        d = self.d
        origin = mission.hop.origin
        back = mission.ids[np.isin(d.state[mission.ids], (HELD, WAITING))]
        if len(back):
            self.queue[origin] = np.concatenate([back, self.queue[origin]])
        self._unclaim(mission, mission.reserved)
        self.notify()

    def return_to(self, ids: np.ndarray, site: str, mission: Mission) -> None:
        """Detainees flown back to where they were picked up (the destination was lost)."""
        self._unclaim(mission, mission.reserved)
        d = self.d
        d.location[ids] = self.site_index[site]
        d.state[ids] = HELD if self.kind[site] in ("prison", "camp") else WAITING
        self.queue[site] = np.concatenate([ids, self.queue[site]])
        self.present[site] += len(ids)
        if self.status[site] == 2:
            self.escape(ids, site, "overrun_escape")
        self.notify()

    def pick_up(self, ids: np.ndarray, site: str, mission: Mission) -> None:
        d = self.d
        now = self.env.now
        d.state[ids] = IN_FLIGHT
        first = ids[np.isnan(d.t_pickup[ids])]
        d.t_pickup[first] = now
        self.present[site] -= len(ids)
        unused = mission.reserved - len(ids)
        self._unclaim(mission, unused)
        if self.kind[site] == "airfield" and unused >= 0:
            self.notify()  # holding space freed

    def drop_off(self, ids: np.ndarray, site: str, mission: Mission) -> None:
        d = self.d
        now = self.env.now
        n = len(ids)
        self.inbound[site] -= mission.reserved
        mission.reserved = 0
        d.location[ids] = self.site_index[site]
        d.hops[ids] += 1
        if self.kind[site] == "reception":
            d.state[ids] = DELIVERED
            d.t_delivered[ids] = now
            self.occupancy[site] += n
            self.delivered_count += n
            self.peak_occupancy = max(self.peak_occupancy, sum(self.occupancy.values()))
            reg = self.registration.get(site)
            if reg is not None:
                d.t_reg_start[ids], d.t_registered[ids] = reg.admit(now, n)
            else:
                d.t_reg_start[ids] = now
                d.t_registered[ids] = now
            self.registration_ends.append(d.t_registered[ids])
        else:
            d.state[ids] = WAITING
            self.queue[site] = np.concatenate([self.queue[site], ids])
            self.present[site] += n
            self.notify()  # new work at a transfer node (a reception delivery creates none)

    def escape(self, ids: np.ndarray, site: str, cause: str) -> None:
        if len(ids) == 0:
            return
        d = self.d
        d.state[ids] = ESCAPED
        d.t_escaped[ids] = self.env.now
        q = self.queue[site]
        self.queue[site] = q[np.isin(d.state[q], (HELD, WAITING))]
        self.present[site] -= len(ids)
        self.log(cause, "-", site, len(ids))

    def _ticks(self) -> Generator[simpy.Event, Any, None]:
        step = self.scenario.trigger_check_hours
        while True:
            self.hazards.update_closures()
            self.triggers.evaluate()
            yield self.env.timeout(step)

    def ground(self, modes: list[str], hours: float, why: str) -> None:
        until = self.env.now + hours
        for mode in modes:
            self.grounded_until[mode] = max(self.grounded_until.get(mode, 0.0), until)
            self.log(f"grounded_{why}", "-", mode, int(round(hours)))
        self.env.process(self._notify_at(until))

    def release(self, modes: list[str]) -> None:
        """End the groundings of ``modes`` now (grounded vehicles wake and fly)."""
        for mode in modes:
            if self.grounded_until.get(mode, 0.0) > self.env.now:
                self.grounded_until[mode] = self.env.now
                self.log("released", "-", mode, 0)
        self.notify()

    # ----- days --------------------------------------------------------------------
    def _days(self) -> Generator[simpy.Event, Any, None]:
        day = 0
        while True:
            yield self.env.timeout(day * 24.0 - self.env.now + 24.0)
            day += 1
            counts = [0] * 7
            for a in self.aircraft:
                counts[a.state] += 1
            self.daily_fleet.append({"day": day - 1, **{str(i): c for i, c in enumerate(counts)}})
            self._repatriate()
            self.notify()  # a new day: new intake clearances, crews rested

    def _repatriate(self) -> None:
        d = self.d
        now = self.env.now
        for sid in self.site_ids:
            rate = self.params.site[sid]["repatriation_per_day"]
            if self.kind[sid] != "reception" or rate <= 0:
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
                d.state[out] = RELEASED
                d.t_released[out] = now
                self.occupancy[sid] -= k

    # ----- run ---------------------------------------------------------------------
    def run(self) -> None:
        self.env.run(until=self.horizon)


def run(scenario: Scenario, seed: int = 1) -> Any:
    """Run ``scenario`` once with ``seed`` and return its ``Result``."""
    from sim.core.results import build_result

    t0 = time.perf_counter()
    model = Model(scenario, seed)
    model.run()
    return build_result(model, seed, time.perf_counter() - t0)
