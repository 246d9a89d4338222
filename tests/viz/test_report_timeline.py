"""The report's timeline names events with the model's own vocabulary.

It used to look for ``grounded`` and ``leg_opened`` while the model writes
``grounded_storm``, ``grounded_order`` and ``leg_reopened``, so groundings and
reopenings never showed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.common.vocabulary import EventKind
from sim.core.results import Result
from sim.output.files import write_run
from sim.scenario.loader import resolved_yaml
from viz.report import timeline
from viz.results import Results

ROOT = Path(__file__).resolve().parents[2]


def _timeline_of(scenario: str, out: Path) -> tuple[list[tuple[float, str, str]], Result]:
    """The report timeline of a run of ``scenario`` (seed 1) written to ``out``, and the run."""
    s = sim.load_scenario(ROOT / scenario)
    res = sim.run(s, 1)
    write_run(res, out, resolved_yaml(s))
    return timeline(Results(out)), res


def test_dust_storm_timeline_shows_its_groundings(tmp_path: Path) -> None:
    items, res = _timeline_of("scenarios/dust_storm.yaml", tmp_path / "run")
    storms = [e for e in res.events if e.kind == EventKind.GROUNDED_STORM]
    orders = [e for e in res.events if e.kind == EventKind.GROUNDED_ORDER]
    assert storms and orders  # the scenario grounds by storm and by order
    for e, label in ((storms[0], "grounded (storm)"), (orders[0], "grounded (order)")):
        line = (pytest.approx(e.time), label, f"{e.site} for {e.n} h")
        assert line in items, (line, items)


def test_timeline_shows_a_leg_reopening(tmp_path: Path) -> None:
    items, res = _timeline_of("scenarios/exercises/04-the-front.yaml", tmp_path / "run")
    reopened = [e for e in res.events if e.kind == EventKind.LEG_REOPENED]
    assert reopened
    shown = [(h, d) for h, w, d in items if w == "leg reopened"]
    assert [(pytest.approx(e.time), e.site) for e in reopened] == shown

