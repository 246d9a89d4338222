"""A corpus of malformed scenario input, each case run through the CLI.

Every case must end in exit code 2 with exactly one message line that names the
file (and the line, where there is one), no traceback, nothing on stdout and
nothing written to ``--out``. The cases are run in-process (typer's CliRunner),
one test each; ``test_whole_corpus_in_bounded_memory`` runs them all again in a
child process whose address space is capped, so a case that makes the loader
grow without bound (``/dev/zero`` read to the end, a huge document built before
it is counted) fails there. The FIFO case runs in a child process with a
timeout, as a guard against a blocking open.

Run this file as a script to run the corpus once
(``PYTHONPATH=tests python tests/scenario/test_malformed_corpus.py FOLDER``) and print the cases that fail.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from exit2 import refusal_problems

ROOT = Path(__file__).resolve().parents[2]
CORPUS_MEMORY_BYTES = 1_500_000_000  # the whole corpus, interpreter and libraries included

# A tiny scenario that uses every numeric field at least once (valid as it stands).
BASE: dict[str, Any] = {
    "name": "tiny",
    "start": "2026-01-01",
    "horizon_days": 10,
    "trigger_check_hours": 1.0,
    "transfer_penalty_hours": 1.0,
    "places": {"x": [36.0, 39.0]},
    "sites": [
        {"id": "p1", "kind": "prison", "lat": 36.0, "lon": 40.0, "pads": 1,
         "detainees": {"high": 10, "standard": 20}, "load_min_per_detainee": 1.0,
         "refuel_min": 20},
        {"id": "a1", "kind": "airfield", "lat": 35.5, "lon": 40.0, "holding_capacity": 100},
        {"id": "r1", "kind": "reception", "lat": 35.0, "lon": 40.0, "beds": 100,
         "daily_intake_limit": 50, "repatriation_per_day": 1.0,
         "registration": {"stations": 2, "minutes": {"dist": "lognormal", "mean": 5, "cv": 0.3},
                          "hours_per_day": 16, "start_hour": 6}},
    ],
    "legs": [
        {"id": "p1-r1", "from": "p1", "to": "r1", "modes": ["rotary"], "distance_km": 120},
        {"id": "p1-a1", "from": "p1", "to": "a1", "modes": ["ground"], "route_factor": 1.2},
    ],
    "aircraft": {
        "h": {"mode": "rotary", "seats": 10, "cruise_kmh": 200, "range_km": 500,
              "turnaround_min": {"dist": "triangular", "low": 10, "mode": 20, "high": 30},
              "refuel_min": 15, "flight_time_cv": 0.1, "mtbf_flight_hours": 40,
              "repair_hours": {"dist": "uniform", "low": 1, "high": 5},
              "crew_hours_per_day": 8, "rest_hours": 10},
    },
    "fleet": [{"type": "h", "count": 1, "base": "p1", "available_from_day": 0}],
    "escalation": {
        "fronts": [{"name": "east", "start_day": 0, "path": ["x", [36.0, 40.5]],
                    "speed_km_per_day": {"dist": "normal", "mean": 10, "sd": 2},
                    "threat_radius_km": 30, "overrun_radius_km": 5, "close_legs_within_km": 10}],
        "breakout": {"hazard_per_day": 0.01,
                     "fraction": {"dist": "uniform", "low": 0.05, "high": 0.2}},
        "weather": {"storms_per_week": 0.5,
                    "duration_hours": {"dist": "exponential", "mean": 6}},
        "threatened_load_factor": 1.5,
    },
    "triggers": [
        {"name": "open", "when": {"day": 1},
         "then": [{"ground": {"modes": ["rotary"], "hours": 2}},
                  {"add_aircraft": {"type": "h", "count": 1, "base": "p1", "delay_hours": 5}},
                  {"withdraw_aircraft": {"type": "h", "count": 1, "delay_hours": 5}}]},
        {"name": "half", "when": {"fraction_delivered": 0.5},
         "then": [{"set_param": {"path": "aircraft.h.seats", "value": 12}}]},
        {"name": "near", "when": {"front_within_km": 50, "of": "p1"},
         "then": [{"set_intake_limit": {"site": "r1", "per_day": 20}}]},
        {"name": "busy", "when": {"any": [{"occupancy": 50}, {"registration_backlog": 20}]},
         "then": [{"set_dispatch": "round_robin"}]},
    ],
    "observed": [{"day": 1, "delivered_cum": 5}],
}

# Each numeric field: its path in BASE, and the path a message shows (items by id or name).
NUMERIC_FIELDS: list[tuple[tuple[Any, ...], str]] = [
    (("horizon_days",), "horizon_days"),
    (("trigger_check_hours",), "trigger_check_hours"),
    (("transfer_penalty_hours",), "transfer_penalty_hours"),
    (("places", "x", 0), "places.x.0"),
    (("sites", 0, "lat"), "sites.p1.lat"),
    (("sites", 0, "lon"), "sites.p1.lon"),
    (("sites", 0, "pads"), "sites.p1.pads"),
    (("sites", 0, "detainees", "high"), "sites.p1.detainees.high"),
    (("sites", 0, "load_min_per_detainee"), "sites.p1.load_min_per_detainee"),
    (("sites", 0, "refuel_min"), "sites.p1.refuel_min"),
    (("sites", 1, "holding_capacity"), "sites.a1.holding_capacity"),
    (("sites", 2, "beds"), "sites.r1.beds"),
    (("sites", 2, "daily_intake_limit"), "sites.r1.daily_intake_limit"),
    (("sites", 2, "repatriation_per_day"), "sites.r1.repatriation_per_day"),
    (("sites", 2, "registration", "stations"), "sites.r1.registration.stations"),
    (("sites", 2, "registration", "hours_per_day"), "sites.r1.registration.hours_per_day"),
    (("sites", 2, "registration", "minutes", "mean"), "sites.r1.registration.minutes.mean"),
    (("legs", 0, "distance_km"), "legs.p1-r1.distance_km"),
    (("legs", 1, "route_factor"), "legs.p1-a1.route_factor"),
    (("aircraft", "h", "seats"), "aircraft.h.seats"),
    (("aircraft", "h", "cruise_kmh"), "aircraft.h.cruise_kmh"),
    (("aircraft", "h", "range_km"), "aircraft.h.range_km"),
    (("aircraft", "h", "turnaround_min", "high"), "aircraft.h.turnaround_min.high"),
    (("aircraft", "h", "mtbf_flight_hours"), "aircraft.h.mtbf_flight_hours"),
    (("aircraft", "h", "repair_hours", "high"), "aircraft.h.repair_hours.high"),
    (("aircraft", "h", "crew_hours_per_day"), "aircraft.h.crew_hours_per_day"),
    (("fleet", 0, "count"), "fleet.h.count"),
    (("fleet", 0, "available_from_day"), "fleet.h.available_from_day"),
    (("escalation", "fronts", 0, "start_day"), "escalation.fronts.east.start_day"),
    (("escalation", "fronts", 0, "speed_km_per_day", "sd"),
     "escalation.fronts.east.speed_km_per_day.sd"),
    (("escalation", "fronts", 0, "threat_radius_km"), "escalation.fronts.east.threat_radius_km"),
    (("escalation", "fronts", 0, "path", 1, 1), "escalation.fronts.east.path.1.1"),
    (("escalation", "breakout", "hazard_per_day"), "escalation.breakout.hazard_per_day"),
    (("escalation", "weather", "duration_hours", "mean"), "escalation.weather.duration_hours.mean"),
    (("escalation", "threatened_load_factor"), "escalation.threatened_load_factor"),
    (("triggers", 0, "when", "day"), "triggers.open.when.day"),
    (("triggers", 0, "then", 0, "ground", "hours"), "triggers.open.then.0.ground.hours"),
    (("triggers", 0, "then", 1, "add_aircraft", "delay_hours"),
     "triggers.open.then.1.add_aircraft.delay_hours"),
    (("triggers", 1, "when", "fraction_delivered"), "triggers.half.when.fraction_delivered"),
    (("triggers", 1, "then", 0, "set_param", "value"), "triggers.half.then.0.set_param.value"),
    (("triggers", 2, "when", "front_within_km"), "triggers.near.when.front_within_km"),
    (("triggers", 3, "when", "any", 0, "occupancy"), "triggers.busy.when.any.0.occupancy"),
    (("observed", 0, "delivered_cum"), "observed.0.delivered_cum"),
]
# Infinite, NaN, boolean and astronomically large values: none is a sane number anywhere.
BAD_NUMBERS: list[tuple[str, Any]] = [
    ("inf", float("inf")), ("minus-inf", float("-inf")), ("nan", float("nan")),
    ("true", True), ("1e308", 1e308), ("minus-1e308", -1e308),
]


@dataclass
class Case:
    """One malformed input. ``make`` writes the scenario file into a folder and returns it;
    ``needles`` must appear in the message; ``line`` says whether it names a line."""

    id: str
    make: Callable[[Path], Path]
    needles: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()
    command: str = "run"
    line: bool = True
    subprocess_only: bool = False
    names: str | None = None  # the file the message starts with, if not the scenario's
    extra: dict[str, Any] = field(default_factory=dict)


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)


def put(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(data)
    node = out
    for seg in path[:-1]:
        node = node[seg]
    node[path[-1]] = value
    return out


def text_case(case_id: str, text: str | bytes, *needles: str, line: bool = True,
              command: str = "run", sets: tuple[str, ...] = ()) -> Case:
    def make(folder: Path) -> Path:
        f = folder / f"{case_id}.yaml"
        if isinstance(text, bytes):
            f.write_bytes(text)
        else:
            f.write_text(text, encoding="utf-8")
        return f

    return Case(case_id, make, needles, sets=sets, command=command, line=line)


def data_case(case_id: str, data: Any, *needles: str, **kw: Any) -> Case:
    return text_case(case_id, dump(data), *needles, **kw)


def with_(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    return put(BASE, path, value)


def _numeric_cases() -> list[Case]:
    return [
        data_case(f"{shown}={label}", with_(path, value), shown,
                  command="validate" if i % 3 == 0 else "run")
        for path, shown in NUMERIC_FIELDS
        for i, (label, value) in enumerate(BAD_NUMBERS)
    ]


def _dist_cases() -> list[Case]:
    at = ("aircraft", "h", "turnaround_min")
    shown = "aircraft.h.turnaround_min"
    dists = [
        ("triangular-high-inf", {"dist": "triangular", "low": 1, "mode": 2, "high": float("inf")}),
        ("uniform-high-inf", {"dist": "uniform", "low": 0, "high": float("inf")}),
        ("uniform-low-nan", {"dist": "uniform", "low": float("nan"), "high": 3}),
        ("lognormal-mean-inf", {"dist": "lognormal", "mean": float("inf"), "cv": 0.5}),
        ("lognormal-cv-nan", {"dist": "lognormal", "mean": 3, "cv": float("nan")}),
        ("lognormal-cv-huge", {"dist": "lognormal", "mean": 3, "cv": 1e300}),
        ("exponential-mean-zero", {"dist": "exponential", "mean": 0}),
        ("exponential-mean-true", {"dist": "exponential", "mean": True}),
        ("normal-sd-1e308", {"dist": "normal", "mean": 3, "sd": 1e308}),
        ("normal-mean-negative", {"dist": "normal", "mean": -3, "sd": 1}),
        ("constant-value-negative", {"dist": "constant", "value": -1}),
        ("constant-value-string", {"dist": "constant", "value": "ten"}),
        ("triangular-unordered", {"dist": "triangular", "low": 3, "mode": 2, "high": 1}),
        ("unknown-dist", {"dist": "gamma", "mean": 3}),
        ("dist-missing-param", {"dist": "uniform", "low": 1}),
        ("dist-extra-param", {"dist": "uniform", "low": 1, "high": 2, "sd": 1}),
        ("dist-is-a-list", [1, 2, 3]),
        ("dist-is-a-string", "thirty"),
    ]
    return [data_case(f"dist-{name}", with_(at, value), shown) for name, value in dists]


def _range_cases() -> list[Case]:
    """Finite values just outside a documented range."""
    cases = [
        ("trigger-check-tiny", ("trigger_check_hours",), 1e-300, "trigger_check_hours"),
        ("trigger-check-below-min", ("trigger_check_hours",), 0.001, "trigger_check_hours"),
        ("horizon-over-max", ("horizon_days",), 3651, "horizon_days"),
        ("horizon-fraction", ("horizon_days",), 10.5, "horizon_days"),
        ("horizon-string", ("horizon_days",), "10", "horizon_days"),
        ("start-day-far-past", ("escalation", "fronts", 0, "start_day"), -1e6,
         "escalation.fronts.east.start_day"),
        ("repatriation-huge", ("sites", 2, "repatriation_per_day"), 1e12,
         "sites.r1.repatriation_per_day"),
        ("distance-over-earth", ("legs", 0, "distance_km"), 50_000, "legs.p1-r1.distance_km"),
        ("distance-zero", ("legs", 0, "distance_km"), 0, "legs.p1-r1.distance_km"),
        ("penalty-huge", ("transfer_penalty_hours",), 1e9, "transfer_penalty_hours"),
        ("cruise-tiny", ("aircraft", "h", "cruise_kmh"), 1e-300, "aircraft.h.cruise_kmh"),
        ("mtbf-tiny", ("aircraft", "h", "mtbf_flight_hours"), 1e-300,
         "aircraft.h.mtbf_flight_hours"),
        ("crew-hours-tiny", ("aircraft", "h", "crew_hours_per_day"), 1e-300,
         "aircraft.h.crew_hours_per_day"),
        ("registration-hours-tiny", ("sites", 2, "registration", "hours_per_day"), 1e-300,
         "sites.r1.registration.hours_per_day"),
        ("start-hour-24", ("sites", 2, "registration", "start_hour"), 24,
         "sites.r1.registration.start_hour"),
        ("lat-out", ("sites", 0, "lat"), 91, "sites.p1.lat"),
        ("place-lon-out", ("places", "x", 1), 181, "places.x.1"),
        ("count-over", ("fleet", 0, "count"), 100_001, "fleet.h.count"),
        ("count-zero", ("fleet", 0, "count"), 0, "fleet.h.count"),
        ("seats-fraction", ("aircraft", "h", "seats"), 2.5, "aircraft.h.seats"),
        ("detainees-negative", ("sites", 0, "detainees", "high"), -5, "sites.p1.detainees.high"),
        ("detainees-over", ("sites", 0, "detainees", "high"), 10_000_001,
         "sites.p1.detainees.high"),
        ("ground-hours-zero", ("triggers", 0, "then", 0, "ground", "hours"), 0,
         "triggers.open.then.0.ground.hours"),
        ("fraction-over-one", ("triggers", 1, "when", "fraction_delivered"), 1.5,
         "triggers.half.when.fraction_delivered"),
        ("delay-over-horizon", ("triggers", 0, "then", 1, "add_aircraft", "delay_hours"), 1e7,
         "triggers.open.then.1.add_aircraft.delay_hours"),
        ("observed-day-nan", ("observed", 0, "day"), float("nan"), "observed.0.day"),
        ("path-point-nan", ("escalation", "fronts", 0, "path", 1), [float("nan"), 40],
         "escalation.fronts.east.path.1"),
    ]
    return [data_case(name, with_(path, value), shown) for name, path, value, shown in cases]


def _size_cases() -> list[Case]:
    many_sites = copy.deepcopy(BASE)
    many_sites["sites"] += [
        {"id": f"s{i}", "kind": "refuel", "lat": 35.0, "lon": 41.0} for i in range(200)
    ]
    many_legs = copy.deepcopy(BASE)
    many_legs["legs"] += [
        {"id": f"l{i}", "from": "p1", "to": "r1", "modes": ["rotary"]} for i in range(1000)
    ]
    many_places = put(BASE, ("places",), {f"q{i}": [30.0, 40.0] for i in range(1001)})
    many_triggers = copy.deepcopy(BASE)
    many_triggers["triggers"] += [
        {"name": f"t{i}", "when": {"day": 1}, "then": [{"set_dispatch": "round_robin"}]}
        for i in range(1000)
    ]
    long_path = put(BASE, ("escalation", "fronts", 0, "path"), ["x"] * 101)
    many_fronts = put(BASE, ("escalation", "fronts"), [
        dict(BASE["escalation"]["fronts"][0], name=f"f{i}") for i in range(21)])
    places_text = "places:\n" + "".join(f"  p{i}: [1.5, 2.5]\n" for i in range(150_000))
    deep = "a: " + "[" * 600 + "]" * 600 + "\n"
    deep_block = "".join("  " * i + "k:\n" for i in range(600)) + "  " * 600 + "k: 1\n"
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, c in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{c}: &{c} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = "\n".join(lines) + "\n"
    return [
        data_case("sites-over-limit", many_sites, "sites", "at most 200"),
        data_case("legs-over-limit", many_legs, "legs", "at most 1000"),
        data_case("places-over-limit", many_places, "places", "at most 1000"),
        data_case("triggers-over-limit", many_triggers, "triggers", "at most 1000"),
        data_case("front-path-over-limit", long_path, "escalation.fronts.east.path"),
        data_case("fronts-over-limit", many_fronts, "escalation.fronts", "at most 20"),
        text_case("150k-places-over-size", places_text, "over 2,000,000 bytes", line=False),
        text_case("100k-places-over-node-limit",
                  "places:\n" + "".join(f"  p{i}: [1, 2]\n" for i in range(100_000)),
                  "too large", line=False),
        text_case("nested-600-flow", deep, "nested deeper"),
        text_case("nested-600-block", deep_block, "nested deeper"),
        text_case("alias-bomb", bomb, "too large", line=False),
        text_case("recursive-alias", "a: &a [*a]\n", "nested deeper"),
    ]


def _syntax_cases() -> list[Case]:
    good = dump(BASE)
    return [
        text_case("empty", "", "empty", line=False),
        text_case("only-comment", "# nothing\n", "empty", line=False),
        text_case("top-level-list", "- 1\n- 2\n", "expected a mapping"),
        text_case("top-level-scalar", "hello\n", "expected a mapping"),
        text_case("nul-byte", "name: a\x00b\n", "YAML", line=False),
        text_case("bad-utf8", b"name: \xff\xfe\n", "not UTF-8", line=False),
        text_case("unclosed-bracket", "name: x\nsites: [\n  - a: b\n", "syntax error"),
        text_case("tab-indent", "name: x\nsites:\n\t- a\n", "syntax error"),
        text_case("duplicate-key", good + "name: again\n", "duplicate key 'name'"),
        text_case("impossible-date", good.replace("start: '2026-01-01'", "start: 2026-02-30"),
                  "start"),
        text_case("impossible-tagged-date",
                  good.replace("start: '2026-01-01'", "start: !!timestamp 2026-02-30"),
                  "cannot read value"),
        text_case("python-tag", good + "x: !!python/object/apply:os.system ['true']\n",
                  "tag"),
        text_case("unknown-tag", good + "x: !foo bar\n", "tag"),
        text_case("key-is-a-list", good + "? [a, b]\n: 1\n", "keys must be scalars"),
        text_case("unknown-top-field", good + "horizon: 5\n", "horizon", "did you mean"),
        text_case("date-is-a-number", good.replace("start: '2026-01-01'", "start: 20260101"),
                  "start"),
    ]


def _reference_cases() -> list[Case]:
    cases = [
        ("fleet-unknown-type", ("fleet", 0, "type"), "ch4", "fleet.ch4.type"),
        ("fleet-unknown-base", ("fleet", 0, "base"), "p9", "fleet.h.base"),
        ("leg-unknown-site", ("legs", 0, "to"), "r9", "legs.p1-r1.to"),
        ("front-unknown-place", ("escalation", "fronts", 0, "path", 0), "atlantis",
         "escalation.fronts.east.path.0"),
        ("trigger-unknown-site", ("triggers", 2, "then", 0, "set_intake_limit", "site"), "r9",
         "triggers.near.then.0.set_intake_limit.site"),
        ("set-param-bad-path", ("triggers", 1, "then", 0, "set_param", "path"),
         "horizon_days", "triggers.half.then.0.set_param.path"),
        ("set-param-zero-seats", ("triggers", 1, "then", 0, "set_param", "value"), 0,
         "triggers.half.then.0.set_param.value"),
        ("site-bad-kind", ("sites", 1, "kind"), "harbour", "sites.a1.kind"),
        ("pads-is-a-list", ("sites", 0, "pads"), [1], "sites.p1.pads"),
        ("registration-at-prison", ("sites", 0, "registration"),
         BASE["sites"][2]["registration"], "sites.p1"),
        # Fields only a reception reads, set where they would be ignored.
        ("beds-at-prison", ("sites", 0, "beds"), 100, "sites.p1"),
        ("intake-limit-at-airfield", ("sites", 1, "daily_intake_limit"), 10, "sites.a1"),
        ("trigger-intake-at-prison", ("triggers", 2, "then", 0, "set_intake_limit", "site"),
         "p1", "triggers.near.then.0.set_intake_limit.site"),
        ("set-param-beds-at-airfield", ("triggers", 1, "then", 0, "set_param", "path"),
         "sites.a1.beds", "triggers.half.then.0.set_param.path"),
    ]
    return [data_case(name, with_(path, value), shown) for name, path, value, shown in cases]


def _set_cases() -> list[Case]:
    def base_file(folder: Path) -> Path:
        f = folder / "base.yaml"
        f.write_text(dump(BASE))
        return f

    sets = [
        ("trigger_check_hours=1e-300", "trigger_check_hours"),
        ("trigger_check_hours=.nan", "trigger_check_hours"),
        ("horizon_days=true", "horizon_days"),
        ("horizon_days=1e308", "horizon_days"),
        ("sites.r1.repatriation_per_day=.inf", "sites.r1.repatriation_per_day"),
        ("transfer_penalty_hours=.inf", "transfer_penalty_hours"),
        ("legs.p1-r1.distance_km=.inf", "legs.p1-r1.distance_km"),
        ("escalation.fronts.east.start_day=.nan", "escalation.fronts.east.start_day"),
        ("escalation.fronts.east.start_day=-1e308", "escalation.fronts.east.start_day"),
        ("escalation.fronts.eats.start_day=3", "did you mean east"),
        ("escalation.fronts.0.name=", "escalation.fronts"),
        ("fleet.h.cuont=3", "did you mean count"),
        ("fleet.ch47.count=3", "no item 'ch47'"),
        ("aircraft.hh.seats=3", "did you mean h"),
        ("sites.p2.pads=3", "did you mean p1"),
        ("sites.p1.pads=0", "sites.p1.pads"),
        ("sites.p1.pads=true", "sites.p1.pads"),
        ("aircraft.h.turnaround_min={dist: uniform, low: 0, high: .inf}",
         "aircraft.h.turnaround_min.high"),
        ("triggers.opne.once=false", "did you mean open"),
        ("nosuch=1", "unknown field"),
        ("horizon_days.x=1", "is a value"),
        ("noequals", "path=value"),
        ("legs.p1-r1.modes=[]", "legs.p1-r1.modes"),
        ("start=2026-02-30", "start"),
        ("sites.p1.daily_intake_limit=10", "only a reception"),
    ]
    return [Case(f"set-{s}", base_file, (needle,), sets=(s,), line=False) for s, needle in sets]


def _file_cases() -> list[Case]:
    def device(name: str) -> Callable[[Path], Path]:
        return lambda folder: Path(name)

    def fifo(folder: Path) -> Path:
        f = folder / "pipe.yaml"
        os.mkfifo(f)
        return f

    def folder_itself(folder: Path) -> Path:
        d = folder / "dir.yaml"
        d.mkdir()
        return d

    def symlink_loop(folder: Path) -> Path:
        a, b = folder / "a.yaml", folder / "b.yaml"
        a.symlink_to(b)
        b.symlink_to(a)
        return a

    def parent_is_a_file(folder: Path) -> Path:
        (folder / "plain").write_text("x")
        return folder / "plain" / "scenario.yaml"

    def missing(folder: Path) -> Path:
        return folder / "nothere.yaml"

    def child(target: str) -> Callable[[Path], Path]:
        def make(folder: Path) -> Path:
            (folder / "base.yaml").write_text(dump(BASE))
            (folder / "sub").mkdir(exist_ok=True)
            (folder / "plain").write_text("x")
            f = folder / "child.yaml"
            f.write_text(f"name: child\nextends: {target}\n")
            return f
        return make

    def cycle(folder: Path) -> Path:
        (folder / "b.yaml").write_text("extends: a.yaml\n")
        f = folder / "a.yaml"
        f.write_text("extends: b.yaml\n")
        return f

    def child_breaks_route(folder: Path) -> Path:
        (folder / "base.yaml").write_text(dump(BASE))
        f = folder / "child.yaml"
        f.write_text("extends: base.yaml\naircraft:\n  h: {range_km: 10}\n")
        return f

    def child_body(body: str) -> Callable[[Path], Path]:
        def make(folder: Path) -> Path:
            (folder / "base.yaml").write_text(dump(BASE))
            f = folder / "child.yaml"
            f.write_text(f"extends: base.yaml\n{body}")
            return f
        return make

    def child_in_bad_base(folder: Path) -> Path:
        (folder / "base.yaml").write_text(dump(with_(("sites", 0, "pads"), 0)))
        f = folder / "child.yaml"
        f.write_text("extends: base.yaml\nname: child\n")
        return f

    return [
        Case("dev-zero", device("/dev/zero"), ("not a regular file",), line=False),
        Case("dev-urandom", device("/dev/urandom"), ("not a regular file",), line=False,
             command="validate"),
        Case("dev-null", device("/dev/null"), ("not a regular file",), line=False),
        Case("fifo", fifo, ("not a regular file",), line=False, subprocess_only=True),
        Case("folder-as-file", folder_itself, ("is a directory",), line=False),
        Case("symlink-loop", symlink_loop, ("loop",), line=False),
        Case("parent-is-a-file", parent_is_a_file, ("not found",), line=False),
        Case("missing-file", missing, ("not found",), line=False),
        Case("extends-missing", child("nothere.yaml"), ("extends:", "nothere.yaml", "not found")),
        Case("extends-folder", child("sub"), ("extends:", "is a directory")),
        Case("extends-dev-zero", child("/dev/zero"), ("extends:", "not a regular file")),
        Case("extends-under-a-file", child("plain/x.yaml"), ("extends:", "not found")),
        Case("extends-not-a-string", child("[a, b]"), ("extends", "expected a file name")),
        Case("extends-empty", child("''"), ("extends", "expected a file name")),
        Case("extends-cycle", cycle, ("extends cycle",), line=False),
        Case("child-breaks-route", child_breaks_route,
             ("sites.p1", "no feasible route", "from", "child.yaml", "extends"),
             names="base.yaml"),
        Case("extends-remove-unknown", child_body("fleet:\n  - {type: hh, remove: true}\n"),
             ("remove: no type 'hh'", "did you mean h")),
        Case("extends-remove-unknown-site", child_body("sites:\n  - {id: p2, remove: true}\n"),
             ("remove: no id 'p2'",)),
        Case("extends-child-bad-value", child_body("fleet:\n  - {type: h, count: .inf}\n"),
             ("fleet.h.count",)),
        Case("extends-child-unknown-field", child_body("sites:\n  - {id: p1, pdas: 2}\n"),
             ("sites.p1.pdas", "did you mean pads")),
        Case("base-error-names-child", child_in_bad_base,
             ("sites.p1.pads", "from", "child.yaml"), names="base.yaml"),
    ]


CASES: list[Case] = [
    *_numeric_cases(), *_dist_cases(), *_range_cases(), *_size_cases(), *_syntax_cases(),
    *_reference_cases(), *_set_cases(), *_file_cases(),
]


def cli_args(case: Case, path: Path, out: Path) -> list[str]:
    args = [case.command, str(path)]
    for s in case.sets:
        args += ["--set", s]
    if case.command == "run":
        args += ["--out", str(out), "--no-plots", "--json"]
    return args


def problems(case: Case, path: Path, out: Path, code: int, stdout: str, stderr: str) -> list[str]:
    """What is wrong with how the CLI handled ``case`` (empty: all is well)."""
    found, lines = refusal_problems(code, stdout, stderr)
    if len(lines) == 1:
        named = path if case.names is None else path.parent / case.names
        # Located problems read ``file:line: ...``; a problem with the whole file reads
        # ``error: file: ...`` (the one style of every other exit-2 message).
        pattern = ("" if case.line else "(error: )?") + re.escape(str(named)) + (
            r":\d+: " if case.line else r"[:\s]")
        # A malformed ``--set`` argument is refused before any file is read, so its message
        # names the option, not the file.
        option_error = re.match(r"error: --set(-b)? ", lines[0]) and "expected path=value" in lines[0]
        if not re.match(pattern, lines[0]) and not option_error:
            found.append(f"does not start with {named}{':LINE' if case.line else ''}: {lines[0]}")
    for needle in case.needles:
        if needle not in stderr:
            found.append(f"{needle!r} not in {stderr.strip()[:300]!r}")
    if out.exists() and any(out.iterdir()):
        found.append("files written to --out")
    return found


def run_in_process(case: Case, folder: Path) -> list[str]:
    from typer.testing import CliRunner

    from sim.cli.app import app

    folder.mkdir(parents=True, exist_ok=True)
    path = case.make(folder)
    out = folder / "out"
    result = CliRunner().invoke(app, cli_args(case, path, out))
    return problems(case, path, out, result.exit_code, result.stdout, result.stderr)


def run_corpus(folder: Path) -> dict[str, list[str]]:
    """Every case, in this process; the failures by case id."""
    failures = {}
    for i, case in enumerate(CASES):
        found = run_in_process(case, folder / f"c{i}")
        if found:
            failures[case.id] = found
    return failures


@pytest.mark.parametrize("case", [c for c in CASES if not c.subprocess_only],
                         ids=lambda c: c.id)
def test_malformed_input_is_one_clear_line(case: Case, tmp_path: Path) -> None:
    assert run_in_process(case, tmp_path) == []


def test_corpus_is_large() -> None:
    assert len(CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES)


def test_base_scenario_is_valid(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sim.cli.app import app

    f = tmp_path / "base.yaml"
    f.write_text(dump(BASE))
    result = CliRunner().invoke(app, ["run", str(f), "--json", "--no-plots"])
    assert result.exit_code == 0, result.stderr


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == "fifo")
    path = case.make(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run(  # the timeout guards against an open that waits for a writer
        [sys.executable, "-m", "sim", *cli_args(case, path, out)], cwd=ROOT,
        capture_output=True, text=True, timeout=120,
    )
    assert problems(case, path, out, proc.returncode, proc.stdout, proc.stderr) == []


def _cap_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CORPUS_MEMORY_BYTES, CORPUS_MEMORY_BYTES))


def test_whole_corpus_in_bounded_memory(tmp_path: Path) -> None:
    """All cases in one child process capped at 1.5 GB of address space (a loader that
    read /dev/zero to the end grew to 3.7 GB); the timeout bounds the whole corpus."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(
        [sys.executable, __file__, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
        timeout=600, preexec_fn=_cap_memory, env=env,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"{len(CASES)} cases ok" in proc.stdout


if __name__ == "__main__":
    failed = run_corpus(Path(sys.argv[1]))
    for case_id, found in failed.items():
        print(f"{case_id}: {'; '.join(found)}")
    print(f"{len(CASES) - len(failed)} cases ok, {len(failed)} failed")
    sys.exit(1 if failed else 0)
