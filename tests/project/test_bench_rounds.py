"""``bench/run.py``: how many rounds of in-process timings the bench takes (``--rounds N``),
and the speedup Amdahl's law leaves two workers (``amdahl_limit``)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def bench_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_three_rounds_unless_asked_for_more() -> None:
    run = bench_run()
    assert run.rounds_wanted(["run.py", "--parallel"]) == run.ROUNDS == 3
    assert run.rounds_wanted(["run.py", "--rounds", "10", "--parallel"]) == 10


@pytest.mark.parametrize("value", [[], ["0"], ["-2"], ["ten"]])
def test_a_bad_number_of_rounds_is_refused_before_any_timing(value: list[str]) -> None:
    """Exit code 2 with one line on standard error, in well under a bench's time."""
    proc = subprocess.run([sys.executable, "bench/run.py", "--rounds", *value], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == "bench/run.py: --rounds needs a whole number of at least 1"


def test_the_amdahl_limit_is_the_law() -> None:
    """Total over the serial part plus the rest shared: the textbook cases."""
    limit = bench_run().amdahl_limit
    assert limit(5.0, 1.0) == pytest.approx(5.0 / 3.0)
    assert limit(4.0, 0.0) == pytest.approx(2.0)  # all shared: as many as the workers
    assert limit(4.0, 4.0) == pytest.approx(1.0)  # nothing shared: no speedup
    assert limit(10.0, 1.0, workers=4) == pytest.approx(10.0 / 3.25)
    for serial in (0.1, 0.5, 2.0):  # more serial work, a lower limit
        assert limit(5.0, serial) > limit(5.0, serial + 0.1)


@pytest.mark.parametrize(("total", "serial", "workers"),
                         [(1.0, 2.0, 2), (1.0, -0.1, 2), (0.0, 0.0, 2), (1.0, 0.5, 0)])
def test_the_amdahl_limit_refuses_impossible_parts(total: float, serial: float,
                                                   workers: int) -> None:
    with pytest.raises(ValueError):
        bench_run().amdahl_limit(total, serial, workers)


def test_the_bench_brings_stale_bytecode_up_to_date_before_timing(tmp_path: Path) -> None:
    """A module changed since its bytecode was written is compiled again by the bench
    (``compile_bytecode``), even where the environment writes no bytecode itself."""
    import importlib.util
    import os

    package = tmp_path / "pkg"
    package.mkdir()
    source = package / "mod.py"
    source.write_text("VALUE = 1\n")
    cached = Path(importlib.util.cache_from_source(str(source)))
    run = bench_run()
    assert run.compile_bytecode(tmp_path, ("pkg",))
    assert cached.exists()
    source.write_text("VALUE = 2\n")  # changed since: its bytecode is stale
    os.utime(cached, (1.0, 1.0))
    os.utime(source, (2.0, 2.0))
    assert run.compile_bytecode(tmp_path, ("pkg",))
    assert cached.stat().st_mtime > 2.0
    (package / "broken.py").write_text("def (:\n")
    assert not run.compile_bytecode(tmp_path, ("pkg",))
