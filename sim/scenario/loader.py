"""Loading scenario files: safe YAML with line numbers, ``extends``, overrides, errors.

Errors are collected, never raised one at a time: a user fixing a file sees
every problem at once, one line each, as ``file:line: field.path: message``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.scenario import shipped
from sim.scenario.checks import cross_check, warnings
from sim.scenario.schema import Scenario, dump_scenario

MAX_FILE_BYTES = 5_000_000
MAX_NODES = 200_000
LIST_KEYS = ("id", "name", "type")
Loc = tuple[str, int]


class ScenarioError(Exception):
    """Bad input: one human-readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class LDict(dict[str, Any]):
    """A mapping that remembers where each of its keys was written."""

    where: Loc
    lines: dict[str, Loc]


class LList(list[Any]):
    """A sequence that remembers where each of its items was written."""

    where: Loc
    lines: list[Loc]


def _ldict(where: Loc) -> LDict:
    d = LDict()
    d.where, d.lines = where, {}
    return d


def _llist(where: Loc) -> LList:
    lst = LList()
    lst.where, lst.lines = where, []
    return lst


def _convert(node: yaml.Node, loader: yaml.SafeLoader, fname: str, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise ScenarioError(
            [f"{fname}: document too large: over {MAX_NODES:,} values once aliases are expanded"]
        )
    where = (fname, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        own = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
        loader.flatten_mapping(node)
        n_merged = len(node.value) - own  # merged ('<<') pairs come first
        merged: set[str] = set()
        d = _ldict(where)
        for i, (knode, vnode) in enumerate(node.value):
            key = loader.construct_object(knode, deep=True)
            if not isinstance(key, (str, int, float, bool)):
                raise ScenarioError([f"{fname}:{knode.start_mark.line + 1}: keys must be scalars"])
            skey = str(key)
            if i < n_merged:
                if skey in d:
                    continue  # YAML merge: the first merged mapping wins
                merged.add(skey)
            elif skey in merged:
                merged.discard(skey)  # a key written here overrides a merged one
            elif skey in d:
                raise ScenarioError([f"{fname}:{knode.start_mark.line + 1}: duplicate key {skey!r}"])
            d[skey] = _convert(vnode, loader, fname, budget)
            d.lines[skey] = (fname, knode.start_mark.line + 1)
        return d
    if isinstance(node, yaml.SequenceNode):
        lst = _llist(where)
        for item in node.value:
            lst.append(_convert(item, loader, fname, budget))
            lst.lines.append((fname, item.start_mark.line + 1))
        return lst
    return loader.construct_object(node)


def read_yaml(path: Path) -> Any:
    """Parse one YAML file safely, keeping line numbers; bounded in size and expansion."""
    fname = str(path)
    if not path.exists():
        raise ScenarioError([f"{fname}: file not found"])
    if path.is_dir():
        raise ScenarioError([f"{fname}: is a directory, expected a YAML file"])
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioError([f"{fname}: file over {MAX_FILE_BYTES:,} bytes"])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"{fname}: cannot read: {exc}"]) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError([f"{fname}: file is empty, expected a scenario mapping"])
        return _convert(node, loader, fname, [MAX_NODES])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ScenarioError([f"{fname}{line}: YAML syntax error: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{fname}: YAML error: {exc}"]) from None
    finally:
        loader.dispose()


def _list_key(items: list[Any]) -> str | None:
    for key in LIST_KEYS[:2]:  # merge by id or name only; fleet lists are replaced
        if items and all(isinstance(x, dict) and key in x for x in items):
            return key
    return None


def deep_merge(base: Any, over: Any) -> Any:
    """Merge ``over`` onto ``base``: mappings recursively; lists of items with an
    ``id`` (or ``name``) by that key, where ``remove: true`` deletes an item; other
    values and lists are replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = _ldict(getattr(over, "where", ("?", 0)))
        out.update(base)
        out.lines.update(getattr(base, "lines", {}))
        for k, v in over.items():
            out[k] = deep_merge(base[k], v) if k in base else v
            over_lines = getattr(over, "lines", {})
            if k in over_lines:
                out.lines[k] = over_lines[k]
        return out
    if isinstance(base, list) and isinstance(over, list):
        key = _list_key(base)
        if key is None or _list_key(over) != key:
            return over
        merged = _llist(getattr(over, "where", ("?", 0)))
        index = {item[key]: i for i, item in enumerate(base)}
        items = list(base)
        lines = list(getattr(base, "lines", [base_where(base)] * len(base)))
        removed: set[int] = set()
        for j, item in enumerate(over):
            oline = over.lines[j] if hasattr(over, "lines") else base_where(over)
            if item.get("remove") is True:
                if item[key] in index:
                    removed.add(index[item[key]])
                continue
            if item[key] in index:
                i = index[item[key]]
                items[i] = deep_merge(items[i], item)
                lines[i] = oline
            else:
                index[item[key]] = len(items)
                items.append(item)
                lines.append(oline)
        for i, (item, line) in enumerate(zip(items, lines, strict=True)):
            if i not in removed:
                merged.append(item)
                merged.lines.append(line)
        return merged
    return over


def base_where(x: Any) -> Loc:
    return getattr(x, "where", ("?", 0))


def load_raw(path: Path, _stack: tuple[Path, ...] = ()) -> LDict:
    """Read ``path`` and everything it ``extends``, merged, as line-aware data."""
    resolved = path.resolve()
    if resolved in _stack:
        chain = " -> ".join(p.name for p in (*_stack, resolved))
        raise ScenarioError([f"{path}: extends cycle: {chain}"])
    if len(_stack) > 20:
        raise ScenarioError([f"{path}: 'extends' chain deeper than 20 files"])
    data = read_yaml(path)
    if not isinstance(data, LDict):
        raise ScenarioError([f"{path}:1: expected a mapping of scenario fields at the top level"])
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        line = data.lines.get("extends", (str(path), 1))[1]
        raise ScenarioError([f"{path}:{line}: extends: expected a file name"])
    base = load_raw(path.parent / parent, (*_stack, resolved))
    merged = deep_merge(base, data)
    assert isinstance(merged, LDict)
    return merged


def locate(root: Any, loc: tuple[Any, ...]) -> tuple[Loc, list[str]]:
    """Best (file, line) for a path into ``root``, and the path segments that matched."""
    where = base_where(root)
    node = root
    matched: list[str] = []
    for seg in loc:
        if isinstance(node, dict) and str(seg) in node:
            where = node.lines.get(str(seg), where) if hasattr(node, "lines") else where
            node = node[str(seg)]
            matched.append(str(seg))
        elif isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
            where = node.lines[seg] if hasattr(node, "lines") else where
            node = node[seg]
            matched.append(str(seg))
        elif isinstance(node, dict) and isinstance(seg, str) and not _is_union_tag(seg):
            matched.append(seg)  # a missing or unknown field: name it, keep its parent's line
            break
    return where, matched


def _is_union_tag(seg: str) -> bool:
    return (
        seg in ("float", "int", "str", "bool", "date", "none")
        or "[" in seg
        or seg.startswith(("function-", "tagged-union", "constrained-"))
        or seg in ("constant", "exponential", "lognormal", "triangular", "uniform", "normal")
    )


def _format(where: Loc, path: list[str], msg: str) -> str:
    fname, line = where
    pos = f"{fname}:{line}: " if line else "" if fname == "?" else f"{fname}: "
    return f"{pos}{'.'.join(path) or '(top level)'}: {msg}"


def validation_problems(exc: ValidationError, data: Any) -> list[str]:
    """One line per distinct field problem in a pydantic error, with file and line."""
    out: list[str] = []
    seen: set[str] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        where, path = locate(data, loc)
        value = _value_at(data, path)
        tags = [s for s in loc if isinstance(s, str) and _is_union_tag(s)]
        if tags:
            # A number-or-distribution field: keep only the branch that fits the input.
            _, union_path = locate(data, loc[: loc.index(tags[0])])
            union_value = _value_at(data, union_path)
            if isinstance(union_value, dict) and tags[0].endswith("float"):
                continue
            if not isinstance(union_value, dict) and tags[0].startswith("tagged-union"):
                continue
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field" + _field_hint(path)
        elif err["type"] == "missing":
            msg = "required field is missing"
        key = ".".join(path)
        if key in seen:
            continue
        seen.add(key)
        if err["type"] not in ("missing", "extra_forbidden") and not isinstance(value, dict):
            msg += f" (got {value!r})"
        out.append(_format(where, path, msg))
    return out


def _value_at(data: Any, path: list[str]) -> Any:
    node = data
    for seg in path:
        if isinstance(node, dict) and seg in node:
            node = node[seg]
        elif isinstance(node, list) and seg.isdigit() and int(seg) < len(node):
            node = node[int(seg)]
        else:
            return None
    return node


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


def _find_item(items: list[Any], seg: str) -> int | None:
    if seg.lstrip("-").isdigit():
        i = int(seg)
        return i if -len(items) <= i < len(items) else None
    for key in LIST_KEYS:
        hits = [i for i, x in enumerate(items) if isinstance(x, dict) and x.get(key) == seg]
        if len(hits) == 1:
            return hits[0]
    return None


def set_path(data: Any, dotted: str, value: Any, origin: str = "--set") -> None:
    """Set ``dotted`` (e.g. ``fleet.ch47.count``) in raw scenario data, in place.

    List items are addressed by index or by their ``id``, ``name`` or ``type``.
    Raises ScenarioError naming the valid paths when the path does not exist.
    """
    parts = dotted.split(".")
    node = data
    walked: list[str] = []
    for i, seg in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            idx = _find_item(node, seg)
            if idx is None:
                keys = [str(x.get("id") or x.get("name") or x.get("type") or j)
                        for j, x in enumerate(node) if isinstance(x, dict)]
                raise ScenarioError(
                    [f"{origin} {dotted}: no item {seg!r} in {'.'.join(walked) or 'top'} "
                     f"(items: {', '.join(keys) or 'none'})"]
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
            is_free_dict = typing.get_origin(schema_ann) is dict
            if seg not in node and seg not in allowed and not is_free_dict:
                options = sorted(set(node) | set(allowed))
                close = difflib.get_close_matches(seg, options, n=3)
                hint = f"did you mean {', '.join(close)}?" if close else f"valid: {', '.join(options)}"
                raise ScenarioError(
                    [f"{origin} {dotted}: unknown field {seg!r} under "
                     f"{'.'.join(walked) or 'the top level'} ({hint})"]
                )
            if last:
                node[seg] = value
                if isinstance(node, LDict):
                    node.lines[seg] = (f"{origin} {dotted}", 0)  # errors name the override
                return
            if seg not in node or not isinstance(node[seg], (dict, list)):
                node[seg] = _ldict(("(" + origin + ")", 0))
            node = node[seg]
        else:
            raise ScenarioError(
                [f"{origin} {dotted}: {'.'.join(walked)} is a value, not a mapping or list"]
            )
        walked.append(seg)


def parse_override(text: str) -> tuple[str, Any]:
    """``path=value`` with the value read as YAML (numbers, booleans, null, lists)."""
    if "=" not in text:
        raise ScenarioError([f"--set {text}: expected path=value"])
    path, _, raw = text.partition("=")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return path.strip(), value


def build(data: Any, warn: list[str] | None = None) -> Scenario:
    """Validate raw (possibly line-aware) data into a Scenario or raise ScenarioError."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(
            validation_problems(exc, data) or [f"{base_where(data)[0]}: {exc}"]
        ) from None
    problems = cross_check(scenario)
    if problems:
        raise ScenarioError([_format(*locate(data, p), m) for p, m in problems])
    if warn is not None:
        warn.extend(_format(*locate(data, p), "warning: " + m) for p, m in warnings(scenario))
    return scenario


def load_scenario(
    path: str | Path,
    overrides: list[str] | dict[str, Any] | None = None,
    warn: list[str] | None = None,
) -> Scenario:
    """Load, merge ``extends``, apply overrides and validate a scenario file.

    ``path`` may also name a shipped scenario (``"baseline"``; see ``sim.scenario.shipped``).
    """
    data = load_raw(shipped.resolve(path))
    items = overrides.items() if isinstance(overrides, dict) else map(parse_override, overrides or [])
    for key, value in items:
        set_path(data, key, value)
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
