"""``PendingEnds`` against a plain list: what has finished, what is pending, in order.

The registration backlog rules read it at every check, so it must count exactly as
sorting every end and counting those after the clock would, for any order of the ends
(one reception nearly in order, several with different waits, ties), and after the
front of its list has been dropped.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.backlog import COMPACT_FROM, WALK_STEPS, PendingEnds

hours = st.floats(min_value=0.0, max_value=500.0, allow_nan=False).map(lambda x: round(x, 1))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.lists(hours, max_size=40), hours), max_size=30))
def test_pending_ends_count_as_a_sorted_list_would(
    steps: list[tuple[list[float], float]],
) -> None:
    pending = PendingEnds()
    everything: list[float] = []
    now = 0.0
    finished = 0
    for ends, later in steps:
        for end in ends:
            pending.add(end)
            everything.append(end)
        now = max(now, later)  # the clock never goes back
        done = pending.finish_until(now)
        finished += done
        after = sorted(e for e in everything if e > now)
        assert finished == len(everything) - len(after)
        assert len(pending) == len(after)
        for k, end in enumerate(after):
            assert pending.end_of(k) == end


def test_ends_far_out_of_order_and_a_dropped_front_keep_the_count() -> None:
    # Two receptions: one's ends lie far beyond the other's (longer than a short walk back
    # places), and enough ends pass that the list drops its front.
    pending = PendingEnds()
    everything: list[float] = []
    now = 0.0
    for batch in range(3 * COMPACT_FROM // 50):
        near = [now + 1.0 + 0.01 * i for i in range(25)]
        far = [now + 200.0 + 0.02 * i for i in range(25)]
        for end in (far if batch % 2 else near) + (near if batch % 2 else far):
            pending.add(end)
            everything.append(end)
        now += 2.0
        pending.finish_until(now)
        after = sorted(e for e in everything if e > now)
        assert len(pending) == len(after)
        assert [pending.end_of(k) for k in (0, len(after) // 2, len(after) - 1)] == \
            [after[0], after[len(after) // 2], after[-1]]
    assert len(everything) - len(pending) > COMPACT_FROM  # the front was dropped
    assert 2 * WALK_STEPS < 50  # the far batches are out of reach of the walk


def test_ties_finish_together_and_nothing_is_pending_at_the_last_end() -> None:
    pending = PendingEnds()
    for end in (3.0, 1.0, 3.0, 2.0, 3.0):
        pending.add(end)
    assert pending.finish_until(2.9) == 2
    assert [pending.end_of(k) for k in range(3)] == [3.0, 3.0, 3.0]
    assert pending.finish_until(3.0) == 3
    assert len(pending) == 0
    assert pending.finish_until(math.inf) == 0
