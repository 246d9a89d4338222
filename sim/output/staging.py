"""Each staging airfield's fullest moment, from a run's staging log (``staging.csv``).

The run's table (``dtsim run``), the report's lead paragraph and the staging figure all
say how full an airfield got and when; they read it here, from the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class StagingPeak(NamedTuple):
    """A staging airfield's most people waiting at once, the first hour (on the run's
    clock) it held that many, and how many it held at the end."""

    site: str
    peak: int
    first_hour: float
    last: int


def staging_peaks(log: Iterable[tuple[float, str, int]]) -> list[StagingPeak]:
    """Per airfield of ``log`` (hour, site, people there after a change, in time order)
    that held anyone, in the order the log first names them."""
    counts: dict[str, list[tuple[float, int]]] = {}
    for hour, site, held in log:
        counts.setdefault(site, []).append((float(hour), int(held)))
    out = []
    for site, rows in counts.items():
        peak = max(held for _, held in rows)
        if peak > 0:
            first = next(hour for hour, held in rows if held == peak)
            out.append(StagingPeak(site, peak, first, rows[-1][1]))
    return out


__all__ = ["StagingPeak", "staging_peaks"]
