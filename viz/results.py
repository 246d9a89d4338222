"""Reading a results folder: kind detection, format checks and typed accessors.

Every figure is a pure function of a :class:`Results`; a figure whose data is
absent raises :class:`Skip` with one line saying why.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

#: Result formats this package can draw (``format_version`` in meta.json).
SUPPORTED_FORMATS = frozenset({1})

RUN_KIND = "run"
REPLICATIONS_KIND = "replications"
SWEEP_KIND = "sweep"
COMPARE_KIND = "compare"


class ResultsError(Exception):
    """The folder holds no results this package can read (bad input: exit 2)."""


class Skip(Exception):  # noqa: N818 - a signal, not an error
    """A figure's data is absent; the message says why in one line."""


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _num(v: str | None) -> float:
    """A CSV cell as float (empty or non-numeric: NaN)."""
    if v is None or v == "":
        return float("nan")
    try:
        return float(v)
    except ValueError:
        return float("nan")


def detect_kind(folder: Path) -> str:
    """The kind of results in ``folder`` (run, replications, sweep or compare).

    ``meta.json``'s ``kind`` wins; otherwise the files present decide.
    Raises :class:`ResultsError` when nothing readable is there.
    """
    if not folder.exists():
        raise ResultsError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise ResultsError(f"{folder}: not a folder")
    meta = folder / "meta.json"
    if meta.is_file():
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ResultsError(f"{meta}: unreadable ({exc})") from exc
        if not isinstance(data, dict):
            raise ResultsError(f"{meta}: not a JSON object")
        _check_format(meta, data, required=data.get("kind", RUN_KIND) == RUN_KIND)
        kind = data.get("kind")
        if isinstance(kind, str) and kind:
            kind = KIND_ALIASES.get(kind, kind)
            if kind not in (RUN_KIND, REPLICATIONS_KIND, SWEEP_KIND, COMPARE_KIND):
                raise ResultsError(f"{meta}: unknown results kind {kind!r}")
            return kind
    for name in ("summary.json", "compare.json"):
        kind = _declared_kind(folder / name)
        if kind:
            return kind
    if (folder / "replications.csv").is_file() or (folder / "summary.json").is_file():
        return REPLICATIONS_KIND
    if (folder / "results.sqlite").is_file():
        return SWEEP_KIND
    if (folder / "compare.json").is_file():
        return COMPARE_KIND
    if (folder / "daily.csv").is_file():
        raise ResultsError(f"{folder}: daily.csv without meta.json; re-run `dtsim run --out`")
    raise ResultsError(
        f"{folder}: holds no dtsim results (no meta.json, replications.csv, summary.json, "
        "results.sqlite or compare.json)"
    )


KIND_ALIASES = {"comparison": COMPARE_KIND, "replicate": REPLICATIONS_KIND}


def _declared_kind(path: Path) -> str | None:
    """The ``kind`` a summary.json or compare.json declares (None if absent or unknown)."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: unreadable ({exc})") from exc
    if not isinstance(data, dict):
        return None
    _check_format(path, data)
    kind = KIND_ALIASES.get(str(data.get("kind")), str(data.get("kind")))
    return kind if kind in (REPLICATIONS_KIND, SWEEP_KIND, COMPARE_KIND) else None


def _check_format(path: Path, data: dict[str, Any], required: bool = False) -> None:
    """Refuse results written in a format this version cannot read."""
    version = data.get("format_version")
    if version is None:
        if required:
            raise ResultsError(f"{path}: no format_version (results from an older version); "
                               "re-run the simulation to regenerate them")
        return
    if version not in SUPPORTED_FORMATS:
        readable = ", ".join(str(v) for v in sorted(SUPPORTED_FORMATS))
        raise ResultsError(
            f"{path}: results format_version {version!r} is not supported by this version "
            f"(reads {readable}); re-run the simulation to regenerate them"
        )


@dataclass
class Results:
    """A results folder, read lazily; each accessor raises :class:`Skip` if its file is absent."""

    folder: Path
    kind: str = field(default="")

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        if not self.kind:
            self.kind = detect_kind(self.folder)

    # --- plain files -------------------------------------------------------------
    def has(self, name: str) -> bool:
        """True if ``name`` exists in the folder."""
        return (self.folder / name).is_file()

    def _need(self, name: str, why: str) -> Path:
        path = self.folder / name
        if not path.is_file():
            raise Skip(f"no {name} in the folder ({why})")
        return path

    @cached_property
    def meta(self) -> dict[str, Any]:
        """meta.json (empty dict when absent)."""
        path = self.folder / "meta.json"
        if not path.is_file():
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}

    @cached_property
    def kpis(self) -> dict[str, Any]:
        """kpis.json of a run."""
        path = self._need("kpis.json", "KPIs of a run")
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}

    @cached_property
    def scenario(self) -> dict[str, Any]:
        """scenario.resolved.yaml as plain data (empty dict when absent)."""
        path = self.folder / "scenario.resolved.yaml"
        if not path.is_file():
            return {}
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}

    @cached_property
    def start(self) -> dt.date:
        """Calendar date of day 0."""
        for src in (self.meta.get("start"), self.scenario.get("start")):
            if src:
                return dt.date.fromisoformat(str(src))
        for name in ("daily.csv", "daily_bands.csv"):
            if self.has(name):
                rows = _read_csv(self.folder / name)
                if rows and rows[0].get("date"):
                    return dt.date.fromisoformat(rows[0]["date"]) - dt.timedelta(
                        days=int(_num(rows[0].get("day")) or 0))
        return dt.date(2000, 1, 1)

    @property
    def title(self) -> str:
        """Scenario name and seed for figure titles."""
        name = (self.meta.get("scenario") or self.summary.get("scenario")
                or self.scenario.get("name") or self.folder.name)
        seed = self.meta.get("seed")
        return f"{name} (seed {seed})" if seed is not None and self.kind == RUN_KIND else str(name)

    # --- tables ---------------------------------------------------------------------
    @cached_property
    def daily(self) -> Table:
        """daily.csv of a run."""
        return Table.read(self._need("daily.csv", "daily series of a run"))

    @cached_property
    def bands(self) -> Table:
        """daily_bands.csv of replications."""
        return Table.read(self._need("daily_bands.csv", "daily bands of replications"))

    @cached_property
    def sorties(self) -> list[dict[str, str]]:
        """sorties.csv rows."""
        return _read_csv(self._need("sorties.csv", "sortie log of a run"))

    @cached_property
    def events(self) -> list[dict[str, str]]:
        """events.csv rows."""
        return _read_csv(self._need("events.csv", "event log of a run"))

    @cached_property
    def status(self) -> list[dict[str, str]]:
        """status.csv rows (hour, site, status)."""
        return _read_csv(self._need("status.csv", "site status changes of a run"))

    @cached_property
    def fronts(self) -> list[dict[str, Any]]:
        """fronts.json (empty list when absent)."""
        path = self.folder / "fronts.json"
        if not path.is_file():
            return []
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, list) else []

    @cached_property
    def replications(self) -> Table:
        """replications.csv (one row a replication)."""
        return Table.read(self._need("replications.csv", "one row per replication"))

    @cached_property
    def summary(self) -> dict[str, Any]:
        """summary.json of replications (empty dict when absent)."""
        path = self.folder / "summary.json"
        if not path.is_file():
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}

    @cached_property
    def compare(self) -> Any:
        """compare.json (the output of ``dtsim compare --json`` saved into the folder)."""
        path = self._need("compare.json", "save `dtsim compare --json` output there")
        return json.loads(path.read_text(encoding="utf-8"))

    @cached_property
    def sweep_table(self) -> Table:
        """Per-point sweep table: summary.csv (written by ``dtsim sweep``) if present, else results.sqlite."""
        if self.has("summary.csv"):
            return Table.read(self.folder / "summary.csv")
        path = self._need("results.sqlite", "sweep results")
        return Table.from_sqlite(path)

    @property
    def grid_columns(self) -> list[str]:
        """Columns of the sweep table that are grid dimensions (override paths)."""
        table = self.sweep_table
        named = self.meta.get("grid") or self.summary.get("grid")
        if isinstance(named, dict):
            named = list(named)
        points = self.summary.get("points")
        if not named and isinstance(points, list) and points and isinstance(points[0], dict):
            params = points[0].get("params")
            named = list(params) if isinstance(params, dict) else None
        if isinstance(named, list):
            cols = [c for c in named if isinstance(c, str) and c in table.columns]
            if cols:
                return cols
        return [c for c in table.columns
                if "." in c or c.startswith(("grid:", "point:", "param:"))]


class Table:
    """A small column store: names to numpy float arrays, plus raw strings."""

    def __init__(self, columns: list[str], rows: list[dict[str, str]]) -> None:
        self.columns = columns
        self.rows = rows
        self._cache: dict[str, np.ndarray] = {}

    @classmethod
    def read(cls, path: Path) -> Table:
        """Read a CSV file with a header row."""
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            return cls(list(reader.fieldnames or []), rows)

    @classmethod
    def from_sqlite(cls, path: Path) -> Table:
        """The largest table of a SQLite file (read-only)."""
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table','view')")]
            best: tuple[int, str] | None = None
            for name in names:
                n = con.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
                if best is None or n > best[0]:
                    best = (n, name)
            if best is None or best[0] == 0:
                raise Skip(f"{path.name} holds no rows yet")
            cur = con.execute(f'SELECT * FROM "{best[1]}"')
            cols = [d[0] for d in cur.description]
            rows = [{c: "" if v is None else str(v) for c, v in zip(cols, r, strict=True)}
                    for r in cur.fetchall()]
        except sqlite3.Error as exc:
            raise Skip(f"{path.name}: unreadable ({exc})") from exc
        finally:
            con.close()
        flat = cls._flatten_json_columns(cols, rows)
        return cls(*flat)

    @staticmethod
    def _flatten_json_columns(cols: list[str], rows: list[dict[str, str]]
                              ) -> tuple[list[str], list[dict[str, str]]]:
        """Expand columns holding JSON objects (e.g. a ``point`` or ``kpis`` column)."""
        out_cols = list(cols)
        for c in cols:
            sample = next((r[c] for r in rows if r[c]), "")
            if not sample.startswith("{"):
                continue
            for r in rows:
                try:
                    obj = json.loads(r[c]) if r[c] else {}
                except ValueError:
                    continue
                if not isinstance(obj, dict):
                    continue
                for k, v in _flat_items(obj):
                    r[k] = "" if v is None else str(v)
                    if k not in out_cols:
                        out_cols.append(k)
        return out_cols, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def col(self, name: str) -> np.ndarray:
        """A column as floats (missing cells: NaN)."""
        if name not in self._cache:
            if name not in self.columns:
                raise Skip(f"column {name!r} is absent")
            self._cache[name] = np.array([_num(r.get(name)) for r in self.rows], dtype=float)
        return self._cache[name]

    def text(self, name: str) -> list[str]:
        """A column as strings."""
        return [r.get(name) or "" for r in self.rows]

    def prefixed(self, prefix: str) -> list[str]:
        """Column names starting with ``prefix``, suffix only, in file order."""
        return [c[len(prefix):] for c in self.columns if c.startswith(prefix)]

    def numeric_columns(self) -> list[str]:
        """Columns where every non-empty cell is a number and at least one is."""
        out = []
        for c in self.columns:
            vals = [r.get(c) or "" for r in self.rows]
            if any(vals) and all(v == "" or not np.isnan(_num(v)) for v in vals):
                out.append(c)
        return out


def _flat_items(obj: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.extend(_flat_items(v, f"{key}:"))
        elif not isinstance(v, list):
            out.append((key, v))
    return out
