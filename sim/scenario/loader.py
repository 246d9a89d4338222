"""Loading scenario files: safe YAML with line numbers, ``extends``, overrides, errors.

Errors are collected, never raised one at a time: a user fixing a file sees
every problem at once, one line each, as ``file:line: field.path: message``.
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import json
import os
import re
import stat
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.scenario.schema import Scenario, dump_scenario

MAX_FILE_BYTES = 2_000_000
"""Largest file read, bytes; reading stops there (a device or a huge file is never slurped)."""
MAX_NODES = 100_000
"""Most YAML values in one file, counted while parsing and again as aliases expand."""
MAX_DEPTH = 50
"""Deepest nesting of mappings and lists in one file (a scenario needs about eight)."""
MAX_EXTENDS = 20
"""Longest chain of ``extends``."""
LIST_KEYS = ("id", "name", "type")
KEYED_LISTS = {"sites": "id", "legs": "id", "fleet": "type", "fronts": "name", "triggers": "name"}
"""Lists that ``extends`` merges item by item, and the key that names an item."""
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


_OPEN_ERRORS = {
    errno.ENOENT: "file not found",
    errno.ENOTDIR: "file not found (a folder in its path is a file)",
    errno.ELOOP: "cannot read: a loop of symbolic links",
    errno.EACCES: "cannot read: permission denied",
    errno.EISDIR: "is a directory, expected a file",
    errno.ENAMETOOLONG: "file name too long",
}


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes, or a ScenarioError.

    A folder, FIFO, socket or device (``/dev/zero``) is refused from its file type
    after a non-blocking open, before anything is read; a file that turns out longer
    than ``limit`` is refused once ``limit + 1`` bytes are in, never read to its end.
    """
    fname = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        reason = _OPEN_ERRORS.get(exc.errno or 0, f"cannot read: {exc.strerror}")
        raise ScenarioError([f"{fname}: {reason}"]) from None
    except ValueError:  # a NUL character in the name
        raise ScenarioError([f"{fname}: not a valid file name"]) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ScenarioError([f"{fname}: is a directory, expected a file"])
        if not stat.S_ISREG(mode):
            raise ScenarioError([f"{fname}: not a regular file (a device, pipe or socket)"])
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ScenarioError([f"{fname}: cannot read: {exc.strerror}"]) from None
    finally:
        os.close(fd)
    if size > limit:
        raise ScenarioError([f"{fname}: file over {limit:,} bytes"])
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            [f"{fname}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"]
        ) from None


_CParser: Any = getattr(getattr(yaml, "_yaml", None), "CParser", None)
_EVENTS: tuple[type, ...] = (
    (_CParser,) if _CParser else (yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser)
)
_NO_DATES = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
# YAML 1.1 reads 1e-300 (no dot) as text; people mean a number, as in YAML 1.2.
_EXPONENT = re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
for _first in "-+0123456789":
    _NO_DATES.setdefault(_first, []).append(("tag:yaml.org,2002:float", _EXPONENT))


class _BoundedLoader(
    yaml.composer.Composer,
    *_EVENTS,  # type: ignore[misc]
    yaml.constructor.SafeConstructor,
    yaml.resolver.Resolver,
):
    """Safe YAML that counts values and nesting while it parses and stops at the limits.

    Events come from libyaml when it is installed (else the pure-Python parser);
    nodes are composed here, so a huge or deeply nested file fails after
    ``MAX_NODES`` values or ``MAX_DEPTH`` levels, not after building all of it.
    Dates stay text: the schema parses them and reports an impossible one.
    """

    yaml_implicit_resolvers = _NO_DATES

    def __init__(self, text: str, fname: str) -> None:
        if _CParser:
            _CParser.__init__(self, text)
        else:
            yaml.reader.Reader.__init__(self, text)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self.fname = fname
        self.nodes = 0
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ScenarioError([f"{self.fname}: document too large: over {MAX_NODES:,} values"])
        self.depth += 1
        if self.depth > MAX_DEPTH:
            line = self.peek_event().start_mark.line + 1
            raise ScenarioError(
                [f"{self.fname}:{line}: nested deeper than {MAX_DEPTH} levels"]
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


def _convert(node: yaml.Node, loader: Any, fname: str, budget: list[int], depth: int = 0) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise ScenarioError(
            [f"{fname}: document too large: over {MAX_NODES:,} values once aliases are expanded"]
        )
    if depth > MAX_DEPTH:
        raise ScenarioError(
            [f"{fname}:{node.start_mark.line + 1}: nested deeper than {MAX_DEPTH} levels "
             "(a recursive alias?)"]
        )
    where = (fname, node.start_mark.line + 1)
    if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
        raise ScenarioError([f"{fname}:{where[1]}: unsupported YAML tag {node.tag!r}"])
    if isinstance(node, yaml.MappingNode):
        own = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
        loader.flatten_mapping(node)
        n_merged = len(node.value) - own  # merged ('<<') pairs come first
        merged: set[str] = set()
        d = _ldict(where)
        for i, (knode, vnode) in enumerate(node.value):
            if not isinstance(knode, yaml.ScalarNode):
                raise ScenarioError([f"{fname}:{knode.start_mark.line + 1}: keys must be scalars"])
            key = _scalar(knode, loader, fname)
            skey = str(key)
            if i < n_merged:
                if skey in d:
                    continue  # YAML merge: the first merged mapping wins
                merged.add(skey)
            elif skey in merged:
                merged.discard(skey)  # a key written here overrides a merged one
            elif skey in d:
                raise ScenarioError([f"{fname}:{knode.start_mark.line + 1}: duplicate key {skey!r}"])
            d[skey] = _convert(vnode, loader, fname, budget, depth + 1)
            d.lines[skey] = (fname, knode.start_mark.line + 1)
        return d
    if isinstance(node, yaml.SequenceNode):
        lst = _llist(where)
        for item in node.value:
            lst.append(_convert(item, loader, fname, budget, depth + 1))
            lst.lines.append((fname, item.start_mark.line + 1))
        return lst
    return _scalar(node, loader, fname)


def _scalar(node: yaml.Node, loader: Any, fname: str) -> Any:
    """A scalar's value; a malformed tagged one (``!!timestamp 2026-02-30``) is bad input."""
    try:
        return loader.construct_object(node)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ScenarioError(
            [f"{fname}:{node.start_mark.line + 1}: cannot read value {node.value!r}: {exc}"]
        ) from None


def read_yaml(path: Path) -> Any:
    """Parse one YAML file safely, keeping line numbers; bounded in size, depth and expansion.

    Only a regular file is read (see ``read_text``). Every problem, from a missing
    file to a NUL byte, is a ScenarioError naming the file (and line when known).
    """
    fname = str(path)
    text = read_text(path)
    try:
        loader = _BoundedLoader(text, fname)
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{fname}: YAML error: {_one_line(exc)}"]) from None
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
        raise ScenarioError([f"{fname}: YAML error: {_one_line(exc)}"]) from None
    except RecursionError:
        raise ScenarioError([f"{fname}: nested too deeply"]) from None
    finally:
        loader.dispose()


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


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
        out = _ldict(getattr(over, "where", ("?", 0)))
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
    merged = _llist(getattr(over, "where", ("?", 0)))
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
    pos = f"{fname}:{line}: " if line else "" if fname == "?" else f"{fname}: "
    return f"{pos}{'.'.join(path) or '(top level)'}: {msg}"


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


def _find_item(items: list[Any], seg: str) -> int | None:
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
            idx = _find_item(node, seg)
            if idx is None:
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
            is_free_dict = typing.get_origin(schema_ann) is dict
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
                node[seg] = _ldict((f"{origin} {dotted}", 0))
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
    loader = None
    try:
        loader = _BoundedLoader(raw, f"{origin} {text}")
        node = loader.get_single_node()
        value = None if node is None else loader.construct_document(node)
    except ScenarioError as exc:
        raise ScenarioError([f"{origin} {text}: value too large or nested too deeply"]) from exc
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError):
        value = raw
    finally:
        if loader is not None:
            loader.dispose()
    return path.strip(), value


def build(data: Any, warn: list[str] | None = None) -> Scenario:
    """Validate raw (possibly line-aware) data into a Scenario or raise ScenarioError.

    When ``data`` came from a file that ``extends`` others, or ``--set`` changed it
    (see ``load_scenario``), a problem located elsewhere says so: the cause may be
    the child file or the override, not the line it points at.
    """
    from sim.scenario.checks import cross_check, warnings

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
    if overrides and ": --set " not in line:  # else the line names the override already
        parts.append("with --set " + " ".join(overrides))
    return f" ({'; '.join(parts)})" if parts else ""


def load_scenario(
    path: str | Path,
    overrides: list[str] | dict[str, Any] | None = None,
    warn: list[str] | None = None,
) -> Scenario:
    """Load, merge ``extends``, apply overrides and validate a scenario file."""
    data = load_raw(Path(path))
    items = list(
        overrides.items()
        if isinstance(overrides, dict)
        else (parse_override(o, f"{path}: --set") for o in overrides or [])
    )
    for key, value in items:
        set_path(data, key, value, f"{path}: --set")
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
