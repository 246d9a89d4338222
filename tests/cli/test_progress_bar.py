"""The command line's progress bar (``sim.cli.helpers.progress_bar``): no thread of its own
(a local pool forks its workers from the command), and redrawn at most every
``REDRAW_SECONDS`` and when its task completes."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from rich.progress import Progress

from sim.cli import helpers


@pytest.fixture
def redraws(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each update of a bar redrew it."""
    seen: list[bool] = []
    real_update = Progress.update

    def spy(self: Progress, task: Any, *, refresh: bool = False, **fields: Any) -> None:
        seen.append(refresh)
        real_update(self, task, refresh=refresh, **fields)

    monkeypatch.setattr(Progress, "update", spy)
    return seen


def test_the_bar_runs_no_thread_and_redraws_at_most_ten_times_a_second(
        monkeypatch: pytest.MonkeyPatch, redraws: list[bool]) -> None:
    clock = [100.0]
    monkeypatch.setattr(helpers.time, "monotonic", lambda: clock[0])
    threads = threading.active_count()
    with helpers.progress_bar("runs") as update:
        assert threading.active_count() == threads
        for i in range(1, 21):
            clock[0] += 0.03  # a result every 30 ms
            update(completed=i, total=20)
    assert helpers.REDRAW_SECONDS == 0.1
    # 0.12 s after the last redraw at each fourth result; the last result completes it.
    assert redraws == [i % 4 == 0 for i in range(1, 21)]


def test_the_last_result_is_drawn_however_soon_it_comes(
        monkeypatch: pytest.MonkeyPatch, redraws: list[bool]) -> None:
    monkeypatch.setattr(helpers.time, "monotonic", lambda: 5.0)  # no time passes
    with helpers.progress_bar("back-test") as update:
        update(description="case a", completed=1, total=3)
        update(description="case b", completed=2, total=3)
        update(description="case c", completed=3, total=3)
    assert redraws == [False, False, True]
