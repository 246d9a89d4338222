"""The note after a run's KPIs on a type that flies near-empty sorties."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.output.notes import LIGHT_LOAD_SHARE, light_load_notes
from tests.tiny_scenarios import one_leg, scenario

#: 100 people handed over 2 an hour to one 30-seat helicopter an hour from the reception:
#: leaving with whoever waits, it flies 21 sorties of about 5 people.
TRICKLE = one_leg(n=100, seats=30, horizon_days=4, prison_kw={"release": {"per_hour": 2}})


def test_a_type_leaving_near_empty_gets_a_note_naming_the_minimum_load() -> None:
    s = scenario(TRICKLE)
    result = sim.run(s, 1)
    flown = result.kpis["sorties"]["h"]
    mean = result.kpis["delivered"] / flown
    assert flown >= 20 and mean < LIGHT_LOAD_SHARE * 30
    assert light_load_notes(result, s) == [
        f"note: h flew {flown} loaded sorties with {mean:.1f} people on average, "
        f"{mean / 30:.0%} of its 30 places: it leaves with whoever is waiting; "
        "min_load_fraction (with max_load_wait_hours) makes it wait for fuller loads "
        "(docs/mechanisms.md, \"Minimum load and maximum wait\")"]


def test_no_note_for_a_type_that_waits_for_a_load_or_flies_full() -> None:
    waits = scenario(one_leg(n=100, seats=30, horizon_days=4,
                             prison_kw={"release": {"per_hour": 2}},
                             type_kw={"min_load_fraction": 0.5}))
    assert light_load_notes(sim.run(waits, 1), waits) == []
    full = scenario(one_leg(n=900, seats=30, horizon_days=4))  # everyone ready at hour 0
    assert light_load_notes(sim.run(full, 1), full) == []


def test_dtsim_run_prints_the_note_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "trickle.yaml"
    path.write_text(yaml.safe_dump(TRICKLE))
    done = CliRunner().invoke(app, ["run", str(path), "--json"])
    assert done.exit_code == 0, done.output
    assert "note: h flew" in done.stderr and "note:" not in done.stdout
