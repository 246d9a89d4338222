"""Command-line conventions: version, -h everywhere, completion, one -n default, one error style,
shipped scenarios by name from any folder, tables that never cut a number."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from sim.cli import app
from sim.cli.tables import fitted_table
from sim.common.version import __version__
from sim.scenario import shipped

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "tests" / "data" / "toy_experiment.yaml"
FILE_LINE = re.compile(r"^[^\s:][^:]*:\d+:")
runner = CliRunner()


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def dtsim(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command, run from ``cwd`` (a folder with no scenarios in it)."""
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


def test_version() -> None:
    res = cli("--version")
    assert res.exit_code == 0 and res.stdout.strip() == f"dtsim {__version__}"


@pytest.mark.parametrize("args", [[], ["run"], ["replicate"], ["exercises"], ["exercises", "show"],
                                  ["scenarios"], ["scenarios", "copy"], ["plot"], ["play"]])
def test_short_help_everywhere(args: list[str]) -> None:
    short, long = cli(*args, "-h"), cli(*args, "--help")
    assert short.exit_code == 0, short.output
    assert short.stdout == long.stdout and "Usage:" in short.stdout


def test_shell_completion_is_offered() -> None:
    assert "--install-completion" in cli("--help").stdout


def test_one_replications_default_for_replicate_compare_and_sweep() -> None:
    group = typer.main.get_command(app)
    defaults = {}
    for name in ("replicate", "compare", "sweep"):
        cmd = group.commands[name]  # type: ignore[attr-defined]
        [n] = [p for p in cmd.params if p.name == "n"]
        defaults[name] = n.default
        assert "20" in cli(name, "-h").stdout  # documented in the help
    assert set(defaults.values()) == {20}


@pytest.mark.parametrize("args", [
    ["run", "--set", "sites.bgw.beds", "5000"],
    ["run", "baseline", "--set", "sites.bgw.beds", "5000"],
    ["replicate", "--set=sites.bgw.beds", "-n", "2"],
])
def test_set_without_equals_names_the_option(args: list[str]) -> None:
    res = cli(*args)
    assert res.exit_code == 2
    assert res.stderr.strip() == "error: --set sites.bgw.beds: expected path=value"


@pytest.mark.parametrize("args", [
    ["run", "--bogus"],
    ["run", "--seed", "many"],
    ["compare"],
    ["run", "no_such_scenario"],
    ["run", "nowhere/at/all.yaml"],
    ["exercises", "show", "99"],
    ["scenarios", "copy", "no_such_scenario"],
    ["replicate", str(TOY), "-n", "0", "--jobs", "1"],
    ["plot", "no_such_folder"],
    ["run", str(TOY), "--set", "nosuch.field=1"],
])
def test_every_bad_input_message_has_one_style(args: list[str]) -> None:
    res = cli(*args)
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert lines and "Traceback" not in res.stderr
    for line in lines:
        assert line.startswith("error: ") or FILE_LINE.match(line), line


def test_file_line_messages_keep_their_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TOY.read_text().replace("horizon_days: 5", "horizon_days: 0"))
    res = cli("validate", str(bad))
    assert res.exit_code == 2 and res.stderr.startswith(f"{bad}:")


# ----- shipped scenarios ---------------------------------------------------------------


def test_scenarios_lists_every_shipped_scenario_with_its_description() -> None:
    res = cli("scenarios")
    assert res.exit_code == 0, res.output
    names = shipped.names()
    assert names[0] == "baseline" and "fast_front" in names
    lines = res.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == names
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)  # a description each
    doc = json.loads(cli("scenarios", "--json").stdout)
    assert [d["name"] for d in doc] == names and all(d["description"] for d in doc)
    assert cli("scenarios", "list").stdout == res.stdout


def test_a_shipped_scenario_runs_by_name_from_any_folder(tmp_path: Path) -> None:
    by_name = dtsim("run", "fast_front", "--json", "--no-plots", cwd=tmp_path)
    assert by_name.returncode == 0, by_name.stderr
    assert json.loads(by_name.stdout)["scenario"] == "fast_front"
    default = dtsim("run", "--json", "--no-plots", cwd=tmp_path)
    assert default.returncode == 0, default.stderr
    assert json.loads(default.stdout)["scenario"] == "baseline"
    readme_path = dtsim("validate", "scenarios/baseline.yaml", cwd=tmp_path)
    assert readme_path.returncode == 0, readme_path.stderr


def test_the_checkout_path_still_works() -> None:
    res = cli("validate", "scenarios/baseline.yaml", "scenarios/exercises/05-uncertainty.yaml")
    assert res.exit_code == 0, res.output


def test_copy_a_scenario_out_and_run_it(tmp_path: Path) -> None:
    res = cli("scenarios", "copy", "fast_front", str(tmp_path / "mine"))
    assert res.exit_code == 0, res.output
    copy = tmp_path / "mine" / "fast_front.yaml"
    base = tmp_path / "mine" / "baseline.yaml"  # what it extends comes along
    assert res.stdout.split() == [str(copy), str(base)]
    assert copy.read_bytes() == (shipped.shipped_folder() / "fast_front.yaml").read_bytes()
    run = cli("run", str(copy), "--json", "--no-plots")
    assert run.exit_code == 0 and json.loads(run.stdout)["scenario"] == "fast_front"


def test_copy_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "my.yaml"
    target.write_text("mine\n")
    res = cli("scenarios", "copy", "baseline", str(target))
    assert res.exit_code == 2 and res.stderr.startswith(f"error: {target}: exists")
    assert target.read_text() == "mine\n"
    changed_base = tmp_path / "baseline.yaml"
    changed_base.write_text("my own base\n")
    res = cli("scenarios", "copy", "no_surge", str(tmp_path / "x.yaml"))
    assert res.exit_code == 2 and str(changed_base) in res.stderr
    assert not (tmp_path / "x.yaml").exists() and changed_base.read_text() == "my own base\n"


def test_copy_into_the_current_folder_by_default(tmp_path: Path) -> None:
    res = dtsim("scenarios", "copy", "baseline", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "baseline.yaml").is_file()


# ----- tables on a narrow terminal ------------------------------------------------------


NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def _numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def test_fitted_table_never_cuts_a_number() -> None:
    from rich.console import Console

    rows = [(f"a_rather_long_kpi_name_{i}", ["12,345,678", "-0.0049..0.0008", "1,234", "0.5"])
            for i in range(3)]
    with open(os.devnull, "w") as sink:
        console = Console(width=60, record=True, file=sink)
        table, dropped = fitted_table("t", "KPI", ("big", "interval", "mid", "small"), rows,
                                      ("interval", "small"), console.width)
        console.print(table)
        text = console.export_text()
    assert dropped == ["interval"]
    assert "…" not in text and all(len(line) <= 60 for line in text.splitlines())
    for cell in ("12,345,678", "1,234", "0.5"):
        assert text.count(cell) == 3


@pytest.mark.parametrize("command", [
    ["replicate", "baseline", "-n", "3", "--jobs", "1"],
    ["compare", "baseline", "no_surge", "-n", "3", "--jobs", "1"],
])
def test_tables_fit_80_columns_without_cutting_numbers(tmp_path: Path, command: list[str]) -> None:
    res = dtsim(*command, cwd=tmp_path, env={"COLUMNS": "80"})
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert "…" not in res.stdout
    assert max(len(line) for line in lines) <= 80
    wide = dtsim(*command, cwd=tmp_path, env={"COLUMNS": "200"})
    table_rows = [line for line in wide.stdout.splitlines() if line.startswith("│")]
    kept = _numbers("\n".join(lines))
    # every number of the kept columns appears whole: the mean column is always kept
    means = {row.split("│")[2].strip() for row in table_rows}
    assert means - {"-"} <= kept


def test_a_closed_pipe_ends_the_command_quietly() -> None:
    """``dtsim schema | head -1``: the reader goes away; no internal error, exit 0."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "sim", "schema"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the command writes anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "internal error" not in err and "Traceback" not in err, err
