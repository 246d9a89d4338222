"""The ranges file: which scenario inputs vary, over what range, with what distribution.

A ranges file is a YAML mapping from a settable scenario path (as ``--set``
takes it: ``fleet.ch47.count``, ``escalation.fronts.aleppo-raqqa.speed_km_per_day``)
to how it varies::

    fleet.ch47.count: {low: 3, high: 9}                    # uniform
    aircraft.ch47.turnaround_min: {dist: triangular, low: 30, mode: 45, high: 90}
    sites.bgw.repatriation_per_day: {dist: normal, mean: 50, sd: 15, low: 0, high: 100,
                                     label: "releases a day at Baghdad"}

Every input has finite ``low`` and ``high`` (a normal is truncated to them), so a
design drawn on the unit cube maps to values through each distribution's
quantile function and Morris levels at 0 and 1 stay finite. An input whose
value in the scenario is a whole number (a fleet count) is rounded, as is any
input marked ``integer: true``. ``label`` is the plain-words name used in
tables and sentences (default: the path).

Everything is checked before anything runs or is written: an unknown path, a
path that is not a number, ``low > high``, a mode outside the range, a value the
scenario refuses at either end. Each problem is one line ``file:line: path:
message`` (bad input, exit 2).
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.scenario.reading import LDict, ScenarioError, read_yaml

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

DISTRIBUTIONS = ("uniform", "triangular", "normal")
SPEC_KEYS = frozenset({"low", "high", "dist", "mode", "mean", "sd", "integer", "label"})
MAX_INPUTS = 60
"""Most inputs one file may vary (a Sobol design grows with their count)."""


@dataclass(frozen=True)
class Input:
    """One varied input: its path, range (in the path's own units) and distribution."""

    path: str
    low: float
    high: float
    dist: str = "uniform"
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None
    integer: bool = False
    label: str = ""
    line: int = 0

    @property
    def name(self) -> str:
        """What tables and sentences call this input (its label, else its path)."""
        return self.label or self.path

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Values for quantiles ``u`` in [0, 1] (the inverse of the distribution function)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        lo, hi = self.low, self.high
        if self.dist == "triangular":
            c = (float(self.mode if self.mode is not None else lo) - lo) / (hi - lo)
            below = u < c
            v = np.where(below, lo + np.sqrt(u * (hi - lo) * (c * (hi - lo))),
                         hi - np.sqrt((1 - u) * (hi - lo) * ((1 - c) * (hi - lo))))
        elif self.dist == "normal":
            from scipy.stats import truncnorm

            mu, sd = float(self.mean if self.mean is not None else 0.0), float(self.sd or 1.0)
            v = truncnorm.ppf(u, (lo - mu) / sd, (hi - mu) / sd, loc=mu, scale=sd)
        else:
            v = lo + u * (hi - lo)
        v = np.clip(v, lo, hi)
        return np.round(v) if self.integer else v

    def value(self, u: float) -> int | float:
        """The scenario value for one quantile (an int for a whole-number input)."""
        v = float(self.from_unit(np.array([u]))[0])
        return int(v) if self.integer else v

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "label": self.name, "dist": self.dist,
                               "low": self.low, "high": self.high, "integer": self.integer}
        for k in ("mode", "mean", "sd"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out


@dataclass(frozen=True)
class Ranges:
    """The inputs of a ranges file, in file order."""

    inputs: tuple[Input, ...]
    source: str = ""
    problem: dict[str, Any] = field(default_factory=dict)

    @property
    def paths(self) -> list[str]:
        return [x.path for x in self.inputs]

    def salib_problem(self) -> dict[str, Any]:
        """SALib's problem on the unit cube (designs are drawn there and mapped by quantile)."""
        return {"num_vars": len(self.inputs), "names": self.paths,
                "bounds": [[0.0, 1.0]] * len(self.inputs)}

    def point(self, u_row: Sequence[float]) -> dict[str, Any]:
        """The overrides of one design row (quantiles in [0, 1])."""
        return {x.path: x.value(float(u)) for x, u in zip(self.inputs, u_row, strict=True)}

    def to_list(self) -> list[dict[str, Any]]:
        return [x.to_dict() for x in self.inputs]


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(float(v)) else None


def _spec_input(path: str, spec: Any, where: str, line: int) -> tuple[Input | None, list[str]]:
    """One entry's Input, or the problems with it (one line each)."""
    at = f"{where}:{line}: {path}"
    if not isinstance(spec, Mapping):
        return None, [f"{at}: expected a mapping such as {{low: 1, high: 5}}"]
    problems = [f"{at}: unknown field {k!r} (valid: {', '.join(sorted(SPEC_KEYS))})"
                for k in spec if k not in SPEC_KEYS]
    dist = spec.get("dist", "uniform")
    if dist not in DISTRIBUTIONS:
        problems.append(f"{at}: dist {dist!r}: expected one of {', '.join(DISTRIBUTIONS)}")
    nums: dict[str, float | None] = {}
    for k in ("low", "high", "mode", "mean", "sd"):
        if k in spec:
            nums[k] = _num(spec[k])
            if nums[k] is None:
                problems.append(f"{at}: {k} {spec[k]!r}: expected a finite number")
    for k in ("low", "high"):
        if k not in spec:
            problems.append(f"{at}: {k} is missing (every input needs low and high)")
    lo, hi = nums.get("low"), nums.get("high")
    if lo is not None and hi is not None and lo >= hi:
        problems.append(f"{at}: low {lo:g} is not below high {hi:g}")
    if dist == "triangular":
        mode = nums.get("mode")
        if "mode" not in spec:
            problems.append(f"{at}: a triangular input needs a mode")
        elif mode is not None and lo is not None and hi is not None and not lo <= mode <= hi:
            problems.append(f"{at}: mode {mode:g} is outside low..high ({lo:g}..{hi:g})")
    if dist == "normal":
        for k in ("mean", "sd"):
            if k not in spec:
                problems.append(f"{at}: a normal input needs {k}")
        sd = nums.get("sd")
        if sd is not None and sd <= 0:
            problems.append(f"{at}: sd {sd:g} must be positive")
    for k in ("mode", "mean", "sd"):
        if k in spec and dist != {"mode": "triangular"}.get(k, "normal"):
            problems.append(f"{at}: {k} applies only to a "
                            f"{'triangular' if k == 'mode' else 'normal'} input")
    integer = spec.get("integer", False)
    if not isinstance(integer, bool):
        problems.append(f"{at}: integer {integer!r}: expected true or false")
    label = spec.get("label", "")
    if not isinstance(label, str):
        problems.append(f"{at}: label {label!r}: expected text")
    if problems:
        return None, problems
    assert lo is not None and hi is not None
    return Input(path=path, low=lo, high=hi, dist=str(dist), mode=nums.get("mode"),
                 mean=nums.get("mean"), sd=nums.get("sd"), integer=bool(integer),
                 label=str(label).strip(), line=line), []


def _current(data: Any, path: str) -> Any:
    """The value at ``path`` in plain scenario data (list items by id, name or type)."""
    from sim.scenario.loader import LIST_KEYS

    node = data
    for seg in path.split("."):
        if isinstance(node, list):
            node = next((x for x in node if isinstance(x, Mapping)
                         and any(str(x.get(k)) == seg for k in LIST_KEYS)), None)
        elif isinstance(node, Mapping):
            node = node.get(seg)
        else:
            return None
    return node


def _check_against(base: Scenario, inputs: list[Input], where: str
                   ) -> tuple[list[Input], list[str]]:
    """Paths the scenario knows, values it accepts at both ends; whole-number inputs marked."""
    from sim.experiments.store import leaf_paths
    from sim.scenario.loader import build, set_path
    from sim.scenario.schema import dump_scenario

    base_data = dump_scenario(base)
    text = json.dumps(base_data)
    problems: list[str] = []
    out: list[Input] = []
    for x in inputs:
        at = f"{where}:{x.line}: {x.path}"
        try:
            set_path(json.loads(text), x.path, 0, "")
        except ScenarioError as exc:
            close = difflib.get_close_matches(x.path, leaf_paths(base_data), n=3, cutoff=0.6)
            hint = f"; nearest valid paths: {', '.join(close)}" if close else ""
            msg = exc.problems[0].split(": ", 1)[-1].strip()
            problems.append(f"{at}: not a settable scenario path ({msg}){hint}")
            continue
        cur = _current(base_data, x.path)
        if isinstance(cur, (dict, list)) and not (isinstance(cur, dict) and "dist" in cur):
            problems.append(f"{at}: is a {'list' if isinstance(cur, list) else 'mapping'}, "
                            "not a number; name one of its fields")
            continue
        if isinstance(cur, (str, bool)):
            problems.append(f"{at}: holds {cur!r}, not a number")
            continue
        whole = x.integer or (isinstance(cur, int) and not isinstance(cur, bool))
        if whole and (x.low != round(x.low) or x.high != round(x.high)):
            problems.append(f"{at}: a whole-number input needs whole low and high "
                            f"(got {x.low:g}..{x.high:g})")
            continue
        x = Input(**{**x.__dict__, "integer": whole})
        bad = False
        for end in (x.low, x.high):
            data = json.loads(text)
            set_path(data, x.path, int(end) if whole else end, "")
            try:
                build(data)
            except ScenarioError as exc:
                msg = exc.problems[0]
                msg = msg.split(": ", 1)[-1] if msg.startswith("?") else msg
                problems.append(f"{at}: the scenario refuses {end:g}: {msg}")
                bad = True
                break
        if not bad:
            out.append(x)
    return out, problems


def load_ranges(path: str | Path, base: Scenario) -> Ranges:
    """Read and check a ranges file against ``base``; a ScenarioError lists every problem."""
    p = Path(path)
    where = str(p)
    data = read_yaml(p)
    if not isinstance(data, LDict) or not data:
        line = getattr(data, "where", (where, 1))[1]
        raise ScenarioError([f"{where}:{line}: expected a mapping of scenario paths to ranges, "
                             "such as 'fleet.ch47.count: {low: 3, high: 9}'"])
    if len(data) > MAX_INPUTS:
        raise ScenarioError([f"{where}:1: {len(data)} inputs; at most {MAX_INPUTS} at a time"])
    problems: list[str] = []
    inputs: list[Input] = []
    for key, spec in data.items():
        line = data.lines.get(key, (where, 0))[1]
        x, found = _spec_input(str(key), spec, where, line)
        problems += found
        if x is not None:
            inputs.append(x)
    return _checked(base, inputs, problems, where)


def _checked(base: Scenario, inputs: list[Input], problems: list[str], where: str) -> Ranges:
    """``inputs`` as ``Ranges`` once read without ``problems`` and checked against ``base``."""
    if problems:
        raise ScenarioError(problems)
    checked, problems = _check_against(base, inputs, where)
    if problems:
        raise ScenarioError(problems)
    return Ranges(inputs=tuple(checked), source=where)


def ranges_from(specs: Mapping[str, Mapping[str, Any]], base: Scenario,
                where: str = "ranges") -> Ranges:
    """Ranges from a mapping (the Python API), checked as a file would be."""
    inputs: list[Input] = []
    problems: list[str] = []
    for i, (key, spec) in enumerate(specs.items(), 1):
        x, found = _spec_input(str(key), spec, where, i)
        problems += found
        if x is not None:
            inputs.append(x)
    if not specs:
        problems.append(f"{where}:1: no inputs")
    return _checked(base, inputs, problems, where)
