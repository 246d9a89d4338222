"""Loading scenarios: ``extends``, ``--set`` overrides, validation, messages.

Files are read by ``sim.scenario.reading`` (regular files, bounded, line-aware
YAML). Errors are collected, never raised one at a time: a user fixing a file
sees every problem at once, one line each, as ``file:line: field.path: message``,
list items named by their id, name or type.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.scenario import shipped
from sim.scenario.checks import cross_check, warnings
from sim.scenario.library import fill_from_library
from sim.scenario.reading import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    LDict,
    LList,
    Loc,
    ScenarioError,
    ldict,
    llist,
    read_text,
    read_value,
    read_yaml,
)
from sim.scenario.schema import Scenario, dump_scenario

__all__ = [  # the reading names are re-exported: callers load scenarios from here
    "LIST_KEYS", "MAX_DEPTH", "MAX_FILE_BYTES", "MAX_NODES", "LDict", "LList", "ScenarioError",
    "build", "deep_merge", "dump_scenario", "load_raw", "load_scenario", "locate",
    "parse_override", "read_text", "read_yaml", "resolved_yaml", "scenario_hash", "set_path",
    "validation_problems", "with_overrides",
]

MAX_EXTENDS = 20
"""Longest chain of ``extends``."""
LIST_KEYS = ("id", "name", "type")
KEYED_LISTS = {"sites": "id", "legs": "id", "fleet": "type", "fronts": "name", "triggers": "name"}
"""Lists that ``extends`` merges item by item, and the key that names an item."""


def item_key(item: Any, key: str) -> str | None:
    """The name of a list item under ``key`` (a leg without an id is ``from-to``)."""
    if not isinstance(item, dict):
        return None
    value = item.get(key)
    if value is None and key == "id" and "from" in item and "to" in item:
        value = f"{item['from']}-{item['to']}"
    if value is None and key == "name" and "path" in item:
        value = "front"  # a front's default name
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def deep_merge(base: Any, over: Any, field: str = "") -> Any:
    """Merge ``over`` onto ``base``: mappings recursively; the lists in ``KEYED_LISTS``
    (sites and legs by id, fleet entries by type, fronts and triggers by name) item
    by item, where ``remove: true`` deletes an item; other values and lists are replaced.

    A fleet type listed more than once in ``base`` is matched by type and ``base``.
    """
    if isinstance(base, dict) and isinstance(over, dict):
        out = ldict(getattr(over, "where", ("?", 0)))
        out.update(base)
        out.lines.update(getattr(base, "lines", {}))
        for k, v in over.items():
            out[k] = deep_merge(base[k], v, k) if k in base else v
            over_lines = getattr(over, "lines", {})
            if k in over_lines:
                out.lines[k] = over_lines[k]
        return out
    key = KEYED_LISTS.get(field)
    if not (isinstance(base, list) and isinstance(over, list) and key):
        return over
    items = list(base)
    lines = list(getattr(base, "lines", [base_where(base)] * len(base)))
    removed: set[int] = set()
    for j, item in enumerate(over):
        where = over.lines[j] if hasattr(over, "lines") else base_where(over)
        name = item_key(item, key)
        if name is None:
            return over  # not a keyed item: the child's list replaces the base's
        i = _match(items, key, name, item, where)
        if item.get("remove") is True:
            if i is None:
                names = [n for n in (item_key(x, key) for x in items) if n is not None]
                raise ScenarioError(
                    [f"{where[0]}:{where[1]}: {field}: remove: no {key} {name!r} in the extended "
                     f"file ({_did_you_mean(name, names)})"]
                )
            removed.add(i)
            continue
        if i is None:
            items.append(item)
            lines.append(where)
        else:
            items[i] = deep_merge(items[i], item)
            lines[i] = where
    merged = llist(getattr(over, "where", ("?", 0)))
    for i, (item, line) in enumerate(zip(items, lines, strict=True)):
        if i not in removed:
            merged.append(item)
            merged.lines.append(line)
    return merged


def _match(items: list[Any], key: str, name: str, item: dict[str, Any], where: Loc) -> int | None:
    hits = [i for i, x in enumerate(items) if item_key(x, key) == name]
    if len(hits) > 1 and key == "type" and "base" in item:
        hits = [i for i in hits if isinstance(items[i], dict) and items[i].get("base") == item["base"]]
        return hits[0] if hits else None  # the type at another base: a new entry
    if len(hits) > 1:
        raise ScenarioError(
            [f"{where[0]}:{where[1]}: {key} {name!r} matches {len(hits)} items of the extended "
             "file; add 'base' to say which one"]
        )
    return hits[0] if hits else None


def base_where(x: Any) -> Loc:
    return getattr(x, "where", ("?", 0))


def load_raw(path: Path, _stack: tuple[Path, ...] = (), _via: Loc | None = None) -> LDict:
    """Read ``path`` and everything it ``extends``, merged, as line-aware data.

    The result's ``files`` lists the file and those it extends, in order. A parent
    that cannot be read is reported at the ``extends`` line that names it.
    """
    try:
        data = read_yaml(path)
    except ScenarioError as exc:
        if _via is None:
            raise
        raise ScenarioError([f"{_via[0]}:{_via[1]}: extends: {p}" for p in exc.problems]) from None
    if not isinstance(data, LDict):
        raise ScenarioError([f"{path}:1: expected a mapping of scenario fields at the top level"])
    resolved = path.resolve()
    if resolved in _stack:
        chain = " -> ".join(p.name for p in (*_stack, resolved))
        raise ScenarioError([f"{path}: extends cycle: {chain}"])
    parent = data.pop("extends", None)
    data.files = [str(path)]  # type: ignore[attr-defined]
    if parent is None:
        return data
    line = data.lines.get("extends", (str(path), 1))
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError([f"{path}:{line[1]}: extends: expected a file name"])
    if len(_stack) >= MAX_EXTENDS:
        raise ScenarioError([f"{path}:{line[1]}: 'extends' chain deeper than {MAX_EXTENDS} files"])
    base = load_raw(path.parent / parent, (*_stack, resolved), line)
    merged = deep_merge(base, data)
    assert isinstance(merged, LDict)
    merged.files = [str(path), *base.files]  # type: ignore[attr-defined]
    return merged


def item_label(items: list[Any], index: int) -> str:
    """How messages name ``items[index]``: its id, name or type when that is unique, else
    its index."""
    item = items[index]
    for key in LIST_KEYS:
        name = item_key(item, key)
        if name is not None:
            same = sum(1 for x in items if item_key(x, key) == name)
            return name if same == 1 else str(index)
    return str(index)


def locate(root: Any, loc: tuple[Any, ...]) -> tuple[Loc, list[str]]:
    """Best (file, line) for a path into ``root``, and the path as messages show it."""
    where, shown, _ = locate_value(root, loc)
    return where, shown


def locate_value(root: Any, loc: tuple[Any, ...]) -> tuple[Loc, list[str], Any]:
    """Best (file, line) for a path into ``root``, the path as messages show it (list
    items by id, name or type), and the value there (None if the path leaves the data)."""
    where = base_where(root)
    node = root
    shown: list[str] = []
    for seg in loc:
        if isinstance(node, dict) and str(seg) in node:
            where = node.lines.get(str(seg), where) if hasattr(node, "lines") else where
            node = node[str(seg)]
            shown.append(str(seg))
        elif isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
            where = node.lines[seg] if hasattr(node, "lines") else where
            shown.append(item_label(node, seg))
            node = node[seg]
        elif isinstance(node, dict) and isinstance(seg, str) and not _is_union_tag(seg):
            shown.append(seg)  # a missing or unknown field: name it, keep its parent's line
            node = None
            break
    return where, shown, node


def _is_union_tag(seg: str) -> bool:
    return (
        seg in ("float", "int", "str", "bool", "date", "none")
        or "[" in seg
        or seg.startswith(("function-", "tagged-union", "constrained-"))
        or seg in ("constant", "exponential", "lognormal", "triangular", "uniform", "normal")
    )


def _format(where: Loc, path: list[str], msg: str) -> str:
    fname, line = where
    field = ".".join(path) or "(top level)"
    if not line and re.search(r": --set(-b)? " + re.escape(field) + "$", fname):
        return f"{fname}: {msg}"  # the override names the field already
    pos = f"{fname}:{line}: " if line else "" if fname == "?" else f"{fname}: "
    return f"{pos}{field}: {msg}"


_BOUND_WORDS = {
    "greater_than": "greater than", "greater_than_equal": "greater than or equal to",
    "less_than": "less than", "less_than_equal": "less than or equal to",
}


def _message(err: Any) -> str:
    """Pydantic's message, with limits written as people write them (10,000,000)."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in _BOUND_WORDS and len(ctx) == 1:
        (limit,) = ctx.values()
        if isinstance(limit, (int, float)):
            text = f"{limit:,}" if float(limit).is_integer() else f"{limit:g}"
            return f"Input should be {_BOUND_WORDS[kind]} {text}"
    if kind in ("float_type", "int_type") and isinstance(err.get("input"), bool):
        return "Input should be a number, not true or false"
    if kind == "value_error":  # our own checks' words, without pydantic's "Value error, "
        raw = ctx.get("error")
        if raw is not None and str(raw):
            return str(raw)
    if kind == "tuple_type":  # the schema's only pairs are places: say how to write one
        return (f"{err['msg']}: write a place as [lat, lon] or {{lat: .., lon: ..}}, "
                "e.g. [36.5, 40.7]")
    if kind.startswith(("date_from", "date_parsing", "date_type")):
        # pydantic names the parser's trouble ("input is too short"), not the form it wants
        return f"{err['msg']} (write a date as YYYY-MM-DD, e.g. 2026-01-21)"
    return str(err["msg"])


def validation_problems(exc: ValidationError, data: Any) -> list[str]:
    """One line per distinct field problem in a pydantic error, with file and line."""
    out: list[str] = []
    seen: set[str] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        where, path, value = locate_value(data, loc)
        tags = [s for s in loc if isinstance(s, str) and _is_union_tag(s)]
        if tags:
            # A number-or-distribution field: keep only the branch that fits the input.
            _, _, union_value = locate_value(data, loc[: loc.index(tags[0])])
            is_dist_branch = tags[0].startswith("tagged-union")
            if isinstance(union_value, dict) != is_dist_branch:
                continue
            # A place name or a [lat, lon] pair: the same, by the input's shape.
            if tags[0] == "str" and isinstance(union_value, list):
                continue
            if tags[0].startswith("tuple[") and isinstance(union_value, str):
                continue
        msg = _message(err)
        if err["type"] == "extra_forbidden":
            msg = "unknown field" + _field_hint(path)
        elif err["type"] == "missing":
            msg = "required field is missing"
        key = ".".join(path)
        if key in seen:
            continue
        seen.add(key)
        if err["type"] not in ("missing", "extra_forbidden") and not isinstance(
            value, (dict, list)
        ):
            shown = repr(value)
            msg += f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
        out.append(_format(where, path, msg))
    return out


def _field_hint(path: list[str]) -> str:
    ann = annotation_at(path[:-1])
    names = field_names(ann)
    if not names:
        return ""
    close = difflib.get_close_matches(path[-1], names, n=2)
    return f" (did you mean {' or '.join(close)}?)" if close else f" (expected one of {names})"


def _models_in(ann: Any) -> list[type[BaseModel]]:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(ann)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(ann) for m in _models_in(a)]
    return []


def field_names(ann: Any) -> list[str]:
    names: list[str] = []
    for m in _models_in(ann):
        for name, f in m.model_fields.items():
            n = f.alias or name
            if n not in names:
                names.append(n)
    return names


def _child_annotation(ann: Any, seg: str) -> Any:
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _child_annotation(typing.get_args(ann)[0], seg)
    if origin in (list, tuple):
        return typing.get_args(ann)[0]
    if origin is dict:
        return typing.get_args(ann)[1]
    if origin in (typing.Union, types.UnionType):
        for a in typing.get_args(ann):
            child = _child_annotation(a, seg)
            if child is not None:
                return child
        return None
    for m in _models_in(ann):
        for name, f in m.model_fields.items():
            if seg in (name, f.alias):
                return f.annotation
    return None


def annotation_at(path: list[str]) -> Any:
    """The schema type at a dotted path of field names (None where the schema has none)."""
    ann: Any = Scenario
    for seg in path:
        ann = _child_annotation(ann, seg)
        if ann is None:
            return None
    return ann


def find_item(items: list[Any], seg: str) -> int | None:
    """The index of the list item ``seg`` names: an index, or the one item whose ``id``,
    ``name`` or ``type`` it is (None: none, or several alike)."""
    if seg.lstrip("-").isdigit():
        i = int(seg)
        return i if -len(items) <= i < len(items) else None
    for key in LIST_KEYS:
        hits = [i for i, x in enumerate(items) if item_key(x, key) == seg]
        if len(hits) == 1:
            return hits[0]
    return None


def _did_you_mean(seg: str, options: list[str]) -> str:
    close = difflib.get_close_matches(seg, options, n=3, cutoff=0.5)
    known = f"valid: {', '.join(options[:20]) or 'none'}{', ...' if len(options) > 20 else ''}"
    return f"did you mean {' or '.join(close)}? {known}" if close else known


def _is_free_dict(ann: Any) -> bool:
    """Whether ``ann`` is a mapping with keys of the user's choosing (optional or not)."""
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        return any(_is_free_dict(a) for a in typing.get_args(ann))
    return typing.get_origin(ann) is dict


def set_path(data: Any, dotted: str, value: Any, origin: str = "--set") -> None:
    """Set ``dotted`` (e.g. ``fleet.ch47.count``) in raw scenario data, in place.

    List items are addressed by index or by their ``id``, ``name`` or ``type``; a
    name that matches no item is an error with did-you-mean suggestions, never a new
    item. A new key may be added only as the last segment (a new place, a new risk
    category's population), never as a step towards another field.
    """
    parts = dotted.split(".")
    node = data
    walked: list[str] = []
    for i, seg in enumerate(parts):
        last = i == len(parts) - 1
        under = ".".join(walked) or "the top level"
        if isinstance(node, list):
            idx = find_item(node, seg)
            if idx is None:
                alike = [j for j in range(len(node))
                         if any(item_key(node[j], key) == seg for key in LIST_KEYS)]
                if len(alike) > 1:  # several entries of one type (at several bases)
                    rest = ".".join(parts[i + 1:])
                    raise ScenarioError(
                        [f"{origin} {dotted}: {seg!r} names {len(alike)} items of {under} "
                         f"({', '.join(map(str, alike))}): give one by its index, as in "
                         f"{'.'.join([*walked, str(alike[0]), rest]).rstrip('.')}"])
                names = [item_label(node, j) for j in range(len(node))]
                raise ScenarioError(
                    [f"{origin} {dotted}: no item {seg!r} in {under} ({_did_you_mean(seg, names)})"]
                )
            if last:
                node[idx] = value
                if isinstance(node, LList):
                    node.lines[idx] = (f"{origin} {dotted}", 0)  # errors name the override
                return
            node = node[idx]
        elif isinstance(node, dict):
            schema_ann = annotation_at(walked)
            allowed = field_names(schema_ann)
            is_free_dict = _is_free_dict(schema_ann)
            if seg not in node and not (seg in allowed or (is_free_dict and last)):
                options = sorted(set(map(str, node)) | set(allowed))
                what = "no entry" if is_free_dict else "unknown field"
                raise ScenarioError(
                    [f"{origin} {dotted}: {what} {seg!r} under {under} "
                     f"({_did_you_mean(seg, options)})"]
                )
            if last:
                node[seg] = value
                if isinstance(node, LDict):
                    node.lines[seg] = (f"{origin} {dotted}", 0)  # errors name the override
                return
            if node.get(seg) is not None and not isinstance(node[seg], (dict, list)):
                raise ScenarioError(
                    [f"{origin} {dotted}: {'.'.join([*walked, seg])} is a value, "
                     "not a mapping or list"]
                )
            if seg not in node or node[seg] is None:
                child_ann = annotation_at([*walked, seg])
                if typing.get_origin(child_ann) is list:
                    raise ScenarioError(
                        [f"{origin} {dotted}: {'.'.join([*walked, seg])} is empty: no item "
                         f"{parts[i + 1]!r}"]
                    )
                node[seg] = ldict((f"{origin} {dotted}", 0))
            node = node[seg]
        else:
            raise ScenarioError(
                [f"{origin} {dotted}: {'.'.join(walked)} is a value, not a mapping or list"]
            )
        walked.append(seg)


def parse_override(text: str, origin: str = "--set") -> tuple[str, Any]:
    """``path=value`` with the value read as YAML (numbers, booleans, null, lists), by
    the same bounded loader as files; a value that is not valid YAML stays text."""
    if "=" not in text:
        raise ScenarioError([f"{origin} {text}: expected path=value"])
    path, _, raw = text.partition("=")
    if not raw.strip():
        return path.strip(), ""
    try:
        value = read_value(raw, f"{origin} {text}")
    except ScenarioError as exc:
        raise ScenarioError([f"{origin} {text}: value too large or nested too deeply"]) from exc
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError):
        value = raw
    return path.strip(), value


def build(data: Any, warn: list[str] | None = None) -> Scenario:
    """Validate raw (possibly line-aware) data into a Scenario or raise ScenarioError.

    When ``data`` came from a file that ``extends`` others, or ``--set`` changed it
    (see ``load_scenario``), a problem located elsewhere says so: the cause may be
    the child file or the override, not the line it points at.

    Aircraft types and sites that ``extends: library.NAME`` are first filled from the
    library of planning factors (``sim.scenario.library``), in place.
    """
    try:
        fill_from_library(data)
    except ScenarioError as exc:
        raise ScenarioError([p + _context(data, p) for p in exc.problems]) from None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, data) or [f"{base_where(data)[0]}: {exc}"]
        raise ScenarioError([p + _context(data, p) for p in problems]) from None
    found = cross_check(scenario)
    if found:
        raise ScenarioError(
            [(line := _format(*locate(data, p), m)) + _context(data, line) for p, m in found]
        )
    if warn is not None:
        warn.extend(_format(*locate(data, p), "warning: " + m) for p, m in warnings(scenario))
    return scenario


def _context(data: Any, line: str) -> str:
    """`` (from child.yaml, which extends base.yaml; with --set a=1)`` where it applies."""
    files: list[str] = getattr(data, "files", [])
    overrides: list[str] = getattr(data, "overrides", [])
    parts: list[str] = []
    if len(files) > 1 and not line.startswith(files[0] + ":"):
        parts.append(f"from {files[0]}, which extends {' -> '.join(files[1:])}")
    if overrides and not re.search(r": --set(-b)? ", line):  # else the line names it already
        parts.append("with --set " + " ".join(overrides))
    return f" ({'; '.join(parts)})" if parts else ""


def load_scenario(
    path: str | Path,
    overrides: list[str] | dict[str, Any] | None = None,
    warn: list[str] | None = None,
    options: list[str] | None = None,
) -> Scenario:
    """Load, merge ``extends``, apply overrides and validate a scenario file.

    ``path`` may also name a shipped scenario (``"baseline"``; see ``sim.scenario.shipped``).
    ``options`` names the command-line option each of ``overrides`` came from, for its
    messages (``--set`` by default; ``compare`` passes ``--set-b`` for B's own).
    """
    data = load_raw(shipped.resolve(path))
    names = list(options or [])
    count = len(overrides or [])
    names += ["--set"] * (count - len(names))
    items = list(
        overrides.items()
        if isinstance(overrides, dict)
        else (parse_override(o, f"{path}: {names[i]}") for i, o in enumerate(overrides or []))
    )
    for i, (key, value) in enumerate(items):
        set_path(data, key, value, f"{path}: {names[i]}")
    data.overrides = (  # type: ignore[attr-defined]
        [f"{k}={json.dumps(v, default=str)}" for k, v in items]
        if isinstance(overrides, dict)
        else list(overrides or [])
    )
    return build(data, warn)


def with_overrides(scenario: Scenario, overrides: dict[str, Any], origin: str = "--set") -> Scenario:
    """A copy of ``scenario`` with dotted-path overrides applied and re-validated."""
    data = dump_scenario(scenario)
    for key, value in overrides.items():
        set_path(data, key, value, origin)
    try:
        return build(data)
    except ScenarioError as exc:
        what = " ".join(f"{k}={v}" for k, v in overrides.items())
        raise ScenarioError([f"{origin} {what}: {p}" for p in exc.problems]) from None


def scenario_hash(s: Scenario) -> str:
    """Stable short hash of the validated scenario's content."""
    text = json.dumps(dump_scenario(s), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def resolved_yaml(s: Scenario) -> str:
    """The fully merged and validated scenario as YAML (defaults made explicit)."""
    return yaml.safe_dump(dump_scenario(s), sort_keys=False, allow_unicode=True)
