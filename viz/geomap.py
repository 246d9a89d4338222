"""The map: sites by kind, legs by mode, flows by detainees carried, fronts and statuses.

Coordinates are drawn in an equirectangular projection scaled by the cosine
of the mid latitude (distances look right at this scale). Country outlines
come from ``viz/data/borders.json`` shipped with the package: coarse, for
orientation only; nothing is downloaded.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from viz import style
from viz.results import Results, Skip

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

BORDERS = Path(__file__).with_name("data") / "borders.json"
KM_PER_DEG = 111.2
#: Widest flow line, points.
MAX_FLOW_WIDTH = 10.0
MAP_SIZE = (10.5, 6.8)
#: Animated maps (GIF, report slider) are shown on projectors: larger and with larger type.
ANIMATED_SIZE = (12.0, 9.0)
#: Longitude (degrees east) an open border outline is filled to.
FAR_EAST = 63.0


@lru_cache(maxsize=1)
def borders() -> dict[str, Any]:
    """The shipped coarse outlines (countries and rivers, [lon, lat] points)."""
    data: dict[str, Any] = json.loads(BORDERS.read_text(encoding="utf-8"))
    return data


#: The map's note where the shipped outlines do not cover the operation's sites.
NO_OUTLINES = ("no country outlines: those shipped cover Syria, Iraq and their "
               "neighbours only")


def outlines_cover(data: dict[str, Any], sites: list[dict[str, Any]]) -> bool:
    """Whether the shipped outlines cover the operation: at least half of its sites lie
    within their bounding box (lon, lat)."""
    points = [p for c in data.get("countries") or [] for p in c["coords"]]
    if not points or not sites:
        return bool(points)
    lo_x, hi_x = min(p[0] for p in points), max(p[0] for p in points)
    lo_y, hi_y = min(p[1] for p in points), max(p[1] for p in points)
    inside = sum(1 for s in sites if lo_x <= float(s["lon"]) <= hi_x
                 and lo_y <= float(s["lat"]) <= hi_y)
    return 2 * inside >= len(sites)


@dataclass
class Flow:
    """Detainees carried on one (origin, destination, mode) over time."""

    origin: str
    dest: str
    mode: str
    hours: list[float] = field(default_factory=list)
    counts: list[float] = field(default_factory=list)

    def carried_by(self, hour: float) -> float:
        """Detainees delivered along this flow by ``hour``."""
        return float(sum(c for h, c in zip(self.hours, self.counts, strict=True) if h <= hour))


def antimeridian_cut(lons: list[float]) -> float | None:
    """Where to cut the circle of longitudes (degrees) so that points spread across the
    antimeridian are drawn side by side: the east end of the widest gap between them,
    below which 360 is added (``MapModel.east``); None where they span 180 degrees or
    less, or the widest gap already lies across the antimeridian."""
    if not lons or max(lons) - min(lons) <= 180.0:
        return None
    ordered = sorted(lons)
    gaps = [(b - a, b) for a, b in zip(ordered, ordered[1:], strict=False)]
    widest, cut = max(gaps)
    if widest <= ordered[0] + 360.0 - ordered[-1]:
        return None
    return cut


class MapModel:
    """Everything the map needs, read once from a run folder."""

    def __init__(self, res: Results) -> None:
        sites = [s for s in res.scenario.get("sites") or [] if isinstance(s, dict)]
        if not sites:
            raise Skip("no scenario.resolved.yaml with site coordinates in the folder")
        self.res = res
        fronts = res.fronts
        # Longitudes past the antimeridian are drawn east of it (``east``): Guam to Hawaii
        # ran the long way round the world, a strip a few pixels high.
        self.lon_cut = antimeridian_cut(
            [float(s["lon"]) for s in sites]
            + [float(lon) for fr in fronts for _lat, lon in fr.get("path_latlon") or []])
        sites = [{**s, "lon": self.east(float(s["lon"]))} for s in sites]
        self.sites: dict[str, dict[str, Any]] = {str(s["id"]): s for s in sites}
        self.legs: list[tuple[str, str, list[str]]] = []
        for leg in res.scenario.get("legs") or []:
            a, b = str(leg.get("from")), str(leg.get("to"))
            if a in self.sites and b in self.sites:
                self.legs.append((a, b, [str(m) for m in leg.get("modes") or []]))
        flows: dict[tuple[str, str, str], Flow] = {}
        if res.has("sorties.csv"):
            for r in res.sorties:
                if r.get("kind") != "transfer" or r.get("origin") not in self.sites or \
                        r.get("dest") not in self.sites:
                    continue
                key = (r["origin"], r["dest"], r.get("mode", ""))
                f = flows.setdefault(key, Flow(*key))
                f.hours.append(float(r["arrive_hour"]))
                f.counts.append(float(r.get("detainees") or 0))
        self.flows = list(flows.values())
        self.max_flow = max((sum(f.counts) for f in self.flows), default=0.0) or 1.0
        self.daily = res.daily if res.has("daily.csv") else None
        self.n_days = len(self.daily) if self.daily is not None else int(
            res.meta.get("horizon_days") or 1)
        self.fronts = [{**fr, "path_latlon": [[lat, self.east(float(lon))]
                                              for lat, lon in fr.get("path_latlon") or []]}
                       for fr in fronts]
        lats = [float(s["lat"]) for s in sites]
        lons = [float(s["lon"]) for s in sites]
        for fr in self.fronts:
            for lat, lon in fr.get("path_latlon") or []:
                lats.append(float(lat))
                lons.append(float(lon))
        # A margin around the sites (degrees): at least 0.8, more on a wide map, and more
        # above and to the right, where each site's label is drawn (two lines over its
        # marker): with a fixed 0.8 the labels of sites on the edge of a continent-wide
        # map ran into the title and past the frame.
        span_x, span_y = max(lons) - min(lons), max(lats) - min(lats)
        pad_x, pad_y = max(0.8, 0.04 * span_x), max(0.8, 0.04 * span_y)
        self.extent = (min(lons) - pad_x, max(lons) + pad_x + 0.06 * span_x,
                       min(lats) - pad_y, max(lats) + pad_y + 0.06 * span_y)
        self.mid_lat = (self.extent[2] + self.extent[3]) / 2.0

    def east(self, lon: float) -> float:
        """``lon`` (degrees) as drawn: 360 more where it lies west of ``lon_cut``."""
        return lon + 360.0 if self.lon_cut is not None and lon < self.lon_cut else lon

    # --- state on a day -----------------------------------------------------------
    def front_at(self, day: int) -> list[tuple[float, float] | None]:
        """(lat, lon) of each front at the end of ``day`` (None before it starts)."""
        out: list[tuple[float, float] | None] = []
        if self.daily is None:
            return [None for _ in self.fronts]
        d = min(max(day, 0), len(self.daily) - 1)
        for i in range(len(self.fronts)):
            if f"front_lat:{i}" not in self.daily:
                out.append(None)
                continue
            lat, lon = self.daily.col(f"front_lat:{i}")[d], self.daily.col(f"front_lon:{i}")[d]
            out.append(None if np.isnan(lat) or np.isnan(lon)
                       else (float(lat), self.east(float(lon))))
        return out

    def front_trail(self, i: int, day: int) -> list[tuple[float, float]]:
        """Positions of front ``i`` from its start to the end of ``day``."""
        pts: list[tuple[float, float]] = []
        path = self.fronts[i].get("path_latlon") or []
        if path:
            pts.append((float(path[0][0]), float(path[0][1])))
        if self.daily is not None and f"front_lat:{i}" in self.daily:
            lat, lon = self.daily.col(f"front_lat:{i}"), self.daily.col(f"front_lon:{i}")
            for d in range(min(day, len(self.daily) - 1) + 1):
                if not (np.isnan(lat[d]) or np.isnan(lon[d])):
                    pts.append((float(lat[d]), self.east(float(lon[d]))))
        return pts

    def status_at(self, day: int) -> dict[str, str]:
        """Status of each prison and airfield at the end of ``day``."""
        if self.daily is None:
            return {}
        d = min(max(day, 0), len(self.daily) - 1)
        return {s: self.daily.rows[d].get(f"status:{s}") or "safe"
                for s in self.daily.prefixed("status:")}

    def held_at(self, day: int) -> dict[str, float]:
        """Detainees still held at each prison at the end of ``day`` (daily.csv)."""
        if self.daily is None:
            return {}
        d = min(max(day, 0), len(self.daily) - 1)
        return {p: float(np.nan_to_num(self.daily.col(f"held:{p}")[d]))
                for p in self.daily.prefixed("held:") if p in self.sites}

    def operation_days(self) -> int:
        """Last day with a sortie, a status change or a front move (at least 1)."""
        last = 0.0
        for f in self.flows:
            if f.hours:
                last = max(last, max(f.hours) / 24.0)
        if self.res.has("sorties.csv"):
            for r in self.res.sorties:
                last = max(last, float(r.get("arrive_hour") or 0) / 24.0)
        if self.res.has("status.csv"):
            for r in self.res.status:
                last = max(last, float(r.get("hour") or 0) / 24.0)
        return max(1, min(self.n_days - 1, int(math.ceil(last))))

    def width(self, carried: float) -> float:
        """Line width (points) for ``carried`` detainees: area-like square-root scale."""
        return 0.0 if carried <= 0 else 1.0 + (MAX_FLOW_WIDTH - 1.0) * math.sqrt(
            carried / self.max_flow)


#: Modes in the order their lines are spread across a pair of sites they share.
MODE_ORDER = ("rotary", "fixed_wing", "ground")
#: Sideways step between parallel lines of different modes on one pair of sites, degrees.
LANE_STEP_DEG = 0.05


def _offset(a: tuple[float, float], b: tuple[float, float], k: float
            ) -> list[tuple[float, float]]:
    """Segment a-b (lon, lat) shifted sideways by ``k`` steps of ``LANE_STEP_DEG`` degrees.

    The side is taken from the pair's sorted order, not from a to b, so a flow from b
    to a lies on the same lane as a leg drawn from a to b.
    """
    if k == 0:
        return [a, b]
    lo, hi = sorted((a, b))
    dx, dy = hi[0] - lo[0], hi[1] - lo[1]
    n = math.hypot(dx, dy) or 1.0
    ox, oy = -dy / n * LANE_STEP_DEG * k, dx / n * LANE_STEP_DEG * k
    return [(a[0] + ox, a[1] + oy), (b[0] + ox, b[1] + oy)]


def lanes(pairs: list[tuple[str, str, str]]) -> dict[tuple[frozenset[str], str], float]:
    """Sideways position (in steps) of each mode on each pair of sites, from (a, b, mode).

    A mode alone on its pair of sites gets 0, so its line runs through both sites; the
    modes sharing a pair are spread in ``MODE_ORDER`` and centred on the true line
    (two modes at -0.5 and +0.5, three at -1, 0, +1).
    """
    modes: dict[frozenset[str], set[str]] = {}
    for a, b, mode in pairs:
        modes.setdefault(frozenset((a, b)), set()).add(mode)
    out: dict[tuple[frozenset[str], str], float] = {}
    for pair, present in modes.items():
        ordered = sorted(present, key=lambda m: (MODE_ORDER.index(m) if m in MODE_ORDER
                                                 else len(MODE_ORDER), m))
        centre = (len(ordered) - 1) / 2.0
        for i, mode in enumerate(ordered):
            out[(pair, mode)] = i - centre
    return out


class MapDrawer:
    """A map figure whose day-dependent artists can be updated (for frames and GIFs)."""

    def __init__(self, model: MapModel, *, figsize: tuple[float, float] = MAP_SIZE,
                 dpi: int = style.DPI, animated: bool = False) -> None:
        import matplotlib.pyplot as plt
        from matplotlib.collections import LineCollection

        self.m = model
        self.animated = animated
        #: The corner (axes fractions) of the note that no outlines are drawn, if it is.
        self.note_corner: tuple[float, float] | None = None
        self.fig, self.ax = plt.subplots(figsize=figsize, dpi=dpi)
        ax = self.ax
        x0, x1, y0, y1 = model.extent
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect(1.0 / math.cos(math.radians(model.mid_lat)))
        ax.set_facecolor("#F4F8FB")
        ax.set_xlabel("longitude (degrees east)")
        if model.lon_cut is not None:  # past 180 east, as the world writes it: -158 not 202
            from matplotlib.ticker import FuncFormatter

            ax.xaxis.set_major_formatter(FuncFormatter(
                lambda x, _pos: f"{(x + 180.0) % 360.0 - 180.0:g}"))
        ax.set_ylabel("latitude (degrees north)")
        self.top_artists_base: list[Any] = []
        self.lanes = lanes([(a, b, m) for a, b, ms in model.legs for m in ms]
                           + [(f.origin, f.dest, f.mode) for f in model.flows
                              if f.mode in MODE_ORDER])
        self._draw_base(ax)
        if animated:
            ax.tick_params(labelsize=11)
            ax.xaxis.label.set_fontsize(12)
            ax.yaxis.label.set_fontsize(12)
        self.flow_lines: dict[str, LineCollection] = {}
        for mode in MODE_ORDER:
            colour, _ls = style.MODE_STYLE[mode]
            segs = [self.lane(f.origin, f.dest, mode) for f in model.flows if f.mode == mode]
            if segs:
                lc = LineCollection(segs, colors=colour, alpha=0.55, capstyle="round", zorder=3)
                ax.add_collection(lc)
                self.flow_lines[mode] = lc
        self.front_artists: list[Any] = []
        self.top_artists: list[Any] = []
        self.status_artist = ax.scatter([], [], s=260, facecolors="none", linewidths=2.5,
                                        zorder=6)
        self.day_text = ax.text(0.0, 0.0, "", transform=ax.transAxes,
                                fontsize=14, fontweight="bold",
                                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
                                zorder=8)
        self._put_day_text(*self._emptiest_corner())
        self._legend()

    #: The corners the day's date may take (axes fractions), in order of preference; then
    #: the middles of the bottom and top edges, where every corner holds a site.
    CORNERS: tuple[tuple[float, float], ...] = ((0.99, 0.02), (0.01, 0.02), (0.99, 0.98),
                                                (0.01, 0.98), (0.5, 0.02), (0.5, 0.98))

    def _put_day_text(self, x: float, y: float) -> None:
        """Anchor the day's date at corner ``(x, y)`` (axes fractions), inwards."""
        self.day_text.set_position((x, y))
        self.day_text.set_horizontalalignment("right" if x > 0.5 else
                                              "left" if x < 0.5 else "center")
        self.day_text.set_verticalalignment("bottom" if y < 0.5 else "top")

    def _emptiest_corner(self) -> tuple[float, float]:
        """Where the day's date covers the fewest sites: the first of ``CORNERS`` whose
        box, as drawn for the run's longest date, holds the fewest sites (a margin of a
        site's marker around it); a fixed corner hid a reception that lay there, and a
        box of a fixed share of the axes missed sites on a wide, low map. Never the
        corner of the note that no outlines are drawn (``note_corner``)."""
        self.ax.apply_aspect()  # the axes' box as drawn, where the date's size is measured
        renderer = self.fig.canvas.get_renderer()  # type: ignore[attr-defined]
        markers = list(self._marker_boxes(MARKER_CLEARANCE_PX * 2).values())
        self.day_text.set_text(f"day {self.m.n_days - 1}: 30 Sep 2000")

        def covered(corner: tuple[float, float]) -> int:
            if corner == self.note_corner:  # the note on the outlines stands there
                return len(markers) + 1
            self._put_day_text(*corner)
            box = self.day_text.get_window_extent(renderer)
            return sum(1 for m in markers if box.overlaps(m))

        best = min(self.CORNERS, key=covered)
        self.day_text.set_text("")
        return best

    def lane(self, a: str, b: str, mode: str) -> list[tuple[float, float]]:
        """The (lon, lat) ends of ``mode``'s line between sites ``a`` and ``b``."""
        return _offset(self._xy(a), self._xy(b), self.lanes.get((frozenset((a, b)), mode), 0.0))

    def _xy(self, site: str) -> tuple[float, float]:
        s = self.m.sites[site]
        return float(s["lon"]), float(s["lat"])

    def _draw_base(self, ax: Axes) -> None:
        x0, x1, y0, y1 = self.m.extent
        data = borders()
        if not outlines_cover(data, list(self.m.sites.values())):
            # Outlines of other countries than the operation's would only mislead.
            data = {"countries": [], "rivers": []}
            ax.text(0.01, 0.99, NO_OUTLINES, transform=ax.transAxes, ha="left", va="top",
                    fontsize=8, color="#555555", zorder=8)
            self.note_corner = self.CORNERS[3]  # the date goes elsewhere (``_emptiest_corner``)
        for c in data["countries"]:
            xs = [p[0] for p in c["coords"]]
            ys = [p[1] for p in c["coords"]]
            if c.get("open"):
                # Only the border is shipped (Iran): land lies to its east, so fill to the
                # east edge of the world rather than leave it the colour of water.
                ax.fill([*xs, FAR_EAST, FAR_EAST], [*ys, ys[-1], ys[0]], color="#FFFFFF",
                        zorder=0.5, lw=0)
            else:
                ax.fill(xs, ys, color="#FFFFFF", zorder=0.5, lw=0)
            ax.plot(xs, ys, color="#555555", lw=1.0, zorder=1)
            inside = [(lx, ly) for lx, ly in [c["label"], *c.get("label_alt", [])]
                      if x0 + 0.4 < lx < x1 - 0.4 and y0 + 0.3 < ly < y1 - 0.3]
            if inside:
                lx, ly = inside[0]
                ax.text(lx, ly, c["name"].upper(), color="#888888", fontsize=c.get("label_size", 11),
                        ha="center", va="center", zorder=1, fontweight="bold", alpha=0.8)
        for r in data["rivers"]:
            ax.plot([p[0] for p in r["coords"]], [p[1] for p in r["coords"]], color="#56B4E9",
                    lw=0.9, alpha=0.6, zorder=1)
        for a, b, modes in self.m.legs:
            for mode in modes:
                colour, ls = style.MODE_STYLE.get(mode, ("#777777", "-"))
                seg = self.lane(a, b, mode)
                ax.plot([p[0] for p in seg], [p[1] for p in seg], color=colour, ls=ls, lw=1.0,
                        alpha=0.9, zorder=2)
        for fr in self.m.fronts:
            path = fr.get("path_latlon") or []
            if path:
                ax.plot([p[1] for p in path], [p[0] for p in path], color=style.OKABE_ITO["black"],
                        ls=(0, (1, 2)), lw=1.0, alpha=0.6, zorder=2)
        for kind, (colour, marker) in style.KIND_STYLE.items():
            pts = [self._xy(sid) for sid, s in self.m.sites.items() if s.get("kind") == kind]
            if pts:
                self.top_artists_base.append(ax.scatter(
                    [p[0] for p in pts], [p[1] for p in pts], c=colour, marker=marker,
                    s=150 if marker == "*" else 70, edgecolors="black", linewidths=0.6, zorder=7))
        self.site_labels: dict[str, Any] = {}
        size = 11 if self.animated else 9
        for sid in self.m.sites:
            x, y = self._xy(sid)
            label = ax.annotate(
                sid, (x, y), xytext=(6, 5), textcoords="offset points", fontsize=size, zorder=8,
                va="bottom", bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none",
                                   "pad": 0.5})
            self.site_labels[sid] = label
            self.top_artists_base.append(label)

    def _legend(self) -> None:
        from matplotlib.lines import Line2D

        kinds = {s.get("kind") for s in self.m.sites.values()}
        handles: list[Any] = []
        labels: list[str] = []
        for kind, (colour, marker) in style.KIND_STYLE.items():
            if kind in kinds:
                handles.append(Line2D([], [], color=colour, marker=marker, ls="",
                                      markeredgecolor="black", markersize=9))
                labels.append(kind)
        modes = {m for _a, _b, ms in self.m.legs for m in ms}
        for mode in MODE_ORDER:
            if mode in modes:
                colour, ls = style.MODE_STYLE[mode]
                handles.append(Line2D([], [], color=colour, ls=ls))
                labels.append(f"{mode.replace('_', '-')} leg")
        for n in (0.1, 1.0):
            carried = self.m.max_flow * n
            handles.append(Line2D([], [], color="#777777", lw=self.m.width(carried), alpha=0.55))
            labels.append(f"{carried:,.0f} detainees carried")
        handles += [Line2D([], [], color="none", marker="o", markersize=12, markerfacecolor="none",
                           markeredgecolor=style.STATUS_COLOURS[s], markeredgewidth=2.5, ls="")
                    for s in ("threatened", "overrun")]
        labels += ["threatened", "overrun"]
        if self.m.fronts:
            handles.append(Line2D([], [], color=style.OKABE_ITO["vermillion"], lw=2.5,
                                  marker="X", markersize=9))
            labels.append("front (threat radius shaded)")
        if any(s.get("kind") == "prison" for s in self.m.sites.values()):
            handles.append(Line2D([], [], color="none"))
            labels.append("prison label: detainees held")
        if self.animated:  # projector: large type, below the map so the map keeps its width
            self.legend = self.ax.legend(handles, labels, loc="upper center", fontsize=12,
                                         bbox_to_anchor=(0.5, -0.1), ncols=4, markerscale=1.3,
                                         borderaxespad=0.0)
        else:
            self.legend = self.ax.legend(handles, labels, loc="upper left", fontsize=8,
                                         bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                                         title="legend", title_fontsize=9)

    def dynamic_artists(self) -> list[Any]:
        """Artists drawn over the flows, redrawn on every animation frame (in z order)."""
        arts: list[Any] = list(self.flow_lines.values()) + self.front_artists
        arts += [self.status_artist, *self.top_artists_base, self.day_text]
        return sorted(arts, key=lambda a: a.get_zorder())

    def update(self, day: int, chosen_days: list[int] | None = None) -> None:
        """Show the situation at the end of ``day`` (flows up to then, fronts, statuses)."""
        from matplotlib.patches import Ellipse

        m = self.m
        hour = (day + 1) * 24.0
        for mode, lc in self.flow_lines.items():
            widths = [m.width(f.carried_by(hour)) for f in m.flows if f.mode == mode]
            lc.set_linewidth(widths)
        for a in self.front_artists:
            a.remove()
        self.front_artists = []
        ax = self.ax
        kx = 1.0 / (KM_PER_DEG * math.cos(math.radians(m.mid_lat)))
        ky = 1.0 / KM_PER_DEG
        for i, pos in enumerate(m.front_at(day)):
            trail = m.front_trail(i, day)
            if len(trail) > 1:
                (ln,) = ax.plot([p[1] for p in trail], [p[0] for p in trail],
                                color=style.OKABE_ITO["vermillion"], lw=2.5, zorder=4)
                self.front_artists.append(ln)
            if pos is None:
                continue
            fr = m.fronts[i]
            for radius, alpha in ((float(fr.get("threat_radius_km") or 0), 0.15),
                                  (float(fr.get("overrun_radius_km") or 0), 0.35)):
                if radius > 0:
                    e = Ellipse((pos[1], pos[0]), 2 * radius * kx, 2 * radius * ky,
                                color=style.OKABE_ITO["vermillion"], alpha=alpha, lw=0, zorder=4)
                    ax.add_patch(e)
                    self.front_artists.append(e)
            (mk,) = ax.plot([pos[1]], [pos[0]], marker="X", color=style.OKABE_ITO["vermillion"],
                            markersize=12, markeredgecolor="black", zorder=7)
            self.front_artists.append(mk)
        held = m.held_at(day)
        when = style.dates(m.res.start, [day])[0]
        self.day_text.set_text(f"day {day}: {when:%d %b %Y}")  # before the labels keep clear
        for sid, label in self.site_labels.items():
            label.set_text(f"{sid}\n{held[sid]:,.0f} held" if sid in held else sid)
        self._place_site_labels()
        if chosen_days:
            self._front_dates(chosen_days)
        status = m.status_at(day)
        pts, cols = [], []
        for sid, st in status.items():
            if st != "safe" and sid in m.sites:
                pts.append(self._xy(sid))
                cols.append(style.STATUS_COLOURS.get(st, "black"))
        self.status_artist.set_offsets(np.array(pts) if pts else np.empty((0, 2)))
        self.status_artist.set_edgecolor(cols if cols else "none")
        if self.animated:
            ax.set_title(f"Transfer network, fronts and detainees carried, day by day: "
                         f"{m.res.title}", fontsize=14)
        else:
            ax.set_title(f"Transfer network, fronts and detainees carried by the end of "
                         f"{when:%d %b %Y}: {m.res.title}", fontsize=11)
        self._fit_title()

    def _fit_title(self) -> None:
        """Break the title after its colon where it runs off the figure or is much wider
        than the map: centred on the axes, which the legend beside them pushes left, a
        long scenario name ran off the figure's left side (the axes' width is what
        ``finish`` can shrink, not the title's), or over the latitude label of a map
        much wider than tall."""
        title = self.ax.title
        text = title.get_text()
        if "\n" in text or ": " not in text:
            return
        renderer = self.fig.canvas.get_renderer()  # type: ignore[attr-defined]
        self.ax.apply_aspect()  # where the axes stand once their aspect applies
        box = title.get_window_extent(renderer)
        frame = self.ax.get_window_extent(renderer)
        if (box.x0 < TITLE_MARGIN_PX or box.x1 > self.fig.bbox.width - TITLE_MARGIN_PX
                or box.width > frame.width + 2 * TITLE_MARGIN_PX):  # over the axis label
            what, run = text.split(": ", 1)
            title.set_text(f"{what}:\n{run}")

    def _marker_boxes(self, half: float) -> dict[str, Any]:
        """Each site's marker as a square of ``2 * half`` pixels around it (display
        coordinates), what labels and the date keep clear of."""
        from matplotlib.transforms import Bbox

        to_display = self.ax.transData.transform
        return {sid: Bbox.from_extents(x - half, y - half, x + half, y + half)
                for sid, (x, y) in ((sid, to_display(self._xy(sid))) for sid in self.site_labels)}

    def _place_site_labels(self) -> None:
        """Put each site's label inside the map's frame where it overlaps no label placed
        before it, no other site's marker and not the day's date: above right of its
        site if free, else the first free spot of ``SITE_LABEL_SPOTS`` (the first spot
        where none is free). Two landing zones 5 km apart (Saigon, 1975) printed their
        names over each other; the date, in the corner with the fewest markers, covered
        the label of a site beside that corner (Al Udeid on a Kabul-Qatar-Ramstein map)."""
        renderer = self.fig.canvas.get_renderer()  # type: ignore[attr-defined]
        markers = self._marker_boxes(MARKER_CLEARANCE_PX)
        taken: list[Any] = ([self.day_text.get_window_extent(renderer)]
                            if self.day_text.get_text() else [])

        def put(label: Any, spot: tuple[int, int, str, str]) -> None:
            dx, dy, ha, va = spot
            label.xyann = (dx, dy)
            label.set_horizontalalignment(ha)
            label.set_verticalalignment(va)

        frame = self.ax.get_window_extent(renderer)

        def free(box: Any, clear_of: list[Any]) -> bool:
            inside = (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                      and box.y1 <= frame.y1)  # not across the map's frame
            return inside and not any(box.overlaps(b) for b in clear_of)

        for sid, label in self.site_labels.items():
            clear_of = taken + [box for other, box in markers.items() if other != sid]
            for spot in SITE_LABEL_SPOTS:
                put(label, spot)
                if free(label.get_window_extent(renderer), clear_of):
                    break
            else:  # nowhere free: the usual spot
                put(label, SITE_LABEL_SPOTS[0])
            taken.append(label.get_window_extent(renderer))

    def _front_dates(self, days: list[int]) -> None:
        """Date labels of the fronts' positions on ``days``, placed clear of each other.

        Each label tries a few positions around its point (below, above, right,
        left, further out) and takes the first that overlaps no site label, no site's
        marker and no label already placed.
        """
        ax = self.ax
        renderer = self.fig.canvas.get_renderer()  # type: ignore[attr-defined]
        taken = [t.get_window_extent(renderer).expanded(1.05, 1.1)
                 for t in self.site_labels.values()]
        # and the sites' markers (with their status rings)
        taken += list(self._marker_boxes(MARKER_CLEARANCE_PX * 2).values())
        for (lat, lon), text in front_date_labels(self.m, days):
            (mk,) = ax.plot([lon], [lat], marker="o", markersize=5,
                            color=style.OKABE_ITO["vermillion"], zorder=5)
            tx = None
            for dx, dy, ha, va in LABEL_SPOTS:
                if tx is not None:
                    tx.remove()
                tx = ax.annotate(text, (lon, lat), xytext=(dx, dy), textcoords="offset points",
                                 fontsize=7.5, ha=ha, va=va, zorder=6,
                                 color=style.OKABE_ITO["vermillion"],
                                 bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none",
                                       "pad": 0.3})
                box = tx.get_window_extent(renderer)
                if not any(box.overlaps(b) for b in taken):
                    break
            assert tx is not None
            taken.append(tx.get_window_extent(renderer))
            self.front_artists += [mk, tx]

    def finish(self) -> Figure:
        """Lay out and return the figure.

        ``tight_layout`` leaves out the legend outside the axes and sizes the axes before
        their fixed aspect applies: on a map wider than tall, the latitude label and the
        legend ran off the figure's sides. Whatever still overflows is taken off the
        axes' width (twice at most: the aspect then reshapes them)."""
        fig, ax = self.fig, self.ax
        fig.tight_layout()
        self._fit_title()  # centred on axes the legend pushes left, it may overflow
        fig.tight_layout()
        for _ in range(2):
            renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
            ax.apply_aspect()  # the box the aspect gives, without drawing the map
            width = fig.bbox.width
            box = ax.get_tightbbox(renderer)  # labels, tick labels and legend included
            if box is None:
                break
            left = max(0.0, 4.0 - box.x0)
            right = max(0.0, box.x1 - width + 4.0)
            if left == 0.0 and right == 0.0:
                break
            pos = ax.get_position()
            ax.set_position((pos.x0 + left / width, pos.y0,
                             pos.width - (left + right) / width, pos.height))
        return fig


#: Where a site's label may go around its marker: (dx, dy points, ha, va), first free wins.
SITE_LABEL_SPOTS: tuple[tuple[int, int, str, str], ...] = (
    (6, 5, "left", "bottom"), (6, -5, "left", "top"), (-6, 5, "right", "bottom"),
    (-6, -5, "right", "top"), (0, 9, "center", "bottom"), (0, -9, "center", "top"),
    (10, 0, "left", "center"), (-10, 0, "right", "center"), (6, 22, "left", "bottom"),
    (6, -22, "left", "top"), (-6, 22, "right", "bottom"), (-6, -22, "right", "top"),
)

#: Room kept between the map's title and each side of the figure (pixels).
TITLE_MARGIN_PX = 8.0

#: Half the side of the square around a site's marker that labels keep clear of (pixels).
MARKER_CLEARANCE_PX = 5.0

#: Where a front date label may go around its point: (dx, dy points, ha, va), first free wins.
LABEL_SPOTS: tuple[tuple[int, int, str, str], ...] = (
    (0, -7, "center", "top"), (0, 7, "center", "bottom"), (7, 0, "left", "center"),
    (-7, 0, "right", "center"), (7, -9, "left", "top"), (-7, -9, "right", "top"),
    (7, 9, "left", "bottom"), (-7, 9, "right", "bottom"), (0, -20, "center", "top"),
    (0, 20, "center", "bottom"), (22, 0, "left", "center"), (-22, 0, "right", "center"),
)

#: Front positions closer than this (degrees) share one date label.
SAME_PLACE_DEG = 0.08


def front_date_labels(model: MapModel, days: list[int]
                      ) -> list[tuple[tuple[float, float], str]]:
    """((lat, lon), text) labels of the fronts' positions on ``days``, one per place.

    A front that has stopped (at the end of its path) is at the same place on
    several chosen days, and two fronts may meet: such positions share one
    label listing the dates ("23 Jan, 13 Feb"), so labels never overprint.
    """
    places: list[tuple[tuple[float, float], list[str]]] = []
    for d in days:
        when = f"{style.dates(model.res.start, [d])[0]:%d %b}"
        for pos in model.front_at(d):
            if pos is None:
                continue
            near = next((p for p in places if abs(p[0][0] - pos[0]) < SAME_PLACE_DEG
                         and abs(p[0][1] - pos[1]) < SAME_PLACE_DEG), None)
            if near is None:
                places.append((pos, [when]))
            elif when not in near[1]:
                near[1].append(when)
    return [(pos, _date_span(whens)) for pos, whens in places]


def _date_span(whens: list[str]) -> str:
    """``21 Jan`` or ``from 23 Jan`` (a front standing still from then on)."""
    return whens[0] if len(whens) == 1 else f"{whens[0]} to {whens[-1]}"


def chosen_days(model: MapModel, n: int = 4) -> list[int]:
    """``n`` days spread evenly over the operation (for front-position markers)."""
    last = model.operation_days()
    return sorted({int(round(x)) for x in np.linspace(0, last, n)})


def map_figure(res: Results, day: int | None = None) -> Figure:
    """The map at the end of ``day``; by default the whole operation with fronts on chosen days."""
    model = MapModel(res)
    drawer = MapDrawer(model)
    if day is not None and not 0 <= day < model.n_days:
        raise ValueError(f"--day {day} is outside the run (0..{model.n_days - 1})")
    show = (model.operation_days(), chosen_days(model)) if day is None else (day, None)
    drawer.update(*show)
    drawer.finish()
    # Once more in the final layout: the labels keep clear of each other, the markers
    # and the date as measured in pixels, and the layout shrank the axes under them
    # (the date, a fixed size, then covered a label placed beside its corner).
    drawer.update(*show)
    return drawer.fig


def frame_days(model: MapModel, max_frames: int) -> list[int]:
    """Days to show in an animation: every day, or evenly spaced when over ``max_frames``."""
    last = model.operation_days()
    if last + 1 <= max_frames:
        return list(range(last + 1))
    return sorted({int(round(x)) for x in np.linspace(0, last, max_frames)})


def map_frames_png(res: Results, max_frames: int = 31, dpi: int = 90) -> list[tuple[int, bytes]]:
    """Pre-rendered PNG frames of the map, one per shown day (for the HTML day slider).

    The static background (borders, legs) is rendered once and each frame redraws
    only the artists that change (blitting), so a frame costs milliseconds.
    """
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    model = MapModel(res)
    drawer = MapDrawer(model, figsize=ANIMATED_SIZE, dpi=dpi, animated=True)
    days = frame_days(model, max_frames)
    out = []
    try:
        drawer.update(days[0])
        drawer.fig.tight_layout()
        for a in drawer.dynamic_artists():
            a.set_animated(True)
        canvas = drawer.fig.canvas
        canvas.draw()
        background = canvas.copy_from_bbox(drawer.fig.bbox)  # type: ignore[attr-defined]
        for d in days:
            drawer.update(d)
            canvas.restore_region(background)  # type: ignore[attr-defined]
            for a in drawer.dynamic_artists():
                a.set_animated(True)
                drawer.ax.draw_artist(a)
            img = Image.frombuffer("RGBA", canvas.get_width_height(),
                                   bytes(canvas.buffer_rgba()),  # type: ignore[attr-defined]
                                   "raw", "RGBA", 0, 1)
            buf = io.BytesIO()
            img.convert("RGB").save(buf, format="PNG", compress_level=3)
            out.append((d, buf.getvalue()))
    finally:
        plt.close(drawer.fig)
    return out


def map_gif(res: Results, path: Path, max_frames: int = 60, fps: int = 2, dpi: int = 80) -> Path:
    """An animated GIF of the map over the operation, one frame per day (classrooms)."""
    import matplotlib.pyplot as plt
    from matplotlib.animation import PillowWriter

    model = MapModel(res)
    drawer = MapDrawer(model, figsize=ANIMATED_SIZE, dpi=dpi, animated=True)
    days = frame_days(model, max_frames)
    drawer.update(days[0])
    drawer.fig.tight_layout()
    writer = PillowWriter(fps=fps)
    tmp = path.with_name(f".{path.name}.tmp.gif")
    try:
        with writer.saving(drawer.fig, str(tmp), dpi):
            for d in days:
                drawer.update(d)
                writer.grab_frame()
        tmp.replace(path)
    finally:
        plt.close(drawer.fig)
        if tmp.exists():
            tmp.unlink()
    return path
