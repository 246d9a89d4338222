"""Experiments: replications with confidence intervals and paired comparisons.

``replicate`` runs one scenario ``n`` times and summarises each KPI (mean, sd,
95% t interval, percentiles), the completion and escape probabilities and
daily bands; ``compare`` runs two scenarios on the same seeds and estimates
the paired differences. Sweeps over parameter grids live in ``sim.experiments.sweeps``;
``sweep`` and ``SweepResult`` are re-exported here, as are the seed functions
(``sim.experiments.common``: replication ``i`` of master seed ``S`` runs with
``replication_seed(S, i)``, the same for every scenario: common random
numbers) and the store's errors and plan helpers (``sim.experiments.store``).

Where the runs happen (this process, a process pool or Dask) is
``sim.experiments.executors``; results never depend on it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.common.stats import (
    paired_proportion_difference,
    proportion_difference,
    summarize,
    t_quantile,
)
from sim.experiments import display
from sim.experiments.alongside import Alongside
from sim.experiments.common import (
    DERIVED,
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
    probability_label,
    records_frame,
    replication_seed,
    replication_seeds,
)
from sim.experiments.executors import BAND_SERIES, execute, make_runner, payload
from sim.experiments.store import (
    ExperimentError,
    StoreMismatch,
    leaf_paths,
    load_design,
    parse_grid,
    plan_points,
    point_key,
    split_values,
)
from sim.experiments.sweeps import SweepResult, sweep
from sim.experiments.tables import ColumnTable, flatten_kpis

if TYPE_CHECKING:
    import pandas

    from sim.scenario.schema import Scenario

NOT_SUMMARISED = ("replication", "seed", "wall_seconds", *DERIVED)
BAND_CELLS = 2_000_000  # daily values kept per series for exact percentiles (4 bytes each)


# ----- replications -----------------------------------------------------------------------


class _Accumulator:
    """Per-replication KPI rows (compact columns) and fixed-size daily arrays.

    Daily means are exact running sums. Daily percentiles keep every value up
    to ``BAND_CELLS`` values a series (4 bytes each); beyond that they use every
    k-th replication (a deterministic subsample, reported in the summary).
    """

    def __init__(self, scenario: Scenario, n: int, deadline_day: float | None,
                 target: float = 1.0) -> None:
        self.scenario = scenario
        self.deadline_day = deadline_day
        self.target = target  # share of those in custody at day 0 that counts as done
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
                           **derived_kpis(kpis, self.deadline_day, self.target)})
        for name, values in (daily or {}).items():
            days = self.sums[name].size
            row = np.array([math.nan if v is None else v for v in values[:days]], dtype=float)
            ok = ~np.isnan(row)
            self.sums[name][: row.size][ok] += row[ok]
            self.counts[name][: row.size][ok] += 1
            if index % self.stride == 0:
                self.daily[name][index // self.stride, : row.size] = row


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
    horizon_days: int | None = None
    scenario_yaml: str = ""
    source: str | None = None
    overrides: list[str] = field(default_factory=list)
    target: float = 1.0  # share of those in custody at day 0 that counts as done

    def __repr__(self) -> str:
        return display.replication_repr(self)

    def _repr_html_(self) -> str:
        return display.replication_html(self)

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per replication (as in ``replications.csv``)."""
        return list(self.table.rows())

    def to_frame(self) -> pandas.DataFrame:
        """``to_records()`` as a pandas DataFrame (needs pandas)."""
        return records_frame(self.to_records())

    def summary_records(self) -> list[dict[str, Any]]:
        """One row per KPI with its summary statistics."""
        return [{"kpi": k, **v} for k, v in self.kpis.items()]

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary (``summary.json``, ``dtsim replicate --json``).

        Besides the statistics it records what ran: the scenario file, the
        ``--set`` overrides applied to it, the scenario hash (its resolved form
        is ``scenario.resolved.yaml`` next to it), the master seed, the seed
        rule and the dtsim version.
        """
        from sim.common.version import __version__

        return json_safe({
            "kind": "replications", "format_version": 1, "scenario": self.scenario,
            "scenario_hash": self.scenario_hash, "scenario_file": self.source,
            "overrides": list(self.overrides), "version": __version__, "n": self.n,
            "seed": self.seed, "seed_rule": SEED_RULE, "horizon_days": self.horizon_days,
            "deadline_day": self.deadline_day, "target": self.target,
            "confidence": 0.95, "kpis": self.kpis, "probabilities": self.probabilities,
            "daily_bands": self.bands, **self.extra,
        })

    def write(self, out: Path) -> list[Path]:
        """Write the folder ``out`` whole: replications.csv, summary.json, daily_bands.csv,
        scenario.resolved.yaml and complete.json (see ``sim.output.folders``)."""
        from sim.output.folders import new_run_id, staged_folder

        check_out(out, "replications")
        run_id = new_run_id()
        with staged_folder(out, "replications", run_id) as tmp:
            names = self._write_files(tmp, "", run_id)
        return [out / name for name in names]

    def _write_files(self, folder: Path, suffix: str, run_id: str) -> list[str]:
        """replications{suffix}.csv, summary{suffix}.json, daily_bands{suffix}.csv and
        scenario{suffix}.resolved.yaml in ``folder`` (a staging folder)."""
        from sim.experiments.store import atomic_csv, atomic_text
        from sim.output.files import csv_text, json_text

        names = [f"replications{suffix}.csv", f"summary{suffix}.json",
                 f"daily_bands{suffix}.csv", f"scenario{suffix}.resolved.yaml"]
        atomic_csv(folder / names[0], self.table.names, self.table.rows())
        atomic_text(folder / names[1], json_text({**self.to_dict(), "run_id": run_id}))
        cols = list(self.bands[0]) if self.bands else ["day"]
        atomic_text(folder / names[2], csv_text(cols, ([r[c] for c in cols] for r in self.bands)))
        atomic_text(folder / names[3], self.scenario_yaml)
        return names


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


def _finish(acc: _Accumulator, n: int, seed: int, seeds: list[int], t0: float,
            source: str | Path | None = None,
            overrides: Sequence[str] = ()) -> ReplicationResult:
    from sim.scenario.loader import resolved_yaml, scenario_hash

    table = acc.table
    kpis = {c: summarize(table.values(c).tolist())
            for c in table.numeric_columns() if c not in NOT_SUMMARISED}
    horizon = acc.scenario.horizon_days
    return ReplicationResult(
        scenario=acc.scenario.name, scenario_hash=scenario_hash(acc.scenario), n=n, seed=seed,
        deadline_day=acc.deadline_day, seeds=seeds, table=table, kpis=kpis,
        probabilities=completion_probabilities(table, acc.deadline_day, horizon, acc.target),
        bands=_bands(acc.scenario, acc), wall_seconds=time.perf_counter() - t0,
        extra={"daily_bands_percentiles_from": math.ceil(n / acc.stride)},
        horizon_days=horizon, scenario_yaml=resolved_yaml(acc.scenario),
        source=None if source is None else str(source), overrides=list(overrides),
        target=acc.target)


def _source(scenario: Scenario | str | Path, source: str | Path | None) -> str | Path | None:
    """The scenario file to record: ``source`` if given, else ``scenario`` when it is a path."""
    if source is not None:
        return source
    return scenario if isinstance(scenario, (str, Path)) else None


def replicate(scenario: Scenario | str | Path, n: int, *, seed: int = 1, jobs: int | None = None,
              deadline_day: float | None = None, dask: str | None = None,
              out: str | Path | None = None, progress: Progress | None = None,
              source: str | Path | None = None, overrides: Sequence[str] = (),
              target: float = 1.0, alongside: Alongside | None = None) -> ReplicationResult:
    """Run ``n`` replications of ``scenario`` (a Scenario or a file) and summarise them.

    ``seed`` is the master seed; ``jobs`` local processes (default: all cores)
    or a Dask cluster (``dask="local"`` or a scheduler address);
    ``deadline_day`` (days from the start, within the horizon) adds P(at least
    ``target`` of those in custody at day 0 delivered by that day; default all of
    them); ``out`` writes the folder (replications.csv, summary.json,
    daily_bands.csv, scenario.resolved.yaml, complete.json). ``source`` (the
    scenario file) and ``overrides`` (the ``path=value`` texts applied to it)
    are recorded in the summary; a file given as ``scenario`` is its own source.
    ``alongside`` (``sim.experiments.alongside``) is one function of the scenario
    computed beside the runs, where it costs them least; read its ``value()`` once
    this returns.
    """
    s = as_scenario(scenario)
    check_n(n)
    deadline_day = check_deadline(deadline_day, s.horizon_days)
    target = check_delivery_target(target)
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        check_out(out_path, "replications")
    t0 = time.perf_counter()
    seeds = replication_seeds(seed, n)
    key, data = payload(s)
    acc = _Accumulator(s, n, deadline_day, target)
    runner = make_runner(jobs, dask)
    ok = False
    try:
        if alongside is not None:
            alongside.begin(runner, s, key, data)
        tasks = ((i, (key, data, sd, True)) for i, sd in enumerate(seeds))
        for done, (i, (kpis, daily)) in enumerate(execute(runner, tasks, True, n), 1):
            acc.add(i, kpis, daily)
            if alongside is not None:
                alongside.result_arrived()
            if progress:
                progress(done, n)
        ok = True
    finally:
        runner.close(cancel=not ok)
    result = _finish(acc, n, seed, seeds, t0, _source(scenario, source), overrides)
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
    not vary at all). The probability rows (``completed``,
    ``completed_by_deadline``, ``any_escape``: 0 or 1 per run) use intervals
    made for proportions instead of t (``paired_difference``).
    """

    a: ReplicationResult
    b: ReplicationResult
    n: int
    seed: int
    differences: dict[str, dict[str, Any]]
    label_a: str = "A"
    label_b: str = "B"

    def __repr__(self) -> str:
        return display.comparison_repr(self)

    def _repr_html_(self) -> str:
        return display.comparison_html(self)

    def to_records(self) -> list[dict[str, Any]]:
        """One row per KPI with both means, the difference and its intervals."""
        return [{"kpi": k, **v} for k, v in self.differences.items()]

    def to_frame(self) -> pandas.DataFrame:
        """``to_records()`` as a pandas DataFrame (needs pandas)."""
        return records_frame(self.to_records())

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``dtsim compare --json`` (``compare.json``).

        ``a`` and ``b`` are the variants' labels (what changed, e.g.
        ``baseline + fleet.ch47.count=12``); ``scenarios`` records for each side
        what ran: scenario name, file, hash and every override applied to it.
        """
        from sim.common.version import __version__

        def side(r: ReplicationResult, label: str) -> dict[str, Any]:
            return {"label": label, "scenario": r.scenario, "scenario_file": r.source,
                    "scenario_hash": r.scenario_hash, "overrides": list(r.overrides),
                    "horizon_days": r.horizon_days}

        return json_safe({
            "kind": "comparison", "format_version": 1, "a": self.label_a, "b": self.label_b,
            "a_scenario": self.a.scenario, "b_scenario": self.b.scenario,
            "a_hash": self.a.scenario_hash, "b_hash": self.b.scenario_hash,
            "scenarios": {"a": side(self.a, self.label_a), "b": side(self.b, self.label_b)},
            "version": __version__, "n": self.n,
            "seed": self.seed, "seed_rule": SEED_RULE, "deadline_day": self.a.deadline_day,
            "target": self.a.target, "difference": "b - a", "confidence": 0.95, "kpis": self.differences,
            "probabilities": {"a": self.a.probabilities, "b": self.b.probabilities},
        })

    def write(self, out: Path) -> list[Path]:
        """Write the folder ``out`` whole: compare.json, each side's replications, summary,
        daily bands and resolved scenario (suffix ``_a``/``_b``), and complete.json."""
        from sim.experiments.store import atomic_text
        from sim.output.files import json_text
        from sim.output.folders import new_run_id, staged_folder

        check_out(out, "comparison")
        run_id = new_run_id()
        with staged_folder(out, "comparison", run_id) as tmp:
            atomic_text(tmp / "compare.json", json_text({**self.to_dict(), "run_id": run_id}))
            names = ["compare.json", *self.a._write_files(tmp, "_a", run_id),
                     *self.b._write_files(tmp, "_b", run_id)]
        return [out / name for name in names]


def variant_labels(a: str, b: str, overrides_b: Sequence[str] = (),
                   source_a: str | Path | None = None,
                   source_b: str | Path | None = None) -> tuple[str, str]:
    """Labels saying what differs: ``("baseline", "baseline + fleet.ch47.count=12")``.

    Scenario names, or the file names when two files share a name; B gets its
    own overrides appended; if nothing tells them apart, ``(A)`` and ``(B)``.
    """
    la, lb = a, b
    if la == lb and source_a is not None and source_b is not None \
            and Path(source_a) != Path(source_b):
        la, lb = str(source_a), str(source_b)
    if overrides_b:
        lb = f"{lb} + {', '.join(overrides_b)}"
    if la == lb:
        la, lb = f"{la} (A)", f"{lb} (B)"
    return la, lb


def paired_difference(a: np.ndarray, b: np.ndarray, proportion: bool = False) -> dict[str, Any]:
    """Paired and unpaired estimates of mean(b) - mean(a) (NaN pairs left out).

    A KPI: 95% t intervals (paired, and Welch's unpaired). ``proportion``, for the 0/1
    rows (a run completed or not): a t interval of 0/1 differences that never vary
    (20 of 20 runs against 0 of 20) has zero width, so these rows use intervals for
    proportions: Newcombe's square-and-add interval for paired proportions
    (``paired_proportion_difference``) and, unpaired, his hybrid score interval for
    independent ones (``proportion_difference``). They are not symmetric about the
    difference: ``half_width`` is None and ``ci_method`` names the interval.
    """
    fa, fb = a[~np.isnan(a)], b[~np.isnan(b)]
    keep = ~(np.isnan(a) | np.isnan(b))
    d = summarize((b[keep] - a[keep]).tolist())
    row: dict[str, Any] = {
        "mean_a": float(fa.mean()) if fa.size else None,
        "mean_b": float(fb.mean()) if fb.size else None,
        "n_pairs": d["n"], "mean_diff": d["mean"], "sd_diff": d["sd"],
        "ci_low": d["ci_low"], "ci_high": d["ci_high"], "half_width": d["half_width"],
        "unpaired_ci_low": None, "unpaired_ci_high": None, "unpaired_half_width": None,
        "variance_ratio": None, "ci_method": "paired t; unpaired Welch t",
    }
    if proportion:
        paired = paired_proportion_difference(a[keep].tolist(), b[keep].tolist())
        unpaired = proportion_difference(fa.tolist(), fb.tolist())
        row |= {"ci_low": paired["ci_low"], "ci_high": paired["ci_high"], "half_width": None,
                "unpaired_ci_low": unpaired["ci_low"], "unpaired_ci_high": unpaired["ci_high"],
                "ci_method": "paired Newcombe square-and-add (Wilson); unpaired Newcombe "
                             "hybrid score"}
    if fa.size >= 2 and fb.size >= 2:
        va, vb = float(fa.var(ddof=1)) / fa.size, float(fb.var(ddof=1)) / fb.size
        se2 = va + vb
        if se2 > 0:
            df = se2**2 / (va**2 / (fa.size - 1) + vb**2 / (fb.size - 1))
            hw = t_quantile(0.975, df) * math.sqrt(se2)
        else:
            hw = 0.0
        diff = float(fb.mean() - fa.mean())
        if not proportion:
            row |= {"unpaired_ci_low": diff - hw, "unpaired_ci_high": diff + hw,
                    "unpaired_half_width": hw}
        if d["sd"] is not None and d["sd"] > 0:
            row["variance_ratio"] = se2 / (d["sd"] ** 2 / d["n"])
        elif se2 == 0:
            row["variance_ratio"] = 1.0
    return row


def compare(a: Scenario | str | Path, b: Scenario | str | Path, n: int, *, seed: int = 1,
            jobs: int | None = None, deadline_day: float | None = None,
            dask: str | None = None, progress: Progress | None = None,
            out: str | Path | None = None, label_a: str | None = None,
            label_b: str | None = None, source_a: str | Path | None = None,
            source_b: str | Path | None = None, overrides: Sequence[str] = (),
            overrides_b: Sequence[str] = (), target: float = 1.0) -> ComparisonResult:
    """Run ``a`` and ``b`` on the same ``n`` seeds and estimate the differences (b - a).

    ``out`` writes the folder (see ``ComparisonResult.write``). ``source_a`` and
    ``source_b`` (the files), ``overrides`` (applied to both) and
    ``overrides_b`` (to B only) are recorded; the labels default to what
    differs (``variant_labels``). ``target`` is the delivered share that counts
    as done (see ``replicate``).
    """
    sa, sb = as_scenario(a), as_scenario(b)
    check_n(n)
    deadline_day = check_deadline(deadline_day, min(sa.horizon_days, sb.horizon_days))
    target = check_delivery_target(target)
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        check_out(out_path, "comparison")
    src_a, src_b = _source(a, source_a), _source(b, source_b)
    auto_a, auto_b = variant_labels(sa.name, sb.name, overrides_b, src_a, src_b)
    t0 = time.perf_counter()
    seeds = replication_seeds(seed, n)
    (ka, da), (kb, db) = payload(sa), payload(sb)
    accs = {"a": _Accumulator(sa, n, deadline_day, target),
            "b": _Accumulator(sb, n, deadline_day, target)}
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
    ra = _finish(accs["a"], n, seed, seeds, t0, src_a, overrides)
    rb = _finish(accs["b"], n, seed, seeds, t0, src_b, [*overrides, *overrides_b])
    skip = ("replication", "seed", "wall_seconds")
    names = [c for c in ra.table.numeric_columns()
             if c in rb.table.numeric_columns() and c not in skip]
    diffs = {c: paired_difference(ra.table.values(c), rb.table.values(c), c in DERIVED)
             for c in names}
    labels = {"completed": probability_label("complete_within_horizon", None,
                                             ra.horizon_days, target),
              "completed_by_deadline": probability_label("complete_by_deadline", deadline_day,
                                                         target=target),
              "any_escape": probability_label("any_escape")}
    for name, label in labels.items():
        if name in diffs:
            diffs[name]["label"] = label
    result = ComparisonResult(a=ra, b=rb, n=n, seed=seed, differences=diffs,
                              label_a=label_a or auto_a, label_b=label_b or auto_b)
    if out_path is not None:
        result.write(out_path)
    return result


__all__ = [
    "Alongside", "ComparisonResult", "ExperimentError", "ReplicationResult", "StoreMismatch", "SweepResult",
    "compare", "leaf_paths", "variant_labels", "load_design", "parse_grid", "plan_points", "point_key",
    "replicate", "replication_seed", "replication_seeds", "split_values", "sweep",
]
