"""The metric language of exercise questions: evaluating and aggregating answers.

A question's *metric* is a small expression over one run's ``Result`` (a
KPI, a daily value, the first day a value is reached, arithmetic and
comparisons; see ``metric``). ``check_metric`` checks an expression's shape
(the question-spec models in ``sim.classroom.spec`` call it when a spec is
loaded), ``metric`` evaluates it on a run, and ``aggregate`` combines the
per-seed values into the answer (mean, median, a 95% half-width, the
replications needed for a target half-width, ...).

Kept apart from the spec models (``sim.classroom.spec``) and from computing
keys and grading (``sim.classroom.exercises``): it depends on neither.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

from sim.common.stats import proportion, t_quantile
from sim.common.vocabulary import EventKind

Value = float | str | None
"""An answer: a number, a name (choice questions) or None ("never", "not within the horizon")."""


def t95(df: int) -> float:
    """Two-sided 95% Student t quantile for ``df`` degrees of freedom (infinite when df < 1).

    The exact quantile of ``sim.common.stats``, the one the experiments use, so that an
    exercise key and ``dtsim replicate`` give the same interval for the same runs.
    """
    if df <= 0:
        return math.inf
    return t_quantile(0.975, df)


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
    type_of = result.vehicle_types
    total = 0
    for _t, event, who, site, n in result.events:
        if event != EventKind.UNLOAD:
            continue
        typ = type_of[who]
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
    if how in ("wilson95_low", "wilson95_high"):
        return _wilson(xs, how)
    sd = statistics.stdev(xs) if n > 1 else 0.0
    if how == "std":
        return sd
    if how == "ci95_halfwidth":
        return t95(n - 1) * sd / math.sqrt(n) if n > 1 else math.inf
    assert how == "replications_for" and halfwidth is not None
    return float(math.ceil((t95(n - 1) * sd / halfwidth) ** 2)) if n > 1 else None


def _wilson(xs: list[float], how: str) -> float:
    """An end of the Wilson 95% interval of the proportion of 1s in 0/1 values.

    The interval ``dtsim replicate`` reports for its probabilities
    (``sim.common.stats.proportion``), so a key and the tool agree.
    """
    if any(x not in (0.0, 1.0) for x in xs):
        raise ValueError(f"a Wilson interval needs 0/1 outcomes (an indicator metric), got {xs}")
    p = proportion(int(sum(xs)), len(xs))
    return float(p["ci_low"] if how == "wilson95_low" else p["ci_high"])
