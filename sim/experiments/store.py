"""Sweep plans and their resumable results store (one SQLite file, one row a replication).

A plan is a list of points, each a mapping of dotted scenario paths to values
(from ``--grid`` and/or ``--design``); a point's key is its canonical JSON.

Why SQLite: it is in the standard library, a reader (pandas, the ``sqlite3``
shell) needs nothing else, and its transactions make a sweep crash-safe. The
store runs in WAL mode and every finished replication is committed in its own
transaction, so a sweep killed at any moment (Ctrl-C, SIGKILL, power cut
aside) loses at most the replications still running, never leaves half a row,
and the primary key (scenario hash, point, seed) with ``INSERT OR IGNORE``
makes a duplicate impossible. Re-running the sweep asks the store which
(point, seed) pairs are done and skips them.

Tables:
- ``meta(key, value)``: format version, the base scenario's name, hash and
  resolved YAML. A store belongs to one base scenario; opening it for another
  is refused (bad input) so results of two scenarios never mix.
- ``runs``: ``scenario_hash``, ``point`` (canonical JSON of the point's
  overrides), ``seed``, ``point_index``, ``replication``, ``params`` (JSON),
  ``kpis`` (the full KPI object as JSON), then one column per flattened KPI
  (``completion_day``, ``sorties:ch47``, ...) for SQL users, added as new
  KPI names appear.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.common.atomic import atomic_path, atomic_write_text
from sim.common.stats import flatten_kpis

FORMAT_VERSION = 1
STORE_NAME = "results.sqlite"
KEY_COLUMNS = ("scenario_hash", "point", "seed", "point_index", "replication", "params", "kpis")
MAX_KPI_COLUMNS = 1500  # SQLite allows 2000 columns; the kpis JSON always holds everything
MAX_POINTS = 100_000  # each point is validated up front


class ExperimentError(ValueError):
    """Bad arguments to an experiment or a sweep (a user error: the CLI exits 2)."""


class StoreMismatch(ExperimentError):
    """The store at this path was made from another scenario (bad input)."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ----- sweep plans: grid, design, point keys ------------------------------------------


def split_values(text: str) -> list[str]:
    """Split ``v1,v2,...`` at top-level commas (commas inside [] or {} stay)."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def _yaml_value(raw: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        return raw


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["fleet.ch47.count=6,8", ...]`` to ``{"fleet.ch47.count": [6, 8], ...}``."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        path, sep, raw = item.partition("=")
        path = path.strip()
        if not sep or not path or not raw.strip():
            raise ExperimentError(f"--grid {item}: expected path=v1,v2,...")
        if path in grid:
            raise ExperimentError(f"--grid {path}: given twice; list all its values once")
        values = [_yaml_value(v) for v in split_values(raw)]
        if any(v == "" for v in values):
            raise ExperimentError(f"--grid {item}: empty value")
        grid[path] = values
    return grid


def load_design(path: str | Path) -> list[dict[str, Any]]:
    """Override sets from a CSV (header: paths; one row a point; empty cell: not set)
    or a YAML list of ``{path: value}`` mappings."""
    import csv
    import io

    import yaml

    from sim.scenario.reading import ScenarioError, read_text

    p = Path(path)
    try:
        text = read_text(p)  # a regular file of bounded size; never a device or a FIFO
    except ScenarioError as exc:
        raise ExperimentError(f"--design {exc.problems[0]}") from None
    rows: list[dict[str, Any]] = []
    if p.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise ExperimentError(f"--design {p}: expected a header row of scenario paths")
        for i, rec in enumerate(reader, 2):
            if None in rec:
                raise ExperimentError(f"--design {p}:{i}: more cells than header columns")
            rows.append({k.strip(): _yaml_value(v) for k, v in rec.items()
                         if v is not None and v.strip()})
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ExperimentError(f"--design {p}: YAML syntax error: {exc}") from None
        if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
            raise ExperimentError(f"--design {p}: expected a list of {{path: value}} mappings")
        rows = [{str(k): v for k, v in x.items()} for x in data]
    if not rows:
        raise ExperimentError(f"--design {p}: no points")
    return rows


def plan_points(grid: Mapping[str, Sequence[Any]] | None,
                design: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Design rows (or the base scenario) crossed with the full factorial of the grid."""
    grid = dict(grid or {})
    for path, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ExperimentError(f"--grid {path}: expected a non-empty list of values")
    bases = [dict(r) for r in design] if design else [{}]
    size = len(bases) * math.prod(len(v) for v in grid.values())
    if size > MAX_POINTS:
        raise ExperimentError(f"the plan has {size:,} points, over the limit of {MAX_POINTS:,}")
    combos = [dict(zip(grid, vals, strict=True)) for vals in itertools.product(*grid.values())]
    points: list[dict[str, Any]] = []
    seen: set[str] = set()
    for base in bases:
        for combo in combos:
            point = {str(k): plain_value(v) for k, v in {**base, **combo}.items()}
            key = point_key(point)
            if key not in seen:
                seen.add(key)
                points.append(point)
    return points


def plain_value(v: Any) -> Any:
    """A JSON-safe copy of an override value: numpy scalars to Python, dates to ISO text
    (the schema reads them back), tuples to lists; so a point's key does not depend
    on how its values were typed."""
    import datetime as dt

    if isinstance(v, Mapping):
        return {str(k): plain_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain_value(x) for x in v]
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if hasattr(v, "item") and callable(v.item) and not isinstance(v, (str, bytes)):
        return v.item()
    return v


def point_key(overrides: Mapping[str, Any]) -> str:
    """The canonical text of a point (its overrides), the store's point key."""
    return json.dumps(dict(overrides), sort_keys=True, separators=(",", ":"), default=str)


def leaf_paths(data: Any, prefix: str = "") -> list[str]:
    """Every settable dotted path in scenario data; list items by id, name or type."""
    from sim.scenario.loader import LIST_KEYS

    out: list[str] = []
    if isinstance(data, Mapping):
        for k, v in data.items():
            out += leaf_paths(v, f"{prefix}{k}.") or [f"{prefix}{k}"]
    elif isinstance(data, list):
        for i, item in enumerate(data):
            name = next((str(item[k]) for k in LIST_KEYS
                         if isinstance(item, Mapping) and k in item), str(i))
            out += leaf_paths(item, f"{prefix}{name}.") or [f"{prefix}{name}"]
    return out


# ----- the store -------------------------------------------------------------------------


def check_store(path: Path, scenario_hash: str, scenario_name: str) -> None:
    """Refuse a store made from another scenario without writing anything to it.

    Opened read-only, so a refused store is left exactly as it was.
    """
    if not path.exists():
        return
    if not path.is_file():
        raise StoreMismatch(f"{path} exists and is not a file")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise StoreMismatch(
            f"{path} is not a dtsim results store ({exc}); choose another --out folder"
        ) from None
    if meta.get("scenario_hash") != scenario_hash:
        raise StoreMismatch(
            f"{path} holds results of scenario {meta.get('scenario_name')!r} "
            f"(hash {meta.get('scenario_hash')}), not of this scenario {scenario_name!r} "
            f"(hash {scenario_hash}); to start fresh use another --out folder or delete {path}"
        )
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise StoreMismatch(f"{path} was written by a newer dtsim; use another --out folder")


class ResultStore:
    """An open results store (single writer: the process that runs the sweep)."""

    def __init__(self, path: Path, scenario_hash: str, scenario_name: str,
                 scenario_yaml: str) -> None:
        check_store(path, scenario_hash, scenario_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.scenario_hash = scenario_hash
        self.con = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=NORMAL")
        self.con.execute("BEGIN IMMEDIATE")
        try:
            self.con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS runs ("
                "scenario_hash TEXT NOT NULL, point TEXT NOT NULL, seed INTEGER NOT NULL, "
                "point_index INTEGER, replication INTEGER, params TEXT NOT NULL, "
                "kpis TEXT NOT NULL, PRIMARY KEY (scenario_hash, point, seed))"
            )
            for key, value in (("format_version", str(FORMAT_VERSION)),
                               ("scenario_hash", scenario_hash),
                               ("scenario_name", scenario_name),
                               ("scenario_yaml", scenario_yaml)):
                self.con.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value))
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            self.con.close()
            raise
        self._columns = {
            row[1].lower() for row in self.con.execute("PRAGMA table_info(runs)").fetchall()
        }

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def done(self) -> set[tuple[str, int]]:
        """The (point, seed) pairs already stored for this scenario."""
        cur = self.con.execute("SELECT point, seed FROM runs WHERE scenario_hash = ?",
                               (self.scenario_hash,))
        return {(p, int(s)) for p, s in cur}

    def count(self) -> int:
        return int(self.con.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def add(self, point: str, point_index: int, replication: int, seed: int,
            params: Mapping[str, Any], kpis: Mapping[str, Any]) -> bool:
        """Store one replication in its own transaction; False if it was already there."""
        reserved = {c.lower() for c in KEY_COLUMNS}
        names: list[str] = []
        new: list[str] = []
        seen: set[str] = set()
        flat = flatten_kpis(kpis)
        for k in flat:
            low = k.lower()
            if low in reserved or low in seen:
                continue  # SQLite column names ignore case; the kpis JSON keeps everything
            seen.add(low)
            if low in self._columns:
                names.append(k)
            elif len(self._columns) + len(new) < MAX_KPI_COLUMNS:
                new.append(k)
                names.append(k)
        values = [point, seed, point_index, replication,
                  json.dumps(dict(params), sort_keys=True), json.dumps(kpis),
                  *(flat[k] for k in names)]
        cols = ["scenario_hash", "point", "seed", "point_index", "replication", "params",
                "kpis", *names]
        sql = (f"INSERT OR IGNORE INTO runs ({', '.join(map(_quote, cols))}) "
               f"VALUES (?, {', '.join('?' * (len(cols) - 1))})")
        self.con.execute("BEGIN IMMEDIATE")
        try:
            for k in new:
                self.con.execute(f"ALTER TABLE runs ADD COLUMN {_quote(k)}")
            cur = self.con.execute(sql, [self.scenario_hash, *values])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self._columns.update(k.lower() for k in new)
        return cur.rowcount == 1

    def rows(self, point: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """(seed, KPIs) of every stored replication of ``point``."""
        cur = self.con.execute(
            "SELECT seed, kpis FROM runs WHERE scenario_hash = ? AND point = ?",
            (self.scenario_hash, point),
        )
        for seed, kpis in cur:
            yield int(seed), json.loads(kpis)


def plan_rows(path: Path, scenario_hash: str, points: list[dict[str, Any]],
              seeds: list[int]) -> Iterator[dict[str, Any]]:
    """Flat rows of a sweep plan read back from the store, in (point, replication) order.

    Columns: point_index, replication, seed, one column per overridden path,
    then the flattened KPIs. Rows still missing (an interrupted sweep) are
    simply absent.
    """
    index = {sd: i for i, sd in enumerate(seeds)}
    con = sqlite3.connect(f"file:{path}?mode=rw", uri=True)
    try:
        for pi, params in enumerate(points):
            key = point_key(params)
            cur = con.execute("SELECT seed, kpis FROM runs WHERE scenario_hash = ? AND point = ?",
                              (scenario_hash, key))
            found = sorted((index[int(sd)], int(sd), k) for sd, k in cur if int(sd) in index)
            for ri, sd, kpis in found:
                yield {"point_index": pi, "replication": ri, "seed": sd, **params,
                       **flatten_kpis(json.loads(kpis))}
    finally:
        con.close()


def atomic_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file beside it, then rename)."""
    atomic_write_text(path, text)


def atomic_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Stream rows into a temporary file beside ``path``, then rename it into place
    (a reader never sees half a file; memory does not grow with the rows)."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for row in rows:
            w.writerow(["" if row.get(c) is None else row.get(c) for c in columns])


def export_rows(path: Path, scenario_hash: str, points: list[dict[str, Any]], seeds: list[int],
                dest: Path, fmt: str) -> Path:
    """Write the plan's rows as CSV (streamed, two passes) or Parquet (needs pyarrow)."""
    if fmt == "csv":
        cols = list(dict.fromkeys(c for row in plan_rows(path, scenario_hash, points, seeds)
                                  for c in row))
        atomic_csv(dest, cols, plan_rows(path, scenario_hash, points, seeds))
        return dest
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(list(plan_rows(path, scenario_hash, points, seeds)))
    with atomic_path(dest) as tmp:
        pq.write_table(table, str(tmp))
    return dest
