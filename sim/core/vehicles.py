"""Aircraft and road vehicles as SimPy processes.

Each vehicle loops: wait out groundings and crew rest, ask the dispatcher for
a mission, fly empty to the pickup node, queue for a pad, load, fly the hop's
segments (refuelling at intermediate stops), unload, turn around. Failures
are drawn as flight hours to failure (exponential with the type's MTBF) and
are discovered on landing: the vehicle finishes its hop, then is repaired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim.common.dist import sample
from sim.core.detainees import HELD, WAITING
from sim.scenario.network import Hop

if TYPE_CHECKING:
    from collections.abc import Generator

    from sim.core.model import Model

IDLE, BUSY, MAINTENANCE, GROUNDED, RESTING, PENDING, WITHDRAWN = range(7)
AIRCRAFT_STATES = ("idle", "busy", "maintenance", "grounded", "resting", "pending", "withdrawn")


@dataclass
class Mission:
    """A claimed batch: detainee ids to move from ``hop.origin`` to ``hop.dest``."""

    hop: Hop
    ids: np.ndarray
    reserved: int  # capacity claimed at the destination
    cleared_day: int | None = None  # the reception's intake day the claim counts against


class Aircraft:
    """One vehicle of a type; ``name`` is unique in the run (e.g. ``ch47-03``)."""

    def __init__(
        self, model: Model, type_name: str, index: int, base: str, available_at: float
    ) -> None:
        self.model = model
        self.type_name = type_name
        self.mode = model.scenario.aircraft[type_name].mode
        self.range_km = model.scenario.aircraft[type_name].range_km  # not settable in a run
        self.name = f"{type_name}-{index:02d}"
        self.location = base
        self.available_at = available_at
        self.state = PENDING
        self.withdraw_at = math.inf
        self.retired_at = math.inf  # when it actually left service (after its last mission)
        self.flight_hours = 0.0
        self.busy_hours = 0.0
        self.day_hours: dict[int, float] = {}
        self.rest_until = 0.0
        self.hours_to_failure = self._draw_failure()
        self.process = model.env.process(self.run())

    @property
    def p(self) -> dict[str, Any]:
        return self.model.params.aircraft[self.type_name]

    def _draw_failure(self) -> float:
        mtbf = self.p["mtbf_flight_hours"]
        if mtbf is None:
            return math.inf
        return float(self.model.streams["failures"].exponential(mtbf))

    def leg_hours(self, km: float) -> float:
        """Flight time for ``km`` at cruise, with the type's random variation."""
        hours = km / self.p["cruise_kmh"]
        cv = self.p["flight_time_cv"]
        if cv > 0:
            s2 = math.log1p(cv * cv)
            hours *= float(self.model.streams["flight"].lognormal(-s2 / 2, math.sqrt(s2)))
        return hours

    def run(self) -> Generator[simpy.Event, Any, None]:
        env = self.model.env
        m = self.model
        if self.available_at > env.now:
            yield env.timeout(self.available_at - env.now)
        m.log("available", self.name, self.location, 0)
        while (now := env.now) < self.withdraw_at:
            grounded = m.grounded_until.get(self.mode, 0.0)
            if grounded > now:
                self.state = GROUNDED
                yield env.timeout(grounded - now) | m.changed  # a release may end it early
                continue
            if self.rest_until > now:
                self.state = RESTING
                yield env.timeout(self.rest_until - now)
                continue
            if m._no_work_stamp == (m._version, now) and (
                self.mode, self.range_km, self.location if self.mode == "ground" else None
            ) in m._no_work:
                mission = None  # the answer ``dispatch`` would give (its fast path, inlined)
            else:
                mission = m.dispatch(self)
            if mission is None:
                if self.rest_until > now:
                    continue  # the crew is out of hours: rest first
                self.state = IDLE
                yield m.changed
                continue
            self.state = BUSY
            t0 = env.now
            yield from self.fly(mission)
            self.busy_hours += env.now - t0
            if self.flight_hours >= self.hours_to_failure:
                self.state = MAINTENANCE
                m.log("failure", self.name, self.location, 0)
                yield env.timeout(sample(self.p["repair_hours"], m.streams["failures"]))
                m.log("repaired", self.name, self.location, 0)
                self.hours_to_failure = self.flight_hours + self._draw_failure()
        self.state = WITHDRAWN
        self.retired_at = env.now
        m.log("withdrawn", self.name, self.location, 0)

    def crew_allows(self, hours: float) -> bool:
        """Whether the crew may fly ``hours`` more today; if not, set its rest."""
        env = self.model.env
        limit = self.p["crew_hours_per_day"]
        today = int(env.now // 24)
        flown = self.day_hours.get(today, 0.0)
        if flown + hours <= limit + 1e-9 or flown == 0.0:
            return True
        self.rest_until = max((today + 1) * 24.0, env.now + self.p["rest_hours"])
        return False

    def _fly(self, km: float, origin: str, dest: str, n: int, kind: str) -> simpy.Timeout:
        hours = self.leg_hours(km)
        self.flight_hours += hours
        day = int(self.model.env.now // 24)
        self.day_hours[day] = self.day_hours.get(day, 0.0) + hours
        self.model.log_sortie(self, origin, dest, n, km, hours, kind)
        return self.model.env.timeout(hours)

    def fly(self, mission: Mission) -> Generator[simpy.Event, Any, None]:
        m = self.model
        env = m.env
        hop = mission.hop
        origin, dest = hop.origin, hop.dest
        if self.location != origin:
            km = m.network.positioning_km(self.mode, self.location, origin) or 0.0
            start = env.now
            flight = self._fly(km, self.location, origin, 0, "positioning")
            yield flight | m.overrun_event[origin]
            if not flight.processed and m.status[origin] == 2:
                # The pickup was overrun while en route: turn back and re-task.
                back = env.now - start
                m.log("abort", self.name, origin, len(mission.ids))
                m.release_claim(mission)
                yield env.timeout(back)
                return
            self.location = origin
        with m.pads[origin].request() as pad:
            yield pad
            st = m.d.state[mission.ids]
            ids = mission.ids[(st == HELD) | (st == WAITING)]
            if len(ids) == 0 or not m.site_open[origin]:
                m.log("abort", self.name, origin, 0)
                m.release_claim(mission)
                return
            minutes = sample(m.params.site[origin]["load_min_per_detainee"], m.streams["loading"])
            if m.status[origin] == 1:
                minutes *= m.params.threatened_load_factor
            m.log("load", self.name, origin, len(ids))
            yield env.timeout(minutes * len(ids) / 60.0)
            st = m.d.state[ids]
            ids = ids[(st == HELD) | (st == WAITING)]
            m.pick_up(ids, origin, mission)
        m.log("depart", self.name, origin, len(ids))
        for i, km in enumerate(hop.segment_km):
            a, b = hop.nodes[i], hop.nodes[i + 1]
            yield self._fly(km, a, b, len(ids), "transfer")
            if b != dest:
                m.log("refuel", self.name, b, len(ids))
                stop_min = max(self.p["refuel_min"], m.params.site[b]["refuel_min"])
                yield env.timeout(stop_min / 60.0)
        if m.status[dest] == 2:
            # The destination was overrun while in the air: fly the detainees back.
            m.log("divert", self.name, dest, len(ids))
            for i in reversed(range(len(hop.segment_km))):
                yield self._fly(hop.segment_km[i], hop.nodes[i + 1], hop.nodes[i], len(ids), "transfer")
            self.location = origin
            m.return_to(ids, origin, mission)
            return
        self.location = dest
        m.log("arrive", self.name, dest, len(ids))
        with m.pads[dest].request() as pad:
            yield pad
            while not m.can_unload(dest, len(ids), mission):
                yield m.changed
            minutes = sample(m.params.site[dest]["unload_min_per_detainee"], m.streams["loading"])
            yield env.timeout(minutes * len(ids) / 60.0)
            m.drop_off(ids, dest, mission)
            m.log("unload", self.name, dest, len(ids))
            yield env.timeout(sample(self.p["turnaround_min"], m.streams["turnaround"]) / 60.0)


__all__ = ["AIRCRAFT_STATES", "Aircraft", "Mission"]
