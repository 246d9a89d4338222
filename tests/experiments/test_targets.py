"""Deadline success is a target share of those in custody at day 0 delivered by the deadline:
``--target`` on replicate, compare and sweep, refused (exit 2) outside (0, 1]."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from tiny_scenarios import one_leg
from typer.testing import CliRunner

from sim.cli import app
from sim.experiments.common import derived_kpis
from sim.experiments.replication import compare, replicate
from sim.experiments.sweeps import sweep
from sim.scenario.loader import build

runner = CliRunner()


def _shuttle() -> dict[str, Any]:
    """50 people, one 10-seat helicopter at the prison, no handling time: deliveries at hours
    1, 3.5, 6, 8.5 and 11 in every replication, so half are in on day 0.25 and all on
    day 11/24 = 0.458 (see tests/core/test_kpis.py)."""
    return one_leg(n=50, seats=10, count=1, horizon_days=2,
                   prison_kw={"load_min_per_detainee": 0},
                   reception_kw={"unload_min_per_detainee": 0})


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "shuttle.yaml"
    path.write_text(yaml.safe_dump(_shuttle()))
    return path


def test_the_target_decides_what_counts_as_done() -> None:
    """By day 0.3 half are always delivered and all never: P = 1 for a 50% target, 0 for 100%."""
    s = build(_shuttle())
    half = replicate(s, 3, seed=1, jobs=1, deadline_day=0.3, target=0.5)
    full = replicate(s, 3, seed=1, jobs=1, deadline_day=0.3)
    assert half.probabilities["complete_by_deadline"]["p"] == 1.0
    assert full.probabilities["complete_by_deadline"]["p"] == 0.0
    assert full.probabilities["complete_within_horizon"]["p"] == 1.0
    assert half.probabilities["complete_by_deadline"]["label"] == "P(50% delivered by day 0.3)"
    assert half.to_dict()["target"] == 0.5 and full.to_dict()["target"] == 1.0
    assert half.kpis["day_to_50"]["mean"] == 0.25 and half.kpis["day_to_100"]["mean"] == 0.458


def test_derived_indicators_never_count_people_lost() -> None:
    """Prisons cleared on day 2 with 10 of 100 escaped: not done, at any deadline, for a
    target of 100%; done by day 3 for a target of 90% (the 90th delivery on day 2.5)."""
    kpis = {"escaped": 10, "prisons_cleared_day": 2.0, "day_to_100": None,
            "delivery_days": [0.5] * 89 + [2.5] + [None] * 10}
    assert derived_kpis(kpis, 3.0) == {"completed": 0, "completed_by_deadline": 0,
                                       "any_escape": 1}
    assert derived_kpis(kpis, 3.0, 0.9) == {"completed": 1, "completed_by_deadline": 1,
                                            "any_escape": 1}
    assert derived_kpis(kpis, 2.0, 0.9)["completed_by_deadline"] == 0


def test_compare_and_sweep_take_the_target(tmp_path: Path) -> None:
    s = build(_shuttle())
    cmp = compare(s, s, 2, seed=1, jobs=1, deadline_day=0.3, target=0.5)
    assert cmp.to_dict()["target"] == 0.5
    assert cmp.differences["completed_by_deadline"]["label"] == "P(50% delivered by day 0.3)"
    assert cmp.a.probabilities["complete_by_deadline"]["p"] == 1.0
    sw = sweep(s, n=2, out=tmp_path / "sw", grid={"fleet.h.count": [1, 2]}, jobs=1,
               deadline_day=0.3, target=0.5)
    row = sw.summary_records()[0]
    assert row["p_50pct_by_day_0_3"] == 1.0 and row["p_50pct_within_horizon"] == 1.0
    assert json.loads((tmp_path / "sw" / "summary.json").read_text())["target"] == 0.5


@pytest.mark.parametrize("command", ["replicate", "compare", "sweep"])
@pytest.mark.parametrize("bad", ["0", "-0.5", "1.5", "nan", "0.955"])
def test_a_bad_target_is_bad_input(tmp_path: Path, command: str, bad: str) -> None:
    """Exit 2 with one ``error:`` line naming --target, before any run, nothing written."""
    path = _file(tmp_path)
    out = tmp_path / "out"
    args = {"replicate": ["replicate", str(path)], "compare": ["compare", str(path), str(path)],
            "sweep": ["sweep", str(path), "--grid", "fleet.h.count=1,2"]}[command]
    r = runner.invoke(app, [*args, "-n", "2", "--jobs", "1", "--out", str(out), "--target", bad])
    assert r.exit_code == 2, r.output
    assert r.output.startswith("error: --target") and len(r.output.strip().splitlines()) == 1
    assert "Traceback" not in r.output and not out.exists()
