"""The contract between the experiment commands and ``dtsim plot``/``dtsim report``.

Each test runs the real command on the toy scenario (tests/data/toy_experiment.yaml)
into a folder, then draws and reports that folder and checks what the reader sees.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parents[2]
TOY = str(ROOT / "tests" / "data" / "toy_experiment.yaml")
runner = CliRunner()


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
    return result.output


def _text(page: str) -> str:
    """The visible text of a report (tags and embedded images removed)."""
    page = re.sub(r"<script.*?</script>|<style>.*?</style>", "", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.fixture(scope="module")
def replications(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("e2e") / "rep"
    _ok(["replicate", TOY, "-n", "12", "--jobs", "1", "--deadline-day", "2", "--out", str(out)])
    return out


def test_replicate_out_plots_and_reports(replications: Path) -> None:
    output = _ok(["plot", str(replications)])
    assert {Path(p).name for p in output.split()} == {"throughput.png", "kpi_histograms.png"}
    _ok(["report", str(replications)])
    text = _text((replications / "report.html").read_text())
    assert "Over 12 replications" in text
    assert re.search(r"all of those in custody at day 0 delivered: day [\d.]+ "
                     r"\(95% CI [\d.]+ to [\d.]+\)", text)
    assert re.search(r"probability of delivering 100% of those in custody at day 0 by day 2: "
                     r"\d+% \(95% CI", text)
    assert re.search(r"at least one escape: 0% \(95% CI 0% to \d+%", text)
    assert "not shown" not in text and "compare" not in text.lower()
    assert "sim_events" not in text and "wall_seconds" not in text


def test_replication_throughput_shows_the_reported_points(replications: Path,
                                                          tmp_path: Path) -> None:
    """With scenario.resolved.yaml in the folder, its ``observed`` points are drawn."""
    import matplotlib.pyplot as plt

    from viz.results import Results
    from viz.timeseries import throughput

    scenario = yaml.safe_load(Path(TOY).read_text())
    scenario["observed"] = [{"day": 1, "delivered_cum": 20}, {"day": 2, "delivered_cum": 55}]
    source = tmp_path / "observed.yaml"
    source.write_text(yaml.safe_dump(scenario))
    folder = tmp_path / "rep"
    _ok(["replicate", str(source), "-n", "3", "--jobs", "1", "--out", str(folder)])
    fig = throughput(Results(folder))
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert any(label.startswith("reported") for label in labels), labels
    offsets = [c.get_offsets() for c in fig.axes[0].collections  # type: ignore[attr-defined]
               if len(c.get_offsets()) == 2]
    assert offsets and sorted(float(y) for _x, y in offsets[0]) == [20.0, 55.0]
    plt.close(fig)


def test_kpi_histograms_show_each_distribution_once(replications: Path) -> None:
    """Equal columns (registered = delivered, the same completion days) get one panel."""
    import matplotlib.pyplot as plt

    from viz.experiments import kpi_histograms
    from viz.results import Results

    res = Results(replications)
    fig = kpi_histograms(res)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    shown = [ax.get_xlabel().split(" (")[0] for ax in panels]
    data = [tuple(res.replications.text(k)) for k in shown]
    assert len(set(data)) == len(data), shown
    assert "registration_complete_day" not in shown  # the same days as prisons_cleared_day here
    fig.canvas.draw()
    width, height = fig.canvas.get_width_height()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    texts = [fig._suptitle, *(ax.xaxis.label for ax in panels)]
    for t in texts:
        if t is None or not t.get_text():
            continue
        box = t.get_window_extent(renderer)
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, \
            t.get_text()
    plt.close(fig)


def test_sweep_out_one_dimension_plots_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    _ok(["sweep", TOY, "--grid", "fleet.0.count=1,2,3", "-n", "3", "--jobs", "1",
         "--deadline-day", "2", "--out", str(out)])
    output = _ok(["plot", str(out)])
    assert [Path(p).name for p in output.split()] == ["sweep.png"]
    _ok(["plot", str(out), "--kpi", "p_done_by_day_2"])
    _ok(["report", str(out)])
    page = (out / "report.html").read_text()
    head = re.search(r"<table><thead><tr>(.*?)</tr></thead>", page[page.index("id='kpis'"):])
    assert head
    columns = re.findall(r"<th>(.*?)</th>", head.group(1))
    assert columns[0] == "fleet.0.count" and len(columns) <= 9, columns
    assert any(c.startswith("P(100% delivered by day 2") for c in columns), columns
    assert any(c.startswith("all delivered") for c in columns), columns
    assert "not shown" not in _text(page)


def test_compare_json_plots_and_reports(tmp_path: Path) -> None:
    folder = tmp_path / "cmp"
    folder.mkdir()
    out = _ok(["compare", TOY, TOY, "-n", "8", "--jobs", "1", "--json",
               "--set-b", "fleet.0.count=2"])
    (folder / "compare.json").write_text(out)
    output = _ok(["plot", str(folder)])
    assert [Path(p).name for p in output.split()] == ["compare.png"]
    _ok(["report", str(folder)])
    assert "paired replications" in _text((folder / "report.html").read_text())


def test_run_out_plots_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _ok(["run", TOY, "--out", str(out), "--no-plots"])
    output = _ok(["plot", str(out)])
    assert "throughput.png" in output and "map.png" in output
    _ok(["report", str(out)])
    assert "All of them delivered on day" in _text((out / "report.html").read_text())
