"""Experiment outputs a user can trust: labels, provenance, checks up front, the store.

Every output says what each probability is the probability of, records what
ran (scenario, overrides, seeds, version), is checked before any work, leaves
nothing behind when refused, and a sweep store grows point by point without
reusing an index. Killed experiments leave no processes behind; two sweeps
into one store both finish.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "tests" / "data" / "toy_experiment.yaml"  # horizon 5 days
BASELINE = ROOT / "scenarios" / "baseline.yaml"
DTSIM = [sys.executable, "-m", "sim"]
runner = CliRunner()


def _cli(*args: object) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` with its bytes (the folder as it is on disk)."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ----- probabilities say what they are ---------------------------------------------------------


def test_sweep_labels_each_probability_by_its_day(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    r = _cli("sweep", TOY, "--grid", "fleet.bus.count=1,2", "-n", "4", "--jobs", "1",
             "--out", out, "--deadline-day", "2")
    assert r.exit_code == 0, r.output
    assert "P(complete)" not in r.stdout
    assert "P(100% delivered by day 2)" in r.stdout
    assert "P(100% delivered within the 5-day horizon)" in r.stdout
    header = _csv(out / "summary.csv")[0]
    assert "p_done_by_day_2" in header and "p_done_within_horizon" in header
    assert "p_complete_by_deadline" not in header
    summary = json.loads((out / "summary.json").read_text())
    assert summary["version"] and summary["seed"] == 1 and summary["overrides"] == []
    assert "name: toy-experiment" in (out / "scenario.resolved.yaml").read_text()
    probs = summary["points"][0]["probabilities"]
    assert probs["complete_by_deadline"]["label"] == "P(100% delivered by day 2)"
    assert probs["complete_by_deadline"]["deadline_day"] == 2
    assert probs["complete_within_horizon"]["horizon_days"] == 5


def test_replicate_and_compare_print_labelled_probabilities() -> None:
    r = _cli("replicate", TOY, "-n", "4", "--jobs", "1", "--deadline-day", "2.5")
    assert r.exit_code == 0, r.output
    assert "P(100% delivered by day 2.5) =" in r.stdout
    assert "P(100% delivered within the 5-day horizon) =" in r.stdout
    r = _cli("compare", TOY, TOY, "-n", "3", "--jobs", "1", "--deadline-day", "2", "--json")
    doc = json.loads(r.stdout)
    assert doc["kpis"]["completed_by_deadline"]["label"] == "P(100% delivered by day 2)"


@pytest.mark.parametrize("day", ["nan", "inf", "-inf", "-1", "5.5", "40"])
@pytest.mark.parametrize("command", ["replicate", "compare", "sweep"])
def test_deadline_must_be_a_day_within_the_horizon(command: str, day: str,
                                                   tmp_path: Path) -> None:
    out = tmp_path / "o"
    args: list[object] = {"replicate": ["replicate", TOY],
                          "compare": ["compare", TOY, TOY],
                          "sweep": ["sweep", TOY, "--grid", "fleet.bus.count=1"]}[command]
    r = _cli(*args, "-n", "2", "--jobs", "1", "--out", out, "--deadline-day", day)
    assert r.exit_code == 2, r.output
    assert "--deadline-day" in r.output and "within the horizon (0..5 days" in r.output
    assert "Traceback" not in r.output and not out.exists()


# ----- every output folder records what ran ------------------------------------------------------


def test_replicate_out_records_the_scenario_and_overrides(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    r = _cli("replicate", TOY, "-n", "3", "--jobs", "1", "--seed", "7", "--out", out,
             "--set", "legs.road.distance_km=600")
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overrides"] == ["legs.road.distance_km=600"]
    assert summary["scenario_file"] == str(TOY) and summary["seed"] == 7
    assert summary["version"] and summary["run_id"]
    resolved = (out / "scenario.resolved.yaml").read_text()
    assert "distance_km: 600" in resolved
    marker = json.loads((out / "complete.json").read_text())
    assert marker["run_id"] == summary["run_id"]
    assert set(marker["files"]) == {"replications.csv", "summary.json", "daily_bands.csv",
                                    "scenario.resolved.yaml"}


def test_compare_out_records_both_sides_and_labels_what_changed(tmp_path: Path) -> None:
    from viz.experiments import compare_plot
    from viz.results import Results

    out = tmp_path / "cmp"
    r = _cli("compare", TOY, TOY, "-n", "3", "--jobs", "1", "--out", out,
             "--set", "fleet.bus.count=2", "--set-b", "legs.road.distance_km=1500")
    assert r.exit_code == 0, r.output
    assert "toy-experiment + legs.road.distance_km=1500" in r.stdout
    doc = json.loads((out / "compare.json").read_text())
    assert (doc["a"], doc["b"]) == ("toy-experiment",
                                    "toy-experiment + legs.road.distance_km=1500")
    assert doc["scenarios"]["a"]["overrides"] == ["fleet.bus.count=2"]
    assert doc["scenarios"]["b"]["overrides"] == ["fleet.bus.count=2",
                                                  "legs.road.distance_km=1500"]
    assert doc["scenarios"]["b"]["scenario_file"] == str(TOY) and doc["version"]
    assert "distance_km: 1500" in (out / "scenario_b.resolved.yaml").read_text()
    assert "distance_km: 1200" in (out / "scenario_a.resolved.yaml").read_text()
    seeds_a = [row["seed"] for row in _csv(out / "replications_a.csv")]
    assert seeds_a == [row["seed"] for row in _csv(out / "replications_b.csv")]
    title = compare_plot(Results(out))._suptitle.get_text()  # type: ignore[union-attr]
    title = " ".join(title.split())  # wrapped to the figure's width
    assert "toy-experiment + legs.road.distance_km=1500 (B) vs toy-experiment (A)" in title


def test_compare_labels_given_on_the_command_line(tmp_path: Path) -> None:
    r = _cli("compare", TOY, TOY, "-n", "2", "--jobs", "1", "--json", "--set-b",
             "fleet.bus.count=2", "--label-a", "one bus", "--label-b", "two buses")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert (doc["a"], doc["b"]) == ("one bus", "two buses")
    same = json.loads(_cli("compare", TOY, TOY, "-n", "2", "--jobs", "1", "--json").stdout)
    assert (same["a"], same["b"]) == ("toy-experiment (A)", "toy-experiment (B)")


# ----- --out is checked before any work; nothing is written on bad input ---------------------------


def _out_commands(out: object) -> list[list[object]]:
    return [["run", TOY, "--no-plots", "--out", out],
            ["replicate", TOY, "-n", "2", "--jobs", "1", "--out", out],
            ["compare", TOY, TOY, "-n", "2", "--jobs", "1", "--out", out],
            ["sweep", TOY, "--grid", "fleet.bus.count=1", "-n", "2", "--jobs", "1",
             "--out", out]]


def test_out_under_a_regular_file_fails_before_any_work(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    import sim.core.model

    def no_runs(*args: object, **kwargs: object) -> None:
        raise AssertionError("a run started although --out cannot be written")

    monkeypatch.setattr(sim.core.model, "run", no_runs)
    for command in _out_commands(afile / "sub"):
        r = _cli(*command)
        assert r.exit_code == 2, (command, r.output)
        assert "afile is not a directory" in r.output and "Traceback" not in r.output
    assert afile.read_text() == "keep me" and sorted(tmp_path.iterdir()) == [afile]


def test_empty_out_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for command in _out_commands(""):
        r = _cli(*command)
        assert r.exit_code == 2, (command, r.output)
        assert '--out "": empty path' in r.output
    assert list(tmp_path.iterdir()) == []


def test_out_holding_other_things_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    (out / "notes").mkdir(parents=True)
    (out / "todo.txt").write_text("mine")
    before = _tree(out)
    for command in _out_commands(out)[:3]:
        r = _cli(*command)
        assert r.exit_code == 2, (command, r.output)
        assert "choose an empty or new folder" in r.output
    assert _tree(out) == before


def test_refused_store_is_left_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "existing"
    assert _cli("sweep", TOY, "--grid", "fleet.bus.count=1,2", "-n", "2", "--jobs", "1",
                "--out", out, "--export", "csv").exit_code == 0
    before = _tree(out)
    assert set(before) == {"results.sqlite", "results.csv", "summary.csv", "summary.json",
                           "scenario.resolved.yaml"}  # closed cleanly: no -wal, no -shm
    for extra in (["--set", "horizon_days=4"], ["--set", "horizon_days=4", "--export", "csv"]):
        r = _cli("sweep", TOY, *extra, "--grid", "fleet.bus.count=1", "-n", "2", "--jobs", "1",
                 "--out", out)
        assert r.exit_code == 2 and "not of this scenario" in r.output
        assert _tree(out) == before  # no -wal/-shm, no summary, no export


# ----- the sweep store grows point by point ------------------------------------------------------


def _points(store: Path) -> dict[str, set[int]]:
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        out: dict[str, set[int]] = {}
        for point, index in con.execute("SELECT point, point_index FROM runs"):
            out.setdefault(point, set()).add(index)
        return out
    finally:
        con.close()


def test_a_new_grid_extends_the_store_summary_and_exports(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    out = tmp_path / "sw"
    first = _cli("sweep", TOY, "--grid", "fleet.bus.count=1,2,3", "-n", "2", "--jobs", "1",
                 "--out", out, "--export", "parquet")
    assert first.exit_code == 0, first.output
    more = _cli("sweep", TOY, "--grid", "fleet.bus.count=5", "-n", "2", "--jobs", "1",
                "--out", out, "--json")
    assert more.exit_code == 0, more.output
    points = _points(out / "results.sqlite")
    assert all(len(ix) == 1 for ix in points.values())  # one index a point, in every row
    assert sorted(min(ix) for ix in points.values()) == [0, 1, 2, 3]
    assert points['{"fleet.bus.count":5}'] == {3}
    rows = _csv(out / "summary.csv")
    assert [(r["point_index"], r["fleet.bus.count"]) for r in rows] == [
        ("0", "1"), ("1", "2"), ("2", "3"), ("3", "5")]
    doc = json.loads(more.stdout)
    assert doc["plan_point_indices"] == [3] and len(doc["points"]) == 4
    table = pq.read_table(out / "results.parquet").to_pydict()  # refreshed, not stale
    assert len(table["seed"]) == 8 and sorted(set(table["point_index"])) == [0, 1, 2, 3]
    again = _cli("sweep", TOY, "--grid", "fleet.bus.count=5,1", "-n", "2", "--jobs", "1",
                 "--out", out, "--json")
    assert json.loads(again.stdout)["plan_point_indices"] == [3, 0]


def test_a_format_1_store_gets_stable_point_indices(tmp_path: Path) -> None:
    """A store written before the points table: its points are indexed in order of first run,
    even where the old code gave two points the same index."""
    out = tmp_path / "old"
    assert _cli("sweep", TOY, "--grid", "fleet.bus.count=1,2", "-n", "2", "--jobs", "1",
                "--out", out).exit_code == 0
    store = out / "results.sqlite"
    con = sqlite3.connect(store)
    con.execute("DROP TABLE points")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'format_version'")
    con.execute("UPDATE runs SET point_index = 0")  # what extending a grid used to do
    con.commit()
    con.close()
    r = _cli("sweep", TOY, "--grid", "fleet.bus.count=3", "-n", "2", "--jobs", "1",
             "--out", out, "--json")
    assert r.exit_code == 0, r.output
    assert _points(store) == {'{"fleet.bus.count":1}': {0}, '{"fleet.bus.count":2}': {1},
                              '{"fleet.bus.count":3}': {2}}


# ----- processes: killed experiments, concurrent sweeps --------------------------------------------


def _proc_table() -> dict[int, tuple[int, str]]:
    """pid to (parent pid, state) for every process, from /proc."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            out[int(entry)] = (int(fields[1]), fields[0].decode())
    return out


def _descendants(pid: int) -> set[int]:
    table = _proc_table()
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, _) in table.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def _running(pids: set[int]) -> set[int]:
    table = _proc_table()
    return {p for p in pids if p in table and table[p][1] not in ("Z", "X")}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("command", ["sweep", "replicate", "script"])
def test_sigkill_leaves_no_worker_processes(command: str, tmp_path: Path) -> None:
    """The command forks its two workers from itself (on Linux); a script calling
    ``replicate`` has them started by a fork server, beside a resource tracker."""
    args = [*DTSIM, command, str(BASELINE), "-n", "40", "--jobs", "2", "--json"]
    if command == "sweep":
        args += ["--grid", "fleet.ch47.count=6,8", "--out", str(tmp_path / "sw")]
    family_size = 2
    if command == "script":
        script = tmp_path / "replicate_script.py"
        script.write_text("from sim import load_scenario, replicate\n"
                          "if __name__ == '__main__':\n"
                          f"    replicate(load_scenario({str(BASELINE)!r}), 400, jobs=2)\n")
        args, family_size = [sys.executable, str(script)], 4
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    family: set[int] = set()
    deadline = time.monotonic() + 120
    while len(family) < family_size and proc.poll() is None and time.monotonic() < deadline:
        family |= _descendants(proc.pid)
        time.sleep(0.05)
    assert proc.poll() is None and len(family) >= family_size, family
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 20
    while _running(family) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _running(family)
    for pid in left:  # do not leave them behind this test either
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left after the parent was killed: {sorted(left)}"


def test_two_sweeps_into_one_store_both_finish(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    args = [*DTSIM, "sweep", str(TOY), "--grid", "fleet.bus.count=1,2,3", "-n", "20",
            "--jobs", "1", "--json", "--out", str(out)]
    procs = [subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_stdout, stderr) in zip(procs, results, strict=True):
        assert p.returncode == 0 or (p.returncode == 2 and "busy" in stderr), stderr
    assert any(p.returncode == 0 for p in procs)
    con = sqlite3.connect(out / "results.sqlite")
    try:
        assert con.execute("SELECT COUNT(*), COUNT(DISTINCT point || seed) FROM runs"
                           ).fetchone() == (60, 60)
        assert con.execute("SELECT COUNT(*) FROM points").fetchone()[0] == 3
    finally:
        con.close()


def test_a_store_held_by_another_writer_is_reported_busy(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.experiments.store as store_module

    out = tmp_path / "held"
    assert _cli("sweep", TOY, "--grid", "fleet.bus.count=1", "-n", "2", "--jobs", "1",
                "--out", out).exit_code == 0
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_SECONDS", 0.1)
    holder = sqlite3.connect(out / "results.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer in the middle of a transaction
    try:
        r = _cli("sweep", TOY, "--grid", "fleet.bus.count=2", "-n", "2", "--jobs", "1",
                 "--out", out)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert r.exit_code == 2, r.output
    assert "is busy" in r.output and "Traceback" not in r.output


def test_plot_checks_a_replications_folder_against_its_marker(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    assert _cli("replicate", TOY, "-n", "3", "--jobs", "1", "--out", out).exit_code == 0
    r = _cli("plot", out)
    assert r.exit_code == 0, r.output
    with open(out / "replications.csv", "a", encoding="utf-8") as fh:
        fh.write("99,1\n")  # a row from another write
    r = _cli("plot", out)
    assert r.exit_code == 2 and "replications.csv does not match complete.json" in r.output
