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
RUN_FIGURES = {"throughput", "sorties", "prisons", "reception", "fleet", "gantt", "map"}
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
    for item in items:
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
    assert lines == ["skipped gantt: no sorties.csv in the folder (sortie log of a run)"]
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
               ["replication", "seed", "delivered", "escaped", "completion_day",
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
    assert "skipped compare: no compare.json" in result.output
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    text = (folder / "report.html").read_text()
    assert "synthetic" in text and text.count("<img") == 2


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
                    "completion_day REAL, delivered INTEGER)")
        con.executemany("INSERT INTO runs VALUES (?,?,?,?,?)", [
            (f"{a},{b}", r, json.dumps({"fleet.ch47.count": a,
                                        "escalation.breakout.hazard_per_day": b}), c, d)
            for a, b, r, c, d in rows])
        con.commit()
        con.close()
    else:
        _write_csv(folder / "summary.csv",
                   ["point_index", "fleet.ch47.count", "escalation.breakout.hazard_per_day",
                    "n", "completion_day_mean", "delivered_mean"],
                   [[i, a, b, 3, c, d] for i, (a, b, _r, c, d) in enumerate(rows)])
        (folder / "results.sqlite").write_bytes(b"")
        (folder / "summary.json").write_text(json.dumps({"kind": "sweep", "scenario": "synthetic"}))
    return folder


@pytest.mark.parametrize("as_sqlite", [True, False], ids=["sqlite", "summary_csv"])
def test_sweep_heatmap(tmp_path: Path, as_sqlite: bool) -> None:
    folder = make_sweep(tmp_path / "sweep", as_sqlite)
    result = runner.invoke(app, ["plot", str(folder)])
    assert result.exit_code == 0, result.output
    assert_image((folder / "sweep_heatmap.png").read_bytes())


def test_sweep_with_one_dimension_skips(tmp_path: Path) -> None:
    folder = tmp_path / "sw1"
    folder.mkdir()
    _write_csv(folder / "summary.csv", ["fleet.ch47.count", "completion_day_mean"],
               [[6, 25.0], [8, 22.0]])
    (folder / "summary.json").write_text(json.dumps({"kind": "sweep"}))
    result = runner.invoke(app, ["plot", str(folder)])
    assert result.exit_code == 0, result.output
    assert "skipped sweep_heatmap: a heatmap needs two grid dimensions" in result.output
    assert not (folder / "sweep_heatmap.png").exists()


def test_compare_plot(tmp_path: Path) -> None:
    folder = tmp_path / "cmp"
    folder.mkdir()
    kpis = {
        "completion_day": {"mean_diff": -2.0, "ci_low": -2.5, "ci_high": -1.5,
                           "unpaired_ci_low": -4.0, "unpaired_ci_high": 0.2},
        "escaped": {"mean_diff": 10.0, "ci_low": -5.0, "ci_high": 25.0},
        "delivered": {"mean_diff": 0.0, "ci_low": 0.0, "ci_high": 0.0},
    }
    (folder / "compare.json").write_text(json.dumps(
        {"kind": "comparison", "a": "baseline", "b": "surge", "n": 50, "kpis": kpis}))
    result = runner.invoke(app, ["plot", str(folder)])
    assert result.exit_code == 0, result.output
    assert_image((folder / "compare.png").read_bytes())


# --- the report ---------------------------------------------------------------------------
def test_report_is_self_contained(report: str) -> None:
    low = report.lower()
    assert "http" not in low
    assert "<link" not in low and "@import" not in low and "url(" not in low
    assert "href=" not in low
    srcs = re.findall(r"""\bsrc\s*=\s*["']?([^"'\s>]*)""", report)
    assert srcs and all(s.startswith("data:image/") for s in srcs), srcs[:3]
    assert "<script src" not in low


def test_report_content(report: str, baseline: Path) -> None:
    kpis = json.loads((baseline / "kpis.json").read_text())
    assert "Key results" in report and "Timeline" in report
    for trig in kpis["triggers_fired"]:
        assert trig["name"] in report
    for site in kpis["sites"]:
        assert site in report
    assert report.count("<img") == len(RUN_FIGURES) + 1  # figures and the map slider frame
    assert 'id="map-slider"' in report or "id='map-slider'" in report


def test_png_base64_avoids_forbidden_words() -> None:
    import base64

    from viz import embed

    buf = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 30, 30)).save(buf, format="PNG")
    png = buf.getvalue()
    word = base64.b64encode(png).decode()[60:63]  # after the fixed PNG header
    old = embed.FORBIDDEN
    embed.FORBIDDEN = (word.lower(),)
    try:
        text = embed.png_base64(png)
    finally:
        embed.FORBIDDEN = old
    assert word.lower() not in text.lower()
    img = Image.open(io.BytesIO(base64.b64decode(text)))
    img.load()
    assert img.size == (20, 10)


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
  img.decode().then(function () { done(img.naturalWidth > 0 ? 'ok' : 'blank'); })
     .catch(function () { done('undecodable'); });
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
        if title and "imgs=0" not in title.group(1):
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
