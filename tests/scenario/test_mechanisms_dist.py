"""Distributions draw what their parameters say (``sim.common.dist``).

Statistical tests with a fixed seed: every estimate must lie within Z standard
errors of its exact value, Z = 4 (a two-sided chance of about 6e-5 for a correct
sampler, and the seed is fixed, so the tests never flake; a wrong formula is off by
far more than 4 SE at these sample sizes).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from pydantic import TypeAdapter

from sim.common.dist import Dist, sample, sample_many

Z = 4.0
N_MANY = 100_000
N_ONE = 20_000
ADAPTER: TypeAdapter[Dist] = TypeAdapter(Dist)


def dist(**kw: object) -> Dist:
    return ADAPTER.validate_python(kw)


def draws_many(d: Dist, seed: int = 7) -> np.ndarray:
    return sample_many(d, np.random.default_rng(seed), N_MANY)


def draws_one(d: Dist, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([sample(d, rng) for _ in range(N_ONE)])


DRAWERS: list[Callable[[Dist], np.ndarray]] = [draws_many, draws_one]


def assert_mean(x: np.ndarray, mean: float, sd: float) -> None:
    se = sd / math.sqrt(len(x))
    assert abs(float(x.mean()) - mean) <= Z * se, (float(x.mean()), mean, se)


def assert_sd(x: np.ndarray, sd: float, excess_kurtosis: float) -> None:
    """Sample sd against ``sd``; SE(s) ~ sd sqrt((kurtosis - 1) / n) / 2 (delta method)."""
    se = sd * math.sqrt((excess_kurtosis + 2.0) / len(x)) / 2.0
    assert abs(float(x.std(ddof=1)) - sd) <= Z * se, (float(x.std(ddof=1)), sd, se)


@pytest.mark.parametrize("draw", DRAWERS, ids=["sample_many", "sample"])
@pytest.mark.parametrize(("low", "mode", "high"), [(2.0, 3.0, 7.0), (0.0, 0.0, 6.0), (1.0, 5.0, 5.0)])
def test_triangular_mean_and_sd(draw: Callable[[Dist], np.ndarray], low: float, mode: float,
                                high: float) -> None:
    """Mean (a + c + b) / 3; variance (a^2 + b^2 + c^2 - ab - ac - bc) / 18; excess
    kurtosis -3/5. For (2, 3, 7): mean 4, variance (4 + 49 + 9 - 14 - 6 - 21) / 18 = 7/6."""
    x = draw(dist(dist="triangular", low=low, mode=mode, high=high))
    mean = (low + mode + high) / 3.0
    var = (low**2 + high**2 + mode**2 - low * high - low * mode - high * mode) / 18.0
    sd = math.sqrt(var)
    assert x.min() >= low and x.max() <= high
    assert_mean(x, mean, sd)
    assert_sd(x, sd, -0.6)
    # the mode is where it says: more draws near it than near the far end of the range
    near = np.abs(x - mode) < (high - low) / 10
    far_end = high if mode - low < high - mode else low
    assert near.sum() > (np.abs(x - far_end) < (high - low) / 10).sum()


@pytest.mark.parametrize("draw", DRAWERS, ids=["sample_many", "sample"])
def test_normal_mean_and_sd(draw: Callable[[Dist], np.ndarray]) -> None:
    """Mean 10, sd 2: truncation at zero (5 sd away) changes nothing measurable."""
    x = draw(dist(dist="normal", mean=10.0, sd=2.0))
    assert_mean(x, 10.0, 2.0)
    assert_sd(x, 2.0, 0.0)


@pytest.mark.parametrize("draw", DRAWERS, ids=["sample_many", "sample"])
def test_normal_is_truncated_at_zero(draw: Callable[[Dist], np.ndarray]) -> None:
    """Mean 0, sd 1 truncated at zero: half the draws are 0, the mean is 1/sqrt(2 pi).

    max(0, X) has mean phi(0) = 0.3989 and second moment 1/2, so its sd is
    sqrt(1/2 - 1/(2 pi)) = 0.5838.
    """
    x = draw(dist(dist="normal", mean=0.0, sd=1.0))
    assert x.min() == 0.0
    zeros = float((x == 0.0).mean())
    assert abs(zeros - 0.5) <= Z * math.sqrt(0.25 / len(x))
    assert_mean(x, 1 / math.sqrt(2 * math.pi), math.sqrt(0.5 - 1 / (2 * math.pi)))


@pytest.mark.parametrize("draw", DRAWERS, ids=["sample_many", "sample"])
@pytest.mark.parametrize(("mean", "cv"), [(2.0, 0.4), (30.0, 0.5), (5.0, 0.1)])
def test_lognormal_mean_and_cv(draw: Callable[[Dist], np.ndarray], mean: float,
                               cv: float) -> None:
    """The parameters are the draws' mean and cv (not those of the underlying normal).

    With s^2 = ln(1 + cv^2): excess kurtosis e^{4s^2} + 2e^{3s^2} + 3e^{2s^2} - 6.
    """
    x = draw(dist(dist="lognormal", mean=mean, cv=cv))
    sd = mean * cv
    s2 = math.log1p(cv * cv)
    kurt = math.exp(4 * s2) + 2 * math.exp(3 * s2) + 3 * math.exp(2 * s2) - 6
    assert x.min() > 0
    assert_mean(x, mean, sd)
    assert_sd(x, sd, kurt)
    # the median is mean / sqrt(1 + cv^2), below the mean: the law is skewed as it should be
    median = mean / math.sqrt(1 + cv * cv)
    assert abs(float((x < median).mean()) - 0.5) <= Z * math.sqrt(0.25 / len(x))


def test_zero_cv_lognormal_is_its_mean() -> None:
    d = dist(dist="lognormal", mean=3.0, cv=0.0)
    assert np.all(draws_many(d) == 3.0) and sample(d, np.random.default_rng(0)) == 3.0


@pytest.mark.parametrize("spec", [
    {"dist": "triangular", "low": 10, "mode": 20, "high": 40},
    {"dist": "lognormal", "mean": 20, "cv": 0.4},
    {"dist": "lognormal", "mean": 20, "cv": 0.0},
    {"dist": "exponential", "mean": 3.0},
    {"dist": "uniform", "low": 1, "high": 5},
    {"dist": "normal", "mean": 5, "sd": 3},
    {"dist": "constant", "value": 2.5},
], ids=lambda spec: f"{spec['dist']}")
def test_many_draws_are_the_single_draws_in_turn(spec: dict[str, object]) -> None:
    """``sample_many(d, rng, n)`` gives the numbers of ``n`` calls of ``sample(d, rng)``,
    and leaves the stream where they leave it: a run may draw a front's daily speeds in
    one call (``FrontTrack``) and keep the numbers of a draw a day."""
    d = dist(**spec)
    for seed in range(5):
        one, many = np.random.default_rng(seed), np.random.default_rng(seed)
        singles = [sample(d, one) for _ in range(250)]
        assert sample_many(d, many, 250).tolist() == singles
        assert one.random() == many.random()
