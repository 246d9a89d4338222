"""The vocabulary's enum members the core reads at every event, as names of its own.

``EventKind.LOAD`` read from the compiled core is a look-up on the enum class, and
Python 3.11's enum classes define ``__getattr__`` on their metaclass, so each such read
takes the slow path of attribute access: some 650 machine instructions, about ten
times a sortie (its log lines, its sortie kind, the status of the sites it visits).
Bound here to ``Final`` names, they are C statics of the compiled core, read directly
by every module of it (plain module attributes in the plain-Python core). The values
are the enum members themselves (``EVENT_LOAD is EventKind.LOAD``), so everything
written is unchanged.
"""

from __future__ import annotations

from typing import Final

from sim.common.vocabulary import EventKind, SiteStatus, SortieKind, VehicleState

# ----- event-log kinds (``EventKind``) -------------------------------------------------
EVENT_AVAILABLE: Final = EventKind.AVAILABLE
EVENT_DISPATCH: Final = EventKind.DISPATCH
EVENT_LOAD: Final = EventKind.LOAD
EVENT_DEPART: Final = EventKind.DEPART
EVENT_ARRIVE: Final = EventKind.ARRIVE
EVENT_UNLOAD: Final = EventKind.UNLOAD
EVENT_REFUEL: Final = EventKind.REFUEL
EVENT_ABORT: Final = EventKind.ABORT
EVENT_DIVERT: Final = EventKind.DIVERT
EVENT_FAILURE: Final = EventKind.FAILURE
EVENT_REPAIRED: Final = EventKind.REPAIRED
EVENT_WITHDRAWN: Final = EventKind.WITHDRAWN
EVENT_RELEASED: Final = EventKind.RELEASED
EVENT_NO_ROUTE: Final = EventKind.NO_ROUTE
EVENT_ROUTE_RESTORED: Final = EventKind.ROUTE_RESTORED
EVENT_LEG_CLOSED: Final = EventKind.LEG_CLOSED
EVENT_LEG_REOPENED: Final = EventKind.LEG_REOPENED
EVENT_BREAKOUT: Final = EventKind.BREAKOUT
EVENT_OVERRUN_ESCAPE: Final = EventKind.OVERRUN_ESCAPE
EVENT_CUSTODY_TRANSFER: Final = EventKind.CUSTODY_TRANSFER
EVENT_TRIGGER: Final = EventKind.TRIGGER

# ----- sortie kinds (``SortieKind``) ---------------------------------------------------
SORTIE_TRANSFER: Final = SortieKind.TRANSFER
SORTIE_POSITIONING: Final = SortieKind.POSITIONING

# ----- site statuses (``SiteStatus``) --------------------------------------------------
STATUS_SAFE: Final = SiteStatus.SAFE
STATUS_THREATENED: Final = SiteStatus.THREATENED
STATUS_OVERRUN: Final = SiteStatus.OVERRUN

# ----- vehicle states (``VehicleState``): read at every wake-up of an idle vehicle ------
IDLE: Final = VehicleState.IDLE
BUSY: Final = VehicleState.BUSY
MAINTENANCE: Final = VehicleState.MAINTENANCE
GROUNDED: Final = VehicleState.GROUNDED
RESTING: Final = VehicleState.RESTING
PENDING: Final = VehicleState.PENDING
WITHDRAWN: Final = VehicleState.WITHDRAWN
