"""Detainee state in numpy arrays: never one object or process per detainee.

Every detainee is in exactly one state at any time; the sum over states is
the total. Times are simulation hours (NaN: not yet).
"""

from __future__ import annotations

import operator
from typing import Final

import numpy as np

from sim.common.arrays import float_array
from sim.common.vocabulary import DETAINEE_STATE_NAMES, DetaineeState
from sim.core.errors import ConservationError
from sim.scenario.schema import Scenario

# The states as plain ints, for numpy comparisons (the names are ``DetaineeState``'s).
HELD: Final = int(DetaineeState.HELD)
WAITING: Final = int(DetaineeState.WAITING)
IN_FLIGHT: Final = int(DetaineeState.IN_FLIGHT)
DELIVERED: Final = int(DetaineeState.DELIVERED)
REGISTERED: Final = int(DetaineeState.REGISTERED)
ESCAPED: Final = int(DetaineeState.ESCAPED)
RELEASED: Final = int(DetaineeState.RELEASED)
CUSTODY_TRANSFERRED: Final = int(DetaineeState.CUSTODY_TRANSFERRED)
STATE_NAMES = DETAINEE_STATE_NAMES


def _fixed(value: int, dtype: type) -> np.ndarray:
    """``value`` as a read-only 0-d array of ``dtype``."""
    a: np.ndarray = np.array(value, dtype=dtype)
    a.flags.writeable = False
    return a


# Each state code as a 0-d array of the state column's type: written to a batch's ids as
# it is, where a Python int is first looked at for its type and converted (about three
# times the time of the write itself, which runs twice or three times a sortie).
_STATE_CODES: Final = tuple(_fixed(int(code), np.int8) for code in DetaineeState)


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
        # Each site's index as a 0-d array of the location column's type (``_STATE_CODES``).
        self._site_codes = tuple(_fixed(i, np.int32) for i in range(len(site_index)))
        nan = np.full(n, np.nan)
        self._t_pickup = nan.copy()
        self._t_delivered = nan.copy()
        self._t_reg_start = nan.copy()
        self._t_registered = nan.copy()
        self.t_escaped = nan.copy()
        self.t_released = nan.copy()
        self.t_custody = nan.copy()  # passed into another authority's custody (an overrun)
        self.t_ready = np.zeros(n)  # handed over for pickup at the origin (``release``)
        self._hops = np.zeros(n, dtype=np.int16)
        # Pickups, landings and deliveries not yet written into their columns (``settle``).
        self._pickups: list[np.ndarray] = []
        self._pickup_hours: list[float] = []
        self._landed: list[np.ndarray] = []
        self._delivered: list[np.ndarray] = []
        self._delivered_hours: list[float] = []
        self._registers: list[bool] = []  # whether each delivery's reception registers
        # One a person of the deliveries that register, in the order of ``_delivered``.
        self._reg_starts: list[float] = []
        self._reg_ends: list[float] = []

    # ----- movements written when read ---------------------------------------------
    # Every sortie picks people up and hands them over, and each of these wrote a few
    # columns through numpy's fancy indexing, some thousand instructions a column for a
    # batch of 30. The first pickup time, the landings (``hops``) and the delivery and
    # registration times are read only after the run (and by the classroom between its
    # stops), so each movement is kept as one record and all are written at once when
    # one of these columns is read (``settle``). The columns read during a run
    # (``state``, ``location``) are written at once, as before.

    def set_state(self, ids: np.ndarray, state: int) -> None:
        """``ids`` are now in ``state`` (a ``DetaineeState`` code)."""
        self.state[ids] = _STATE_CODES[state]

    def set_location(self, ids: np.ndarray, site: int) -> None:
        """``ids`` are now at the site of index ``site``."""
        self.location[ids] = self._site_codes[site]

    def picked_up(self, ids: np.ndarray, hour: float) -> None:
        """``ids`` boarded at ``hour``: the first such hour is their ``t_pickup``."""
        self._pickups.append(ids)
        self._pickup_hours.append(hour)

    def landed(self, ids: np.ndarray) -> None:
        """``ids`` were handed over at a site: one more hop each."""
        self._landed.append(ids)

    def delivered(self, ids: np.ndarray, hour: float,
                  registration: tuple[list[float], list[float]] | None) -> None:
        """``ids`` were delivered at ``hour`` to a reception that registers them from the
        first to the second list of ``registration`` (hours, one each, in the order of
        ``ids``), or at once (None: a reception without registration)."""
        self._delivered.append(ids)
        self._delivered_hours.append(hour)
        self._registers.append(registration is not None)
        if registration is not None:
            self._reg_starts.extend(registration[0])
            self._reg_ends.extend(registration[1])

    def settle(self) -> None:
        """Write the recorded movements into their columns.

        The same values as writing each at once: a detainee's ``t_pickup`` is the
        earliest of its pickups (the clock never goes back) unless it had one already,
        ``hops`` counts its landings, and a delivery sets its three times. A detainee
        delivered twice is counted twice: a ``ConservationError``.
        """
        # A batch is usually the same array when it boards, lands and is delivered (one
        # hop, nobody lost on the way): each list is then joined once, not three times.
        joined: tuple[list[np.ndarray], np.ndarray] | None = None

        def concatenate(batches: list[np.ndarray]) -> np.ndarray:
            nonlocal joined
            if joined is not None and len(joined[0]) == len(batches) and \
                    all(map(operator.is_, joined[0], batches)):
                return joined[1]
            joined = (batches, np.concatenate(batches))
            return joined[1]

        if self._pickups:
            ids = concatenate(self._pickups)
            hours = np.repeat(float_array(self._pickup_hours), _sizes(self._pickups))
            first = np.full(self.n, np.inf)
            np.minimum.at(first, ids, hours)
            new = np.isnan(self._t_pickup) & (first < np.inf)
            self._t_pickup[new] = first[new]
            self._pickups, self._pickup_hours = [], []
        if self._landed:
            ids = concatenate(self._landed)
            # Ones of the column's own type: ``add.at`` then takes its fast loop (with
            # a Python int it casts element by element, some 70 times slower).
            np.add.at(self._hops, ids, np.ones(len(ids), dtype=self._hops.dtype))
            self._landed = []
        if self._delivered:
            ids = concatenate(self._delivered)
            if len(ids) and (int(np.bincount(ids).max()) > 1 or
                             not np.all(np.isnan(self._t_delivered[ids]))):
                raise ConservationError("a detainee was delivered twice")
            sizes = _sizes(self._delivered)
            hours = np.repeat(float_array(self._delivered_hours), sizes)
            self._t_delivered[ids] = hours
            if not any(self._registers):  # registered on arrival
                self._t_reg_start[ids] = hours
                self._t_registered[ids] = hours
            else:
                starts, ends = hours.copy(), hours.copy()
                queued = np.repeat(np.array(self._registers), sizes)
                starts[queued] = float_array(self._reg_starts)
                ends[queued] = float_array(self._reg_ends)
                self._t_reg_start[ids] = starts
                self._t_registered[ids] = ends
            self._delivered, self._delivered_hours, self._registers = [], [], []
            self._reg_starts, self._reg_ends = [], []

    @property
    def t_pickup(self) -> np.ndarray:
        """First pickup, hours (NaN: never picked up)."""
        self.settle()
        return self._t_pickup

    @property
    def t_delivered(self) -> np.ndarray:
        """Delivery to a reception, hours."""
        self.settle()
        return self._t_delivered

    @property
    def t_reg_start(self) -> np.ndarray:
        """Start of registration at the reception, hours."""
        self.settle()
        return self._t_reg_start

    @property
    def t_registered(self) -> np.ndarray:
        """End of registration at the reception, hours."""
        self.settle()
        return self._t_registered

    @property
    def hops(self) -> np.ndarray:
        """Landings at which each detainee was handed over (staging airfields included)."""
        self.settle()
        return self._hops

    def ids_at(self, site: int, states: tuple[int, ...] = (HELD, WAITING)) -> np.ndarray:
        """Ids (ascending) of the detainees at ``site`` (its index) in one of ``states``.

        Those at the site first, then their states: ``np.isin`` over the whole state column
        cost more than the rest together (a breakout's daily look at a prison, the queues
        at the start of a run)."""
        here = np.flatnonzero(self.location == site)
        if len(here) == 0 or not states:
            return here[:0]
        state = self.state[here]
        keep = state == states[0]
        for other in states[1:]:
            keep |= state == other
        return here[keep]

    def counts(self) -> dict[str, int]:
        return state_counts(self.state)

    def check_conservation(self, expected_total: int) -> None:
        """Raise if the states do not add up or any timestamps contradict them."""
        check_conservation(self.state, self.t_delivered, self.t_pickup, expected_total)


def _sizes(batches: list[np.ndarray]) -> np.ndarray:
    """The length of each batch."""
    return np.fromiter(map(len, batches), dtype=np.intp, count=len(batches))


def state_counts(state: np.ndarray) -> dict[str, int]:
    """Detainees in each state, by state name."""
    c = np.bincount(state, minlength=len(STATE_NAMES))
    return {name: int(c[i]) for i, name in enumerate(STATE_NAMES)}


def check_conservation(
    state: np.ndarray, t_delivered: np.ndarray, t_pickup: np.ndarray, expected_total: int
) -> None:
    """Raise if the states do not add up or any timestamps contradict them.

    One count of the states answers most of the checks: a check of the people in a
    state nobody is in finds nothing, and one of the people in the delivered states
    reads whole columns when everybody is in them (no copy picked by a mask). At
    600,000 detainees the masks and copies of every check took some 40 ms a run.
    """
    n_states = len(STATE_NAMES)
    by_state = np.bincount(state, minlength=n_states).tolist()  # ValueError on a negative state
    total = sum(by_state[:n_states])
    problems = []
    if total != expected_total or len(state) != expected_total:
        problems.append(f"states add up to {total}, expected {expected_total}")
    if len(by_state) > n_states:  # a state beyond the last one counted
        problems.append("a detainee has an invalid state")
    if by_state[ESCAPED] and np.any(~np.isnan(t_delivered[state == ESCAPED])):
        problems.append("a detainee is both escaped and delivered")
    if by_state[CUSTODY_TRANSFERRED] and np.any(~np.isnan(t_delivered[state == CUSTODY_TRANSFERRED])):
        problems.append("a detainee is both in another authority's custody and delivered")
    done_count = by_state[DELIVERED] + by_state[REGISTERED] + by_state[RELEASED]
    if done_count:
        if done_count == len(state):  # everybody: the columns themselves
            delivered, picked_up = t_delivered, t_pickup
        else:
            done = (state == DELIVERED) | (state == REGISTERED) | (state == RELEASED)
            delivered, picked_up = t_delivered[done], t_pickup[done]
        if np.any(np.isnan(delivered)):
            problems.append("a delivered detainee has no delivery time")
        if np.any(delivered < picked_up - 1e-9):
            problems.append("a detainee was delivered before being picked up")
    if problems:
        raise ConservationError("; ".join(problems))
