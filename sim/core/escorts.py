"""Escorts: guards ride with detainees and take seats, more for a higher risk category.

``escort_guards_per_detainee`` gives the guards each detainee of a risk category needs
(0.25: one guard per four; 2: two guards each). A batch of detainees needs the sum over
its members rounded up to whole guards, and detainees plus guards must fit the vehicle's
seats, so how many detainees a sortie carries depends on who is on board. Guards take no
bed, no intake clearance and no loading time. None, or a category left out, needs no
guard: every seat is a detainee's, as without escorts.
"""

from __future__ import annotations

import numpy as np

from sim.scenario.schema import Scenario

EPS = 1e-9  # guards: a sum this close to a whole number is that number (0.1 x 10 = 1)


class Escorts:
    """Guards per detainee by risk rank (0 = most dangerous), and the batches that fit."""

    def __init__(self, guards_by_rank: np.ndarray) -> None:
        self.guards_by_rank = guards_by_rank

    @classmethod
    def of(cls, scenario: Scenario) -> Escorts | None:
        """The scenario's escorts, or None if no detainee needs a guard."""
        table = scenario.escort_guards_per_detainee or {}
        guards = np.array([float(table.get(c, 0.0)) for c in scenario.risk_categories])
        return cls(guards) if np.any(guards > 0) else None

    def batch(self, ranks: np.ndarray, seats: int) -> int:
        """How many of the detainees with risk ``ranks``, taken in order, fit ``seats`` with
        their guards: the longest prefix whose detainees plus whole guards fit.

        >>> Escorts(np.array([2.0, 0.25])).batch(np.array([0, 1, 1, 1, 1, 1]), 6)
        3
        """
        need = np.cumsum(self.guards_by_rank[ranks])
        taken = np.arange(1, len(ranks) + 1)
        fits = taken + np.ceil(need - EPS) <= seats
        # seats needed grow with every detainee taken, so the ones that fit are a prefix
        return int(np.count_nonzero(fits))


__all__ = ["Escorts"]
