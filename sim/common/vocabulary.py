"""The run's shared vocabulary: event kinds, states, and the typed records of a run.

One place names every event kind, site status, vehicle state and detainee
state, so that the model that writes them and every reader (results, play,
exercise metrics, the report) agree. The enums' values are the strings and
numbers written to the output files, so ``EventKind.LOAD == "load"`` and
``SiteStatus.OVERRUN == 2``; a record holding an enum writes exactly what a
plain string or int would. ``viz`` may import this module (it sits in
``sim.common``), so the report reads events with the same names.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import NamedTuple


class EventKind(StrEnum):
    """What an event-log line records (the ``event`` column of ``events.csv``)."""

    # a vehicle's cycle; the subject is the vehicle
    AVAILABLE = "available"
    DISPATCH = "dispatch"
    LOAD = "load"
    DEPART = "depart"
    ARRIVE = "arrive"
    UNLOAD = "unload"
    REFUEL = "refuel"
    ABORT = "abort"
    DIVERT = "divert"
    FAILURE = "failure"
    REPAIRED = "repaired"
    WITHDRAWN = "withdrawn"
    # a scenario rule fired; the subject is the rule's name
    TRIGGER = "trigger"
    # escalation at a site; the count is the detainees concerned
    THREATENED = "threatened"
    OVERRUN = "overrun"
    OVERRUN_ESCAPE = "overrun_escape"
    BREAKOUT = "breakout"
    NO_ROUTE = "no_route"
    ROUTE_RESTORED = "route_restored"
    # legs closed and reopened by a front; the site column holds the leg id
    LEG_CLOSED = "leg_closed"
    LEG_REOPENED = "leg_reopened"
    # groundings of a mode (the site column holds the mode; the count is hours)
    GROUNDED_STORM = "grounded_storm"
    GROUNDED_ORDER = "grounded_order"
    RELEASED = "released"
    # an overrun site's detainees passed into another authority's custody (the count)
    CUSTODY_TRANSFER = "custody_transfer"


#: The grounding event kind by its cause (a storm, or an order of a rule).
GROUNDED_BY = {"storm": EventKind.GROUNDED_STORM, "order": EventKind.GROUNDED_ORDER}
#: Every grounding kind, for readers that treat groundings alike.
GROUNDINGS = frozenset(GROUNDED_BY.values())

#: The subject or site of an event that has none (a status change has no vehicle).
NOBODY = "-"


class SiteStatus(IntEnum):
    """How close the fighting is to a site; it only ever rises during a run."""

    SAFE = 0
    THREATENED = 1
    OVERRUN = 2

    @property
    def label(self) -> str:
        """The name written to ``status.csv`` and the daily series (``"overrun"``)."""
        return self.name.lower()


class VehicleState(IntEnum):
    """What a vehicle is doing; counted per day in the daily series (``aircraft_<state>``)."""

    IDLE = 0
    BUSY = 1
    MAINTENANCE = 2
    GROUNDED = 3
    RESTING = 4
    PENDING = 5
    WITHDRAWN = 6

    @property
    def label(self) -> str:
        return self.name.lower()


class DetaineeState(IntEnum):
    """Where a detainee is in the operation; every detainee is in exactly one."""

    HELD = 0
    WAITING = 1
    IN_FLIGHT = 2
    DELIVERED = 3
    REGISTERED = 4
    ESCAPED = 5
    RELEASED = 6
    CUSTODY_TRANSFERRED = 7  # taken over with an overrun site by another authority; not delivered

    @property
    def label(self) -> str:
        return self.name.lower()


class SortieKind(StrEnum):
    """A flight with detainees on board, or an empty one to reach the pickup."""

    TRANSFER = "transfer"
    POSITIONING = "positioning"


STATUS_NAMES: tuple[str, ...] = tuple(s.label for s in SiteStatus)
VEHICLE_STATE_NAMES: tuple[str, ...] = tuple(s.label for s in VehicleState)
DETAINEE_STATE_NAMES: tuple[str, ...] = tuple(s.label for s in DetaineeState)


class Event(NamedTuple):
    """One line of the event log. Times are simulation hours from the start."""

    time: float
    kind: EventKind
    subject: str  # the vehicle, the rule, or ``NOBODY``
    site: str  # a site id, a leg id (leg events) or a mode (groundings)
    n: int  # detainees concerned; hours for a grounding (``count`` would hide tuple.count)

    @classmethod
    def from_row(cls, row: dict[str, str]) -> Event | None:
        """An event from a row of ``events.csv`` read as strings; None if malformed or unknown."""
        try:
            kind = EventKind(row.get("event", ""))
            return cls(float(row["hour"]), kind, row.get("who") or NOBODY,
                       row.get("where") or NOBODY, int(float(row.get("n") or 0)))
        except (KeyError, ValueError):
            return None


#: The header of ``events.csv``, one column per ``Event`` field.
EVENT_COLUMNS = ("hour", "event", "who", "where", "n")


class Sortie(NamedTuple):
    """One flown segment (a refuelled hop is several). Hours and km."""

    aircraft: str
    type: str  # the vehicle's type, carried so that nothing parses it from the name
    mode: str
    kind: SortieKind
    origin: str
    dest: str
    depart_hour: float
    arrive_hour: float
    detainees: int
    km: float
    flight_hours: float


#: The header of ``sorties.csv``: the ``Sortie`` fields in order.
SORTIE_COLUMNS: tuple[str, ...] = Sortie._fields


class StatusChange(NamedTuple):
    """A site's status rose (a line of ``status.csv``)."""

    time: float
    site: str
    status: str  # a ``SiteStatus`` label


class FleetDay(NamedTuple):
    """How many vehicles were in each ``VehicleState`` at the end of a day."""

    day: int
    counts: tuple[int, ...]  # indexed by ``VehicleState``


class VehicleRecord(NamedTuple):
    """A vehicle's service, for utilisation and for naming its type (hours)."""

    name: str
    type: str
    available_at: float
    retired_at: float  # inf: still in service at the end
    busy_hours: float
    # (dispatch, end of turnaround) of each mission; a mission still under way at the
    # end ends at inf
    busy_spans: tuple[tuple[float, float], ...] = ()
