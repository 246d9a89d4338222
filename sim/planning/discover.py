"""Where the deadline fails: scenario discovery with PRIM over a sampled design.

Cases come from a Latin hypercube over a ranges file (``samples`` points,
``reps`` runs each, into a resumable store as sensitivity runs are), or from an
existing sweep or sensitivity store (``from_store``: every stored run is a
case, its point's numeric overrides the inputs). A case is "of interest" when
its KPI is above the threshold (``direction="above"``, the default: a day
reached too late) or below it; a run in which the KPI has no value (a day never
reached within the horizon) counts as above any threshold. With
``deadline_day`` (and ``target``, default 1.0) instead, a case is of interest when
the run missed the deadline by the shared definition of success
(``sim.core.results.deadline_met``: at least ``target`` of those in custody at day 0
delivered by the deadline; people lost never count).

PRIM (``sim.planning.prim``) then describes where those cases concentrate:
each box in plain words ("... in 83% of runs when X > 6 and Y < 5; this box
holds 71% of all ..."), with its coverage, density and peeling trajectory.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.core.results import TargetError, check_target, day_to_target, deadline_met
from sim.experiments.common import Progress, as_scenario, check_deadline, check_out, json_safe
from sim.planning.prim import (
    DEFAULT_ALPHA,
    DEFAULT_MIN_COVERAGE,
    DEFAULT_MIN_MASS,
    Box,
    find_boxes,
)
from sim.planning.runs import (
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

SUMMARY_NAME = "summary.json"
CASES_NAME = "discovery_cases.csv"
MAX_SAMPLES = 100_000


@dataclass
class Event:
    """What makes a case "of interest", and how to say it."""

    kpi: str
    threshold: float | None = None
    direction: str = "above"
    deadline_day: float | None = None
    target: float = 1.0

    def of_interest(self, kpis: Mapping[str, Any]) -> bool:
        if self.deadline_day is not None:
            return not deadline_met(kpis, self.deadline_day, self.target)
        v = kpis.get(self.kpi)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return True  # never reached: later than any threshold
        assert self.threshold is not None
        return float(v) > self.threshold if self.direction == "above" else \
            float(v) < self.threshold

    @property
    def phrase(self) -> str:
        """The event as the subject of a sentence (``the deadline (day 15) is missed``)."""
        if self.deadline_day is not None:
            return (f"the deadline ({self.target:.0%} delivered by day {self.deadline_day:g}) "
                    "is missed")
        sign = ">" if self.direction == "above" else "<"
        return f"{self.kpi} {sign} {self.threshold:g}"

    def to_dict(self) -> dict[str, Any]:
        return {"kpi": self.kpi if self.deadline_day is None else "delivery_days",
                "threshold": self.threshold, "direction": self.direction,
                "deadline_day": self.deadline_day,
                "target": self.target if self.deadline_day is not None else None,
                "phrase": self.phrase}


def _num(v: float, integer: bool) -> str:
    return f"{round(v):d}" if integer else f"{v:.3g}"


def box_words(box: Box, names: Sequence[str], integer: Sequence[bool],
              lo_all: np.ndarray, hi_all: np.ndarray) -> list[str]:
    """Each restriction of ``box`` in words (``fleet.ch47.count <= 5``)."""
    parts = []
    for j in box.restricted:
        lo = box.lower[j] > lo_all[j]
        hi = box.upper[j] < hi_all[j]
        a, b = _num(box.lower[j], integer[j]), _num(box.upper[j], integer[j])
        if lo and hi:
            parts.append(f"{a} <= {names[j]} <= {b}")
        elif lo:
            parts.append(f"{names[j]} >= {a}")
        else:
            parts.append(f"{names[j]} <= {b}")
    return parts


def sentence(event: Event, box: Box, words: list[str], total_interest: int, n: int) -> str:
    """One box as a plain sentence."""
    when = " and ".join(words)
    return (f"{event.phrase} in {100 * box.density:.0f}% of runs when {when} "
            f"({box.n} of {n} runs); this box holds {100 * box.coverage:.0f}% of all "
            f"{total_interest} such runs")


@dataclass
class DiscoveryResult:
    """Boxes, the cases they were found in, and what ran."""

    out: Path
    scenario: str
    scenario_hash: str
    event: Event
    names: list[str]
    labels: list[str]
    integer: list[bool]
    x: np.ndarray
    y: np.ndarray
    boxes: list[Box]
    source: str
    ran: int
    skipped: int
    wall_seconds: float
    alpha: float = DEFAULT_ALPHA
    min_mass: float = DEFAULT_MIN_MASS
    min_coverage: float = DEFAULT_MIN_COVERAGE

    def box_dicts(self) -> list[dict[str, Any]]:
        lo_all, hi_all = self.x.min(axis=0), self.x.max(axis=0)
        total = int(self.y.sum())
        out = []
        for i, b in enumerate(self.boxes):
            words = box_words(b, self.labels, self.integer, lo_all, hi_all)
            out.append({
                "box": i + 1, "coverage": b.coverage, "density": b.density, "mass": b.mass,
                "runs": b.n, "runs_of_interest": b.n_interest,
                "limits": {self.names[j]: {"low": float(b.lower[j]), "high": float(b.upper[j]),
                                           "label": self.labels[j]} for j in b.restricted},
                "words": words,
                "sentence": sentence(self.event, b, words, total, len(self.y)),
                "chosen_step": b.chosen,
                "trajectory": [{"coverage": s.coverage, "density": s.density, "mass": s.mass,
                                "n": s.n} for s in b.trajectory],
            })
        return out

    def sentences(self) -> list[str]:
        total = int(self.y.sum())
        n = len(self.y)
        head = f"{self.event.phrase} in {total} of {n} runs ({100 * total / max(n, 1):.0f}%)"
        if not self.boxes:
            return [head, "no box: the cases of interest do not concentrate in any region "
                          "of these inputs (or there are none)"]
        return [head, *(f"box {d['box']}: {d['sentence']}" for d in self.box_dicts())]

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary (``summary.json``, ``dtsim discover --json``)."""
        from sim.common.version import __version__

        return json_safe({
            "kind": "discovery", "format_version": 1, "scenario": self.scenario,
            "scenario_hash": self.scenario_hash, "version": __version__,
            "source": self.source, "event": self.event.to_dict(), "runs": len(self.y),
            "runs_of_interest": int(self.y.sum()), "ran": self.ran, "skipped": self.skipped,
            "inputs": [{"path": p, "label": lab, "integer": i, "low": float(lo),
                        "high": float(hi)} for p, lab, i, lo, hi in zip(
                            self.names, self.labels, self.integer, self.x.min(axis=0),
                            self.x.max(axis=0), strict=True)],
            "prim": {"alpha": self.alpha, "min_mass": self.min_mass,
                     "min_coverage": self.min_coverage},
            "boxes": self.box_dicts(), "sentences": self.sentences(),
        })


def _event(kpi: str | None, threshold: float | None, direction: str,
           deadline_day: float | None, horizon: int, target: float = 1.0) -> Event:
    if direction not in ("above", "below"):
        raise PlanningError(f"--direction {direction}: expected above or below")
    if deadline_day is not None:
        if threshold is not None:
            raise PlanningError("give either --deadline-day or --kpi with --threshold, not both")
        check_deadline(deadline_day, horizon)
        try:
            target = check_target(target)
        except TargetError as exc:
            raise PlanningError(str(exc)) from None
        return Event(kpi="delivery_days", deadline_day=float(deadline_day), target=target)
    if kpi is None or threshold is None:
        raise PlanningError("name what counts as a failure: --kpi NAME --threshold VALUE "
                            "(or --deadline-day D)")
    if not math.isfinite(threshold):
        raise PlanningError(f"--threshold {threshold}: expected a finite number")
    return Event(kpi=kpi, threshold=float(threshold), direction=direction)


def _store_cases(store: Path, base: Scenario, only: Sequence[str] | None
                 ) -> tuple[list[str], np.ndarray, list[dict[str, Any]]]:
    """Inputs and KPIs of every run in a sweep or sensitivity store made from ``base``."""
    from sim.experiments.store import STORE_NAME, check_store, store_rows
    from sim.scenario.loader import scenario_hash

    path = store / STORE_NAME if store.is_dir() else store
    if not path.is_file():
        raise PlanningError(f"--from-store {store}: no {STORE_NAME} there")
    h = scenario_hash(base)
    check_store(path, h, base.name)
    rows = list(store_rows(path, h))
    if not rows:
        raise PlanningError(f"--from-store {store}: the store holds no runs of this scenario")
    import json
    import sqlite3

    con = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    try:
        params = [json.loads(p) for (p,) in con.execute("SELECT params FROM points")]
        runs = {(int(pi), int(sd)): json.loads(k) for pi, sd, k in con.execute(
            "SELECT point_index, seed, kpis FROM runs WHERE scenario_hash = ?", (h,))}
    finally:
        con.close()
    names = list(dict.fromkeys(k for p in params for k in p))
    if only:
        missing = [p for p in only if p not in names]
        if missing:
            raise PlanningError(f"--from-store {store}: the store never varied {missing[0]}")
        names = list(only)
    numeric = [c for c in names if all(
        isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool) for r in rows)]
    if not numeric:
        raise PlanningError(f"--from-store {store}: no input varies as a number in the store")
    from sim.planning.runs import design_kpis

    x = np.array([[float(r[c]) for c in numeric] for r in rows])
    kpis = [design_kpis(runs[(int(r["point_index"]), int(r["seed"]))]) for r in rows]
    return numeric, x, kpis


def discover(scenario: Scenario | str | Path, ranges: Ranges | str | Path | None = None, *,
             kpi: str | None = None, threshold: float | None = None,
             direction: str = "above", deadline_day: float | None = None,
             target: float = 1.0, samples: int = 200, reps: int = 1, from_store: str | Path | None = None,
             out: str | Path | None = None, seed: int = 1, jobs: int | None = None,
             dask: str | None = None, max_boxes: int = 2,
             min_coverage: float = DEFAULT_MIN_COVERAGE,
             progress: Progress | None = None, notice: Callable[[str], None] | None = None,
             evaluate: Evaluator | None = None) -> DiscoveryResult:
    """PRIM boxes where the event concentrates, over a Latin hypercube or a stored design."""
    from sim.planning.ranges import load_ranges

    base = as_scenario(scenario)
    event = _event(kpi, threshold, direction, deadline_day, base.horizon_days, target)
    if not 0 < min_coverage <= 1:
        raise PlanningError(f"--min-coverage {min_coverage}: expected a share in (0, 1]")
    if max_boxes < 1:
        raise PlanningError(f"--boxes {max_boxes}: expected at least 1")
    rng = None
    if ranges is not None:
        rng = ranges if not isinstance(ranges, (str, Path)) else load_ranges(ranges, base)
    if from_store is None and rng is None:
        raise PlanningError("name the inputs: --ranges FILE (or --from-store DIR)")
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        check_out(out_path)
        if from_store is not None and out_path.resolve() == Path(from_store).resolve():
            raise PlanningError(f"--out {out}: the folder of --from-store; its summary would "
                                "be replaced: choose another --out folder")
    t0 = time.perf_counter()
    ran = skipped = 0
    if from_store is not None:
        names, x, kpis = _store_cases(Path(from_store), base, rng.paths if rng else None)
        if event.deadline_day is None:
            check_kpi_names([event.kpi], kpis[0])
        labels = [next((i.name for i in rng.inputs if i.path == p), p) if rng else p
                  for p in names]
        integer = [bool(np.all(x[:, j] == np.round(x[:, j]))) for j in range(len(names))]
        source = f"store {from_store}"
    else:
        assert rng is not None
        if out_path is None:
            raise PlanningError("--out DIR is required to run a design (the folder of its store)")
        if isinstance(samples, bool) or not 2 <= samples <= MAX_SAMPLES:
            raise PlanningError(f"--samples {samples}: expected 2..{MAX_SAMPLES:,}")
        if isinstance(reps, bool) or reps < 1:
            raise PlanningError(f"--reps must be at least 1 (got {reps})")
        if event.deadline_day is None:
            check_kpi_names([event.kpi], sample_kpis(base, seed, evaluate))
        require_salib()
        from SALib.sample import latin

        u = np.asarray(latin.sample(rng.salib_problem(), samples, seed=seed))
        points = [rng.point(row) for row in u]
        runs = run_design(base, points, reps=reps, seed=seed, out=out_path, jobs=jobs,
                          dask=dask, progress=progress, notice=notice, evaluate=evaluate)
        ran, skipped = runs.ran, runs.skipped
        names = rng.paths
        labels = [i.name for i in rng.inputs]
        integer = [i.integer for i in rng.inputs]
        x = np.array([[float(pt[p]) for p in names] for pt in points for _ in runs.seeds])
        kpis = [k for row in runs.kpis for k in row]
        source = f"Latin hypercube of {samples} points x {reps} runs over {rng.source}"
    y = np.array([1.0 if event.of_interest(k) else 0.0 for k in kpis])
    boxes = find_boxes(x, y, max_boxes=max_boxes, min_coverage=min_coverage)
    from sim.scenario.loader import scenario_hash

    result = DiscoveryResult(
        out=out_path or Path("."), scenario=base.name, scenario_hash=scenario_hash(base),
        event=event, names=names, labels=labels, integer=integer, x=x, y=y, boxes=boxes,
        source=source, ran=ran, skipped=skipped, wall_seconds=time.perf_counter() - t0,
        min_coverage=min_coverage)
    if out_path is not None:
        _write(result, base, [k.get(event.kpi) if event.deadline_day is None
                              else day_to_target(k, event.target) for k in kpis])
    return result


def _write(result: DiscoveryResult, base: Scenario, values: list[Any]) -> None:
    """summary.json, discovery_cases.csv and scenario.resolved.yaml (atomic writes)."""
    from sim.experiments.store import atomic_csv, atomic_text
    from sim.output.files import json_text
    from sim.scenario.loader import resolved_yaml

    result.out.mkdir(parents=True, exist_ok=True)
    atomic_text(result.out / "scenario.resolved.yaml", resolved_yaml(base))
    ev = result.event
    # a deadline's column: each run's day to the target (empty if never), e.g. day_to_90
    kpi = ev.kpi if ev.deadline_day is None else f"day_to_{round(100 * ev.target)}"
    cols = [*result.names, kpi, "of_interest"]
    rows = [{**dict(zip(result.names, map(float, row), strict=True)), kpi: v,
             "of_interest": int(flag)} for row, v, flag in zip(result.x, values, result.y,
                                                                strict=True)]
    atomic_csv(result.out / CASES_NAME, cols, rows)
    atomic_text(result.out / SUMMARY_NAME, json_text(result.to_dict()))
