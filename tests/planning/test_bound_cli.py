"""``dtsim bound`` on the command line: the bound in words or JSON, a figure, bad input refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from exit2 import refusal_problems
from tiny_scenarios import one_leg
from typer.testing import CliRunner

from sim.cli.app import app

runner = CliRunner()


def _file(tmp_path: Path, **kw: object) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(one_leg(n=100, count=2, seats=10, pads=2,
                                           prison_kw={"load_min_per_detainee": 0},
                                           reception_kw={"unload_min_per_detainee": 0},
                                           type_kw={"turnaround_min": 0}, **kw)))
    return path


def test_bound_prints_the_fraction_days_and_the_json(tmp_path: Path) -> None:
    path = _file(tmp_path)
    res = runner.invoke(app, ["bound", str(path)])
    assert res.exit_code == 0, res.output
    assert "100% delivered: no sooner than day 0.375" in res.stdout
    res = runner.invoke(app, ["bound", str(path), "--json", "--set", "aircraft.h.seats=20"])
    data = json.loads(res.stdout)
    # twice the seats: 3 rounds of 2 h, less the last return
    assert data["fraction_days"]["1"] == pytest.approx(5 / 24, abs=1e-4)
    assert data["delivered_by_day"][0] == 100


def test_bound_out_writes_the_json_and_the_figure(tmp_path: Path) -> None:
    out = tmp_path / "b"
    res = runner.invoke(app, ["bound", str(_file(tmp_path)), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "bound.json").read_text())["kind"] == "bound"
    assert (out / "bound.png").read_bytes()[:4] == b"\x89PNG"


def test_run_and_replicate_report_the_gap(tmp_path: Path) -> None:
    path = _file(tmp_path)
    res = runner.invoke(app, ["run", str(path), "--json"])
    assert "bound_gap" not in json.loads(res.stdout)  # a plain run solves no linear program
    res = runner.invoke(app, ["run", str(path), "--json", "--gap"])
    gap = json.loads(res.stdout)["bound_gap"]
    assert gap == {"simulated_day": 0.375, "bound_day": 0.375, "ratio": 1.0}
    res = runner.invoke(app, ["run", str(path)])  # on by default in text output
    assert "bound gap: 100% delivered on day 0.375, bound day 0.375 (1x)" in res.stdout
    res = runner.invoke(app, ["replicate", str(path), "-n", "2", "--jobs", "1", "--json"])
    gap = json.loads(res.stdout)["bound_gap"]
    assert gap["ratio"] == 1.0 and gap["runs"] == 2 and gap["reached"] == 2
    res = runner.invoke(app, ["replicate", str(path), "-n", "2", "--jobs", "1"])
    assert ("bound gap: 100% delivered on day 0.375 at the earliest (2 of 2 runs delivered "
            "everyone), bound day 0.375 (1x)") in res.stdout
    res = runner.invoke(app, ["replicate", str(path), "-n", "2", "--jobs", "1", "--json",
                              "--no-gap"])
    assert res.exit_code == 0 and "bound_gap" not in json.loads(res.stdout)
    res = runner.invoke(app, ["replicate", str(path), "-n", "2", "--jobs", "1", "--no-gap"])
    assert res.exit_code == 0 and "bound" not in res.stdout


@pytest.mark.parametrize("args", [
    ["bound", "no-such-scenario"],
    ["bound", "TINY", "--set", "aircraft.h.seats=many"],
    ["bound", "TINY", "--set", "nowhere.field=3"],
    ["bound", "TINY", "--step-hours", "0"],
    ["bound", "TINY", "--out", "FILE"],
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, args: list[str]) -> None:
    path = _file(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    args = [str(path) if a == "TINY" else str(blocker) if a == "FILE" else a for a in args]
    out = tmp_path / "out"
    if "--out" not in args:
        args += ["--out", str(out)]
    before = sorted(p.name for p in tmp_path.iterdir())
    res = runner.invoke(app, args)
    problems, _ = refusal_problems(res.exit_code, res.stdout, res.stderr)
    assert problems == []
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_replicate_gives_the_same_gap_wherever_the_bound_is_solved(
        tmp_path: Path, jobs: str) -> None:
    """With ``--jobs 2`` the bound is a pool worker's first task, with ``--jobs 1`` it is
    solved here after the runs (``sim.experiments.alongside``): the same gap either way."""
    res = runner.invoke(app, ["replicate", str(_file(tmp_path)), "-n", "3", "--jobs", jobs,
                              "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["bound_gap"] == {"simulated_day": 0.375, "bound_day": 0.375,
                                                   "ratio": 1.0, "runs": 3, "reached": 3}


def test_a_long_daily_table_is_condensed_on_the_terminal_only(tmp_path: Path) -> None:
    """470 daily lines were printed for a long run: the terminal shows every k-th day and
    the last (saying so), at most ``MAX_DAILY_LINES``; a short table stays whole."""
    from sim.cli.bound import MAX_DAILY_LINES, bound_lines

    total = 1000
    daily = [min(total, 2.0 * (d + 1)) for d in range(3650)]  # everyone by the end of day 499
    data = {"scenario": "long", "detainees_total": total, "horizon_days": 3650,
            "step_hours": 24.0, "fraction_days": {"0.5": 249.0, "0.9": 449.0, "1": 499.0},
            "delivered_by_day": daily}
    lines = bound_lines(data)
    rows = [x for x in lines if x.startswith("    day ")]
    assert len(rows) <= MAX_DAILY_LINES
    assert "every 20 days and day 499 (500 days; --json and --out have every day)" in lines[4]
    assert rows[0].split(":")[0].split() == ["day", "0"]
    assert rows[1].split(":")[0].split() == ["day", "20"]
    assert rows[-1] == "    day 499:      1,000  (100%)"
    short = bound_lines({**data, "delivered_by_day": daily[:20] + [float(total)]})
    assert len([x for x in short if x.startswith("    day ")]) == 21
    assert short[4] == "  delivered by the end of day (at most):"


def test_the_gap_over_replications_says_how_many_delivered_everyone() -> None:
    """The earliest replication's day alone read as if every run had delivered everyone."""
    from sim.planning.gap import gap_for, gap_line

    gap = gap_for(2.0, [None, 4.0, None, 3.0])
    assert gap == {"simulated_day": 3.0, "bound_day": 2.0, "ratio": 1.5, "runs": 4, "reached": 2}
    assert gap_line(gap) == ("bound gap: 100% delivered on day 3 at the earliest (2 of 4 runs "
                             "delivered everyone), bound day 2 (1.5x)")
    one = gap_for(2.0, [3.0])
    assert one == {"simulated_day": 3.0, "bound_day": 2.0, "ratio": 1.5}
    assert gap_line(one) == "bound gap: 100% delivered on day 3, bound day 2 (1.5x)"
