"""Native records of a run's settable site and aircraft values, kept in step with the
run's ``RuntimeParams``.

A rule may change a site's or an aircraft type's values during a run (``set_param``,
``set_intake_limit``). ``RuntimeParams`` holds them by name, a dict per site and per
type, which is what a rule's path names. The core reads some of them at every dispatch
(a destination's beds and intake limit), loading (minutes per detainee, ground times)
and flight (cruise speed, crew hours): from the compiled core each read from a dict is
a hashed look-up by name, and these were a tenth of a baseline run's look-ups. Here each
site and type has one record, whose fields the compiled core reads directly.

The records follow every change. ``RuntimeParams`` tells its listeners the path of each
value it changes (``set``, and ``set_intake_limit`` for a rule's intake limit), and
``SettableValues.follow`` is the first of them, so a part of the run that reacts to a
change (a vehicle held by an operating window) reads the new value.
``tests/core/test_settable.py`` checks that every settable field has its record field
and follows a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.scenario.params import RuntimeParams


class SiteValues:
    """One site's settable values (``SITE_FIELDS``, units as in the scenario) and its kind.

    ``None`` where the scenario leaves a value unset (no bed limit, the type's ground
    time); a duration may be a distribution (``Dist``).
    """

    def __init__(self, kind: str, values: Mapping[str, Any]) -> None:
        self.kind = kind  # fixed for the run
        self.is_reception = kind == "reception"
        self.is_airfield = kind == "airfield"
        self.load_min_per_detainee: Any = values["load_min_per_detainee"]
        self.unload_min_per_detainee: Any = values["unload_min_per_detainee"]
        self.holding_capacity: Any = values["holding_capacity"]
        self.refuel_min: Any = values["refuel_min"]
        self.beds: Any = values["beds"]
        self.daily_intake_limit: Any = values["daily_intake_limit"]
        self.repatriation_per_day: Any = values["repatriation_per_day"]
        self.pickup_stop_min: Any = values["pickup_stop_min"]
        self.dropoff_stop_min: Any = values["dropoff_stop_min"]
        self.overrun_custody_fraction: Any = values["overrun_custody_fraction"]


class TypeValues:
    """One aircraft type's settable values (``AIRCRAFT_FIELDS``, units as in the scenario)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.seats: Any = values["seats"]
        self.cruise_kmh: Any = values["cruise_kmh"]
        self.turnaround_min: Any = values["turnaround_min"]
        self.refuel_min: Any = values["refuel_min"]
        self.repair_hours: Any = values["repair_hours"]
        self.crew_hours_per_day: Any = values["crew_hours_per_day"]
        self.rest_hours: Any = values["rest_hours"]
        self.mtbf_flight_hours: Any = values["mtbf_flight_hours"]
        self.flight_time_cv: Any = values["flight_time_cv"]
        self.pickup_stop_min: Any = values["pickup_stop_min"]
        self.dropoff_stop_min: Any = values["dropoff_stop_min"]
        self.load_factor: Any = values["load_factor"]
        self.overload_factor: Any = values["overload_factor"]
        self.min_load_fraction: Any = values["min_load_fraction"]
        self.max_load_wait_hours: Any = values["max_load_wait_hours"]
        self.operating_start_hour: Any = values["operating_start_hour"]
        self.operating_hours: Any = values["operating_hours"]
        self.max_sorties_per_day: Any = values["max_sorties_per_day"]
        self.mission_capable_rate: Any = values["mission_capable_rate"]


class SettableValues:
    """The records of every site (``site``) and aircraft type (``aircraft``) of a run."""

    def __init__(self, params: RuntimeParams, kinds: Mapping[str, str]) -> None:
        self.params = params
        self.site = {sid: SiteValues(kinds[sid], values) for sid, values in params.site.items()}
        self.aircraft = {name: TypeValues(values) for name, values in params.aircraft.items()}
        params.listeners.insert(0, self.follow)  # before any part that reacts to a change

    def follow(self, path: str) -> None:
        """Copy the value at ``path`` (just changed in ``params``) into its record."""
        parts = path.split(".")
        if parts[0] == "sites":
            setattr(self.site[parts[1]], parts[2], self.params.site[parts[1]][parts[2]])
        elif parts[0] == "aircraft":
            setattr(self.aircraft[parts[1]], parts[2], self.params.aircraft[parts[1]][parts[2]])


__all__ = ["SettableValues", "SiteValues", "TypeValues"]
