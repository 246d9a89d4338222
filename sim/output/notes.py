"""Notes printed after a run's KPIs: what a planner may not expect from the inputs.

A fleet type whose sorties leave with a small share of their places is the usual sign
that the scenario lets it leave with whoever is waiting (``min_load_fraction`` 0, the
schema's default): where people reach a pickup a few at a time, such a type flies many
near-empty sorties, and its sortie count is several times a real operation's.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.core.results import Result
    from sim.scenario.schema import Scenario

#: Loads below this share of a type's places (on average) draw a note. A reporting
#: threshold (a planning assumption), not a model input: a quarter of the places.
LIGHT_LOAD_SHARE = 0.25

#: Fewest loaded sorties of a type for its mean load to be worth a note.
MIN_SORTIES_FOR_A_NOTE = 20


def light_load_notes(result: Result, scenario: Scenario) -> list[str]:
    """One note per fleet type that leaves with whoever is waiting (no minimum load)
    and whose loaded sorties carried on average under ``LIGHT_LOAD_SHARE`` of its full
    load (seats x overload factor), over at least ``MIN_SORTIES_FOR_A_NOTE`` sorties."""
    log = result.event_log
    loaded: Counter[str] = Counter()
    for i in log.departs:  # the loaded departures, which the KPI ``sorties`` counts
        loaded[result.vehicle_types.get(log.subject[i], "")] += log.n[i]
    sorties = result.kpis.get("sorties") or {}
    notes = []
    for name, t in scenario.aircraft.items():
        flown = int(sorties.get(name) or 0)
        full = t.full_load
        if t.min_load_fraction > 0 or flown < MIN_SORTIES_FOR_A_NOTE or full <= 0:
            continue
        mean = loaded[name] / flown
        if mean < LIGHT_LOAD_SHARE * full:
            notes.append(
                f"note: {name} flew {flown:,} loaded sorties with {mean:,.1f} people on "
                f"average, {mean / full:.0%} of its {full:,} places: it leaves with whoever "
                "is waiting; min_load_fraction (with max_load_wait_hours) makes it wait "
                "for fuller loads (docs/mechanisms.md, \"Minimum load and maximum wait\")")
    return notes


__all__ = ["LIGHT_LOAD_SHARE", "MIN_SORTIES_FOR_A_NOTE", "light_load_notes"]
