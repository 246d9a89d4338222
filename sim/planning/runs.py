"""Running a design: replications at every point, streamed into a resumable store.

Sensitivity analysis and scenario discovery both run a list of points (each a
mapping of scenario paths to values) ``reps`` times. They share the sweeps'
machinery (``sim.experiments``): one SQLite store per output folder, each
finished replication committed on its own (a killed analysis loses only the
runs in flight; running the same command again skips what is stored), the
same seeds at every point (common random numbers, so a difference between
two points comes from the inputs, not from luck), and local processes or
Dask for the work.

``evaluate`` replaces the model with a plain function of (point, seed) to
KPIs, run in this process: analytic test functions and quick checks of the
statistics use it; everything else (store, resume, analysis) is the same.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from sim.experiments.common import Progress, replication_seeds
from sim.experiments.store import ExperimentError, point_key
from sim.experiments.tables import flatten_kpis

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

Evaluator = Callable[[Mapping[str, Any], int], Mapping[str, Any]]
"""A stand-in for the model: (point overrides, seed) to a KPI mapping."""


class PlanningError(ExperimentError):
    """Bad arguments to a planning analysis (a user error: the CLI exits 2)."""


def require_salib() -> None:
    """A PlanningError naming the extra to install when SALib is missing, before any run."""
    try:
        import SALib.sample  # noqa: F401
    except ImportError:
        raise PlanningError("this analysis needs SALib: pip install 'dtsim[plan]'") from None


@dataclass
class DesignRuns:
    """The KPIs of every (point, replication) of a design, as read back from the store."""

    points: list[dict[str, Any]]
    seeds: list[int]
    kpis: list[list[dict[str, Any]]]
    """``kpis[point][replication]``: flattened KPIs of one run."""
    store_path: Path
    ran: int
    skipped: int
    horizon_days: int

    def matrix(self, kpi: str) -> tuple[np.ndarray, int]:
        """``kpi`` as a (points x replications) array, and how many runs had no value.

        A run with no value (a day never reached within the horizon) counts as the
        horizon: the true value is at least that (censored), and leaving it out
        would make the slowest settings look fast.
        """
        y = np.empty((len(self.points), len(self.seeds)))
        missing = 0
        for i, row in enumerate(self.kpis):
            for j, k in enumerate(row):
                v = k.get(kpi)
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    missing += 1
                    v = self.horizon_days
                y[i, j] = float(v)
        return y, missing


#: KPIs renamed since an earlier version, by their former name (a user's scripts and
#: notes may still use it): the error names the KPI it became.
FORMER_KPI_NAMES: Final[dict[str, str]] = {"completion_day": "prisons_cleared_day"}


def check_kpi_names(kpis: Sequence[str], sample: Mapping[str, Any]) -> list[str]:
    """``kpis`` if every one is a numeric KPI of ``sample`` (one run's flattened KPIs)."""
    if not kpis:
        raise PlanningError("--kpi: name at least one KPI")
    names = sorted(k for k, v in sample.items()
                   if v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)))
    for k in kpis:
        if k not in sample:
            import difflib

            if k in FORMER_KPI_NAMES:
                now = FORMER_KPI_NAMES[k]
                raise PlanningError(f"--kpi {k}: renamed {now} (the day nobody was left to "
                                    "move, by delivery or loss; the day everyone was "
                                    "delivered is day_to_100)")
            close = difflib.get_close_matches(k, names, n=3, cutoff=0.5)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise PlanningError(f"--kpi {k}: not a KPI of this scenario ({hint}known: "
                                f"{', '.join(names[:12])}{', ...' if len(names) > 12 else ''})")
        v = sample[k]
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise PlanningError(f"--kpi {k}: not a number ({v!r})")
    return list(dict.fromkeys(kpis))


def sample_kpis(base: Scenario, seed: int, evaluate: Evaluator | None) -> dict[str, Any]:
    """The flattened KPIs of one run of ``base`` (to check KPI names before writing anything)."""
    if evaluate is not None:
        return flatten_kpis(dict(evaluate({}, seed)))
    from sim.core.model import run

    return flatten_kpis(run(base, seed).kpis)


def point_scenarios(base: Scenario, points: Sequence[Mapping[str, Any]],
                    origin: str) -> list[Scenario]:
    """Each point's validated scenario; a ScenarioError (bad input) names the first refused."""
    from sim.scenario.loader import ScenarioError, build, set_path
    from sim.scenario.schema import dump_scenario

    text = json.dumps(dump_scenario(base))
    out: list[Scenario] = []
    for pt in points:
        data = json.loads(text)
        for path, value in pt.items():
            set_path(data, path, value, origin)
        try:
            out.append(build(data))
        except ScenarioError as exc:
            label = " ".join(f"{k}={v}" for k, v in pt.items())
            msg = exc.problems[0]
            raise ScenarioError([f"{origin}: the scenario refuses the point {label}: "
                                 f"{msg[3:] if msg.startswith('?: ') else msg}"]) from None
    return out


def design_kpis(kpis: Mapping[str, Any]) -> dict[str, Any]:
    """A run's KPIs as one flat row, with ``delivery_days`` kept as its list.

    Flat rows leave ``delivery_days`` out (it is 100 days a run), but a deadline
    test (``--deadline-day D --target F``) reads it: without it every run would
    count as missing the deadline.
    """
    row = flatten_kpis(kpis)
    if "delivery_days" in kpis:
        row["delivery_days"] = kpis["delivery_days"]
    return row


def run_design(base: Scenario, points: list[dict[str, Any]], *, reps: int, seed: int,
               out: Path, jobs: int | None = None, dask: str | None = None,
               progress: Progress | None = None, notice: Callable[[str], None] | None = None,
               evaluate: Evaluator | None = None, origin: str = "--ranges") -> DesignRuns:
    """Run what the store in ``out`` lacks of ``points`` x ``reps``; return every run's KPIs.

    Everything that can be refused (the points, the store's owner, the executor)
    is checked before the store is created.
    """
    from sim.experiments.executors import execute, make_runner, payload
    from sim.experiments.store import STORE_NAME, ResultStore, check_store
    from sim.scenario.loader import resolved_yaml, scenario_hash

    seeds = replication_seeds(seed, reps)
    scenarios = point_scenarios(base, points, origin) if evaluate is None else []
    base_hash = scenario_hash(base)
    store_path = out / STORE_NAME
    check_store(store_path, base_hash, base.name)
    runner = make_runner(1 if evaluate is not None else jobs, None if evaluate else dask)
    try:
        store = ResultStore(store_path, base_hash, base.name, resolved_yaml(base))
    except BaseException:
        runner.close(cancel=True)
        raise
    keys = [point_key(p) for p in points]
    ran = 0
    ok = False
    with store:
        try:
            unique = list(dict.fromkeys(keys))
            first = {k: i for i, k in reversed(list(enumerate(keys)))}
            indices = dict(zip(unique, store.register([points[first[k]] for k in unique]),
                               strict=True))
            done = store.done()
            todo = [(first[k], ri) for k in unique for ri, sd in enumerate(seeds)
                    if (k, sd) not in done]
            total = len(unique) * reps
            skipped = total - len(todo)
            if skipped and notice:
                notice(f"resuming: {skipped} of {total} runs already in {store_path}")
            if evaluate is not None:
                for pi, ri in todo:
                    kpis = dict(evaluate(points[pi], seeds[ri]))
                    store.add(keys[pi], indices[keys[pi]], ri, seeds[ri], points[pi], kpis)
                    ran += 1
                    if progress:
                        progress(skipped + ran, total)
            else:
                payloads = {pi: payload(scenarios[pi]) for pi, _ in todo}
                tasks = (((pi, ri), (*payloads[pi], seeds[ri], False)) for pi, ri in todo)
                for (pi, ri), (kpis, _) in execute(runner, tasks, False, len(todo)):
                    store.add(keys[pi], indices[keys[pi]], ri, seeds[ri], points[pi], kpis)
                    ran += 1
                    if progress:
                        progress(skipped + ran, total)
            ok = True
        finally:
            runner.close(cancel=not ok)
        by_key: dict[str, dict[int, dict[str, Any]]] = {}
        for k in unique:
            by_key[k] = {sd: design_kpis(kp) for sd, kp in store.rows(k)}
    per_run = [[by_key[k][sd] for sd in seeds] for k in keys]
    return DesignRuns(points=points, seeds=seeds, kpis=per_run, store_path=store_path, ran=ran,
                      skipped=skipped, horizon_days=base.horizon_days)
