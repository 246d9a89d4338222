"""Experiments: replications with confidence intervals, paired comparisons, sweeps.

Seeds. Replication ``i`` of master seed ``S`` runs with the plain integer seed
``replication_seed(S, i)`` = ``SeedSequence(S, spawn_key=(i,)).generate_state(1,
uint64)[0] >> 11`` (53 bits, exact in JSON and float64 tools). It depends only
on (S, i), so results never depend on how work is split between processes
or machines, and ``dtsim run --seed <that int>`` reproduces the replication
exactly. Every point of a sweep and both sides of a comparison use the same
seeds: common random numbers.

Executors. ``jobs=1`` runs in this process; ``jobs>1`` uses a process pool
(forkserver start, so scripts need no ``__main__`` guard); ``dask="local"``
starts a dask.distributed LocalCluster and ``dask="tcp://host:port"`` uses an
existing scheduler. Workers get the validated scenario as a plain dict, check
its hash, and send back only the KPIs (and, for replications, five daily
series), never the run's logs. At most a few tasks per worker are in flight,
so memory does not grow with the number of replications.
"""

from __future__ import annotations

import itertools
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


class ExperimentError(ValueError):
    """Bad arguments to an experiment (a user error: the CLI exits 2)."""


# ----- seeds ---------------------------------------------------------------------------


def replication_seed(master_seed: int, index: int) -> int:
    """The integer run seed of replication ``index`` under ``master_seed`` (see module doc)."""
    if master_seed < 0 or index < 0:
        raise ExperimentError("seeds and replication indices must be non-negative")
    state = np.random.SeedSequence(master_seed, spawn_key=(index,)).generate_state(1, np.uint64)
    return int(state[0]) >> 11


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

    def submit(self, *args: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(run_replication(*args))
        except Exception as exc:  # noqa: BLE001 - handed to the caller via the future
            fut.set_exception(exc)
        return fut

    def wait_first(self, futures: set[Any]) -> set[Any]:
        return futures

    def close(self, cancel: bool = False) -> None:
        pass


class _Pool:
    """A local process pool; workers ignore Ctrl-C and preload the model."""

    def __init__(self, jobs: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        ctx = multiprocessing.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(["sim.experiment", "sim.model", "sim.scenario"])
        self.workers = jobs
        self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx,
                                        initializer=_ignore_sigint)

    def submit(self, *args: Any) -> Future[Any]:
        return self.pool.submit(run_replication, *args)

    def wait_first(self, futures: set[Any]) -> set[Any]:
        from concurrent.futures import FIRST_COMPLETED, wait

        return set(wait(futures, return_when=FIRST_COMPLETED).done)

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
                except (OSError, TimeoutError, ValueError) as exc:
                    raise ExperimentError(
                        f"--dask {address}: no Dask scheduler answered within "
                        f"{DASK_CONNECT_SECONDS:g} s ({type(exc).__name__})") from None
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

    def submit(self, key: str, data: Mapping[str, Any], seed: int, want_daily: bool) -> Any:
        if key not in self._data:
            self._data[key] = self.client.scatter(dict(data), broadcast=True, hash=False)
        return self.client.submit(run_replication, key, self._data[key], seed, want_daily,
                                  pure=False)

    def wait_first(self, futures: set[Any]) -> set[Any]:
        return set(self.distributed.wait(list(futures), return_when="FIRST_COMPLETED").done)

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


def execute(runner: Runner, tasks: Iterable[Task], ordered: bool) -> Iterator[tuple[Any, Any]]:
    """Run tasks ``(tag, args)``; yield ``(tag, result)`` in task order or as they finish.

    At most about four tasks per worker are outstanding, and in ordered mode
    at most that many finished results wait for an earlier one.
    """
    window = max(2, 4 * runner.workers)
    it = iter(tasks)
    pending: dict[Any, tuple[int, Any, int]] = {}
    ready: dict[int, tuple[Any, Any]] = {}
    submitted = next_out = 0
    exhausted = False
    while True:
        while not exhausted and (submitted - next_out if ordered else len(pending)) < window:
            try:
                tag, args = next(it)
            except StopIteration:
                exhausted = True
                break
            pending[runner.submit(*args)] = (submitted, tag, args[2])
            submitted += 1
        if not pending:
            break
        for fut in sorted(runner.wait_first(set(pending)), key=lambda f: pending[f][0]):
            seq, tag, seed = pending.pop(fut)
            try:
                res = fut.result()
            except Exception as exc:
                raise RuntimeError(f"the run with seed {seed} failed: "
                                   f"{type(exc).__name__}: {exc}") from exc
            if ordered:
                ready[seq] = (tag, res)
            else:
                next_out += 1
                yield tag, res
        while ordered and next_out in ready:
            yield ready.pop(next_out)
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
    """Per-replication KPI rows (compact columns) and fixed-size daily arrays."""

    def __init__(self, scenario: Scenario, n: int, deadline_day: float | None) -> None:
        self.scenario = scenario
        self.deadline_day = deadline_day
        self.table = ColumnTable()
        days = scenario.horizon_days
        self.daily = {name: np.full((n, days), np.nan, dtype=np.float32) for name in BAND_SERIES}

    def add(self, index: int, kpis: Mapping[str, Any],
            daily: Mapping[str, list[Any]] | None) -> None:
        self.table.append({"replication": index, **flatten_kpis(kpis),
                           **_derived(kpis, self.deadline_day)})
        for name, values in (daily or {}).items():
            row = np.array([math.nan if v is None else v for v in values], dtype=np.float32)
            self.daily[name][index, :len(row)] = row[: self.daily[name].shape[1]]


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
            "daily_bands": self.bands,
        })

    def write(self, out: Path) -> list[Path]:
        """Write replications.csv, summary.json and daily_bands.csv into ``out`` atomically."""
        from sim.export import atomic_write_text, csv_text, json_text

        _check_out(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / "replications.csv", out / "summary.json", out / "daily_bands.csv"]
        _atomic_csv(paths[0], self.table.names, self.table.rows())
        atomic_write_text(paths[1], json_text(self.to_dict()))
        cols = list(self.bands[0]) if self.bands else ["day"]
        atomic_write_text(paths[2], csv_text(cols, ([r[c] for c in cols] for r in self.bands)))
        return paths


def _atomic_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Stream rows into a temporary file beside ``path``, then rename it into place."""
    import csv
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(columns)
            for row in rows:
                w.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _bands(scenario: Scenario, daily: Mapping[str, np.ndarray]) -> list[dict[str, Any]]:
    import datetime as dt

    rows = []
    for day in range(scenario.horizon_days):
        row: dict[str, Any] = {"day": day,
                               "date": (scenario.start + dt.timedelta(days=day)).isoformat()}
        for name, arr in daily.items():
            col = arr[:, day].astype(float)
            col = col[~np.isnan(col)]
            if col.size:
                p5, p95 = np.percentile(col, [5, 95])
                row |= {f"{name}_mean": float(col.mean()), f"{name}_p5": float(p5),
                        f"{name}_p95": float(p95)}
            else:
                row |= {f"{name}_mean": None, f"{name}_p5": None, f"{name}_p95": None}
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
        bands=_bands(acc.scenario, acc.daily), wall_seconds=time.perf_counter() - t0)


def _payload(s: Scenario) -> tuple[str, dict[str, Any]]:
    from sim.scenario import scenario_hash
    from sim.schema import dump_scenario

    key = scenario_hash(s)
    _CACHE.setdefault(key, s)  # the in-process runner reuses the object as is
    return key, dump_scenario(s)


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
        for done, (i, (kpis, daily)) in enumerate(execute(runner, tasks, ordered=True), 1):
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
        for done, ((side, i), (kpis, daily)) in enumerate(execute(runner, tasks, True), 1):
            accs[side].add(i, kpis, daily)
            if progress:
                progress(done, 2 * n)
        ok = True
    finally:
        runner.close(cancel=not ok)
    ra, rb = (_finish(accs[x], n, seed, seeds, t0) for x in ("a", "b"))
    names = [c for c in ra.table.numeric_columns()
             if c in rb.table.numeric_columns() and c not in ("replication", "seed", "wall_seconds")]
    diffs = {c: paired_difference(ra.table.values(c), rb.table.values(c)) for c in names}
    return ComparisonResult(a=ra, b=rb, n=n, seed=seed, differences=diffs)


