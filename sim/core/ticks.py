"""The rule and closure checks, on the grid of ``trigger_check_hours``, run only when due.

Rules and front closures are defined as checked every ``trigger_check_hours``.
Between two changes of the run state most of those checks cannot act, so the
environment (``CountingEnvironment.start_grid``) keeps the grid without an
event per point and asks ``CheckGrid`` whether a point is due: after a change
of something a rule or a closure reads (``RunState.dirty``), or once the time
has come at which a condition or a closure may change by itself
(``TriggerEngine.next_wake``, ``Hazards.next_closure_check``).
"""

from __future__ import annotations

import math

from sim.core.hazards import Hazards
from sim.core.rules import TriggerEngine
from sim.core.state import RunState


class CheckGrid:
    """Closure checks then rule evaluation, at the grid points where they may act."""

    def __init__(self, state: RunState, hazards: Hazards, triggers: TriggerEngine) -> None:
        self.state = state
        self.hazards = hazards
        self.triggers = triggers
        self.wake_at = -math.inf  # hours: from then on a check is due even without a change

    def due(self, t: float) -> bool:
        return self.state.dirty or t >= self.wake_at or self.triggers.rules_added()

    def wake(self) -> float:
        return self.wake_at

    def check(self) -> None:
        self.state.dirty = False  # what the checks themselves change sets it again
        self.hazards.update_closures()
        self.triggers.evaluate()
        self.wake_at = min(self.hazards.next_closure_check(), self.triggers.next_wake())
