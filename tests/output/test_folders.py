"""A run's folder is written whole: a reader sees the previous run or the new one, never a mix.

The writer stages every file in a hidden sibling folder, marks it complete
(``complete.json``: run id, each file's size and SHA-256) and swaps it into
place; readers (``dtsim plot``/``report``) refuse a folder whose marker is
missing or does not match its files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.output.files import write_run
from sim.output.folders import IncompleteFolder, check_complete, clean_stale
from sim.scenario.loader import resolved_yaml

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "tests" / "data" / "toy_experiment.yaml"
runner = CliRunner()


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _write(out: Path, seed: int) -> None:
    s = sim.load_scenario(TOY)
    write_run(sim.run(s, seed), out, resolved_yaml(s))


def test_a_run_folder_is_marked_complete_and_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = runner.invoke(app, ["run", str(TOY), "--no-plots", "--seed", "3", "--out", str(out),
                            "--set", "fleet.bus.count=2"])
    assert r.exit_code == 0, r.output
    first = check_complete(out)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["run_id"] == first["run_id"] and meta["overrides"] == ["fleet.bus.count=2"]
    assert set(first["files"]) == {p.name for p in out.iterdir()} - {"complete.json"}
    (out / "old-figure.png").write_bytes(b"not of the new run")
    (out / ".detainees.csv.k3j2.tmp").write_bytes(b"x" * 100)  # a killed writer's leftovers
    _write(out, 4)
    second = check_complete(out)
    assert second["run_id"] != first["run_id"]
    assert json.loads((out / "meta.json").read_text())["seed"] == 4
    assert sorted(p.name for p in out.iterdir()) == sorted([*second["files"], "complete.json"])
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no staging folder left


def test_an_error_while_writing_leaves_the_old_run(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    _write(out, 1)
    before = _tree(out)
    import sim.output.folders as folders

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(folders, "write_marker", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _write(out, 2)
    assert _tree(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


KILLED_WRITER = """
import sys, time
from pathlib import Path
import sim
import sim.output.folders as folders
from sim.output.files import write_run
from sim.scenario.loader import resolved_yaml

def stuck(*args):
    print("files staged", flush=True)
    time.sleep(600)

folders.write_marker = stuck
s = sim.load_scenario(sys.argv[1])
write_run(sim.run(s, 9), Path(sys.argv[2]), resolved_yaml(s))
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_killed_writer_leaves_the_old_run_and_its_staging_is_cleaned(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _write(out, 1)
    before = _tree(out)
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(TOY), str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "files staged"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _tree(out) == before
    check_complete(out)
    left = [p for p in tmp_path.iterdir() if p.name != "run"]
    assert left and all(p.name.startswith(".run.dtsim-") for p in left)
    r = runner.invoke(app, ["run", str(TOY), "--no-plots", "--seed", "5", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert json.loads((out / "meta.json").read_text())["seed"] == 5


def test_staging_of_a_live_writer_is_kept(tmp_path: Path) -> None:
    mine = tmp_path / f".run.dtsim-{os.getppid()}-abc-new"  # a live process (pytest's parent)
    mine.mkdir()
    dead = tmp_path / ".run.dtsim-999999999-abc-new"
    dead.mkdir()
    assert clean_stale(tmp_path / "run") == [dead]
    assert mine.exists() and not dead.exists()


@pytest.mark.parametrize("damage", ["no_marker", "changed_file", "missing_file"])
def test_readers_refuse_a_folder_that_is_not_one_complete_write(tmp_path: Path,
                                                                damage: str) -> None:
    out = tmp_path / "run"
    _write(out, 1)
    if damage == "no_marker":
        (out / "complete.json").unlink()
    elif damage == "changed_file":
        (out / "daily.csv").write_text((out / "daily.csv").read_text().replace("1", "2"))
    else:
        (out / "kpis.json").unlink()
    with pytest.raises(IncompleteFolder):
        check_complete(out)
    for command in (["plot", str(out)], ["report", str(out)]):
        r = runner.invoke(app, command)
        assert r.exit_code == 2, r.output
        lines = r.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    assert not list(out.glob("*.png")) and not (out / "report.html").exists()


def test_an_empty_folder_is_filled_in_place(tmp_path: Path) -> None:
    out = tmp_path / "here"
    out.mkdir()
    inode = out.stat().st_ino
    _write(out, 1)
    check_complete(out)
    assert out.stat().st_ino == inode  # still the folder a shell may be sitting in
