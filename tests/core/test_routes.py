"""Dispatch's native view of a route network (``sim.core.routes``) reads as the network does."""

from __future__ import annotations

import itertools

import pytest
from test_parts import FakeVehicle
from tiny_scenarios import ROOT, SHIPPED_SCENARIOS, leg, one_leg, scenario

import sim
from sim.core.model import Model
from sim.core.prepared import Prepared
from sim.core.routes import NO_ROUTE, DispatchView
from sim.scenario.network import MODES, Network
from sim.scenario.schema import Scenario


def _network(s: Scenario) -> Network:
    """The network with nothing closed, as a run's first dispatch gets it."""
    return Prepared(s).network(frozenset(), {})


def _check_view(net: Network, site_ids: list[str]) -> None:
    view = DispatchView(net)
    assert [node for node, _ in view.nodes] == list(net.options)
    for node, per_mode in view.nodes:
        assert list(per_mode) == list(net.options[node])
        for mode, records in per_mode.items():
            hops = net.options[node][mode]
            assert [r.hop for r in records] == list(hops)  # the same hops, best first
            for r, hop in zip(records, hops, strict=True):
                assert r.dest == hop.dest
                assert r.max_segment_km == max(hop.segment_km)
                assert r.distance_km == sum(hop.segment_km)
    for mode, a, b in itertools.product(MODES, site_ids, site_ids):
        km = net.positioning_km(mode, a, b)
        expected = NO_ROUTE if km is None else km
        assert [view.positioning_km(mode, a, b) for _ in range(2)] == [expected] * 2  # memoised
    for node in site_ids:
        dests = {h.dest for hops in net.options.get(node, {}).values() for h in hops}
        assert view.onward_dests(node) == tuple(sorted(dests))


@pytest.mark.parametrize("path", SHIPPED_SCENARIOS)
def test_the_view_of_every_shipped_network_reads_as_the_network(path: str) -> None:
    s = sim.load_scenario(ROOT / path)
    _check_view(_network(s), [site.id for site in s.sites])


def test_a_node_off_the_roads_has_no_positioning_route() -> None:
    data = one_leg(n=10)
    data["sites"].append({"id": "q", "kind": "airfield", "lat": 2.0, "lon": 40.0})  # no leg: no road
    data["legs"] = [leg("p", "r", ["ground"])]
    data["aircraft"]["h"]["mode"] = "ground"
    s = scenario(data)
    net = _network(s)
    assert net.positioning_km("ground", "q", "r") is None
    assert DispatchView(net).positioning_km("ground", "q", "r") == NO_ROUTE
    _check_view(net, [site.id for site in s.sites])


def test_a_closure_gives_dispatch_the_new_network() -> None:
    """After a reroute, dispatch sends nobody over a closed leg: its view follows the network."""
    data = one_leg(n=40, count=1, horizon_days=3)
    data["sites"].append({"id": "r2", "kind": "reception", "lat": 3.0, "lon": 40.0})
    data["legs"] = [leg("p", "r", id="near"), leg("p", "r2", id="far")]
    m = Model(scenario(data), 1)
    tr = m.transfers
    heli = FakeVehicle("x-01", "rotary", 1e6, "p", m.params.aircraft["h"])
    before = tr.dispatch(heli)
    assert before is not None and before.hop.dest == "r"  # the nearer reception first
    m.state.trigger_closed_legs["near"] = frozenset({"rotary"})
    tr.reroute()
    after = tr.dispatch(heli)
    assert after is not None and after.hop.dest == "r2"
