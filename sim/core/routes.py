"""The route network as the dispatcher reads it: native records, built once per network.

A dispatch looks at every node with people waiting, tries its hops by the asking
vehicle's mode (the first in range whose destination has room) and asks the
empty-positioning distance to the node; a capacity check at a staging airfield
adds up the clearance of the node's onward destinations. ``Network``
(``sim.scenario.network``) holds these as plain-Python dataclasses and methods:
read from the compiled core, each field is a generic attribute lookup and each
distance a Python-level call (about 2% of a baseline run's machine instructions).
``DispatchView`` copies what dispatch reads into native records, in the network's
own order, and memoises the positioning distances and onward destinations it is
asked for. It is built when a run first dispatches on a network (a closure or
reopening makes a new network, and the next dispatch a new view) and never changed
after: the network is read-only once built.
"""

from __future__ import annotations

from typing import Final

from sim.scenario.network import Hop, Network, PositioningRoute

NO_ROUTE: Final = -1.0
"""``DispatchView.positioning_km`` where the network has no route (``None`` there)."""


class HopRecord:
    """The fields of a ``Hop`` that dispatch and the flights read (km), as native
    attributes: a claimed batch (``Mission``) carries its hop's record, read about fifteen
    times a sortie (each read of the ``Hop`` itself a generic attribute lookup)."""

    def __init__(self, hop: Hop) -> None:
        self.hop: Final = hop
        self.origin: Final[str] = hop.origin
        self.dest: Final[str] = hop.dest
        self.nodes: Final[tuple[str, ...]] = hop.nodes  # origin, refuel stops..., dest
        # floats whatever the network's edges hold: the compiled core checks each as read
        self.segment_km: Final[tuple[float, ...]] = tuple(float(km) for km in hop.segment_km)
        self.max_segment_km: Final = float(hop.max_segment_km)
        self.distance_km: Final = float(hop.distance_km)


class DispatchView:
    """``network.options`` as native records, and a memo of its positioning distances."""

    def __init__(self, network: Network) -> None:
        self.network: Final = network
        #: (node, mode -> its progress-making hops, best first), in ``network.options`` order
        self.nodes: Final[list[tuple[str, dict[str, list[HopRecord]]]]] = [
            (node, {mode: [HopRecord(h) for h in hops] for mode, hops in per_mode.items()})
            for node, per_mode in network.options.items()
        ]
        self._positioning: dict[tuple[str, str, str], float] = {}
        self._positioning_routes: dict[tuple[str, str, str, float], PositioningRoute] = {}
        self._onward: dict[str, tuple[str, ...]] = {}

    def onward_dests(self, node: str) -> tuple[str, ...]:
        """The destinations of ``node``'s hops by any mode, sorted (none if it has no hop):
        where a batch entering a staging airfield would go next (``Transfers.onward_clearance``)."""
        dests = self._onward.get(node)
        if dests is None:
            dests = self._onward[node] = tuple(sorted(
                {h.dest for hops in self.network.options.get(node, {}).values() for h in hops}))
        return dests

    def positioning_km(self, mode: str, a: str, b: str) -> float:
        """``network.positioning_km(mode, a, b)`` (km), or ``NO_ROUTE`` where it is None."""
        key = (mode, a, b)
        km = self._positioning.get(key)
        if km is None:
            found = self.network.positioning_km(mode, a, b)
            km = self._positioning[key] = NO_ROUTE if found is None else float(found)
        return km

    def positioning_route(self, mode: str, a: str, b: str, range_km: float) -> PositioningRoute:
        """``network.positioning_route(mode, a, b, range_km)``: the nodes and segment
        lengths (km) of an empty flight, memoised here as the network memoises it, so that
        the compiled core asks the (plain-Python) network once per trip rather than once
        per empty flight."""
        key = (mode, a, b, range_km)
        route = self._positioning_routes.get(key)
        if route is None:
            route = self._positioning_routes[key] = self.network.positioning_route(
                mode, a, b, range_km)
        return route


__all__ = ["NO_ROUTE", "DispatchView", "HopRecord"]
