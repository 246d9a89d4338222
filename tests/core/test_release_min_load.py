"""Release at the origin and a sortie waiting for its minimum load see each other.

A release that lands in an empty pickup queue wakes every idle vehicle; one that lands in
a queue that already has people only records the change (``RunState.touch``). That is
enough because a sortie waiting for its minimum load claims, at each wake-up, everyone it
can take (``Transfers.top_up``): a queue is left with people only when no waiting sortie
can take more (its places are full, its destination has no room, or its intake day is
over), and more people change none of that. These cases pin the behaviour down.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tiny_scenarios import check_conservation, one_leg, scenario

import sim
from sim.common.vocabulary import EventKind
from sim.core.release import in_batches


def _run(data: dict[str, Any]) -> sim.results.Result:
    res = sim.run(scenario(data), 1)
    check_conservation(res)
    return res


def _loads(res: sim.results.Result) -> list[tuple[float, int]]:
    return [(e.time, e.n) for e in res.events if e.kind == EventKind.LOAD]


def test_a_sortie_waiting_for_its_load_takes_each_person_as_they_are_handed_over() -> None:
    """The prison hands over 6 an hour (person k at k/6 h). The helicopter, at the prison,
    is tasked at 1/6 h with the first and waits for all 12 seats: it takes each later
    person as they come and loads the 12 at 2.0 h (the 12th hand-over), not at the end of
    its 24 h maximum wait."""
    data = one_leg(n=12, seats=12, horizon_days=2,
                   prison_kw={"release": {"per_hour": 6}},
                   type_kw={"min_load_fraction": 1.0, "max_load_wait_hours": 24})
    res = _run(data)
    assert _loads(res) == [(pytest.approx(2.0), 12)]
    assert res.kpis["delivered"] == 12


def test_people_handed_over_while_the_sortie_is_away_are_taken_on_its_return() -> None:
    """24 people at 6 an hour, one helicopter of 12 seats that waits for a full load. The
    first 12 load at 2.0 h (12 x 1.5 min -> 2.3), fly 1 h, unload 12 x 0.5 min (-> 3.4)
    and turn round 0.5 h (-> 3.9). Meanwhile the 13th-23rd were handed over, all but the
    first into a queue that already had people: at 3.9 it is tasked with those 11, flies
    back (-> 4.9), takes on the 24th (handed over at 4.0) and loads the 12 at 4.9."""
    data = one_leg(n=24, seats=12, horizon_days=2,
                   prison_kw={"release": {"per_hour": 6}, "load_min_per_detainee": 1.5},
                   type_kw={"min_load_fraction": 1.0, "max_load_wait_hours": 24})
    res = _run(data)
    dispatches = [(e.time, e.n) for e in res.events if e.kind == EventKind.DISPATCH]
    assert dispatches == [(pytest.approx(1 / 6), 1), (pytest.approx(3.9), 11)]
    assert _loads(res) == [(pytest.approx(2.0), 12), (pytest.approx(4.9), 12)]
    assert res.kpis["delivered"] == 24


def test_in_batches_readies_each_group_with_its_last_member() -> None:
    """Ready at [1, 3, 2, 5, 4] h, in batches of 2: by readiness the groups are {1, 2},
    {3, 4} and {5}: [2, 4, 2, 5, 4]. Batches of 1 change nothing; never-ready stays so."""
    hours = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    assert in_batches(hours, 2).tolist() == [2.0, 4.0, 2.0, 5.0, 4.0]
    assert in_batches(hours, 1).tolist() == hours.tolist()
    assert in_batches(np.array([1.0, np.inf, 2.0]), 2).tolist() == [2.0, np.inf, 2.0]


def test_a_prison_hands_people_over_in_batches() -> None:
    """6 an hour in batches of 3: persons 1-3 are ready at 3/6 = 0.5 h, persons 4-6 at
    1.0 h. A helicopter of 30 seats at the prison takes the first 3 at 0.5 h; the other
    3 are tasked when it is back (load 3 x 1 min, fly 1 h, unload 3 x 0.5 min, turn round
    0.5 h: 0.5 + 0.05 + 1 + 0.025 + 0.5 = 2.075 h, then 1 h back empty)."""
    data = one_leg(n=6, seats=30, horizon_days=1,
                   prison_kw={"release": {"per_hour": 6, "batch": 3}, "load_min_per_detainee": 1},
                   reception_kw={"unload_min_per_detainee": 0.5})
    res = _run(data)
    dispatches = [(e.time, e.n) for e in res.events if e.kind == EventKind.DISPATCH]
    assert dispatches == [(pytest.approx(0.5), 3), (pytest.approx(2.075), 3)]
    assert res.kpis["delivered"] == 6


def test_a_second_vehicle_is_not_sent_to_wait_for_the_people_the_first_awaits() -> None:
    """Two helicopters of 30 seats at the reception (an hour away) wait for full loads at
    a prison handing over 10 an hour (person k at k/10 h). The first is tasked at 0.1 h
    with the first person and speaks for the 29 it lacks from then on: the second is
    tasked only with the 31st, at 3.1 h, after the first left with its 30 at 3.0 h. Every
    sortie leaves full. Before, the second was tasked at 0.2 h with the second person and
    the two shared the hand-overs, each leaving with about half a load."""
    data = one_leg(n=120, seats=30, count=2, base="r", horizon_days=2,
                   prison_kw={"release": {"per_hour": 10}, "load_min_per_detainee": 0.0},
                   type_kw={"min_load_fraction": 1.0, "max_load_wait_hours": 24})
    res = _run(data)
    dispatches = [(e.time, e.subject, e.n) for e in res.events if e.kind == EventKind.DISPATCH]
    assert dispatches[:2] == [(pytest.approx(0.1), "h-01", 1), (pytest.approx(3.1), "h-02", 1)]
    assert [n for _t, n in _loads(res)] == [30, 30, 30, 30]
    assert _loads(res)[0][0] == pytest.approx(3.0)
    assert res.kpis["delivered"] == 120


def test_a_sortie_that_gives_up_its_wait_frees_the_people_it_spoke_for() -> None:
    """One helicopter of 30 seats waits at most 1 h for a full load at a prison handing
    over 2 an hour; after its wait it leaves with what it has, and people handed over
    later are work again for it (every one of the 20 is delivered, none stays spoken
    for)."""
    data = one_leg(n=20, seats=30, count=1, horizon_days=3,
                   prison_kw={"release": {"per_hour": 2}},
                   type_kw={"min_load_fraction": 1.0, "max_load_wait_hours": 1})
    res = _run(data)
    assert res.kpis["delivered"] == 20
    assert all(n < 30 for _t, n in _loads(res)) and len(_loads(res)) > 1
