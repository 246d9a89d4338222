"""The shipped scenarios are package data, found by name from any folder; the checkout's
top-level scenarios/ folder shows the same files."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.scenario import shipped

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_scenarios_live_in_the_package() -> None:
    folder = shipped.shipped_folder()
    assert folder == ROOT / "sim" / "scenarios"
    assert (folder / "baseline.yaml").is_file() and (folder / "exercises").is_dir()
    assert not folder.is_symlink()  # the real files: a wheel cannot hold a link


def test_the_checkout_folder_shows_the_same_files() -> None:
    top = ROOT / "scenarios"
    assert sorted(p.relative_to(top) for p in top.rglob("*.yaml")) == sorted(
        p.relative_to(shipped.shipped_folder()) for p in shipped.shipped_folder().rglob("*.yaml"))
    assert (top / "baseline.yaml").resolve() == (shipped.shipped_folder() / "baseline.yaml")


def test_load_by_name_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert sim.load_scenario("baseline").name == "baseline"
    assert sim.load_scenario("fast_front.yaml").name == "fast_front"
    assert sim.load_scenario("scenarios/no_surge.yaml").name == "no_surge"
    assert sim.load_scenario("scenarios/exercises/05-uncertainty.yaml").horizon_days > 0


def test_a_local_file_wins_over_a_shipped_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shipped.copy_out("baseline", tmp_path)
    mine = tmp_path / "baseline.yaml"
    mine.write_text(mine.read_text().replace("name: baseline", "name: my-baseline", 1))
    assert shipped.resolve("baseline.yaml") == Path("baseline.yaml")
    assert sim.load_scenario("baseline.yaml").name == "my-baseline"
    assert sim.load_scenario("baseline").name == "baseline"  # a bare name is the shipped one


def test_unknown_names_and_question_specs_are_not_resolved() -> None:
    assert shipped.resolve("no_such") == Path("no_such")
    assert shipped.resolve("01-read-a-run.questions") == Path("01-read-a-run.questions")
    assert "baseline" in shipped.not_found_hint("no_such")
