"""Pickups, landings and deliveries written when read give the columns written at once.

``Detainees`` keeps each movement as a record and writes its columns (``t_pickup``,
``hops``, ``t_delivered``, ``t_reg_start``, ``t_registered``) when one of them is read
(``settle``). These properties drive random movements, with reads in between, and
compare the columns after every read with what writing each movement at once gives
(the code the records replace).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tiny_scenarios import one_leg, scenario

from sim.core.detainees import ConservationError, Detainees

N = 40  # detainees of the scenario below

#: One step: (what, ids drawn from 0..N-1, whether the reception registers). ``pickup``
#: boards ids, ``land`` hands them over at a staging airfield, ``deliver`` at a
#: reception (each id at most once), ``read`` reads a column (and so writes the records).
steps = st.lists(
    st.tuples(st.sampled_from(["pickup", "pickup", "land", "deliver", "read"]),
              st.lists(st.integers(0, N - 1), min_size=1, max_size=12, unique=True),
              st.booleans()),
    max_size=40,
)


def detainees() -> Detainees:
    s = scenario(one_leg(n=N))
    return Detainees(s, {site.id: i for i, site in enumerate(s.sites)})


@given(steps)
def test_columns_written_when_read_are_those_written_at_once(
        plan: list[tuple[str, list[int], bool]]) -> None:
    d = detainees()
    pickup, delivered = np.full(N, np.nan), np.full(N, np.nan)
    reg_start, registered = np.full(N, np.nan), np.full(N, np.nan)
    hops = np.zeros(N, dtype=np.int16)
    clock = 0.0
    for i, (what, chosen, registers) in enumerate(plan):
        clock += (i % 3) * 0.5  # some movements at the same hour
        ids = np.array(chosen, dtype=np.int64)
        if what == "pickup":
            d.picked_up(ids, clock)
            first = ids[np.isnan(pickup[ids])]  # as ``Transfers.pick_up`` wrote it
            pickup[first] = clock
        elif what == "land":
            d.landed(ids)
            hops[ids] += 1
        elif what == "deliver":
            ids = ids[np.isnan(delivered[ids])]  # a detainee is delivered once
            d.landed(ids)
            hops[ids] += 1
            delivered[ids] = clock
            if registers:
                starts = [clock + 0.25 * k for k in range(len(ids))]
                ends = [t + 1.0 for t in starts]
                d.delivered(ids, clock, (starts, ends))
                reg_start[ids], registered[ids] = starts, ends
            else:
                d.delivered(ids, clock, None)
                reg_start[ids] = registered[ids] = clock
        else:
            np.testing.assert_array_equal(d.t_pickup, pickup)
    np.testing.assert_array_equal(d.t_pickup, pickup)
    np.testing.assert_array_equal(d.hops, hops)
    np.testing.assert_array_equal(d.t_delivered, delivered)
    np.testing.assert_array_equal(d.t_reg_start, reg_start)
    np.testing.assert_array_equal(d.t_registered, registered)


def test_a_detainee_delivered_twice_is_a_conservation_error() -> None:
    d = detainees()
    d.delivered(np.array([3, 4]), 1.0, None)
    d.delivered(np.array([5, 3]), 2.0, None)
    with pytest.raises(ConservationError, match="delivered twice"):
        _ = d.t_delivered
    d = detainees()
    d.delivered(np.array([3]), 1.0, None)
    assert d.t_delivered[3] == 1.0  # written, then delivered again
    d.delivered(np.array([3]), 2.0, ([2.0], [2.5]))
    with pytest.raises(ConservationError, match="delivered twice"):
        d.settle()


def test_registration_times_follow_their_deliveries_when_receptions_differ() -> None:
    d = detainees()
    d.delivered(np.array([7, 2]), 1.0, None)  # a reception that registers on arrival
    d.delivered(np.array([9, 1, 4]), 2.0, ([2.0, 2.5, 3.0], [2.4, 2.9, 3.3]))
    d.delivered(np.array([0]), 3.0, None)
    assert d.t_reg_start[[7, 2, 9, 1, 4, 0]].tolist() == [1.0, 1.0, 2.0, 2.5, 3.0, 3.0]
    assert d.t_registered[[7, 2, 9, 1, 4, 0]].tolist() == [1.0, 1.0, 2.4, 2.9, 3.3, 3.0]
    assert d.t_delivered[[7, 2, 9, 1, 4, 0]].tolist() == [1.0, 1.0, 2.0, 2.0, 2.0, 3.0]


@pytest.mark.parametrize("seed", range(40))
def test_ids_at_a_site_are_those_there_in_the_states_asked(seed: int) -> None:
    """``ids_at`` finds those at the site first, then checks their states: the same ids,
    in the same order and type, as one mask over the whole table (``np.isin``)."""
    rng = np.random.default_rng(seed)
    d = Detainees(scenario(one_leg(n=N)), {"p": 0, "r": 1})
    d.state[:] = rng.integers(0, 8, N)
    d.location[:] = rng.integers(0, 3, N)
    for site in range(4):
        for states in [(0, 1), (3,), (0, 1, 5), ()]:
            want = np.flatnonzero(np.isin(d.state, states) & (d.location == site))
            got = d.ids_at(site, states)
            assert got.dtype == want.dtype
            assert got.tolist() == want.tolist()


@given(st.lists(st.tuples(st.lists(st.integers(0, N - 1), max_size=12, unique=True),
                          st.integers(0, 7), st.integers(0, 1)), max_size=30))
def test_state_and_location_writes_are_those_of_plain_ints(
        writes: list[tuple[list[int], int, int]]) -> None:
    d = detainees()
    state, location = d.state.copy(), d.location.copy()
    for ids, code, site in writes:
        index = np.array(ids, dtype=np.intp)
        d.set_state(index, code)
        d.set_location(index, site)
        state[index] = code
        location[index] = site
        assert np.array_equal(d.state, state) and np.array_equal(d.location, location)
    assert d.state.dtype == np.int8 and d.location.dtype == np.int32
