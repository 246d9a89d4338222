"""The core's internal errors, in a module left as Python.

mypyc compiles subclasses of only a few built-in exceptions (not ``RuntimeError``),
so the error classes of compiled modules live here (``scripts/compile_core.py`` leaves
this module as Python), and the modules that raise them are compiled.
"""

from __future__ import annotations


class ConservationError(RuntimeError):
    """A detainee was lost or counted twice: an internal error, never clipped."""


__all__ = ["ConservationError"]
