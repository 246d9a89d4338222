"""Reading scenario input: regular files only and bounded reads, ``extends`` merging
(fleet entries by type), messages that name the child file or the override that
caused a problem, --set paths that never invent list items, documented ranges."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.common.dist import Triangular, Uniform, sample, sample_many
from sim.experiments.store import ExperimentError, load_design
from sim.scenario import reading
from sim.scenario.loader import ScenarioError, load_scenario, read_text, read_yaml
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
BASELINE = (ROOT / "scenarios" / "baseline.yaml").as_posix()


def child(tmp_path: Path, body: str) -> Path:
    f = tmp_path / "child.yaml"
    f.write_text(f"extends: {BASELINE}\nname: child\n{body}")
    return f


def problems_of(path: Path, overrides: list[str] | None = None) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path, overrides)
    return exc.value.problems


# ----- regular files only, bounded reads -------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_before_any_read(device: str, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    with pytest.raises(ScenarioError, match="not a regular file"):
        read_yaml(Path(device))
    assert reads == []


def test_a_long_file_is_read_only_up_to_the_limit(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * 5_000_000)
    read_bytes: list[int] = []
    real_read = os.read

    def counting_read(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        read_bytes.append(len(data))
        return data

    monkeypatch.setattr(os, "read", counting_read)
    with pytest.raises(ScenarioError, match="over 1,000 bytes"):
        read_text(big, limit=1000)
    assert sum(read_bytes) == 1001


def test_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match="not a regular file"):
        read_yaml(fifo)  # a blocking open would never return here


def test_design_file_must_be_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match=r"--design /dev/zero: not a regular file"):
        load_design("/dev/zero")
    with pytest.raises(ExperimentError, match="is a directory"):
        load_design(tmp_path)
    with pytest.raises(ExperimentError, match="file not found"):
        load_design(tmp_path / "none.csv")


def test_a_parent_that_is_a_file_and_a_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    with pytest.raises(ScenarioError, match="a folder in its path is a file"):
        read_yaml(tmp_path / "plain" / "s.yaml")
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(ScenarioError, match="loop of symbolic links"):
        load_scenario(a)


def test_nodes_are_counted_while_parsing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The count stops the parser itself: the rest of the document is never composed."""
    f = tmp_path / "many.yaml"
    f.write_text("places:\n" + "".join(f"  p{i}: [1, 2]\n" for i in range(2000)))
    monkeypatch.setattr(reading, "MAX_NODES", 100)
    composed: list[int] = []
    real = reading._BoundedLoader.compose_node

    def spy(self: Any, parent: Any, index: Any) -> Any:
        composed.append(1)
        return real(self, parent, index)

    monkeypatch.setattr(reading._BoundedLoader, "compose_node", spy)
    with pytest.raises(ScenarioError, match="too large"):
        read_yaml(f)
    assert len(composed) <= 101


def test_exponent_without_a_dot_is_a_number(tmp_path: Path) -> None:
    f = child(tmp_path, "trigger_check_hours: 1e-300\n")
    (line,) = problems_of(f)
    assert "trigger_check_hours" in line and "greater than or equal to 0.01" in line


# ----- extends -------------------------------------------------------------------------


def test_child_with_one_fleet_entry_keeps_the_others(tmp_path: Path) -> None:
    s = load_scenario(child(tmp_path, "fleet:\n  - {type: ch47, count: 9}\n"))
    counts = {e.type: (e.count, e.base) for e in s.fleet}
    assert counts == {"ch47": (9, "rmelan"), "uh60": (4, "rmelan"), "c130": (2, "erbil"),
                      "bus": (8, "rmelan")}


def test_child_removes_a_fleet_type(tmp_path: Path) -> None:
    s = load_scenario(child(tmp_path, "fleet:\n  - {type: uh60, remove: true}\n"))
    assert {e.type for e in s.fleet} == {"ch47", "c130", "bus"}


def test_removing_an_unknown_item_is_an_error(tmp_path: Path) -> None:
    f = child(tmp_path, "fleet:\n  - {type: uh06, remove: true}\n")
    (line,) = problems_of(f)
    assert line.startswith(f"{f}:4: fleet: remove: no type 'uh06'") and "did you mean uh60" in line


def test_same_type_at_two_bases_is_matched_by_base(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    entry = "  - {type: c130, count: 2, base: erbil}\n"
    text = Path(BASELINE).read_text()
    assert entry in text
    base.write_text(text.replace(entry, entry + "  - {type: c130, count: 1, base: rmelan}\n"))
    f = tmp_path / "c.yaml"
    f.write_text("extends: base.yaml\nfleet:\n  - {type: c130, count: 5, base: rmelan}\n")
    s = load_scenario(f)
    assert sorted((e.base, e.count) for e in s.fleet if e.type == "c130") == [
        ("erbil", 2), ("rmelan", 5)]
    f.write_text("extends: base.yaml\nfleet:\n  - {type: c130, count: 5}\n")
    (line,) = problems_of(f)
    assert line.startswith(f"{f}:3:") and "add 'base'" in line


def test_error_in_base_caused_by_child_names_the_child(tmp_path: Path) -> None:
    f = child(tmp_path, "legs:\n  - {id: raqqa-rmelan, remove: true}\n")
    (line,) = problems_of(f)
    assert line.startswith(f"{BASELINE}:")
    assert "sites.raqqa" in line and "no feasible route" in line
    assert f"from {f}, which extends {BASELINE}" in line


def test_error_in_base_caused_by_set_names_the_override() -> None:
    (line,) = problems_of(Path(BASELINE), ["fleet.bus.count=1", "legs.raqqa-rmelan.open=false"])
    assert "sites.raqqa" in line and "no feasible route" in line
    assert "with --set fleet.bus.count=1 legs.raqqa-rmelan.open=false" in line


def test_missing_parent_is_reported_at_the_extends_line(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("name: c\n\nextends: nothere.yaml\n")
    assert problems_of(f) == [f"{f}:3: extends: {tmp_path / 'nothere.yaml'}: file not found"]


# ----- --set ---------------------------------------------------------------------------


@pytest.mark.parametrize(("override", "needles"), [
    ("escalation.fronts.aleppo-raqq.start_day=3", ("no item 'aleppo-raqq'",
                                                   "did you mean aleppo-raqqa")),
    ("aircraft.ch4.seats=3", ("no entry 'ch4'", "did you mean ch47")),
    ("triggers.air-brige.once=false", ("did you mean air-bridge",)),
    ("sites.bgw.registration.statons=3", ("unknown field 'statons'", "did you mean stations")),
])
def test_unknown_names_in_set_paths_are_errors(override: str, needles: tuple[str, ...]) -> None:
    (line,) = problems_of(Path(BASELINE), [override])
    assert line.startswith(f"{BASELINE}: --set ")
    for needle in needles:
        assert needle in line


def test_set_messages_name_items_by_id() -> None:
    (line,) = problems_of(Path(BASELINE), ["sites.bgw.beds=-1"])
    assert "sites.bgw.beds: Input should be greater than or equal to 0" in line


def test_set_on_a_type_with_several_fleet_entries_names_their_indices(tmp_path: Path) -> None:
    """A type at two bases is two fleet entries: its name is ambiguous and the message
    gives the entries' indices and how to name one, not "no item"."""
    import yaml

    data = yaml.safe_load(Path(BASELINE).read_text())
    entry = next(e for e in data["fleet"] if isinstance(e, dict))
    data["fleet"].append({**entry, "count": 1})
    path = tmp_path / "two_bases.yaml"
    path.write_text(yaml.safe_dump(data))
    (line,) = problems_of(path, [f"fleet.{entry['type']}.count=3"])
    first = data["fleet"].index(entry)
    last = len(data["fleet"]) - 1
    assert f"{entry['type']!r} names 2 items of fleet ({first}, {last})" in line
    assert f"as in fleet.{first}.count" in line and "no item" not in line


# ----- numbers ---------------------------------------------------------------------------


def test_schema_descriptions_give_the_ranges() -> None:
    schema = Scenario.model_json_schema(by_alias=True)
    props = schema["properties"]
    assert "Range: 0.01..24" in props["trigger_check_hours"]["description"]
    assert "Range: 1..3,650" in props["horizon_days"]["description"]
    assert "at most 200" in props["sites"]["description"]
    fleet = schema["$defs"]["FleetEntry"]["properties"]
    assert "Range: 1..100,000" in fleet["count"]["description"]
    assert json.dumps(schema)  # every bound is a finite JSON number


def test_widest_distributions_draw_finite_values() -> None:
    rng = np.random.default_rng(1)
    widest = [Uniform(dist="uniform", low=0, high=1e6),
              Triangular(dist="triangular", low=0, mode=1e6, high=1e6)]
    for d in widest:
        assert math.isfinite(sample(d, rng))
        assert np.isfinite(sample_many(d, rng, 100)).all()


def test_readme_documents_the_limits() -> None:
    from sim.scenario import schema

    text = " ".join((ROOT / "README.md").read_text().split())
    for phrase in (
        f"at most {schema.MAX_SITES} sites", f"{schema.MAX_LEGS:,} legs",
        f"{schema.MAX_PLACES:,} places", f"{schema.MAX_FRONTS} fronts of {schema.MAX_WAYPOINTS}",
        f"{reading.MAX_FILE_BYTES:,} bytes", f"at most {reading.MAX_NODES:,} YAML values",
        f"nested at most {reading.MAX_DEPTH} deep",
        f"| `trigger_check_hours` | {schema.MIN_TRIGGER_CHECK_HOURS}..24 |",
        f"| `horizon_days` | 1..{schema.MAX_HORIZON_DAYS:,} (whole days) |",
    ):
        assert phrase in text, phrase


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_classroom_files_are_regular_files_only(kind: str, tmp_path: Path) -> None:
    """Answer and decision files go through the same reader as scenarios."""
    from sim.classroom.decisions import load_decisions
    from sim.classroom.exercises import read_answers
    from sim.classroom.spec import find

    path = Path("/dev/zero")
    if kind == "fifo":
        path = tmp_path / "answers.yaml"
        os.mkfifo(path)
    with pytest.raises(ScenarioError, match="not a regular file"):
        read_answers(path, find("1", ROOT / "scenarios" / "exercises"))
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_decisions(path, load_scenario(BASELINE))


def test_a_yaml_mistake_names_where_its_construct_began(tmp_path: Path) -> None:
    """A flow mapping's missing "}" is found at the next item, lines later: the message
    gives that line and the line where the mapping began."""
    path = tmp_path / "brace.yaml"
    path.write_text("name: x\nlegs:\n  - {from: a, to: b\n\n  # a comment\n  - {from: b, to: c}\n")
    with pytest.raises(ScenarioError) as err:
        read_yaml(path)
    (message,) = err.value.problems
    assert message.startswith(f"{path}:6: YAML syntax error: ")
    assert "(while parsing a flow mapping, which starts on line 3)" in message


def test_a_duplicated_site_is_listed_once_among_the_known(tmp_path: Path) -> None:
    from sim.scenario.loader import build

    site = {"kind": "prison", "lat": 1.0, "lon": 40.0, "detainees": {"x": 1}}
    data = {"name": "dup", "start": "2026-01-01", "horizon_days": 1,
            "sites": [{"id": "a", **site}, {"id": "a", **site},
                      {"id": "r", "kind": "reception", "lat": 0.0, "lon": 40.0}],
            "legs": [{"from": "zz", "to": "r", "modes": ["rotary"]}],
            "aircraft": {"h": {"mode": "rotary", "seats": 10, "cruise_kmh": 100}},
            "fleet": [{"type": "h", "count": 1, "base": "r"}]}
    with pytest.raises(ScenarioError) as err:
        build(data)
    (unknown,) = [p for p in err.value.problems if "unknown site 'zz'" in p]
    assert "(known: a, r)" in unknown


@pytest.mark.parametrize("written", ["2022-2-26", "26/02/2022", "2022-02-30"])
def test_a_bad_date_says_how_to_write_one(tmp_path: Path, written: str) -> None:
    import yaml

    data = yaml.safe_load(Path(BASELINE).read_text())
    data["start"] = written
    path = tmp_path / "date.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False).replace(f"'{written}'", written))
    problems = problems_of(path)
    (line,) = [p for p in problems if ": start: " in p]
    assert "write a date as YYYY-MM-DD" in line and line.startswith(f"{path}:")


def test_a_place_may_be_written_as_a_sites_position_is(tmp_path: Path) -> None:
    """``{lat: .., lon: ..}``, as sites write their position, is the pair ``[lat, lon]``
    (it was refused as "not a valid tuple"), in ``places`` and in a front's path; any other
    shape says how to write a place."""
    s = load_scenario(child(tmp_path, "places:\n  north: {lat: 36.5, lon: 40.7}\n"
                                      "  south: [35.0, 40.0]\n"))
    assert s.places["north"] == (36.5, 40.7) and s.places["south"] == (35.0, 40.0)
    bad = child(tmp_path, "places:\n  north: {lat: 36.5, lng: 40.7}\n  east: somewhere\n")
    assert problems_of(bad) == [
        f"{bad}:4: places.north: Input should be a valid tuple: write a place as [lat, lon] "
        "or {lat: .., lon: ..}, e.g. [36.5, 40.7]",
        f"{bad}:5: places.east: Input should be a valid tuple: write a place as [lat, lon] "
        "or {lat: .., lon: ..}, e.g. [36.5, 40.7] (got 'somewhere')",
    ]
