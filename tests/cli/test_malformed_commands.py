"""A corpus of malformed arguments over every command (scenario files have their own
corpus in tests/scenario/test_malformed_corpus.py).

Each case must end in exit code 2 with exactly one message line (``error: ...`` or
``file:line: ...``) that contains the expected words, no traceback, nothing on
stdout, and nothing written anywhere in the working folder. The cases run
in-process one test each; ``test_command_corpus_in_bounded_memory`` runs them all
again in a child process whose address space is capped.

Run this file as a script to run the corpus once
(``PYTHONPATH=tests python tests/cli/test_malformed_commands.py FOLDER``) and print the cases that fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from exit2 import refusal_problems

ROOT = Path(__file__).resolve().parents[2]
TOY = str(ROOT / "tests" / "data" / "toy_experiment.yaml")
CORPUS_MEMORY_BYTES = 1_500_000_000
LINE_STYLE = re.compile(r"^(error: |[^\s:][^:]*:\d+: )")


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    needles: tuple[str, ...] = ()


def _cases() -> list[Case]:
    c: list[Case] = []

    def add(case_id: str, args: list[str], *needles: str) -> None:
        c.append(Case(case_id, tuple(args), needles))

    # run / validate / schema
    add("run-seed-text", ["run", TOY, "--seed", "x"], "--seed")
    add("run-seed-negative", ["run", TOY, "--seed", "-1"], "--seed")
    add("run-out-empty", ["run", TOY, "--out", ""], "--out")
    add("run-out-under-file", ["run", TOY, "--out", "afile/sub"], "afile")
    add("run-set-empty-path", ["run", TOY, "--set", "=1"], "--set")
    add("run-set-no-equals", ["run", TOY, "--set", "a.b.c"], "expected path=value")
    add("run-set-unknown", ["run", TOY, "--set", "nosuch=1"], "nosuch")
    add("run-unknown-option", ["run", TOY, "--nosuchoption"], "--nosuchoption")
    add("run-missing-file", ["run", "nosuch.yaml"], "nosuch.yaml")
    add("run-folder", ["run", "emptydir"], "emptydir")
    # bound
    add("bound-missing-file", ["bound", "nosuch.yaml"], "nosuch.yaml")
    add("bound-set-unknown", ["bound", TOY, "--set", "nosuch=1"], "nosuch")
    add("bound-set-no-equals", ["bound", TOY, "--set", "a.b.c"], "expected path=value")
    add("bound-step-zero", ["bound", TOY, "--step-hours", "0"], "--step-hours")
    add("bound-out-under-file", ["bound", TOY, "--out", "afile/sub"], "afile")
    add("unknown-command", ["nosuchcommand"], "nosuchcommand")
    add("validate-nothing", ["validate"], "Missing argument")
    add("validate-missing", ["validate", "nosuch.yaml"], "nosuch.yaml")
    add("validate-empty-folder", ["validate", "emptydir"], "no .yaml files")
    add("schema-extra-argument", ["schema", "extra"], "extra")
    # replicate
    add("replicate-n-zero", ["replicate", TOY, "-n", "0", "--jobs", "1"], "-n")
    add("replicate-n-negative", ["replicate", TOY, "-n", "-3"], "-n")
    add("replicate-n-text", ["replicate", TOY, "-n", "abc"], "-n")
    add("replicate-jobs-zero", ["replicate", TOY, "--jobs", "0"], "--jobs")
    add("replicate-seed-negative", ["replicate", TOY, "--seed", "-1"], "non-negative")
    add("replicate-deadline-inf", ["replicate", TOY, "--deadline-day", "inf"], "--deadline-day")
    add("replicate-deadline-nan", ["replicate", TOY, "--deadline-day", "nan"], "--deadline-day")
    add("replicate-deadline-negative", ["replicate", TOY, "--deadline-day", "-2"], "--deadline-day")
    add("replicate-deadline-past-horizon", ["replicate", TOY, "--deadline-day", "500"],
        "--deadline-day")
    add("replicate-dask-address", ["replicate", TOY, "--dask", "nowhere"], "--dask")
    add("replicate-missing-file", ["replicate", "nosuch.yaml"], "nosuch.yaml")
    add("replicate-set-unknown", ["replicate", TOY, "--set", "nosuch=1"], "nosuch")
    add("replicate-out-under-file", ["replicate", TOY, "--out", "afile/sub"], "afile")
    add("replicate-out-empty", ["replicate", TOY, "--out", ""], "--out")
    # compare
    add("compare-one-scenario", ["compare", TOY], "Missing argument")
    add("compare-missing-b", ["compare", TOY, "nosuch.yaml"], "nosuch.yaml")
    add("compare-n-zero", ["compare", TOY, TOY, "-n", "0"], "-n")
    add("compare-set-b-no-equals", ["compare", TOY, TOY, "--set-b", "fleet.h.count"],
        "expected path=value")
    add("compare-set-b-unknown", ["compare", TOY, TOY, "--set-b", "nosuch=2"],
        "--set-b nosuch")
    add("compare-set-b-bad-value", ["compare", TOY, TOY, "--set-b", "fleet.bus.count=x"],
        "--set-b fleet.bus.count: Input should be a valid integer")
    add("compare-deadline-nan", ["compare", TOY, TOY, "--deadline-day", "nan"], "--deadline-day")
    add("compare-out-under-file", ["compare", TOY, TOY, "--out", "afile/x"], "afile")
    # sweep
    add("sweep-no-out", ["sweep", TOY], "--out")
    add("sweep-grid-unknown", ["sweep", TOY, "--grid", "nosuch=1,2", "--out", "s1"], "nosuch")
    add("sweep-grid-no-values", ["sweep", TOY, "--grid", "fleet.0.count=", "--out", "s2"],
        "--grid")
    add("sweep-grid-no-equals", ["sweep", TOY, "--grid", "fleet.0.count", "--out", "s3"],
        "--grid")
    add("sweep-grid-bad-value", ["sweep", TOY, "--grid", "fleet.0.count=1,many", "--out", "s4"],
        "many")
    add("sweep-design-missing", ["sweep", TOY, "--design", "nosuch.csv", "--out", "s5"],
        "nosuch.csv")
    add("sweep-design-not-a-design", ["sweep", TOY, "--design", "afile", "--out", "s6"], "afile")
    add("sweep-design-device", ["sweep", TOY, "--design", "/dev/zero", "--out", "s7"],
        "/dev/zero")
    add("sweep-export-format", ["sweep", TOY, "--grid", "fleet.0.count=1", "--export", "xlsx",
                                "--out", "s8"], "--export")
    add("sweep-n-zero", ["sweep", TOY, "--grid", "fleet.0.count=1", "-n", "0", "--out", "s9"], "-n")
    add("sweep-deadline-inf", ["sweep", TOY, "--grid", "fleet.0.count=1", "--deadline-day", "inf",
                               "--out", "s10"], "--deadline-day")
    add("sweep-out-under-file", ["sweep", TOY, "--grid", "fleet.0.count=1", "--out", "afile/s"],
        "afile")
    # plan fleet
    plan = ["plan", "fleet", TOY, "--type", "bus", "--deadline-day", "3", "--confidence", "0.9"]
    add("plan-deadline-beyond-horizon", [*plan[:6], "9", *plan[7:], "--out", "p1"],
        "--deadline-day 9")
    add("plan-confidence-one", [*plan[:8], "1", "--out", "p2"], "--confidence 1")
    add("plan-type-not-in-fleet", ["plan", "fleet", TOY, "--type", "ch47", *plan[5:]],
        "not in the fleet")
    add("plan-max-below-current", [*plan, "--max", "0"], "--max 0")
    add("plan-target-zero", [*plan, "--target", "0"], "--target 0")
    add("plan-out-under-file", [*plan, "--out", "afile/p"], "afile")
    add("plan-no-deadline", ["plan", "fleet", TOY, "--type", "bus", "--confidence", "0.9"],
        "--deadline-day")
    add("plan-unknown-subcommand", ["plan", "crew"], "crew")
    # backtest
    add("backtest-unknown-case", ["backtest", "nosuch", "--out", "b1"], "nosuch")
    add("backtest-n-zero", ["backtest", "--n", "0", "--out", "b2"], "at least 1")
    add("backtest-out-under-file", ["backtest", "--out", "afile/b"], "afile")
    # plot / report / map
    for cmd in ("plot", "report", "map"):
        add(f"{cmd}-missing", [cmd, "nosuch"], "nosuch")
        add(f"{cmd}-a-file", [cmd, "afile"], "afile")
        add(f"{cmd}-empty-folder", [cmd, "emptydir"], "emptydir")
        add(f"{cmd}-not-results", [cmd, "junk"], "junk")
    add("plot-format", ["plot", "emptydir", "--format", "gif"], "--format")
    # exercises / play
    add("exercises-show-zero", ["exercises", "show", "0"], "unknown exercise")
    add("exercises-key-unknown", ["exercises", "key", "99"], "unknown exercise")
    add("exercises-check-missing-answers", ["exercises", "check", "1", "nosuch.yaml"],
        "nosuch.yaml")
    add("exercises-check-not-answers", ["exercises", "check", "1", "afile"], "afile")
    add("exercises-check-device", ["exercises", "check", "1", "/dev/zero"], "/dev/zero")
    add("exercises-list-missing-dir", ["exercises", "list", "--dir", "nosuch"], "nosuch")
    add("exercises-unknown-subcommand", ["exercises", "solve"], "solve")
    add("play-missing-scenario", ["play", "nosuch.yaml"], "nosuch.yaml")
    add("play-missing-decisions", ["play", TOY, "--decisions", "nosuch.yaml"], "nosuch.yaml")
    add("play-decisions-device", ["play", TOY, "--decisions", "/dev/zero"], "/dev/zero")
    add("play-record-under-file", ["play", TOY, "--record", "afile/sub.yaml"], "afile")
    # scenarios
    add("scenarios-copy-unknown", ["scenarios", "copy", "nosuch"], "unknown scenario")
    add("scenarios-copy-under-file", ["scenarios", "copy", "baseline", "afile/sub.yaml"], "afile")
    add("scenarios-copy-over-file", ["scenarios", "copy", "baseline", "afile.yaml"], "exists")
    # types (the library of planning factors)
    add("types-unknown", ["types", "CH47"], "unknown library type 'CH47'", "did you mean CH-47F")
    add("types-extra-argument", ["types", "CH-47F", "extra"], "extra")
    add("types-unknown-option", ["types", "--nosuchoption"], "--nosuchoption")
    # sensitivity / discover (planning answers)
    add("sensitivity-no-ranges", ["sensitivity", TOY, "--out", "p1"], "--ranges")
    add("sensitivity-no-out", ["sensitivity", TOY, "--ranges", "nosuch.yaml"], "--out")
    add("sensitivity-ranges-missing", ["sensitivity", TOY, "--ranges", "nosuch.yaml", "--out",
                                       "p2"], "nosuch.yaml")
    add("sensitivity-ranges-device", ["sensitivity", TOY, "--ranges", "/dev/zero", "--out",
                                      "p3"], "/dev/zero")
    add("sensitivity-ranges-not-ranges", ["sensitivity", TOY, "--ranges", "afile", "--out",
                                          "p4"], "afile")
    add("discover-no-failure", ["discover", TOY, "--ranges", "nosuch.yaml"], "--threshold")
    add("discover-from-store-missing", ["discover", TOY, "--from-store", "nosuch", "--kpi",
                                        "completion_day", "--threshold", "1"], "nosuch")
    add("discover-threshold-text", ["discover", TOY, "--kpi", "completion_day", "--threshold",
                                    "soon"], "--threshold")
    return c


CASES = _cases()


def prepare(folder: Path) -> None:
    """The working folder every case runs in: a file, an empty folder, junk results."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "afile").write_text("x\n")
    (folder / "afile.yaml").write_text("mine\n")
    (folder / "emptydir").mkdir(exist_ok=True)
    (folder / "junk").mkdir(exist_ok=True)
    (folder / "junk" / "kpis.json").write_text("[1, 2")


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(folder.rglob("*"))}


def problems(case: Case, code: int, stdout: str, stderr: str, before: dict[str, bytes],
             after: dict[str, bytes]) -> list[str]:
    found, lines = refusal_problems(code, stdout, stderr)
    if len(lines) == 1 and not LINE_STYLE.match(lines[0]):
        found.append(f"not 'error: ...' nor 'file:line: ...': {lines[0]}")
    for needle in case.needles:
        if needle not in stderr:
            found.append(f"{needle!r} not in {stderr.strip()[:300]!r}")
    if after != before:
        changed = sorted(set(after) ^ set(before) | {k for k in after if after[k] != before.get(k)})
        found.append(f"files written or changed: {changed[:5]}")
    return found


def run_case(case: Case, folder: Path) -> list[str]:
    from typer.testing import CliRunner

    from sim.cli.app import app

    prepare(folder)
    before = listing(folder)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(app, list(case.args))
    finally:
        os.chdir(cwd)
    return problems(case, result.exit_code, result.stdout, result.stderr, before, listing(folder))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_arguments_are_one_clear_line(case: Case, tmp_path: Path) -> None:
    assert run_case(case, tmp_path) == []


def test_every_command_has_cases() -> None:
    from sim.cli.app import app

    commands = {cmd.name for cmd in app.registered_commands} | {
        grp.name for grp in app.registered_groups}
    covered = {case.args[0] for case in CASES}
    assert commands - covered == set(), f"commands without a malformed-input case: {commands - covered}"
    assert len(CASES) >= 60


def _cap_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CORPUS_MEMORY_BYTES, CORPUS_MEMORY_BYTES))


def test_command_corpus_in_bounded_memory(tmp_path: Path) -> None:
    """Every case in one child process capped at 1.5 GB; the timeout bounds the whole corpus."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, __file__, str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, preexec_fn=_cap_memory, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"{len(CASES)} cases ok" in proc.stdout


if __name__ == "__main__":
    base = Path(sys.argv[1])
    failed = {}
    for i, case in enumerate(CASES):
        found = run_case(case, base / f"c{i}")
        if found:
            failed[case.id] = found
    for case_id, found in failed.items():
        print(f"{case_id}: {'; '.join(found)}")
    print(f"{len(CASES) - len(failed)} cases ok, {len(failed)} failed")
    sys.exit(1 if failed else 0)
