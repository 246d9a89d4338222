"""The ``dtsim`` command line: a thin typer layer over ``sim``.

Exit codes: 0 ok, 2 bad input (a message, no traceback), 1 internal error
(traceback only with ``--debug``). With ``--json`` stdout holds exactly one
JSON document. Every exit-2 message is either ``file:line: ...`` (a problem in
a file) or ``error: ...``; usage errors (an unknown option, a missing argument)
are one such line and a pointer to ``-h``. Heavy libraries (matplotlib,
pandas, dask) load only in the commands that need them; figures come from the
``viz`` package, imported lazily by the commands that draw.

Registration runs one way: this module imports each command group and asks it
to register its commands; no group imports this module. ``main`` (the console
script) imports and registers only the group whose command was typed, so that
``dtsim run`` does not build the click commands of every other group; ``app``, the
whole command line with every group, is built on first use.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # typer carries its own copy of click (typer >= 0.2x); errors derive from this
    from typer.exceptions import TyperException as CommandLineError
except ImportError:  # pragma: no cover - older typer on click itself
    from click import ClickException as CommandLineError  # type: ignore[assignment]

from sim.cli.helpers import error_line, misused_override, state
from sim.common.collector import collector_paused
from sim.common.version import __version__


class DtsimGroup(TyperGroup):
    """The root command: usage errors become one ``error:`` line, like every other bad input."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode,
                                windows_expand_args, **extra)
        problem = misused_override(list(sys.argv[1:] if args is None else args))
        if problem:
            typer.echo(error_line(problem), err=True)
            sys.exit(2)
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except CommandLineError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `dtsim GROUP`: the help
                exc.show()  # type: ignore[attr-defined]
                sys.exit(exc.exit_code)
            hint = ""
            ctx = getattr(exc, "ctx", None)
            if ctx is not None:
                hint = f" (see '{ctx.command_path} -h')"
            typer.echo(f"error: {exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"dtsim {__version__}")
        raise typer.Exit()


def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    state["debug"] = debug


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


def build_app(groups: Iterable[str] = GROUPS) -> typer.Typer:
    """The command line with the commands of ``groups`` (modules of ``sim.cli``)."""
    built = typer.Typer(
        cls=DtsimGroup,
        name="dtsim",
        help="Detainee-transfer logistics simulator.",
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    built.callback()(main_options)
    for group in groups:
        importlib.import_module(f"sim.cli.{group}").register(built)
    return built


def groups_for(args: Sequence[str]) -> list[str]:
    """The one group serving the command ``args`` names; every group otherwise (help, a
    root option, an unknown command, shell completion), so that those see all commands."""
    if any(key.endswith("_COMPLETE") for key in os.environ):
        return list(GROUPS)
    rest = list(args)
    while rest and rest[0] in ROOT_FLAGS:
        rest.pop(0)
    if rest:
        for group, commands in GROUPS.items():
            if rest[0] in commands:
                return [group]
    return list(GROUPS)


def __getattr__(name: str) -> Any:
    """``app``: the whole command line, built once, on first use (tests, ``sim.cli.app``)."""
    if name == "app":
        whole = build_app()
        globals()["app"] = whole
        return whole
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


POOLED_COMMANDS = ("replicate", "compare")
"""Commands whose ``--jobs`` (default: every core) runs a local process pool."""


def pool_wanted(args: Sequence[str]) -> int | None:
    """The ``--jobs`` of a pooled command in ``args`` (0: the default, every core), or None
    if ``args`` runs no local pool (another command, ``--dask``, a ``--jobs`` not a number)."""
    rest = list(args)
    while rest and rest[0] in ROOT_FLAGS:
        rest.pop(0)
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


def main() -> None:
    """Console-script entry point: only the typed command's group is loaded.

    A command that will run a local process pool starts its fork server first, before
    its command group loads, so that the server imports the model while this process
    imports the command (about a fifth of a second) and loads the scenario.

    The group loads with the garbage collector paused, as the command line itself
    does (see ``sim.cli``), and what is loaded by then lives as long as the process:
    it is frozen out of the collector's later passes, which then walk only what the
    command itself creates.
    """
    args = sys.argv[1:]
    jobs = pool_wanted(args)
    if jobs is not None:
        from sim.experiments.fork_server import start_fork_server

        start_fork_server(jobs or None, None)
    with collector_paused():
        command = build_app(groups_for(args))
    gc.freeze()
    command()
    sys.exit(0)
