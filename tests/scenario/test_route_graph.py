"""The route network's graphs and road distances, kept without networkx.

``sim.scenario.network`` keeps each mode's graph as plain mappings and finds road
distances with its own Dijkstra search; these tests hold both to what networkx gave
before: the same graph (shortest leg kept, in the order legs first joined two sites)
and the same distances to the last bit, ties and all.
"""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny_scenarios import leg, one_leg, prison, reception, scenario

from sim.scenario.checks import fleet_types
from sim.scenario.network import Network, _road_km_from, mode_specs

# Lengths whose sums tie, or nearly tie, in floating point (0.1 + 0.2 is not 0.3).
LENGTHS = st.sampled_from([0.1, 0.2, 0.3, 0.5, 1.0, 1.5, 2.5, 3.0])


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, str, float]]]:
    nodes = [f"s{i}" for i in range(draw(st.integers(1, 8)))]
    edges = draw(st.lists(st.tuples(st.sampled_from(nodes), st.sampled_from(nodes), LENGTHS),
                          max_size=30))
    return nodes, edges


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_road_distances_are_networkx_dijkstra_to_the_last_bit(
        graph: tuple[list[str], list[tuple[str, str, float]]]) -> None:
    nodes, edges = graph
    ours: dict[str, dict[str, float]] = {n: {} for n in nodes}
    theirs = nx.DiGraph()
    theirs.add_nodes_from(nodes)
    for a, b, km in edges:  # the shortest of parallel legs, as the network keeps them
        if b not in ours[a] or ours[a][b] > km:
            ours[a][b] = km
            theirs.add_edge(a, b, km=km)
    for source in nodes:
        expected = nx.single_source_dijkstra_path_length(theirs, source, weight="km")
        got = _road_km_from(ours, source)
        assert list(got.items()) == list(expected.items())  # same order, same bits


def test_each_mode_keeps_the_shortest_leg_between_two_sites_in_first_joined_order() -> None:
    data = one_leg()
    data["sites"] = [prison("p", 1.0, 10), reception("q", 2.0), reception("r", 0.0)]
    data["legs"] = [
        leg("p", "r", ["rotary", "ground"], distance_km=120.0),
        leg("q", "r", ["ground"], distance_km=250.0),
        leg("p", "r", ["ground"], distance_km=100.0, id="short-road"),
        leg("r", "p", ["ground"], distance_km=90.0, bidirectional=False, id="back-road"),
        leg("q", "p", ["ground"], distance_km=40.0, open=False),
    ]
    s = scenario(data)
    net = Network(s, mode_specs(s, fleet_types(s)))
    assert list(net.graphs) == ["rotary", "fixed_wing", "ground"]
    assert net.graphs["rotary"] == {"p": {"r": 120.0}, "q": {}, "r": {"p": 120.0}}
    assert net.graphs["ground"] == {"p": {"r": 100.0}, "q": {"r": 250.0},
                                    "r": {"p": 90.0, "q": 250.0}}
    assert list(net.graphs["ground"]["r"]) == ["p", "q"]
    assert net.positioning_km("ground", "q", "p") == 250.0 + 90.0  # the closed leg is no road
    assert net.positioning_km("ground", "p", "q") == 100.0 + 250.0


def _two_airports(road_km: float) -> dict[str, object]:
    """People bused from prison ``p`` to airport ``a``; airport ``b``'s flight to the
    reception ``r`` is 5 km shorter than ``a``'s; a road ``a``-``b`` of ``road_km``."""
    from tiny_scenarios import aircraft_type

    def airfield(sid: str, lat: float) -> dict[str, object]:
        return {"id": sid, "kind": "airfield", "lat": lat, "lon": 40.0, "pads": 2}

    return {
        "name": "two airports", "start": "2026-01-01", "horizon_days": 3,
        "sites": [prison("p", 2.0, 120), airfield("a", 1.0), airfield("b", 1.05),
                  reception("r", 0.0)],
        "legs": [leg("p", "a", modes=["ground"], distance_km=20),
                 leg("a", "b", modes=["ground"], distance_km=road_km),
                 leg("a", "r", modes=["fixed_wing"], distance_km=100),
                 leg("b", "r", modes=["fixed_wing"], distance_km=95)],
        "aircraft": {"bus": aircraft_type(mode="ground", cruise_kmh=50),
                     "plane": aircraft_type(mode="fixed_wing", cruise_kmh=500)},
        "fleet": [{"type": "bus", "count": 3, "base": "p"},
                  {"type": "plane", "count": 1, "base": "r"}],
    }


def test_people_at_an_airport_are_not_driven_to_another_to_save_minutes() -> None:
    """``a``'s people may fly from ``a``: a 10-hour drive to ``b`` whose flight is 0.6
    minutes shorter is no progress (it gains under a tenth of its length); a road short
    enough to gain that share still is."""
    import sim

    s = scenario(_two_airports(road_km=500))
    far = Network(s, mode_specs(s, fleet_types(s)))
    assert [h.dest for h in far.options["a"].get("ground", [])] == []
    assert [h.dest for h in far.options["a"]["fixed_wing"]] == ["r"]
    res = sim.run(scenario(_two_airports(road_km=500)), 1)
    assert not [s for s in res.sorties if s.origin == "a" and s.dest == "b"]
    assert res.kpis["delivered"] == 120
    s = scenario(_two_airports(road_km=0.05))  # 3.6 s of driving to gain 0.6 minutes
    near = Network(s, mode_specs(s, fleet_types(s)))
    assert [h.dest for h in near.options["a"]["ground"]] == ["b"]
