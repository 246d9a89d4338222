"""Which inputs matter: global sensitivity (Morris screening or Sobol indices) with noise.

The design is drawn by SALib on the unit cube and mapped to values through
each input's distribution (``sim.planning.ranges``); every point runs ``reps``
replications on the same seeds (common random numbers) into a resumable store
(``sim.planning.runs``); the indices are computed on each point's mean.

Replication noise. A stochastic model gives a different output at the same
inputs; an index smaller than what that noise alone produces is not evidence
that the input matters. With two or more replications a point, the analysis
measures the within-point variance ``s2`` and reports:

- ``run_noise_share`` = ``s2`` / the variance of single runs over the whole design:
  the share of a single run's variance that is replication noise;
- ``mean_noise_share`` = (``s2`` / reps) / the variance of the point means: the
  share of the variance the indices are computed on that is still noise.

Morris: each elementary effect is also computed per replication (same seed at
both ends of a step), so its noise variance is measured directly; an input's
``noise_floor`` is the mu* that noise alone would give (the mean absolute value
of a normal with that variance, plus two standard errors of a mean of ``n``
trajectories). Sobol: an input whose ST does not exceed ``mean_noise_share`` is
flagged. Flagged inputs are listed as "not distinguishable from noise", never
ranked as real.

Units: Morris mu*, mu and sigma are in KPI units per whole range of the input
(elementary effects on the unit cube); Sobol indices are shares of variance.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.experiments.common import Progress, as_scenario, check_n, check_out, json_safe
from sim.planning.runs import (
    DesignRuns,
    Evaluator,
    PlanningError,
    check_kpi_names,
    require_salib,
    run_design,
    sample_kpis,
)

if TYPE_CHECKING:
    from sim.planning.ranges import Ranges
    from sim.scenario.schema import Scenario

METHODS = ("morris", "sobol")
DEFAULT_KPI = "delivered_fraction"
"""The KPI analysed when none is named (any numeric KPI may be named with ``--kpi``)."""
MORRIS_LEVELS = 4
BOOTSTRAP_RESAMPLES = 1000
CONFIDENCE = 0.95
MAX_RUNS = 200_000
SUMMARY_NAME = "summary.json"
POINTS_NAME = "sensitivity_points.csv"


def design(ranges: Ranges, method: str, n: int, seed: int) -> np.ndarray:
    """The design on the unit cube: Morris trajectories or a Saltelli (Sobol) sample."""
    problem = ranges.salib_problem()
    if method == "morris":
        from SALib.sample import morris as morris_sample

        return np.asarray(morris_sample.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed))
    from SALib.sample import sobol as sobol_sample

    return np.asarray(sobol_sample.sample(problem, n, calc_second_order=False, scramble=True,
                                          seed=seed))


def design_size(k: int, method: str, n: int) -> int:
    """Points in a design of ``k`` inputs: n(k+1) for Morris, n(k+2) for Sobol."""
    return n * (k + 1) if method == "morris" else n * (k + 2)


def _noise(y: np.ndarray) -> dict[str, Any]:
    """Within-point (replication) variance and its share of the variance (see module doc)."""
    reps = y.shape[1]
    means = y.mean(axis=1)
    var_means = float(np.var(means, ddof=1)) if len(means) > 1 else 0.0
    # The same value in every run (everyone delivered in every run, say): no input moves
    # it within its range, and no share of its variance is noise, since it has none.
    constant = float(y.flat[0]) if y.size and bool(np.all(y == y.flat[0])) else None
    if reps < 2:
        return {"reps": reps, "within_variance": None, "run_noise_share": None,
                "mean_noise_share": None, "variance_of_means": var_means,
                "constant": constant}
    s2 = float(np.mean(np.var(y, axis=1, ddof=1)))
    total = float(np.var(y, ddof=1))
    return {
        "reps": reps,
        "within_variance": s2,
        "variance_of_single_runs": total,
        "variance_of_means": var_means,
        "run_noise_share": min(1.0, s2 / total) if total > 0 else 1.0,
        "mean_noise_share": min(1.0, (s2 / reps) / var_means) if var_means > 0 else 1.0,
        "constant": constant,
    }


def morris_effects(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Elementary effects per replication: array (trajectories, k inputs, reps).

    Consecutive rows of a trajectory differ in one input; the effect is the
    change of output over the change of that input on the unit cube.
    """
    n_traj = x.shape[0] // (k + 1)
    ee = np.zeros((n_traj, k, y.shape[1]))
    for t in range(n_traj):
        for j in range(k):
            a, b = t * (k + 1) + j, t * (k + 1) + j + 1
            dx = x[b] - x[a]
            i = int(np.argmax(np.abs(dx)))
            ee[t, i, :] = (y[b] - y[a]) / dx[i]
    return ee


#: An input's verdict (a row's ``verdict``): its index exceeds what replication noise
#: alone gives; it does not; the KPI never moved with it (an index of exactly 0: every
#: step of the design that changed it left the KPI where it was); noise not measured.
MATTERS, NOISE, NO_EFFECT, UNJUDGED = "matters", "noise", "no effect", "-"


def verdict(no_effect: bool, beats_noise: bool | None) -> str:
    """An input's verdict (``MATTERS`` ...): ``no_effect`` where its index is exactly 0,
    else by ``beats_noise`` (None: one run a point, noise not measured). An input that
    moved the KPI in no run read "noise", as if its effect were hidden by a noise that
    was 0% of the variance."""
    if no_effect:
        return NO_EFFECT
    return UNJUDGED if beats_noise is None else MATTERS if beats_noise else NOISE


def _analyse_morris(ranges: Ranges, x: np.ndarray, y: np.ndarray, seed: int,
                    noise: dict[str, Any]) -> list[dict[str, Any]]:
    from SALib.analyze import morris as morris_analyze

    k = len(ranges.inputs)
    means = y.mean(axis=1)
    res = morris_analyze.analyze(ranges.salib_problem(), x, means, num_resamples=BOOTSTRAP_RESAMPLES,
                                 conf_level=CONFIDENCE, num_levels=MORRIS_LEVELS, seed=seed)
    ee = morris_effects(x, y, k)
    n_traj = ee.shape[0]
    reps = y.shape[1]
    rows: list[dict[str, Any]] = []
    for i, inp in enumerate(ranges.inputs):
        mu_star = float(res["mu_star"][i])
        conf = float(res["mu_star_conf"][i])
        floor = None
        if reps >= 2:
            # noise variance of the mean effect of one trajectory, averaged over trajectories
            v = float(np.mean(np.var(ee[:, i, :], axis=1, ddof=1))) / reps
            s = math.sqrt(v)
            floor = s * math.sqrt(2 / math.pi) + 2 * s * math.sqrt(1 - 2 / math.pi) / math.sqrt(
                n_traj)
        rows.append({
            "path": inp.path, "label": inp.name,
            "mu_star": mu_star, "mu_star_ci_low": max(0.0, mu_star - conf),
            "mu_star_ci_high": mu_star + conf, "mu": float(res["mu"][i]),
            "sigma": float(res["sigma"][i]), "noise_floor": floor,
            "real": None if floor is None else bool(mu_star > floor),
            "verdict": verdict(mu_star == 0.0, None if floor is None else mu_star > floor),
        })
    rows.sort(key=lambda r: -float(r["mu_star"]))
    return rows


def _analyse_sobol(ranges: Ranges, y: np.ndarray, seed: int,
                   noise: dict[str, Any]) -> list[dict[str, Any]]:
    from SALib.analyze import sobol as sobol_analyze

    means = y.mean(axis=1)
    if float(np.var(means)) == 0.0:
        res = {key: np.zeros(len(ranges.inputs)) for key in ("S1", "S1_conf", "ST", "ST_conf")}
    else:
        res = sobol_analyze.analyze(ranges.salib_problem(), means, calc_second_order=False,
                                    num_resamples=BOOTSTRAP_RESAMPLES, conf_level=CONFIDENCE,
                                    seed=seed)
    share = noise.get("mean_noise_share")
    rows: list[dict[str, Any]] = []
    for i, inp in enumerate(ranges.inputs):
        s1, s1c = float(res["S1"][i]), float(res["S1_conf"][i])
        st, stc = float(res["ST"][i]), float(res["ST_conf"][i])
        rows.append({
            "path": inp.path, "label": inp.name, "S1": s1, "S1_ci_low": s1 - s1c,
            "S1_ci_high": s1 + s1c, "ST": st, "ST_ci_low": st - stc, "ST_ci_high": st + stc,
            "noise_floor": share, "real": None if share is None else bool(st > share),
            "verdict": verdict(st == 0.0 and s1 == 0.0, None if share is None else st > share),
        })
    rows.sort(key=lambda r: -float(r["ST"]))
    return rows


def analyse(ranges: Ranges, method: str, x: np.ndarray, y: np.ndarray,
            seed: int) -> dict[str, Any]:
    """Indices of one KPI from the unit design ``x`` and outputs ``y`` (points x reps)."""
    noise = _noise(y)
    if method == "morris":
        rows = _analyse_morris(ranges, x, y, seed, noise)
    else:
        rows = _analyse_sobol(ranges, y, seed, noise)
    return {"noise": noise, "indices": rows}


@dataclass
class SensitivityResult:
    """Indices for each KPI, the noise they were judged against, and what ran."""

    out: Path
    scenario: str
    scenario_hash: str
    method: str
    n: int
    reps: int
    seed: int
    ranges: Ranges
    kpis: dict[str, dict[str, Any]]
    points: list[dict[str, Any]]
    means: dict[str, list[float]]
    runs: int
    ran: int
    skipped: int
    wall_seconds: float
    horizon_days: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary (``summary.json``, ``dtsim sensitivity --json``)."""
        from sim.common.version import __version__

        out = json_safe({
            "kind": "sensitivity", "format_version": 1, "scenario": self.scenario,
            "scenario_hash": self.scenario_hash, "version": __version__,
            "method": self.method, "n": self.n, "reps": self.reps, "seed": self.seed,
            "points": len(self.points), "runs": self.runs, "ran": self.ran,
            "skipped": self.skipped, "confidence": CONFIDENCE,
            "horizon_days": self.horizon_days,
            "ranges_file": self.ranges.source, "inputs": self.ranges.to_list(),
            "results": self.kpis,
        })
        out["sentences"] = describe(out)
        return out

    def sentences(self) -> list[str]:
        """What the analysis says, in plain words (one line each)."""
        return describe(self.to_dict())


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _pct(share: float) -> str:
    """A share as a percentage, with two significant digits below 10% (0.043%, not 0%)."""
    return f"{100 * share:.2g}%" if share < 0.1 else f"{100 * share:.0f}%"


def describe(summary: dict[str, Any]) -> list[str]:
    """Plain-words lines for a sensitivity summary (from its JSON form)."""
    lines = []
    method = summary["method"]
    for kpi, res in summary["results"].items():
        noise = res["noise"]
        if noise.get("constant") is not None:
            lines.append(f"{kpi}: {_fmt(noise['constant'])} in every run of the design: no "
                         "input moves it within these ranges, so there is nothing to rank; "
                         "name a KPI that varies with --kpi (day_to_90, prisons_cleared_day, "
                         "mean_transfer_hours ...)")
            continue
        top = res["indices"]
        none = [r for r in top if r.get("verdict") == NO_EFFECT]
        real = [r for r in top if r.get("real") is not False and r not in none]
        flat = [r for r in top if r.get("real") is False and r not in none]
        key = "mu_star" if method == "morris" else "ST"
        if real:
            ranked = ", ".join(f"{r['label']} ({key.replace('_star', '*')} {_fmt(r[key])})"
                               for r in real)
            lines.append(f"{kpi}: inputs by influence: {ranked}")
        if flat:
            lines.append(f"{kpi}: not distinguishable from replication noise: "
                         + ", ".join(r["label"] for r in flat))
        if none:
            lines.append(f"{kpi}: unchanged by every step of the design in: "
                         + ", ".join(r["label"] for r in none)
                         + " (no effect within these ranges, with the other inputs as drawn)")
        if noise.get("run_noise_share") is not None:
            lines.append(f"{kpi}: replication noise is {_pct(noise['run_noise_share'])} of "
                         f"the variance of single runs and "
                         f"{_pct(noise['mean_noise_share'])} of the variance of the "
                         f"{noise['reps']}-run means the indices use")
        else:
            lines.append(f"{kpi}: one run a point: replication noise not measured "
                         "(use --reps 2 or more)")
        if res.get("censored"):
            lines.append(f"{kpi}: {res['censored']} runs had no value and count as the "
                         f"horizon ({summary.get('horizon_days')} days)")
    return lines


def sensitivity(scenario: Scenario | str | Path, ranges: Ranges | str | Path, *,
                method: str = "morris", n: int = 10, reps: int = 5,
                kpis: Sequence[str] = (DEFAULT_KPI,), out: str | Path, seed: int = 1,
                jobs: int | None = None, dask: str | None = None,
                progress: Progress | None = None, notice: Callable[[str], None] | None = None,
                evaluate: Evaluator | None = None) -> SensitivityResult:
    """Morris or Sobol sensitivity of ``kpis`` to the inputs of ``ranges``, into ``out``.

    ``n`` is the number of Morris trajectories or the Sobol base sample (a
    power of two); ``reps`` replications run at every point. Results stream
    into ``out/results.sqlite`` (a re-run resumes); ``out/summary.json`` and
    ``out/sensitivity_points.csv`` hold the indices and each point's mean.
    """
    from sim.planning.ranges import load_ranges

    base = as_scenario(scenario)
    if method not in METHODS:
        raise PlanningError(f"--method {method}: expected morris or sobol")
    require_salib()
    check_n(n)
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise PlanningError(f"--reps must be at least 1 (got {reps})")
    if method == "sobol" and n & (n - 1):
        raise PlanningError(f"-n {n}: a Sobol base sample must be a power of two (8, 16, 32...)")
    if method == "morris" and n < 2:
        raise PlanningError(f"-n {n}: Morris needs at least 2 trajectories")
    out_path = Path(out)
    check_out(out_path)
    rng = ranges if not isinstance(ranges, (str, Path)) else load_ranges(ranges, base)
    k = len(rng.inputs)
    total = design_size(k, method, n) * reps
    if total > MAX_RUNS:
        raise PlanningError(f"the design needs {total:,} runs, over the limit of {MAX_RUNS:,}; "
                            "lower -n or --reps")
    kpi_names = check_kpi_names(list(kpis), sample_kpis(base, seed, evaluate))
    x = design(rng, method, n, seed)
    points = [rng.point(row) for row in x]
    t0 = time.perf_counter()
    runs = run_design(base, points, reps=reps, seed=seed, out=out_path, jobs=jobs, dask=dask,
                      progress=progress, notice=notice, evaluate=evaluate)
    results: dict[str, dict[str, Any]] = {}
    means: dict[str, list[float]] = {}
    for kpi in kpi_names:
        y, missing = runs.matrix(kpi)
        results[kpi] = analyse(rng, method, x, y, seed)
        results[kpi]["censored"] = missing
        means[kpi] = [float(v) for v in y.mean(axis=1)]
    from sim.scenario.loader import scenario_hash

    result = SensitivityResult(
        out=out_path, scenario=base.name, scenario_hash=scenario_hash(base), method=method,
        n=n, reps=reps, seed=seed, ranges=rng, kpis=results, points=points, means=means,
        runs=len(points) * reps, ran=runs.ran, skipped=runs.skipped,
        wall_seconds=time.perf_counter() - t0, horizon_days=base.horizon_days)
    _write(result, runs, base)
    return result


def _write(result: SensitivityResult, runs: DesignRuns, base: Scenario) -> None:
    """summary.json, sensitivity_points.csv and scenario.resolved.yaml (atomic writes)."""
    from sim.experiments.store import atomic_csv, atomic_text
    from sim.output.files import json_text
    from sim.scenario.loader import resolved_yaml

    summary = result.to_dict()
    atomic_text(result.out / "scenario.resolved.yaml", resolved_yaml(base))
    paths = result.ranges.paths
    cols = ["point_index", *paths, *(f"{k}_mean" for k in result.means)]
    rows = [{"point_index": i, **pt, **{f"{k}_mean": v[i] for k, v in result.means.items()}}
            for i, pt in enumerate(result.points)]
    atomic_csv(result.out / POINTS_NAME, cols, rows)
    atomic_text(result.out / SUMMARY_NAME, json_text(summary))
