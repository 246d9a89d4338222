"""Detainee state in numpy arrays: never one object or process per detainee.

Every detainee is in exactly one state at any time; the sum over states is
the total. Times are simulation hours (NaN: not yet).
"""

from __future__ import annotations

import numpy as np

from sim.common.vocabulary import DETAINEE_STATE_NAMES, DetaineeState
from sim.scenario.schema import Scenario

# The states as plain ints, for numpy comparisons (the names are ``DetaineeState``'s).
(HELD, WAITING, IN_FLIGHT, DELIVERED, REGISTERED, ESCAPED, RELEASED,
 CUSTODY_TRANSFERRED) = (int(s) for s in DetaineeState)
STATE_NAMES = DETAINEE_STATE_NAMES


class ConservationError(RuntimeError):
    """A detainee was lost or counted twice: an internal error, never clipped."""


class Detainees:
    """Columns of the detainee table, one row per detainee id (0..n-1)."""

    def __init__(self, scenario: Scenario, site_index: dict[str, int]) -> None:
        rank = {c: i for i, c in enumerate(scenario.risk_categories)}
        origins: list[np.ndarray] = []
        cats: list[np.ndarray] = []
        for site in scenario.sites:
            if site.kind != "prison":
                continue
            # Highest risk first: the order a prison's queue is loaded in.
            for cat in sorted(site.detainees, key=lambda c: rank[c]):
                n = site.detainees[cat]
                origins.append(np.full(n, site_index[site.id], dtype=np.int32))
                cats.append(np.full(n, rank[cat], dtype=np.int8))
        self.origin = np.concatenate(origins) if origins else np.zeros(0, np.int32)
        self.category = np.concatenate(cats) if cats else np.zeros(0, np.int8)
        n = self.n = len(self.origin)
        self.state = np.full(n, HELD, dtype=np.int8)
        self.location = self.origin.copy()
        nan = np.full(n, np.nan)
        self.t_pickup = nan.copy()
        self.t_delivered = nan.copy()
        self.t_reg_start = nan.copy()
        self.t_registered = nan.copy()
        self.t_escaped = nan.copy()
        self.t_released = nan.copy()
        self.t_custody = nan.copy()  # passed into another authority's custody (an overrun)
        self.t_ready = np.zeros(n)  # handed over for pickup at the origin (``release``)
        self.hops = np.zeros(n, dtype=np.int16)

    def ids_at(self, site: int, states: tuple[int, ...] = (HELD, WAITING)) -> np.ndarray:
        mask = np.isin(self.state, states) & (self.location == site)
        return np.flatnonzero(mask)

    def counts(self) -> dict[str, int]:
        return state_counts(self.state)

    def check_conservation(self, expected_total: int) -> None:
        """Raise if the states do not add up or any timestamps contradict them."""
        check_conservation(self.state, self.t_delivered, self.t_pickup, expected_total)


def state_counts(state: np.ndarray) -> dict[str, int]:
    """Detainees in each state, by state name."""
    c = np.bincount(state, minlength=len(STATE_NAMES))
    return {name: int(c[i]) for i, name in enumerate(STATE_NAMES)}


def check_conservation(
    state: np.ndarray, t_delivered: np.ndarray, t_pickup: np.ndarray, expected_total: int
) -> None:
    """Raise if the states do not add up or any timestamps contradict them."""
    counts = state_counts(state)
    total = sum(counts.values())
    problems = []
    if total != expected_total or len(state) != expected_total:
        problems.append(f"states add up to {total}, expected {expected_total}")
    if np.any(state < 0) or np.any(state >= len(STATE_NAMES)):
        problems.append("a detainee has an invalid state")
    escaped = state == ESCAPED
    if np.any(~np.isnan(t_delivered[escaped])):
        problems.append("a detainee is both escaped and delivered")
    if np.any(~np.isnan(t_delivered[state == CUSTODY_TRANSFERRED])):
        problems.append("a detainee is both in another authority's custody and delivered")
    done = np.isin(state, (DELIVERED, REGISTERED, RELEASED))
    if np.any(np.isnan(t_delivered[done])):
        problems.append("a delivered detainee has no delivery time")
    if np.any(t_delivered[done] < t_pickup[done] - 1e-9):
        problems.append("a detainee was delivered before being picked up")
    if problems:
        raise ConservationError("; ".join(problems))
