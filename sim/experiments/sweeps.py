"""Sweeps: many replications at every point of a parameter grid and/or design.

``sweep`` validates every point's scenario up front (one error listing every
bad override), runs the missing (point, replication) pairs on an executor
(``sim.experiments.executors``) into a resumable SQLite store (``sim.experiments.store``), then writes
a per-point summary (``summary.json``, ``summary.csv``) and optionally the
replications (``results.csv`` or ``.parquet``). Every point uses the same
seeds (common random numbers; see ``sim.experiments.common``).

The summary and the exports always cover the whole store (every point any
sweep into it ran, under its stable index), not only this call's grid: a
later sweep adding a point never hides the earlier ones.

``sweep`` and ``SweepResult`` are re-exported by ``sim.experiments.replication``. (This
module is not called ``sim.sweep``: importing it would replace the
``sim.sweep`` function of the package with the module.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.common.stats import summarize
from sim.experiments import display
from sim.experiments.common import (
    MAIN_KPIS,
    SEED_RULE,
    Progress,
    as_scenario,
    check_deadline,
    check_delivery_target,
    check_n,
    check_out,
    completion_probabilities,
    derived_kpis,
    json_safe,
    probability_column,
    records_frame,
    replication_seeds,
)
from sim.experiments.executors import execute, make_runner, payload
from sim.experiments.store import ExperimentError, leaf_paths, load_design, plan_points, point_key
from sim.experiments.tables import ColumnTable, flatten_kpis

if TYPE_CHECKING:
    import pandas

    from sim.scenario.schema import Scenario


def _validate_points(base: Scenario, points: list[dict[str, Any]],
                     origin: str) -> list[Scenario]:
    """Each point's validated scenario, or a ScenarioError listing every problem once."""
    import difflib

    from sim.scenario.loader import ScenarioError, build, set_path
    from sim.scenario.schema import dump_scenario

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
    """A sweep's plan, what ran this time, and the summary of every point in the store.

    ``points`` and ``plan_indices`` are this call's points and their stable
    store indices; ``summary`` has one entry per point of the whole store. The
    replications themselves live in ``store_path`` (SQLite); ``to_records()``
    reads all of them back.
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
    plan_indices: list[int] | None = None
    overrides: list[str] | None = None
    target: float = 1.0  # share of those in custody at day 0 that counts as done

    def __repr__(self) -> str:
        return display.sweep_repr(self)

    def _repr_html_(self) -> str:
        return display.sweep_html(self)

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per (point, replication) of the whole store, by point index."""
        from sim.experiments.store import store_rows

        return list(store_rows(self.store_path, self.scenario_hash))

    def to_frame(self) -> pandas.DataFrame:
        """``to_records()`` as a pandas DataFrame (needs pandas)."""
        return records_frame(self.to_records())

    def summary_records(self) -> list[dict[str, Any]]:
        """One flat row per point: parameters, n, mean and 95% CI of the main KPIs."""
        rows = []
        for pt in self.summary:
            row: dict[str, Any] = {"point_index": pt["point_index"], **pt["params"], "n": pt["n"]}
            for k, st in pt["kpis"].items():
                row |= {f"{k}_mean": st["mean"], f"{k}_ci_low": st["ci_low"],
                        f"{k}_ci_high": st["ci_high"]}
            for k, pr in pt["probabilities"].items():
                row[probability_column(k, self.deadline_day, self.target)] = pr["p"]
            rows.append(row)
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary (``summary.json``, ``dtsim sweep --json``)."""
        from sim.common.version import __version__

        return json_safe({
            "kind": "sweep", "format_version": 1, "scenario": self.scenario,
            "scenario_hash": self.scenario_hash, "overrides": list(self.overrides or []),
            "version": __version__, "store": str(self.store_path), "n": self.n,
            "seed": self.seed, "seed_rule": SEED_RULE, "deadline_day": self.deadline_day,
            "target": self.target, "confidence": 0.95, "ran": self.ran, "skipped": self.skipped,
            "plan_point_indices": self.plan_indices, "points": self.summary,
        })


def _point_summary(index: int, params: dict[str, Any], rows: list[dict[str, Any]],
                   deadline_day: float | None, horizon_days: int,
                   target: float = 1.0) -> dict[str, Any]:
    table = ColumnTable()
    for kpis in rows:
        table.append({**flatten_kpis(kpis), **derived_kpis(kpis, deadline_day, target)})
    cols = [c for c in table.numeric_columns()
            if c in MAIN_KPIS or c.startswith(("sorties:", "flight_hours:"))]
    return {"point_index": index, "params": params, "n": table.n,
            "horizon_days": horizon_days,
            "kpis": {c: summarize(table.values(c).tolist()) for c in cols},
            "probabilities": completion_probabilities(table, deadline_day, horizon_days,
                                                      target)}


def sweep(scenario: Scenario | str | Path, *, n: int, out: str | Path,
          grid: Mapping[str, Sequence[Any]] | None = None,
          design: Sequence[Mapping[str, Any]] | str | Path | None = None, seed: int = 1,
          jobs: int | None = None, dask: str | None = None, export: str | None = None,
          deadline_day: float | None = None, progress: Progress | None = None,
          notice: Callable[[str], None] | None = None,
          overrides: Sequence[str] = (), target: float = 1.0) -> SweepResult:
    """Run ``n`` replications at every point of a grid and/or design into ``out``.

    ``grid`` maps dotted scenario paths to value lists (full factorial);
    ``design`` is a list of override mappings or a CSV/YAML file of them (each
    row crossed with the grid). Results go to ``out/results.sqlite``; a re-run
    skips what is stored. ``out/summary.json`` and ``out/summary.csv`` hold the
    per-point summary; ``export`` ("csv" or "parquet") also writes
    ``out/results.<ext>``; the summary and exports cover every point in the
    store. ``notice`` receives one-line status messages; ``overrides`` (the
    ``--set`` texts that made ``scenario``) are recorded in ``summary.json``.
    ``target`` is the share of those in custody at day 0 whose delivery counts
    as done in the probabilities (default all of them).
    """
    from sim.experiments.store import STORE_NAME, ResultStore, check_store, export_rows
    from sim.scenario.loader import resolved_yaml, scenario_hash

    base = as_scenario(scenario)
    check_n(n)
    out_path = Path(out)
    check_out(out_path)
    if export not in (None, "csv", "parquet"):
        raise ExperimentError(f"--export {export}: expected csv or parquet")
    if export == "parquet" and not _has_pyarrow():
        raise ExperimentError("--export parquet needs pyarrow: pip install 'dtsim[pandas]'")
    rows_design = load_design(design) if isinstance(design, (str, Path)) else design
    points = plan_points(grid, rows_design)
    scenarios = _validate_points(base, points, "--grid" if grid else "--design")
    deadline_day = check_deadline(deadline_day, min(x.horizon_days for x in [base, *scenarios]))
    target = check_delivery_target(target)
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
            indices = store.register(points)
            done = store.done()
            keys = [point_key(p) for p in points]
            todo = [(pi, ri) for pi in range(len(points)) for ri, sd in enumerate(seeds)
                    if (keys[pi], sd) not in done]
            skipped = len(points) * n - len(todo)
            if skipped and notice:
                notice(f"resuming: {skipped} of {len(points) * n} replications already in "
                       f"{store_path}")
            payloads = [payload(s) for s in scenarios]
            tasks = (((pi, ri), (*payloads[pi], seeds[ri], False)) for pi, ri in todo)
            for (pi, ri), (kpis, _) in execute(runner, tasks, False, len(todo)):
                store.add(keys[pi], indices[pi], ri, seeds[ri], points[pi], kpis)
                ran += 1
                if progress:
                    progress(skipped + ran, len(points) * n)
            ok = True
        finally:
            runner.close(cancel=not ok)
        summary = []
        for pi, key, params in store.points():
            horizon = params.get("horizon_days", base.horizon_days)
            summary.append(_point_summary(pi, params, [k for _, k in store.rows(key)],
                                          deadline_day, int(horizon), target))
    result = SweepResult(out=out_path, store_path=store_path, scenario=base.name,
                         scenario_hash=base_hash, n=n, seed=seed, deadline_day=deadline_day,
                         points=points, seeds=seeds, summary=summary, ran=ran, skipped=skipped,
                         wall_seconds=time.perf_counter() - t0, plan_indices=indices,
                         overrides=list(overrides), target=target)
    _write_sweep_summary(result, resolved_yaml(base))
    for fmt in ("csv", "parquet"):  # an export from an earlier sweep is refreshed too
        dest = out_path / f"results.{fmt}"
        if fmt == export or dest.exists():
            if fmt == "parquet" and export != "parquet" and not _has_pyarrow():
                dest.unlink()
                if notice:
                    notice(f"removed {dest}: it no longer covers the store and pyarrow is "
                           "not installed to refresh it")
                continue
            export_rows(store_path, base_hash, dest, fmt)
    return result


def _has_pyarrow() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


def _write_sweep_summary(result: SweepResult, scenario_yaml: str) -> None:
    """summary.json, summary.csv and scenario.resolved.yaml (the base scenario, as run)."""
    from sim.experiments.store import atomic_csv, atomic_text
    from sim.output.files import json_text

    atomic_text(result.out / "scenario.resolved.yaml", scenario_yaml)
    atomic_text(result.out / "summary.json", json_text(result.to_dict()))
    rows = result.summary_records()
    cols = list(dict.fromkeys(c for r in rows for c in r))
    atomic_csv(result.out / "summary.csv", cols, rows)

