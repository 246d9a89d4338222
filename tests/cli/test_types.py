"""``dtsim types``: the library table, one entry with its sources, ``--json``, bad names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.scenario import library as lib
from tests.exit2 import refusal_problems

ROOT = Path(__file__).resolve().parents[2]


def dtsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_types_lists_every_entry_with_detainee_and_troop_seats() -> None:
    proc = dtsim("types")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:4] == ["type", "mode", "seats", "troops"]
    rows = {line.split()[0]: line.split() for line in lines[1:] if line.strip()}
    for name in (*lib.library().vehicles, *lib.library().sites):
        assert name in rows, name
    assert rows["CH-47F"][1:4] == ["rotary", "26", "33"]
    assert rows["C-17A"][1:4] == ["fixed_wing", "80", "102"]


def test_types_json_is_the_library() -> None:
    proc = dtsim("types", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    by_name = {d["name"]: d for d in doc}
    assert set(by_name) == set(lib.library().vehicles) | set(lib.library().sites)
    ch47 = by_name["CH-47F"]
    assert ch47["kind"] == "vehicle" and ch47["extends"] == "library.CH-47F"
    assert ch47["fields"]["seats"]["value"] == 26 and "assumption" in ch47["fields"]["seats"]
    assert "calibration.md" in ch47["fields"]["cruise_kmh"]["source"]
    assert by_name["reception"]["kind"] == "site"


def test_types_name_shows_each_field_with_its_origin() -> None:
    proc = dtsim("types", "C-130J-30")
    assert proc.returncode == 0, proc.stderr
    entry = lib.library().vehicles["C-130J-30"]
    for key, item in entry.fields.items():
        line = next(x for x in proc.stdout.splitlines() if x.split()[:1] == [key])
        assert item.origin in line, (key, line)
    assert "extends: library.C-130J-30" in proc.stdout


def test_types_name_json() -> None:
    proc = dtsim("types", "bus", "--json")
    doc = json.loads(proc.stdout)
    assert doc["fields"]["mtbf_flight_hours"] == {
        "value": None, "assumption": lib.library().vehicles["bus"].fields[
            "mtbf_flight_hours"].assumption}


@pytest.mark.parametrize("name, needle", [
    ("ch47", "unknown library type 'ch47' (did you mean CH-47F"),
    ("XYZ", "unknown library type 'XYZ' (valid: CH-47F"),
])
def test_an_unknown_type_is_refused(name: str, needle: str) -> None:
    proc = dtsim("types", name)
    problems, lines = refusal_problems(proc.returncode, proc.stdout, proc.stderr)
    assert problems == []
    assert lines[0].startswith("error: ") and needle in lines[0], lines


def test_a_scenario_with_a_bad_library_name_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: " + str(ROOT / "scenarios" / "baseline.yaml") + "\n"
                   "aircraft:\n  ch47: {extends: library.CH-74F}\n", encoding="utf-8")
    proc = dtsim("validate", str(bad))
    problems, lines = refusal_problems(proc.returncode, proc.stdout, proc.stderr)
    assert problems == []
    assert lines[0].startswith(f"{bad}:3: aircraft.ch47.extends: unknown library type 'CH-74F' "
                               "(did you mean CH-47F"), lines
