"""What replications, comparisons and sweeps (``sim.experiments``) share.

Seeds. Replication ``i`` of master seed ``S`` runs with the plain integer seed
``replication_seed(S, i)`` = ``SeedSequence(S, spawn_key=(i,)).generate_state(1,
uint64)[0] >> 11`` (53 bits, exact in JSON and float64 tools). It depends only
on (S, i), so results never depend on how work is split between processes
or machines, and ``dtsim run --seed <that int>`` reproduces the replication
exactly. Every point of a sweep and both sides of a comparison use the same
seeds: common random numbers.

Besides the seeds: argument checks, the indicators derived from each run's
KPIs (a target share delivered within the horizon and by the deadline, any
escape) and their probabilities, and
the JSON/DataFrame helpers of the result classes. They live here, not in
``sim.experiments.replication``, so that ``sim.experiments.sweeps`` needs nothing from
``sim.experiments.replication`` and ``sim.experiments.replication`` can re-export ``sweep`` without an
import cycle.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.common.stats import proportion
from sim.core.results import TargetError, check_target, deadline_met
from sim.experiments.store import ExperimentError
from sim.experiments.tables import ColumnTable

if TYPE_CHECKING:
    import pandas

    from sim.scenario.schema import Scenario

Progress = Callable[[int, int], None]
MAIN_KPIS = ("delivered_fraction", "day_to_50", "day_to_90", "day_to_100", "delivered",
             "escaped", "remaining", "prisons_cleared_day", "registration_complete_day",
             "registered", "fleet_utilization", "flying_hours_per_available_hour",
             "peak_facility_occupancy", "peak_registration_backlog", "at_risk_detainee_days",
             "mean_transfer_hours", "aborted_sorties")
DERIVED = ("completed", "completed_by_deadline", "any_escape")
SEED_RULE = "seed_i = SeedSequence(S, spawn_key=(i,)).generate_state(1, uint64)[0] >> 11"
MAX_REPLICATIONS = 200_000  # per-replication KPIs stay in memory (about 1 kB each)


# ----- seeds ---------------------------------------------------------------------------


def replication_seed(master_seed: int, index: int) -> int:
    """The integer run seed of replication ``index`` under ``master_seed`` (``sim.common.rng``)."""
    from sim.common.rng import replication_seed as derive

    if master_seed < 0 or index < 0:
        raise ExperimentError("seeds and replication indices must be non-negative")
    return derive(master_seed, index)


def replication_seeds(master_seed: int, n: int) -> list[int]:
    """Seeds of replications 0..n-1; distinct (a collision is checked, never silent)."""
    seeds = [replication_seed(master_seed, i) for i in range(n)]
    if len(set(seeds)) != n:
        raise ExperimentError(f"master seed {master_seed}: two replications got the same seed; "
                              "use another --seed")
    return seeds


# ----- arguments -----------------------------------------------------------------------


def as_scenario(scenario: Scenario | str | Path) -> Scenario:
    """``scenario`` itself, or the scenario loaded from that file."""
    if isinstance(scenario, (str, Path)):
        from sim.scenario.loader import load_scenario

        return load_scenario(scenario)
    return scenario


def check_n(n: int) -> int:
    """``n`` if it is a valid number of replications, else an ExperimentError."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ExperimentError(f"-n must be at least 1 replication (got {n})")
    if n > MAX_REPLICATIONS:
        raise ExperimentError(f"-n {n:,}: at most {MAX_REPLICATIONS:,} replications at a time")
    return n


def check_out(out: Path, kind: str | None = None) -> None:
    """An ExperimentError, before any work, if results could not be written to ``out``.

    ``kind`` names the results of a folder written whole (``replications``,
    ``comparison``); see ``sim.output.folders.out_dir_problem``.
    """
    from sim.output.folders import out_dir_problem

    problem = out_dir_problem(out, kind)
    if problem:
        raise ExperimentError(f"--out {out}: {problem}")


def check_deadline(deadline_day: float | None, horizon_days: int) -> float | None:
    """``deadline_day`` if it is a finite day within the horizon (0..horizon_days), else an
    ExperimentError: a deadline past the horizon would only repeat P(done within horizon)."""
    if deadline_day is None:
        return None
    if isinstance(deadline_day, bool) or not isinstance(deadline_day, (int, float)):
        raise ExperimentError(f"--deadline-day {deadline_day!r}: expected a number of days")
    if not math.isfinite(deadline_day) or not 0 <= deadline_day <= horizon_days:
        raise ExperimentError(
            f"--deadline-day {deadline_day:g}: expected a day within the horizon "
            f"(0..{horizon_days} days from the start)")
    return float(deadline_day)


# ----- derived indicators ----------------------------------------------------------------


def check_delivery_target(target: float) -> float:
    """``target`` if it is a delivery target in (0, 1] in whole percent, else an ExperimentError."""
    try:
        return check_target(target)
    except TargetError as e:
        raise ExperimentError(str(e)) from None


def derived_kpis(kpis: Mapping[str, Any], deadline_day: float | None,
                 target: float = 1.0) -> dict[str, Any]:
    """The 0/1 indicators of one run (``DERIVED``) from its KPIs.

    "Completed" means at least ``target`` of those in custody at day 0 delivered
    (``sim.core.results.deadline_met``), within the horizon or by the deadline:
    people lost never count, so losing a prison never raises these.
    """
    row: dict[str, Any] = {"completed": int(deadline_met(kpis, None, target))}
    if deadline_day is not None:
        row["completed_by_deadline"] = int(deadline_met(kpis, deadline_day, target))
    row["any_escape"] = int((kpis.get("escaped") or 0) > 0)
    return row


def _done(target: float) -> str:
    return f"{target:.0%} delivered"


def probability_label(name: str, deadline_day: float | None = None,
                      horizon_days: int | None = None, target: float = 1.0) -> str:
    """What a probability in ``probabilities`` is the probability of, for tables and figures.

    ``complete_by_deadline`` is ``P(100% delivered by day D)``;
    ``complete_within_horizon`` is ``P(100% delivered within the H-day horizon)``;
    the percentage is the target share of those in custody at day 0.
    """
    if name == "complete_by_deadline":
        return f"P({_done(target)} by day {deadline_day:g})" if deadline_day is not None \
            else f"P({_done(target)} by the deadline)"
    if name == "complete_within_horizon":
        return (f"P({_done(target)} within the {horizon_days}-day horizon)"
                if horizon_days is not None else f"P({_done(target)} within horizon)")
    return f"P({name.replace('_', ' ')})"


def probability_column(name: str, deadline_day: float | None = None,
                       target: float = 1.0) -> str:
    """The CSV column of a probability: ``p_done_by_day_15``, ``p_done_within_horizon``,
    ``p_90pct_by_day_15`` (a target below 100%), ..."""
    done = "done" if target >= 1.0 else f"{round(target * 100)}pct"
    if name == "complete_by_deadline" and deadline_day is not None:
        return f"p_{done}_by_day_{deadline_day:g}".replace(".", "_")
    if name == "complete_within_horizon":
        return f"p_{done}_within_horizon"
    return f"p_{name}"


def completion_probabilities(table: ColumnTable, deadline_day: float | None,
                             horizon_days: int | None = None,
                             target: float = 1.0) -> dict[str, dict[str, Any]]:
    """Each indicator's proportion over the runs in ``table``, with a Wilson 95% interval.

    Each entry also says what it is: ``label`` (``P(100% delivered by day 15)``),
    the delivery ``target`` and the ``deadline_day`` or ``horizon_days`` it refers to.
    """
    out = {}
    for name, col in (("complete_within_horizon", "completed"),
                      ("complete_by_deadline", "completed_by_deadline"),
                      ("any_escape", "any_escape")):
        if col in table.names:
            v = table.values(col)
            out[name] = proportion(int(np.nansum(v)), int(np.count_nonzero(~np.isnan(v))))
            out[name]["label"] = probability_label(name, deadline_day, horizon_days, target)
            if name != "any_escape":
                out[name]["target"] = target
    if deadline_day is not None and "complete_by_deadline" in out:
        out["complete_by_deadline"]["deadline_day"] = deadline_day
    if horizon_days is not None and "complete_within_horizon" in out:
        out["complete_within_horizon"]["horizon_days"] = horizon_days
    return out


# ----- output helpers --------------------------------------------------------------------


def json_safe(obj: Any) -> Any:
    """JSON-safe copy: NaN and infinities become None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def records_frame(records: list[dict[str, Any]]) -> pandas.DataFrame:
    """``records`` as a pandas DataFrame (an ImportError saying how to get pandas)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_frame() needs pandas: pip install 'dtsim[pandas]'") from None
    return pd.DataFrame.from_records(records)
