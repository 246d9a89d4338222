"""The classroom exercise pack: discovery, answer keys computed by the simulator, grading.

An exercise ``NN`` lives in ``scenarios/exercises/`` as three kinds of file:

* ``NN-slug.yaml`` (and optional variants ``NN-slug-*.yaml``): scenario files;
* ``NN-slug.md``: the worksheet students read;
* ``NN-slug.questions.yaml``: the machine-readable question spec. Files named
  ``*.questions.yaml`` are the only YAML files under ``scenarios/`` that are
  not scenarios.

A question says how its answer is computed from simulation results: a
*metric* (an expression over one run's ``Result``), the *seeds* it is run
with, an *aggregate* over those seeds, optional ``--set``-style overrides and
an optional *search* over a parameter's values. Keys are therefore never
typed by hand: ``answer_key`` runs the simulator. Runs are cached within one
key computation (same scenario, overrides and seed: same result).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.scenario import ScenarioError, read_yaml

SPEC_SUFFIX = ".questions.yaml"
SPEC_RE = re.compile(r"^(\d{2})-([a-z0-9][a-z0-9-]*)\.questions\.yaml$")
NEVER_WORDS = ("never", "none", "null", "-", "n/a")

Value = float | str | None
"""An answer: a number, a name (choice questions) or None ("never", "not within the horizon")."""

# Two-sided 95% Student t quantiles by degrees of freedom (no scipy at run time).
T95 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
    9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
    17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064,
    25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000,
    120: 1.980,
}


def t95(df: int) -> float:
    """Two-sided 95% t quantile for ``df`` degrees of freedom (table; 1.96 beyond 120)."""
    if df <= 0:
        return math.inf
    if df > max(T95):
        return 1.96
    return T95[max(x for x in T95 if x <= df)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Tolerance(_Frozen):
    """An answer is right if within ``abs`` or within ``rel`` (a fraction) of the key."""

    abs: float = Field(default=0.0, ge=0, description="Absolute tolerance, in the question's unit.")
    rel: float = Field(default=0.0, ge=0, le=1, description="Relative tolerance (0.05 = 5 %).")

    def allows(self, key: float, answer: float) -> bool:
        """Whether ``answer`` is within tolerance of ``key``."""
        return abs(answer - key) <= max(self.abs, self.rel * abs(key)) + 1e-9

    def describe(self, unit: str) -> str:
        """The tolerance in words, as worksheets print it (e.g. ``± 0.1 days``)."""
        parts = []
        if self.abs:
            parts.append(f"± {self.abs:g} {unit}".rstrip())
        if self.rel:
            parts.append(f"± {self.rel * 100:g} %")
        return " or ".join(parts) if parts else "exact"


class Search(_Frozen):
    """Run the question once per value of a parameter and report a value, not a metric.

    ``pick: first``: the first value (in the order given) whose aggregated
    metric is at least ``at_least`` (an indicator metric averaged over seeds:
    1.0 means on every seed). ``argmin``/``argmax``: the value with the
    smallest/largest aggregate (ties: the first).
    """

    set: str = Field(description="Dotted path, as for --set (e.g. fleet.ch47.count).")
    values: list[float | str] = Field(min_length=1, max_length=30)
    pick: Literal["first", "argmin", "argmax"] = "first"
    at_least: float = Field(default=1.0, ge=0, le=1)


Aggregate = Literal["mean", "median", "min", "max", "std", "ci95_halfwidth", "replications_for"]


class Question(_Frozen):
    """One graded question and how its answer is computed."""

    id: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    text: str
    unit: str = ""
    answer: Literal["number", "choice"] = "number"
    metric: dict[str, Any] = Field(description="Expression over one run's results (see metric()).")
    seeds: list[int] | None = Field(default=None, description="Default: the exercise's seeds.")
    aggregate: Aggregate = "mean"
    halfwidth: float | None = Field(
        default=None, gt=0, description="Target CI half-width for aggregate replications_for."
    )
    scenario: str | None = Field(default=None, description="Scenario file; default the exercise's.")
    set: dict[str, Any] = Field(default_factory=dict, description="Overrides, as for --set.")
    search: Search | None = None
    tolerance: Tolerance = Field(default_factory=Tolerance)
    hint: str = ""

    @model_validator(mode="after")
    def _check(self) -> Question:
        if self.aggregate == "replications_for" and self.halfwidth is None:
            raise ValueError("aggregate replications_for needs 'halfwidth'")
        check_metric(self.metric)
        names = "argmin_site" in self.metric or (
            self.search is not None and any(isinstance(v, str) for v in self.search.values)
        )
        if names and self.answer != "choice":
            raise ValueError("this question's answer is a name: set 'answer: choice'")
        return self


class Spec(_Frozen):
    """An exercise's question spec (``NN-slug.questions.yaml``)."""

    title: str
    level: str = ""
    summary: str = ""
    scenario: str
    worksheet: str
    seeds: list[int] = Field(default_factory=lambda: [1], min_length=1, max_length=200)
    questions: list[Question] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _unique(self) -> Spec:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate question ids in {ids}")
        return self


@dataclass(frozen=True)
class Exercise:
    """An exercise found on disk."""

    number: int
    slug: str
    folder: Path
    spec: Spec

    @property
    def scenario_path(self) -> Path:
        return self.folder / self.spec.scenario

    @property
    def worksheet_path(self) -> Path:
        return self.folder / self.spec.worksheet

    @property
    def spec_path(self) -> Path:
        return self.folder / f"{self.number:02d}-{self.slug}{SPEC_SUFFIX}"

    def question(self, qid: str) -> Question:
        """The question with id ``qid``."""
        return next(q for q in self.spec.questions if q.id == qid)


@dataclass(frozen=True)
class KeyEntry:
    """The computed answer to one question."""

    id: str
    text: str
    unit: str
    value: Value
    tolerance: str
    per_seed: list[Value] = field(default_factory=list)
    detail: str = ""


# ----- discovery -------------------------------------------------------------------------


def default_folder() -> Path:
    """``scenarios/exercises`` under the working directory, else beside the package."""
    here = Path("scenarios/exercises")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parent.parent / "scenarios" / "exercises"


def is_question_spec(path: Path) -> bool:
    """True for question-spec files, the only YAML under ``scenarios/`` that is not a scenario."""
    return path.name.endswith(SPEC_SUFFIX)


def discover(folder: Path | None = None) -> list[Exercise]:
    """All exercises in ``folder``, by number; a broken spec is a ScenarioError."""
    folder = folder or default_folder()
    if not folder.is_dir():
        raise ScenarioError([f"{folder}: exercise folder not found"])
    out: list[Exercise] = []
    for path in sorted(folder.glob("*" + SPEC_SUFFIX)):
        m = SPEC_RE.match(path.name)
        if not m:
            raise ScenarioError([f"{path}: expected a name like 01-read-a-run{SPEC_SUFFIX}"])
        out.append(Exercise(int(m.group(1)), m.group(2), folder, load_spec(path)))
    return out


def load_spec(path: Path) -> Spec:
    """Read and validate a question spec, with file:line in errors."""
    from sim.scenario import locate

    data = read_yaml(path)
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            (fname, line), matched = locate(data, tuple(err["loc"]))
            lines.append(f"{fname}:{line}: {'.'.join(matched) or '(top level)'}: {err['msg']}")
        raise ScenarioError(lines) from None
    folder = path.parent
    for name in [spec.scenario, spec.worksheet] + [q.scenario for q in spec.questions if q.scenario]:
        if not (folder / name).exists():
            raise ScenarioError([f"{path}: {name}: file not found"])
    return spec


def find(ref: str, folder: Path | None = None) -> Exercise:
    """An exercise by number (``3`` or ``03``) or slug; unknown: ScenarioError listing them."""
    exercises = discover(folder)
    ref = ref.strip()
    for ex in exercises:
        if (ref.isdigit() and int(ref) == ex.number) or ref in (ex.slug, f"{ex.number:02d}-{ex.slug}"):
            return ex
    known = ", ".join(f"{ex.number} ({ex.slug})" for ex in exercises) or "none"
    raise ScenarioError(
        [f"unknown exercise {ref!r}; exercises are: {known} (see 'dtsim exercises list')"]
    )


# ----- metrics ---------------------------------------------------------------------------

METRIC_KINDS = (
    "kpi", "daily", "first_day", "const", "unloads", "add", "sub", "mul", "div",
    "lt", "le", "gt", "ge", "argmin_site",
)


def check_metric(m: Any) -> None:
    """Raise ValueError if ``m`` is not a well-formed metric expression."""
    if not isinstance(m, dict):
        raise ValueError(f"a metric is a mapping with one of {METRIC_KINDS}, got {m!r}")
    kinds = [k for k in m if k in METRIC_KINDS]
    if len(kinds) != 1:
        raise ValueError(f"a metric needs exactly one of {METRIC_KINDS}, got {sorted(m)}")
    kind = kinds[0]
    extra = set(m) - {kind} - {
        "daily": {"day"}, "first_day": {"at_least"}, "argmin_site": {"exclude"},
    }.get(kind, set())
    if extra:
        raise ValueError(f"unexpected keys {sorted(extra)} in metric {kind!r}")
    if kind in ("add", "sub", "mul", "div", "lt", "le", "gt", "ge"):
        args = m[kind]
        if not isinstance(args, list) or len(args) < 2:
            raise ValueError(f"{kind!r} takes a list of at least two metrics")
        for a in args:
            check_metric(a)
    if kind == "daily" and "day" not in m:
        raise ValueError("a daily metric needs 'day'")
    if kind == "first_day" and "at_least" not in m:
        raise ValueError("a first_day metric needs 'at_least'")


def _num(x: Any) -> float | None:
    if x is None:
        return None
    if isinstance(x, bool):
        return float(x)
    if isinstance(x, (int, float)):
        return float(x)
    raise ValueError(f"not a number: {x!r}")


def _kpi(kpis: dict[str, Any], dotted: str) -> Any:
    node: Any = kpis
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"no KPI {dotted!r} in this run")
        node = node[part]
    return node


def metric(m: dict[str, Any], result: Any) -> Value:
    """Evaluate a metric expression on one run's ``Result``.

    Kinds (one per mapping): ``kpi: a.b.c`` (a KPI, dotted into nested ones,
    e.g. ``sites.hasakah.emptied_day``); ``daily: column, day: D`` (a column
    of the daily table at the end of day D); ``first_day: column, at_least: x``
    (the first day whose value reaches x, None if never); ``const: x``;
    ``unloads: {mode|type|site: ...}`` (detainees unloaded by matching
    vehicles: one count per hop); ``add|sub|mul|div: [m, ...]`` (None if any
    is None); ``lt|le|gt|ge: [a, b]`` (1.0 or 0.0; None counts as +infinity,
    i.e. "never"); ``argmin_site: field, exclude: [...]`` (the prison with the
    smallest non-null per-site KPI ``field``).
    """
    kind = next(k for k in m if k in METRIC_KINDS)
    arg = m[kind]
    if kind == "kpi":
        v = _kpi(result.kpis, str(arg))
        return v if isinstance(v, str) else _num(v)
    if kind == "const":
        return _num(arg) if not isinstance(arg, str) else arg
    if kind == "daily":
        day = int(m["day"])
        if not 0 <= day < len(result.daily):
            raise KeyError(f"day {day} is outside the horizon")
        return _num(result.daily[day][str(arg)])
    if kind == "first_day":
        for row in result.daily:
            v = row.get(str(arg))
            if v is not None and v >= float(m["at_least"]):
                return float(row["day"])
        return None
    if kind == "unloads":
        return float(_unloads(result, dict(arg)))
    if kind == "argmin_site":
        exclude = set(m.get("exclude", []))
        best: tuple[float, str] | None = None
        for sid, row in result.kpis["sites"].items():
            v = row.get(str(arg))
            if sid in exclude or v is None:
                continue
            if best is None or v < best[0]:
                best = (float(v), sid)
        return best[1] if best else None
    vals = [metric(a, result) for a in arg]
    if kind in ("lt", "le", "gt", "ge"):
        a, b = (math.inf if v is None else _num(v) for v in vals[:2])
        assert a is not None and b is not None
        ops: dict[str, Callable[[float, float], bool]] = {
            "lt": lambda x, y: x < y, "le": lambda x, y: x <= y,
            "gt": lambda x, y: x > y, "ge": lambda x, y: x >= y,
        }
        return 1.0 if ops[kind](a, b) else 0.0
    nums = [_num(v) for v in vals]
    if any(v is None for v in nums):
        return None
    xs = [v for v in nums if v is not None]
    if kind == "add":
        return float(sum(xs))
    if kind == "mul":
        return float(math.prod(xs))
    if kind == "sub":
        return xs[0] - sum(xs[1:])
    out = xs[0]
    for x in xs[1:]:
        if x == 0:
            return None
        out /= x
    return out


def _unloads(result: Any, sel: dict[str, Any]) -> int:
    unknown = set(sel) - {"mode", "type", "site"}
    if unknown:
        raise ValueError(f"unloads: unknown selectors {sorted(unknown)} (mode, type, site)")
    modes = result.meta.get("modes_by_type", {})
    total = 0
    for _t, event, who, site, n in result.events:
        if event != "unload":
            continue
        typ = who.rsplit("-", 1)[0]
        if "type" in sel and typ != sel["type"]:
            continue
        if "site" in sel and site != sel["site"]:
            continue
        if "mode" in sel and modes.get(typ) != sel["mode"]:
            continue
        total += int(n)
    return total


# ----- aggregation -----------------------------------------------------------------------


def aggregate(values: list[Value], how: str, halfwidth: float | None = None) -> Value:
    """Combine per-seed values. Strings and None pass through only from a single seed."""
    if len(values) == 1 and how in ("mean", "median", "min", "max"):
        return values[0]
    if any(isinstance(v, str) for v in values):
        strs = [v for v in values if isinstance(v, str)]
        return max(set(strs), key=lambda s: (strs.count(s), -strs.index(s)))  # the mode
    if any(v is None for v in values):
        return None
    xs = [float(v) for v in values if v is not None]
    n = len(xs)
    if how == "mean":
        return statistics.fmean(xs)
    if how == "median":
        return float(statistics.median(xs))
    if how == "min":
        return min(xs)
    if how == "max":
        return max(xs)
    sd = statistics.stdev(xs) if n > 1 else 0.0
    if how == "std":
        return sd
    if how == "ci95_halfwidth":
        return t95(n - 1) * sd / math.sqrt(n) if n > 1 else math.inf
    assert how == "replications_for" and halfwidth is not None
    return float(math.ceil((t95(n - 1) * sd / halfwidth) ** 2)) if n > 1 else None


# ----- keys ------------------------------------------------------------------------------


class Runner:
    """Runs scenarios by (file, overrides, seed), caching results for one key computation."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str, int], Any] = {}
        self.scenarios: dict[tuple[str, str], Any] = {}

    def result(self, path: Path, overrides: dict[str, Any], seed: int) -> Any:
        """The Result of ``path`` with ``overrides`` and ``seed`` (run once, then cached)."""
        import json

        import sim

        okey = json.dumps(overrides, sort_keys=True, default=str)
        key = (str(path), okey, seed)
        if key not in self.cache:
            skey = (str(path), okey)
            if skey not in self.scenarios:
                self.scenarios[skey] = sim.load_scenario(path, dict(overrides))
            scenario = self.scenarios[skey]
            res = sim.run(scenario, seed)
            res.meta["modes_by_type"] = {t: a.mode for t, a in scenario.aircraft.items()}
            self.cache[key] = res
        return self.cache[key]


def format_value(v: Value, unit: str = "") -> str:
    """A key or answer for people: integers plainly, others to 4 significant digits."""
    if v is None:
        return "never / none"
    if isinstance(v, str):
        return v
    text = f"{v:.0f}" if float(v).is_integer() else f"{v:.4g}" if abs(v) < 1000 else f"{v:,.1f}"
    return f"{text} {unit}".rstrip()


def compute_question(ex: Exercise, q: Question, runner: Runner) -> KeyEntry:
    """The key for one question (runs the simulator through ``runner``)."""
    path = ex.folder / (q.scenario or ex.spec.scenario)
    seeds = q.seeds or ex.spec.seeds

    def evaluate(overrides: dict[str, Any]) -> tuple[Value, list[Value]]:
        per_seed = [metric(q.metric, runner.result(path, overrides, s)) for s in seeds]
        return aggregate(per_seed, q.aggregate, q.halfwidth), per_seed

    tol = q.tolerance.describe(q.unit) if q.answer == "number" else "exact name"
    if q.search is None:
        value, per_seed = evaluate(dict(q.set))
        return KeyEntry(q.id, q.text, q.unit, value, tol, per_seed)
    sr = q.search
    tried: list[tuple[float | str, Value]] = []
    for v in sr.values:
        agg, _ = evaluate({**q.set, sr.set: v})
        tried.append((v, agg))
        if sr.pick == "first" and agg is not None and not isinstance(agg, str):
            if agg >= sr.at_least - 1e-12:
                break
    detail = "; ".join(f"{sr.set}={format_value(v)}: {format_value(a)}" for v, a in tried)
    chosen: Value = None
    if sr.pick == "first":
        ok = [v for v, a in tried if isinstance(a, float) and a >= sr.at_least - 1e-12]
        chosen = ok[0] if ok else None
    else:
        scored = [(a, i, v) for i, (v, a) in enumerate(tried) if isinstance(a, float)]
        if scored:
            pick = min(scored) if sr.pick == "argmin" else max(scored, key=lambda x: (x[0], -x[1]))
            chosen = pick[2]
    if isinstance(chosen, int):
        chosen = float(chosen)
    return KeyEntry(q.id, q.text, q.unit, chosen, tol, [], detail)


def answer_key(ex: Exercise, runner: Runner | None = None) -> list[KeyEntry]:
    """The whole key of an exercise, computed by running the simulator.

    A metric that does not fit the runs (an unknown KPI, a day past the
    horizon, a mapping where a number was expected) is a ScenarioError naming
    the spec file and the question, not an internal error.
    """
    runner = runner or Runner()
    out: list[KeyEntry] = []
    for q in ex.spec.questions:
        try:
            out.append(compute_question(ex, q, runner))
        except (KeyError, ValueError, TypeError) as exc:
            msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            raise ScenarioError([f"{ex.spec_path}: question {q.id}: {msg}"]) from None
    return out


# ----- grading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Grade:
    """The verdict on one answer."""

    id: str
    correct: bool
    answered: bool
    answer: Value
    feedback: str
    key: Value
    tolerance: str


def read_answers(path: Path, ex: Exercise) -> dict[str, Value]:
    """Read a YAML or JSON answer file: a mapping of question id to answer.

    A top-level ``answers:`` mapping is accepted too. Values: a number (for
    number questions), a name (choice questions), or ``never``/``null`` when
    the answer is that something does not happen. Raises ScenarioError naming
    each bad entry and what was expected.
    """
    if path.exists() and not path.is_dir() and path.stat().st_size < 10_000 and not (
        path.read_text(encoding="utf-8", errors="replace").strip()
    ):
        raise ScenarioError([f"{path}: the answer file is empty; expected lines like 'q1: 5950'"])
    data = read_yaml(path)
    if isinstance(data, dict) and set(data) == {"answers"}:
        data = data["answers"]
    if not isinstance(data, dict):
        raise ScenarioError(
            [f"{path}:1: expected a mapping of question ids to answers, e.g. 'q1: 5950'"]
        )
    lines = getattr(data, "lines", {})
    problems: list[str] = []
    out: dict[str, Value] = {}
    ids = [q.id for q in ex.spec.questions]
    for key, raw in data.items():
        where = f"{path}:{lines.get(key, (str(path), 1))[1]}"
        if key not in ids:
            problems.append(f"{where}: unknown question {key!r}; this exercise has {', '.join(ids)}")
            continue
        q = ex.question(key)
        try:
            out[key] = parse_answer(raw, q)
        except ValueError as exc:
            problems.append(f"{where}: {key}: {exc}")
    if problems:
        raise ScenarioError(problems)
    return out


def parse_answer(raw: Any, q: Question) -> Value:
    """One answer in the form its question expects, or ValueError saying what was expected."""
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in NEVER_WORDS):
        return None
    if q.answer == "choice":
        if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
            return str(raw).strip()
        raise ValueError(f"expected a name (e.g. a site or policy id), got {raw!r}")
    if isinstance(raw, bool) or isinstance(raw, (list, dict)):
        raise ValueError(_expected(q, raw))
    if isinstance(raw, (int, float)):
        if not math.isfinite(float(raw)):
            raise ValueError(_expected(q, raw))
        return float(raw)
    text = str(raw).strip().replace(",", "")
    if text.endswith("%"):
        try:
            return float(text[:-1]) / 100.0
        except ValueError:
            raise ValueError(_expected(q, raw)) from None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(_expected(q, raw)) from None
    if not math.isfinite(value):
        raise ValueError(_expected(q, raw))
    return value


def _expected(q: Question, raw: Any) -> str:
    unit = f" in {q.unit}" if q.unit else ""
    return f"expected a number{unit} (or 'never'), got {raw!r}"


def grade(ex: Exercise, answers: dict[str, Value], key: list[KeyEntry]) -> list[Grade]:
    """Grade each question; feedback says too high/low and gives the hint, not the key."""
    out: list[Grade] = []
    for entry, q in zip(key, ex.spec.questions, strict=True):
        if q.id not in answers:
            out.append(Grade(q.id, False, False, None, "not answered. Hint: " + q.hint,
                             entry.value, entry.tolerance))
            continue
        a = answers[q.id]
        k = entry.value
        correct = False
        why = ""
        if k is None or a is None:
            correct = k is None and a is None
            why = "" if correct else (
                "the key is that it does not happen within the run" if k is None
                else "it does happen within the run"
            )
        elif isinstance(k, str) or q.answer == "choice":
            correct = str(a).strip().lower() == str(k).strip().lower()
            why = "" if correct else "not the right choice"
        else:
            assert isinstance(a, float)
            correct = q.tolerance.allows(float(k), a)
            why = "" if correct else ("too high" if a > k else "too low")
        fb = f"correct ({entry.tolerance})" if correct else f"wrong: {why}. Hint: {q.hint}"
        out.append(Grade(q.id, correct, True, a, fb, k, entry.tolerance))
    return out
