"""Bad input through the CLI: a clear message, exit code 2, no traceback, nothing written.

Also the CLI's happy paths: validate, schema, --help, run --json, run --out.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.scenario.loader import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(
    p for p in (ROOT / "scenarios").rglob("*.yaml") if not p.name.endswith(".questions.yaml")
    and p.parent.name != "ranges"  # ranges files (scenarios/ranges/) are no scenarios
)
KPI_NAMES = (
    "scenario", "seed", "in_custody_at_start", "delivered_fraction", "day_to_50", "day_to_90",
    "day_to_100", "delivery_days", "flying_hours_per_available_hour", "detainees_total",
    "delivered", "registered", "escaped", "custody_transferred", "remaining",
    "prisons_cleared_day", "registration_complete_day", "sorties", "flight_hours",
    "fleet_utilization", "peak_facility_occupancy", "peak_registration_backlog",
    "at_risk_detainee_days", "mean_transfer_hours", "triggers_fired", "sim_events",
    "wall_seconds",
)

GOOD = """\
name: tiny
start: 2026-01-01
horizon_days: 10
sites:
  - {id: p1, kind: prison, lat: 36.0, lon: 40.0, detainees: {high: 10, standard: 20}}
  - {id: r1, kind: reception, lat: 35.0, lon: 40.0}
legs:
  - {from: p1, to: r1, modes: [rotary]}
aircraft:
  h: {mode: rotary, seats: 10, cruise_kmh: 200}
fleet:
  - {type: h, count: 1, base: p1}
"""


def dtsim(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=timeout,
    )


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text)
    return p


def assert_bad(
    proc: subprocess.CompletedProcess[str], out: Path | None, *needles: str
) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    for needle in needles:
        assert needle in proc.stderr, (needle, proc.stderr)
    assert proc.stdout == ""
    if out is not None:
        assert not out.exists() or not any(out.iterdir())


def _alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for c in "bcdefghij":
        lines.append(f"{c}: &{c} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = c
    return "\n".join(lines) + "\n"


# (case id, file text or None for a missing file, substrings expected on stderr)
# "{f}" in a needle is replaced by the file name.
CASES: list[tuple[str, str | None, tuple[str, ...]]] = [
    ("missing", None, ("{f}", "not found")),
    ("empty", "", ("{f}", "empty")),
    ("syntax", "name: x\nsites: [\n  - a: b\n", ("{f}:3:", "syntax error")),
    ("unknown-key", GOOD.replace("horizon_days: 10\n", "horizon_days: 10\nhorizon: 5\n"),
     ("{f}:4:", "horizon: unknown field", "horizon_days")),
    ("unknown-nested-key", GOOD.replace("seats: 10,", "seat: 10,"),
     ("{f}:10:", "aircraft.h.seat", "unknown field", "seats")),
    ("wrong-type", GOOD.replace("horizon_days: 10", "horizon_days: ten"),
     ("{f}:3:", "horizon_days", "integer")),
    ("wrong-type-nested", GOOD.replace("cruise_kmh: 200", "cruise_kmh: fast"),
     ("{f}:10:", "aircraft.h.cruise_kmh")),
    ("zero-count", GOOD.replace("count: 1,", "count: 0,"), ("{f}:12:", "fleet.h.count")),
    ("negative-count", GOOD.replace("count: 1,", "count: -3,"), ("{f}:12:", "fleet.h.count")),
    ("negative-detainees", GOOD.replace("high: 10,", "high: -5,"),
     ("{f}:5:", "sites.p1", "detainees.high")),
    ("zero-pads", GOOD.replace("kind: prison,", "kind: prison, pads: 0,"),
     ("{f}:5:", "sites.p1.pads")),
    ("zero-seats", GOOD.replace("seats: 10", "seats: 0"), ("{f}:10:", "aircraft.h.seats")),
    ("leg-undefined-site", GOOD.replace("to: r1", "to: r9"),
     ("{f}:8:", "legs.p1-r9.to", "unknown site 'r9'")),
    ("fleet-undefined-type", GOOD.replace("type: h,", "type: ch47,"),
     ("{f}:12:", "fleet.ch47.type", "unknown aircraft type 'ch47'")),
    ("fleet-undefined-base", GOOD.replace("base: p1", "base: nowhere"),
     ("{f}:12:", "fleet.h.base", "unknown site 'nowhere'")),
    ("no-route", GOOD.replace("cruise_kmh: 200", "cruise_kmh: 200, range_km: 50"),
     ("{f}:5:", "sites.p1", "prison 'p1'", "no feasible route")),
    ("no-leg", GOOD.replace("legs:\n  - {from: p1, to: r1, modes: [rotary]}\n", "legs: []\n"),
     ("{f}:5:", "prison 'p1'")),
    ("population-over-10M", GOOD.replace("standard: 20}", "standard: 10000001}"),
     ("{f}:5:", "sites.p1", "10,000,000")),
    ("total-population-over-10M",
     GOOD.replace("high: 10, standard: 20", "standard: 6000000").replace(
         "  - {id: r1,",
         "  - {id: p2, kind: prison, lat: 36.5, lon: 40.0, detainees: {standard: 6000000}}\n"
         "  - {id: r1,").replace(
         "legs:\n", "legs:\n  - {from: p2, to: r1, modes: [rotary]}\n"),
     ("{f}:4:", "sites", "10,000,000")),
    ("fleet-over-100k", GOOD.replace("  - {type: h, count: 1, base: p1}\n",
                                     "  - {type: h, count: 60000, base: p1}\n"
                                     "  - {type: h, count: 60000, base: r1}\n"),
     ("{f}:11:", "fleet", "100,000")),
    ("horizon-over-3650", GOOD.replace("horizon_days: 10", "horizon_days: 3651"),
     ("{f}:3:", "horizon_days", "3650")),
    ("alias-bomb", _alias_bomb(), ("{f}", "too large")),
    ("rule-sets-zero-seats",
     GOOD + "triggers:\n  - name: cut\n    when: {day: 1}\n"
            "    then: [{set_param: {path: aircraft.h.seats, value: 0}}]\n",
     ("{f}:16:", "triggers.cut.then.0.set_param.value", "aircraft.h.seats")),
    ("rule-names-undefined-site",
     GOOD + "triggers:\n  - name: cut\n    when: {day: 1}\n    then: [{close_site: p7}]\n",
     ("{f}:16:", "triggers.cut.then.0.close_site", "unknown site 'p7'")),
]


@pytest.mark.parametrize(("case", "text", "needles"), CASES, ids=[c[0] for c in CASES])
def test_bad_scenario_run(tmp_path: Path, case: str, text: str | None,
                          needles: tuple[str, ...]) -> None:
    path = tmp_path / f"{case}.yaml"
    if text is not None:
        path.write_text(text)
    out = tmp_path / "out"
    proc = dtsim("run", str(path), "--out", str(out), "--json", "--no-plots")
    assert_bad(proc, out, *(n.replace("{f}", str(path)) for n in needles))


@pytest.mark.parametrize(("case", "text", "needles"), CASES, ids=[c[0] for c in CASES])
def test_bad_scenario_load(tmp_path: Path, case: str, text: str | None,
                           needles: tuple[str, ...]) -> None:
    path = tmp_path / f"{case}.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    message = "\n".join(exc.value.problems)
    for needle in needles:
        assert needle.replace("{f}", str(path)) in message


def test_bad_scenario_validate_lists_every_problem(tmp_path: Path) -> None:
    text = GOOD.replace("to: r1", "to: r9").replace("seats: 10", "seats: 0").replace(
        "horizon_days: 10", "horizon_days: 0")
    path = write(tmp_path, "several.yaml", text)
    proc = dtsim("validate", str(path))
    assert_bad(proc, None, "horizon_days", "aircraft.h.seats")
    for line in proc.stderr.strip().splitlines():
        assert line.startswith(f"{path}:")


def test_alias_bomb_fails_fast_in_process(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb.yaml", _alias_bomb())
    with pytest.raises(ScenarioError, match="too large"):
        load_scenario(path)


def test_extends_cycle(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    out = tmp_path / "out"
    proc = dtsim("run", str(a), "--out", str(out))
    assert_bad(proc, out, str(a), "extends cycle", "a.yaml -> b.yaml -> a.yaml")


def test_extends_self(tmp_path: Path) -> None:
    a = write(tmp_path, "self.yaml", "extends: self.yaml\nname: a\n")
    assert_bad(dtsim("validate", str(a)), None, str(a), "extends cycle")


def test_extends_missing_parent(tmp_path: Path) -> None:
    a = write(tmp_path, "child.yaml", "extends: nothere.yaml\nname: a\n")
    assert_bad(dtsim("validate", str(a)), None, "nothere.yaml", "not found")


def test_extends_overrides(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", GOOD)
    child = write(tmp_path, "child.yaml",
                  "extends: base.yaml\nname: child\nfleet:\n  - {type: h, count: 3, base: r1}\n")
    s = load_scenario(child)
    assert s.name == "child" and s.fleet[0].count == 3 and s.horizon_days == 10


def test_yaml_merge_keys_with_override(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  - {id: p1, kind: prison, lat: 36.0, lon: 40.0, detainees: {high: 10, standard: 20}}\n",
        "  - &p {id: p1, kind: prison, lat: 36.0, lon: 40.0, detainees: {high: 10, standard: 20}}\n"
        "  - {<<: *p, id: p2, lat: 36.5}\n",
    ).replace("legs:\n", "legs:\n  - {from: p2, to: r1, modes: [rotary]}\n")
    s = load_scenario(write(tmp_path, "merge.yaml", text))
    p2 = s.site("p2")
    assert (p2.lat, p2.lon, p2.population) == (36.5, 40.0, 30)
    # a key written twice in one mapping is still an error
    dup = write(tmp_path, "dup.yaml", GOOD + "name: again\n")
    assert_bad(dtsim("validate", str(dup)), None, f"{dup}:13:", "duplicate key 'name'")


@pytest.mark.parametrize(
    ("override", "needles"),
    [
        ("fleet.h.cuont=3", ("fleet.h.cuont", "count")),
        ("nosuch.field=1", ("nosuch", "valid:", "horizon_days", "fleet", "sites")),
        ("sites.p9.pads=3", ("sites.p9.pads", "p1", "r1")),
        ("aircraft.h.wings=2", ("aircraft.h.wings", "seats")),
        ("horizon_days.x=1", ("horizon_days.x",)),
        ("noequals", ("path=value",)),
    ],
)
def test_set_path_that_does_not_exist(tmp_path: Path, override: str,
                                      needles: tuple[str, ...]) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    out = tmp_path / "out"
    proc = dtsim("run", str(path), "--set", override, "--out", str(out), "--json", "--no-plots")
    assert_bad(proc, out, *needles)


def test_set_bad_value_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    out = tmp_path / "out"
    proc = dtsim("run", str(path), "--set", "fleet.h.count=0", "--out", str(out))
    assert_bad(proc, out, "--set fleet.h.count: Input should be greater than or equal to 1")
    assert proc.stderr.count("fleet.h.count") == 1, proc.stderr  # named once, by the override


def test_set_override_applies(tmp_path: Path) -> None:
    """``--set fleet.h.count=2`` flies two helicopters; without it one flies.

    GOOD has 30 detainees and one 10-seat helicopter, so both runs deliver all
    30; what tells them apart is who flew: the sortie log names ``h-01`` and
    ``h-02`` only with the override, the first wave leaves with 20 detainees
    instead of 10, and the run finishes earlier.
    """
    path = write(tmp_path, "good.yaml", GOOD)
    runs = {}
    for label, extra in (("base", ()), ("two", ("--set", "fleet.h.count=2"))):
        out = tmp_path / label
        proc = dtsim("run", str(path), *extra, "--set", "sites.p1.pads=2", "--out", str(out),
                     "--json", "--no-plots")
        assert proc.returncode == 0, proc.stderr
        assert "h-02" not in proc.stdout  # KPIs only
        with (out / "sorties.csv").open() as f:
            rows = list(csv.DictReader(f))
        runs[label] = (json.loads(proc.stdout), rows)
    (base_k, base_rows), (two_k, two_rows) = runs["base"], runs["two"]
    assert {r["aircraft"] for r in base_rows} == {"h-01"}
    assert {r["aircraft"] for r in two_rows} == {"h-01", "h-02"}
    first = min(float(r["depart_hour"]) for r in two_rows)
    assert sum(int(r["detainees"]) for r in two_rows if float(r["depart_hour"]) == first) == 20
    assert base_k["delivered"] == two_k["delivered"] == 30
    assert two_k["prisons_cleared_day"] < base_k["prisons_cleared_day"]


def test_out_is_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    out = write(tmp_path, "taken", "x")
    proc = dtsim("run", str(path), "--out", str(out), "--no-plots")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert out.read_text() == "x"


# ----- happy paths ----------------------------------------------------------------------


def test_validate_all_scenarios() -> None:
    assert SCENARIOS
    proc = dtsim("validate", *(str(p) for p in SCENARIOS))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(": ok") == len(SCENARIOS)


def test_schema_is_json() -> None:
    proc = dtsim("schema")
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    props = schema["properties"]
    for key in ("sites", "legs", "aircraft", "fleet", "horizon_days", "dispatch"):
        assert key in props
    assert schema.get("additionalProperties") is False


def test_help() -> None:
    proc = dtsim("--help")
    assert proc.returncode == 0
    for word in ("run", "validate", "schema"):
        assert word in proc.stdout
    proc = dtsim("run", "--help")
    assert proc.returncode == 0 and "--seed" in proc.stdout and "--no-plots" in proc.stdout


def test_run_json_prints_one_document() -> None:
    proc = dtsim("run", "--json", "--no-plots", "--seed", "2")
    assert proc.returncode == 0, proc.stderr
    kpis = json.loads(proc.stdout)  # exactly one document: anything else fails to parse
    assert isinstance(kpis, dict)
    assert proc.stdout.strip().count("\n") == 0
    for name in KPI_NAMES:
        assert name in kpis, name
    assert kpis["scenario"] == "baseline" and kpis["seed"] == 2
    assert (kpis["delivered"] + kpis["escaped"] + kpis["custody_transferred"] + kpis["remaining"]
            == kpis["detainees_total"])
    assert isinstance(kpis["sorties"], dict) and isinstance(kpis["flight_hours"], dict)
    assert set(kpis["sorties"]) == set(kpis["flight_hours"])
    assert 0 <= kpis["fleet_utilization"] <= 1
    for t in kpis["triggers_fired"]:
        assert set(t) >= {"name", "day"}
    assert kpis["sim_events"] > 0 and kpis["wall_seconds"] > 0


def test_run_out_writes_every_file(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = dtsim("run", "scenarios/baseline.yaml", "--out", str(out), timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name in ("kpis.json", "daily.csv", "sorties.csv", "detainees.csv",
                 "scenario.resolved.yaml", "throughput.png"):
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0, name
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    kpis = json.loads((out / "kpis.json").read_text())
    for name in KPI_NAMES:
        assert name in kpis
    with open(out / "daily.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    columns = set(rows[0])
    required = {"day", "date", "delivered_cum", "registered_cum", "escaped_cum",
                "facility_occupancy", "facility_occupancy_end", "registration_backlog"}
    assert required <= columns
    s = load_scenario(ROOT / "scenarios/baseline.yaml")
    assert {f"held:{x.id}" for x in s.sites if x.kind == "prison"} <= columns
    assert len(rows) == s.horizon_days and rows[0]["date"] == s.start.isoformat()
    assert int(rows[-1]["delivered_cum"]) == kpis["delivered"]
    with open(out / "detainees.csv", newline="") as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == kpis["detainees_total"]
    with open(out / "sorties.csv", newline="") as fh:
        sorties = list(csv.DictReader(fh))
    assert sorties and "aircraft" in sorties[0] and "flight_hours" in sorties[0]
    resolved = yaml.safe_load((out / "scenario.resolved.yaml").read_text())
    assert resolved["name"] == "baseline"
    assert (out / "throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the resolved scenario reproduces the run
    again = dtsim("run", str(out / "scenario.resolved.yaml"), "--json", "--no-plots")
    assert again.returncode == 0, again.stderr
    k2 = json.loads(again.stdout)
    skip = ("wall_seconds", "bound_gap")  # the gap is printed, not written with the KPIs
    assert {k: v for k, v in k2.items() if k not in skip} == {
        k: v for k, v in kpis.items() if k not in skip}


def test_run_out_no_plots(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = dtsim("run", "--out", str(out), "--no-plots", "--json")
    assert proc.returncode == 0, proc.stderr
    json.loads(proc.stdout)
    assert (out / "kpis.json").is_file() and not (out / "throughput.png").exists()
