"""Helpers shared by the command groups: error handling, paths, consoles, KPI tables.

Every command is wrapped by ``guarded``: bad input exits 2 with a message and no
traceback; internal errors exit 1 (traceback with ``--debug``).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from sim.scenario.loader import ScenarioError

DEFAULT_SCENARIO = Path("scenarios/baseline.yaml")
F = TypeVar("F", bound=Callable[..., Any])

state = {"debug": False}


class BadInput(Exception):
    """A user error outside scenario files (arguments, paths): exit 2."""


def fail(lines: list[str], code: int = 2) -> None:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(code)


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
            fail([f"error: {exc}"])
        except KeyboardInterrupt:
            fail(["interrupted"], 130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if state["debug"]:
                traceback.print_exc()
            fail([f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)"], 1)

    return wrapper  # type: ignore[return-value]


def scenario_path(path: Path | None) -> Path:
    p = path or DEFAULT_SCENARIO
    if not os.path.lexists(p):  # a symlink loop or a FIFO goes on to the loader's message
        hint = "" if path else " (run from the project folder, or name a scenario file)"
        raise ScenarioError([f"{p}: file not found{hint}"])
    return p


def check_out_dir(out: Path | None) -> None:
    if out is not None and out.exists() and not out.is_dir():
        raise BadInput(f"--out {out}: exists and is not a directory")


def console() -> Any:
    """A rich console; piped output gets a fixed, roomy width instead of 80 columns."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=120)


def print_kpis(kpis: dict[str, Any], title: str) -> None:
    from rich.table import Table

    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("KPI")
    table.add_column("value", justify="left")
    for key, value in kpis.items():
        if key in ("sites", "final_states"):
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
