"""A vehicle as dispatch, the sortie limits and the convoys see it: the base class of
the vehicles.

Dispatch (``Transfers.dispatch``), the sortie limits (``Availability``) and the convoys
(``Waves``) read a vehicle's name, mode, range, location, settable values and time in
service several times a sortie. Read through a protocol, each is a generic attribute
look-up from the compiled core (some 500 machine instructions); declared on a class the
vehicles derive from, they are native fields of the compiled core, read directly. The
plain-Python core reads them as any attribute.
"""

from __future__ import annotations

from typing import Any

from sim.core.state import Waiter


class Tasked(Waiter):
    """What dispatch, the sortie limits and the convoys read of a vehicle (``Vehicle``
    sets them)."""

    name: str  # unique in the run, e.g. ``ch47-03``
    type_name: str  # its type (a key of the scenario's ``aircraft``)
    mode: str  # ``rotary``, ``fixed_wing`` or ``ground``
    range_km: float  # longest leg without refuelling, km
    location: str  # the site it is at, or last left
    p: dict[str, Any]  # its type's settable values (a rule's ``set_param`` changes them)
    available_at: float  # hours: when it enters service
    withdraw_at: float  # hours: when it is to leave service (inf: never)

    @property
    def sortie_places(self) -> int:
        """People the current sortie may carry."""
        raise NotImplementedError

    def crew_allows(self, hours: float) -> bool:
        """Whether the crew may fly ``hours`` more now (its day's and its duty's limits)."""
        raise NotImplementedError


__all__ = ["Tasked"]
