"""Writing results to disk: CSV and JSON text, and one run's folder.

A run's folder is written whole (``sim.output.folders.staged_folder``): every
file goes into a fresh hidden sibling folder that is then swapped into place,
with ``complete.json`` listing the files, so a reader sees the previous run
or this one, never a mix.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.common.vocabulary import EVENT_COLUMNS, SORTIE_COLUMNS
from sim.core.results import DETAINEE_COLUMNS, Result
from sim.output.folders import new_run_id, staged_folder

FORMAT_VERSION = 1


def _clean(v: Any) -> Any:
    """A cell as the CSV writes it: NaN empty, numpy scalars as Python numbers.

    Called for every cell (millions in a long run's tables): the plain types come
    first, by their exact type (a numpy float is a subclass of ``float`` and takes
    the general path below)."""
    kind = type(v)
    if kind is float:
        return "" if v != v else v  # NaN is the one float unequal to itself
    if kind is str or kind is int:
        return v
    if isinstance(v, float) and math.isnan(v):
        return ""
    if isinstance(v, (np.floating,)):
        return "" if np.isnan(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([_clean(v) for v in row])
    return buf.getvalue()


def json_text(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=_json_default) + "\n"


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")


def daily_csv(result: Result) -> str:
    columns = list(result.daily[0]) if result.daily else ["day", "date"]
    return csv_text(columns, ([row.get(c) for c in columns] for row in result.daily))


def sorties_csv(result: Result) -> str:
    return csv_text(SORTIE_COLUMNS, result.sorties)


def detainees_csv(result: Result) -> str:
    t = result.detainees
    site_ids = result.meta["site_ids"]
    cats = result.meta["risk_categories"]
    states = result.meta["state_names"]
    rows = zip(
        t["id"].tolist(),
        [site_ids[i] for i in t["origin"].tolist()],
        [cats[i] for i in t["category"].tolist()],
        [states[i] for i in t["state"].tolist()],
        [site_ids[i] for i in t["location"].tolist()],
        *(np.round(t[c], 4).tolist() for c in DETAINEE_COLUMNS[5:11]),
        t["hops"].tolist(),
        strict=True,
    )
    return csv_text(DETAINEE_COLUMNS, rows)


#: Columns of ``staging.csv``: from the start, each staging airfield's count of people
#: waiting there after every change (hours; several lines at one hour: the last holds).
STAGING_COLUMNS = ("hour", "site", "held")


def events_csv(result: Result) -> str:
    return csv_text(EVENT_COLUMNS, result.events)


def result_texts(result: Result) -> dict[str, str]:
    """The texts of a run's result files, by file name (``write_run`` adds the run's
    ``meta.json`` and its resolved scenario)."""
    return {
        "kpis.json": json_text(result.kpis),
        "daily.csv": daily_csv(result),
        "sorties.csv": sorties_csv(result),
        "detainees.csv": detainees_csv(result),
        "events.csv": events_csv(result),
        "status.csv": csv_text(("hour", "site", "status"), result.status_log),
        "staging.csv": csv_text(STAGING_COLUMNS, result.staging_log),
        "fronts.json": json_text(result.fronts),
    }


def write_run(result: Result, out: Path, resolved_yaml: str,
              overrides: Sequence[str] = ()) -> list[Path]:
    """Write one run's folder at ``out`` (replacing a previous run's whole); returns its files.

    ``meta.json`` records the run id (also in ``complete.json``) and the
    ``--set`` overrides applied to the scenario file; ``scenario.resolved.yaml``
    is the scenario that ran.
    """
    run_id = new_run_id()
    meta = dict(result.meta, format_version=FORMAT_VERSION, kind="run", run_id=run_id,
                overrides=list(overrides))
    files = {
        **result_texts(result),
        "meta.json": json_text(meta),
        "scenario.resolved.yaml": resolved_yaml,
    }
    with staged_folder(out, "run", run_id) as staging:
        for name, text in files.items():
            (staging / name).write_bytes(text.encode("utf-8"))
    return [out / name for name in files]
