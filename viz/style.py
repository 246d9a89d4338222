"""One look for every figure: the Okabe-Ito palette, sizes, date axes, saving.

The Okabe-Ito palette stays distinguishable for the common forms of colour
blindness; every figure takes its colours from here so a series keeps one
colour across figures (delivered is always blue, escaped always vermillion).
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Okabe-Ito colours by name.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#999999",
}

#: Cycle used for categories without a fixed colour (prisons, aircraft types).
CYCLE: list[str] = [
    OKABE_ITO[k]
    for k in ("blue", "orange", "green", "purple", "sky_blue", "vermillion", "yellow", "black",
              "grey")
]

#: Fixed colours for the quantities that appear in several figures.
SERIES: dict[str, str] = {
    "delivered": OKABE_ITO["blue"],
    "registered": OKABE_ITO["orange"],
    "escaped": OKABE_ITO["vermillion"],
    "released": OKABE_ITO["purple"],
    "observed": OKABE_ITO["black"],
    "occupancy": OKABE_ITO["blue"],
    "beds": OKABE_ITO["black"],
    "backlog": OKABE_ITO["orange"],
    "intake": OKABE_ITO["green"],
    "limit": OKABE_ITO["vermillion"],
    "transfer": OKABE_ITO["blue"],
    "positioning": OKABE_ITO["grey"],
    "maintenance": OKABE_ITO["vermillion"],
    "not_capable": OKABE_ITO["purple"],
}

#: Aircraft states in stacking order, with colours.
STATE_COLOURS: dict[str, str] = {
    "busy": OKABE_ITO["blue"],
    "idle": OKABE_ITO["green"],
    "resting": OKABE_ITO["sky_blue"],
    "maintenance": OKABE_ITO["vermillion"],
    "not_capable": OKABE_ITO["purple"],
    "grounded": OKABE_ITO["orange"],
    "pending": OKABE_ITO["grey"],
    "withdrawn": OKABE_ITO["black"],
}

#: Time-weighted fleet states (viz.fleet); withdrawn is hatched grey, never black.
FLEET_COLOURS: dict[str, str] = {
    "flying": OKABE_ITO["blue"],
    "mission_ground": OKABE_ITO["sky_blue"],
    "maintenance": OKABE_ITO["vermillion"],
    "not_capable": OKABE_ITO["purple"],
    "grounded": OKABE_ITO["orange"],
    "idle": OKABE_ITO["green"],
    "pending": "#DDDDDD",
    "withdrawn": "#FFFFFF",
}

#: Site statuses.
STATUS_COLOURS: dict[str, str] = {
    "safe": OKABE_ITO["green"],
    "threatened": OKABE_ITO["orange"],
    "overrun": OKABE_ITO["vermillion"],
}

#: Site kinds on the map: (colour, marker).
KIND_STYLE: dict[str, tuple[str, str]] = {
    "prison": (OKABE_ITO["vermillion"], "s"),
    "airfield": (OKABE_ITO["blue"], "^"),
    "refuel": (OKABE_ITO["sky_blue"], "D"),
    "reception": (OKABE_ITO["green"], "*"),
    "camp": (OKABE_ITO["purple"], "o"),
}

#: Transport modes on the map: (colour, line style).
MODE_STYLE: dict[str, tuple[str, str]] = {
    "rotary": (OKABE_ITO["orange"], "-"),
    "fixed_wing": (OKABE_ITO["blue"], "--"),
    "ground": (OKABE_ITO["purple"], ":"),
}

#: Default figure size (inches) and resolution (dots per inch): 1100 x 605 pixels,
#: legible at 100% on a laptop and on a projector.
FIGSIZE: tuple[float, float] = (10.0, 5.5)
DPI = 110

RC: dict[str, Any] = {
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "legend.framealpha": 0.85,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": None,  # filled in by use_style
    "svg.fonttype": "path",
    "svg.hashsalt": "dtsim",
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
}


#: Cycle for categories drawn next to site statuses (prisons): no orange or vermillion,
#: which mean threatened and overrun.
CATEGORY_CYCLE: list[str] = [
    OKABE_ITO[k] for k in ("blue", "green", "purple", "sky_blue", "yellow", "grey")
] + ["#332288", "#88CCEE", "#117733"]


def category_colour(i: int) -> str:
    """The ``i``-th colour for categories shown with statuses (wraps around)."""
    return CATEGORY_CYCLE[i % len(CATEGORY_CYCLE)]


def colour(i: int) -> str:
    """The ``i``-th colour of the categorical cycle (wraps around)."""
    return CYCLE[i % len(CYCLE)]


@contextmanager
def use_style() -> Iterator[None]:
    """Apply the dtsim style (Agg backend, palette, fonts) for the duration of a block."""
    import matplotlib

    matplotlib.use("Agg")
    from cycler import cycler

    rc: Any = dict(RC, **{"axes.prop_cycle": cycler(color=CYCLE)})
    with matplotlib.rc_context(rc):
        yield


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] = FIGSIZE,
               **kwargs: Any) -> tuple[Figure, Any]:
    """A figure of the standard size with its axes (``plt.subplots`` semantics)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, dpi=DPI, **kwargs)
    return fig, axes


def date_axis(ax: Axes, label: str = "date (ticks at midnight)") -> None:
    """Calendar dates on the x axis, concise labels, with a unit-bearing label."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel(label)


def dates(start: dt.date, days: Iterable[float]) -> list[dt.datetime]:
    """Calendar datetimes for times on the run's clock, in days from ``start`` (day 0 at
    its midnight: 1.5 is noon of day 1)."""
    base = dt.datetime(start.year, start.month, start.day)
    return [base + dt.timedelta(days=float(d)) for d in days]


# Where a row of ``daily.csv`` belongs on a date axis. Row d covers day d, from its
# midnight (clock day d) to the next (d + 1): a level read at the end of the day
# (cumulative counts, occupancy, backlog) is drawn at d + 1, a count or an average over
# the day (sorties, arrivals) in its middle, d + 0.5. Drawn at d, a level read at
# midnight stood a day early, and a short operation's curve a day before its events.


def day_ends(start: dt.date, days: Iterable[float]) -> list[dt.datetime]:
    """Datetimes of the ends of days ``days`` (numbers of ``daily.csv`` rows)."""
    return dates(start, (float(d) + 1.0 for d in days))


def day_middles(start: dt.date, days: Iterable[float]) -> list[dt.datetime]:
    """Datetimes of the middles (noon) of days ``days`` (numbers of ``daily.csv`` rows)."""
    return dates(start, (float(d) + 0.5 for d in days))


def whole_days(start: dt.date, days: Any, values: Any) -> tuple[list[dt.datetime], Any]:
    """Per-day ``values`` (rows ``days`` of ``daily.csv``) as a step over each whole day:
    the datetimes of each day's start and of the last day's end, and the values with the
    last repeated, for ``step``/``drawstyle`` "post". Steps centred on each day's noon
    ("mid") drew the first and the last day only from noon: half of a two-day run."""
    import numpy as np

    day_numbers = np.asarray(days, dtype=float)
    heights = np.asarray(values, dtype=float)
    if not len(day_numbers):
        return [], heights
    return dates(start, [*day_numbers, day_numbers[-1] + 1.0]), np.r_[heights, heights[-1]]


#: Most days drawn as separate bars (``daily_bars``); longer series are drawn as one
#: stepped area each. A drawing choice: at the figures' width a bar of a 180-day series
#: is about 4 pixels wide, so the gaps between bars disappear, and every bar is an artist
#: of its own (3,650 days of one aircraft type in two panels: 7,300 bars, seconds to draw).
MOST_BARS = 180


def daily_bars(ax: Axes, start: dt.date, days: Any, heights: Any, bottom: Any = None,
               **style: Any) -> None:
    """Per-day values ``heights`` (stacked on ``bottom``) as bars over each day's middle,
    or, beyond ``MOST_BARS`` days, as one area stepped at each midnight (the same
    heights over the same days, without the gaps). ``style``: colour, label and the
    like, as ``Axes.bar`` takes them."""
    import numpy as np

    day_numbers = np.asarray(days, dtype=float)
    tops = np.asarray(heights, dtype=float)
    base = np.zeros(len(tops)) if bottom is None else np.asarray(bottom, dtype=float)
    if len(day_numbers) <= MOST_BARS:
        middles: Any = day_middles(start, day_numbers)  # dates: matplotlib's units
        ax.bar(middles, tops, bottom=base, width=0.85, edgecolor="none", **style)
        return
    # One polygon: each day's value from its start to its end (the last repeated to
    # close the last day).
    edges: Any = dates(start, [*day_numbers, day_numbers[-1] + 1.0])
    area = ax.fill_between(edges, np.r_[base, base[-1]],
                           np.r_[base + tops, base[-1] + tops[-1]], step="post", lw=0, **style)
    area.sticky_edges.y.append(float(min(0.0, base.min())))  # the axis starts at 0, as with bars


def reported_time(day: float) -> float:
    """Where a reported point of a scenario's ``observed`` list stands on the run's clock,
    in days: a whole day is counted at its end (the calibration reads it against that
    day's row of ``daily.csv``), a fraction is the time of the report itself."""
    return day + 1.0 if float(day).is_integer() else day


def wrap_title(text: str, width: int) -> str:
    """``text`` on lines of at most ``width`` characters: broken after its last ": "
    where both sides then fit (what a figure shows, then whose run), else at spaces,
    never inside "(seed N)" ("...: katrina_superdome_2005 (seed" above "1)")."""
    head, colon, tail = text.rpartition(": ")
    if colon and len(head) + 1 <= width and len(tail) <= width:
        return f"{head}:\n{tail}"
    kept = re.sub(r"\(seed (\d+)\)", "(seed\u00a0\\1)", text)  # a space no line breaks at
    return textwrap.fill(kept, width)


def finish(fig: Figure) -> Figure:
    """Lay out a finished figure; long titles wrap rather than run off the edge."""
    width_chars = int(fig.get_figwidth() * 7.5)  # bold titles: about 7.5 characters an inch
    for ax in fig.axes:
        titles: Any = {"center": ax.title, "left": getattr(ax, "_left_title", None),
                       "right": getattr(ax, "_right_title", None)}
        for loc, artist in titles.items():
            text = ax.get_title(loc)
            if artist is None or len(text) <= width_chars or "\n" in text:
                continue
            # Wrap in place: set_title would reset the font size and weight.
            scale = 13.0 / max(float(artist.get_fontsize()), 6.0)
            artist.set_text(wrap_title(text, int(width_chars * scale)))
    sup = fig.get_suptitle()
    if len(sup) > width_chars and "\n" not in sup:
        fig.suptitle(wrap_title(sup, width_chars))
    fig.tight_layout()
    return fig
