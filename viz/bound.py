"""The bound curve: the most detainees any dispatch could have delivered by each day.

Drawn from the ``bound.json`` that ``dtsim bound --out DIR`` writes (plain data,
so this module needs nothing of the model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from viz import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def bound_figure(data: dict[str, Any]) -> Figure:
    """Upper bound on delivered by the end of each day, with the fraction days marked."""
    total = float(data["detainees_total"])
    daily = [float(x) for x in data["delivered_by_day"]]
    fig, ax = style.new_figure()
    days = list(range(len(daily) + 1))
    ax.step(days, [0.0, *daily], where="post", color=style.colour(0),
            label="most deliverable (upper bound)")
    for i, (frac, day) in enumerate(sorted(data["fraction_days"].items())):
        if day is None:
            continue
        ax.axvline(float(day), color=style.colour(i + 1), linestyle="--", linewidth=1,
                   label=f"{float(frac):.0%} no sooner than day {float(day):g}")
    ax.axhline(total, color="#999999", linewidth=0.8)
    ax.set_xlabel("day from the start")
    ax.set_ylabel("detainees delivered")
    ax.set_title(f"{data['scenario']}: the fastest any dispatch could deliver")
    ax.set_ylim(0, total * 1.05 if total else 1)
    ax.legend(loc="lower right")
    return style.finish(fig)


def draw_bound(data: dict[str, Any], path: Any) -> None:
    """Save ``bound_figure(data)`` as a PNG at ``path``."""
    import matplotlib.pyplot as plt

    from viz.figures import to_bytes

    with style.use_style():
        fig = bound_figure(data)
        path.write_bytes(to_bytes(fig, "png"))
        plt.close(fig)
