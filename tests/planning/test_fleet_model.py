"""plan fleet on the real model and through the CLI: hand arithmetic, files, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.experiments.store import ExperimentError
from sim.planning.fleet import plan_fleet, scaled, type_counts, with_counts
from sim.scenario.loader import build
from tests.exit2 import refusal_problems
from tests.tiny_scenarios import one_leg

ROOT = Path(__file__).resolve().parents[2]


def shuttle(n: int = 1500, count: int = 2) -> dict[str, object]:
    """One prison and one reception an hour's flight apart; loading and unloading take no
    time and pads are plenty, so each aircraft (based at the prison) delivers 30 at hours
    1, 3.5, 6, ... (out 1 h, turnaround 0.5 h, back 1 h): 10 loads, 300 detainees, by
    hour 24 (deadline day 1)."""
    return one_leg(n=n, count=count, pads=10, horizon_days=3,
                   prison_kw={"load_min_per_detainee": 0},
                   reception_kw={"unload_min_per_detainee": 0, "pads": 10})


@pytest.mark.parametrize(("target", "expected"), [(1.0, 5), (0.8, 4), (0.5, 3)])
def test_deterministic_answer_equals_the_hand_arithmetic(target: float, expected: int) -> None:
    # ceil(target * 1500 / 300) aircraft by hour 24 (deadline day 1).
    plan = plan_fleet(build(shuttle()), type_="h", deadline_day=1, confidence=0.9,
                      target=target, max_count=12, batch=20, max_replications=40, jobs=1,
                      use_bound=False)
    assert plan.answer == expected
    assert {t.verdict for t in plan.trials} <= {"meets", "misses"}
    assert all(t.p in (0.0, 1.0) for t in plan.trials)  # a deterministic model


def test_the_lower_bound_skips_counts_that_cannot_succeed() -> None:
    """With the bound (the default), counts whose bound day for the target is after the
    deadline cost no replication: the same answer as the search without it, with counts
    ruled out at n = 0 and fewer replications in all."""
    kwargs = {"type_": "h", "deadline_day": 1, "confidence": 0.9, "target": 1.0,
              "max_count": 12, "batch": 20, "max_replications": 40, "jobs": 1}
    plain = plan_fleet(build(shuttle()), use_bound=False, **kwargs)  # type: ignore[arg-type]
    bounded = plan_fleet(build(shuttle()), **kwargs)  # type: ignore[arg-type]
    assert bounded.answer == plain.answer == 5
    ruled = [t for t in bounded.trials if t.verdict == "ruled_out"]
    assert ruled and all(t.n == 0 for t in ruled)
    assert all(t.value < 5 for t in ruled)  # never a count that can succeed
    assert sum(t.n for t in bounded.trials) < sum(t.n for t in plain.trials)


def test_fleet_changes_keep_the_split_between_bases() -> None:
    data = one_leg(n=10, count=3)
    data["sites"].append({"id": "q", "kind": "airfield", "lat": 0.5, "lon": 40.0})
    data["fleet"] = [{"type": "h", "count": 3, "base": "p"}, {"type": "h", "count": 1, "base": "q"}]
    s = build(data)
    assert [(e.base, e.count) for e in with_counts(s, {"h": 8}).fleet] == [("p", 6), ("q", 2)]
    assert [(e.base, e.count) for e in with_counts(s, {"h": 1}).fleet] == [("p", 1)]
    assert type_counts(scaled(s, 1.5)) == {"h": 5 + 2}


def test_real_model_stochastic_search(tmp_path: Path) -> None:
    """A noisy shuttle (flight times vary): the answer meets with its own lower limit, the
    count below it does not, and the folder and figure are written."""
    data = shuttle(n=1400)
    data["aircraft"]["h"]["flight_time_cv"] = 0.3  # type: ignore[index]
    plan = plan_fleet(build(data), type_="h", deadline_day=1, confidence=0.8, max_count=10,
                      batch=10, max_replications=80, jobs=1, out=tmp_path / "plan")
    assert plan.answer is not None
    t = plan.answer_trial
    assert t is not None and t.lower >= 0.8
    below = [x for x in plan.trials if x.candidate[0] == t.candidate[0] - 1]
    assert below and below[0].verdict != "meets"
    doc = json.loads((tmp_path / "plan" / "plan_fleet.json").read_text())
    assert doc["answer"] == plan.answer and doc["kind"] == "fleet_plan"
    assert (tmp_path / "plan" / "trials.csv").read_text().count("\n") == len(plan.trials) + 1


def dtsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_cli_json_and_out_with_figure(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    r = dtsim("plan", "fleet", "baseline", "--type", "ch47", "--deadline-day", "30",
              "--confidence", "0.9", "--target", "0.5", "--max", "8", "--batch", "20",
              "--max-replications", "40", "--jobs", "1", "--json", "--out", str(out))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["answer"] == 1 and doc["trials"][0]["candidate"] == "8 ch47"
    assert (out / "fleet_plan.png").stat().st_size > 1000
    assert (out / "complete.json").is_file()


BAD = [
    (["--type", "ch47", "--deadline-day", "46", "--confidence", "0.9"], "--deadline-day 46"),
    (["--type", "ch47", "--deadline-day", "15", "--confidence", "1"], "--confidence 1"),
    (["--type", "ch47", "--deadline-day", "15", "--confidence", "0"], "--confidence 0"),
    (["--type", "a400", "--deadline-day", "15", "--confidence", "0.9"], "'a400' is not in the fleet"),
    (["--type", "ch47", "--deadline-day", "15", "--confidence", "0.9", "--max", "5"],
     "--max 5: below the current count of ch47 (6)"),
    (["--type", "ch47", "--deadline-day", "15", "--confidence", "0.9", "--target", "0"],
     "--target 0"),
    (["--type", "ch47", "--deadline-day", "15", "--confidence", "0.9", "--target", "1.5"],
     "--target 1.5"),
    (["--deadline-day", "15", "--confidence", "0.9"], "exactly one of"),
    (["--types", "ch47,uh60", "--costs", "1", "--deadline-day", "15", "--confidence", "0.9"],
     "1 costs for 2 types"),
    (["--scale", "--max-scale", "0.5", "--deadline-day", "15", "--confidence", "0.9"],
     "--max-scale 0.5"),
]


@pytest.mark.parametrize(("args", "says"), BAD)
def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, args: list[str], says: str) -> None:
    out = tmp_path / "never"
    r = dtsim("plan", "fleet", "baseline", *args, "--out", str(out))
    problems, lines = refusal_problems(r.returncode, r.stdout, r.stderr)
    assert not problems, (problems, r.stderr)
    assert says in lines[0]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_api_refuses_the_same_before_running() -> None:
    s = build(one_leg(n=10, count=2, horizon_days=5))
    ran: list[object] = []

    def simulate(c: object, i: object) -> list[bool]:
        ran.append(c)
        return []

    for kw in ({"deadline_day": 6, "confidence": 0.9}, {"deadline_day": 3, "confidence": 1.2},
               {"deadline_day": 3, "confidence": 0.9, "max_count": 1},
               {"deadline_day": 3, "confidence": 0.9, "target": 0.0}):
        with pytest.raises(ExperimentError):
            plan_fleet(s, type_="h", simulate=simulate, **kw)  # type: ignore[arg-type]
    assert ran == []


def test_the_default_largest_count_grows_with_the_current_fleet() -> None:
    """Without --max the search goes to 60, or to four times the current count of the
    type searched where that is more: a fleet of 500 coaches was refused with the fixed
    60 ("--max 60: below the current count")."""
    from sim.planning.fleet import _space, default_max_count
    from tests.tiny_scenarios import one_leg, scenario

    assert default_max_count([6]) == 60 and default_max_count([]) == 60
    assert default_max_count([500, 20]) == 2000
    big = scenario(one_leg(n=10, count=100))
    space, current = _space(big, "h", False, None, None, None, 4.0, 0.25)
    assert current == 100 and space.ranges == ((1, 400),)
    space, _ = _space(scenario(one_leg(n=10, count=3)), "h", False, None, None, None, 4.0, 0.25)
    assert space.ranges == ((1, 60),)
