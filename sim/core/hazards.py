"""Hazards: site status from the fronts, breakouts, leg closures and storms.

These are the processes and checks that escalate a run, split from the model
so that ``transfers.py`` keeps the transfer itself (queues, dispatch, loading,
delivery). ``Hazards`` changes the run state (status, closed legs, groundings)
and moves detainees through the transfers (escapes, reroutes); status times are
solved exactly from the front tracks, and closure checks are skipped until a
front could have come within reach.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from sim.common.dist import sample
from sim.common.rng import Streams
from sim.common.vocabulary import NOBODY, EventKind, SiteStatus
from sim.core.fronts import FrontTrack, segment_distance_to_fronts
from sim.core.kinds import (
    EVENT_BREAKOUT,
    EVENT_LEG_CLOSED,
    EVENT_LEG_REOPENED,
    STATUS_OVERRUN,
    STATUS_THREATENED,
)
from sim.core.state import RunState
from sim.core.transfers import Transfers
from sim.scenario.params import RuntimeParams
from sim.scenario.schema import Scenario


class Hazards:
    """The escalation side of one run."""

    def __init__(
        self, scenario: Scenario, state: RunState, transfers: Transfers, params: RuntimeParams,
        streams: Streams, fronts: list[FrontTrack], xy: dict[str, tuple[float, float]],
        evaluate_rules: Callable[[], None],
    ) -> None:
        self.scenario = scenario
        self.state = state
        self.transfers = transfers
        self.params = params
        self.streams = streams
        self.fronts = fronts
        self.xy = xy
        self.evaluate_rules = evaluate_rules  # rules see a status change at once
        self.closure_fronts = [tr for tr in fronts
                               if tr.front.close_legs_within_km is not None]
        self.closure_key: tuple[object, ...] = ()
        self.closure_next_check = -math.inf
        self.closure_settled = math.inf
        # hours: when the last front that closes legs stops moving
        self.closure_stop = max((tr.stop_time for tr in self.closure_fronts), default=math.inf)
        self.pending_status: list[tuple[float, SiteStatus, str]] = []  # not yet applied, by time

    def status_changes(self) -> Generator[simpy.Event, Any, None]:
        """Process: apply each site's threatened and overrun times, solved up front."""
        st = self.state
        env = st.env
        changes: list[tuple[float, SiteStatus, int, str]] = []
        for i, sid in enumerate(st.site_ids):
            for level, attr in ((STATUS_THREATENED, "threat_radius_km"),
                                (STATUS_OVERRUN, "overrun_radius_km")):
                t, first = min(
                    ((tr.first_time_within(self.xy[sid], getattr(tr.front, attr)), k)
                     for k, tr in enumerate(self.fronts)),
                    default=(math.inf, -1),
                )
                if level == STATUS_OVERRUN and first >= 0:  # the front that overruns it
                    self.transfers.front_custody[sid] = self.fronts[first].front.custody_fraction
                if t < st.horizon:
                    changes.append((max(t, 0.0), level, i, sid))
        self.pending_status = [(t, level, sid) for t, level, _, sid in sorted(changes)]
        while self.pending_status:
            t, level, sid = self.pending_status[0]
            if t > env.now:
                yield env.delay(t - env.now)
            self.pending_status.pop(0)
            self.set_status(sid, level)

    def set_status(self, sid: str, level: SiteStatus) -> None:
        """Raise a site's status (never lowered); an overrun ends the custody of everyone held there."""
        st, tr = self.state, self.transfers
        if not st.raise_status(sid, level):
            return
        st.log(EventKind(level.label), NOBODY, sid, tr.present[sid])
        if level == STATUS_OVERRUN:
            tr.overrun(tr.held_at(sid), sid)  # escapes, or another authority's custody
            st.overrun_event[sid].succeed()
            tr.reroute()
        elif self.scenario.escalation.breakout is not None and st.kind[sid] == "prison":
            st.env.process(self.breakouts(sid))
        self.evaluate_rules()

    def breakouts(self, sid: str) -> Generator[simpy.Event, Any, None]:
        """Process: breakouts at a threatened prison, Poisson at the current hazard per day."""
        st, tr = self.state, self.transfers
        breakout = self.scenario.escalation.breakout
        assert breakout is not None
        rng = self.streams["breakouts"]
        while True:
            hazard = self.params.breakout_hazard_per_day
            if hazard <= 0:
                return
            yield st.env.delay(float(rng.exponential(24.0 / hazard)))
            if st.status[sid] != STATUS_THREATENED or st.env.now >= st.horizon:
                return
            held = tr.held_at(sid)
            if len(held) == 0:
                return
            frac = min(1.0, max(0.0, sample(breakout.fraction, rng)))
            k = int(round(frac * len(held)))
            chosen = np.sort(rng.choice(held, size=k, replace=False)) if k else held[:0]
            tr.escape(chosen, sid, EVENT_BREAKOUT)

    def update_closures(self) -> None:
        """Close legs near a front for the front's modes; reopen them when it has moved on."""
        st = self.state
        fronts = self.closure_fronts
        now = st.env.now
        if not fronts or now > self.closure_settled:
            return  # no front closes legs, or every such front stopped before the last check
        if now < self.closure_next_check:
            return  # no front can have come within reach of a leg, or left it, since the last check
        if now >= self.closure_stop:
            self.closure_settled = now  # after this check nothing can change
        where = tuple(tr.position_xy(now) if now >= tr.t_start else None for tr in fronts)
        if where == self.closure_key:
            return  # no front has moved since the last check
        self.closure_key = where
        closed: dict[str, frozenset[str]] = {}
        slack = [math.inf] * len(fronts)
        for leg in self.scenario.legs:
            a, b = self.xy[leg.from_], self.xy[leg.to]
            dists = segment_distance_to_fronts(fronts, a, b, now)
            modes: frozenset[str] = frozenset()
            for i, (tr, dist) in enumerate(zip(fronts, dists, strict=True)):
                limit = tr.front.close_legs_within_km
                if limit is None:
                    continue
                closes = frozenset(tr.front.close_modes) & frozenset(leg.modes)
                if closes and dist <= limit:
                    modes |= closes
                    slack[i] = min(slack[i], limit - dist)
                elif closes and now >= tr.t_start:
                    slack[i] = min(slack[i], dist - limit)
            if modes:
                closed[leg.leg_id] = modes
        # Until a front has travelled its slack, no leg can close or reopen: its distance
        # to a leg changes by at most the distance it travels (a front that has not
        # started yet may appear anywhere on its path: check again when it starts).
        self.closure_next_check = min(
            (tr.time_at(tr.distance_at(now) + s) if now >= tr.t_start else tr.t_start
             for s, tr in zip(slack, fronts, strict=True)),
            default=math.inf,
        )
        if closed and now < self.closure_stop:
            # the check that finds every front stopped ends the checks (``closure_settled``)
            self.closure_next_check = min(self.closure_next_check, self.closure_stop)
        if closed != st.front_closed_legs:
            for leg_id in sorted(set(closed) | set(st.front_closed_legs)):
                was, new = st.front_closed_legs.get(leg_id), closed.get(leg_id)
                if was != new:
                    st.log(EVENT_LEG_CLOSED if new else EVENT_LEG_REOPENED, NOBODY, leg_id, 0)
            st.front_closed_legs = closed
            self.transfers.reroute()

    def next_closure_check(self) -> float:
        """Earliest time (hours) ``update_closures`` may act without a change of the state."""
        if not self.closure_fronts or self.closure_settled <= self.state.env.now:
            return math.inf  # no front closes legs, or none moves any more
        return self.closure_next_check

    def weather(self) -> Generator[simpy.Event, Any, None]:
        """Process: storms arrive at a rate per week and ground their modes for a while."""
        w = self.scenario.escalation.weather
        assert w is not None
        rng = self.streams["weather"]
        if w.storms_per_week <= 0:
            return
        while True:
            yield self.state.env.delay(float(rng.exponential(7 * 24.0 / w.storms_per_week)))
            hours = sample(w.duration_hours, rng)
            self.state.ground(list(w.modes), hours, "storm")
