"""What a run folder and a report say is what the run computed.

``events.csv``, ``status.csv`` and ``fronts.json`` are compared row by row with the
``Result`` of the same scenario and seed; an internal error exits 1 (a traceback only
with ``--debug``); the reports of sweep and compare folders show the numbers of
their summaries.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from tiny_scenarios import aircraft_type, leg, prison, reception, scenario
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.common.vocabulary import EVENT_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
TOY = str(ROOT / "tests" / "data" / "toy_experiment.yaml")
runner = CliRunner()


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
    return result.output


def _front_case() -> dict[str, Any]:
    """Two prisons; a front passes ``p`` (threatened, then overrun) while a helicopter works."""
    return {
        "name": "outputs", "start": "2026-01-01", "horizon_days": 2,
        "sites": [prison("p", 1.0, 50), prison("q", -1.0, 10), reception("r", 0.0)],
        "legs": [leg("p", "r"), leg("q", "r")],
        "aircraft": {"h": aircraft_type(seats=10)},
        "fleet": [{"type": "h", "count": 1, "base": "r"}],
        "escalation": {"fronts": [{
            "name": "f", "start_day": 0, "path": [[1.0, 40.5], [1.0, 39.5]],
            "speed_km_per_day": 2400.0, "threat_radius_km": 10.0, "overrun_radius_km": 5.0,
        }]},
    }


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, sim.results.Result]:
    tmp = tmp_path_factory.mktemp("outputs")
    data = _front_case()
    path = tmp / "outputs.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp / "run"
    _ok(["run", str(path), "--seed", "3", "--out", str(out), "--no-plots"])
    return out, sim.run(scenario(data), 3)


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as f:
        table = list(csv.reader(f))
    return table[0], table[1:]


def test_events_csv_is_the_event_log(run_folder: tuple[Path, sim.results.Result]) -> None:
    out, res = run_folder
    header, rows = _rows(out / "events.csv")
    assert header == list(EVENT_COLUMNS) == ["hour", "event", "who", "where", "n"]
    assert len(rows) == len(res.events) > 10
    for row, e in zip(rows, res.events, strict=True):
        assert (float(row[0]), row[1], row[2], row[3], int(row[4])) == (
            e.time, str(e.kind), e.subject, e.site, e.n)
    kinds = {row[1] for row in rows}
    assert {"dispatch", "load", "unload", "abort", "threatened", "overrun"} <= kinds


def test_status_csv_is_the_status_log(run_folder: tuple[Path, sim.results.Result]) -> None:
    out, res = run_folder
    header, rows = _rows(out / "status.csv")
    assert header == ["hour", "site", "status"]
    assert [(float(h), s, st) for h, s, st in rows] == [tuple(c) for c in res.status_log]
    assert [(s, st) for _, s, st in rows] == [("p", "threatened"), ("p", "overrun")]
    threatened, overrun = (float(r[0]) for r in rows)
    # 100 km/h from 55.6 km away: the 10 km and 5 km radii ~0.05 h apart
    assert 0 < threatened < overrun < 1.0
    assert overrun - threatened == pytest.approx(0.05, abs=1e-3)


def test_fronts_json_is_the_fronts_track(run_folder: tuple[Path, sim.results.Result]) -> None:
    out, res = run_folder
    fronts = json.loads((out / "fronts.json").read_text())
    assert fronts == json.loads(json.dumps(res.fronts))
    assert len(fronts) == 1 and fronts[0]


# ----- internal errors --------------------------------------------------------------
def _boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("boom in the model")


@pytest.mark.parametrize("debug", [False, True])
def test_internal_error_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                debug: bool) -> None:
    monkeypatch.setattr(sim, "run", _boom)
    out = tmp_path / "out"
    args = [*(["--debug"] if debug else []), "run", TOY, "--out", str(out), "--no-plots"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "internal error: RuntimeError: boom in the model" in result.stderr
    assert ("Traceback (most recent call last)" in result.stderr) is debug
    if debug:
        assert "_boom" in result.stderr  # the traceback reaches the function that raised
    else:
        assert "run with --debug" in result.stderr
    assert not out.exists()


# ----- reports of sweep and compare folders ----------------------------------------
def _table_rows(page: str, anchor: str) -> list[list[str]]:
    """Body rows (cell texts) of the first table after ``anchor`` in the page."""
    body = re.search(r"<tbody>(.*?)</tbody>", page[page.index(anchor):], flags=re.S)
    assert body, anchor
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r,
                                                                 flags=re.S)]
        for r in re.findall(r"<tr>(.*?)</tr>", body.group(1), flags=re.S)
    ]


def _numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]


def test_sweep_report_shows_the_summary(tmp_path: Path) -> None:
    """The toy's road of d km at 50 km/h: completion 1 + U/24 days at 1,200 km, 0.5 + U/24
    at 600 km. Common random numbers give each point the same U draws, so the two means
    differ by exactly half a day, and the report's rows show summary.csv's numbers."""
    out = tmp_path / "sweep"
    _ok(["sweep", TOY, "--grid", "legs.0.distance_km=600,1200", "-n", "4", "--jobs", "1",
         "--out", str(out)])
    _ok(["report", str(out)])
    with (out / "summary.csv").open() as f:
        summary = list(csv.DictReader(f))
    means = [float(r["day_to_100_mean"]) for r in summary]
    assert means[1] - means[0] == pytest.approx(0.5, abs=1e-9)
    rows = _table_rows((out / "report.html").read_text(), "id='kpis'")
    assert [r[0] for r in rows] == ["600", "1,200"]
    for row, point in zip(rows, summary, strict=True):
        cell = next(c for c in row if "(" in c and "to" in c)  # the day all were delivered
        shown = _numbers(cell)
        expected = [float(point[k]) for k in ("day_to_100_mean", "day_to_100_ci_low",
                                              "day_to_100_ci_high")]
        assert shown == pytest.approx(expected, abs=0.006), (cell, expected)


def test_compare_report_shows_the_comparison(tmp_path: Path) -> None:
    """Doubling the buses halves the fleet utilisation; the row shows compare.json's numbers."""
    folder = tmp_path / "cmp"
    folder.mkdir()
    text = _ok(["compare", TOY, TOY, "-n", "6", "--jobs", "1", "--json",
                "--set-b", "fleet.0.count=2"])
    (folder / "compare.json").write_text(text)
    stats = json.loads(text)["kpis"]["fleet_utilization"]
    assert stats["mean_b"] == pytest.approx(stats["mean_a"] / 2)
    _ok(["report", str(folder)])
    rows = _table_rows((folder / "report.html").read_text(), "Key results")
    (row,) = [r for r in rows if r[0] == "fleet_utilization"]
    shown = [x for c in row[1:] for x in _numbers(c)]
    expected = [stats[k] for k in ("mean_a", "mean_b", "mean_diff", "ci_low", "ci_high",
                                   "unpaired_ci_low", "unpaired_ci_high", "variance_ratio")]
    assert shown == pytest.approx(expected, rel=1e-3)
