"""Dispatch policies: which waiting node an idle vehicle serves next.

A policy sees only a list of candidates (one per node that the vehicle can
serve now) and returns one. Policies are small, deterministic and pure apart
from ``round_robin``'s pointer; ties break on the site's order in the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final


class Candidate:
    """A node an idle vehicle could serve now (read only: ``Final`` attributes).

    A plain class rather than a frozen dataclass: a dispatch builds one per node, and the
    dataclass's ``object.__setattr__`` for each field cost about 4% of a run once the
    core is compiled.
    """

    def __init__(self, site: str, index: int, waiting: int, top_risk_rank: int,
                 top_risk_count: int, status_level: int, front_km: float,
                 positioning_km: float) -> None:
        self.site: Final = site
        self.index: Final = index  # the site's position in the scenario (stable tie-break)
        self.waiting: Final = waiting  # detainees queued there for this mode, not yet claimed
        self.top_risk_rank: Final = top_risk_rank  # best (lowest) risk rank: 0 = most dangerous
        self.top_risk_count: Final = top_risk_count  # how many of them have that rank
        self.status_level: Final = status_level  # 0 safe, 1 threatened
        self.front_km: Final = front_km  # distance to the nearest front, km (inf: no front)
        self.positioning_km: Final = positioning_km  # empty distance from the vehicle, km

    def __repr__(self) -> str:
        return (f"Candidate({self.site!r}, index={self.index}, waiting={self.waiting}, "
                f"risk={self.top_risk_rank}x{self.top_risk_count}, "
                f"status={self.status_level}, front_km={self.front_km}, "
                f"positioning_km={self.positioning_km})")


class Policy:
    """What the policies below share: a ``name`` (the scenario's) and ``choose``.

    A base class rather than a ``Protocol``: the compiled core then calls a policy's
    ``choose`` through the class's native method table, where a protocol's method is
    looked up and called by name (about a thousand machine instructions a dispatch).
    A policy ranks two or more candidates (``best``); with one, every policy takes it,
    so a dispatch from a single waiting node decides without building sort keys.
    """

    name: str

    def choose(self, candidates: Sequence[Candidate]) -> Candidate:
        """The candidate to serve (``candidates`` is never empty)."""
        pick = candidates[0] if len(candidates) == 1 else self.best(candidates)
        self.chosen(pick)
        return pick

    def best(self, candidates: Sequence[Candidate]) -> Candidate:
        """The policy's pick among two or more candidates."""
        raise NotImplementedError

    def chosen(self, pick: Candidate) -> None:
        """Note the pick (``round_robin``'s pointer); the other policies keep nothing."""


class LargestQueue(Policy):
    """Serve the node with the most detainees waiting."""

    name = "largest_queue"

    def best(self, candidates: Sequence[Candidate]) -> Candidate:
        return min(candidates, key=lambda c: (-c.waiting, c.index))


class NearestFirst(Policy):
    """Serve the node closest to the vehicle (least empty flying)."""

    name = "nearest_first"

    def best(self, candidates: Sequence[Candidate]) -> Candidate:
        return min(candidates, key=lambda c: (c.positioning_km, -c.waiting, c.index))


class HighestThreat(Policy):
    """Serve threatened nodes first, then the node nearest a front."""

    name = "highest_threat"

    def best(self, candidates: Sequence[Candidate]) -> Candidate:
        return min(candidates, key=lambda c: (-c.status_level, c.front_km, -c.waiting, c.index))


class HighestRiskFirst(Policy):
    """Serve the node holding the most dangerous category first (then the most of them)."""

    name = "highest_risk_first"

    def best(self, candidates: Sequence[Candidate]) -> Candidate:
        return min(
            candidates, key=lambda c: (c.top_risk_rank, -c.top_risk_count, -c.waiting, c.index)
        )


class RoundRobin(Policy):
    """Serve nodes in turn, in file order, one dispatch each."""

    name = "round_robin"

    def __init__(self) -> None:
        self.last_index = -1

    def best(self, candidates: Sequence[Candidate]) -> Candidate:
        ordered = sorted(candidates, key=lambda c: c.index)
        return next((c for c in ordered if c.index > self.last_index), ordered[0])

    def chosen(self, pick: Candidate) -> None:
        self.last_index = pick.index


def make_policy(name: str) -> Policy:
    """A fresh policy object by its scenario name."""
    table: dict[str, type] = {
        "largest_queue": LargestQueue,
        "round_robin": RoundRobin,
        "nearest_first": NearestFirst,
        "highest_threat": HighestThreat,
        "highest_risk_first": HighestRiskFirst,
    }
    try:
        policy: Policy = table[name]()
    except KeyError:
        raise ValueError(f"unknown dispatch policy {name!r}; known: {sorted(table)}") from None
    return policy
