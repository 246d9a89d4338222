"""How a local pool starts its workers (``sim.experiments.fork_server.pool_start_method``):
forked from the process itself where it chose so and runs no other thread (the console
script, on Linux), else by a fork server. Each case runs in a fresh interpreter, since
the choice is the process's own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
LINUX = sys.platform.startswith("linux")


def _python(code: str, tmp_path: Path) -> object:
    """Run ``code`` as a script with a main guard (a pool needs one) and read the JSON it
    prints last."""
    script = tmp_path / "probe.py"
    body = "\n".join("    " + line for line in code.strip().splitlines())
    script.write_text(f"import json, os, sys, threading\n"
                      f"if __name__ == '__main__':\n{body}\n")
    proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not LINUX, reason="workers are forked from the process on Linux only")
@pytest.mark.parametrize(("choose", "thread", "method"), [
    ("", False, "forkserver"),
    ("from sim.experiments.fork_server import fork_workers_from_here\n"
     "fork_workers_from_here()", False, "fork"),
    ("from sim.experiments.fork_server import fork_workers_from_here\n"
     "fork_workers_from_here()", True, "forkserver"),
    ("import multiprocessing\nmultiprocessing.set_start_method('fork')", False, "forkserver"),
])
def test_a_pool_forks_from_this_process_only_where_it_chose_so_and_runs_no_thread(
        tmp_path: Path, choose: str, thread: bool, method: str) -> None:
    """The method, and where the workers really come from: a forked worker's parent is
    this process; a fork server's worker's is the server, and the server is running."""
    code = f"""
{choose}
stop = threading.Event()
if {thread}:
    threading.Thread(target=stop.wait, daemon=True).start()
from multiprocessing import forkserver
from sim.experiments.executors import make_runner
from sim.experiments.fork_server import pool_start_method
chosen = pool_start_method()
runner = make_runner(2, None)
try:
    parents = {{runner.pool.submit(os.getppid).result() for _ in range(4)}}
finally:
    runner.close()
    stop.set()
print(json.dumps([chosen, parents == {{os.getpid()}},
                  forkserver._forkserver._forkserver_pid is not None]))
"""
    forked = method == "fork"
    assert _python(code, tmp_path) == [method, forked, not forked]


@pytest.mark.skipif(not LINUX, reason="workers are forked from the process on Linux only")
def test_the_console_script_forks_its_workers_and_starts_no_fork_server(tmp_path: Path) -> None:
    """``sim.cli.main`` chooses forking before a pooled command starts its server, so a
    pooled command on Linux starts none."""
    code = """
import sim.experiments.fork_server as fork_server
from multiprocessing import forkserver
from sim.experiments.fork_server import pool_start_method
sys.argv = ['dtsim', 'replicate', 'no-such.yaml', '--jobs', '2']
import sim.cli
try:
    sim.cli.main()
except SystemExit as exc:
    code = exc.code
print(json.dumps([code, pool_start_method(), forkserver._forkserver._forkserver_pid is not None]))
"""
    assert _python(code, tmp_path) == [2, "fork", False]


def test_forked_workers_give_the_runs_of_jobs_1(tmp_path: Path) -> None:
    """The same KPIs, run by run, from workers forked from this process as from this
    process alone (and the work beside the runs done in a worker)."""
    code = f"""
from sim.experiments.fork_server import fork_workers_from_here, pool_start_method
fork_workers_from_here()
sys.path.insert(0, 'tests')
from alongside_probes import pid_and_name
from sim.experiments.alongside import Alongside
from sim.experiments.replication import replicate
from sim.scenario.loader import load_scenario
s = load_scenario({str(BASELINE)!r})
beside = Alongside(pid_and_name)
records = []
for jobs in (1, 2):
    rows = replicate(s, 6, seed=4, jobs=jobs, alongside=beside if jobs == 2 else None).to_records()
    records.append([{{k: v for k, v in r.items() if 'wall' not in k}} for r in rows])
pid, name = beside.value()
print(json.dumps([pool_start_method(), records[0] == records[1], pid != os.getpid(), name]))
"""
    method = "fork" if LINUX else "forkserver"
    assert _python(code, tmp_path) == [method, True, True, "baseline"]
