"""The back-test suite: every case's header is valid and the case runs; the comparison
arithmetic (ratio, within) and the measures are right; bad input is refused before work."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sim.planning import backtest as bt
from sim.scenario.loader import load_scenario
from sim.scenario.schema import BacktestOutcome

REQUIRED = ("camp_bucca_2009", "kabul_2021", "pakistan_floods_2010", "solomon_1991",
            "transfer_2026")


def test_the_required_cases_are_shipped() -> None:
    assert set(REQUIRED) <= set(bt.case_names())
    assert bt.cases_folder().parent.name == "scenarios"


@pytest.mark.parametrize("name", bt.case_names())
def test_each_case_has_a_header_and_runs(name: str) -> None:
    path = bt.cases_folder() / f"{name}.yaml"
    header = load_scenario(path).backtest
    assert header is not None and header.sources and header.outcomes
    case = bt.run_case(path, 2, jobs=1)
    assert [o.kpi for o in case.outcomes] == [o.kpi for o in header.outcomes]
    for row in case.outcomes:
        assert row.mean is not None and row.within is not None, row
        assert row.ratio == pytest.approx(row.mean / ((row.low + row.high) / 2))


def test_per_sortie_is_people_over_missions() -> None:
    # 180 detainees, one aircraft of 80 detainee seats: 3 sorties, 60 a sortie
    case = bt.run_case(bt.cases_folder() / "camp_bucca_2009.yaml", 2, jobs=1)
    row = case.outcomes[0]
    assert row.kpi == "per_sortie" and row.mean == pytest.approx(60.0)
    assert row.within is False and row.ratio == pytest.approx(60 / 180)


def test_delivered_by_day_reads_the_end_of_that_day() -> None:
    case = bt.run_case(bt.cases_folder() / "solomon_1991.yaml", 2, jobs=1)
    by_day = {o.day: o for o in case.outcomes if o.kpi == "delivered_by_day"}
    assert by_day[1].mean == pytest.approx(14325)  # everyone landed by the end of 25 May


def test_within_and_ratio() -> None:
    row = bt.OutcomeRow(kpi="delivered", day=None, low=90, high=110, note="", mean=120.0,
                        p5=100.0, p95=140.0, reached=5, n=5)
    assert row.ratio == pytest.approx(1.2) and row.within is False
    inside = bt.OutcomeRow(kpi="delivered", day=None, low=90, high=110, note="", mean=110.0,
                           p5=None, p95=None, reached=5, n=5)
    assert inside.within is True
    none = bt.OutcomeRow(kpi="day_to_100", day=None, low=1, high=2, note="", mean=None,
                         p5=None, p95=None, reached=0, n=5)
    assert none.within is None and none.ratio is None


@pytest.mark.parametrize("bad", [
    {"kpi": "delivered", "low": 10, "high": 5},                # band upside down
    {"kpi": "delivered", "day": 3, "low": 1, "high": 5},       # a day on a measure without one
    {"kpi": "delivered_by_day", "low": 1, "high": 5},          # delivered_by_day needs its day
    {"kpi": "best_guess", "low": 1, "high": 5},                # no such measure
])
def test_the_schema_refuses_bad_bands(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        BacktestOutcome.model_validate(bad)


def test_unknown_cases_and_bad_n_are_refused_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(bt.BacktestError, match="unknown back-test case nope"):
        bt.run_backtest(["nope"], 2, out=out)
    with pytest.raises(bt.BacktestError, match="at least 1"):
        bt.run_backtest(None, 0, out=out)
    assert not out.exists()


def test_a_scenario_file_of_ones_own_with_a_header_is_a_case(tmp_path: Path) -> None:
    """A copy of a shipped case under another name runs by its path, with the same
    outcomes as the shipped case on the same seeds; a file without a header is refused
    before any case runs."""
    import yaml

    shipped = bt.cases_folder() / "solomon_1991.yaml"
    own = tmp_path / "my_operation.yaml"
    own.write_text(shipped.read_text())
    result = bt.run_backtest([str(own), "solomon_1991"], 2, jobs=1)
    mine, theirs = result.cases
    assert mine.name == "my_operation" and theirs.name == "solomon_1991"
    assert [(o.kpi, o.mean) for o in mine.outcomes] == [(o.kpi, o.mean) for o in theirs.outcomes]
    bare = yaml.safe_load(shipped.read_text())
    del bare["backtest"]
    headless = tmp_path / "headless.yaml"
    headless.write_text(yaml.safe_dump(bare))
    out = tmp_path / "out"
    with pytest.raises(bt.BacktestError, match="no 'backtest:' header"):
        bt.run_backtest(["solomon_1991", str(headless)], 2, jobs=1, out=out)
    assert not out.exists()


def test_the_table_has_a_row_per_outcome_and_the_inexpressible_cases(tmp_path: Path) -> None:
    """The operations the model cannot express are listed beside the whole shipped suite;
    a selection of cases (or a file of one's own) lists only what it ran."""
    result = bt.run_backtest(["camp_bucca_2009", "solomon_1991.yaml"], 2, jobs=1,
                             out=tmp_path / "out")
    lines = result.markdown().splitlines()
    assert len(lines) == 2 + len(result.rows())
    assert not any("lebanon_2006" in line for line in lines)
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"backtest.json", "backtest.md"}
    assert result.to_dict()["not_expressible"] == []
    whole = bt.BacktestResult(n=2, seed=1, cases=result.cases)  # as the whole suite has it
    lines = whole.markdown().splitlines()
    assert len(lines) == 2 + len(whole.rows()) + len(bt.INEXPRESSIBLE)
    assert any("`lebanon_2006`" in line and "not expressible" in line for line in lines)
    assert whole.to_dict()["not_expressible"][0]["name"] == "lebanon_2006"


def test_sorties_of_some_modes_count_only_their_missions(tmp_path: Path) -> None:
    """``modes`` on a sorties or per-sortie band counts the missions of those modes only
    (the 2026 transfer: buses to the airfield, then aircraft): the modes' counts add up
    to all of them, and each is the sum of its types' columns."""
    import yaml

    case = tmp_path / "transfer_by_mode.yaml"
    data = yaml.safe_load((bt.cases_folder() / "transfer_2026.yaml").read_text())
    data["extends"] = str(bt.cases_folder().parent / "baseline.yaml")
    data["backtest"]["outcomes"] = [
        {"kpi": "sorties", "low": 0, "high": 10_000},
        {"kpi": "sorties", "low": 0, "high": 10_000, "modes": ["fixed_wing"]},
        {"kpi": "sorties", "low": 0, "high": 10_000, "modes": ["rotary", "ground"]},
        {"kpi": "per_sortie", "low": 0, "high": 10_000, "modes": ["fixed_wing"]},
    ]
    case.write_text(yaml.safe_dump(data))
    every, flights, others, per_flight = bt.run_case(case, 2, jobs=1).outcomes
    assert every.mean is not None and flights.mean is not None and others.mean is not None
    assert 0 < flights.mean < every.mean and others.mean > 0
    assert flights.mean + others.mean == pytest.approx(every.mean)
    assert flights.measure == "sorties (fixed-wing)" and every.measure == "sorties"
    s = load_scenario(case)
    r = bt.replicate(s, 2, jobs=1)
    fixed = [t for t, spec in s.aircraft.items() if spec.mode == "fixed_wing"]
    runs = r.to_records()
    assert flights.mean == pytest.approx(
        sum(float(row.get(f"sorties:{t}") or 0) for row in runs for t in fixed) / len(runs))
    delivered = sum(float(row["delivered"]) for row in runs) / len(runs)
    assert per_flight.mean is not None and per_flight.mean > delivered / every.mean


def test_modes_go_with_sorties_only() -> None:
    with pytest.raises(ValidationError, match="'modes' goes with kpi sorties"):
        BacktestOutcome.model_validate({"kpi": "delivered", "low": 1, "high": 5,
                                        "modes": ["ground"]})
    with pytest.raises(ValidationError):
        BacktestOutcome.model_validate({"kpi": "sorties", "low": 1, "high": 5, "modes": ["sea"]})
