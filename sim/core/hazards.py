"""Hazards: site status from the fronts, breakouts, leg closures and storms.

These are the processes and checks that escalate a run, split from the model
so that ``model.py`` keeps the transfer itself (queues, dispatch, loading,
delivery). ``Hazards`` reads and changes the model's shared state through
``self.model``; status times are solved exactly from the front tracks, and
closure checks are skipped until a front could have come within reach.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim.common.dist import sample
from sim.core.fronts import segment_distance_to_fronts

if TYPE_CHECKING:
    from sim.core.model import Model

STATUS_NAMES = ("safe", "threatened", "overrun")


class Hazards:
    """The escalation side of one run."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.closure_fronts = [tr for tr in model.fronts
                               if tr.front.close_legs_within_km is not None]
        self.closure_key: tuple[object, ...] = ()
        self.closure_next_check = -math.inf
        self.closure_settled = math.inf

    def status_changes(self) -> Generator[simpy.Event, Any, None]:
        """Process: apply each site's threatened and overrun times, solved up front."""
        m = self.model
        changes: list[tuple[float, int, int, str]] = []
        for i, sid in enumerate(m.site_ids):
            for level, attr in ((1, "threat_radius_km"), (2, "overrun_radius_km")):
                t = min(
                    (tr.first_time_within(m.xy[sid], getattr(tr.front, attr))
                     for tr in m.fronts),
                    default=math.inf,
                )
                if t < m.horizon:
                    changes.append((max(t, 0.0), level, i, sid))
        for t, level, _, sid in sorted(changes):
            if t > m.env.now:
                yield m.env.timeout(t - m.env.now)
            self.set_status(sid, level)

    def set_status(self, sid: str, level: int) -> None:
        """Raise a site's status (never lowered); an overrun frees everyone held there."""
        m = self.model
        if level <= m.status[sid]:
            return
        m.status[sid] = level
        m.status_log.append((m.env.now, sid, STATUS_NAMES[level]))
        m.log(STATUS_NAMES[level], "-", sid, m.present[sid])
        if level == 2:
            m.escape(m.d.ids_at(m.site_index[sid]), sid, "overrun_escape")
            m.overrun_event[sid].succeed()
            m.reroute()
        elif m.scenario.escalation.breakout is not None and m.kind[sid] == "prison":
            m.env.process(self.breakouts(sid))
        m.triggers.evaluate()

    def breakouts(self, sid: str) -> Generator[simpy.Event, Any, None]:
        """Process: breakouts at a threatened prison, Poisson at the current hazard per day."""
        m = self.model
        breakout = m.scenario.escalation.breakout
        assert breakout is not None
        rng = m.streams["breakouts"]
        while True:
            hazard = m.params.breakout_hazard_per_day
            if hazard <= 0:
                return
            yield m.env.timeout(float(rng.exponential(24.0 / hazard)))
            if m.status[sid] != 1 or m.env.now >= m.horizon:
                return
            held = m.d.ids_at(m.site_index[sid])
            if len(held) == 0:
                return
            frac = min(1.0, max(0.0, sample(breakout.fraction, rng)))
            k = int(round(frac * len(held)))
            chosen = np.sort(rng.choice(held, size=k, replace=False)) if k else held[:0]
            m.escape(chosen, sid, "breakout")

    def update_closures(self) -> None:
        """Close legs near a front for the front's modes; reopen them when it has moved on."""
        m = self.model
        fronts = self.closure_fronts
        now = m.env.now
        if not fronts or now > self.closure_settled:
            return  # no front closes legs, or every such front stopped before the last check
        if not m.front_closed_legs and now < self.closure_next_check:
            return  # no front can have come within reach of a leg since the last check
        if now >= max(tr.stop_time for tr in fronts):
            self.closure_settled = now  # after this check nothing can change
        where = tuple(tr.position_xy(now) if now >= tr.t_start else None for tr in fronts)
        if where == self.closure_key:
            return  # no front has moved since the last check
        self.closure_key = where
        closed: dict[str, frozenset[str]] = {}
        slack = [math.inf] * len(fronts)
        for leg in m.scenario.legs:
            a, b = m.xy[leg.from_], m.xy[leg.to]
            dists = segment_distance_to_fronts(fronts, a, b, now)
            modes: frozenset[str] = frozenset()
            for i, (tr, dist) in enumerate(zip(fronts, dists, strict=True)):
                limit = tr.front.close_legs_within_km
                if limit is None:
                    continue
                closes = frozenset(tr.front.close_modes) & frozenset(leg.modes)
                if closes and dist <= limit:
                    modes |= closes
                elif closes and now >= tr.t_start:
                    slack[i] = min(slack[i], dist - limit)
            if modes:
                closed[leg.leg_id] = modes
        # Until a front has travelled its slack, no leg can close (a front that has not
        # started yet may appear anywhere on its path: check again when it starts).
        self.closure_next_check = min(
            (tr.time_at(tr.distance_at(now) + s) if now >= tr.t_start else tr.t_start
             for s, tr in zip(slack, fronts, strict=True)),
            default=math.inf,
        )
        if closed != m.front_closed_legs:
            for leg_id in sorted(set(closed) | set(m.front_closed_legs)):
                was, new = m.front_closed_legs.get(leg_id), closed.get(leg_id)
                if was != new:
                    m.log("leg_closed" if new else "leg_reopened", "-", leg_id, 0)
            m.front_closed_legs = closed
            m.reroute()

    def weather(self) -> Generator[simpy.Event, Any, None]:
        """Process: storms arrive at a rate per week and ground their modes for a while."""
        m = self.model
        w = m.scenario.escalation.weather
        assert w is not None
        rng = m.streams["weather"]
        if w.storms_per_week <= 0:
            return
        while True:
            yield m.env.timeout(float(rng.exponential(7 * 24.0 / w.storms_per_week)))
            hours = sample(w.duration_hours, rng)
            m.ground(list(w.modes), hours, "storm")
