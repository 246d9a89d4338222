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
  is refused (bad input) so results of two scenarios never mix. Ownership is
  checked on a read-only, immutable view of the file, so a refused store is
  left byte for byte as it was (no ``-wal``/``-shm`` files appear).
- ``points``: ``point`` (canonical JSON, the key), ``point_index``, ``params``.
  A point is identified by its parameter values: it keeps its index for the
  life of the store, and a point seen for the first time gets the next free
  index, whichever grid or design brought it.
- ``runs``: ``scenario_hash``, ``point`` (canonical JSON of the point's
  overrides), ``seed``, ``point_index``, ``replication``, ``params`` (JSON),
  ``kpis`` (the full KPI object as JSON), then one column per flattened KPI
  (``day_to_100``, ``sorties:ch47``, ...) for SQL users, added as new
  KPI names appear.

Several sweeps may write one store at once (WAL, a 60 s busy timeout, the
schema made in one ``BEGIN IMMEDIATE`` transaction, new KPI columns added
after re-reading the table in the writing transaction); each skips what is
already stored when it starts and ``INSERT OR IGNORE`` drops the rare
replication both ran. A store still locked after the timeout is reported as
busy (bad input).
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
from sim.experiments.tables import flatten_kpis

FORMAT_VERSION = 2  # 2: the points table (stable point indices)
STORE_NAME = "results.sqlite"
BUSY_TIMEOUT_SECONDS = 60.0
KEY_COLUMNS = ("scenario_hash", "point", "seed", "point_index", "replication", "params", "kpis")
MAX_KPI_COLUMNS = 1500  # SQLite allows 2000 columns; the kpis JSON always holds everything
MAX_POINTS = 100_000  # each point is validated up front


class ExperimentError(ValueError):
    """Bad arguments to an experiment or a sweep (a user error: the CLI exits 2)."""


class StoreMismatch(ExperimentError):
    """The store at this path was made from another scenario (bad input)."""


class StoreBusy(ExperimentError):
    """Another process held the store locked for longer than the busy timeout (bad input)."""


def _uri(path: Path, **params: str) -> str:
    """A SQLite URI for ``path`` (percent-encoded, so any file name works)."""
    from urllib.parse import quote, urlencode

    return f"file:{quote(str(Path(path).resolve()))}?{urlencode(params)}"


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
    """Every settable dotted path in scenario data; list items by id, name or type where
    that names one item (``find_item``), else by index: two fleet entries of one type are
    ``fleet.0`` and ``fleet.1`` (a suggestion of ``fleet.coach.count`` for a path refused
    because ``coach`` names two entries repeated the refused path)."""
    from sim.scenario.loader import LIST_KEYS, find_item

    out: list[str] = []
    if isinstance(data, Mapping):
        for k, v in data.items():
            out += leaf_paths(v, f"{prefix}{k}.") or [f"{prefix}{k}"]
    elif isinstance(data, list):
        for i, item in enumerate(data):
            name = next((str(item[k]) for k in LIST_KEYS
                         if isinstance(item, Mapping) and k in item), str(i))
            if find_item(data, name) != i:
                name = str(i)
            out += leaf_paths(item, f"{prefix}{name}.") or [f"{prefix}{name}"]
    return out


# ----- the store -------------------------------------------------------------------------


def _read_meta(path: Path) -> dict[str, str] | None:
    """The store's meta table (None if the file holds no tables yet: a store being created).

    Read without writing anything. A store closed cleanly has no write-ahead
    log beside it and is read through an immutable view (no lock, no
    ``-wal``/``-shm`` files created). A store with a log (a sweep is writing
    it, or was killed), or whose immutable view is unreadable or empty (a
    sweep is creating it right now), is read read-only with the usual locks.
    """
    wal = path.with_name(path.name + "-wal")
    if not (wal.exists() and wal.stat().st_size > 0):
        try:
            meta = _query_meta(_uri(path, mode="ro", immutable="1"))
        except sqlite3.DatabaseError:
            meta = None
        if meta is not None:
            return meta
    return _query_meta(_uri(path, mode="ro"))


def _query_meta(uri: str) -> dict[str, str] | None:
    con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        tables = {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
        if not tables:
            return None
        if "meta" not in tables:
            raise sqlite3.DatabaseError("no meta table")
        return dict(con.execute("SELECT key, value FROM meta").fetchall())
    finally:
        con.close()


def check_store(path: Path, scenario_hash: str, scenario_name: str) -> None:
    """Refuse a store made from another scenario without writing anything to it.

    Opened read-only (immutable when no sweep is writing it), so a refused
    store is left exactly as it was; a file with no tables yet is a store
    another sweep is creating, and is accepted.
    """
    if not path.exists():
        return
    if not path.is_file():
        raise StoreMismatch(f"{path} exists and is not a file")
    try:
        meta = _read_meta(path)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreBusy(f"{path} is busy (another sweep holds it); try again") from None
        raise StoreMismatch(
            f"{path} is not a dtsim results store ({exc}); choose another --out folder"
        ) from None
    except sqlite3.DatabaseError as exc:
        raise StoreMismatch(
            f"{path} is not a dtsim results store ({exc}); choose another --out folder"
        ) from None
    if meta is None:
        return
    _check_meta(path, meta, scenario_hash, scenario_name)


def _check_meta(path: Path, meta: Mapping[str, str], scenario_hash: str,
                scenario_name: str) -> None:
    if meta.get("scenario_hash") != scenario_hash:
        raise StoreMismatch(
            f"{path} holds results of scenario {meta.get('scenario_name')!r} "
            f"(hash {meta.get('scenario_hash')}), not of this scenario {scenario_name!r} "
            f"(hash {scenario_hash}); to start fresh use another --out folder or delete {path}"
        )
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise StoreMismatch(f"{path} was written by a newer dtsim; use another --out folder")


class ResultStore:
    """An open results store; other sweeps may write the same store at the same time."""

    def __init__(self, path: Path, scenario_hash: str, scenario_name: str,
                 scenario_yaml: str) -> None:
        check_store(path, scenario_hash, scenario_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.scenario_hash = scenario_hash
        self.con = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            self._create(scenario_hash, scenario_name, scenario_yaml)
            self.con.execute("PRAGMA journal_mode=WAL")
            self.con.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.OperationalError as exc:
            self.con.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreBusy(f"{path} is busy (another sweep holds it); try again") \
                    from None
            raise
        except BaseException:
            self.con.close()
            raise
        self._columns = self._read_columns()

    def _create(self, scenario_hash: str, scenario_name: str, scenario_yaml: str) -> None:
        """Schema, meta and the format migration in one transaction; ownership re-checked
        inside it (another sweep may have created the store since ``check_store``)."""
        self.con.execute("BEGIN IMMEDIATE")
        try:
            self.con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS runs ("
                "scenario_hash TEXT NOT NULL, point TEXT NOT NULL, seed INTEGER NOT NULL, "
                "point_index INTEGER, replication INTEGER, params TEXT NOT NULL, "
                "kpis TEXT NOT NULL, PRIMARY KEY (scenario_hash, point, seed))"
            )
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS points (point TEXT PRIMARY KEY, "
                "point_index INTEGER NOT NULL UNIQUE, params TEXT NOT NULL)")
            for key, value in (("format_version", str(FORMAT_VERSION)),
                               ("scenario_hash", scenario_hash),
                               ("scenario_name", scenario_name),
                               ("scenario_yaml", scenario_yaml)):
                self.con.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value))
            meta = dict(self.con.execute("SELECT key, value FROM meta").fetchall())
            _check_meta(self.path, meta, scenario_hash, scenario_name)
            if int(meta.get("format_version", 0)) < 2:
                self._migrate_points()
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def _migrate_points(self) -> None:
        """Format 1 to 2: index the stored points in the order they first appeared."""
        cur = self.con.execute("SELECT point, params FROM runs GROUP BY point ORDER BY MIN(rowid)")
        for i, (point, params) in enumerate(cur.fetchall()):
            self.con.execute("INSERT INTO points VALUES (?, ?, ?)", (point, i, params))
        self.con.execute("UPDATE runs SET point_index = "
                         "(SELECT p.point_index FROM points p WHERE p.point = runs.point)")
        self.con.execute("UPDATE meta SET value = ? WHERE key = 'format_version'",
                         (str(FORMAT_VERSION),))

    def _begin(self) -> None:
        """Start a write transaction, waiting up to the busy timeout for other sweeps."""
        try:
            self.con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreBusy(f"{self.path} is busy (another sweep has held it for over "
                                f"{BUSY_TIMEOUT_SECONDS:g} s); try again") from None
            raise

    def _read_columns(self) -> set[str]:
        return {row[1].lower() for row in self.con.execute("PRAGMA table_info(runs)").fetchall()}

    def register(self, points: Sequence[Mapping[str, Any]]) -> list[int]:
        """The stable index of each point; points new to the store get the next free ones."""
        self._begin()
        try:
            known = dict(self.con.execute("SELECT point, point_index FROM points").fetchall())
            top = max(known.values(), default=-1)
            out = []
            for params in points:
                key = point_key(params)
                if key not in known:
                    top += 1
                    known[key] = top
                    self.con.execute("INSERT INTO points VALUES (?, ?, ?)",
                                     (key, top, json.dumps(dict(params))))  # grid order
                out.append(int(known[key]))
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return out

    def points(self) -> list[tuple[int, str, dict[str, Any]]]:
        """Every point of the store: (index, key, params), by index."""
        cur = self.con.execute("SELECT point_index, point, params FROM points "
                               "ORDER BY point_index")
        return [(int(i), str(k), json.loads(p)) for i, k, p in cur]

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
        self._begin()
        try:
            if new:  # another sweep may have added some of them meanwhile
                self._columns = self._read_columns()
                new = [k for k in new if k.lower() not in self._columns]
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
        """(seed, KPIs) of every stored replication of ``point``, by replication."""
        cur = self.con.execute(
            "SELECT seed, kpis FROM runs WHERE scenario_hash = ? AND point = ? "
            "ORDER BY replication, seed",
            (self.scenario_hash, point),
        )
        for seed, kpis in cur:
            yield int(seed), json.loads(kpis)


def store_rows(path: Path, scenario_hash: str) -> Iterator[dict[str, Any]]:
    """Flat rows of every replication in the store, by (point index, replication).

    Columns: point_index, replication, seed, one column per overridden path
    (empty where a point leaves it as in the scenario), then the flattened KPIs.
    """
    # Read-write (it writes nothing): the last connection to close removes the -wal and
    # -shm files, which a read-only one would leave behind.
    con = sqlite3.connect(_uri(path, mode="rw"), uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        paths = list(dict.fromkeys(
            k for (params,) in con.execute("SELECT params FROM points ORDER BY point_index")
            for k in json.loads(params)))
        cur = con.execute(
            "SELECT point_index, replication, seed, params, kpis FROM runs "
            "WHERE scenario_hash = ? ORDER BY point_index, replication, seed", (scenario_hash,))
        for pi, ri, sd, params, kpis in cur:
            p = json.loads(params)
            yield {"point_index": pi, "replication": ri, "seed": sd,
                   **{k: p.get(k) for k in paths}, **flatten_kpis(json.loads(kpis))}
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


def export_rows(path: Path, scenario_hash: str, dest: Path, fmt: str) -> Path:
    """Write every replication of the store as CSV (streamed, two passes) or Parquet
    (needs pyarrow)."""
    cols = list(dict.fromkeys(c for row in store_rows(path, scenario_hash) for c in row))
    if fmt == "csv":
        atomic_csv(dest, cols, store_rows(path, scenario_hash))
        return dest
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist([{c: row.get(c) for c in cols}
                                  for row in store_rows(path, scenario_hash)])
    with atomic_path(dest) as tmp:
        pq.write_table(table, str(tmp))
    return dest
