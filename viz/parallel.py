"""A second core for drawing: run one function in a forked worker process.

Drawing is CPU-bound and matplotlib is not thread-safe, so the report and
``dtsim plot`` split their figures between this process and one forked
worker (which inherits the already imported matplotlib, so it starts in
milliseconds). Where ``fork`` is unavailable the function simply runs
in-process when its result is asked for.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable
from typing import Any

#: Set DTSIM_SERIAL=1 to draw everything in one process (debugging, profiling).
SERIAL_ENV = "DTSIM_SERIAL"


class Background:
    """``fn(*args)`` started now in a forked worker; ``result()`` waits for it."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.fn, self.args = fn, args
        self.pool: Any = None
        self.future: Any = None
        if "fork" in mp.get_all_start_methods() and not os.environ.get(SERIAL_ENV) \
                and (os.cpu_count() or 1) > 1:
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork"))
            self.future = self.pool.submit(fn, *args)

    def result(self) -> Any:
        """The function's return value (its exception re-raised here)."""
        if self.future is None:
            return self.fn(*self.args)
        try:
            return self.future.result()
        finally:
            self.pool.shutdown()
