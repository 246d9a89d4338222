"""``dtsim backtest``: one JSON document, bad input refused with exit 2 and nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.exit2 import refusal_problems

ROOT = Path(__file__).resolve().parents[2]


def dtsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("args", [["nope"], ["--n", "0"], ["camp_bucca_2009", "-n", "-3"]])
def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "out"
    proc = dtsim("backtest", *args, "--out", str(out))
    problems, lines = refusal_problems(proc.returncode, proc.stdout, proc.stderr)
    assert not problems, problems
    assert lines[0].startswith("error: ")
    assert not out.exists()


def test_json_is_one_document_with_the_comparison() -> None:
    proc = dtsim("backtest", "camp_bucca_2009", "--n", "2", "--jobs", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["kind"] == "backtest" and doc["n"] == 2
    [case] = doc["cases"]
    row = case["outcomes"][0]
    assert case["case"] == "camp_bucca_2009" and row["kpi"] == "per_sortie"
    assert row["low"] == 160 and row["high"] == 200 and row["within"] is False
    assert case["sources"][0]["publisher"]


def test_the_table_names_each_case_and_its_verdict() -> None:
    proc = dtsim("backtest", "solomon_1991", "--n", "2", "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    assert "solomon_1991" in proc.stdout and "within" in proc.stdout
    # the operations the model cannot express are listed under the whole suite only
    assert "not expressible" not in proc.stdout
