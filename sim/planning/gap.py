"""How far a simulation is from the bound: simulated day of 100% delivered over the bound's.

The simulated day comes from the delivery times themselves (the detainee
table's ``delivered_hour``), so it means "every detainee delivered" whatever
the run's KPIs are named.

The bound itself (``sim.planning.bound``, which loads networkx and, when solving,
scipy) is imported only by ``quick_bound_day``, when it is solved: ``replicate``
hands that function to its first pool worker before its runs start, and importing
this module costs the command only numpy, which it has loaded already.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Final

import numpy as np

from sim.scenario.schema import Scenario


def full_delivery_day(delivered_hours: np.ndarray) -> float | None:
    """The day (from the start) the last detainee was delivered; None if any was not."""
    hours = np.asarray(delivered_hours, dtype=float)
    if hours.size == 0 or np.isnan(hours).any():
        return None
    return float(hours.max()) / 24.0


def replication_full_days(table: Any) -> list[float | None]:
    """Per replication, the day everyone was delivered (None if anyone was not).

    From the replication table's ``day_to_100`` (the day all of those in custody at
    day 0 had been delivered; empty where anyone was lost or remains).
    """
    names = getattr(table, "names", [])
    if "day_to_100" not in names:
        return []
    return [float(d) if math.isfinite(d) else None for d in table.values("day_to_100")]


#: What ``quick_bound_day`` answers when its programs took longer than the time allowed
#: (``sim.planning.bound.QUICK_BOUND_SECONDS``): a large network's bound is left to
#: ``dtsim bound``, rather than holding a run's answer for its gap line.
TIMED_OUT: Final = "timed out"


def quick_bound_day(scenario: Scenario) -> float | None | bool | str:
    """The quick bound's day of 100% delivered (None: not within the horizon), False
    when it cannot be computed here (no scipy), or ``TIMED_OUT``. Depends on the
    scenario only: a caller may compute it while the runs it is compared with are still
    going."""
    from sim.planning.bound import QUICK_BOUND_SECONDS, BoundError, BoundTimeout, lower_bound

    try:
        b = lower_bound(scenario, fractions=(1.0,), quick=True, time_limit=QUICK_BOUND_SECONDS)
    except BoundTimeout:
        return TIMED_OUT
    except BoundError:
        return False
    return b.day_for(1.0)


def gap_for(bound_day: float | None | bool | str,
            simulated_days: Iterable[float | None]) -> dict[str, Any] | None:
    """The gap between the earliest of ``simulated_days`` and ``bound_day`` (from
    ``quick_bound_day``), or None when there is no bound (False). A bound that timed out
    has no day and says so (``not_computed``)."""
    if bound_day is False:
        return None
    given = list(simulated_days)
    days = [d for d in given if d is not None and math.isfinite(d)]
    sim_day = min(days) if days else None
    # Over replications, how many delivered everyone: the earliest alone read as if every
    # run had (two of ten did, where a front overran the airfield in the others).
    counts = {"runs": len(given), "reached": len(days)} if len(given) > 1 else {}
    if isinstance(bound_day, str):
        from sim.planning.bound import QUICK_BOUND_SECONDS

        return {"simulated_day": None if sim_day is None else round(sim_day, 3),
                "bound_day": None, "ratio": None,
                "not_computed": f"{bound_day} after {QUICK_BOUND_SECONDS:g} s", **counts}
    ratio = None
    if sim_day is not None and bound_day:
        ratio = round(sim_day / bound_day, 3)
    return {"simulated_day": None if sim_day is None else round(sim_day, 3),
            "bound_day": bound_day, "ratio": ratio, **counts}


def bound_gap(scenario: Scenario, simulated_days: Iterable[float | None]) -> dict[str, Any] | None:
    """The earliest simulated 100% day over the bound's (a quick bound), or None.

    None when the bound cannot be computed here (no scipy). ``ratio`` is None when
    no run delivered everyone or the bound is day 0.
    """
    return gap_for(quick_bound_day(scenario), simulated_days)


def gap_line(gap: dict[str, Any] | None) -> str | None:
    """The gap in one line of output, or None."""
    if gap is None:
        return None
    sim_day, bound_day = gap["simulated_day"], gap["bound_day"]
    if gap.get("not_computed"):
        return (f"bound: not computed ({gap['not_computed']}: a large network; "
                "`dtsim bound` computes it without a time limit)")
    if bound_day is None:
        return "bound: no dispatch delivers everyone within the horizon"
    if sim_day is None:
        return f"bound: 100% delivered no sooner than day {bound_day:g} (not reached here)"
    ratio = f" ({gap['ratio']:g}x)" if gap["ratio"] is not None else ""
    runs, reached = gap.get("runs", 1), gap.get("reached", 1)
    earliest = "" if runs <= 1 else (
        f" at the earliest ({reached} of {runs} runs delivered everyone)")
    return (f"bound gap: 100% delivered on day {sim_day:g}{earliest}, bound day "
            f"{bound_day:g}{ratio}")
