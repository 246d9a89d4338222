"""Invariants over generated scenarios with every realism mechanism drawn on.

``test_properties`` checks that no detainee is lost or counted twice on generated
scenarios of sites, legs, fleets, fronts, storms and rules; here the same checks run
with the operational-realism mechanisms on top (``test_shortcuts_property.with_realism``:
ground times, load factors, overload, minimum loads, windows, sorties per day,
mission-capable rates, waves, escorts, ramp spaces, batched releases, uncertain rules).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.test_properties import check_generated_run
from tests.core.test_shortcuts_property import with_realism


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=with_realism(), seed=st.integers(0, 2**32 - 1))
def test_realism_scenarios_conserve_detainees(data: dict[str, Any], seed: int) -> None:
    check_generated_run(data, seed)
