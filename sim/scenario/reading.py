"""Reading input files: regular files only, bounded in size, and safe, bounded YAML.

Everything a user hands over (a scenario, a file it ``extends``, an answer or
decision file, a sweep design) is read here: a folder, FIFO or device is refused
before anything is read, a file is read up to a size limit and no further, and
YAML values and nesting are counted while parsing, so a hostile file fails fast
with one message naming it (and the line) instead of hanging or eating memory.
Parsed mappings and lists remember where each key and item was written.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 2_000_000
"""Largest file read, bytes; reading stops there (a device or a huge file is never slurped)."""
MAX_NODES = 100_000
"""Most YAML values in one file, counted while parsing and again as aliases expand."""
MAX_DEPTH = 50
"""Deepest nesting of mappings and lists in one file (a scenario needs about eight)."""
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


def ldict(where: Loc) -> LDict:
    """An empty line-aware mapping written at ``where``."""
    d = LDict()
    d.where, d.lines = where, {}
    return d


def llist(where: Loc) -> LList:
    """An empty line-aware sequence written at ``where``."""
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
        d = ldict(where)
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
        lst = llist(where)
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
        # Where the parser gives up can be lines after the mistake (a flow mapping's
        # missing "}" is found at the next item): name where the construct began too.
        began = ""
        if exc.context and exc.context_mark and mark and exc.context_mark.line != mark.line:
            began = f" ({exc.context}, which starts on line {exc.context_mark.line + 1})"
        raise ScenarioError([f"{fname}{line}: YAML syntax error: {exc.problem}{began}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{fname}: YAML error: {_one_line(exc)}"]) from None
    except RecursionError:
        raise ScenarioError([f"{fname}: nested too deeply"]) from None
    finally:
        loader.dispose()


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def read_value(text: str, name: str) -> Any:
    """A YAML value given on the command line, as plain data, by the same bounded loader.

    Raises ScenarioError past the limits, and yaml.YAMLError or ValueError when
    ``text`` is not valid YAML (the caller may then take it as text).
    """
    loader = _BoundedLoader(text, name)
    try:
        node = loader.get_single_node()
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()
