"""Ctrl-C on an experiment run on a local Dask cluster: one line and exit code 130, no
tracebacks from Dask's worker processes, and no process left behind.

A terminal's Ctrl-C sends SIGINT to every process of the command's group; the test does
the same (``os.killpg``) once the cluster is up. Linux only: it reads each process's
signal dispositions and group from ``/proc``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")
pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SIGINT_BIT = 1 << (signal.SIGINT - 1)


def _group(pgid: int, marker: bytes = b"") -> list[int]:
    """The live processes of group ``pgid`` (zombies left out) whose command line holds
    ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        if fields[0] != "Z" and int(fields[2]) == pgid and marker in cmdline:
            found.append(int(entry.name))
    return found


def _ignores_ctrl_c(pid: int) -> bool | None:
    """Whether ``pid`` ignores SIGINT (None: the process is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    ignored = next(line for line in status.splitlines() if line.startswith("SigIgn:"))
    return bool(int(ignored.split()[1], 16) & SIGINT_BIT)


def test_ctrl_c_on_a_local_dask_cluster_prints_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "replicate", str(BASELINE), "-n", "5000", "--dask", "local",
         "--jobs", "2", "--out", str(out)],
        cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: a command started in the background of a shell script
        # inherits Ctrl-C ignored, and would never see it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        # Up when its two workers (spawned by Dask's nannies) run and the command handles
        # Ctrl-C again (it ignores it only while the cluster starts).
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while time.monotonic() < deadline and proc.poll() is None:
            workers = _group(proc.pid, b"spawn_main")
            if len(workers) == 2 and _ignores_ctrl_c(proc.pid) is False:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"the cluster did not come up: exit code {proc.poll()}, workers {workers}")
        assert all(_ignores_ctrl_c(p) for p in workers), "Dask's workers handle Ctrl-C themselves"
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert stderr.strip() == "interrupted", stderr
    assert not out.exists()  # an interrupted replicate writes nothing
    deadline = time.monotonic() + 30
    while _group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group(proc.pid), "processes of the command outlived it"


# A cluster closed while a scatter to its workers is under way, as a Ctrl-C at the start
# of a run does: the scheduler (in this process) fails the scatter once its workers are
# gone, and asyncio logged that failure with a traceback ("Task exception was never
# retrieved", about half the time before the cancelled close quieted it).
_CLOSE_DURING_SCATTER = """
import threading, time
from sim.experiments.executors import make_runner

runner = make_runner(2, "local")
def scatter():
    try:
        runner.client.scatter([{"runs": list(range(100_000))}], broadcast=True, hash=False)
    except Exception:
        pass  # the interrupted call's own error; the command reports "interrupted"
thread = threading.Thread(target=scatter)
thread.start()
time.sleep(0.005)
runner.close(cancel=True)
thread.join(30)
print("closed")
"""


@pytest.mark.parametrize("attempt", range(3))
def test_a_cancelled_close_during_a_scatter_logs_no_traceback(attempt: int) -> None:
    done = subprocess.run([sys.executable, "-c", _CLOSE_DURING_SCATTER], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "closed"
    assert "Traceback" not in done.stderr, done.stderr
    assert "never retrieved" not in done.stderr, done.stderr
