"""Run-time parameters that triggers may change by dotted path (``set_param``).

The model reads these mutable copies at the moment of use, so a change takes
effect from the next loading, sortie or day on. Only numeric fields that the
model reads at use time are settable; routing and geometry are fixed per run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.scenario.schema import Scenario

SITE_FIELDS = frozenset(
    {
        "load_min_per_detainee",
        "unload_min_per_detainee",
        "holding_capacity",
        "refuel_min",
        "beds",
        "daily_intake_limit",
        "repatriation_per_day",
        "pickup_stop_min",
        "dropoff_stop_min",
        "overrun_custody_fraction",
    }
)
AIRCRAFT_FIELDS = frozenset(
    {
        "seats",
        "cruise_kmh",
        "turnaround_min",
        "refuel_min",
        "repair_hours",
        "crew_hours_per_day",
        "rest_hours",
        "mtbf_flight_hours",
        "flight_time_cv",
        "pickup_stop_min",
        "dropoff_stop_min",
        "load_factor",
        "overload_factor",
        "min_load_fraction",
        "max_load_wait_hours",
        # sortie generation (``sim/core/availability.py``)
        "operating_start_hour",
        "operating_hours",
        "max_sorties_per_day",
        "mission_capable_rate",
    }
)
ESCALATION_FIELDS = frozenset({"threatened_load_factor", "breakout.hazard_per_day"})
TOP_FIELDS = frozenset({"staging_clearance_hours"})


def check_param_path(s: Scenario, path: str) -> str | None:
    """None if ``path`` is settable at run time, else a message saying what is."""
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "sites":
        ids = [x.id for x in s.sites]
        if parts[1] not in ids:
            return f"unknown site {parts[1]!r} in {path!r}"
        if parts[2] in SITE_FIELDS:
            return None
        return f"{path!r}: settable site fields are {sorted(SITE_FIELDS)}"
    if len(parts) == 3 and parts[0] == "aircraft":
        if parts[1] not in s.aircraft:
            return f"unknown aircraft type {parts[1]!r} in {path!r}"
        if parts[2] in AIRCRAFT_FIELDS:
            return None
        return f"{path!r}: settable aircraft fields are {sorted(AIRCRAFT_FIELDS)}"
    if parts[0] == "escalation" and ".".join(parts[1:]) in ESCALATION_FIELDS:
        return None
    if path in TOP_FIELDS:
        return None
    return (
        f"{path!r} cannot be changed during a run; use sites.<id>.<field>, "
        "aircraft.<type>.<field>, escalation.threatened_load_factor, "
        "escalation.breakout.hazard_per_day or staging_clearance_hours"
    )


class RuntimeParams:
    """Mutable per-run copies of the settable scenario values."""

    def __init__(self, s: Scenario) -> None:
        self.site: dict[str, dict[str, Any]] = {
            x.id: {f: getattr(x, f) for f in SITE_FIELDS} for x in s.sites
        }
        self.aircraft: dict[str, dict[str, Any]] = {
            name: {f: getattr(t, f) for f in AIRCRAFT_FIELDS} for name, t in s.aircraft.items()
        }
        self.threatened_load_factor = s.escalation.threatened_load_factor
        b = s.escalation.breakout
        self.breakout_hazard_per_day = b.hazard_per_day if b else 0.0
        self.staging_clearance_hours = s.staging_clearance_hours
        # Called with the path of every value a ``set`` changes (parts of a run that wait
        # on a value listen here: vehicles held by an operating window, the staging window).
        self.listeners: list[Callable[[str], None]] = []

    def set(self, path: str, value: float) -> bool:
        """Set a value by path; True if it changed (so vehicles need waking)."""
        before = self.get(path)
        self._set(path, value)
        if self.get(path) == before:
            return False
        self._tell(path)
        return True

    def set_intake_limit(self, site: str, per_day: int | None) -> bool:
        """A rule's daily intake limit for ``site`` (detainees a day; None: no limit, which
        ``set``, taking numbers, cannot give); True if it changed."""
        values = self.site[site]
        if values["daily_intake_limit"] == per_day:
            return False
        values["daily_intake_limit"] = per_day
        self._tell(f"sites.{site}.daily_intake_limit")
        return True

    def _tell(self, path: str) -> None:
        """Tell the listeners that the value at ``path`` changed."""
        for listener in self.listeners:
            listener(path)

    def get(self, path: str) -> Any:
        parts = path.split(".")
        if parts[0] == "sites":
            return self.site[parts[1]][parts[2]]
        if parts[0] == "aircraft":
            return self.aircraft[parts[1]][parts[2]]
        if path == "staging_clearance_hours":
            return self.staging_clearance_hours
        if parts[1] == "threatened_load_factor":
            return self.threatened_load_factor
        return self.breakout_hazard_per_day

    def _set(self, path: str, value: float) -> None:
        parts = path.split(".")
        if parts[0] == "sites":
            v: Any = value
            if parts[2] in ("holding_capacity", "beds", "daily_intake_limit"):
                v = int(value)
            self.site[parts[1]][parts[2]] = v
        elif parts[0] == "aircraft":
            whole = parts[2] in ("seats", "max_sorties_per_day")
            self.aircraft[parts[1]][parts[2]] = int(value) if whole else value
        elif path == "staging_clearance_hours":
            self.staging_clearance_hours = value
        elif parts[1] == "threatened_load_factor":
            self.threatened_load_factor = value
        else:
            self.breakout_hazard_per_day = value
