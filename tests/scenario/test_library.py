"""The library of planning factors: every entry loads and validates, every value has a
public source or is marked as an assumption, and scenarios extend and override entries."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from sim.scenario import library as lib
from sim.scenario.loader import ScenarioError, load_scenario
from sim.scenario.schema import AircraftType, Site

REQUIRED_TYPES = ("CH-47F", "UH-60M", "CH-53E", "CH-46E", "MV-22B", "C-130J-30", "C-17A", "bus")

TINY = """\
name: tiny
start: 2026-01-01
horizon_days: 10
sites:
  - {{id: p1, kind: prison, lat: 36.0, lon: 40.0, detainees: {{high: 10}}}}
  - {{id: r1, kind: reception, lat: 35.0, lon: 40.0{site_extra}}}
legs:
  - {{from: p1, to: r1, modes: [rotary, fixed_wing]}}
aircraft:
  ch47: {aircraft}
fleet:
  - {{type: ch47, count: 1, base: p1}}
"""


def _scenario(tmp_path: Path, aircraft: str, site_extra: str = "") -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(TINY.format(aircraft=aircraft, site_extra=site_extra), encoding="utf-8")
    return path


def test_the_library_has_the_types_planners_need() -> None:
    names = list(lib.library().vehicles)
    assert set(REQUIRED_TYPES) <= set(names)
    airliners = [n for n in names if n.startswith(("B707", "B747"))]
    assert airliners, "a charter airliner (Boeing 707/747 class)"


@pytest.mark.parametrize("name", list(lib.library().vehicles))
def test_each_vehicle_type_validates_as_an_aircraft_type(name: str) -> None:
    entry = lib.library().vehicles[name]
    aircraft = AircraftType.model_validate(entry.values())
    assert aircraft.seats == entry.fields["seats"].value
    assert aircraft.seats <= entry.reference["troop_seats"].value, "guards fly with detainees"


@pytest.mark.parametrize("name", list(lib.library().sites))
def test_each_site_profile_validates_as_site_fields(name: str) -> None:
    values = lib.library().sites[name].values()
    site = Site.model_validate({"id": "x", "kind": "airfield", "lat": 0, "lon": 0, **values})
    dumped = site.model_dump(mode="json")
    assert {k: dumped[k] for k in values} == values  # the profile's values, not defaults


def _raw_library() -> dict:
    return yaml.safe_load(lib.LIBRARY_FILE.read_text(encoding="utf-8"))


def test_every_value_in_the_file_names_a_source_or_an_assumption() -> None:
    """Read from the file itself, so a value written without its origin is caught even if
    the models were loosened."""
    raw = _raw_library()
    missing = []
    for section in ("vehicles", "sites"):
        for name, entry in raw[section].items():
            for block in ("fields", "reference"):
                for key, item in (entry.get(block) or {}).items():
                    ok = isinstance(item, dict) and "value" in item and (
                        bool(item.get("source")) != bool(item.get("assumption")))
                    if not ok:
                        missing.append(f"{section}.{name}.{block}.{key}")
    assert missing == []


def _library_with(tmp_path: Path, item: dict) -> Path:
    raw = _raw_library()
    raw["vehicles"]["CH-47F"]["fields"]["seats"] = item
    path = tmp_path / "library.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize("item", [
    {"value": 26},                                            # no origin
    {"value": 26, "source": "a", "assumption": "b"},         # both
    {"value": 26, "source": ""},                              # empty
    26,                                                       # a bare value
])
def test_a_value_without_exactly_one_origin_is_refused(tmp_path: Path, item: object) -> None:
    with pytest.raises(ValidationError):
        lib.load_library(_library_with(tmp_path, item))  # type: ignore[arg-type]


def test_a_value_the_schema_refuses_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CH-47F"):
        lib.load_library(_library_with(tmp_path, {"value": 0, "source": "x"}))


def test_extends_fills_what_the_scenario_omits_and_its_own_values_win(tmp_path: Path) -> None:
    s = load_scenario(_scenario(tmp_path, "{extends: library.CH-47F, seats: 24}"))
    expected = AircraftType.model_validate({**lib.library().vehicles["CH-47F"].values(),
                                            "seats": 24})
    assert s.aircraft["ch47"] == expected
    assert s.aircraft["ch47"].seats == 24 and s.aircraft["ch47"].range_km == 740.0


def test_set_overrides_a_field_the_library_filled(tmp_path: Path) -> None:
    s = load_scenario(_scenario(tmp_path, "{extends: library.C-17A}"),
                      ["aircraft.ch47.cruise_kmh=700"])
    assert s.aircraft["ch47"].cruise_kmh == 700.0
    assert s.aircraft["ch47"].turnaround_min == 195.0  # the rest from the library


def test_a_site_extends_a_profile(tmp_path: Path) -> None:
    s = load_scenario(_scenario(tmp_path, "{extends: library.UH-60M}",
                                ", extends: library.staging-airfield, unload_min_per_detainee: 2"))
    site = s.site("r1")
    assert site.load_min_per_detainee == 0.5 and site.unload_min_per_detainee == 2.0


@pytest.mark.parametrize("ref, needle", [
    ("library.CH47", "aircraft.ch47.extends: unknown library type 'CH47' (did you mean CH-47F"),
    ("library.staging-airfield", "unknown library type 'staging-airfield'"),
    ("CH-47F", "aircraft.ch47.extends: expected library.NAME"),
])
def test_a_bad_library_name_names_file_line_and_field(tmp_path: Path, ref: str, needle: str) -> None:
    path = _scenario(tmp_path, f"{{extends: {ref}, seats: 24}}")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    (problem,) = exc.value.problems
    assert problem.startswith(f"{path}:10: ") and needle in problem, problem


def test_a_problem_in_a_filled_value_points_at_the_extends_line(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "{extends: library.CH-47F}")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path, ["aircraft.ch47.seats=0"])
    assert "aircraft.ch47.seats" in exc.value.problems[0]


def test_the_baseline_uses_the_library_and_keeps_its_values() -> None:
    """The baseline's types come from the library, plus the load factor, convoys and
    operating hours it sets itself."""
    s = load_scenario("baseline")
    assert s.aircraft["ch47"] == AircraftType.model_validate(
        {"mode": "rotary", "seats": 26, "cruise_kmh": 240, "range_km": 740, "turnaround_min": 30,
         "refuel_min": 15, "flight_time_cv": 0.05, "mtbf_flight_hours": 40,
         "repair_hours": {"dist": "exponential", "mean": 10}, "crew_hours_per_day": 8,
         "rest_hours": 10, "mission_capable_rate": 0.75, "pickup_stop_min": 5,
         "dropoff_stop_min": 5, "overload_factor": 1.0,
         "load_factor": {"dist": "triangular", "low": 0.7, "mode": 0.9, "high": 1.0}})
    assert s.aircraft["bus"] == AircraftType.model_validate(
        {"mode": "ground", "seats": 45, "cruise_kmh": 50, "turnaround_min": 30,
         "crew_hours_per_day": 12, "rest_hours": 10, "mission_capable_rate": 0.9,
         "pickup_stop_min": 15, "dropoff_stop_min": 10, "overload_factor": 1.0,
         "wave": {"size": 4, "max_wait_hours": 2}, "operating_start_hour": 6,
         "operating_hours": 12})


@pytest.mark.parametrize("name", sorted(lib.library().vehicles))
def test_each_vehicle_type_states_the_realism_factors(name: str) -> None:
    """The planning factors that waited for their fields are wired in: every vehicle type
    states its mission-capable rate, its ground time per stop and its overload (1 for
    detainees; evacuation configurations may carry more than the seats), so a scenario
    that extends one relies on no hidden default."""
    fields = lib.library().vehicles[name].fields
    for field in ("mission_capable_rate", "pickup_stop_min", "dropoff_stop_min",
                  "overload_factor"):
        assert field in fields, (name, field)
    if name.endswith("-evacuation"):
        assert 1.0 <= fields["overload_factor"].value <= 3.0
    else:
        assert fields["overload_factor"].value == 1.0
    assert 0.5 <= fields["mission_capable_rate"].value <= 0.95


def test_a_child_file_overrides_one_field_of_a_type_its_base_took_from_the_library(
        tmp_path: Path) -> None:
    base = _scenario(tmp_path, "{extends: library.CH-47F}")
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {base.name}\naircraft:\n  ch47: {{seats: 20}}\n", encoding="utf-8")
    s = load_scenario(child)
    assert s.aircraft["ch47"].seats == 20 and s.aircraft["ch47"].cruise_kmh == 240.0


def test_the_library_page_lists_every_entry() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "library.md").read_text(encoding="utf-8")
    for name in (*lib.library().vehicles, *lib.library().sites):
        assert f"`{name}`" in page, name


def test_the_library_is_read_with_libyaml_and_gives_what_safe_load_gives() -> None:
    text = lib.LIBRARY_FILE.read_text(encoding="utf-8")
    if yaml.__with_libyaml__:  # the C reader: every run of a scenario extending it pays this
        assert lib._SAFE_LOADER is yaml.CSafeLoader
    fast = lib.load_library(lib.LIBRARY_FILE)
    assert fast == lib.Library.model_validate(yaml.safe_load(text))


def test_the_values_a_scenario_is_filled_from_are_the_checked_librarys() -> None:
    values = lib.field_values()
    checked = lib.library()
    assert values == {"vehicles": {n: e.values() for n, e in checked.vehicles.items()},
                      "sites": {n: e.values() for n, e in checked.sites.items()}}
    assert list(values["vehicles"]) == list(checked.vehicles)  # did-you-mean lists, in order


def _loaded_after(code: str) -> list[str]:
    import json
    import subprocess
    import sys

    script = ("import json, sys\nfrom sim.scenario.loader import load_scenario\n" + code
              + "\nimport sim.scenario.library as lib, sim.scenario.schema as schema\n"
              "print(json.dumps([lib.field_values.cache_info().currsize > 0, "
              "lib.Library.__pydantic_complete__, schema.AircraftType.__pydantic_complete__]))\n")
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                         text=True, cwd=Path(__file__).resolve().parents[2]).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_a_scenario_that_extends_the_library_is_filled_without_checking_the_whole_library() -> None:
    """Checking the library builds the validators of the library and of every vehicle and
    site field, which a run does not need: only ``library()`` checks it."""
    read, library_checked, aircraft_checked = _loaded_after("load_scenario('baseline')")
    assert read and not library_checked and not aircraft_checked


def test_a_scenario_that_extends_nothing_does_not_read_the_library(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(TINY.format(aircraft="{mode: rotary, seats: 24, cruise_kmh: 240}",
                                site_extra=""), encoding="utf-8")
    read, library_checked, _ = _loaded_after(f"load_scenario({str(path)!r})")
    assert not read and not library_checked
