"""The run's event heap against ``heapq`` on SimPy's ``(time, priority, id, event)`` tuples."""

from __future__ import annotations

import heapq
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.event_heap import Queued, comes_before, pop, push

# An operation: push an entry (time from a few values, so that ties are common, and a
# priority among SimPy's -1, 0 and 1) or pop one.
PUSH_OP = st.tuples(st.just("push"), st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.25, 7.0]),
                    st.sampled_from([-1, 0, 1]))
POP_OP = st.tuples(st.just("pop"), st.just(0.0), st.just(0))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PUSH_OP, PUSH_OP, POP_OP), max_size=200))
def test_pops_in_heapq_order_and_keeps_heapq_layout(ops: list[tuple[str, float, int]]) -> None:
    ours: list[Queued] = []
    theirs: list[tuple[float, int, int, Any]] = []
    eid = 0
    for op, time, priority in ops:
        if op == "push":
            event = object()
            push(ours, Queued(time, priority, eid, event))
            heapq.heappush(theirs, (time, priority, eid, event))
            eid += 1
        elif theirs:
            assert pop(ours).as_tuple() == heapq.heappop(theirs)
        # The same sift steps leave the same list, entry for entry.
        assert [e.as_tuple() for e in ours] == theirs
    while theirs:
        assert pop(ours).as_tuple() == heapq.heappop(theirs)
    assert ours == []


def test_pop_of_an_empty_heap_is_an_index_error_as_heapq() -> None:
    try:
        pop([])
    except IndexError:
        return
    raise AssertionError("no IndexError")


@given(st.tuples(st.floats(0, 10), st.integers(-1, 1), st.integers(0, 5)),
       st.tuples(st.floats(0, 10), st.integers(-1, 1), st.integers(6, 11)))
def test_comes_before_is_the_tuple_order(a: tuple[float, int, int],
                                         b: tuple[float, int, int]) -> None:
    qa, qb = Queued(*a, None), Queued(*b, None)
    assert comes_before(qa, qb) == (a < b)
    assert comes_before(qb, qa) == (b < a)
