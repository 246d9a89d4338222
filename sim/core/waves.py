"""Waves and convoys: vehicles of a type that start their missions together.

A type with a ``wave`` (``size`` k, ``max_wait_hours``) does not send a vehicle out on its
own: a vehicle that is free to start a mission (not grounded, resting or held by the
sortie-generation limits, and with work in sight) joins the group forming at its place.
The group leaves when it has k vehicles, or when it holds every vehicle of the type in
service (so a fleet smaller than k still flies), or when its first member has waited
``max_wait_hours`` (a partner under repair or far away does not stop the others for
ever). Leaving, each member asks the dispatcher for a mission in turn, at the same
instant (the last to join first); a member that finds no work stays behind. After that
the members fly their own missions: loading at the pickup still takes its turn at the
pads. Times are hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import simpy

from sim.core.environment import SimEnvironment
from sim.core.tasked import Tasked
from sim.scenario.schema import Scenario, Wave


@dataclass
class Group:
    """Vehicles waiting together at one place; ``go`` fires when they leave."""

    go: simpy.Event
    members: list[str] = field(default_factory=list)


class Waves:
    """The groups forming in a run, by (type, place)."""

    def __init__(self, scenario: Scenario, env: SimEnvironment,
                 fleet: Sequence[Tasked]) -> None:
        self.env = env
        self.fleet = fleet  # the fleet's list of vehicles (it grows as vehicles join)
        self.spec: dict[str, Wave] = {
            name: t.wave for name, t in scenario.aircraft.items() if t.wave is not None
        }
        self.forming: dict[tuple[str, str], Group] = {}
        # The fleet's vehicles by type, for counting a type's vehicles in service without
        # going through the whole fleet at every join; ``_sorted`` of them are sorted in.
        self._of_type: dict[str, list[Tasked]] = {}
        self._sorted = 0

    def _vehicles_of(self, type_name: str) -> list[Tasked]:
        """The vehicles of ``type_name`` in the fleet so far (any state)."""
        fleet = self.fleet
        if self._sorted < len(fleet):
            for u in fleet[self._sorted:]:
                self._of_type.setdefault(u.type_name, []).append(u)
            self._sorted = len(fleet)
        return self._of_type.get(type_name, [])

    def join(self, v: Tasked, name: str) -> simpy.Event | None:
        """Add ``v`` (called ``name``) to the group at its place: the event to wait for
        until the group leaves, or None if it leaves now (``v`` completed it) or ``v``'s
        type does not fly in waves."""
        spec = self.spec.get(v.type_name)
        if spec is None:
            return None
        key = (v.type_name, v.location)
        group = self.forming.get(key)
        if group is None:
            group = self.forming[key] = Group(self.env.event())
            timer = self.env.timeout(spec.max_wait_hours)
            timer.callbacks.append(lambda _: self._leave(key, group))  # type: ignore[union-attr]
        group.members.append(name)
        waiting = len(group.members)
        if waiting >= spec.size or not self._in_service_beyond(v.type_name, waiting):
            self._leave(key, group)  # full, or it holds every vehicle of the type in service
            return None
        return group.go

    def _in_service_beyond(self, type_name: str, count: int) -> bool:
        """Whether more than ``count`` vehicles of ``type_name`` are in service now.

        Counts only until it passes ``count`` (the group's size so far, a few): a count of
        the whole type at every join grew with the fleet, so a fleet ten times larger
        paid a hundred times for it."""
        now = self.env.now
        seen = 0
        for u in self._vehicles_of(type_name):
            if u.available_at <= now < u.withdraw_at:
                seen += 1
                if seen > count:
                    return True
        return False

    def _leave(self, key: tuple[str, str], group: Group) -> None:
        """The group leaves now (if it has not left yet)."""
        if self.forming.get(key) is group:
            del self.forming[key]
            group.go.succeed()


__all__ = ["Waves"]
