"""What every refused input must look like on the command line, shared by the bad-input corpora."""

from __future__ import annotations


def refusal_problems(code: int, stdout: str, stderr: str) -> tuple[list[str], list[str]]:
    """Problems with a refusal (exit 2, no traceback, nothing on stdout, one message line),
    and the message lines themselves for the caller's own checks."""
    found: list[str] = []
    lines = [x for x in stderr.splitlines() if x.strip()]
    if code != 2:
        found.append(f"exit {code}, expected 2")
    if "Traceback" in stderr + stdout:
        found.append("a traceback")
    if stdout.strip():
        found.append(f"stdout not empty: {stdout[:200]!r}")
    if len(lines) != 1:
        found.append(f"{len(lines)} message lines, expected 1: {lines[:3]}")
    return found, lines
