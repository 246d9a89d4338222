"""Experiment results print as a few lines (and an HTML table in notebooks); a script without a
main guard that runs replications in worker processes is told what is wrong and how to fix it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.experiments.executors import _has_main_guard

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "tests" / "data" / "toy_experiment.yaml"


def _short(text: str) -> None:
    assert len(text) < 1200 and len(text.splitlines()) <= 12, text


def test_replication_result_repr_is_short_with_the_headline_numbers() -> None:
    r = sim.replicate(TOY, 5, jobs=1)
    text = repr(r)
    _short(text)
    assert text.startswith("ReplicationResult(toy-experiment: 5 replications, master seed 1)")
    mean = r.kpis["prisons_cleared_day"]["mean"]
    assert "prisons_cleared_day" in text and f"{mean:.3f}"[:4] in text
    assert "P(complete within horizon)" in text
    page = r._repr_html_()
    assert page.startswith("<div>") and "<table>" in page and "prisons_cleared_day" in page


def test_comparison_and_sweep_reprs_are_short(tmp_path: Path) -> None:
    c = sim.compare(TOY, TOY, 4, jobs=1)
    _short(repr(c))
    assert repr(c).startswith("ComparisonResult(B - A: toy-experiment - toy-experiment, 4 paired")
    assert "<table>" in c._repr_html_()
    s = sim.sweep(TOY, grid={"fleet.bus.count": [1, 2]}, n=2, out=tmp_path / "sw", jobs=1)
    _short(repr(s))
    assert "2 points x 2 replications" in repr(s) and "fleet.bus.count=2" in repr(s)
    assert "<table>" in s._repr_html_()


@pytest.mark.parametrize(("source", "guarded"), [
    ("import sim\nsim.replicate('x', 2, jobs=2)\n", False),
    ("import sim\nif __name__ == '__main__':\n    sim.replicate('x', 2)\n", True),
    ("import sim\nif '__main__' == __name__:\n    sim.replicate('x', 2)\n", True),
    ("def main():\n    pass\n\nif __name__ == \"__main__\":\n    main()\n", True),
])
def test_main_guard_detection(source: str, guarded: bool) -> None:
    assert _has_main_guard(source) is guarded


def test_unguarded_script_with_worker_processes_is_told_to_add_the_guard(tmp_path: Path) -> None:
    script = tmp_path / "no_guard.py"
    script.write_text(f"import sim\nsim.replicate({str(TOY)!r}, 2, jobs=2)\nprint('done')\n")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode != 0 and "done" not in proc.stdout
    last = proc.stderr.strip().splitlines()[-1]
    assert "if __name__ == \"__main__\":" in last and str(script) in last, proc.stderr[-2000:]
    assert "BrokenProcessPool" not in proc.stderr

    guarded = tmp_path / "guarded.py"
    guarded.write_text(f"import sim\nif __name__ == '__main__':\n"
                       f"    print(sim.replicate({str(TOY)!r}, 2, jobs=2).n)\n")
    ok = subprocess.run([sys.executable, str(guarded)], cwd=tmp_path, capture_output=True,
                        text=True, timeout=300)
    assert ok.returncode == 0 and ok.stdout.strip() == "2", ok.stderr[-2000:]
