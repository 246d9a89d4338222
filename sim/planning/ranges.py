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
value in the scenario is a whole number (a fleet count) takes whole values, as
does any input marked ``integer: true``: each of ``low..high`` for an equal
share of the unit interval under a uniform distribution (``Input.from_unit``).
``label`` is the plain-words name used in tables and sentences (default: the
path).

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
INTEGER_EDGE_TOLERANCE = 1e-9
"""Whole-number inputs: a value this close below a cell's edge counts as on it (floating
point; shifts each value's share by at most this much)."""


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
        """Values for quantiles ``u`` in [0, 1] (the inverse of the distribution function).

        A whole-number input takes each whole number ``k`` in ``low..high`` for the
        quantiles of the continuous distribution stretched half a unit beyond each
        end, ``[low - 0.5, high + 0.5]``, that fall in ``[k - 0.5, k + 0.5)``: under
        uniform sampling each of the ``high - low + 1`` values then gets an equal
        share, ``floor(low + u (high - low + 1))`` (rounding ``low + u (high - low)``
        gave the two ends half a share each). Morris levels on the grid
        ``0, 1/3, 2/3, 1`` still reach both ends (``u = 0`` gives ``low``, ``u = 1``
        gives ``high``).
        """
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        lo, hi = self.low, self.high
        if self.integer:
            lo, hi = lo - 0.5, hi + 0.5
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
        if self.integer:
            # the cell [k - 0.5, k + 0.5) gives k; the tolerance keeps a quantile on a cell's
            # edge (a Morris level) in the cell it is on despite rounding of u * (high - low + 1)
            v = np.floor(v + 0.5 + INTEGER_EDGE_TOLERANCE)
        return np.clip(v, self.low, self.high)

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
    from sim.scenario.loader import find_item

    node = data
    for seg in path.split("."):
        if isinstance(node, list):
            # As ``--set`` finds it: by index, or by the one item with that id, name or type.
            idx = find_item(node, seg)
            node = None if idx is None else node[idx]
        elif isinstance(node, Mapping):
            node = node.get(seg)
        else:
            return None
    return node


def _path_problem(base_data: Any, text: str, path: str, at: str) -> str | None:
    """Why ``path`` names no number the scenario holds (None: it does)."""
    from sim.experiments.store import leaf_paths
    from sim.scenario.loader import set_path

    try:
        set_path(json.loads(text), path, 0, "")
    except ScenarioError as exc:
        close = difflib.get_close_matches(path, leaf_paths(base_data), n=3, cutoff=0.6)
        hint = f"; nearest valid paths: {', '.join(close)}" if close else ""
        msg = exc.problems[0].split(": ", 1)[-1].strip()
        return f"{at}: not a settable scenario path ({msg}){hint}"
    cur = _current(base_data, path)
    if isinstance(cur, (dict, list)) and not (isinstance(cur, dict) and "dist" in cur):
        return (f"{at}: is a {'list' if isinstance(cur, list) else 'mapping'}, "
                "not a number; name one of its fields")
    if isinstance(cur, (str, bool)):
        return f"{at}: holds {cur!r}, not a number"
    return None


def _check_against(base: Scenario, inputs: list[Input], where: str,
                   unread: Sequence[tuple[str, int]] = ()
                   ) -> tuple[list[Input], list[tuple[int, str]]]:
    """Paths the scenario knows, values it accepts at both ends; whole-number inputs marked.

    ``unread``: (path, line) of entries whose range could not be read; only their path
    is checked, so a file's every problem is found in one pass. Problems come as (line,
    message).
    """
    from sim.scenario.loader import build, set_path
    from sim.scenario.schema import dump_scenario

    base_data = dump_scenario(base)
    text = json.dumps(base_data)
    problems: list[tuple[int, str]] = []
    out: list[Input] = []
    for path, line in unread:
        found = _path_problem(base_data, text, path, f"{where}:{line}: {path}")
        if found is not None:
            problems.append((line, found))
    for x in inputs:
        at = f"{where}:{x.line}: {x.path}"
        found = _path_problem(base_data, text, x.path, at)
        if found is not None:
            problems.append((x.line, found))
            continue
        cur = _current(base_data, x.path)
        whole = x.integer or (isinstance(cur, int) and not isinstance(cur, bool))
        if whole and (x.low != round(x.low) or x.high != round(x.high)):
            problems.append((x.line, f"{at}: a whole-number input needs whole low and high "
                                     f"(got {x.low:g}..{x.high:g})"))
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
                problems.append((x.line, f"{at}: the scenario refuses {end:g}: {msg}"))
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
    entries = [(str(key), spec, data.lines.get(key, (where, 0))[1]) for key, spec in data.items()]
    return _checked(base, entries, [], where)


def _checked(base: Scenario, entries: Sequence[tuple[str, Any, int]], problems: list[str],
             where: str) -> Ranges:
    """The (path, spec, line) ``entries`` as ``Ranges``, checked as written and against
    ``base``; a ScenarioError lists every problem found (``problems`` first), one line
    each, in file order."""
    inputs: list[Input] = []
    found: list[tuple[int, int, str]] = []  # line, order, message
    unread: list[tuple[str, int]] = []
    for path, spec, line in entries:
        x, bad = _spec_input(path, spec, where, line)
        found += [(line, len(found) + i, msg) for i, msg in enumerate(bad)]
        if x is not None:
            inputs.append(x)
        else:
            unread.append((path, line))
    checked, against = _check_against(base, inputs, where, unread)
    found += [(line, len(found) + i, msg) for i, (line, msg) in enumerate(against)]
    problems = problems + [msg for _, _, msg in sorted(found)]
    if problems:
        raise ScenarioError(problems)
    return Ranges(inputs=tuple(checked), source=where)


def ranges_from(specs: Mapping[str, Mapping[str, Any]], base: Scenario,
                where: str = "ranges") -> Ranges:
    """Ranges from a mapping (the Python API), checked as a file would be."""
    problems = [] if specs else [f"{where}:1: no inputs"]
    entries = [(str(key), spec, i) for i, (key, spec) in enumerate(specs.items(), 1)]
    return _checked(base, entries, problems, where)
