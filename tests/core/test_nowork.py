"""The dispatcher's no-work answers last the day across changes that give no work (``NoWork``)."""

from __future__ import annotations

import pytest
from test_parts import FakeVehicle
from tiny_scenarios import one_leg, scenario

from sim.core.model import Model


def _full_reception() -> tuple[Model, FakeVehicle]:
    """A model whose only reception's 30 beds are claimed: a second helicopter has no work."""
    m = Model(scenario(one_leg(n=50, reception_kw={"beds": 30})), 1)
    first = m.transfers.dispatch(FakeVehicle("a-01", "rotary", 1e6, "r", m.params.aircraft["h"]))
    assert first is not None and first.reserved == 30
    heli = FakeVehicle("a-02", "rotary", 1e6, "r", m.params.aircraft["h"])
    assert m.transfers.dispatch(heli) is None
    return m, heli


def test_an_answer_lasts_the_day_for_idle_vehicles_only() -> None:
    m, heli = _full_reception()
    tr = m.transfers
    m.env.jump_to(5.0)
    assert not tr.has_no_work(heli)  # the dispatcher's own shortcut holds for one instant
    assert tr.no_work_today(heli)  # an idle vehicle need not wake: nothing changed today
    m.env.jump_to(24.0)
    assert not tr.no_work_today(heli)  # a new day: new intake clearances


def test_a_change_that_gives_no_work_keeps_the_answer() -> None:
    m, heli = _full_reception()
    tr = m.transfers
    m.state.notify()
    tr.no_work.queued("p")  # more detainees at p, but still no bed for them
    assert tr.no_work_today(heli) and tr.has_no_work(heli)
    tr.no_work.freed("r")  # reported, but no bed was actually freed
    assert tr.no_work_today(heli)


def test_a_change_that_gives_work_ends_the_answer() -> None:
    m, heli = _full_reception()
    tr = m.transfers
    m.params.set("sites.r.beds", 60)
    m.state.notify()  # not reported as a change at one node: every answer ends
    assert not tr.no_work_today(heli)
    assert tr.dispatch(heli) is not None


def test_freed_room_where_work_waits_ends_the_answer() -> None:
    m, heli = _full_reception()
    tr = m.transfers
    m.params.set("sites.r.beds", 60)
    m.state.touch()
    tr.no_work.freed("r")  # room at r, and p has detainees with a hop to r
    assert not tr.no_work_today(heli)


@pytest.mark.parametrize("name", ["baseline", "unpaced", "dust_storm"])
def test_skipping_idle_vehicles_changes_no_result(name: str) -> None:
    """Idle vehicles that a wake-up would only find with nothing to do are not resumed
    (``RunState.waiters``): a speed-up that must not change a result. The same run with
    every idle vehicle resumed on every change gives the same KPIs, on shipped scenarios
    with every realism mechanism on (release at the prisons, operating windows,
    mission-capable days, convoys, pull through staging)."""
    from sim.core.model import Model
    from sim.core.results import build_result
    from sim.scenario.loader import load_scenario

    s = load_scenario(name)
    fast = Model(s, 1)
    fast.run()
    slow = Model(s, 1)
    slow.state.waiters.clear()  # resume every idle vehicle on every change
    slow.run()
    keep = lambda k: {x: v for x, v in k.items() if x not in ("wall_seconds", "sim_events")}  # noqa: E731
    assert keep(build_result(fast.finished(), 0.0).kpis) == keep(build_result(slow.finished(), 0.0).kpis)


def test_vehicles_alike_asked_at_one_instant_and_version_cost_one_look(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wake-up of many idle vehicles of one kind looks at the answers once per instant
    and version; the answer given to each is the one a fresh look gives."""
    from sim.core.nowork import NoWork
    from sim.core.transfers import Transfers

    looks: list[tuple[object, float, int]] = []
    asked = 0
    original, has_no_work_for = NoWork.look, Transfers.has_no_work_for

    def counted(self: NoWork, key: object, now: float, same_day: bool) -> bool:
        looks.append((key, now, self.state.version))
        return original(self, key, now, same_day)  # type: ignore[arg-type]

    def asking(self: Transfers, key: object, now: float) -> bool:  # what the vehicles ask
        nonlocal asked
        asked += 1
        return has_no_work_for(self, key, now)  # type: ignore[arg-type]

    monkeypatch.setattr(NoWork, "look", counted)
    monkeypatch.setattr(Transfers, "has_no_work_for", asking)
    # twelve helicopters alike; the beds run out, so most wake-ups find them nothing to do
    m = Model(scenario(one_leg(n=400, count=12, reception_kw={"beds": 60})), 1)
    m.run()
    assert asked > 3 * len(looks) > 0
    assert len(set(looks)) == len(looks)
    m2, heli = _full_reception()
    fresh = original(m2.transfers.no_work, m2.transfers.work_key(heli), 0.0, False)
    assert [m2.transfers.has_no_work(heli) for _ in range(3)] == [fresh] * 3 == [True] * 3
