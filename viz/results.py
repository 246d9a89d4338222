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
SENSITIVITY_KIND = "sensitivity"
DISCOVERY_KIND = "discovery"
#: Kinds a summary.json may declare (its ``kind``).
DECLARED_KINDS = (REPLICATIONS_KIND, SWEEP_KIND, COMPARE_KIND, SENSITIVITY_KIND, DISCOVERY_KIND)


class ResultsError(Exception):
    """The folder holds no results this package can read (bad input: exit 2)."""


class Skip(Exception):  # noqa: N818 - a signal, not an error
    """A figure's data is absent; the message says why in one line."""


@dataclass(frozen=True)
class CsvSpec:
    """What a results CSV must hold: required columns and which columns are numbers.

    ``text`` and ``text_prefixes`` name the columns that hold words; every
    other column must hold numbers (an empty cell means "none").
    ``numeric_only`` instead names the only columns checked as numbers (for
    files whose other columns may hold anything, such as a sweep's parameters).
    """

    required: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    text_prefixes: tuple[str, ...] = ()
    numeric_only: tuple[str, ...] | None = None
    numeric_suffixes: tuple[str, ...] = ()
    consecutive_days: bool = False
    #: Columns that may not be empty in any row.
    filled: tuple[str, ...] = ()
    #: Written by dtsim, so the file ends with a line break unless it was cut short.
    written_by_dtsim: bool = True

    def is_numeric(self, column: str) -> bool:
        """Whether ``column`` must hold numbers."""
        if self.numeric_only is not None:
            return column in self.numeric_only or column.endswith(self.numeric_suffixes)
        return column not in self.text and not column.startswith(self.text_prefixes)


#: The CSV files a results folder may hold and what each must contain.
CSV_SPECS: dict[str, CsvSpec] = {
    "daily.csv": CsvSpec(("day",), ("date",), ("status:",), consecutive_days=True),
    "daily_bands.csv": CsvSpec(("day",), ("date",), consecutive_days=True),
    "sorties.csv": CsvSpec(("aircraft", "type", "mode", "kind", "origin", "dest",
                            "depart_hour", "arrive_hour", "detainees"),
                           ("aircraft", "type", "mode", "kind", "origin", "dest"),
                           filled=("aircraft", "kind", "depart_hour", "arrive_hour",
                                   "detainees")),
    "events.csv": CsvSpec(("hour", "event", "who", "where", "n"), ("event", "who", "where"),
                          filled=("hour", "event", "n")),
    "status.csv": CsvSpec(("hour", "site", "status"), ("site", "status"),
                          filled=("hour", "site", "status")),
    "staging.csv": CsvSpec(("hour", "site", "held"), ("site",),
                           filled=("hour", "site", "held")),
    "detainees.csv": CsvSpec(("id", "origin", "state"),
                             ("origin", "category", "state", "location")),
    "replications.csv": CsvSpec((), ("scenario", "point", "params")),
    "summary.csv": CsvSpec((), numeric_only=("point_index", "n"),
                           numeric_suffixes=("_mean", "_ci_low", "_ci_high", "_p5", "_p95")),
    "observed.csv": CsvSpec(("day", "delivered_cum"), written_by_dtsim=False),
}


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_checked_csv(path: Path, spec: CsvSpec | None = None
                     ) -> tuple[list[str], list[dict[str, str]]]:
    """(columns, rows) of a CSV file, refusing a truncated or corrupt one.

    Raises :class:`ResultsError` naming the file, the line and the column when
    the header is missing, a required column is absent, a row has the wrong
    number of cells (a file cut short) or a number cell holds text.
    """
    spec = spec or CSV_SPECS.get(path.name, CsvSpec())
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise ResultsError(f"{path}: empty (no header line)")
            missing = [c for c in spec.required if c not in header]
            if missing:
                raise ResultsError(f"{path}, line 1: no column {missing[0]!r}")
            numeric = [(i, c) for i, c in enumerate(header) if spec.is_numeric(c)]
            filled = [(i, c) for i, c in enumerate(header) if c in spec.filled]
            rows: list[dict[str, str]] = []
            for cells in reader:
                line = reader.line_num
                if not cells:
                    continue
                if len(cells) != len(header):
                    raise ResultsError(f"{path}, line {line}: {len(cells)} cells where the "
                                       f"header has {len(header)} (file cut short or corrupt)")
                for i, c in numeric:
                    cell = cells[i]
                    if cell != "" and not _is_number(cell):
                        raise ResultsError(f"{path}, line {line}, column {c!r}: {cell[:40]!r} "
                                           "is not a number")
                for i, c in filled:
                    if cells[i] == "":
                        raise ResultsError(f"{path}, line {line}, column {c!r}: empty "
                                           "(file cut short or corrupt)")
                rows.append(dict(zip(header, cells, strict=True)))
            if spec.written_by_dtsim and rows and not _ends_with_newline(path):
                raise ResultsError(f"{path}, line {reader.line_num}: no line break at the end "
                                   "(file cut short)")
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ResultsError(f"{path}: unreadable ({exc})") from exc
    if spec.consecutive_days:
        if not rows:
            raise ResultsError(f"{path}: no rows (file cut short)")
        for k, row in enumerate(rows):
            if row["day"] == "" or float(row["day"]) != k:
                raise ResultsError(f"{path}, line {k + 2}, column 'day': {row['day']!r} where "
                                   f"day {k} belongs (rows missing or out of order)")
    return header, rows


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return True
        fh.seek(-1, 2)
        return fh.read(1) == b"\n"


def _read_csv(path: Path) -> list[dict[str, str]]:
    return read_checked_csv(path)[1]


def read_json(path: Path) -> Any:
    """The JSON in ``path``; a file that does not parse is bad input naming the file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from exc


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


#: Keys a run's kpis.json must hold for the figures and the report, with the types allowed.
KPI_KEYS: dict[str, tuple[type, ...]] = {
    "detainees_total": (int, float),
    "delivered": (int, float),
    "registered": (int, float),
    "escaped": (int, float),
    "day_to_100": (int, float, type(None)),
    "prisons_cleared_day": (int, float, type(None)),
}


def check_kpis(path: Path, data: Any) -> dict[str, Any]:
    """A run's KPIs as a dict, refusing a list or missing keys or wrongly typed values."""
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: a JSON object of KPIs expected, found a "
                           f"{type(data).__name__}")
    for key, types in KPI_KEYS.items():
        if key not in data:
            raise ResultsError(f"{path}: no {key!r} (KPIs missing)")
        v = data[key]
        if not isinstance(v, types) or isinstance(v, bool):
            raise ResultsError(f"{path}, {key!r}: {v!r} is not a number")
    for key in ("sites", "sorties", "flight_hours"):
        if key in data and not isinstance(data[key], dict):
            raise ResultsError(f"{path}, {key!r}: a JSON object expected")
    fired = data.get("triggers_fired")
    if fired is not None:
        if not isinstance(fired, list) or not all(
                isinstance(f, dict) and "name" in f and _is_num(f.get("day")) for f in fired):
            raise ResultsError(f"{path}, 'triggers_fired': a list of {{name, day}} expected")
    return data


def check_fronts(path: Path, data: Any) -> list[dict[str, Any]]:
    """fronts.json as a list of fronts with numeric paths and radii, or bad input."""
    if not isinstance(data, list):
        raise ResultsError(f"{path}: a JSON list of fronts expected, found a "
                           f"{type(data).__name__}")
    for i, fr in enumerate(data):
        if not isinstance(fr, dict):
            raise ResultsError(f"{path}, front {i}: a JSON object expected")
        pts = fr.get("path_latlon")
        if not isinstance(pts, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(_is_num(x) for x in p) for p in pts):
            raise ResultsError(f"{path}, front {i}, 'path_latlon': a list of [lat, lon] "
                               "numbers expected")
        for key in ("threat_radius_km", "overrun_radius_km", "start_day"):
            if fr.get(key) is not None and not _is_num(fr[key]):
                raise ResultsError(f"{path}, front {i}, {key!r}: {fr[key]!r} is not a number")
    return data


COMPARE_NUMBERS = ("mean_a", "mean_b", "mean_diff", "ci_low", "ci_high", "unpaired_ci_low",
                   "unpaired_ci_high", "variance_ratio")


def check_compare(path: Path, data: Any) -> dict[str, Any]:
    """compare.json (``dtsim compare --json``) with a ``kpis`` object of numbers, or bad input."""
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: a JSON object expected, found a {type(data).__name__}")
    kpis = data.get("kpis")
    if not isinstance(kpis, dict) or not kpis:
        raise ResultsError(f"{path}: no 'kpis' object (save `dtsim compare --json` output)")
    for name, d in kpis.items():
        if not isinstance(d, dict):
            raise ResultsError(f"{path}, KPI {name!r}: a JSON object expected")
        for key in COMPARE_NUMBERS:
            if d.get(key) is not None and not _is_num(d[key]):
                raise ResultsError(f"{path}, KPI {name!r}, {key!r}: {d[key]!r} is not a number")
    return data


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
        data = read_json(meta)
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
    for data_file, what, figure in OTHER_OUTPUTS:
        if (folder / data_file).is_file():
            drawn = "already drawn" if (folder / figure).is_file() else \
                "missing: write the folder again"
            raise ResultsError(
                f"{folder}: {what}; its figure is {figure} ({drawn}). {READABLE_FOLDERS}")
    raise ResultsError(
        f"{folder}: holds no dtsim results (no meta.json, replications.csv, summary.json, "
        f"results.sqlite or compare.json). {READABLE_FOLDERS}"
    )


#: Folders other commands write that ``plot`` and ``report`` do not read, found by their data
#: file: (data file, what the folder is, the figure or page the command already wrote).
OTHER_OUTPUTS: tuple[tuple[str, str, str], ...] = (
    ("plan_fleet.json", "a fleet plan written by `dtsim plan fleet --out`", "fleet_plan.png"),
    ("bound.json", "a delivery bound written by `dtsim bound --out`", "bound.png"),
    ("backtest.json", "a back-test written by `dtsim backtest --out`", "backtest.md"),
)
#: What ``plot`` and ``report`` do read, for the messages that refuse a folder.
READABLE_FOLDERS = ("`plot` and `report` read the folders of `dtsim run`, `replicate`, "
                    "`sweep`, `sensitivity` and `discover` (--out), and compare.json saved "
                    "from `dtsim compare --json`.")


KIND_ALIASES = {"comparison": COMPARE_KIND, "replicate": REPLICATIONS_KIND}


def _declared_kind(path: Path) -> str | None:
    """The ``kind`` a summary.json or compare.json declares (None if absent or unknown)."""
    if not path.is_file():
        return None
    data = read_json(path)
    if not isinstance(data, dict):
        return None
    _check_format(path, data)
    kind = KIND_ALIASES.get(str(data.get("kind")), str(data.get("kind")))
    return kind if kind in DECLARED_KINDS else None


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


def _check_complete(folder: Path, kind: str) -> None:
    """Refuse a folder that is not one complete write (a run's marker is required)."""
    from sim.output.folders import MARKER, IncompleteFolder, check_complete

    if kind != RUN_KIND and not (folder / MARKER).is_file():
        return  # experiment folders written by hand or by older versions
    try:
        check_complete(folder)
    except IncompleteFolder as exc:
        raise ResultsError(str(exc)) from None


@dataclass
class Results:
    """A results folder, read lazily; each accessor raises :class:`Skip` if its file is absent."""

    folder: Path
    kind: str = field(default="")
    #: The KPI a sweep figure shows (``dtsim plot --kpi``); None: day_to_100 or the first.
    kpi: str | None = None

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        if not self.kind:
            self.kind = detect_kind(self.folder)
            _check_complete(self.folder, self.kind)

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
        data = read_json(path)
        return data if isinstance(data, dict) else {}

    @cached_property
    def kpis(self) -> dict[str, Any]:
        """kpis.json of a run."""
        path = self._need("kpis.json", "KPIs of a run")
        return check_kpis(path, read_json(path))

    @cached_property
    def scenario(self) -> dict[str, Any]:
        """scenario.resolved.yaml as plain data (empty dict when absent)."""
        path = self.folder / "scenario.resolved.yaml"
        if not path.is_file():
            return {}
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ResultsError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
        return data if isinstance(data, dict) else {}

    @property
    def receptions(self) -> list[dict[str, Any]]:
        """The scenario's reception sites, as plain data (none without the scenario)."""
        return [s for s in self.scenario.get("sites") or []
                if isinstance(s, dict) and s.get("kind") == "reception"]

    @property
    def registers(self) -> bool:
        """Whether any reception registers its arrivals (else each counts as registered on
        arrival, and there is no registration backlog)."""
        return any(r.get("registration") for r in self.receptions)

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

    def validate(self) -> None:
        """Read and check every data file the folder holds, before anything is drawn.

        Raises :class:`ResultsError` (bad input) naming the file and what is wrong,
        so that no figure or report is ever drawn from a truncated or corrupt file.
        """
        _ = self.meta, self.scenario, self.summary, self.fronts
        if self.has("kpis.json"):
            _ = self.kpis
        if self.has("compare.json"):
            _ = self.compare
        for name in CSV_SPECS:
            if self.has(name):
                read_checked_csv(self.folder / name)
        if self.has("results.sqlite"):
            check_sqlite(self.folder / "results.sqlite")

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
    def detainees(self) -> Table:
        """detainees.csv of a run: one row a detainee, with the hours of its pickup,
        delivery, registration, escape or release."""
        return Table.read(self._need("detainees.csv", "one row a detainee of a run"))

    @cached_property
    def sorties(self) -> list[dict[str, str]]:
        """sorties.csv rows."""
        return _read_csv(self._need("sorties.csv", "sortie log of a run"))

    @cached_property
    def events(self) -> list[dict[str, str]]:
        """events.csv rows."""
        return _read_csv(self._need("events.csv", "event log of a run"))

    @cached_property
    def staging(self) -> list[tuple[float, str, int]]:
        """staging.csv of a run: each staging airfield's count of people waiting there,
        from the start and after every change, as (hour, site, held) rows."""
        t = Table.read(self._need("staging.csv", "people waiting at staging airfields"))
        return [(float(h), site, int(n)) for h, site, n in
                zip(t.col("hour"), t.text("site"), t.col("held"), strict=True)]

    @property
    def holding_capacity(self) -> dict[str, Any]:
        """Each site's ``holding_capacity`` in the scenario (None where it sets none)."""
        return {str(s.get("id")): s.get("holding_capacity")
                for s in self.scenario.get("sites") or [] if isinstance(s, dict)}

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
        return check_fronts(path, read_json(path))

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
        data = read_json(path)
        if not isinstance(data, dict):
            raise ResultsError(f"{path}: a JSON object expected, found a {type(data).__name__}")
        for key in ("kpis", "probabilities"):
            if key in data and not isinstance(data[key], dict):
                raise ResultsError(f"{path}, {key!r}: a JSON object expected")
        return data

    @cached_property
    def compare(self) -> Any:
        """compare.json (the output of ``dtsim compare --json`` saved into the folder)."""
        path = self._need("compare.json", "save `dtsim compare --json` output there")
        return check_compare(path, read_json(path))

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


def _read_only_uri(path: Path) -> str:
    """A read-only SQLite URI that creates no -shm/-wal files beside a finished store.

    A store with a write-ahead log beside it (a sweep still running or killed)
    is opened plainly read-only so the rows in the log are seen.
    """
    wal = path.with_name(path.name + "-wal")
    return f"file:{path}?mode=ro" if wal.exists() else f"file:{path}?mode=ro&immutable=1"


def check_sqlite(path: Path) -> None:
    """Refuse a results store SQLite cannot read or that fails its integrity check."""
    try:
        con = sqlite3.connect(_read_only_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise ResultsError(f"{path}: not a readable SQLite store ({exc})") from exc
    try:
        verdict = con.execute("PRAGMA quick_check").fetchone()
        if not verdict or verdict[0] != "ok":
            raise ResultsError(f"{path}: damaged SQLite store ({verdict[0] if verdict else '?'})")
    except sqlite3.Error as exc:
        raise ResultsError(f"{path}: not a readable SQLite store ({exc})") from exc
    finally:
        con.close()


class Table:
    """A small column store: names to numpy float arrays, plus raw strings."""

    def __init__(self, columns: list[str], rows: list[dict[str, str]]) -> None:
        self.columns = columns
        self.rows = rows
        self._cache: dict[str, np.ndarray] = {}

    @classmethod
    def read(cls, path: Path) -> Table:
        """Read a CSV file with a header row (checked: see :func:`read_checked_csv`)."""
        return cls(*read_checked_csv(path))

    @classmethod
    def from_sqlite(cls, path: Path) -> Table:
        """The largest table of a SQLite file (read-only)."""
        con = sqlite3.connect(_read_only_uri(path), uri=True)
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
            raise ResultsError(f"{path}: not a readable SQLite store ({exc})") from exc
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
