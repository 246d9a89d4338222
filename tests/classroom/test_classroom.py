"""The classroom: the exercise pack, answer keys, grading, and turn-by-turn play."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import sim
from sim.classroom.decisions import Context, as_triggers, compile_command, load_decisions
from sim.classroom.exercises import KeyEntry, answer_key, grade, read_answers
from sim.classroom.play import Game, interactive, replay
from sim.classroom.spec import Exercise, discover, find, is_question_spec
from sim.cli import app
from sim.scenario.loader import ScenarioError

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "scenarios" / "exercises"
SCENARIO_FILES = sorted(p for p in EXERCISES.glob("*.yaml") if not is_question_spec(p))
runner = CliRunner()


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def drop_wall(kpis: dict[str, Any]) -> dict[str, Any]:
    """The KPIs without the wall time and the bound gap (``run --json`` adds it)."""
    return {k: v for k, v in kpis.items() if k not in ("wall_seconds", "bound_gap")}


@pytest.fixture(scope="module")
def pack() -> list[Exercise]:
    return discover(EXERCISES)


@pytest.fixture(scope="module")
def keys(pack: list[Exercise]) -> dict[int, list[KeyEntry]]:
    return {ex.number: answer_key(ex) for ex in pack}


# ----- the pack --------------------------------------------------------------------------


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_exercise_scenario_validates_and_runs(path: Path) -> None:
    scenario = sim.load_scenario(path)
    result = sim.run(scenario, 1)
    assert result.kpis["detainees_total"] > 0
    assert result.kpis["delivered"] > 0


def test_pack_has_six_exercises_first_steps_to_advanced(pack: list[Exercise]) -> None:
    assert [ex.number for ex in pack] == list(range(1, len(pack) + 1))
    assert len(pack) >= 6
    for ex in pack:
        assert 3 <= len(ex.spec.questions) <= 5, ex.slug
        assert ex.scenario_path.exists() and ex.worksheet_path.exists()
        text = ex.worksheet_path.read_text(encoding="utf-8")
        for heading in ("Learning goals", "Background", "Questions"):
            assert heading in text, (ex.slug, heading)
        for q in ex.spec.questions:
            assert f"**{q.id}**" in text, (ex.slug, q.id)
            assert q.hint, (ex.slug, q.id)
            if q.answer == "number":
                assert q.unit, (ex.slug, q.id)
                assert q.tolerance.describe(q.unit) in text, (ex.slug, q.id)


def test_question_specs_are_the_only_non_scenario_yaml() -> None:
    specs = [p for p in EXERCISES.rglob("*.yaml") if is_question_spec(p)]
    assert len(specs) >= 6
    for p in EXERCISES.rglob("*.yaml"):
        if not is_question_spec(p):
            sim.load_scenario(p)  # every other YAML file is a scenario


def test_every_key_is_reproducible(
    pack: list[Exercise], keys: dict[int, list[KeyEntry]]
) -> None:
    for ex in pack:
        again = answer_key(ex)
        assert [(e.id, e.value) for e in again] == [(e.id, e.value) for e in keys[ex.number]]
        for e in again:
            assert e.value is None or isinstance(e.value, str) or math.isfinite(e.value)


def test_cycle_time_key_matches_hand_arithmetic(keys: dict[int, list[KeyEntry]]) -> None:
    key = {e.id: e.value for e in keys[2]}
    # 1,200 detainees / 30 seats; cycle = 0.5 load + 1.5 fly + 0.25 unload + 0.5 turn + 1.5 back
    assert key["q1"] == 40
    assert key["q2"] == pytest.approx(1.75, abs=0.01)
    assert key["q3"] == pytest.approx(2.25 + 9 * 4.25, abs=0.1)
    assert key["q4"] == 4 * 6 * 30
    assert key["q5"] == pytest.approx(2.25 + 6 * 4.25, abs=0.1)


# ----- grading ---------------------------------------------------------------------------


def test_check_command_grades_yaml_and_json(tmp_path: Path) -> None:
    """Hand-worked answers to exercise 2 (see tests/classroom/test_keys_by_hand.py)."""
    good = tmp_path / "good.yaml"
    good.write_text("q1: 40\nq2: 1.75\nq3: 40.5\nq4: 720\nq5: 27.75\n")
    res = cli("exercises", "check", "2", str(good), "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["score"] == doc["out_of"] == 5
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"q1": 40, "q2": 1.75, "q3": 60.0, "q4": 720, "q5": 27.75}))
    res = cli("exercises", "check", "02", str(wrong), "--json")
    doc = json.loads(res.stdout)
    assert [q["id"] for q in doc["questions"] if not q["correct"]] == ["q3"]
    res = cli("exercises", "check", "cycle-time", str(wrong), "--pass-mark", "4")
    assert res.exit_code == 0 and "Score: 4 / 5" in res.stdout


def test_unanswered_question_is_marked(tmp_path: Path, keys: dict[int, list[KeyEntry]]) -> None:
    ex = find("2", EXERCISES)
    path = tmp_path / "partial.yaml"
    path.write_text("q1: 40\n")
    grades = grade(ex, read_answers(path, ex), keys[2])
    assert grades[0].correct and not grades[1].answered
    assert "not answered" in grades[1].feedback


def test_malformed_answer_file_names_question_and_expectation(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text("q1: 40\nq2: one and three quarters\nq9: 3\n")
    res = cli("exercises", "check", "2", str(path))
    assert res.exit_code == 2
    assert f"{path}:2: q2: expected a number in hours" in res.stderr
    assert f"{path}:3: unknown question 'q9'" in res.stderr
    assert "Traceback" not in res.output
    path.write_text("q1: [40\n")
    res = cli("exercises", "check", "2", str(path))
    assert res.exit_code == 2 and "YAML syntax error" in res.stderr
    path.write_text("- 40\n- 1.75\n")
    res = cli("exercises", "check", "2", str(path))
    assert res.exit_code == 2 and "expected a mapping of question ids" in res.stderr


def test_unknown_exercise_number() -> None:
    for args in (("show", "99"), ("key", "0"), ("check", "7", "answers.yaml")):
        res = cli("exercises", *args)
        assert res.exit_code == 2, args
        assert "unknown exercise" in res.stderr and "exercises are: 1 (read-a-run)" in res.stderr


def test_list_show_and_key_json() -> None:
    res = cli("exercises", "list", "--json")
    assert res.exit_code == 0
    assert len(json.loads(res.stdout)) >= 6
    res = cli("exercises", "show", "2", "--json")
    doc = json.loads(res.stdout)
    assert doc["questions"][0]["id"] == "q1" and "Learning goals" in doc["markdown"]
    res = cli("exercises", "show", "1")
    assert res.exit_code == 0 and "Learning goals" in res.stdout
    res = cli("exercises", "key", "2", "--json")
    assert res.exit_code == 0
    assert json.loads(res.stdout)["key"][0]["value"] == 40


# ----- play ------------------------------------------------------------------------------

DECISIONS = """\
# a scripted game
- {day: 1.25, command: request ch47 2}
- {day: 2, command: prioritise hasakah}
- day: 3.5
  command: release all
- {day: 4, action: {ground: {modes: [rotary], hours: 6}}}
- {day: 5.25, command: policy largest_queue}
- {day: 6, command: hold derik}
"""


def test_play_decision_file_equals_run_with_equivalent_triggers(tmp_path: Path) -> None:
    scen = EXERCISES / "04-the-front.yaml"
    dec = tmp_path / "decisions.yaml"
    dec.write_text(DECISIONS)
    res = cli("play", str(scen), "--seed", "3", "--decisions", str(dec), "--json")
    assert res.exit_code == 0, res.output
    played = json.loads(res.stdout)
    names = [d["name"] for d in played["decisions"]]
    # The same decisions written by hand as scenario triggers with {day: D} conditions.
    actions = [
        "[{add_aircraft: {type: ch47, count: 2, base: rmelan, delay_hours: 24}}]",
        "[{close_site: qamishli}, {close_site: derik}, {close_site: shaddadi}, "
        "{close_site: raqqa}]",
        "[{open_site: qamishli}, {open_site: derik}, {open_site: shaddadi}, {open_site: raqqa}]",
        "[{ground: {modes: [rotary], hours: 6}}]",
        "[{set_dispatch: largest_queue}]",
        "[{close_site: derik}]",
    ]
    days = [1.25, 2, 3.5, 4, 5.25, 6]
    lines = [f"extends: {scen}", "triggers:"]
    for name, day, then in zip(names, days, actions, strict=True):
        lines.append(f"  - {{name: {json.dumps(name)}, when: {{day: {day}}}, then: {then}}}")
    equiv = tmp_path / "equivalent.yaml"
    equiv.write_text("\n".join(lines) + "\n")
    res = cli("run", str(equiv), "--seed", "3", "--json")
    assert res.exit_code == 0, res.output
    ran = json.loads(res.stdout)
    assert drop_wall(played["kpis"]) == drop_wall(ran)
    assert any(t["name"].startswith("player: ") for t in ran["triggers_fired"])
    # and the decisions changed something against the default plan
    assert drop_wall(played["kpis"]) != drop_wall(played["default_kpis"])


@pytest.mark.parametrize("seed", [1, 2])
def test_replay_equals_as_triggers_on_baseline(tmp_path: Path, seed: int) -> None:
    scenario = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    dec = tmp_path / "d.yaml"
    dec.write_text(DECISIONS)
    decisions = load_decisions(dec, scenario)
    played = replay(Game(scenario, seed), decisions, lambda _: None)
    equiv = scenario.model_copy(update={"triggers": [*scenario.triggers, *as_triggers(decisions)]})
    assert drop_wall(played.kpis) == drop_wall(sim.run(equiv, seed).kpis)


def test_interactive_pauses_match_run_with_triggers() -> None:
    scenario = sim.load_scenario(EXERCISES / "04-the-front.yaml")
    inputs = iter(["", "policy nearest_first", "bogus", "", "request ch47 1", "", "hold derik"])

    def ask(_: str) -> str:
        try:
            return next(inputs)
        except StopIteration:
            raise EOFError from None

    said: list[str] = []
    game = Game(scenario, 5, every_hours=12)
    played = interactive(game, ask, said.append)
    assert any("cannot do that: unknown command 'bogus'" in s for s in said)
    assert [d.day for d in game.decisions] == [0.75, 1.25, 1.75]
    equiv = scenario.model_copy(
        update={"triggers": [*scenario.triggers, *as_triggers(game.decisions)]})
    assert drop_wall(played.kpis) == drop_wall(sim.run(equiv, 5).kpis)
    assert game.situation()["held_by_you"] == ["derik"]


def test_record_then_replay_gives_the_same_game(tmp_path: Path) -> None:
    scen = EXERCISES / "04-the-front.yaml"
    dec = tmp_path / "decisions.yaml"
    dec.write_text(DECISIONS)
    rec = tmp_path / "out" / "recorded.yaml"
    first = cli("play", str(scen), "--decisions", str(dec), "--record", str(rec), "--json")
    assert first.exit_code == 0, first.output
    second = cli("play", str(scen), "--decisions", str(rec), "--json")
    assert second.exit_code == 0, second.output
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert drop_wall(a["kpis"]) == drop_wall(b["kpis"])
    assert [d["name"] for d in a["decisions"]] == [d["name"] for d in b["decisions"]]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- {day: 1, command: policy largest_queue}\n- {day: 2, command: hold nowhere}\n",
         2, "unknown site 'nowhere'"),
        ("- {day: 1, command: request chinook 2}\n", 1, "unknown vehicle type 'chinook'"),
        ("- day: 1\n  action: {add_aircraft: {type: c17, count: 1, base: rmelan}}\n",
         2, "unknown aircraft type 'c17'"),
        ("- day: 1\n  action: {close_site: atlantis}\n", 2, "unknown site 'atlantis'"),
        ("- {day: 1.01, command: policy largest_queue}\n", 1, "not a trigger check tick"),
        ("- {day: 1, command: request ch47 50}\n", 1, "only 6 more ch47"),
    ],
)
def test_bad_decision_file_exits_2_with_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    dec = tmp_path / "bad.yaml"
    dec.write_text(text)
    res = cli("play", str(ROOT / "scenarios" / "baseline.yaml"), "--decisions", str(dec))
    assert res.exit_code == 2, res.output
    assert f"{dec}:{line}:" in res.stderr and message in res.stderr
    assert "Traceback" not in res.output


def test_invalid_decisions_explain() -> None:
    scenario = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    ctx = Context(scenario)
    from sim.classroom.decisions import DecisionError

    for text, message in [
        ("policy fastest", "unknown policy"),
        ("hold bgw", "is a reception"),
        ("release hasakah", "not held by you"),
        ("request ch47 two", "whole number"),
        ("ground boats 4", "unknown mode"),
        ("fly to the moon", "unknown command"),
    ]:
        with pytest.raises(DecisionError, match=message):
            compile_command(text, 1.0, ctx)
    assert ctx.held == [] and not ctx.requested


def test_pty_session_reaches_the_debrief(tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    rec = tmp_path / "rec.yaml"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "sim", "play", str(EXERCISES / "02-cycle-time.yaml"), "--seed", "1",
         "--record", str(rec)],
        cwd=str(ROOT), encoding="utf-8", timeout=60,
    )
    child.expect(r"=== day 0 .*\] > ")
    child.sendline("policy fastest_please")
    child.expect("cannot do that: unknown policy")
    child.expect(r"\] > ")
    child.sendline("request helo 2")
    child.expect("ok: request helo 2: 2 helo will be available at camp_a in 48 h")
    child.expect(r"\] > ")
    child.sendline("")
    child.expect(r"=== day 1 .*\] > ")
    child.sendline("finish")
    child.expect("Debrief")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "request helo 2" in rec.read_text()


def test_pty_end_of_input_plays_out_and_debriefs() -> None:
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(
        sys.executable, ["-m", "sim", "play", str(EXERCISES / "02-cycle-time.yaml")],
        cwd=str(ROOT), encoding="utf-8", timeout=60,
    )
    child.expect(r"\] > ")
    child.sendeof()
    child.expect("end of input")
    child.expect("Debrief")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_play_json_needs_decisions() -> None:
    res = cli("play", str(EXERCISES / "02-cycle-time.yaml"), "--json")
    assert res.exit_code == 2 and "--json needs --decisions" in res.stderr


def test_bad_spec_is_reported_with_line(tmp_path: Path) -> None:
    (tmp_path / "01-x.yaml").write_text((EXERCISES / "02-cycle-time.yaml").read_text())
    (tmp_path / "01-x.md").write_text("# x\n")
    (tmp_path / "01-x.questions.yaml").write_text(
        "title: x\nscenario: 01-x.yaml\nworksheet: 01-x.md\nquestions:\n"
        "  - id: q1\n    text: t\n    metric: {kpi: delivered}\n    aggregate: average\n"
    )
    with pytest.raises(ScenarioError) as err:
        discover(tmp_path)
    assert "01-x.questions.yaml:8: questions.q1.aggregate" in err.value.problems[0]


def test_spec_metric_that_does_not_fit_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "01-x.yaml").write_text((EXERCISES / "02-cycle-time.yaml").read_text())
    (tmp_path / "01-x.md").write_text("# x\n")
    (tmp_path / "01-x.questions.yaml").write_text(
        "title: x\nscenario: 01-x.yaml\nworksheet: 01-x.md\nquestions:\n"
        "  - id: q1\n    text: t\n    metric: {kpi: no_such_kpi}\n"
    )
    res = cli("exercises", "key", "1", "--dir", str(tmp_path))
    assert res.exit_code == 2
    assert "01-x.questions.yaml: question q1: no KPI 'no_such_kpi'" in res.stderr


def test_shipped_demo_decisions_replay() -> None:
    """The example decision file in docs/ stays valid for the shipped baseline."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "play", "scenarios/baseline.yaml", "--seed", "1",
         "--decisions", "docs/examples/demo-decisions.yaml"],
        cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Debrief" in proc.stdout and "hold hasakah" in proc.stdout


def test_demo_decisions_change_a_headline_kpi() -> None:
    """The demonstration game changes the outcome visibly: completion and Hasakah's emptied
    day move by more than the debrief's tolerance, and the per-prison table shows it."""
    from sim.classroom.play import debrief_rows, prison_rows

    s = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    game = Game(s, 1, 24.0, 6.0, 1.0)
    script = load_decisions(ROOT / "docs" / "examples" / "demo-decisions.yaml", s, 1.0)
    mine = replay(game, script, lambda _text: None).kpis
    default = sim.run(s, 1).kpis
    verdicts = {r["kpi"]: r["verdict"] for r in debrief_rows(mine, default)}
    headline = ("delivered", "escaped", "prisons_cleared_day")
    assert any(verdicts[k] in ("better", "worse") for k in headline), verdicts
    hasakah = next(p for p in prison_rows(mine, default) if p["site"] == "hasakah")
    assert abs(hasakah["emptied_day"] - hasakah["default_emptied_day"]) > 1.0


def test_key_intervals_use_the_same_student_t_as_the_experiments() -> None:
    """One Student t: a key's half-width equals replicate's for the same values (35 df: 2.030, not 2.042)."""
    from sim.classroom.metrics import aggregate
    from sim.common.stats import summarize

    values: list[float | str | None] = [float(i % 7) for i in range(36)]
    assert aggregate(values, "ci95_halfwidth") == pytest.approx(summarize(values)["half_width"], rel=1e-12)


def test_recorded_decisions_get_the_permissions_of_a_plain_file(tmp_path: Path) -> None:
    """A recorded game is written with the shared atomic helper: readable by others like any file."""
    import stat

    from sim.classroom.decisions import write_decisions

    plain = tmp_path / "plain.yaml"
    plain.write_text("[]\n")
    recorded = tmp_path / "record.yaml"
    write_decisions(recorded, [], "header")
    assert recorded.read_text() == "# header\n[]\n"
    assert stat.S_IMODE(recorded.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# ----- the debrief and --record ----------------------------------------------------------


def _kpis(completion: float, escaped: float = 0.0, emptied: float = 3.0) -> dict[str, Any]:
    return {"delivered": 100.0, "escaped": escaped, "remaining": 0.0,
            "prisons_cleared_day": completion, "registration_complete_day": 9.0,
            "day_to_90": completion - 1.0, "day_to_100": completion if not escaped else None,
            "at_risk_detainee_days": 50.0, "mean_transfer_hours": 6.0,
            "peak_registration_backlog": 10.0, "sorties": {"ch47": 10}, "flight_hours": {"ch47": 30.0},
            "sites": {"hasakah": {"delivered": 100, "escaped": escaped, "emptied_day": emptied}}}


def test_debrief_calls_a_tiny_difference_about_the_same() -> None:
    """+0.01 days on one seed is noise, not "worse"; +0.5 days is worse; an escape always counts."""
    from sim.classroom.play import debrief_rows, format_debrief, prison_rows

    by = {r["kpi"]: r for r in debrief_rows(_kpis(8.01), _kpis(8.0))}
    assert by["prisons_cleared_day"]["difference"] == 0.01
    assert by["prisons_cleared_day"]["verdict"] == "about the same"
    rows = debrief_rows(_kpis(8.5, escaped=1), _kpis(8.0))
    by = {r["kpi"]: r for r in rows}
    assert by["day_to_90"]["verdict"] == "worse" and by["escaped"]["verdict"] == "worse"
    assert by["day_to_100"]["verdict"] == "worse"  # never all delivered against day 8
    by = {r["kpi"]: r for r in debrief_rows(_kpis(8.5), _kpis(8.0))}
    assert by["prisons_cleared_day"]["verdict"] == "worse"  # as many lost, cleared later
    text = format_debrief(debrief_rows(_kpis(8.01), _kpis(8.0)), [],
                          prison_rows(_kpis(8.01), _kpis(8.0, emptied=2.5)), seed=7)
    assert "worse" not in text and "about the same" in text
    assert "one run (seed 7)" in text and "noise" in text


def test_debrief_never_calls_losing_a_prison_faster() -> None:
    """Prisons cleared two days earlier because 40 escaped is not better: the clearing day is
    not judged between different losses, and the delivery days say what happened."""
    from sim.classroom.play import debrief_rows, format_debrief

    lost = _kpis(6.0, escaped=40)
    lost["delivered"], lost["day_to_90"] = 60.0, None
    rows = debrief_rows(lost, _kpis(8.0))
    by = {r["kpi"]: r for r in rows}
    assert by["prisons_cleared_day"]["difference"] == -2.0
    assert by["prisons_cleared_day"]["verdict"] == "not judged"
    assert by["day_to_100"]["verdict"] == "worse" and by["day_to_90"]["verdict"] == "worse"
    text = format_debrief(rows, [])
    assert "earlier" not in text and "did not deliver everyone" in text


def test_debrief_has_a_per_prison_breakdown() -> None:
    from sim.classroom.play import debrief_rows, format_debrief, prison_rows

    prisons = prison_rows(_kpis(8.0, escaped=5, emptied=4.25), _kpis(8.0, emptied=2.5))
    assert prisons == [{"site": "hasakah", "delivered": 100, "default_delivered": 100,
                        "escaped": 5, "default_escaped": 0.0,
                        "emptied_day": 4.25, "default_emptied_day": 2.5}]
    text = format_debrief(debrief_rows(_kpis(8.0), _kpis(8.0)), [], prisons)
    line = next(ln for ln in text.splitlines() if ln.startswith("hasakah"))
    assert "100 / 100" in line and "5 / 0" in line and "4.25 / 2.50" in line


def test_play_json_has_the_prison_breakdown(tmp_path: Path) -> None:
    decisions = tmp_path / "d.yaml"
    decisions.write_text("- {day: 0.25, command: hold hasakah}\n- {day: 3.25, command: release all}\n")
    res = cli("play", "scenarios/baseline.yaml", "--decisions", str(decisions), "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert {p["site"] for p in doc["prisons"]} == set(doc["kpis"]["sites"])


@pytest.mark.parametrize("where", ["folder", "parent-is-a-file", "read-only-folder"])
def test_record_path_is_checked_before_playing(tmp_path: Path, where: str) -> None:
    """A bad --record path is bad input (exit 2) before the game, and nothing is written."""
    import os

    decisions = tmp_path / "d.yaml"
    decisions.write_text("- {day: 0.25, command: hold hasakah}\n")
    target = {"folder": tmp_path / "games", "parent-is-a-file": tmp_path / "d.yaml" / "game.yaml",
              "read-only-folder": tmp_path / "ro" / "game.yaml"}[where]
    if where == "folder":
        target.mkdir()
    if where == "read-only-folder":
        target.parent.mkdir()
        target.parent.chmod(0o555)
        if os.access(target.parent, os.W_OK):  # running as a superuser: nothing is read-only
            target.parent.chmod(0o755)
            pytest.skip("permissions are not enforced for this user")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    res = cli("play", "scenarios/baseline.yaml", "--decisions", str(decisions),
              "--record", str(target))
    if where == "read-only-folder":
        target.parent.chmod(0o755)
    assert res.exit_code == 2, res.output
    assert f"--record {target}" in res.stderr and "Debrief" not in res.stdout
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_debrief_reads_fewer_sorties_as_fewer_not_as_better_or_the_same() -> None:
    """206 sorties and 20 flight hours for 60 delivered against 296 and 30 for 100: the
    effort is smaller ("fewer", no judgement), but each person delivered cost more flight
    time (1/3 h against 0.3 h): worse."""
    from sim.classroom.play import debrief_rows

    mine, default = _kpis(8.0), _kpis(8.0)
    mine.update(delivered=60.0, sorties={"bus": 206}, flight_hours={"bus": 20.0})
    default.update(sorties={"bus": 296}, flight_hours={"bus": 30.0})
    by = {r["kpi"]: r for r in debrief_rows(mine, default)}
    assert by["sorties_total"]["verdict"] == "fewer"
    assert by["flight_hours_total"]["verdict"] == "fewer"
    assert by["flight_hours_per_delivered"]["you"] == pytest.approx(0.333)
    assert by["flight_hours_per_delivered"]["verdict"] == "worse"
    by = {r["kpi"]: r for r in debrief_rows(default, mine)}
    assert by["sorties_total"]["verdict"] == "more"


def test_morning_report_states_a_reception_without_beds_plainly() -> None:
    """A reception with beds reads "occupancy N of B beds"; one without, "(no bed limit)"
    (it read "of no limit beds")."""
    from sim.scenario.loader import build
    from tests.tiny_scenarios import one_leg

    for beds, expected in ((None, "occupancy 0 (no bed limit); intake no limit"),
                           (500, "occupancy 0 of 500 beds; intake no limit")):
        data = one_leg(n=20, reception_kw={} if beds is None else {"beds": beds})
        report = Game(build(data), 1).report()
        assert f"Facility r (open): {expected}" in report, report


def test_play_stops_asking_once_nobody_is_left_to_move() -> None:
    """Once every detainee is delivered or lost, no command can change the operation: the
    game says so and goes to the debrief instead of pausing to the horizon."""
    from sim.scenario.loader import build
    from tests.tiny_scenarios import one_leg

    asked: list[str] = []
    said: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return ""

    # 20 people, one 30-seat aircraft, a one-hour leg: all delivered before the 06:00 pause.
    game = Game(build(one_leg(n=20, horizon_days=5)), 1, every_hours=6)
    played = interactive(game, ask, said.append)
    assert asked == [] and any("nothing is left to decide" in s for s in said)
    assert played.kpis["delivered"] == 20
    # 200 people need seven round trips of two hours: the game asks until they are moved.
    asked.clear()
    said.clear()
    game = Game(build(one_leg(n=200, horizon_days=5)), 1, every_hours=6)
    played = interactive(game, ask, said.append)
    last_pause_hour = 6.0 + 6.0 * (len(asked) - 1)
    assert 1 <= len(asked) < 4 * 5 and played.kpis["prisons_cleared_day"] * 24 > last_pause_hour
    assert any("nothing is left to decide" in s for s in said)


def test_morning_report_counts_the_people_aboard_vehicles() -> None:
    """A pause while people are in the air: the report counts them, so that held,
    aboard, delivered and escaped add up to everyone (a prison emptied, 7,000 of 25,000
    on the road and 18,000 delivered read as if 7,000 had gone missing)."""
    from sim.scenario.loader import build
    from tests.tiny_scenarios import one_leg

    # 30 people, one 30-seat aircraft: loaded at once, an hour in the air from about 0.3 h.
    game = Game(build(one_leg(n=30, horizon_days=2)), 1, every_hours=6)
    game.advance_to(1.0)
    s = game.situation()
    held = sum(p["held"] for p in s["prisons"])
    assert s["in_vehicles"] == 30 and held == 0 and s["delivered"] == 0
    assert "aboard vehicles 30;" in game.report()
    game.advance_to(6.0)
    s = game.situation()
    assert s["in_vehicles"] == 0 and s["delivered"] == 30
    assert "aboard" not in game.report()
