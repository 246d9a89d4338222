"""Figures, map, GIF and the HTML report (the ``viz`` package and its CLI commands).

Drawing uses the Agg backend; images are checked for size and for content
(pixel variance), SVGs for well-formed XML, the report for self-containment
and, in headless Chromium, for decoded images and a clean console.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.output.files import write_run
from sim.scenario.loader import ScenarioError, resolved_yaml

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(
    p for p in (ROOT / "scenarios").rglob("*.yaml") if not p.name.endswith(".questions.yaml")
)
RUN_FIGURES = {"throughput", "sorties", "prisons", "staging", "reception", "fleet", "gantt", "map"}
runner = CliRunner()


def write_results(scenario_path: Path, out: Path, seed: int = 1) -> Path:
    """Run a scenario file once and write its results folder."""
    s = sim.load_scenario(scenario_path)
    write_run(sim.run(s, seed), out, resolved_yaml(s))
    return out


def assert_image(data: bytes, size: tuple[int, int] | None = None, min_std: float = 4.0) -> None:
    """A PNG of the expected size that is not blank (grey-level spread above a threshold)."""
    img = Image.open(io.BytesIO(data))
    img.load()
    if size is not None:  # matplotlib truncates fractional pixels
        assert abs(img.size[0] - size[0]) <= 1 and abs(img.size[1] - size[1]) <= 1, img.size
    grey = np.asarray(img.convert("L"), dtype=float)
    assert grey.std() > min_std, f"image looks blank (std {grey.std():.2f})"
    assert (grey < 200).mean() > 0.01, "almost no ink on the image"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The baseline run (seed 1) with its PNG figures drawn by ``draw_run``."""
    from viz.figures import draw_run

    out = write_results(ROOT / "scenarios" / "baseline.yaml", tmp_path_factory.mktemp("base"))
    assert draw_run(out) == []
    return out


@pytest.fixture(scope="module")
def report(baseline: Path) -> str:
    from viz.report import write_report

    return write_report(baseline).read_text(encoding="utf-8")


# --- run figures ------------------------------------------------------------------------
def test_draw_run_writes_every_run_figure(baseline: Path) -> None:
    for name in RUN_FIGURES:
        data = (baseline / f"{name}.png").read_bytes()
        img = Image.open(io.BytesIO(data))
        assert img.width >= 900 and img.height >= 500, name
        assert_image(data)


def test_figures_have_the_size_of_their_figure(baseline: Path) -> None:
    import matplotlib.pyplot as plt

    from viz.figures import render, to_bytes
    from viz.results import Results

    items = render(Results(baseline))
    assert {i.spec.name for i in items} == RUN_FIGURES
    for item in items:
        assert item.figure is not None, item.skipped
        w, h = item.figure.get_size_inches() * item.figure.dpi
        assert_image(to_bytes(item.figure, "png"), (round(w), round(h)))
        plt.close(item.figure)


def test_plot_svg_parses_as_xml(baseline: Path, tmp_path: Path) -> None:
    folder = tmp_path / "svg"
    shutil.copytree(baseline, folder)
    result = runner.invoke(app, ["plot", str(folder), "--format", "svg"])
    assert result.exit_code == 0, result.output
    svgs = sorted(folder.glob("*.svg"))
    assert {p.stem for p in svgs} == RUN_FIGURES
    for p in svgs:
        root = ET.parse(p).getroot()
        assert root.tag.endswith("svg")
        assert len(list(root.iter())) > 50, p.name


def test_titles_units_and_dates(baseline: Path) -> None:
    """Every axis label names a unit or a date; titles say what the figure shows."""
    import matplotlib.pyplot as plt

    from viz.figures import render
    from viz.results import Results

    for item in render(Results(baseline)):
        assert item.figure is not None
        titles = [ax.get_title(loc) for ax in item.figure.axes
                  for loc in ("left", "center", "right")]
        titles += [t.get_text() for t in item.figure.texts]
        assert any(len(t) > 20 for t in titles), item.spec.name
        for ax in item.figure.axes:
            for label in (ax.get_xlabel(), ax.get_ylabel()):
                if label:
                    assert "(" in label or label == "date", (item.spec.name, label)
        plt.close(item.figure)


def test_intake_limit_follows_the_triggers(baseline: Path) -> None:
    from viz.results import Results
    from viz.timeseries import intake_limit_by_day

    res = Results(baseline)
    limits = intake_limit_by_day(res, res.daily.col("day"))
    assert limits is not None
    finite = limits[np.isfinite(limits)]
    assert len(set(finite.tolist())) >= 2, "baseline triggers change the intake limit"


def test_an_uncertain_quota_is_drawn_as_the_run_drew_it(baseline: Path) -> None:
    """The baseline's quotas are distributions: the run records each draw with the rule
    that fired (kpis.json, ``triggers_fired``), and the limit line follows those draws."""
    from viz.results import Results
    from viz.timeseries import intake_limit_by_day

    res = Results(baseline)
    days = res.daily.col("day")
    limits = intake_limit_by_day(res, days)
    assert limits is not None
    drawn = [(f["day"], f["intake_limit"]["bgw"]) for f in res.kpis["triggers_fired"]
             if "intake_limit" in f]
    assert len(drawn) >= 3
    for day, quota in drawn:
        after = [i for i, d in enumerate(days) if d >= day]
        assert limits[after[0]] == quota


# --- every scenario file ------------------------------------------------------------------
@pytest.mark.parametrize("path", SCENARIOS, ids=[str(p.relative_to(ROOT)) for p in SCENARIOS])
def test_every_scenario_renders(path: Path, tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    from viz.figures import render, to_bytes
    from viz.results import Results

    try:
        write_results(path, tmp_path)
    except ScenarioError as exc:
        pytest.skip(f"{path.name} does not load: {exc.problems[:1]}")
    items = render(Results(tmp_path))
    assert {i.spec.name for i in items} == RUN_FIGURES
    with (tmp_path / "staging.csv").open(newline="") as f:
        staged = any(int(row["held"]) > 0 for row in csv.DictReader(f))
    for item in items:
        if item.spec.name == "staging" and not staged:  # no airfield held anyone: said so
            assert item.figure is None and item.skipped == "no staging airfield held anyone"
            continue
        assert item.figure is not None, f"{item.spec.name} skipped: {item.skipped}"
        dpi = 40
        w, h = item.figure.get_size_inches() * dpi
        assert_image(to_bytes(item.figure, "png", dpi=dpi), (round(w), round(h)), min_std=2.0)
        plt.close(item.figure)


# --- skipping and bad input ---------------------------------------------------------------
def test_absent_data_is_skipped_with_a_reason(baseline: Path, tmp_path: Path) -> None:
    folder = tmp_path / "partial"
    shutil.copytree(baseline, folder)
    for p in folder.glob("*.png"):
        p.unlink()
    (folder / "sorties.csv").unlink()
    marker = json.loads((folder / "complete.json").read_text())
    del marker["files"]["sorties.csv"]  # a folder written without it, not a damaged one
    (folder / "complete.json").write_text(json.dumps(marker))
    result = runner.invoke(app, ["plot", str(folder)])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("skipped")]
    assert lines == ["skipped fleet: the fleet figure needs events.csv and sorties.csv",
                     "skipped gantt: no sorties.csv in the folder (sortie log of a run)"]
    assert not (folder / "gantt.png").exists()
    assert (folder / "map.png").exists() and (folder / "throughput.png").exists()


@pytest.mark.parametrize("case", ["empty", "missing", "old_format", "unknown_kind", "file"])
def test_bad_folders_exit_2_with_one_line(case: str, baseline: Path, tmp_path: Path) -> None:
    folder = tmp_path / "x"
    if case == "empty":
        folder.mkdir()
    elif case == "file":
        folder.write_text("not a folder")
    elif case in ("old_format", "unknown_kind"):
        shutil.copytree(baseline, folder)
        meta = json.loads((folder / "meta.json").read_text())
        if case == "old_format":
            meta["format_version"] = 0
        else:
            meta["kind"] = "mystery"
        (folder / "meta.json").write_text(json.dumps(meta))
    for cmd in (["plot", str(folder)], ["report", str(folder)], ["map", str(folder), "--day", "1"]):
        result = runner.invoke(app, cmd)
        assert result.exit_code == 2, (cmd, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
        assert "Traceback" not in result.output
    assert not (folder / "report.html").exists() if folder.is_dir() else True


def test_bad_format_and_day_exit_2(baseline: Path) -> None:
    result = runner.invoke(app, ["plot", str(baseline), "--format", "jpg"])
    assert result.exit_code == 2 and "png or svg" in result.output
    result = runner.invoke(app, ["map", str(baseline), "--day", "9999"])
    assert result.exit_code == 2 and "--day 9999" in result.output


# --- map and GIF -------------------------------------------------------------------------
def test_borders_are_shipped_and_plausible() -> None:
    from viz.geomap import BORDERS, borders

    assert BORDERS.is_file()
    names = {c["name"]: c for c in borders()["countries"]}
    for country in ("Syria", "Iraq", "Turkey"):
        coords = names[country]["coords"]
        assert len(coords) >= 12
        assert coords[0] == coords[-1], f"{country} outline is not closed"
        for lon, lat in coords:
            assert 25 <= lon <= 49 and 29 <= lat <= 43


def test_map_day_and_gif(baseline: Path, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    shutil.copytree(baseline, folder)
    result = runner.invoke(app, ["map", str(folder), "--day", "3"])
    assert result.exit_code == 0, result.output
    assert_image((folder / "map_day3.png").read_bytes())
    result = runner.invoke(app, ["map", str(folder), "--gif"])
    assert result.exit_code == 0, result.output
    gif = Image.open(folder / "map.gif")
    assert gif.format == "GIF" and gif.n_frames > 5  # type: ignore[attr-defined]


def test_map_changes_with_the_day(baseline: Path) -> None:
    from viz.geomap import map_frames_png
    from viz.results import Results

    frames = map_frames_png(Results(baseline))
    assert len(frames) > 5
    first, last = (np.asarray(Image.open(io.BytesIO(f[1])).convert("L"), dtype=float)
                   for f in (frames[0], frames[-1]))
    assert first.shape == last.shape
    assert np.abs(first - last).mean() > 0.2, "frames should differ (flows, fronts, date)"


# --- experiment figures (synthetic folders in the column conventions) ---------------------
def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def make_replications(folder: Path, n: int = 40) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(folder / "replications.csv",
               ["replication", "seed", "delivered", "escaped", "prisons_cleared_day",
                "at_risk_detainee_days", "fleet_utilization", "sorties:ch47"],
               [[i, 100 + i, int(rng.integers(5800, 6050)), int(rng.integers(0, 400)),
                 float(rng.normal(21, 1)) if i % 7 else "", float(rng.gamma(2, 500)),
                 float(rng.uniform(0.05, 0.1)), int(rng.integers(100, 140))] for i in range(n)])
    days = 30
    series = ("delivered_cum", "registered_cum", "escaped_cum", "facility_occupancy",
              "registration_backlog")
    header = ["day", "date"] + [f"{s}_{q}" for s in series for q in ("mean", "p5", "p95")]
    rows = []
    for d in range(days):
        base = min(6000.0, 300.0 * d)
        row: list[Any] = [d, f"2026-01-{21 + d:02d}" if d < 11 else f"2026-02-{d - 10:02d}"]
        for k in range(len(series)):
            m = base / (k + 1)
            row += [m, m * 0.9, m * 1.1]
        rows.append(row)
    _write_csv(folder / "daily_bands.csv", header, rows)
    (folder / "summary.json").write_text(json.dumps({
        "kind": "replications", "scenario": "synthetic", "n": n,
        "kpis": {"delivered": {"mean": 5900.0, "ci_low": 5880.0, "ci_high": 5920.0, "p5": 5810,
                               "p95": 6040}}}))
    return folder


def test_replication_figures(tmp_path: Path) -> None:
    folder = make_replications(tmp_path / "rep")
    result = runner.invoke(app, ["plot", str(folder)])
    assert result.exit_code == 0, result.output
    for name in ("throughput", "kpi_histograms"):
        assert_image((folder / f"{name}.png").read_bytes())
    assert "compare" not in result.output  # no compare.json: nothing to say about it
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    text = (folder / "report.html").read_text()
    assert "synthetic" in text and text.count("<img") == 2
    assert "compare not shown" not in text and "class='skip'" not in text


def test_replications_detected_from_files_alone(tmp_path: Path) -> None:
    from viz.results import REPLICATIONS_KIND, detect_kind

    folder = make_replications(tmp_path / "rep")
    (folder / "summary.json").unlink()
    assert detect_kind(folder) == REPLICATIONS_KIND


def make_sweep(folder: Path, as_sqlite: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for ch47 in (6, 8, 10):
        for hazard in (0.05, 0.1, 0.2):
            for rep in range(3):
                rows.append((ch47, hazard, rep, 30 - ch47 + 10 * hazard + rep * 0.1,
                             int(6000 - 1000 * hazard)))
    if as_sqlite:
        con = sqlite3.connect(folder / "results.sqlite")
        con.execute("CREATE TABLE runs (point TEXT, seed INTEGER, params TEXT, "
                    "prisons_cleared_day REAL, delivered INTEGER)")
        con.executemany("INSERT INTO runs VALUES (?,?,?,?,?)", [
            (f"{a},{b}", r, json.dumps({"fleet.ch47.count": a,
                                        "escalation.breakout.hazard_per_day": b}), c, d)
            for a, b, r, c, d in rows])
        con.commit()
        con.close()
    else:
        _write_csv(folder / "summary.csv",
                   ["point_index", "fleet.ch47.count", "escalation.breakout.hazard_per_day",
                    "n", "prisons_cleared_day_mean", "delivered_mean"],
                   [[i, a, b, 3, c, d] for i, (a, b, _r, c, d) in enumerate(rows)])
        (folder / "results.sqlite").write_bytes(b"")
        (folder / "summary.json").write_text(json.dumps({"kind": "sweep", "scenario": "synthetic"}))
    return folder


@pytest.mark.parametrize("as_sqlite", [True, False], ids=["sqlite", "summary_csv"])
def test_sweep_heatmap(tmp_path: Path, as_sqlite: bool) -> None:
    folder = make_sweep(tmp_path / "sweep", as_sqlite)
    result = runner.invoke(app, ["plot", str(folder)])
    assert result.exit_code == 0, result.output
    assert_image((folder / "sweep.png").read_bytes())


def test_sweep_with_one_dimension_draws_the_kpi_against_the_parameter(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    from viz.experiments import sweep_figure
    from viz.results import Results

    folder = tmp_path / "sw1"
    folder.mkdir()
    _write_csv(folder / "summary.csv",
               ["point_index", "fleet.ch47.count", "n", "day_to_100_mean",
                "day_to_100_ci_low", "day_to_100_ci_high", "escaped_mean",
                "escaped_ci_low", "escaped_ci_high"],
               [[0, 6, 10, 25.0, 24.0, 26.5, 300, 250, 350],
                [1, 8, 10, 22.0, 21.0, 23.0, 200, 150, 260]])
    (folder / "summary.json").write_text(json.dumps({"kind": "sweep", "scenario": "s",
                                                     "grid": ["fleet.ch47.count"]}))
    result = runner.invoke(app, ["plot", str(folder)])
    assert result.exit_code == 0, result.output
    assert_image((folder / "sweep.png").read_bytes())
    fig = sweep_figure(Results(folder))
    ax = fig.axes[0]
    assert list(ax.lines[0].get_ydata()) == [25.0, 22.0]
    assert "day_to_100" in ax.get_ylabel() and "day" in ax.get_ylabel()
    bars = [c for c in ax.collections if len(c.get_segments()) == 2]  # type: ignore[attr-defined]
    ends = sorted(sorted(float(y) for _x, y in seg) for seg in bars[0].get_segments())
    assert ends == [[21.0, 23.0], [24.0, 26.5]]
    plt.close(fig)
    fig = sweep_figure(Results(folder, kpi="escaped"))
    assert list(fig.axes[0].lines[0].get_ydata()) == [300.0, 200.0]
    plt.close(fig)
    result = runner.invoke(app, ["plot", str(folder), "--kpi", "escaped"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["plot", str(folder), "--kpi", "nonsense"])
    assert result.exit_code == 2 and "--kpi nonsense" in result.output


def test_compare_plot(tmp_path: Path) -> None:
    folder = tmp_path / "cmp"
    folder.mkdir()
    kpis = {
        "prisons_cleared_day": {"mean_diff": -2.0, "ci_low": -2.5, "ci_high": -1.5,
                           "unpaired_ci_low": -4.0, "unpaired_ci_high": 0.2},
        "escaped": {"mean_diff": 10.0, "ci_low": -5.0, "ci_high": 25.0},
        "delivered": {"mean_diff": 0.0, "ci_low": 0.0, "ci_high": 0.0},
    }
    (folder / "compare.json").write_text(json.dumps(
        {"kind": "comparison", "a": "baseline", "b": "surge", "n": 50, "kpis": kpis}))
    result = runner.invoke(app, ["plot", str(folder)])
    assert result.exit_code == 0, result.output
    assert_image((folder / "compare.png").read_bytes())


def test_compare_plot_title_fits_the_figure_with_long_names(tmp_path: Path) -> None:
    """A long B (a scenario with several overrides) is wrapped, not cut at both sides."""
    import matplotlib.pyplot as plt

    from viz.experiments import compare_plot
    from viz.results import Results

    folder = tmp_path / "cmp"
    folder.mkdir()
    kpis = {"prisons_cleared_day": {"mean_diff": -2.0, "ci_low": -2.5, "ci_high": -1.5},
            "delivered": {"mean_diff": 0.0, "ci_low": 0.0, "ci_high": 0.0}}
    b = "kuwait_1990 + fleet.b747.count=8, fleet.a300.count=12, sites.amman.pads=40"
    (folder / "compare.json").write_text(json.dumps(
        {"kind": "comparison", "a": "kuwait_1990", "b": b, "n": 20, "kpis": kpis}))
    fig = compare_plot(Results(folder))
    fig.canvas.draw()
    title = fig._suptitle  # type: ignore[attr-defined]
    box = title.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
    assert f"{b} (B) vs kuwait_1990 (A)" in " ".join(title.get_text().split())
    plt.close(fig)


# --- the report ---------------------------------------------------------------------------
class _References(HTMLParser):
    """Every URL-bearing attribute and inline style of a page, and the tags seen."""

    URL_ATTRS = ("src", "href", "srcset", "action", "data", "poster", "background", "formaction")

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in self.URL_ATTRS and value is not None:
                self.urls.append((tag, name, value))
            if name == "style" and value:
                self.styles.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def external_references(page: str) -> list[str]:
    """URLs a browser would fetch from outside the page (network or file), as found."""
    parser = _References()
    parser.feed(page)
    out = [f"<{tag} {name}={value[:60]}>" for tag, name, value in parser.urls
           if not value.startswith(("data:", "#"))]
    out += [f"<{tag}>" for tag in ("link", "iframe", "object", "embed", "base")
            if tag in parser.tags]
    for css in parser.styles:
        out += [f"css {m[:60]}" for m in re.findall(r"url\(\s*['\"]?([^'\")]*)", css)
                if not m.startswith("data:")]
        out += ["css @import"] if "@import" in css else []
    return out


def test_report_is_self_contained(report: str) -> None:
    assert external_references(report) == []
    assert "<img" in report and "<script src" not in report.lower()


def test_external_reference_check_catches_links() -> None:
    """The check above is not vacuous: each kind of outside reference is caught."""
    for page in ('<img src="https://example.org/a.png">', '<a href="//cdn.example/x">x</a>',
                 '<script src="app.js"></script>', '<link rel="stylesheet" href="s.css">',
                 "<style>body{background:url('http://x/y.png')}</style>",
                 "<style>@import 'x.css';</style>", '<div style="background:url(x.png)"></div>'):
        assert external_references(page), page
    assert external_references('<img src="data:image/png;base64,aHR0cA==">') == []


def test_report_content(report: str, baseline: Path) -> None:
    kpis = json.loads((baseline / "kpis.json").read_text())
    assert "Key results" in report and "Timeline" in report
    for trig in kpis["triggers_fired"]:
        assert trig["name"] in report
    for site in kpis["sites"]:
        assert site in report
    assert report.count("<img") == len(RUN_FIGURES) + 1  # figures and the map slider frame
    assert 'id="map-slider"' in report or "id='map-slider'" in report


def test_png_base64_round_trips() -> None:
    import base64

    from viz import embed

    buf = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 30, 30)).save(buf, format="PNG")
    png = buf.getvalue()
    assert base64.b64decode(embed.png_base64(png)) == png


# --- headless Chromium --------------------------------------------------------------------
CHECK_HEAD = """<script>
window.__errs = [];
window.addEventListener('error', function (e) { window.__errs.push(String(e.message)); });
</script>"""
CHECK_BODY = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  var done = function (slider) {
    document.title = 'CHECK imgs=' + imgs.length + ' bad=' + bad.length + ' slider=' + slider +
      ' errors=' + window.__errs.length;
  };
  var s = document.getElementById('map-slider');
  if (!s) { done('none'); return; }
  var img = document.getElementById('map-frame');
  var before = img.src;
  s.value = s.max;
  s.dispatchEvent(new Event('input'));
  if (img.src === before) { done('unchanged'); return; }
  // The frame's load event, not img.decode(): the decode promise is not waited for by
  // headless Chromium's virtual time, so it sometimes resolved after the DOM was dumped.
  done('pending');
  var loaded = function () { done(img.naturalWidth > 0 ? 'ok' : 'blank'); };
  if (img.complete) { loaded(); return; }
  img.addEventListener('load', loaded);
  img.addEventListener('error', function () { done('undecodable'); });
});
</script>"""


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test_report_in_headless_chromium(report: str, tmp_path: Path) -> None:
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (install the Debian package 'chromium')")
        pytest.skip("no chromium binary found: install the 'chromium' package to run this test")
    page = tmp_path / "report-check.html"
    text = report.replace("<head>", "<head>" + CHECK_HEAD, 1)
    text = text.replace("</body>", CHECK_BODY + "</body>", 1)
    page.write_text(text, encoding="utf-8")
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom",
           page.as_uri()]
    for _attempt in range(3):  # a loaded machine can starve headless Chromium's first start
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        title = re.search(r"<title>(CHECK[^<]*)</title>", proc.stdout)
        if title and "imgs=0" not in title.group(1) and "slider=pending" not in title.group(1):
            break
    assert title, f"the check script did not run; stderr:\n{proc.stderr[-2000:]}"
    found = dict(part.split("=", 1) for part in title.group(1).split()[1:])
    assert int(found["imgs"]) == len(RUN_FIGURES) + 1
    assert found["bad"] == "0", title.group(1)
    assert found["slider"] == "ok", title.group(1)
    assert found["errors"] == "0", title.group(1)
    console = [ln for ln in proc.stderr.splitlines()
               if "Uncaught" in ln or ("CONSOLE" in ln and "rror" in ln)]
    assert not console, console


# --- structure ----------------------------------------------------------------------------
def test_sim_cli_does_not_import_matplotlib_or_viz() -> None:
    code = ("import sys, sim.cli; "
            "print(any(m == 'matplotlib' or m.startswith('viz') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_sim_never_imports_viz_at_module_level() -> None:
    for path in (ROOT / "sim").glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith(("import viz", "from viz")):
                pytest.fail(f"{path.name} imports viz at module level: {line}")


def test_run_report_speaks_in_words_with_units(report: str) -> None:
    """KPIs as words with units, triggers as sentences, no bookkeeping numbers."""
    key = report[report.index("id='kpis'"):report.index("id='timeline'")]
    assert "Not all of them were delivered within the horizon" in key
    assert "The prisons were cleared, by delivery or loss, on day 24.1 (" in key
    assert "6,050 detainees" in key and "snake" not in key
    for raw in ("prisons_cleared_day", "sim_events", "wall_seconds", "at_risk_detainee_days"):
        assert raw not in key, raw
    scenario = report[report.index("id='scenario'"):]
    assert "100,000" not in scenario and "no limit (road)" in scenario
    assert "15 to 35 km/day (most often 25)" in scenario  # the aleppo-raqqa front's speed
    assert "add 6 ch47 at rmelan after 24 h" in scenario
    assert "when hasakah is threatened" in scenario
    assert '{"' not in scenario and "&quot;" not in scenario  # no raw JSON


def test_reception_plots_clearances_which_the_limit_caps(tmp_path: Path) -> None:
    """dust_storm, seed 2: one day's arrivals exceed the limit, no day's clearances do."""
    import matplotlib.pyplot as plt

    from viz.results import Results
    from viz.timeseries import clearances_by_day, intake_limit_by_day, reception

    write_results(ROOT / "scenarios" / "dust_storm.yaml", tmp_path, seed=2)
    res = Results(tmp_path)
    days = res.daily.col("day")
    limit = intake_limit_by_day(res, days)
    cleared = clearances_by_day(res, len(days))
    assert limit is not None and cleared is not None
    arrivals = np.diff(np.nan_to_num(res.daily.col("delivered_cum")), prepend=0.0)
    capped = np.isfinite(limit)
    assert (arrivals[capped] > limit[capped]).any(), "the case this test is about"
    assert (cleared[capped] <= limit[capped]).all()
    assert cleared.sum() == arrivals.sum()  # every clearance landed, on some day
    fig = reception(res)
    bars = [p.get_height() for p in fig.axes[2].patches]
    assert bars == cleared.tolist()
    plt.close(fig)


def test_fleet_states_are_time_weighted(tmp_path: Path) -> None:
    """Flying shows (midnight samples missed it), hours add up, withdrawn is not black."""
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    import yaml

    from sim.scenario.loader import build
    from viz.fleet import availability, state_hours
    from viz.results import Results

    data = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text())
    data["triggers"].append({"name": "stand-down", "when": {"day": 10},
                             "then": [{"withdraw_aircraft": {"type": "uh60", "count": 2}}]})
    s = build(data)
    write_run(sim.run(s, 1), tmp_path, resolved_yaml(s))
    res = Results(tmp_path)
    hours = state_hours(res)
    flown = sum(float(r["arrive_hour"]) - float(r["depart_hour"]) for r in res.sorties)
    assert abs(hours["flying"].sum() - flown) < 1e-6 * max(flown, 1.0)
    assert hours["flying"][:3].min() > 6.0  # some aircraft in the air on each of the first days
    assert hours["withdrawn"][-1] == pytest.approx(2 * 24.0)
    fleet_size = np.nan_to_num(sum(res.daily.col(c) for c in res.daily.columns
                                   if c.startswith("aircraft_")))
    total = sum(hours.values()) / 24.0
    # Every aircraft is in exactly one state: the day's average equals the fleet size,
    # except on a day aircraft were ordered (they count from the hour of the order).
    steady = np.r_[True, np.diff(fleet_size) == 0]
    assert np.allclose(total[steady], fleet_size[steady]), (total[:12], fleet_size[:12])
    assert (total[:-1] <= fleet_size[:-1] + 1e-9).all()  # the last row closes the run
    fig = availability(res)
    ax = fig.axes[0]
    black = mcolors.to_rgba("black")
    assert all(mcolors.to_rgba(line.get_color()) != black for line in ax.lines)
    labels = ax.get_legend_handles_labels()[1]
    assert "flying" in labels and "withdrawn" in labels
    withdrawn = ax.collections[[c.get_label() for c in ax.collections].index("withdrawn")]
    assert withdrawn.get_hatch() and tuple(withdrawn.get_facecolor()[0]) != black
    plt.close(fig)


def test_prisons_figure_every_prison_visible_and_no_overlaps(baseline: Path) -> None:
    """Shaddadi (emptied on day 0) has an area; labels clear the legend; colours unambiguous."""
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt

    from viz import style
    from viz.results import Results
    from viz.timeseries import held_per_prison

    fig = held_per_prison(Results(baseline))
    ax = fig.axes[0]
    status = {mcolors.to_hex(style.STATUS_COLOURS[s]) for s in ("threatened", "overrun")}
    areas = {}
    for poly in ax.collections:
        name = str(poly.get_label()).split(" (")[0]
        assert mcolors.to_hex(poly.get_facecolor()[0]) not in status, name
        v = poly.get_paths()[0].vertices  # type: ignore[attr-defined]
        areas[name] = 0.5 * abs(float(np.dot(v[:, 0], np.roll(v[:, 1], 1))
                                      - np.dot(v[:, 1], np.roll(v[:, 0], 1))))
    assert set(areas) >= {"hasakah", "shaddadi", "raqqa"}
    assert all(a > 0 for a in areas.values()), areas
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    legend = ax.get_legend().get_window_extent(renderer)
    for text in ax.texts:
        box = text.get_window_extent(renderer)
        assert not box.overlaps(legend), text.get_text()
    plt.close(fig)


def test_map_labels_counts_land_and_projector_legend(baseline: Path) -> None:
    """Front dates never overprint; prisons show held counts; Iran is land; GIF type is large."""
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt

    from viz import style
    from viz.geomap import MapDrawer, MapModel, map_figure
    from viz.results import Results

    res = Results(baseline)
    fig = map_figure(res)
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    vermillion = mcolors.to_rgba(style.OKABE_ITO["vermillion"])
    dates = [t for t in ax.texts if mcolors.to_rgba(t.get_color()) == vermillion]
    sites = [t for t in ax.texts if "held" in t.get_text()]
    assert len(dates) >= 3 and {t.get_text().split()[0] for t in sites} >= {"hasakah", "raqqa"}
    boxes = [t.get_window_extent(renderer) for t in dates + sites]
    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            assert not a.overlaps(boxes[j]), ((dates + sites)[i].get_text(),
                                              (dates + sites)[j].get_text())
    # A point inside Iran (east of its border) is drawn as land (white), not as water.
    x, y = ax.transData.transform((44.95, 37.9))
    rgba = np.asarray(fig.canvas.buffer_rgba())  # type: ignore[attr-defined]
    h = rgba.shape[0]
    assert tuple(rgba[int(h - y), int(x), :3]) == (255, 255, 255)
    plt.close(fig)
    drawer = MapDrawer(MapModel(res), animated=True)
    assert min(t.get_fontsize() for t in drawer.legend.get_texts()) >= 12
    plt.close(drawer.fig)


@pytest.mark.parametrize("days", [30, 180, 181, 3650])
def test_daily_bars_draw_bars_up_to_180_days_and_one_stepped_area_beyond(days: int) -> None:
    """Per-day counts: one bar a day up to ``MOST_BARS`` days; beyond, one area whose
    outline steps at each midnight through the same heights (its area is the sum of
    the day's values, each over one day), stacked on ``bottom``."""
    import datetime as dt

    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    from viz import style

    rng = np.random.default_rng(days)
    heights = rng.integers(0, 7, days).astype(float)
    bottom = np.full(days, 2.0)
    start = dt.date(2026, 1, 10)
    fig, ax = plt.subplots()
    try:
        style.daily_bars(ax, start, np.arange(days), heights, bottom, color="C0", label="x")
        if days <= style.MOST_BARS:
            bars = ax.patches
            assert len(bars) == days
            assert [b.get_height() for b in bars] == pytest.approx(list(heights))
            assert all(b.get_y() == 2.0 for b in bars)
        else:
            assert not ax.patches
            (area,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
            path = area.get_paths()[0]
            keep = path.codes != path.CLOSEPOLY if path.codes is not None else slice(None)
            x, y = path.vertices[keep].T
            day0 = mdates.date2num(dt.datetime(2026, 1, 10))
            # the shoelace area between the bottom and the tops: each day's value over a day
            shoelace = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
            assert shoelace == pytest.approx(heights.sum(), rel=1e-9)
            assert y.min() == 2.0
            assert x.min() == pytest.approx(day0) and x.max() == pytest.approx(day0 + days)
            assert y.max() == pytest.approx(2.0 + heights.max())
    finally:
        plt.close(fig)


def test_throughput_of_a_run_steps_at_the_hours_people_moved(baseline: Path, tmp_path: Path
                                                               ) -> None:
    """A run's cumulative curves come from the hour each detainee was delivered (to the
    hour, not a line from one midnight to the next), and equal daily.csv at each day's
    end; an operation of hours that starts in the afternoon rises from the afternoon."""
    import matplotlib.pyplot as plt

    from tests.tiny_scenarios import one_leg, scenario
    from viz.results import Results
    from viz.timeseries import exact_curves, throughput

    res = Results(baseline)
    daily = res.daily
    for (days, counts), key in zip(exact_curves(res), ("delivered_cum", "registered_cum",
                                                        "escaped_cum", "released_cum"),
                                   strict=True):
        ends = daily.col("day") + 1.0
        # The count of the last step at or before each day's end, as drawn ("steps-post").
        at_ends = counts[np.searchsorted(days, ends - 1e-9, side="right") - 1]
        assert np.array_equal(at_ends, np.nan_to_num(daily.col(key))), key
        assert days[-1] == len(daily)  # drawn to the end of the run

    # Two aircraft from 14:24 of day 0: one prison's 300 people moved within the day.
    s = scenario(one_leg(n=300, count=2, horizon_days=2,
                         fleet=[{"type": "h", "count": 2, "base": "r",
                                 "available_from_day": 0.6}]))
    write_run(sim.run(s, 1), tmp_path, resolved_yaml(s))
    short = Results(tmp_path)
    fig = throughput(short)
    delivered = next(line for line in fig.axes[0].lines
                     if str(line.get_label()).startswith("delivered"))
    assert delivered.get_drawstyle() == "steps-post"
    import matplotlib.dates as mdates

    x = np.asarray(mdates.date2num(delivered.get_xdata()))
    y = np.asarray(delivered.get_ydata(), dtype=float)
    day0 = mdates.date2num(np.datetime64("2026-01-01"))
    first = x[np.argmax(y > 0)] - day0
    assert first > 0.6  # nothing delivered before the aircraft arrive
    assert y[-1] == 300 and x[-1] - day0 == 2.0
    plt.close(fig)


def test_per_day_steps_span_whole_days() -> None:
    """A per-day value is drawn from its day's midnight to the next: the first and the
    last day in full (steps centred on noon drew half of each)."""
    import datetime as dt

    from viz import style

    edges, values = style.whole_days(dt.date(2026, 1, 1), [0, 1], [3.0, 5.0])
    assert edges == [dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2), dt.datetime(2026, 1, 3)]
    assert list(values) == [3.0, 5.0, 5.0]
    assert style.whole_days(dt.date(2026, 1, 1), [], [])[0] == []


def _drawn_map(data: dict[str, Any], folder: Path) -> tuple[Any, Any, Any]:
    """Run scenario ``data`` once into ``folder`` and draw its map: (figure, axes,
    renderer), drawn so that text extents are final."""
    from tests.tiny_scenarios import scenario
    from viz.geomap import map_figure
    from viz.results import Results

    s = scenario(data)
    write_run(sim.run(s, 1), folder, resolved_yaml(s))
    fig = map_figure(Results(folder))
    fig.canvas.draw()
    return fig, fig.axes[0], fig.canvas.get_renderer()  # type: ignore[attr-defined]


def test_labels_of_sites_close_together_do_not_overprint(tmp_path: Path) -> None:
    """Two prisons 5 km apart (beside a third site far off) get labels clear of each
    other and of each other's markers: both above right of their sites overprinted."""
    import matplotlib.pyplot as plt

    from tests.tiny_scenarios import leg, one_leg, prison
    from viz.geomap import MARKER_CLEARANCE_PX

    data = one_leg(n=40, horizon_days=2)
    data["sites"].append(prison("q", 1.03, 40, lon=40.03))
    data["legs"].append(leg("q", "r"))
    fig, ax, renderer = _drawn_map(data, tmp_path)
    labels = {t.get_text().split()[0]: t for t in ax.texts if t.get_text().split()[:1] in
              (["p"], ["q"], ["r"])}
    assert set(labels) == {"p", "q", "r"}
    boxes = {sid: t.get_window_extent(renderer) for sid, t in labels.items()}
    assert not boxes["p"].overlaps(boxes["q"])
    from matplotlib.transforms import Bbox

    for sid, (lat, lon) in {"p": (1.0, 40.0), "q": (1.03, 40.03)}.items():
        x, y = ax.transData.transform((lon, lat))
        marker = Bbox.from_extents(x - MARKER_CLEARANCE_PX, y - MARKER_CLEARANCE_PX,
                                   x + MARKER_CLEARANCE_PX, y + MARKER_CLEARANCE_PX)
        assert not any(boxes[other].overlaps(marker) for other in boxes if other != sid)
    plt.close(fig)


def test_throughput_draws_delivered_once_where_registration_is_on_arrival(baseline: Path,
                                                                           tmp_path: Path) -> None:
    """Without registration the registered curve is the delivered one: it was drawn over
    it, hiding it. One line then, labelled so; with registration (the baseline) both."""
    import matplotlib.pyplot as plt

    from tests.tiny_scenarios import one_leg, scenario
    from viz.results import Results
    from viz.timeseries import throughput

    s = scenario(one_leg(n=60, horizon_days=2))
    write_run(sim.run(s, 1), tmp_path, resolved_yaml(s))
    for folder, expected in ((tmp_path, ["delivered (registered on arrival)", "escaped"]),
                             (baseline, ["delivered", "registered", "escaped"])):
        fig = throughput(Results(folder))
        labels = [ln.get_label() for ln in fig.axes[0].lines]
        assert labels == expected, labels
        plt.close(fig)


def test_the_maps_date_covers_no_site_and_not_the_outlines_note(tmp_path: Path) -> None:
    """Sites near all four corners of a wide map far from the shipped outlines (so the
    note that none are drawn stands top left): the day's date goes where it covers no
    site's marker and not the note (it covered a reception, then the note)."""
    import matplotlib.pyplot as plt

    from tests.tiny_scenarios import leg, prison, reception
    from viz.geomap import NO_OUTLINES

    data = {
        "name": "wide", "start": "2026-01-01", "horizon_days": 2,
        "sites": [prison("p", 41.0, 30, lon=21.0), reception("a", 40.0, lon=-74.0),
                  reception("b", 60.0, lon=-70.0), reception("c", 60.0, lon=11.0),
                  reception("d", 40.5, lon=29.0, beds=10)],
        "legs": [leg("p", r, ["fixed_wing"]) for r in "abcd"],
        "aircraft": {"f": {"mode": "fixed_wing", "seats": 30, "cruise_kmh": 800}},
        "fleet": [{"type": "f", "count": 1, "base": "p"}],
    }
    fig, ax, renderer = _drawn_map(data, tmp_path)
    date = next(t for t in ax.texts if t.get_text().startswith("day "))
    note = next(t for t in ax.texts if t.get_text() == NO_OUTLINES)
    box = date.get_window_extent(renderer)
    assert not box.overlaps(note.get_window_extent(renderer))
    for site in data["sites"]:
        x, y = ax.transData.transform((site["lon"], site["lat"]))
        assert not box.contains(x, y), site["id"]
    plt.close(fig)


def test_reception_occupancy_steps_at_the_hours_people_arrived(baseline: Path, tmp_path: Path
                                                                ) -> None:
    """A run's occupancy and registration backlog are drawn to the hour from
    detainees.csv, equal daily.csv's end-of-day values at each day's end; with several
    receptions each one's occupancy is drawn beside the total, and they add up to it."""
    import matplotlib.pyplot as plt

    from tests.tiny_scenarios import leg, one_leg, reception, scenario
    from viz.results import Results
    from viz.timeseries import occupancy_curves
    from viz.timeseries import reception as reception_figure

    res = Results(baseline)
    daily = res.daily
    ends = daily.col("day") + 1.0
    (days, counts), each, (b_days, backlog) = occupancy_curves(res)

    def at_ends(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return y[np.searchsorted(x, ends - 1e-9, side="right") - 1]

    assert np.array_equal(at_ends(days, counts), daily.col("facility_occupancy_end"))
    assert np.array_equal(at_ends(b_days, backlog), daily.col("registration_backlog"))
    assert days[-1] == len(daily) and counts.max() <= daily.col("facility_occupancy").max()
    assert backlog.min() >= 0

    # Two receptions: the nearer (r) has 40 beds, the farther (s) takes the rest.
    data = one_leg(n=100, count=2, horizon_days=2, reception_kw={"beds": 40})
    data["sites"].append(reception("s", -1.0))
    data["legs"].append(leg("p", "s"))
    s = scenario(data)
    write_run(sim.run(s, 1), tmp_path, resolved_yaml(s))
    two = Results(tmp_path)
    (days, counts), each, _ = occupancy_curves(two)
    assert set(each) == {"r", "s"} and counts[-1] == 100
    assert each["r"][1].max() == 40 and each["s"][1][-1] == 60
    fig = reception_figure(two)
    labels = [str(line.get_label()) for line in fig.axes[0].lines]
    assert "r (40 beds)" in labels and "s" in labels
    assert all(line.get_drawstyle() == "steps-post" for line in fig.axes[0].lines
               if not str(line.get_label()).startswith("beds"))
    plt.close(fig)


def test_gantt_rows_sort_by_vehicle_number() -> None:
    """Vehicle names sort by their number ("coach-26" before "coach-101"), not as text."""
    from viz.fleet import numbered

    names = ["coach-101", "coach-26", "coach-01", "coach-100", "spare"]
    assert sorted(names, key=numbered) == ["coach-01", "coach-26", "coach-100", "coach-101",
                                           "spare"]


def test_a_long_map_title_is_broken_rather_than_cut_off(tmp_path: Path) -> None:
    """A scenario name long enough to push the map's one-line title past the figure's
    left edge gets the title on two lines, inside the figure."""
    import matplotlib.pyplot as plt

    from tests.tiny_scenarios import one_leg

    data = one_leg(n=40, horizon_days=2, name="a_rather_long_scenario_name_for_a_wide_map_2005")
    data["sites"][0]["lon"] = 48.0  # a map wider than tall, as most are
    fig, ax, renderer = _drawn_map(data, tmp_path)
    box = ax.title.get_window_extent(renderer)
    assert "\n" in ax.title.get_text()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width
    plt.close(fig)


def test_long_titles_break_after_their_colon_and_never_inside_the_seed() -> None:
    """A title too long for its figure breaks after its last ": " where both parts fit
    (what the figure shows, then whose run), and never between "(seed" and its number."""
    from viz.style import wrap_title

    title = "Fleet by state, time-weighted over each day: katrina_superdome_2005 (seed 1)"
    assert wrap_title(title, 75) == ("Fleet by state, time-weighted over each day:\n"
                                     "katrina_superdome_2005 (seed 1)")
    long_run = "Fleet: " + "x" * 80 + " a run of its own (seed 12)"
    lines = wrap_title(long_run, 60).split("\n")
    assert all(len(line) <= 60 for line in lines[:-1]) and len(lines) > 1
    assert not any(line.rstrip().endswith("(seed") for line in lines)


def test_sorties_per_day_leave_room_for_their_legend(baseline: Path) -> None:
    """The busiest day's stacked sorties reach at most 1/1.3 of the top panel, so the
    legend in its top right corner covers no bar."""
    import matplotlib.pyplot as plt

    from viz.results import Results
    from viz.timeseries import sorties_per_day

    res = Results(baseline)
    daily = res.daily
    busiest = np.sum([np.nan_to_num(daily.col(c)) for c in daily.columns
                      if c.startswith("sorties:")], axis=0).max()
    fig = sorties_per_day(res)
    assert fig.axes[0].get_ylim()[1] == pytest.approx(busiest * 1.3)
    plt.close(fig)


def test_site_labels_keep_clear_of_the_date_and_inside_the_frame(tmp_path: Path) -> None:
    """Kabul, Al Udeid and Ramstein: the date takes the bottom right corner, beside Al
    Udeid, whose label it covered once the layout had shrunk the map; the label then
    went below the site, across the frame. Every site label now lies inside the frame,
    clear of the date, in the figure as saved."""
    import matplotlib.pyplot as plt

    from viz import style

    data = {
        "name": "staged", "start": "2021-08-14", "horizon_days": 17,
        "sites": [{"id": "hkia", "kind": "prison", "lat": 34.57, "lon": 69.21,
                   "detainees": {"standard": 8000}},
                  {"id": "udeid", "kind": "airfield", "lat": 25.12, "lon": 51.32},
                  {"id": "ramstein", "kind": "reception", "lat": 49.44, "lon": 7.60}],
        "legs": [{"from": "hkia", "to": "udeid", "modes": ["fixed_wing"]},
                 {"from": "udeid", "to": "ramstein", "modes": ["fixed_wing"]}],
        "aircraft": {"c17": {"mode": "fixed_wing", "seats": 300, "cruise_kmh": 830,
                             "range_km": 9000, "turnaround_min": 60}},
        "fleet": [{"type": "c17", "count": 2, "base": "udeid"}],
    }
    with style.use_style():  # as dtsim draws it: the date's size depends on the style
        fig, ax, renderer = _drawn_map(data, tmp_path)
    frame = ax.get_window_extent(renderer)
    date = next(t for t in ax.texts if t.get_text().startswith("day "))
    assert date.get_text().startswith("day 14")  # a date as wide as the case's
    date_box = date.get_window_extent(renderer)
    labels = [t for t in ax.texts if t.get_text().split()[:1] in (["hkia"], ["udeid"],
                                                                  ["ramstein"])]
    assert len(labels) == 3
    for label in labels:
        box = label.get_window_extent(renderer)
        assert not box.overlaps(date_box), label.get_text()
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 \
            and box.y1 <= frame.y1, label.get_text()
    plt.close(fig)


def test_staging_figure_draws_the_baselines_airfield_and_skips_without_one(
        baseline: Path, tmp_path: Path) -> None:
    """The baseline's staging airfield is drawn to the hour against its holding capacity;
    a run without a staging airfield skips the figure with its reason."""
    import matplotlib.pyplot as plt

    from tests.tiny_scenarios import one_leg, scenario
    from viz.results import Results, Skip
    from viz.timeseries import staging

    fig = staging(Results(baseline))
    labels = [str(line.get_label()) for line in fig.axes[0].lines]
    assert any(label.startswith("rmelan (peak ") for label in labels)
    assert "rmelan holding capacity" in labels
    plt.close(fig)
    s = scenario(one_leg(n=20, horizon_days=2))
    write_run(sim.run(s, 1), tmp_path, resolved_yaml(s))
    with pytest.raises(Skip, match="no staging airfield held anyone"):
        staging(Results(tmp_path))


def test_held_per_prison_steps_at_the_hours_people_left(baseline: Path, tmp_path: Path
                                                        ) -> None:
    """Each prison's count is drawn to the hour from detainees.csv (pickups, escapes and,
    for the never picked up, custody at the overrun) and equals daily.csv's held:<prison>
    at each day's end, on the baseline, whose prisons lose people all three ways; a lift
    that starts at 14:24 keeps its prison full until then."""
    import matplotlib.pyplot as plt

    from tests.tiny_scenarios import one_leg, scenario
    from viz.results import Results
    from viz.timeseries import held_curves, held_per_prison

    res = Results(baseline)
    daily = res.daily
    prisons = daily.prefixed("held:")
    days, counts = held_curves(res, prisons)
    ends = daily.col("day") + 1.0
    for p, y in zip(prisons, counts, strict=True):
        at_ends = y[np.searchsorted(days, ends - 1e-9, side="right") - 1]
        assert np.array_equal(at_ends, np.nan_to_num(daily.col(f"held:{p}"))), p
    assert days[0] == 0.0 and days[-1] == len(daily)
    states = set(res.detainees.text("state"))
    assert {"escaped", "custody_transferred"} <= states  # every way of leaving is tested

    s = scenario(one_leg(n=300, count=2, horizon_days=2,
                         fleet=[{"type": "h", "count": 2, "base": "r",
                                 "available_from_day": 0.6}]))
    write_run(sim.run(s, 1), tmp_path, resolved_yaml(s))
    short = Results(tmp_path)
    days, (held,) = held_curves(short, ["p"])
    first_leave = days[np.argmax(held < 300)]
    assert first_leave > 0.6 and held[-1] == 0
    fig = held_per_prison(short)
    plt.close(fig)


def test_report_says_how_full_the_staging_airfield_got(report: str) -> None:
    """The run's lead paragraph gives the staging airfield's fullest against its places,
    with its day and date, from staging.csv."""
    import re as regex

    found = regex.search(r"At its fullest the staging airfield rmelan held ([\d,]+) waiting "
                         r"of its 1,500 places, first on day [\d.]+ \(\d+ \w+ 2026, \d\d:\d\d\)",
                         report)
    assert found is not None
    assert 1000 < int(found.group(1).replace(",", "")) <= 1500


def test_a_map_across_the_antimeridian_is_drawn_side_by_side(tmp_path: Path) -> None:
    """Saigon, Guam and Hawaii: the map runs east from Saigon past 180 degrees (Hawaii at
    -158 drawn at 202), not the long way round the world, and its ticks read as the world
    writes longitudes."""
    import matplotlib.pyplot as plt

    from viz.geomap import antimeridian_cut

    assert antimeridian_cut([106.6, 144.6, -157.9, -117.6]) == 106.6
    assert antimeridian_cut([36.0, 44.0]) is None  # 8 degrees wide
    assert antimeridian_cut([-179.0, 179.0]) == 179.0  # two degrees apart, not 358
    assert antimeridian_cut([-100.0, 100.0, 0.0]) is None  # the widest gap spans 180
    data = {
        "name": "pacific", "start": "1975-04-23", "horizon_days": 3,
        "sites": [{"id": "tsn", "kind": "prison", "lat": 10.82, "lon": 106.65,
                   "detainees": {"standard": 300}},
                  {"id": "guam", "kind": "airfield", "lat": 13.44, "lon": 144.65},
                  {"id": "hickam", "kind": "reception", "lat": 21.32, "lon": -157.92}],
        "legs": [{"from": "tsn", "to": "guam", "modes": ["fixed_wing"]},
                 {"from": "guam", "to": "hickam", "modes": ["fixed_wing"]}],
        "aircraft": {"b707": {"mode": "fixed_wing", "seats": 150, "cruise_kmh": 900,
                              "range_km": 9000, "turnaround_min": 60}},
        "fleet": [{"type": "b707", "count": 2, "base": "guam"}],
    }
    fig, ax, _renderer = _drawn_map(data, tmp_path)
    x0, x1 = ax.get_xlim()
    assert x1 - x0 < 150 and x0 < 106.65 and x1 > 360 - 157.92
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert all(-180 <= float(t.replace("\u2212", "-")) <= 180 for t in ticks)
    plt.close(fig)
