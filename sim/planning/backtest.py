"""Back-testing: run the shipped cases of real operations and compare them with their reports.

Each case is a scenario in ``scenarios/backtest/`` (package data) with a ``backtest:``
header (``sim.scenario.schema.Backtest``): its public sources, its assumptions, what the
model cannot express, and one or more reported outcomes as bands. ``run_backtest`` runs
every case ``n`` times (``sim.experiments.replication.replicate``: the same seeds and
executors as ``dtsim replicate``) and, for each outcome, reports the model's mean and
its 5th-95th percentiles over the replications, the ratio of the mean to the band's
midpoint, and whether the mean lies within the band. A case outside its band is a
finding to explain (docs/validation.md), not an error.

Measures (``BacktestKpi``): ``delivered_by_day`` (people delivered by the end of ``day``,
read from the daily bands), ``delivered`` (by the horizon), ``day_to_50/90/100`` (days
from the start; the mean is over the replications that reached it), ``sorties``
(missions of all types), ``per_sortie`` (people delivered per mission) and
``peak_day_delivered`` (the largest one-day rise of the mean delivered curve: a capacity
measure; no percentiles, as the runs' own daily series are not kept).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiments.common import check_n, json_safe
from sim.experiments.replication import ReplicationResult, replicate
from sim.experiments.store import ExperimentError
from sim.scenario import shipped
from sim.scenario.loader import load_scenario
from sim.scenario.schema import BacktestOutcome, Scenario

__all__ = [
    "INEXPRESSIBLE", "KIND", "BacktestError", "BacktestResult", "CaseResult", "Inexpressible",
    "OutcomeRow", "case_names", "cases_folder", "run_backtest",
]

KIND = "backtest"
"""The kind of results folder ``--out`` writes."""
FOLDER = "backtest"
"""The sub-folder of the shipped scenarios that holds the cases."""

Progress = Callable[[str, int, int], None]
"""Called as ``progress(case, done, n)`` after each replication."""


@dataclass(frozen=True)
class Inexpressible:
    """A real operation with published inputs and outcome that the model cannot express."""

    name: str
    operation: str
    reported: str
    sources: tuple[str, ...]
    missing: str


INEXPRESSIBLE: tuple[Inexpressible, ...] = (
    Inexpressible(
        name="lebanon_2006",
        operation="Evacuation of US citizens from Lebanon, July 2006",
        reported="about 15,000 US citizens in about two weeks",
        sources=("GAO-07-893R, State Department: The July 2006 Evacuation of American "
                 "Citizens from Lebanon (US Government Accountability Office, 2007-06-07)",),
        missing="sea lift: most left by chartered ships (from 18-20 July) to Cyprus and, once "
                "Cyprus's reception filled, to Turkey; the model has air and road modes only, "
                "and no diversion of a vessel when its destination fills",
    ),
)
"""Cases reported in the table as not expressible, with what the model lacks."""


class BacktestError(ExperimentError):
    """Bad input to a back-test (an unknown case, a bad ``n``): exit 2."""


def cases_folder() -> Path:
    """Where the back-test cases are (``scenarios/backtest`` in a checkout)."""
    return shipped.shipped_folder() / FOLDER


def case_names() -> list[str]:
    """The names of the shipped cases (file stems), sorted."""
    return sorted(p.stem for p in cases_folder().glob("*.yaml"))


def _is_case_file(name: str) -> bool:
    """Whether ``name`` names a scenario file of one's own (a path to a YAML file that
    exists) rather than a shipped case."""
    return name.endswith((".yaml", ".yml")) and Path(name).is_file()


def _paths(names: Sequence[str] | None) -> list[Path]:
    """The case files: shipped cases by name, or scenario files of one's own by path
    (each needs a ``backtest:`` header, checked when it is loaded)."""
    known = case_names()
    chosen = list(names) if names else known
    unknown = [c for c in chosen
               if not _is_case_file(c) and c.removesuffix(".yaml") not in known]
    if unknown:
        raise BacktestError(f"unknown back-test case {', '.join(unknown)} (cases: "
                            f"{', '.join(known)}; or the path of a scenario file with a "
                            "'backtest:' header)")
    paths: list[Path] = []
    for c in chosen:
        path = Path(c) if _is_case_file(c) else cases_folder() / f"{c.removesuffix('.yaml')}.yaml"
        if path not in paths:
            paths.append(path)
    return paths


def _load_case(path: Path) -> Scenario:
    """The case's scenario, with its ``backtest:`` header (a BacktestError without)."""
    s: Scenario = load_scenario(path)
    if s.backtest is None:
        raise BacktestError(f"{path}: no 'backtest:' header: a back-test case names its "
                            "operation, sources and reported outcomes (see the shipped cases)")
    return s


@dataclass(frozen=True)
class OutcomeRow:
    """One reported outcome of a case beside the model's replications."""

    kpi: str
    day: int | None
    low: float
    high: float
    note: str
    mean: float | None
    p5: float | None
    p95: float | None
    reached: int
    n: int
    #: ``sorties`` and ``per_sortie``: the modes whose missions count (None: every mode).
    modes: tuple[str, ...] | None = None

    @property
    def midpoint(self) -> float:
        return (self.low + self.high) / 2

    @property
    def ratio(self) -> float | None:
        """Model mean over the reported band's midpoint (1: on the midpoint)."""
        if self.mean is None or self.midpoint == 0:
            return None
        return self.mean / self.midpoint

    @property
    def within(self) -> bool | None:
        """True if the model's mean lies in the reported band (None: no mean)."""
        return None if self.mean is None else bool(self.low <= self.mean <= self.high)

    @property
    def measure(self) -> str:
        """How the table names the measure: ``delivered by day 8`` etc."""
        if self.kpi == "delivered_by_day":
            return f"delivered by day {self.day}"
        name = self.kpi.replace("_", " ")
        if self.modes:
            name += f" ({', '.join(m.replace('_', '-') for m in self.modes)})"
        return name

    def to_dict(self) -> dict[str, Any]:
        return {"kpi": self.kpi, "day": self.day, "low": self.low, "high": self.high,
                "note": self.note, "mean": self.mean, "p5": self.p5, "p95": self.p95,
                "ratio": self.ratio, "within": self.within, "reached": self.reached,
                "n": self.n, "modes": None if self.modes is None else list(self.modes)}


@dataclass
class CaseResult:
    """A case: what it replays, its sources, and its outcomes beside the model's."""

    name: str
    operation: str
    description: str
    sources: list[dict[str, Any]]
    assumptions: list[str]
    not_modelled: list[str]
    outcomes: list[OutcomeRow]
    wall_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.name, "operation": self.operation, "sources": self.sources,
                "assumptions": self.assumptions, "not_modelled": self.not_modelled,
                "outcomes": [o.to_dict() for o in self.outcomes],
                "wall_seconds": self.wall_seconds}


@dataclass
class BacktestResult:
    """All cases run with ``n`` replications from master seed ``seed``."""

    n: int
    seed: int
    cases: list[CaseResult] = field(default_factory=list)
    wall_seconds: float = 0.0
    #: The operations the model cannot express, listed beside the cases when the whole
    #: shipped suite ran (a selection, or a case of one's own, lists none).
    not_expressible: tuple[Inexpressible, ...] = INEXPRESSIBLE

    def to_dict(self) -> dict[str, Any]:
        from sim.common.version import __version__

        return json_safe({"kind": KIND, "format_version": 1, "version": __version__,
                          "n": self.n, "seed": self.seed, "wall_seconds": self.wall_seconds,
                          "cases": [c.to_dict() for c in self.cases],
                          "not_expressible": [dataclasses.asdict(c)
                                              for c in self.not_expressible]})

    def rows(self) -> list[tuple[CaseResult, OutcomeRow]]:
        return [(c, o) for c in self.cases for o in c.outcomes]

    def markdown(self) -> str:
        """The table of docs/validation.md: one row per reported outcome."""
        lines = ["| case | measure | reported band | model mean | model p5-p95 | ratio | verdict |",
                 "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
        for c, o in self.rows():
            verdict = {True: "within", False: "outside", None: "no value"}[o.within]
            reached = "" if o.reached == o.n else f" ({o.reached}/{o.n} runs)"
            lines.append(
                f"| `{c.name}` | {o.measure} | {span(o.low, o.high)} | {fmt(o.mean)}{reached} "
                f"| {span(o.p5, o.p95)} | {fmt(o.ratio, ratio=True)} | {verdict} |")
        for case in self.not_expressible:
            lines.append(f"| `{case.name}` | {case.reported} | - | - | - | - "
                         f"| not expressible: {case.missing.split(':')[0]} |")
        return "\n".join(lines)

    def write(self, out: Path) -> list[Path]:
        """Write ``backtest.json`` and ``backtest.md`` (the table) into ``out``, whole."""
        from sim.experiments.store import atomic_text
        from sim.output.files import json_text
        from sim.output.folders import new_run_id, staged_folder

        names = ["backtest.json", "backtest.md"]
        run_id = new_run_id()
        with staged_folder(out, KIND, run_id) as tmp:
            atomic_text(tmp / names[0], json_text({**self.to_dict(), "run_id": run_id}))
            atomic_text(tmp / names[1], self.markdown() + "\n")
        return [out / n for n in names]


def span(low: float | None, high: float | None) -> str:
    """``low-high`` as the table shows a range, or ``-`` when there is none."""
    return "-" if low is None and high is None else f"{fmt(low)}-{fmt(high)}"


def fmt(x: float | None, ratio: bool = False) -> str:
    """A number as the table shows it: ratios to 2 decimals, counts whole, days to 0.1
    and, under 10, to 0.01 (an operation of hours: 1.2 days is anything from 1.15 to
    1.25, more than two hours either way)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if ratio:
        return f"{x:.2f}"
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    if abs(x) < 10:
        return f"{x:.2f}"
    return f"{x:,.1f}"


def _stats(values: np.ndarray, n: int) -> tuple[float | None, float | None, float | None, int]:
    ok = values[~np.isnan(values)]
    if ok.size == 0:
        return None, None, None, 0
    p5, p95 = np.percentile(ok, [5, 95])
    return float(ok.mean()), float(p5), float(p95), int(ok.size)


def _column(r: ReplicationResult, name: str) -> np.ndarray:
    return np.array([math.nan if row.get(name) is None else float(row[name])
                     for row in r.to_records()], dtype=float)


def _sorties(r: ReplicationResult, types: Collection[str] | None = None) -> np.ndarray:
    """Each run's missions: of every type, or of ``types`` only (columns ``sorties:<type>``)."""
    cols = [c for c in r.table.names if c.startswith("sorties:")
            and (types is None or c.removeprefix("sorties:") in types)]
    rows = r.to_records()
    return np.array([sum(float(row.get(c) or 0) for c in cols) for row in rows], dtype=float)


def _outcome(o: BacktestOutcome, r: ReplicationResult, s: Scenario) -> OutcomeRow:
    """``o`` beside the replications ``r`` of the case's scenario ``s``."""
    n = r.n
    types = None if o.modes is None else {
        name for name, spec in s.aircraft.items() if spec.mode in o.modes}
    if o.kpi == "delivered_by_day":
        assert o.day is not None  # the schema pairs 'day' with this measure
        if o.day >= len(r.bands):
            raise BacktestError(f"outcome day {o.day} is past the horizon of {r.scenario}")
        band = r.bands[o.day]
        mean, p5, p95 = (None if band[k] is None else float(band[k]) for k in
                         ("delivered_cum_mean", "delivered_cum_p5", "delivered_cum_p95"))
        reached = n
    elif o.kpi == "peak_day_delivered":
        means = [0.0, *(float(b["delivered_cum_mean"] or 0.0) for b in r.bands)]
        mean, p5, p95, reached = float(max(np.diff(means))), None, None, n
    elif o.kpi == "sorties":
        mean, p5, p95, reached = _stats(_sorties(r, types), n)
    elif o.kpi == "per_sortie":
        sorties = _sorties(r, types)
        delivered = _column(r, "delivered")
        with np.errstate(divide="ignore", invalid="ignore"):
            load = np.where(sorties > 0, delivered / sorties, np.nan)
        mean, p5, p95, reached = _stats(load, n)
    else:
        mean, p5, p95, reached = _stats(_column(r, o.kpi), n)
    return OutcomeRow(kpi=o.kpi, day=o.day, low=o.low, high=o.high, note=o.note, mean=mean,
                      p5=p5, p95=p95, reached=reached, n=n,
                      modes=None if o.modes is None else tuple(o.modes))


def run_case(path: Path, n: int, *, seed: int = 1, jobs: int | None = None,
             progress: Callable[[int, int], None] | None = None,
             scenario: Scenario | None = None) -> CaseResult:
    """Run one case file ``n`` times and compare each reported outcome (``scenario``: the
    file's scenario, already loaded)."""
    s = scenario if scenario is not None else _load_case(path)
    assert s.backtest is not None  # ``_load_case`` checked it
    t0 = time.perf_counter()
    r = replicate(s, n, seed=seed, jobs=jobs, progress=progress, source=path)
    bt = s.backtest
    return CaseResult(
        name=path.stem, operation=bt.operation, description=" ".join(s.description.split()),
        sources=[src.model_dump(exclude_none=True) for src in bt.sources],
        assumptions=list(bt.assumptions), not_modelled=list(bt.not_modelled),
        outcomes=[_outcome(o, r, s) for o in bt.outcomes], wall_seconds=time.perf_counter() - t0)


def run_backtest(cases: Sequence[str] | None = None, n: int = 20, *, seed: int = 1,
                 jobs: int | None = None, progress: Progress | None = None,
                 out: Path | None = None) -> BacktestResult:
    """Run the named cases (default: all) with ``n`` replications each.

    Raises BacktestError before any work for an unknown case or a bad ``n``; ``out``
    (checked first) receives ``backtest.json`` and ``backtest.md``.
    """
    try:
        check_n(n)
    except ExperimentError as exc:
        raise BacktestError(str(exc)) from None
    paths = _paths(cases)
    scenarios = [_load_case(path) for path in paths]  # every file checked before any run
    if out is not None:
        from sim.experiments.common import check_out

        check_out(out, KIND)
    t0 = time.perf_counter()
    result = BacktestResult(n=n, seed=seed, not_expressible=INEXPRESSIBLE if not cases else ())
    for path, scenario in zip(paths, scenarios, strict=True):
        tick = None
        if progress is not None:
            def tick(done: int, total: int, name: str = path.stem) -> None:
                progress(name, done, total)
        result.cases.append(run_case(path, n, seed=seed, jobs=jobs, progress=tick,
                                     scenario=scenario))
    result.wall_seconds = time.perf_counter() - t0
    if out is not None:
        result.write(out)
    return result
