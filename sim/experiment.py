"""Experiments: replications with confidence intervals, paired comparisons, sweeps.

Seeds. Replication ``i`` of master seed ``S`` runs with the plain integer seed
``replication_seed(S, i)`` = ``SeedSequence(S, spawn_key=(i,)).generate_state(1,
uint64)[0] >> 11`` (53 bits, exact in JSON and float64 tools). It depends only
on (S, i), so results never depend on how work is split between processes
or machines, and ``dtsim run --seed <that int>`` reproduces the replication
exactly. Every point of a sweep and both sides of a comparison use the same
seeds: common random numbers.

Executors. ``jobs=1`` runs in this process; ``jobs>1`` uses a process pool
(forkserver start, safe with threads; as with any multiprocessing, a script
calling these functions needs an ``if __name__ == "__main__":`` guard);
``dask="local"`` starts a dask.distributed LocalCluster and
``dask="tcp://host:port"`` uses an existing scheduler. Workers get the
validated scenario as a plain dict, check its hash, and send back only the
KPIs (and, for replications, five daily series), never the run's logs. At
most a few tasks per worker are in flight, so memory does not grow with the
number of replications.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.stats import ColumnTable, flatten_kpis, proportion, summarize, t_quantile
from sim.store import (
    ExperimentError,
    StoreMismatch,
    leaf_paths,
    load_design,
    parse_grid,
    plan_points,
    point_key,
    split_values,
)

if TYPE_CHECKING:
    import pandas

    from sim.schema import Scenario

Progress = Callable[[int, int], None]
BAND_SERIES = ("delivered_cum", "registered_cum", "escaped_cum", "facility_occupancy",
               "registration_backlog")
MAIN_KPIS = ("completion_day", "registration_complete_day", "delivered", "registered", "escaped",
             "remaining", "fleet_utilization", "peak_facility_occupancy",
             "peak_registration_backlog", "at_risk_detainee_days", "mean_transfer_hours",
             "aborted_sorties")
DERIVED = ("completed", "completed_by_deadline", "any_escape")
NOT_SUMMARISED = ("replication", "seed", "wall_seconds", *DERIVED)
SEED_RULE = "seed_i = SeedSequence(S, spawn_key=(i,)).generate_state(1, uint64)[0] >> 11"
DASK_CONNECT_SECONDS = 10.0
MAX_REPLICATIONS = 200_000  # per-replication KPIs stay in memory (about 1 kB each)
BAND_CELLS = 2_000_000  # daily values kept per series for exact percentiles (4 bytes each)


# ----- seeds ---------------------------------------------------------------------------


def replication_seed(master_seed: int, index: int) -> int:
    """The integer run seed of replication ``index`` under ``master_seed`` (``sim.rng``)."""
    from sim.rng import replication_seed as derive

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


# ----- worker side ---------------------------------------------------------------------

_CACHE: dict[str, Scenario] = {}


def _scenario_for(key: str, data: Mapping[str, Any]) -> Scenario:
    """The validated scenario for ``key``, rebuilt once per worker from its dict."""
    s = _CACHE.get(key)
    if s is None:
        from sim.scenario import build, scenario_hash

        s = build(dict(data))
        if scenario_hash(s) != key:
            raise RuntimeError(f"scenario {key} changed in transit to the worker")
        if len(_CACHE) >= 256:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = s
    return s


def run_replication(key: str, data: Mapping[str, Any], seed: int,
                    want_daily: bool) -> tuple[dict[str, Any], dict[str, list[Any]] | None]:
    """One run in a worker: the KPIs and, if asked, the daily series used for bands."""
    from sim.model import run

    result = run(_scenario_for(key, data), seed)
    daily = None
    if want_daily:
        daily = {name: [row.get(name) for row in result.daily] for name in BAND_SERIES}
    return result.kpis, daily


def run_chunk(key: str, data: Mapping[str, Any], seeds: Sequence[int],
              want_daily: bool) -> list[tuple[dict[str, Any], dict[str, list[Any]] | None]]:
    """Several runs of one scenario in a worker (fewer, larger tasks for Dask)."""
    return [run_replication(key, data, seed, want_daily) for seed in seeds]


def worker_version() -> str:
    """The dtsim version a (Dask) worker runs; checked before sending work."""
    from sim import __version__

    return __version__


def _ignore_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


# ----- executors ------------------------------------------------------------------------


def default_jobs() -> int:
    """Cores this process may use (the default of ``jobs``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class _Serial:
    """Runs each task when submitted, in this process."""

    workers = 1
    chunk_limit = 1

    def submit(self, *args: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(run_chunk(*args))
        except Exception as exc:  # noqa: BLE001 - handed to the caller via the future
            fut.set_exception(exc)
        return fut

    def wait_first(self, futures: set[Any]) -> set[Any]:
        return futures

    def result(self, fut: Any) -> Any:
        return fut.result()

    def close(self, cancel: bool = False) -> None:
        pass


class _Pool:
    """A local process pool; workers ignore Ctrl-C and preload the model."""

    def __init__(self, jobs: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        methods = multiprocessing.get_all_start_methods()
        method = "forkserver" if "forkserver" in methods else "spawn"
        ctx = multiprocessing.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(["sim.experiment", "sim.model", "sim.scenario"])
        self.workers = jobs
        self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx,
                                        initializer=_ignore_sigint)

    chunk_limit = 1  # a pool task costs well under a millisecond: one run a task

    def submit(self, *args: Any) -> Future[Any]:
        return self.pool.submit(run_chunk, *args)

    def wait_first(self, futures: set[Any]) -> set[Any]:
        from concurrent.futures import FIRST_COMPLETED, wait

        return set(wait(futures, return_when=FIRST_COMPLETED).done)

    def result(self, fut: Any) -> Any:
        return fut.result()

    def close(self, cancel: bool = False) -> None:
        self.pool.shutdown(wait=not cancel, cancel_futures=True)


class _Dask:
    """A dask.distributed client: a LocalCluster (``local``) or a scheduler address."""

    def __init__(self, address: str, jobs: int) -> None:
        import logging

        try:
            import distributed
        except ImportError:
            raise ExperimentError("--dask needs dask.distributed: pip install 'dtsim[dask]'") \
                from None
        self.distributed = distributed
        self.cluster: Any = None
        quiet = logging.getLogger("distributed")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            if address == "local":
                self.cluster = distributed.LocalCluster(
                    n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                    silence_logs=logging.ERROR)
                self.client = distributed.Client(self.cluster)
            else:
                if "://" not in address or not address.split("://", 1)[1]:
                    raise ExperimentError(f"--dask {address}: expected 'local' or a scheduler "
                                          "address such as tcp://host:8786")
                try:
                    self.client = distributed.Client(address, timeout=DASK_CONNECT_SECONDS)
                except (OSError, TimeoutError) as exc:
                    raise ExperimentError(
                        f"--dask {address}: no Dask scheduler answered within "
                        f"{DASK_CONNECT_SECONDS:g} s ({type(exc).__name__})") from None
                except Exception as exc:  # noqa: BLE001 - something answered, not Dask
                    raise ExperimentError(
                        f"--dask {address}: not a Dask scheduler, or it did not answer "
                        f"properly ({type(exc).__name__})") from None
                try:
                    self.client.wait_for_workers(1, timeout=DASK_CONNECT_SECONDS)
                except (OSError, TimeoutError) as exc:
                    self.client.close()
                    raise ExperimentError(f"--dask {address}: the scheduler has no workers "
                                          f"({type(exc).__name__})") from None
                self._check_versions(address)
        finally:
            quiet.setLevel(level)
        info = self.client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info["workers"].values()))
        self._data: dict[str, Any] = {}
        self._done = distributed.as_completed(with_results=True)
        self._results: dict[Any, Any] = {}

    def _check_versions(self, address: str) -> None:
        from sim import __version__

        try:
            versions = set(self.client.run(worker_version).values())
        except Exception as exc:  # noqa: BLE001 - any failure means workers lack dtsim
            self.client.close()
            raise ExperimentError(f"--dask {address}: the workers cannot run dtsim "
                                  f"({type(exc).__name__}); install it on every worker") from None
        if versions != {__version__}:
            self.client.close()
            raise ExperimentError(f"--dask {address}: workers run dtsim {sorted(versions)}, "
                                  f"this is {__version__}")

    chunk_limit = 8  # a Dask task costs milliseconds of scheduler time: group runs

    def submit(self, key: str, data: Mapping[str, Any], seeds: list[int],
               want_daily: bool) -> Any:
        if key not in self._data:  # once per scenario; a list, since a scattered dict
            # would become one Dask key per field, shared between scenarios
            [self._data[key]] = self.client.scatter([dict(data)], broadcast=True, hash=False)
        fut = self.client.submit(run_chunk, key, self._data[key], seeds, want_daily,
                                 pure=False)
        self._done.add(fut)
        return fut

    def wait_first(self, futures: set[Any]) -> set[Any]:
        # Block for one, then take any others already finished; results arrive with
        # them (gathered in the background), not by a round trip per future.
        batch = [next(self._done), *self._done.next_batch(block=False)]
        for fut, res in batch:
            self._results[fut] = res
        return {fut for fut, _ in batch}

    def result(self, fut: Any) -> Any:
        return self._results.pop(fut)

    def close(self, cancel: bool = False) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


Runner = _Serial | _Pool | _Dask


def make_runner(jobs: int | None, dask: str | None) -> Runner:
    """The executor for ``jobs`` local processes, or Dask when ``dask`` is given."""
    j = default_jobs() if jobs is None else jobs
    if j < 1:
        raise ExperimentError(f"--jobs must be at least 1 (got {j})")
    if dask:
        return _Dask(dask, j)
    return _Serial() if j == 1 else _Pool(j)


Task = tuple[Any, tuple[str, Mapping[str, Any], int, bool]]


def _chunks(tasks: Iterable[Task], size: int) -> Iterator[list[Task]]:
    """Consecutive tasks of the same scenario, ``size`` at most a group."""
    buf: list[Task] = []
    for task in tasks:
        if buf and (len(buf) == size or buf[0][1][0] != task[1][0]):
            yield buf
            buf = []
        buf.append(task)
    if buf:
        yield buf


def execute(runner: Runner, tasks: Iterable[Task], ordered: bool,
            total: int) -> Iterator[tuple[Any, Any]]:
    """Run ``total`` tasks ``(tag, args)``; yield ``(tag, result)`` in task order or as
    they finish.

    Tasks go to the runner in groups (one run a group locally, up to eight on
    Dask, keeping at least eight groups a worker). At most about four groups
    per worker are outstanding, and in ordered mode at most that many finished
    groups wait for an earlier one, so memory does not grow with ``total``.
    """
    size = max(1, min(runner.chunk_limit, total // (8 * runner.workers)))
    window = max(2, 4 * runner.workers)
    groups = _chunks(tasks, size)
    pending: dict[Any, tuple[int, list[Task]]] = {}
    ready: dict[int, list[tuple[Any, Any]]] = {}
    submitted = next_out = 0
    exhausted = False
    while True:
        while not exhausted and (submitted - next_out if ordered else len(pending)) < window:
            group = next(groups, None)
            if group is None:
                exhausted = True
                break
            key, data, _, want_daily = group[0][1]
            fut = runner.submit(key, data, [args[2] for _, args in group], want_daily)
            pending[fut] = (submitted, group)
            submitted += 1
        if not pending:
            break
        try:
            finished = runner.wait_first(set(pending))
        except Exception as exc:
            raise RuntimeError(f"a run failed: {type(exc).__name__}: {exc}") from exc
        for fut in sorted(finished, key=lambda f: pending[f][0]):
            seq, group = pending.pop(fut)
            try:
                results = runner.result(fut)
            except Exception as exc:
                seeds = ", ".join(str(args[2]) for _, args in group)
                raise RuntimeError(f"a run with seed {seeds} failed: "
                                   f"{type(exc).__name__}: {exc}") from exc
            pairs = [(tag, res) for (tag, _), res in zip(group, results, strict=True)]
            if ordered:
                ready[seq] = pairs
            else:
                yield from pairs
        while ordered and next_out in ready:
            yield from ready.pop(next_out)
            next_out += 1


# ----- replications -----------------------------------------------------------------------


def _as_scenario(scenario: Scenario | str | Path) -> Scenario:
    if isinstance(scenario, (str, Path)):
        from sim.scenario import load_scenario

        return load_scenario(scenario)
    return scenario


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ExperimentError(f"-n must be at least 1 replication (got {n})")
    if n > MAX_REPLICATIONS:
        raise ExperimentError(f"-n {n:,}: at most {MAX_REPLICATIONS:,} replications at a time")
    return n


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ExperimentError(f"--out {out}: exists and is not a directory")


def _derived(kpis: Mapping[str, Any], deadline_day: float | None) -> dict[str, Any]:
    done = kpis.get("completion_day")
    row: dict[str, Any] = {"completed": int(done is not None)}
    if deadline_day is not None:
        row["completed_by_deadline"] = int(done is not None and done <= deadline_day)
    row["any_escape"] = int((kpis.get("escaped") or 0) > 0)
    return row


class _Accumulator:
    """Per-replication KPI rows (compact columns) and fixed-size daily arrays.

    Daily means are exact running sums. Daily percentiles keep every value up
    to ``BAND_CELLS`` values a series (4 bytes each); beyond that they use every
    k-th replication (a deterministic subsample, reported in the summary).
    """

    def __init__(self, scenario: Scenario, n: int, deadline_day: float | None) -> None:
        self.scenario = scenario
        self.deadline_day = deadline_day
        self.table = ColumnTable()
        days = scenario.horizon_days
        self.stride = max(1, math.ceil(n * days / BAND_CELLS))
        kept = math.ceil(n / self.stride)
        self.daily = {name: np.full((kept, days), np.nan, dtype=np.float32)
                      for name in BAND_SERIES}
        self.sums = {name: np.zeros(days) for name in BAND_SERIES}
        self.counts = {name: np.zeros(days) for name in BAND_SERIES}

    def add(self, index: int, kpis: Mapping[str, Any],
            daily: Mapping[str, list[Any]] | None) -> None:
        self.table.append({"replication": index, **flatten_kpis(kpis),
                           **_derived(kpis, self.deadline_day)})
        for name, values in (daily or {}).items():
            days = self.sums[name].size
            row = np.array([math.nan if v is None else v for v in values[:days]], dtype=float)
            ok = ~np.isnan(row)
            self.sums[name][: row.size][ok] += row[ok]
            self.counts[name][: row.size][ok] += 1
            if index % self.stride == 0:
                self.daily[name][index // self.stride, : row.size] = row


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN and infinities become None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _frame(records: list[dict[str, Any]]) -> pandas.DataFrame:
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_frame() needs pandas: pip install 'dtsim[pandas]'") from None
    return pd.DataFrame.from_records(records)


@dataclass
class ReplicationResult:
    """N replications of one scenario: per-replication KPIs, summaries, daily bands.

    ``kpis`` maps each numeric KPI to its summary (n, mean, sd, 95% t interval,
    p5/p50/p95, min, max); ``probabilities`` gives completion within the
    horizon, by the deadline (if one was given) and any escape, each with a
    Wilson 95% interval. Days are days from the scenario start.
    """

    scenario: str
    scenario_hash: str
    n: int
    seed: int
    deadline_day: float | None
    seeds: list[int]
    table: ColumnTable
    kpis: dict[str, dict[str, Any]]
    probabilities: dict[str, dict[str, Any]]
    bands: list[dict[str, Any]]
    wall_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per replication (as in ``replications.csv``)."""
        return list(self.table.rows())

    def to_frame(self) -> pandas.DataFrame:
        """``to_records()`` as a pandas DataFrame (needs pandas)."""
        return _frame(self.to_records())

    def summary_records(self) -> list[dict[str, Any]]:
        """One row per KPI with its summary statistics."""
        return [{"kpi": k, **v} for k, v in self.kpis.items()]

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary (``summary.json``, ``dtsim replicate --json``)."""
        return _clean({
            "kind": "replications", "scenario": self.scenario,
            "scenario_hash": self.scenario_hash, "n": self.n, "seed": self.seed,
            "seed_rule": SEED_RULE, "deadline_day": self.deadline_day,
            "confidence": 0.95, "kpis": self.kpis, "probabilities": self.probabilities,
            "daily_bands": self.bands, **self.extra,
        })

    def write(self, out: Path) -> list[Path]:
        """Write replications.csv, summary.json and daily_bands.csv into ``out`` atomically."""
        from sim.export import csv_text, json_text
        from sim.store import atomic_text

        _check_out(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / "replications.csv", out / "summary.json", out / "daily_bands.csv"]
        _atomic_csv(paths[0], self.table.names, self.table.rows())
        atomic_text(paths[1], json_text(self.to_dict()))
        cols = list(self.bands[0]) if self.bands else ["day"]
        atomic_text(paths[2], csv_text(cols, ([r[c] for c in cols] for r in self.bands)))
        return paths


def _atomic_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    from sim.store import atomic_csv

    atomic_csv(path, columns, rows)


def _bands(scenario: Scenario, acc: _Accumulator) -> list[dict[str, Any]]:
    import datetime as dt

    rows = []
    for day in range(scenario.horizon_days):
        row: dict[str, Any] = {"day": day,
                               "date": (scenario.start + dt.timedelta(days=day)).isoformat()}
        for name, arr in acc.daily.items():
            col = arr[:, day].astype(float)
            col = col[~np.isnan(col)]
            count = acc.counts[name][day]
            row[f"{name}_mean"] = float(acc.sums[name][day] / count) if count else None
            if col.size:
                p5, p95 = np.percentile(col, [5, 95])
                row |= {f"{name}_p5": float(p5), f"{name}_p95": float(p95)}
            else:
                row |= {f"{name}_p5": None, f"{name}_p95": None}
        rows.append(row)
    return rows


def _probabilities(table: ColumnTable, deadline_day: float | None) -> dict[str, dict[str, Any]]:
    out = {}
    for name, col in (("complete_within_horizon", "completed"),
                      ("complete_by_deadline", "completed_by_deadline"),
                      ("any_escape", "any_escape")):
        if col in table.names:
            v = table.values(col)
            out[name] = proportion(int(np.nansum(v)), int(np.count_nonzero(~np.isnan(v))))
    if deadline_day is not None:
        out["complete_by_deadline"]["deadline_day"] = deadline_day
    return out


def _finish(acc: _Accumulator, n: int, seed: int, seeds: list[int],
            t0: float) -> ReplicationResult:
    from sim.scenario import scenario_hash

    table = acc.table
    kpis = {c: summarize(table.values(c).tolist())
            for c in table.numeric_columns() if c not in NOT_SUMMARISED}
    return ReplicationResult(
        scenario=acc.scenario.name, scenario_hash=scenario_hash(acc.scenario), n=n, seed=seed,
        deadline_day=acc.deadline_day, seeds=seeds, table=table, kpis=kpis,
        probabilities=_probabilities(table, acc.deadline_day),
        bands=_bands(acc.scenario, acc), wall_seconds=time.perf_counter() - t0,
        extra={"daily_bands_percentiles_from": math.ceil(n / acc.stride)})


def _payload(s: Scenario) -> tuple[str, dict[str, Any]]:
    from sim.scenario import scenario_hash
    from sim.schema import dump_scenario

    return scenario_hash(s), dump_scenario(s)


def replicate(scenario: Scenario | str | Path, n: int, *, seed: int = 1, jobs: int | None = None,
              deadline_day: float | None = None, dask: str | None = None,
              out: str | Path | None = None, progress: Progress | None = None,
              ) -> ReplicationResult:
    """Run ``n`` replications of ``scenario`` (a Scenario or a file) and summarise them.

    ``seed`` is the master seed; ``jobs`` local processes (default: all cores)
    or a Dask cluster (``dask="local"`` or a scheduler address);
    ``deadline_day`` (days from the start) adds P(completion by then);
    ``out`` writes replications.csv, summary.json and daily_bands.csv.
    """
    s = _as_scenario(scenario)
    _check_n(n)
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        _check_out(out_path)
    t0 = time.perf_counter()
    seeds = replication_seeds(seed, n)
    key, data = _payload(s)
    acc = _Accumulator(s, n, deadline_day)
    runner = make_runner(jobs, dask)
    ok = False
    try:
        tasks = ((i, (key, data, sd, True)) for i, sd in enumerate(seeds))
        for done, (i, (kpis, daily)) in enumerate(execute(runner, tasks, True, n), 1):
            acc.add(i, kpis, daily)
            if progress:
                progress(done, n)
        ok = True
    finally:
        runner.close(cancel=not ok)
    result = _finish(acc, n, seed, seeds, t0)
    if out_path is not None:
        result.write(out_path)
    return result


# ----- paired comparisons ------------------------------------------------------------------


@dataclass
class ComparisonResult:
    """Two scenarios run on the same seeds; differences are B minus A.

    For each KPI: the paired mean difference with its 95% t interval, the
    unpaired (Welch) interval the same runs would give if they were
    independent, and ``variance_ratio`` = unpaired / paired variance of the
    estimated difference (how many times more replications independent runs
    would need for the same precision; None when the paired differences do
    not vary at all).
    """

    a: ReplicationResult
    b: ReplicationResult
    n: int
    seed: int
    differences: dict[str, dict[str, Any]]

    def to_records(self) -> list[dict[str, Any]]:
        """One row per KPI with both means, the difference and its intervals."""
        return [{"kpi": k, **v} for k, v in self.differences.items()]

    def to_frame(self) -> pandas.DataFrame:
        """``to_records()`` as a pandas DataFrame (needs pandas)."""
        return _frame(self.to_records())

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``dtsim compare --json``."""
        return _clean({
            "kind": "comparison", "a": self.a.scenario, "b": self.b.scenario,
            "a_hash": self.a.scenario_hash, "b_hash": self.b.scenario_hash, "n": self.n,
            "seed": self.seed, "seed_rule": SEED_RULE, "difference": "b - a",
            "confidence": 0.95, "kpis": self.differences,
            "probabilities": {"a": self.a.probabilities, "b": self.b.probabilities},
        })


def paired_difference(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Paired and unpaired estimates of mean(b) - mean(a) (NaN pairs left out)."""
    fa, fb = a[~np.isnan(a)], b[~np.isnan(b)]
    keep = ~(np.isnan(a) | np.isnan(b))
    d = summarize((b[keep] - a[keep]).tolist())
    row: dict[str, Any] = {
        "mean_a": float(fa.mean()) if fa.size else None,
        "mean_b": float(fb.mean()) if fb.size else None,
        "n_pairs": d["n"], "mean_diff": d["mean"], "sd_diff": d["sd"],
        "ci_low": d["ci_low"], "ci_high": d["ci_high"], "half_width": d["half_width"],
        "unpaired_ci_low": None, "unpaired_ci_high": None, "unpaired_half_width": None,
        "variance_ratio": None,
    }
    if fa.size >= 2 and fb.size >= 2:
        va, vb = float(fa.var(ddof=1)) / fa.size, float(fb.var(ddof=1)) / fb.size
        se2 = va + vb
        if se2 > 0:
            df = se2**2 / (va**2 / (fa.size - 1) + vb**2 / (fb.size - 1))
            hw = t_quantile(0.975, df) * math.sqrt(se2)
        else:
            hw = 0.0
        diff = float(fb.mean() - fa.mean())
        row |= {"unpaired_ci_low": diff - hw, "unpaired_ci_high": diff + hw,
                "unpaired_half_width": hw}
        if d["sd"] is not None and d["sd"] > 0:
            row["variance_ratio"] = se2 / (d["sd"] ** 2 / d["n"])
        elif se2 == 0:
            row["variance_ratio"] = 1.0
    return row


def compare(a: Scenario | str | Path, b: Scenario | str | Path, n: int, *, seed: int = 1,
            jobs: int | None = None, deadline_day: float | None = None,
            dask: str | None = None, progress: Progress | None = None) -> ComparisonResult:
    """Run ``a`` and ``b`` on the same ``n`` seeds and estimate the differences (b - a)."""
    sa, sb = _as_scenario(a), _as_scenario(b)
    _check_n(n)
    t0 = time.perf_counter()
    seeds = replication_seeds(seed, n)
    (ka, da), (kb, db) = _payload(sa), _payload(sb)
    accs = {"a": _Accumulator(sa, n, deadline_day), "b": _Accumulator(sb, n, deadline_day)}
    runner = make_runner(jobs, dask)
    ok = False
    try:
        tasks = (((side, i), (k, d, sd, True)) for i, sd in enumerate(seeds)
                 for side, k, d in (("a", ka, da), ("b", kb, db)))
        for done, ((side, i), (kpis, daily)) in enumerate(execute(runner, tasks, True, 2 * n), 1):
            accs[side].add(i, kpis, daily)
            if progress:
                progress(done, 2 * n)
        ok = True
    finally:
        runner.close(cancel=not ok)
    ra, rb = (_finish(accs[x], n, seed, seeds, t0) for x in ("a", "b"))
    skip = ("replication", "seed", "wall_seconds")
    names = [c for c in ra.table.numeric_columns()
             if c in rb.table.numeric_columns() and c not in skip]
    diffs = {c: paired_difference(ra.table.values(c), rb.table.values(c)) for c in names}
    return ComparisonResult(a=ra, b=rb, n=n, seed=seed, differences=diffs)


# ----- sweeps ----------------------------------------------------------------------------------


def _validate_points(base: Scenario, points: list[dict[str, Any]],
                     origin: str) -> list[Scenario]:
    """Each point's validated scenario, or a ScenarioError listing every problem once."""
    import difflib

    from sim.scenario import ScenarioError, build, set_path
    from sim.schema import dump_scenario

    base_data = dump_scenario(base)
    problems: list[str] = []
    bad_paths: set[str] = set()
    for path in dict.fromkeys(p for pt in points for p in pt):
        try:
            set_path(json.loads(json.dumps(base_data)), path, None, origin)
        except ScenarioError as exc:
            close = difflib.get_close_matches(path, leaf_paths(base_data), n=3, cutoff=0.6)
            hint = f"; nearest valid paths: {', '.join(close)}" if close else ""
            problems += [p + hint for p in exc.problems]
            bad_paths.add(path)
    if problems:
        raise ScenarioError(problems)
    out: list[Scenario] = []
    seen: set[str] = set()
    for pt in points:
        data = json.loads(json.dumps(base_data))
        for path, value in pt.items():
            set_path(data, path, value, origin)
        try:
            out.append(build(data))
        except ScenarioError as exc:
            label = " ".join(f"{k}={v}" for k, v in pt.items())
            for p in exc.problems:
                msg = p[3:] if p.startswith("?: ") else p
                line = f"{origin} {label}: {msg}"
                if msg not in seen:
                    seen.add(msg)
                    problems.append(line)
    if problems:
        raise ScenarioError(problems)
    return out


@dataclass
class SweepResult:
    """A sweep's plan, what ran this time, and the summary of every point.

    The replications themselves live in ``store_path`` (SQLite);
    ``to_records()`` reads those of this plan back.
    """

    out: Path
    store_path: Path
    scenario: str
    scenario_hash: str
    n: int
    seed: int
    deadline_day: float | None
    points: list[dict[str, Any]]
    seeds: list[int]
    summary: list[dict[str, Any]]
    ran: int
    skipped: int
    wall_seconds: float

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per (point, replication) of this plan, from the store."""
        from sim.store import plan_rows

        return list(plan_rows(self.store_path, self.scenario_hash, self.points, self.seeds))

    def to_frame(self) -> pandas.DataFrame:
        """``to_records()`` as a pandas DataFrame (needs pandas)."""
        return _frame(self.to_records())

    def summary_records(self) -> list[dict[str, Any]]:
        """One flat row per point: parameters, n, mean and 95% CI of the main KPIs."""
        rows = []
        for pt in self.summary:
            row: dict[str, Any] = {"point_index": pt["point_index"], **pt["params"], "n": pt["n"]}
            for k, st in pt["kpis"].items():
                row |= {f"{k}_mean": st["mean"], f"{k}_ci_low": st["ci_low"],
                        f"{k}_ci_high": st["ci_high"]}
            for k, pr in pt["probabilities"].items():
                row[f"p_{k}"] = pr["p"]
            rows.append(row)
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary (``summary.json``, ``dtsim sweep --json``)."""
        return _clean({
            "kind": "sweep", "scenario": self.scenario, "scenario_hash": self.scenario_hash,
            "store": str(self.store_path), "n": self.n, "seed": self.seed,
            "seed_rule": SEED_RULE, "deadline_day": self.deadline_day, "confidence": 0.95,
            "ran": self.ran, "skipped": self.skipped, "points": self.summary,
        })


def _point_summary(index: int, params: dict[str, Any], rows: list[dict[str, Any]],
                   deadline_day: float | None) -> dict[str, Any]:
    table = ColumnTable()
    for kpis in rows:
        table.append({**flatten_kpis(kpis), **_derived(kpis, deadline_day)})
    cols = [c for c in table.numeric_columns()
            if c in MAIN_KPIS or c.startswith(("sorties:", "flight_hours:"))]
    return {"point_index": index, "params": params, "n": table.n,
            "kpis": {c: summarize(table.values(c).tolist()) for c in cols},
            "probabilities": _probabilities(table, deadline_day)}


def sweep(scenario: Scenario | str | Path, *, n: int, out: str | Path,
          grid: Mapping[str, Sequence[Any]] | None = None,
          design: Sequence[Mapping[str, Any]] | str | Path | None = None, seed: int = 1,
          jobs: int | None = None, dask: str | None = None, export: str | None = None,
          deadline_day: float | None = None, progress: Progress | None = None,
          notice: Callable[[str], None] | None = None) -> SweepResult:
    """Run ``n`` replications at every point of a grid and/or design into ``out``.

    ``grid`` maps dotted scenario paths to value lists (full factorial);
    ``design`` is a list of override mappings or a CSV/YAML file of them (each
    row crossed with the grid). Results go to ``out/results.sqlite``; a re-run
    skips what is stored. ``out/summary.json`` and ``out/summary.csv`` hold the
    per-point summary; ``export`` ("csv" or "parquet") also writes
    ``out/results.<ext>``. ``notice`` receives one-line status messages.
    """
    from sim.scenario import resolved_yaml, scenario_hash
    from sim.store import STORE_NAME, ResultStore, check_store, export_rows

    base = _as_scenario(scenario)
    _check_n(n)
    out_path = Path(out)
    _check_out(out_path)
    if export not in (None, "csv", "parquet"):
        raise ExperimentError(f"--export {export}: expected csv or parquet")
    if export == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ExperimentError("--export parquet needs pyarrow: pip install "
                                  "'dtsim[pandas]'") from None
    rows_design = load_design(design) if isinstance(design, (str, Path)) else design
    points = plan_points(grid, rows_design)
    scenarios = _validate_points(base, points, "--grid" if grid else "--design")
    base_hash = scenario_hash(base)
    store_path = out_path / STORE_NAME
    check_store(store_path, base_hash, base.name)
    seeds = replication_seeds(seed, n)
    t0 = time.perf_counter()
    runner = make_runner(jobs, dask)  # before the store: a bad address creates nothing
    try:
        store = ResultStore(store_path, base_hash, base.name, resolved_yaml(base))
    except BaseException:
        runner.close(cancel=True)
        raise
    ok = False
    ran = 0
    with store:
        try:
            done = store.done()
            keys = [point_key(p) for p in points]
            todo = [(pi, ri) for pi in range(len(points)) for ri, sd in enumerate(seeds)
                    if (keys[pi], sd) not in done]
            skipped = len(points) * n - len(todo)
            if skipped and notice:
                notice(f"resuming: {skipped} of {len(points) * n} replications already in "
                       f"{store_path}")
            payloads = [_payload(s) for s in scenarios]
            tasks = (((pi, ri), (*payloads[pi], seeds[ri], False)) for pi, ri in todo)
            for (pi, ri), (kpis, _) in execute(runner, tasks, False, len(todo)):
                store.add(keys[pi], pi, ri, seeds[ri], points[pi], kpis)
                ran += 1
                if progress:
                    progress(skipped + ran, len(points) * n)
            ok = True
        finally:
            runner.close(cancel=not ok)
        summary = []
        index = {sd: i for i, sd in enumerate(seeds)}
        for pi, (key, params) in enumerate(zip(keys, points, strict=True)):
            rows = sorted((index[sd], k) for sd, k in store.rows(key) if sd in index)
            summary.append(_point_summary(pi, params, [k for _, k in rows], deadline_day))
    result = SweepResult(out=out_path, store_path=store_path, scenario=base.name,
                         scenario_hash=base_hash, n=n, seed=seed, deadline_day=deadline_day,
                         points=points, seeds=seeds, summary=summary, ran=ran, skipped=skipped,
                         wall_seconds=time.perf_counter() - t0)
    _write_sweep_summary(result)
    if export:
        export_rows(store_path, base_hash, points, seeds, out_path / f"results.{export}", export)
    return result


def _write_sweep_summary(result: SweepResult) -> None:
    from sim.export import json_text
    from sim.store import atomic_text

    atomic_text(result.out / "summary.json", json_text(result.to_dict()))
    rows = result.summary_records()
    cols = list(dict.fromkeys(c for r in rows for c in r))
    _atomic_csv(result.out / "summary.csv", cols, rows)


__all__ = [
    "ComparisonResult", "ExperimentError", "ReplicationResult", "StoreMismatch", "SweepResult",
    "compare", "leaf_paths", "load_design", "parse_grid", "plan_points", "point_key",
    "replicate", "replication_seed", "replication_seeds", "split_values", "sweep",
]
