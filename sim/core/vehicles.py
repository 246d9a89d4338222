"""Aircraft and road vehicles as SimPy processes.

Each vehicle loops: wait out groundings and crew rest, ask the dispatcher for
a mission, fly empty to the pickup node (refuelling on the way when it is out
of range), wait there for the sortie's minimum load if it has one, queue for a
pad, load, fly the hop's segments (refuelling at intermediate stops), unload,
turn around. No vehicle takes off while its mode is grounded: one that is on
the ground when a grounding starts (loading, refuelling) waits it out. A
fixed-wing aircraft holds a ramp space at an airfield with ``ramp_spaces`` from
landing to take-off, and waits at its origin until one is free. Failures are
drawn as flight hours to failure (exponential with the type's MTBF) and are
discovered on landing: the vehicle finishes its hop, then is repaired. A
vehicle sees the run through the run state (clock, status, groundings, logs)
and the transfers (dispatch, pads, ramps, pickups and deliveries) only.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy
from simpy.resources.resource import Request

from sim.common.dist import Dist, sample
from sim.common.rng import Streams
from sim.common.vocabulary import SortieKind
from sim.core.availability import Availability
from sim.core.environment import Delay
from sim.core.kinds import (
    BUSY,
    EVENT_ABORT,
    EVENT_ARRIVE,
    EVENT_AVAILABLE,
    EVENT_DEPART,
    EVENT_DIVERT,
    EVENT_FAILURE,
    EVENT_LOAD,
    EVENT_REFUEL,
    EVENT_REPAIRED,
    EVENT_UNLOAD,
    EVENT_WITHDRAWN,
    GROUNDED,
    IDLE,
    MAINTENANCE,
    PENDING,
    RESTING,
    SORTIE_POSITIONING,
    SORTIE_TRANSFER,
    STATUS_THREATENED,
    WITHDRAWN,
)
from sim.core.nowork import WorkKey
from sim.core.pads import Pads
from sim.core.settable import SiteValues, TypeValues
from sim.core.state import RunState
from sim.core.tasked import Tasked
from sim.core.transfers import Mission, Transfers
from sim.core.waits import first_of
from sim.core.waves import Waves
from sim.scenario.params import RuntimeParams
from sim.scenario.schema import AircraftType


def draw(d: Dist, rng: np.random.Generator) -> float:
    """``sample(d, rng)``: one draw of ``d``, in its unit.

    A plain float is a constant, which ``sample`` returns as it is without drawing; it
    is returned here without the call. ``sample`` is plain Python, reached from the
    compiled core through a Python-level call, and most of a sortie's draws are
    constants (about 1,700 of the 2,400 of a baseline run: ground times, loading rates).
    """
    if type(d) is float:
        return d
    return sample(d, rng)


class Vehicle(Tasked):
    """One vehicle of a type; ``name`` is unique in the run (e.g. ``ch47-03``)."""

    def __init__(
        self, state: RunState, transfers: Transfers, params: RuntimeParams, streams: Streams,
        type_name: str, spec: AircraftType, index: int, base: str, available_at: float,
        availability: Availability | None = None, waves: Waves | None = None,
    ) -> None:
        self.run_state = state
        self.transfers = transfers
        self.params = params
        # The run's named streams this vehicle draws from (shared by every vehicle; a
        # stream depends only on the seed and its name, so taking it now changes nothing).
        self.failures_rng = streams["failures"]
        self.load_factor_rng = streams["load_factor"]
        self.ground_time_rng = streams["ground_time"]
        self.flight_rng = streams["flight"]
        self.loading_rng = streams["loading"]
        self.turnaround_rng = streams["turnaround"]
        self.type_name = type_name
        # The type's settable values (a rule's ``set_param`` changes this dict in place),
        # for dispatch and the sortie limits, and their native record, which this vehicle
        # reads several times a sortie (``sim.core.settable``).
        self.p: dict[str, Any] = params.aircraft[type_name]
        self.values: TypeValues = transfers.settable.aircraft[type_name]
        self.site_values: dict[str, SiteValues] = transfers.site_values
        self.mode = spec.mode
        self.by_road = spec.mode == "ground"  # its ``WorkKey`` depends on where it is
        # the pads it loads and unloads on, by site (road vehicles: their bays, if any)
        self.pads_at: dict[str, Pads] = transfers.road_pads if self.by_road else transfers.pads
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
        # The crew's hours (``crew_allows``): on the calendar day it last took off, and in
        # its duty (since its last rest), the calendar day its duty began, and when its
        # last leg ends (hours; -inf: none yet). Only the current day and duty are read.
        self.flying_day = -1
        self.day_hours = 0.0
        self.duty_hours = 0.0
        self.duty_day = -1
        self.landed_at = -math.inf
        self.rest_until = 0.0
        self.hours_to_failure = self._draw_failure()
        self._load_share: float | None = None  # of this sortie's places, drawn when claimed
        self._work_key: WorkKey | None = None  # built when first asked (``work_key``)
        self.availability = availability  # sortie generation: windows, sorties per day
        self.waves = waves  # convoys: groups that start their missions together
        self.wave_left_at = -1.0  # hours: when its wave last left (it may dispatch then)
        self.process = state.env.process(self.run())
        state.add_waiter(self)

    def idle_bound(self, now: float) -> bool:
        """Whether a wake-up at ``now`` (hours, the clock's time: the caller reads it once
        for all the waiters) would only find this idle vehicle nothing to do.

        The same tests, in the same order, as the loop of ``run`` before it waits
        again: not withdrawn, not grounded, not resting, and a dispatch earlier today
        already found nothing for vehicles like it and nothing they could act on changed.
        """
        # Asked for every idle vehicle at every change (thousands of times a run at ten
        # times the baseline): ``is`` for the state (each is one of the enum's members),
        # and no look-up in the groundings while there are none.
        if self.state is not IDLE:
            return False  # e.g. waiting for beds to unload: it must look again
        grounded = self.run_state.grounded_until
        return (now < self.withdraw_at
                and (not grounded or grounded.get(self.mode, 0.0) <= now)
                and self.rest_until <= now
                and self.transfers.has_no_work_for(self.work_key(), now))

    def work_key(self) -> WorkKey:
        """This vehicle's ``WorkKey`` (``Transfers.has_no_work``), kept until it moves by road."""
        key = self._work_key
        if key is None or (self.by_road and key.location is not self.location):
            key = self._work_key = self.transfers.work_key(self)
        return key

    def _draw_failure(self) -> float:
        mtbf = self.values.mtbf_flight_hours
        if mtbf is None:
            return math.inf
        return float(self.failures_rng.exponential(mtbf))

    @property
    def sortie_places(self) -> int:
        """People the current sortie may carry: seats x overload factor x load share.

        The load share (``load_factor``, at most 1) is drawn when the dispatcher first asks
        for a sortie's places, as it claims a batch, and holds until the sortie ends; a
        rule's change of the factor applies from the next sortie. Rounded down, and at
        least one. With the defaults (no overload, a load factor of 1) it is the seats.
        """
        p = self.values
        share = self._load_share
        if share is None:
            share = self._load_share = min(1.0, draw(p.load_factor, self.load_factor_rng))
        return max(1, math.floor(self.full_load() * share + 1e-9))

    def full_load(self) -> int:
        """People a sortie of this type carries at most: seats x overload factor, rounded
        down (what the load share and the minimum load are shares of)."""
        p = self.values
        # Floats for ``math.floor``'s native form (with untyped values it is looked up on
        # its module and called generically); a seat count times a factor is the same float.
        return math.floor(float(p.seats) * float(p.overload_factor) + 1e-9)

    def min_load(self) -> int:
        """People the sortie waits for at its pickup: ``min_load_fraction`` of its full
        load, the seats times the overload factor (rounded up), never more than the
        sortie's places (its drawn load); 0 when it does not wait. Of the full load rather
        than the seats, so that 1 waits for a full load where the type carries more than
        its seats (the same where it does not)."""
        frac = self.values.min_load_fraction
        if frac <= 0:
            return 0
        return min(self.sortie_places, math.ceil(float(frac) * float(self.full_load()) - 1e-9))

    def stop_minutes(self, at_site: Dist | None, of_type: Dist) -> float:
        """Fixed ground time of a landing, minutes: the site's value (its
        ``pickup_stop_min`` or ``dropoff_stop_min``) if it sets one, else the type's."""
        return draw(of_type if at_site is None else at_site, self.ground_time_rng)

    def leg_hours(self, km: float) -> float:
        """Flight time for ``km`` at cruise, with the type's random variation."""
        hours = km / self.values.cruise_kmh
        cv = self.values.flight_time_cv
        if cv > 0:
            s2 = math.log1p(cv * cv)
            hours *= float(self.flight_rng.lognormal(-s2 / 2, math.sqrt(s2)))
        return hours

    def run(self) -> Generator[simpy.Event, Any, None]:
        st, tr = self.run_state, self.transfers
        env = st.env
        if self.available_at > env.now:
            yield env.delay(self.available_at - env.now)
        st.log(EVENT_AVAILABLE, self.name, self.location, 0)
        while (now := env.now) < self.withdraw_at:
            grounded = st.grounded_until.get(self.mode, 0.0)
            if grounded > now:
                self.state = GROUNDED
                yield first_of(env.delay(grounded - now), st.changed)  # a release may end it early
                continue
            if self.rest_until > now:
                self.state = RESTING
                yield env.delay(self.rest_until - now)
                continue
            # The cheap check first: a wake-up of many idle vehicles stays linear.
            no_work = tr.has_no_work_for(self.work_key(), now)
            if not no_work and self.availability is not None:
                hold = self.availability.hold(self, now)
                if hold is not None:  # off duty or not mission capable: ask again later
                    self.state, until = hold
                    yield first_of(env.delay(until - now), self.availability.changed)
                    continue
            if not no_work and self.waves is not None and self.wave_left_at != now:
                gate = self.waves.join(self, self.name)
                if gate is not None:  # wait for the rest of the wave
                    self.state = IDLE
                    yield gate
                    self.wave_left_at = env.now
                    continue
                self.wave_left_at = now
            mission = None if no_work else tr.dispatch(self, asked=True)
            if mission is None:
                if self.rest_until > now:
                    continue  # the crew is out of hours: rest first
                self.state = IDLE
                changed: Any = st.changed  # an event to SimPy (``Signal``), not its ``Event``
                yield changed
                continue
            self.state = BUSY
            t0 = self.mission_since = env.now
            if self.availability is not None:
                self.availability.started(self, t0)
            yield from self.fly(mission)
            self.busy_hours += env.now - t0
            self.busy_spans.append((t0, env.now))
            self.mission_since = None
            self._load_share = None  # the next sortie draws its own
            if self.flight_hours >= self.hours_to_failure:
                self.state = MAINTENANCE
                st.log(EVENT_FAILURE, self.name, self.location, 0)
                yield env.delay(draw(self.values.repair_hours, self.failures_rng))
                st.log(EVENT_REPAIRED, self.name, self.location, 0)
                self.hours_to_failure = self.flight_hours + self._draw_failure()
        self.state = WITHDRAWN
        self.retired_at = env.now
        st.log(EVENT_WITHDRAWN, self.name, self.location, 0)

    def crew_allows(self, hours: float) -> bool:
        """Whether the crew may fly ``hours`` more now; if not, set its rest.

        Two limits of ``crew_hours_per_day`` flight hours, each waived for a crew that has
        flown none in it (so a first mission is flown whatever its length):

        - per calendar day (of departure): a crew out of hours today waits for midnight;
        - per duty: a crew whose duty is full rests, and its duty ends only on a later
          calendar day than it began and at least ``rest_hours`` after its last landing.

        Both are decided by the crew's flights alone, not by when the vehicle asks: a
        vehicle held past midnight by its sortie limit or its window owes the same rest as
        one that asked before midnight. (A rest counted from a refused ask, with hours
        only per calendar day, let the held crew fly on at midnight while the other
        rested: a higher ``max_sorties_per_day`` could delay an operation.)
        """
        now = self.run_state.env.now
        limit = self.values.crew_hours_per_day + 1e-9
        rest_until = 0.0
        duty = self._duty_hours(now)
        if duty and duty + hours > limit:
            rest_until = max((self.duty_day + 1) * 24.0, self.landed_at + self.values.rest_hours)
        today = int(now // 24)
        flown = self.day_hours if today == self.flying_day else 0.0
        if flown and flown + hours > limit:
            rest_until = max(rest_until, (today + 1) * 24.0)
        if rest_until:
            self.rest_until = rest_until
            return False
        return True

    def _duty_hours(self, now: float) -> float:
        """The crew's flight hours in its duty at ``now`` (hours): none once it has rested
        (a later day than its duty began on, and ``rest_hours`` since its last landing)."""
        if self.duty_hours:
            if now // 24 > self.duty_day and now >= self.landed_at + self.values.rest_hours - 1e-9:
                self.duty_hours = 0.0
        return self.duty_hours

    def _fly(self, km: float, origin: str, dest: str, n: int, kind: SortieKind) -> Any:
        st = self.run_state
        now = st.env.now
        hours = self.leg_hours(km)
        self.flight_hours += hours
        day = int(now // 24)
        if day != self.flying_day:  # the first leg of the day
            self.flying_day, self.day_hours = day, 0.0
        self.day_hours += hours
        if self._duty_hours(now) == 0.0:  # the first leg of a duty
            self.duty_day = day
        self.duty_hours += hours
        self.landed_at = now + hours
        st.log_sortie(self.name, self.type_name, self.mode, kind, origin, dest, n, km, hours)
        return st.env.delay(hours)

    def hold_while_grounded(self) -> Generator[simpy.Event, Any, None]:
        """Stay on the ground while the mode is grounded (a storm or an order).

        Yields nothing when the mode may fly, so a flight that is not held keeps its
        place in the order of events.
        """
        st = self.run_state
        env = st.env
        while (until := st.grounded_until.get(self.mode, 0.0)) > env.now:
            yield first_of(env.delay(until - env.now), st.changed)  # a release may end it early

    def ramp_request(self, site: str) -> Request | None:
        """A request for a ramp space at ``site`` if this aircraft needs one there."""
        ramp = self.transfers.ramps.get(site) if self.mode == "fixed_wing" else None
        return ramp.request() if ramp is not None else None

    def release_ramp(self, request: Request | None) -> None:
        if request is not None:
            request.resource.release(request)

    def position(self, mission: Mission) -> Generator[simpy.Event, Any, bool]:
        """Fly empty to the mission's pickup, refuelling on the way when out of range.

        Returns False if the pickup was overrun on the way: the vehicle has turned back,
        taken as long to return as it had flown, and given back the mission's claims.
        """
        st, tr = self.run_state, self.transfers
        env = st.env
        origin = mission.hop.origin
        nodes, segment_km = tr.positioning_route(self.mode, self.location, origin, self.range_km)
        start = env.now
        overrun = st.overrun_event[origin]
        for i, km in enumerate(segment_km):
            if i:
                st.log(EVENT_REFUEL, self.name, nodes[i], 0)
                stop: Delay = env.delay(self.refuel_minutes(nodes[i]) / 60.0)
                yield first_of(stop, overrun)
                if not stop.processed and st.is_overrun(origin):
                    break
            if st.grounded_until.get(self.mode, 0.0) > env.now:  # else it yields nothing
                yield from self.hold_while_grounded()
            # Typed, so that ``processed`` is a native read (``_fly`` is typed as what
            # SimPy's processes yield).
            flight: Delay = self._fly(km, nodes[i], nodes[i + 1], 0, SORTIE_POSITIONING)
            yield first_of(flight, overrun)
            if not flight.processed and st.is_overrun(origin):
                break
        else:
            self.location = origin
            return True
        # The pickup was overrun while en route: turn back and re-task.
        back = env.now - start
        st.log(EVENT_ABORT, self.name, origin, len(mission.ids))
        tr.release_claim(mission)
        yield env.delay(back)
        return False

    def refuel_minutes(self, site: str) -> float:
        """Minutes of a refuel stop at ``site``: the longer of the type's and the site's."""
        return float(max(self.values.refuel_min, self.site_values[site].refuel_min))

    def wait_for_load(self, mission: Mission, need: int, lacks: int
                      ) -> Generator[simpy.Event, Any, None]:
        """At the pickup, claim those who come to wait there until ``need`` are claimed,
        the sortie's places are full, ``max_load_wait_hours`` have passed, or it can
        claim no more: its claim counts against a reception's daily intake and that day
        is over (``Transfers.can_top_up``), when waiting on would only hold it.

        ``lacks``: the people it was short of when dispatched, spoken for at the pickup
        since then (``Transfers.await_load``); given back as it claims them or leaves."""
        st, tr = self.run_state, self.transfers
        env = st.env
        origin = mission.hop.origin
        until = env.now + self.values.max_load_wait_hours
        if mission.cleared_day is not None:  # look again when its intake day ends
            until_day_end = min(until, (mission.cleared_day + 1) * 24.0)
        else:
            until_day_end = until
        while True:
            tr.top_up(mission, self.sortie_places - len(tr.still_here(mission.ids, mission)))
            now = env.now
            claimed = len(tr.still_here(mission.ids, mission))
            if (claimed >= need or now >= until
                    or not st.site_open[origin] or st.is_overrun(origin)
                    or not tr.can_top_up(mission)):
                if lacks:
                    tr.await_load(origin, -lacks)
                return
            if need - claimed != lacks:
                tr.await_load(origin, need - claimed - lacks)
                lacks = need - claimed
            wake = until_day_end if until_day_end > now else until
            yield first_of(first_of(env.delay(wake - now), st.changed),
                           st.overrun_event[origin])

    def fly(self, mission: Mission) -> Generator[simpy.Event, Any, None]:
        st = self.run_state
        tr = self.transfers
        env = st.env
        hop = mission.hop
        origin, dest = hop.origin, hop.dest
        # Short of its minimum load, the sortie speaks for the people it lacks at the
        # pickup from its dispatch on: others are not sent to wait there for the same ones.
        need = self.min_load()
        lacks = max(0, need - len(mission.ids))
        if lacks:
            tr.await_load(origin, lacks)
        ramp = self.ramp_request(origin)
        if ramp is not None:
            yield ramp  # a space on the pickup's ramp before flying there
        if self.location != origin:
            if not (yield from self.position(mission)):
                if lacks:
                    tr.await_load(origin, -lacks)
                self.release_ramp(ramp)
                return
        if lacks:
            yield from self.wait_for_load(mission, need, lacks)
        with self.pads_at[origin].request() as pad:
            granted: Any = pad  # an event to SimPy, not a subclass of its ``Event``
            yield granted
            ids = tr.still_here(mission.ids, mission)
            if len(ids) == 0 or not st.site_open[origin] or not tr.hop_open(hop, self.mode):
                st.log(EVENT_ABORT, self.name, origin, 0)
                tr.release_claim(mission)
                self.release_ramp(ramp)
                return
            at_origin = self.site_values[origin]
            minutes = draw(at_origin.load_min_per_detainee, self.loading_rng)
            if st.status[origin] == STATUS_THREATENED:
                minutes *= self.params.threatened_load_factor
            stop = self.stop_minutes(at_origin.pickup_stop_min, self.values.pickup_stop_min)
            st.log(EVENT_LOAD, self.name, origin, len(ids))
            yield env.delay((stop + minutes * len(ids)) / 60.0)
            ids = tr.still_here(ids, mission)
            tr.pick_up(ids, origin, mission)
        dest_ramp = self.ramp_request(dest)
        if dest_ramp is not None:
            yield dest_ramp  # a space on the destination's ramp before taking off
        if st.grounded_until.get(self.mode, 0.0) > env.now:  # else it yields nothing
            yield from self.hold_while_grounded()
        self.release_ramp(ramp)
        if not tr.hop_open(hop, self.mode):  # its road closed while it loaded: they get off
            self.release_ramp(dest_ramp)
            st.log(EVENT_ABORT, self.name, origin, len(ids))
            tr.return_to(ids, origin, mission)
            return
        st.log(EVENT_DEPART, self.name, origin, len(ids))
        for i, km in enumerate(hop.segment_km):
            a, b = hop.nodes[i], hop.nodes[i + 1]
            yield self._fly(km, a, b, len(ids), SORTIE_TRANSFER)
            if b != dest:
                st.log(EVENT_REFUEL, self.name, b, len(ids))
                yield env.delay(self.refuel_minutes(b) / 60.0)
                if st.grounded_until.get(self.mode, 0.0) > env.now:  # else it yields nothing
                    yield from self.hold_while_grounded()
        if st.is_overrun(dest):
            # The destination was overrun while in the air: fly the detainees back.
            self.release_ramp(dest_ramp)
            st.log(EVENT_DIVERT, self.name, dest, len(ids))
            for i in reversed(range(len(hop.segment_km))):
                yield self._fly(hop.segment_km[i], hop.nodes[i + 1], hop.nodes[i], len(ids),
                                SORTIE_TRANSFER)
            self.location = origin
            tr.return_to(ids, origin, mission)
            return
        self.location = dest
        st.log(EVENT_ARRIVE, self.name, dest, len(ids))
        with self.pads_at[dest].request() as pad:
            granted = pad
            yield granted
            while not tr.can_unload(dest, len(ids)):
                changed: Any = st.changed  # an event to SimPy (``Signal``), not its ``Event``
                yield changed
            at_dest = self.site_values[dest]
            minutes = draw(at_dest.unload_min_per_detainee, self.loading_rng)
            stop = self.stop_minutes(at_dest.dropoff_stop_min, self.values.dropoff_stop_min)
            yield env.delay((stop + minutes * len(ids)) / 60.0)
            tr.drop_off(ids, dest, mission)
            st.log(EVENT_UNLOAD, self.name, dest, len(ids))
            yield env.delay(draw(self.values.turnaround_min, self.turnaround_rng) / 60.0)
        self.release_ramp(dest_ramp)


__all__ = ["Vehicle"]
