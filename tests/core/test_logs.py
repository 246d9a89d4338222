"""The run's logs kept as columns give back the lines they were given."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.common.vocabulary import Event, EventKind, Sortie, SortieKind
from sim.core.logs import EventLog, SortieLog
from sim.core.model import Model

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
EVENTS = st.lists(st.builds(
    Event, st.floats(0, 1e4, allow_nan=False), st.sampled_from(list(EventKind)),
    st.sampled_from(["h-01", "c-02", "-"]), st.sampled_from(["p", "r", "leg"]),
    st.integers(0, 60)), max_size=40)
SORTIES = st.lists(st.builds(
    Sortie, st.sampled_from(["h-01", "c-02"]), st.sampled_from(["h", "c"]),
    st.sampled_from(["rotary", "fixed"]), st.sampled_from(list(SortieKind)),
    st.sampled_from(["p", "a"]), st.sampled_from(["a", "r"]), st.floats(0, 1e4),
    st.floats(0, 1e4), st.integers(0, 60), st.floats(0, 900), st.floats(0, 9)), max_size=40)


@given(EVENTS, EVENTS)
def test_an_event_log_gives_back_its_lines_and_a_copy_keeps_them(
        first: list[Event], later: list[Event]) -> None:
    log = EventLog.of(first)
    kept = log.copy()
    for e in later:
        log.append(*e)
    assert len(log) == len(first) + len(later)
    assert log.rows() == list(log) == first + later
    assert all(type(e) is Event for e in log.rows())
    assert kept.rows() == first and len(kept) == len(first)


@given(SORTIES, SORTIES)
def test_a_sortie_log_gives_back_its_legs_and_a_copy_keeps_them(
        first: list[Sortie], later: list[Sortie]) -> None:
    log = SortieLog.of(first)
    kept = log.copy()
    for s in later:
        log.append(*s)
    assert log.rows() == list(log) == first + later
    assert [list(c) for c in log.columns()] == [list(c) for c in zip(*(first + later), strict=True)] \
        if first + later else all(c == [] for c in log.columns())
    assert kept.rows() == first


def test_a_result_reads_the_lines_the_run_logged() -> None:
    scenario = sim.load_scenario(SCENARIOS / "baseline.yaml")
    model = Model(scenario, 3)
    model.run()
    res = sim.run(scenario, 3)
    assert res.events == model.events and len(res.event_log) == len(res.events) > 1000
    assert res.sorties == model.sorties and len(res.sortie_log) == len(res.sorties) > 300
    assert res.events is res.events  # built once
