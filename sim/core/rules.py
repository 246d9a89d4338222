"""Scenario rules ``when -> then``: conditions on the run's state, and actions.

Rules are evaluated at check ticks (multiples of ``trigger_check_hours``) and
after each site status change, in file order, so firing order is deterministic.
A tick evaluates only when something a condition reads may have changed
(``RunState.dirty``) or a condition's truth may drift with time
(``next_wake``: a day reached, a front come within reach, a registration
backlog fallen below its threshold); at other ticks every condition would give
the same answer. A rule with ``once: true`` fires the first time its condition holds; with
``once: false`` it fires each time the condition becomes true again (on each
false-to-true edge).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from sim.common.dist import sample
from sim.common.geo import Projection
from sim.common.vocabulary import NOBODY, SiteStatus
from sim.core.backlog import PendingEnds
from sim.core.fleet import Fleet
from sim.core.fronts import FrontTrack, min_distance_to_fronts, resolve_point
from sim.core.kinds import EVENT_TRIGGER
from sim.core.state import RunState
from sim.core.transfers import Transfers
from sim.scenario.params import RuntimeParams
from sim.scenario.schema import Action, Condition, Scenario, Trigger


class FrontWithin:
    """Whether any front is within ``km`` of a point, checked cheaply every tick.

    A front cannot close in faster than it travels along its path, so after a
    full check that finds it ``d`` km away, nothing needs computing until it
    has travelled ``d - km`` more.
    """

    def __init__(
        self, state: RunState, fronts: list[FrontTrack], xy: tuple[float, float], km: float
    ) -> None:
        self.state, self.fronts, self.xy, self.km = state, fronts, xy, km
        self.next_check = -math.inf  # hours: before then no front can be within reach

    def __call__(self) -> bool:
        now = self.state.env.now
        if now < self.next_check:
            return False
        fronts = self.fronts
        if min_distance_to_fronts(fronts, self.xy, now) <= self.km:
            self.next_check = -math.inf
            return True
        self.next_check = min(
            (tr.time_at(tr.distance_at(now) + math.dist(tr.position_xy(now), self.xy) - self.km)
             if now >= tr.t_start else tr.t_start for tr in fronts),
            default=math.inf,
        )
        return False


class ArmedRule:
    """A rule that may still fire, with what every check reads of it as plain fields: its
    compiled test and wake (``TriggerEngine._compile``, ``_compile_wake``), its name and
    ``once``. A rule is a pydantic model, each of whose fields is a generic look-up at every
    read, and a check reads them for every rule."""

    def __init__(self, rule: Trigger, test: Callable[[], bool],
                 wake: Callable[[float], float]) -> None:
        self.rule = rule
        self.test = test
        self.wake = wake
        self.name = rule.name
        self.once = rule.once


class TriggerEngine:
    """The scenario's rules (and a player's decisions, appended to ``rules``) over one run."""

    def __init__(
        self, scenario: Scenario, state: RunState, transfers: Transfers, fleet: Fleet,
        params: RuntimeParams, fronts: list[FrontTrack], proj: Projection,
        rng: np.random.Generator,
    ) -> None:
        self.scenario = scenario
        self.state = state
        self.transfers = transfers
        self.fleet = fleet
        self.params = params
        self.fronts = fronts
        self.proj = proj
        self.rules = list(scenario.triggers)
        self.fired: set[str] = set()
        self.fired_log: list[dict[str, Any]] = []  # {"name", "day"} in firing order
        self.was_true: dict[str, bool] = {}
        self._busy = False
        self._compiled: dict[int, Callable[[], bool]] = {}
        self._known = -1  # how many rules ``_active`` was built from
        self._active: list[ArmedRule] = []
        self._wakes: dict[int, Callable[[float], float]] = {}  # id(condition) -> its wake
        self._pending = PendingEnds()  # registration end times not yet passed
        self._reg_ends_seen = 0  # of ``Transfers.registration_ends``, added to ``_pending``
        self._front_checks: dict[int, FrontWithin] = {}  # id(condition) -> its check
        # Uncertain dates (a day condition given as a distribution) are drawn once per run,
        # in the order the rules are written, from the run's "rules" stream; a plain day
        # draws nothing, so scenarios without uncertain dates see no change.
        self._rng = rng
        self._day_hours: dict[int, float] = {}
        for rule in self.rules:
            self._draw_days(rule.when)

    def _draw_days(self, c: Condition) -> None:
        if c.day is not None:
            if id(c) not in self._day_hours:
                self._day_hours[id(c)] = sample(c.day, self._rng) * 24.0 - 1e-9
            return
        for part in (c.all_ or c.any_ or ([c.not_] if c.not_ is not None else [])):
            self._draw_days(part)

    def day_threshold_hours(self, c: Condition) -> float:
        """When day condition ``c`` turns true in this run, hours (its drawn day if uncertain)."""
        t = self._day_hours.get(id(c))
        if t is None:  # a rule added during the run (a player's decision)
            self._draw_days(c)
            t = self._day_hours[id(c)]
        return t

    def holds(self, c: Condition) -> bool:
        """Whether condition ``c`` holds now."""
        pred = self._compiled.get(id(c))
        if pred is None:
            pred = self._compiled[id(c)] = self._compile(c)
        return pred()

    def _compile(self, c: Condition) -> Callable[[], bool]:
        """A closure testing ``c``: conditions are checked every tick, so decide the kind once."""
        st, tr = self.state, self.transfers
        env = st.env
        if c.day is not None:
            t = self.day_threshold_hours(c)
            return lambda: env.now >= t
        if c.site is not None and c.status is not None:
            site, level = c.site, SiteStatus[c.status.upper()]
            status = st.status
            return lambda: status[site] >= level
        if c.front_within_km is not None and c.of is not None:
            xy = self.proj.to_xy(*resolve_point(self.scenario, c.of))
            check = self._front_checks[id(c)] = FrontWithin(st, self.fronts, xy, c.front_within_km)
            return check
        if c.fraction_delivered is not None:
            frac = c.fraction_delivered
            return lambda: tr.total > 0 and tr.delivered_count / tr.total >= frac
        if c.occupancy is not None:
            occ = c.occupancy
            return lambda: sum(tr.occupancy.values()) >= occ
        if c.registration_backlog is not None:
            backlog = c.registration_backlog
            return lambda: self.registration_backlog() >= backlog
        if c.all_ is not None:
            parts = [self._compile(x) for x in c.all_]
            return lambda: all(p() for p in parts)
        if c.any_ is not None:
            parts = [self._compile(x) for x in c.any_]
            return lambda: any(p() for p in parts)
        assert c.not_ is not None
        inner = self._compile(c.not_)
        return lambda: not inner()

    def rules_added(self) -> bool:
        """Whether rules were added since the last evaluation (a player's decision)."""
        return len(self.rules) != self._known

    def active_rules(self) -> list[Trigger]:
        """The rules that may still fire (a fired ``once`` rule is no longer active)."""
        return [armed.rule for armed in self._active]

    def next_wake(self) -> float:
        """Earliest time (hours) a rule's condition may change without a change of the state.

        Conditions on status, deliveries and occupancy change only with the state; a day
        condition turns true at its day, a front condition not before its next check (at
        every tick while it holds), a registration backlog falls as registrations end.
        """
        if self.rules_added():
            return -math.inf
        now = self.state.env.now
        earliest = math.inf
        for armed in self._active:
            t = armed.wake(now)
            if t < earliest:
                earliest = t
        return earliest

    def _arm(self, rule: Trigger) -> ArmedRule:
        """``rule`` with its test, compiled anew as each time the rules are armed, and its
        wake, compiled once per condition."""
        test = self._compile(rule.when)
        wake = self._wakes.get(id(rule.when))
        if wake is None:  # after the test: a front's wake reads the check it made
            wake = self._wakes[id(rule.when)] = self._compile_wake(rule.when)
        return ArmedRule(rule, test, wake)

    def _compile_wake(self, c: Condition) -> Callable[[float], float]:
        """A closure giving, at ``now`` (hours), the earliest time ``c`` may change without a
        change of the state (``next_wake``). Built once per condition, as ``_compile`` builds
        its test: the grid asks at every point, and reading a condition's fields (a pydantic
        model) each time cost more than the answer."""
        if c.day is not None:
            t = self.day_threshold_hours(c)
            return lambda now: t if now < t else math.inf
        if c.front_within_km is not None and c.of is not None:
            checks, key = self._front_checks, id(c)  # the check exists once ``c`` is compiled

            def front(now: float) -> float:
                check = checks.get(key)
                if check is None or check.next_check <= now:
                    return -math.inf
                return check.next_check
            return front
        if c.registration_backlog is not None:
            pending, threshold = self._pending, c.registration_backlog

            def backlog(now: float) -> float:
                # Without a change of the state the backlog only falls, as registrations
                # end. Below its threshold it then stays below: it rises only with a
                # delivery, which marks the state changed (a check follows), so it has no
                # time of its own. At or above it, it falls below once all but
                # ``threshold - 1`` of those pending have ended: at the end of the
                # ``backlog - threshold + 1``-th to finish.
                excess = self.registration_backlog() - threshold  # drops those finished
                if excess < 0 or excess >= len(pending):  # below, or a threshold of 0 or less
                    return math.inf
                return pending.end_of(excess)
            return backlog
        parts = [self._compile_wake(x)
                 for x in (c.all_ or c.any_ or ([c.not_] if c.not_ is not None else []))]
        if not parts:
            return lambda now: math.inf  # status, deliveries, occupancy: only with the state

        def earliest(now: float) -> float:
            first = math.inf
            for part in parts:
                t = part(now)
                if t < first:
                    first = t
            return first
        return earliest

    def registration_backlog(self) -> int:
        """Detainees delivered and not yet registered now: the registrations pending
        (``PendingEnds``). Every delivery to a reception that registers adds one end a
        person to ``Transfers.registration_ends``; those registered on arrival have none."""
        ends = self.transfers.registration_ends
        pending = self._pending
        i = self._reg_ends_seen
        while i < len(ends):
            pending.add(ends[i])
            i += 1
        self._reg_ends_seen = i
        pending.finish_until(self.state.env.now)
        return len(pending)

    def evaluate(self) -> None:
        if self._busy:  # an action changed a status: the outer pass continues
            return
        self._busy = True
        try:
            if len(self.rules) != self._known:  # rules may be added during a run (play)
                self._known = len(self.rules)
                self._active = [self._arm(r) for r in self.rules
                                if not (r.once and r.name in self.fired)]
            was_true = self.was_true
            fired = self.fired
            spent = False
            for armed in self._active:
                name = armed.name
                if armed.test():
                    if not was_true.get(name, False):
                        was_true[name] = True
                        if not (armed.once and name in fired):
                            self.fire(name, armed.rule.then)
                            spent = spent or armed.once
                else:
                    was_true[name] = False
            if spent:  # drop rules that cannot fire again
                self._active = [a for a in self._active if not (a.once and a.name in fired)]
        finally:
            self._busy = False

    def fire(self, name: str, actions: list[Action]) -> None:
        now = self.state.env.now
        self.fired.add(name)
        self.fired_log.append({"name": name, "day": round(now / 24.0, 4)})
        self.state.log(EVENT_TRIGGER, name, NOBODY, 0)
        for act in actions:
            self.apply(act)

    def apply(self, a: Action) -> None:
        st, tr = self.state, self.transfers
        now = st.env.now
        if a.open_site is not None or a.close_site is not None:
            site = a.open_site or a.close_site
            assert site is not None
            st.site_open[site] = a.open_site is not None
            tr.reroute()
        elif a.open_leg is not None:
            st.trigger_closed_legs.pop(a.open_leg, None)
            st.front_closed_legs.pop(a.open_leg, None)
            tr.reroute()
        elif a.close_leg is not None:
            leg = next(x for x in self.scenario.legs if x.leg_id == a.close_leg)
            st.trigger_closed_legs[a.close_leg] = frozenset(leg.modes)
            tr.reroute()
        elif a.set_intake_limit is not None:
            quota = a.set_intake_limit.per_day
            if quota is not None and not isinstance(quota, int):  # an uncertain quota
                quota = int(round(sample(quota, self._rng)))
                if self.fired_log:  # the run records what it drew, for its figures
                    drawn = self.fired_log[-1].setdefault("intake_limit", {})
                    drawn[a.set_intake_limit.site] = quota
            if self.params.set_intake_limit(a.set_intake_limit.site, quota):
                st.notify()
        elif a.add_aircraft is not None:
            x = a.add_aircraft
            self.fleet.add(x.type, x.count, x.base, now + x.delay_hours)
        elif a.withdraw_aircraft is not None:
            w = a.withdraw_aircraft
            self.fleet.withdraw(w.type, w.count, now + w.delay_hours)
        elif a.ground is not None:
            st.ground(list(a.ground.modes), a.ground.hours, "order")
        elif a.release_modes is not None:
            st.release(list(a.release_modes))
        elif a.set_dispatch is not None:
            if tr.set_policy(a.set_dispatch):  # restating the policy keeps its state
                st.notify()
        elif a.set_param is not None:
            if self.params.set(a.set_param.path, a.set_param.value):
                st.notify()
