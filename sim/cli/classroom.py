"""Classroom commands: ``dtsim exercises list|show|key|check`` and ``dtsim play``.

Registered on the main app by ``sim.cli.app``. The classroom modules are imported
inside the commands, so that ``dtsim --help`` does not load them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from sim.cli.helpers import BadInput, guarded, scenario_path

exercises_app = typer.Typer(
    name="exercises",
    help="The graded exercise pack: list, show a worksheet, compute a key, check answers.",
    no_args_is_help=True,
)

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Exercise folder (default: scenarios/exercises)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]

BELOW_PASS_MARK = 3
"""Exit code of ``exercises check`` when the score is below the pass mark.

Apart from bad input (2) and an internal error (1), so that a script can tell
"graded, not passed" from "could not grade"."""


def pass_mark_needed(mark: str, out_of: int) -> int:
    """Questions needed to pass: ``mark`` is a count (``4``), a fraction (``0.8``) or a
    percentage (``80%``); ``all`` (the default) is every question. BadInput otherwise."""
    text = mark.strip().lower()
    if text == "all":
        return out_of
    try:
        if text.endswith("%"):
            fraction = float(text[:-1]) / 100.0
        elif text.isdigit():
            count = int(text)
            if count > out_of:
                raise BadInput(f"--pass-mark {mark}: more than the {out_of} questions")
            return count
        else:
            fraction = float(text)
    except ValueError:
        raise BadInput(f"--pass-mark {mark!r}: expected a count (4), a fraction (0.8), "
                       "a percentage (80%) or 'all'") from None
    if not 0.0 <= fraction <= 1.0:
        raise BadInput(f"--pass-mark {mark}: a fraction must be between 0 and 1")
    import math

    return math.ceil(fraction * out_of - 1e-9)


def _echo_json(doc: Any) -> None:
    typer.echo(json.dumps(doc, indent=2, default=str))


def _key_doc(entries: list[Any]) -> list[dict[str, Any]]:
    return [
        {"id": e.id, "text": e.text, "unit": e.unit, "value": e.value, "tolerance": e.tolerance,
         "per_seed": e.per_seed, "detail": e.detail}
        for e in entries
    ]


@exercises_app.command("list")
def list_cmd(folder: DirOption = None, as_json: JsonOption = False) -> None:
    """List the exercises, first steps to advanced."""
    @guarded
    def body() -> None:
        from sim.classroom.spec import discover

        exs = discover(folder)
        if as_json:
            _echo_json([
                {"number": e.number, "slug": e.slug, "title": e.spec.title, "level": e.spec.level,
                 "summary": e.spec.summary, "scenario": str(e.scenario_path),
                 "worksheet": str(e.worksheet_path), "questions": len(e.spec.questions)}
                for e in exs
            ])
            return
        for e in exs:
            typer.echo(f"{e.number:>2}  {e.spec.title}  [{e.spec.level}]")
            typer.echo(f"    {e.spec.summary}")
            typer.echo(f"    scenario {e.scenario_path}  worksheet {e.worksheet_path}")

    body()


@exercises_app.command("show")
def show_cmd(
    number: Annotated[str, typer.Argument(help="Exercise number (or slug).")],
    folder: DirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print an exercise's worksheet."""
    @guarded
    def body() -> None:
        from sim.classroom.spec import find

        ex = find(number, folder)
        text = ex.worksheet_path.read_text(encoding="utf-8")
        if as_json:
            _echo_json({
                "number": ex.number, "slug": ex.slug, "title": ex.spec.title,
                "scenario": str(ex.scenario_path), "worksheet": str(ex.worksheet_path),
                "markdown": text,
                "questions": [
                    {"id": q.id, "text": q.text, "unit": q.unit, "answer": q.answer,
                     "tolerance": q.tolerance.describe(q.unit) if q.answer == "number"
                     else "exact name", "hint": q.hint}
                    for q in ex.spec.questions
                ],
            })
            return
        typer.echo(text.rstrip())
        typer.echo(f"\nScenario: {ex.scenario_path}")

    body()


@exercises_app.command("key")
def key_cmd(
    number: Annotated[str, typer.Argument(help="Exercise number (or slug).")],
    folder: DirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compute the answer key by running the simulator, with tolerances."""
    @guarded
    def body() -> None:
        from sim.classroom.exercises import answer_key, format_value
        from sim.classroom.spec import find

        ex = find(number, folder)
        entries = answer_key(ex)
        if as_json:
            _echo_json({"number": ex.number, "slug": ex.slug, "title": ex.spec.title,
                        "key": _key_doc(entries)})
            return
        typer.echo(f"Answer key, exercise {ex.number}: {ex.spec.title}")
        for e in entries:
            typer.echo(f"{e.id}: {format_value(e.value, e.unit)}   (tolerance {e.tolerance})")
            typer.echo(f"    {e.text}")
            if e.detail:
                typer.echo(f"    tried: {e.detail}")

    body()


@exercises_app.command("check")
def check_cmd(
    number: Annotated[str, typer.Argument(help="Exercise number (or slug).")],
    answers: Annotated[Path, typer.Argument(help="Answer file (YAML or JSON): q1: 5950 ...")],
    folder: DirOption = None,
    reveal: Annotated[bool, typer.Option("--reveal", help="Show the key of wrong answers.")] = False,
    pass_mark: Annotated[
        str,
        typer.Option("--pass-mark",
                     help="Correct answers needed to pass: a count (4), a fraction (0.8), a "
                          "percentage (80%) or 'all'. Below it the exit code is 3."),
    ] = "all",
    as_json: JsonOption = False,
) -> None:
    """Grade an answer file question by question; exit 3 below the pass mark."""
    @guarded
    def body() -> None:
        from sim.classroom.exercises import answer_key, format_value, grade, read_answers
        from sim.classroom.spec import find

        ex = find(number, folder)
        needed = pass_mark_needed(pass_mark, len(ex.spec.questions))
        given = read_answers(answers, ex)
        grades = grade(ex, given, answer_key(ex))
        score = sum(g.correct for g in grades)
        passed = score >= needed
        if as_json:
            _echo_json({
                "number": ex.number, "slug": ex.slug, "score": score, "out_of": len(grades),
                "pass_mark": needed, "passed": passed,
                "questions": [
                    {"id": g.id, "correct": g.correct, "answered": g.answered, "answer": g.answer,
                     "feedback": g.feedback, "tolerance": g.tolerance,
                     **({"key": g.key} if reveal else {})}
                    for g in grades
                ],
            })
            if not passed:
                raise typer.Exit(BELOW_PASS_MARK)
            return
        typer.echo(f"Exercise {ex.number}: {ex.spec.title}")
        for g in grades:
            mark = "OK " if g.correct else "-- "
            typer.echo(f"{mark}{g.id}: {g.feedback}")
            if reveal and not g.correct:
                q = ex.question(g.id)
                typer.echo(f"     key: {format_value(g.key, q.unit)}")
        typer.echo(f"Score: {score} / {len(grades)} "
                   f"({'passed' if passed else 'below'} the pass mark of {needed})")
        if not passed:
            raise typer.Exit(BELOW_PASS_MARK)

    body()


def play_cmd(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario file.")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed.")] = 1,
    decisions: Annotated[
        Path | None, typer.Option("--decisions", help="Replay this decision file (no prompts).")
    ] = None,
    record: Annotated[
        Path | None, typer.Option("--record", help="Save the decisions made to this file.")
    ] = None,
    every_hours: Annotated[
        float, typer.Option("--every-hours", min=0.01, help="Hours between pauses.")
    ] = 24.0,
    first_hour: Annotated[
        float, typer.Option("--first-hour", min=0, help="Hour of day 0 of the first pause.")
    ] = 6.0,
    request_factor: Annotated[
        float,
        typer.Option("--request-limit", min=0,
                     help="Requests per type, as a multiple of the type's initial fleet."),
    ] = 1.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --decisions: print the debrief as JSON.")
    ] = False,
) -> None:
    """Play the operation day by day: each morning see the situation and decide."""
    @guarded
    def body() -> None:
        import sim
        from sim.classroom.decisions import load_decisions, record_path_problem, write_decisions
        from sim.classroom.play import (
            Game,
            debrief_rows,
            format_debrief,
            interactive,
            prison_rows,
            replay,
        )

        if record is not None and (problem := record_path_problem(record)):
            raise BadInput(f"--record {record}: {problem}")
        s = sim.load_scenario(scenario_path(scenario))
        if as_json and decisions is None:
            raise BadInput("--json needs --decisions (an interactive game prompts on stdout)")
        if first_hour >= 24 * s.horizon_days:
            raise BadInput(f"--first-hour {first_hour:g} is after the end of the run")
        game = Game(s, seed, every_hours, first_hour, request_factor)
        quiet = as_json

        def say(text: str) -> None:
            if not quiet:
                typer.echo(text)

        if decisions is not None:
            script = load_decisions(decisions, s, request_factor)
            result = replay(game, script, say)
        else:
            result = interactive(game, input, say)
        default = sim.run(s, seed)
        rows = debrief_rows(result.kpis, default.kpis)
        prisons = prison_rows(result.kpis, default.kpis)
        if record is not None:
            write_decisions(record, game.decisions,
                            f"dtsim play decisions: scenario {s.name}, seed {seed}\n"
                            f"replay: dtsim play SCENARIO --seed {seed} --decisions FILE")
        if as_json:
            _echo_json({"kpis": result.kpis, "default_kpis": default.kpis, "debrief": rows,
                        "prisons": prisons,
                        "decisions": [d.as_record() | {"name": d.name} for d in game.decisions]})
            return
        say(format_debrief(rows, game.decisions, prisons, seed))
        if record is not None:
            say(f"decisions saved to {record}")

    body()


def register(app: typer.Typer) -> None:
    """Add ``exercises`` and ``play`` to ``app``."""
    app.add_typer(exercises_app, name="exercises")
    app.command("play")(play_cmd)
