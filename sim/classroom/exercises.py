"""The classroom exercise pack: answer keys computed by the simulator, grading.

Keys are never typed by hand: ``answer_key`` runs the simulator for each
question of an exercise (``sim.classroom.spec``), evaluates its metric on each
seed and aggregates the values (``sim.classroom.metrics``), trying each value
of a parameter when the question has a search. Runs are cached within one
key computation (same scenario, overrides and seed: same result).
``read_answers`` reads a student's answer file and ``grade`` checks each
answer against the key within the question's tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.classroom.metrics import Value, aggregate, metric
from sim.classroom.spec import Exercise, Question
from sim.classroom.spec import is_question_spec as is_question_spec  # re-export (documented here)
from sim.scenario.loader import ScenarioError, read_yaml

NEVER_WORDS = ("never", "none", "null", "-", "n/a")


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


# ----- keys ------------------------------------------------------------------------------


class Runner:
    """Runs scenarios by (file, overrides, seed), caching results for one key computation."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str, int], Any] = {}
        self.scenarios: dict[tuple[str, str], Any] = {}

    def result(self, path: Path, overrides: dict[str, Any], seed: int) -> Any:
        """The Result of ``path`` with ``overrides`` and ``seed`` (run once, then cached)."""
        import json

        from sim.core.model import run
        from sim.scenario.loader import load_scenario

        okey = json.dumps(overrides, sort_keys=True, default=str)
        key = (str(path), okey, seed)
        if key not in self.cache:
            skey = (str(path), okey)
            if skey not in self.scenarios:
                self.scenarios[skey] = load_scenario(path, dict(overrides))
            scenario = self.scenarios[skey]
            res = run(scenario, seed)
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
    seeds = q.seeds or ex.spec.run_seeds

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
    if path.is_file() and path.stat().st_size < 10_000 and not (  # never a device or FIFO
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
