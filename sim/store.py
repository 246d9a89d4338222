"""The resumable results store of a sweep: one SQLite file, one row a replication.

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

import json
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sim.stats import flatten_kpis

FORMAT_VERSION = 1
STORE_NAME = "results.sqlite"
KEY_COLUMNS = ("scenario_hash", "point", "seed", "point_index", "replication", "params", "kpis")
MAX_KPI_COLUMNS = 1500  # SQLite allows 2000 columns; the kpis JSON always holds everything


class StoreMismatch(Exception):
    """The store at this path was made from another scenario (bad input)."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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
