"""``staging.csv``: each staging airfield's count of people waiting there, from the start
and after every change, as the run's transfers kept it."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim
from sim.core.detainees import WAITING
from sim.output.files import STAGING_COLUMNS, write_run
from tests.tiny_scenarios import ROOT, aircraft_type, leg, prison, reception, scenario


def staged(n: int = 30) -> dict[str, Any]:
    """Prison p, staging airfield a, reception r, each an hour apart: a helicopter brings
    ``n`` people to a, where a 30-seat aircraft takes them on."""
    return {
        "name": "staged", "start": "2026-01-01", "horizon_days": 2,
        "sites": [prison("p", 2.0, n),
                  {"id": "a", "kind": "airfield", "lat": 1.0, "lon": 40.0,
                   "holding_capacity": 40},
                  reception("r", 0.0)],
        "legs": [leg("p", "a"), leg("a", "r", modes=["fixed_wing"])],
        "aircraft": {"h": aircraft_type(seats=30),
                     "f": aircraft_type(mode="fixed_wing", seats=30)},
        "fleet": [{"type": "h", "count": 1, "base": "p"},
                  {"type": "f", "count": 1, "base": "a"}],
    }


def test_a_staging_airfield_counts_who_waits_there_hour_by_hour(tmp_path: Path) -> None:
    """Thirty people reach a at 1.75 h (the helicopter unloaded: an hour's flight from
    0.25 h, 15 minutes of unloading) and leave at 2.25 h (the aircraft loaded): the log
    reads 0 from the start, 30 at the unload and 0 at the departure; staging.csv is it."""
    s = scenario(staged())
    res = sim.run(s, 1)
    assert res.staging_log == [(0.0, "a", 0), (1.75, "a", 30), (2.25, "a", 0)]
    unload = next(e for e in res.events if e.site == "a" and e.kind == "unload")
    depart = next(e for e in res.events if e.site == "a" and e.kind == "depart")
    assert (unload.time, depart.time) == (1.75, 2.25)
    write_run(res, tmp_path, "")
    with (tmp_path / "staging.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(STAGING_COLUMNS) == ["hour", "site", "held"]
    assert [(float(h), site, int(n)) for h, site, n in rows[1:]] == res.staging_log


@pytest.mark.parametrize("seed", [1, 2])
def test_the_baselines_staging_stays_within_its_holding_and_ends_as_the_table(seed: int
                                                                             ) -> None:
    """On the baseline: hours in order from 0, counts never below 0 nor above the
    airfield's holding capacity, every change equal to the unloads and loads the event
    log has there (no one escapes from an airfield in it), and each airfield's last
    count equal to those the detainee table leaves waiting there."""
    s = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    res = sim.run(s, seed)
    log = res.staging_log
    capacity = {x.id: x.holding_capacity for x in s.sites if x.kind == "airfield"}
    assert {site for _, site, _ in log} == set(capacity)
    assert [h for h, _, _ in log] == sorted(h for h, _, _ in log) and log[0][0] == 0.0
    by_events: dict[str, int] = dict.fromkeys(capacity, 0)
    changes = {site: [n for _, s_, n in log if s_ == site][1:] for site in capacity}
    expected: dict[str, list[int]] = {site: [] for site in capacity}
    for e in res.events:
        if e.site in capacity and e.kind in ("unload", "depart"):
            by_events[e.site] += e.n if e.kind == "unload" else -e.n
            expected[e.site].append(by_events[e.site])
    assert changes == expected
    for site, cap in capacity.items():
        counts = np.array([n for _, s_, n in log if s_ == site])
        assert counts.min() >= 0
        if cap is not None:
            assert counts.max() <= cap
    assert max(n for _, site, n in log if site == "rmelan") > 1000  # the staging fills
    d = res.detainees
    for i, site in enumerate(sorted(capacity)):
        at = s.sites.index(next(x for x in s.sites if x.id == site))
        waiting = int(np.count_nonzero((d["state"] == WAITING) & (d["location"] == at)))
        assert [n for _, s_, n in log if s_ == site][-1] == waiting, (i, site)


def test_people_lost_at_an_overrun_airfield_leave_its_count() -> None:
    """A front overruns the staging airfield while 100 wait there: they escape, and the
    log falls from 100 to 0 at the overrun's hour, as the escape event says."""
    data = {
        "name": "overrun", "start": "2026-01-01", "horizon_days": 4,
        "sites": [{"id": "p", "kind": "prison", "lat": 36.0, "lon": 41.0, "pads": 2,
                   "detainees": {"standard": 200}},
                  {"id": "a", "kind": "airfield", "lat": 36.0, "lon": 40.0,
                   "holding_capacity": 150},
                  {"id": "r", "kind": "reception", "lat": 34.0, "lon": 40.0}],
        "legs": [{"from": "p", "to": "a", "modes": ["ground"], "distance_km": 90},
                 {"from": "a", "to": "r", "modes": ["fixed_wing"]}],
        "aircraft": {"bus": {"mode": "ground", "seats": 50, "cruise_kmh": 90,
                             "turnaround_min": 30},
                     "c130": {"mode": "fixed_wing", "seats": 20, "cruise_kmh": 400,
                              "turnaround_min": 60}},
        "fleet": [{"type": "bus", "count": 3, "base": "p"},
                  {"type": "c130", "count": 1, "base": "r"}],
        "escalation": {"fronts": [{"name": "f", "start_day": 0,
                                   "path": [[36.0, 38.0], [36.0, 41.0]],
                                   "speed_km_per_day": 300.0, "threat_radius_km": 30.0,
                                   "overrun_radius_km": 5.0}]},
    }
    res = sim.run(scenario(data), 1)
    (escape,) = [e for e in res.events if e.site == "a" and e.kind == "overrun_escape"]
    before, last = res.staging_log[-2], res.staging_log[-1]
    assert escape.n == before[2] - last[2] > 0
    assert last == (escape.time, "a", 0)
    assert res.kpis["escaped"] >= escape.n
