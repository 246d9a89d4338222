"""A run does not change what its scenario's replications share.

What depends only on the scenario (mode specs, projection, route networks by closures;
``sim.core.prepared``) is built once per process and shared by every run of that
scenario. A run that closes legs and sites, changes parameters by rule, loses sites to
fronts and reroutes must leave it as it found it: run again with the same seed after
runs with other seeds, a scenario gives the same run as in a fresh process (the cache
emptied).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.core import prepared
from tests.core.test_shortcuts_property import outcome, with_realism
from tests.tiny_scenarios import scenario


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=with_realism(), seeds=st.lists(st.integers(0, 2**32 - 1), min_size=3, max_size=3))
def test_runs_leave_the_shared_setup_as_they_found_it(data: dict[str, Any],
                                                       seeds: list[int]) -> None:
    sc = scenario(data)
    prepared.forget()
    fresh = outcome(sc, seeds[0])
    for other in seeds[1:]:
        outcome(sc, other)
    assert outcome(sc, seeds[0]) == fresh
