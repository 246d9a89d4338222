"""Experiments: statistics, seeds, executors, comparisons, sweeps, the store, bad input.

The toy scenario (tests/data/toy_experiment.yaml) has a completion day that is
uniform on 1..3 days (mean 2.0) and a transfer time of exactly 24 hours, so
interval estimates can be checked against known values.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.common.stats import proportion, summarize, t_cdf, t_quantile
from sim.experiments.replication import (
    compare,
    load_design,
    parse_grid,
    plan_points,
    replicate,
    replication_seed,
    replication_seeds,
    split_values,
)
from sim.experiments.sweeps import sweep
from sim.experiments.tables import ColumnTable, flatten_kpis
from sim.scenario.loader import with_overrides

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "tests" / "data" / "toy_experiment.yaml"
BASELINE = ROOT / "scenarios" / "baseline.yaml"
DTSIM = [sys.executable, "-m", "sim"]
runner = CliRunner()


@pytest.fixture(scope="module")
def toy() -> Any:
    return sim.load_scenario(TOY)


@pytest.fixture(scope="module")
def baseline() -> Any:
    return sim.load_scenario(BASELINE)


def _no_wall(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "wall_seconds"} for r in rows]


def _cli(*args: object) -> Any:
    return runner.invoke(app, [str(a) for a in args])


# ----- Student t and summaries --------------------------------------------------------------

# Two-sided 95% (p = 0.975), 90% (0.95) and 99% (0.995) critical values from standard tables.
T_TABLE = [
    (0.975, 1, 12.706204736), (0.975, 2, 4.302652730), (0.975, 3, 3.182446305),
    (0.975, 4, 2.776445105), (0.975, 5, 2.570581836), (0.975, 9, 2.262157163),
    (0.975, 10, 2.228138852), (0.975, 19, 2.093024054), (0.975, 30, 2.042272456),
    (0.975, 100, 1.983971519), (0.975, 1000, 1.962339081), (0.95, 1, 6.313751515),
    (0.95, 5, 2.015048373), (0.95, 20, 1.724718243), (0.995, 2, 9.924843201),
    (0.995, 5, 4.032142984), (0.995, 60, 2.660283029), (0.9995, 3, 12.92397864),
]


@pytest.mark.parametrize(("p", "df", "expected"), T_TABLE)
def test_t_quantile_matches_tables(p: float, df: int, expected: float) -> None:
    assert t_quantile(p, df) == pytest.approx(expected, abs=2e-8)
    assert t_quantile(1 - p, df) == pytest.approx(-expected, abs=2e-8)


def test_t_quantile_limits_and_fractional_df() -> None:
    assert t_quantile(0.975, math.inf) == pytest.approx(1.959963985, abs=1e-9)
    assert t_quantile(0.5, 7) == 0.0
    for df in (1.5, 2.5, 7.3, 55.5):
        for p in (0.6, 0.9, 0.975, 0.999):
            assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-11)
    with pytest.raises(ValueError):
        t_quantile(1.0, 3)
    with pytest.raises(ValueError):
        t_quantile(0.9, 0)


def test_summarize_and_proportion() -> None:
    s = summarize([1.0, 2.0, 3.0, None, 4.0])
    assert (s["n"], s["n_missing"], s["mean"]) == (4, 1, 2.5)
    hw = t_quantile(0.975, 3) * np.std([1, 2, 3, 4], ddof=1) / 2
    assert s["ci_low"] == pytest.approx(2.5 - hw) and s["ci_high"] == pytest.approx(2.5 + hw)
    assert summarize([5.0])["ci_low"] is None
    assert summarize([None, None])["mean"] is None
    c = summarize([24.0] * 5)
    assert c["ci_low"] == c["ci_high"] == 24.0
    w = proportion(3, 10)
    assert w["ci_low"] == pytest.approx(0.1078, abs=1e-4)
    assert w["ci_high"] == pytest.approx(0.6032, abs=1e-4)


def test_flatten_and_column_table() -> None:
    flat = flatten_kpis({"a": 1, "sorties": {"ch47": 3}, "sites": {"x": {"escaped": 2}},
                         "triggers_fired": [{"name": "t1", "day": 2.5}], "done": True})
    assert flat == {"a": 1, "sorties:ch47": 3, "sites:x:escaped": 2, "triggers_fired:t1": 2.5,
                    "done": 1}
    t = ColumnTable()
    t.append({"a": 1, "b": None})
    t.append({"a": 2, "c": "x", "b": 1.5})
    assert list(t.rows()) == [{"a": 1, "b": None, "c": None}, {"a": 2, "b": 1.5, "c": "x"}]
    assert t.numeric_columns() == ["a", "b"]


# ----- seeds -----------------------------------------------------------------------------------


def test_replication_seeds_are_plain_ints_and_reproduce_runs(toy: Any) -> None:
    seeds = replication_seeds(11, 50)
    assert seeds[:10] == replication_seeds(11, 10)  # independent of n and of the split
    assert len(set(seeds)) == 50 and all(isinstance(s, int) and 0 <= s < 2**53 for s in seeds)
    assert seeds[3] == replication_seed(11, 3) != replication_seed(12, 3)
    res = replicate(toy, 4, seed=11, jobs=1)
    row = res.to_records()[2]
    assert row["seed"] == seeds[2]
    assert sim.run(toy, seeds[2]).kpis["prisons_cleared_day"] == row["prisons_cleared_day"]


# ----- replications ----------------------------------------------------------------------------


def test_ci_coverage_on_toy(toy: Any) -> None:
    """About 95% of 95% intervals contain the known mean (2.0 days), within binomial noise."""
    batches, hits = 300, 0
    for b in range(batches):
        res = replicate(toy, 5, seed=1000 + b, jobs=1)
        st = res.kpis["prisons_cleared_day"]
        hits += st["ci_low"] <= 2.0 <= st["ci_high"]
        assert res.kpis["mean_transfer_hours"]["ci_low"] == 24.0
    coverage = hits / batches
    sd = math.sqrt(0.95 * 0.05 / batches)
    assert abs(coverage - 0.95) < 3.5 * sd, coverage


def test_large_run_estimates_known_values(toy: Any) -> None:
    res = replicate(toy, 400, seed=5, jobs=1, deadline_day=2.5)
    cd = res.kpis["prisons_cleared_day"]
    assert cd["ci_low"] < 2.0 < cd["ci_high"]
    assert cd["sd"] == pytest.approx(1 / math.sqrt(3), rel=0.1)
    assert 1.0 <= cd["min"] and cd["max"] <= 3.0
    pr = res.probabilities["complete_by_deadline"]  # P(U(1, 3) <= 2.5) = 0.75
    assert pr["ci_low"] < 0.75 < pr["ci_high"]
    assert res.probabilities["any_escape"]["p"] == 0.0
    assert res.probabilities["complete_within_horizon"]["p"] == 1.0
    band = {r["day"]: r for r in res.bands}
    assert band[0]["delivered_cum_mean"] == 0 and band[3]["delivered_cum_p5"] == 60
    assert 0 < band[1]["delivered_cum_mean"] < 60 and band[1]["delivered_cum_p95"] == 60


def test_identical_kpis_for_jobs_1_jobs_2_and_dask(baseline: Any, toy: Any,
                                                   tmp_path: Path) -> None:
    one = _no_wall(replicate(baseline, 4, seed=3, jobs=1).to_records())
    two = _no_wall(replicate(baseline, 4, seed=3, jobs=2).to_records())
    assert one == two
    grid = {"legs.road.distance_km": [600, 1200], "fleet.bus.count": [1, 2]}
    serial = _no_wall(sweep(toy, grid=grid, n=3, out=tmp_path / "s1", jobs=1).to_records())
    pytest.importorskip("distributed")
    dask = _no_wall(replicate(baseline, 4, seed=3, jobs=2, dask="local").to_records())
    assert one == dask
    on_dask = sweep(toy, grid=grid, n=3, out=tmp_path / "s2", jobs=2, dask="local")
    assert _no_wall(on_dask.to_records()) == serial


def test_replicate_cli_out_and_json(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    r = _cli("replicate", TOY, "-n", "7", "--jobs", "1", "--json", "--out", out,
             "--deadline-day", "2")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["n"] == 7 and doc["kpis"]["prisons_cleared_day"]["n"] == 7
    assert "complete_by_deadline" in doc["probabilities"]
    lines = (out / "replications.csv").read_text().splitlines()
    assert len(lines) == 8 and "sorties:bus" in lines[0].split(",")
    assert len((out / "daily_bands.csv").read_text().splitlines()) == 5 + 1
    assert json.loads((out / "summary.json").read_text())["kpis"] == doc["kpis"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left
    pretty = _cli("replicate", TOY, "-n", "3", "--jobs", "1")
    assert pretty.exit_code == 0 and "prisons_cleared_day" in pretty.stdout


def test_to_frame(toy: Any) -> None:
    pytest.importorskip("pandas")
    df = replicate(toy, 3, jobs=1).to_frame()
    assert list(df["replication"]) == [0, 1, 2] and "prisons_cleared_day" in df.columns


# ----- paired comparisons -------------------------------------------------------------------------


def test_compare_common_random_numbers_beat_unpaired(toy: Any) -> None:
    """B loads 25% slower: the same uniform draw drives both, so pairing removes most noise.

    Completion day: A = 1 + 2u, B = 1 + 2.5u days, so B - A = 0.5u (mean 0.25).
    """
    slower = with_overrides(toy, {"sites.prison.load_min_per_detainee":
                                  {"dist": "uniform", "low": 0, "high": 60}})
    res = compare(toy, slower, 40, seed=2, jobs=1)
    d = res.differences["prisons_cleared_day"]
    assert d["ci_low"] < 0.25 < d["ci_high"]
    assert d["variance_ratio"] > 10
    assert d["half_width"] < d["unpaired_half_width"] / 3
    # Independent seeds for B really are noisier than pairing.
    a = replicate(toy, 40, seed=2, jobs=1).table.values("prisons_cleared_day")
    b = replicate(slower, 40, seed=3, jobs=1).table.values("prisons_cleared_day")
    assert np.var(b - a, ddof=1) > 5 * d["sd_diff"] ** 2
    assert res.to_records()[0]["kpi"]


def test_compare_cli_json() -> None:
    r = _cli("compare", TOY, TOY, "-n", "4", "--jobs", "1", "--json",
             "--set-b", "legs.road.distance_km=1500")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["kpis"]["mean_transfer_hours"]["mean_diff"] == pytest.approx(6.0)
    pretty = _cli("compare", TOY, TOY, "-n", "3", "--jobs", "1")
    assert pretty.exit_code == 0 and "var. ratio" in pretty.stdout


def test_sweep_cli_table_and_json(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    r = _cli("sweep", TOY, "--grid", "fleet.bus.count=1,2", "-n", "3", "--jobs", "1",
             "--out", out)
    assert r.exit_code == 0, r.output
    assert "ran 6, reused 0" in r.stdout
    again = _cli("sweep", TOY, "--grid", "fleet.bus.count=1,2", "-n", "3", "--jobs", "1",
                 "--out", out, "--json")
    assert again.exit_code == 0 and "resuming: 6 of 6" in again.stderr
    doc = json.loads(again.stdout)
    assert (doc["ran"], doc["skipped"], len(doc["points"])) == (0, 6, 2)


# ----- sweeps and the store -------------------------------------------------------------------------


def test_grid_and_design_parsing(tmp_path: Path) -> None:
    assert split_values("1,[2,3],{a: 1, b: 2}") == ["1", "[2,3]", "{a: 1, b: 2}"]
    assert parse_grid(["fleet.bus.count=1,2", "horizon_days=5"]) == {
        "fleet.bus.count": [1, 2], "horizon_days": [5]}
    csv_file = tmp_path / "d.csv"
    csv_file.write_text("fleet.bus.count,horizon_days\n1,5\n2,\n")
    assert load_design(csv_file) == [{"fleet.bus.count": 1, "horizon_days": 5},
                                     {"fleet.bus.count": 2}]
    yml = tmp_path / "d.yaml"
    yml.write_text("- {fleet.bus.count: 3}\n- {horizon_days: 6}\n")
    assert plan_points({"legs.road.distance_km": [1000, 1200]}, load_design(yml)) == [
        {"fleet.bus.count": 3, "legs.road.distance_km": 1000},
        {"fleet.bus.count": 3, "legs.road.distance_km": 1200},
        {"horizon_days": 6, "legs.road.distance_km": 1000},
        {"horizon_days": 6, "legs.road.distance_km": 1200}]


def _store_rows(path: Path) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("SELECT point, seed, kpis FROM runs ORDER BY point, seed").fetchall()
    finally:
        con.close()


def _comparable(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    out = []
    for point, seed, kpis in rows:
        k = json.loads(kpis)
        k.pop("wall_seconds")
        out.append((point, seed, k))
    return out


def test_sweep_api_resume_and_exports(toy: Any, tmp_path: Path) -> None:
    out = tmp_path / "sw"
    grid = {"legs.road.distance_km": [600, 1200], "fleet.bus.count": [1, 2]}
    first = sweep(toy, grid=grid, n=3, out=out, jobs=1, export="csv")
    assert (first.ran, first.skipped) == (12, 0)
    assert len(_store_rows(out / "results.sqlite")) == 12
    again = sweep(toy, grid=grid, n=5, out=out, jobs=1, export="parquet")
    assert (again.ran, again.skipped) == (8, 12)  # only the two new replications a point
    assert len(_store_rows(out / "results.sqlite")) == 20
    rows = again.to_records()
    assert len(rows) == 20 and {r["legs.road.distance_km"] for r in rows} == {600, 1200}
    assert again.summary[0]["kpis"]["mean_transfer_hours"]["mean"] == 12.0  # 600 km at 50 km/h
    assert (out / "summary.csv").exists() and (out / "summary.json").exists()
    assert len((out / "results.csv").read_text().splitlines()) == 21  # refreshed: whole store
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    assert pq.read_table(out / "results.parquet").num_rows == 20


def _count(path: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_sweep_survives_sigkill_and_resumes(tmp_path: Path) -> None:
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    args = [*DTSIM, "sweep", str(BASELINE), "--grid", "fleet.ch47.count=6,8", "-n", "10",
            "--jobs", "2", "--json"]
    proc = subprocess.Popen([*args, "--out", str(killed)], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = killed / "results.sqlite"
    deadline = time.time() + 120
    while _count(store) < 3 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = _count(store)
    assert 3 <= partial < 20, partial
    con = sqlite3.connect(store)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    done = subprocess.run([*args, "--out", str(killed)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["skipped"] == partial
    subprocess.run([*args, "--out", str(clean), "--jobs", "1"], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    resumed = _store_rows(store)
    assert len(resumed) == 20 == len({(p, s) for p, s, _ in resumed})
    assert _comparable(resumed) == _comparable(_store_rows(clean / "results.sqlite"))


# ----- bad input -----------------------------------------------------------------------------------


@pytest.fixture()
def store_dir(toy: Any, tmp_path: Path) -> Path:
    out = tmp_path / "existing"
    sweep(toy, grid={"fleet.bus.count": [1, 2]}, n=2, out=out, jobs=1)
    return out


BAD_SWEEPS = [
    (["--grid", "fleet.bsu.count=1,2"], "nearest valid paths: fleet.bus.count"),
    (["--grid", "flet.bus.count=1"], "nearest valid paths: fleet.bus.count"),
    (["--grid", "fleet.bus.count=1,many"], "valid integer"),
    (["--grid", "fleet.bus.count"], "expected path=v1,v2"),
    (["--grid", "fleet.bus.count=1", "-n", "0"], "-n must be at least 1"),
    (["--grid", "fleet.bus.count=1", "--export", "xls"], "expected csv or parquet"),
    (["--design", "missing.csv"], "file not found"),
    (["--grid", "fleet.bus.count=1", "--jobs", "0"], "--jobs must be at least 1"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_SWEEPS)
def test_bad_sweep_input_exits_2_and_keeps_the_store(store_dir: Path, extra: list[str],
                                                     message: str) -> None:
    before = _store_rows(store_dir / "results.sqlite")
    r = _cli("sweep", TOY, "-n", "2", "--out", store_dir, *extra)
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output
    assert _store_rows(store_dir / "results.sqlite") == before


def test_store_from_another_scenario_is_refused(store_dir: Path) -> None:
    before = _store_rows(store_dir / "results.sqlite")
    r = _cli("sweep", TOY, "--set", "horizon_days=6", "--grid", "fleet.bus.count=1", "-n", "2",
             "--out", store_dir)
    assert r.exit_code == 2
    assert "not of this scenario" in r.output and "start fresh" in r.output
    assert _store_rows(store_dir / "results.sqlite") == before


def test_out_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file.txt"
    f.write_text("keep me")
    for args in (["replicate", TOY, "-n", "2", "--out", f],
                 ["sweep", TOY, "--grid", "fleet.bus.count=1", "-n", "2", "--out", f]):
        r = _cli(*args)
        assert r.exit_code == 2 and "not a directory" in r.output
    assert f.read_text() == "keep me"


@pytest.mark.parametrize("command", [["replicate", TOY], ["compare", TOY, TOY],
                                     ["sweep", TOY, "--out", "unused-dir"]])
def test_zero_replications(command: list[object], tmp_path: Path) -> None:
    r = _cli(*command, "-n", "0")
    assert r.exit_code == 2 and "-n must be at least 1" in r.output
    assert not Path("unused-dir").exists()


def test_dask_address_that_does_not_answer(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    r = _cli("sweep", TOY, "--grid", "fleet.bus.count=1", "-n", "2", "--out", tmp_path / "d",
             "--dask", "tcp://127.0.0.1:9")
    assert r.exit_code == 2 and "no Dask scheduler answered" in r.output
    assert not (tmp_path / "d").exists()
    r = _cli("replicate", TOY, "-n", "2", "--dask", "nonsense")
    assert r.exit_code == 2 and "scheduler address" in r.output


def test_bad_scenario_and_design_files(tmp_path: Path) -> None:
    r = _cli("replicate", tmp_path / "nope.yaml", "-n", "2")
    assert r.exit_code == 2 and "file not found" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("just: [a, mapping]\n")
    r = _cli("sweep", TOY, "--design", bad, "-n", "2", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "list of {path: value}" in r.output


def test_suggested_paths_name_list_items_by_index_where_a_name_is_shared() -> None:
    """Two fleet entries of one type are suggested by index (a refused
    ``fleet.coach.count`` was answered with itself as the nearest valid path); an item
    whose id, name or type is its own keeps it."""
    from sim.experiments.store import leaf_paths

    data = {"fleet": [{"type": "coach", "count": 150}, {"type": "coach", "count": 350},
                      {"type": "c130", "count": 2}]}
    paths = leaf_paths(data)
    assert "fleet.0.count" in paths and "fleet.1.count" in paths
    assert "fleet.c130.count" in paths and "fleet.coach.count" not in paths
