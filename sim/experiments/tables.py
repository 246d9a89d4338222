"""Per-replication KPI tables: flattening a run's nested KPIs into one row, and storing rows.

Per-replication KPIs are kept in a compact column table (8 bytes per numeric
value) so that thousands of replications cost a few megabytes, not a list of
dicts per replication. ``flatten_kpis`` gives the column names that the
replication tables, the sweep store and the exports share.
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

NOT_FLATTENED = frozenset({"delivery_days"})
"""KPIs left out of flat rows: ``delivery_days`` (100 days a run) serves the deadline test,
which reads it from the run's KPIs before they are flattened; its summary columns are
``day_to_50``, ``day_to_90`` and ``day_to_100``."""


def flatten_kpis(kpis: Mapping[str, Any]) -> dict[str, Any]:
    """One flat row of scalars from a run's KPIs.

    Nested objects join their keys with ``:`` (``sorties:ch47``,
    ``sites:hasakah:escaped``); ``triggers_fired`` becomes one column per
    trigger, ``triggers_fired:<name>``, holding the day it first fired (empty if
    it did not); other lists become JSON text; booleans become 0/1; ``NOT_FLATTENED``
    is left out.
    """
    row: dict[str, Any] = {}

    def put(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                put(f"{prefix}:{k}", v)
        elif isinstance(value, bool):
            row[prefix] = int(value)
        elif isinstance(value, (list, tuple)):
            row[prefix] = json.dumps(value, sort_keys=True)
        elif isinstance(value, np.integer):
            row[prefix] = int(value)
        elif isinstance(value, np.floating):
            row[prefix] = float(value)
        else:
            row[prefix] = value

    for key, value in kpis.items():
        if key in NOT_FLATTENED:
            continue
        if key == "triggers_fired" and isinstance(value, list):
            for item in value:
                col = f"triggers_fired:{item.get('name')}"
                row.setdefault(col, item.get("day"))
            continue
        put(key, value)
    return row


class ColumnTable:
    """Append-only table of flat rows stored by column.

    Numeric columns are ``array('d')`` (NaN for missing) with a flag that
    restores integers on the way out; other columns are plain lists. A column
    first seen in a later row is back-filled with missing values. Memory is
    about 8 bytes per numeric cell.
    """

    def __init__(self) -> None:
        self.n = 0
        self.names: list[str] = []
        self._num: dict[str, array[float]] = {}
        self._int: dict[str, bool] = {}
        self._obj: dict[str, list[Any]] = {}

    def _add_column(self, name: str, value: Any) -> None:
        self.names.append(name)
        if _is_number(value) or value is None:
            self._num[name] = array("d", [math.nan]) * self.n
            self._int[name] = True
        else:
            self._obj[name] = [None] * self.n

    def _to_obj(self, name: str) -> None:
        col = self._num.pop(name)
        is_int = self._int.pop(name)
        self._obj[name] = [_restore(v, is_int) for v in col]

    def append(self, row: Mapping[str, Any]) -> None:
        """Add one row; columns it lacks get a missing value."""
        for name, value in row.items():
            if name not in self._num and name not in self._obj:
                self._add_column(name, value)
            if name in self._num and not (_is_number(value) or value is None):
                self._to_obj(name)
            if name in self._num:
                if isinstance(value, (float, np.floating)):
                    self._int[name] = False
                self._num[name].append(math.nan if value is None else float(value))
            else:
                self._obj[name].append(value)
        self.n += 1
        for name in self.names:
            if name in self._num:
                if len(self._num[name]) < self.n:
                    self._num[name].append(math.nan)
            elif len(self._obj[name]) < self.n:
                self._obj[name].append(None)

    def numeric_columns(self) -> list[str]:
        """Names of the numeric columns, in first-seen order."""
        return [c for c in self.names if c in self._num]

    def values(self, name: str) -> np.ndarray:
        """A numeric column as a float array (NaN for missing)."""
        if name in self._num:
            return np.frombuffer(self._num[name], dtype=float).copy()
        return np.array([_as_float(v) for v in self._obj[name]], dtype=float)

    def column(self, name: str) -> list[Any]:
        """A column as Python values (None for missing, ints restored)."""
        if name in self._num:
            is_int = self._int[name]
            return [_restore(v, is_int) for v in self._num[name]]
        return list(self._obj[name])

    def rows(self) -> Iterator[dict[str, Any]]:
        """The rows as dicts (streamed, one at a time)."""
        cols = [(name, self._num.get(name), self._int.get(name, False), self._obj.get(name))
                for name in self.names]
        for i in range(self.n):
            row: dict[str, Any] = {}
            for name, num, is_int, obj in cols:
                row[name] = _restore(num[i], is_int) if num is not None else obj[i]  # type: ignore[index]
            yield row


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _as_float(v: Any) -> float:
    return float(v) if _is_number(v) else math.nan


def _restore(v: float, is_int: bool) -> int | float | None:
    if math.isnan(v):
        return None
    return int(v) if is_int else v
