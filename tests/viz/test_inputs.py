"""Corrupt or incomplete results folders are refused before anything is drawn.

Each case damages one file of a real folder; ``dtsim plot`` and ``dtsim
report`` must exit 2 with one line naming the file and what is wrong, and
leave the folder exactly as it was (no figure, no report, no temporary file).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.output.files import write_run
from sim.scenario.loader import resolved_yaml

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The baseline run (seed 1), results only (no figures)."""
    out = tmp_path_factory.mktemp("run")
    s = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    write_run(sim.run(s, 1), out, resolved_yaml(s))
    return out


def _edit_json(name: str, change: Callable[[object], object]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / name
        path.write_text(json.dumps(change(json.loads(path.read_text()))))
    return apply


def _without(key: str) -> Callable[[object], object]:
    def change(d: object) -> object:
        assert isinstance(d, dict)
        d.pop(key)
        return d
    return change


def _cut(name: str, chars: int) -> Callable[[Path], None]:
    """Cut ``chars`` characters off the end of a file (a copy that stopped half-way)."""
    def apply(folder: Path) -> None:
        path = folder / name
        text = path.read_text()
        path.write_text(text[: len(text) - chars])
    return apply


def _cell(name: str, line: int, column: str, value: str) -> Callable[[Path], None]:
    """Replace one cell of a CSV file (``line`` counts from 1, the header)."""
    def apply(folder: Path) -> None:
        path = folder / name
        lines = path.read_text().splitlines()
        header = lines[0].split(",")
        cells = lines[line - 1].split(",")
        cells[header.index(column)] = value
        lines[line - 1] = ",".join(cells)
        path.write_text("\n".join(lines) + "\n")
    return apply


def _write(name: str, text: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        (folder / name).write_text(text)
    return apply


RUN_CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "kpis_list": (_write("kpis.json", "[1, 2, 3]"), "kpis.json", "found a list"),
    "kpis_missing_key": (_edit_json("kpis.json", _without("delivered")), "kpis.json",
                         "'delivered'"),
    "kpis_not_json": (_write("kpis.json", '{"delivered": 1'), "kpis.json", "not valid JSON"),
    "daily_cut_mid_line": (_cut("daily.csv", 25), "daily.csv", "cells where the header"),
    "daily_header_only": (lambda f: (f / "daily.csv").write_text(
        (f / "daily.csv").read_text().splitlines()[0] + "\n"), "daily.csv", "no rows"),
    "daily_text_in_number": (_cell("daily.csv", 5, "delivered_cum", "lots"), "daily.csv",
                             "line 5, column 'delivered_cum': 'lots' is not a number"),
    "daily_rows_out_of_order": (_cell("daily.csv", 4, "day", "7"), "daily.csv",
                                "line 4, column 'day'"),
    "sorties_cut": (_cut("sorties.csv", 7), "sorties.csv", "cut short"),
    "sorties_text_in_hours": (_cell("sorties.csv", 3, "arrive_hour", "soon"), "sorties.csv",
                              "column 'arrive_hour'"),
    "sorties_no_column": (lambda f: (f / "sorties.csv").write_text("a,b\n1,2\n"),
                          "sorties.csv", "no column 'aircraft'"),
    "fronts_not_json": (_write("fronts.json", "[{"), "fronts.json", "not valid JSON"),
    "fronts_bad_path": (_write("fronts.json", json.dumps([{"path_latlon": [[1, "x"]]}])),
                        "fronts.json", "path_latlon"),
    "detainees_text": (_cell("detainees.csv", 3, "pickup_hour", "noon"), "detainees.csv",
                       "column 'pickup_hour'"),
    "events_text_hour": (_cell("events.csv", 2, "hour", "dawn"), "events.csv",
                         "column 'hour'"),
    "events_cut": (_cut("events.csv", 3), "events.csv", "cut short"),
    "status_empty": (_write("status.csv", ""), "status.csv", "empty"),
    "scenario_not_yaml": (_write("scenario.resolved.yaml", "sites: [\n"),
                          "scenario.resolved.yaml", "not valid YAML"),
}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _assert_refused(folder: Path, cmd: list[str], name: str, what: str) -> None:
    before = _snapshot(folder)
    result = runner.invoke(app, cmd)
    assert result.exit_code == 2, (cmd, result.output)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert name in lines[0] and what in lines[0], lines[0]
    assert _snapshot(folder) == before, "nothing may be written for a corrupt folder"


@pytest.mark.parametrize("case", sorted(RUN_CASES))
def test_corrupt_run_folder_is_refused(case: str, run_folder: Path, tmp_path: Path) -> None:
    damage, name, what = RUN_CASES[case]
    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    damage(folder)
    _reseal(folder)  # garbage written whole: the content checks, not the marker, must catch it
    _assert_refused(folder, ["plot", str(folder)], name, what)
    _assert_refused(folder, ["report", str(folder)], name, what)
    _assert_refused(folder, ["map", str(folder)], name, what)


def _reseal(folder: Path) -> None:
    """Rewrite the completion marker so that it lists the files as they are now."""
    from sim.output.folders import read_marker, write_marker

    doc = read_marker(folder)
    write_marker(folder, doc["kind"], doc["run_id"])


def test_a_file_changed_after_the_write_is_refused(run_folder: Path, tmp_path: Path) -> None:
    """Without re-sealing, any change to a listed file is caught by the marker first."""
    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    _cell("daily.csv", 5, "delivered_cum", "lots")(folder)
    _assert_refused(folder, ["plot", str(folder)], "daily.csv", "does not match complete.json")


def test_the_undamaged_run_folder_draws(run_folder: Path, tmp_path: Path) -> None:
    """The cases above fail because of the damage, not because the folder never draws."""
    folder = tmp_path / "run"
    shutil.copytree(run_folder, folder)
    result = runner.invoke(app, ["plot", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "throughput.png").is_file()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "temporary files left"


@pytest.fixture(scope="module")
def experiment_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Replications, a one-dimensional sweep and a comparison of the toy scenario."""
    base = tmp_path_factory.mktemp("exp")
    toy = str(ROOT / "tests" / "data" / "toy_experiment.yaml")
    for args in (["replicate", toy, "-n", "6", "--jobs", "1", "--out", str(base / "rep")],
                 ["sweep", toy, "--grid", "fleet.0.count=1,2", "-n", "3", "--jobs", "1",
                  "--out", str(base / "sweep")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["compare", toy, toy, "-n", "6", "--jobs", "1", "--json",
                                 "--set-b", "fleet.0.count=2"])
    assert result.exit_code == 0, result.output
    (base / "cmp").mkdir()
    (base / "cmp" / "compare.json").write_text(result.stdout)
    return {"rep": base / "rep", "sweep": base / "sweep", "cmp": base / "cmp"}


EXPERIMENT_CASES: dict[str, tuple[str, Callable[[Path], None], str, str]] = {
    "replications_text": ("rep", _cell("replications.csv", 3, "prisons_cleared_day", "late"),
                          "replications.csv", "column 'prisons_cleared_day'"),
    "replications_cut": ("rep", _cut("replications.csv", 9), "replications.csv",
                         "cells where the header"),
    "bands_cut": ("rep", _cut("daily_bands.csv", 11), "daily_bands.csv",
                  "cells where the header"),
    "summary_json_list": ("rep", _write("summary.json", "[]"), "summary.json", "found a list"),
    "sqlite_garbage": ("sweep", lambda f: (f / "results.sqlite").write_bytes(b"x" * 4096),
                       "results.sqlite", "SQLite"),
    "summary_csv_cut": ("sweep", _cut("summary.csv", 5), "summary.csv",
                        "cells where the header"),
    "summary_csv_text": ("sweep", _cell("summary.csv", 2, "prisons_cleared_day_mean", "n/a"),
                         "summary.csv", "column 'prisons_cleared_day_mean'"),
    "compare_not_json": ("cmp", _write("compare.json", '{"kpis": '), "compare.json",
                         "not valid JSON"),
    "compare_no_kpis": ("cmp", _write("compare.json", '{"kind": "comparison", "kpis": []}'),
                        "compare.json", "no 'kpis' object"),
    "compare_text_number": ("cmp", _edit_json("compare.json", lambda d: {
        **d, "kpis": {"delivered": {"mean_diff": "lots", "ci_low": 0, "ci_high": 1}}}),
                            "compare.json", "'mean_diff'"),
}


@pytest.mark.parametrize("case", sorted(EXPERIMENT_CASES))
def test_corrupt_experiment_folder_is_refused(case: str, experiment_folders: dict[str, Path],
                                              tmp_path: Path) -> None:
    kind, damage, name, what = EXPERIMENT_CASES[case]
    folder = tmp_path / kind
    shutil.copytree(experiment_folders[kind], folder)
    damage(folder)
    if (folder / "complete.json").is_file():
        _reseal(folder)
    _assert_refused(folder, ["plot", str(folder)], name, what)
    _assert_refused(folder, ["report", str(folder)], name, what)
