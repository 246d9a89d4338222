"""The smallest fleet that meets a deadline with a given confidence (``dtsim plan fleet``).

The question: how many aircraft of one type (``type_=``), or what multiplier on
the whole fleet (``scale=True``), or which mix of types at the least cost
(``types=``, ``costs=``) makes P(success by the deadline) at least
``confidence``? Success in one run: at least ``target`` (a fraction) of the
detainees in custody at day 0 are delivered by day ``deadline_day`` of the run's clock
(hour 24 x ``deadline_day``; ``deadline_met``). Counts are those of the initial fleet; triggers still add or
withdraw aircraft as the scenario says.

Procedure (error control in ``sim.planning.confidence``):

* Common random numbers: replication ``i`` runs with the same seed
  (``replication_seed(seed, i)``) at every candidate, so the estimates of two
  counts differ by the count's effect, not by luck, and they stay ordered.
* Sequential allocation: a candidate gets ``batch`` replications, then doubles
  its sample only while the one-sided Clopper-Pearson interval (at
  ``1 - alpha / K`` for ``K`` looks) still straddles ``confidence``; it stops at
  ``max_replications``. Counts far from the threshold are settled by one batch.
* Monotonicity: more aircraft never lower P(success) (an assumption about the
  model, kept by common random numbers in practice). One type, or the scale
  multiplier: test the largest candidate, then bisect; each verdict settles every
  count on its side. A mix: for each count of the leading types in turn, bisect
  the last type's count below the cheapest mix found so far; any mix with no more
  of every type than one that missed is taken to miss without running it.
* The lower bound hook: ``cannot_succeed(candidate) -> bool`` (the count, the
  multiplier or the mix as ``{type: count}``); a candidate it rules out costs no
  replication and counts as missing.

The answer is always a candidate whose own test said "meets", so the claim
P(success) >= confidence holds at level ``1 - alpha`` for it. The report also
gives what a full grid would have cost: every candidate in the space run with
the largest sample the search needed at any one candidate (the same per-count
precision).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.core.results import TargetError, check_target, deadline_met
from sim.experiments.common import (
    SEED_RULE,
    Progress,
    as_scenario,
    check_deadline,
    check_out,
    json_safe,
    replication_seed,
)
from sim.experiments.executors import execute, make_runner, payload
from sim.experiments.store import ExperimentError
from sim.output.folders import PLAN_FLEET_JSON as PLAN_FILE
from sim.planning.confidence import MEETS, UNDECIDED, SequentialTest, looks

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

RULED_OUT = "ruled_out"
KIND = "fleet_plan"
TRIALS_FILE = "trials.csv"
DEFAULT_MAX_COUNT = 60
"""Largest count tried by default (``--max``), of each type searched: a planning
assumption, at least this and at least ``DEFAULT_MAX_MULTIPLE`` times the type's
current count (``default_max_count``)."""
DEFAULT_MAX_MULTIPLE = 4
"""The default largest count over the current count: the same headroom as the default
``--max-scale`` (a planning assumption). With a fixed 60, a fleet of 500 coaches was
refused ("--max 60: below the current count") unless the user chose a --max."""
DEFAULT_BATCH = 10
DEFAULT_MAX_REPLICATIONS = 320
DEFAULT_SCALE_STEP = 0.25
DEFAULT_MAX_SCALE = 4.0

Candidate = tuple[int, ...]
"""A point of the search: the count of each searched type, or the scale step index."""
Simulate = Callable[[Candidate, Sequence[int]], list[bool]]
"""Success (True) of each replication index at a candidate; the model or a test's stub."""


# ----- success in one run ---------------------------------------------------------------------


# The one definition of success, shared with replications, comparisons and sweeps:
# ``sim.core.results.deadline_met`` (at least ``target`` of those in custody at day 0
# delivered by ``deadline_day``; people lost never count).


# ----- the space searched ---------------------------------------------------------------------


def type_counts(s: Scenario) -> dict[str, int]:
    """Vehicles of each type in the initial fleet (summed over bases)."""
    out: dict[str, int] = {}
    for entry in s.fleet:
        out[entry.type] = out.get(entry.type, 0) + entry.count
    return out


def _split(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split over entries in proportion to ``weights`` (largest remainder)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [math.floor(x) for x in shares]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - shares[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def with_counts(s: Scenario, counts: Mapping[str, int]) -> Scenario:
    """``s`` with the initial fleet holding ``counts[type]`` vehicles of each type named.

    A type at several bases keeps its split between them (largest remainder); a
    count of 0 removes the type's entries.
    """
    from sim.scenario.loader import build
    from sim.scenario.schema import dump_scenario

    data = dump_scenario(s)
    new_counts: dict[int, int] = {}
    for typ, total in counts.items():
        idx = [i for i, e in enumerate(data["fleet"]) if e["type"] == typ]
        for i, n in zip(idx, _split(total, [data["fleet"][i]["count"] for i in idx]),
                        strict=True):
            new_counts[i] = n
    data["fleet"] = [{**e, "count": new_counts.get(i, e["count"])}
                     for i, e in enumerate(data["fleet"]) if new_counts.get(i, 1) > 0]
    return build(data)


def scaled(s: Scenario, multiplier: float) -> Scenario:
    """``s`` with every fleet entry's count multiplied by ``multiplier``, rounded up (at
    least one vehicle an entry)."""
    from sim.scenario.loader import build
    from sim.scenario.schema import dump_scenario

    data = dump_scenario(s)
    data["fleet"] = [{**e, "count": max(1, math.ceil(e["count"] * multiplier - 1e-9))}
                     for e in data["fleet"]]
    return build(data)


@dataclass(frozen=True)
class Space:
    """What is searched: one type's count, a multiplier on the whole fleet, or a mix.

    ``ranges`` holds one inclusive (low, high) range per dimension: counts, or for
    ``scale`` the multiplier's step index (multiplier = index * ``step``).
    """

    mode: str  # "type", "scale" or "mix"
    types: tuple[str, ...]
    ranges: tuple[tuple[int, int], ...]
    costs: tuple[float, ...] = ()
    step: float = DEFAULT_SCALE_STEP

    @property
    def size(self) -> int:
        """Candidates in the space (what a full grid would run)."""
        return math.prod(hi - lo + 1 for lo, hi in self.ranges)

    def multiplier(self, c: Candidate) -> float:
        return round(c[0] * self.step, 10)

    def value(self, c: Candidate) -> Any:
        """What the ``cannot_succeed`` hook receives: a count, a multiplier or a mix."""
        if self.mode == "type":
            return c[0]
        if self.mode == "scale":
            return self.multiplier(c)
        return dict(zip(self.types, c, strict=True))

    def cost(self, c: Candidate) -> float | None:
        if self.mode != "mix":
            return None
        return sum(n * k for n, k in zip(c, self.costs, strict=True))

    def label(self, c: Candidate) -> str:
        if self.mode == "type":
            return f"{c[0]} {self.types[0]}"
        if self.mode == "scale":
            return f"x{self.multiplier(c):g}"
        return " + ".join(f"{n} {t}" for t, n in zip(self.types, c, strict=True))

    def scenario(self, base: Scenario, c: Candidate) -> Scenario:
        if self.mode == "scale":
            return scaled(base, self.multiplier(c))
        return with_counts(base, dict(zip(self.types, c, strict=True)))


# ----- the record of a search -----------------------------------------------------------------


@dataclass
class Trial:
    """One candidate tried: its verdict and the evidence (limits at the per-look level)."""

    label: str
    candidate: Candidate
    value: Any
    cost: float | None
    n: int
    successes: int
    p: float | None
    lower: float
    upper: float
    verdict: str
    looks: int

    def to_dict(self) -> dict[str, Any]:
        return json_safe({"candidate": self.label, "value": self.value, "cost": self.cost,
                          "n": self.n, "successes": self.successes, "p": self.p,
                          "lower": self.lower, "upper": self.upper, "verdict": self.verdict,
                          "looks": self.looks})


@dataclass
class FleetPlan:
    """The answer of a fleet search and how it was reached.

    ``answer`` is the chosen candidate's value (a count, a multiplier or a mix
    ``{type: count}``), None if nothing in the space met the target. ``trials``
    lists every candidate tried in order; ``replications`` is what the search ran
    and ``grid_replications`` what a full grid at the same per-count precision
    would have run (``space.size`` times the largest sample of any trial).
    """

    scenario: str
    scenario_hash: str
    space: Space
    current: Any
    deadline_day: float
    target: float
    confidence: float
    level: float
    batch: int
    max_replications: int
    seed: int
    answer: Any
    answer_label: str | None
    trials: list[Trial]
    wall_seconds: float = 0.0
    scenario_yaml: str = ""
    source: str | None = None
    overrides: list[str] = field(default_factory=list)

    @property
    def replications(self) -> int:
        return sum(t.n for t in self.trials)

    @property
    def grid_replications(self) -> int:
        per_count = max((t.n for t in self.trials), default=0)
        return self.space.size * per_count

    @property
    def answer_trial(self) -> Trial | None:
        return next((t for t in self.trials if t.label == self.answer_label
                     and t.verdict == MEETS), None)

    def headline(self) -> str:
        what = {"type": f"{self.space.types[0]} count", "scale": "fleet multiplier",
                "mix": "mix of " + ", ".join(self.space.types)}[self.space.mode]
        goal = (f"P(at least {self.target:.0%} delivered by day {self.deadline_day:g}) >= "
                f"{self.confidence:g}")
        if self.answer_label is None:
            return f"{self.scenario}: no {what} {self._range_text()} gives {goal}" \
                + self._largest_text()
        t = self.answer_trial
        extra = "" if t is None else (f" (p = {t.p:.3f}, lower limit {t.lower:.3f} at "
                                      f"{self.level:.0%} overall, {t.n} replications)")
        cost = self.space.cost(t.candidate) if t is not None else None
        cost_text = "" if cost is None else f", cost {cost:g}"
        return f"{self.scenario}: smallest {what} with {goal}: {self.answer_label}{cost_text}{extra}"

    def _range_text(self) -> str:
        """The space searched, in words: ``from 1 to 60`` (a count), ``from x0.25 to x4``
        (a multiplier), ``up to 20 ch47, 30 uh60`` (a mix)."""
        sp = self.space
        if sp.mode == "type":
            (lo, hi), = sp.ranges
            return f"from {lo} to {hi}"
        if sp.mode == "scale":
            (lo, hi), = sp.ranges
            return f"from x{sp.multiplier((lo,)):g} to x{sp.multiplier((hi,)):g}"
        return "up to " + ", ".join(f"{hi} {t}" for t, (_lo, hi) in zip(sp.types, sp.ranges,
                                                                       strict=True))

    def _largest_text(self) -> str:
        """What the largest candidate tried reached, and what to try next: where even it
        never met the deadline, more of the same is unlikely to help."""
        if not self.trials:
            return ""
        top = max(self.trials, key=lambda t: (sum(t.candidate), t.n))
        if top.verdict == RULED_OUT:
            return (f"; the largest, {top.label}, is ruled out by the bound (no dispatch of "
                    "it could meet the deadline)")
        said = f"; the largest tried, {top.label}, met it in {top.successes} of {top.n} runs"
        if top.successes == 0:
            return (said + ": more are needed (a larger --max or --max-scale), or something "
                    "other than their number limits the operation (pads, a reception, crews, "
                    "a road; `dtsim bound` gives the fastest any dispatch could go)")
        return said + " (a larger --max or --max-scale searches further)"

    def __repr__(self) -> str:
        return (f"FleetPlan({self.headline()}; {len(self.trials)} candidates tried, "
                f"{self.replications} replications, full grid {self.grid_replications})")

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``dtsim plan fleet --json`` (``plan_fleet.json``)."""
        from sim.common.version import __version__

        grid = self.grid_replications
        return json_safe({
            "kind": KIND, "format_version": 1, "scenario": self.scenario,
            "scenario_hash": self.scenario_hash, "scenario_file": self.source,
            "overrides": list(self.overrides), "version": __version__,
            "mode": self.space.mode, "types": list(self.space.types),
            "costs": list(self.space.costs) or None,
            "range": [list(r) for r in self.space.ranges],
            "scale_step": self.space.step if self.space.mode == "scale" else None,
            "current": self.current, "deadline_day": self.deadline_day, "target": self.target,
            "confidence": self.confidence, "level": self.level,
            "success": (f"at least {self.target:g} of the detainees in custody at day 0 "
                        f"delivered by day {self.deadline_day:g} "
                        f"(hour {24 * self.deadline_day:g} of the run)"),
            "method": {"interval": "one-sided Clopper-Pearson",
                       "looks": looks(self.batch, self.max_replications),
                       "level_per_look": 1 - (1 - self.level)
                       / looks(self.batch, self.max_replications),
                       "batch": self.batch, "max_replications": self.max_replications,
                       "seed": self.seed, "seed_rule": SEED_RULE},
            "answer": self.answer, "answer_label": self.answer_label,
            "answer_cost": None if self.answer_trial is None
            else self.space.cost(self.answer_trial.candidate),
            "headline": self.headline(),
            "trials": [t.to_dict() for t in self.trials],
            "replications": self.replications, "grid_candidates": self.space.size,
            "grid_replications": grid,
            "replications_share_of_grid": self.replications / grid if grid else None,
            "wall_seconds": self.wall_seconds,
        })

    def write(self, out: Path) -> list[Path]:
        """Write the folder ``out`` whole: plan_fleet.json, trials.csv,
        scenario.resolved.yaml and complete.json."""
        from sim.experiments.store import atomic_text
        from sim.output.files import csv_text, json_text
        from sim.output.folders import new_run_id, staged_folder

        check_out(out, KIND)
        run_id = new_run_id()
        cols = ["candidate", "value", "cost", "n", "successes", "p", "lower", "upper", "verdict",
                "looks"]
        with staged_folder(out, KIND, run_id) as tmp:
            atomic_text(tmp / PLAN_FILE, json_text({**self.to_dict(), "run_id": run_id}))
            rows = []
            for t in self.trials:
                d = t.to_dict()
                if isinstance(d["value"], dict):
                    d["value"] = " ".join(f"{k}={v}" for k, v in d["value"].items())
                rows.append([d[c] for c in cols])
            atomic_text(tmp / TRIALS_FILE, csv_text(cols, rows))
            atomic_text(tmp / "scenario.resolved.yaml", self.scenario_yaml)
        return [out / PLAN_FILE, out / TRIALS_FILE, out / "scenario.resolved.yaml"]


# ----- the search ---------------------------------------------------------------------------


class _Search:
    """Sequential tests per candidate, cached, with progress and the bound hook."""

    def __init__(self, space: Space, simulate: Simulate, confidence: float, alpha: float,
                 batch: int, max_n: int, cannot_succeed: Callable[[Any], bool] | None,
                 progress: Progress | None, notice: Callable[[str], None] | None) -> None:
        self.space, self.simulate = space, simulate
        self.confidence, self.alpha, self.batch, self.max_n = confidence, alpha, batch, max_n
        self.cannot_succeed, self.progress, self.notice = cannot_succeed, progress, notice
        self.trials: dict[Candidate, Trial] = {}
        self.missed: list[Candidate] = []
        self.done = 0

    def passes(self, c: Candidate) -> bool:
        """True if ``c``'s own test says it meets the confidence (runs it if needed)."""
        if c in self.trials:
            return self.trials[c].verdict == MEETS
        if any(all(a <= b for a, b in zip(c, m, strict=True)) for m in self.missed):
            return False  # no more of any type than a mix that missed
        sp = self.space
        if self.cannot_succeed is not None and self.cannot_succeed(sp.value(c)):
            trial = Trial(sp.label(c), c, sp.value(c), sp.cost(c), 0, 0, None, 0.0, 0.0,
                          RULED_OUT, 0)
        else:
            test = SequentialTest(self.confidence, self.alpha, self.batch, self.max_n)
            while (want := test.wanted()) > 0:
                if self.progress:
                    self.progress(self.done, self.done + want)
                outcomes = self.simulate(c, range(test.n, test.n + want))
                test.add(list(outcomes))
                self.done += want
                if self.progress:
                    self.progress(self.done, self.done)
            verdict = test.verdict() or UNDECIDED
            trial = Trial(sp.label(c), c, sp.value(c), sp.cost(c), test.n, test.successes,
                          test.p, test.lower, test.upper, verdict, test.looks_made)
        self.trials[c] = trial
        if trial.verdict != MEETS:
            self.missed.append(c)
        if self.notice:
            p = "-" if trial.p is None else f"{trial.p:.3f}"
            self.notice(f"{trial.label}: {trial.verdict} (p = {p}, "
                        f"interval {trial.lower:.3f}..{trial.upper:.3f}, n = {trial.n})")
        return trial.verdict == MEETS


def smallest_passing(lo: int, hi: int, passes: Callable[[int], bool]) -> int | None:
    """The smallest k in lo..hi with ``passes(k)``, for a monotone ``passes``: the top
    first (None if even it fails), then bisection; about log2(hi - lo) calls."""
    if not passes(hi):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if passes(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def cheapest_mix(ranges: Sequence[tuple[int, int]], costs: Sequence[float],
                 passes: Callable[[Candidate], bool]) -> Candidate | None:
    """The least-cost mix that passes (``passes`` monotone in every count).

    For each count of the leading types (in order), the last type's count is
    bisected below the cheapest mix found so far; leading counts that already
    cost as much are skipped. The mix returned is one ``passes`` said yes to.
    """
    best: Candidate | None = None
    best_cost = math.inf
    last_lo, last_hi = ranges[-1]
    c_last = costs[-1]
    for prefix in itertools.product(*(range(lo, hi + 1) for lo, hi in ranges[:-1])):
        base = sum(n * k for n, k in zip(prefix, costs, strict=False))
        top = last_hi
        if best is not None:  # strictly cheaper than the best so far
            top = min(last_hi, math.ceil((best_cost - base) / c_last - 1e-9) - 1)
        if top < last_lo or not passes((*prefix, top)):
            continue
        def passes_last(k: int, p: Candidate = prefix) -> bool:
            return passes((*p, k))

        b = smallest_passing(last_lo, top, passes_last)
        assert b is not None
        best, best_cost = (*prefix, b), base + b * c_last
    return best


def _model_simulate(base: Scenario, space: Space, deadline_day: float, target: float,
                    seed: int, runner: Any) -> Simulate:
    """Runs of the model at a candidate, replication ``i`` with ``replication_seed(seed, i)``."""
    from sim.scenario.reading import ScenarioError

    cache: dict[Candidate, tuple[str, dict[str, Any]] | None] = {}

    def simulate(c: Candidate, indices: Sequence[int]) -> list[bool]:
        if c not in cache:
            try:
                cache[c] = payload(space.scenario(base, c))
            except ScenarioError:  # no vehicle left at all: nothing can be delivered
                cache[c] = None
        entry = cache[c]
        if entry is None:
            return [False] * len(indices)
        key, data = entry
        tasks = ((i, (key, data, replication_seed(seed, i), True)) for i in indices)
        out = []
        for _, (kpis, _daily) in execute(runner, tasks, True, len(indices)):
            out.append(deadline_met(kpis, deadline_day, target))
        return out

    return simulate


def _bound_rules_out(base: Scenario, space: Space, deadline_day: float,
                     target: float) -> Callable[[Any], bool]:
    """The ``cannot_succeed`` hook from the lower bound: a candidate whose quick bound on
    the day ``target`` is delivered falls after the deadline (or never within the horizon)
    cannot succeed in any run, so it costs no replication. Without scipy (the ``plan``
    extra) it rules nothing out. The bound reads leg times at their nominal values, so a
    run with random leg times could beat it by luck; the margin is a small share of a day."""

    def rules_out(value: Any) -> bool:
        from sim.planning.bound import QUICK_BOUND_SECONDS, BoundError, lower_bound
        from sim.scenario.reading import ScenarioError

        if space.mode == "type":
            c: Candidate = (int(value),)
        elif space.mode == "scale":
            c = (round(float(value) / space.step),)
        else:
            c = tuple(int(value[t]) for t in space.types)
        try:
            day = lower_bound(space.scenario(base, c), fractions=(target,), quick=True,
                              time_limit=QUICK_BOUND_SECONDS).day_for(target)
        except (BoundError, ScenarioError):  # a bound that timed out rules nothing out
            return False
        return day is None or day > deadline_day + 1e-9

    return rules_out


def _check_fraction(name: str, value: float, closed_top: bool) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not (0 < value <= 1 if closed_top else 0 < value < 1):
        span = "(0, 1]" if closed_top else "(0, 1)"
        raise ExperimentError(f"{name} {value!r}: expected a number in {span}")
    return float(value)


def default_max_count(current: Sequence[int]) -> int:
    """The largest count tried when ``--max`` is not given, for types whose current
    counts are ``current``: ``DEFAULT_MAX_COUNT``, or ``DEFAULT_MAX_MULTIPLE`` times the
    largest current count if that is more."""
    return max(DEFAULT_MAX_COUNT, DEFAULT_MAX_MULTIPLE * max(current, default=0))


def _space(s: Scenario, type_: str | None, scale: bool, types: Sequence[str] | None,
           costs: Sequence[float] | None, max_count: int | None, max_scale: float,
           scale_step: float) -> tuple[Space, Any]:
    """The space searched and the scenario's current point in it (ExperimentError if the
    question is malformed)."""
    chosen = sum([type_ is not None, scale, bool(types)])
    if chosen != 1:
        raise ExperimentError("choose exactly one of --type TYPE, --scale or --types T1,T2")
    have = type_counts(s)
    if scale:
        if not 0 < scale_step <= 1:
            raise ExperimentError(f"--scale-step {scale_step:g}: expected a number in (0, 1]")
        if not math.isfinite(max_scale) or max_scale < 1:
            raise ExperimentError(f"--max-scale {max_scale:g}: below the current fleet (1)")
        top = math.floor(max_scale / scale_step + 1e-9)
        return Space("scale", tuple(have), ((1, top),), step=scale_step), 1.0
    names = [type_] if type_ is not None else list(types or [])
    if len(set(names)) != len(names):
        raise ExperimentError(f"--types {','.join(names)}: a type is named twice")
    for t in names:
        if t not in have:
            raise ExperimentError(f"type {t!r} is not in the fleet of {s.name} "
                                  f"(types: {', '.join(have)})")
    if max_count is None:
        max_count = default_max_count([have[t] for t in names])
    if isinstance(max_count, bool) or not isinstance(max_count, int):
        raise ExperimentError(f"--max {max_count!r}: expected a whole number")
    for t in names:
        if max_count < have[t]:
            raise ExperimentError(f"--max {max_count}: below the current count of {t} "
                                  f"({have[t]})")
    if type_ is not None:
        return Space("type", (type_,), ((1, max_count),)), have[type_]
    cost_list = list(costs) if costs is not None else [1.0] * len(names)
    if len(cost_list) != len(names):
        raise ExperimentError(f"--costs: {len(cost_list)} costs for {len(names)} types")
    for k in cost_list:
        if not (isinstance(k, (int, float)) and math.isfinite(k) and k > 0):
            raise ExperimentError(f"--costs {k!r}: expected positive numbers")
    if len(names) < 2:
        raise ExperimentError("--types needs two types or more (use --type for one)")
    return (Space("mix", tuple(names), tuple((0, max_count) for _ in names),
                  tuple(float(k) for k in cost_list)), {t: have[t] for t in names})


def plan_fleet(scenario: Scenario | str | Path, *, deadline_day: float, confidence: float,
               type_: str | None = None, scale: bool = False,
               types: Sequence[str] | None = None, costs: Sequence[float] | None = None,
               target: float = 1.0, max_count: int | None = None,
               max_scale: float = DEFAULT_MAX_SCALE, scale_step: float = DEFAULT_SCALE_STEP,
               level: float = 0.95, batch: int = DEFAULT_BATCH,
               max_replications: int = DEFAULT_MAX_REPLICATIONS, seed: int = 1,
               jobs: int | None = None, dask: str | None = None,
               cannot_succeed: Callable[[Any], bool] | None = None, use_bound: bool = True,
               simulate: Simulate | None = None, progress: Progress | None = None,
               notice: Callable[[str], None] | None = None, out: str | Path | None = None,
               source: str | Path | None = None, overrides: Sequence[str] = ()) -> FleetPlan:
    """The smallest fleet for which P(success by ``deadline_day``) >= ``confidence``.

    Exactly one of ``type_`` (that type's count, 1..``max_count``; by default
    ``default_max_count`` of the types searched), ``scale``
    (the multiplier on every fleet entry, ``scale_step``..``max_scale``) or
    ``types`` with ``costs`` (the cheapest mix, each count 0..``max_count``).
    Success: at least ``target`` of those in custody at day 0 delivered by
    day ``deadline_day`` of the run's clock (hour 24 x ``deadline_day``). ``level`` is
    the confidence in the claim (the one-sided Clopper-Pearson limit's, 0.95 by
    default); ``batch`` and
    ``max_replications`` bound each candidate's sequential test. ``simulate``
    replaces the model (``Simulate``: a candidate and replication indices to
    successes), e.g. in tests; ``cannot_succeed`` skips candidates a lower bound
    rules out: by default (``use_bound``, with the model) the quick lower bound of
    ``sim.planning.bound``, whose day for ``target`` after the deadline (or never) means
    no run can succeed. ``out`` writes the folder (``FleetPlan.write``). Bad arguments
    raise ``ExperimentError`` before any run. See the module's docstring for the
    procedure and its error control.
    """
    s = as_scenario(scenario)
    deadline = check_deadline(deadline_day, s.horizon_days)
    assert deadline is not None
    confidence = _check_fraction("--confidence", confidence, closed_top=False)
    try:
        target = check_target(target)
    except TargetError as exc:
        raise ExperimentError(str(exc)) from None
    level = _check_fraction("--level", level, closed_top=False)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ExperimentError(f"--batch {batch!r}: expected a whole number >= 1")
    if (isinstance(max_replications, bool) or not isinstance(max_replications, int)
            or max_replications < batch):
        raise ExperimentError(f"--max-replications {max_replications!r}: expected a whole "
                              f"number >= --batch ({batch})")
    space, current = _space(s, type_, scale, types, costs, max_count, max_scale, scale_step)
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        check_out(out_path, KIND)
    t0 = time.perf_counter()
    runner = None
    ok = False
    try:
        if simulate is None:
            runner = make_runner(jobs, dask)
            simulate = _model_simulate(s, space, deadline, target, seed, runner)
            if cannot_succeed is None and use_bound:
                cannot_succeed = _bound_rules_out(s, space, deadline, target)
        search = _Search(space, simulate, confidence, 1 - level, batch, max_replications,
                         cannot_succeed, progress, notice)
        if space.mode == "mix":
            best = cheapest_mix(space.ranges, space.costs, search.passes)
        else:
            lo, hi = space.ranges[0]
            k = smallest_passing(lo, hi, lambda i: search.passes((i,)))
            best = None if k is None else (k,)
        ok = True
    finally:
        if runner is not None:
            runner.close(cancel=not ok)
    from sim.scenario.loader import resolved_yaml, scenario_hash

    src = source if source is not None else (scenario if isinstance(scenario, (str, Path))
                                             else None)
    plan = FleetPlan(
        scenario=s.name, scenario_hash=scenario_hash(s), space=space, current=current,
        deadline_day=deadline, target=target, confidence=confidence, level=level, batch=batch,
        max_replications=max_replications, seed=seed,
        answer=None if best is None else space.value(best),
        answer_label=None if best is None else space.label(best),
        trials=list(search.trials.values()), wall_seconds=time.perf_counter() - t0,
        scenario_yaml=resolved_yaml(s), source=None if src is None else str(src),
        overrides=list(overrides))
    if out_path is not None:
        plan.write(out_path)
    return plan


__all__ = ["FleetPlan", "Space", "Trial", "cheapest_mix", "plan_fleet",
           "scaled", "smallest_passing", "with_counts"]
