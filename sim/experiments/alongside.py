"""Work beside a scenario's replications: one function of the scenario alone, computed
where it costs the runs least, and waited for once they are done.

``dtsim replicate`` prints the gap between its runs and the quick bound, about a second of
imports and linear programs (``sim.planning.gap.quick_bound_day``) that does not depend
on the runs. Where it runs depends on where the runs do (``Runner.alongside``):

- **In a local process pool** (``"pool"``) it is the pool's first task, submitted before
  the runs: the first worker free computes it while the others start on the runs, and
  then runs replications too. Solved on a thread of this process instead, it makes three
  busy threads share the two cores of a 2-core machine while it runs: each worker's
  runs took 5-10% more processor time, and 200 baseline replications with ``--jobs 2``
  0.1-0.15 s longer end to end (measured on a 2-core machine).
- **In this process** (``"after"``, ``jobs=1``) the runs need the process first: it is
  computed when asked for, after them.
- **On Dask** (``"thread"``) the workers may lack what it needs (scipy is an optional
  extra) or be other machines': it is computed here, on a thread, from the first result
  on (started before, its imports would take this process's interpreter while it hands
  out the first tasks). An interrupted command waits for that thread before it ends
  (``Alongside.result_arrived``).

The function must be defined at a module's top level (a pool sends it to a worker by
module and name), and its value must pickle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.experiments.executors import Runner
    from sim.scenario.schema import Scenario


class Alongside:
    """``function(scenario)``, computed beside the replications of ``scenario``.

    ``replicate(..., alongside=a)`` calls ``begin`` once its runner exists and
    ``result_arrived`` with each result; the caller reads ``value()`` when ``replicate``
    has returned. An exception raised by ``function`` is raised again by ``value()``.
    """

    def __init__(self, function: Callable[[Scenario], Any]) -> None:
        self.function = function
        self.where: str | None = None  # the runner's ``alongside``, once begun
        self._scenario: Scenario | None = None
        # Its value or error, wherever it is computed: a pool's future, or one this
        # object settles (on Dask's thread, or here when asked with ``jobs=1``).
        self._future: Future[Any] | None = None
        self._thread: threading.Thread | None = None

    def begin(self, runner: Runner, scenario: Scenario, key: str,
              data: Mapping[str, Any]) -> None:
        """Start, as ``runner`` wants it: in a pool, submit it now, before any run."""
        if self.where is not None:
            raise RuntimeError("an Alongside is begun once, for one set of replications")
        self.where = runner.alongside
        self._scenario = scenario
        if self.where == "pool":
            submit = getattr(runner, "submit_alongside")  # noqa: B009 - only a pool has it
            self._future = submit(self.function, key, data)

    def result_arrived(self) -> None:
        """A replication's result came back: on Dask, start the thread with the first.

        Not a daemon thread: a process that ends (an interrupted command) waits for the
        function to return before it tears itself down. A daemon thread would still be
        inside it then, and a solver's native threads torn down under it ended the
        command with an abort ("terminate called without an active exception", exit
        status -6) instead of its exit code 130. A long function therefore delays the
        end of an interrupted command until it returns.
        """
        if self.where == "thread" and self._future is None:
            self._future = Future()
            self._thread = threading.Thread(target=self._settle, name="dtsim-alongside")
            self._thread.start()

    def _settle(self) -> None:
        """Compute the function into ``_future``: its value, or the error it raised."""
        assert self._future is not None
        try:
            self._future.set_result(self.function(self._scenario))  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - raised again by ``value``
            self._future.set_exception(exc)

    def value(self) -> Any:
        """The function's value: waited for (a pool's task, Dask's thread, started now if
        no result came) or computed now, once (``jobs=1``)."""
        if self.where is None or self._scenario is None:
            raise RuntimeError("Alongside.value() before replicate began it")
        if self.where == "thread":
            self.result_arrived()
        elif self._future is None:  # ``jobs=1``: here, now
            self._future = Future()
            self._settle()
        assert self._future is not None  # submitted, started or settled above
        if self._thread is not None:
            self._thread.join()
        return self._future.result()
