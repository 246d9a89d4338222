"""Helpers shared by the command groups: error handling, paths, consoles, KPI tables.

Every command is wrapped by ``guarded``: bad input exits 2 with a message and no
traceback; internal errors exit 1 (traceback with ``--debug``).
"""

from __future__ import annotations

import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer

from sim.scenario import shipped
from sim.scenario.reading import ScenarioError  # not the loader: it imports the model's schema

F = TypeVar("F", bound=Callable[..., Any])

state = {"debug": False}


class BadInput(Exception):
    """A user error outside scenario files (arguments, paths): exit 2."""


FILE_LINE = re.compile(r"^[^\s:][^:]*:\d+:")
"""A message about a place in a file: ``path:line: ...``."""


def error_line(line: str) -> str:
    """One exit-2 message line: ``file:line: ...`` as it is, anything else after ``error:``."""
    if FILE_LINE.match(line) or line.startswith("error:"):
        return line
    return f"error: {line}"


def fail(lines: list[str], code: int = 2) -> None:
    """Print ``lines`` to stderr and exit with ``code``; bad input (2) in one message style."""
    for line in lines:
        typer.echo(error_line(line) if code == 2 else line, err=True)
    raise typer.Exit(code)


OVERRIDE_OPTIONS = ("--set", "--set-b")


def misused_override(args: list[str]) -> str | None:
    """The message for a ``--set`` given without ``=`` (``--set sites.bgw.beds 5000``), or None.

    Checked on the raw arguments, before parsing: otherwise the value would be taken for
    the scenario argument and reported as a missing file, or as an extra argument.
    """
    for i, arg in enumerate(args):
        if arg == "--":
            break
        option, eq, value = arg.partition("=")
        if option not in OVERRIDE_OPTIONS:
            continue
        if not eq:
            if i + 1 >= len(args):
                return None  # the parser reports the missing value
            value = args[i + 1]
        if "=" not in value:
            return f"{option} {value}: expected path=value"
    return None


def guarded(fn: F) -> F:
    """Turn bad input into exit 2 and internal errors into exit 1 (traceback with --debug)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except ScenarioError as exc:
            fail(exc.problems)
        except BadInput as exc:
            fail([str(exc)])
        except KeyboardInterrupt:
            fail(["interrupted"], 130)
        except BrokenPipeError:  # the reader went away (``dtsim scenarios | head``): stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail too
            raise typer.Exit(0) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if state["debug"]:
                traceback.print_exc()
            fail([f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)"], 1)

    return wrapper  # type: ignore[return-value]


def scenario_path(path: Path | None) -> Path:
    """The scenario file to load: ``path``, a shipped scenario it names, or the default (baseline)."""
    p = shipped.resolve(path if path is not None else shipped.DEFAULT_NAME)
    if not os.path.lexists(p):  # other files that are no scenario: the loader says what they are
        raise ScenarioError([f"{p}: file not found{shipped.not_found_hint(p)}"])
    if p.is_dir():
        raise ScenarioError([f"{p}: is a directory, not a scenario file"])
    return p


def check_out_dir(out: str | Path | None, kind: str | None = None) -> Path | None:
    """``--out`` as a Path once it can be written (exit 2 before any work otherwise).

    ``kind``: the results kind of a folder written whole (run, replications,
    comparison); see ``sim.output.folders.out_dir_problem``. Options declared
    as ``str`` keep ``--out ""`` apart from ``--out .``.
    """
    if out is None:
        return None
    from sim.output.folders import out_dir_problem

    if not str(out).strip():
        raise BadInput('--out "": empty path; name a folder (--out . for the current folder)')
    problem = out_dir_problem(Path(out), kind)
    if problem:
        raise BadInput(f"--out {out}: {problem}")
    return Path(out)


def console() -> Any:
    """A rich console as wide as the terminal (or ``COLUMNS``); piped output gets a roomy 120."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() or os.environ.get("COLUMNS") else Console(width=120)


def staging_rows(log: Iterable[tuple[float, str, int]],
                 capacity: Mapping[str, int | None]) -> list[tuple[str, int, str, float, int]]:
    """Per staging airfield that held anyone (``sim.output.staging.staging_peaks``): its
    peak count, its holding capacity ("-": none), the first day (on the run's clock) it
    reached that peak, and its count at the end."""
    from sim.output.staging import staging_peaks

    return [(p.site, p.peak, "-" if capacity.get(p.site) is None else f"{capacity[p.site]:,}",
             p.first_hour / 24.0, p.last) for p in staging_peaks(log)]


def print_kpis(kpis: dict[str, Any], title: str,
               staging: Sequence[tuple[str, int, str, float, int]] = ()) -> None:
    """The KPI table, the prisons' and (``staging_rows``) the staging airfields'."""
    from rich.table import Table

    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("KPI")
    table.add_column("value", justify="left")
    for key, value in kpis.items():
        if key in ("sites", "final_states", "delivery_days"):  # delivery_days: in --json
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v:g}" if isinstance(v, float) else f"{k}: {v}"
                              for k, v in value.items()) or "-"
        elif isinstance(value, list):
            value = ", ".join(f"{x['name']} (day {x['day']:g})" for x in value) or "-"
        elif value is None:
            value = "-"
        table.add_row(key, str(value))
    console().print(table)
    sites = kpis.get("sites") or {}
    if sites:
        st = Table(title="Prisons", header_style="bold")
        for col in ("site", "detainees", "delivered", "escaped", "threatened day",
                    "overrun day", "emptied day"):
            st.add_column(col, justify="right" if col != "site" else "left")
        for sid, row in sites.items():
            st.add_row(sid, *(str(row[k]) if row[k] is not None else "-" for k in (
                "detainees", "delivered", "escaped", "threatened_day", "overrun_day",
                "emptied_day")))
        console().print(st)
    if staging:
        at = Table(title="Staging airfields", header_style="bold")
        for col in ("site", "peak waiting", "holding capacity", "peak day", "at the end"):
            at.add_column(col, justify="right" if col != "site" else "left")
        for site, peak, cap, day, end in staging:
            at.add_row(site, f"{peak:,}", cap, f"{day:.3f}", f"{end:,}")
        console().print(at)


REDRAW_SECONDS = 0.1
"""Least time between two redraws of a progress bar (s): about as often as rich's own
timer would redraw it (ten times a second)."""


@contextmanager
def progress_bar(description: str, *columns: Any) -> Iterator[Callable[..., None]]:
    """A transient rich progress bar on stderr, with one task, while the block runs;
    yields ``update(**fields)`` (``completed``, ``total``, ``description``).

    It is redrawn as it is updated (at most every ``REDRAW_SECONDS``, and when the task
    completes), not by rich's timer thread: a local pool forks its workers from a
    process that runs no other thread (``sim.experiments.fork_server``), and a redraw
    for every result would take processor time from those workers.
    """
    from rich.console import Console
    from rich.progress import Progress

    with Progress("[progress.description]{task.description}", *columns,
                  console=Console(stderr=True), transient=True, auto_refresh=False) as bar:
        task = bar.add_task(description, total=None)
        bar.refresh()
        last = time.monotonic()

        def update(**fields: Any) -> None:
            nonlocal last
            now = time.monotonic()
            done = fields.get("total") is not None and fields.get("completed") == fields["total"]
            redraw = done or now - last >= REDRAW_SECONDS
            if redraw:
                last = now
            bar.update(task, refresh=redraw, **fields)

        yield update


@contextmanager
def labelled_progress(title: str, enabled: bool
                      ) -> Iterator[Callable[[str, int, int | None], None] | None]:
    """A progress bar whose line names what is being done (``progress_bar`` with a count
    and the time elapsed), or nothing when not ``enabled``; yields
    ``update(label, done, total)`` (``total`` None: not known yet)."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn

    with progress_bar(title, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:

        def update(label: str, done: int, total: int | None) -> None:
            bar(description=label, completed=done, total=total)

        yield update
