"""One-sided Clopper-Pearson limits and the sequential test: values, coverage, error rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.planning import confidence
from sim.planning.confidence import (
    MEETS,
    MISSES,
    SequentialTest,
    looks,
    lower_limit,
    next_size,
    upper_limit,
)


def test_limits_at_the_edges_have_closed_forms() -> None:
    # All n succeeded: the lower limit solves p^n = alpha; none did: (1 - p)^n = alpha.
    assert lower_limit(20, 20, 0.05) == pytest.approx(0.05 ** (1 / 20), rel=1e-9)
    assert upper_limit(0, 20, 0.05) == pytest.approx(1 - 0.05 ** (1 / 20), rel=1e-9)
    assert lower_limit(0, 20, 0.05) == 0.0
    assert upper_limit(20, 20, 0.05) == 1.0


def test_a_published_value() -> None:
    # 7 of 10: the two-sided 95% Clopper-Pearson interval is 0.3475..0.9333, so the
    # one-sided limits at alpha = 0.025 are those ends.
    assert lower_limit(7, 10, 0.025) == pytest.approx(0.3475, abs=1e-4)
    assert upper_limit(7, 10, 0.025) == pytest.approx(0.9333, abs=1e-4)


def test_the_fallback_without_scipy_gives_the_same_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    with_scipy = [lower_limit(s, 37, 0.01) for s in range(1, 38)]
    import builtins

    real_import = builtins.__import__

    def no_scipy(name: str, *args: object, **kw: object) -> object:
        if name.startswith("scipy"):
            raise ImportError(name)
        return real_import(name, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    without = [lower_limit(s, 37, 0.01) for s in range(1, 38)]
    assert without == pytest.approx(with_scipy, abs=1e-9)
    assert confidence._beta_quantile(0.5, 2.0, 2.0) == pytest.approx(0.5, abs=1e-9)


@pytest.mark.parametrize("n", [5, 20, 80])
def test_exact_coverage_on_a_known_bernoulli(n: int) -> None:
    """P(lower <= p) and P(upper >= p), summed exactly over the binomial, never fall below
    1 - alpha, at any p on a fine grid (a Wald or Wilson limit fails this near 0 and 1)."""
    from scipy.stats import binom

    alpha = 0.05
    lows = np.array([lower_limit(s, n, alpha) for s in range(n + 1)])
    highs = np.array([upper_limit(s, n, alpha) for s in range(n + 1)])
    for p in np.linspace(0.005, 0.995, 199):
        pmf = binom.pmf(np.arange(n + 1), n, p)
        assert pmf[lows <= p].sum() >= 1 - alpha - 1e-12, p
        assert pmf[highs >= p].sum() >= 1 - alpha - 1e-12, p


def test_simulated_coverage_on_a_known_bernoulli() -> None:
    rng = np.random.default_rng(7)
    p, n, alpha = 0.9, 60, 0.1
    draws = rng.binomial(n, p, size=4000)
    covered = np.mean([lower_limit(int(s), n, alpha) <= p for s in draws])
    assert covered >= 1 - alpha - 3 * math.sqrt(alpha * (1 - alpha) / 4000)


def test_looks_double_the_sample_up_to_the_cap() -> None:
    assert looks(10, 320) == 6  # 10, 20, 40, 80, 160, 320
    assert looks(10, 300) == 6  # ..., 160, 300
    assert looks(10, 10) == 1
    assert [next_size(n, 10, 300) for n in (0, 10, 20, 160)] == [10, 20, 40, 300]


def _run(test: SequentialTest, p: float, rng: np.random.Generator) -> str:
    while (want := test.wanted()) > 0:
        test.add(list(rng.random(want) < p))
    verdict = test.verdict()
    assert verdict is not None
    return verdict


@pytest.mark.parametrize(("p", "wrong"), [(0.86, MEETS), (0.9, MISSES), (0.95, MISSES)])
def test_sequential_error_rates_stay_below_alpha(p: float, wrong: str) -> None:
    """With repeated looks the wrong verdict still happens in at most alpha of the tests."""
    rng = np.random.default_rng(11)
    alpha = 0.1
    wrong_share = np.mean([_run(SequentialTest(0.9, alpha, 10, 320), p, rng) == wrong
                           for _ in range(600)])
    assert wrong_share <= alpha


def test_far_from_the_threshold_one_batch_decides() -> None:
    t = SequentialTest(0.9, 0.05, 10, 320)
    t.add([False] * 10)
    assert t.verdict() == MISSES and t.wanted() == 0
    t = SequentialTest(0.9, 0.05, 10, 320)
    t.add([True] * 10)
    assert t.verdict() is None and t.wanted() == 10
