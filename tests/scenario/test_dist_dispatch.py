"""Drawing by the exact class of a distribution draws what the ``isinstance`` chain drew.

``sample`` and ``sample_many`` find a distribution's draw by its exact class, and fall
back to the chain of ``isinstance`` tests (in its order) for subclasses and other kinds
of numbers. Here every distribution, a subclass of each, and numbers of several types
draw from one seed through both ``sample`` and the chain written out (the code they
replace): the same values, bit for bit, and the same state of the stream after.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from sim.common.dist import (
    Constant,
    Exponential,
    Lognormal,
    Normal,
    Triangular,
    Uniform,
    sample,
    sample_many,
)


def chain_one(d: Any, rng: np.random.Generator) -> float:
    if isinstance(d, (int, float)):
        return float(d)
    if isinstance(d, Constant):
        return d.value
    if isinstance(d, Exponential):
        return float(rng.exponential(d.mean))
    if isinstance(d, Lognormal):
        if d.cv == 0:
            return d.mean
        s2 = math.log1p(d.cv * d.cv)
        return float(rng.lognormal(math.log(d.mean) - s2 / 2, math.sqrt(s2)))
    if isinstance(d, Triangular):
        if d.low == d.high:
            return d.low
        return float(rng.triangular(d.low, d.mode, d.high))
    if isinstance(d, Uniform):
        return float(rng.uniform(d.low, d.high))
    return max(0.0, float(rng.normal(d.mean, d.sd)))


def chain_many(d: Any, rng: np.random.Generator, n: int) -> np.ndarray:
    if isinstance(d, (int, float)):
        return np.full(n, float(d))
    if isinstance(d, Constant):
        return np.full(n, d.value)
    if isinstance(d, Exponential):
        return rng.exponential(d.mean, n)
    if isinstance(d, Lognormal):
        if d.cv == 0:
            return np.full(n, d.mean)
        s2 = math.log1p(d.cv * d.cv)
        return rng.lognormal(math.log(d.mean) - s2 / 2, math.sqrt(s2), n)
    if isinstance(d, Triangular):
        if d.low == d.high:
            return np.full(n, d.low)
        return rng.triangular(d.low, d.mode, d.high, n)
    if isinstance(d, Uniform):
        return rng.uniform(d.low, d.high, n)
    return np.maximum(0.0, rng.normal(d.mean, d.sd, n))


class SubLognormal(Lognormal):
    """A subclass: drawn through the chain, as a lognormal."""


class SubUniform(Uniform):
    """A subclass: drawn through the chain, as a uniform."""


DISTS: list[Any] = [
    3, 2.5, True, np.float64(4.25), 0,
    Constant(dist="constant", value=7.5),
    Exponential(dist="exponential", mean=12.0),
    Lognormal(dist="lognormal", mean=30.0, cv=0.3),
    Lognormal(dist="lognormal", mean=30.0, cv=0.0),
    Triangular(dist="triangular", low=1.0, mode=2.0, high=5.0),
    Triangular(dist="triangular", low=2.0, mode=2.0, high=2.0),
    Uniform(dist="uniform", low=1.0, high=3.0),
    Normal(dist="normal", mean=5.0, sd=4.0),
    SubLognormal(dist="lognormal", mean=8.0, cv=0.5),
    SubUniform(dist="uniform", low=0.0, high=9.0),
]


@pytest.mark.parametrize("d", DISTS, ids=lambda d: type(d).__name__)
def test_one_draw_at_a_time_is_the_chains(d: Any) -> None:
    got_rng, want_rng = np.random.default_rng(5), np.random.default_rng(5)
    got = [sample(d, got_rng) for _ in range(200)]
    want = [chain_one(d, want_rng) for _ in range(200)]
    assert got == want
    assert [type(x) for x in got] == [type(x) for x in want]
    assert got_rng.bit_generator.state == want_rng.bit_generator.state


@pytest.mark.parametrize("d", DISTS, ids=lambda d: type(d).__name__)
def test_many_draws_are_the_chains(d: Any) -> None:
    got_rng, want_rng = np.random.default_rng(9), np.random.default_rng(9)
    for n in (0, 1, 57):
        got, want = sample_many(d, got_rng, n), chain_many(d, want_rng, n)
        assert got.dtype == want.dtype
        assert np.array_equal(got, want)
    assert got_rng.bit_generator.state == want_rng.bit_generator.state


def test_a_lognormal_s_kept_parameters_change_neither_its_draws_nor_its_identity() -> None:
    drawn = Lognormal(dist="lognormal", mean=6.0, cv=0.3)
    fresh = Lognormal(dist="lognormal", mean=6.0, cv=0.3)
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    for _ in range(3):  # the first draw works the parameters out, the later ones reuse them
        assert sample(drawn, a) == chain_one(fresh, b)
        assert np.array_equal(sample_many(drawn, a, 4), chain_many(fresh, b, 4))
    assert "log_params" in vars(drawn) and "log_params" not in vars(fresh)
    assert drawn == fresh and hash(drawn) == hash(fresh)
    assert drawn.model_dump() == fresh.model_dump() == {"dist": "lognormal", "mean": 6.0, "cv": 0.3}
    assert drawn.model_dump_json() == fresh.model_dump_json()
