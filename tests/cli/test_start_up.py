"""What ``dtsim run`` loads at start-up: its own command group, and nothing heavy.

The console script (``sim.cli.main``) registers only the group of the command typed
(``sim.cli.app.main``); ``GROUPS`` must therefore say truly which commands each group
adds. A command that runs a local process pool starts its fork server before typer loads.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from sim.cli.app import build_app
from sim.cli.args import GROUPS, groups_for, pool_wanted

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("scipy", "SALib", "matplotlib", "pandas", "dask", "viz")


def _commands(groups: list[str]) -> set[str]:
    return set(typer.main.get_command(build_app(groups)).commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("group", list(GROUPS))
def test_each_group_adds_exactly_the_commands_listed_for_it(group: str) -> None:
    assert _commands([group]) == set(GROUPS[group])


def test_the_whole_command_line_has_every_group() -> None:
    assert _commands(list(GROUPS)) == {c for cs in GROUPS.values() for c in cs}


@pytest.mark.parametrize(("args", "groups"), [
    (["run", "--json"], ["run"]),
    (["--debug", "replicate", "baseline"], ["experiments"]),
    (["plan", "fleet"], ["planning"]),
    (["exercises", "list"], ["classroom"]),
    ([], list(GROUPS)),
    (["-h"], list(GROUPS)),
    (["--version"], list(GROUPS)),
    (["nosuch"], list(GROUPS)),
])
def test_only_the_typed_commands_group_is_loaded(args: list[str], groups: list[str]) -> None:
    assert groups_for(args) == groups


def test_run_loads_no_other_group_and_nothing_heavy() -> None:
    code = (
        "import json, sys\n"
        "sys.argv = ['dtsim', 'run', '--json', '--no-plots']\n"
        "from sim.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    others = {f"sim.cli.{g}" for g in GROUPS if g != "run"}
    assert not loaded & others
    assert "sim.output.files" not in loaded  # nothing is written without --out
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


@pytest.mark.parametrize(("args", "jobs"), [
    (["replicate", "baseline", "-n", "200"], 0),
    (["--debug", "compare", "a.yaml", "b.yaml", "--jobs", "2"], 2),
    (["replicate", "baseline", "--jobs=3"], 3),
    (["replicate", "baseline", "-j4"], 4),
    (["replicate", "baseline", "-j", "1"], 1),
    (["replicate", "baseline", "--dask", "local"], None),
    (["replicate", "baseline", "--jobs", "two"], None),
    (["run", "--jobs", "2"], None),
    (["sweep", "baseline"], None),
    ([], None),
])
def test_a_pooled_command_is_recognised_before_the_command_line_loads(
        args: list[str], jobs: int | None) -> None:
    assert pool_wanted(args) == jobs


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip().splitlines()[-1]


def test_the_command_line_loads_with_the_collector_paused_and_leaves_it_on() -> None:
    code = (
        "import gc, json, sys\n"
        "during = []\n"
        "def loading():\n"
        "    cli = sys.modules.get('sim.cli')\n"
        "    return 'sim.cli.app' in sys.modules and 'main' not in vars(cli)\n"
        "gc.callbacks.append(lambda phase, info: during.append(loading()) if phase == 'start' else 0)\n"
        "from sim.cli import app\n"
        "print(json.dumps([sum(during), gc.isenabled(), type(app).__name__]))\n"
    )
    assert json.loads(_python(code)) == [0, True, "Typer"]


def test_importing_the_package_loads_nothing_of_the_command_line() -> None:
    """A pool worker imports the console script, and so the package, as it starts."""
    code = (
        "import json, sys\n"
        "import sim.cli\n"
        "print(json.dumps(['typer' in sys.modules, 'sim.cli.app' in sys.modules]))\n"
    )
    assert json.loads(_python(code)) == [False, False]


def test_the_package_name_app_stays_the_command_line_whatever_loads_first() -> None:
    """Importing ``sim.cli.app`` directly binds the module to its package's name ``app``
    (the import system's way); the name stays the whole command line."""
    code = (
        "import json, sys\n"
        "from sim.cli.app import build_app\n"
        "import sim.cli\n"
        "from sim.cli import app\n"
        "print(json.dumps([type(app).__name__, type(sim.cli.app).__name__]))\n"
    )
    assert json.loads(_python(code)) == ["Typer", "Typer"]


def test_main_freezes_what_loaded_before_the_command_runs() -> None:
    code = (
        "import gc, sys\n"
        "import sim.cli.app\n"
        "cli = sys.modules['sim.cli.app']\n"
        "seen = []\n"
        "cli.build_app = lambda groups: (lambda: seen.append(gc.get_freeze_count()))\n"
        "sys.argv = ['dtsim', 'run']\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(seen[0])\n"
    )
    assert int(_python(code)) > 10_000


@pytest.mark.skipif("forkserver" not in __import__("multiprocessing").get_all_start_methods(),
                    reason="no fork server on this platform")
@pytest.mark.parametrize(("jobs", "pooled"), [("2", True), ("1", False)])
def test_a_pooled_command_starts_its_fork_server_before_its_group_loads(
        jobs: str, pooled: bool) -> None:
    """The server's imports overlap the command's: when the group loads (with the
    collector paused) the server is already running, and the command line has loaded
    nothing of the scenario schema or the model yet. On Linux the command forks its
    workers from itself and starts no server (``tests/experiments/test_start_method.py``)."""
    started = pooled and not sys.platform.startswith("linux")
    code = (
        "import gc, json, sys\n"
        "from multiprocessing import forkserver\n"
        "import sim.cli\n"
        "import sim.cli.app\n"
        "cli = sys.modules['sim.cli.app']\n"
        "seen = {}\n"
        "def build(groups):\n"
        "    seen['server'] = forkserver._forkserver._forkserver_pid is not None\n"
        "    seen['collecting'] = gc.isenabled()\n"
        "    seen['model'] = sorted(m for m in sys.modules\n"
        "                           if m.startswith(('sim.scenario.schema', 'sim.core.')))\n"
        "    return lambda: None\n"
        "cli.build_app = build\n"
        f"sys.argv = ['dtsim', 'replicate', 'baseline', '--jobs', '{jobs}']\n"
        "try:\n"
        "    sim.cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(seen))\n"
    )
    assert json.loads(_python(code)) == {"server": started, "collecting": False, "model": []}


@pytest.mark.parametrize(("args", "jobs"), [
    (["replicate", "no-such.yaml", "--jobs", "2"], 2),
    (["compare", "a.yaml", "b.yaml"], None),
])
def test_the_console_script_starts_the_fork_server_before_typer_loads(
        args: list[str], jobs: int | None) -> None:
    """``sim.cli.main`` reads the raw arguments with the standard library alone, so the
    server starts before typer and the command line load (the command then fails on
    its missing file, as it should)."""
    code = (
        "import json, sys\n"
        "import sim.experiments.fork_server as fork_server\n"
        "seen = []\n"
        "fork_server.start_fork_server = lambda jobs, dask: seen.append(\n"
        "    ['typer' in sys.modules, 'sim.cli.app' in sys.modules, jobs, dask])\n"
        f"sys.argv = ['dtsim', *{args!r}]\n"
        "import sim.cli\n"
        "try:\n"
        "    sim.cli.main()\n"
        "except SystemExit as exc:\n"
        "    seen.append(exc.code)\n"
        "print(json.dumps([seen[0], seen[-1]]))\n"
    )
    assert json.loads(_python(code)) == [[False, False, jobs, None], 2]


def test_the_experiments_group_loads_neither_the_bound_nor_the_model() -> None:
    """A pooled ``replicate`` hands out its first tasks before anything of the model or
    the quick bound (networkx, scipy) loads in its own process: the workers' fork server
    loads the model, and the bound's thread starts with the first result."""
    code = (
        "import json, sys\n"
        "import sim.cli\n"
        "import sim.cli.app\n"
        "sys.modules['sim.cli.app'].build_app(['experiments'])\n"
        "print(json.dumps(sorted(m for m in ('networkx', 'scipy', 'sim.planning.gap',\n"
        "                                    'sim.core.model') if m in sys.modules)))\n"
    )
    assert json.loads(_python(code)) == []
