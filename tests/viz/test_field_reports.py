"""Defects new users reported in the figures and the report, each pinned by a test.

The runs are tiny scenarios (``tests/tiny_scenarios.py``) written to a results
folder, so each test reads the same files ``dtsim plot`` and ``dtsim report`` read.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.output.files import write_run
from sim.scenario.loader import resolved_yaml
from tests.tiny_scenarios import aircraft_type, leg, one_leg, prison, reception, scenario

runner = CliRunner()


def _write(data: dict[str, Any], out: Path, seed: int = 1) -> Any:
    """Run ``data`` once, write its results folder and open it."""
    from viz.results import Results

    s = scenario(data)
    write_run(sim.run(s, seed), out, resolved_yaml(s))
    return Results(out)


# --- 1. map: a mode alone on its pair of sites runs through them ---------------------------
def test_lanes_offset_only_modes_that_share_a_pair() -> None:
    from viz.geomap import lanes

    got = lanes([("a", "b", "ground"), ("b", "c", "rotary"), ("b", "c", "ground"),
                 ("c", "b", "ground"), ("d", "e", "rotary"), ("d", "e", "fixed_wing"),
                 ("d", "e", "ground")])
    assert got[(frozenset("ab"), "ground")] == 0.0
    assert got[(frozenset("bc"), "rotary")] == -0.5 and got[(frozenset("bc"), "ground")] == 0.5
    assert [got[(frozenset("de"), m)] for m in ("rotary", "fixed_wing", "ground")] == [-1, 0, 1]


def test_a_road_only_map_draws_roads_and_flows_through_their_sites(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    from viz import style
    from viz.geomap import MapDrawer, MapModel

    data = one_leg(n=60, type_kw={"mode": "ground", "range_km": 1000}, legs=[
        leg("p", "r", ["ground"])])
    res = _write(data, tmp_path)
    model = MapModel(res)
    assert model.flows and all(f.mode == "ground" for f in model.flows)
    drawer = MapDrawer(model)
    sites = {(40.0, 1.0), (40.0, 0.0)}  # (lon, lat) of p and r
    for seg in drawer.flow_lines["ground"].get_segments():
        assert {tuple(map(float, p)) for p in seg} == sites
    colour = style.MODE_STYLE["ground"][0]
    roads = [ln for ln in drawer.ax.lines if ln.get_color() == colour]
    assert roads
    for ln in roads:
        assert set(zip(map(float, ln.get_xdata()), map(float, ln.get_ydata()),
                       strict=True)) == sites
    plt.close(drawer.fig)


# --- 2. day KPIs: one decimal (two below day 10), the date with its clock time ------------
def test_a_day_is_shown_with_one_decimal_and_its_date_and_clock_time() -> None:
    from viz import words

    start = dt.date(2023, 1, 1)
    assert words.with_unit("day_to_100", 250.96, start) == "day 251.0 (8 Sep 2023, 23:02)"
    assert words.with_unit("day_to_100", 1.04, dt.date(1975, 4, 29)) == \
        "day 1.04 (30 Apr 1975, 00:58)"
    assert words.interval("day_to_100", 1.54, 0.6326, 2.4474) == \
        "day 1.54 (95% CI 0.63 to 2.45)"
    assert words.with_unit("prisons_cleared_day", 2043.25) == "day 2043.2"
    assert words.interval("day_to_100", 2043.5, 2040.0, 2047.04) == \
        "day 2043.5 (95% CI 2040.0 to 2047.0)"
    assert words.with_unit("day_to_100", None) == "not reached"


# --- 3. types table: the places a sortie may carry ------------------------------------------
def test_types_table_shows_the_overload_factor_and_places(tmp_path: Path) -> None:
    from viz.report import _scenario_section

    res = _write(one_leg(n=20, seats=50, type_kw={"overload_factor": 2.6}), tmp_path)
    section = _scenario_section(res)
    assert "places a sortie may carry" in section and "overload factor" in section
    assert '<td class="n">130</td>' in section and '<td class="n">2.6</td>' in section


def test_types_table_shows_a_range_written_in_the_file_however_long(tmp_path: Path) -> None:
    """A long range given in the file (a 747's 10,000 km) is a limit and is shown; only a
    type without one (the schema's default) reads "no limit"."""
    from viz.report import _scenario_section

    res = _write(one_leg(n=20, seats=50, type_kw={"range_km": 10_000}), tmp_path)
    assert '<td class="n">10,000</td>' in _scenario_section(res)
    res = _write(one_leg(n=20, seats=50), tmp_path / "default")
    assert "<td>no limit</td>" in _scenario_section(res)


# --- 4. Gantt title: shown of the whole fleet, and how many flew -----------------------------
def test_gantt_title_counts_the_whole_fleet_and_those_that_flew(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    from viz.fleet import MAX_GANTT_ROWS, gantt

    res = _write(one_leg(n=1500, count=70, pads=70, seats=30), tmp_path)
    flew = len({r["aircraft"] for r in res.sorties})
    assert MAX_GANTT_ROWS < flew < 70, flew
    fig = gantt(res)
    title = fig.axes[0].get_title(loc="left")
    assert f"{MAX_GANTT_ROWS} of 70 aircraft shown ({flew} flew)" in title, title
    plt.close(fig)


# --- 5. plot and report on the folders of other commands -------------------------------------
@pytest.mark.parametrize(("data", "figure", "what"), [
    ("plan_fleet.json", "fleet_plan.png", "fleet plan written by `dtsim plan fleet --out`"),
    ("bound.json", "bound.png", "delivery bound written by `dtsim bound --out`"),
])
def test_other_commands_folders_are_named(data: str, figure: str, what: str,
                                          tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / data).write_text("{}", encoding="utf-8")
    (folder / figure).write_bytes(b"")
    (folder / "complete.json").write_text("{}", encoding="utf-8")
    for cmd in ("plot", "report"):
        result = runner.invoke(app, [cmd, str(folder)])
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert what in text and f"its figure is {figure} (already drawn)" in text, text
        assert "`plot` and `report` read the folders of `dtsim run`" in text
    assert not (folder / "report.html").exists()


# --- 6. fleet states agree with daily.csv: not mission capable counts as maintenance ----------
def test_not_mission_capable_days_are_maintenance_as_in_daily_csv(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    from viz.fleet import MAINTENANCE_STATES, availability, state_hours

    data = one_leg(n=3000, count=4, pads=4, horizon_days=20,
                   type_kw={"mission_capable_rate": 0.5})
    res = _write(data, tmp_path)
    daily = res.daily
    counted = np.nan_to_num(daily.col("aircraft_maintenance"))
    assert counted.mean() > 1.0, "the case this test is about: many days not capable"
    hours = state_hours(res)
    maintenance = sum(hours[k] for k in MAINTENANCE_STATES) / 24.0
    assert maintenance.mean() == pytest.approx(counted.mean(), rel=0.15)
    assert hours["idle"].mean() / 24.0 < 4 - counted.mean()  # no longer drawn as idle
    fleet = sum(np.nan_to_num(daily.col(c)) for c in daily.columns if c.startswith("aircraft_"))
    assert np.allclose(sum(hours.values()) / 24.0, fleet)  # each aircraft in one state
    fig = availability(res)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "in maintenance: not mission capable that day" in labels
    plt.close(fig)


def test_fleet_caption_is_a_time_weighted_average() -> None:
    from viz.figures import CATALOGUE

    caption = next(s.caption for s in CATALOGUE if s.name == "fleet")
    assert "time-weighted" in caption and "end of each day" not in caption


# --- 7. fleet states in time linear in the events and days ---------------------------------
class _Table:
    """Just enough of ``viz.results.Table`` for ``state_hours``."""

    def __init__(self, n_days: int) -> None:
        self.columns = ["day"]
        self._n = n_days

    def __len__(self) -> int:
        return self._n

    def col(self, name: str) -> np.ndarray:
        return np.arange(self._n, dtype=float)


class _Results:
    """A results folder of one aircraft flying ``n`` missions over ``n_days`` days."""

    def __init__(self, n: int, n_days: int) -> None:
        self.daily = _Table(n_days)
        self.scenario: dict[str, Any] = {"aircraft": {"h": {"turnaround_min": 30}}}
        gap = n_days * 24.0 / (n + 1)
        self.sorties = [{"aircraft": "h-1", "type": "h", "mode": "rotary",
                         "depart_hour": str(i * gap + 0.5), "arrive_hour": str(i * gap + 1.5)}
                        for i in range(n)]
        self.events = [{"event": "available", "who": "h-1", "where": "p", "hour": "0"}]
        for i in range(n):
            self.events += [
                {"event": "dispatch", "who": "h-1", "where": "p", "hour": str(i * gap)},
                {"event": "unload", "who": "h-1", "where": "r", "hour": str(i * gap + 1.6)},
                {"event": "failure", "who": "h-1", "where": "r", "hour": str(i * gap + 2.5)},
                {"event": "repaired", "who": "h-1", "where": "r", "hour": str(i * gap + 3.0)},
            ]

    def has(self, name: str) -> bool:
        return name != "kpis.json"


def test_state_hours_grows_linearly_with_the_events() -> None:
    from viz.fleet import state_hours

    def seconds(n: int) -> float:
        res = _Results(n, 3650)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            hours = state_hours(res)  # type: ignore[arg-type]
            best = min(best, time.perf_counter() - t0)
        assert hours["flying"].sum() == pytest.approx(n * 1.0)
        assert hours["maintenance"].sum() == pytest.approx(n * 0.5)
        return best

    small, large = seconds(1500), seconds(6000)
    assert large < 9.0 * small, (small, large)  # 4x the events: about 4x (16x if quadratic)


def test_day_hours_splits_spans_at_midnight() -> None:
    from viz.fleet import day_hours

    got = day_hours([(-5.0, 2.0), (20.0, 50.0), (30.0, 31.0), (70.0, 100.0)], 3)
    assert got.tolist() == pytest.approx([2.0 + 4.0, 24.0 + 1.0, 2.0 + 2.0])


def test_a_diverted_mission_ends_when_the_aircraft_is_back(tmp_path: Path) -> None:
    """Not at the aircraft's last flight of the run (the divert's return flights only)."""
    from viz.fleet import state_hours

    res = _Results(3, 10)
    res.events[1:] = [
        {"event": "dispatch", "who": "h-1", "where": "p", "hour": "0"},
        {"event": "divert", "who": "h-1", "where": "r", "hour": "1.5"},
        {"event": "dispatch", "who": "h-1", "where": "p", "hour": "100"},
        {"event": "unload", "who": "h-1", "where": "r", "hour": "102"},
    ]
    res.sorties = [
        {"aircraft": "h-1", "type": "h", "mode": "rotary", "depart_hour": "0.5",
         "arrive_hour": "1.5"},
        {"aircraft": "h-1", "type": "h", "mode": "rotary", "depart_hour": "1.5",
         "arrive_hour": "2.5"},
        {"aircraft": "h-1", "type": "h", "mode": "rotary", "depart_hour": "100.5",
         "arrive_hour": "101.5"},
    ]
    hours = state_hours(res)  # type: ignore[arg-type]
    busy = (hours["flying"] + hours["mission_ground"]).tolist()
    assert busy[0] == pytest.approx(2.5) and busy[1:4] == [0.0, 0.0, 0.0]


# --- 8. reception figure with two receptions -------------------------------------------------
def test_two_receptions_say_so_and_keep_the_limited_ones_limit(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    from viz.timeseries import intake_limits_by_reception
    from viz.timeseries import reception as reception_figure

    data: dict[str, Any] = {
        "name": "two receptions", "start": "2026-01-01", "horizon_days": 6,
        "sites": [prison("p", 1.0, 200, pads=2),
                  reception("r", 0.0, beds=500, daily_intake_limit=20),
                  reception("s", 2.0, beds=300)],
        "legs": [leg("p", "r"), leg("p", "s")],
        "aircraft": {"h": aircraft_type()},
        "fleet": [{"type": "h", "count": 2, "base": "p"}],
    }
    res = _write(data, tmp_path)
    days = res.daily.col("day")
    limits = intake_limits_by_reception(res, days)
    assert limits is not None and set(limits) == {"r", "s"}
    assert (limits["r"] == 20).all() and np.isnan(limits["s"]).all()
    fig = reception_figure(res)
    beds = {ln.get_label(): ln for ln in fig.axes[0].lines}
    assert "beds, all 2 receptions" in beds
    assert beds["beds, all 2 receptions"].get_ydata()[0] == 800
    assert "occupancy, all receptions" in beds
    limit = [ln for ln in fig.axes[2].lines if ln.get_label().startswith("intake limit")]
    assert len(limit) == 1 and limit[0].get_label() == "intake limit of r (s: no limit)"
    assert np.nanmax(limit[0].get_ydata()) == 20
    plt.close(fig)


def test_one_reception_figure_is_unchanged(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    from viz.timeseries import reception as reception_figure

    res = _write(one_leg(n=60, reception_kw={"beds": 100, "daily_intake_limit": 25}), tmp_path)
    fig = reception_figure(res)
    assert {"occupancy", "beds"} <= {ln.get_label() for ln in fig.axes[0].lines}
    assert "intake limit (no line: unlimited)" in [ln.get_label() for ln in fig.axes[2].lines]
    plt.close(fig)


def test_reception_figure_says_when_there_is_no_registration_and_no_limit(
        tmp_path: Path) -> None:
    """Without registration the backlog panel says why it is empty (not an empty axis);
    without an intake limit the intake panel's note does not speak of one."""
    import matplotlib.pyplot as plt

    from viz.timeseries import NO_REGISTRATION
    from viz.timeseries import reception as reception_figure

    fig = reception_figure(_write(one_leg(n=60, reception_kw={"beds": 100}), tmp_path))
    assert [t.get_text() for t in fig.axes[1].texts] == [NO_REGISTRATION]
    assert not fig.axes[1].collections
    note = fig.axes[2].get_title(loc="left")
    assert note.startswith("No intake limit") and "caps" not in note
    plt.close(fig)
    registers = {"beds": 100, "daily_intake_limit": 25,
                 "registration": {"stations": 1, "minutes": 30}}
    fig = reception_figure(_write(one_leg(n=60, reception_kw=registers), tmp_path / "reg"))
    assert not fig.axes[1].texts and len(fig.axes[1].collections) == 1
    assert fig.axes[2].get_title(loc="left").startswith("The limit caps clearances")
    plt.close(fig)


def test_report_says_registration_is_not_modelled_rather_than_complete(tmp_path: Path) -> None:
    from viz.report import _run_kpis

    lead = _run_kpis(_write(one_leg(n=60), tmp_path))
    assert "No registration is modelled" in lead and "Registration complete" not in lead
    registers = {"registration": {"stations": 1, "minutes": 30}}
    lead = _run_kpis(_write(one_leg(n=60, reception_kw=registers), tmp_path / "reg"))
    assert "Registration complete on day" in lead and "No registration" not in lead


def _long_haul(p: tuple[float, float], q: tuple[float, float],
               r: tuple[float, float]) -> dict[str, Any]:
    """Prisons ``p`` and ``q`` and a reception ``r`` at (lat, lon), far apart; one long
    flight from each prison."""
    return {
        "name": "long haul", "start": "2026-01-01", "horizon_days": 3,
        "sites": [prison("p", p[0], 40, lon=p[1]), prison("q", q[0], 40, lon=q[1]),
                  reception("r", r[0], lon=r[1])],
        "legs": [leg("p", "r", distance_km=5000), leg("q", "r", distance_km=5000)],
        "aircraft": {"h": aircraft_type(cruise_kmh=800, range_km=6000)},
        "fleet": [{"type": "h", "count": 2, "base": "r"}],
    }


def test_the_maps_date_and_labels_leave_the_sites_visible(tmp_path: Path) -> None:
    """A reception in the lower right corner (where the date stood) and a prison on the top
    edge of a wide map: the date takes another corner and covers no site's marker, and
    every site's label lies inside the map."""
    import matplotlib.pyplot as plt

    from viz.geomap import MapModel, map_figure

    res = _write(_long_haul((33.3, 44.4), (29.4, 48.0), (19.1, 72.9)), tmp_path)
    fig = map_figure(res)
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    date = next(t for t in ax.texts if t.get_text().startswith("day "))
    box = date.get_window_extent(renderer)
    frame = ax.get_window_extent(renderer)
    for sid, site in MapModel(res).sites.items():
        x, y = ax.transData.transform((float(site["lon"]), float(site["lat"])))
        assert not box.contains(x, y), sid
        label = next(t for t in ax.texts if t.get_text().split()[0] == sid)
        lb = label.get_window_extent(renderer)
        assert frame.x0 <= lb.x0 and lb.x1 <= frame.x1 and lb.y1 <= frame.y1, sid
    whole = ax.get_tightbbox(renderer)  # the latitude label and the legend on the figure
    assert whole is not None and whole.x0 >= 0 and whole.x1 <= fig.bbox.width
    plt.close(fig)


def test_the_map_draws_no_outlines_of_other_countries(tmp_path: Path) -> None:
    """Sites outside the shipped outlines (Ukraine to India): no country is drawn, and
    the map says why; sites within them (the shipped scenarios') keep their outlines."""
    import matplotlib.pyplot as plt

    from viz.geomap import NO_OUTLINES, borders, map_figure, outlines_cover

    fig = map_figure(_write(_long_haul((50.0, 30.5), (49.8, 24.0), (28.6, 77.1)), tmp_path))
    ax = fig.axes[0]
    assert NO_OUTLINES in [t.get_text() for t in ax.texts]
    assert not [t for t in ax.texts if t.get_text() in ("SYRIA", "IRAQ", "TURKEY")]
    plt.close(fig)
    assert outlines_cover(borders(), [{"lat": 36.5, "lon": 40.7}, {"lat": 33.3, "lon": 44.2}])
    assert not outlines_cover(borders(), [{"lat": 50.0, "lon": 30.5}, {"lat": 28.6, "lon": 77.1}])


def test_plan_fleet_json_is_written_by_the_planner_under_that_name() -> None:
    """The names ``viz.results.OTHER_OUTPUTS`` looks for are the ones the commands write."""
    from sim.output.folders import PLAN_FLEET_FIGURE, PLAN_FLEET_JSON
    from viz.results import OTHER_OUTPUTS

    assert (PLAN_FLEET_JSON, PLAN_FLEET_FIGURE) in {(d, f) for d, _w, f in OTHER_OUTPUTS}
