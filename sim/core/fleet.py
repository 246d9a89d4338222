"""The fleet: every vehicle of a run, added and withdrawn by type.

Vehicles are numbered per type in the order they join (``ch47-01``,
``ch47-02``, ...); the fleet keeps the roster that maps each name to its
type, so that nothing needs to read a type out of a name.
"""

from __future__ import annotations

import math

from sim.common.rng import Streams
from sim.common.vocabulary import FleetDay, VehicleRecord, VehicleState
from sim.core.availability import Availability
from sim.core.kinds import IDLE
from sim.core.state import RunState
from sim.core.transfers import Transfers
from sim.core.vehicles import Vehicle
from sim.core.waves import Waves
from sim.scenario.params import RuntimeParams
from sim.scenario.schema import Scenario


class Fleet:
    """The vehicles of one run, in the order they joined."""

    def __init__(
        self, scenario: Scenario, state: RunState, transfers: Transfers, params: RuntimeParams,
        streams: Streams,
    ) -> None:
        self.scenario = scenario
        self.state = state
        self.transfers = transfers
        self.params = params
        self.streams = streams
        self.vehicles: list[Vehicle] = []
        self.type_counts: dict[str, int] = {}  # vehicles ever added, by type
        self.roster: dict[str, str] = {}  # vehicle name -> type, every vehicle that joined
        self.days: list[FleetDay] = []
        # windows, sorties per day, mission-capable rate
        self.availability = Availability(scenario, streams, state.env, params)
        self.waves = Waves(scenario, state.env, self.vehicles) if any(
            t.wave is not None for t in scenario.aircraft.values()) else None  # convoys

    def add(self, type_name: str, count: int, base: str, at_hour: float) -> None:
        """Add ``count`` vehicles of a type at ``base``, in service from ``at_hour``."""
        spec = self.scenario.aircraft[type_name]
        for _ in range(count):
            i = self.type_counts.get(type_name, 0) + 1
            self.type_counts[type_name] = i
            v = Vehicle(self.state, self.transfers, self.params, self.streams,
                        type_name, spec, i, base, at_hour, self.availability, self.waves)
            self.vehicles.append(v)
            self.roster[v.name] = type_name

    def withdraw(self, type_name: str, count: int, at_hour: float) -> None:
        """Withdraw ``count`` of a type from ``at_hour``: idle ones first, newest first."""
        pool = [v for v in reversed(self.vehicles)
                if v.type_name == type_name and math.isinf(v.withdraw_at)]
        pool.sort(key=lambda v: v.state != IDLE)
        for v in pool[:count]:
            v.withdraw_at = at_hour
        self.state.notify_at(at_hour)

    def count_states(self, day: int) -> None:
        """Record how many vehicles are in each state at the end of ``day``."""
        counts = [0] * len(VehicleState)
        for v in self.vehicles:
            counts[v.state] += 1
        self.days.append(FleetDay(day, tuple(counts)))

    def repeat_states(self, day: int) -> None:
        """Record for ``day`` the counts of the last recorded day: for a settled run, whose
        vehicles no longer change state (no loop over the fleet per remaining day)."""
        self.days.append(FleetDay(day, self.days[-1].counts))

    def records(self) -> list[VehicleRecord]:
        """Each vehicle's service, for the results."""
        return [VehicleRecord(v.name, v.type_name, v.available_at, v.retired_at, v.busy_hours,
                              (*v.busy_spans, *(() if v.mission_since is None
                                                else ((v.mission_since, math.inf),))))
                for v in self.vehicles]
