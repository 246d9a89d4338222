"""The end-of-run conservation check finds exactly what the check it replaces found.

``check_conservation`` answers most of its checks from one count of the states (a check
of an empty state is skipped; with everybody delivered the columns are read whole).
Here random columns (every state, some invalid ones, delivery and pickup hours missing,
late or early) go through it and through the plain check, one mask per condition:
both raise the same message, or neither raises.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.detainees import (
    CUSTODY_TRANSFERRED,
    DELIVERED,
    ESCAPED,
    REGISTERED,
    RELEASED,
    STATE_NAMES,
    ConservationError,
    check_conservation,
)


def plain_problems(state: np.ndarray, t_delivered: np.ndarray, t_pickup: np.ndarray,
                   expected_total: int) -> str | None:
    """The checks one mask at a time (the code ``check_conservation`` replaces)."""
    c = np.bincount(state, minlength=len(STATE_NAMES))
    total = sum(int(c[i]) for i in range(len(STATE_NAMES)))
    problems = []
    if total != expected_total or len(state) != expected_total:
        problems.append(f"states add up to {total}, expected {expected_total}")
    if np.any(state < 0) or np.any(state >= len(STATE_NAMES)):
        problems.append("a detainee has an invalid state")
    if np.any(~np.isnan(t_delivered[state == ESCAPED])):
        problems.append("a detainee is both escaped and delivered")
    if np.any(~np.isnan(t_delivered[state == CUSTODY_TRANSFERRED])):
        problems.append("a detainee is both in another authority's custody and delivered")
    done = np.isin(state, (DELIVERED, REGISTERED, RELEASED))
    if np.any(np.isnan(t_delivered[done])):
        problems.append("a delivered detainee has no delivery time")
    if np.any(t_delivered[done] < t_pickup[done] - 1e-9):
        problems.append("a detainee was delivered before being picked up")
    return "; ".join(problems) if problems else None


def raised(state: np.ndarray, t_delivered: np.ndarray, t_pickup: np.ndarray,
           expected_total: int) -> str | None:
    try:
        check_conservation(state, t_delivered, t_pickup, expected_total)
    except ConservationError as error:
        return str(error)
    return None


@pytest.mark.parametrize("seed", range(300))
def test_the_check_finds_what_the_plain_check_finds(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 60))
    # a few states only, or all of them, or everybody delivered; now and then an invalid one
    shape = rng.integers(0, 4)
    if shape == 0:
        states = rng.choice(len(STATE_NAMES), size=int(rng.integers(1, 4)), replace=False)
    elif shape == 1:
        states = np.array([DELIVERED, REGISTERED, RELEASED])
    elif shape == 2:
        states = np.arange(len(STATE_NAMES))
    else:
        states = np.arange(len(STATE_NAMES) + 2)
    state = rng.choice(states, size=n).astype(np.int8)
    done = np.isin(state, (DELIVERED, REGISTERED, RELEASED))
    t_pickup = np.where(done | (rng.random(n) < 0.5), rng.uniform(0, 100, n), np.nan)
    t_delivered = np.where(done, t_pickup + rng.uniform(0, 10, n), np.nan)
    for _ in range(int(rng.choice([0, 0, 0, 1, 2]))):  # now and then a contradiction
        if n:
            i = int(rng.integers(0, n))
            t_delivered[i] = rng.choice([np.nan, float(rng.uniform(0, 100)), -5.0])
    expected = n + int(rng.choice([0, 0, 0, 1, -1]))
    assert raised(state, t_delivered, t_pickup, expected) == \
        plain_problems(state, t_delivered, t_pickup, expected)


def test_a_negative_state_is_refused_as_before() -> None:
    """A negative state cannot be counted: both checks stop at the count."""
    state = np.array([0, -1, 3], dtype=np.int8)
    hours = np.array([np.nan, np.nan, 1.0])
    with pytest.raises(ValueError):
        check_conservation(state, hours, hours, 3)
    with pytest.raises(ValueError):
        plain_problems(state, hours, hours, 3)
