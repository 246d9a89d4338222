"""The ``dtsim`` command line: a thin typer layer over ``sim``.

Exit codes: 0 ok, 2 bad input (a message, no traceback), 1 internal error
(traceback only with ``--debug``). With ``--json`` stdout holds exactly one
JSON document. Every exit-2 message is either ``file:line: ...`` (a problem in
a file) or ``error: ...``; usage errors (an unknown option, a missing argument)
are one such line and a pointer to ``-h``. Heavy libraries (matplotlib,
pandas, dask) load only in the commands that need them; figures come from the
``viz`` package, imported lazily by the commands that draw.

Registration runs one way: this module imports each command group and asks it
to register its commands; no group imports this module. ``main`` (through the console
script, ``sim.cli.main``) imports and registers only the group whose command was typed, so that
``dtsim run`` does not build the click commands of every other group; ``app``, the
whole command line with every group, is built on first use. Which group serves the
command is read from the raw arguments by ``sim.cli.args``.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # typer carries its own copy of click (typer >= 0.2x); errors derive from this
    from typer.exceptions import TyperException as CommandLineError
except ImportError:  # pragma: no cover - older typer on click itself
    from click import ClickException as CommandLineError  # type: ignore[assignment]

from sim.cli.args import GROUPS, groups_for
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


def __getattr__(name: str) -> Any:
    """``app``: the whole command line, built once, on first use (tests, ``sim.cli.app``)."""
    if name == "app":
        whole = build_app()
        globals()["app"] = whole
        return whole
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """The typed command, with only its group loaded (``sim.cli.main``, the console
    script, calls this once it has started a pooled command's fork server and loaded
    this module).

    The group loads with the garbage collector paused, as the command line itself
    does (see ``sim.cli``), and what is loaded by then lives as long as the process:
    it is frozen out of the collector's later passes, which then walk only what the
    command itself creates.
    """
    with collector_paused():
        command = build_app(groups_for(sys.argv[1:]))
    gc.freeze()
    command()
    sys.exit(0)
