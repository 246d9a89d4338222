"""The SimPy model: wires one run's parts from a scenario and runs it.

Each part has one job and receives only the parts it needs: ``RunState``
(``state.py``: clock, site status, closures, groundings, logs; its event loop is
``environment.py``),
``Transfers`` (``transfers.py``: queues, claims, dispatch, movements),
``Fleet`` (``fleet.py``: the vehicles of ``vehicles.py``), ``Hazards``
(``hazards.py``: status changes, breakouts, leg closures, storms) and the
``TriggerEngine`` (``rules.py``). ``Model`` builds them in a fixed order,
starts the periodic processes, and hands its records to ``results.py``
once the run is over.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator
from typing import Any

import simpy

from sim.common.collector import collector_paused
from sim.common.rng import Streams
from sim.common.vocabulary import Event, Sortie, StatusChange
from sim.core.dispatch import Policy
from sim.core.environment import CountingEnvironment
from sim.core.fleet import Fleet
from sim.core.fronts import FrontTrack
from sim.core.hazards import Hazards
from sim.core.kinds import IDLE, WITHDRAWN
from sim.core.prepared import prepare
from sim.core.results import FinishedRun, Result, build_result
from sim.core.rules import TriggerEngine
from sim.core.state import RunState
from sim.core.ticks import CheckGrid
from sim.core.transfers import Transfers
from sim.scenario.params import RuntimeParams
from sim.scenario.schema import Scenario

#: Stop the event loop once nothing can change any more and finish the run's days
#: directly (``Model.run``). Off only to test that stopping changes nothing.
STOP_WHEN_SETTLED = True


class Model:
    """One run of one scenario with one seed."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed
        self.streams = Streams(seed)
        self.params = RuntimeParams(scenario)
        self.state = RunState(scenario)
        self.prepared = prepare(scenario)
        self.specs = self.prepared.specs
        self.proj = self.prepared.proj
        self.xy = self.prepared.xy
        self.fronts = [
            FrontTrack(f, scenario, self.proj, self.streams["front"], self.state.horizon)
            for f in scenario.escalation.fronts
        ]
        self.transfers = Transfers(scenario, self.state, self.params, self.streams, self.specs,
                                   self.fronts, self.xy, self.prepared.network)
        self.fleet = Fleet(scenario, self.state, self.transfers, self.params, self.streams)
        self.triggers = TriggerEngine(scenario, self.state, self.transfers, self.fleet,
                                      self.params, self.fronts, self.proj, self.streams["rules"])
        self.hazards = Hazards(scenario, self.state, self.transfers, self.params, self.streams,
                               self.fronts, self.xy, self.triggers.evaluate)
        self.checks = CheckGrid(self.state, self.hazards, self.triggers)
        # Status changes and rules start first, so that what holds at a time (a site
        # overrun before day 0, a rule for day 0) is in force before any vehicle acts.
        env = self.state.env
        env.process(self.hazards.status_changes())
        env.process(self._ticks())
        env.process(self._days())
        self.transfers.start()  # the origins' releases (and the pull window's wake-ups)
        if scenario.escalation.weather is not None:
            env.process(self.hazards.weather())
        for entry in scenario.fleet:
            self.fleet.add(entry.type, entry.count, entry.base, entry.available_from_day * 24)

    # ----- views used by tests and play ----------------------------------------------
    @property
    def env(self) -> CountingEnvironment:
        return self.state.env

    @property
    def horizon(self) -> float:
        """End of the run, hours."""
        return self.state.horizon

    @property
    def events(self) -> list[Event]:
        """The events logged so far, as ``Event`` lines (built at each read)."""
        return self.state.events.rows()

    @property
    def sorties(self) -> list[Sortie]:
        """The legs flown so far, as ``Sortie`` lines (built at each read)."""
        return self.state.sorties.rows()

    @property
    def status_log(self) -> list[StatusChange]:
        return self.state.status_log

    @property
    def policy(self) -> Policy:
        return self.transfers.policy

    # ----- periodic processes --------------------------------------------------------
    def _ticks(self) -> Generator[simpy.Event, Any, None]:
        """Process: the checks at hour 0, then the grid of later checks (no event each)."""
        self.checks.check()
        self.state.env.start_grid(self.scenario.trigger_check_hours, self.checks)
        yield from ()

    def _days(self) -> Generator[simpy.Event, Any, None]:
        env = self.state.env
        day = 0
        while True:
            yield env.delay(day * 24.0 - env.now + 24.0)
            day += 1
            self.fleet.count_states(day - 1)
            self.transfers.repatriate()
            self.state.notify()  # a new day: new intake clearances, crews rested

    # ----- run ---------------------------------------------------------------------
    def run(self) -> None:
        """Run to the horizon; once settled (``settled``), finish the days without events."""
        env, horizon = self.state.env, self.state.horizon
        weather = self.scenario.escalation.weather
        if not STOP_WHEN_SETTLED or (weather is not None and weather.storms_per_week > 0):
            env.run(until=horizon)  # storms keep changing the fleet's state to the end
            self._end_last_day()
            return
        midnight = 24.0
        while midnight < horizon:
            env.run(until=midnight)  # stops before anything at midnight happens
            if self.settled():
                self._finish_days(midnight)
                return
            midnight += 24.0
        env.run(until=horizon)
        self._end_last_day()

    def _end_last_day(self) -> None:
        """The midnight at the horizon ends the last day like every other: the fleet's state
        counts and that midnight's repatriation (the event loop stops before it)."""
        st = self.state
        st.env.jump_to(st.horizon)
        self.fleet.count_states(round(st.horizon / 24.0) - 1)
        self.transfers.repatriate()

    def settled(self) -> bool:
        """Whether nothing but the daily records and the fronts' status changes remains.

        No detainee waits or flies, every vehicle is idle (free to act, no rest, no
        grounding, no withdrawal ahead, no operating window or mission-capable rate that
        may change its state) or withdrawn, no rule may fire and no front
        closes a leg any more. What is left then is the same every day: the fleet's
        state counts, repatriation at midnight, and status changes that only log
        (nobody is held where they happen).
        """
        st, tr = self.state, self.transfers
        now = st.env.now
        if any(tr.present.values()) or any(tr.inbound.values()):
            return False
        for v in self.fleet.vehicles:
            if v.state == WITHDRAWN:
                continue
            if (v.state != IDLE or v.withdraw_at != math.inf or v.rest_until > now
                    or st.grounded_until.get(v.mode, 0.0) > now):
                return False
            if v.availability is not None and not v.availability.steady(v):
                return False  # its window or mission-capable days may change its state
        if self.triggers.rules_added() or self.triggers.next_wake() != math.inf:
            return False
        if any(True for _ in self.triggers.active_rules()):
            return False
        if self.hazards.next_closure_check() != math.inf:
            return False
        # a status change at a midnight would need the order of the two: keep simulating
        return all(t % 24.0 != 0.0 for t, _, _ in self.hazards.pending_status)

    def _finish_days(self, midnight: float) -> None:
        """From ``midnight`` to the horizon: each midnight's records, the status changes."""
        st = self.state
        env, horizon = st.env, st.horizon
        changes = list(self.hazards.pending_status)
        self.hazards.pending_status.clear()
        counted = False
        repatriating = self.transfers.repatriates()  # no rule fires any more: fixed from here
        while midnight <= horizon or changes:
            if changes and changes[0][0] < min(midnight, horizon):
                t, level, sid = changes.pop(0)
                env.jump_to(t)
                self.hazards.set_status(sid, level)
                continue
            if midnight > horizon:
                break
            env.jump_to(midnight)
            if counted:  # settled: the vehicles keep their states
                self.fleet.repeat_states(round(midnight / 24.0) - 1)
            else:
                self.fleet.count_states(round(midnight / 24.0) - 1)
                counted = True
            if repatriating:
                self.transfers.repatriate()
            midnight += 24.0
        env.jump_to(horizon)

    def finished(self, last: bool = False) -> FinishedRun:
        """The run's records, for ``build_result`` (which copies what it changes).

        The event and sortie logs are copied, since a run may go on after its results
        (the classroom), unless this is the ``last`` use of the model: ``run`` hands
        them over (a copy would be that many more references for the garbage collector
        to walk at the end of a run, about a million at 600,000 detainees).
        """
        st, tr, d = self.state, self.transfers, self.transfers.d
        return FinishedRun(
            scenario=self.scenario,
            seed=self.seed,
            horizon=st.horizon,
            site_ids=tuple(st.site_ids),
            site_kinds=dict(st.kind),
            total=tr.total,
            detainees={name: getattr(d, attr) for name, attr in DETAINEE_ARRAYS.items()},
            events=st.events if last else st.events.copy(),
            sorties=st.sorties if last else st.sorties.copy(),
            status_log=tuple(st.status_log),
            staging_log=tuple(tr.staging_log),
            fleet_days=tuple(self.fleet.days),
            vehicles=tuple(self.fleet.records()),
            types_added=tuple(self.fleet.type_counts),
            peak_occupancy=tr.peak_occupancy,
            triggers_fired=tuple(dict(f) for f in self.triggers.fired_log),
            sim_events=st.env.events_processed,
            fronts=tuple(self.fronts),
            scenario_hash=self.prepared.scenario_hash,
        )


#: Detainee-table column -> ``Detainees`` attribute.
DETAINEE_ARRAYS = {
    "origin": "origin", "category": "category", "state": "state", "location": "location",
    "pickup_hour": "t_pickup", "delivered_hour": "t_delivered",
    "registration_start_hour": "t_reg_start", "registered_hour": "t_registered",
    "escaped_hour": "t_escaped", "released_hour": "t_released", "hops": "hops",
    "custody_hour": "t_custody",  # not a table column: results read it for who left when
}


def run(scenario: Scenario, seed: int = 1) -> Result:
    """Run ``scenario`` once with ``seed`` and return its ``Result``."""
    with collector_paused():  # a run makes almost no cycles (``sim.common.collector``)
        t0 = time.perf_counter()
        model = Model(scenario, seed)
        model.run()
        wall_seconds = time.perf_counter() - t0  # the run itself, as before results existed
        return build_result(model.finished(last=True), wall_seconds)
