"""Sortie generation: whether a vehicle may start a mission now, and if not, until when.

Three limits, each off by default (every vehicle may start a mission at any time):

- **Operating window**: a clock-hour window (``operating_start_hour``, ``operating_hours``
  of a type, else the scenario's ``operating_windows`` of its mode; field by field). No
  mission starts outside it. A mission started inside it is flown to its end (positioning,
  loading, the transfer, unloading and turnaround), even past the close: to make crews
  land by last light, close the window earlier by the length of a typical mission.
- **Sorties per day**: at most ``max_sorties_per_day`` missions started per vehicle and
  calendar day (midnight to midnight).
- **Mission-capable rate**: on each day a vehicle can be tasked with probability
  ``mission_capable_rate``, on top of the failures drawn from the MTBF. The draw is one
  uniform number per vehicle and day from the vehicle's own stream
  (``availability:<vehicle>``), so it does not depend on anything else in the run
  (common random numbers), and a higher rate only adds vehicle-days: the vehicle is
  capable on day ``d`` when its ``u[d] < rate``.

A vehicle held by a window or the sortie limit is ``resting`` (off duty); one not mission
capable today is in ``maintenance``. Values are read when the vehicle asks, so a rule's
``set_param`` applies from the next time a vehicle asks (a held vehicle asks again at the
end of its hold, or at once when a rule changes one of these limits). Times are hours.
"""

from __future__ import annotations

from typing import Final

from sim.common.rng import Streams
from sim.common.vocabulary import VehicleState
from sim.core.environment import SimEnvironment
from sim.core.kinds import MAINTENANCE, RESTING
from sim.core.tasked import Tasked
from sim.scenario.params import RuntimeParams
from sim.scenario.schema import Scenario

LIMITS = frozenset(
    {"operating_start_hour", "operating_hours", "max_sorties_per_day", "mission_capable_rate"}
)
"""The type fields read here (settable by a rule's ``set_param``)."""
DAY_HOURS: Final = 24.0  # ``Final``: the compiled core uses the number itself
EPS: Final = 1e-9  # hours: a clock this close to a window's opening counts as at it


def window_wait(now: float, start_hour: float, hours: float) -> float:
    """Hours from ``now`` until the window opening daily at ``start_hour`` for ``hours``
    is open (0 if it is open now). ``hours`` of 24 or more: always open.

    >>> window_wait(5.0, 6.0, 12.0), window_wait(17.5, 6.0, 12.0), window_wait(19.0, 6.0, 12.0)
    (1.0, 0.0, 11.0)
    >>> window_wait(2.0, 18.0, 12.0), window_wait(7.0, 18.0, 12.0)  # a night window
    (0.0, 11.0)
    """
    if hours >= DAY_HOURS:
        return 0.0
    since_open = (now - start_hour) % DAY_HOURS
    if since_open < hours or since_open > DAY_HOURS - EPS:
        return 0.0
    return DAY_HOURS - since_open


class Limits:
    """One vehicle's limits as its type's values set them (``Availability.limits``)."""

    def __init__(self, rate: float | None, cap: int | None, start: float, hours: float) -> None:
        self.always_capable = rate is None or rate >= 1.0
        self.rate = 1.0 if rate is None else rate  # mission-capable rate
        self.has_cap = cap is not None
        self.cap = 0 if cap is None else cap  # missions a calendar day
        self.start = start  # operating window: opening clock hour, length in hours
        self.hours = hours


class Availability:
    """The sortie-generation limits of one run, consulted before each dispatch."""

    def __init__(
        self, scenario: Scenario, streams: Streams, env: SimEnvironment,
        params: RuntimeParams,
    ) -> None:
        self.streams = streams
        self.env = env
        self.changed = env.event()  # fires when a rule changes a limit: held vehicles ask again
        params.listeners.append(self._param_changed)
        self.days = scenario.horizon_days + 1  # draws per vehicle: every day of the run
        self.mode_window: dict[str, tuple[float, float]] = {
            mode: (w.start_hour, w.hours) for mode, w in (scenario.operating_windows or {}).items()
        }
        self._draws: dict[str, list[float]] = {}  # vehicle -> uniform draw per day
        # vehicle -> its limits, read from its type's values when it first asks and again
        # after a rule changes one (``_param_changed``): a vehicle asks before every
        # mission and at the end of every hold, thousands of times a run.
        self._limits: dict[str, Limits] = {}
        self._started: dict[str, tuple[int, int]] = {}  # vehicle -> (day, missions started)

    def _param_changed(self, path: str) -> None:
        parts = path.split(".")
        if parts[0] == "aircraft" and parts[-1] in LIMITS:
            self._limits.clear()
            old, self.changed = self.changed, self.env.event()
            old.succeed()

    def window(self, v: Tasked) -> tuple[float, float]:
        """The vehicle's window (opening clock hour, length in hours): its type's, field by
        field, else its mode's, else always open."""
        p = v.p
        start, hours = self.mode_window.get(v.mode, (0.0, DAY_HOURS))
        if p["operating_start_hour"] is not None:
            start = p["operating_start_hour"]
        if p["operating_hours"] is not None:
            hours = p["operating_hours"]
        return start, hours

    def limits(self, v: Tasked) -> Limits:
        """``v``'s limits now (its type's values, read once until a rule changes one)."""
        found = self._limits.get(v.name)
        if found is None:
            p = v.p
            start, hours = self.window(v)
            found = self._limits[v.name] = Limits(
                p["mission_capable_rate"], p["max_sorties_per_day"], start, hours)
        return found

    def capable(self, v: Tasked, day: int) -> bool:
        """Whether the vehicle can be tasked on ``day`` (its draw for the day under the rate)."""
        rate = v.p["mission_capable_rate"]
        return rate is None or rate >= 1.0 or self._capable_on(v.name, day, rate)

    def _capable_on(self, name: str, day: int, rate: float) -> bool:
        """Whether vehicle ``name``'s draw for ``day`` is under ``rate``."""
        u = self._draws.get(name)
        if u is None:  # plain floats: the same numbers, cheaper to index one at a time
            u = self._draws[name] = self.streams[f"availability:{name}"].random(self.days).tolist()
        return u[day if day < len(u) else len(u) - 1] < rate

    def hold(self, v: Tasked, now: float) -> tuple[VehicleState, float] | None:
        """None if ``v`` may start a mission at ``now``; else the state it waits in and the
        hour at which to ask again."""
        name = v.name
        lim = self._limits.get(name)
        if lim is None:
            lim = self.limits(v)
        day = int(now // DAY_HOURS)
        midnight = (day + 1) * DAY_HOURS
        if not lim.always_capable and not self._capable_on(name, day, lim.rate):
            return MAINTENANCE, midnight
        if lim.has_cap:
            counted_day, started = self._started.get(name, (day, 0))
            if counted_day == day and started >= lim.cap:
                return RESTING, midnight
        wait = window_wait(now, lim.start, lim.hours)
        if wait > 0.0:
            return RESTING, now + wait
        return None

    def steady(self, v: Tasked) -> bool:
        """Whether the limits leave ``v`` in the same state at every midnight when it has
        no work, so that a settled run (``Model.settled``) may repeat its state.

        Not with a mission-capable rate below 1 (in maintenance on the days it is not
        capable), nor with an operating window: a change outside the window (a status
        change, which a settled run only logs) sends it off duty until the window opens
        again, and it may be counted resting at the next midnight.
        """
        rate = v.p["mission_capable_rate"]
        return (rate is None or rate >= 1.0) and self.window(v)[1] >= DAY_HOURS

    def started(self, v: Tasked, now: float) -> None:
        """Count a mission that ``v`` starts at ``now`` against its day's limit."""
        day = int(now // DAY_HOURS)
        counted_day, started = self._started.get(v.name, (day, 0))
        self._started[v.name] = (day, started + 1 if counted_day == day else 1)


__all__ = ["Availability", "window_wait"]
