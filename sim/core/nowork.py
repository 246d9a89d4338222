"""The dispatcher's "nothing to do" answers, kept across changes that cannot give work.

Whether a dispatch finds any node to serve depends only on the vehicle's mode, range
and (by road) location (its ``WorkKey``), on the day (a reception's daily intake
clearances) and on the shared state; every change of that state that can create work
moves ``RunState.version``. Most such changes touch one node: detainees queued at a
node (a drop-off at a transfer node, a batch flown back, a claim given back) or room
freed at one destination (a claim given back, a pickup at an airfield). ``Transfers``
reports those here (``queued``, ``freed``), and an answer survives them unless one of
the nodes they touched can now be served by vehicles like the one asked. Any other
change (a new day, a rule, a reroute, a grounding, a release) moves the version
unreported and ends every answer.

So a change at one node wakes (``RunState._wake`` asks ``Vehicle.idle_bound``) only
the vehicles that can act on it, by mode, range and location. Vehicles use answers
found at the current time only (``Transfers.has_no_work``); keeping them for the rest
of the day (``same_day``) changed results once releases, operating windows and convoys
were on, and a test now compares runs with and without skipping idle vehicles. A change added later
that makes work without going through ``Transfers`` must call ``RunState.notify``
(or ``touch``), as before: an answer then holds only until the version moves.
"""

from __future__ import annotations

import math
from typing import Final, Protocol

import numpy as np

from sim.core.kinds import STATUS_OVERRUN
from sim.core.state import RunState
from sim.scenario.network import Network


class WorkKey:
    """What decides whether a dispatch finds work for a vehicle: its mode, its range (km)
    and, by road only, its location (in the air, where it stands does not matter).

    A run has one object per distinct key (``NoWork.key``), so keys compare and hash by
    identity, and each carries the last answer asked for it: a wake-up asks once per idle
    vehicle, and vehicles alike ask the same question at the same instant and version.
    """

    def __init__(self, mode: str, range_km: float, location: str | None) -> None:
        self.mode = mode
        self.range_km = range_km
        self.location = location
        # The last answer asked for this instant (``holds`` without ``same_day``, what the
        # vehicles ask): when (hours), at which state version, and the answer. NaN: never.
        self.last_at = math.nan
        self.last_version = -1
        self.last_answer = False

    def __repr__(self) -> str:
        return f"WorkKey({self.mode!r}, {self.range_km!r}, {self.location!r})"


#: Reported changes kept; an answer older than this many changes is recomputed.
MAX_CHANGES: Final = 64


class Queues(Protocol):
    """What the answers are checked against: ``Transfers``'s queues, routes and capacity."""

    state: RunState
    queue: dict[str, np.ndarray]
    awaited: dict[str, int]
    network: Network

    def capacity(self, site: str) -> float: ...


class NoWork:
    """Per ``WorkKey``: the time and state version at which a dispatch found nothing."""

    def __init__(self, transfers: Queues) -> None:
        self.transfers = transfers
        self.state = transfers.state
        self.answers: dict[WorkKey, tuple[float, int]] = {}  # key -> (hours, version)
        # key -> (hours, version) at which a reported change was found to matter: asked
        # again then, the answer is the same (claims in between only remove work)
        self.ended: dict[WorkKey, tuple[float, int]] = {}
        # version reached by a reported change -> (node queued at, destination freed)
        self.changes: dict[int, tuple[str | None, str | None]] = {}
        # (mode, range, location or None) -> the run's one ``WorkKey`` for it
        self.keys: dict[tuple[str, float, str | None], WorkKey] = {}

    def key(self, mode: str, range_km: float, location: str) -> WorkKey:
        """The ``WorkKey`` of a vehicle of ``mode`` and ``range_km`` (km) at ``location``."""
        where = location if mode == "ground" else None
        found = self.keys.get((mode, range_km, where))
        if found is None:
            found = self.keys[(mode, range_km, where)] = WorkKey(mode, range_km, where)
        return found

    def queued(self, site: str) -> None:
        """Detainees were queued at ``site`` (the version has just moved for it)."""
        self._report(site, None)

    def freed(self, dest: str) -> None:
        """Room was freed at destination ``dest`` (the version has just moved for it)."""
        self._report(None, dest)

    def _report(self, site: str | None, dest: str | None) -> None:
        version = self.state.version
        changes = self.changes
        changes[version] = (site, dest)
        if len(changes) > 2 * MAX_CHANGES:
            for old in [v for v in changes if v <= version - MAX_CHANGES]:
                del changes[old]

    def remember(self, key: WorkKey, now: float) -> None:
        """A dispatch for vehicles like ``key`` found no node to serve at ``now``."""
        version = self.state.version
        self.answers[key] = (now, version)
        key.last_at, key.last_version, key.last_answer = now, version, True  # asked now: nothing

    def holds(self, key: WorkKey, now: float, same_day: bool) -> bool:
        """Whether a dispatch now would still find nothing for vehicles like ``key``.

        With ``same_day`` an answer found earlier the same day counts, else only one found
        at this instant (time-dependent parts of a dispatch then need no thought).
        """
        if same_day:  # not asked by the vehicles: no last answer kept
            return self.look(key, now, same_day)
        # The last answer for this key: asked again at the same instant and version (a
        # wake-up of many idle vehicles alike), a look answers the same.
        version = self.state.version
        if key.last_at == now and key.last_version == version:
            return key.last_answer
        answer = self.look(key, now, same_day)
        key.last_at, key.last_version, key.last_answer = now, version, answer
        return answer

    def look(self, key: WorkKey, now: float, same_day: bool) -> bool:
        """``holds`` without its last answer: checks the answers against the changes."""
        answer = self.answers.get(key)
        if answer is None:
            return False
        found_at, version = answer
        if found_at != now and (not same_day or found_at // 24 != now // 24):
            return False
        current = self.state.version
        if version == current:
            return True
        if current - version > MAX_CHANGES or self.ended.get(key) == (now, current):
            return False
        sites: set[str] = set()
        dests: set[str] = set()
        changes = self.changes
        for v in range(version + 1, current + 1):
            change = changes.get(v)
            if change is None:
                return False  # an unreported change: anything may have changed
            site, dest = change
            if site is not None:
                sites.add(site)
            else:
                assert dest is not None
                dests.add(dest)
        if dests:
            mode = key.mode
            for origin, per_mode in self.transfers.network.options.items():
                if any(h.dest in dests for h in per_mode.get(mode, ())):
                    sites.add(origin)
        if any(self._servable(site, key) for site in sites):
            self.ended[key] = (now, current)
            return False
        self.answers[key] = (found_at, current)
        return True

    def _servable(self, site: str, key: WorkKey) -> bool:
        """Whether ``site`` is a candidate for vehicles like ``key`` now (as in dispatch)."""
        tr = self.transfers
        st = self.state
        if (len(tr.queue[site]) <= tr.awaited[site] or not st.site_open[site]
                or st.status[site] == STATUS_OVERRUN):
            return False
        mode, rng_km, location = key.mode, key.range_km, key.location
        hops = tr.network.options.get(site, {}).get(mode, ())
        if not any(h.max_segment_km <= rng_km and tr.capacity(h.dest) > 0 for h in hops):
            return False
        if location is None:
            return True  # aircraft position directly
        return tr.network.positioning_km(mode, location, site) is not None


__all__ = ["MAX_CHANGES", "NoWork", "WorkKey"]
