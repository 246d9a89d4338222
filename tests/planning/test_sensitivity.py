"""Sensitivity: the ranges file, Morris and Sobol on known functions, the noise rule, resume.

An injected evaluator stands in for the model where the answer must be known
exactly; the real model runs on a tiny scenario where the ranking is plain.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.experiments.store import ExperimentError
from sim.planning.ranges import load_ranges
from sim.planning.sensitivity import _noise, describe, morris_effects, sensitivity
from sim.scenario.reading import ScenarioError
from tests.tiny_scenarios import one_leg, scenario

A, B, C = "aircraft.h.cruise_kmh", "aircraft.h.turnaround_min", "sites.r.beds"


def tiny() -> Any:
    return scenario(one_leg(n=60, count=2, seats=10, horizon_days=10,
                            reception_kw={"beds": 5000}))


def ranges_file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "ranges.yaml"
    p.write_text(text)
    return p


ANALYTIC = f"""\
{A}: {{low: 100, high: 200}}
{B}: {{low: 10, high: 70}}
{C}: {{low: 5000, high: 9000}}
"""


def linear(pt: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """y = 10 a + 3 b^2 (a, b the first two inputs on [0, 1]); the third does nothing."""
    if not pt:
        return {"y": 0.0}
    a = (pt[A] - 100) / 100
    b = (pt[B] - 10) / 60
    return {"y": 10 * a + 3 * b ** 2}


def test_morris_ranks_an_analytic_function(tmp_path: Path) -> None:
    res = sensitivity(tiny(), ranges_file(tmp_path, ANALYTIC), method="morris", n=12, reps=2,
                      kpis=["y"], out=tmp_path / "out", evaluate=linear)
    rows = {r["path"]: r for r in res.kpis["y"]["indices"]}
    assert [r["path"] for r in res.kpis["y"]["indices"]] == [A, B, C]
    assert rows[A]["mu_star"] == pytest.approx(10.0)  # linear: every effect is 10
    assert rows[A]["sigma"] == pytest.approx(0.0, abs=1e-9)
    assert 1.0 < rows[B]["mu_star"] < 5.0 and rows[B]["sigma"] > 0  # quadratic: effects vary
    assert rows[C]["mu_star"] == 0.0 and rows[C]["real"] is False
    assert rows[A]["real"] and rows[B]["real"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["kind"] == "sensitivity" and summary["runs"] == 12 * 4 * 2


def test_sobol_on_an_additive_function(tmp_path: Path) -> None:
    def additive(pt: Mapping[str, Any], seed: int) -> dict[str, Any]:
        if not pt:
            return {"y": 0.0}
        return {"y": 4 * (pt[A] - 100) / 100 + 1 * (pt[B] - 10) / 60}

    res = sensitivity(tiny(), ranges_file(tmp_path, ANALYTIC), method="sobol", n=256, reps=1,
                      kpis=["y"], out=tmp_path / "out", evaluate=additive)
    rows = {r["path"]: r for r in res.kpis["y"]["indices"]}
    # uniform inputs, y = 4a + b: variances 16/12 and 1/12, so S1 = ST = 16/17 and 1/17
    assert rows[A]["ST"] == pytest.approx(16 / 17, abs=0.05)
    assert rows[B]["ST"] == pytest.approx(1 / 17, abs=0.03)
    assert rows[A]["S1_ci_low"] <= rows[A]["S1"] <= rows[A]["S1_ci_high"]
    assert abs(rows[C]["ST"]) < 0.01
    assert res.kpis["y"]["noise"]["run_noise_share"] is None  # one run a point


def test_noise_share_and_flags() -> None:
    rng = np.random.default_rng(3)
    means = np.repeat(np.array([[0.0], [10.0]]), 50, axis=0)
    y = means + rng.normal(0, 1.0, size=(100, 4))
    noise = _noise(y)
    # between-point variance ~25, within 1: single runs are ~1/26 noise
    assert noise["run_noise_share"] == pytest.approx(1 / 26, rel=0.25)
    assert noise["mean_noise_share"] == pytest.approx(0.25 / 25.25, rel=0.3)
    assert _noise(y[:, :1])["run_noise_share"] is None


def test_noise_of_a_kpi_that_never_varies_says_so() -> None:
    y = np.full((12, 3), 1.0)
    noise = _noise(y)
    assert noise["constant"] == 1.0
    assert _noise(y[:, :1])["constant"] == 1.0  # one run a point too
    y[5, 2] = 0.999
    assert _noise(y)["constant"] is None
    assert _noise(np.full((4, 2), np.nan))["constant"] is None  # no value is not a value


def test_a_kpi_the_same_in_every_run_is_reported_as_such(tmp_path: Path) -> None:
    # Everyone delivered in every run: no input moves the KPI, and none of its (nil)
    # variance is replication noise; the lines say that instead of "100% noise"
    def everyone(pt: Mapping[str, Any], seed: int) -> dict[str, Any]:
        return {"y": 1.0}

    res = sensitivity(tiny(), ranges_file(tmp_path, ANALYTIC), method="morris", n=4, reps=2,
                      kpis=["y"], out=tmp_path / "out", evaluate=everyone)
    summary = res.to_dict()
    assert summary["results"]["y"]["noise"]["constant"] == 1.0
    lines = describe(summary)
    assert lines == [line for line in lines if line.startswith("y: 1 in every run")]
    assert len(lines) == 1 and "--kpi" in lines[0]
    from viz.planning import tornado
    from viz.results import Results, Skip

    (tmp_path / "out" / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(Skip, match="y was 1 in every run"):
        tornado(Results(tmp_path / "out", kind="sensitivity"))


def test_morris_flags_an_input_whose_effect_is_only_noise(tmp_path: Path) -> None:
    def noisy(pt: Mapping[str, Any], seed: int) -> dict[str, Any]:
        if not pt:
            return {"y": 0.0}
        # noise not common to the points: a different stream for every (point, seed)
        key = int(pt[A] * 1000 + pt[B] * 7 + pt[C]) + seed
        e = np.random.default_rng(key).normal(0, 0.5)
        return {"y": 10 * (pt[A] - 100) / 100 + e}

    res = sensitivity(tiny(), ranges_file(tmp_path, ANALYTIC), method="morris", n=20, reps=4,
                      kpis=["y"], out=tmp_path / "out", evaluate=noisy)
    rows = {r["path"]: r for r in res.kpis["y"]["indices"]}
    assert rows[A]["real"] is True
    assert rows[B]["real"] is False and rows[C]["real"] is False
    assert rows[B]["mu_star"] > 0  # noise alone gives B and C effects ...
    assert rows[B]["mu_star"] <= rows[B]["noise_floor"]  # ... no larger than the floor
    lines = describe(res.to_dict())
    assert any("not distinguishable from replication noise" in x and B in x for x in lines)


def test_morris_effects_per_replication_match_the_mean() -> None:
    x = np.array([[0, 0], [2 / 3, 0], [2 / 3, 2 / 3]])
    y = np.array([[1.0, 3.0], [3.0, 5.0], [2.0, 2.0]])
    ee = morris_effects(x, y, 2)
    assert ee.shape == (1, 2, 2)
    assert ee[0, 0].tolist() == pytest.approx([3.0, 3.0])
    assert ee[0, 1].tolist() == pytest.approx([-1.5, -4.5])


def test_morris_on_a_tiny_real_scenario(tmp_path: Path) -> None:
    # completion needs 6 round trips of 2 h flying; turnaround 10..70 min matters, a fleet
    # of 1..3 matters most, the beds (always enough) do not
    text = f"fleet.h.count: {{low: 1, high: 3}}\n{B}: {{low: 10, high: 70}}\n{C}: " \
           "{low: 5000, high: 9000}\n"
    res = sensitivity(tiny(), ranges_file(tmp_path, text), method="morris", n=4, reps=2,
                      kpis=["prisons_cleared_day"], out=tmp_path / "out", jobs=1)
    order = [r["path"] for r in res.kpis["prisons_cleared_day"]["indices"]]
    assert order[0] == "fleet.h.count"
    rows = {r["path"]: r for r in res.kpis["prisons_cleared_day"]["indices"]}
    assert rows[C]["mu_star"] == 0.0 and rows[C]["real"] is False
    assert rows[B]["mu_star"] > 0


def test_an_interrupted_run_resumes_to_the_same_result(tmp_path: Path) -> None:
    calls: list[int] = []

    def counted(pt: Mapping[str, Any], seed: int) -> dict[str, Any]:
        calls.append(seed)
        if len(calls) == 15:
            raise KeyboardInterrupt  # killed part-way: what ran is stored
        return linear(pt, seed)

    rf = ranges_file(tmp_path, ANALYTIC)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sensitivity(tiny(), rf, method="morris", n=5, reps=2, kpis=["y"], out=out,
                    evaluate=counted)
    stored = sqlite3.connect(out / "results.sqlite").execute(
        "SELECT COUNT(*) FROM runs").fetchone()[0]
    assert stored == 13  # the first call checks the KPI name; the 15th was interrupted
    again = sensitivity(tiny(), rf, method="morris", n=5, reps=2, kpis=["y"], out=out,
                        evaluate=linear)
    assert again.skipped == 13 and again.ran == 5 * 4 * 2 - 13
    fresh = sensitivity(tiny(), rf, method="morris", n=5, reps=2, kpis=["y"],
                        out=tmp_path / "fresh", evaluate=linear)
    assert again.kpis == fresh.kpis


@pytest.mark.parametrize(("text", "needle"), [
    ("fleet.h.cont: {low: 1, high: 3}\n", "ranges.yaml:1: fleet.h.cont: not a settable"),
    ("fleet.h.count: {low: 3, high: 1}\n", "ranges.yaml:1: fleet.h.count: low 3 is not below"),
    (f"{A}: {{low: 1, high: 3}}\n{B}: {{low: 1}}\n", "ranges.yaml:2: " + B + ": high is missing"),
    (f"{B}: {{dist: triangular, low: 1, mode: 9, high: 3}}\n", "mode 9 is outside"),
    (f"{B}: {{dist: gamma, low: 1, high: 3}}\n", "dist 'gamma'"),
    ("fleet.h.count: {low: 1.5, high: 3}\n", "whole-number input"),
    ("fleet.h.count: {low: 0, high: 3}\n", "the scenario refuses 0"),
    ("fleet.h: {low: 1, high: 3}\n", "is a mapping, not a number"),
    ("- 1\n", "ranges.yaml:1: expected a mapping"),
])
def test_bad_ranges_are_refused_with_file_line_and_field(tmp_path: Path, text: str,
                                                         needle: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        load_ranges(ranges_file(tmp_path, text), tiny())
    assert needle in exc.value.problems[0]


def test_bad_arguments_write_nothing(tmp_path: Path) -> None:
    rf = ranges_file(tmp_path, ANALYTIC)
    out = tmp_path / "out"
    for kwargs, needle in (({"method": "fast"}, "--method fast"),
                           ({"method": "sobol", "n": 10}, "power of two"),
                           ({"reps": 0}, "--reps"),
                           ({"kpis": ["nope"]}, "--kpi nope")):
        with pytest.raises(ExperimentError, match=needle.replace("-", r"\-")):
            sensitivity(tiny(), rf, out=out, evaluate=linear,
                        **{"kpis": ["y"], **kwargs})  # type: ignore[arg-type]
        assert not out.exists()


def test_a_renamed_kpi_is_refused_with_its_new_name() -> None:
    """``completion_day`` became ``prisons_cleared_day``: the error names it (a guess by
    spelling offered ``registration_complete_day``)."""
    from sim.planning.runs import check_kpi_names

    sample = {"prisons_cleared_day": 24.1, "registration_complete_day": 25.0, "day_to_100": None}
    with pytest.raises(ExperimentError, match="renamed prisons_cleared_day"):
        check_kpi_names(["completion_day"], sample)
    assert check_kpi_names(["prisons_cleared_day", "day_to_100"], sample) == \
        ["prisons_cleared_day", "day_to_100"]


def test_triangular_and_normal_inputs_map_quantiles_into_their_range(tmp_path: Path) -> None:
    text = (f"{A}: {{dist: triangular, low: 100, mode: 120, high: 200}}\n"
            f"{B}: {{dist: normal, mean: 40, sd: 10, low: 10, high: 70}}\n")
    r = load_ranges(ranges_file(tmp_path, text), tiny())
    tri, nor = r.inputs
    u = np.linspace(0, 1, 101)
    assert tri.from_unit(u)[[0, -1]].tolist() == [100.0, 200.0]
    assert tri.value(0.2) == pytest.approx(120.0)  # the mode sits at F = 20/100
    assert nor.value(0.5) == pytest.approx(40.0)
    assert np.all(np.diff(nor.from_unit(u)) >= 0)


def _count(store: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_cli_sensitivity_survives_sigkill_and_resumes_to_the_same_indices(
        tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    import yaml

    root = Path(__file__).resolve().parents[2]
    sc = tmp_path / "tiny.yaml"
    sc.write_text(yaml.safe_dump(one_leg(n=60, count=2, seats=10, horizon_days=10,
                                         reception_kw={"beds": 5000})))
    rf = ranges_file(tmp_path, f"fleet.h.count: {{low: 1, high: 3}}\n{B}: {{low: 10, high: 70}}\n")
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    args = [sys.executable, "-m", "sim", "sensitivity", str(sc), "--ranges", str(rf), "-n", "6",
            "--reps", "3", "--json"]
    proc = subprocess.Popen([*args, "--jobs", "2", "--out", str(killed)], cwd=root,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    store = killed / "results.sqlite"
    deadline = time.time() + 120
    while _count(store) < 3 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = _count(store)
    assert partial >= 3
    done = subprocess.run([*args, "--jobs", "2", "--out", str(killed)], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    resumed = json.loads(done.stdout)
    assert resumed["skipped"] == partial and resumed["ran"] > 0  # killed part-way
    fresh = subprocess.run([*args, "--jobs", "1", "--out", str(clean)], cwd=root,
                           capture_output=True, text=True, timeout=300, check=True)
    assert resumed["results"] == json.loads(fresh.stdout)["results"]


def test_without_salib_the_analyses_say_which_extra_to_install(monkeypatch: Any) -> None:
    """SALib is an optional extra: without it, sensitivity and discover refuse with a
    message naming the extra (the CLI exits 2), before any run."""
    import sys

    from sim.planning.runs import PlanningError, require_salib

    monkeypatch.setitem(sys.modules, "SALib", None)
    monkeypatch.setitem(sys.modules, "SALib.sample", None)
    with pytest.raises(PlanningError, match=r"dtsim\[plan\]"):
        require_salib()


def test_whole_number_inputs_give_each_value_an_equal_share(tmp_path: Path) -> None:
    """Uniform quantiles give each of low..high the same share (rounding low + u (high - low)
    gave 1 and 3 pads a quarter each and 2 pads half), and both ends are reachable, by
    Morris levels and by a Latin hypercube as discover draws it."""
    from SALib.sample import latin

    from sim.planning.sensitivity import design

    r = load_ranges(ranges_file(tmp_path, "sites.p.pads: {low: 1, high: 3}\n"
                                          "fleet.h.count: {low: 3, high: 9}\n"), tiny())
    pads, fleet = r.inputs
    assert pads.integer and fleet.integer
    by_index = load_ranges(ranges_file(tmp_path, "fleet.0.count: {low: 3, high: 10}\n"), tiny())
    assert by_index.inputs[0].integer  # a fleet entry named by its index is a count too
    u = (np.arange(30_000) + 0.5) / 30_000
    for x, values in ((pads, [1, 2, 3]), (fleet, list(range(3, 10)))):
        got = x.from_unit(u)
        shares = [float(np.mean(got == v)) for v in values]
        assert shares == pytest.approx([1 / len(values)] * len(values), abs=1e-3)
        assert set(got.tolist()) == set(values)
        assert x.value(0.0) == values[0] and x.value(1.0) == values[-1]
    # Morris levels 0, 1/3, 2/3, 1 reach both ends
    assert [pads.value(k / 3) for k in range(4)] == [1, 2, 3, 3]
    x = design(r, "morris", 8, seed=1)
    assert {pads.value(float(v)) for v in x[:, 0]} >= {1, 3}
    # discover's 200 Latin hypercube cases: about 67 of each, not 50 / 100 / 50
    lhs = np.asarray(latin.sample(r.salib_problem(), 200, seed=1))
    counts = [sum(1 for row in lhs if r.point(row)["sites.p.pads"] == v) for v in (1, 2, 3)]
    assert all(abs(c - 200 / 3) <= 2 for c in counts), counts  # a stratum spans a cell edge


def test_every_problem_of_a_ranges_file_is_one_line(tmp_path: Path) -> None:
    """An unknown path, a value the scenario refuses and low >= high in one file: all three
    are reported, in file order (before, only the low >= high line was)."""
    text = ("fleet.h.cont: {low: 1, high: 3}\n"
            "fleet.h.count: {low: 0, high: 3}\n"
            f"{B}: {{low: 70, high: 10}}\n")
    with pytest.raises(ScenarioError) as exc:
        load_ranges(ranges_file(tmp_path, text), tiny())
    problems = exc.value.problems
    assert len(problems) == 3, problems
    assert problems[0].startswith(f"{tmp_path / 'ranges.yaml'}:1: fleet.h.cont: not a settable")
    assert problems[1].startswith(f"{tmp_path / 'ranges.yaml'}:2: fleet.h.count: the scenario "
                                  "refuses 0")
    assert problems[2] == f"{tmp_path / 'ranges.yaml'}:3: {B}: low 70 is not below high 10"


def test_a_bad_range_on_an_unknown_path_reports_both(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as exc:
        load_ranges(ranges_file(tmp_path, "fleet.h.cont: {low: 3, high: 1}\n"), tiny())
    assert [p.split(": ", 2)[2][:12] for p in exc.value.problems] == ["low 3 is not", "not a settab"]


def test_cli_sensitivity_lists_every_problem_of_a_ranges_file_and_exits_2(
        tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    rf = ranges_file(tmp_path, "fleet.ch47.cont: {low: 3, high: 9}\n"
                               "fleet.ch47.count: {low: 0, high: 9}\n"
                               "aircraft.ch47.turnaround_min: {low: 90, high: 30}\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "sim", "sensitivity", "baseline", "--ranges",
                           str(rf), "--out", str(out)], cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and not proc.stdout.strip()
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert [x.split(": ", 2)[0:2] for x in lines] == [
        [f"{rf}:1", "fleet.ch47.cont"], [f"{rf}:2", "fleet.ch47.count"],
        [f"{rf}:3", "aircraft.ch47.turnaround_min"]]
    assert "refuses 0" in lines[1] and "low 90 is not below high 30" in lines[2]
    assert not out.exists()


def test_an_input_that_never_moves_the_kpi_reads_no_effect(tmp_path: Path) -> None:
    """An input the KPI ignores altogether (mu* exactly 0, noise 0) reads "no effect",
    not "noise" (which said its effect was hidden by a noise that was not there)."""
    def only_a(pt: Mapping[str, Any], seed: int) -> dict[str, Any]:
        return {"y": 0.0 if not pt else 10 * (pt[A] - 100) / 100}

    res = sensitivity(tiny(), ranges_file(tmp_path, ANALYTIC), method="morris", n=10, reps=2,
                      kpis=["y"], out=tmp_path / "out", evaluate=only_a)
    rows = {r["path"]: r for r in res.kpis["y"]["indices"]}
    assert rows[A]["verdict"] == "matters"
    assert rows[B]["mu_star"] == 0 and rows[B]["verdict"] == "no effect"
    assert rows[C]["verdict"] == "no effect"
    lines = describe(res.to_dict())
    assert not any("not distinguishable" in x for x in lines)
    assert any(x.startswith("y: unchanged by every step of the design in:") and B in x
               for x in lines)
