"""Release at the origin: when each person held at a prison or camp is ready for pickup.

Detainees are not all ready at hour 0: an origin hands people over at a rate
(out-processing: manifest, restraints, medical and biometric checks), so the
pickup queue fills over time. ``ready_hours`` draws the whole schedule at the
start of a run from the site's ``release``; ``Transfers`` then moves each
person into the pickup queue at that hour. Hours on the simulation clock.
"""

from __future__ import annotations

import numpy as np

from sim.common.arrays import float_array
from sim.core.registration import RegistrationQueue
from sim.scenario.schema import Release


def ready_hours(release: Release, n: int, rng: np.random.Generator) -> np.ndarray:
    """The hour each of ``n`` people (in queue order) is handed over for pickup.

    Stations: an FCFS multi-server queue that everyone joins at hour 0, with the
    shift of ``hours_per_day`` from ``start_hour`` (the registration queue's
    arithmetic); a person is ready when their out-processing ends. A rate or a
    profile: person k (1-based) is ready when the cumulative rate reaches k, or,
    with ``poisson``, the k-th point of a Poisson process of that rate. Hours past
    the last positive rate are ``inf`` (never handed over).
    """
    if release.stations is not None:
        assert release.minutes is not None  # the schema pairs them
        queue = RegistrationQueue(release.stations, release.minutes, rng,
                                  release.hours_per_day, release.start_hour)
        ends = queue.admit_ends(0.0, n)  # when each person is ready
        return in_batches(float_array(ends), release.batch)
    if release.per_hour is not None:
        steps = [(0.0, float(release.per_hour))]
    else:
        assert release.profile is not None
        steps = [(24.0 * p.from_day, float(p.per_hour)) for p in release.profile]
    targets = np.cumsum(rng.exponential(1.0, n)) if release.poisson else np.arange(1.0, n + 1)
    return in_batches(inverse_cumulative(steps, targets), release.batch)


def in_batches(hours: np.ndarray, batch: int) -> np.ndarray:
    """Hand people over ``batch`` at a time: in the order they are ready, each group of
    ``batch`` is ready at the hour its last member is (the last group may be smaller).

    E.g. hours [1, 3, 2, 5, 4] in batches of 2: the groups by readiness are {1, 2}, {3, 4}
    and {5}, so the hours become [2, 4, 2, 5, 4]. A batch of 1 changes nothing.
    """
    if batch <= 1 or len(hours) == 0:
        return hours
    order = np.argsort(hours, kind="stable")
    ready = hours[order]
    last = np.minimum(np.arange(len(ready)) // batch * batch + batch, len(ready)) - 1
    out = np.empty_like(hours)
    out[order] = ready[last]
    return out


def inverse_cumulative(steps: list[tuple[float, float]], targets: np.ndarray) -> np.ndarray:
    """Earliest hours at which a piecewise-constant rate has accumulated ``targets``.

    ``steps`` are (start hour, people per hour) by increasing start; the rate is 0
    before the first step and the last step's rate holds for ever. E.g. steps
    [(0, 2), (10, 0), (20, 1)] accumulate 20 by hour 10, nothing more until hour 20,
    then one an hour: the 21st is ready at hour 21.
    """
    if steps[0][0] > 0:
        steps = [(0.0, 0.0), *steps]
    starts = np.array([s for s, _ in steps])
    rates = np.array([r for _, r in steps])
    cum = np.concatenate([[0.0], np.cumsum(rates[:-1] * np.diff(starts))])  # reached by each start
    seg = np.clip(np.searchsorted(cum, targets, side="left") - 1, 0, len(steps) - 1)
    rate = rates[seg]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = starts[seg] + np.where(rate > 0, (targets - cum[seg]) / rate, np.inf)
    return np.asarray(out, dtype=float)
