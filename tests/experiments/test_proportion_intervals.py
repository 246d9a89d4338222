"""Intervals for differences of probabilities: Newcombe's, checked by hand and against
published examples, and used by ``compare`` for its 0/1 rows."""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist

import pytest

import sim
from sim.common.stats import paired_proportion_difference, proportion_difference
from sim.experiments.replication import compare
from sim.scenario.loader import with_overrides

TOY = Path(__file__).resolve().parents[2] / "tests" / "data" / "toy_experiment.yaml"
Z = NormalDist().inv_cdf(0.975)
#: the Wilson upper limit of 0 successes in 20 (its lower limit of 20 in 20 is 1 less this)
W20 = Z * Z / (20 + Z * Z)


def test_paired_all_against_none_by_hand() -> None:
    """20 of 20 against 0 of 20: no pair varies, the marginals have no variance (phi 0),
    so the lower limit is 1 less the root of two squared Wilson distances, 1 - sqrt(2) W."""
    d = paired_proportion_difference([0] * 20, [1] * 20)
    assert d["diff"] == 1.0 and d["ci_high"] == 1.0
    assert d["ci_low"] == pytest.approx(1 - math.sqrt(2) * W20, abs=1e-12)
    assert d["ci_low"] == pytest.approx(0.7721, abs=1e-4)
    same = paired_proportion_difference([1] * 20, [1] * 20)
    assert (same["diff"], same["ci_low"], same["ci_high"]) == pytest.approx((0.0, -W20, W20))
    flipped = paired_proportion_difference([1] * 20, [0] * 20)
    assert (flipped["ci_low"], flipped["ci_high"]) == pytest.approx((-1.0, -d["ci_low"]))


def test_paired_published_example() -> None:
    """Complete response before and after consolidation therapy (Cavo et al. 2012), as
    analysed in Fagerland, Lydersen and Laake (2017), chapter 8: the 2x2 table
    [[59, 6], [16, 80]], first variable in rows; Newcombe's square-and-add interval
    -0.0621 (95% CI -0.1186 to -0.0046)."""
    first = [1] * 59 + [1] * 6 + [0] * 16 + [0] * 80
    second = [1] * 59 + [0] * 6 + [1] * 16 + [0] * 80
    d = paired_proportion_difference(second, first)  # first - second
    assert (d["diff"], d["ci_low"], d["ci_high"]) == pytest.approx((-0.0621, -0.1186, -0.0046),
                                                                   abs=5e-5)


@pytest.mark.parametrize(("kb", "nb", "ka", "na", "low", "high"), [
    (56, 70, 48, 80, 0.0524, 0.3339), (9, 10, 3, 10, 0.1705, 0.8090),
])
def test_independent_published_examples(kb: int, nb: int, ka: int, na: int, low: float,
                                        high: float) -> None:
    """Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10."""
    d = proportion_difference([1] * ka + [0] * (na - ka), [1] * kb + [0] * (nb - kb))
    assert d["diff"] == pytest.approx(kb / nb - ka / na)
    assert (d["ci_low"], d["ci_high"]) == pytest.approx((low, high), abs=5e-5)


def test_proportions_refuse_values_other_than_0_and_1() -> None:
    with pytest.raises(ValueError):
        paired_proportion_difference([0, 2], [1, 1])
    with pytest.raises(ValueError):
        paired_proportion_difference([0, 1], [1])


def test_compare_all_against_none_is_not_certain() -> None:
    """A's road takes 4 days, B's 1 day, and loading at most 2: by day 3.5 every B run is
    done and no A run is. The probability row's interval is 1 with a lower limit well
    below 1 (a paired t interval said 1.00..1.00); the KPI rows keep their t intervals."""
    fast = sim.load_scenario(TOY)
    slow = with_overrides(fast, {"legs.road.distance_km": 4800})
    res = compare(slow, fast, 20, seed=1, jobs=1, deadline_day=3.5)
    row = res.differences["completed_by_deadline"]
    assert (row["mean_a"], row["mean_b"], row["mean_diff"]) == (0.0, 1.0, 1.0)
    assert row["ci_low"] == pytest.approx(1 - math.sqrt(2) * W20, abs=1e-9)
    assert row["ci_high"] == 1.0 and row["half_width"] is None
    assert row["unpaired_ci_low"] == pytest.approx(1 - math.sqrt(2) * W20, abs=1e-9)
    assert "Newcombe" in row["ci_method"]
    kpi = res.differences["prisons_cleared_day"]
    assert kpi["ci_method"].startswith("paired t")
    assert kpi["half_width"] == pytest.approx(kpi["mean_diff"] - kpi["ci_low"])
