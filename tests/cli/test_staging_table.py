"""``dtsim run`` prints the staging airfields' peaks beside the prisons' table."""

from __future__ import annotations

from typer.testing import CliRunner

from sim.cli import app
from sim.cli.helpers import staging_rows


def test_staging_rows_give_each_airfields_peak_when_and_its_end() -> None:
    """The first hour of the peak, as a day; an airfield that never held anyone is left
    out; no holding capacity reads "-"."""
    log = [(0.0, "a", 0), (0.0, "b", 0), (12.0, "a", 30), (36.0, "a", 30), (48.0, "a", 10)]
    assert staging_rows(log, {"a": 40, "b": None}) == [("a", 30, "40", 0.5, 10)]
    assert staging_rows(log, {}) == [("a", 30, "-", 0.5, 10)]
    assert staging_rows([(0.0, "b", 0)], {"b": 5}) == []


def test_run_prints_the_staging_table() -> None:
    r = CliRunner().invoke(app, ["run", "--no-plots", "--no-gap"], env={"COLUMNS": "160"})
    assert r.exit_code == 0, r.output
    table = r.output.split("Staging airfields", 1)[1]
    assert "peak waiting" in table and "rmelan" in table and "1,500" in table
