"""Aircraft and road vehicles as SimPy processes.

Each vehicle loops: wait out groundings and crew rest, ask the dispatcher for
a mission, fly empty to the pickup node, queue for a pad, load, fly the hop's
segments (refuelling at intermediate stops), unload, turn around. Failures
are drawn as flight hours to failure (exponential with the type's MTBF) and
are discovered on landing: the vehicle finishes its hop, then is repaired.
A vehicle sees the run through the run state (clock, status, groundings,
logs) and the transfers (dispatch, pads, pickups and deliveries) only.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from sim.common.dist import sample
from sim.common.rng import Streams
from sim.common.vocabulary import EventKind, SiteStatus, SortieKind, VehicleState
from sim.core.state import RunState
from sim.core.transfers import Mission, Transfers
from sim.scenario.params import RuntimeParams
from sim.scenario.schema import AircraftType

IDLE, BUSY, MAINTENANCE, GROUNDED, RESTING, PENDING, WITHDRAWN = VehicleState


class Vehicle:
    """One vehicle of a type; ``name`` is unique in the run (e.g. ``ch47-03``)."""

    def __init__(
        self, state: RunState, transfers: Transfers, params: RuntimeParams, streams: Streams,
        type_name: str, spec: AircraftType, index: int, base: str, available_at: float,
    ) -> None:
        self.run_state = state
        self.transfers = transfers
        self.params = params
        self.streams = streams
        self.type_name = type_name
        self.mode = spec.mode
        self.range_km = spec.range_km  # not settable in a run
        self.name = f"{type_name}-{index:02d}"
        self.location = base
        self.available_at = available_at  # hours
        self.state = PENDING
        self.withdraw_at = math.inf
        self.retired_at = math.inf  # when it actually left service (after its last mission)
        self.flight_hours = 0.0
        self.busy_hours = 0.0
        self.busy_spans: list[tuple[float, float]] = []  # (dispatch, end of turnaround), hours
        self.mission_since: float | None = None  # dispatch hour of the mission under way
        self.day_hours: dict[int, float] = {}
        self.rest_until = 0.0
        self.hours_to_failure = self._draw_failure()
        self.process = state.env.process(self.run())
        state.idle_bound[self.process] = self.idle_bound

    def idle_bound(self) -> bool:
        """Whether a wake-up now would only find this idle vehicle nothing to do.

        The same tests, in the same order, as the loop of ``run`` before it waits
        again: not withdrawn, not grounded, not resting, and a dispatch at this
        instant already found nothing for vehicles like it.
        """
        if self.state != IDLE:
            return False  # e.g. waiting for beds to unload: it must look again
        now = self.run_state.env.now
        return (now < self.withdraw_at
                and self.run_state.grounded_until.get(self.mode, 0.0) <= now
                and self.rest_until <= now
                and self.transfers.has_no_work(self))

    @property
    def p(self) -> dict[str, Any]:
        return self.params.aircraft[self.type_name]

    def _draw_failure(self) -> float:
        mtbf = self.p["mtbf_flight_hours"]
        if mtbf is None:
            return math.inf
        return float(self.streams["failures"].exponential(mtbf))

    def leg_hours(self, km: float) -> float:
        """Flight time for ``km`` at cruise, with the type's random variation."""
        hours = km / self.p["cruise_kmh"]
        cv = self.p["flight_time_cv"]
        if cv > 0:
            s2 = math.log1p(cv * cv)
            hours *= float(self.streams["flight"].lognormal(-s2 / 2, math.sqrt(s2)))
        return hours

    def run(self) -> Generator[simpy.Event, Any, None]:
        st, tr = self.run_state, self.transfers
        env = st.env
        if self.available_at > env.now:
            yield env.timeout(self.available_at - env.now)
        st.log(EventKind.AVAILABLE, self.name, self.location, 0)
        while (now := env.now) < self.withdraw_at:
            grounded = st.grounded_until.get(self.mode, 0.0)
            if grounded > now:
                self.state = GROUNDED
                yield env.timeout(grounded - now) | st.changed  # a release may end it early
                continue
            if self.rest_until > now:
                self.state = RESTING
                yield env.timeout(self.rest_until - now)
                continue
            # The cheap check first: a wake-up of many idle vehicles stays linear.
            mission = None if tr.has_no_work(self) else tr.dispatch(self)
            if mission is None:
                if self.rest_until > now:
                    continue  # the crew is out of hours: rest first
                self.state = IDLE
                yield st.changed
                continue
            self.state = BUSY
            t0 = self.mission_since = env.now
            yield from self.fly(mission)
            self.busy_hours += env.now - t0
            self.busy_spans.append((t0, env.now))
            self.mission_since = None
            if self.flight_hours >= self.hours_to_failure:
                self.state = MAINTENANCE
                st.log(EventKind.FAILURE, self.name, self.location, 0)
                yield env.timeout(sample(self.p["repair_hours"], self.streams["failures"]))
                st.log(EventKind.REPAIRED, self.name, self.location, 0)
                self.hours_to_failure = self.flight_hours + self._draw_failure()
        self.state = WITHDRAWN
        self.retired_at = env.now
        st.log(EventKind.WITHDRAWN, self.name, self.location, 0)

    def crew_allows(self, hours: float) -> bool:
        """Whether the crew may fly ``hours`` more today; if not, set its rest."""
        env = self.run_state.env
        limit = self.p["crew_hours_per_day"]
        today = int(env.now // 24)
        flown = self.day_hours.get(today, 0.0)
        if flown + hours <= limit + 1e-9 or flown == 0.0:
            return True
        self.rest_until = max((today + 1) * 24.0, env.now + self.p["rest_hours"])
        return False

    def _fly(self, km: float, origin: str, dest: str, n: int, kind: SortieKind) -> simpy.Timeout:
        st = self.run_state
        hours = self.leg_hours(km)
        self.flight_hours += hours
        day = int(st.env.now // 24)
        self.day_hours[day] = self.day_hours.get(day, 0.0) + hours
        st.log_sortie(self.name, self.type_name, self.mode, kind, origin, dest, n, km, hours)
        return st.env.timeout(hours)

    def fly(self, mission: Mission) -> Generator[simpy.Event, Any, None]:
        st = self.run_state
        tr = self.transfers
        env = st.env
        hop = mission.hop
        origin, dest = hop.origin, hop.dest
        if self.location != origin:
            km = tr.network.positioning_km(self.mode, self.location, origin) or 0.0
            start = env.now
            flight = self._fly(km, self.location, origin, 0, SortieKind.POSITIONING)
            yield flight | st.overrun_event[origin]
            if not flight.processed and st.is_overrun(origin):
                # The pickup was overrun while en route: turn back and re-task.
                back = env.now - start
                st.log(EventKind.ABORT, self.name, origin, len(mission.ids))
                tr.release_claim(mission)
                yield env.timeout(back)
                return
            self.location = origin
        with tr.pads[origin].request() as pad:
            yield pad
            ids = tr.still_here(mission.ids)
            if len(ids) == 0 or not st.site_open[origin]:
                st.log(EventKind.ABORT, self.name, origin, 0)
                tr.release_claim(mission)
                return
            minutes = sample(self.params.site[origin]["load_min_per_detainee"], self.streams["loading"])
            if st.status[origin] == SiteStatus.THREATENED:
                minutes *= self.params.threatened_load_factor
            st.log(EventKind.LOAD, self.name, origin, len(ids))
            yield env.timeout(minutes * len(ids) / 60.0)
            ids = tr.still_here(ids)
            tr.pick_up(ids, origin, mission)
        st.log(EventKind.DEPART, self.name, origin, len(ids))
        for i, km in enumerate(hop.segment_km):
            a, b = hop.nodes[i], hop.nodes[i + 1]
            yield self._fly(km, a, b, len(ids), SortieKind.TRANSFER)
            if b != dest:
                st.log(EventKind.REFUEL, self.name, b, len(ids))
                stop_min = max(self.p["refuel_min"], self.params.site[b]["refuel_min"])
                yield env.timeout(stop_min / 60.0)
        if st.is_overrun(dest):
            # The destination was overrun while in the air: fly the detainees back.
            st.log(EventKind.DIVERT, self.name, dest, len(ids))
            for i in reversed(range(len(hop.segment_km))):
                yield self._fly(hop.segment_km[i], hop.nodes[i + 1], hop.nodes[i], len(ids),
                                SortieKind.TRANSFER)
            self.location = origin
            tr.return_to(ids, origin, mission)
            return
        self.location = dest
        st.log(EventKind.ARRIVE, self.name, dest, len(ids))
        with tr.pads[dest].request() as pad:
            yield pad
            while not tr.can_unload(dest, len(ids)):
                yield st.changed
            minutes = sample(self.params.site[dest]["unload_min_per_detainee"], self.streams["loading"])
            yield env.timeout(minutes * len(ids) / 60.0)
            tr.drop_off(ids, dest, mission)
            st.log(EventKind.UNLOAD, self.name, dest, len(ids))
            yield env.timeout(sample(self.p["turnaround_min"], self.streams["turnaround"]) / 60.0)


__all__ = ["Vehicle"]
