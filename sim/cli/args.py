"""What a command line's raw arguments say before the command line itself loads.

``sim.cli.main`` reads them before it imports typer and the command groups: whether
the command will run a local process pool (``pool_wanted``: its fork server is then
started first, so that the server's imports overlap everything this process loads),
and which one group serves the command (``groups_for``: only that group is loaded).
Standard library only, so that reading them costs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

GROUPS: dict[str, tuple[str, ...]] = {
    "run": ("run", "validate", "schema"),
    "bound": ("bound",),
    "scenarios": ("scenarios",),
    "library": ("types",),
    "experiments": ("replicate", "compare", "sweep"),
    "planning": ("plan",),
    "sensitivity": ("sensitivity", "discover"),
    "backtest": ("backtest",),
    "viz": ("plot", "report", "map"),
    "classroom": ("exercises", "play"),
}
"""Each command group (a module of ``sim.cli``), in help order, and the top-level
commands its ``register`` adds."""
ROOT_FLAGS = ("--debug",)
"""Root options that may come before a command without changing which group serves it."""


def _after_root_flags(args: Sequence[str]) -> list[str]:
    """``args`` from the command on: the root options before it (``ROOT_FLAGS``) dropped."""
    rest = list(args)
    while rest and rest[0] in ROOT_FLAGS:
        rest.pop(0)
    return rest


def groups_for(args: Sequence[str]) -> list[str]:
    """The one group serving the command ``args`` names; every group otherwise (help, a
    root option, an unknown command, shell completion), so that those see all commands."""
    if any(key.endswith("_COMPLETE") for key in os.environ):
        return list(GROUPS)
    rest = _after_root_flags(args)
    if rest:
        for group, commands in GROUPS.items():
            if rest[0] in commands:
                return [group]
    return list(GROUPS)


POOLED_COMMANDS = ("replicate", "compare")
"""Commands whose ``--jobs`` (default: every core) runs a local process pool."""


def pool_wanted(args: Sequence[str]) -> int | None:
    """The ``--jobs`` of a pooled command in ``args`` (0: the default, every core), or None
    if ``args`` runs no local pool (another command, ``--dask``, a ``--jobs`` not a number)."""
    rest = _after_root_flags(args)
    if not rest or rest[0] not in POOLED_COMMANDS:
        return None
    jobs = 0
    for i, arg in enumerate(rest):
        if arg == "--dask" or arg.startswith("--dask="):
            return None
        value = None
        if arg in ("--jobs", "-j"):
            value = rest[i + 1] if i + 1 < len(rest) else None
        elif arg.startswith("--jobs="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-j") and arg[2:]:
            value = arg[2:]
        if value is not None:
            if not value.isdigit():
                return None
            jobs = int(value)
    return jobs
