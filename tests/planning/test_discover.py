"""Scenario discovery: PRIM on data with a known box, discover over a design and a store, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.experiments.store import ExperimentError
from sim.planning.discover import discover
from sim.planning.prim import choose, find_boxes, peel
from tests.exit2 import refusal_problems
from tests.tiny_scenarios import one_leg, scenario

ROOT = Path(__file__).resolve().parents[2]
A, B, C = "aircraft.h.cruise_kmh", "aircraft.h.turnaround_min", "sites.r.beds"


def tiny() -> Any:
    return scenario(one_leg(n=60, count=2, seats=10, horizon_days=10,
                            reception_kw={"beds": 5000}))


def test_prim_recovers_a_known_box() -> None:
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 10, size=(3000, 4))
    y = ((x[:, 0] > 6) & (x[:, 2] < 5)).astype(float)
    flip = rng.uniform(size=len(y)) < 0.03  # a little label noise
    y = np.where(flip, 1 - y, y)
    boxes = find_boxes(x, y)
    assert boxes, "no box found"
    b = boxes[0]
    assert b.restricted == [0, 2]
    assert b.lower[0] == pytest.approx(6, abs=0.4) and b.upper[2] == pytest.approx(5, abs=0.4)
    assert b.density > 0.9 and b.coverage > 0.75
    # coverage and density agree with a direct count
    inside = b.contains(x)
    assert b.density == pytest.approx(y[inside].mean())
    assert b.coverage == pytest.approx(y[inside].sum() / y.sum())


def test_prim_finds_no_box_where_failures_are_spread_evenly() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(1000, 3))
    y = (rng.uniform(size=1000) < 0.3).astype(float)
    assert find_boxes(x, y) == []


def test_peeling_trajectory_trades_coverage_for_density() -> None:
    rng = np.random.default_rng(2)
    x = rng.uniform(size=(1000, 2))
    y = (x[:, 0] > 0.7).astype(float)
    traj = peel(x, y, int(y.sum()), len(y))
    assert traj[0].coverage == 1.0 and traj[0].mass == 1.0
    assert traj[-1].mass >= 0.05 - 1e-9
    assert all(b.n <= a.n for a, b in zip(traj, traj[1:], strict=False))
    best = traj[choose(traj)]
    assert best.density == pytest.approx(1.0) and best.coverage > 0.9


def wall(pt: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """Day 10 when cruise < 150 and turnaround > 40, else day 5; beds do nothing."""
    if not pt:
        return {"done_day": 5.0}
    slow = pt[A] < 150 and pt[B] > 40
    return {"done_day": 10.0 if slow else 5.0}


RANGES = f"{A}: {{low: 100, high: 200}}\n{B}: {{low: 10, high: 70}}\n" \
         f"{C}: {{low: 5000, high: 9000, label: beds}}\n"


def test_discover_over_a_latin_hypercube(tmp_path: Path) -> None:
    rf = tmp_path / "ranges.yaml"
    rf.write_text(RANGES)
    res = discover(tiny(), rf, kpi="done_day", threshold=7, samples=400,
                   out=tmp_path / "out", evaluate=wall)
    d = res.to_dict()
    assert d["runs"] == 400
    box = d["boxes"][0]
    assert set(box["limits"]) == {A, B}
    assert box["limits"][A]["high"] == pytest.approx(150, abs=5)
    assert box["limits"][B]["low"] == pytest.approx(40, abs=3)
    assert box["density"] > 0.97 and box["coverage"] > 0.9
    assert f"done_day > 7 in {100 * box['density']:.0f}% of runs when {A} <= " in box["sentence"]
    assert "this box holds" in box["sentence"]
    saved = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert saved["kind"] == "discovery" and saved["boxes"][0]["words"] == box["words"]
    cases = (tmp_path / "out" / "discovery_cases.csv").read_text().splitlines()
    assert cases[0] == f"{A},{B},{C},done_day,of_interest" and len(cases) == 401
    # the same cases from the store the first call wrote: the same box, nothing run
    again = discover(tiny(), kpi="done_day", threshold=7, from_store=tmp_path / "out",
                     evaluate=wall)
    assert again.ran == 0 and again.to_dict()["boxes"][0]["limits"].keys() == {A, B}
    before = (tmp_path / "out" / "summary.json").read_bytes()
    with pytest.raises(ExperimentError, match="the folder of --from-store"):
        discover(tiny(), kpi="done_day", threshold=3, from_store=tmp_path / "out",
                 out=tmp_path / "out", evaluate=wall)
    assert (tmp_path / "out" / "summary.json").read_bytes() == before


def test_discover_refuses_bad_arguments(tmp_path: Path) -> None:
    rf = tmp_path / "ranges.yaml"
    rf.write_text(RANGES)
    out = tmp_path / "out"
    for kwargs, needle in (({}, "--kpi NAME --threshold"),
                           ({"kpi": "done_day", "threshold": 7, "deadline_day": 3},
                            "not both"),
                           ({"deadline_day": 99}, "within the horizon"),
                           ({"kpi": "nope", "threshold": 1}, "--kpi nope"),
                           ({"kpi": "done_day", "threshold": 7, "samples": 1}, "--samples"),
                           ({"kpi": "done_day", "threshold": 7, "direction": "up"},
                            "--direction up")):
        with pytest.raises(ExperimentError, match=needle.replace("-", r"\-")):
            discover(tiny(), rf, out=out, evaluate=wall, **kwargs)  # type: ignore[arg-type]
        assert not out.exists()


def dtsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(("ranges", "extra", "needle"), [
    ("fleet.ch47.cont: {low: 3, high: 9}\n", [], "ranges.yaml:1: fleet.ch47.cont: not a"),
    ("fleet.ch47.count: {low: 9, high: 3}\n", [], "ranges.yaml:1: fleet.ch47.count: low 9"),
    ("fleet.ch47.count: {low: 3, high: 9}\n", ["--kpi", "nope"], "--kpi nope"),
    ("fleet.ch47.count: {low: 3, high: 9}\n", ["--method", "fast"], "--method fast"),
])
def test_cli_sensitivity_bad_input_exits_2_and_writes_nothing(
        tmp_path: Path, ranges: str, extra: list[str], needle: str) -> None:
    rf = tmp_path / "ranges.yaml"
    rf.write_text(ranges)
    out = tmp_path / "out"
    proc = dtsim("sensitivity", "baseline", "--ranges", str(rf), "--out", str(out), *extra)
    problems, lines = refusal_problems(proc.returncode, proc.stdout, proc.stderr)
    assert not problems, problems
    assert needle in lines[0]
    assert not out.exists()


def test_cli_discover_deadline_beyond_horizon_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = dtsim("discover", "baseline", "--ranges",
                 str(ROOT / "sim" / "scenarios" / "ranges" / "baseline.yaml"),
                 "--deadline-day", "99", "--out", str(out))
    problems, lines = refusal_problems(proc.returncode, proc.stdout, proc.stderr)
    assert not problems, problems
    assert "--deadline-day 99" in lines[0]
    assert not out.exists()


def test_shipped_ranges_file_is_valid_for_the_baseline() -> None:
    import sim
    from sim.planning.ranges import load_ranges

    r = load_ranges(ROOT / "sim" / "scenarios" / "ranges" / "baseline.yaml",
                    sim.load_scenario("baseline"))
    assert 6 <= len(r.inputs) <= 8
    assert r.paths[0] == "fleet.ch47.count" and r.inputs[0].integer


def test_report_and_figures_of_planning_folders(tmp_path: Path) -> None:
    from sim.planning.sensitivity import sensitivity
    from viz import figures
    from viz.report import build_html
    from viz.results import Results

    rf = tmp_path / "ranges.yaml"
    rf.write_text(RANGES)
    sens, disc = tmp_path / "sens", tmp_path / "disc"
    sensitivity(tiny(), rf, method="morris", n=4, reps=2, kpis=["done_day"], out=sens,
                evaluate=wall)
    discover(tiny(), rf, kpi="done_day", threshold=7, samples=100, out=disc, evaluate=wall)
    for folder, kind, names in ((sens, "sensitivity", {"tornado", "output_vs_inputs"}),
                                (disc, "discovery", {"discovery"})):
        res = Results(folder)
        assert res.kind == kind
        drawn = {r.spec.name for r in figures.render(res) if r.figure is not None}
        assert drawn == names
        page = build_html(folder)
        assert all(f"{n}" in page for n in ("data:image/png",))
        assert page.count("<figure>") == len(names)
    assert "this box holds" in build_html(disc)
    assert "matters" in build_html(sens) and "beds" in build_html(sens)


def test_plot_kpi_picks_the_kpi_of_a_sensitivity_folder(tmp_path: Path) -> None:
    from sim.planning.sensitivity import sensitivity

    def two(pt: Mapping[str, Any], seed: int) -> dict[str, Any]:
        return {"first": float(pt.get(A, 0)), "second": float(pt.get(B, 0))}

    rf = tmp_path / "ranges.yaml"
    rf.write_text(RANGES)
    sens = tmp_path / "sens"
    sensitivity(tiny(), rf, n=4, reps=1, kpis=["first", "second"], out=sens, evaluate=two)
    proc = dtsim("plot", str(sens), "--kpi", "second")
    assert proc.returncode == 0, proc.stderr
    from viz.planning import _first_kpi
    from viz.results import Results

    assert _first_kpi(Results(sens, kpi="second"))[0] == "second"
    assert _first_kpi(Results(sens))[0] == "first"


def test_a_deadline_failure_is_the_shared_definition_of_success() -> None:
    """--deadline-day D --target F: a case of interest is a run that did not deliver F of
    those in custody at day 0 by day D; people lost never make a run a success."""
    from sim.planning.discover import _event

    kpis = {"delivery_days": [float(p) / 10 for p in range(1, 101)],  # p% on day p/10
            "in_custody_at_start": 100}
    ev = _event(None, None, "above", 9.0, 30, target=0.9)
    assert not ev.of_interest(kpis)  # 90% on day 9.0
    assert _event(None, None, "above", 8.9, 30, target=0.9).of_interest(kpis)
    assert _event(None, None, "above", 9.5, 30, target=1.0).of_interest(kpis)  # 100%: day 10
    lost = {"delivery_days": [*kpis["delivery_days"][:90], *([None] * 10)],
            "in_custody_at_start": 100}
    assert _event(None, None, "above", 30.0, 30, target=1.0).of_interest(lost)
    assert "90% delivered by day 9" in ev.phrase


def test_shipped_ranges_file_is_valid_for_the_unpaced_scenario() -> None:
    import sim
    from sim.planning.ranges import load_ranges

    r = load_ranges(ROOT / "sim" / "scenarios" / "ranges" / "unpaced.yaml",
                    sim.load_scenario("unpaced"))
    assert len(r.inputs) == 8
    assert r.paths[0] == "fleet.ch47.count" and r.inputs[0].integer
    assert "sites.hasakah.release.stations" in r.paths
    by_path = dict(zip(r.paths, r.inputs, strict=True))
    assert not by_path["aircraft.ch47.mission_capable_rate"].integer


def test_discover_a_deadline_over_model_runs_reads_each_runs_delivery(tmp_path: Path) -> None:
    """The runs of a design keep ``delivery_days``: with a deadline every run meets, no run
    is of interest (before, flat rows dropped it and every run counted as a miss); with an
    impossible one, every run is. The same holds for the cases read back from the store."""
    rf = tmp_path / "ranges.yaml"
    rf.write_text(f"{A}: {{low: 150, high: 200}}\n")
    out = tmp_path / "out"
    late = discover(tiny(), rf, deadline_day=9, target=0.9, samples=6, out=out, jobs=1)
    assert late.ran == 6 and late.y.sum() == 0
    cases = (out / "discovery_cases.csv").read_text().splitlines()
    assert cases[0] == f"{A},day_to_90,of_interest"
    days = [float(line.split(",")[1]) for line in cases[1:]]
    assert all(0 < d <= 9 for d in days)
    early = discover(tiny(), from_store=out, deadline_day=min(days) / 2, target=0.9)
    assert early.ran == 0 and early.y.sum() == 6
    again = discover(tiny(), from_store=out, deadline_day=9, target=0.9)
    assert again.y.sum() == 0
