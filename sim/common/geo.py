"""Geodesy helpers: great-circle distances and a local planar projection.

Distances are in kilometres. The planar projection (equirectangular about a
reference latitude) is used for front geometry, where a few kilometres of
error over a few hundred kilometres do not matter and straight lines make
crossing times solvable in closed form.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance between two points given in decimal degrees, in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


class Projection:
    """Equirectangular projection about ``ref_lat`` degrees: (lat, lon) -> (x, y) km."""

    def __init__(self, ref_lat: float) -> None:
        self.ref_lat = ref_lat
        self._kx = math.radians(1.0) * EARTH_RADIUS_KM * math.cos(math.radians(ref_lat))
        self._ky = math.radians(1.0) * EARTH_RADIUS_KM

    def to_xy(self, lat: float, lon: float) -> tuple[float, float]:
        return lon * self._kx, lat * self._ky

    def to_latlon(self, x: float, y: float) -> tuple[float, float]:
        return y / self._ky, x / self._kx


def point_segment_distance(
    p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]
) -> float:
    """Planar distance from point ``p`` to segment ``a``-``b`` (same units as inputs)."""
    ax, ay = a
    bx, by = b
    px, py = p
    dx, dy = bx - ax, by - ay
    seg2 = dx * dx + dy * dy
    if seg2 == 0.0:
        return math.hypot(px - ax, py - ay)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / seg2))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))
