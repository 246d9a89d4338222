"""One-sided Clopper-Pearson limits and the sequential test that a fleet search runs per count.

Why Clopper-Pearson: the claim "P(success) >= 0.9" must hold at the stated level
for every sample size, including the small ones a sequential search stops at, and
near p = 1, where the Wilson and normal intervals undercover. The exact (beta)
limits never undercover; their price is a few more replications.

The sequential test (``SequentialTest``) looks at the data after each batch; the
batches double the sample (``batch``, ``2 batch``, ``4 batch``, ... up to
``max_n``), so there are ``K = looks(batch, max_n)`` looks at most. At each look
both one-sided limits are taken at level ``1 - alpha / K`` (Bonferroni over the
looks): the count *meets* the target probability when the lower limit reaches
it, *misses* when the upper limit falls below it, and otherwise gets another
batch. Whatever the true probability p and however the looks fall,
P(claim "meets" while p < target) <= alpha and P(claim "misses" while p >= target)
<= alpha. A count still undecided after ``max_n`` replications is reported as
such and counts as not shown to meet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.common.stats import betainc

MEETS, MISSES, UNDECIDED = "meets", "misses", "undecided"


def _beta_quantile(q: float, a: float, b: float) -> float:
    """The ``q`` quantile of Beta(a, b): scipy's when it is installed, else bisection on the
    regularised incomplete beta function (``sim.common.stats.betainc``) to 1e-12."""
    try:
        from scipy.stats import beta
    except ImportError:  # the plan extra is not installed: the same number, more slowly
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if betainc(a, b, mid) < q:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2
    return float(beta.ppf(q, a, b))


def _check(successes: int, n: int, alpha: float) -> None:
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n (got {successes} of {n})")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1) (got {alpha})")


def lower_limit(successes: int, n: int, alpha: float) -> float:
    """One-sided Clopper-Pearson lower limit: P(p >= limit) >= 1 - alpha for every p.

    The ``alpha`` quantile of Beta(s, n - s + 1); 0 when there is no success.
    """
    _check(successes, n, alpha)
    if successes == 0:
        return 0.0
    return _beta_quantile(alpha, successes, n - successes + 1)


def upper_limit(successes: int, n: int, alpha: float) -> float:
    """One-sided Clopper-Pearson upper limit: P(p <= limit) >= 1 - alpha for every p.

    The ``1 - alpha`` quantile of Beta(s + 1, n - s); 1 when every run succeeded.
    """
    _check(successes, n, alpha)
    if successes == n:
        return 1.0
    return _beta_quantile(1 - alpha, successes + 1, n - successes)


def looks(batch: int, max_n: int) -> int:
    """How many looks a sequential test makes at most: n = batch, 2 batch, 4 batch, ...,
    the last one capped at ``max_n``."""
    if batch < 1 or max_n < batch:
        raise ValueError(f"need 1 <= batch <= max_n (got {batch}, {max_n})")
    return 1 + math.ceil(math.log2(max_n / batch) - 1e-12) if max_n > batch else 1


def next_size(n: int, batch: int, max_n: int) -> int:
    """The sample size at the look after the one at ``n`` replications (0: the first look)."""
    return min(max_n, batch if n == 0 else 2 * n)


@dataclass
class SequentialTest:
    """The running state of one candidate's test: successes out of n so far.

    ``target``: the probability to reach (the planner's confidence, e.g. 0.9);
    ``alpha``: the total error allowed each way (e.g. 0.05 for 95% confidence in the
    claim), split evenly over the at most ``looks(batch, max_n)`` looks.
    """

    target: float
    alpha: float
    batch: int
    max_n: int
    successes: int = 0
    n: int = 0
    looks_made: int = 0

    @property
    def alpha_per_look(self) -> float:
        return self.alpha / looks(self.batch, self.max_n)

    @property
    def lower(self) -> float:
        """Lower limit at the per-look level (what the claim "meets" rests on)."""
        return lower_limit(self.successes, self.n, self.alpha_per_look)

    @property
    def upper(self) -> float:
        return upper_limit(self.successes, self.n, self.alpha_per_look)

    @property
    def p(self) -> float | None:
        return self.successes / self.n if self.n else None

    def verdict(self) -> str | None:
        """``MEETS``, ``MISSES``, ``UNDECIDED`` (no replications left) or None (go on)."""
        if self.n == 0:
            return None
        if self.lower >= self.target:
            return MEETS
        if self.upper < self.target:
            return MISSES
        return UNDECIDED if self.n >= self.max_n else None

    def wanted(self) -> int:
        """Replications to add before the next look (0 once a verdict is reached)."""
        if self.verdict() is not None:
            return 0
        return next_size(self.n, self.batch, self.max_n) - self.n

    def add(self, outcomes: list[bool]) -> None:
        """Record one batch of outcomes (success or not, one per replication)."""
        self.successes += sum(1 for x in outcomes if x)
        self.n += len(outcomes)
        self.looks_made += 1
