"""The narrow parts of a run: run state, transfers (the no-work shortcut), fleet, the shared
vocabulary and typed records, and results built without touching the finished run."""

from __future__ import annotations

import csv
import io
import typing
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from tiny_scenarios import one_leg, scenario

import sim
from sim.common.vocabulary import (
    DETAINEE_STATE_NAMES,
    EVENT_COLUMNS,
    SORTIE_COLUMNS,
    STATUS_NAMES,
    VEHICLE_STATE_NAMES,
    Event,
    EventKind,
    SiteStatus,
    Sortie,
    VehicleState,
)
from sim.core.detainees import REGISTERED
from sim.core.model import Model
from sim.core.results import build_result
from sim.output.files import csv_text, events_csv
from sim.scenario import schema


@dataclass
class FakeVehicle:
    """Just what the dispatcher reads of a vehicle."""

    name: str
    mode: str
    range_km: float
    location: str
    p: dict[str, Any]

    @property
    def sortie_places(self) -> int:
        return int(self.p["seats"])

    def crew_allows(self, hours: float) -> bool:
        return True


def _model(**kw: Any) -> Model:
    return Model(scenario(one_leg(n=50, **kw)), 1)


def _rotary(m: Model, name: str = "x-01") -> FakeVehicle:
    return FakeVehicle(name, "rotary", 1e6, "r", m.params.aircraft["h"])


# ----- the no-work shortcut ----------------------------------------------------------------


def test_no_work_for_a_mode_with_nothing_to_do() -> None:
    m = _model()
    tr = m.transfers
    bus = FakeVehicle("bus-01", "ground", 1e6, "r", m.params.aircraft["h"])
    assert not tr.has_no_work(bus)  # nobody asked yet
    assert tr.dispatch(bus) is None  # no ground leg anywhere
    assert tr.has_no_work(bus)
    # The answer holds for every vehicle like it, and not for another mode.
    assert tr.has_no_work(FakeVehicle("bus-02", "ground", 1e6, "r", m.params.aircraft["h"]))
    assert not tr.has_no_work(_rotary(m))
    assert tr.dispatch(_rotary(m)) is not None


def test_no_work_is_invalidated_by_notify() -> None:
    m = _model()
    st, tr = m.state, m.transfers
    st.site_open["p"] = False
    heli = _rotary(m)
    assert tr.dispatch(heli) is None and tr.has_no_work(heli)
    st.site_open["p"] = True  # work again, but nobody was told: the answer still holds
    assert tr.dispatch(heli) is None
    st.notify()
    assert not tr.has_no_work(heli)
    mission = tr.dispatch(heli)
    assert mission is not None and mission.hop.origin == "p" and len(mission.ids) == 30


def test_no_work_is_invalidated_when_the_clock_moves() -> None:
    m = _model()
    m.state.site_open["p"] = False
    heli = _rotary(m)
    assert m.transfers.dispatch(heli) is None and m.transfers.has_no_work(heli)
    m.env.run(until=0.5)
    assert not m.transfers.has_no_work(heli)


def test_freed_claims_invalidate_no_work() -> None:
    m = _model(reception_kw={"beds": 30})
    tr = m.transfers
    first = tr.dispatch(_rotary(m, "a-01"))
    assert first is not None  # claims all 30 beds
    heli = _rotary(m, "a-02")
    assert tr.dispatch(heli) is None and tr.has_no_work(heli)
    tr.release_claim(first)  # the beds are free again
    assert not tr.has_no_work(heli)
    assert tr.dispatch(heli) is not None


# ----- run state and fleet -----------------------------------------------------------------


def test_status_only_rises_and_is_logged_by_name() -> None:
    m = _model()
    st = m.state
    assert st.raise_status("p", SiteStatus.OVERRUN)
    assert not st.raise_status("p", SiteStatus.THREATENED)
    assert st.status["p"] == SiteStatus.OVERRUN and st.is_overrun("p")
    assert st.status_log == [(0.0, "p", "overrun")]
    assert "p" in st.closed_sites()


def test_groundings_log_their_cause() -> None:
    m = _model()
    st = m.state
    st.ground(["rotary"], 5.4, "storm")
    st.ground(["rotary"], 2.0, "order")
    assert st.grounded_until["rotary"] == pytest.approx(5.4)
    st.release(["rotary"])
    assert [(e.kind, e.site, e.n) for e in st.events] == [
        (EventKind.GROUNDED_STORM, "rotary", 5), (EventKind.GROUNDED_ORDER, "rotary", 2),
        (EventKind.RELEASED, "rotary", 0),
    ]


def test_fleet_roster_and_withdrawal_order() -> None:
    m = _model(count=3)
    fleet = m.fleet
    fleet.add("h", 1, "r", 10.0)
    assert fleet.roster == {"h-01": "h", "h-02": "h", "h-03": "h", "h-04": "h"}
    assert fleet.type_counts == {"h": 4}
    for v, state in zip(fleet.vehicles, (VehicleState.IDLE, VehicleState.IDLE,
                                         VehicleState.BUSY, VehicleState.PENDING), strict=True):
        v.state = state
    fleet.withdraw("h", 2, 5.0)  # idle ones first, newest first among equals
    assert [v.name for v in fleet.vehicles if v.withdraw_at == 5.0] == ["h-01", "h-02"]


# ----- vocabulary and typed records ----------------------------------------------------------


def test_named_constants_match_the_files() -> None:
    assert [int(s) for s in SiteStatus] == [0, 1, 2]
    assert STATUS_NAMES == ("safe", "threatened", "overrun")
    assert STATUS_NAMES == typing.get_args(schema.Status)  # what a rule's condition may name
    assert VEHICLE_STATE_NAMES == ("idle", "busy", "maintenance", "grounded", "resting",
                                   "pending", "withdrawn")
    assert DETAINEE_STATE_NAMES == ("held", "waiting", "in_flight", "delivered", "registered",
                                    "escaped", "released", "custody_transferred")
    assert EventKind.GROUNDED_STORM == "grounded_storm" and EventKind.LEG_REOPENED == "leg_reopened"


@pytest.fixture(scope="module")
def baseline_model() -> Model:
    m = Model(sim.load_scenario("scenarios/baseline.yaml"), 2)
    m.run()
    return m


def test_the_model_writes_typed_records(baseline_model: Model) -> None:
    m = baseline_model
    assert m.events and all(type(e) is Event and type(e.kind) is EventKind for e in m.events)
    assert m.sorties and all(type(s) is Sortie for s in m.sorties)
    assert Sortie._fields == SORTIE_COLUMNS
    roster = m.fleet.roster
    assert all(s.type == roster[s.aircraft] for s in m.sorties)
    # A record is still a plain tuple: it equals and writes like the strings it holds.
    e = next(e for e in m.events if e.kind == EventKind.DEPART)
    plain = (e.time, "depart", e.subject, e.site, e.n)
    assert e == plain
    assert csv_text(EVENT_COLUMNS, [e]) == csv_text(EVENT_COLUMNS, [plain])


def test_events_round_trip_through_the_csv(baseline_model: Model) -> None:
    res = build_result(baseline_model.finished(), 0.0)
    rows = list(csv.DictReader(io.StringIO(events_csv(res))))
    back = [Event.from_row(r) for r in rows]
    assert [(e.kind, e.subject, e.site, e.n) for e in back if e] == [
        (e.kind, e.subject, e.site, e.n) for e in res.events]
    assert Event.from_row({"hour": "1", "event": "grounded", "who": "-", "where": "x"}) is None


# ----- results ----------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def test_building_results_twice_gives_equal_results(baseline_model: Model) -> None:
    run = baseline_model.finished()
    before = {k: v.copy() for k, v in run.detainees.items()}
    first, second = build_result(run, 1.5), build_result(run, 1.5)
    for name in ("kpis", "daily", "sorties", "events", "status_log", "meta", "fronts",
                 "vehicle_types", "detainees"):
        assert _same(getattr(first, name), getattr(second, name)), name
    # The end-of-run fix-up (registration scheduled past the horizon) worked on copies.
    assert all(_same(before[k], run.detainees[k]) for k in before)
    assert not np.any(run.detainees["state"] == REGISTERED)
    assert np.any(first.detainees["state"] == REGISTERED)
    assert first.detainees["state"] is not run.detainees["state"]


# ----- claimed batches and losses at their origin --------------------------------------------


def test_a_claimed_batch_is_checked_again_only_after_a_loss_at_its_origin() -> None:
    """Without a loss at the origin since the claim the batch is returned as it is; an
    escape there afterwards is seen (those who escaped are no longer in the batch)."""
    from sim.common.vocabulary import EventKind

    m = _model()
    tr = m.transfers
    mission = tr.dispatch(_rotary(m))
    assert mission is not None and len(mission.ids) == 30
    assert tr.still_here(mission.ids, mission) is mission.ids  # nothing looked at
    m.env.jump_to(1.0)
    tr.escape(mission.ids[:5], "p", EventKind.BREAKOUT)
    left = tr.still_here(mission.ids, mission)
    assert left.tolist() == mission.ids[5:].tolist()
