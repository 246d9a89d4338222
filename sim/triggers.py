"""Scenario rules ``when -> then``: conditions on the run's state, and actions.

Rules are evaluated at every check tick (``trigger_check_hours``) and after
each site status change, in file order, so firing order is deterministic. A
rule with ``once: true`` fires the first time its condition holds; with
``once: false`` it fires each time the condition becomes true again (on each
false-to-true edge).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.detainees import DELIVERED
from sim.dispatch import make_policy
from sim.escalation import min_distance_to_fronts, resolve_point
from sim.schema import Action, Condition

if TYPE_CHECKING:
    from sim.model import Model

LEVELS = {"safe": 0, "threatened": 1, "overrun": 2}


class TriggerEngine:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.rules = list(model.scenario.triggers)
        self.fired: set[str] = set()
        self.was_true: dict[str, bool] = {}
        self._busy = False

    def holds(self, c: Condition) -> bool:
        m = self.model
        now = m.env.now
        if c.day is not None:
            return now >= c.day * 24.0 - 1e-9
        if c.site is not None and c.status is not None:
            return m.status[c.site] >= LEVELS[c.status]
        if c.front_within_km is not None and c.of is not None:
            lat, lon = resolve_point(m.scenario, c.of)
            xy = m.proj.to_xy(lat, lon)
            return bool(min_distance_to_fronts(m.fronts, xy, now) <= c.front_within_km)
        if c.fraction_delivered is not None:
            return m.total > 0 and m.delivered_count / m.total >= c.fraction_delivered
        if c.occupancy is not None:
            return sum(m.occupancy.values()) >= c.occupancy
        if c.registration_backlog is not None:
            d = m.d
            waiting = np.count_nonzero((d.state == DELIVERED) & ~(d.t_registered <= now))
            return bool(waiting >= c.registration_backlog)
        if c.all_ is not None:
            return all(self.holds(x) for x in c.all_)
        if c.any_ is not None:
            return any(self.holds(x) for x in c.any_)
        assert c.not_ is not None
        return not self.holds(c.not_)

    def evaluate(self) -> None:
        if self._busy:  # an action changed a status: the outer pass continues
            return
        self._busy = True
        try:
            for rule in self.rules:
                if rule.once and rule.name in self.fired:
                    continue
                now_true = self.holds(rule.when)
                edge = now_true and not self.was_true.get(rule.name, False)
                self.was_true[rule.name] = now_true
                if edge:
                    self.fire(rule.name, rule.then)
        finally:
            self._busy = False

    def fire(self, name: str, actions: list[Action]) -> None:
        m = self.model
        now = m.env.now
        self.fired.add(name)
        m.triggers_fired.append({"name": name, "day": round(now / 24.0, 4)})
        m.log("trigger", name, "-", 0)
        for act in actions:
            self.apply(act)

    def apply(self, a: Action) -> None:
        m = self.model
        now = m.env.now
        if a.open_site is not None or a.close_site is not None:
            site = a.open_site or a.close_site
            assert site is not None
            m.site_open[site] = a.open_site is not None
            m.reroute()
        elif a.open_leg is not None:
            m.trigger_closed_legs.pop(a.open_leg, None)
            m.front_closed_legs.pop(a.open_leg, None)
            m.reroute()
        elif a.close_leg is not None:
            leg = next(x for x in m.scenario.legs if x.leg_id == a.close_leg)
            m.trigger_closed_legs[a.close_leg] = frozenset(leg.modes)
            m.reroute()
        elif a.set_intake_limit is not None:
            m.params.site[a.set_intake_limit.site]["daily_intake_limit"] = (
                a.set_intake_limit.per_day
            )
            m.notify()
        elif a.add_aircraft is not None:
            x = a.add_aircraft
            m.add_aircraft(x.type, x.count, x.base, now + x.delay_hours)
        elif a.withdraw_aircraft is not None:
            w = a.withdraw_aircraft
            m.withdraw_aircraft(w.type, w.count, now + w.delay_hours)
        elif a.ground is not None:
            m.ground(list(a.ground.modes), a.ground.hours, "order")
        elif a.release_modes is not None:
            m.release(list(a.release_modes))
        elif a.set_dispatch is not None:
            m.policy = make_policy(a.set_dispatch)
            m.notify()
        elif a.set_param is not None:
            m.params.set(a.set_param.path, a.set_param.value)
            m.notify()
