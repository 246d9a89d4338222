"""Functions of a scenario for ``Alongside`` tests, at a module's top level so that a pool
worker can import them (tests/ is on the path, in the workers too)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

CALLS: list[float] = []
"""When ``noted_name`` was called in this process (``time.monotonic``)."""


def pid_and_name(scenario: Any) -> tuple[int, str]:
    """The process that computed it, and the scenario's name."""
    return os.getpid(), scenario.name


def noted_name(scenario: Any) -> str:
    """The scenario's name, noting the call in ``CALLS``."""
    CALLS.append(time.monotonic())
    return str(scenario.name)


class ProbeError(RuntimeError):
    """What ``fails`` raises."""


def fails(scenario: Any) -> None:
    raise ProbeError(f"no value for {scenario.name}")


def pid_file(name: str) -> Path:
    """Where ``sleep_noting_pid`` notes its process for a scenario named ``name``."""
    return Path(tempfile.gettempdir()) / f"{name}.pid"


def sleep_noting_pid(scenario: Any) -> None:
    """Note this process in ``pid_file(scenario.name)``, then take a minute (a stand-in for
    a long bound), unless the process is ended first."""
    pid_file(scenario.name).write_text(str(os.getpid()))
    time.sleep(60.0)


def sleep_then_note(scenario: Any) -> str:
    """Take half a second, then note that it returned in ``pid_file(scenario.name)``."""
    time.sleep(0.5)
    pid_file(scenario.name).write_text("returned")
    return str(scenario.name)
