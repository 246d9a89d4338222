"""Bad escalation and trigger input: clear messages naming file, line and field; exit 2;
nothing written. A trigger that can never fire is a warning, not an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = (ROOT / "scenarios" / "baseline.yaml").as_posix()

CASES = [
    ("one-waypoint",
     "escalation:\n  fronts:\n    - {name: x, path: [aleppo], speed_km_per_day: 10,"
     " threat_radius_km: 50, overrun_radius_km: 5}\n",
     ["escalation.fronts.x", "at least two waypoints"]),
    ("negative-radius",
     "escalation:\n  fronts:\n    - {name: x, path: [aleppo, tabqa], speed_km_per_day: 10,"
     " threat_radius_km: -1, overrun_radius_km: 0}\n",
     ["escalation.fronts.x.threat_radius_km", "greater than or equal to 0"]),
    ("overrun-beyond-threat",
     "escalation:\n  fronts:\n    - {name: x, path: [aleppo, tabqa], speed_km_per_day: 10,"
     " threat_radius_km: 10, overrun_radius_km: 20}\n",
     ["overrun_radius_km must not exceed threat_radius_km"]),
    ("unknown-waypoint",
     "escalation:\n  fronts:\n    - {name: x, path: [aleppo, atlantis], speed_km_per_day: 10,"
     " threat_radius_km: 10, overrun_radius_km: 5}\n",
     ["escalation.fronts.x.path.1", "unknown place or site 'atlantis'"]),
    ("unknown-site-in-condition",
     "triggers:\n  - {name: x, when: {site: hasaka, status: threatened},"
     " then: [{set_dispatch: round_robin}]}\n",
     ["when.site", "unknown site 'hasaka'", "did you mean 'hasakah'"]),
    ("unknown-leg",
     "triggers:\n  - {name: x, when: {day: 1}, then: [{close_leg: m4}]}\n",
     ["then.0.close_leg", "unknown leg 'm4'"]),
    ("unknown-type",
     "triggers:\n  - {name: x, when: {day: 1}, then: [{add_aircraft: {type: mi8, count: 2,"
     " base: rmelan}}]}\n",
     ["add_aircraft.type", "unknown aircraft type 'mi8'"]),
    ("unknown-policy",
     "triggers:\n  - {name: x, when: {day: 1}, then: [{set_dispatch: fastest}]}\n",
     ["then.0.set_dispatch", "'fastest'"]),
    ("two-kinds-in-one-condition",
     "triggers:\n  - {name: x, when: {day: 1, occupancy: 5}, then: [{set_dispatch: round_robin}]}\n",
     ["exactly one kind"]),
    ("unsettable-param",
     "triggers:\n  - {name: x, when: {day: 1}, then: [{set_param: {path: horizon_days,"
     " value: 3}}]}\n",
     ["set_param.path", "cannot be changed during a run"]),
]


def write_case(tmp_path: Path, body: str) -> Path:
    f = tmp_path / "case.yaml"
    f.write_text(f"extends: {BASE}\nname: case\n{body}")
    return f


def dtsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("name,body,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_escalation_input(tmp_path: Path, name: str, body: str, expected: list[str]) -> None:
    f = write_case(tmp_path, body)
    out = tmp_path / "out"
    proc = dtsim("run", str(f), "--out", str(out), "--no-plots")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{f}:" in proc.stderr  # file and line
    for text in expected:
        assert text in proc.stderr
    assert not out.exists()


def test_never_firing_trigger_is_a_warning(tmp_path: Path) -> None:
    f = write_case(tmp_path, "triggers:\n  - {name: late, when: {day: 400},"
                             " then: [{set_dispatch: round_robin}]}\n")
    proc = dtsim("validate", str(f))
    assert proc.returncode == 0
    assert "warning" in proc.stderr and "can never fire" in proc.stderr


def test_closed_reception_and_camp_population_are_warned(tmp_path: Path) -> None:
    f = write_case(tmp_path, "triggers:\n  - {name: iraqi-approval, remove: true}\n"
                             "sites:\n  - {id: alhol, kind: camp, lat: 36.38, lon: 41.15,"
                             " detainees: {standard: 24000}}\n")
    proc = dtsim("validate", str(f))
    assert proc.returncode == 0
    assert "reception 'bgw' is closed and no trigger opens it" in proc.stderr
    assert "camp 'alhol'" in proc.stderr and "make it a prison" in proc.stderr
