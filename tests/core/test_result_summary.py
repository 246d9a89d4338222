"""Where stranded detainees are, and a short view of a Result."""

from __future__ import annotations

import sim


def test_remaining_detainees_are_reported_by_site() -> None:
    """Cut the baseline at day 10: everyone not delivered or escaped is at a named site."""
    s = sim.load_scenario("scenarios/baseline.yaml", ["horizon_days=10"])
    k = sim.run(s, 1).kpis
    assert k["remaining"] > 0
    where = k["remaining_by_site"]
    assert sum(where.values()) == k["remaining"]
    states = k["final_states"]
    assert where.get("in_flight", 0) == states["in_flight"]
    assert sum(v for site, v in where.items() if site != "in_flight") == states["held"] + states["waiting"]
    assert set(where) - {"in_flight"} <= {site.id for site in s.sites}


def test_nothing_is_listed_when_nobody_remains() -> None:
    k = sim.run(sim.load_scenario("scenarios/baseline.yaml"), 1).kpis
    assert k["remaining"] == 0 and k["remaining_by_site"] == {}


def test_a_result_prints_short() -> None:
    r = sim.run(sim.load_scenario("scenarios/baseline.yaml"), 1)
    text = repr(r)
    assert len(text) < 400 and f"{r.kpis['delivered']:,} of" in text
    assert "<p>" in r._repr_html_()
