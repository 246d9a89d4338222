"""Fronts: where the fighting is at any time, and when it comes within a radius.

A front leaves its first waypoint at ``start_day`` and advances along the
polyline of its waypoints. Its speed is drawn once per day (km/day) from the
``front`` stream, so a front can stall and surge. Its motion is piecewise
linear in time (pieces break at midnights and at waypoints), in a local
planar projection, so the first time it comes within a radius of a site is
solved exactly (a quadratic per piece), not polled.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass

import numpy as np

from sim.common.dist import sample_many
from sim.common.geo import Projection, point_segment_distance
from sim.scenario.schema import Front, Scenario

XY = tuple[float, float]


@dataclass(frozen=True)
class Piece:
    """Constant-velocity motion from ``t0`` to ``t1`` (hours); t1 may be inf."""

    t0: float
    t1: float
    p0: XY
    v: XY  # km per hour


def resolve_point(scenario: Scenario, ref: str | tuple[float, float]) -> tuple[float, float]:
    """A waypoint (place name, site id or (lat, lon)) as (lat, lon)."""
    if isinstance(ref, str):
        if ref in scenario.places:
            return scenario.places[ref]
        site = scenario.site(ref)
        return (site.lat, site.lon)
    return ref


class FrontTrack:
    """The trajectory of one front over a run."""

    def __init__(
        self,
        front: Front,
        scenario: Scenario,
        proj: Projection,
        rng: np.random.Generator,
        horizon_hours: float,
    ) -> None:
        self.front = front
        self.proj = proj
        self.points = [proj.to_xy(*resolve_point(scenario, w)) for w in front.path]
        seg_len = [math.dist(a, b) for a, b in zip(self.points, self.points[1:], strict=False)]
        self.cum = np.concatenate([[0.0], np.cumsum(seg_len)])
        self.length_km = float(self.cum[-1])
        t_start = front.start_day * 24.0
        n_days = max(0, math.ceil((horizon_hours - t_start) / 24.0)) + 1
        # One draw per day from the front's start, so the trajectory depends only on the seed
        # (in one call: the same numbers as a draw a day, ``test_mechanisms_dist``).
        self.daily_km = sample_many(front.speed_km_per_day, rng, n_days)
        self.t_start = t_start
        # Plain lists: these are read on every check tick, where numpy scalars are slow.
        self._daily = [float(x) for x in self.daily_km]
        self._done_by_day = [0.0, *itertools.accumulate(self._daily)]
        self._cum = [float(x) for x in self.cum]
        self._last: tuple[float, XY] = (math.nan, self.points[0])
        self.stop_time = math.inf
        self.pieces = self._pieces()
        # After its last piece starts the front no longer moves: answer from a constant.
        self.final_xy = self.pieces[-1].p0
        self.stop_time = self.pieces[-1].t0

    def distance_at(self, t: float) -> float:
        """Distance travelled along the path by time ``t`` (hours), km."""
        if t <= self.t_start:
            return 0.0
        elapsed_days = (t - self.t_start) / 24.0
        whole = min(int(elapsed_days), len(self._daily) - 1)
        d = self._done_by_day[whole] + (elapsed_days - whole) * self._daily[whole]
        return min(d, self.length_km)

    def time_at(self, distance_km: float) -> float:
        """Earliest time (hours) the front has travelled ``distance_km`` (inf if never)."""
        if distance_km <= 0:
            return self.t_start
        if distance_km > self.length_km:
            return math.inf
        day = bisect.bisect_left(self._done_by_day, distance_km) - 1
        if day >= len(self._daily):
            return math.inf
        rest = distance_km - self._done_by_day[day]
        speed = self._daily[day]
        return self.t_start + 24.0 * (day + (rest / speed if speed > 0 else 1.0))

    def position_xy(self, t: float) -> XY:
        """Planar position (km) at time ``t`` (hours); memoised for the last time asked."""
        last_t, last_xy = self._last
        if t == last_t:
            return last_xy
        if t >= self.stop_time:
            return self.final_xy
        d = self.distance_at(t)
        i = bisect.bisect_right(self._cum, d) - 1
        i = min(max(i, 0), len(self.points) - 2)
        seg = self._cum[i + 1] - self._cum[i]
        f = 0.0 if seg == 0 else (d - self._cum[i]) / seg
        (ax, ay), (bx, by) = self.points[i], self.points[i + 1]
        xy = (ax + f * (bx - ax), ay + f * (by - ay))
        self._last = (t, xy)
        return xy

    def position_latlon(self, t: float) -> tuple[float, float]:
        return self.proj.to_latlon(*self.position_xy(t))

    def _pieces(self) -> list[Piece]:
        pieces: list[Piece] = []
        t = self.t_start
        d = 0.0
        seg = 0
        day = 0
        while d < self.length_km and day < len(self.daily_km):
            speed_kmh = float(self.daily_km[day]) / 24.0
            day_end = self.t_start + (day + 1) * 24.0
            if speed_kmh <= 0:
                p = self.position_xy(t)
                pieces.append(Piece(t, day_end, p, (0.0, 0.0)))
                t, day = day_end, day + 1
                continue
            seg_end_d = float(self.cum[seg + 1])
            t_seg_end = t + (seg_end_d - d) / speed_kmh
            t1 = min(day_end, t_seg_end)
            (ax, ay), (bx, by) = self.points[seg], self.points[seg + 1]
            seg_len = math.hypot(bx - ax, by - ay) or 1.0
            ux, uy = (bx - ax) / seg_len, (by - ay) / seg_len
            f = d - float(self.cum[seg])
            p0 = (ax + f * ux, ay + f * uy)
            pieces.append(Piece(t, t1, p0, (ux * speed_kmh, uy * speed_kmh)))
            d += (t1 - t) * speed_kmh
            t = t1
            if t1 >= t_seg_end - 1e-12:
                seg += 1
                d = float(self.cum[seg])
                if seg >= len(self.points) - 1:
                    break
            if t1 >= day_end - 1e-12:
                day += 1
        pieces.append(Piece(t, math.inf, self.position_xy(t), (0.0, 0.0)))
        return pieces

    def first_time_within(self, point: XY, radius_km: float) -> float:
        """Earliest time (hours; may be negative, or inf if never) the front is within ``radius_km``."""
        sx, sy = point
        for pc in self.pieces:
            dx, dy = pc.p0[0] - sx, pc.p0[1] - sy
            vx, vy = pc.v
            if dx * dx + dy * dy <= radius_km * radius_km + 1e-9:
                return pc.t0
            a = vx * vx + vy * vy
            if a == 0:
                continue
            b = 2 * (dx * vx + dy * vy)
            c = dx * dx + dy * dy - radius_km * radius_km
            disc = b * b - 4 * a * c
            if disc < 0:
                continue
            tau = (-b - math.sqrt(disc)) / (2 * a)
            if tau >= 0 and pc.t0 + tau <= pc.t1:
                return pc.t0 + tau
        return math.inf


def min_distance_to_fronts(tracks: list[FrontTrack], point: XY, t: float) -> float:
    """Distance (km) from ``point`` to the nearest front that has started, inf if none."""
    best = math.inf
    for tr in tracks:
        if t < tr.t_start:
            continue
        px, py = tr.position_xy(t)
        best = min(best, math.hypot(px - point[0], py - point[1]))
    return best


def segment_distance_to_fronts(tracks: list[FrontTrack], a: XY, b: XY, t: float) -> list[float]:
    """Distance (km) from segment a-b to each started front (inf for fronts not started)."""
    return [
        point_segment_distance(tr.position_xy(t), a, b) if t >= tr.t_start else math.inf
        for tr in tracks
    ]
