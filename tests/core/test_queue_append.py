"""A queue's end is joined in place (``Transfers.join_queue``) with the same ids as a copy.

People join the end of a node's queue as an origin releases them and as vehicles drop
them at a staging airfield. ``join_queue`` writes them into room kept behind the queue
instead of copying the whole queue each time. These properties drive one node's queue
through random joins, claims from its front (``take_from_queue``), claims put back at its front,
losses (a filtered queue) and the reordering of ``highest_risk_first``, and compare it
after every step with a plain list; claims taken earlier must keep their ids.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tiny_scenarios import one_leg, scenario

from sim.core.model import Model
from sim.core.transfers import _first_ranks

#: One step: (what, how many). ``join`` appends new ids, ``take`` claims from the front,
#: ``back`` puts the oldest claim back at the front, ``lose`` drops every third person,
#: ``policy`` switches between first come first served and ``highest_risk_first``.
steps = st.lists(
    st.tuples(st.sampled_from(["join", "join", "take", "take", "back", "lose", "policy"]),
              st.integers(0, 90)),
    max_size=60,
)


@pytest.mark.parametrize("in_order", [False, True])
@given(plan=steps)
def test_joins_keep_the_queue_a_copy_would_have(in_order: bool,
                                                plan: list[tuple[str, int]]) -> None:
    """Risk categories mixed along the ids, or in the ids' order (most dangerous first, as
    an origin's people are loaded): joins in the ids' order then keep the queue in order,
    and ``highest_risk_first`` claims from its front."""
    model = Model(scenario(one_leg(n=6_000)), 1)
    tr = model.transfers
    site = "p"
    # Risk categories for ``highest_risk_first`` to order by (the model is not run).
    ids = np.arange(len(tr.d.category))
    tr.d.category[:] = ids // 2_000 if in_order else ids * 7 % 3
    tr.queue[site] = tr.queue[site][:10]
    expected: list[int] = tr.queue[site].tolist()
    claims: list[tuple[np.ndarray, list[int]]] = []  # (the claim's array, its ids then)
    next_id = 10  # ids not yet in the queue (at most 60 x 90 join)
    for what, k in plan:
        if what == "join":
            new = np.arange(next_id, next_id + k, dtype=np.intp)
            next_id += k
            tr.join_queue(site, new)
            expected += new.tolist()
        elif what == "take" and k <= len(expected):
            ids = tr.take_from_queue(site, k)
            claims.append((ids, ids.tolist()))
            if tr.policy_name == "highest_risk_first":  # the most dangerous first, stably
                taken = sorted(expected, key=lambda i: int(tr.d.category[i]))[:k]
            else:
                taken = expected[:k]
            assert ids.tolist() == taken
            expected = [i for i in expected if i not in set(taken)]
        elif what == "back" and claims:
            ids, _ = claims.pop(0)  # as ``release_claim`` puts a claim back
            tr.queue[site] = np.concatenate([ids, tr.queue[site]])
            expected = ids.tolist() + expected
        elif what == "lose":  # as ``_gone`` filters the queue
            q = tr.queue[site]
            tr.queue[site] = q[np.arange(len(q)) % 3 != 0]
            expected = [i for n, i in enumerate(expected) if n % 3 != 0]
        elif what == "policy":
            tr.set_policy("largest_queue" if tr.policy_name == "highest_risk_first"
                          else "highest_risk_first")
        assert tr.queue[site].tolist() == expected
        assert tr.queue[site].dtype == np.intp
        if tr.policy_name == "highest_risk_first":  # what claims and dispatch read of it
            counts, ordered = tr._risk_of(site)
            cats = [int(tr.d.category[i]) for i in expected]
            assert counts.tolist() == [cats.count(c) for c in range(len(counts))]
            assert not ordered or cats == sorted(cats)
        for ids, then in claims:  # a join never writes over a claim's ids
            assert ids.tolist() == then


def test_joins_cost_what_they_add() -> None:
    """Joining 25 at a time into a queue that keeps growing copies each id a bounded
    number of times: the buffer doubles when full, so it is rebuilt O(log n) times."""
    model = Model(scenario(one_leg(n=10)), 1)
    tr = model.transfers
    rebuilt = 0
    for b in range(400):
        before = tr.queue["p"].base
        tr.join_queue("p", np.arange(100 + 25 * b, 125 + 25 * b, dtype=np.intp))
        rebuilt += tr.queue["p"].base is not before
    assert len(tr.queue["p"]) == 10 + 400 * 25
    assert tr.queue["p"][10:].tolist() == list(range(100, 100 + 400 * 25))
    # 10,010 ids from a first buffer of 70 (twice the first 35): 8 rebuilds
    assert rebuilt == 8


@given(counts=st.lists(st.integers(0, 40), min_size=1, max_size=6), n=st.integers(0, 250))
def test_first_ranks_are_those_of_the_whole_queue_in_order(counts: list[int], n: int) -> None:
    """The first ``n`` ranks read from a queue's counts (what escorts and a claim from a
    queue in order read under ``highest_risk_first``) are the first ``n`` of its ranks
    laid out in full, most dangerous first."""
    held = np.array(counts, dtype=np.int64)
    whole = np.repeat(np.arange(len(counts)), held)
    got = _first_ranks(held, n)
    assert got.tolist() == whole[:n].tolist()
    assert got.dtype == whole.dtype
