"""dtsim: a discrete-event simulator of detainee transfers under escalation.

``sim.run(scenario, seed) -> Result`` is the one entry point everything else
calls; ``sim.load_scenario(path)`` reads and validates a scenario file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.common.version import __version__

if TYPE_CHECKING:
    from sim.core.results import Result
    from sim.experiments.replication import ComparisonResult, ReplicationResult
    from sim.experiments.sweeps import SweepResult
    from sim.planning.discover import DiscoveryResult
    from sim.planning.fleet import FleetPlan
    from sim.planning.sensitivity import SensitivityResult
    from sim.scenario.schema import Scenario


def run(scenario: Scenario, seed: int = 1) -> Result:
    """Run ``scenario`` once with ``seed``; see ``sim.results.Result``."""
    from sim.core.model import run as _run

    result: Result = _run(scenario, seed)
    return result


def load_scenario(path: Any, overrides: Any = None, warn: list[str] | None = None,
                  options: list[str] | None = None) -> Scenario:
    """Load and validate a scenario file (``extends`` and ``--set`` overrides applied;
    ``options``: the option each override came from, for messages)."""
    from sim.scenario.loader import load_scenario as _load

    return _load(path, overrides, warn, options)


def replicate(scenario: Any, n: int, **options: Any) -> ReplicationResult:
    """``n`` replications with confidence intervals; see ``sim.experiment.replicate``."""
    from sim.experiments.replication import replicate as _replicate

    return _replicate(scenario, n, **options)


def compare(a: Any, b: Any, n: int, **options: Any) -> ComparisonResult:
    """Paired comparison on common random numbers; see ``sim.experiment.compare``."""
    from sim.experiments.replication import compare as _compare

    return _compare(a, b, n, **options)


def sweep(scenario: Any, **options: Any) -> SweepResult:
    """A resumable sweep stored in SQLite; see ``sim.experiment.sweep``."""
    from sim.experiments.sweeps import sweep as _sweep

    return _sweep(scenario, **options)


def plan_fleet(scenario: Any, **options: Any) -> FleetPlan:
    """The smallest fleet meeting a deadline at a confidence; see ``sim.planning.fleet``."""
    from sim.planning.fleet import plan_fleet as _plan_fleet

    return _plan_fleet(scenario, **options)


def sensitivity(scenario: Any, ranges: Any, **options: Any) -> SensitivityResult:
    """Which inputs matter (Morris or Sobol, judged against replication noise); see
    ``sim.planning.sensitivity.sensitivity``."""
    from sim.planning.sensitivity import sensitivity as _sensitivity

    return _sensitivity(scenario, ranges, **options)


def discover(scenario: Any, ranges: Any = None, **options: Any) -> DiscoveryResult:
    """Where a KPI threshold or a deadline fails (PRIM boxes); see
    ``sim.planning.discover.discover``."""
    from sim.planning.discover import discover as _discover

    return _discover(scenario, ranges, **options)


__all__ = ["__version__", "compare", "discover", "load_scenario", "plan_fleet", "replicate", "run",
           "sensitivity", "sweep"]
