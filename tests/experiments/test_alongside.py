"""``sim.experiments.alongside``: one function of the scenario computed beside its
replications, in a pool worker, after the runs, or on a thread, and the same value
wherever it runs."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import alongside_probes as probes
import pytest

import sim
from sim.experiments.alongside import Alongside
from sim.experiments.executors import make_runner
from sim.experiments.replication import replicate

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "tests" / "data" / "toy_experiment.yaml"


@pytest.fixture(scope="module")
def toy() -> Any:
    return sim.load_scenario(TOY)


def _kpis(result: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "wall_seconds"} for row in result.to_records()]


def test_in_a_pool_a_worker_computes_it_and_the_runs_are_unchanged(toy: Any) -> None:
    beside = Alongside(probes.pid_and_name)
    pooled = replicate(toy, 6, seed=4, jobs=2, alongside=beside)
    pid, name = beside.value()
    assert beside.where == "pool"
    assert pid != os.getpid() and name == toy.name
    assert _kpis(pooled) == _kpis(replicate(toy, 6, seed=4, jobs=1))


def test_in_a_pool_it_is_the_first_task(toy: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Submitted before any run, so the first worker free takes it (a pool's queue is
    first in, first out) while the others start on the runs."""
    import sim.experiments.replication as replication

    order: list[str] = []

    def recording_runner(jobs: int | None, dask: str | None) -> Any:
        runner = make_runner(jobs, dask)
        submit, submit_alongside = runner.submit, runner.submit_alongside  # type: ignore[union-attr]

        def run(*args: Any) -> Any:
            order.append("runs")
            return submit(*args)

        def beside(*args: Any) -> Any:
            order.append("alongside")
            return submit_alongside(*args)

        monkeypatch.setattr(runner, "submit", run)
        monkeypatch.setattr(runner, "submit_alongside", beside)
        return runner

    monkeypatch.setattr(replication, "make_runner", recording_runner)
    beside = Alongside(probes.pid_and_name)
    replicate(toy, 6, seed=2, jobs=2, alongside=beside)
    assert order[0] == "alongside" and order.count("alongside") == 1
    assert order.count("runs") >= 2
    assert beside.value()[1] == toy.name


def test_with_one_job_it_is_computed_here_after_the_runs_when_asked(toy: Any) -> None:
    probes.CALLS.clear()
    beside = Alongside(probes.noted_name)
    replicate(toy, 3, seed=1, jobs=1, alongside=beside)
    assert probes.CALLS == []  # not during the runs: they need this process
    asked = time.monotonic()
    assert beside.value() == toy.name
    assert beside.where == "after"
    assert len(probes.CALLS) == 1 and probes.CALLS[0] >= asked


class _Remote:
    """A runner whose workers are elsewhere (as Dask's): work beside them stays here."""

    alongside = "thread"


def test_beside_remote_workers_a_thread_here_starts_with_the_first_result(toy: Any) -> None:
    probes.CALLS.clear()
    beside = Alongside(probes.noted_name)
    beside.begin(_Remote(), toy, "key", {})  # type: ignore[arg-type]
    time.sleep(0.05)
    assert probes.CALLS == []  # nothing before a result: this process hands out the tasks
    beside.result_arrived()
    beside.result_arrived()  # once only
    assert beside.value() == toy.name
    assert len(probes.CALLS) == 1
    assert not any(t.name == "dtsim-alongside" for t in threading.enumerate())


def test_a_process_ending_with_the_thread_still_busy_waits_for_it(tmp_path: Path) -> None:
    """An interrupted command ends while the work beside its runs is still being
    computed: the process waits for it to return before it tears itself down (a solver's
    native threads torn down under it would abort the command)."""
    import subprocess
    import sys
    import uuid

    name = f"alongside-{uuid.uuid4().hex}"
    marker = probes.pid_file(name)
    script = tmp_path / "ends_early.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
        "import alongside_probes as probes\n"
        "import sim\n"
        "from sim.experiments.alongside import Alongside\n"
        "class Remote:\n"
        "    alongside = 'thread'\n"
        "if __name__ == '__main__':\n"
        f"    toy = sim.load_scenario({str(TOY)!r}).model_copy(update={{'name': {name!r}}})\n"
        "    beside = Alongside(probes.sleep_then_note)\n"
        "    beside.begin(Remote(), toy, 'key', {})\n"
        "    beside.result_arrived()\n"
        "    raise SystemExit(130)\n")
    try:
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 130, proc.stderr
        assert marker.read_text() == "returned"
    finally:
        marker.unlink(missing_ok=True)


def test_with_no_result_the_thread_starts_when_the_value_is_asked_for(toy: Any) -> None:
    beside = Alongside(probes.noted_name)
    beside.begin(_Remote(), toy, "key", {})  # type: ignore[arg-type]
    assert beside.value() == toy.name


@pytest.mark.parametrize("jobs", [1, 2])
def test_its_error_is_raised_by_value_wherever_it_ran(toy: Any, jobs: int) -> None:
    beside = Alongside(probes.fails)
    result = replicate(toy, 2, seed=1, jobs=jobs, alongside=beside)
    assert result.n == 2  # the runs are not disturbed by it
    with pytest.raises(probes.ProbeError, match="no value for"):
        beside.value()


def test_its_error_on_a_thread_is_raised_by_value(toy: Any) -> None:
    beside = Alongside(probes.fails)
    beside.begin(_Remote(), toy, "key", {})  # type: ignore[arg-type]
    beside.result_arrived()
    with pytest.raises(probes.ProbeError):
        beside.value()


def test_it_is_begun_once_and_read_after(toy: Any) -> None:
    beside = Alongside(probes.noted_name)
    with pytest.raises(RuntimeError, match="before replicate began it"):
        beside.value()
    beside.begin(_Remote(), toy, "key", {})  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="begun once"):
        beside.begin(_Remote(), toy, "key", {})  # type: ignore[arg-type]


def test_an_interrupted_experiment_ends_the_worker_busy_beside_it(toy: Any) -> None:
    """Workers ignore Ctrl-C and a pool lets each finish its task before it shuts down:
    an interrupted ``replicate`` would wait for the work beside its runs (a minute here).
    Its workers end at once instead, and the error reaches the caller."""
    from uuid import uuid4

    from sim.common.processes import process_alive

    name = f"alongside-probe-{uuid4().hex}"
    scenario = toy.model_copy(update={"name": name})
    noted = probes.pid_file(name)

    def interrupt(done: int, total: int) -> None:
        deadline = time.monotonic() + 60
        while not noted.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        raise RuntimeError("interrupted")

    try:
        with pytest.raises(RuntimeError, match="interrupted"):
            replicate(scenario, 40, seed=1, jobs=2, progress=interrupt,
                      alongside=Alongside(probes.sleep_noting_pid))
        pid = int(noted.read_text())
        deadline = time.monotonic() + 20  # well before the probe's minute is up
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not process_alive(pid)
    finally:
        noted.unlink(missing_ok=True)
