"""Figures drawn from a results folder (pure functions of the saved files)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any


def _read_daily(folder: Path) -> list[dict[str, str]]:
    with open(folder / "daily.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def throughput(folder: Path) -> Any:
    """Cumulative delivered and registered against calendar dates, with observed points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = _read_daily(folder)
    dates = [dt.date.fromisoformat(r["date"]) for r in rows]
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    ax.plot(dates, [int(r["delivered_cum"]) for r in rows], label="delivered", color="#0072B2")
    ax.plot(dates, [int(r["registered_cum"]) for r in rows], label="registered", color="#E69F00")
    ax.plot(dates, [int(r["escaped_cum"]) for r in rows], label="escaped", color="#D55E00",
            linestyle="--")
    meta = json.loads((folder / "meta.json").read_text())
    import yaml

    resolved = yaml.safe_load((folder / "scenario.resolved.yaml").read_text())
    start = dt.date.fromisoformat(meta["start"])
    obs = resolved.get("observed") or []
    if obs:
        ax.scatter([start + dt.timedelta(days=float(o["day"])) for o in obs],
                   [o["delivered_cum"] for o in obs], color="black", marker="o", zorder=3,
                   label="reported (cumulative moved)")
    ax.set_xlabel("date")
    ax.set_ylabel("detainees (cumulative)")
    ax.set_title(f"Throughput: {meta['scenario']} (seed {meta['seed']})")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def draw_run(folder: Path) -> list[str]:
    """Draw the figures one run supports into ``folder``; returns notes for the user."""
    fig = throughput(folder)
    fig.savefig(folder / "throughput.png")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return []
